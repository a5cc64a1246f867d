import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../../model/labels.js';
import { Encbuf } from '../encoding/encoding.js';
import { RecordEncoder, REC_BATCH, REC_TOMBSTONES, decodeRecord} from './record.js';
import { collector } from './test_util.test.js';


describe('WAL records', () => {
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

  test('the encoder writes the documented bytes (docs/storage-format.md)', () => {
    // The format spelled out field by field with the plain byte writer.
    const want = new Encbuf();
    want.putByte(REC_BATCH);
    want.putUvarint(1);
    want.putUvarint(300);
    want.putUvarint(1);
    want.putString('a');
    want.putString('b');
    want.putUvarint(2);
    want.putUvarint(300);
    want.putVarint(5000);
    want.putVarint(0);
    want.putVarint(0);
    want.putF64Bits(1, 2);
    want.putVarint(-299);
    want.putVarint(15000);
    want.putF64Bits(3, 4);
    const e = new RecordEncoder(4, 1 << 20);
    e.startBatch(1);
    e.seriesFromSymbols(300, 1, ['b', 'a'], Uint32Array.of(9, 1, 0), 1);
    e.samples(2);
    e.sample(300, 5000, 1, 2);
    e.sample(1, 20000, 3, 4);
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
