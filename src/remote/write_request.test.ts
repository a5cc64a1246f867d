import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { decodeLabelFields } from './write_request.js';

const varint = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...varint(n >>> 7)]);

/** A run of TimeSeries label fields of these raw name and value bytes. */
function labelFields(pairs: Array<[Uint8Array, Uint8Array]>): Buffer {
  const out: number[] = [];
  for (const [n, v] of pairs) {
    const msg = [0x0a, ...varint(n.length), ...n, 0x12, ...varint(v.length), ...v];
    out.push(0x0a, ...varint(msg.length), ...msg);
  }
  return Buffer.from(out);
}

test('property: label strings decode as UTF-8 whether remembered or not, with invalid UTF-8 flagged', () => {
  // Few distinct short byte strings, so repeats and slot collisions both happen; ASCII and not.
  const pool = fc.constantFrom(...['a', 'b', 'ab', 'ba', 'job', 'node', 'x'.repeat(64), 'y'.repeat(65), 'cpu', 'é', 'ü1', ''].map((s) => Buffer.from(s)), Buffer.from([0xff]), Buffer.from([0x61, 0xc3]));
  const bytes = fc.oneof(pool, fc.uint8Array({ maxLength: 70 }));
  fc.assert(
    fc.property(fc.array(fc.tuple(bytes, bytes), { maxLength: 12 }), (pairs) => {
      const d = decodeLabelFields(labelFields(pairs), 0, labelFields(pairs).length);
      assert.deepEqual(d.labels, pairs.flatMap(([n, v]) => [Buffer.from(n).toString('utf8'), Buffer.from(v).toString('utf8')]));
      assert.equal(d.utf8, pairs.every(([n, v]) => isUtf8(n) && isUtf8(v)));
    }),
    { numRuns: 500 },
  );
});

test('strings of equal length and hash slot are told apart by their bytes', () => {
  // Every two-letter string: 676 of them over 4096 slots, so some share a slot, and each is decoded twice.
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const all = [...letters].flatMap((a) => [...letters].map((b) => a + b));
  for (const round of [0, 1]) {
    for (const s of all) {
      const body = labelFields([[Buffer.from(s), Buffer.from(s.split('').reverse().join(''))]]);
      assert.deepEqual(decodeLabelFields(body, 0, body.length).labels, [s, s.split('').reverse().join('')], `round ${round}`);
    }
  }
});
