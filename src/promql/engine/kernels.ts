// Numeric kernels of PromQL's functions over range vectors (rate, increase,
// *_over_time, deriv, predict_linear, ...): functions over one window of
// float samples. Go's math is in go_math.ts, the date functions in dates.ts,
// compensated sums in kahan.ts and quantiles in quantile.ts.
//
// A window is ts[lo..hi) (ascending timestamps in ms) and vs[lo..hi) of the
// caller's Float64Arrays, with 0 <= lo <= hi <= their length; staleness
// markers have already been removed. Reads inside the window (checked
// non-empty where needed) are asserted with `!`, each loop saying so once.
// The kernels never allocate per sample: those that reorder values copy them
// into a Scratch the caller keeps for one evaluation, and predict_linear's
// intercept goes into a LinearFit the caller passes.
//
// Every kernel reproduces Prometheus 3.x (promql/functions.go, quantile.go,
// engine.go) down to the order of floating-point operations, because users
// compare our answers with Prometheus's bit for bit (e.g. `x == 3`).
//
// Prometheus emits no output sample for an empty window, so callers skip
// those; for robustness the kernels answer an empty window with null (where
// the signature allows it) or NaN (count_over_time: 0).
import { formatF } from '../../gofmt/float.js';
import { kahanCompensation } from './kahan.js';
import { quantile, type Scratch } from './quantile.js';

/** Go's time.Duration.Seconds() for a duration given in ms (whole seconds plus the remainder). */
export function durationSeconds(ms: number): number {
  const sec = Math.trunc(ms / 1000);
  const nsec = (ms - sec * 1000) * 1e6;
  return sec + nsec / 1e9;
}

// ---------------------------------------------------------------------------
// rate, increase, delta, irate, idelta

/**
 * rate (isCounter, isRate), increase (isCounter, !isRate) and delta
 * (!isCounter, !isRate) over the samples of the left-open range
 * (rangeStartMs, rangeEndMs]. Counter resets add the value before the reset.
 * The result is extrapolated towards the range boundaries, but only up to
 * half an average sample interval when the gap to a boundary exceeds 1.1
 * average intervals, and a counter is never extrapolated below zero.
 * Null with fewer than two samples.
 */
export function extrapolatedRate(
  ts: Float64Array,
  vs: Float64Array,
  lo: number,
  hi: number,
  rangeStartMs: number,
  rangeEndMs: number,
  isCounter: boolean,
  isRate: boolean,
  noResets = false,
): number | null {
  return hi - lo < 2 ? null : extrapolatedRateOf(ts, vs, lo, hi, rangeStartMs, rangeEndMs, isCounter, isRate, noResets);
}

/** extrapolatedRate of a window of at least two samples (hi - lo >= 2). */
export function extrapolatedRateOf(
  ts: Float64Array,
  vs: Float64Array,
  lo: number,
  hi: number,
  rangeStartMs: number,
  rangeEndMs: number,
  isCounter: boolean,
  isRate: boolean,
  noResets: boolean,
): number {
  const n = hi - lo;
  // lo and hi - 1 lie in the window of at least two samples.
  const firstT = ts[lo]!;
  const lastT = ts[hi - 1]!;
  const firstV = vs[lo]!;
  let result = vs[hi - 1]! - firstV;
  // Without a reset in the window the loop below would add nothing.
  if (isCounter && !noResets) {
    let prev = firstV;
    // lo < i < hi: inside the window.
    for (let i = lo + 1; i < hi; i++) {
      const cur = vs[i]!;
      if (cur < prev) result += prev;
      prev = cur;
    }
  }

  let durationToStart = (firstT - rangeStartMs) / 1000;
  let durationToEnd = (rangeEndMs - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const averageInterval = sampledInterval / (n - 1);
  // Prometheus's rule: a gap of up to 10% more than the average interval
  // still counts as "the series covers the range up to the boundary".
  const extrapolationThreshold = averageInterval * 1.1;

  return extrapolate(result, clampStart(durationToStart, extrapolationThreshold, averageInterval, sampledInterval, result, firstV, isCounter), durationToEnd, sampledInterval, averageInterval, isRate, rangeEndMs - rangeStartMs);
}

/**
 * The left extrapolation of a rate window: half an interval past a gap, and
 * for counters never below zero (the first value over the window's slope).
 */
export function clampStart(durationToStart: number, threshold: number, averageInterval: number, sampledInterval: number, result: number, firstV: number, isCounter: boolean): number {
  if (durationToStart >= threshold) durationToStart = averageInterval / 2;
  if (isCounter) {
    let durationToZero = durationToStart;
    if (result > 0 && firstV >= 0) durationToZero = sampledInterval * (firstV / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  return durationToStart;
}

/** Scales a window's increase to the whole range (and to per second for rate), with the right edge clamped as the left. */
export function extrapolate(result: number, durationToStart: number, durationToEnd: number, sampledInterval: number, averageInterval: number, isRate: boolean, rangeMs: number): number {
  if (durationToEnd >= averageInterval * 1.1) durationToEnd = averageInterval / 2;
  let factor = 1;
  if (sampledInterval !== 0) factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval;
  if (isRate) factor /= durationSeconds(rangeMs);
  return result * factor;
}

/**
 * Finds counter resets (a value below the one before it) for windows that move
 * forward over one series, each sample looked at once: rate() over
 * overlapping windows then skips the per-window reset scan where there is
 * none, the common case. begin() starts a series.
 */
export class ResetTracker {
  /** Samples below this index were looked at. */
  private scanned = 0;
  /** The last reset index below `scanned` (i: vs[i] < vs[i - 1]), -1 for none. */
  private last = -1;

  begin(): void {
    this.scanned = 0;
    this.last = -1;
  }

  /** True when vs[lo..hi) has no reset; lo and hi never decrease between begin() calls. */
  noneIn(vs: Float64Array, lo: number, hi: number): boolean {
    // lo + 1 <= i < hi <= vs.length: both i and i - 1 lie in the window.
    for (let i = Math.max(this.scanned, lo + 1); i < hi; i++) if (vs[i]! < vs[i - 1]!) this.last = i;
    if (hi > this.scanned) this.scanned = hi;
    return this.last <= lo;
  }
}

/**
 * irate (isRate) and idelta (!isRate) from the last two samples. irate of a
 * counter reset takes the later value as the increase. Null with fewer than
 * two samples or when the last two share a timestamp.
 */
export function instantDelta(ts: Float64Array, vs: Float64Array, lo: number, hi: number, isRate: boolean): number | null {
  return hasInstantDelta(ts, lo, hi) ? instantDeltaOf(ts, vs, hi, isRate) : null;
}

/** Whether the window [lo, hi) has an instant delta: two samples or more, the last two at different times. */
export function hasInstantDelta(ts: Float64Array, lo: number, hi: number): boolean {
  // hi - 2 >= lo once the first test passes: both samples lie in the window.
  return hi - lo >= 2 && ts[hi - 1] !== ts[hi - 2];
}

/** instantDelta of a window whose last two samples (at hi - 2 and hi - 1) are in it, at different times. */
export function instantDeltaOf(ts: Float64Array, vs: Float64Array, hi: number, isRate: boolean): number {
  const interval = ts[hi - 1]! - ts[hi - 2]!;
  const v0 = vs[hi - 2]!;
  const v1 = vs[hi - 1]!;
  let result = v1;
  if (!isRate || !(v1 < v0)) result = v1 - v0;
  if (isRate) result /= interval / 1000;
  return result;
}

// ---------------------------------------------------------------------------
// <aggregation>_over_time

export function sumOverTime(_ts: Float64Array, vs: Float64Array, lo: number, hi: number): number {
  if (hi <= lo) return NaN;
  let sum = 0;
  let c = 0;
  // lo <= i < hi: inside the window.
  for (let i = lo; i < hi; i++) {
    const x = vs[i]!;
    c = kahanCompensation(x, sum, c);
    sum += x;
  }
  if (sum === Infinity || sum === -Infinity) return sum;
  return sum + c;
}

export function avgOverTime(_ts: Float64Array, vs: Float64Array, lo: number, hi: number): number {
  if (hi <= lo) return NaN;
  let sum = vs[lo]!;
  let c = 0;
  let mean = 0;
  let incremental = false;
  let count = 1;
  // lo < i < hi: inside the window.
  for (let i = lo + 1; i < hi; i++) {
    const x = vs[i]!;
    count = i - lo + 1;
    if (!incremental) {
      const s = sum + x;
      if (s !== Infinity && s !== -Infinity) {
        c = kahanCompensation(x, sum, c);
        sum = s;
        continue;
      }
      incremental = true;
      mean = sum / (count - 1);
      c /= count - 1;
    }
    const q = (count - 1) / count;
    const inc = x / count;
    const base = q * mean;
    c = kahanCompensation(inc, base, q * c);
    mean = base + inc;
  }
  if (incremental) return mean + c;
  return sum / count + c / count;
}

/** min_over_time: NaN only when all values are NaN. */
export function minOverTime(_ts: Float64Array, vs: Float64Array, lo: number, hi: number): number {
  if (hi <= lo) return NaN;
  let m = vs[lo]!;
  // lo <= i < hi: inside the window.
  for (let i = lo; i < hi; i++) {
    const v = vs[i]!;
    if (v < m || m !== m) m = v;
  }
  return m;
}

/** max_over_time: NaN only when all values are NaN. */
export function maxOverTime(_ts: Float64Array, vs: Float64Array, lo: number, hi: number): number {
  if (hi <= lo) return NaN;
  let m = vs[lo]!;
  // lo <= i < hi: inside the window.
  for (let i = lo; i < hi; i++) {
    const v = vs[i]!;
    if (v > m || m !== m) m = v;
  }
  return m;
}

/** Timestamp (s) of the last sample holding the minimum value. */
export function tsOfMinOverTime(ts: Float64Array, vs: Float64Array, lo: number, hi: number): number {
  if (hi <= lo) return NaN;
  let m = vs[lo]!;
  let t = ts[lo]!;
  // lo <= i < hi: inside the window.
  for (let i = lo; i < hi; i++) {
    const v = vs[i]!;
    if (v <= m || m !== m) {
      m = v;
      t = ts[i]!;
    }
  }
  return t / 1000;
}

/** Timestamp (s) of the last sample holding the maximum value. */
export function tsOfMaxOverTime(ts: Float64Array, vs: Float64Array, lo: number, hi: number): number {
  if (hi <= lo) return NaN;
  let m = vs[lo]!;
  let t = ts[lo]!;
  // lo <= i < hi: inside the window.
  for (let i = lo; i < hi; i++) {
    const v = vs[i]!;
    if (v >= m || m !== m) {
      m = v;
      t = ts[i]!;
    }
  }
  return t / 1000;
}

export function countOverTime(_ts: Float64Array, _vs: Float64Array, lo: number, hi: number): number {
  return hi > lo ? hi - lo : 0;
}

export function lastOverTime(_ts: Float64Array, vs: Float64Array, lo: number, hi: number): number {
  return hi > lo ? vs[hi - 1]! : NaN;
}

export function firstOverTime(_ts: Float64Array, vs: Float64Array, lo: number, hi: number): number {
  return hi > lo ? vs[lo]! : NaN;
}

export function tsOfLastOverTime(ts: Float64Array, _vs: Float64Array, lo: number, hi: number): number {
  return hi > lo ? ts[hi - 1]! / 1000 : NaN;
}

export function tsOfFirstOverTime(ts: Float64Array, _vs: Float64Array, lo: number, hi: number): number {
  return hi > lo ? ts[lo]! / 1000 : NaN;
}

/** Population variance with Kahan-compensated Welford steps, as stdvar_over_time. */
export function stdvarOverTime(_ts: Float64Array, vs: Float64Array, lo: number, hi: number): number {
  if (hi <= lo) return NaN;
  let count = 0;
  let mean = 0;
  let cMean = 0;
  let aux = 0;
  let cAux = 0;
  // lo <= i < hi: inside the window.
  for (let i = lo; i < hi; i++) {
    const x = vs[i]!;
    count++;
    const delta = x - (mean + cMean);
    const meanInc = delta / count;
    cMean = kahanCompensation(meanInc, mean, cMean);
    mean += meanInc;
    const auxInc = delta * (x - (mean + cMean));
    cAux = kahanCompensation(auxInc, aux, cAux);
    aux += auxInc;
  }
  return (aux + cAux) / count;
}

export function stddevOverTime(ts: Float64Array, vs: Float64Array, lo: number, hi: number): number {
  return Math.sqrt(stdvarOverTime(ts, vs, lo, hi));
}

/** Median absolute deviation; NaN as soon as any value is NaN. */
export function madOverTime(_ts: Float64Array, vs: Float64Array, lo: number, hi: number, scratch: Scratch): number {
  const n = hi - lo;
  if (n <= 0) return NaN;
  const buf = scratch.get(n);
  // i < n = hi - lo <= buf.length: lo + i is inside the window, i inside buf.
  for (let i = 0; i < n; i++) {
    const v = vs[lo + i]!;
    if (v !== v) return NaN;
    buf[i] = v;
  }
  const median = quantile(0.5, buf, n);
  // i < n <= buf.length.
  for (let i = 0; i < n; i++) buf[i] = Math.abs(buf[i]! - median);
  return quantile(0.5, buf, n);
}

/** Number of value changes; two NaNs in a row are no change. */
export function changes(_ts: Float64Array, vs: Float64Array, lo: number, hi: number): number {
  if (hi <= lo) return NaN;
  let count = 0;
  let prev = vs[lo]!;
  // lo < i < hi: inside the window.
  for (let i = lo + 1; i < hi; i++) {
    const cur = vs[i]!;
    if (cur !== prev && !(cur !== cur && prev !== prev)) count++;
    prev = cur;
  }
  return count;
}

/** Number of counter resets (a value lower than the one before). */
export function resets(_ts: Float64Array, vs: Float64Array, lo: number, hi: number): number {
  if (hi <= lo) return NaN;
  let count = 0;
  let prev = vs[lo]!;
  // lo < i < hi: inside the window.
  for (let i = lo + 1; i < hi; i++) {
    const cur = vs[i]!;
    if (cur < prev) count++;
    prev = cur;
  }
  return count;
}

/** quantile_over_time; NaN for an empty window or NaN q, ±Inf for q outside [0, 1]. */
export function quantileOverTime(q: number, _ts: Float64Array, vs: Float64Array, lo: number, hi: number, scratch: Scratch): number {
  const n = hi - lo;
  if (n <= 0) return NaN;
  const buf = scratch.get(n);
  buf.set(vs.subarray(lo, hi));
  return quantile(q, buf, n);
}

// ---------------------------------------------------------------------------
// deriv, predict_linear, double_exponential_smoothing

/** Where linearRegression leaves the intercept: one per evaluation, reused for every window. */
export class LinearFit {
  intercept = 0;
}

/**
 * Least-squares fit of the window (at least one sample) with x in seconds
 * relative to interceptTimeMs; returns the slope and, with `fit`, leaves the
 * intercept there. A constant series has slope 0 (NaN if the constant is
 * infinite).
 */
function linearRegression(ts: Float64Array, vs: Float64Array, lo: number, hi: number, interceptTimeMs: number, fit: LinearFit | null): number {
  let n = 0;
  let sumX = 0, cX = 0;
  let sumY = 0, cY = 0;
  let sumXY = 0, cXY = 0;
  let sumX2 = 0, cX2 = 0;
  const initY = vs[lo]!;
  let constY = true;
  // lo <= i < hi: inside the window.
  for (let i = lo; i < hi; i++) {
    const y = vs[i]!;
    if (constY && i > lo && y !== initY) constY = false;
    n += 1;
    const x = (ts[i]! - interceptTimeMs) / 1e3;
    cX = kahanCompensation(x, sumX, cX);
    sumX += x;
    cY = kahanCompensation(y, sumY, cY);
    sumY += y;
    const xy = x * y;
    cXY = kahanCompensation(xy, sumXY, cXY);
    sumXY += xy;
    const x2 = x * x;
    cX2 = kahanCompensation(x2, sumX2, cX2);
    sumX2 += x2;
  }
  if (constY) {
    if (initY === Infinity || initY === -Infinity) {
      if (fit !== null) fit.intercept = NaN;
      return NaN;
    }
    if (fit !== null) fit.intercept = initY;
    return 0;
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  if (fit !== null) fit.intercept = sumY / n - (slope * sumX) / n;
  return slope;
}

/** deriv: per-second slope of the least-squares line; null with fewer than two samples. */
export function deriv(ts: Float64Array, vs: Float64Array, lo: number, hi: number): number | null {
  if (hi - lo < 2) return null;
  return linearRegression(ts, vs, lo, hi, ts[lo]!, null);
}

/**
 * predict_linear: value of the least-squares line (anchored at the evaluation
 * time evalTMs) durationSec seconds after it; null with fewer than two
 * samples. `fit` is the caller's, reused for every window.
 */
export function predictLinear(
  ts: Float64Array,
  vs: Float64Array,
  lo: number,
  hi: number,
  evalTMs: number,
  durationSec: number,
  fit: LinearFit,
): number | null {
  if (hi - lo < 2) return null;
  const slope = linearRegression(ts, vs, lo, hi, evalTMs, fit);
  return slope * durationSec + fit.intercept;
}

/**
 * double_exponential_smoothing (Holt's linear method) with smoothing factor sf
 * and trend factor tf, both validated by the caller (see smoothingFactorError).
 * Null with fewer than two samples.
 */
export function doubleExponentialSmoothing(vs: Float64Array, lo: number, hi: number, sf: number, tf: number): number | null {
  if (hi - lo < 2) return null;
  let s0 = 0;
  // hi - lo >= 2: lo and lo + 1 lie in the window, as every i below.
  let s1 = vs[lo]!;
  let b = vs[lo + 1]! - vs[lo]!;
  for (let i = lo + 1; i < hi; i++) {
    const x = sf * vs[i]!;
    // The first step keeps the initial trend; later ones blend in the new slope.
    if (i > lo + 1) b = tf * (s1 - s0) + (1 - tf) * b;
    const y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return s1;
}

/**
 * Prometheus's error text for out-of-range smoothing or trend factors
 * (checked in that order), or null when both lie in (0, 1).
 */
export function smoothingFactorError(sf: number, tf: number): string | null {
  if (!(sf > 0 && sf < 1)) return `invalid smoothing factor. Expected: 0 < sf < 1, got: ${formatF(sf, 6)}`;
  if (!(tf > 0 && tf < 1)) return `invalid trend factor. Expected: 0 < tf < 1, got: ${formatF(tf, 6)}`;
  return null;
}

