import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFloatF, formatFloatFixed6, formatFloatG, NumberSyntaxError, parseGoFloat, parseGoInt, roundHalfAway } from './numbers.js';

describe('Go number parsing', () => {
  test('ParseInt with base prefixes', () => {
    assert.equal(parseGoInt('42'), 42);
    assert.equal(parseGoInt('0x2A'), 42);
    assert.equal(parseGoInt('052'), 42);
    assert.equal(parseGoInt('0b101010'), 42);
    assert.equal(parseGoInt('0o52'), 42);
    assert.equal(parseGoInt('4_2'), 42);
    assert.equal(parseGoInt('0x_2A'), 42);
    assert.equal(parseGoInt('9223372036854775807'), 9223372036854775807);
    for (const bad of ['', '08', '1.5', '1e3', '4__2', '_42', '42_', '9223372036854775808', '0x']) {
      assert.equal(parseGoInt(bad), null, bad);
    }
  });

  test('ParseFloat', () => {
    assert.equal(parseGoFloat('1.5'), 1.5);
    assert.equal(parseGoFloat('.5e1'), 5);
    assert.equal(parseGoFloat('5.'), 5);
    assert.equal(parseGoFloat('1_0.5'), 10.5);
    assert.equal(parseGoFloat('Inf'), Infinity);
    assert.equal(parseGoFloat('-infinity'), -Infinity);
    assert.ok(Number.isNaN(parseGoFloat('nan')));
    assert.equal(parseGoFloat('1e-400'), 0);
    assert.throws(() => parseGoFloat('1e400'), (e: unknown) => e instanceof NumberSyntaxError && e.message === 'strconv.ParseFloat: parsing "1e400": value out of range');
    assert.throws(() => parseGoFloat('0x10'), /invalid syntax/);
    assert.throws(() => parseGoFloat('1__0'), /invalid syntax/);
  });
});

describe('Go number formatting', () => {
  test("FormatFloat 'f' shortest", () => {
    const cases: Array<[number, string]> = [
      [0, '0'],
      [-0, '-0'],
      [1, '1'],
      [0.1, '0.1'],
      [1e21, '1000000000000000000000'],
      [1.5e-7, '0.00000015'],
      [-2.5e22, '-25000000000000000000000'],
      [Infinity, '+Inf'],
      [-Infinity, '-Inf'],
      [NaN, 'NaN'],
    ];
    for (const [x, s] of cases) assert.equal(formatFloatF(x), s, String(x));
  });

  test('%v', () => {
    const cases: Array<[number, string]> = [
      [0, '0'],
      [23, '23'],
      [-23.5, '-23.5'],
      [100000, '100000'],
      [1e6, '1e+06'],
      [1234567, '1.234567e+06'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [1e100, '1e+100'],
      [Infinity, '+Inf'],
    ];
    for (const [x, s] of cases) assert.equal(formatFloatG(x), s, String(x));
  });

  test('%f and rounding', () => {
    assert.equal(formatFloatFixed6(1.5), '1.500000');
    assert.equal(formatFloatFixed6(2 ** 63), '9223372036854775808.000000');
    assert.equal(formatFloatFixed6(-Infinity), '-Inf');
    assert.equal(roundHalfAway(2.5), 3);
    assert.equal(roundHalfAway(-2.5), -3);
  });
});
