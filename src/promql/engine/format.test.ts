import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRFC3339 } from './format.js';

test('formatRFC3339 prints whole seconds in UTC', () => {
  assert.equal(formatRFC3339(0), '1970-01-01T00:00:00Z');
  assert.equal(formatRFC3339(1_700_000_000_999), '2023-11-14T22:13:20Z');
});
