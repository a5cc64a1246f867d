import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ByteWriter } from './byte_writer.js';

function jsonBytes(s: string, at: number): string {
  const w = new ByteWriter(Buffer.alloc(at + 6 * s.length + 2));
  w.pos = at;
  w.jsonString(s);
  return w.buf.toString('utf8', at, w.pos);
}

test('jsonString writes what JSON.stringify writes, for any UTF-16 text', () => {
  // Any code units: escapes, multi-byte characters, surrogate pairs and lone surrogates, mixed with ASCII.
  const unit = fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xd800, max: 0xdfff }));
  fc.assert(
    fc.property(fc.array(unit, { maxLength: 30 }), fc.nat({ max: 7 }), (units, at) => {
      const s = String.fromCharCode(...units);
      assert.equal(jsonBytes(s, at), JSON.stringify(s));
    }),
    { numRuns: 5000 },
  );
  for (const s of ['', 'plain', 'a"b\\c', '\b\f\n\r\t\u0000\u001f\u007f', 'é€😀', '\ud800', 'x\udc00y', '\ud83d\ude00\ud83d']) {
    assert.equal(jsonBytes(s, 0), JSON.stringify(s));
  }
});

test('numbers and seconds are written as JSON.stringify writes them', () => {
  const w = new ByteWriter(Buffer.alloc(64));
  const text = (f: () => void): string => {
    w.reset(w.buf);
    f();
    return w.buf.toString('latin1', 0, w.pos);
  };
  for (const n of [0, 7, 10, 2 ** 31, 2 ** 53 - 1, -5, 1.5, 1e21]) assert.equal(text(() => w.number(n)), JSON.stringify(n));
  assert.equal(text(() => w.number(NaN)), '0');
  assert.equal(text(() => w.seconds(0.000123)), '0.000123');
  assert.equal(text(() => w.seconds(1.0000000004)), '1');
  assert.equal(text(() => w.seconds(12.5)), '12.5');
  assert.equal(text(() => w.seconds(1e-7)), '1e-7');
  assert.equal(text(() => w.seconds(-1)), '0');
  assert.equal(text(() => w.seconds(4e-10)), '0');
  assert.equal(text(() => w.seconds(Infinity)), '0');
  assert.equal(text(() => w.seconds(NaN)), '0');
  for (const ns of [1, 10, 100, 120, 999, 1000, 1001, 123456789, 1e9, 1e9 + 1, 86_400e9]) {
    assert.equal(text(() => w.seconds(ns / 1e9)), JSON.stringify(ns / 1e9));
  }
});
