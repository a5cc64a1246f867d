import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFloat, formatValue, printable, sprint, sprintf, sprintln } from './fmt.js';
import { boolV, floatV, intV, mapOf, stringMap, stringV, T_ANY, T_COMPLEX128, T_UINT8, Value, type GoType, type GoVal } from './values.js';

const f = floatV;
const i = intV;
const s = stringV;

describe('formatFloat (strconv.FormatFloat)', () => {
  test("shortest 'g' (%v) uses an exponent below 1e-4 and from 1e6 on", () => {
    const cases: Array<[number, string]> = [
      [1, '1'],
      [1e6, '1e+06'],
      [1e8, '1e+08'],
      [1e20, '1e+20'],
      [1e21, '1e+21'],
      [123456, '123456'],
      [123456789, '1.23456789e+08'],
      [1e-5, '1e-05'],
      [0.0001, '0.0001'],
      [-0, '-0'],
      [Infinity, '+Inf'],
      [-Infinity, '-Inf'],
      [NaN, 'NaN'],
    ];
    for (const [x, want] of cases) assert.equal(formatFloat(x, 'g', -1), want, String(x));
  });

  test('fixed precision rounds exact ties to even, as Go', () => {
    assert.equal(formatFloat(0.25, 'f', 1), '0.2');
    assert.equal(formatFloat(0.35, 'f', 1), '0.3'); // 0.35 is below the tie in binary
    assert.equal(formatFloat(2.5, 'f', 0), '2');
    assert.equal(formatFloat(3.5, 'f', 0), '4');
    assert.equal(formatFloat(1.005, 'f', 2), '1.00');
    assert.equal(formatFloat(1234.5, 'g', 4), '1234');
    assert.equal(formatFloat(1235.5, 'g', 4), '1236');
    assert.equal(formatFloat(2.675, 'g', 3), '2.67');
    assert.equal(formatFloat(0.05, 'f', 1), '0.1');
    assert.equal(formatFloat(0.004, 'f', 2), '0.00');
    assert.equal(formatFloat(0.5, 'f', 0), '0');
  });

  test('e, g with precision, hex and binary', () => {
    assert.equal(formatFloat(1234.5, 'e', 6), '1.234500e+03');
    assert.equal(formatFloat(123456.789, 'e', 3), '1.235e+05');
    assert.equal(formatFloat(0, 'e', 6), '0.000000e+00');
    assert.equal(formatFloat(1e-7, 'G', -1), '1E-07');
    assert.equal(formatFloat(0.000012345, 'g', 3), '1.23e-05');
    assert.equal(formatFloat(100, 'g', 3), '100');
    assert.equal(formatFloat(123, 'g', 2), '1.2e+02');
    assert.equal(formatFloat(3.5, 'x', -1), '0x1.cp+01');
    assert.equal(formatFloat(1, 'x', -1), '0x1p+00');
    assert.equal(formatFloat(1, 'b', -1), '4503599627370496p-52');
  });
});

describe('Sprintf', () => {
  test('verbs, widths and flags (outputs taken from Go)', () => {
    assert.equal(sprintf('%d %s %5.2f %x %q %v %t %e %g %%', [i(42), s('s'), f(3.14159), i(255), s('q'), f(1.5), boolV(true), f(1234.5), f(0.000012)]), '42 s  3.14 ff "q" 1.5 true 1.234500e+03 1.2e-05 %');
    assert.equal(
      sprintf('%08.3f|%-6d|%+d|% d|%6s|%-6s|%x|%X|%o|%c|%U|%5.1e', [f(3.14159), i(42), i(5), i(7), s('ab'), s('ab'), s('hi'), f(3.5), i(8), i(65), i(9731), f(123456)]),
      '0003.142|42    |+5| 7|    ab|ab    |6869|0X1.CP+01|10|A|U+2603|1.2e+05',
    );
    assert.equal(
      sprintf('%q|%x|%X|% x|%#x|%c|%U|%#U|%08b|%o|%#o|%t|%T|%T|%v', [s('a"b'), i(255), s('hi'), s('hi'), i(255), i(0x1f600), i(0x1f600), i(0x41), i(5), i(8), i(8), boolV(false), f(1.5), stringMap([]), null]),
      '"a\\"b"|ff|6869|68 69|0xff|😀|U+1F600|U+0041 \'A\'|00000101|10|010|false|float64|map[string]string|<nil>',
    );
    assert.equal(sprintf('%5t|%-5t|%05d|%+05d|%x|%e|%g|%G|%E', [boolV(true), boolV(false), i(42), i(42), i(-255), f(0), f(100000), f(1e-7), f(1e21)]), ' true|false|00042|+0042|-ff|0.000000e+00|100000|1E-07|1.000000E+21');
    assert.equal(sprintf('%6.2f%%|%.3e|%10.3g|%-10s|', [f(12.345), f(123456.789), f(0.000012345), s('hi')]), ' 12.35%|1.235e+05|  1.23e-05|hi        |');
    assert.equal(sprintf('%.2s|%*d|%-*d|%.*f', [s('abcdef'), i(5), i(3), i(3), i(1), i(2), f(3.14159)]), 'ab|    3|1  |3.14');
    assert.equal(sprintf('%06.2f|%+.1f|% .1f|%-8.2f|', [f(-1.5), f(2), f(2), f(1)]), '-01.50|+2.0| 2.0|1.00    |');
    assert.equal(sprintf('%5.1f|%.0d|%x', [f(NaN), i(0), f(-1)]), '  NaN||-0x1p+00');
  });

  test("Go's error forms for bad verbs, missing and extra arguments", () => {
    assert.equal(sprintf('%d', [s('foo')]), '%!d(string=foo)');
    assert.equal(sprintf('%s', [f(1.5)]), '%!s(float64=1.5)');
    assert.equal(sprintf('%d', []), '%!d(MISSING)');
    assert.equal(sprintf('%d %d', [i(1)]), '1 %!d(MISSING)');
    assert.equal(sprintf('x', [i(1)]), 'x%!(EXTRA int=1)');
    assert.equal(sprintf('x', [i(1), s('a')]), 'x%!(EXTRA int=1, string=a)');
    assert.equal(sprintf('%z', [i(1)]), '%!z(int=1)');
    assert.equal(sprintf('%!', []), '%!!(MISSING)');
    assert.equal(sprintf('%', []), '%!(NOVERB)');
    assert.equal(sprintf('%d %s', [f(1.5), i(2)]), '%!d(float64=1.5) %!s(int=2)');
    assert.equal(sprintf('%d', [null]), '%!d(<nil>)');
    assert.equal(sprintf('%[2]d %[1]d', [i(1), i(2)]), '2 1');
    assert.equal(sprintf('%[3]d', [i(1)]), '%!d(BADINDEX)');
  });

  test('composite values apply the verb to their elements', () => {
    const m = stringMap([
      ['b', 'x'],
      ['a', 'y'],
    ]);
    assert.equal(sprintf('%v|%s|%d|%q', [m, m, m, m]), 'map[a:y b:x]|map[a:y b:x]|map[%!d(string=a):%!d(string=y) %!d(string=b):%!d(string=x)]|map["a":"y" "b":"x"]');
  });
});

describe('value printing', () => {
  const sliceT: GoType = { kind: 'slice', name: '[]interface {}', elem: T_ANY };
  const structT: GoType = { kind: 'struct', name: 'T', fields: [{ name: 'A', type: T_ANY }, { name: 'B', type: T_ANY }] };
  const ptrT: GoType = { kind: 'ptr', name: '*T', elem: structT };

  test('%v of basic, composite and pointer values', () => {
    const st = new Value(structT, [i(1), s('x')]);
    const cases: Array<[GoVal, string]> = [
      [boolV(true), 'true'],
      [i(-3), '-3'],
      [new Value(T_UINT8, 97), '97'],
      [f(0.1), '0.1'],
      [new Value(T_COMPLEX128, [1, -2]), '(1-2i)'],
      [new Value(sliceT, [s('a'), i(1), null]), '[a 1 <nil>]'],
      [new Value(mapOf(T_ANY), new Map([['k', f(2)]])), 'map[k:2]'],
      [st, '{1 x}'],
      [new Value(ptrT, st), '&{1 x}'],
      [new Value(ptrT, null), '<nil>'],
      [null, '<nil>'],
    ];
    for (const [v, want] of cases) assert.equal(formatValue(v), want);
    assert.match(formatValue(new Value(sliceT, [new Value(ptrT, st)])), /^\[0x[0-9a-f]+\]$/);
    assert.equal(sprintf('%+v', [st]), '{A:1 B:x}');
    assert.equal(sprintf('%#v|%#v|%#v|%#v', [new Value(ptrT, st), stringMap([['a', 'b']]), f(1e6), new Value(sliceT, [i(1), null])]), '&T{A:1, B:"x"}|map[string]string{"a":"b"}|1e+06|[]interface {}{1, interface {}(nil)}');
  });

  test('the template prints through pointers, and <no value> for nothing', () => {
    const st = new Value(structT, [i(1), s('x')]);
    assert.equal(printable(new Value(ptrT, st)), '{1 x}');
    assert.equal(printable(null), '<no value>');
  });

  test('Sprint spaces operands unless one is a string; Sprintln always', () => {
    assert.equal(sprint([i(1), i(2), s('a'), s('b'), i(3)]), '1 2ab3');
    assert.equal(sprint([i(1), null]), '1 <nil>');
    assert.equal(sprintln([i(1), s('a')]), '1 a\n');
    assert.equal(sprintln([]), '\n');
  });
});
