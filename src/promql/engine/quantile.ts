// Quantiles as Prometheus computes them: over a set of float values
// (quantile, quantile_over_time, mad_over_time) and over the cumulative
// buckets of a classic histogram (histogram_quantile, histogram_fraction).
// Kernels that reorder values work in a Scratch the caller keeps for one
// evaluation, so they allocate nothing per window or step.
// Imports go_math.ts only.
import { MIN_NORMAL } from './go_math.js';

// Windows are usually a few dozen samples; the scratch doubles when one is longer.
const INITIAL_SCRATCH = 256;

function grownSize(cur: number, need: number): number {
  let size = cur;
  while (size < need) size *= 2;
  return size;
}

/** A growable array of floats, reused for every window or step of one evaluation. */
export class Scratch {
  private buf = new Float64Array(INITIAL_SCRATCH);

  /** An array of at least n values (contents left from earlier use). */
  get(n: number): Float64Array {
    if (this.buf.length < n) this.buf = new Float64Array(grownSize(this.buf.length, n));
    return this.buf;
  }
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
    // 0 <= i < n <= values.length (the callers' contract), and w >= i.
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
  // 0 <= lowerIndex <= upperIndex <= n - 1, and n <= values.length.
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
const SMALL_DELTA_TOLERANCE = 1e-12;

/** Prometheus's almost.Equal for values that are never stale markers. */
function almostEqual(a: number, b: number, epsilon: number): boolean {
  if (a !== a && b !== b) return true;
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < MIN_NORMAL) return diff < epsilon * MIN_NORMAL;
  return diff / Math.min(absSum, Number.MAX_VALUE) < epsilon;
}

/** The buckets of one histogram sorted by bound; kept for one evaluation and reused at every step. */
export class BucketScratch {
  bounds = new Float64Array(64);
  counts = new Float64Array(64);

  /** Makes room for n buckets. */
  reserve(n: number): void {
    if (this.bounds.length >= n) return;
    const size = grownSize(this.bounds.length, n);
    this.bounds = new Float64Array(size);
    this.counts = new Float64Array(size);
  }
}

/**
 * Up to this many buckets an insertion sort is fastest (classic histograms
 * have a few dozen buckets, usually in order already); beyond it, a
 * comparison sort of indices avoids quadratic time.
 */
const INSERTION_SORT_MAX = 64;

/**
 * Copies the buckets into `out` sorted by upper bound and merges buckets with
 * equal bounds; returns how many remain. The caller's arrays are left
 * untouched.
 */
function sortAndCoalesce(upperBounds: Float64Array, counts: Float64Array, n: number, out: BucketScratch): number {
  out.reserve(n);
  const ub = out.bounds;
  const cs = out.counts;
  // Below, every index is under n, and n <= the length of the inputs (the callers' contract) and of ub/cs (reserved).
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
export function bucketQuantile(
  q: number,
  upperBounds: Float64Array,
  counts: Float64Array,
  n: number,
  scratch: BucketScratch,
): BucketQuantileResult {
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
  const m = sortAndCoalesce(upperBounds, counts, n, scratch);
  const ub = scratch.bounds;
  const cs = scratch.counts;
  if (ub[m - 1] !== Infinity) return res;
  // From here 1 <= m <= ub.length = cs.length, and every index below is under m.

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
export function bucketFraction(
  lower: number,
  upper: number,
  upperBounds: Float64Array,
  counts: Float64Array,
  n: number,
  scratch: BucketScratch,
): number {
  if (n <= 0) return NaN;
  const m = sortAndCoalesce(upperBounds, counts, n, scratch);
  const ub = scratch.bounds;
  const cs = scratch.counts;
  if (ub[m - 1] !== Infinity) return NaN;
  // From here 1 <= m <= ub.length = cs.length, and every index below is under m.
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

