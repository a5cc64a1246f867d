// template: Go text/template semantics for what rule files use (alert labels and
// annotations, console-style helpers). May import gofmt/ and model/.
//
// Files: lexer.ts, parse.ts (parse tree, Go's parse errors), exec.ts (executor,
// bounded), fmt.ts (Go's fmt: %v printing, Sprintf), funcs.ts (Go's builtins),
// prom_funcs.ts (Prometheus's functions), go_regexp.ts, values.ts (Go values
// and types), errors.ts. This file is the API:
//
//   new Template(name, opts).parse(text).execute(dot, funcState)   any template, sync
//   compileAlertTemplate(text, name)  -> AlertTemplate   throws TemplateError (parse errors, Go's wording)
//   tmpl.expand(data, opts)           -> Promise<string> rejects with TemplateError (Prometheus's wording)
//
// Only `query` is asynchronous. Rather than making every node of the executor
// async, an expansion runs synchronously; when it reaches a query whose result
// it does not have, it stops, runs that query, and starts over with the result
// cached. Functions are pure, so the replay gives the same output Go would.
import type { Labels } from '../model/labels.js';
import { TemplateError } from './errors.js';
import { execute, type MissingKey } from './exec.js';
import { BUILTINS } from './funcs.js';
import { isEmptyTree, parseTemplate, type Tree } from './parse.js';
import { PROM_FUNCS, QueryNeeded, type PromFuncState, type TemplateSample } from './prom_funcs.js';
import { floatV, stringMap, stringV, T_ANY, T_STRING, T_STRING_MAP, Value, GoError, type GoFunc, type GoType, type GoVal } from './values.js';

export { TemplateError } from './errors.js';
export { Value, GoError, stringMap, type GoFunc, type GoType, type GoVal } from './values.js';
export type { MissingKey } from './exec.js';

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
  /**
   * Expands the template for one alert. Rejects with a TemplateError whose
   * message is Prometheus's (`error executing template __alert_X: template: ...`),
   * which alerting rules show as `<error expanding template: MESSAGE>`.
   */
  expand(data: AlertTemplateData, opts: ExpandOptions): Promise<string>;
}

export interface TemplateOptions {
  /** Functions beyond Go's builtins (which are always there and may be overridden). */
  readonly funcs?: ReadonlyMap<string, GoFunc>;
  /** Go's Option("missingkey=..."); Prometheus uses 'zero'. */
  readonly missingKey?: MissingKey;
}

/** A set of associated templates, as Go's *template.Template: one named, plus its {{define}}s. */
export class Template {
  private readonly trees = new Map<string, Tree>();
  private readonly funcs: ReadonlyMap<string, GoFunc>;
  private readonly builtins: ReadonlySet<string>;
  private readonly missingKey: MissingKey;

  constructor(
    readonly name: string,
    opts: TemplateOptions = {},
  ) {
    const funcs = new Map(BUILTINS);
    const builtins = new Set(BUILTINS.keys());
    for (const [n, fn] of opts.funcs ?? []) {
      funcs.set(n, fn);
      builtins.delete(n);
    }
    this.funcs = funcs;
    this.builtins = builtins;
    this.missingKey = opts.missingKey ?? 'default';
  }

  /** Parses text as this template's body (and its definitions). Throws TemplateError (kind 'parse'). */
  parse(text: string): this {
    const parsed = new Map<string, Tree>();
    parseTemplate(this.name, text, (n) => this.funcs.has(n), parsed);
    for (const [n, tree] of parsed) {
      // As Go's AddParseTree: an empty redefinition does not replace a template.
      const old = this.trees.get(n);
      if (old !== undefined && isEmptyTree(tree.root)) continue;
      this.trees.set(n, tree);
    }
    return this;
  }

  /** Runs the template `name` (default: this one) with `dot`. Throws TemplateError (kind 'exec'). */
  execute(dot: GoVal, funcState: unknown = null, name: string = this.name): string {
    return execute({ trees: this.trees, funcs: this.funcs, builtins: this.builtins, missingKey: this.missingKey }, name, dot, { funcState });
  }
}

const ALERT_DATA: GoType = {
  kind: 'struct',
  name: 'struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }',
  fields: [
    { name: 'Labels', type: T_STRING_MAP },
    { name: 'ExternalLabels', type: T_STRING_MAP },
    { name: 'ExternalURL', type: T_STRING },
    { name: 'Value', type: T_ANY },
  ],
};

/** Prometheus prepends these to every alert template, on the same line so positions in errors stay put. */
const ALERT_DEFS = '{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}';

/** Distinct queries one expansion may run (each one replays the template once). */
const MAX_QUERIES_PER_EXPANSION = 1000;

function labelsValue(l: Labels): Value {
  const pairs: [string, string][] = [];
  l.forEach((n, v) => pairs.push([n, v]));
  return stringMap(pairs);
}

/** Builds the `$labels`, `$value`, ... data of an alert template. */
export function alertTemplateData(data: AlertTemplateData): Value {
  return new Value(ALERT_DATA, [labelsValue(data.labels), labelsValue(data.externalLabels), stringV(data.externalUrl), floatV(data.value)]);
}

/** Runs `tmpl` against `dot` with Prometheus's functions, running the queries it asks for. */
export async function expandWithQueries(tmpl: Template, dot: GoVal, opts: ExpandOptions): Promise<string> {
  const results = new Map<string, QueryResultSample[] | Error>();
  const state: PromFuncState = {
    timestampMs: opts.timestampMs,
    externalUrl: opts.externalUrl,
    queryResult: (q: string): TemplateSample[] => {
      const r = results.get(q);
      if (r === undefined) throw new QueryNeeded(q);
      if (r instanceof Error) throw new GoError(r.message);
      return r;
    },
  };
  for (;;) {
    try {
      return tmpl.execute(dot, state);
    } catch (e) {
      if (!(e instanceof QueryNeeded)) throw e;
      if (results.size >= MAX_QUERIES_PER_EXPANSION) {
        throw new TemplateError(`template: ${tmpl.name}: more than ${MAX_QUERIES_PER_EXPANSION} queries in one expansion`, 'exec');
      }
      if (opts.queryFunc === null) {
        results.set(e.query, new Error('no query function available'));
        continue;
      }
      try {
        results.set(e.query, await opts.queryFunc(e.query, opts.timestampMs));
      } catch (err) {
        results.set(e.query, err instanceof Error ? err : new Error(String(err)));
      }
    }
  }
}

class CompiledAlertTemplate implements AlertTemplate {
  constructor(private readonly tmpl: Template) {}

  async expand(data: AlertTemplateData, opts: ExpandOptions): Promise<string> {
    try {
      return await expandWithQueries(this.tmpl, alertTemplateData(data), opts);
    } catch (e) {
      if (e instanceof TemplateError) throw new TemplateError(`error executing template ${this.tmpl.name}: ${e.message}`, 'exec');
      throw e;
    }
  }
}

/** Functions of Prometheus's text templates (Go's builtins come with every Template). */
export const PROMETHEUS_FUNCS: ReadonlyMap<string, GoFunc> = PROM_FUNCS;

/** Parses `text` as the template `name` (e.g. "__alert_HighLatency"), with Prometheus's $labels/$value/... defined. */
export function compileAlertTemplate(text: string, name: string): AlertTemplate {
  const tmpl = new Template(name, { funcs: PROM_FUNCS, missingKey: 'zero' }).parse(ALERT_DEFS + text);
  return new CompiledAlertTemplate(tmpl);
}
