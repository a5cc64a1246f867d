// Functions of one native histogram (Prometheus's HistogramQuantile,
// HistogramFraction and the variance of histogram_stddev/stdvar): pure math
// on a FloatHistogram, returning flags for the annotations the caller adds.
import { CounterResetHint, bucketBound, type Bucket, type FloatHistogram } from '../../model/histogram.js';
import { kahanCompensation } from './kahan.js';

export interface QuantileResult {
  value: number;
  /** The rank fell among the NaN observations: the result is NaN. */
  nanResult: boolean;
  /** Some observations are NaN, so the result is skewed higher. */
  nanSkew: boolean;
}

/**
 * The q-quantile estimated from the buckets: exponential interpolation within
 * an exponential bucket, linear within custom buckets and the zero bucket.
 */
export function histogramQuantile(q: number, h: FloatHistogram): QuantileResult {
  const res: QuantileResult = { value: NaN, nanResult: false, nanSkew: false };
  if (q < 0) return { ...res, value: -Infinity };
  if (q > 1) return { ...res, value: Infinity };
  if (h.count === 0 || q !== q) return res;
  const forward = h.sum !== h.sum || q < 0.5;
  let rank = forward ? q * h.count : (1 - q) * h.count;
  let count = 0;
  let k = 0;
  let bucket: Bucket | undefined;
  let buckets: Bucket[] = [];
  if (!forward && h.negativeBuckets.length === 0 && h.zeroCount === 0) {
    ({ bucket, count } = topBucket(h, rank));
  } else {
    buckets = forward ? [...h.allBucketIterator()] : [...h.allReverseBucketIterator()];
    for (; k < buckets.length; k++) {
      const b = buckets[k]!;
      bucket = b;
      if (b.count === 0) continue;
      count += b.count;
      if (count >= rank) break;
    }
  }
  // No buckets at all (every observation NaN): Prometheus reads a zero-valued bucket then.
  if (bucket === undefined) bucket = { lower: 0, upper: 0, lowerInclusive: false, upperInclusive: false, count: 0, index: 0 };
  let lower = bucket.lower;
  let upper = bucket.upper;
  const custom = h.usesCustomBuckets();
  if (!custom && lower < 0 && upper > 0) {
    if (h.negativeBuckets.length === 0 && h.positiveBuckets.length > 0) lower = 0;
    else if (h.positiveBuckets.length === 0 && h.negativeBuckets.length > 0) upper = 0;
  } else if (custom) {
    if (lower === -Infinity) {
      if (upper <= 0) return { ...res, value: upper };
      lower = 0;
    } else if (upper === Infinity) {
      return { ...res, value: lower };
    }
  }
  if (count > h.count) count = h.count;
  if (count < rank) {
    if (h.sum !== h.sum) return { ...res, value: NaN, nanResult: true };
    return { ...res, value: upper };
  }
  if (forward) rank -= count - bucket.count;
  else rank = count - rank;
  if (h.sum !== h.sum) {
    for (k++; k < buckets.length; k++) count += buckets[k]!.count;
    if (count < h.count) res.nanSkew = true;
  }
  const fraction = rank / bucket.count;
  if (custom || (lower <= 0 && upper >= 0)) return { ...res, value: lower + (upper - lower) * fraction };
  const logLower = Math.log2(Math.abs(lower));
  const logUpper = Math.log2(Math.abs(upper));
  if (lower > 0) return { ...res, value: 2 ** (logLower + (logUpper - logLower) * fraction) };
  return { ...res, value: -(2 ** (logUpper + (logLower - logUpper) * (1 - fraction))) };
}

/**
 * The reverse walk of histogramQuantile over positive buckets only (no
 * negative or zero-bucket counts), from the bucket counts alone: only the
 * bucket it stops in gets its bounds worked out.
 */
function topBucket(h: FloatHistogram, rank: number): { bucket: Bucket | undefined; count: number } {
  let described = 0;
  for (const sp of h.positiveSpans) described += sp.length;
  const counts = h.positiveBuckets;
  const n = Math.min(described, counts.length);
  let count = 0;
  let k = n - 1;
  for (; k >= 0; k--) {
    const c = counts[k]!;
    if (c === 0) {
      if (k === 0) break;
      continue;
    }
    count += c;
    if (count >= rank) break;
  }
  if (n === 0) return { bucket: undefined, count };
  k = Math.max(k, 0);
  const i = bucketIndex(h, k);
  let lower = bucketBound(i - 1, h.schema, h.customValues);
  if (lower > 0 && lower < h.zeroThreshold) lower = h.zeroThreshold;
  const custom = h.usesCustomBuckets();
  return { bucket: { lower, upper: bucketBound(i, h.schema, h.customValues), lowerInclusive: custom ? i === 0 : lower < 0, upperInclusive: true, count: counts[k]!, index: i }, count };
}

/** The schema index of the k-th positive bucket (k within what the spans describe). */
function bucketIndex(h: FloatHistogram, k: number): number {
  let at = 0;
  for (const sp of h.positiveSpans) {
    at += sp.offset;
    if (k < sp.length) return at + k;
    k -= sp.length;
    at += sp.length;
  }
  return at;
}

function fractionBelow(lower: number, upper: number, v: number, linear: boolean): number {
  if (linear) return (v - lower) / (upper - lower);
  const logLower = Math.log2(Math.abs(lower));
  const logUpper = Math.log2(Math.abs(upper));
  const logV = Math.log2(Math.abs(v));
  if (v > 0) return (logV - logLower) / (logUpper - logLower);
  return 1 - (logV - logUpper) / (logLower - logUpper);
}

/** The estimated fraction of observations in [lower, upper]; `nans` when NaN observations were left out. */
export function histogramFraction(lower: number, upper: number, h: FloatHistogram): { value: number; nans: boolean } {
  if (h.count === 0 || lower !== lower || upper !== upper) return { value: NaN, nans: false };
  if (lower >= upper) return { value: 0, nans: false };
  const buckets = [...h.allBucketIterator()];
  const custom = h.usesCustomBuckets();
  let count = 0;
  let rank = 0;
  let lowerRank = 0;
  let upperRank = 0;
  let lowerSet = false;
  let upperSet = false;
  let k = 0;
  for (; k < buckets.length; k++) {
    const b = buckets[k]!;
    count += b.count;
    let bl = b.lower;
    let bu = b.upper;
    const interpolate = (v: number, linear: boolean): number => {
      if (linear && bl === -Infinity) return b.count;
      return rank + b.count * fractionBelow(bl, bu, v, linear);
    };
    let zeroBucket = false;
    if (bl <= 0 && bu >= 0) {
      zeroBucket = true;
      if (h.negativeBuckets.length === 0 && h.positiveBuckets.length > 0) bl = 0;
      else if (h.positiveBuckets.length === 0 && h.negativeBuckets.length > 0) bu = 0;
    }
    if (!lowerSet && bl >= lower) {
      lowerRank = rank;
      lowerSet = true;
    }
    if (!upperSet && bl >= upper) {
      upperRank = rank;
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    if (!lowerSet && bl < lower && bu > lower) {
      lowerRank = interpolate(lower, custom || zeroBucket);
      lowerSet = true;
    }
    if (!upperSet && bl < upper && bu > upper) {
      upperRank = interpolate(upper, custom || zeroBucket);
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    rank += b.count;
  }
  let nans = false;
  if (h.sum !== h.sum) {
    for (k++; k < buckets.length; k++) count += buckets[k]!.count;
    if (count < h.count) nans = true;
  } else {
    count = h.count;
  }
  if (!lowerSet || lowerRank > count) lowerRank = count;
  if (!upperSet || upperRank > count) upperRank = count;
  return { value: (upperRank - lowerRank) / h.count, nans };
}

/** The variance of the observations, each bucket's taken at its (geometric, for exponential buckets) middle. */
export function histogramVariance(h: FloatHistogram): number {
  const mean = h.sum / h.count;
  let variance = 0;
  let c = 0;
  const custom = h.usesCustomBuckets();
  for (const b of h.allBucketIterator()) {
    if (b.count === 0) continue;
    let val: number;
    if (custom) val = (b.upper + b.lower) / 2;
    else if (b.lower <= 0 && b.upper >= 0) val = 0;
    else {
      val = Math.sqrt(b.upper * b.lower);
      if (b.upper < 0) val = -val;
    }
    const delta = val - mean;
    const x = b.count * delta * delta;
    c = kahanCompensation(x, variance, c);
    variance += x;
  }
  return (variance + c) / h.count;
}

function hasOverflow(h: FloatHistogram): boolean {
  const inf = (x: number): boolean => x === Infinity || x === -Infinity;
  if (inf(h.count) || inf(h.sum) || inf(h.zeroCount)) return true;
  for (const v of h.positiveBuckets) if (inf(v)) return true;
  for (const v of h.negativeBuckets) if (inf(v)) return true;
  return false;
}

/**
 * A running sum of histograms with compensated (Kahan) summation of the
 * count, sum and zero count, as Prometheus's KahanAdd keeps them (bucket
 * counts are added plainly). add() throws the model's HistogramError for a
 * mix of exponential and custom buckets.
 */
export class HistogramSum {
  private cCount = 0;
  private cSum = 0;
  private cZero = 0;
  /** Seen a CounterReset hint / a NotCounterReset hint (both: Prometheus warns of a collision). */
  reset = false;
  notReset = false;
  reconciled = false;

  constructor(private sum: FloatHistogram) {
    this.track(sum);
  }

  private track(h: FloatHistogram): void {
    if (h.counterResetHint === CounterResetHint.CounterReset) this.reset = true;
    else if (h.counterResetHint === CounterResetHint.NotCounterReset) this.notReset = true;
  }

  /** The sum with `h` added, not kept; null when that overflows (the caller then averages incrementally). */
  tryAdd(h: FloatHistogram): FloatHistogram | null {
    const r = this.sum.add(h);
    return hasOverflow(r.histogram) ? null : r.histogram;
  }

  add(h: FloatHistogram): void {
    this.track(h);
    this.addScaled(this.sum, h);
  }

  /** Turns the sum of n histograms into their mean, from which meanAdd() goes on. */
  toMean(n: number): void {
    this.sum = this.sum.div(n);
    this.cCount /= n;
    this.cSum /= n;
    this.cZero /= n;
  }

  /** The mean of `count` histograms from the mean of the first count - 1 and `h`. */
  meanAdd(h: FloatHistogram, count: number): void {
    this.track(h);
    const q = (count - 1) / count;
    this.cCount *= q;
    this.cSum *= q;
    this.cZero *= q;
    this.addScaled(this.sum.mul(q), h.div(count));
  }

  private addScaled(prev: FloatHistogram, h: FloatHistogram): void {
    const r = prev.add(h);
    if (r.nhcbBoundsReconciled) this.reconciled = true;
    this.cCount = kahanCompensation(h.count, prev.count, this.cCount);
    this.cSum = kahanCompensation(h.sum, prev.sum, this.cSum);
    if (prev.zeroThreshold === h.zeroThreshold) this.cZero = kahanCompensation(h.zeroCount, prev.zeroCount, this.cZero);
    this.sum = r.histogram;
  }

  /** The compensated sum. */
  result(): FloatHistogram {
    const s = this.sum;
    if (this.cCount === 0 && this.cSum === 0 && this.cZero === 0) return s;
    return s.with({ count: s.count + this.cCount, sum: s.sum + this.cSum, zeroCount: s.zeroCount + this.cZero });
  }
}

/**
 * The mean of histograms: their compensated sum divided by their number, or,
 * once the sum overflows, a running mean (Prometheus's avg_over_time and avg).
 */
export function histogramMean(hs: readonly FloatHistogram[], sum: HistogramSum): FloatHistogram {
  let incremental = false;
  for (let i = 1; i < hs.length; i++) {
    const h = hs[i]!;
    const count = i + 1;
    if (!incremental) {
      if (sum.tryAdd(h) !== null) {
        sum.add(h);
        continue;
      }
      incremental = true;
      sum.toMean(count - 1);
    }
    sum.meanAdd(h, count);
  }
  if (incremental) return sum.result();
  return sum.result().div(hs.length);
}

// ---- trim operators (`h </ x` keeps observations below x, `h >/ x` those above) ----

function midpoint(lower: number, upper: number, positive: boolean, linear: boolean): number {
  const infL = lower === Infinity || lower === -Infinity;
  const infU = upper === Infinity || upper === -Infinity;
  if (infL) {
    if (infU) return 0;
    return upper > 0 ? upper / 2 : upper;
  }
  if (infU) return lower;
  if (linear) return (lower + upper) / 2;
  const geo = Math.sqrt(Math.abs(lower * upper));
  return positive ? geo : -geo;
}

/** The kept count and the midpoint of the kept part of a bucket with an infinite bound. */
function trimInfiniteBucket(upperTrim: boolean, b: Bucket, x: number): [number, number] {
  const zeroIfInf = (v: number): number => (v === Infinity || v === -Infinity ? 0 : v);
  if (b.lower === -Infinity) {
    if (upperTrim) {
      if (x >= b.upper) return [b.count, 0];
      if (x > 0 && b.upper > 0 && b.upper !== Infinity) return [(b.count * x) / b.upper, x / 2];
      if (b.upper <= 0) return [b.count, x];
      return [0, zeroIfInf(b.upper)];
    }
    if (x <= b.lower) return [b.count, 0];
    if (x >= 0 && b.upper > x && b.upper !== Infinity) return [b.count * (1 - x / b.upper), (x + b.upper) / 2];
    return [0, zeroIfInf(b.upper)];
  }
  if (upperTrim) return [0, zeroIfInf(b.lower)];
  if (x >= b.lower) return [b.count, x];
  return [0, zeroIfInf(b.lower)];
}

function trimBucket(b: Bucket, x: number, upperTrim: boolean, positive: boolean, custom: boolean): [number, number] {
  if (b.lower === -Infinity || b.upper === Infinity) return trimInfiniteBucket(upperTrim, b, x);
  let under: number;
  if (x <= b.lower) under = 0;
  else if (x >= b.upper) under = b.count;
  else under = b.count * fractionBelow(b.lower, b.upper, x, custom);
  if (upperTrim) return [under, midpoint(b.lower, x, positive, custom)];
  return [b.count - under, midpoint(x, b.upper, positive, custom)];
}

function trimZeroBucket(z: Bucket, x: number, hasNegative: boolean, hasPositive: boolean, upperTrim: boolean): [number, number] {
  let lower = z.lower;
  let upper = z.upper;
  if (hasNegative && !hasPositive) upper = 0;
  if (hasPositive && !hasNegative) lower = 0;
  if (upperTrim) {
    if (x <= lower) return [0, 0];
    if (x >= upper) return [z.count, (lower + upper) / 2];
    return [(z.count * (x - lower)) / (upper - lower), (lower + x) / 2];
  }
  if (x <= lower) return [z.count, (lower + upper) / 2];
  if (x >= upper) return [0, 0];
  return [(z.count * (upper - x)) / (upper - lower), (x + upper) / 2];
}

/**
 * Prometheus's TrimBuckets: the histogram with the observations above x
 * (upperTrim) or below x removed, partly filled buckets interpolated; count
 * and sum are then estimated from the kept buckets (midpoints), unless
 * nothing was removed.
 */
export function trimBuckets(h: FloatHistogram, x: number, upperTrim: boolean): FloatHistogram {
  const custom = h.usesCustomBuckets();
  let count = 0;
  let sum = 0;
  let trimmed = false;
  let hasPositive = false;
  let hasNegative = false;
  const sides: Array<{ positive: boolean; counts: Float64Array }> = [
    { positive: true, counts: Float64Array.from(h.positiveBuckets) },
    { positive: false, counts: Float64Array.from(h.negativeBuckets) },
  ];
  for (const side of sides) {
    let i = 0;
    for (const b of side.positive ? h.positiveBucketIterator() : h.negativeBucketIterator()) {
      const at = i++;
      if (b.count === 0) continue;
      if (side.positive) hasPositive = true;
      else hasNegative = true;
      const whole = upperTrim ? b.upper <= x : b.lower >= x;
      const partly = upperTrim ? b.lower < x : b.upper > x;
      if (whole) {
        count += b.count;
        sum += midpoint(b.lower, b.upper, side.positive, custom) * b.count;
      } else if (partly) {
        const [keep, mid] = trimBucket(b, x, upperTrim, side.positive, custom);
        count += keep;
        sum += mid * keep;
        if (side.counts[at] !== keep) {
          side.counts[at] = keep;
          trimmed = true;
        }
      } else {
        side.counts[at] = 0;
        trimmed = true;
      }
    }
  }
  let zeroCount = h.zeroCount;
  if (zeroCount > 0) {
    const [keep, mid] = trimZeroBucket(h.zeroBucket(), x, hasNegative, hasPositive, upperTrim);
    if (keep !== zeroCount) {
      zeroCount = keep;
      trimmed = true;
    }
    sum += mid * keep;
    count += keep;
  }
  if (!trimmed) return h;
  return h.with({ count, sum, zeroCount, positiveBuckets: sides[0]!.counts, negativeBuckets: sides[1]!.counts }).compact(0);
}

/**
 * How many samples a histogram sample counts as in query statistics and the
 * samples limit, as Prometheus counts an HPoint: its in-memory size in
 * 16-byte units (a 168-byte struct plus 8 bytes per span, bucket and bound).
 */
export function histogramSampleWeight(h: FloatHistogram): number {
  const size = 168 + 8 * (h.positiveSpans.length + h.negativeSpans.length + h.positiveBuckets.length + h.negativeBuckets.length + h.customValues.length);
  return Math.trunc((size + 8) / 16);
}
