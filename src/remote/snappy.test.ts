import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compressSync, uncompressSync } from 'snappy';
import { snappyDeclaredLength, snappyDecode, SnappyError } from './snappy.js';

/** Bytes with runs and repeats, so the compressor emits literals and back-references of every length. */
const data = fc
  .array(fc.oneof(fc.uint8Array({ maxLength: 100 }), fc.tuple(fc.nat(255), fc.integer({ min: 1, max: 300 })).map(([b, n]) => new Uint8Array(n).fill(b))), { maxLength: 30 })
  .map((parts) => {
    const out = Buffer.concat(parts);
    // Repeat a slice of itself, for longer back-references.
    return out.length > 10 ? Buffer.concat([out, out.subarray(3, Math.min(out.length, 200)), out]) : out;
  });

test('property: decodes what the snappy package encodes', () => {
  fc.assert(
    fc.property(data, (input) => {
      assert.deepEqual(snappyDecode(compressSync(input), 1 << 24), input);
    }),
    { numRuns: 300 },
  );
});

test('property: a corrupted body fails with SnappyError or decodes as the native decoder does', () => {
  fc.assert(
    fc.property(data, fc.nat(), fc.nat(255), (input, at, byte) => {
      const body = Buffer.from(compressSync(input));
      if (body.length === 0) return;
      body[at % body.length] = byte;
      let native: Buffer | null;
      try {
        native = uncompressSync(body) as Buffer;
      } catch {
        native = null;
      }
      try {
        const ours = snappyDecode(body, 1 << 24);
        assert.ok(native !== null, 'decoded a body the native decoder refuses');
        assert.deepEqual(ours, native);
      } catch (e) {
        if (!(e instanceof SnappyError)) throw e;
      }
    }),
    { numRuns: 500 },
  );
});

/** A snappy block: a literal of `lit` (< 256) distinct bytes, then one 2-byte-offset copy (len 1-64) per [offset, len]. */
function block(lit: number, copies: Array<[number, number]>): Buffer {
  const total = lit + copies.reduce((n, [, len]) => n + len, 0);
  const out = [(total & 0x7f) | (total >= 0x80 ? 0x80 : 0), ...(total >= 0x80 ? [total >>> 7] : [])];
  // Literal lengths from 61 on take one extra byte.
  out.push(...(lit <= 60 ? [(lit - 1) << 2] : [60 << 2, lit - 1]));
  for (let i = 0; i < lit; i++) out.push(1 + i);
  for (const [offset, len] of copies) out.push(((len - 1) << 2) | 2, offset & 0xff, offset >>> 8);
  return Buffer.from(out);
}

test('copies of every length overlapping their output at every small offset decode as the native decoder decodes them', () => {
  for (let offset = 1; offset <= 16; offset++) {
    for (let len = 1; len <= 64; len++) {
      // Once as the last element (no room to write past it) and once followed by another copy.
      for (const copies of [[[offset, len]], [[offset, len], [offset, 3]]] as Array<Array<[number, number]>>) {
        const body = block(16, copies);
        assert.deepEqual(snappyDecode(body, 1 << 16), uncompressSync(body), `offset ${offset} len ${len} copies ${copies.length}`);
      }
    }
  }
});

test('literals of every length up to 70, last or followed by a copy, decode as the native decoder decodes them', () => {
  for (let lit = 1; lit <= 70; lit++) {
    for (const copies of [[], [[1, 5]]] as Array<Array<[number, number]>>) {
      const body = block(lit, copies);
      assert.deepEqual(snappyDecode(body, 1 << 16), uncompressSync(body), `literal ${lit} copies ${copies.length}`);
    }
  }
});

test('decodes into the buffer given when it is long enough, else into a new one; the declared length is read alone', () => {
  const input = Buffer.from('remote write '.repeat(50));
  const block = compressSync(input);
  assert.equal(snappyDeclaredLength(block), input.length);
  assert.equal(snappyDeclaredLength(Buffer.from([0x80, 0x80])), -1);
  assert.equal(snappyDeclaredLength(Buffer.alloc(0)), -1);
  const into = new Uint8Array(new SharedArrayBuffer(input.length + 10), 4);
  const out = snappyDecode(block, 1 << 24, into);
  assert.equal(out.buffer, into.buffer);
  assert.equal(out.byteOffset, 4);
  assert.deepEqual(Buffer.from(out), input);
  const small = new Uint8Array(input.length - 1);
  const out2 = snappyDecode(block, 1 << 24, small);
  assert.notEqual(out2.buffer, small.buffer);
  assert.deepEqual(out2, input);
});
