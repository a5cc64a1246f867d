import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MATH_FUNCTIONS, goAtan2, goMax, goMin, goPow, round } from './go_math.js';

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

  test('round, Go min/max', () => {
    assert.equal(round(2.5, 1), 3);
    assert.equal(round(-2.5, 1), -2);
    assert.equal(round(12.34, 0.1), 12.3);
    assert.equal(round(12.35, 0.1), 12.4);
    assert.equal(round(1234, 100), 1200);
    assert.equal(goMax(NaN, Infinity), Infinity);
    assert.ok(Number.isNaN(goMax(NaN, 1)));
    assert.equal(goMin(NaN, -Infinity), -Infinity);
    assert.ok(Object.is(goMax(-0, 0), 0));
    assert.ok(Object.is(goMin(0, -0), -0));
  });
});
