// Limits that keep one query from hurting the server: a deadline, client
// cancellation, cooperative yielding to the event loop, and a concurrency gate
// with a bounded wait queue.
import { whenWorkersIdle, workerJobsRunning, workerRepliesWaiting } from '../../workers/pool.js';
import { QueryCanceledError, QueryQueueFullError, QueryTimeoutError } from './errors.js';

/**
 * Longest stretch (ms) an evaluation runs before it lets other work (scrapes,
 * HTTP requests such as remote writes, other queries) use the event loop.
 * A remote write's body that arrives mid-slice waits for the slice's end (its
 * decode worker's answer no longer does: see workerRepliesWaiting). At 1 ms
 * the latency bench's writes had a p99 during the query of 15-25 ms (median
 * 18) against 21-29 ms (median 24) at 2 ms, the query as fast; a yield (one
 * setImmediate round trip, ~5 us of CPU) costs about 0.5% of the evaluation.
 */
export const DEFAULT_YIELD_INTERVAL_MS = 1;

/**
 * Units of work (roughly: steps or samples touched) after which the caller is
 * told to pause whatever the clock says; 4096 units take well under a
 * millisecond, so a burst of cheap work cannot hide a passed deadline.
 */
const WORK_QUANTUM = 4096;

/** Calls to due() per reading of the clock: fewer than WORK_QUANTUM units between readings take well under a millisecond. */
const CLOCK_EVERY = 16;

/**
 * A call accounting for this many units (a series' steps, a group's points)
 * always reads the clock: code not yet compiled by the JIT runs 20-50x slower,
 * and a new query's first run took 20-30 ms between the readings that
 * WORK_QUANTUM alone allowed (four series of a 900-step range query).
 */
const CLOCK_UNITS = 256;

const yieldNow = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Longest one pause waits for a busy ingest worker (ms); a decode of a large body takes 1-3 ms. */
const INGEST_WAIT_MAX_MS = 4;

/**
 * Lets ingest go first: at a pause, while a worker decodes a remote write or
 * a scrape (whose sender waits for it), long work on the main thread (a
 * query, a streamed answer) stays off the CPU. Linux wakes the worker on the
 * CPU of the thread that posted its job, and a main thread that keeps running
 * holds it off for a scheduler slice (3-10 ms measured on 2 cores). The
 * waiting is bounded: at most half of the caller's wall time, so heavy ingest
 * slows a query but cannot stall it.
 */
export class IngestCourtesy {
  private readonly started = performance.now();
  private waited = 0;

  constructor(private readonly maxWaitMs = INGEST_WAIT_MAX_MS) {}

  /** Lets the event loop turn (a write's body comes in and goes to a worker), then gives way to that worker. */
  async yieldTurn(): Promise<void> {
    await yieldNow();
    await this.giveWay();
  }

  /** Waits while a worker holds a job, within the budget. */
  private async giveWay(): Promise<void> {
    if (!workerJobsRunning()) return;
    const t = performance.now();
    if (this.waited >= t - this.started - this.waited) return;
    await whenWorkersIdle(this.maxWaitMs);
    this.waited += performance.now() - t;
  }
}

/** Tracks the deadline and cancellation of one query and decides when to yield. */
export class Checkpoint {
  private work = 0;
  private calls = 0;
  private lastYield = performance.now();
  private readonly courtesy = new IngestCourtesy();

  constructor(
    /** performance.now() value after which the query times out. */
    readonly deadline: number,
    readonly signal: AbortSignal | undefined,
    private readonly yieldIntervalMs = DEFAULT_YIELD_INTERVAL_MS,
  ) {}

  /** Throws QueryCanceledError / QueryTimeoutError when the query must stop. */
  check(where = 'expression evaluation'): void {
    if (this.signal?.aborted === true) throw new QueryCanceledError(where);
    if (performance.now() > this.deadline) throw new QueryTimeoutError(where);
  }

  /**
   * Accounts `units` of work; true when the caller should `await pause()`:
   * after a quantum of work or once the time slice is used up (storage reads
   * can be slow while counting as little work). Callers invoke it per series
   * or per step, never per sample, so reading the clock here is cheap.
   */
  due(units: number): boolean {
    this.work += units;
    if (this.work >= WORK_QUANTUM) return true;
    // Calls with little work are cheap: the clock is read on every CLOCK_EVERY-th only.
    if (this.calls++ % CLOCK_EVERY !== 0 && units < CLOCK_UNITS) return false;
    return performance.now() - this.lastYield >= this.yieldIntervalMs || workerRepliesWaiting();
  }

  /**
   * Yields to the event loop if the slice is used up, then checks deadline
   * and cancellation unless `check` is false (work after the evaluation,
   * which a passed deadline no longer stops).
   */
  async pause(check = true): Promise<void> {
    this.work = 0;
    const now = performance.now();
    // A decoded remote write (or scrape) waiting for the main thread goes first: its sender is waiting too.
    if (now - this.lastYield >= this.yieldIntervalMs || workerRepliesWaiting()) {
      await this.courtesy.yieldTurn();
      this.lastYield = performance.now();
    }
    if (check) this.check();
  }
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
  cleanup: () => void;
}

/**
 * At most `max` queries run at once; up to `maxQueued` more wait in FIFO order
 * and the rest are rejected at once with QueryQueueFullError (or `full()`'s
 * error). While `blocked()` is true (the running queries hold the memory
 * budget), new queries wait even when a slot is free; they are let in one
 * per query that ends. With no query of this gate running nothing would wake
 * them, so then one is let in whatever `blocked()` says.
 */
export class ConcurrencyGate {
  private running = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    readonly max: number,
    readonly maxQueued: number,
    private readonly blocked: () => boolean = () => false,
    private readonly full: () => Error = () => new QueryQueueFullError(),
  ) {}

  get active(): number {
    return this.running;
  }

  get waiting(): number {
    return this.queue.length;
  }

  private canRun(): boolean {
    return this.running < this.max && (this.running === 0 || !this.blocked());
  }

  /**
   * Resolves when a slot is free. Rejects with QueryTimeoutError at `deadline`
   * (a performance.now() value), QueryCanceledError when `signal` aborts, or
   * QueryQueueFullError when the queue is full.
   */
  acquire(deadline: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(new QueryCanceledError('query queue'));
    if (this.queue.length === 0 && this.canRun()) {
      this.running++;
      return Promise.resolve();
    }
    if (this.queue.length >= this.maxQueued) return Promise.reject(this.full());
    return new Promise<void>((resolve, reject) => {
      const remove = (): void => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
      };
      const onAbort = (): void => {
        remove();
        waiter.cleanup();
        reject(new QueryCanceledError('query queue'));
      };
      const timer = setTimeout(
        () => {
          remove();
          waiter.cleanup();
          reject(new QueryTimeoutError('query queue'));
        },
        Math.max(0, deadline - performance.now()),
      );
      const waiter: Waiter = {
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  /**
   * Frees a slot and lets in the next waiting query if the slots and the
   * budget allow. One at most: a query let in accounts its memory only once
   * it runs, so letting in several at once could overrun the budget.
   */
  release(): void {
    this.running--;
    const next = this.queue[0];
    if (next === undefined || !this.canRun()) return;
    this.queue.shift();
    next.cleanup();
    this.running++;
    next.resolve();
  }
}
