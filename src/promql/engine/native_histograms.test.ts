import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CounterResetHint, FloatHistogram } from '../../model/histogram.js';
import { HistogramSum, histogramFraction, histogramMean, histogramQuantile, histogramVariance, trimBuckets } from './native_histograms.js';

// Schema 0: positive buckets (0.5,1] (1,2] (2,4] (4,8].
const h = new FloatHistogram({ count: 8, sum: 20, positiveSpans: [{ offset: 0, length: 4 }], positiveBuckets: [2, 2, 2, 2] });
const custom = new FloatHistogram({ schema: -53, count: 4, sum: 6, customValues: [1, 2, 4], positiveSpans: [{ offset: 0, length: 4 }], positiveBuckets: [1, 1, 1, 1] });

test('quantiles interpolate exponentially in exponential buckets, linearly in custom ones, and cap at the last finite bound', () => {
  assert.equal(histogramQuantile(0.5, h).value, 2);
  // Rank 1 of 2 in (0.5,1]: half way on a log scale.
  assert.ok(Math.abs(histogramQuantile(0.125, h).value - Math.SQRT1_2) < 1e-12);
  assert.equal(histogramQuantile(0.5, custom).value, 2);
  assert.equal(histogramQuantile(0.375, custom).value, 1.5);
  // The +Inf bucket gives its lower bound.
  assert.equal(histogramQuantile(0.99, custom).value, 4);
  assert.equal(histogramQuantile(-1, h).value, -Infinity);
  assert.equal(histogramQuantile(2, h).value, Infinity);
  assert.ok(Number.isNaN(histogramQuantile(0.5, new FloatHistogram({ count: 0 })).value));
});

test('fractions', () => {
  assert.equal(histogramFraction(-Infinity, Infinity, h).value, 1);
  assert.equal(histogramFraction(1, 4, h).value, 0.5);
  assert.equal(histogramFraction(1, 1, h).value, 0);
  assert.equal(histogramFraction(0, 1.5, custom).value, 0.375);
  assert.ok(Number.isNaN(histogramFraction(NaN, 1, h).value));
});

test('variance from bucket midpoints (geometric for exponential buckets)', () => {
  const one = new FloatHistogram({ count: 2, sum: 2 * Math.SQRT2, positiveSpans: [{ offset: 1, length: 1 }], positiveBuckets: [2] });
  assert.ok(Math.abs(histogramVariance(one)) < 1e-12);
  assert.ok(histogramVariance(h) > 0);
});

test('compensated sums keep small terms next to huge ones; the mean runs incrementally once the sum overflows', () => {
  const at = (sum: number, count = 1) => new FloatHistogram({ count, sum });
  const s = new HistogramSum(at(1));
  for (const x of [1e100, 1, -1e100]) s.add(at(x));
  assert.equal(s.result().sum, 2);
  const big = [at(0, 1.7976931348623157e308), at(0, 1e308), at(0, 1e308)];
  const mean = histogramMean(big, new HistogramSum(big[0]!));
  assert.ok(Math.abs(mean.count - (1.7976931348623157e308 / 3 + (1e308 / 3) * 2)) / mean.count < 1e-12);
});

test('counter reset hints seen by a sum are reported', () => {
  const s = new HistogramSum(h.with({ counterResetHint: CounterResetHint.CounterReset }));
  s.add(h.with({ counterResetHint: CounterResetHint.NotCounterReset }));
  assert.ok(s.reset && s.notReset);
});

test('trim keeps the observations on one side, interpolating the bucket cut, and estimates count and sum', () => {
  const below = trimBuckets(h, 2, true);
  assert.equal(below.count, 4);
  assert.deepEqual(Array.from(below.positiveBuckets), [2, 2]);
  const above = trimBuckets(h, 2, false);
  assert.equal(above.count, 4);
  // Nothing cut: the histogram comes back as it was.
  assert.equal(trimBuckets(h, 100, true), h);
  const half = trimBuckets(custom, 1.5, true);
  assert.equal(half.count, 1.5);
});
