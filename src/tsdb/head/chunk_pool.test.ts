import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkPool, PAGE_SIZE, SIZE_CLASSES } from './chunk_pool.js';

test('slots are zeroed, distinct, and reused after release', () => {
  const p = new ChunkPool();
  const a = p.alloc(0);
  const b = p.alloc(0);
  assert.notEqual(a, b);
  p.page(a).fill(7, ChunkPool.offset(a), ChunkPool.offset(a) + SIZE_CLASSES[0]!);
  p.release(a, 0);
  const c = p.alloc(0);
  assert.equal(c, a);
  assert.ok(p.page(c).subarray(ChunkPool.offset(c), ChunkPool.offset(c) + SIZE_CLASSES[0]!).every((x) => x === 0));
  assert.equal(p.usedBytes, 2 * SIZE_CLASSES[0]!);
});

test('a page whose slots are all free is dropped and its number reused', () => {
  const p = new ChunkPool();
  const perPage = PAGE_SIZE / SIZE_CLASSES[0]!;
  const addrs: number[] = [];
  for (let i = 0; i < perPage * 2 + 1; i++) addrs.push(p.alloc(0));
  assert.equal(p.reservedBytes(), 3 * PAGE_SIZE);
  // Free the whole first page (not the one being carved).
  for (const a of addrs.slice(0, perPage)) p.release(a, 0);
  assert.equal(p.reservedBytes(), 2 * PAGE_SIZE);
  // Stale free-list entries of the dropped page are never handed out again.
  const x = p.alloc(1);
  const y = p.alloc(0);
  assert.ok(y >= PAGE_SIZE * 2, `got ${y}`);
  assert.equal(x >>> 18, 0, 'the dropped page number is reused');
  assert.equal(p.reservedBytes(), 3 * PAGE_SIZE);
});
