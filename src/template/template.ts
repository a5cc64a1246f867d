// template: Go text/template semantics for what rule files use (alert labels and
// annotations, console-style helpers). May import gofmt/ and model/.
//
// API the rules use (compile once when a rule loads, expand per alert):
//   compileAlertTemplate(text, name)  -> AlertTemplate   throws TemplateError (parse errors, Go's wording)
//   tmpl.expand(data, opts)           -> Promise<string> throws TemplateError (execution errors)
import type { Labels } from '../model/labels.js';

export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** One sample a template's `query` returns: `.Labels` and `.Value` in the template. */
export interface QueryResultSample {
  readonly labels: Labels;
  readonly value: number;
}

/** Runs an instant PromQL query at the evaluation time; rejects with the engine's error. */
export type TemplateQueryFunc = (query: string, timestampMs: number) => Promise<QueryResultSample[]>;

/** What an alerting rule's templates see as `$labels`, `$externalLabels`, `$externalURL`, `$value`. */
export interface AlertTemplateData {
  readonly labels: Labels;
  readonly externalLabels: Labels;
  readonly externalUrl: string;
  readonly value: number;
}

export interface ExpandOptions {
  /** Evaluation time (ms): `query` runs at it. */
  readonly timestampMs: number;
  /** null: `query` fails with an error. */
  readonly queryFunc: TemplateQueryFunc | null;
  /** --web.external-url: `pathPrefix`, `graphLink`, `tableLink` build on it. */
  readonly externalUrl: string;
}

export interface AlertTemplate {
  expand(data: AlertTemplateData, opts: ExpandOptions): Promise<string>;
}

/** Parses `text` as the template `name` (e.g. "__alert_HighLatency"), with Prometheus's $labels/$value/... defined. */
export function compileAlertTemplate(text: string, name: string): AlertTemplate {
  throw new TemplateError(`template: ${name}: not implemented yet (${text.length} bytes)`);
}
