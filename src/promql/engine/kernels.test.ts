import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LinearFit,
  avgOverTime,
  changes,
  countOverTime,
  deriv,
  doubleExponentialSmoothing,
  durationSeconds,
  extrapolatedRate,
  firstOverTime,
  instantDelta,
  lastOverTime,
  madOverTime,
  maxOverTime,
  minOverTime,
  predictLinear,
  quantileOverTime,
  resets,
  ResetTracker,
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
import { Scratch } from './quantile.js';
import { close } from './test_util.test.js';


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

function rate(values: number[], stepMs: number, evalT: number, rangeMs: number, isCounter: boolean, isRate: boolean): number | null {
  const w = windowed(values, stepMs, evalT, rangeMs);
  return extrapolatedRate(w.ts, w.vs, w.lo, w.hi, evalT - rangeMs, evalT, isCounter, isRate);
}

/** Scratch and regression result shared by the calls below, as one evaluation shares them. */
const scratch = new Scratch();
const fit = new LinearFit();
const mad = (ts: Float64Array, vs: Float64Array, lo: number, hi: number): number => madOverTime(ts, vs, lo, hi, scratch);

describe('ResetTracker', () => {
  test('answers as a scan of each window would, for windows moving forward, and starts over with begin()', () => {
    const vs = Float64Array.from([1, 2, 0, 3, 4, NaN, 5, 5, 1, 2]);
    const scan = (lo: number, hi: number): boolean => {
      for (let i = lo + 1; i < hi; i++) if (vs[i]! < vs[i - 1]!) return false;
      return true;
    };
    for (const width of [1, 2, 3, 5, 10]) {
      const r = new ResetTracker();
      for (let lo = 0; lo + width <= vs.length; lo++) assert.equal(r.noneIn(vs, lo, lo + width), scan(lo, lo + width), `[${lo}, ${lo + width})`);
      r.begin();
      assert.equal(r.noneIn(vs, 0, 2), true);
      assert.equal(r.noneIn(vs, 0, 3), false);
      // Skipping ahead past the resets.
      assert.equal(r.noneIn(vs, 3, 7), true);
      r.begin();
      assert.equal(r.noneIn(vs, 7, 9), false);
    }
  });

  test('a window without resets gives the same rate with and without the hint', () => {
    const ts = Float64Array.from([0, 15_000, 30_000, 45_000]);
    const vs = Float64Array.from([0.1, 0.30000000000000004, 7.7, 1e17]);
    assert.equal(extrapolatedRate(ts, vs, 0, 4, -1000, 60_000, true, true, true), extrapolatedRate(ts, vs, 0, 4, -1000, 60_000, true, true));
  });
});

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
    assert.equal(over(mad, [4, 6, 2, 1, 999, 1, 2]), 1);
    // Odd/even counts interpolate like quantile(0.5).
    assert.equal(over(mad, [2, 4, 6, 10]), 2);
    assert.equal(over(mad, [5, 5, 5]), 0);
    assert.equal(over(mad, [5]), 0);
    assert.ok(Number.isNaN(over(mad, [1, NaN, 3])));
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
    assert.equal(over((ts, vs, lo, hi) => quantileOverTime(0.5, ts, vs, lo, hi, scratch), [0, 10, 20, 30]), 15);
    assert.equal(over((ts, vs, lo, hi) => quantileOverTime(0.75, ts, vs, lo, hi, scratch), [30, 0, 20, 10]), 22.5);
    assert.equal(over((ts, vs, lo, hi) => quantileOverTime(-1, ts, vs, lo, hi, scratch), [1]), -Infinity);
    assert.equal(over((ts, vs, lo, hi) => quantileOverTime(2, ts, vs, lo, hi, scratch), [1]), Infinity);
    assert.ok(Number.isNaN(over((ts, vs, lo, hi) => quantileOverTime(NaN, ts, vs, lo, hi, scratch), [1])));
    // The caller's values stay untouched.
    const s = series([3, 1, 2], 10_000);
    quantileOverTime(0.5, s.ts, s.vs, s.lo, s.hi, scratch);
    assert.deepEqual(Array.from(s.vs.subarray(s.lo, s.hi)), [3, 1, 2]);
  });

  test('empty windows', () => {
    const e = new Float64Array(0);
    assert.ok(Number.isNaN(sumOverTime(e, e, 0, 0)));
    assert.ok(Number.isNaN(avgOverTime(e, e, 0, 0)));
    assert.equal(countOverTime(e, e, 0, 0), 0);
    assert.ok(Number.isNaN(quantileOverTime(0.5, e, e, 0, 0, scratch)));
  });

  test('large windows reuse growing scratch space', () => {
    const values = Array.from({ length: 5000 }, (_, i) => (i * 7919) % 5000);
    assert.equal(over((ts, vs, lo, hi) => quantileOverTime(1, ts, vs, lo, hi, scratch), values), 4999);
    assert.equal(over((ts, vs, lo, hi) => quantileOverTime(0, ts, vs, lo, hi, scratch), values), 0);
    // A much longer window grows the scratch.
    const huge = Array.from({ length: 70_000 }, (_, i) => 70_000 - i);
    assert.equal(over((ts, vs, lo, hi) => quantileOverTime(0.5, ts, vs, lo, hi, scratch), huge), 35_000.5);
    assert.equal(over(mad, huge), 17_500);
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
    close(predictLinear(s.ts, s.vs, s.lo, s.hi, 50 * MIN, 3600, fit), 76.81818181818181);
    // Range (0, 50m] at 50m drops the sample at 0.
    const w = windowed(vals, 5 * MIN, 50 * MIN, 50 * MIN);
    close(predictLinear(w.ts, w.vs, w.lo, w.hi, 50 * MIN, 3600, fit), 70);
    // Evaluated at 10m with the window of @ 3000.
    close(predictLinear(s.ts, s.vs, s.lo, s.hi, 10 * MIN, 3600, fit), 51.36363636363637);
    close(predictLinear(s.ts, s.vs, s.lo, s.hi, 70 * MIN, 3600, fit), 89.54545454545455);
  });

  test('constant and infinite series', () => {
    const c = series([3, 3, 3], 10_000);
    assert.equal(deriv(c.ts, c.vs, c.lo, c.hi), 0);
    assert.equal(predictLinear(c.ts, c.vs, c.lo, c.hi, 0, 100, fit), 3);
    const inf = series([-Infinity, ...expand(0, 80, 10), Infinity], 5 * MIN);
    assert.ok(Number.isNaN(deriv(inf.ts, inf.vs, inf.lo, inf.hi)!));
    const allInf = series([Infinity, Infinity], 10_000);
    assert.ok(Number.isNaN(predictLinear(allInf.ts, allInf.vs, allInf.lo, allInf.hi, 0, 1, fit)!));
    const one = series([1], 10_000);
    assert.equal(deriv(one.ts, one.vs, one.lo, one.hi), null);
    assert.equal(predictLinear(one.ts, one.vs, one.lo, one.hi, 0, 1, fit), null);
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

