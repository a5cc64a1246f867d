import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../../model/labels.js';
import { MemoryStorage } from '../../storage/memory.js';
import { Engine } from './engine.js';
import { EvalError, QueryCanceledError, QueryQueueFullError } from './errors.js';
import {
  LABELS_OVERHEAD_BYTES,
  QueryMemoryBudgetError,
  QueryMemoryLimitError,
  QueryMemoryTracker,
  STRING_OVERHEAD_BYTES,
  defaultQueryMemoryLimits,
  formatBytes,
  labelsBytes,
} from './memory.js';
import type { QueryValue } from './types.js';

const MiB = 1024 * 1024;

describe('estimates', () => {
  test('a label set costs 2 bytes per character plus an overhead per string and per set', () => {
    assert.equal(labelsBytes(Labels.EMPTY), LABELS_OVERHEAD_BYTES);
    const ls = Labels.fromPairs('__name__', 'up', 'job', 'node');
    assert.equal(labelsBytes(ls), LABELS_OVERHEAD_BYTES + 4 * STRING_OVERHEAD_BYTES + 2 * (8 + 2 + 3 + 4));
  });

  test('sizes print in base-2 units with one decimal at most', () => {
    assert.equal(formatBytes(0), '0B');
    assert.equal(formatBytes(1000), '1000B');
    assert.equal(formatBytes(1024), '1KiB');
    assert.equal(formatBytes(512 * MiB), '512MiB');
    assert.equal(formatBytes(530.24 * MiB), '530.2MiB');
    assert.equal(formatBytes(3 * 1024 * MiB), '3GiB');
    assert.equal(formatBytes(MiB + 1), '1MiB');
    assert.equal(formatBytes(MiB + 1, true), '1.1MiB');
    assert.equal(formatBytes(1023.99 * 1024), '1024KiB');
  });

  test('defaults: a quarter of the heap limit per query, twice that for all queries', () => {
    assert.deepEqual(defaultQueryMemoryLimits(4096 * MiB, null, null), { perQueryBytes: 1024 * MiB, totalBytes: 2048 * MiB });
    assert.deepEqual(defaultQueryMemoryLimits(4096 * MiB, MiB, null), { perQueryBytes: MiB, totalBytes: 2 * MiB });
    assert.deepEqual(defaultQueryMemoryLimits(4096 * MiB, 0, null), { perQueryBytes: 0, totalBytes: 2048 * MiB });
    assert.deepEqual(defaultQueryMemoryLimits(4096 * MiB, MiB, 0), { perQueryBytes: MiB, totalBytes: 0 });
  });
});

describe('accounts', () => {
  test('an account adds to the tracker, fails past the limit and gives everything back when closed', () => {
    const tracker = new QueryMemoryTracker({ perQueryBytes: 1000, totalBytes: 1500 });
    const a = tracker.open();
    const b = tracker.open();
    a.set(800);
    b.set(600);
    assert.equal(tracker.heldBytes, 1400);
    assert.equal(tracker.overBudget(), false);
    b.set(700);
    assert.equal(tracker.overBudget(), true);
    assert.throws(() => a.set(1001), (e: unknown) => {
      assert.ok(e instanceof QueryMemoryLimitError && e instanceof EvalError);
      assert.equal(
        e.message,
        'query processing would use too much memory in query execution: it would hold 1001B, more than the limit of 1000B per query (--query.max-memory)',
      );
      return true;
    });
    assert.equal(tracker.limitExceeded, 1);
    a.close();
    a.close();
    a.set(5000); // a closed account no longer counts
    assert.equal(tracker.heldBytes, 700);
    assert.equal(tracker.peakQueryBytes, 1001);
    b.set(100);
    b.close();
    assert.equal(tracker.heldBytes, 0);
    assert.equal(tracker.peakQueryBytes, 1001);
  });

  test('no limit: bytes are accounted and never fail', () => {
    const tracker = new QueryMemoryTracker({ perQueryBytes: 0, totalBytes: 0 });
    const a = tracker.open();
    a.fixed = 1e12;
    a.setSamples(1e9);
    assert.equal(tracker.heldBytes, 1e12 + 16e9);
    assert.equal(tracker.overBudget(), false);
    a.close();
    assert.equal(tracker.heldBytes, 0);
  });
});

/** 200 series of 2h at 15s: each holds 7.7 KiB of samples when read whole. */
function bigStore(): MemoryStorage {
  const db = new MemoryStorage();
  for (let i = 0; i < 200; i++) {
    const app = db.appender();
    const ls = Labels.fromPairs('__name__', 'm', 'instance', `host-${i}`, 'job', `job-${i % 5}`);
    for (let t = 0; t < 7200_000; t += 15_000) app.append(0, ls, t, i + t / 1000);
    app.commit();
  }
  return db;
}

function lines(v: QueryValue): string[] {
  if (v.type === 'vector') return v.samples.map((s) => `${s.metric.toString()} ${s.f}`);
  if (v.type === 'matrix') return v.series.map((s) => `${s.metric.toString()} ${Array.from(s.fs).join(',')}`);
  return [JSON.stringify(v)];
}

describe('the engine under a memory limit', () => {
  const db = bigStore();
  const END = 7200_000 - 15_000;
  const queries: Array<[string, 'instant' | 'range']> = [
    ['m', 'instant'],
    ['sum by (job) (rate(m[5m]))', 'range'],
    ['max_over_time(m[1h])', 'instant'],
    ['topk(3, m) * on (instance) group_left m', 'range'],
    ['max_over_time(rate(m[5m])[30m:1m])', 'instant'],
  ];

  async function run(engine: Engine, q: string, mode: 'instant' | 'range'): Promise<QueryValue> {
    const query = mode === 'instant' ? engine.newInstantQuery(db, q, END) : engine.newRangeQuery(db, q, END - 3600_000, END, 60_000);
    return (await query.exec()).value;
  }

  test('queries under the limit give the same results as without one, and give their bytes back', async () => {
    const limited = new Engine({ maxQueryMemoryBytes: 64 * MiB });
    const free = new Engine();
    for (const [q, mode] of queries) {
      assert.deepEqual(lines(await run(limited, q, mode)), lines(await run(free, q, mode)), q);
      assert.equal(limited.memory.heldBytes, 0, q);
    }
    assert.ok(limited.memory.peakQueryBytes > 0);
    assert.equal(limited.memory.limitExceeded, 0);
  });

  test('a query that would hold more than the limit fails with an execution error naming it', async () => {
    const engine = new Engine({ maxQueryMemoryBytes: MiB });
    // 200 series x 480 samples x 16 bytes = 1.5 MiB of samples, plus the series and their labels.
    await assert.rejects(run(engine, 'm[2h]', 'instant'), (e: unknown) => {
      assert.ok(e instanceof QueryMemoryLimitError && e instanceof EvalError);
      assert.match(e.message, /^query processing would use too much memory in query execution: it would hold [\d.]+(KiB|MiB), more than the limit of 1MiB per query \(--query.max-memory\)$/);
      return true;
    });
    assert.equal(engine.memory.heldBytes, 0);
    assert.equal(engine.memory.limitExceeded, 1);
    // The same engine keeps answering smaller queries.
    assert.equal(lines(await run(engine, 'count(m)', 'instant'))[0], '{} 200');
  });

  test('a range query over the limit fails too; the accounting follows the samples held', async () => {
    const engine = new Engine({ maxQueryMemoryBytes: 256 * 1024 });
    await assert.rejects(run(engine, 'm', 'range'), QueryMemoryLimitError);
    assert.equal(engine.memory.heldBytes, 0);
  });

  test('a canceled query gives its bytes back', async () => {
    const engine = new Engine({ yieldIntervalMs: 0 });
    const ac = new AbortController();
    const q = engine.newRangeQuery(db, 'rate(m[5m])', END - 3600_000, END, 15_000);
    const p = q.exec({ signal: ac.signal });
    while (engine.memory.heldBytes === 0) await new Promise((r) => setImmediate(r));
    ac.abort();
    await assert.rejects(p, QueryCanceledError);
    assert.equal(engine.memory.heldBytes, 0);
  });
});

describe('the memory budget of all queries', () => {
  const db = bigStore();
  const END = 7200_000 - 15_000;
  const heavy = (e: Engine) => e.newRangeQuery(db, 'rate(m[5m])', END - 3600_000, END, 15_000);

  async function holding(engine: Engine): Promise<void> {
    while (engine.memory.heldBytes === 0) await new Promise((r) => setImmediate(r));
  }

  test('a query waits in the queue while running queries hold the budget, then runs', async () => {
    // Yielding at every chance keeps the first query running while the second one arrives.
    const engine = new Engine({ maxTotalQueryMemoryBytes: 1, yieldIntervalMs: 0 });
    const first = heavy(engine).exec();
    await holding(engine);
    const second = heavy(engine).exec();
    assert.equal(engine.queuedQueries, 1);
    assert.equal(engine.runningQueries, 1);
    const [a, b] = await Promise.all([first, second]);
    assert.deepEqual(lines(b.value), lines(a.value));
    assert.equal(engine.memory.heldBytes, 0);
    assert.equal(engine.queuedQueries, 0);
  });

  test('without room in the queue, a query is rejected as unavailable, naming the budget', async () => {
    const engine = new Engine({ maxTotalQueryMemoryBytes: 1, maxQueued: 0, yieldIntervalMs: 0 });
    const first = heavy(engine).exec();
    await holding(engine);
    await assert.rejects(heavy(engine).exec(), (e: unknown) => {
      assert.ok(e instanceof QueryMemoryBudgetError && e instanceof QueryQueueFullError);
      assert.equal(e.message, 'too many queries waiting to run: running queries hold the memory budget of 1B (--query.max-total-memory)');
      return true;
    });
    await first;
    assert.equal(engine.memory.heldBytes, 0);
  });

  test('under the budget queries run side by side', async () => {
    const engine = new Engine({ maxTotalQueryMemoryBytes: 1024 * MiB, yieldIntervalMs: 0 });
    const first = heavy(engine).exec();
    await holding(engine);
    const second = heavy(engine).exec();
    assert.equal(engine.queuedQueries, 0);
    assert.equal(engine.runningQueries, 2);
    await Promise.all([first, second]);
    assert.equal(engine.memory.heldBytes, 0);
  });
});
