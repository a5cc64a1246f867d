import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../../model/labels.js';
import { Encbuf } from '../encoding/encoding.js';
import { RecordEncoder, REC_EXEMPLARS, decodeRecord, type RecordHandler } from './record.js';
import { collector } from './test_util.test.js';

test('exemplar records round-trip and are written as documented', () => {
  const e = new RecordEncoder(16, 1 << 20);
  e.startExemplars(3);
  e.exemplar(300, 5000, 1.5, Labels.fromPairs('trace_id', 'abc'));
  e.exemplar(7, 4000, -0, Labels.fromPairs('span_id', 's', 'trace_id', 't'));
  e.exemplar(301, 2 ** 41, NaN, Labels.EMPTY);
  const got: [number, number, number, string][] = [];
  const h: RecordHandler = { ...collector().h, exemplar: (ref, t, v, ls) => got.push([ref, t, v, ls.toString()]) };
  const b = Buffer.from(e.bytes());
  decodeRecord(b, 0, b.length, h);
  assert.deepEqual(got, [
    [300, 5000, 1.5, '{trace_id="abc"}'],
    [7, 4000, -0, '{span_id="s", trace_id="t"}'],
    [301, 2 ** 41, NaN, '{}'],
  ]);

  // The bytes, field by field.
  const want = new Encbuf();
  want.putByte(REC_EXEMPLARS);
  want.putUvarint(1);
  want.putUvarint(300);
  want.putVarint(5000);
  want.putVarint(0);
  want.putVarint(0);
  want.putF64Bits(0x3ff80000, 0);
  want.putUvarint(1);
  want.putString('trace_id');
  want.putString('abc');
  e.startExemplars(1);
  e.exemplar(300, 5000, 1.5, Labels.fromPairs('trace_id', 'abc'));
  assert.deepEqual([...e.bytes()], [...want.get()]);

  // An empty record has no base.
  e.startExemplars(0);
  assert.deepEqual([...e.bytes()], [REC_EXEMPLARS, 0]);
});

test('handlers without exemplar() skip exemplar records', () => {
  const { h, c } = collector();
  const e = new RecordEncoder(16, 1 << 20);
  e.startExemplars(1);
  e.exemplar(1, 1, 1, Labels.fromPairs('a', 'b'));
  decodeRecord(e.bytes(), 0, e.bytes().length, h);
  assert.deepEqual(c, { series: [], samples: [], tombstones: [] });
});

test('a truncated exemplar record is a corruption error', () => {
  const e = new RecordEncoder(16, 1 << 20);
  e.startExemplars(1);
  e.exemplar(1, 1, 1, Labels.fromPairs('trace_id', 'abc'));
  const b = Buffer.from(e.bytes()).subarray(0, e.bytes().length - 2);
  const h: RecordHandler = { ...collector().h, exemplar: () => undefined };
  assert.throws(() => decodeRecord(b, 0, b.length, h), /runs past the end/);
});
