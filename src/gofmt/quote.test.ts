import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { goQuote, goQuoteBytes, goQuoteRune, goQuoteTruncated, goUnicodeVerbose, goUnquote, unquote, UnquoteError, utf8Length } from './quote.js';

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
    // The example of strconv.Quote in Go's documentation.
    ['"Fran & Freddie\'s Diner\t☺"', '"\\"Fran & Freddie\'s Diner\\t☺\\""'],
    ['\u{1f600}x', '"😀x"'],
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

describe('unquote (strutil.Unquote)', () => {
  test('quote styles and escapes', () => {
    assert.equal(unquote('"a\\tb"'), 'a\tb');
    assert.equal(unquote("'a\\'b'"), "a'b");
    assert.equal(unquote('`a\\tb`'), 'a\\tb');
    assert.equal(unquote('"\\101\\x42\\u0043\\U00000044"'), 'ABCD');
    assert.equal(unquote('"\\xe2\\x98\\xba"'), '☺');
  });

  test('bytes that are not UTF-8 become escaped surrogates and print back as bytes', () => {
    const s = unquote('"a\\xffb\\xc3"');
    assert.equal(s.length, 4);
    assert.equal(s, 'a\udcffb\udcc3');
    assert.equal(goQuote(s), '"a\\xffb\\xc3"');
  });

  test('malformed literals', () => {
    for (const bad of ['"', '"a', 'a"', '"\\q"', '"a"b"', "'\\\"'", '"\\400"', '"\\uD800"', '"\n"']) {
      assert.throws(() => unquote(bad), UnquoteError, bad);
    }
  });
});

test('utf8Length', () => {
  assert.equal(utf8Length('aé☺😀'), 1 + 2 + 3 + 4);
  assert.equal(utf8Length('\udcff'), 1);
});

test('goQuoteTruncated keeps the first n code points', () => {
  assert.equal(goQuoteTruncated('😀abc', 2), '"😀a"');
  assert.equal(goQuoteTruncated('ab', 5), '"ab"');
});

describe('goQuoteBytes', () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  test('valid UTF-8 quotes as the string does', () => {
    for (const s of ['plain', 'a"b\\c', 'tab\tnl\n', 'é☺😀', '\u00a0\x7f']) {
      const b = enc(s);
      assert.equal(goQuoteBytes(b, 0, b.length), goQuote(s), s);
    }
  });
  test('a range, and invalid UTF-8 as \\x bytes', () => {
    const b = Uint8Array.from([0x41, 0xff, 0xe2, 0x98, 0x42, 0xc3, 0xa9, 0x43]);
    assert.equal(goQuoteBytes(b, 0, b.length), '"A\\xff\\xe2\\x98BéC"');
    assert.equal(goQuoteBytes(b, 4, 7), '"Bé"');
    // A sequence cut by the end of the range is invalid there.
    assert.equal(goQuoteBytes(b, 4, 6), '"B\\xc3"');
  });
});

describe('goUnquote (strconv.Unquote)', () => {
  // The examples of strconv.Unquote in Go's documentation.
  test('documented examples', () => {
    assert.throws(() => goUnquote("You can't unquote a string without quotes"), UnquoteError);
    assert.equal(goUnquote('"The string must be either double-quoted"'), 'The string must be either double-quoted');
    assert.equal(goUnquote('`or backquoted.`'), 'or backquoted.');
    assert.equal(goUnquote("'\u263a'"), '☺');
    assert.throws(() => goUnquote("'\u2639\u2639'"), UnquoteError);
  });
  test('escapes, raw strings and rune literals', () => {
    assert.equal(goUnquote('"a\\tb\\x41\\101"'), 'a\tbAA');
    assert.equal(goUnquote('`raw\\n`'), 'raw\\n');
    assert.equal(goUnquote('`a\rb`'), 'ab');
    assert.equal(unquote('`a\rb`'), 'a\rb');
    assert.equal(goUnquote("'x'"), 'x');
    assert.equal(goUnquote("'😀'"), '😀');
    assert.equal(unquote("'xy'"), 'xy');
    for (const bad of ["'xy'", "''", '"open', 'Foo', '"a\nb"']) assert.throws(() => goUnquote(bad), UnquoteError, bad);
  });
});
