import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BucketScratch, bucketFraction, bucketQuantile, quantile } from './quantile.js';
import { close } from './test_util.test.js';

/** Shared by every call below, as one evaluation shares it across steps. */
const scratch = new BucketScratch();

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
    bucketQuantile(phi, Float64Array.from(bounds), Float64Array.from(counts), bounds.length, scratch);

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
    assert.ok(Number.isNaN(bucketQuantile(0.5, new Float64Array(0), new Float64Array(0), 0, scratch).value));
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
    bucketQuantile(0.5, Float64Array.from(bounds), c, 6, scratch);
    assert.deepEqual(Array.from(c), counts);
  });

  test('histograms with very many buckets', () => {
    const n = 5000;
    const bounds = Array.from({ length: n }, (_, i) => (i === n - 1 ? Infinity : i + 1));
    const counts = Array.from({ length: n }, (_, i) => Math.min(i + 1, n - 1));
    close(q(0.5, bounds.slice().reverse(), counts.slice().reverse()).value, 2499.5);
    close(bucketFraction(0, 10, Float64Array.from(bounds), Float64Array.from(counts), n, scratch), 10 / (n - 1));
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
    bucketFraction(lower, upper, Float64Array.from(bounds), Float64Array.from(counts), bounds.length, scratch);

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
