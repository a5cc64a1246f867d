import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { CUSTOM_BUCKETS_SCHEMA, Histogram } from '../../model/histogram.js';
import { isStaleNaN } from '../../model/value.js';
import { ExponentialHistogramDataPointSchema, HistogramDataPointSchema } from './gen/metrics_pb.js';
import { HistogramConversionError, bucketLayout, explicitToCustomBuckets, exponentialToNative } from './native_histograms.js';

const big = (xs: number[]): bigint[] => xs.map(BigInt);
const expo = (init: MessageInitShape<typeof ExponentialHistogramDataPointSchema>) => create(ExponentialHistogramDataPointSchema, init);
const explicit = (init: MessageInitShape<typeof HistogramDataPointSchema>) => create(HistogramDataPointSchema, init);

test('bucketLayout: OTLP index i is Prometheus index i+1; gaps up to 2 filled, longer ones start a span', () => {
  assert.deepEqual(bucketLayout([], 0, 0, true), { spans: [], deltas: [] });
  assert.deepEqual(bucketLayout(big([3, 5]), 0, 0, true), { spans: [{ offset: 1, length: 2 }], deltas: [3, 2] });
  assert.deepEqual(bucketLayout(big([3, 0, 0, 5]), -2, 0, true), { spans: [{ offset: -1, length: 4 }], deltas: [3, -3, 0, 5] });
  assert.deepEqual(bucketLayout(big([3, 0, 0, 0, 5, 6]), 0, 0, true), {
    spans: [
      { offset: 1, length: 1 },
      { offset: 3, length: 2 },
    ],
    deltas: [3, 2, 1],
  });
  // Leading zeros stay in the first span, as Prometheus writes them.
  assert.deepEqual(bucketLayout(big([0, 0, 5]), 0, 0, true), { spans: [{ offset: 1, length: 3 }], deltas: [0, 0, 5] });
});

test('bucketLayout: scaling down merges 2^n neighbours, custom buckets keep their indices', () => {
  // Scale 10 to 8: OTLP buckets 0..3 are one bucket (index 0, Prometheus 1), 4..7 the next.
  assert.deepEqual(bucketLayout(big([1, 2, 3, 4, 5, 6, 7, 8]), 0, 2, true), { spans: [{ offset: 1, length: 2 }], deltas: [10, 16] });
  // Offset -3 at scaleDown 1: buckets -3 | -2,-1 | 0,1 -> Prometheus -1, 0, 1.
  assert.deepEqual(bucketLayout(big([1, 1, 1, 1, 1]), -3, 1, true), { spans: [{ offset: -1, length: 3 }], deltas: [1, 1, 0] });
  assert.deepEqual(bucketLayout(big([2, 0, 0, 0, 4]), 3, 0, false), {
    spans: [
      { offset: 3, length: 1 },
      { offset: 3, length: 1 },
    ],
    deltas: [2, 2],
  });
});

test('exponential points: schema from scale, zero bucket, count and sum; min and max dropped', () => {
  const { h, warning } = exponentialToNative(
    expo({ scale: 2, count: 7n, sum: 12.5, zeroCount: 1n, positive: { offset: 0, bucketCounts: big([2, 3]) }, negative: { offset: 1, bucketCounts: big([1]) }, min: -3, max: 9 }),
  );
  assert.equal(warning, null);
  assert.ok(
    h.equals(
      new Histogram({
        schema: 2,
        zeroThreshold: 1e-128,
        zeroCount: 1,
        count: 7,
        sum: 12.5,
        positiveSpans: [{ offset: 1, length: 2 }],
        positiveBuckets: [2, 1],
        negativeSpans: [{ offset: 2, length: 1 }],
        negativeBuckets: [1],
      }),
    ),
    h.toString(),
  );
  h.validate();
  // OTLP bucket 0 at scale 2, (1, 2^(1/4)], is Prometheus bucket 1; negative OTLP bucket 1 is [-2^(2/4), -2^(1/4)).
  assert.equal(String(h), '{count:7, sum:12.5, [-1.414213562373095,-1.189207115002721):1, [-1e-128,1e-128]:1, (1,1.189207115002721]:2, (1.189207115002721,1.414213562373095]:3}');
});

test('exponential points: scales above 8 merged down, below -4 refused as Prometheus', () => {
  const { h } = exponentialToNative(expo({ scale: 9, count: 3n, sum: 3, positive: { offset: 0, bucketCounts: big([1, 2]) } }));
  assert.equal(h.schema, 8);
  assert.deepEqual(h.positiveSpans, [{ offset: 1, length: 1 }]);
  assert.deepEqual([...h.positiveBuckets], [3]);
  assert.throws(() => exponentialToNative(expo({ scale: -5 })), (e: unknown) => e instanceof HistogramConversionError && e.message === 'cannot convert exponential to native histogram. Scale must be >= -4, was -5');
  assert.equal(exponentialToNative(expo({ scale: -4 })).h.schema, -4);
});

test('points without a recorded value are stale markers; zero count with a sum warns', () => {
  const stale = exponentialToNative(expo({ scale: 3, flags: 1, count: 5n, sum: 2, positive: { bucketCounts: big([5]) } })).h;
  assert.ok(isStaleNaN(stale.sum));
  assert.equal(stale.schema, 3);
  stale.validate();
  const staleNhcb = explicitToCustomBuckets(explicit({ flags: 1, explicitBounds: [1, 2], bucketCounts: big([1, 0, 0]), count: 1n })).h;
  assert.ok(isStaleNaN(staleNhcb.sum));
  assert.equal(staleNhcb.schema, CUSTOM_BUCKETS_SCHEMA);
  staleNhcb.validate();
  assert.equal(exponentialToNative(expo({ scale: 0, sum: 1.5 })).warning, 'exponential histogram data point has zero count, but non-zero sum: 1.500000');
  assert.equal(explicitToCustomBuckets(explicit({ sum: 2 })).warning, 'histogram data point has zero count, but non-zero sum: 2.000000');
});

test('explicit-bucket points as custom buckets: bounds as custom values, leading empty buckets left out', () => {
  const { h } = explicitToCustomBuckets(explicit({ count: 6n, sum: 20, explicitBounds: [0.5, 1, 5, 10], bucketCounts: big([0, 0, 2, 0, 4]) }));
  h.validate();
  assert.equal(h.schema, CUSTOM_BUCKETS_SCHEMA);
  assert.deepEqual([...h.customValues], [0.5, 1, 5, 10]);
  assert.deepEqual(h.positiveSpans, [{ offset: 2, length: 3 }]);
  assert.deepEqual([...h.positiveBuckets], [2, -2, 4]);
  assert.equal(String(h), '{count:6, sum:20, (1,5]:2, (10,+Inf]:4}');
  const none = explicitToCustomBuckets(explicit({ count: 0n, explicitBounds: [1], bucketCounts: big([0, 0]) })).h;
  none.validate();
  assert.equal(none.positiveBuckets.length, 0);
});
