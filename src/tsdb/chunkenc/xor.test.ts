import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { XORChunk, XorIterator } from './xor.js';
import { bitsHi, bitsLo, joinFloat, splitFloat } from './float_bits.js';
import { STALE_NAN, isStaleNaN } from '../../model/value.js';

/** True when a and b have the same bit pattern (distinguishes NaN payloads and ±0). */
function sameBits(a: number, b: number): boolean {
  splitFloat(a);
  const ah = bitsHi();
  const al = bitsLo();
  splitFloat(b);
  return ah === bitsHi() && al === bitsLo();
}

function encode(ts: number[], vs: number[]): XORChunk {
  const c = new XORChunk();
  for (let i = 0; i < ts.length; i++) {
    splitFloat(vs[i]!);
    c.append(ts[i]!, bitsHi(), bitsLo());
  }
  return c;
}

function decode(bytes: Uint8Array): { ts: number[]; vs: number[] } {
  const it = new XorIterator();
  it.reset(bytes, 0, bytes.length);
  const ts: number[] = [];
  const vs: number[] = [];
  while (it.next()) {
    ts.push(it.ts);
    vs.push(it.v());
  }
  assert.equal(it.error, null);
  return { ts, vs };
}

describe('XOR chunk', () => {
  test('round-trips regular samples and compresses them', () => {
    const ts: number[] = [];
    const vs: number[] = [];
    for (let i = 0; i < 120; i++) {
      ts.push(1_700_000_000_000 + i * 15_000);
      vs.push(1000 + i * 3);
    }
    const c = encode(ts, vs);
    const d = decode(c.bytes());
    assert.deepEqual(d.ts, ts);
    assert.deepEqual(d.vs, vs);
    assert.equal(c.numSamples(), 120);
    // A regular counter needs a couple of bytes per sample at most.
    assert.ok(c.bytes().length < 120 * 3, `size ${c.bytes().length}`);
  });

  test('regular samples with constant values cost one bit each', () => {
    const ts = Array.from({ length: 120 }, (_, i) => i * 15_000);
    const vs = ts.map(() => 1);
    const c = encode(ts, vs);
    // Header 2 + first sample 1+8 + second 2 bytes and a bit, then 118 bits.
    assert.equal(c.bytes().length, 2 + 1 + 8 + 2 + Math.ceil(119 / 8));
    assert.deepEqual(decode(c.bytes()).vs, vs);
  });

  test('staleness markers, NaN payloads, infinities and -0 survive bit-exactly', () => {
    // Plain JS arrays of doubles quiet signalling NaNs in V8, so the cases are kept as raw bits.
    const bits = new Uint32Array([
      0x7ff00000, 2, // the staleness marker
      0x7ff80000, 0, // the default NaN
      0x7ff00000, 0x1234, // another NaN payload
      0x7ff00000, 0, // +Inf
      0xfff00000, 0, // -Inf
      0x80000000, 0, // -0
      0, 0,
      0, 1, // smallest subnormal
      0x7fefffff, 0xffffffff, // largest finite
      0x7ff00000, 2,
    ]);
    const c = new XORChunk();
    for (let i = 0; i < bits.length / 2; i++) c.append(i * 1000, bits[2 * i]!, bits[2 * i + 1]!);
    const it = new XorIterator();
    const b = c.bytes();
    it.reset(b, 0, b.length);
    for (let i = 0; i < bits.length / 2; i++) {
      assert.ok(it.next());
      assert.equal(it.valueHi(), bits[2 * i], `sample ${i} high word`);
      assert.equal(it.valueLo(), bits[2 * i + 1], `sample ${i} low word`);
    }
    assert.equal(it.next(), false);
    it.reset(b, 0, b.length);
    it.next();
    assert.equal(isStaleNaN(it.v()), true, 'decoded value is the staleness marker');
    splitFloat(STALE_NAN);
    assert.equal(bitsHi(), 0x7ff00000);
    assert.equal(bitsLo(), 2);
    assert.equal(isStaleNaN(joinFloat(0x7ff00000, 2)), true);
    assert.equal(it.valueHi(), 0x7ff00000);
  });

  test('every delta-of-delta bucket, negative timestamps and huge jumps', () => {
    const ts = [-5_000_000, -4_999_000, -4_998_000, -4_996_999, 0, 10, 9000, 80_000, 700_000, 2 ** 40, 2 ** 40 + 1, 2 ** 45];
    const vs = ts.map((_, i) => i * 1.5);
    const d = decode(encode(ts, vs).bytes());
    assert.deepEqual(d.ts, ts);
    assert.deepEqual(d.vs, vs);
  });

  test('count limit reads a prefix; a truncated chunk reports an error', () => {
    const ts = Array.from({ length: 30 }, (_, i) => i * 1000 + (i % 3));
    const vs = ts.map((t) => Math.sin(t));
    const b = encode(ts, vs).bytes();
    const it = new XorIterator();
    it.reset(b, 0, b.length, 10);
    let n = 0;
    while (it.next()) n++;
    assert.equal(n, 10);
    it.reset(b, 0, 12);
    n = 0;
    while (it.next()) n++;
    assert.ok(n < 30);
    assert.notEqual(it.error, null);
  });

  test('property: arbitrary increasing timestamps and arbitrary float bits round-trip', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 2 ** 31 }), fc.double(), fc.boolean()), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: -(2 ** 41), max: 2 ** 41 }),
        (rows, t0) => {
          const ts: number[] = [];
          const vs: number[] = [];
          let t = t0;
          let prev = 0;
          for (const [dt, v, repeat] of rows) {
            t += dt;
            ts.push(t);
            const val = repeat ? prev : v;
            vs.push(val);
            prev = val;
          }
          const d = decode(encode(ts, vs).bytes());
          assert.deepEqual(d.ts, ts);
          for (let i = 0; i < vs.length; i++) assert.ok(sameBits(d.vs[i]!, vs[i]!));
        },
      ),
      { numRuns: 200 },
    );
  });

  test('byte layout: first samples as in Prometheus, then joint control bits', () => {
    const ts = [1000, 2000, 3000, 4500];
    const vs = [1, 1, 2, 2.5];
    const b = encode(ts, vs).bytes();
    assert.equal((b[0]! << 8) | b[1]!, 4);
    // First sample: zigzag varint of 1000 = 2000 -> d0 0f, then the float 1.0 = 3ff0000000000000.
    assert.deepEqual([...b.subarray(2, 12)], [0xd0, 0x0f, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]);
    // Second: uvarint delta 1000 -> e8 07, then a zero bit for the unchanged value.
    assert.equal(b[12], 0xe8);
    assert.equal(b[13], 0x07);
    assert.equal(b[14]! >> 7, 0);
    // Third: same interval, value 1 -> 2 as a decimal delta at scale 0: 10 0 0 00001.
    assert.equal((b[14]! >> 3) & 0xf, 0b1000);
    assert.equal(((b[14]! & 0b111) << 2) | (b[15]! >> 6), 0b00001);
  });

  test('integer deltas of every size and sign round-trip and beat XOR for counters', () => {
    const deltas = [0, 1, -1, 15, -16, 16, 127, -128, 128, 4095, -4096, 4096, 2 ** 21 - 1, -(2 ** 21), 2 ** 21, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 52, -(2 ** 52), 3];
    const vs: number[] = [0];
    for (const d of deltas) vs.push(vs[vs.length - 1]! + d);
    vs.push(-0, 5, 2 ** 60, 2 ** 60 + 2 ** 10, 7);
    const ts = vs.map((_, i) => i * 15_000);
    const d = decode(encode(ts, vs).bytes());
    assert.deepEqual(d.ts, ts);
    for (let i = 0; i < vs.length; i++) assert.ok(sameBits(d.vs[i]!, vs[i]!), `value ${i}: ${vs[i]} != ${d.vs[i]}`);
    // A counter growing by 10-30 per scrape: 13 bits per sample with the timestamp (XOR needs ~20).
    const cts: number[] = [];
    const cvs: number[] = [];
    let v = 123_456;
    for (let i = 0; i < 120; i++) {
      cts.push(i * 15_000);
      v += 10 + ((i * 7919) % 21);
      cvs.push(v);
    }
    const size = encode(cts, cvs).bytes().length;
    assert.ok(size < 20 + 120 * 1.65, `size ${size}`);
  });

  test('decimal values use the scaled form and round-trip exactly', () => {
    const vs = [1234.567, 1234.568, 1240.1, 1240.1, 0.001, -0.5, 12.25, 1e-7, 3, 0.1 + 0.2, 1 / 3, 123456789.123, 9007199254740.99, -0, 0, 5];
    const ts = vs.map((_, i) => i * 15_000);
    const d = decode(encode(ts, vs).bytes());
    for (let i = 0; i < vs.length; i++) assert.ok(sameBits(d.vs[i]!, vs[i]!), `value ${i}: ${vs[i]} != ${d.vs[i]}`);
    // A float sum with 3 decimals growing steadily: far below XOR's ~60 bits per sample.
    const sts: number[] = [];
    const svs: number[] = [];
    let v = 1000;
    for (let i = 0; i < 120; i++) {
      sts.push(i * 15_000);
      v = Math.round((v + 0.5 + ((i * 37) % 100) / 100) * 1000) / 1000;
      svs.push(v);
    }
    const b = encode(sts, svs).bytes();
    assert.deepEqual(decode(b).vs, svs);
    assert.ok(b.length < 20 + 120 * 2.75, `size ${b.length}`);
  });

  test('property: decimal-looking values round-trip bit-exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 7 })), { minLength: 2, maxLength: 150 }), (rows) => {
        const vs = rows.map(([n, k]) => n / 10 ** k);
        const ts = vs.map((_, i) => i * 1000);
        const d = decode(encode(ts, vs).bytes());
        for (let i = 0; i < vs.length; i++) assert.ok(sameBits(d.vs[i]!, vs[i]!), `${vs[i]}`);
      }),
      { numRuns: 300 },
    );
  });

  test('a chunk decodes the same inside a larger array, at its very end, and after a longer one', () => {
    const ts = Array.from({ length: 120 }, (_, i) => i * 15_000 + (i % 7 === 0 ? 4 : 0));
    const vs = ts.map((_, i) => (i % 3 === 0 ? Math.round(i * 12.34 * 100) / 100 : Math.sqrt(i)));
    const b = encode(ts, vs).bytes();
    const want = decode(b);
    const big = new Uint8Array(b.length + 300).fill(0xff);
    big.set(b, 100);
    const it = new XorIterator();
    for (const [buf, start] of [
      [big, 100],
      [b, 0],
      [big, 100],
    ] as const) {
      it.reset(buf, start, start + b.length);
      const got: number[] = [];
      while (it.next()) got.push(it.ts, it.v());
      assert.equal(it.error, null);
      assert.deepEqual(got, want.ts.flatMap((t, i) => [t, want.vs[i]!]));
    }
  });

  test('truncated at every length: a prefix of the samples and an error, never a throw', () => {
    const ts = Array.from({ length: 40 }, (_, i) => i * 1000 + (i % 3) * 777 + (i === 20 ? 2 ** 40 : 0));
    const vs = ts.map((t, i) => (i % 4 === 0 ? Math.sin(t) : i % 4 === 1 ? i * 1.5 : i % 4 === 2 ? 2 ** 60 : -0));
    const b = encode(ts, vs).bytes();
    const full = decode(b);
    const it = new XorIterator();
    for (let len = 2; len < b.length; len++) {
      // Header says 40 samples; the bytes stop early, followed by garbage ones.
      const buf = new Uint8Array(len + 64).fill(0xff);
      buf.set(b.subarray(0, len));
      for (const end of [len, buf.length]) {
        it.reset(buf.subarray(0, end), 0, len);
        let n = 0;
        while (it.next()) {
          assert.equal(it.ts, full.ts[n], `len ${len} sample ${n}`);
          n++;
        }
        assert.ok(n < 40, `len ${len}`);
        assert.notEqual(it.error, null, `len ${len}`);
      }
    }
  });
});
