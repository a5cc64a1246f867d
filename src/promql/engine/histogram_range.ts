// Functions over range vectors whose window holds native histograms: the
// histogram versions of rate, increase, delta, irate, idelta, sum_over_time
// and avg_over_time, and for the float-only functions the rule that
// histograms in the window are ignored (with Prometheus's info). Windows
// without histograms never come here: they keep the float kernels.
import { CounterResetHint, FloatHistogram, HistogramError, ownedFloatHistogram, type Span } from '../../model/histogram.js';
import type { Labels } from '../../model/labels.js';
import type { Call, PosRange } from '../parser/ast.js';
import { annotations } from './annotations.js';
import type { EvalContext } from './context.js';
import { HistogramsUnsupportedError } from './errors.js';
import { anchoredFirst, search } from './extended.js';
import { HistogramSum, histogramMean } from './native_histograms.js';
import { isStartTimestampReset, startTimeOverlaps } from './start_timestamps.js';

export type Histograms = ReadonlyArray<FloatHistogram | undefined>;

/** A window's result: a float, a histogram, or null for no sample. */
export type HistogramWindowFn = (ts: Float64Array, vs: Float64Array, hs: Histograms, lo: number, hi: number, t: number, metric: Labels) => number | FloatHistogram | null;

/** The float kernel of the function, for the float samples of a mixed window. */
/**
 * A window kernel over samples that may hold histograms; `sts` are the
 * samples' start timestamps when the function reads them (use-start-timestamps
 * on, rate/increase/irate/resets), else null.
 */
export type HistogramKernel = (ts: Float64Array, vs: Float64Array, hs: Histograms, lo: number, hi: number, t: number, step: number, metric: Labels, sts: Float64Array | null) => number | FloatHistogram | null;

export type FloatWindowFn = (ts: Float64Array, vs: Float64Array, lo: number, hi: number, step: number) => number | null;

/** Functions that ignore histogram samples in their window (with an info when there are floats too). */
const FLOAT_ONLY = new Set([
  'min_over_time',
  'max_over_time',
  'ts_of_min_over_time',
  'ts_of_max_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'quantile_over_time',
  'mad_over_time',
  'deriv',
  'predict_linear',
  'double_exponential_smoothing',
]);

/**
 * The value of a `smoothed` selector at dataT from a window of samples:
 * a histogram picked or interpolated (or carried forward with an unknown
 * hint), with Prometheus's warnings; undefined when the window has no
 * histograms (the float rule applies), null for no sample.
 */
export function smoothedHistogram(ev: EvalContext, ts: Float64Array, hs: Histograms, lo: number, hi: number, dataT: number, metricName: string, pos: PosRange): FloatHistogram | null | undefined {
  if (!hasHistogram(hs, lo, hi)) return undefined;
  if (!allHistograms(hs, lo, hi)) {
    ev.q.annotations.add(annotations.mixedFloatsHistograms(metricName, pos));
    return null;
  }
  const i = search(ts, lo, hi, (x) => x >= dataT);
  if (i < hi && ts[i] === dataT) return hs[i]!;
  if (i > lo && i < hi) {
    const prev = hs[i - 1]!;
    const next = hs[i]!;
    if (prev.usesCustomBuckets() !== next.usesCustomBuckets()) {
      ev.q.annotations.add(annotations.mixedExponentialCustomHistograms(metricName, pos));
      return null;
    }
    const isCounter = prev.counterResetHint !== CounterResetHint.Gauge || next.counterResetHint !== CounterResetHint.Gauge;
    try {
      return interpolateHistograms(prev, ts[i - 1]!, next, ts[i]!, dataT, isCounter, ev, pos);
    } catch (err) {
      if (!isIncompatible(err)) throw err;
      ev.q.annotations.add(annotations.mixedExponentialCustomHistograms(metricName, pos));
      return null;
    }
  }
  if (i > lo) return hs[i - 1]!.with({ counterResetHint: CounterResetHint.Unknown });
  return null;
}

export function hasHistogram(hs: Histograms, lo: number, hi: number): boolean {
  for (let i = lo; i < hi; i++) if (hs[i] !== undefined) return true;
  return false;
}

function isIncompatible(e: unknown): boolean {
  return e instanceof HistogramError && e.kind === 'incompatible_schema';
}

/**
 * The window function for windows with histograms, or throws
 * HistogramsUnsupportedError for a function that has none yet.
 */
export function histogramKernelFor(ev: EvalContext, e: Call, offset: number, range: number, pos: PosRange, floatFn: FloatWindowFn, anchoredOrSmoothed: boolean): HistogramKernel {
  const name = e.func.name;
  const ann = ev.q.annotations;
  if (FLOAT_ONLY.has(name)) {
    let fts = new Float64Array(16);
    let fvs = new Float64Array(16);
    return (ts, vs, hs, lo, hi, t, step, metric) => {
      if (hi - lo > fts.length) {
        fts = new Float64Array(hi - lo);
        fvs = new Float64Array(hi - lo);
      }
      let m = 0;
      for (let i = lo; i < hi; i++) {
        if (hs[i] !== undefined) continue;
        fts[m] = ts[i]!;
        fvs[m] = vs[i]!;
        m++;
      }
      if (m === 0) return null;
      ann.add(annotations.histogramIgnoredInMixedRange(metric.get('__name__'), pos));
      return floatFn(fts, fvs, 0, m, step);
    };
  }
  if (anchoredOrSmoothed && (name === 'changes' || name === 'resets')) {
    // Anchored: from the last sample at or before the range start.
    const count = changesOrResets(name === 'resets');
    return (ts, vs, hs, lo, hi, t) => {
      const first = anchoredFirst(ts, lo, hi, t - offset - range);
      return first < 0 ? null : count(ts, vs, hs, first, hi);
    };
  }
  if (anchoredOrSmoothed) {
    if (name !== 'rate' && name !== 'increase' && name !== 'delta') throw new HistogramsUnsupportedError();
    const isCounter = name !== 'delta';
    const isRate = name === 'rate';
    const smoothed = e.args[0]?.type === 'MatrixSelector' && e.args[0].vectorSelector.smoothed === true;
    return (ts, _vs, hs, lo, hi, t, _step, metric) => {
      const metricName = metric.get('__name__');
      if (!allHistograms(hs, lo, hi)) {
        ann.add(annotations.mixedFloatsHistograms(metricName, pos));
        return null;
      }
      return extendedHistogramRate(ev, ts, hs, lo, hi, t - offset - range, t - offset, isCounter, isRate, smoothed, metricName, pos);
    };
  }
  switch (name) {
    case 'changes':
    case 'resets': {
      const count = changesOrResets(name === 'resets');
      return (ts, vs, hs, lo, hi, _t, _step, _metric, sts) => count(ts, vs, hs, lo, hi, sts);
    }
    case 'count_over_time':
      return (_ts, _vs, _hs, lo, hi) => hi - lo;
    case 'present_over_time':
      return () => 1;
    case 'ts_of_first_over_time':
      return (ts, _vs, _hs, lo) => ts[lo]! / 1000;
    case 'ts_of_last_over_time':
      return (ts, _vs, _hs, _lo, hi) => ts[hi - 1]! / 1000;
    case 'last_over_time':
      return (_ts, vs, hs, _lo, hi) => hs[hi - 1] ?? vs[hi - 1]!;
    case 'first_over_time':
      return (_ts, vs, hs, lo) => hs[lo] ?? vs[lo]!;
    case 'rate':
    case 'increase':
    case 'delta': {
      const isCounter = name !== 'delta';
      const isRate = name === 'rate';
      return (ts, _vs, hs, lo, hi, t, _step, metric, sts) => {
        const metricName = metric.get('__name__');
        if (!allHistograms(hs, lo, hi)) {
          ann.add(annotations.mixedFloatsHistograms(metricName, pos));
          return null;
        }
        // STs only reach counters (rate and increase); the fast path does not read them.
        if (sts !== null) return histogramRateST(ev, ts, hs, sts, lo, hi, t - offset - range, t - offset, isRate, metricName, pos);
        if (hi - lo < 2) return null;
        if (sameLayoutWindow(hs, lo, hi, isCounter)) return fastRate(ev, ts, hs, lo, hi, t - offset - range, t - offset, isCounter, isRate, metricName, pos);
        const res = histogramRate(ev, ts, hs, null, lo, hi, isCounter, metricName, pos);
        if (res === null) return null;
        return extrapolate(ts, hs, lo, hi, res, t - offset - range, t - offset, isCounter, isRate);
      };
    }
    case 'irate':
    case 'idelta': {
      const isRate = name === 'irate';
      return (ts, _vs, hs, lo, hi, _t, _step, metric, sts) => {
        if (hi - lo < 2) return null;
        const h0 = hs[hi - 2];
        const h1 = hs[hi - 1];
        const interval = ts[hi - 1]! - ts[hi - 2]!;
        if (interval === 0) return null;
        const metricName = metric.get('__name__');
        if (h0 === undefined || h1 === undefined) {
          ann.add(annotations.mixedFloatsHistograms(metricName, pos));
          return null;
        }
        if (isRate && (h1.counterResetHint === CounterResetHint.Gauge || h0.counterResetHint === CounterResetHint.Gauge)) {
          ann.add(annotations.nativeHistogramNotCounter(metricName, pos));
        }
        if (!isRate && (h1.counterResetHint !== CounterResetHint.Gauge || h0.counterResetHint !== CounterResetHint.Gauge)) {
          ann.add(annotations.nativeHistogramNotGauge(metricName, pos));
        }
        const stReset = sts !== null && isStartTimestampReset(sts[hi - 2]!, ts[hi - 2]!, sts[hi - 1]!, ts[hi - 1]!);
        if (h1.sameLayout(h0)) {
          const reset = isRate && (stReset || sameLayoutReset(h1, h0));
          return sameLayoutDiff(h1, reset ? null : h0, isRate ? interval / 1000 : 1, isRate);
        }
        let res = h1;
        if (!isRate || !(stReset || h1.detectReset(h0))) {
          try {
            const r = h1.sub(h0);
            if (r.nhcbBoundsReconciled) ann.add(annotations.mismatchedCustomBuckets('subtraction', pos));
            res = r.histogram;
          } catch (err) {
            if (!isIncompatible(err)) throw err;
            ann.add(annotations.mixedExponentialCustomHistograms(metricName, pos));
            return null;
          }
        }
        res = res.with({ counterResetHint: CounterResetHint.Gauge }).compact(0);
        return isRate ? res.div(interval / 1000) : res;
      };
    }
    case 'sum_over_time':
    case 'avg_over_time': {
      const avg = name === 'avg_over_time';
      return (_ts, _vs, hs, lo, hi, _t, _step, metric) => {
        const metricName = metric.get('__name__');
        if (!allHistograms(hs, lo, hi)) {
          ann.add(annotations.mixedFloatsHistograms(metricName, pos));
          return null;
        }
        const r = sumHistograms(ev, hs, lo, hi, pos, avg);
        if (r === null) ann.add(annotations.mixedExponentialCustomHistograms(metricName, pos));
        return r;
      };
    }
  }
  throw new HistogramsUnsupportedError();
}

function allHistograms(hs: Histograms, lo: number, hi: number): boolean {
  for (let i = lo; i < hi; i++) if (hs[i] === undefined) return false;
  return true;
}

/** The sum (or mean) of the window's histograms, with the annotations of an aggregation; null for a mix of schemas. */
function sumHistograms(ev: EvalContext, hs: Histograms, lo: number, hi: number, pos: PosRange, avg: boolean): FloatHistogram | null {
  const sum = new HistogramSum(hs[lo]!);
  let res: FloatHistogram;
  try {
    if (avg) {
      const list: FloatHistogram[] = [];
      for (let i = lo; i < hi; i++) list.push(hs[i]!);
      res = histogramMean(list, sum);
    } else {
      for (let i = lo + 1; i < hi; i++) sum.add(hs[i]!);
      res = sum.result();
    }
  } catch (err) {
    if (!isIncompatible(err)) throw err;
    return null;
  }
  if (sum.reset && sum.notReset) ev.q.annotations.add(annotations.histogramCounterResetCollision('aggregation', pos));
  if (sum.reconciled) ev.q.annotations.add(annotations.mismatchedCustomBuckets('aggregation', pos));
  return res;
}

/**
 * Prometheus's histogramRate: last minus first, with the histograms before
 * each counter reset added back for counters, at the lowest schema of the
 * window; a gauge histogram. Null (with its warning) when the window mixes
 * exponential and custom buckets.
 */
function histogramRate(ev: EvalContext, ts: Float64Array, hs: Histograms, sts: Float64Array | null, lo: number, hi: number, isCounter: boolean, metricName: string, pos: PosRange): FloatHistogram | null {
  const ann = ev.q.annotations;
  // Whether the ST of sample i (> lo) says the counter restarted after sample i - 1.
  const stReset = (i: number): boolean => sts !== null && isStartTimestampReset(sts[i - 1]!, ts[i - 1]!, sts[i]!, ts[i]!);
  const first = hs[lo]!;
  const last = hs[hi - 1]!;
  let prev = first;
  let custom = prev.usesCustomBuckets();
  if (isCounter && (prev.counterResetHint === CounterResetHint.Gauge || last.counterResetHint === CounterResetHint.Gauge)) {
    ann.add(annotations.nativeHistogramNotCounter(metricName, pos));
  }
  if (isCounter) {
    const second = hs[lo + 1]!;
    if (stReset(lo + 1) || second.detectReset(prev)) {
      prev = new FloatHistogram({ schema: second.schema, customValues: second.customValues });
      custom = second.usesCustomBuckets();
    }
  }
  if (last.usesCustomBuckets() !== custom) {
    ann.add(annotations.mixedExponentialCustomHistograms(metricName, pos));
    return null;
  }
  let minSchema = Math.min(last.schema, prev.schema);
  for (let i = lo + 1; i < hi - 1; i++) {
    if (!isCounter) continue;
    const cur = hs[i]!;
    if (cur.counterResetHint === CounterResetHint.Gauge) ann.add(annotations.nativeHistogramNotCounter(metricName, pos));
    if (cur.schema < minSchema) minSchema = cur.schema;
    if (cur.usesCustomBuckets() !== custom) {
      ann.add(annotations.mixedExponentialCustomHistograms(metricName, pos));
      return null;
    }
  }
  let h = last.schema > minSchema && !last.usesCustomBuckets() ? last.reduceResolution(minSchema) : last;
  try {
    const r = h.sub(prev);
    if (r.nhcbBoundsReconciled) ann.add(annotations.mismatchedCustomBuckets('subtraction', pos));
    h = r.histogram;
    if (isCounter) {
      let overlapped = false;
      for (let i = lo + 1; i < hi; i++) {
        const cur = hs[i]!;
        if (!overlapped && sts !== null && startTimeOverlaps(sts[i - 1]!, ts[i - 1]!, sts[i]!)) {
          ann.add(annotations.startTimeOverlap(metricName, pos));
          overlapped = true;
        }
        if (stReset(i) || cur.detectReset(prev)) {
          const a = h.add(prev);
          if (a.nhcbBoundsReconciled) ann.add(annotations.mismatchedCustomBuckets('addition', pos));
          h = a.histogram;
        }
        prev = cur;
      }
    } else if (first.counterResetHint !== CounterResetHint.Gauge || last.counterResetHint !== CounterResetHint.Gauge) {
      ann.add(annotations.nativeHistogramNotGauge(metricName, pos));
    }
  } catch (err) {
    if (!isIncompatible(err)) throw err;
    ann.add(annotations.mixedExponentialCustomHistograms(metricName, pos));
    return null;
  }
  return h.with({ counterResetHint: CounterResetHint.Gauge }).compact(0);
}

/**
 * rate/increase of counter histograms with their STs: ST resets count as
 * counter resets, and a first sample whose ST lies inside the window counts
 * from an assumed empty histogram at that ST instead of extrapolating to the
 * left (so one sample can be enough). Null when the window gives no value.
 */
function histogramRateST(ev: EvalContext, ts: Float64Array, hs: Histograms, sts: Float64Array, lo: number, hi: number, rangeStart: number, rangeEnd: number, isRate: boolean, metricName: string, pos: PosRange): FloatHistogram | null {
  const n = hi - lo;
  if (n < 1) return null;
  let res: FloatHistogram | null = null;
  if (n > 1) {
    res = histogramRate(ev, ts, hs, sts, lo, hi, true, metricName, pos);
    if (res === null) return null;
  }
  const first = hs[lo]!;
  const firstT = ts[lo]!;
  const lastT = ts[hi - 1]!;
  const firstST = sts[lo]!;
  let durationToStart = (firstT - rangeStart) / 1000;
  let durationToEnd = (rangeEnd - lastT) / 1000;
  let sampledInterval = (lastT - firstT) / 1000;
  const averageInterval = n > 1 ? sampledInterval / (n - 1) : 0;
  const threshold = averageInterval * 1.1;
  if (firstST !== 0 && firstST > rangeStart && firstST < firstT) {
    durationToStart = 0;
    sampledInterval = (lastT - firstST) / 1000;
    if (res === null) {
      res = first;
    } else {
      try {
        const a = res.add(first);
        if (a.nhcbBoundsReconciled) ev.q.annotations.add(annotations.mismatchedCustomBuckets('addition', pos));
        res = a.histogram;
      } catch (err) {
        if (!isIncompatible(err)) throw err;
        ev.q.annotations.add(annotations.mixedExponentialCustomHistograms(metricName, pos));
        return null;
      }
    }
  } else if (res === null) {
    return null;
  } else {
    if (durationToStart >= threshold) durationToStart = averageInterval / 2;
    let durationToZero = durationToStart;
    if (res.count > 0 && first.count >= 0) durationToZero = sampledInterval * (first.count / res.count);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  if (durationToEnd >= threshold) durationToEnd = averageInterval / 2;
  let factor = 1;
  if (sampledInterval !== 0) factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval;
  if (isRate) factor /= (rangeEnd - rangeStart) / 1000;
  return res.mul(factor);
}

/**
 * Whether histogramRate over the window reduces to bucket-wise arithmetic:
 * every histogram has the last one's layout, and (for counters) the second
 * does not reset against the first (histogramRate then starts from an empty
 * histogram).
 */
function sameLayoutWindow(hs: Histograms, lo: number, hi: number, isCounter: boolean): boolean {
  const last = hs[hi - 1]!;
  for (let i = lo; i < hi - 1; i++) if (!hs[i]!.sameLayout(last)) return false;
  return !isCounter || !sameLayoutReset(hs[lo + 1]!, hs[lo]!);
}

/** Reused between windows: the bucket differences before compaction. */
let scratchPos = new Float64Array(64);
let scratchNeg = new Float64Array(64);

/**
 * histogramRate plus extrapolate for a window where sameLayoutWindow holds:
 * the same annotations and bit for bit the same result, computed in reused
 * arrays with one histogram built at the end instead of one per step.
 */
function fastRate(ev: EvalContext, ts: Float64Array, hs: Histograms, lo: number, hi: number, rangeStart: number, rangeEnd: number, isCounter: boolean, isRate: boolean, metricName: string, pos: PosRange): FloatHistogram {
  const ann = ev.q.annotations;
  const first = hs[lo]!;
  const last = hs[hi - 1]!;
  if (isCounter) {
    if (first.counterResetHint === CounterResetHint.Gauge || last.counterResetHint === CounterResetHint.Gauge) ann.add(annotations.nativeHistogramNotCounter(metricName, pos));
    for (let i = lo + 1; i < hi - 1; i++) if (hs[i]!.counterResetHint === CounterResetHint.Gauge) ann.add(annotations.nativeHistogramNotCounter(metricName, pos));
  }
  const np = last.positiveBuckets.length;
  const nn = last.negativeBuckets.length;
  if (scratchPos.length < np) scratchPos = new Float64Array(np * 2);
  if (scratchNeg.length < nn) scratchNeg = new Float64Array(nn * 2);
  const dp = scratchPos;
  const dn = scratchNeg;
  // last - first, then + the histogram before each counter reset, in histogramRate's order of operations.
  // Custom-bucket arithmetic leaves the zero bucket and the negative side as the minuend has them.
  const custom = last.usesCustomBuckets();
  subInto(dp, last.positiveBuckets, first.positiveBuckets);
  if (custom) dn.set(last.negativeBuckets);
  else subInto(dn, last.negativeBuckets, first.negativeBuckets);
  let count = last.count + -1 * first.count;
  let sum = last.sum + -1 * first.sum;
  let zeroCount = custom ? last.zeroCount : last.zeroCount + -1 * first.zeroCount;
  if (isCounter) {
    let prev = first;
    for (let i = lo + 1; i < hi; i++) {
      const cur = hs[i]!;
      if (sameLayoutReset(cur, prev)) {
        addInto(dp, prev.positiveBuckets);
        count += prev.count;
        sum += prev.sum;
        if (!custom) {
          addInto(dn, prev.negativeBuckets);
          zeroCount += prev.zeroCount;
        }
      }
      prev = cur;
    }
  } else if (first.counterResetHint !== CounterResetHint.Gauge || last.counterResetHint !== CounterResetHint.Gauge) {
    ann.add(annotations.nativeHistogramNotGauge(metricName, pos));
  }
  const factor = extrapolationFactor(ts, hs, lo, hi, count, rangeStart, rangeEnd, isCounter, isRate);
  return scaledResult(last, dp, dn, count, sum, zeroCount, factor, false);
}

/**
 * irate/idelta's h1 - h0 (or h1 alone after a reset: h0 null) for two
 * histograms of the same layout, compacted and divided by `divisor` (or
 * multiplied by 1): what sub, compact(0) and div give, in one histogram.
 */
function sameLayoutDiff(h1: FloatHistogram, h0: FloatHistogram | null, divisor: number, divide: boolean): FloatHistogram {
  const np = h1.positiveBuckets.length;
  const nn = h1.negativeBuckets.length;
  if (scratchPos.length < np) scratchPos = new Float64Array(np * 2);
  if (scratchNeg.length < nn) scratchNeg = new Float64Array(nn * 2);
  if (h0 === null) {
    scratchPos.set(h1.positiveBuckets);
    scratchNeg.set(h1.negativeBuckets);
    return scaledResult(h1, scratchPos, scratchNeg, h1.count, h1.sum, h1.zeroCount, divisor, divide);
  }
  const custom = h1.usesCustomBuckets();
  subInto(scratchPos, h1.positiveBuckets, h0.positiveBuckets);
  if (custom) scratchNeg.set(h1.negativeBuckets);
  else subInto(scratchNeg, h1.negativeBuckets, h0.negativeBuckets);
  const zeroCount = custom ? h1.zeroCount : h1.zeroCount + -1 * h0.zeroCount;
  return scaledResult(h1, scratchPos, scratchNeg, h1.count + -1 * h0.count, h1.sum + -1 * h0.sum, zeroCount, divisor, divide);
}

/** A gauge histogram in layout's schema, zero threshold and custom bounds from computed counts, compacted, then scaled (times or divided by `by`). */
function scaledResult(layout: FloatHistogram, dp: Float64Array, dn: Float64Array, count: number, sum: number, zeroCount: number, by: number, divide: boolean): FloatHistogram {
  const p = compactScaled(dp, layout.positiveBuckets.length, layout.positiveSpans, by, divide);
  const n = compactScaled(dn, layout.negativeBuckets.length, layout.negativeSpans, by, divide);
  return ownedFloatHistogram({
    counterResetHint: CounterResetHint.Gauge,
    schema: layout.schema,
    zeroThreshold: layout.zeroThreshold,
    zeroCount: divide ? zeroCount / by : zeroCount * by,
    count: divide ? count / by : count * by,
    sum: divide ? sum / by : sum * by,
    positiveSpans: p.spans,
    positiveBuckets: p.counts,
    negativeSpans: n.spans,
    negativeBuckets: n.counts,
    customValues: layout.customValues,
  });
}

/** cur.detectReset(prev) for two histograms of the same layout (FloatHistogram.sameLayout), without checking that again. */
function sameLayoutReset(cur: FloatHistogram, prev: FloatHistogram): boolean {
  if (cur.counterResetHint === CounterResetHint.CounterReset) return true;
  if (cur.counterResetHint === CounterResetHint.NotCounterReset) return false;
  if (cur.count < prev.count || cur.zeroCount < prev.zeroCount) return true;
  return decreased(cur.positiveBuckets, prev.positiveBuckets) || decreased(cur.negativeBuckets, prev.negativeBuckets);
}

function decreased(cur: Float64Array, prev: Float64Array): boolean {
  for (let k = 0; k < prev.length; k++) if (cur[k]! < prev[k]!) return true;
  return false;
}

function subInto(out: Float64Array, a: Float64Array, b: Float64Array): void {
  for (let k = 0; k < a.length; k++) out[k] = a[k]! + -1 * b[k]!;
}

function addInto(out: Float64Array, a: Float64Array): void {
  for (let k = 0; k < a.length; k++) out[k] = out[k]! + a[k]!;
}

/** compact(0) then mul(by) or div(by) of the first n counts laid out by spans: the non-zero buckets, scaled, with canonical spans. */
function compactScaled(counts: Float64Array, n: number, spans: readonly Span[], by: number, divide: boolean): { spans: readonly Span[]; counts: Float64Array } {
  let kept = 0;
  for (let k = 0; k < n; k++) if (counts[k] !== 0) kept++;
  const out = new Float64Array(kept);
  if (kept === n && canonical(spans)) {
    // Nothing to drop: the (immutable) spans are shared.
    if (divide) for (let k = 0; k < n; k++) out[k] = counts[k]! / by;
    else for (let k = 0; k < n; k++) out[k] = counts[k]! * by;
    return { spans, counts: out };
  }
  const outSpans: Array<{ offset: number; length: number }> = [];
  let k = 0;
  let j = 0;
  let idx = 0;
  let lastIdx = 0;
  for (const s of spans) {
    idx += s.offset;
    for (let e = 0; e < s.length; e++, idx++, k++) {
      const c = counts[k]!;
      if (c === 0) continue;
      out[j++] = divide ? c / by : c * by;
      const open = outSpans[outSpans.length - 1];
      if (open !== undefined && idx === lastIdx + 1) open.length++;
      else outSpans.push({ offset: open === undefined ? idx : idx - lastIdx - 1, length: 1 });
      lastIdx = idx;
    }
  }
  return { spans: outSpans, counts: out };
}

/** No empty spans and none adjacent to the previous one: what compaction leaves. */
function canonical(spans: readonly Span[]): boolean {
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    if (s.length === 0 || (i > 0 && s.offset <= 0)) return false;
  }
  return true;
}

/** extrapolatedRate's scaling of the histogram difference to the whole range (and per second for rate). */
function extrapolate(ts: Float64Array, hs: Histograms, lo: number, hi: number, res: FloatHistogram, rangeStart: number, rangeEnd: number, isCounter: boolean, isRate: boolean): FloatHistogram {
  return res.mul(extrapolationFactor(ts, hs, lo, hi, res.count, rangeStart, rangeEnd, isCounter, isRate));
}

/** The factor extrapolate scales by, from the difference's count. */
function extrapolationFactor(ts: Float64Array, hs: Histograms, lo: number, hi: number, resCount: number, rangeStart: number, rangeEnd: number, isCounter: boolean, isRate: boolean): number {
  const firstT = ts[lo]!;
  const lastT = ts[hi - 1]!;
  let durationToStart = (firstT - rangeStart) / 1000;
  let durationToEnd = (rangeEnd - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const averageInterval = sampledInterval / (hi - lo - 1);
  const threshold = averageInterval * 1.1;
  if (durationToStart >= threshold) durationToStart = averageInterval / 2;
  if (isCounter) {
    let durationToZero = durationToStart;
    const firstCount = hs[lo]!.count;
    if (resCount > 0 && firstCount >= 0) durationToZero = sampledInterval * (firstCount / resCount);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  if (durationToEnd >= threshold) durationToEnd = averageInterval / 2;
  let factor = 1;
  if (sampledInterval !== 0) factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval;
  if (isRate) factor /= (rangeEnd - rangeStart) / 1000;
  return factor;
}

/** Prometheus's interpolateHistograms: the histogram at t between two samples (a counter reset restarts from zero). */
export function interpolateHistograms(h1: FloatHistogram, t1: number, h2: FloatHistogram, t2: number, t: number, isCounter: boolean, ev: EvalContext, pos: PosRange): FloatHistogram {
  if (t === t1) return h1;
  if (t === t2) return h2;
  const fraction = (t - t1) / (t2 - t1);
  if (isCounter && h2.detectReset(h1)) return h2.mul(fraction);
  const d = h2.sub(h1);
  if (d.nhcbBoundsReconciled) ev.q.annotations.add(annotations.mismatchedCustomBuckets('subtraction', pos));
  const r = d.histogram.mul(fraction).add(h1);
  if (r.nhcbBoundsReconciled) ev.q.annotations.add(annotations.mismatchedCustomBuckets('addition', pos));
  return r.histogram;
}

/**
 * rate/increase/delta of an anchored or smoothed window of histograms
 * (Prometheus's extendedHistogramRate): the boundary histograms picked or
 * interpolated, their difference plus the histograms before counter resets.
 */
function extendedHistogramRate(ev: EvalContext, ts: Float64Array, hs: Histograms, lo: number, hi: number, rangeStart: number, rangeEnd: number, isCounter: boolean, isRate: boolean, smoothed: boolean, metricName: string, pos: PosRange): FloatHistogram | null {
  const ann = ev.q.annotations;
  if (hi <= lo) return null;
  let last = hi - 1;
  const first = Math.max(lo, search(ts, lo, last, (x) => x > rangeStart) - 1);
  if (smoothed) last = search(ts, lo, last, (x) => x >= rangeEnd);
  if (ts[last]! <= rangeStart) return null;
  if (smoothed && ts[first]! > rangeEnd) return null;
  const custom = hs[first]!.usesCustomBuckets();
  for (let i = first; i <= last; i++) {
    const h = hs[i]!;
    if (h.usesCustomBuckets() !== custom) {
      ann.add(annotations.mixedExponentialCustomHistograms(metricName, pos));
      return null;
    }
    if (isCounter && h.counterResetHint === CounterResetHint.Gauge) ann.add(annotations.nativeHistogramNotCounter(metricName, pos));
  }
  try {
    const left = smoothed && ts[first]! < rangeStart ? interpolateHistograms(hs[first]!, ts[first]!, hs[first + 1]!, ts[first + 1]!, rangeStart, isCounter, ev, pos) : hs[first]!;
    const right = smoothed && last > lo && ts[last]! > rangeEnd ? interpolateHistograms(hs[last - 1]!, ts[last - 1]!, hs[last]!, ts[last]!, rangeEnd, isCounter, ev, pos) : hs[last]!;
    if (!isCounter && (left.counterResetHint !== CounterResetHint.Gauge || right.counterResetHint !== CounterResetHint.Gauge)) {
      ann.add(annotations.nativeHistogramNotGauge(metricName, pos));
    }
    const d = right.sub(left);
    if (d.nhcbBoundsReconciled) ann.add(annotations.mismatchedCustomBuckets('subtraction', pos));
    let result = d.histogram;
    if (isCounter) {
      let f = first + 1;
      let prev = left;
      if (smoothed && ts[first]! < rangeStart && hs[first + 1]!.detectReset(hs[first]!)) {
        prev = hs[first + 1]!;
        f++;
      }
      const l = last - 1;
      if (f <= l + 1) {
        let correction: FloatHistogram | null = null;
        const addCorrection = (h: FloatHistogram): void => {
          if (correction === null) {
            correction = h;
            return;
          }
          const r = correction.add(h);
          if (r.nhcbBoundsReconciled) ann.add(annotations.mismatchedCustomBuckets('addition', pos));
          correction = r.histogram;
        };
        for (let i = f; i <= l; i++) {
          const p = hs[i]!;
          if (p.detectReset(prev)) addCorrection(prev);
          prev = p;
        }
        if (right.detectReset(prev)) addCorrection(prev);
        if (correction !== null) {
          const r = result.add(correction);
          if (r.nhcbBoundsReconciled) ann.add(annotations.mismatchedCustomBuckets('addition', pos));
          result = r.histogram;
        }
      }
    }
    if (isRate) result = result.div((rangeEnd - rangeStart) / 1000);
    return result.with({ counterResetHint: CounterResetHint.Gauge }).compact(0);
  } catch (err) {
    if (!isIncompatible(err)) throw err;
    ann.add(annotations.mixedExponentialCustomHistograms(metricName, pos));
    return null;
  }
}

/** changes() or resets() over samples in time order, floats and histograms mixed: a change of kind counts as a change (and a reset). */
function changesOrResets(resets: boolean): (ts: Float64Array, vs: Float64Array, hs: Histograms, lo: number, hi: number, sts?: Float64Array | null) => number {
  return (ts, vs, hs, lo, hi, sts = null) => {
    let n = 0;
    for (let i = lo + 1; i < hi; i++) {
      const ph = hs[i - 1];
      const ch = hs[i];
      // resets(): an ST reset between two samples of one kind counts too.
      const stReset = sts !== null && isStartTimestampReset(sts[i - 1]!, ts[i - 1]!, sts[i]!, ts[i]!);
      if (ph === undefined && ch === undefined) {
        const p = vs[i - 1]!;
        const c = vs[i]!;
        if (resets ? c < p || stReset : c !== p && !(c !== c && p !== p)) n++;
      } else if (ph === undefined || ch === undefined) {
        n++;
      } else if (resets ? stReset || ch.detectReset(ph) : !ch.equals(ph)) {
        n++;
      }
    }
    return n;
  };
}
