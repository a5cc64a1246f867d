import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareCodePoints, goQuote, goQuoteRune, goUnicodeVerbose, unquoteString, UnquoteError, utf8Length } from './quote.js';
import { isValidLabelName } from '../../model/labels.js';

describe('goQuote', () => {
  const cases: Array<[string, string]> = [
    ['plain', '"plain"'],
    ['q"b\\', '"q\\"b\\\\"'],
    ['\x07\b\f\n\r\t\v', '"\\a\\b\\f\\n\\r\\t\\v"'],
    ['\x00\x1f\x7f', '"\\x00\\x1f\\x7f"'],
    ['é☺😀', '"é☺😀"'],
    ['\u00a0\u00ad\u2028', '"\\u00a0\\u00ad\\u2028"'],
    ['\u{e0001}', '"\\U000e0001"'],
    ["it's", '"it\'s"'],
  ];
  for (const [s, want] of cases) test(JSON.stringify(s), () => assert.equal(goQuote(s), want));

  test('runes and verbose code points', () => {
    assert.equal(goQuoteRune(0x27), "'\\''");
    assert.equal(goQuoteRune(0x22), "'\"'");
    assert.equal(goQuoteRune(-1), "'\uFFFD'");
    assert.equal(goUnicodeVerbose(0x63), "U+0063 'c'");
    assert.equal(goUnicodeVerbose(0x0a), 'U+000A');
    assert.equal(goUnicodeVerbose(0x1f600), "U+1F600 '😀'");
  });
});

describe('unquoteString', () => {
  test('quote styles and escapes', () => {
    assert.equal(unquoteString('"a\\tb"'), 'a\tb');
    assert.equal(unquoteString("'a\\'b'"), "a'b");
    assert.equal(unquoteString('`a\\tb`'), 'a\\tb');
    assert.equal(unquoteString('"\\101\\x42\\u0043\\U00000044"'), 'ABCD');
    assert.equal(unquoteString('"\\xe2\\x98\\xba"'), '☺');
  });

  test('bytes that are not UTF-8 become escaped surrogates and print back as bytes', () => {
    const s = unquoteString('"a\\xffb\\xc3"');
    assert.equal(s.length, 4);
    assert.equal(isValidLabelName(s), false);
    assert.equal(goQuote(s), '"a\\xffb\\xc3"');
  });

  test('malformed literals', () => {
    for (const bad of ['"', '"a', 'a"', '"\\q"', '"a"b"', "'\\\"'", '"\\400"', '"\\uD800"', '"\n"']) {
      assert.throws(() => unquoteString(bad), UnquoteError, bad);
    }
  });
});

test('utf8Length and code point order', () => {
  assert.equal(utf8Length('aé☺😀'), 1 + 2 + 3 + 4);
  const words = ['\uffff', '😀', 'b', 'a', 'é'];
  assert.deepEqual([...words].sort(compareCodePoints), ['a', 'b', 'é', '\uffff', '😀']);
});
