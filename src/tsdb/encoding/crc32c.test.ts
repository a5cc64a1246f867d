import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c, crc32cUpdate } from './crc32c.js';

test('CRC-32C matches the standard check values', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
});

test('CRC-32C is the same computed in pieces and over sub-ranges', () => {
  const b = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 31 + 7) & 0xff));
  const whole = crc32c(b);
  for (const cut of [0, 1, 7, 8, 9, 500, 999, 1000]) {
    assert.equal(crc32cUpdate(crc32cUpdate(0, b, 0, cut), b, cut, b.length), whole);
  }
  const padded = Buffer.concat([Buffer.from([1, 2, 3]), b, Buffer.from([4])]);
  assert.equal(crc32c(padded, 3, 1003), whole);
});
