import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../model/labels.js';
import { ValueType, type SampleIterator, type Series } from '../storage/interface.js';
import { XORChunk } from './chunkenc/xor.js';
import { bitsHi, bitsLo, splitFloat } from './chunkenc/float_bits.js';
import { ChunkList, ChunkSeriesIterator, ListSeriesSet } from './chunks/chunk_list.js';
import { MergeSeriesSet, MergedIterator } from './querier.js';

function chunk(ts: number[]): { bytes: Uint8Array; mint: number; maxt: number } {
  const c = new XORChunk();
  for (const t of ts) {
    splitFloat(t * 10);
    c.append(t, bitsHi(), bitsLo());
  }
  return { bytes: c.bytes().slice(), mint: ts[0]!, maxt: ts[ts.length - 1]! };
}

function list(...chunks: number[][]): ChunkList {
  const cl = new ChunkList();
  for (const ts of chunks) {
    const c = chunk(ts);
    cl.push(c.bytes, 0, c.bytes.length, -1, c.mint, c.maxt);
  }
  return cl;
}

function drain(it: SampleIterator): number[] {
  const out: number[] = [];
  while (it.next() !== ValueType.None) out.push(it.t());
  return out;
}

test('chunk series iterator honours range, tombstones and seek', () => {
  const cl = list([1, 2, 3], [5, 6, 7], [10, 11]);
  assert.deepEqual(drain(new ChunkSeriesIterator(cl, 2, 10, null)), [2, 3, 5, 6, 7, 10]);
  assert.deepEqual(drain(new ChunkSeriesIterator(cl, 0, 100, Float64Array.from([3, 6, 11, 11]))), [1, 2, 7, 10]);
  const it = new ChunkSeriesIterator(cl, 0, 100, null);
  assert.equal(it.seek(4), ValueType.Float);
  assert.equal(it.t(), 5);
  assert.equal(it.v(), 50);
  assert.equal(it.seek(9), ValueType.Float);
  assert.equal(it.t(), 10);
  assert.equal(it.next(), ValueType.Float);
  assert.equal(it.t(), 11);
  assert.equal(it.next(), ValueType.None);
  assert.equal(it.seek(1), ValueType.None);
});

test('merged iterator interleaves sources and drops duplicate timestamps', () => {
  const a = new ChunkSeriesIterator(list([1, 3, 5]), 0, 100, null);
  const b = new ChunkSeriesIterator(list([2, 3, 6]), 0, 100, null);
  assert.deepEqual(drain(new MergedIterator([a, b])), [1, 2, 3, 5, 6]);
  const c = new MergedIterator([new ChunkSeriesIterator(list([1, 3, 5]), 0, 100, null), new ChunkSeriesIterator(list([2, 4]), 0, 100, null)]);
  assert.equal(c.seek(3), ValueType.Float);
  assert.equal(c.t(), 3);
  assert.deepEqual(drain(c), [4, 5]);
});

test('merge series set combines sorted sets and merges equal label sets', () => {
  const mk = (name: string, ts: number[]): Series => ({
    labels: Labels.fromPairs('n', name),
    iterator: () => new ChunkSeriesIterator(list(ts), 0, 100, null),
  });
  const s1 = new ListSeriesSet([mk('a', [1]), mk('c', [1, 2])]);
  const s2 = new ListSeriesSet([mk('b', [5]), mk('c', [2, 3])]);
  const m = new MergeSeriesSet([s1, s2]);
  const got: [string, number[]][] = [];
  while (m.next()) got.push([m.at().labels.get('n'), drain(m.at().iterator())]);
  assert.deepEqual(got, [
    ['a', [1]],
    ['b', [5]],
    ['c', [1, 2, 3]],
  ]);
});
