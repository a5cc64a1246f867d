import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compressSync, uncompressSync } from 'snappy';
import { snappyDecode, SnappyError } from './snappy.js';

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
