// Checks a query result, its annotations and its errors against an eval command,
// with the rules of Prometheus's runner. Each check returns an error message, or
// null when the result is as expected.
import { formatG } from '../../gofmt/float.js';
import { spansMatch, customBoundsMatch, type FloatHistogram } from '../../model/histogram.js';
import { Labels } from '../../model/labels.js';
import { isStaleNaN } from '../../model/value.js';
import type { QueryValue } from '../engine/types.js';
import type { EvalCmd, MessageMatch } from './script.js';

/** Relative error allowed between expected and actual sample values (Prometheus's defaultEpsilon). */
const DEFAULT_EPSILON = 0.000001;

/** The smallest positive normal float64. */
const MIN_NORMAL = 2.2250738585072014e-308;

/**
 * True when a and b differ by less than epsilon relative to their magnitude.
 * Staleness markers equal only each other; any two other NaNs are equal.
 */
export function almostEqual(a: number, b: number, epsilon = DEFAULT_EPSILON): boolean {
  const sa = isStaleNaN(a);
  const sb = isStaleNaN(b);
  if (sa || sb) return sa && sb;
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < MIN_NORMAL) return diff < epsilon * MIN_NORMAL;
  return diff / Math.min(absSum, Number.MAX_VALUE) < epsilon;
}

function bucketsMatch(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!almostEqual(a[i]!, b[i]!)) return false;
  return true;
}

/**
 * Prometheus's compareNativeHistogram, on both histograms compacted: counts
 * within the float tolerance, layout exact, and the counter reset hint only
 * when the expectation named one.
 */
export function histogramsMatch(expected: FloatHistogram, actual: FloatHistogram, hintSet: boolean): boolean {
  const exp = expected.compact(0);
  const cur = actual.compact(0);
  if (exp.schema !== cur.schema || !almostEqual(exp.count, cur.count) || !almostEqual(exp.sum, cur.sum)) return false;
  if (exp.usesCustomBuckets() && !customBoundsMatch(exp.customValues, cur.customValues)) return false;
  if (exp.zeroThreshold !== cur.zeroThreshold || !almostEqual(exp.zeroCount, cur.zeroCount)) return false;
  if (!spansMatch(exp.negativeSpans, cur.negativeSpans) || !bucketsMatch(exp.negativeBuckets, cur.negativeBuckets)) return false;
  if (!spansMatch(exp.positiveSpans, cur.positiveSpans) || !bucketsMatch(exp.positiveBuckets, cur.positiveBuckets)) return false;
  return !hintSet || exp.counterResetHint === cur.counterResetHint;
}

function messageMatches(m: MessageMatch, text: string): boolean {
  switch (m.kind) {
    case 'any':
      return true;
    case 'exact':
      return m.text === text;
    case 'regex':
      return m.re.test(text);
  }
}

function describeMatch(m: MessageMatch): string {
  return m.kind === 'exact' ? `message ${JSON.stringify(m.text)}` : m.kind === 'regex' ? `pattern ${JSON.stringify(m.source)}` : 'anything';
}

/** A float as Go's %v prints it, or `stale`. */
function fmtFloat(v: number): string {
  return isStaleNaN(v) ? 'stale' : formatG(v);
}

/** Checks a thrown error against the failure expectations of a case that must fail. */
export function checkExpectedFailure(cmd: EvalCmd, err: Error): string | null {
  for (const m of cmd.failMatch) {
    if (!messageMatches(m, err.message)) return `expected error matching ${describeMatch(m)}, but got: ${err.message}`;
  }
  return null;
}

/**
 * Every expected message must match an annotation and every annotation an expected message. As in
 * Prometheus's runner, an annotation matches in its plain form or in its form with the position in
 * the query (`... (1:5)`), so test files may be written either way.
 */
function checkAnnotationsOfType(kind: string, expected: MessageMatch[], actual: readonly string[], positioned: readonly string[]): string | null {
  if (expected.length === 0) return null;
  if (actual.length === 0) return `expected ${kind} annotations but none were found`;
  for (const e of expected) {
    if (!actual.some((a) => messageMatches(e, a)) && !positioned.some((a) => messageMatches(e, a))) {
      return `expected ${kind} annotation matching ${describeMatch(e)} but no matching annotation was found, found: ${JSON.stringify(actual)}`;
    }
  }
  for (const [k, a] of actual.entries()) {
    const p = positioned[k];
    if (!expected.some((e) => messageMatches(e, a) || (p !== undefined && messageMatches(e, p)))) {
      return `unexpected ${kind} annotation ${JSON.stringify(a)}`;
    }
  }
  return null;
}

export function checkAnnotations(
  cmd: EvalCmd,
  warnings: readonly string[],
  infos: readonly string[],
  warningsWithPosition: readonly string[] = [],
  infosWithPosition: readonly string[] = [],
): string | null {
  if (cmd.warnRequired && warnings.length === 0) return 'expected warnings but got none';
  if (cmd.infoRequired && infos.length === 0) return 'expected info annotations but got none';
  const w = checkAnnotationsOfType('warn', cmd.warn, warnings, warningsWithPosition);
  if (w !== null) return w;
  const i = checkAnnotationsOfType('info', cmd.info, infos, infosWithPosition);
  if (i !== null) return i;
  if (cmd.noWarn && warnings.length > 0) return `unexpected warning annotations: ${JSON.stringify(warnings)}`;
  if (cmd.noInfo && infos.length > 0) return `unexpected info annotations: ${JSON.stringify(infos)}`;
  return null;
}

function fmtPoints(ts: ArrayLike<number>, fs: ArrayLike<number>): string {
  const parts: string[] = [];
  // fs is as long as ts.
  for (let i = 0; i < ts.length; i++) parts.push(`${fmtFloat(fs[i]!)} @[${ts[i]}]`);
  return `${ts.length} float point${ts.length === 1 ? '' : 's'} [${parts.join(' ')}]`;
}

/** A result series' points as the messages show them: floats, then histograms. */
function fmtSeries(s: { ts: Float64Array; fs: Float64Array; hts?: Float64Array; hs?: readonly FloatHistogram[] }): string {
  const floats = fmtPoints(s.ts, s.fs);
  const hs = s.hs ?? [];
  if (hs.length === 0) return floats;
  const parts = hs.map((h, i) => `${h.testExpression()} @[${s.hts?.[i] ?? '?'}]`);
  return `${floats} and ${hs.length} histogram point${hs.length === 1 ? '' : 's'} [${parts.join(' ')}]`;
}

function findExpected(cmd: EvalCmd, metric: Labels): EvalCmd['expected'][number] | undefined {
  return cmd.expected.find((e) => e.labels.equals(metric));
}

/** Matrix results must come sorted by labels. */
function checkMatrixSorted(series: ReadonlyArray<{ metric: Labels }>): string | null {
  for (let i = 1; i < series.length; i++) {
    if (Labels.compare(series[i - 1]!.metric, series[i]!.metric) > 0) {
      return `matrix results should always be sorted by labels, but series ${series[i]!.metric.toString()} at index ${i} sorts before ${series[i - 1]!.metric.toString()}`;
    }
  }
  return null;
}

/** Compares a result value with the expected lines of the case. */
export function compareResult(cmd: EvalCmd, value: QueryValue): string | null {
  const expectScalar = cmd.expectScalar !== null;
  switch (value.type) {
    case 'matrix': {
      if (cmd.ordered) return 'expected ordered result, but query returned a matrix';
      if (expectScalar) return `expected scalar result, but got matrix with ${value.series.length} series`;
      const sorted = checkMatrixSorted(value.series);
      if (sorted !== null) return sorted;
      const seen = new Set<string>();
      for (const s of value.series) {
        const exp = findExpected(cmd, s.metric);
        if (exp === undefined) return `unexpected metric ${s.metric.toString()} in result, has ${fmtSeries(s)}`;
        seen.add(s.metric.key());
        const expT: number[] = [];
        const expF: number[] = [];
        const expH: Array<{ t: number; h: FloatHistogram; hintSet: boolean }> = [];
        for (const [i, v] of exp.values.entries()) {
          const t = cmd.start + i * cmd.step;
          if (t > cmd.end) {
            return `expected ${exp.values.length} points for ${exp.labels.toString()}, but query time range cannot return this many points`;
          }
          if (v.histogram !== undefined) {
            expH.push({ t, h: v.histogram, hintSet: v.counterResetHintSet === true });
          } else if (!v.omitted) {
            expT.push(t);
            expF.push(v.value);
          }
        }
        const hts = s.hts ?? new Float64Array(0);
        const hs = s.hs ?? [];
        if (expT.length !== s.ts.length || expH.length !== hs.length) {
          return `expected ${expT.length} float points and ${expH.length} histogram points for ${exp.labels.toString()}, but got ${fmtSeries(s)}`;
        }
        // expH is as long as hs and hts (checked above).
        for (const [i, e] of expH.entries()) {
          if (e.t !== hts[i]) {
            return `expected histogram value at index ${i} for ${exp.labels.toString()} to have timestamp ${e.t}, but it had timestamp ${hts[i]} (result has ${fmtSeries(s)})`;
          }
          if (!histogramsMatch(e.h, hs[i]!, e.hintSet)) {
            return `expected histogram value at index ${i} (t=${e.t}) for ${exp.labels.toString()} to be ${e.h.testExpression()}, but got ${hs[i]!.testExpression()} (result has ${fmtSeries(s)})`;
          }
        }
        // expF is as long as expT, which is as long as s.ts and s.fs (checked above).
        for (let i = 0; i < expT.length; i++) {
          if (expT[i] !== s.ts[i]) {
            return `expected float value at index ${i} for ${exp.labels.toString()} to have timestamp ${expT[i]}, but it had timestamp ${s.ts[i]} (result has ${fmtPoints(s.ts, s.fs)})`;
          }
          if (!almostEqual(s.fs[i]!, expF[i]!)) {
            return `expected float value at index ${i} (t=${expT[i]}) for ${exp.labels.toString()} to be ${fmtFloat(expF[i]!)}, but got ${fmtFloat(s.fs[i]!)} (result has ${fmtPoints(s.ts, s.fs)})`;
          }
        }
      }
      for (const e of cmd.expected) {
        if (!seen.has(e.labels.key())) return `expected metric ${e.labels.toString()} not found`;
      }
      return null;
    }
    case 'vector': {
      if (expectScalar) return `expected scalar result, but got vector with ${value.samples.length} samples`;
      const seen = new Set<string>();
      for (const [pos, s] of value.samples.entries()) {
        const exp = findExpected(cmd, s.metric);
        if (exp === undefined) return `unexpected metric ${s.metric.toString()} in result, has value ${s.h !== undefined ? s.h.testExpression() : fmtFloat(s.f)}`;
        if (cmd.ordered && exp.pos !== pos + 1) {
          return `expected metric ${s.metric.toString()} at position ${exp.pos} but was at ${pos + 1}`;
        }
        const wantH = exp.values[0]?.histogram;
        if (wantH === undefined && s.h !== undefined) {
          return `expected float value ${fmtFloat(exp.values[0]?.value ?? 0)} for ${s.metric.toString()} but got histogram ${s.h.testExpression()}`;
        }
        if (wantH !== undefined) {
          if (s.h === undefined) return `expected histogram ${wantH.testExpression()} for ${s.metric.toString()} but got float value ${fmtFloat(s.f)}`;
          if (!histogramsMatch(wantH, s.h, exp.values[0]?.counterResetHintSet === true)) {
            return `expected ${wantH.testExpression()} for ${s.metric.toString()} but got ${s.h.testExpression()}`;
          }
          seen.add(s.metric.key());
          continue;
        }
        const want = exp.values[0]?.value ?? 0;
        if (!almostEqual(want, s.f)) return `expected ${fmtFloat(want)} for ${s.metric.toString()} but got ${fmtFloat(s.f)}`;
        seen.add(s.metric.key());
      }
      for (const e of cmd.expected) {
        if (!seen.has(e.labels.key())) {
          return `expected metric ${e.labels.toString()} with ${e.values.map((v) => (v.omitted ? '_' : fmtFloat(v.value))).join(' ')} not found`;
        }
      }
      return null;
    }
    case 'scalar':
      if (!expectScalar) return `expected vector or matrix result, but got scalar ${fmtFloat(value.v)}`;
      if (cmd.expected[0]?.values[0]?.histogram !== undefined) {
        return `expected histogram ${cmd.expected[0].values[0].histogram.testExpression()} but got scalar ${fmtFloat(value.v)}`;
      }
      if (!almostEqual(cmd.expectScalar!, value.v)) return `expected scalar ${fmtFloat(cmd.expectScalar!)} but got ${fmtFloat(value.v)}`;
      return null;
    case 'string': {
      const want = cmd.expectString ?? '';
      if (want !== value.v) return `expected string ${JSON.stringify(want)} but got ${JSON.stringify(value.v)}`;
      return null;
    }
  }
}

/**
 * The step at `t` of a range-query result, as an instant result: a vector, or
 * a scalar when the instant query gave one. Returns an error message when the
 * matrix has no point to stand for a scalar.
 */
export function instantFromRange(value: QueryValue, t: number, scalar: boolean): QueryValue | string {
  if (value.type !== 'matrix') return `range query returned a ${value.type}, not a matrix`;
  const sorted = checkMatrixSorted(value.series);
  if (sorted !== null) return sorted;
  const samples: Array<{ metric: Labels; t: number; f: number; h?: FloatHistogram }> = [];
  for (const s of value.series) {
    let found = false;
    for (let i = 0; i < s.ts.length; i++) {
      if (s.ts[i] === t) {
        samples.push({ metric: s.metric, t, f: s.fs[i]! }); // fs is as long as ts
        found = true;
        break;
      }
    }
    if (found || s.hts === undefined || s.hs === undefined) continue;
    for (let i = 0; i < s.hts.length; i++) {
      if (s.hts[i] === t) {
        samples.push({ metric: s.metric, t, f: 0, h: s.hs[i]! }); // hs is as long as hts
        break;
      }
    }
  }
  if (!scalar) return { type: 'vector', samples };
  if (samples.length === 0) return `range query has no point at ${t} for the scalar result`;
  return { type: 'scalar', t, v: samples[0]!.f };
}
