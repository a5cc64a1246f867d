// querylog/: the query log and the scrape failure log, the two JSON-lines logs Prometheus 3.x writes
// beside its own log. It sits above promql/ because it encodes the engine's QueryLogRecord; the engine
// only calls its onQueryDone hook and never imports this folder (cli/ connects the two). It may import
// logging/ (the file sinks, ring, byte writer, time formats), promql/engine (the record type) and the
// folders below them; scrape/, web/api and cli/ import it.
//
// The query log: one JSON line per query, in the shape Prometheus 3.x writes to query_log_file.
//
// Each line is built from scratch from the query's record, so nothing carries over from one query to
// the next (the Prometheus 3.0.0 leak came from fields accumulating on a shared logger). A finished
// query only has its numbers and string references copied into a batch (lines.ts); full batches
// are encoded and written on a worker thread (thread.ts, worker.ts), so the log takes next to no time
// from query evaluation.
import { Counter, Registry } from 'prom-client';
import type { QueryLogRecord } from '../promql/engine/types.js';
import { JsonLogMetrics, type JsonLogFileOptions } from '../logging/json_log.js';
import { QueryRecords } from './lines.js';
import { InlineBackend, ThreadBackend, type QueryLogBackend } from './thread.js';
import { nopLogger } from '../logging/types.js';

export interface QueryLogConfig {
  /** Path of the log; null or '' turns the log off (and closes the file). */
  file: string | null;
  /** Rotate before the file would pass this many bytes; 0 = never (default; logrotate users keep this). */
  maxSizeBytes?: number;
  /** Rotated files kept as file.1 ... file.N; 0 = the full file is removed on rotation. */
  maxFiles?: number;
  /** Log only queries whose execTotalTime is at least this (ms); failed queries are always logged. 0 = all. */
  minDurationMs?: number;
}

export interface QueryLogOptions extends JsonLogFileOptions {
  /** Entries kept in memory for recent(). Default 1,000. */
  ringSize?: number;
  /** Bytes kept in memory for recent(); when lines are long, fewer than ringSize entries fit. Default 4 MiB. */
  ringBytes?: number;
  /**
   * Encode and write on a worker thread (default). A simulated file system (`fs`) cannot cross
   * threads, so with one the log works on the caller's thread.
   */
  thread?: boolean;
}

/** 1,000 lines of ~500 bytes is ~500 KB: enough for the API to show a busy minute, small next to the head. */
const DEFAULT_RING_SIZE = 1000;
/** Room for 1,000 entries averaging 4 KB, so only unusually long queries reduce the count kept. */
const DEFAULT_RING_BYTES = 4 * 1024 * 1024;

/**
 * Queries handed over together. 256 records are one message to the worker (~130 KB of lines once
 * encoded), so the cost of a message is spread over enough queries to vanish.
 */
const BATCH_QUERIES = 256;
/**
 * Longest a query waits in an unfilled batch before its line is encoded and written: short enough that
 * `tail -f` shows queries as they happen, long enough to gather a quiet server's queries into one write.
 * recent(), idle() and close() hand over what is waiting first, so nothing reads a stale view.
 */
const BATCH_DELAY_MS = 100;

export class QueryLog {
  private readonly backend: QueryLogBackend;
  private readonly now: () => number;
  private readonly batch = new QueryRecords(BATCH_QUERIES);
  private readonly ringSize: number;
  private batchTimer: NodeJS.Timeout | null = null;
  /** Queries skipped by the min-duration filter, not yet added to the counter (counting one by one costs more than the check). */
  private filteredPending = 0;
  private path: string | null = null;
  private minDurationMs = 0;
  /** Set by the disk guard while the log's file system is nearly full: queries are dropped, not queued. */
  private paused = false;

  constructor(opts: QueryLogOptions = {}) {
    const registry = opts.registry ?? new Registry();
    const metrics = new JsonLogMetrics(
      {
        what: 'query log',
        enabled: 'prometheus_engine_query_log_enabled',
        failures: 'prometheus_engine_query_log_failures_total',
        bytesWritten: 'tsprom_query_log_bytes_written_total',
        dropped: 'tsprom_query_log_dropped_total',
        buffered: 'tsprom_query_log_buffered_bytes',
      },
      { ...opts, registry },
    );
    this.metrics = metrics;
    const filtered: Counter = new Counter({
      name: 'tsprom_query_log_filtered_total',
      help: 'Successful queries not logged because they ran for less than query_log_min_duration.',
      registers: [registry],
      collect: () => {
        filtered.inc(this.filteredPending);
        this.filteredPending = 0;
      },
    });
    this.ringSize = opts.ringSize ?? DEFAULT_RING_SIZE;
    const writerOpts = {
      maxBufferBytes: opts.maxBufferBytes,
      retryDelayMs: opts.retryDelayMs,
      ringSize: this.ringSize,
      ringBytes: opts.ringBytes ?? DEFAULT_RING_BYTES,
    };
    const thread = opts.thread ?? opts.fs === undefined;
    if (thread && opts.fs !== undefined) throw new Error('BUG: a simulated file system cannot be used from the query log thread');
    this.backend = thread
      ? new ThreadBackend(metrics, writerOpts, opts.logger ?? nopLogger)
      : new InlineBackend(metrics, { ...writerOpts, fs: opts.fs });
    this.now = opts.now ?? Date.now;
  }

  private readonly metrics: JsonLogMetrics;

  /** The file being written, or null when the log is off. */
  get file(): string | null {
    return this.path;
  }

  /**
   * Applies a configuration: opens a new file, reopens the same one (config reload), or closes it when
   * the setting is gone. Throws LogFileOpenError when the file cannot be opened; the old file stays on.
   * Queries logged before the change go to the file that was configured when they ran.
   */
  configure(cfg: QueryLogConfig): void {
    this.handOver(false);
    const file = cfg.file === null || cfg.file === '' ? null : cfg.file;
    this.backend.configure(file, { maxSizeBytes: cfg.maxSizeBytes ?? 0, maxFiles: cfg.maxFiles ?? 0 });
    this.path = file;
    this.minDurationMs = cfg.minDurationMs ?? 0;
    this.metrics.setEnabled(file !== null);
  }

  /** Records one finished query; the engine's onQueryDone. Never throws, never waits for the disk. */
  readonly log = (rec: QueryLogRecord): void => {
    if (this.path === null) return;
    if (this.paused) {
      this.metrics.dropped(1, 'disk_low');
      return;
    }
    if (rec.error === undefined && this.minDurationMs > 0 && rec.stats.timings.execTotalTime * 1000 < this.minDurationMs) {
      this.filteredPending++;
      return;
    }
    const b = this.batch;
    try {
      b.add(rec, this.now());
    } catch {
      // A malformed record (a bug upstream) must not fail the query that produced it.
      return;
    }
    if (b.full) this.handOver(false);
    else this.batchTimer ??= setTimeout(this.onBatchTimer, BATCH_DELAY_MS);
  };

  private readonly onBatchTimer = (): void => {
    this.batchTimer = null;
    // The batch waited long enough: write it now rather than wait for the file's own batching.
    this.handOver(true);
  };

  /** Passes the waiting records on to be encoded and written. */
  private handOver(flush: boolean): void {
    if (this.batch.count === 0) return;
    this.backend.write(this.batch, flush);
  }

  /**
   * Pauses the log (its file system is nearly full) or resumes it. While paused, finished queries are
   * counted as dropped with reason disk_low; what was logged before is still written.
   */
  setPaused(paused: boolean): void {
    this.paused = paused;
  }

  /** Reopens the file by name (SIGHUP after logrotate moved it). */
  reopen(): void {
    this.handOver(false);
    this.backend.reopen();
  }

  /** The newest logged entries, newest first; `limit` 0 means all that are kept. */
  async recent(limit: number): Promise<object[]> {
    this.handOver(false);
    const lines = await this.backend.recent(limit > 0 ? limit : this.ringSize);
    return lines.map((l) => JSON.parse(l) as object);
  }

  /** Resolves once everything logged so far has been written (or dropped), with the metrics up to date. */
  idle(): Promise<void> {
    this.handOver(true);
    return this.backend.idle();
  }

  /** Heap in use on the log's worker thread (0 when it works inline); collected first under --expose-gc. */
  threadHeapBytes(): Promise<number> {
    return this.backend.threadHeapBytes();
  }

  /** Writes what is queued and closes the file; the log is off afterwards. */
  async close(): Promise<void> {
    this.handOver(true);
    if (this.batchTimer !== null) {
      clearTimeout(this.batchTimer);
      this.batchTimer = null;
    }
    this.path = null;
    this.metrics.setEnabled(false);
    await this.backend.close();
  }
}
