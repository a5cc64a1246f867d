// Compensated (Kahan) summation as Prometheus's util/kahansum does it; the sum,
// avg, stddev and stdvar aggregations and the *_over_time kernels call it inline.
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
