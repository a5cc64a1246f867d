import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueryCanceledError, QueryQueueFullError, QueryTimeoutError } from './errors.js';
import { WorkerPool } from '../../workers/pool.js';
import type { TestJob } from '../../workers/pool_test_worker.js';
import { Checkpoint, ConcurrencyGate, IngestCourtesy } from './limits.js';

test('checkpoint reports cancellation before the deadline', () => {
  const ac = new AbortController();
  const cp = new Checkpoint(performance.now() + 60_000, ac.signal);
  cp.check();
  ac.abort();
  assert.throws(() => cp.check(), QueryCanceledError);
  assert.throws(() => cp.check(), { message: 'query was canceled in expression evaluation' });
});

test('checkpoint reports a passed deadline', async () => {
  const cp = new Checkpoint(performance.now() - 1, undefined);
  assert.throws(() => cp.check('query execution'), { message: 'query timed out in query execution' });
  assert.ok(cp.due(1_000_000));
  await assert.rejects(cp.pause(), QueryTimeoutError);
});

test('checkpoint yields after its interval, not before', async () => {
  const far = performance.now() + 60_000;
  const never = new Checkpoint(far, undefined, 60_000);
  assert.equal(never.due(1), false);
  const always = new Checkpoint(far, undefined, 0);
  assert.equal(always.due(1), true);
  let turned = false;
  setImmediate(() => (turned = true));
  await always.pause();
  assert.ok(turned, 'pause() let the event loop run');
});

test('gate admits up to max, queues up to maxQueued in order, rejects beyond', async () => {
  const gate = new ConcurrencyGate(1, 2);
  const far = performance.now() + 60_000;
  await gate.acquire(far, undefined);
  const order: number[] = [];
  const w1 = gate.acquire(far, undefined).then(() => order.push(1));
  const w2 = gate.acquire(far, undefined).then(() => order.push(2));
  assert.equal(gate.waiting, 2);
  await assert.rejects(gate.acquire(far, undefined), QueryQueueFullError);
  gate.release();
  await w1;
  gate.release();
  await w2;
  assert.deepEqual(order, [1, 2]);
  assert.equal(gate.active, 1);
  gate.release();
  assert.equal(gate.active, 0);
});

test('a waiting query leaves the queue when canceled or timed out', async () => {
  const gate = new ConcurrencyGate(1, 10);
  await gate.acquire(performance.now() + 60_000, undefined);
  const ac = new AbortController();
  const canceled = gate.acquire(performance.now() + 60_000, ac.signal);
  const timedOut = gate.acquire(performance.now() + 1, undefined);
  ac.abort();
  await assert.rejects(canceled, { message: 'query was canceled in query queue' });
  await assert.rejects(timedOut, { message: 'query timed out in query queue' });
  assert.equal(gate.waiting, 0);
  gate.release();
  assert.equal(gate.active, 0);
  const pre = new AbortController();
  pre.abort();
  await assert.rejects(gate.acquire(performance.now() + 60_000, pre.signal), QueryCanceledError);
});

test('while blocked (the memory budget is used up) queries wait even with free slots', async () => {
  let blocked = false;
  const gate = new ConcurrencyGate(3, 2, () => blocked, () => new Error('budget used up'));
  const far = performance.now() + 60_000;
  await gate.acquire(far, undefined);
  await gate.acquire(far, undefined);
  blocked = true;
  let admitted = 0;
  const w1 = gate.acquire(far, undefined).then(() => admitted++);
  const w2 = gate.acquire(far, undefined).then(() => admitted++);
  assert.equal(gate.waiting, 2);
  await assert.rejects(gate.acquire(far, undefined), { message: 'budget used up' });
  // A query ends, but those still running hold the budget: nobody is let in.
  gate.release();
  assert.equal(gate.waiting, 2);
  assert.equal(gate.active, 1);
  // With nothing running, one query is let in whatever the budget says, or nothing would ever wake it.
  gate.release();
  await w1;
  assert.equal(admitted, 1);
  assert.equal(gate.active, 1);
  // The budget frees up: each release lets in one more (one just let in has not accounted its memory yet).
  blocked = false;
  const w3 = gate.acquire(far, undefined).then(() => admitted++);
  gate.release();
  await w2;
  assert.equal(gate.active, 1);
  assert.equal(gate.waiting, 1);
  gate.release();
  await w3;
  assert.equal(admitted, 3);
  gate.release();
  assert.equal(gate.active, 0);
});

test('checkpoint reads the clock on every 16th call; a quantum of work is due at once', () => {
  const cp = new Checkpoint(performance.now() + 60_000, undefined, 0);
  const due: boolean[] = [];
  for (let i = 0; i < 17; i++) due.push(cp.due(1));
  assert.deepEqual(
    due.map((d, i) => (d ? i : -1)).filter((i) => i >= 0),
    [0, 16],
  );
  assert.equal(cp.due(4096), true);
});

test('a call carrying a series worth of work reads the clock every time', () => {
  // Interval 0: every reading of the clock finds the slice used up.
  const cp = new Checkpoint(performance.now() + 60_000, undefined, 0);
  assert.equal(cp.due(1), true);
  assert.equal(cp.due(1), false);
  assert.equal(cp.due(255), false);
  assert.equal(cp.due(256), true);
  assert.equal(cp.due(900), true);
});

test('checkpoint yields early when a worker reply waits for the main thread', async () => {
  const pool = new WorkerPool<TestJob, unknown>({ module: new URL('../../workers/pool_test_worker.js', import.meta.url), size: 1, maxQueued: 1, name: 'test' });
  try {
    const cp = new Checkpoint(performance.now() + 60_000, undefined, 60_000);
    assert.equal(cp.due(1), false, 'the slice is not used up');
    const job = pool.run({ op: 'echo', x: 1 });
    // Busy, as an evaluation slice is, until the worker has answered.
    const until = Date.now() + 10_000;
    while (!pool.repliesWaiting() && Date.now() < until);
    const due: boolean[] = [];
    for (let i = 0; i < 16; i++) due.push(cp.due(1));
    assert.ok(due.includes(true), 'due within one clock reading');
    let handled = false;
    void job.then(() => (handled = true));
    await cp.pause();
    // pause() yielded although its 60 s slice was not used up: the reply was handled.
    await Promise.resolve();
    assert.ok(handled);
  } finally {
    await pool.close();
  }
});

test('long work gives way to a worker decoding ingest, within half of its own time', async () => {
  const pool = new WorkerPool<TestJob, unknown>({ module: new URL('../../workers/pool_test_worker.js', import.meta.url), size: 1, maxQueued: 1, name: 'test' });
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const release = (): void => {
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  };
  try {
    // No time of its own yet: nothing to give, so it does not wait for the running job.
    const fresh = new IngestCourtesy(60_000);
    let answered = false;
    const first = pool.run({ op: 'block', flag, x: 1 }).then(() => (answered = true));
    await fresh.yieldTurn();
    assert.equal(answered, false);
    release();
    await first;

    // After 30 ms of its own work it waits until the job is answered.
    Atomics.store(flag, 0, 0);
    const busy = new IngestCourtesy(60_000);
    const t0 = performance.now();
    while (performance.now() - t0 < 30);
    answered = false;
    const second = pool.run({ op: 'block', flag, x: 2 }).then(() => (answered = true));
    setTimeout(release, 5);
    await busy.yieldTurn();
    assert.equal(answered, true);
    await second;
  } finally {
    release();
    await pool.close();
  }
});
