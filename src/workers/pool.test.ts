import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PoolClosedError, PoolFullError, WorkerCrashError, WorkerJobError, WorkerPool, whenWorkersIdle, workerJobsRunning, workerRepliesWaiting } from './pool.js';
import type { TestJob } from './pool_test_worker.js';

const MODULE = new URL('./pool_test_worker.js', import.meta.url);

function pool(size: number, maxQueued: number, perWorker = 1): WorkerPool<TestJob, unknown> {
  return new WorkerPool<TestJob, unknown>({ module: MODULE, size, maxQueued, perWorker, name: 'test' });
}

function release(flag: Int32Array): void {
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

test('jobs run and answer in order of their requests', async () => {
  const p = pool(2, 10);
  const got = await Promise.all([1, 2, 3, 4, 5].map((x) => p.run({ op: 'echo', x })));
  assert.deepEqual(got, [1, 2, 3, 4, 5]);
  assert.equal(p.completed, 5);
  await p.close();
});

test('typed arrays move to the worker and back', async () => {
  const p = pool(1, 1);
  const a = new Float64Array([1, 2.5, -3]);
  const r = (await p.run({ op: 'double', a }, [a.buffer])) as Float64Array;
  assert.equal(a.byteLength, 0, 'the request buffer was moved, not copied');
  assert.deepEqual([...r], [2, 5, -6]);
  await p.close();
});

test('a throwing handler fails its job with the error name and text; the worker stays', async () => {
  const p = pool(1, 1);
  await assert.rejects(p.run({ op: 'throw' }), (e: unknown) => e instanceof WorkerJobError && e.errorName === 'RangeError' && e.message === 'bad job');
  assert.equal(await p.run({ op: 'echo', x: 7 }), 7);
  assert.equal(p.crashes, 0);
  await p.close();
});

test('a full queue refuses at once; the queued jobs still run', async () => {
  const p = pool(1, 2);
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const running = p.run({ op: 'block', flag, x: 1 });
  const q1 = p.run({ op: 'echo', x: 2 });
  const q2 = p.run({ op: 'echo', x: 3 });
  assert.equal(p.queued, 2);
  assert.equal(p.full, true);
  await assert.rejects(p.run({ op: 'echo', x: 4 }), PoolFullError);
  assert.equal(p.refused, 1);
  release(flag);
  assert.deepEqual(await Promise.all([running, q1, q2]), [1, 2, 3]);
  assert.equal(p.full, false);
  await p.close();
});

test('a crashing worker fails only its own jobs and is replaced', async () => {
  const p = pool(2, 10);
  const flag = new Int32Array(new SharedArrayBuffer(4));
  // Worker A blocks on the flag; worker B takes the crash.
  const blocked = p.run({ op: 'block', flag, x: 9 });
  const crashed = p.run({ op: 'crash' });
  await assert.rejects(crashed, (e: unknown) => e instanceof WorkerCrashError && /exited with code 3/.test(e.message));
  assert.equal(p.crashes, 1);
  // The replacement answers.
  const after = p.run({ op: 'echo', x: 5 });
  assert.equal(await after, 5);
  release(flag);
  assert.equal(await blocked, 9);
  await p.close();
});

test('close lets queued jobs finish, then refuses new ones', async () => {
  const p = pool(1, 4);
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const jobs = [p.run({ op: 'block', flag, x: 1 }), p.run({ op: 'echo', x: 2 })];
  const closed = p.close();
  await assert.rejects(p.run({ op: 'echo', x: 3 }), PoolClosedError);
  release(flag);
  assert.deepEqual(await Promise.all(jobs), [1, 2]);
  await closed;
  assert.equal(p.running + p.queued, 0);
});

test('a reply the main thread has not handled yet shows as waiting, until it is handled', async () => {
  const p = pool(1, 10);
  try {
    await p.run({ op: 'echo', x: 0 });
    assert.equal(p.repliesWaiting(), false);
    const job = p.run({ op: 'echo', x: 7 });
    // The main thread stays busy (as in a query's time slice) while the worker answers.
    const until = Date.now() + 10_000;
    while (!p.repliesWaiting() && Date.now() < until);
    assert.equal(p.repliesWaiting(), true);
    assert.equal(workerRepliesWaiting(), true);
    assert.equal(await job, 7);
    assert.equal(p.repliesWaiting(), false);
    // Failures count as replies too.
    await assert.rejects(p.run({ op: 'throw' }), WorkerJobError);
    assert.equal(p.repliesWaiting(), false);
  } finally {
    await p.close();
  }
  assert.equal(workerRepliesWaiting(), false);
});

test('whenWorkersIdle waits for the running jobs, after the work their replies feed', async () => {
  const p = pool(1, 10);
  try {
    assert.equal(workerJobsRunning(), false);
    await whenWorkersIdle(0);
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const order: string[] = [];
    const job = p.run({ op: 'block', flag, x: 1 }).then(() => order.push('reply handled'));
    assert.equal(workerJobsRunning(), true);
    const idle = whenWorkersIdle(60_000).then(() => order.push('idle'));
    setTimeout(() => release(flag), 20);
    await Promise.all([job, idle]);
    assert.deepEqual(order, ['reply handled', 'idle']);
    assert.equal(workerJobsRunning(), false);
  } finally {
    await p.close();
  }
});

test('whenWorkersIdle gives up after its limit while a job runs on', async () => {
  const p = pool(1, 10);
  const flag = new Int32Array(new SharedArrayBuffer(4));
  try {
    const job = p.run({ op: 'block', flag, x: 2 });
    const t = performance.now();
    await whenWorkersIdle(30);
    assert.ok(performance.now() - t >= 25, 'waited about its limit');
    assert.equal(workerJobsRunning(), true);
    release(flag);
    assert.equal(await job, 2);
  } finally {
    release(flag);
    await p.close();
  }
});

test('bad sizes are refused', () => {
  assert.throws(() => pool(0, 1), RangeError);
  assert.throws(() => pool(1, -1), RangeError);
});
