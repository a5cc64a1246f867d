import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeriesCache } from './ingest_series_cache.js';
import { hashBytes } from './ingest_decode.js';

const bytes = (s: string): Buffer => Buffer.from(s);

function get(c: SeriesCache, s: string, hash = hashBytes(bytes(s), 0, s.length)): number {
  const b = bytes(`..${s}..`);
  return c.get(b, 2, 2 + b.length - 4, hash);
}

function set(c: SeriesCache, s: string, ref: number, hash = hashBytes(bytes(s), 0, s.length)): void {
  const b = bytes(s);
  c.set(b, 0, b.length, hash, ref);
}

test('a miss answers 0; a set series is found by its bytes wherever they lie', () => {
  const c = new SeriesCache({ maxEntries: 100, maxBytes: 1 << 20 });
  assert.equal(get(c, 'up{job="a"}'), 0);
  set(c, 'up{job="a"}', 7);
  assert.equal(get(c, 'up{job="a"}'), 7);
  assert.equal(get(c, 'up{job="b"}'), 0);
  assert.equal(c.size, 1);
  assert.equal(c.hits, 1);
  assert.equal(c.misses, 2);
});

test('entries with equal hashes are told apart by their bytes', () => {
  const c = new SeriesCache({ maxEntries: 100, maxBytes: 1 << 20 });
  set(c, 'aaaa', 1, 42);
  set(c, 'bbbb', 2, 42);
  set(c, 'aaab', 3, 42);
  assert.equal(get(c, 'aaaa', 42), 1);
  assert.equal(get(c, 'bbbb', 42), 2);
  assert.equal(get(c, 'aaab', 42), 3);
  assert.equal(get(c, 'cccc', 42), 0);
  assert.equal(get(c, 'aaa', 42), 0);
});

test('set updates the ref of a known series (a stale ref replaced)', () => {
  const c = new SeriesCache({ maxEntries: 100, maxBytes: 1 << 20 });
  set(c, 'x', 1);
  set(c, 'x', 9);
  assert.equal(get(c, 'x'), 9);
  assert.equal(c.size, 1);
});

test('bounded: past half the entries a generation turns; series still sent survive, others fall out', () => {
  const c = new SeriesCache({ maxEntries: 4, maxBytes: 1 << 20 });
  set(c, 's1', 1);
  set(c, 's2', 2);
  // The current generation is full: s3 starts a new one, s1 and s2 are the old one.
  set(c, 's3', 3);
  assert.equal(get(c, 's1'), 1, 'found in the old generation and copied into the current one');
  // The current generation (s3, s1) is full again: s4 turns it; s2 is dropped.
  set(c, 's4', 4);
  assert.equal(get(c, 's2'), 0);
  assert.equal(get(c, 's1'), 1);
  assert.equal(get(c, 's3'), 3);
  assert.ok(c.size <= 4);
});

test('many series: all found after growth of the table and pages', () => {
  const c = new SeriesCache({ maxEntries: 1 << 20, maxBytes: 1 << 30 });
  const name = (i: number): string => `node_cpu_seconds_total{cpu="${i % 16}",instance="host-${i >> 4}:9100",mode="idle"}`;
  for (let i = 0; i < 20_000; i++) set(c, name(i), i + 1);
  for (let i = 0; i < 20_000; i++) assert.equal(get(c, name(i)), i + 1);
  assert.equal(c.size, 20_000);
  assert.ok(c.bytes > 0);
});

test('the entry after the last one found is checked by its bytes, not only its hash and length', () => {
  const c = new SeriesCache({ maxEntries: 100, maxBytes: 1 << 20 });
  // Same hash and length; they differ in the first word, a middle word or the last byte past the words.
  const names = ['abcdefgh1', 'abcdefgh2', 'Xbcdefgh1', 'abcdXfgh1'];
  names.forEach((n, i) => set(c, n, i + 1, 42));
  for (let round = 0; round < 2; round++) {
    // In order (each the entry after the last found), then backwards and skipping.
    for (let i = 0; i < names.length; i++) assert.equal(get(c, names[i]!, 42), i + 1);
    for (let i = names.length - 1; i >= 0; i -= 2) assert.equal(get(c, names[i]!, 42), i + 1);
    assert.equal(get(c, 'abcdefgh1', 42), 1);
    assert.equal(get(c, 'abcdefgh3', 42), 0, 'the next entry has the same hash and length, other bytes');
    assert.equal(get(c, 'abcdefgh2', 42), 2);
  }
});
