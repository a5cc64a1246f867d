import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FloatHistogram, Histogram } from './histogram.js';
import { ClassicHistogramBuilder, NhcbConversionError, classicHistogramSeries } from './histogram_nhcb.js';

function build(buckets: [number, number][], count?: number, sum = 0): ClassicHistogramBuilder {
  const b = new ClassicHistogramBuilder();
  for (const [le, c] of buckets) b.setBucketCount(le, c);
  if (count !== undefined) b.setCount(count);
  b.setSum(sum);
  return b;
}

describe('classic histograms to custom-bucket native histograms', () => {
  test('integral counts: an integer histogram, buckets in any order, +Inf from the count, short empty runs kept', () => {
    const h = build(
      [
        [5, 3],
        [1, 1],
        [2, 3],
        [1, 99], // a bound seen before is ignored
        [10, 3],
        [20, 3],
        [50, 3],
        [100, 4],
      ],
      6,
      12.5,
    ).convert();
    assert.ok(h instanceof Histogram);
    h.validate();
    assert.deepEqual(Array.from(h.customValues), [1, 2, 5, 10, 20, 50, 100]);
    // Per bucket: 1 2 0 0 0 0 1 2 (+Inf); three empty buckets in a row are cut, so two spans.
    assert.equal(h.toString(), '{count:6, sum:12.5, [-Inf,1]:1, (1,2]:2, (50,100]:1, (100,+Inf]:2}');
    assert.deepEqual(h.positiveSpans, [
      { offset: 0, length: 2 },
      { offset: 4, length: 2 },
    ]);
  });

  test('fractional counts: a float histogram with every empty bucket removed; no _count means the last bucket\'s', () => {
    const h = build([
      [1, 0.5],
      [2, 0.5],
      [Infinity, 2.5],
    ]).convert();
    assert.ok(h instanceof FloatHistogram);
    assert.equal(h.count, 2.5);
    assert.deepEqual(h.positiveSpans, [
      { offset: 0, length: 1 },
      { offset: 1, length: 1 },
    ]);
    assert.deepEqual(Array.from(h.positiveBuckets), [0.5, 2]);
  });

  test('errors with Prometheus\'s texts', () => {
    const err = (f: () => unknown, msg: string): void => assert.throws(f, (e: unknown) => e instanceof NhcbConversionError && e.message === msg);
    err(() => build([[NaN, 1]]), 'bucket boundary must not be NaN');
    err(() => build([[1, -1]]), 'bucket count must be non-negative: le=1, count=-1');
    err(() => build([[1, 5], [2, 3]]), 'count is not cumulative: 3 < 5');
    err(() => build([[1, 1], [5, 3], [2, 4]]), 'count is not cumulative: 4 > 3');
    err(() => build([[1, 1]], -2), 'count must be non-negative: count=-2');
    err(() => build([[1, 1], [Infinity, 3]], 4).convert(), 'count mismatch: count=4 != le=+Inf count=3');
    // The first error sticks.
    const b = new ClassicHistogramBuilder();
    assert.throws(() => b.setBucketCount(NaN, 1));
    assert.throws(() => b.setSum(1), /boundary must not be NaN/);
    assert.ok(b.error() instanceof NhcbConversionError);
  });

  test('series names', () => {
    assert.deepEqual(classicHistogramSeries('rpc_seconds_bucket'), { suffix: 'bucket', base: 'rpc_seconds' });
    assert.deepEqual(classicHistogramSeries('rpc_seconds_count'), { suffix: 'count', base: 'rpc_seconds' });
    assert.deepEqual(classicHistogramSeries('rpc_seconds_sum'), { suffix: 'sum', base: 'rpc_seconds' });
    assert.deepEqual(classicHistogramSeries('up'), { suffix: null, base: 'up' });
  });
});
