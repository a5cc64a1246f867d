import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isULID, newULID } from './ulid.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The creation time (ms) in a ULID's first 10 characters. */
function ulidTime(s: string): number {
  let t = 0;
  for (let i = 0; i < 10; i++) t = t * 32 + ALPHABET.indexOf(s.charAt(i));
  return t;
}

test('ULIDs encode their creation time, sort by it and are unique', () => {
  const a = newULID(1_700_000_000_000);
  const b = newULID(1_700_000_000_001);
  assert.ok(isULID(a) && isULID(b));
  assert.equal(a.length, 26);
  assert.equal(ulidTime(a), 1_700_000_000_000);
  assert.ok(a < b);
  assert.notEqual(newULID(5), newULID(5));
  assert.equal(isULID('not-a-ulid'), false);
});
