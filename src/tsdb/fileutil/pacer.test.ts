import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sortAsync } from './pacer.js';

test('sortAsync sorts large arrays stably, like Array.prototype.sort', async () => {
  const n = 20_000;
  const items = Array.from({ length: n }, (_, i) => ({ k: (i * 7919) % 1000, i }));
  const got = await sortAsync([...items], (a, b) => a.k - b.k);
  const want = [...items].sort((a, b) => a.k - b.k);
  assert.deepEqual(got, want);
  assert.deepEqual(await sortAsync([3, 1, 2], (a, b) => a - b), [1, 2, 3]);
});
