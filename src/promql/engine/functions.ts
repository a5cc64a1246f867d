// Function calls: dispatch, instant-vector functions, and the label, sort
// and absent functions. Range-vector functions live in range_functions.ts,
// histogram functions in histograms.ts.
//
// Calls arrive type-checked by the parser, with every argument their function
// declares, so e.args[i] of a declared argument is asserted with `!`; so are
// per-step scalars (numSteps values each) read at a step k < numSteps.
import type RE2 from 're2';
import type { FloatHistogram } from '../../model/histogram.js';
import { Labels, METRIC_NAME, isValidLabelName } from '../../model/labels.js';
import { compileAnchoredRegex } from '../../model/matcher.js';
import { isStaleNaN } from '../../model/value.js';
import type { SampleIterator } from '../../storage/interface.js';
import { expandTemplate } from '../../relabel/relabel.js';
import type { Call, Expr, StringLiteral, VectorSelector } from '../parser/ast.js';
import { absentLabels } from './absent.js';
import { annotations } from './annotations.js';
import { mergeSameLabelset } from './collector.js';
import type { EvalContext } from './context.js';
import { CivilDate, DATE_FUNCTIONS } from './dates.js';
import { EvalError } from './errors.js';
import { MATH_FUNCTIONS, goMax, goMin, round } from './go_math.js';
import { evalHistogramFraction, evalHistogramQuantile, evalHistogramQuantiles } from './histograms.js';
import { evalInfo } from './info.js';
import { histogramVariance } from './native_histograms.js';
import { evalRangeFunction } from './range_functions.js';
import { MAX_PREALLOCATED_POINTS, Series, dropMetadata, metricsOf, sameMetadata, type EvalValue, type Matrix } from './value.js';

const SORT_FUNCTIONS = new Set(['sort', 'sort_desc', 'sort_by_label', 'sort_by_label_desc']);

/** Histogram-only functions: a float of each native histogram sample; float samples are ignored. */
const HISTOGRAM_ONLY: ReadonlyMap<string, (h: FloatHistogram) => number> = new Map([
  ['histogram_avg', (h: FloatHistogram) => h.sum / h.count],
  ['histogram_count', (h: FloatHistogram) => h.count],
  ['histogram_sum', (h: FloatHistogram) => h.sum],
  ['histogram_stddev', (h: FloatHistogram) => Math.sqrt(histogramVariance(h))],
  ['histogram_stdvar', (h: FloatHistogram) => histogramVariance(h)],
]);

export async function evalCall(ev: EvalContext, e: Call): Promise<EvalValue> {
  const name = e.func.name;
  if ((name === 'timestamp' || name === 'start_timestamp') && e.args[0]?.type === 'VectorSelector') {
    return timestampOfSelector(ev, e, e.args[0]);
  }
  const matrixArg = e.args.findIndex((a) => a.type === 'MatrixSelector' || a.type === 'SubqueryExpr');
  switch (name) {
    case 'label_replace':
      return labelReplace(ev, e);
    case 'label_join':
      return labelJoin(ev, e);
    case 'info':
      return evalInfo(ev, e);
  }
  if (SORT_FUNCTIONS.has(name) && !ev.instant) ev.q.annotations.add(annotations.sortInRangeQuery(e.posRange));
  if (matrixArg >= 0) return evalRangeFunction(ev, e, matrixArg);
  if (e.func.argTypes.includes('matrix')) {
    // Preparation leaves every range argument a matrix selector or subquery.
    throw new EvalError(`BUG: range argument of ${name} is a ${e.args.find((a) => a.type !== 'StringLiteral')?.type ?? 'missing'}`);
  }

  const math = MATH_FUNCTIONS[name];
  if (math !== undefined) return mapVector(ev, e.args[0]!, (v) => math(v));
  const date = DATE_FUNCTIONS[name];
  if (date !== undefined) {
    const d = new CivilDate();
    if (e.args.length === 0) return scalarLike(ev, (t) => date(t / 1000, d));
    return mapVector(ev, e.args[0]!, (v) => date(v, d));
  }
  const ofHistogram = HISTOGRAM_ONLY.get(name);
  if (ofHistogram !== undefined) {
    const before = ev.currentSamples;
    const m = await ev.evalMatrix(e.args[0]!);
    return ev.rangeEval(before, [m], (_k, t, vecs, out) => {
      const v = vecs[0]!;
      if (v.h === null) return;
      // j < n: a sample of the step (see StepVector).
      for (let j = 0; j < v.n; j++) {
        const h = v.h[j];
        if (h === undefined) continue;
        const ls = m[v.idx[j]!]!.metric;
        out.emit(ev.q.delayedNameRemoval ? ls : dropMetadata(ls), true, t, ofHistogram(h));
      }
    });
  }
  switch (name) {
    case 'time':
      return scalarLike(ev, (t) => t / 1000);
    case 'pi':
      return ev.constant(Math.PI);
    case 'vector':
      // The scalar's single label-less series is already the vector.
      return ev.evalMatrix(e.args[0]!);
    case 'scalar':
      return scalarOf(ev, e);
    case 'max_of':
    case 'min_of': {
      const a = await ev.evalScalar(e.args[0]!);
      const b = await ev.evalScalar(e.args[1]!);
      const f = name === 'max_of' ? goMax : goMin;
      return scalarLike(ev, (_t, k) => f(a[k]!, b[k]!));
    }
    case 'clamp':
      return clampVector(ev, e.args[0]!, e.args[1]!, e.args[2]!);
    case 'clamp_min':
      return clampVector(ev, e.args[0]!, e.args[1]!, null);
    case 'clamp_max':
      return clampVector(ev, e.args[0]!, null, e.args[1]!);
    case 'round': {
      const before = ev.currentSamples;
      const m = await ev.evalMatrix(e.args[0]!);
      const pm = e.args.length > 1 ? await ev.evalMatrix(e.args[1]!) : null;
      const toNearest = pm === null ? null : ev.dense(pm);
      return mapMatrix(ev, before, m, pm === null ? [] : [pm], (v, k) => round(v, toNearest === null ? 1 : toNearest[k]!));
    }
    case 'timestamp': {
      const before = ev.currentSamples;
      const m = await ev.evalMatrix(e.args[0]!);
      return mapMatrix(ev, before, m, [], (_v, _k, t) => t / 1000, true);
    }
    case 'start_timestamp':
      // An expression's samples carry no start timestamps (as in Prometheus): nothing to report.
      await ev.evalMatrix(e.args[0]!);
      return [];
    case 'absent':
      return absent(ev, e);
    case 'sort':
    case 'sort_desc':
    case 'sort_by_label':
    case 'sort_by_label_desc':
      return sortVector(ev, e);
    case 'histogram_quantile':
      return evalHistogramQuantile(ev, e);
    case 'histogram_fraction':
      return evalHistogramFraction(ev, e);
    case 'histogram_quantiles':
      return evalHistogramQuantiles(ev, e);
  }
  throw new EvalError(`function "${name}" is not supported`);
}

// ---------------------------------------------------------------------------
// Element-wise functions

/**
 * Applies `f` to every point of `m` in place. Points for which `f` returns
 * null are dropped. The metric name is removed (at once, or marked for later
 * with delayed name removal); series that then collide are merged. `before`
 * is currentSamples before the arguments (`m` and the scalar `params`) were
 * evaluated.
 */
async function mapMatrix(
  ev: EvalContext,
  before: number,
  m: Matrix,
  params: readonly Matrix[],
  f: (v: number, step: number, t: number) => number | null,
  /** Apply f to histogram samples too (timestamp()); otherwise they are dropped, as Prometheus's float functions drop them. */
  histogramsToo = false,
): Promise<Matrix> {
  const held = ev.currentSamples;
  const gathered = ev.pointsPerStep([m, ...params]);
  const produced = new Int32Array(ev.numSteps);
  const unique = ev.q.delayedNameRemoval || sameMetadata(metricsOf(m));
  const out: Matrix = [];
  for (const s of m) {
    let w = 0;
    const ts = s.ts;
    const vs = s.vs;
    const o = s.off;
    // o + i is a point of s; its timestamp is a step time, so 0 <= k < numSteps.
    const hs = s.hs;
    for (let i = 0; i < s.n; i++) {
      if (hs !== null && hs[i] !== undefined && !histogramsToo) continue;
      const t = ts[o + i]!;
      const k = ev.stepOf(t);
      const r = f(vs[o + i]!, k, t);
      if (r === null) continue;
      ts[o + w] = t;
      vs[o + w] = r;
      w++;
      produced[k]!++;
    }
    s.n = w;
    s.hs = null;
    if (!ev.q.delayedNameRemoval) s.metric = dropMetadata(s.metric);
    s.dropName = true;
    if (w > 0) out.push(s);
    await ev.tick(s.n + 1);
  }
  ev.accountStepwise(before, held, gathered, produced);
  return unique ? out : mergeSameLabelset(out);
}

async function mapVector(ev: EvalContext, arg: Expr, f: (v: number) => number): Promise<Matrix> {
  const before = ev.currentSamples;
  return mapMatrix(ev, before, await ev.evalMatrix(arg), [], (v) => f(v));
}

async function clampVector(ev: EvalContext, arg: Expr, minArg: Expr | null, maxArg: Expr | null): Promise<Matrix> {
  const before = ev.currentSamples;
  const m = await ev.evalMatrix(arg);
  const params: Matrix[] = [];
  let mins: Float64Array | null = null;
  let maxs: Float64Array | null = null;
  if (minArg !== null) {
    const pm = await ev.evalMatrix(minArg);
    params.push(pm);
    mins = ev.dense(pm);
  }
  if (maxArg !== null) {
    const pm = await ev.evalMatrix(maxArg);
    params.push(pm);
    maxs = ev.dense(pm);
  }
  return mapMatrix(ev, before, m, params, (v, k) => {
    const lo = mins === null ? -Infinity : mins[k]!;
    const hi = maxs === null ? Infinity : maxs[k]!;
    if (hi < lo) return null;
    return goMax(lo, goMin(hi, v));
  });
}

/** A label-less series with a value at every step (time(), max_of(), date functions without argument). */
function scalarLike(ev: EvalContext, f: (t: number, step: number) => number): Matrix {
  ev.checkSamples(ev.numSteps);
  const s = new Series(Labels.EMPTY, false, ev.numSteps);
  for (let k = 0; k < ev.numSteps; k++) {
    const t = ev.stepTime(k);
    s.push(t, f(t, k));
  }
  ev.currentSamples += s.n;
  ev.stats.updatePeak(ev.currentSamples);
  return [s];
}

async function scalarOf(ev: EvalContext, e: Call): Promise<Matrix> {
  const before = ev.currentSamples;
  const m = await ev.evalMatrix(e.args[0]!);
  return ev.rangeEval(before, [m], (_k, t, vecs, out) => {
    const v = vecs[0]!;
    // Histogram samples do not count: one float sample makes the scalar.
    let found = -1;
    for (let j = 0; j < v.n; j++) {
      if (v.h !== null && v.h[j] !== undefined) continue;
      if (found >= 0) {
        found = -2;
        break;
      }
      found = j;
    }
    out.emit(Labels.EMPTY, false, t, found >= 0 ? v.v[found]! : NaN);
  });
}

// ---------------------------------------------------------------------------
// timestamp() of a selector: the timestamp of the sample itself, not the step

async function timestampOfSelector(ev: EvalContext, e: Call, vs: VectorSelector): Promise<Matrix> {
  const list = ev.selected(vs);
  const lookback = ev.q.lookbackDelta;
  const out: Matrix = [];
  // start_timestamp() gives the sample's start timestamp (0 for none); only with use-start-timestamps.
  const ofStart = e.func.name === 'start_timestamp';
  if (ofStart && !ev.q.useStartTimestamps) return out;
  const before = ev.currentSamples;
  const produced = new Int32Array(ev.numSteps);
  // With @, Prometheus looks up the sample at the @ time at every step, among
  // the samples it selected for the @ time shifted by the written offset.
  const pinned = vs.timestamp;
  const offset = vs.offset;
  const mint = pinned !== null ? pinned - vs.originalOffset - lookback + 1 : ev.start - offset - lookback + 1;
  const maxt = pinned !== null ? pinned - vs.originalOffset : ev.end - offset;
  let it: SampleIterator | undefined;
  for (const ss of list) {
    it = ss.iterator(it);
    const n = ev.decode(it, mint, maxt, true);
    const T = ev.bufT;
    const V = ev.bufV;
    const ST = ev.bufST;
    const metric = ev.q.delayedNameRemoval ? ss.labels : dropMetadata(ss.labels);
    let s: Series | null = null;
    let j = -1;
    // -1 <= j < n <= T.length = V.length; j >= 0 is checked before T[j] and V[j].
    for (let k = 0; k < ev.numSteps; k++) {
      const t = ev.stepTime(k);
      const ref = pinned !== null ? pinned : t - offset;
      if (pinned !== null) j = -1;
      while (j + 1 < n && T[j + 1]! <= ref) j++;
      if (j < 0 || T[j]! <= ref - lookback) continue;
      const v = V[j]!;
      if (v !== v && isStaleNaN(v)) continue;
      if (s === null) s = new Series(metric, true, Math.min(ev.numSteps, MAX_PREALLOCATED_POINTS));
      s.push(t, (ofStart ? (ST?.[j] ?? 0) : T[j]!) / 1000);
      produced[k]!++;
      ev.stats.incAtTimestamp(t, 1);
      ev.stats.incReadAtTimestamp(t, 1);
    }
    if (s !== null) out.push(s);
    await ev.tick(ev.numSteps);
  }
  // Each selected sample is held once as input and once as output at its step.
  ev.accountStepwise(before, before, produced, produced);
  return ev.q.delayedNameRemoval || sameMetadata(list.map((s) => s.labels)) ? out : mergeSameLabelset(out);
}

// ---------------------------------------------------------------------------
// absent()

async function absent(ev: EvalContext, e: Call): Promise<Matrix> {
  const before = ev.currentSamples;
  const arg = e.args[0]!;
  const ls = absentLabels(arg);
  if (arg.type === 'VectorSelector' && arg.smoothed !== true) {
    // Only whether a step has samples matters: count them, and account as the step-by-step path does.
    const counts = await ev.countSelected(arg);
    const produced = new Int32Array(ev.numSteps);
    const s = new Series(ls, false, 0);
    // k < numSteps = counts.length = produced.length.
    for (let k = 0; k < ev.numSteps; k++) {
      if (counts[k] !== 0) continue;
      produced[k] = 1;
      s.push(ev.stepTime(k), 1);
    }
    ev.accountStepwise(before, ev.currentSamples, counts, produced);
    return s.n === 0 ? [] : [s];
  }
  const m = await ev.evalMatrix(arg);
  return ev.rangeEval(before, [m], (_k, t, vecs, out) => {
    if (vecs[0]!.n === 0) out.emit(ls, false, t, 1);
  });
}

// ---------------------------------------------------------------------------
// sort, sort_desc, sort_by_label, sort_by_label_desc

/** NaN sorts last in both directions, as Prometheus's sort and sort_desc. */
function byValue(desc: boolean): (a: Series, b: Series) => number {
  // Only instant vectors are sorted: every series has its one point at off.
  return (a, b) => {
    const x = a.vs[a.off]!;
    const y = b.vs[b.off]!;
    const xn = x !== x;
    const yn = y !== y;
    if (xn || yn) return xn === yn ? 0 : xn ? 1 : -1;
    if (x === y) return 0;
    return (x < y) !== desc ? -1 : 1;
  };
}

/** The series with its histogram points removed (in place). */
function withoutHistograms(s: Series): Series {
  const hs = s.hs;
  if (hs === null) return s;
  let w = 0;
  // i < n: a point of s, at off + i.
  for (let i = 0; i < s.n; i++) {
    if (hs[i] !== undefined) continue;
    s.ts[s.off + w] = s.ts[s.off + i]!;
    s.vs[s.off + w] = s.vs[s.off + i]!;
    w++;
  }
  s.n = w;
  s.hs = null;
  return s;
}

async function sortVector(ev: EvalContext, e: Call): Promise<Matrix> {
  const all = await ev.evalMatrix(e.args[0]!);
  const name = e.func.name;
  // sort and sort_desc order floats only: histogram samples are left out.
  const m = name === 'sort' || name === 'sort_desc' ? all.map(withoutHistograms).filter((s) => s.n > 0) : all;
  // Range results are ordered by labels at the end anyway; only instant results keep this order.
  if (!ev.instant) return m;
  if (name === 'sort' || name === 'sort_desc') return m.sort(byValue(name === 'sort_desc'));
  const names = e.args.slice(1).map((a) => (a as StringLiteral).val);
  const desc = name === 'sort_by_label_desc';
  return m.sort((a, b) => {
    for (const n of names) {
      const x = a.metric.get(n);
      const y = b.metric.get(n);
      if (x === y) continue;
      const less = natLess(x, y);
      return less !== desc ? -1 : 1;
    }
    const c = Labels.compare(a.metric, b.metric);
    return desc ? -c : c;
  });
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Natural order as the facette/natsort package Prometheus uses: runs of
 * digits compare by numeric length, then lexically (leading zeros skipped),
 * everything else character by character.
 */
export function natLess(a: string, b: string): boolean {
  let pa = 0;
  let pb = 0;
  const la = a.length;
  const lb = b.length;
  for (;;) {
    if (la <= pa) return lb > pb;
    if (lb <= pb) return false;
    let av = a.charCodeAt(pa);
    let bv = b.charCodeAt(pb);
    if (isDigit(av) && isDigit(bv)) {
      let na = 1;
      let nb = 1;
      while (pa + na < la) {
        const x = a.charCodeAt(pa + na);
        if (av === 48) {
          pa++;
          av = x;
          continue;
        }
        if (isDigit(x)) na++;
        else break;
      }
      while (pb + nb < lb) {
        const x = b.charCodeAt(pb + nb);
        if (bv === 48) {
          pb++;
          bv = x;
          continue;
        }
        if (isDigit(x)) nb++;
        else break;
      }
      if (nb > na) return true;
      if (na > nb) return false;
      const sa = a.slice(pa, pa + na);
      const sb = b.slice(pb, pb + nb);
      if (sa < sb) return true;
      if (sa > sb) return false;
      pa += na;
      pb += nb;
      continue;
    }
    if (av === bv) {
      pa++;
      pb++;
      continue;
    }
    return av < bv;
  }
}

// ---------------------------------------------------------------------------
// label_replace, label_join

function stringArg(e: Expr | undefined): string {
  if (e?.type !== 'StringLiteral') throw new EvalError(`BUG: expected a string literal argument, got ${e?.type ?? 'none'}`);
  return e.val;
}

function compileReplaceRegex(re: string): RE2 {
  try {
    return compileAnchoredRegex(re);
  } catch {
    throw new EvalError(`invalid regular expression in label_replace(): ${re}`);
  }
}

async function labelReplace(ev: EvalContext, e: Call): Promise<Matrix> {
  const dst = stringArg(e.args[1]);
  const repl = stringArg(e.args[2]);
  const src = stringArg(e.args[3]);
  const re = compileReplaceRegex(stringArg(e.args[4]));
  if (!isValidLabelName(dst)) throw new EvalError(`invalid destination label name in label_replace(): ${dst}`);
  const m = await ev.evalMatrix(e.args[0]!);
  for (const s of m) {
    const match = re.exec(s.metric.get(src));
    if (match === null) continue;
    const value = expandTemplate(repl, match);
    s.metric = s.metric.builder().set(dst, value).labels();
    if (dst === METRIC_NAME) s.dropName = false;
  }
  return mergeSameLabelset(m);
}

async function labelJoin(ev: EvalContext, e: Call): Promise<Matrix> {
  const dst = stringArg(e.args[1]);
  const sep = stringArg(e.args[2]);
  const srcs: string[] = [];
  for (let i = 3; i < e.args.length; i++) {
    const src = stringArg(e.args[i]);
    if (!isValidLabelName(src)) throw new EvalError(`invalid source label name in label_join(): ${src}`);
    srcs.push(src);
  }
  if (!isValidLabelName(dst)) throw new EvalError(`invalid destination label name in label_join(): ${dst}`);
  const m = await ev.evalMatrix(e.args[0]!);
  for (const s of m) {
    const value = srcs.map((n) => s.metric.get(n)).join(sep);
    s.metric = s.metric.builder().set(dst, value).labels();
    if (dst === METRIC_NAME) s.dropName = false;
  }
  return mergeSameLabelset(m);
}
