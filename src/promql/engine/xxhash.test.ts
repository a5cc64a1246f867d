import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../../model/labels.js';
import { labelsHash, ratioOffset, xxhash64 } from './xxhash.js';

const enc = new TextEncoder();

test('xxhash64 matches the reference vectors', () => {
  assert.equal(xxhash64(enc.encode('')), 0xef46db3751d8e999n);
  assert.equal(xxhash64(enc.encode('a')), 0xd24ec4f1a98c6e5bn);
  assert.equal(xxhash64(enc.encode('abc')), 0x44bc2cf5ad770999n);
  // Longer than 32 bytes exercises the four-lane loop.
  assert.equal(xxhash64(enc.encode('Nobody inspects the spammish repetition')), 0xfbcea83c8a378bf1n);
});

test('labelsHash hashes the length-prefixed label encoding', () => {
  const ls = Labels.fromPairs('a', 'b');
  assert.equal(labelsHash(ls), xxhash64(Uint8Array.from([1, 97, 1, 98])));
  // Names and values of 255 bytes or more get a 4-byte length.
  const long = 'x'.repeat(300);
  const lsLong = Labels.fromPairs('n', long);
  const bytes = [1, 110, 255, 300 & 0xff, 300 >> 8, 0, ...enc.encode(long)];
  assert.equal(labelsHash(lsLong), xxhash64(Uint8Array.from(bytes)));
});

test('ratioOffset is deterministic and lies in [0, 1)', () => {
  const ls = Labels.fromPairs('__name__', 'up', 'job', 'x');
  const o = ratioOffset(ls);
  assert.ok(o >= 0 && o < 1);
  assert.equal(ratioOffset(Labels.fromPairs('job', 'x', '__name__', 'up')), o);
});
