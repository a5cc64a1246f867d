import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { kahanCompensation } from './kahan.js';

describe('kahan', () => {
  test('kahanCompensation keeps what the sum lost and resets on overflow', () => {
    // MAX_VALUE + 1 rounds to MAX_VALUE: the 1 goes into the compensation.
    assert.equal(Number.MAX_VALUE + 1, Number.MAX_VALUE);
    assert.equal(kahanCompensation(1, Number.MAX_VALUE, 5), 6);
    assert.equal(Number.MAX_VALUE + Number.MAX_VALUE, Infinity);
    assert.equal(kahanCompensation(Number.MAX_VALUE, Number.MAX_VALUE, 5), 0);
  });
});
