// The failure messages of `tsprom test rules`, laid out as promtool prints them.
import { formatDuration } from '../gofmt/duration.js';
import { formatE } from '../gofmt/float.js';
import { goQuote } from '../gofmt/quote.js';
import { Labels } from '../model/labels.js';

/** One alert as the tests compare it: its labels (with alertname) and expanded annotations. */
export interface LabelsAndAnnotations {
  readonly labels: Labels;
  readonly annotations: Labels;
}

/** A sample of an expression test: the labels and the float value. */
export interface TestSample {
  readonly labels: Labels;
  readonly value: number;
}

/** promtool's order: by labels, then by annotations. */
export function compareAlerts(a: LabelsAndAnnotations, b: LabelsAndAnnotations): number {
  return Labels.compare(a.labels, b.labels) || Labels.compare(a.annotations, b.annotations);
}

/** Prefixes every line but the first with `indent`. */
export function indentLines(text: string, indent: string): string {
  return text.split('\n').join(`\n${indent}`);
}

/** `[]`, or a numbered list of `Labels:{...}` / `Annotations:{...}` pairs. */
export function formatAlertList(list: readonly LabelsAndAnnotations[]): string {
  if (list.length === 0) return '[]';
  const items = list.map((a, i) => `${i}:${indentLines(`\nLabels:${a.labels.toString()}\nAnnotations:${a.annotations.toString()}`, '  ')}`);
  return `[\n${items.join(',\n')}\n]`;
}

/** Go's strconv.FormatFloat(v, 'E', -1, 64): `1E+00`, `2.5E-07`, `NaN`, `+Inf`. */
export function formatFloatE(v: number): string {
  return Number.isFinite(v) ? formatE(v).toUpperCase() : formatE(v);
}

export function formatSamples(list: readonly TestSample[]): string {
  if (list.length === 0) return 'nil';
  return list.map((s) => `${s.labels.toString()} ${formatFloatE(s.value)}`).join(', ');
}

/** The message of an alert test whose firing alerts differ from the expected ones. */
export function alertMismatch(
  testName: string,
  alertname: string,
  evalTimeMs: number,
  exp: readonly LabelsAndAnnotations[],
  got: readonly LabelsAndAnnotations[],
): string {
  const name = testName !== '' ? `    name: ${testName},\n` : '';
  const pad = '            ';
  return (
    `${name}    alertname: ${alertname}, time: ${formatDuration(evalTimeMs)}, \n` +
    `        exp:${indentLines(formatAlertList(exp), pad)}, \n` +
    `        got:${indentLines(formatAlertList(got), pad)}`
  );
}

/** The message of an expression test whose samples differ from the expected ones. */
export function exprMismatch(expr: string, evalTimeMs: number, exp: readonly TestSample[], got: readonly TestSample[]): string {
  return (
    `    expr: ${goQuote(expr)}, time: ${formatDuration(evalTimeMs)},\n` +
    `        exp: ${formatSamples(exp)}\n` +
    `        got: ${formatSamples(got)}`
  );
}

/** The message of an expression test whose query (or expected labels) failed. */
export function exprError(expr: string, evalTimeMs: number, err: string): string {
  return `    expr: ${goQuote(expr)}, time: ${formatDuration(evalTimeMs)}, err: ${err}`;
}
