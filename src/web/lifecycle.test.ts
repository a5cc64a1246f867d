import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { LifecycleApi, type LifecycleTarget } from './lifecycle.js';

function target(over: Partial<LifecycleTarget> = {}): LifecycleTarget & { shutdowns: number } {
  const t: LifecycleTarget & { shutdowns: number } = {
    enabled: true,
    shutdowns: 0,
    reload: () => Promise.resolve(),
    stopping: (): boolean => t.shutdowns > 0,
    shutdown: () => {
      t.shutdowns++;
    },
    ...over,
  };
  return t;
}

test('reload and quit answer 403 unless the lifecycle API is enabled', async () => {
  const t = target({ enabled: false });
  const api = new LifecycleApi(t);
  for (const r of [await api.reload(), api.quit()]) {
    assert.equal(r.status, 403);
    assert.equal(r.body, 'Lifecycle API is not enabled.');
  }
  await nextTurn();
  assert.equal(t.shutdowns, 0);
});

test('reload reports a refused config as 500 with the reason', async () => {
  const ok = await new LifecycleApi(target()).reload();
  assert.deepEqual([ok.status, ok.body], [200, '']);
  const bad = await new LifecycleApi(target({ reload: () => Promise.reject(new Error('bad yaml')) })).reload();
  assert.deepEqual([bad.status, bad.body], [500, 'failed to reload config: bad yaml\n']);
  assert.equal(bad.headers?.['Content-Type'], 'text/plain; charset=utf-8');
});

test('quit answers before it shuts down, once', async () => {
  const t = target();
  const api = new LifecycleApi(t);
  assert.equal(api.quit().body, 'Requesting termination... Goodbye!');
  assert.equal(t.shutdowns, 0);
  await nextTurn();
  assert.equal(t.shutdowns, 1);
  assert.equal(api.quit().body, 'Termination already in progress.');
  await nextTurn();
  assert.equal(t.shutdowns, 1);
});
