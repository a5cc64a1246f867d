import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareStrings, sortStrings, utf16OrderIsGoOrder } from './order.js';

test('compareStrings orders by code point (UTF-8 bytes), as Go does', () => {
  assert.equal(compareStrings('a', 'b'), -1);
  assert.equal(compareStrings('b', 'a'), 1);
  assert.equal(compareStrings('a', 'a'), 0);
  assert.equal(compareStrings('', 'a'), -1);
  assert.equal(compareStrings('ab', 'a'), 1);
  assert.equal(compareStrings('B', 'a'), -1);
  // U+FFFF is below U+1F600 as code points, though its UTF-16 unit is above the surrogates.
  assert.equal(compareStrings('\uffff', '😀'), -1);
  assert.equal(compareStrings('😀', '\ue000'), 1);
  assert.equal(compareStrings('😀', '😁'), -1);
  const words = ['\uffff', '😀', 'b', 'a', 'é', '\ud7ff', 'ab', ''];
  const byBytes = [...words].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  assert.deepEqual([...words].sort(compareStrings), byBytes);
  assert.deepEqual(byBytes, ['', 'a', 'ab', 'b', 'é', '\ud7ff', '\uffff', '😀']);
});

test('sortStrings gives Go order, natively when UTF-16 order is the same', () => {
  const byBytes = (xs: string[]): string[] => [...xs].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  const ascii = ['job', 'instance', '__name__', 'le', 'a', ''];
  assert.equal(utf16OrderIsGoOrder(ascii), true);
  assert.deepEqual(sortStrings([...ascii]), byBytes(ascii));
  const mixed = ['\uffff', '😀', 'b', '\ue000', 'a'];
  assert.equal(utf16OrderIsGoOrder(mixed), false);
  assert.deepEqual(sortStrings([...mixed]), byBytes(mixed));
});
