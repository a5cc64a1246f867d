import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatE, formatF, formatG, formatOpenMetricsFloat, goRound, NumError, parseGoFloat, parseGoInt } from './float.js';

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
    assert.throws(() => parseGoFloat('1e400'), (e: unknown) => e instanceof NumError && e.message === 'strconv.ParseFloat: parsing "1e400": value out of range');
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
    for (const [x, s] of cases) assert.equal(formatF(x), s, String(x));
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
    for (const [x, s] of cases) assert.equal(formatG(x), s, String(x));
  });

  test('%f and rounding', () => {
    assert.equal(formatF(1.5, 6), '1.500000');
    assert.equal(formatF(2 ** 63, 6), '9223372036854775808.000000');
    assert.equal(formatF(-Infinity, 6), '-Inf');
    assert.equal(goRound(2.5), 3);
    assert.equal(goRound(-2.5), -3);
  });
});

// Moved with engine/format.ts's copies.
describe('formatG (Go %g / strconv g -1)', () => {
  const cases: Array<[number, string]> = [
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [1.5, '1.5'],
    [-2.25, '-2.25'],
    [100000, '100000'],
    [123456, '123456'],
    [1000000, '1e+06'],
    [1234567, '1.234567e+06'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1e21, '1e+21'],
    [1e-300, '1e-300'],
    [0.1 + 0.2, '0.30000000000000004'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    // The example of strconv.FormatFloat in Go's documentation, with 'g' and -1.
    [3.1415926535, '3.1415926535'],
    [-1.5e-7, '-1.5e-07'],
    [999999.9, '999999.9'],
    [Number.MAX_VALUE, '1.7976931348623157e+308'],
    [5e-324, '5e-324'],
  ];
  for (const [x, want] of cases) test(`${x} -> ${want}`, () => assert.equal(formatG(x), want));

  test('with a precision (%.2g)', () => {
    assert.equal(formatG(1, 2), '1');
    assert.equal(formatG(10, 2), '10');
    assert.equal(formatG(100, 2), '1e+02');
    assert.equal(formatG(123, 2), '1.2e+02');
    assert.equal(formatG(0.5, 2), '0.5');
    assert.equal(formatG(0.123456, 2), '0.12');
    assert.equal(formatG(-0, 3), '-0');
  });
});

test('formatF never uses an exponent', () => {
  assert.equal(formatF(1e21), '1000000000000000000000');
  assert.equal(formatF(1e-7), '0.0000001');
  assert.equal(formatF(12.5), '12.5');
  assert.equal(formatF(-3), '-3');
  assert.equal(formatF(NaN), 'NaN');
  assert.equal(formatF(Infinity), '+Inf');
  // strconv.FormatFloat(3.1415926535, 'f', -1, 64), from Go's documentation.
  assert.equal(formatF(3.1415926535), '3.1415926535');
  assert.equal(formatF(0.25, 0), '0');
  assert.equal(formatF(-1e22, 2), '-10000000000000000000000.00');
});

describe('parseGoFloat (strconv.ParseFloat)', () => {
  test('accepts what Go accepts', () => {
    assert.equal(parseGoFloat('1'), 1);
    assert.equal(parseGoFloat('-0.5'), -0.5);
    assert.equal(parseGoFloat('.5'), 0.5);
    assert.equal(parseGoFloat('5.'), 5);
    assert.equal(parseGoFloat('1e3'), 1000);
    assert.equal(parseGoFloat('1_000'), 1000);
    assert.equal(parseGoFloat('+Inf'), Infinity);
    assert.equal(parseGoFloat('-inf'), -Infinity);
    assert.equal(parseGoFloat('Infinity'), Infinity);
    assert.ok(Number.isNaN(parseGoFloat('NaN')));
    assert.equal(parseGoFloat('0x1p-2'), 0.25);
    assert.equal(parseGoFloat('0x1.8p1'), 3);
    assert.equal(parseGoFloat('-0x_1p4'), -16);
  });
  test('rejects what Go rejects', () => {
    for (const s of ['', ' 1', '1 ', 'abc', '0x10', '1e', '--1', '1__0', 'Hello World', '+nan', 'infin', '0xp1']) {
      assert.throws(() => parseGoFloat(s), (e: unknown) => e instanceof NumError && e.reason === 'invalid syntax', s);
    }
    assert.throws(() => parseGoFloat('1e400'), (e: unknown) => e instanceof NumError && e.reason === 'value out of range');
  });
});

test('formatOpenMetricsFloat matches Prometheus', () => {
  assert.equal(formatOpenMetricsFloat(1), '1.0');
  assert.equal(formatOpenMetricsFloat(10), '10.0');
  assert.equal(formatOpenMetricsFloat(0.25), '0.25');
  assert.equal(formatOpenMetricsFloat(1e6), '1e+06');
  assert.equal(formatOpenMetricsFloat(123456), '123456.0');
  assert.equal(formatOpenMetricsFloat(1.5e-7), '1.5e-07');
  assert.equal(formatOpenMetricsFloat(Infinity), '+Inf');
  assert.equal(formatOpenMetricsFloat(-Infinity), '-Inf');
  assert.equal(formatOpenMetricsFloat(NaN), 'NaN');
  assert.equal(formatOpenMetricsFloat(-0), '0.0');
  assert.equal(formatOpenMetricsFloat(-2), '-2.0');
});

test('formatE matches strconv.FormatFloat(x, \'e\', prec, 64)', () => {
  assert.equal(formatE(1), '1e+00');
  assert.equal(formatE(15), '1.5e+01');
  assert.equal(formatE(-0.00012), '-1.2e-04');
  assert.equal(formatE(0), '0e+00');
  assert.equal(formatE(1e300), '1e+300');
  assert.equal(formatE(Infinity), '+Inf');
  assert.equal(formatE(NaN), 'NaN');
  assert.equal(formatE(1234.5678, 2), '1.23e+03');
  assert.equal(formatE(1, 3), '1.000e+00');
});
