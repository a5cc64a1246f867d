// Classic histograms (`_bucket{le=...}`, `_count`, `_sum` series) turned into
// native histograms with custom buckets (schema -53, "NHCB"), as Prometheus
// converts them for convert_classic_histograms_to_nhcb and promqltest's
// load_with_nhcb: the buckets may arrive in any order, a repeated bound is
// ignored, a missing +Inf bucket is taken from the count. Integral counts give
// an integer Histogram (empty runs of up to two buckets kept), others a
// FloatHistogram (all empty buckets removed), exactly as Prometheus compacts them.
import { formatG } from '../gofmt/float.js';
import { CUSTOM_BUCKETS_SCHEMA, FloatHistogram, Histogram } from './histogram.js';

/** Why a classic histogram cannot be converted; `message` is Prometheus's text. */
export class NhcbConversionError extends Error {
  override readonly name = 'NhcbConversionError';
}

/** Collects one classic histogram's series, then converts it. Mutable, like a builder; convert() does not change it. */
export class ClassicHistogramBuilder {
  private readonly les: number[] = [];
  private readonly counts: number[] = [];
  private count = 0;
  private hasCount = false;
  private sum = 0;
  private err: NhcbConversionError | null = null;

  /** The first error recorded (every later call keeps it). */
  error(): NhcbConversionError | null {
    return this.err;
  }

  private fail(message: string): NhcbConversionError {
    this.err = new NhcbConversionError(message);
    return this.err;
  }

  /** A `_bucket` sample: cumulative count of observations at or below `le`. */
  setBucketCount(le: number, count: number): void {
    if (this.err !== null) throw this.err;
    if (le !== le) throw this.fail('bucket boundary must not be NaN');
    if (count < 0) throw this.fail(`bucket count must be non-negative: le=${formatG(le)}, count=${formatG(count)}`);
    const n = this.les.length;
    if (n === 0 || this.les[n - 1]! < le) {
      if (n > 0 && count < this.counts[n - 1]!) throw this.fail(`count is not cumulative: ${formatG(count)} < ${formatG(this.counts[n - 1]!)}`);
      this.les.push(le);
      this.counts.push(count);
      return;
    }
    // An earlier bound: insert it in order (a bound seen before is ignored).
    let i = 0;
    while (this.les[i]! < le) i++;
    if (this.les[i] === le) return;
    if (i > 0 && count < this.counts[i - 1]!) throw this.fail(`count is not cumulative: ${formatG(count)} < ${formatG(this.counts[i - 1]!)}`);
    if (count > this.counts[i]!) throw this.fail(`count is not cumulative: ${formatG(count)} > ${formatG(this.counts[i]!)}`);
    this.les.splice(i, 0, le);
    this.counts.splice(i, 0, count);
  }

  /** The `_count` sample. */
  setCount(count: number): void {
    if (this.err !== null) throw this.err;
    if (count < 0) throw this.fail(`count must be non-negative: count=${formatG(count)}`);
    this.count = count;
    this.hasCount = true;
  }

  /** The `_sum` sample. */
  setSum(sum: number): void {
    if (this.err !== null) throw this.err;
    this.sum = sum;
  }

  /** The native histogram; throws NhcbConversionError when the count and the +Inf bucket disagree. */
  convert(): Histogram | FloatHistogram {
    if (this.err !== null) throw this.err;
    const les = this.les.slice();
    const cum = this.counts.slice();
    let count = this.count;
    if (!this.hasCount && cum.length > 0) count = cum[cum.length - 1]!;
    if (les.length === 0 || les[les.length - 1] !== Infinity) {
      les.push(Infinity);
      cum.push(count);
    }
    const last = cum[cum.length - 1]!;
    const integral = cum.every((c) => Number.isInteger(c)) && Number.isInteger(count);
    if (count !== last) {
      throw new NhcbConversionError(`count mismatch: count=${formatG(count)} != le=${formatG(les[les.length - 1]!)} count=${formatG(last)}`);
    }
    const perBucket = cum.map((c, i) => c - (i > 0 ? cum[i - 1]! : 0));
    const init = {
      schema: CUSTOM_BUCKETS_SCHEMA,
      count,
      sum: this.sum,
      positiveSpans: [{ offset: 0, length: les.length }],
      // The +Inf bound is implied, never stored.
      customValues: les.slice(0, -1),
    };
    if (integral) {
      const deltas = perBucket.map((c, i) => c - (i > 0 ? perBucket[i - 1]! : 0));
      return new Histogram({ ...init, positiveBuckets: deltas }).compact(2);
    }
    return new FloatHistogram({ ...init, positiveBuckets: perBucket }).compact(0);
  }
}

/** Which classic-histogram series a metric name is, and the histogram's name. */
export function classicHistogramSeries(name: string): { suffix: 'bucket' | 'sum' | 'count' | null; base: string } {
  for (const suffix of ['bucket', 'sum', 'count'] as const) {
    if (name.endsWith(`_${suffix}`)) return { suffix, base: name.slice(0, -suffix.length - 1) };
  }
  return { suffix: null, base: name };
}
