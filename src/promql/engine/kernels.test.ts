import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DATE_FUNCTIONS,
  KahanSum,
  MATH_FUNCTIONS,
  MeanAccumulator,
  VarianceAccumulator,
  avgOverTime,
  bucketFraction,
  bucketQuantile,
  changes,
  clamp,
  countOverTime,
  deriv,
  doubleExponentialSmoothing,
  durationSeconds,
  extrapolatedRate,
  firstOverTime,
  goAtan2,
  goMax,
  goMin,
  goPow,
  instantDelta,
  kahanSumInc,
  lastOverTime,
  madOverTime,
  maxOverTime,
  minOverTime,
  predictLinear,
  quantile,
  quantileOverTime,
  resets,
  round,
  smoothingFactorError,
  stddevOverTime,
  stdvarOverTime,
  sumOverTime,
  tsOfFirstOverTime,
  tsOfLastOverTime,
  tsOfMaxOverTime,
  tsOfMinOverTime,
} from './kernels.js';
import { formatF } from '../../gofmt/float.js';

const MIN = 60_000;

/** A window of samples `stepMs` apart starting at `startMs`, padded on both sides to exercise lo/hi. */
function series(values: number[], stepMs: number, startMs = 0): { ts: Float64Array; vs: Float64Array; lo: number; hi: number } {
  const n = values.length;
  const ts = new Float64Array(n + 2);
  const vs = new Float64Array(n + 2);
  ts[0] = startMs - stepMs;
  vs[0] = 12345;
  for (let i = 0; i < n; i++) {
    ts[i + 1] = startMs + i * stepMs;
    vs[i + 1] = values[i]!;
  }
  ts[n + 1] = startMs + n * stepMs;
  vs[n + 1] = -12345;
  return { ts, vs, lo: 1, hi: n + 1 };
}

/** Values of a Prometheus test-file expansion `a+bxn` (n+1 values). */
function expand(a: number, b: number, n: number): number[] {
  return Array.from({ length: n + 1 }, (_, i) => a + b * i);
}

/** Samples of a series loaded at `stepMs` intervals that fall into the left-open range (evalT - range, evalT]. */
function windowed(values: number[], stepMs: number, evalT: number, rangeMs: number): { ts: Float64Array; vs: Float64Array; lo: number; hi: number } {
  const s = series(values, stepMs);
  let lo = s.lo;
  while (lo < s.hi && s.ts[lo]! <= evalT - rangeMs) lo++;
  let hi = lo;
  while (hi < s.hi && s.ts[hi]! <= evalT) hi++;
  return { ts: s.ts, vs: s.vs, lo, hi };
}

function close(actual: number | null, expected: number, msg?: string): void {
  assert.ok(actual !== null, msg ?? 'expected a value, got null');
  if (Number.isNaN(expected)) {
    assert.ok(Number.isNaN(actual), `${msg ?? ''} expected NaN, got ${actual}`);
    return;
  }
  if (!Number.isFinite(expected)) {
    assert.equal(actual, expected, msg);
    return;
  }
  const tol = Math.max(1e-12, Math.abs(expected) * 1e-12);
  assert.ok(Math.abs(actual - expected) <= tol, `${msg ?? ''} expected ${expected}, got ${actual}`);
}

function rate(values: number[], stepMs: number, evalT: number, rangeMs: number, isCounter: boolean, isRate: boolean): number | null {
  const w = windowed(values, stepMs, evalT, rangeMs);
  return extrapolatedRate(w.ts, w.vs, w.lo, w.hi, evalT - rangeMs, evalT, isCounter, isRate);
}

describe('extrapolatedRate', () => {
  test('increase over a range covering the whole series', () => {
    // 0+10x10 at 5m: the series starts at the range boundary, no extrapolation.
    close(rate(expand(0, 10, 10), 5 * MIN, 50 * MIN, 50 * MIN, true, false), 100);
    // Counter reset in the middle: 0+18x5 0+18x5.
    close(rate([...expand(0, 18, 5), ...expand(0, 18, 5)], 5 * MIN, 50 * MIN, 50 * MIN, true, false), 160);
  });

  test('extrapolation to the start is limited by the zero point of a counter', () => {
    // Over [100m]: samples cover 0..50m; to the left the gap exceeds 1.1 intervals,
    // so extrapolation is by half an interval (2.5m) unless the counter hits 0 earlier.
    close(rate(expand(0, 10, 10), 5 * MIN, 50 * MIN, 100 * MIN, true, false), 100);
    close(rate([...expand(0, 18, 5), ...expand(0, 18, 5)], 5 * MIN, 50 * MIN, 100 * MIN, true, false), 162);
    close(rate(expand(10, 10, 10), 5 * MIN, 50 * MIN, 100 * MIN, true, false), 105);
    close(rate(expand(1, 10, 10), 5 * MIN, 50 * MIN, 100 * MIN, true, false), 101);
  });

  test('a decrease counts as a reset to zero', () => {
    close(rate([0, 1, 2, 3, 2, 3, 4], 5 * MIN, 30 * MIN, 30 * MIN, true, false), 7);
  });

  test('rate divides by the range in seconds', () => {
    close(rate([...expand(0, 27, 4), ...expand(0, 27, 5)], 5 * MIN, 50 * MIN, 50 * MIN, true, true), 0.08);
    close(rate(expand(0, 80, 10), 5 * MIN, 50 * MIN, 50 * MIN, true, true), 0.26666666666666666);
  });

  test('zero cutoff versus the half-interval cutoff', () => {
    // load 4m: 0+240x10, 60+240x10, 120+240x10, 180+240x10 evaluated at 10m over [20m].
    const starts = [0, 60, 120, 180, 240, 300];
    const want10m = [0.5, 0.55, 0.6, 0.6, 0.6, 0.6];
    starts.forEach((s, i) => close(rate(expand(s, 240, 10), 4 * MIN, 10 * MIN, 20 * MIN, true, true), want10m[i]!, `start ${s}`));
    starts.forEach((s) => close(rate(expand(s, 240, 10), 4 * MIN, 50 * MIN, 20 * MIN, true, true), 0.6, `start ${s} at 50m`));
  });

  test('fewer than two samples give no result; a single pair works', () => {
    // testcounter_reset_end_total 0+10x9 0 10: at 50m over [5m] only one sample remains.
    const vals = [...expand(0, 10, 9), 0, 10];
    assert.equal(rate(vals, 5 * MIN, 50 * MIN, 5 * MIN, true, true), null);
    close(rate(vals, 5 * MIN, 50 * MIN, 6 * MIN, true, true), 0);
    assert.equal(extrapolatedRate(new Float64Array(0), new Float64Array(0), 0, 0, 0, 1000, true, true), null);
  });

  test('delta is not treated as a counter', () => {
    // A gauge falling from 10 to 0 over the whole range: no reset handling, no zero cutoff.
    close(rate([10, 5, 0], 5 * MIN, 10 * MIN, 10 * MIN, false, false), -10);
    // Extrapolation on both ends by the full gaps (under 1.1 intervals): samples at 1m..9m of (0, 10m].
    const ts = Float64Array.of(1 * MIN, 5 * MIN, 9 * MIN);
    const vs = Float64Array.of(1, 5, 9);
    close(extrapolatedRate(ts, vs, 0, 3, 0, 10 * MIN, false, false), 10);
    // The same as a counter would stop at the zero point, 1m before the first sample, which is also 0.
    close(extrapolatedRate(ts, vs, 0, 3, 0, 10 * MIN, true, false), 10);
  });

  test('rate with a non-integer range in seconds uses Go duration seconds', () => {
    assert.equal(durationSeconds(1001), 1.001);
    assert.equal(durationSeconds(300_000), 300);
    assert.equal(durationSeconds(15_001), 15 + 0.001);
  });
});

describe('instantDelta', () => {
  test('irate and idelta use the last two samples', () => {
    const s = series(expand(0, 10, 10), 5 * MIN);
    close(instantDelta(s.ts, s.vs, s.lo, s.hi, true), 10 / 300);
    close(instantDelta(s.ts, s.vs, s.lo, s.hi, false), 10);
  });

  test('irate takes the later value across a reset, idelta does not', () => {
    const s = series([5, 10, 3], 10_000);
    close(instantDelta(s.ts, s.vs, s.lo, s.hi, true), 0.3);
    close(instantDelta(s.ts, s.vs, s.lo, s.hi, false), -7);
  });

  test('fewer than two samples or equal timestamps give null', () => {
    const s = series([5], 10_000);
    assert.equal(instantDelta(s.ts, s.vs, s.lo, s.hi, true), null);
    assert.equal(instantDelta(Float64Array.of(1, 1), Float64Array.of(1, 2), 0, 2, false), null);
  });

  test('NaN values propagate', () => {
    const s = series([1, NaN], 10_000);
    close(instantDelta(s.ts, s.vs, s.lo, s.hi, false), NaN);
    close(instantDelta(s.ts, s.vs, s.lo, s.hi, true), NaN);
  });
});

describe('<aggregation>_over_time', () => {
  const over = (fn: (ts: Float64Array, vs: Float64Array, lo: number, hi: number) => number, values: number[]): number => {
    const s = series(values, 10_000);
    return fn(s.ts, s.vs, s.lo, s.hi);
  };

  test('avg_over_time with infinities and overflow', () => {
    close(over(avgOverTime, [1, 2, 3, 4, 5]), 3);
    close(over(avgOverTime, [1, 2, 3, 4, Infinity]), Infinity);
    close(over(avgOverTime, [1, 2, 3, Infinity, -Infinity]), NaN);
    close(over(avgOverTime, [Infinity, 0, Infinity]), Infinity);
    close(over(avgOverTime, [-Infinity, -Infinity, -Infinity, Infinity]), NaN);
    // The sum overflows; the incremental mean does not.
    close(over(avgOverTime, [9.988465674311579e307, 9.988465674311579e307]), 9.988465674311579e307);
    close(over(avgOverTime, [-9.988465674311579e307, -9.988465674311579e307, -9.988465674311579e307]), -9.988465674311579e307);
    close(over(avgOverTime, [-9.988465674311579e307, 9.988465674311579e307]), 0);
    close(over(avgOverTime, [1, 2, 3, NaN]), NaN);
    close(over(avgOverTime, [5]), 5);
  });

  test('Kahan compensation keeps small terms next to huge ones', () => {
    assert.equal(over(sumOverTime, [1, 1e100, 1, -1e100]), 2);
    assert.equal(over(avgOverTime, [1, 1e100, 1, -1e100]), 0.5);
    assert.equal(over(avgOverTime, [1e10, 1e-6, 1e-6, 1e-6, 1e-6, 1e-6]), 1.6666666666666675e9);
    // Exact equality for a constant series, as Prometheus's tests rely on.
    assert.equal(over(avgOverTime, new Array<number>(13).fill(52)), 52);
    assert.equal(over(sumOverTime, new Array<number>(1003).fill(1)), 1003);
  });

  test('sum_over_time of an overflowing sum is infinite', () => {
    assert.equal(over(sumOverTime, [9.988465674311579e307, 9.988465674311579e307]), Infinity);
    assert.equal(over(sumOverTime, [Infinity, -Infinity]), -Infinity + Infinity);
  });

  test('min and max ignore NaN unless everything is NaN', () => {
    assert.equal(over(minOverTime, [NaN, 3, 1, NaN, 2]), 1);
    assert.equal(over(maxOverTime, [NaN, 3, 1, NaN, 2]), 3);
    assert.ok(Number.isNaN(over(maxOverTime, [NaN, NaN])));
    assert.equal(over(minOverTime, [Infinity, -Infinity]), -Infinity);
    assert.equal(over(maxOverTime, [-Infinity]), -Infinity);
  });

  test('ts_of_min/max pick the last occurrence; ts_of_first/last in seconds', () => {
    // Samples at 0s, 10s, 20s, 30s, 40s.
    assert.equal(over(tsOfMaxOverTime, [1, 5, 2, 5, 0]), 30);
    assert.equal(over(tsOfMinOverTime, [0, 5, 0, 5, 1]), 20);
    assert.equal(over(tsOfMinOverTime, [NaN, NaN, 3]), 20);
    assert.equal(over(tsOfFirstOverTime, [1, 2, 3]), 0);
    assert.equal(over(tsOfLastOverTime, [1, 2, 3]), 20);
    assert.equal(over(firstOverTime, [7, 8, 9]), 7);
    assert.equal(over(lastOverTime, [7, 8, 9]), 9);
    assert.equal(over(countOverTime, [7, 8, 9]), 3);
  });

  test('stddev and stdvar (population)', () => {
    // metric 0 8 8 2 3 over [2m] at 1m: mean 4.2, variance 10.56.
    close(over(stdvarOverTime, [0, 8, 8, 2, 3]), 10.56);
    close(over(stddevOverTime, [0, 8, 8, 2, 3]), 3.249615361854384);
    // #4927: large offset, tiny spread.
    close(over(stdvarOverTime, [1.5990505637277868, 1.5990505637277868, 1.5990505637277868]), 0);
    assert.equal(over(stdvarOverTime, [7]), 0);
    assert.ok(Number.isNaN(over(stdvarOverTime, [1, Infinity])));
  });

  test('mad_over_time', () => {
    // 4 6 2 1 999 1 2: median 2, deviations 2 4 0 1 997 1 0 -> median 1.
    assert.equal(over(madOverTime, [4, 6, 2, 1, 999, 1, 2]), 1);
    // Odd/even counts interpolate like quantile(0.5).
    assert.equal(over(madOverTime, [2, 4, 6, 10]), 2);
    assert.equal(over(madOverTime, [5, 5, 5]), 0);
    assert.equal(over(madOverTime, [5]), 0);
    assert.ok(Number.isNaN(over(madOverTime, [1, NaN, 3])));
  });

  test('changes and resets', () => {
    // x{a="b"} NaN NaN NaN -> 0 changes; x{a="c"} 0 NaN 0 -> 2.
    assert.equal(over(changes, [NaN, NaN, NaN]), 0);
    assert.equal(over(changes, [0, NaN, 0]), 2);
    assert.equal(over(changes, [1, 1, 2, 2, 1]), 2);
    assert.equal(over(resets, [1, 2, 3, 0, 1, 0, 0, 1, 2, 0]), 3);
    assert.equal(over(resets, [1, NaN, 0]), 0);
    assert.equal(over(resets, [5]), 0);
    assert.equal(over(changes, [5]), 0);
  });

  test('quantile_over_time', () => {
    assert.equal(over((ts, vs, lo, hi) => quantileOverTime(0.5, ts, vs, lo, hi), [0, 10, 20, 30]), 15);
    assert.equal(over((ts, vs, lo, hi) => quantileOverTime(0.75, ts, vs, lo, hi), [30, 0, 20, 10]), 22.5);
    assert.equal(over((ts, vs, lo, hi) => quantileOverTime(-1, ts, vs, lo, hi), [1]), -Infinity);
    assert.equal(over((ts, vs, lo, hi) => quantileOverTime(2, ts, vs, lo, hi), [1]), Infinity);
    assert.ok(Number.isNaN(over((ts, vs, lo, hi) => quantileOverTime(NaN, ts, vs, lo, hi), [1])));
    // The caller's values stay untouched.
    const s = series([3, 1, 2], 10_000);
    quantileOverTime(0.5, s.ts, s.vs, s.lo, s.hi);
    assert.deepEqual(Array.from(s.vs.subarray(s.lo, s.hi)), [3, 1, 2]);
  });

  test('empty windows', () => {
    const e = new Float64Array(0);
    assert.ok(Number.isNaN(sumOverTime(e, e, 0, 0)));
    assert.ok(Number.isNaN(avgOverTime(e, e, 0, 0)));
    assert.equal(countOverTime(e, e, 0, 0), 0);
    assert.ok(Number.isNaN(quantileOverTime(0.5, e, e, 0, 0)));
  });

  test('large windows reuse growing scratch space', () => {
    const values = Array.from({ length: 5000 }, (_, i) => (i * 7919) % 5000);
    assert.equal(over((ts, vs, lo, hi) => quantileOverTime(1, ts, vs, lo, hi), values), 4999);
    assert.equal(over((ts, vs, lo, hi) => quantileOverTime(0, ts, vs, lo, hi), values), 0);
    // Beyond the retained scratch size a temporary array is used.
    const huge = Array.from({ length: 70_000 }, (_, i) => 70_000 - i);
    assert.equal(over((ts, vs, lo, hi) => quantileOverTime(0.5, ts, vs, lo, hi), huge), 35_000.5);
    assert.equal(over(madOverTime, huge), 17_500);
  });
});

describe('deriv, predict_linear, double_exponential_smoothing', () => {
  const vals = [...expand(0, 10, 4), ...expand(0, 10, 5)];

  test('deriv matches the documented regression', () => {
    const s = series(vals, 5 * MIN);
    close(deriv(s.ts, s.vs, s.lo, s.hi), 0.010606060606060607);
    const c = series(expand(0, 80, 10), 5 * MIN);
    close(deriv(c.ts, c.vs, c.lo, c.hi), 0.26666666666666666);
  });

  test('predict_linear anchors the intercept at the evaluation time', () => {
    const s = series(vals, 5 * MIN);
    close(predictLinear(s.ts, s.vs, s.lo, s.hi, 50 * MIN, 3600), 76.81818181818181);
    // Range (0, 50m] at 50m drops the sample at 0.
    const w = windowed(vals, 5 * MIN, 50 * MIN, 50 * MIN);
    close(predictLinear(w.ts, w.vs, w.lo, w.hi, 50 * MIN, 3600), 70);
    // Evaluated at 10m with the window of @ 3000.
    close(predictLinear(s.ts, s.vs, s.lo, s.hi, 10 * MIN, 3600), 51.36363636363637);
    close(predictLinear(s.ts, s.vs, s.lo, s.hi, 70 * MIN, 3600), 89.54545454545455);
  });

  test('constant and infinite series', () => {
    const c = series([3, 3, 3], 10_000);
    assert.equal(deriv(c.ts, c.vs, c.lo, c.hi), 0);
    assert.equal(predictLinear(c.ts, c.vs, c.lo, c.hi, 0, 100), 3);
    const inf = series([-Infinity, ...expand(0, 80, 10), Infinity], 5 * MIN);
    assert.ok(Number.isNaN(deriv(inf.ts, inf.vs, inf.lo, inf.hi)!));
    const allInf = series([Infinity, Infinity], 10_000);
    assert.ok(Number.isNaN(predictLinear(allInf.ts, allInf.vs, allInf.lo, allInf.hi, 0, 1)!));
    const one = series([1], 10_000);
    assert.equal(deriv(one.ts, one.vs, one.lo, one.hi), null);
    assert.equal(predictLinear(one.ts, one.vs, one.lo, one.hi, 0, 1), null);
  });

  test('double_exponential_smoothing of linear series follows the line', () => {
    // 0+10x1000 at 10s, [1m] at 8000s: samples 7950..8000s with values 7950..8000.
    const w = windowed(expand(0, 10, 1000), 10_000, 8_000_000, 60_000);
    close(doubleExponentialSmoothing(w.vs, w.lo, w.hi, 0.01, 0.1), 8000);
    const one = series([1], 10_000);
    assert.equal(doubleExponentialSmoothing(one.vs, one.lo, one.hi, 0.5, 0.5), null);
    // Hand-computed: s1=1, b=1; i=1: s=0.5*2+0.5*(1+1)=2; i=2: b=0.5*(2-1)+0.5*1=1, s=0.5*4+0.5*(2+1)=3.5.
    const s = series([1, 2, 4], 10_000);
    assert.equal(doubleExponentialSmoothing(s.vs, s.lo, s.hi, 0.5, 0.5), 3.5);
  });

  test('smoothing factor validation messages', () => {
    assert.equal(smoothingFactorError(0.5, 0.5), null);
    assert.equal(smoothingFactorError(1, 0.5), 'invalid smoothing factor. Expected: 0 < sf < 1, got: 1.000000');
    assert.equal(smoothingFactorError(0.5, 0), 'invalid trend factor. Expected: 0 < tf < 1, got: 0.000000');
    assert.equal(smoothingFactorError(NaN, 0.5), 'invalid smoothing factor. Expected: 0 < sf < 1, got: NaN');
    assert.equal(formatF(-Infinity, 6), '-Inf');
    assert.equal(formatF(1e21, 6), '1000000000000000000000.000000');
  });
});

describe('quantile', () => {
  test('interpolates between ranks', () => {
    const v = Float64Array.of(4, 1, 3, 2);
    assert.equal(quantile(0.5, v, 4), 2.5);
    assert.equal(quantile(0, Float64Array.of(4, 1, 3, 2), 4), 1);
    assert.equal(quantile(1, Float64Array.of(4, 1, 3, 2), 4), 4);
    assert.equal(quantile(0.8, Float64Array.of(1, 2, 3, 4, 5), 5), 4.2);
  });

  test('sorts NaN first, as Prometheus does', () => {
    const v = Float64Array.of(3, NaN, 1);
    assert.equal(quantile(1, v, 3), 3);
    assert.ok(Number.isNaN(quantile(0, Float64Array.of(3, NaN, 1), 3)));
    assert.ok(Number.isNaN(v[0]));
    assert.deepEqual(Array.from(v.subarray(1)), [1, 3]);
  });

  test('special q values and empty input', () => {
    assert.equal(quantile(-0.1, Float64Array.of(1), 1), -Infinity);
    assert.equal(quantile(1.1, Float64Array.of(1), 1), Infinity);
    assert.ok(Number.isNaN(quantile(NaN, Float64Array.of(1), 1)));
    assert.ok(Number.isNaN(quantile(0.5, new Float64Array(4), 0)));
  });

  test('a zero weight on an infinite neighbour gives NaN', () => {
    // 1*(1-0) + Inf*0 in Prometheus's formula.
    assert.ok(Number.isNaN(quantile(0, Float64Array.of(1, Infinity), 2)));
  });

  test('only the first n values take part', () => {
    const v = Float64Array.of(5, 1, 100, -100);
    assert.equal(quantile(1, v, 2), 5);
    assert.equal(v[2], 100);
  });
});

describe('bucketQuantile', () => {
  const q = (phi: number, bounds: number[], counts: number[]) =>
    bucketQuantile(phi, Float64Array.from(bounds), Float64Array.from(counts), bounds.length);

  test('interpolates linearly within the bucket', () => {
    // 0.1: 50, 0.2: 70, 0.5: 90, +Inf: 100 -> median in the first bucket from 0.
    close(q(0.5, [0.1, 0.2, 0.5, Infinity], [50, 70, 90, 100]).value, 0.1);
    close(q(0.25, [0.1, 0.2, 0.5, Infinity], [50, 70, 90, 100]).value, 0.05);
    close(q(0.8, [0.1, 0.2, 0.5, Infinity], [50, 70, 90, 100]).value, 0.35);
  });

  test('buckets in any order and duplicate bounds are merged', () => {
    close(q(0.8, [Infinity, 0.5, 0.1, 0.2], [100, 90, 50, 70]).value, 0.35);
    // mixed_bucket: le 0.1, 0.2, 2e-1, 2.0e-1 and +Inf with counts 1,1,1,1,4 at t: 0.2 merges to 3.
    const r = q(0.5, [0.1, 0.2, 0.2, 0.2, Infinity], [1, 1, 1, 1, 4]);
    close(r.value, 0.15);
    assert.equal(r.forcedMonotonicity, false);
  });

  test('ranks in the +Inf bucket return the second-highest bound', () => {
    assert.equal(q(0.99, [1, 2, Infinity], [10, 20, 100]).value, 2);
  });

  test('a lowest bucket with a bound <= 0 returns that bound', () => {
    assert.equal(q(0.1, [-1, 0, Infinity], [10, 20, 30]).value, -1);
    assert.equal(q(0.5, [-1, 0, Infinity], [10, 20, 30]).value, -0.5);
  });

  test('no +Inf bucket, too few buckets, no observations, special q', () => {
    assert.ok(Number.isNaN(q(0.5, [1, 2], [1, 2]).value));
    assert.ok(Number.isNaN(q(0.5, [Infinity], [10]).value));
    assert.ok(Number.isNaN(q(0.5, [Infinity, Infinity], [10, 10]).value));
    assert.ok(Number.isNaN(q(0.5, [1, Infinity], [0, 0]).value));
    assert.equal(q(-1, [1, 2], [1, 2]).value, -Infinity);
    assert.equal(q(2, [1, Infinity], [1, 2]).value, Infinity);
    assert.ok(Number.isNaN(q(NaN, [1, Infinity], [1, 2]).value));
    assert.ok(Number.isNaN(bucketQuantile(0.5, new Float64Array(0), new Float64Array(0), 0).value));
  });

  test('non-monotonic counts are flattened and reported', () => {
    // nonmonotonic_bucket at 50m: 20 10 50 40 90 80.
    const bounds = [0.1, 1, 10, 100, 1000, Infinity];
    const counts = [20, 10, 50, 40, 90, 80];
    close(q(0.01, bounds, counts).value, 0.0045);
    close(q(0.5, bounds, counts).value, 8.5);
    const r = q(0.99, bounds, counts);
    close(r.value, 979.75);
    assert.equal(r.forcedMonotonicity, true);
    assert.equal(r.fixedPrecision, false);
    assert.equal(r.minBucket, 1);
    assert.equal(r.maxBucket, Infinity);
    assert.equal(r.maxDiff, 10);
    // The caller's arrays are left alone.
    const c = Float64Array.from(counts);
    bucketQuantile(0.5, Float64Array.from(bounds), c, 6);
    assert.deepEqual(Array.from(c), counts);
  });

  test('histograms with very many buckets', () => {
    const n = 5000;
    const bounds = Array.from({ length: n }, (_, i) => (i === n - 1 ? Infinity : i + 1));
    const counts = Array.from({ length: n }, (_, i) => Math.min(i + 1, n - 1));
    close(q(0.5, bounds.slice().reverse(), counts.slice().reverse()).value, 2499.5);
    close(bucketFraction(0, 10, Float64Array.from(bounds), Float64Array.from(counts), n), 10 / (n - 1));
  });

  test('tiny relative deviations are precision noise, not forced monotonicity', () => {
    const r = q(0.5, [1, 2, Infinity], [1e12, 1e12 - 0.5, 2e12]);
    assert.equal(r.fixedPrecision, true);
    assert.equal(r.forcedMonotonicity, false);
    // Rank 1e12 is reached in the first bucket.
    close(r.value, 1);
    const up = q(0.5, [1, 2, Infinity], [100, 100 + 1e-11, 200]);
    assert.equal(up.fixedPrecision, true);
  });
});

describe('bucketFraction', () => {
  const f = (lower: number, upper: number, bounds: number[], counts: number[]) =>
    bucketFraction(lower, upper, Float64Array.from(bounds), Float64Array.from(counts), bounds.length);

  test('interpolates inside buckets from 0 for positive buckets', () => {
    close(f(0, 1.5, [1, 2, 3, Infinity], [1, 3, 6, 100]), 0.02);
    close(f(-Infinity, Infinity, [1, 2, 3, Infinity], [1, 3, 6, 100]), 1);
    // testhistogram2-like: le 2: 4, 4: 8, 6: 12, +Inf: 12 (observations 0..6 spread evenly).
    close(f(0, 4, [2, 4, 6, Infinity], [4, 8, 12, 12]), 0.6666666666666666);
    close(f(0, 3.5, [2, 4, 6, Infinity], [4, 8, 12, 12]), 0.5833333333333334);
  });

  test('infinite-width buckets contribute nothing when interpolating', () => {
    close(f(-4, -2, [-3, -2, -1, Infinity], [10, 12, 15, 100]), 0.02);
    close(f(-Infinity, -1.5, [-3, -2, -1, Infinity], [10, 12, 15, 100]), 0.135);
    close(f(4, 5, [1, 2, 3, Infinity], [1, 3, 6, 100]), 0);
    close(f(400, Infinity, [1, 2, 3, Infinity], [1, 3, 6, 100]), 0.94);
  });

  test('degenerate inputs', () => {
    assert.equal(f(2, 2, [1, 2, 3, Infinity], [1, 3, 6, 100]), 0);
    assert.equal(f(3, 2, [1, 2, 3, Infinity], [1, 3, 6, 100]), 0);
    assert.ok(Number.isNaN(f(0, 1, [1, 2], [1, 3])));
    assert.ok(Number.isNaN(f(0, 1, [1, Infinity], [0, 0])));
    assert.ok(Number.isNaN(f(NaN, 1, [1, Infinity], [1, 2])));
  });
});

describe('accumulators', () => {
  test('kahanSumInc resets the compensation on overflow', () => {
    const s = kahanSumInc(1, Number.MAX_VALUE, 5);
    assert.equal(s, Number.MAX_VALUE);
    assert.equal(kahanSumInc(Number.MAX_VALUE, Number.MAX_VALUE, 5), Infinity);
  });

  test('KahanSum', () => {
    const k = new KahanSum();
    for (const x of [1, 1e100, 1, -1e100]) k.add(x);
    assert.equal(k.value(), 2);
    k.reset();
    assert.equal(k.value(), 0);
    k.add(Number.MAX_VALUE);
    k.add(Number.MAX_VALUE);
    assert.equal(k.value(), Infinity);
  });

  test('MeanAccumulator switches to an incremental mean on overflow', () => {
    const m = new MeanAccumulator();
    assert.ok(Number.isNaN(m.value()));
    for (const x of [9.988465674311579e307, 9.988465674311579e307, 9.988465674311579e307]) m.add(x);
    close(m.value(), 9.988465674311579e307);
    assert.equal(m.size(), 3);
    m.reset();
    for (const x of [1, 1e100, 1, -1e100]) m.add(x);
    assert.equal(m.value(), 0.5);
  });

  test('VarianceAccumulator: Welford, NaN when the first value is not finite', () => {
    const v = new VarianceAccumulator();
    for (const x of [0, 8, 8, 2, 3]) v.add(x);
    close(v.variance(), 10.56);
    close(v.stddev(), Math.sqrt(10.56));
    v.reset();
    v.add(Infinity);
    assert.ok(Number.isNaN(v.variance()));
    v.reset();
    v.add(5);
    assert.equal(v.variance(), 0);
  });
});

describe('element-wise math as Go computes it', () => {
  const M = MATH_FUNCTIONS;

  test('Go-specific results', () => {
    assert.equal(M.log10!(1e15), 14.999999999999998);
    assert.equal(M.log10!(1000), 3);
    assert.equal(M.log10!(100), 2);
    assert.equal(M.log2!(8), 3);
    assert.equal(M.sinh!(710), Infinity);
    assert.equal(M.ln!(5e-324), -709.0895657128241);
    assert.equal(M.cos!(Math.PI / 2), 6.123233995736757e-17);
    assert.equal(M.exp!(1), Math.E);
    assert.equal(M.tan!(1), 1.557407724654902);
    assert.equal(M.sin!(1e22), -0.8522008497671889);
  });

  test('special values', () => {
    assert.ok(Number.isNaN(M.ln!(-1)));
    assert.equal(M.ln!(0), -Infinity);
    assert.equal(M.ln!(Infinity), Infinity);
    assert.equal(M.exp!(-Infinity), 0);
    assert.equal(M.exp!(1000), Infinity);
    assert.equal(M.exp!(-1000), 0);
    assert.ok(Number.isNaN(M.sin!(Infinity)));
    assert.ok(Object.is(M.sin!(-0), -0));
    assert.equal(M.atanh!(1), Infinity);
    assert.equal(M.atanh!(-1), -Infinity);
    assert.ok(Number.isNaN(M.acosh!(0.5)));
    assert.ok(Number.isNaN(M.asin!(1.5)));
    assert.equal(M.tanh!(50), 1);
    assert.ok(Object.is(M.sgn!(-0), -0));
    assert.equal(M.sgn!(-3), -1);
    assert.ok(Number.isNaN(M.sgn!(NaN)));
    assert.equal(M.deg!(Math.PI), 180);
    assert.equal(M.rad!(180), Math.PI);
    assert.equal(M.abs!(-2), 2);
    assert.equal(M.ceil!(1.2), 2);
    assert.equal(M.floor!(-1.2), -2);
    assert.equal(M.sqrt!(16), 4);
  });

  test('every function listed by Prometheus is present', () => {
    const names = ['abs', 'ceil', 'floor', 'exp', 'sqrt', 'ln', 'log2', 'log10', 'sgn', 'deg', 'rad', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'tanh', 'asinh', 'acosh', 'atanh'];
    assert.deepEqual(Object.keys(M).sort(), names.sort());
  });

  test('goPow and goAtan2 follow Go special cases', () => {
    assert.equal(goPow(1, NaN), 1);
    assert.equal(goPow(-1, Infinity), 1);
    assert.equal(goPow(2, 10), 1024);
    assert.equal(goPow(-8, 1 / 3), NaN);
    assert.equal(goPow(0, -3), Infinity);
    assert.equal(goPow(-0, -3), -Infinity);
    assert.equal(goPow(10, -2), 0.01);
    assert.equal(goPow(2, 0.5), Math.SQRT2);
    assert.equal(goAtan2(1, 1), Math.PI / 4);
    assert.equal(goAtan2(0, -1), Math.PI);
    assert.ok(Object.is(goAtan2(-0, 1), -0));
    assert.equal(goAtan2(-Infinity, -Infinity), -2.356194490192345);
  });

  test('round, clamp, Go min/max', () => {
    assert.equal(round(2.5, 1), 3);
    assert.equal(round(-2.5, 1), -2);
    assert.equal(round(12.34, 0.1), 12.3);
    assert.equal(round(12.35, 0.1), 12.4);
    assert.equal(round(1234, 100), 1200);
    assert.equal(clamp(5, 0, 3), 3);
    assert.equal(clamp(-5, 0, 3), 0);
    assert.ok(Number.isNaN(clamp(NaN, 0, 3)));
    assert.equal(goMax(NaN, Infinity), Infinity);
    assert.ok(Number.isNaN(goMax(NaN, 1)));
    assert.equal(goMin(NaN, -Infinity), -Infinity);
    assert.ok(Object.is(goMax(-0, 0), 0));
    assert.ok(Object.is(goMin(0, -0), -0));
  });
});

describe('date functions', () => {
  const D = DATE_FUNCTIONS;
  const all = (t: number) =>
    ['year', 'month', 'day_of_month', 'hour', 'minute', 'day_of_week', 'day_of_year', 'days_in_month'].map((n) => D[n]!(t));

  test('calendar fields in UTC', () => {
    // 2006-01-02 22:04:05, a Monday.
    assert.deepEqual(all(1136239445), [2006, 1, 2, 22, 4, 1, 2, 31]);
    assert.deepEqual(all(0), [1970, 1, 1, 0, 0, 4, 1, 31]);
    // 2016-02-29 23:59:59 and 2016-03-01.
    assert.deepEqual(all(1456790399), [2016, 2, 29, 23, 59, 1, 60, 29]);
    assert.deepEqual(all(1456790400), [2016, 3, 1, 0, 0, 2, 61, 31]);
    assert.equal(D.day_of_year!(1483191420), 366);
    assert.equal(D.day_of_year!(1672493820), 365);
    assert.equal(D.days_in_month!(1485907200), 28);
    // Fractions are truncated towards zero, so -0.5 is the epoch and -1 the second before.
    assert.deepEqual(all(-0.5), all(0));
    assert.deepEqual(all(-1), [1969, 12, 31, 23, 59, 3, 365, 31]);
  });

  test('far past and future as Go computes them', () => {
    assert.deepEqual(all(-62135596801), [0, 12, 31, 23, 59, 0, 366, 31]);
    assert.deepEqual(all(1e12), [33658, 9, 27, 1, 46, 5, 270, 30]);
    assert.deepEqual(all(9.2e18), [291536396232, 8, 31, 11, 33, 5, 244, 31]);
  });

  test('NaN, infinities and out-of-range values become Go math.MinInt64 seconds', () => {
    const minInt64 = [292277026596, 12, 4, 15, 30, 0, 339, 31];
    assert.deepEqual(all(NaN), minInt64);
    assert.deepEqual(all(Infinity), minInt64);
    assert.deepEqual(all(-Infinity), minInt64);
    assert.deepEqual(all(1e300), minInt64);
  });
});
