import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../model/labels.js';
import { MatchType, Matcher } from '../model/matcher.js';
import { MemoryStorage } from './memory.js';
import type { SeriesSet } from './interface.js';

function add(db: MemoryStorage, ls: Labels, t: number, v: number): void {
  const app = db.appender();
  app.append(0, ls, t, v);
  app.commit();
}

function names(set: SeriesSet): string[] {
  const out: string[] = [];
  while (set.next()) out.push(set.at().labels.toString());
  return out;
}

test('select reads matching series lazily, in order of creation, or sorted when asked', () => {
  const db = new MemoryStorage();
  add(db, Labels.fromPairs('__name__', 'b', 'i', '1'), 1000, 1);
  add(db, Labels.fromPairs('__name__', 'a', 'i', '2'), 1000, 2);
  add(db, Labels.fromPairs('__name__', 'other'), 1000, 3);
  add(db, Labels.fromPairs('__name__', 'a', 'i', '0'), 5000, 4);
  const re = Matcher.create(MatchType.Regexp, '__name__', 'a|b');
  const q = db.querier(0, 10_000);
  assert.deepEqual(names(q.select(false, null, re)), ['{__name__="b", i="1"}', '{__name__="a", i="2"}', '{__name__="a", i="0"}']);
  assert.deepEqual(names(q.select(true, null, re)), ['{__name__="a", i="0"}', '{__name__="a", i="2"}', '{__name__="b", i="1"}']);
  // Series without samples in the time range are not selected.
  assert.deepEqual(names(q.select(false, { start: 0, end: 2000 }, re)), ['{__name__="b", i="1"}', '{__name__="a", i="2"}']);
});

test('a querier sees the series that existed when it was made, also after the store is cleared', () => {
  const db = new MemoryStorage();
  add(db, Labels.fromPairs('__name__', 'x', 'i', '1'), 1000, 1);
  const q = db.querier(0, 10_000);
  add(db, Labels.fromPairs('__name__', 'x', 'i', '2'), 1000, 2);
  const all = Matcher.create(MatchType.Equal, '__name__', 'x');
  assert.deepEqual(names(q.select(false, null, all)), ['{__name__="x", i="1"}']);
  assert.deepEqual(q.labelValues('i', null, all), ['1']);
  db.clear();
  assert.deepEqual(names(q.select(false, null, all)), ['{__name__="x", i="1"}']);
  assert.deepEqual(names(db.querier(0, 10_000).select(false, null, all)), []);
});
