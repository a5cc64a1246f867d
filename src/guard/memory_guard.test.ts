import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { MemoryGuard, exposeGc, type MemorySample, type MemoryState } from './memory_guard.js';

const MiB = 2 ** 20;

/** A guard over a settable sample; the memory limit is 1000 MiB, the heap limit 500 MiB. */
function setup(o: { gc?: () => void; busy?: () => boolean } = {}) {
  const s: MemorySample = { heapUsed: 50 * MiB, heapTotal: 60 * MiB, heapLimit: 500 * MiB, rss: 200 * MiB };
  const registry = new Registry();
  const changes: Array<[MemoryState, MemoryState]> = [];
  let now = 0;
  const guard = new MemoryGuard({
    limit: { bytes: 1000 * MiB, source: 'flag' },
    registry,
    sample: () => ({ ...s }),
    gc: o.gc ?? null,
    busy: o.busy,
    now: () => now,
    onStateChange: (next, prev) => changes.push([next, prev]),
  });
  return { s, guard, registry, changes, tick: (ms: number) => (now += ms) };
}

async function value(reg: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const m = reg.getSingleMetric(name);
  const vals = (await m!.get()).values;
  return vals.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
}

describe('MemoryGuard', () => {
  it('sheds in order and recovers below the recovery mark (hysteresis)', async () => {
    const { s, guard, registry, changes } = setup();
    assert.equal(guard.check(), 'ok');
    assert.equal(guard.admitQuery(), null);
    s.rss = 860 * MiB;
    assert.equal(guard.check(), 'soft');
    assert.match(guard.admitQuery() ?? '', /^query refused: memory use is at 86% of the limit/);
    assert.equal(await value(registry, 'tsprom_memory_guard_state'), 1);
    // Soft: only groups whose last evaluation took long skip.
    assert.equal(guard.skipRuleGroup(500, 100), true);
    assert.equal(guard.skipRuleGroup(5, 100), false);
    // The heap share counts as well as RSS.
    s.rss = 200 * MiB;
    s.heapUsed = 480 * MiB;
    assert.equal(guard.check(), 'hard');
    assert.equal(guard.skipRuleGroup(5, 100), true);
    s.heapUsed = 430 * MiB; // 86%: hard holds until under the soft mark
    assert.equal(guard.check(), 'hard');
    s.heapUsed = 410 * MiB; // 82%: under soft, over recovery
    assert.equal(guard.check(), 'soft');
    assert.equal(guard.check(), 'soft');
    s.heapUsed = 390 * MiB;
    assert.equal(guard.check(), 'ok');
    assert.equal(guard.admitQuery(), null);
    assert.deepEqual(changes, [
      ['soft', 'ok'],
      ['hard', 'soft'],
      ['soft', 'hard'],
      ['ok', 'soft'],
    ]);
    assert.equal(await value(registry, 'tsprom_memory_shed_total', { what: 'query' }), 1);
    assert.equal(await value(registry, 'tsprom_memory_shed_total', { what: 'rule_group' }), 2);
    assert.equal(await value(registry, 'tsprom_memory_limit_bytes'), 1000 * MiB);
    assert.equal(await value(registry, 'tsprom_heap_limit_bytes'), 500 * MiB);
  });

  it('collects garbage before shedding, and sheds only if that did not help', () => {
    let collected = 0;
    let freed = true;
    const ctx = setup({
      gc: () => {
        collected++;
        if (freed) ctx.s.heapUsed = 100 * MiB;
      },
    });
    ctx.s.heapUsed = 450 * MiB;
    assert.equal(ctx.guard.check(), 'ok');
    assert.equal(collected, 2, 'one collection is two GC calls');
    freed = false;
    ctx.s.heapUsed = 450 * MiB;
    ctx.tick(1000);
    // Within the minimum gap no second collection runs.
    assert.equal(ctx.guard.check(), 'soft');
    assert.equal(collected, 2);
  });

  it('hands memory back when the heap grew and nothing runs', () => {
    let collected = 0;
    let busy = true;
    const ctx = setup({
      gc: () => {
        collected++;
        ctx.s.heapTotal = 70 * MiB;
      },
      busy: () => busy,
    });
    ctx.s.heapTotal = 400 * MiB;
    ctx.guard.check();
    assert.equal(collected, 0, 'not while a query runs');
    busy = false;
    ctx.guard.check();
    assert.equal(collected, 2, 'one collection is two GC calls');
    ctx.tick(60_000);
    ctx.guard.check();
    assert.equal(collected, 2, 'the heap is back near its size after the collection');
  });

  it('asks whether the server is busy at every check under the soft limit, so its idle window is one check long', () => {
    let asked = 0;
    const ctx = setup({ gc: () => {}, busy: () => (asked++, true) });
    ctx.guard.check();
    ctx.guard.check();
    assert.equal(asked, 2, 'asked though the heap has not grown');
  });

  it('rejects inconsistent thresholds', () => {
    assert.throws(() => new MemoryGuard({ limit: { bytes: 1, source: 'flag' }, registry: new Registry(), softRatio: 0.5, recoverRatio: 0.6, gc: null }));
  });

  it('finds V8 full collection without --expose-gc', () => {
    assert.equal(typeof exposeGc(), 'function');
  });
});
