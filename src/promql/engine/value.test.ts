import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../../model/labels.js';
import { InstantColumns, Series, dropMetadata, sortMatrix } from './value.js';

test('short series share slab arrays, each at its own offset, without sharing points', () => {
  const all: Series[] = [];
  // Enough one- and two-point series to fill several slabs.
  for (let i = 0; i < 10_000; i++) {
    const s = new Series(Labels.EMPTY, false, 1 + (i % 2));
    s.push(i, -i);
    all.push(s);
  }
  all.forEach((s, i) => {
    assert.equal(s.n, 1);
    assert.deepEqual([...s.tsView()], [i]);
    assert.deepEqual([...s.vsView()], [-i]);
  });
  // One pair of arrays serves many series.
  assert.equal(all[0]!.ts, all[1]!.ts);
  assert.notEqual(all[0]!.off, all[1]!.off);
  // Growing past the slab capacity moves a series to arrays of its own and keeps its neighbours intact.
  const a = all[0]!;
  for (let k = 1; k < 40; k++) a.push(k, k);
  assert.equal(a.n, 40);
  assert.deepEqual(Array.from(a.tsView().subarray(0, 3)), [0, 1, 2]);
  assert.equal(a.off, 0);
  assert.deepEqual([...all[1]!.tsView()], [1]);
  assert.deepEqual([...all[1]!.vsView()], [-1]);
});

test('series wrapping given arrays allocate none and can grow', () => {
  const s = Series.fromArrays(Labels.EMPTY, new Float64Array([1, 2]), new Float64Array([3, 4]), 2);
  assert.deepEqual(Array.from(s.vsView()), [3, 4]);
  const empty = new Series(Labels.EMPTY, false, 0);
  empty.push(5, 6);
  assert.equal(empty.n, 1);
  assert.deepEqual([...empty.vsView()], [6]);
});

test('dropMetadata removes name, type and unit and keeps the rest', () => {
  const ls = Labels.fromPairs('__name__', 'x', '__type__', 'counter', '__unit__', 's', 'a', '1', 'z', '2');
  assert.equal(dropMetadata(ls).toString(), '{a="1", z="2"}');
  const plain = Labels.fromPairs('a', '1');
  assert.equal(dropMetadata(plain), plain);
  assert.equal(dropMetadata(Labels.fromPairs('__name__', 'x')), Labels.EMPTY);
});

test('instant columns grow, trim to their length and give series with the flagged names removed', () => {
  const c = new InstantColumns(5000, 1);
  const named = Labels.fromPairs('__name__', 'x', 'i', '0');
  for (let i = 0; i < 300; i++) c.push(i % 2 === 0 ? named : Labels.fromPairs('i', String(i)), i % 2 === 0, i);
  assert.equal(c.n, 300);
  assert.ok(c.vs.length >= 300);
  c.trim();
  assert.equal(c.vs.length, 300);
  assert.equal(c.drop.length, 300);
  assert.equal(c.metrics.length, 300);
  assert.ok(c.anyDropped());
  const m = c.toMatrix(false);
  assert.equal(m.length, 300);
  assert.equal(m[0]!.metric.toString(), '{i="0"}');
  assert.equal(m[0]!.dropName, true);
  assert.deepEqual([...m[7]!.tsView()], [5000]);
  assert.deepEqual([...m[7]!.vsView()], [7]);
  // With delayed name removal the name stays until the end of the query; only the flag is carried.
  assert.equal(c.toMatrix(true)[0]!.metric.toString(), '{__name__="x", i="0"}');
});

test('sortMatrix orders a large matrix by labels in runs and merges, yielding on the way', async () => {
  let seed = 7;
  const rand = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed;
  };
  const m: Series[] = [];
  for (let i = 0; i < 9000; i++) m.push(new Series(Labels.fromPairs('__name__', `m${rand() % 5}`, 'i', String(rand() % 100_000), 'k', String(i)), false, 1));
  const expected = [...m].sort((a, b) => Labels.compare(a.metric, b.metric));
  let pauses = 0;
  await sortMatrix(m, async () => {
    pauses++;
  });
  assert.deepEqual(
    m.map((s) => s.metric.toString()),
    expected.map((s) => s.metric.toString()),
  );
  assert.ok(pauses >= 5, `paused ${pauses} times`);
});
