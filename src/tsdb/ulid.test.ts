import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isULID, newULID, ulidTime } from './ulid.js';

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
