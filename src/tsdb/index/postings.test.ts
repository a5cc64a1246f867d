import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Matcher, MatchType } from '../../model/matcher.js';
import { PostingsList, gallop, intersect, postingsForMatchers, union, without, type PostingsIndex } from './postings.js';

const sortedSet = fc.uniqueArray(fc.integer({ min: 0, max: 500 }), { maxLength: 120 }).map((a) => Uint32Array.from(a.sort((x, y) => x - y)));

describe('postings algebra', () => {
  test('gallop finds the lower bound', () => {
    const a = Uint32Array.from([1, 3, 5, 7, 9, 11, 13]);
    assert.equal(gallop(a, 0, 0), 0);
    assert.equal(gallop(a, 0, 6), 3);
    assert.equal(gallop(a, 2, 5), 2);
    assert.equal(gallop(a, 0, 14), 7);
    assert.equal(gallop(a, 4, 13), 6);
  });

  test('intersect, union and without agree with set arithmetic', () => {
    fc.assert(
      fc.property(fc.array(sortedSet, { minLength: 1, maxLength: 5 }), (lists) => {
        const sets = lists.map((l) => new Set(l));
        const inter = [...sets[0]!].filter((x) => sets.every((s) => s.has(x))).sort((a, b) => a - b);
        assert.deepEqual([...intersect(lists)], inter);
        const uni = [...new Set(lists.flatMap((l) => [...l]))].sort((a, b) => a - b);
        assert.deepEqual([...union(lists)], uni);
        const diff = [...lists[0]!].filter((x) => !lists.slice(1).some((l) => l.includes(x)));
        assert.deepEqual([...without(lists[0]!, union(lists.slice(1)))], diff);
      }),
      { numRuns: 300 },
    );
  });

  test('PostingsList sorts lazily after out-of-order adds and prunes', () => {
    const l = new PostingsList(5);
    for (const x of [7, 9, 2, 11]) l.add(x);
    assert.equal(l.sorted, false);
    assert.deepEqual([...l.view()], [2, 5, 7, 9, 11]);
    const dead = new Uint8Array(12);
    dead[7] = 1;
    dead[2] = 1;
    assert.equal(l.prune(dead), 3);
    assert.deepEqual([...l.view()], [5, 9, 11]);
  });
});

describe('postingsForMatchers', () => {
  // Series 0..5 with labels:
  const series: Record<string, string>[] = [
    { __name__: 'a', job: 'x' },
    { __name__: 'a', job: 'y', env: 'prod' },
    { __name__: 'b', job: 'x', env: '' },
    { __name__: 'b', env: 'dev' },
    { __name__: 'c', job: 'z', env: 'prod' },
    { __name__: 'c' },
  ];
  const ix: PostingsIndex = {
    allPostings: () => Uint32Array.from(series.keys()),
    postings: (n, v) => Uint32Array.from([...series.keys()].filter((i) => series[i]![n] === v && v !== '')),
    labelValuesOf: (n) => [...new Set(series.map((s) => s[n]).filter((v): v is string => v !== undefined && v !== ''))],
  };
  const m = (t: MatchType, n: string, v: string): Matcher => Matcher.create(t, n, v);
  const ids = (...ms: Matcher[]): number[] => [...postingsForMatchers(ix, ms)];
  // Reference semantics: a missing label has value "".
  const naive = (...ms: Matcher[]): number[] => [...series.keys()].filter((i) => ms.every((mm) => mm.matches(series[i]![mm.name] ?? '')));

  const cases: Matcher[][] = [
    [m(MatchType.Equal, '__name__', 'a')],
    [m(MatchType.Equal, 'env', '')],
    [m(MatchType.NotEqual, 'env', '')],
    [m(MatchType.NotEqual, 'env', 'prod')],
    [m(MatchType.Regexp, 'job', 'x|y')],
    [m(MatchType.Regexp, 'job', 'x|')],
    [m(MatchType.Regexp, 'job', '.*')],
    [m(MatchType.Regexp, 'job', '.+')],
    [m(MatchType.NotRegexp, 'job', 'x|y')],
    [m(MatchType.NotRegexp, 'job', '.*')],
    [m(MatchType.Regexp, 'env', 'pr.*'), m(MatchType.Equal, '__name__', 'c')],
    [m(MatchType.Equal, '__name__', 'b'), m(MatchType.Equal, 'job', '')],
    [m(MatchType.Regexp, '__name__', 'a|b|c'), m(MatchType.NotEqual, 'job', 'x')],
    [m(MatchType.Equal, 'nosuch', 'v')],
    [m(MatchType.Equal, 'nosuch', '')],
  ];
  for (const ms of cases) {
    test(ms.map((x) => x.toString()).join(','), () => {
      assert.deepEqual(ids(...ms), naive(...ms));
    });
  }
});
