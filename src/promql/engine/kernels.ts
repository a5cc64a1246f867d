// Numeric kernels of PromQL: pure functions over one window of float samples.
//
// A window is ts[lo..hi) (ascending timestamps in ms) and vs[lo..hi) of the
// caller's Float64Arrays; staleness markers have already been removed. The
// kernels never allocate per sample: functions that must reorder values copy
// them into module-level scratch arrays that grow on demand and are reused.
//
// Every kernel reproduces Prometheus 3.x (promql/functions.go, quantile.go,
// engine.go) down to the order of floating-point operations, because users
// compare our answers with Prometheus's bit for bit (e.g. `x == 3`).
//
// Prometheus emits no output sample for an empty window, so callers skip
// those; for robustness the kernels answer an empty window with null (where
// the signature allows it) or NaN (count_over_time: 0).
import { formatF } from '../../gofmt/float.js';

// ---------------------------------------------------------------------------
// Kahan summation

/**
 * One step of Neumaier's improved Kahan summation, as Prometheus's
 * util/kahansum.Inc: returns the new sum and leaves the new compensation in
 * `kahanC` (module state, read it right after the call). The compensation is
 * reset to 0 once the sum overflows, so an infinite sum stays infinite.
 */
export function kahanSumInc(inc: number, sum: number, c: number): number {
  const t = sum + inc;
  if (t === Infinity || t === -Infinity) {
    kahanC = 0;
  } else if (Math.abs(sum) >= Math.abs(inc)) {
    kahanC = c + ((sum - t) + inc);
  } else {
    kahanC = c + ((inc - t) + sum);
  }
  return t;
}

/** Compensation left by the last kahanSumInc call. */
export let kahanC = 0;

/** Compensated running sum (Prometheus's `sum` aggregation and sum_over_time). */
export class KahanSum {
  private sum = 0;
  private c = 0;

  add(x: number): void {
    this.sum = kahanSumInc(x, this.sum, this.c);
    this.c = kahanC;
  }

  /** The compensated sum; an overflowed sum is returned as is. */
  value(): number {
    if (this.sum === Infinity || this.sum === -Infinity) return this.sum;
    return this.sum + this.c;
  }

  reset(): void {
    this.sum = 0;
    this.c = 0;
  }
}

/**
 * Arithmetic mean as Prometheus's `avg` aggregation and avg_over_time compute
 * it: a Kahan-compensated sum divided by the count at the end, switching to an
 * incremental (rescaled) mean only once the plain sum would overflow.
 */
export class MeanAccumulator {
  private count = 0;
  private sum = 0;
  private c = 0;
  private mean = 0;
  private incremental = false;

  add(x: number): void {
    if (this.count === 0) {
      this.count = 1;
      this.sum = x;
      this.c = 0;
      this.mean = 0;
      this.incremental = false;
      return;
    }
    const count = ++this.count;
    if (!this.incremental) {
      const s = kahanSumInc(x, this.sum, this.c);
      if (s !== Infinity && s !== -Infinity) {
        this.sum = s;
        this.c = kahanC;
        return;
      }
      this.incremental = true;
      this.mean = this.sum / (count - 1);
      this.c /= count - 1;
    }
    const q = (count - 1) / count;
    this.mean = kahanSumInc(x / count, q * this.mean, q * this.c);
    this.c = kahanC;
  }

  /** Number of values added since the last reset. */
  size(): number {
    return this.count;
  }

  /** The mean; NaN when nothing was added. */
  value(): number {
    if (this.count === 0) return NaN;
    if (this.incremental) return this.mean + this.c;
    return this.sum / this.count + this.c / this.count;
  }

  reset(): void {
    this.count = 0;
    this.sum = 0;
    this.c = 0;
    this.mean = 0;
    this.incremental = false;
  }
}

/**
 * Population variance as Prometheus's `stddev`/`stdvar` aggregations compute
 * it: Welford's algorithm without compensation, where a first value that is
 * NaN or infinite makes the result NaN.
 */
export class VarianceAccumulator {
  private count = 0;
  private mean = 0;
  private m2 = 0;

  add(x: number): void {
    if (this.count === 0) {
      this.count = 1;
      this.mean = x;
      this.m2 = Number.isFinite(x) ? 0 : NaN;
      return;
    }
    const count = ++this.count;
    const delta = x - this.mean;
    this.mean += delta / count;
    this.m2 += delta * (x - this.mean);
  }

  size(): number {
    return this.count;
  }

  /** Population variance; NaN when nothing was added. */
  variance(): number {
    if (this.count === 0) return NaN;
    return this.m2 / this.count;
  }

  stddev(): number {
    return Math.sqrt(this.variance());
  }

  reset(): void {
    this.count = 0;
    this.mean = 0;
    this.m2 = 0;
  }
}

// ---------------------------------------------------------------------------
// Scratch buffers

// Start small: windows are usually a few dozen samples. The buffer grows
// (doubling) up to MAX_RETAINED_SCRATCH values and stays for reuse; a larger
// window gets a temporary array, so one huge query cannot pin memory forever.
const INITIAL_SCRATCH = 256;
// 64Ki values = 512 KiB: covers a 1-day window at 1.3s resolution.
const MAX_RETAINED_SCRATCH = 65536;
let scratch = new Float64Array(INITIAL_SCRATCH);

function scratchFor(n: number): Float64Array {
  if (n > MAX_RETAINED_SCRATCH) return new Float64Array(n);
  if (scratch.length < n) scratch = new Float64Array(grownSize(scratch.length, n));
  return scratch;
}

function grownSize(cur: number, need: number): number {
  let size = cur;
  while (size < need) size *= 2;
  return size;
}

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
): number | null {
  const n = hi - lo;
  if (n < 2) return null;
  const firstT = ts[lo]!;
  const lastT = ts[hi - 1]!;
  const firstV = vs[lo]!;
  let result = vs[hi - 1]! - firstV;
  if (isCounter) {
    let prev = firstV;
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

  if (durationToStart >= extrapolationThreshold) durationToStart = averageInterval / 2;
  if (isCounter) {
    let durationToZero = durationToStart;
    if (result > 0 && firstV >= 0) durationToZero = sampledInterval * (firstV / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  if (durationToEnd >= extrapolationThreshold) durationToEnd = averageInterval / 2;

  let factor = 1;
  if (sampledInterval !== 0) factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval;
  if (isRate) factor /= durationSeconds(rangeEndMs - rangeStartMs);
  return result * factor;
}

/**
 * irate (isRate) and idelta (!isRate) from the last two samples. irate of a
 * counter reset takes the later value as the increase. Null with fewer than
 * two samples or when the last two share a timestamp.
 */
export function instantDelta(ts: Float64Array, vs: Float64Array, lo: number, hi: number, isRate: boolean): number | null {
  if (hi - lo < 2) return null;
  const t0 = ts[hi - 2]!;
  const t1 = ts[hi - 1]!;
  const interval = t1 - t0;
  if (interval === 0) return null;
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
  for (let i = lo; i < hi; i++) {
    sum = kahanSumInc(vs[i]!, sum, c);
    c = kahanC;
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
  for (let i = lo + 1; i < hi; i++) {
    const x = vs[i]!;
    count = i - lo + 1;
    if (!incremental) {
      const s = kahanSumInc(x, sum, c);
      if (s !== Infinity && s !== -Infinity) {
        sum = s;
        c = kahanC;
        continue;
      }
      incremental = true;
      mean = sum / (count - 1);
      c /= count - 1;
    }
    const q = (count - 1) / count;
    mean = kahanSumInc(x / count, q * mean, q * c);
    c = kahanC;
  }
  if (incremental) return mean + c;
  return sum / count + c / count;
}

/** min_over_time: NaN only when all values are NaN. */
export function minOverTime(_ts: Float64Array, vs: Float64Array, lo: number, hi: number): number {
  if (hi <= lo) return NaN;
  let m = vs[lo]!;
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
  for (let i = lo; i < hi; i++) {
    const x = vs[i]!;
    count++;
    const delta = x - (mean + cMean);
    mean = kahanSumInc(delta / count, mean, cMean);
    cMean = kahanC;
    aux = kahanSumInc(delta * (x - (mean + cMean)), aux, cAux);
    cAux = kahanC;
  }
  return (aux + cAux) / count;
}

export function stddevOverTime(ts: Float64Array, vs: Float64Array, lo: number, hi: number): number {
  return Math.sqrt(stdvarOverTime(ts, vs, lo, hi));
}

/** Median absolute deviation; NaN as soon as any value is NaN. */
export function madOverTime(_ts: Float64Array, vs: Float64Array, lo: number, hi: number): number {
  const n = hi - lo;
  if (n <= 0) return NaN;
  const buf = scratchFor(n);
  for (let i = 0; i < n; i++) {
    const v = vs[lo + i]!;
    if (v !== v) return NaN;
    buf[i] = v;
  }
  const median = quantile(0.5, buf, n);
  for (let i = 0; i < n; i++) buf[i] = Math.abs(buf[i]! - median);
  return quantile(0.5, buf, n);
}

/** Number of value changes; two NaNs in a row are no change. */
export function changes(_ts: Float64Array, vs: Float64Array, lo: number, hi: number): number {
  if (hi <= lo) return NaN;
  let count = 0;
  let prev = vs[lo]!;
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
  for (let i = lo + 1; i < hi; i++) {
    const cur = vs[i]!;
    if (cur < prev) count++;
    prev = cur;
  }
  return count;
}

/** quantile_over_time; NaN for an empty window or NaN q, ±Inf for q outside [0, 1]. */
export function quantileOverTime(q: number, _ts: Float64Array, vs: Float64Array, lo: number, hi: number): number {
  const n = hi - lo;
  if (n <= 0) return NaN;
  const buf = scratchFor(n);
  buf.set(vs.subarray(lo, hi));
  return quantile(q, buf, n);
}

// ---------------------------------------------------------------------------
// deriv, predict_linear, double_exponential_smoothing

let regressionIntercept = 0;

/**
 * Least-squares fit of the window with x in seconds relative to
 * interceptTimeMs; returns the slope and leaves the intercept in
 * regressionIntercept. A constant series has slope 0 (NaN if the constant
 * is infinite).
 */
function linearRegression(ts: Float64Array, vs: Float64Array, lo: number, hi: number, interceptTimeMs: number): number {
  let n = 0;
  let sumX = 0, cX = 0;
  let sumY = 0, cY = 0;
  let sumXY = 0, cXY = 0;
  let sumX2 = 0, cX2 = 0;
  const initY = vs[lo]!;
  let constY = true;
  for (let i = lo; i < hi; i++) {
    const y = vs[i]!;
    if (constY && i > lo && y !== initY) constY = false;
    n += 1;
    const x = (ts[i]! - interceptTimeMs) / 1e3;
    sumX = kahanSumInc(x, sumX, cX);
    cX = kahanC;
    sumY = kahanSumInc(y, sumY, cY);
    cY = kahanC;
    sumXY = kahanSumInc(x * y, sumXY, cXY);
    cXY = kahanC;
    sumX2 = kahanSumInc(x * x, sumX2, cX2);
    cX2 = kahanC;
  }
  if (constY) {
    if (initY === Infinity || initY === -Infinity) {
      regressionIntercept = NaN;
      return NaN;
    }
    regressionIntercept = initY;
    return 0;
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  regressionIntercept = sumY / n - (slope * sumX) / n;
  return slope;
}

/** deriv: per-second slope of the least-squares line; null with fewer than two samples. */
export function deriv(ts: Float64Array, vs: Float64Array, lo: number, hi: number): number | null {
  if (hi - lo < 2) return null;
  return linearRegression(ts, vs, lo, hi, ts[lo]!);
}

/**
 * predict_linear: value of the least-squares line (anchored at the evaluation
 * time evalTMs) durationSec seconds after it; null with fewer than two samples.
 */
export function predictLinear(
  ts: Float64Array,
  vs: Float64Array,
  lo: number,
  hi: number,
  evalTMs: number,
  durationSec: number,
): number | null {
  if (hi - lo < 2) return null;
  const slope = linearRegression(ts, vs, lo, hi, evalTMs);
  return slope * durationSec + regressionIntercept;
}

/**
 * double_exponential_smoothing (Holt's linear method) with smoothing factor sf
 * and trend factor tf, both validated by the caller (see smoothingFactorError).
 * Null with fewer than two samples.
 */
export function doubleExponentialSmoothing(vs: Float64Array, lo: number, hi: number, sf: number, tf: number): number | null {
  if (hi - lo < 2) return null;
  let s0 = 0;
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

// ---------------------------------------------------------------------------
// quantile

/**
 * Moves NaNs to the front of values[0..n) and sorts the rest ascending, which
 * is the order Prometheus's quantile sort produces (NaN sorts first).
 */
function sortNaNFirst(values: Float64Array, n: number): void {
  let nans = 0;
  for (let i = 0; i < n; i++) if (values[i] !== values[i]) nans++;
  if (nans > 0) {
    let w = n - 1;
    for (let i = n - 1; i >= 0; i--) {
      const v = values[i]!;
      if (v === v) values[w--] = v;
    }
    for (let i = 0; i < nans; i++) values[i] = NaN;
  }
  if (n - nans > 1) values.subarray(nans, n).sort();
}

/**
 * Prometheus's quantile over values[0..n), which it sorts in place: NaN for
 * n = 0 or a NaN q, -Inf for q < 0, +Inf for q > 1, otherwise linear
 * interpolation between the two closest ranks.
 */
export function quantile(q: number, values: Float64Array, n: number): number {
  if (n <= 0 || q !== q) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  sortNaNFirst(values, n);
  const rank = q * (n - 1);
  const lowerIndex = Math.max(0, Math.floor(rank));
  const upperIndex = Math.min(n - 1, lowerIndex + 1);
  const weight = rank - Math.floor(rank);
  return values[lowerIndex]! * (1 - weight) + values[upperIndex]! * weight;
}

// ---------------------------------------------------------------------------
// Classic histogram buckets

/**
 * Relative difference between neighbouring cumulative bucket counts that
 * histogram_quantile treats as floating-point noise rather than a real
 * decrease (Prometheus's smallDeltaTolerance): one observation in 1e12 is
 * below anything a real workload distinguishes, while sharded sums produce
 * errors of this order.
 */
export const SMALL_DELTA_TOLERANCE = 1e-12;

/** Smallest positive normal float64, the floor of the relative comparison below. */
const MIN_NORMAL = 2.2250738585072014e-308;

/** Prometheus's almost.Equal for values that are never stale markers. */
function almostEqual(a: number, b: number, epsilon: number): boolean {
  if (a !== a && b !== b) return true;
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < MIN_NORMAL) return diff < epsilon * MIN_NORMAL;
  return diff / Math.min(absSum, Number.MAX_VALUE) < epsilon;
}

// Reused like the window scratch above; a histogram with more buckets than
// MAX_RETAINED_BUCKETS gets temporary arrays.
const MAX_RETAINED_BUCKETS = 4096;
let retainedBounds = new Float64Array(64);
let retainedCounts = new Float64Array(64);
// The arrays the last sortAndCoalesce call filled.
let bucketBounds = retainedBounds;
let bucketCounts = retainedCounts;

/**
 * Up to this many buckets an insertion sort is fastest (classic histograms
 * have a few dozen buckets, usually in order already); beyond it, a
 * comparison sort of indices avoids quadratic time.
 */
const INSERTION_SORT_MAX = 64;

/**
 * Copies the buckets into the scratch arrays sorted by upper bound and merges
 * buckets with equal bounds; returns how many remain. The caller's arrays are
 * left untouched.
 */
function sortAndCoalesce(upperBounds: Float64Array, counts: Float64Array, n: number): number {
  if (n > MAX_RETAINED_BUCKETS) {
    bucketBounds = new Float64Array(n);
    bucketCounts = new Float64Array(n);
  } else {
    if (retainedBounds.length < n) {
      retainedBounds = new Float64Array(grownSize(retainedBounds.length, n));
      retainedCounts = new Float64Array(retainedBounds.length);
    }
    bucketBounds = retainedBounds;
    bucketCounts = retainedCounts;
  }
  const ub = bucketBounds;
  const cs = bucketCounts;
  if (n <= INSERTION_SORT_MAX) {
    for (let i = 0; i < n; i++) {
      const b = upperBounds[i]!;
      const c = counts[i]!;
      let j = i - 1;
      while (j >= 0 && ub[j]! > b) {
        ub[j + 1] = ub[j]!;
        cs[j + 1] = cs[j]!;
        j--;
      }
      ub[j + 1] = b;
      cs[j + 1] = c;
    }
  } else {
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => upperBounds[a]! - upperBounds[b]!);
    for (let i = 0; i < n; i++) {
      ub[i] = upperBounds[order[i]!]!;
      cs[i] = counts[order[i]!]!;
    }
  }
  let w = 0;
  for (let i = 1; i < n; i++) {
    if (ub[i] === ub[w]) {
      cs[w] = cs[w]! + cs[i]!;
    } else {
      w++;
      ub[w] = ub[i]!;
      cs[w] = cs[i]!;
    }
  }
  return n > 0 ? w + 1 : 0;
}

export interface BucketQuantileResult {
  value: number;
  /** Counts decreased with rising bound and were flattened (info annotation). */
  forcedMonotonicity: boolean;
  /** Tiny relative differences were treated as floating-point noise (silent). */
  fixedPrecision: boolean;
  /** Lowest and highest upper bound where monotonicity was forced (+Inf/-Inf when not forced). */
  minBucket: number;
  maxBucket: number;
  /** Largest count decrease that was flattened (0 when not forced). */
  maxDiff: number;
}

/**
 * histogram_quantile over classic buckets given as parallel arrays of upper
 * bounds and cumulative counts, in any order. NaN for a NaN q, -Inf for q < 0,
 * +Inf for q > 1; NaN without a +Inf bucket, with fewer than two distinct
 * bounds or with no observations. Ranks falling into the +Inf bucket answer
 * the second-highest bound; the lowest bucket interpolates from 0 unless its
 * bound is <= 0, in which case that bound is the answer.
 */
export function bucketQuantile(q: number, upperBounds: Float64Array, counts: Float64Array, n: number): BucketQuantileResult {
  const res: BucketQuantileResult = {
    value: NaN,
    forcedMonotonicity: false,
    fixedPrecision: false,
    minBucket: 0,
    maxBucket: 0,
    maxDiff: 0,
  };
  if (q !== q) return res;
  if (q < 0) {
    res.value = -Infinity;
    return res;
  }
  if (q > 1) {
    res.value = Infinity;
    return res;
  }
  if (n <= 0) return res;
  const m = sortAndCoalesce(upperBounds, counts, n);
  const ub = bucketBounds;
  const cs = bucketCounts;
  if (ub[m - 1] !== Infinity) return res;

  // Monotonicity fix-up: ignore noise-sized differences in either direction,
  // then flatten real decreases.
  res.minBucket = Infinity;
  res.maxBucket = -Infinity;
  let prev = cs[0]!;
  for (let i = 1; i < m; i++) {
    const curr = cs[i]!;
    if (curr === prev) continue;
    if (almostEqual(prev, curr, SMALL_DELTA_TOLERANCE)) {
      cs[i] = prev;
      res.fixedPrecision = true;
      continue;
    }
    if (curr < prev) {
      cs[i] = prev;
      res.forcedMonotonicity = true;
      const bound = ub[i]!;
      if (bound < res.minBucket) res.minBucket = bound;
      if (bound > res.maxBucket) res.maxBucket = bound;
      const diff = prev - curr;
      if (diff > res.maxDiff) res.maxDiff = diff;
      continue;
    }
    prev = curr;
  }

  if (m < 2) return res;
  const observations = cs[m - 1]!;
  if (observations === 0) return res;
  let rank = q * observations;
  // First bucket (excluding +Inf) whose cumulative count reaches the rank.
  let lo = 0;
  let hi = m - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cs[mid]! >= rank) hi = mid;
    else lo = mid + 1;
  }
  const b = lo;
  if (b === m - 1) {
    res.value = ub[m - 2]!;
  } else if (b === 0 && ub[0]! <= 0) {
    res.value = ub[0]!;
  } else {
    let bucketStart = 0;
    const bucketEnd = ub[b]!;
    let count = cs[b]!;
    if (b > 0) {
      bucketStart = ub[b - 1]!;
      count -= cs[b - 1]!;
      rank -= cs[b - 1]!;
    }
    res.value = bucketStart + (bucketEnd - bucketStart) * (rank / count);
  }
  return res;
}

/**
 * histogram_fraction over classic buckets: the estimated fraction of
 * observations in [lower, upper], interpolating linearly inside a bucket
 * (from 0 for the lowest bucket when its bound is positive). Observations in
 * buckets with an infinite bound are never interpolated into. NaN without a
 * +Inf bucket, without observations or for a NaN bound; 0 when lower >= upper.
 * Unlike histogram_quantile, no monotonicity fix-up happens.
 */
export function bucketFraction(lower: number, upper: number, upperBounds: Float64Array, counts: Float64Array, n: number): number {
  if (n <= 0) return NaN;
  const m = sortAndCoalesce(upperBounds, counts, n);
  const ub = bucketBounds;
  const cs = bucketCounts;
  if (ub[m - 1] !== Infinity) return NaN;
  const count = cs[m - 1]!;
  if (count === 0 || lower !== lower || upper !== upper) return NaN;
  if (lower >= upper) return 0;

  let rank = 0;
  let lowerRank = 0;
  let upperRank = 0;
  let lowerSet = false;
  let upperSet = false;
  let lowerBound = ub[0]! <= 0 ? -Infinity : 0;
  for (let i = 0; i < m; i++) {
    if (i > 0) lowerBound = ub[i - 1]!;
    const upperBound = ub[i]!;
    const bucketCount = cs[i]!;
    if (!lowerSet && lowerBound >= lower) {
      lowerRank = rank;
      lowerSet = true;
    }
    if (!upperSet && lowerBound >= upper) {
      upperRank = rank;
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    if (!lowerSet && lowerBound < lower && upperBound > lower) {
      lowerRank = lowerBound === -Infinity ? bucketCount : rank + ((bucketCount - rank) * (lower - lowerBound)) / (upperBound - lowerBound);
      lowerSet = true;
    }
    if (!upperSet && lowerBound < upper && upperBound > upper) {
      upperRank = lowerBound === -Infinity ? bucketCount : rank + ((bucketCount - rank) * (upper - lowerBound)) / (upperBound - lowerBound);
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    rank = bucketCount;
  }
  if (!lowerSet || lowerRank > count) lowerRank = count;
  if (!upperSet || upperRank > count) upperRank = count;
  return (upperRank - lowerRank) / count;
}

// ---------------------------------------------------------------------------
// Element-wise math, bit for bit as Go's math package on amd64
//
// Prometheus evaluates these with Go's math package, whose algorithms (Cephes
// polynomials, an assembly log without subnormal handling, an FMA-based exp)
// differ from V8's fdlibm in the last bit and in some visible cases: Go's
// log10(1e15) is 14.999999999999998, sinh(710) is +Inf, log(5e-324) is
// -709.09. The functions below follow Go's algorithms and constants so that
// comparisons and floor() of results agree with Prometheus.

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const u64 = new BigUint64Array(f64.buffer);
// Index of the high (sign/exponent) word of f64 in u32.
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;

/** 2^e for integer e in the normal range, built from bits (exact). */
function pow2(e: number): number {
  u32[HI] = (e + 1023) << 20;
  u32[LO] = 0;
  return f64[0]!;
}

/** sgn: -1, 1, or the value itself for ±0 and NaN. */
function sgn(v: number): number {
  if (v < 0) return -1;
  if (v > 0) return 1;
  return v;
}

let frexpExp = 0;
/**
 * Go's math.Frexp: x = frac * 2^exp with frac in [0.5, 1); ±0, ±Inf and NaN
 * come back unchanged with exponent 0. Returns frac, leaves exp in frexpExp.
 */
function frexp(x: number): number {
  frexpExp = 0;
  if (x === 0 || x !== x || x === Infinity || x === -Infinity) return x;
  let exp = 0;
  if (Math.abs(x) < MIN_NORMAL) {
    x *= 2 ** 52;
    exp = -52;
  }
  f64[0] = x;
  const hi = u32[HI]!;
  exp += ((hi >>> 20) & 0x7ff) - 1022;
  u32[HI] = (hi & 0x800fffff) | (1022 << 20);
  frexpExp = exp;
  return f64[0]!;
}

// Fused multiply-add emulation: a*b splits exactly into p + e (Dekker), and
// the three-term sum p + e + c is rounded once with Shewchuk's partials.
const VELTKAMP = 134217729; // 2^27 + 1 splits a double into two 26-bit halves
const partials = new Float64Array(4);
let nPartials = 0;

function addPartial(x: number): void {
  let i = 0;
  for (let j = 0; j < nPartials; j++) {
    let y = partials[j]!;
    if (Math.abs(x) < Math.abs(y)) {
      const t = x;
      x = y;
      y = t;
    }
    const hi = x + y;
    const lo = y - (hi - x);
    if (lo !== 0) partials[i++] = lo;
    x = hi;
  }
  partials[i] = x;
  nPartials = i + 1;
}

/** Correctly rounded a*b + c for the finite, moderate operands exp uses. */
function fma(a: number, b: number, c: number): number {
  const p = a * b;
  if (!Number.isFinite(p) || !Number.isFinite(c)) return p + c;
  let t = VELTKAMP * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = VELTKAMP * b;
  const bh = t - (t - b);
  const bl = b - bh;
  const e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  nPartials = 0;
  addPartial(p);
  addPartial(e);
  addPartial(c);
  // Sum the partials from the largest, then correct a half-way rounding using
  // the sign of what remains (as Python's math.fsum).
  let n = nPartials;
  let hi = partials[--n]!;
  let lo = 0;
  while (n > 0) {
    const x = hi;
    const y = partials[--n]!;
    hi = x + y;
    lo = y - (hi - x);
    if (lo !== 0) break;
  }
  if (n > 0 && ((lo < 0 && partials[n - 1]! < 0) || (lo > 0 && partials[n - 1]! > 0))) {
    const y = lo * 2;
    const x = hi + y;
    if (y === x - hi) hi = x;
  }
  return hi;
}

// exp: Go's amd64 assembly, FMA variant (every x86-64 server CPU since 2013
// has AVX and FMA, and Go picks this variant there). Argument reduction by
// k*ln 2, a Taylor polynomial of x/16, then four squarings of (1 + y).
const EXP_LN2U = 0.693147180559663; // ln 2, upper half
const EXP_LN2L = 2.8235290563031577e-13; // ln 2, lower half
const EXP_OVERFLOW = 709.782712893384;
const EXP_C = [2.4801587301587301587e-5, 1.9841269841269841270e-4, 1.3888888888888888889e-3, 8.3333333333333333333e-3, 4.1666666666666666667e-2, 1.6666666666666666667e-1, 0.5, 1];

function goExp(x: number): number {
  if (x !== x || x === Infinity) return x;
  if (x === -Infinity) return 0;
  if (x > EXP_OVERFLOW) return Infinity;
  // CVTSD2SL: round half to even into an int32; out of range gives INT32_MIN.
  let k = roundHalfEven(Math.LOG2E * x);
  if (!(k >= -2147483648 && k <= 2147483647)) k = -2147483648;
  let r = fma(-EXP_LN2U, k, x);
  r = fma(-EXP_LN2L, k, r);
  r *= 0.0625;
  let p = EXP_C[0]!;
  for (let i = 1; i < 8; i++) p = fma(p, r, EXP_C[i]!);
  r *= p;
  r *= r + 2;
  r *= r + 2;
  r *= r + 2;
  r = fma(r + 2, r, 1);
  const biased = k + 1023;
  if (biased >= 0x7ff) return Infinity;
  if (biased > 0) return r * pow2(k);
  if (biased < -52) return 0;
  return r * pow2(k + 1022) * pow2(-1022);
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// log: Go's amd64 assembly (fdlibm's polynomial). It reads the exponent
// field directly, so subnormal inputs are treated as if normal.
const LOG_LN2HI = 6.93147180369123816490e-01;
const LOG_LN2LO = 1.90821492927058770002e-10;
const LOG_L1 = 6.666666666666735130e-01;
const LOG_L2 = 3.999999999940941908e-01;
const LOG_L3 = 2.857142874366239149e-01;
const LOG_L4 = 2.222219843214978396e-01;
const LOG_L5 = 1.818357216161805012e-01;
const LOG_L6 = 1.531383769920937332e-01;
const LOG_L7 = 1.479819860511658591e-01;

function goLog(x: number): number {
  if (x === 0) return -Infinity;
  if (x !== x) return x;
  if (x < 0) return NaN;
  if (x === Infinity) return x;
  f64[0] = x;
  const hi = u32[HI]!;
  let k = ((hi >>> 20) & 0x7ff) - 0x3fe;
  u32[HI] = (hi & 0x000fffff) | 0x3fe00000;
  let f1 = f64[0]!;
  if (f1 <= Math.SQRT1_2) {
    k -= 1;
    f1 *= 2;
  }
  const f = f1 - 1;
  const s = f / (2 + f);
  const s2 = s * s;
  const s4 = s2 * s2;
  const t1 = s2 * (((LOG_L7 * s4 + LOG_L5) * s4 + LOG_L3) * s4 + LOG_L1);
  const t2 = s4 * ((LOG_L6 * s4 + LOG_L4) * s4 + LOG_L2);
  const hfsq = 0.5 * f * f;
  return k * LOG_LN2HI - ((hfsq - (s * (hfsq + (t1 + t2)) + k * LOG_LN2LO)) - f);
}

/** Go's math.Log2: exact for powers of two, else log(frac)/ln 2 + exp. */
function goLog2(x: number): number {
  const frac = frexp(x);
  const exp = frexpExp;
  if (frac === 0.5) return exp - 1;
  return goLog(frac) * Math.LOG2E + exp;
}

/** Go's math.Log10: log(x) * (1/ln 10). */
function goLog10(x: number): number {
  return goLog(x) * Math.LOG10E;
}

// log1p: Go's pure-Go port of fdlibm's s_log1p.c.
const LP = [6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01, 2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01, 1.479819860511658591e-01];

function goLog1p(x: number): number {
  if (x < -1 || x !== x) return NaN;
  if (x === -1) return -Infinity;
  if (x === Infinity) return Infinity;
  const absx = Math.abs(x);
  let f = 0;
  let iuZero = false; // fdlibm's "hu == 0": f is known to be tiny
  let k = 1;
  if (absx < 0.41421356237309503) {
    if (absx < 1.862645149230957e-9) {
      if (absx < 5.551115123125783e-17) return x;
      return x - x * x * 0.5;
    }
    if (x > -0.2928932188134525) {
      k = 0;
      f = x;
    }
  }
  let c = 0;
  if (k !== 0) {
    let u: number;
    if (absx < 9007199254740992) {
      u = 1 + x;
      f64[0] = u;
      k = ((u32[HI]! >>> 20) & 0x7ff) - 1023;
      c = k > 0 ? 1 - (u - x) : x - (u - 1);
      c /= u;
    } else {
      u = x;
      f64[0] = u;
      k = ((u32[HI]! >>> 20) & 0x7ff) - 1023;
      c = 0;
    }
    // f64 still holds u; keep its mantissa and normalise u (or u/2) near 1.
    const mantHi = u32[HI]! & 0x000fffff;
    const mantLo = u32[LO]!;
    if (mantHi < 0x6a09e || (mantHi === 0x6a09e && mantLo < 0x667f3bcd)) {
      u32[HI] = mantHi | 0x3ff00000;
      u = f64[0]!;
      iuZero = mantHi === 0 && mantLo === 0;
    } else {
      k++;
      u32[HI] = mantHi | 0x3fe00000;
      u = f64[0]!;
      // fdlibm's hu becomes (2^52 - mantissa) >> 2 here.
      iuZero = mantHi * 4294967296 + mantLo > 4503599627370492;
    }
    f = u - 1;
  }
  const hfsq = 0.5 * f * f;
  if (iuZero) {
    if (f === 0) {
      if (k === 0) return 0;
      c += k * LOG_LN2LO;
      return k * LOG_LN2HI + c;
    }
    const R = hfsq * (1 - 0.6666666666666666 * f);
    if (k === 0) return f - R;
    return k * LOG_LN2HI - ((R - (k * LOG_LN2LO + c)) - f);
  }
  const s = f / (2 + f);
  const z = s * s;
  const R = z * (LP[0]! + z * (LP[1]! + z * (LP[2]! + z * (LP[3]! + z * (LP[4]! + z * (LP[5]! + z * LP[6]!))))));
  if (k === 0) return f - (hfsq - s * (hfsq + R));
  return k * LOG_LN2HI - ((hfsq - (s * (hfsq + R) + (k * LOG_LN2LO + c))) - f);
}

// sin, cos, tan: Cephes polynomials after reduction modulo pi/4, with
// Payne-Hanek reduction from 2^29 on.
const PI4A = 7.85398125648498535156e-1;
const PI4B = 3.77489470793079817668e-8;
const PI4C = 2.69515142907905952645e-15;
const FOUR_OVER_PI = 1.2732395447351628;
const TRIG_REDUCE_THRESHOLD = 536870912; // 2^29: below it the three-part pi/4 keeps full precision
const SIN = [1.58962301576546568060e-10, -2.50507477628578072866e-8, 2.75573136213857245213e-6, -1.98412698295895385996e-4, 8.33333333332211858878e-3, -1.66666666666666307295e-1];
const COS = [-1.13585365213876817300e-11, 2.08757008419747316778e-9, -2.75573141792967388112e-7, 2.48015872888517045348e-5, -1.38888888888730564116e-3, 4.16666666666665929218e-2];
const TAN_P = [-1.30936939181383777646e4, 1.15351664838587416140e6, -1.79565251976484877988e7];
const TAN_Q = [1.36812963470692954678e4, -1.32089234440210967447e6, 2.50083801823357915839e7, -5.38695755929454629881e7];

// Octant and reduced argument of the last reduce() call.
let octant = 0;
let reduced = 0;

function reduce(x: number): void {
  if (x >= TRIG_REDUCE_THRESHOLD) {
    payneHanek(x);
    return;
  }
  let j = Math.trunc(x * FOUR_OVER_PI);
  let y = j;
  if (j % 2 === 1) {
    j++;
    y++;
  }
  octant = j % 8;
  reduced = ((x - y * PI4A) - y * PI4B) - y * PI4C;
}

function sinPoly(z: number, zz: number): number {
  return z + z * zz * ((((((SIN[0]! * zz) + SIN[1]!) * zz + SIN[2]!) * zz + SIN[3]!) * zz + SIN[4]!) * zz + SIN[5]!);
}

function cosPoly(zz: number): number {
  return 1.0 - 0.5 * zz + zz * zz * ((((((COS[0]! * zz) + COS[1]!) * zz + COS[2]!) * zz + COS[3]!) * zz + COS[4]!) * zz + COS[5]!);
}

function goSin(x: number): number {
  if (x === 0 || x !== x) return x;
  if (x === Infinity || x === -Infinity) return NaN;
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  reduce(x);
  let j = octant;
  const z = reduced;
  if (j > 3) {
    sign = !sign;
    j -= 4;
  }
  const zz = z * z;
  const y = j === 1 || j === 2 ? cosPoly(zz) : sinPoly(z, zz);
  return sign ? -y : y;
}

function goCos(x: number): number {
  if (x !== x || x === Infinity || x === -Infinity) return NaN;
  let sign = false;
  reduce(Math.abs(x));
  let j = octant;
  const z = reduced;
  if (j > 3) {
    j -= 4;
    sign = !sign;
  }
  if (j > 1) sign = !sign;
  const zz = z * z;
  const y = j === 1 || j === 2 ? sinPoly(z, zz) : cosPoly(zz);
  return sign ? -y : y;
}

function goTan(x: number): number {
  if (x === 0 || x !== x) return x;
  if (x === Infinity || x === -Infinity) return NaN;
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  let j: number;
  let z: number;
  if (x >= TRIG_REDUCE_THRESHOLD) {
    payneHanek(x);
    j = octant;
    z = reduced;
  } else {
    // Unlike sin/cos, tan keeps the unreduced octant count (only bit 1 matters).
    j = Math.trunc(x * FOUR_OVER_PI);
    let y = j;
    if (j % 2 === 1) {
      j++;
      y++;
    }
    z = ((x - y * PI4A) - y * PI4B) - y * PI4C;
  }
  const zz = z * z;
  let y: number;
  if (zz > 1e-14) {
    y = z + z * ((zz * (((TAN_P[0]! * zz) + TAN_P[1]!) * zz + TAN_P[2]!)) / ((((zz + TAN_Q[0]!) * zz + TAN_Q[1]!) * zz + TAN_Q[2]!) * zz + TAN_Q[3]!));
  } else {
    y = z;
  }
  if (Math.floor(j / 2) % 2 === 1) y = -1 / y;
  return sign ? -y : y;
}

// Payne-Hanek reduction of huge arguments: multiply the 53-bit mantissa by a
// 192-bit window of the binary expansion of 4/pi, in 64-bit words as Go does
// (including its truncations), giving the octant and the fraction within it.
let fourOverPiBits: bigint | null = null;
const FOUR_OVER_PI_WORDS = 20; // covers exponents up to 2^1023
const MASK64 = (1n << 64n) - 1n;

/** floor(4/pi * 2^(64*19)): the words Go's mPi4 table holds, computed with Machin's formula. */
function fourOverPiTable(): bigint {
  if (fourOverPiBits !== null) return fourOverPiBits;
  const bits = BigInt(64 * FOUR_OVER_PI_WORDS + 64); // guard bits against truncation error
  const one = 1n << bits;
  const arctanInv = (n: bigint): bigint => {
    // arctan(1/n) = sum (-1)^k / ((2k+1) n^(2k+1))
    let sum = 0n;
    let term = one / n;
    const n2 = n * n;
    for (let k = 0n; term !== 0n; k++) {
      const t = term / (2n * k + 1n);
      sum = k % 2n === 0n ? sum + t : sum - t;
      term /= n2;
    }
    return sum;
  };
  const pi = 4n * (4n * arctanInv(5n) - arctanInv(239n));
  const fourOverPi = (4n * one * one) / pi; // 4/pi scaled by 2^bits
  fourOverPiBits = fourOverPi >> (bits - BigInt(64 * (FOUR_OVER_PI_WORDS - 1)));
  return fourOverPiBits;
}

function payneHanek(x: number): void {
  if (x < 0.7853981633974483) {
    octant = 0;
    reduced = x;
    return;
  }
  f64[0] = x;
  const ix0 = u64[0]!;
  const exp = Number((ix0 >> 52n) & 0x7ffn) - 1023 - 52;
  const ix = (ix0 & 0xfffffffffffffn) | (1n << 52n);
  const digit = Math.floor((exp + 61) / 64);
  const bitshift = BigInt((exp + 61) % 64);
  const table = fourOverPiTable();
  const word = (i: number): bigint => (table >> BigInt(64 * (FOUR_OVER_PI_WORDS - 1 - i))) & MASK64;
  const sh = (a: bigint, b: bigint): bigint => ((a << bitshift) | (bitshift === 0n ? 0n : b >> (64n - bitshift))) & MASK64;
  const z0 = sh(word(digit), word(digit + 1));
  const z1 = sh(word(digit + 1), word(digit + 2));
  const z2 = sh(word(digit + 2), word(digit + 3));
  // (z0:z1:z2 * ix) >> 64, kept to 128 bits.
  const prod = (((z0 * ix) << 128n) + ((z1 * ix) << 64n) + z2 * ix) >> 64n;
  let hi = (prod >> 64n) & MASK64;
  const lo = prod & MASK64;
  let j = Number(hi >> 61n);
  hi = ((hi << 3n) | (lo >> 61n)) & MASK64;
  const lz = hi === 0n ? 64 : 64 - hi.toString(2).length;
  const e = BigInt(1023 - (lz + 1));
  const s = BigInt(lz + 1);
  // Go reuses the unshifted low word here; Go shifts of 64 or more give 0.
  const top = s >= 64n ? 0n : (hi << s) & MASK64;
  const bottom = s > 64n ? 0n : lo >> (64n - s);
  hi = ((top | bottom) >> 12n) | ((e & 0x7ffn) << 52n);
  u64[0] = hi & MASK64;
  let z = f64[0]!;
  if (j % 2 === 1) {
    j = (j + 1) % 8;
    z--;
  }
  octant = j;
  reduced = z * 0.7853981633974483;
}

// asin, acos, atan: Cephes rational approximation of atan after reduction.
const ATAN_P = [-8.750608600031904122785e-01, -1.615753718733365076637e+01, -7.500855792314704667340e+01, -1.228866684490136173410e+02, -6.485021904942025371773e+01];
const ATAN_Q = [2.485846490142306297962e+01, 1.650270098316988542046e+02, 4.328810604912902668951e+02, 4.853903996359136964868e+02, 1.945506571482613964425e+02];
const MOREBITS = 6.123233995736766e-17; // pi/2 - float64(pi/2)
const HALF_MOREBITS = 3.061616997868383e-17;
const TAN3PIO8 = 2.414213562373095;

function xatan(x: number): number {
  let z = x * x;
  z = (z * ((((ATAN_P[0]! * z + ATAN_P[1]!) * z + ATAN_P[2]!) * z + ATAN_P[3]!) * z + ATAN_P[4]!)) / (((((z + ATAN_Q[0]!) * z + ATAN_Q[1]!) * z + ATAN_Q[2]!) * z + ATAN_Q[3]!) * z + ATAN_Q[4]!);
  return x * z + x;
}

function satan(x: number): number {
  if (x <= 0.66) return xatan(x);
  if (x > TAN3PIO8) return Math.PI / 2 - xatan(1 / x) + MOREBITS;
  return Math.PI / 4 + xatan((x - 1) / (x + 1)) + HALF_MOREBITS;
}

function goAtan(x: number): number {
  if (x === 0) return x;
  return x > 0 ? satan(x) : -satan(-x);
}

function goAsin(x: number): number {
  if (x === 0) return x;
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  if (x > 1) return NaN;
  let temp = Math.sqrt(1 - x * x);
  temp = x > 0.7 ? Math.PI / 2 - satan(temp / x) : satan(x / temp);
  return sign ? -temp : temp;
}

function goAcos(x: number): number {
  return Math.PI / 2 - goAsin(x);
}

// sinh, cosh, tanh: from exp, with rational approximations near zero.
const SINH_P = [-0.6307673640497716991184787251e+6, -0.8991272022039509355398013511e+5, -0.2894211355989563807284660366e+4, -0.2630563213397497062819489e+2];
const SINH_Q = [-0.6307673640497716991212077277e+6, 0.1521517378790019070696485176e+5, -0.173678953558233699533450911e+3];
const TANH_P = [-9.64399179425052238628e-1, -9.92877231001918586564e1, -1.61468768441708447952e3];
const TANH_Q = [1.12811678491632931402e2, 2.23548839060100448583e3, 4.84406305325125486048e3];
const TANH_SATURATION = 44.014845965556525; // half of ln(2^127): tanh is ±1 beyond

function goSinh(x: number): number {
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  let temp: number;
  if (x > 21) {
    temp = goExp(x) * 0.5;
  } else if (x > 0.5) {
    const ex = goExp(x);
    temp = (ex - 1 / ex) * 0.5;
  } else {
    const sq = x * x;
    temp = (((SINH_P[3]! * sq + SINH_P[2]!) * sq + SINH_P[1]!) * sq + SINH_P[0]!) * x;
    temp = temp / (((sq + SINH_Q[2]!) * sq + SINH_Q[1]!) * sq + SINH_Q[0]!);
  }
  return sign ? -temp : temp;
}

function goCosh(x: number): number {
  x = Math.abs(x);
  if (x > 21) return goExp(x) * 0.5;
  const ex = goExp(x);
  return (ex + 1 / ex) * 0.5;
}

function goTanh(x: number): number {
  let z = Math.abs(x);
  if (z > TANH_SATURATION) return x < 0 ? -1 : 1;
  if (z >= 0.625) {
    const s = goExp(2 * z);
    z = 1 - 2 / (s + 1);
    return x < 0 ? -z : z;
  }
  if (x === 0) return x;
  const s = x * x;
  return x + (x * s * ((TANH_P[0]! * s + TANH_P[1]!) * s + TANH_P[2]!)) / (((s + TANH_Q[0]!) * s + TANH_Q[1]!) * s + TANH_Q[2]!);
}

// asinh, acosh, atanh: fdlibm's formulas over log and log1p.
const NEAR_ZERO = 3.725290298461914e-9; // 2^-28: below it asinh/atanh(x) round to x
const LARGE = 268435456; // 2^28: above it the +1/-1 under the root no longer matters

function goAsinh(x: number): number {
  if (x !== x || x === Infinity || x === -Infinity) return x;
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  let temp: number;
  if (x > LARGE) temp = goLog(x) + Math.LN2;
  else if (x > 2) temp = goLog(2 * x + 1 / (Math.sqrt(x * x + 1) + x));
  else if (x < NEAR_ZERO) temp = x;
  else temp = goLog1p(x + (x * x) / (1 + Math.sqrt(1 + x * x)));
  return sign ? -temp : temp;
}

function goAcosh(x: number): number {
  if (x < 1 || x !== x) return NaN;
  if (x === 1) return 0;
  if (x >= LARGE) return goLog(x) + Math.LN2;
  if (x > 2) return goLog(2 * x - 1 / (x + Math.sqrt(x * x - 1)));
  const t = x - 1;
  return goLog1p(t + Math.sqrt(2 * t + t * t));
}

function goAtanh(x: number): number {
  if (x < -1 || x > 1 || x !== x) return NaN;
  if (x === 1) return Infinity;
  if (x === -1) return -Infinity;
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  let temp: number;
  if (x < NEAR_ZERO) {
    temp = x;
  } else if (x < 0.5) {
    temp = x + x;
    temp = 0.5 * goLog1p(temp + (temp * x) / (1 - x));
  } else {
    temp = 0.5 * goLog1p((x + x) / (1 - x));
  }
  return sign ? -temp : temp;
}

export const MATH_FUNCTIONS: Readonly<Record<string, (x: number) => number>> = Object.freeze({
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  exp: goExp,
  sqrt: Math.sqrt,
  ln: goLog,
  log2: goLog2,
  log10: goLog10,
  sgn,
  deg: (v: number) => (v * 180) / Math.PI,
  rad: (v: number) => (v * Math.PI) / 180,
  sin: goSin,
  cos: goCos,
  tan: goTan,
  asin: goAsin,
  acos: goAcos,
  atan: goAtan,
  sinh: goSinh,
  cosh: goCosh,
  tanh: goTanh,
  asinh: goAsinh,
  acosh: goAcosh,
  atanh: goAtanh,
});

/** Go's math.Ldexp: frac * 2^exp with a single rounding, saturating to ±0 and ±Inf. */
function goLdexp(frac: number, exp: number): number {
  if (frac === 0 || frac !== frac || frac === Infinity || frac === -Infinity) return frac;
  if (Math.abs(frac) < MIN_NORMAL) {
    frac *= 2 ** 52;
    exp -= 52;
  }
  f64[0] = frac;
  const hi = u32[HI]!;
  exp += ((hi >>> 20) & 0x7ff) - 1023;
  if (exp < -1075) return frac < 0 ? -0 : 0;
  if (exp > 1023) return frac < 0 ? -Infinity : Infinity;
  let m = 1;
  if (exp < -1022) {
    exp += 53;
    m = 2 ** -53;
  }
  u32[HI] = (hi & 0x800fffff) | ((exp + 1023) << 20);
  return m * f64[0]!;
}

function isOddInt(x: number): boolean {
  // Doubles from 2^53 on are even; Go's int64 conversion makes larger ones even too.
  return Number.isInteger(x) && Math.abs(x) < 9007199254740992 && x % 2 !== 0;
}

/**
 * Go's math.Pow, which PromQL's ^ operator uses: special cases differ from
 * JavaScript's ** (1^NaN = 1, (-1)^±Inf = 1), and finite results come from
 * repeated squaring times exp(frac * log x), not from fdlibm's pow.
 */
export function goPow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (y === 1) return x;
  if (x !== x || y !== y) return NaN;
  if (x === 0) {
    if (y < 0) {
      if (isOddInt(y)) return Object.is(x, -0) ? -Infinity : Infinity;
      return Infinity;
    }
    return isOddInt(y) ? x : 0;
  }
  if (y === Infinity || y === -Infinity) {
    if (x === -1) return 1;
    if ((Math.abs(x) < 1) === (y === Infinity)) return 0;
    return Infinity;
  }
  if (x === Infinity || x === -Infinity) {
    if (x === -Infinity) return goPow(1 / x, -y);
    return y < 0 ? 0 : Infinity;
  }
  if (y === 0.5) return Math.sqrt(x);
  if (y === -0.5) return 1 / Math.sqrt(x);
  const ay = Math.abs(y);
  let yi = Math.trunc(ay);
  let yf = ay - yi;
  if (yf !== 0 && x < 0) return NaN;
  if (yi >= 9223372036854775808) {
    if (x === -1) return 1;
    if ((Math.abs(x) < 1) === (y > 0)) return 0;
    return Infinity;
  }
  let a1 = 1;
  let ae = 0;
  if (yf !== 0) {
    if (yf > 0.5) {
      yf--;
      yi++;
    }
    a1 = goExp(yf * goLog(x));
  }
  let x1 = frexp(x);
  let xe = frexpExp;
  // Square-and-multiply over the bits of yi, keeping the exponent aside so
  // that intermediate values neither overflow nor underflow.
  for (let i = yi; i !== 0; i = Math.floor(i / 2)) {
    if (xe < -4096 || xe > 4096) {
      ae += xe;
      break;
    }
    if (i % 2 === 1) {
      a1 *= x1;
      ae += xe;
    }
    x1 *= x1;
    xe *= 2;
    if (x1 < 0.5) {
      x1 += x1;
      xe--;
    }
  }
  if (y < 0) {
    a1 = 1 / a1;
    ae = -ae;
  }
  return goLdexp(a1, ae);
}

/** Go's math.Atan2 (PromQL's atan2 operator), built on Go's atan. */
export function goAtan2(y: number, x: number): number {
  if (y !== y || x !== x) return NaN;
  const ySign = y < 0 || Object.is(y, -0) ? -1 : 1;
  if (y === 0) {
    if (x >= 0 && !Object.is(x, -0)) return ySign < 0 ? -0 : 0;
    return ySign * Math.PI;
  }
  if (x === 0) return (ySign * Math.PI) / 2;
  if (x === Infinity) {
    if (y === Infinity || y === -Infinity) return (ySign * Math.PI) / 4;
    return ySign < 0 ? -0 : 0;
  }
  if (x === -Infinity) {
    if (y === Infinity || y === -Infinity) return ySign * 2.356194490192345;
    return ySign * Math.PI;
  }
  if (y === Infinity || y === -Infinity) return (ySign * Math.PI) / 2;
  const q = goAtan(y / x);
  if (x < 0) return q <= 0 ? q + Math.PI : q - Math.PI;
  return q;
}

/** round(x, toNearest) as Prometheus: half-way values round up (towards +Inf). */
export function round(x: number, toNearest: number): number {
  const inv = 1 / toNearest;
  return Math.floor(x * inv + 0.5) / inv;
}

/** clamp: values limited to [min, max] (NaN stays NaN); callers drop the sample when max < min. */
export function clamp(x: number, min: number, max: number): number {
  return goMax(min, goMin(max, x));
}

/** Go's math.Max: +Inf wins over NaN, NaN wins over the rest, +0 over -0. */
export function goMax(a: number, b: number): number {
  if (a === Infinity || b === Infinity) return Infinity;
  if (a !== a || b !== b) return NaN;
  if (a === 0 && a === b) return Object.is(a, -0) ? b : a;
  return a > b ? a : b;
}

/** Go's math.Min: -Inf wins over NaN, NaN wins over the rest, -0 over +0. */
export function goMin(a: number, b: number): number {
  if (a === -Infinity || b === -Infinity) return -Infinity;
  if (a !== a || b !== b) return NaN;
  if (a === 0 && a === b) return Object.is(a, -0) ? a : b;
  return a < b ? a : b;
}

// ---------------------------------------------------------------------------
// Date functions

const SECONDS_PER_DAY = 86400;
const DAYS_PER_400_YEARS = 146097;

/** Year, month (1-12), day (1-31), day of year (1-366) and weekday (0 = Sunday) of the last civilDate call. */
let civilYear = 0;
let civilMonth = 0;
let civilDay = 0;
let civilYearDay = 0;
let civilWeekday = 0;
let civilSecondOfDay = 0;
let civilDaysInMonth = 0;

/** Seconds from Go's absolute epoch (March 1st of year -292277022400) to 1970. */
const GO_UNIX_TO_ABSOLUTE = 9223372028741760000n;
const TWO_64 = 1n << 64n;

/**
 * Calendar fields of a day count since 1970-01-01 (proleptic Gregorian),
 * left in the civil* variables.
 */
function civilFromDays(days: number): void {
  // 1970-01-01 was a Thursday.
  civilWeekday = (((days + 4) % 7) + 7) % 7;
  // Count from 0000-03-01 so that leap days fall at the end of each year.
  const z = days + 719468;
  const era = Math.floor(z / DAYS_PER_400_YEARS);
  const doe = z - era * DAYS_PER_400_YEARS;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  civilDay = doy - Math.floor((153 * mp + 2) / 5) + 1;
  civilMonth = mp < 10 ? mp + 3 : mp - 9;
  civilYear = yoe + era * 400 + (civilMonth <= 2 ? 1 : 0);
  const leap = civilYear % 4 === 0 && (civilYear % 100 !== 0 || civilYear % 400 === 0);
  // doy counts from March 1st (306 days before January 1st).
  civilYearDay = civilMonth <= 2 ? doy - 305 : doy + 60 + (leap ? 1 : 0);
  civilDaysInMonth = daysIn(civilMonth, civilYear);
}

function floorDaysBig(sec: bigint): number {
  let sod = sec % 86400n;
  if (sod < 0n) sod += 86400n;
  return Number((sec - sod) / 86400n);
}

/**
 * Splits whole seconds since the epoch into the UTC calendar date as Go's
 * time.Unix(int64(f), 0).UTC() does for Prometheus: the proleptic Gregorian
 * calendar, except that Go counts seconds from its absolute epoch in
 * wrapping unsigned 64-bit arithmetic, which shows at the ends of the int64
 * range.
 */
function civilDate(tSec: number): void {
  if (Math.abs(tSec) <= Number.MAX_SAFE_INTEGER) {
    civilSecondOfDay = ((tSec % SECONDS_PER_DAY) + SECONDS_PER_DAY) % SECONDS_PER_DAY;
    civilFromDays((tSec - civilSecondOfDay) / SECONDS_PER_DAY);
    return;
  }
  let big = BigInt(tSec);
  // The earliest int64 seconds lie before Go's absolute epoch and wrap to 2^64 seconds later.
  if (big + GO_UNIX_TO_ABSOLUTE < 0n) big += TWO_64;
  let sod = big % 86400n;
  if (sod < 0n) sod += 86400n;
  civilSecondOfDay = Number(sod);
  civilFromDays(Number((big - sod) / 86400n));
  // days_in_month asks Go for day 32 of the month; past 2^64 seconds from
  // the absolute epoch that date wraps to near the epoch.
  const day32 = big - sod + GO_UNIX_TO_ABSOLUTE + BigInt(32 - civilDay) * 86400n;
  if (day32 >= TWO_64) {
    const day = civilDay;
    const month = civilMonth;
    const year = civilYear;
    const yearDay = civilYearDay;
    const weekday = civilWeekday;
    civilFromDays(floorDaysBig(day32 - TWO_64 - GO_UNIX_TO_ABSOLUTE));
    const wrappedDay = civilDay;
    civilDay = day;
    civilMonth = month;
    civilYear = year;
    civilYearDay = yearDay;
    civilWeekday = weekday;
    civilDaysInMonth = 32 - wrappedDay;
  }
}

/** Go converts float64 to int64 by truncation; out-of-range values and NaN become math.MinInt64 on amd64. */
const MIN_INT64 = -9223372036854775808;
function goInt64(x: number): number {
  if (x !== x || x >= 9223372036854775808 || x < MIN_INT64) return MIN_INT64;
  return Math.trunc(x);
}

function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

export const DATE_FUNCTIONS: Readonly<Record<string, (tSec: number) => number>> = Object.freeze({
  day_of_month: (t: number) => (civilDate(goInt64(t)), civilDay),
  day_of_week: (t: number) => (civilDate(goInt64(t)), civilWeekday),
  day_of_year: (t: number) => (civilDate(goInt64(t)), civilYearDay),
  days_in_month: (t: number) => (civilDate(goInt64(t)), civilDaysInMonth),
  hour: (t: number) => (civilDate(goInt64(t)), Math.floor(civilSecondOfDay / 3600)),
  minute: (t: number) => (civilDate(goInt64(t)), Math.floor((civilSecondOfDay % 3600) / 60)),
  month: (t: number) => (civilDate(goInt64(t)), civilMonth),
  year: (t: number) => (civilDate(goInt64(t)), civilYear),
});
