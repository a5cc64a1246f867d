import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BlockMetaFile } from './block.js';
import { exponentialRanges, planCompaction, splitByRange } from './compact.js';

const H = 3_600_000;
let n = 0;
function meta(minTime: number, maxTime: number, extra: Partial<BlockMetaFile['stats']> = {}): BlockMetaFile {
  const ulid = `B${String(n++).padStart(3, '0')}`;
  return {
    ulid,
    minTime,
    maxTime,
    stats: { numSamples: 1, numSeries: 100, numChunks: 1, numTombstones: 0, ...extra },
    compaction: { level: 1, sources: [ulid] },
    version: 1,
  };
}
const ranges = exponentialRanges(2 * H, 3, 3); // 2h, 6h, 18h

test('exponential ranges and aligned splits', () => {
  assert.deepEqual(ranges, [2 * H, 6 * H, 18 * H]);
  const ms = [meta(0, 2 * H), meta(2 * H, 4 * H), meta(6 * H, 8 * H), meta(8 * H, 20 * H)];
  const parts = splitByRange(ms, 6 * H).map((p) => p.map((m) => [m.minTime / H, m.maxTime / H]));
  assert.deepEqual(parts, [
    [
      [0, 2],
      [2, 4],
    ],
    [[6, 8]],
  ]);
});

test('nothing to do for a single block or a partial range at the newest end', () => {
  assert.deepEqual(planCompaction([meta(0, 2 * H)], ranges), []);
  assert.deepEqual(planCompaction([meta(0, 2 * H), meta(2 * H, 4 * H)], ranges), []);
});

test('three 2h blocks plus a newer one compact into 6h', () => {
  const ms = [meta(0, 2 * H), meta(2 * H, 4 * H), meta(4 * H, 6 * H), meta(6 * H, 8 * H)];
  assert.deepEqual(planCompaction(ms, ranges), [ms[0]!.ulid, ms[1]!.ulid, ms[2]!.ulid]);
});

test('overlapping blocks are merged first', () => {
  const ms = [meta(0, 2 * H), meta(H, 3 * H), meta(6 * H, 8 * H)];
  assert.deepEqual(planCompaction(ms, ranges), [ms[0]!.ulid, ms[1]!.ulid]);
});

test('a large block with many tombstones is rewritten alone', () => {
  const ms = [meta(0, 6 * H, { numTombstones: 10 }), meta(6 * H, 8 * H)];
  assert.deepEqual(planCompaction(ms, ranges), [ms[0]!.ulid]);
  const small = [meta(0, 2 * H, { numTombstones: 100, numSeries: 100 }), meta(2 * H, 4 * H)];
  assert.deepEqual(planCompaction(small, ranges), [small[0]!.ulid]);
});
