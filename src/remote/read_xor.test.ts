import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PromXorEncoder, SAMPLES_PER_CHUNK, XorChunkError, decodePromXor } from './read_xor.js';

/** Bit patterns, so NaN payloads (staleness markers) and -0 compare exactly. */
function bits(v: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(v);
  return b.toString('hex');
}

function roundTrip(samples: Array<[number, number]>): void {
  const enc = new PromXorEncoder();
  for (const [t, v] of samples) enc.append(t, v);
  const got: Array<[number, string]> = [];
  decodePromXor(enc.bytes(), (t, v) => got.push([t, bits(v)]));
  assert.deepEqual(
    got,
    samples.map(([t, v]) => [t, bits(v)]),
  );
  assert.equal(enc.minT, samples[0]![0]);
  assert.equal(enc.maxT, samples.at(-1)![0]);
}

test('XOR: regular, irregular and extreme timestamps and values round trip', () => {
  const stale = Buffer.from('7ff0000000000002', 'hex').readDoubleBE();
  roundTrip([[1000, 1]]);
  roundTrip([
    [-10_000, 0],
    [-5000, -0],
    [0, stale],
    [15_000, NaN],
    [30_000, Infinity],
    [30_001, -Infinity],
    [30_001 + 8192, 1e-300],
    [30_001 + 8192 + 70_000, Number.MAX_VALUE],
    [30_001 + 8192 + 70_000 + 600_000, Number.MIN_VALUE],
    [10 ** 12, 42],
    [10 ** 12 + 1, 42],
    [2 ** 45, 0.1],
  ]);
  const seq: Array<[number, number]> = [];
  let t = 1_700_000_000_000;
  let s = 7;
  for (let i = 0; i < SAMPLES_PER_CHUNK; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    t += 15_000 + (s % 3 === 0 ? (s % 9000) - 4500 : 0);
    seq.push([t, s % 5 === 0 ? s / 7 : Math.floor(i / 3)]);
  }
  roundTrip(seq);
});

test('XOR: a chunk is full at 120 samples and refuses more', () => {
  const enc = new PromXorEncoder();
  for (let i = 0; i < SAMPLES_PER_CHUNK; i++) enc.append(i * 1000, i);
  assert.ok(enc.full());
  assert.throws(() => enc.append(1e9, 1), /BUG/);
  enc.reset();
  assert.equal(enc.num, 0);
  enc.append(5, 5);
  assert.equal(enc.bytes()[1], 1);
});

test('XOR: a cut-off chunk is refused', () => {
  const enc = new PromXorEncoder();
  for (let i = 0; i < 10; i++) enc.append(i * 1000, i * 1.5);
  const b = enc.bytes();
  assert.throws(() => decodePromXor(b.subarray(0, b.length - 3), () => {}), XorChunkError);
  assert.throws(() => decodePromXor(Uint8Array.from([0]), () => {}), XorChunkError);
});
