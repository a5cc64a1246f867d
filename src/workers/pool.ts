// workers: a generic, bounded pool of worker_threads (pool.ts, the main-thread side)
// and the loop a worker module runs (serve.ts). Imports nothing of tsprom, so any
// room may use it: remote write decodes its bodies here, scrape its payloads.
//
// A job is one request message and one reply; both may carry transferables
// (typed arrays' buffers move instead of being copied). The queue of jobs
// waiting for a worker is bounded: a full queue refuses at once with
// PoolFullError, so callers can answer 503/429 instead of buffering. A worker
// that crashes fails only the jobs it held and is replaced by the next
// dispatch. close() lets queued and running jobs finish, then stops the workers.
//
// A worker also counts its replies in shared memory, so long synchronous work
// on the main thread (a query's evaluation slice) can see that a reply waits
// and yield at once (workerRepliesWaiting) instead of at the end of its slice,
// and can stay off the CPU while a worker holds jobs (whenWorkersIdle), so the
// worker is not left waiting for a core.
import { Worker } from 'node:worker_threads';
import type { Transferable } from 'node:worker_threads';
import type { JobReply, PoolWorkerData, ToWorker } from './serve.js';

/** The queue is full: the job was refused, not queued. */
export class PoolFullError extends Error {
  override name = 'PoolFullError';
  constructor(readonly pool: string) {
    super(`${pool} worker pool queue is full`);
  }
}

/** The pool is closing or closed: it takes no new jobs. */
export class PoolClosedError extends Error {
  override name = 'PoolClosedError';
  constructor(readonly pool: string) {
    super(`${pool} worker pool is closed`);
  }
}

/** The worker holding the job died (uncaught error, exit, out of memory) before answering. */
export class WorkerCrashError extends Error {
  override name = 'WorkerCrashError';
  constructor(readonly pool: string, readonly reason: string) {
    super(`${pool} worker crashed: ${reason}`);
  }
}

/** The job's handler threw in the worker; `errorName` and `message` are the thrown error's. */
export class WorkerJobError extends Error {
  override name = 'WorkerJobError';
  constructor(readonly errorName: string, message: string) {
    super(message);
  }
}

export interface WorkerPoolOptions {
  /** The worker module (a compiled .js file) that calls serveJobs() from serve.ts. */
  module: URL;
  /** Worker threads (≥ 1). */
  size: number;
  /** Jobs waiting for a worker beyond which run() refuses with PoolFullError (≥ 0). */
  maxQueued: number;
  /**
   * Jobs handed to one worker at a time. 2 lets a worker start its next job
   * while the main thread reads the previous reply, without one worker
   * hoarding the queue. Default 2.
   */
  perWorker?: number;
  /** Passed to every worker as workerData. */
  workerData?: unknown;
  /** Names the pool in errors and thread names. */
  name?: string;
  /** Worker heap limits, as worker_threads' resourceLimits. */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number };
}

/** Open pools, for workerRepliesWaiting(). */
const openPools = new Set<WorkerPool<unknown, unknown>>();

/**
 * Whether a worker of any open pool has posted a reply the main thread has
 * not handled yet. Cheap (one shared-memory read per pool): long loops call
 * it to yield early, so a reply is not held up for a whole time slice.
 */
export function workerRepliesWaiting(): boolean {
  for (const p of openPools) if (p.repliesWaiting()) return true;
  return false;
}

/** Whether a worker of any open pool holds a job it has not answered. */
export function workerJobsRunning(): boolean {
  for (const p of openPools) if (p.running > 0) return true;
  return false;
}

/** Callers of whenWorkersIdle waiting for the last running job to be answered. */
const idleWaiters = new Set<() => void>();

/**
 * Resolves once no worker of an open pool holds a job, or after `maxMs`.
 * Resolved from a macrotask, after the promise callbacks of the last reply
 * have run: the work that reply feeds (writing a decoded batch) goes first.
 */
export function whenWorkersIdle(maxMs: number): Promise<void> {
  if (!workerJobsRunning()) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      idleWaiters.delete(done);
      resolve();
    };
    const timer = setTimeout(done, maxMs);
    idleWaiters.add(done);
  });
}

function wakeIdleWaiters(): void {
  if (idleWaiters.size === 0 || workerJobsRunning()) return;
  setImmediate(() => {
    if (workerJobsRunning()) return;
    for (const w of [...idleWaiters]) w();
  });
}

interface Job<Res> {
  readonly id: number;
  readonly req: unknown;
  readonly transfer: readonly Transferable[];
  resolve(r: Res): void;
  reject(e: Error): void;
}

interface Slot<Res> {
  worker: Worker | null;
  readonly jobs: Map<number, Job<Res>>;
}

/**
 * A fixed number of worker threads running one module, fed from a bounded
 * FIFO queue. `Req` and `Res` are the message types of the module's handler.
 */
export class WorkerPool<Req, Res> {
  readonly name: string;
  readonly size: number;
  private readonly slots: Slot<Res>[];
  /** Waiting jobs: a FIFO in an array with a moving head, compacted when half is consumed. */
  private queue: Job<Res>[] = [];
  private head = 0;
  private readonly maxQueued: number;
  private readonly perWorker: number;
  private nextId = 1;
  private closing = false;
  private drained: (() => void) | null = null;
  private crashCount = 0;
  private completedCount = 0;
  private refusedCount = 0;
  /** Replies posted by this pool's workers (they add 1 after each postMessage); wraps as an int32. */
  private readonly posted = new Int32Array(new SharedArrayBuffer(4));
  /** Replies handled here, wrapping as posted does. */
  private handled = 0;

  constructor(private readonly opts: WorkerPoolOptions) {
    if (!Number.isInteger(opts.size) || opts.size < 1) throw new RangeError(`worker pool size must be an integer ≥ 1, got ${opts.size}`);
    if (!Number.isInteger(opts.maxQueued) || opts.maxQueued < 0) throw new RangeError(`worker pool maxQueued must be an integer ≥ 0, got ${opts.maxQueued}`);
    this.name = opts.name ?? 'worker';
    this.size = opts.size;
    this.maxQueued = opts.maxQueued;
    this.perWorker = Math.max(1, opts.perWorker ?? 2);
    this.slots = Array.from({ length: opts.size }, () => ({ worker: null, jobs: new Map() }));
    openPools.add(this as WorkerPool<unknown, unknown>);
  }

  /** Whether a worker has posted a reply that is not handled yet. */
  repliesWaiting(): boolean {
    // A worker counts after posting, so handled may run ahead of posted for a moment: that is not waiting.
    return ((Atomics.load(this.posted, 0) - this.handled) | 0) > 0;
  }

  /** Jobs waiting for a worker. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Jobs held by workers. */
  get running(): number {
    let n = 0;
    for (const s of this.slots) n += s.jobs.size;
    return n;
  }

  /** Workers that died since the pool started. */
  get crashes(): number {
    return this.crashCount;
  }

  /** Jobs answered (resolved or failed by their handler). */
  get completed(): number {
    return this.completedCount;
  }

  /** Jobs refused because the queue was full. */
  get refused(): number {
    return this.refusedCount;
  }

  /** Whether run() would refuse now (queue full or pool closing). */
  get full(): boolean {
    return this.closing || (this.queued >= this.maxQueued && !this.hasFreeSlot());
  }

  /**
   * Runs one job. `transfer` lists buffers of `req` to move to the worker
   * (they are unusable here afterwards). Rejects with PoolFullError when the
   * queue is full, PoolClosedError after close(), WorkerCrashError when the
   * worker died, WorkerJobError when the handler threw.
   */
  run(req: Req, transfer: readonly Transferable[] = []): Promise<Res> {
    if (this.closing) return Promise.reject(new PoolClosedError(this.name));
    if (this.queued >= this.maxQueued && !this.hasFreeSlot()) {
      this.refusedCount++;
      return Promise.reject(new PoolFullError(this.name));
    }
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, req, transfer, resolve, reject });
      this.dispatch();
    });
  }

  /** Refuses new jobs, lets queued and running ones finish, then stops the workers. */
  async close(): Promise<void> {
    this.closing = true;
    openPools.delete(this as WorkerPool<unknown, unknown>);
    wakeIdleWaiters();
    if (this.queued + this.running > 0) await new Promise<void>((r) => (this.drained = r));
    await Promise.all(
      this.slots.map(async (s) => {
        const w = s.worker;
        s.worker = null;
        if (w !== null) await w.terminate();
      }),
    );
  }

  private hasFreeSlot(): boolean {
    for (const s of this.slots) if (s.jobs.size < this.perWorker) return true;
    return false;
  }

  private takeJob(): Job<Res> | undefined {
    if (this.head >= this.queue.length) return undefined;
    const job = this.queue[this.head]!;
    this.queue[this.head++] = undefined as unknown as Job<Res>;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return job;
  }

  private dispatch(): void {
    while (this.queued > 0) {
      // The least loaded worker takes the next job.
      let best: Slot<Res> | null = null;
      for (const s of this.slots) if (s.jobs.size < this.perWorker && (best === null || s.jobs.size < best.jobs.size)) best = s;
      if (best === null) break;
      const job = this.takeJob()!;
      let w: Worker;
      try {
        w = best.worker ?? this.spawn(best);
      } catch (e) {
        job.reject(new WorkerCrashError(this.name, `cannot start a worker: ${(e as Error).message}`));
        continue;
      }
      best.jobs.set(job.id, job);
      // A busy worker keeps the process alive until it answers; an idle one does not.
      if (best.jobs.size === 1) w.ref();
      try {
        w.postMessage({ id: job.id, req: job.req } satisfies ToWorker, job.transfer);
      } catch (e) {
        // The request could not be cloned: the job fails, the worker is fine.
        best.jobs.delete(job.id);
        if (best.jobs.size === 0) w.unref();
        job.reject(e as Error);
      }
    }
    this.checkDrained();
  }

  private checkDrained(): void {
    if (this.drained !== null && this.queued === 0 && this.running === 0) {
      const d = this.drained;
      this.drained = null;
      d();
    }
  }

  private spawn(slot: Slot<Res>): Worker {
    const w = new Worker(this.opts.module, {
      workerData: { data: this.opts.workerData, posted: this.posted } satisfies PoolWorkerData,
      name: this.name,
      ...(this.opts.resourceLimits !== undefined ? { resourceLimits: this.opts.resourceLimits } : {}),
    });
    slot.worker = w;
    w.unref();
    w.on('message', (m: JobReply<Res>) => {
      this.handled = (this.handled + 1) | 0;
      const job = slot.jobs.get(m.id);
      if (job === undefined) return;
      slot.jobs.delete(m.id);
      if (slot.jobs.size === 0) w.unref();
      this.completedCount++;
      if (m.ok) job.resolve(m.value);
      else job.reject(new WorkerJobError(m.errorName, m.message));
      this.dispatch();
      wakeIdleWaiters();
    });
    const fail = (reason: string): void => {
      if (slot.worker !== w) return;
      this.crashCount++;
      // The next dispatch starts a new worker in this slot.
      slot.worker = null;
      // Replies it counted but never delivered would otherwise look as waiting for ever.
      this.handled = Atomics.load(this.posted, 0);
      const jobs = [...slot.jobs.values()];
      slot.jobs.clear();
      const err = new WorkerCrashError(this.name, reason);
      for (const j of jobs) j.reject(err);
      this.dispatch();
      wakeIdleWaiters();
    };
    w.on('error', (e) => fail(e.message));
    w.on('exit', (code) => fail(`exited with code ${code}`));
    return w;
  }
}
