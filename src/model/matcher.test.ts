import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidRegexError, Matcher, MatchType, compileAnchoredRegex, regexCacheStats } from './matcher.js';

const m = (type: MatchType, value: string, name = 'l'): Matcher => Matcher.create(type, name, value);

describe('Matcher', () => {
  test('equality matchers', () => {
    assert.ok(m(MatchType.Equal, 'a').matches('a'));
    assert.ok(!m(MatchType.Equal, 'a').matches('ab'));
    assert.ok(m(MatchType.NotEqual, 'a').matches('b'));
    assert.ok(!m(MatchType.NotEqual, 'a').matches('a'));
  });

  test('regexes are anchored at both ends', () => {
    const r = m(MatchType.Regexp, 'a.c');
    assert.ok(r.matches('abc'));
    assert.ok(!r.matches('xabc'));
    assert.ok(!r.matches('abcx'));
    assert.ok(m(MatchType.Regexp, 'foo|bar').matches('bar'));
    assert.ok(!m(MatchType.Regexp, 'foo|bar').matches('foobar'));
    assert.ok(m(MatchType.NotRegexp, 'a.*').matches('ba'));
    assert.ok(!m(MatchType.NotRegexp, 'a.*').matches('abc'));
  });

  test('dot matches newlines and whole code points', () => {
    assert.ok(m(MatchType.Regexp, 'a.b').matches('a\nb'));
    assert.ok(m(MatchType.Regexp, '.').matches('😀'));
    assert.ok(m(MatchType.Regexp, '(?i)abc').matches('ABC'));
    assert.ok(m(MatchType.Regexp, '\\d+').matches('123'));
  });

  test('literal alternations are matched as a set', () => {
    const r = m(MatchType.Regexp, 'a|b|c');
    assert.deepEqual(r.setMatches(), ['a', 'b', 'c']);
    assert.ok(r.matches('b'));
    assert.ok(!r.matches('d'));
    assert.equal(m(MatchType.Regexp, 'a.*').setMatches(), null);
    assert.equal(m(MatchType.NotRegexp, 'a|b').setMatches(), null);
    assert.ok(!m(MatchType.NotRegexp, 'a|b').matches('a'));
    assert.ok(m(MatchType.Regexp, 'a|').matches(''));
  });

  test('matchesEmpty tells which matchers also select series without the label', () => {
    assert.ok(m(MatchType.Equal, '').matchesEmpty());
    assert.ok(!m(MatchType.Equal, 'x').matchesEmpty());
    assert.ok(m(MatchType.NotEqual, 'x').matchesEmpty());
    assert.ok(m(MatchType.Regexp, '.*').matchesEmpty());
    assert.ok(!m(MatchType.Regexp, '.+').matchesEmpty());
    assert.ok(m(MatchType.NotRegexp, '.+').matchesEmpty());
  });

  test('invalid regexes throw an error naming the regex', () => {
    for (const re of ['(a', '[z-a]', 'a{2,1}', '(a)\\1']) {
      assert.throws(
        () => m(MatchType.Regexp, re),
        (e: unknown) => e instanceof InvalidRegexError && e.regex === re && e.message.includes(JSON.stringify(re)),
        re,
      );
    }
  });

  test('toString quotes names and values as Prometheus does', () => {
    assert.equal(m(MatchType.Equal, 'b').toString(), 'l="b"');
    assert.equal(m(MatchType.NotRegexp, 'a\\d\n', 'a.b').toString(), '"a.b"!~"a\\\\d\\n"');
    assert.equal(m(MatchType.NotEqual, '', '').toString(), '""!=""');
    assert.equal(m(MatchType.Regexp, '\x07', '_x1').toString(), '_x1=~"\\a"');
  });

  test('the compiled-regex cache is bounded by entries and by pattern length', () => {
    // Many distinct short patterns: the oldest are evicted, the newest still compile and match.
    for (let i = 0; i < 3000; i++) assert.ok(compileAnchoredRegex(`x${i}y.*`).test(`x${i}yz`));
    assert.ok(regexCacheStats().entries <= 1024);
    assert.equal(compileAnchoredRegex('x2999y.*'), compileAnchoredRegex('x2999y.*'), 'a recent pattern is served from the cache');
    // Long patterns: the summed length stays within 1 Mi characters.
    const long = (i: number): string => `${i}:` + 'a'.repeat(60_000);
    for (let i = 0; i < 40; i++) assert.ok(compileAnchoredRegex(long(i)).test(long(i)));
    const s = regexCacheStats();
    assert.ok(s.chars <= 1 << 20, `cached characters ${s.chars}`);
    assert.ok(s.entries >= 1);
    // A pattern over 64 Ki characters still works but is never cached.
    const huge = 'b'.repeat(70_000);
    const before = regexCacheStats();
    assert.ok(compileAnchoredRegex(huge).test(huge));
    assert.notEqual(compileAnchoredRegex(huge), compileAnchoredRegex(huge));
    assert.deepEqual(regexCacheStats(), before);
  });
});
