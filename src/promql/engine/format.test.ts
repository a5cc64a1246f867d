import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatF, formatG, formatRFC3339, goQuote, parseGoFloat } from './format.js';

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
  ];
  for (const [x, want] of cases) test(`${x} -> ${want}`, () => assert.equal(formatG(x), want));

  test('with a precision (%.2g)', () => {
    assert.equal(formatG(1, 2), '1');
    assert.equal(formatG(10, 2), '10');
    assert.equal(formatG(100, 2), '1e+02');
    assert.equal(formatG(123, 2), '1.2e+02');
    assert.equal(formatG(0.5, 2), '0.5');
    assert.equal(formatG(0.123456, 2), '0.12');
  });
});

test('formatF never uses an exponent', () => {
  assert.equal(formatF(1e21), '1000000000000000000000');
  assert.equal(formatF(1e-7), '0.0000001');
  assert.equal(formatF(12.5), '12.5');
  assert.equal(formatF(-3), '-3');
  assert.equal(formatF(NaN), 'NaN');
  assert.equal(formatF(Infinity), '+Inf');
});

test('goQuote escapes like strconv.Quote', () => {
  assert.equal(goQuote('plain'), '"plain"');
  assert.equal(goQuote('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(goQuote('tab\tnl\n'), '"tab\\tnl\\n"');
  assert.equal(goQuote('\x01'), '"\\x01"');
  assert.equal(goQuote('ümlaut ✓'), '"ümlaut ✓"');
});

test('formatRFC3339 prints whole seconds in UTC', () => {
  assert.equal(formatRFC3339(0), '1970-01-01T00:00:00Z');
  assert.equal(formatRFC3339(1_700_000_000_999), '2023-11-14T22:13:20Z');
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
  });
  test('rejects what Go rejects', () => {
    for (const s of ['', ' 1', '1 ', 'abc', '0x10', '1e', '1e400', '--1', '1__0', 'Hello World']) {
      assert.equal(parseGoFloat(s), null, s);
    }
  });
});
