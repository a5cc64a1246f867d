// Compensated (Kahan) summation as Prometheus's util/kahansum does it, and the
// running accumulators of the sum, avg, stddev and stdvar aggregations.
// Imports nothing.

/**
 * One step of Neumaier's improved Kahan summation (Prometheus's kahansum.Inc):
 * the compensation after adding `inc` to `sum`, whose new value is `sum + inc`.
 * Callers write `c = kahanCompensation(x, sum, c); sum += x;`. The
 * compensation is reset to 0 once the sum overflows, so an infinite sum stays
 * infinite.
 */
export function kahanCompensation(inc: number, sum: number, c: number): number {
  const t = sum + inc;
  if (t === Infinity || t === -Infinity) return 0;
  if (Math.abs(sum) >= Math.abs(inc)) return c + ((sum - t) + inc);
  return c + ((inc - t) + sum);
}

/** Compensated running sum (Prometheus's `sum` aggregation and sum_over_time). */
export class KahanSum {
  private sum = 0;
  private c = 0;

  add(x: number): void {
    this.c = kahanCompensation(x, this.sum, this.c);
    this.sum += x;
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
      const s = this.sum + x;
      if (s !== Infinity && s !== -Infinity) {
        this.c = kahanCompensation(x, this.sum, this.c);
        this.sum = s;
        return;
      }
      this.incremental = true;
      this.mean = this.sum / (count - 1);
      this.c /= count - 1;
    }
    const q = (count - 1) / count;
    const inc = x / count;
    const base = q * this.mean;
    this.c = kahanCompensation(inc, base, q * this.c);
    this.mean = base + inc;
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
