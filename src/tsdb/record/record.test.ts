import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../../model/labels.js';
import { Encbuf } from '../encoding/encoding.js';
import { RecordEncoder, REC_BATCH, REC_BATCH_RAW, REC_TOMBSTONES, decodeRecord } from './record.js';
import { collector } from './test_util.test.js';

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
/** A float's [high, low] 32-bit halves, as the encoder takes them. */
function bits(v: number): [number, number] {
  f64[0] = v;
  return [u32[1]!, u32[0]!];
}

describe('WAL records', () => {
  test('series label strings are written as length-prefixed UTF-8: ASCII, not ASCII, around 128 characters', () => {
    const strs = ['__name__', 'up', 'a'.repeat(127), 'b'.repeat(128), 'ünï', 'x\u007f', 'é'.repeat(70), '', 'z'.repeat(300), 'ok😀'];
    const ids = Uint32Array.from(strs.map((_, i) => i));
    const e = new RecordEncoder(16, 1 << 20);
    e.startBatch(1);
    e.seriesFromSymbols(7, strs.length / 2, strs, ids, 0);
    const want = new Encbuf(16);
    want.putByte(REC_BATCH);
    want.putUvarint(1);
    want.putUvarint(7);
    want.putUvarint(strs.length / 2);
    for (const x of strs) {
      const b = Buffer.from(x, 'utf8');
      want.putUvarint(b.length);
      for (const byte of b) want.putByte(byte);
    }
    assert.deepEqual(Buffer.from(e.bytes()), Buffer.from(want.get()));
  });

  test('batch and tombstone records round-trip', () => {
    const { h, c } = collector();
    const e = new RecordEncoder(16, 1 << 20);
    e.startBatch(1);
    e.series(5, Labels.fromPairs('__name__', 'up', 'job', 'x'));
    e.samples(3);
    e.sample(5, 1000, 0x3ff00000, 0);
    e.sample(3, -20, 0x3ff00000, 1);
    e.sample(9, 2 ** 41, 0x3ff00000, 2);
    const b = Buffer.from(e.bytes());
    decodeRecord(b, 0, b.length, h);
    assert.deepEqual(c.series, [[5, '{__name__="up", job="x"}']]);
    assert.deepEqual(c.samples, [
      [5, 1000, 0x3ff00000, 0],
      [3, -20, 0x3ff00000, 1],
      [9, 2 ** 41, 0x3ff00000, 2],
    ]);
    e.startTombstones(1);
    e.tombstone(7, 10, 20);
    decodeRecord(e.bytes(), 0, e.bytes().length, h);
    assert.deepEqual(c.tombstones, [[7, 10, 20]]);
    assert.throws(() => decodeRecord(Buffer.from([9, 0]), 0, 2, h), /unknown WAL record type/);
  });

  test('sample values come back bit for bit, compact or raw', () => {
    const values = [0, -0, 1, -1, 12.75, 0.1, 0.3, 0.1 + 0.2, 1e-7, 123456.789012, 2 ** 48, 2 ** 49, -(2 ** 49) - 1, 2 ** 60, 1e300, 5e-324, Infinity, -Infinity, NaN, Math.PI, 99.99, 1.5e-6];
    const e = new RecordEncoder(64, 1 << 20);
    e.startBatch(0);
    e.samples(values.length + 1);
    values.forEach((v, i) => e.sample(1, i, ...bits(v)));
    // The staleness marker, a NaN with its own payload.
    e.sample(1, 100, 0x7ff00000, 2);
    const { h, c } = collector();
    decodeRecord(e.bytes(), 0, e.bytes().length, h);
    assert.deepEqual(
      c.samples.map(([, , hi, lo]) => [hi, lo]),
      [...values.map((v) => bits(v)), [0x7ff00000, 2]],
    );
    // A compact value with a scale past 10^6 is damage.
    assert.throws(() => decodeRecord(Buffer.from([REC_BATCH, 0, 1, 1, 0, 0, 0, 8]), 0, 8, h), /compact sample value with scale 7/);
  });

  test('decimals with up to 6 places take the compact form; every value round-trips exactly', () => {
    let seed = 12345;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    for (const kind of ['decimal', 'random'] as const) {
      const values: number[] = [];
      for (let i = 0; i < 5000; i++) {
        const sign = rnd() < 0.5 ? -1 : 1;
        values.push(kind === 'decimal' ? (sign * Math.floor(rnd() * 1e9)) / 10 ** (i % 7) : sign * rnd() * 10 ** ((i % 20) - 5));
      }
      const e = new RecordEncoder(64, 1 << 20);
      e.startBatch(0);
      e.samples(values.length);
      values.forEach((v, i) => e.sample(1, i, ...bits(v)));
      const b = e.bytes();
      const { h, c } = collector();
      decodeRecord(b, 0, b.length, h);
      assert.deepEqual(
        c.samples.map(([, , hi, lo]) => [hi, lo]),
        values.map((v) => bits(v)),
        kind,
      );
      // Per sample: ref and time deltas (1-2 bytes each) and the value: compact decimals fit in 6, raw takes 9.
      const per = b.length / values.length;
      if (kind === 'decimal') assert.ok(per < 11, `${per}`);
      else assert.ok(per > 10, `${per}`);
    }
  });

  test('batches written before compact values (raw 8-byte values) still decode', () => {
    const old = new Encbuf();
    old.putByte(REC_BATCH_RAW);
    old.putUvarint(0);
    old.putUvarint(2);
    old.putUvarint(4);
    old.putVarint(1000);
    old.putVarint(0);
    old.putVarint(0);
    old.putF64Bits(...bits(2.5));
    old.putVarint(1);
    old.putVarint(15);
    old.putF64Bits(...bits(NaN));
    const { h, c } = collector();
    decodeRecord(old.get(), 0, old.get().length, h);
    assert.deepEqual(c.samples, [
      [4, 1000, ...bits(2.5)],
      [5, 1015, ...bits(NaN)],
    ]);
  });

  test('the encoder writes the documented bytes (docs/storage-format.md)', () => {
    // The format spelled out field by field with the plain byte writer.
    const want = new Encbuf();
    want.putByte(REC_BATCH);
    want.putUvarint(1);
    want.putUvarint(300);
    want.putUvarint(1);
    want.putString('a');
    want.putString('b');
    want.putUvarint(4);
    want.putUvarint(300);
    want.putVarint(5000);
    want.putVarint(0);
    want.putVarint(0);
    // Values that are no short decimal: uvarint 0 and the raw bits.
    want.putUvarint(0);
    want.putF64Bits(1, 2);
    want.putVarint(-299);
    want.putVarint(15000);
    want.putUvarint(0);
    want.putF64Bits(3, 4);
    // 12.75 = 1275 / 10^2: uvarint(1 + 8 * zigzag(1275) + 2); -3 = -3 / 10^0.
    want.putVarint(0);
    want.putVarint(1);
    want.putUvarint(1 + 8 * 2550 + 2);
    want.putVarint(0);
    want.putVarint(2);
    want.putUvarint(1 + 8 * 5);
    const e = new RecordEncoder(4, 1 << 20);
    e.startBatch(1);
    e.seriesFromSymbols(300, 1, ['b', 'a'], Uint32Array.of(9, 1, 0), 1);
    e.samples(4);
    e.sample(300, 5000, 1, 2);
    e.sample(1, 20000, 3, 4);
    e.sample(300, 5001, ...bits(12.75));
    e.sample(300, 5002, ...bits(-3));
    assert.deepEqual([...e.bytes()], [...want.get()]);

    // A batch of series only: the sample count 0 and no base.
    e.startBatch(0);
    e.samples(0);
    assert.deepEqual([...e.bytes()], [REC_BATCH, 0, 0]);

    const t = new Encbuf();
    t.putByte(REC_TOMBSTONES);
    t.putUvarint(1);
    t.putUvarint(7);
    t.putVarint(-10);
    t.putVarint(20);
    e.startTombstones(1);
    e.tombstone(7, -10, 20);
    assert.deepEqual([...e.bytes()], [...t.get()]);
  });

  test('release() drops a buffer grown past the retained size', () => {
    const e = new RecordEncoder(16, 64);
    e.startBatch(1);
    e.series(1, Labels.fromPairs('x', 'y'.repeat(200)));
    e.samples(0);
    assert.ok(e.capacity() > 64);
    e.release();
    assert.equal(e.capacity(), 64);
  });
});
