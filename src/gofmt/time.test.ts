import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGoTimeJSON } from './time.js';

test('formatGoTimeJSON writes Go zero time and trims the fraction', () => {
  assert.equal(formatGoTimeJSON(0), '0001-01-01T00:00:00Z');
  assert.equal(formatGoTimeJSON(Date.UTC(2026, 11, 6, 12, 0, 0)), '2026-12-06T12:00:00Z');
  assert.equal(formatGoTimeJSON(Date.UTC(2026, 11, 6, 12, 0, 0, 500)), '2026-12-06T12:00:00.5Z');
  assert.equal(formatGoTimeJSON(Date.UTC(2026, 11, 6, 12, 0, 0, 120)), '2026-12-06T12:00:00.12Z');
});
