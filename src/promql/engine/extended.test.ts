import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { anchoredFirst, extendPoints, extendedRate, interpolate, smoothedValue } from './extended.js';
import { instant, matrixLines, store, vectorLines } from './test_util.test.js';

const M = 60_000;
const F = { features: new Set(['promql-extended-range-selectors']) };
const db = store({ 'c_total{}': [0, 10, 20, 30, 40, 50, 60] });

test('interpolate treats a drop of a counter as a restart from zero', () => {
  assert.equal(interpolate(0, 10, 10, 20, 5, false), 15);
  assert.equal(interpolate(0, 10, 10, 4, 5, true), 2);
});

test('kernels over anchored and smoothed windows', () => {
  const ts = Float64Array.from([0, 60_000, 120_000, 180_000]);
  const vs = Float64Array.from([0, 10, 20, 30]);
  // Anchored: from the last sample at or before the range start to the last one.
  assert.equal(extendedRate(ts, vs, 0, 4, 60_000, 180_000, true, false, false), 20);
  // Smoothed: values interpolated at 30s and 150s.
  assert.equal(extendedRate(ts, vs, 0, 4, 30_000, 150_000, true, false, true), 20);
  assert.equal(anchoredFirst(ts, 0, 4, 60_000), 1);
  assert.equal(anchoredFirst(ts, 0, 4, 180_000), -1);
  assert.equal(smoothedValue(ts, vs, 0, 4, 90_000), 15);
  const ext = extendPoints(ts, vs, 4, 30_000, 150_000, true);
  assert.deepEqual([...ext.ts], [30_000, 60_000, 120_000, 150_000]);
  assert.deepEqual([...ext.vs], [5, 10, 20, 25]);
});

describe('queries with anchored and smoothed selectors', () => {
  test('increase over an anchored range uses the sample before the start', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'increase(c_total[2m] anchored)', 4 * M, F)).value), ['{} 20']);
    assert.deepEqual(vectorLines((await instant(db, 'increase(c_total[90s] smoothed)', 4 * M, F)).value), ['{} 15']);
    assert.deepEqual(vectorLines((await instant(db, 'changes(c_total[2m] anchored)', 4 * M, F)).value), ['{} 2']);
  });

  test('a smoothed instant selector interpolates between samples', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'c_total smoothed', 90_000, F)).value), ['{__name__="c_total"} 15']);
  });

  test('a bare anchored range vector gains a point at the range start', async () => {
    assert.deepEqual(matrixLines((await instant(db, 'c_total[90s] anchored', 4 * M, F)).value), ['{__name__="c_total"} 20@150 30@180 40@240']);
  });

  test('only some functions accept the modifiers', async () => {
    await assert.rejects(instant(db, 'max_over_time(c_total[2m] smoothed)', 4 * M, F), {
      message: 'smoothed modifier can only be used with: delta, increase, rate - not with max_over_time',
    });
    await assert.rejects(instant(db, 'deriv(c_total[2m] anchored)', 4 * M, F), {
      message: 'anchored modifier can only be used with: changes, delta, increase, rate, resets - not with deriv',
    });
  });
});
