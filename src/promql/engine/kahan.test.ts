import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KahanSum, MeanAccumulator, VarianceAccumulator, kahanCompensation } from './kahan.js';
import { close } from './test_util.test.js';

describe('accumulators', () => {
  test('kahanCompensation keeps what the sum lost and resets on overflow', () => {
    // MAX_VALUE + 1 rounds to MAX_VALUE: the 1 goes into the compensation.
    assert.equal(Number.MAX_VALUE + 1, Number.MAX_VALUE);
    assert.equal(kahanCompensation(1, Number.MAX_VALUE, 5), 6);
    assert.equal(Number.MAX_VALUE + Number.MAX_VALUE, Infinity);
    assert.equal(kahanCompensation(Number.MAX_VALUE, Number.MAX_VALUE, 5), 0);
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
