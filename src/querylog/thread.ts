// Where the query log's lines are encoded and written: on a worker thread (the server), or inline on the
// caller's thread (tests that simulate the disk, since a JS file-system object cannot cross threads).
// The main thread's only work per query is copying the record's numbers and string references into a
// batch (see lines.ts); full batches go to the worker, which encodes and writes them.
import { closeSync, openSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { DROP_REASONS, LogFileOpenError, type FileSettings, type JsonLogMetrics } from '../logging/json_log.js';
import type { QueryRecords, RecordBatch } from './lines.js';
import { QueryLogWriter, type QueryLogWriterOptions } from './writer.js';
import type { SinkOp } from '../logging/sink.js';
import type { Logger } from '../logging/types.js';

export interface QueryLogBackend {
  /** Opens, reopens or (null) closes the file; throws LogFileOpenError, changing nothing, when it cannot be opened. */
  configure(path: string | null, settings: FileSettings): void;
  /** Takes the records (the set is cleared) to be encoded and written; `flush` writes them without waiting for more. */
  write(records: QueryRecords, flush: boolean): void;
  reopen(): void;
  /** The newest lines, newest first. */
  recent(limit: number): Promise<string[]>;
  /** Resolves once everything handed over so far is written (or dropped), with the metrics up to date. */
  idle(): Promise<void>;
  close(): Promise<void>;
  /** Heap in use on the log's own thread (after a GC where the process allows one); 0 inline. */
  threadHeapBytes(): Promise<number>;
}

/** The writer on the caller's thread. */
export class InlineBackend implements QueryLogBackend {
  private readonly writer: QueryLogWriter;

  constructor(metrics: JsonLogMetrics, opts: QueryLogWriterOptions) {
    this.writer = new QueryLogWriter(metrics, opts);
    metrics.bufferedBytes = () => this.writer.bufferedBytes();
  }

  configure(path: string | null, settings: FileSettings): void {
    this.writer.configure(path, settings);
  }

  write(records: QueryRecords, flush: boolean): void {
    this.writer.write(records);
    records.clear();
    if (flush) this.writer.flush();
  }

  reopen(): void {
    this.writer.reopen();
  }

  recent(limit: number): Promise<string[]> {
    return Promise.resolve(this.writer.recent(limit));
  }

  idle(): Promise<void> {
    return this.writer.idle();
  }

  close(): Promise<void> {
    return this.writer.close();
  }

  threadHeapBytes(): Promise<number> {
    return Promise.resolve(0);
  }
}

/** What the worker is started with: the writer's settings, minus the file system (always the real one). */
export interface WorkerSettings extends Omit<QueryLogWriterOptions, 'fs'> {
  /** Int32Array over a SharedArrayBuffer: the records [0] and bytes [1] of the batches the worker has taken in (modulo 2^32). */
  progress: SharedArrayBuffer;
}

export type ToWorker =
  | { op: 'configure'; path: string | null; maxSizeBytes: number; maxFiles: number }
  | { op: 'batch'; batch: RecordBatch; flush: boolean }
  | { op: 'reopen' }
  | { op: 'recent'; id: number; limit: number }
  | { op: 'idle'; id: number }
  | { op: 'close'; id: number }
  | { op: 'heap'; id: number }
  | { op: 'stats'; id: number };

export interface FailureReport {
  op: SinkOp;
  message: string;
  code?: string;
}

export type FromWorker =
  | { op: 'stats'; bytes: number; drops: number[]; failureCount: number; failures: FailureReport[]; buffered: number }
  | { op: 'reply'; id: number; lines?: string[]; heapBytes?: number };

/**
 * Records sent to the worker and not yet taken in, beyond which new batches are dropped (and counted):
 * 16,384 records are ~8 MB of lines, seconds of the busiest log, so only a stuck worker reaches it.
 */
const MAX_RECORDS_IN_FLIGHT = 16_384;
/** The same bound in memory, for records that carry very long queries or errors. */
const MAX_BYTES_IN_FLIGHT = 64 * 1024 * 1024;

/** Pause before a worker that stopped is started again; queries logged meanwhile are counted as dropped. */
const RESTART_DELAY_MS = 5000;
/** Longest a metrics scrape waits for the worker's current figures. */
const STATS_WAIT_MS = 1000;
/** Longest close() waits for the worker to write what is queued. */
const CLOSE_WAIT_MS = 10_000;

/** Resolves when `p` settles or after `ms`, whichever comes first. */
async function within(ms: number, p: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

const WORKER_URL = new URL('./worker.js', import.meta.url);

/** The writer on a worker thread, started when a file is first configured. */
export class ThreadBackend implements QueryLogBackend {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (reply: FromWorker & { op: 'reply' } | null) => void>();
  private readonly progress = new SharedArrayBuffer(8);
  private readonly taken = new Int32Array(this.progress);
  /** Records and bytes sent, modulo 2^32 like the worker's counters. */
  private sent = 0;
  private sentBytes = 0;
  private buffered = 0;
  /** The file configured last, to restart a worker that died with it. */
  private current: { path: string; settings: FileSettings } | null = null;
  /** performance.now() before which a dead worker is not restarted, so one that cannot start does not loop. */
  private restartAt = 0;

  constructor(
    private readonly metrics: JsonLogMetrics,
    private readonly opts: Omit<QueryLogWriterOptions, 'fs'>,
    private readonly logger: Logger,
  ) {
    metrics.bufferedBytes = () => this.buffered;
    // A worker stuck in a file operation (a hung network disk) must not hang /metrics: after a
    // second the figures it last sent are served.
    metrics.refresh = () => within(STATS_WAIT_MS, this.request((id) => ({ op: 'stats', id })));
  }

  configure(path: string | null, settings: FileSettings): void {
    if (path !== null) {
      // Opened here first, so a bad path fails the configuration at once and the old file stays on.
      try {
        closeSync(openSync(path, 'a', 0o666));
      } catch (e) {
        throw new LogFileOpenError(path, e instanceof Error ? e : new Error(String(e)));
      }
    }
    this.current = path === null ? null : { path, settings };
    if (this.worker === null) {
      if (path !== null) this.start();
      return;
    }
    this.worker.postMessage({ op: 'configure', path, ...settings } satisfies ToWorker);
  }

  write(records: QueryRecords, flush: boolean): void {
    if (this.worker === null && this.current !== null && performance.now() >= this.restartAt) this.start();
    const w = this.worker;
    if (w === null) {
      // The log is off, or its thread died a moment ago and waits to be restarted.
      if (this.current !== null) this.metrics.dropped(records.count, 'write_error');
      records.clear();
      return;
    }
    const inFlight = (this.sent - Atomics.load(this.taken, 0)) | 0;
    const bytesInFlight = (this.sentBytes - Atomics.load(this.taken, 1)) | 0;
    const count = records.count;
    if (inFlight + count > MAX_RECORDS_IN_FLIGHT || bytesInFlight > MAX_BYTES_IN_FLIGHT) {
      this.metrics.dropped(count, 'buffer_full');
      records.clear();
      return;
    }
    const batch = records.takeBatch();
    this.sent = (this.sent + count) | 0;
    this.sentBytes = (this.sentBytes + batch.bytes) | 0;
    // The arrays were made for this message (takeBatch), so they move rather than copy.
    w.postMessage({ op: 'batch', batch, flush } satisfies ToWorker, [batch.nums.buffer as ArrayBuffer, batch.strIds.buffer as ArrayBuffer, batch.origins.buffer as ArrayBuffer]);
  }

  reopen(): void {
    this.worker?.postMessage({ op: 'reopen' } satisfies ToWorker);
  }

  async recent(limit: number): Promise<string[]> {
    return (await this.request((id) => ({ op: 'recent', id, limit })))?.lines ?? [];
  }

  async threadHeapBytes(): Promise<number> {
    return (await this.request((id) => ({ op: 'heap', id })))?.heapBytes ?? 0;
  }

  async idle(): Promise<void> {
    await this.request((id) => ({ op: 'idle', id }));
  }

  async close(): Promise<void> {
    this.current = null;
    const w = this.worker;
    if (w === null) return;
    // Shutdown waits for the queued lines, but not for ever on a disk that hangs.
    await within(CLOSE_WAIT_MS, this.request((id) => ({ op: 'close', id })));
    this.worker = null;
    await w.terminate();
  }

  private start(): void {
    const cur = this.current!;
    Atomics.store(this.taken, 0, 0);
    Atomics.store(this.taken, 1, 0);
    this.sent = 0;
    this.sentBytes = 0;
    const w = new Worker(WORKER_URL, { workerData: { ...this.opts, progress: this.progress } satisfies WorkerSettings });
    // Only outstanding requests keep the process alive (see request()); an idle log must not.
    w.unref();
    w.on('message', (m: FromWorker) => this.onMessage(m));
    w.on('error', (e) => this.logger.error('query log worker failed', { err: e }));
    w.on('exit', (code) => {
      if (this.worker !== w) return;
      this.worker = null;
      // What it had not taken in is lost; what it had taken in but not written is not counted.
      const lost = (this.sent - Atomics.load(this.taken, 0)) | 0;
      if (lost > 0) this.metrics.dropped(lost, 'write_error');
      this.restartAt = performance.now() + RESTART_DELAY_MS;
      this.logger.error('query log thread stopped; it is restarted with the first query after a pause', { code, pauseMs: RESTART_DELAY_MS });
      for (const resolve of this.pending.values()) resolve(null);
      this.pending.clear();
    });
    this.worker = w;
    w.postMessage({ op: 'configure', path: cur.path, ...cur.settings } satisfies ToWorker);
  }

  /** Sends a request and resolves with its reply, or null when there is no worker (or it died). */
  private request(make: (id: number) => ToWorker): Promise<(FromWorker & { op: 'reply' }) | null> {
    const w = this.worker;
    if (w === null) return Promise.resolve(null);
    const id = this.nextId++;
    return new Promise((resolve) => {
      if (this.pending.size === 0) w.ref();
      this.pending.set(id, resolve);
      w.postMessage(make(id));
    });
  }

  private onMessage(m: FromWorker): void {
    if (m.op === 'reply') {
      const resolve = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker?.unref();
      resolve?.(m);
      return;
    }
    if (m.bytes > 0) this.metrics.written(m.bytes);
    DROP_REASONS.forEach((r, i) => {
      const n = m.drops[i] ?? 0;
      if (n > 0) this.metrics.dropped(n, r);
    });
    for (const f of m.failures) this.metrics.failed(f.op, Object.assign(new Error(f.message), f.code === undefined ? {} : { code: f.code }));
    this.metrics.countFailures(m.failureCount - m.failures.length);
    this.buffered = m.buffered;
  }
}
