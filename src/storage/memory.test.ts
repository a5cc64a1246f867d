import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../model/labels.js';
import { MatchType, Matcher } from '../model/matcher.js';
import { CounterResetHint, FloatHistogram, Histogram } from '../model/histogram.js';
import { MemoryStorage } from './memory.js';
import { DuplicateSampleError, ValueType } from './interface.js';
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

test('histogram samples: iterators say their type and give them back; float-only series are unchanged', () => {
  const db = new MemoryStorage();
  const ls = Labels.fromPairs('__name__', 'h');
  const fh = new FloatHistogram({ count: 3, sum: 5, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1, 2] });
  const ih = new Histogram({ count: 2, sum: 1, positiveSpans: [{ offset: 1, length: 1 }], positiveBuckets: [2] });
  const app = db.appender();
  app.append(0, ls, 1000, 7);
  app.appendHistogram!(0, ls, 2000, null, fh);
  app.appendHistogram!(0, ls, 3000, ih, null);
  // The same histogram again at the same time is ignored; a different one is a duplicate.
  app.appendHistogram!(0, ls, 3000, ih, null);
  assert.throws(() => app.appendHistogram!(0, ls, 3000, null, fh), DuplicateSampleError);
  assert.throws(() => app.append(0, ls, 3000, 1), DuplicateSampleError);
  app.commit();
  const set = db.querier(0, 10_000).select(false, null, Matcher.create(MatchType.Equal, '__name__', 'h'));
  assert.ok(set.next());
  const it = set.at().iterator();
  assert.equal(it.next(), ValueType.Float);
  assert.equal(it.v(), 7);
  assert.equal(it.next(), ValueType.FloatHistogram);
  assert.equal(it.t(), 2000);
  assert.ok(it.atFloatHistogram!().equals(fh));
  assert.equal(it.next(), ValueType.Histogram);
  assert.ok(it.atHistogram!().equals(ih));
  assert.ok(it.atFloatHistogram!().equals(ih.toFloat()));
  assert.equal(it.next(), ValueType.None);
  assert.equal(it.seek(2500), ValueType.None);
  const it2 = set.at().iterator();
  assert.equal(it2.seek(1500), ValueType.FloatHistogram);
});

test('histograms come back with the counter reset hints TSDB chunks give them', () => {
  const db = new MemoryStorage();
  const ls = Labels.fromPairs('__name__', 'h');
  const at = (count: number, hint = CounterResetHint.Unknown) =>
    new FloatHistogram({ count, sum: count, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [count], counterResetHint: hint });
  const app = db.appender();
  [at(1), at(2), at(1), at(3), at(4, CounterResetHint.Gauge), at(5)].forEach((h, i) => app.appendHistogram!(0, ls, i * 1000, null, h));
  app.append(0, ls, 6000, 1);
  app.appendHistogram!(0, ls, 7000, null, at(6));
  app.commit();
  const set = db.querier(0, 10_000).select(false, null, Matcher.create(MatchType.Equal, '__name__', 'h'));
  assert.ok(set.next());
  const it = set.at().iterator();
  const hints: CounterResetHint[] = [];
  for (let vt = it.next(); vt !== ValueType.None; vt = it.next()) if (vt !== ValueType.Float) hints.push(it.atFloatHistogram!().counterResetHint);
  // A chunk starts (unknown) at the first sample, at the reset, at the gauge one, after it and after the float.
  assert.deepEqual(hints, [
    CounterResetHint.Unknown,
    CounterResetHint.NotCounterReset,
    CounterResetHint.Unknown,
    CounterResetHint.NotCounterReset,
    CounterResetHint.Gauge,
    CounterResetHint.Unknown,
    CounterResetHint.Unknown,
  ]);
});

test('start timestamps: kept per sample for series that get one, absent from iterators of the others', () => {
  const db = new MemoryStorage();
  const withST = Labels.fromPairs('__name__', 'c', 'st', 'yes');
  const without = Labels.fromPairs('__name__', 'c', 'st', 'no');
  const app = db.appender();
  for (let i = 0; i < 20; i++) {
    // The first sample has none; the others start at 0.5s before their time.
    if (i > 0) app.setStartTimestamp!(i * 1000 - 500);
    app.append(0, withST, i * 1000, i);
    app.append(0, without, i * 1000, i);
  }
  // A rejected sample does not pass its ST on to the next one.
  app.setStartTimestamp!(7);
  assert.throws(() => app.append(0, without, 0, 5));
  app.append(0, without, 20_000, 20);
  app.commit();
  const set = db.querier(-Infinity, Infinity).select(true, null, Matcher.create(MatchType.Equal, '__name__', 'c'));
  assert.ok(set.next());
  const noIt = set.at().iterator();
  assert.equal(noIt.st, undefined);
  assert.ok(set.next());
  const it = set.at().iterator();
  const sts: number[] = [];
  while (it.next() !== ValueType.None) sts.push(it.st!());
  assert.deepEqual(sts, [0, ...Array.from({ length: 19 }, (_v, i) => (i + 1) * 1000 - 500)]);
});
