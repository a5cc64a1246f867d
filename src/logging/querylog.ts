// The query log: one JSON line per query, in the shape Prometheus 3.x writes to query_log_file.
//
// Each line is built from scratch from the query's record, so nothing carries over from one query to
// the next (the Prometheus 3.0.0 leak came from fields accumulating on a shared logger). Finished
// queries are collected in a small batch and encoded together (see querylines.ts): a query itself only
// has its numbers and string references copied.
import type { QueryLogRecord } from '../promql/engine/types.js';
import { JsonLogFiles, type JsonLogFileOptions } from './jsonlog.js';
import { LineRing } from './ring.js';
import { ByteWriter } from './bytewriter.js';
import { QueryRecords } from './querylines.js';
import { Counter, Registry } from 'prom-client';

export { encodeQueryLogLine, formatQueryLogLine } from './querylines.js';

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
}

/** 1,000 lines of ~500 bytes is ~500 KB: enough for the API to show a busy minute, small next to the head. */
export const DEFAULT_RING_SIZE = 1000;
/** Room for 1,000 entries averaging 4 KB, so only unusually long queries reduce the count kept. */
export const DEFAULT_RING_BYTES = 4 * 1024 * 1024;

/**
 * Queries encoded together. 256 lines are ~130 KB, two write batches' worth, encoded in about 0.15 ms,
 * so the query that fills the batch is barely delayed, while the encoder's per-batch warm-up is spread
 * over enough lines to vanish.
 */
export const BATCH_QUERIES = 256;
/**
 * Longest a query waits in an unfilled batch before its line is encoded and written: short enough that
 * `tail -f` shows queries as they happen, long enough to gather a quiet server's queries into one write.
 * recent(), idle() and close() encode what is waiting first, so nothing reads a stale view.
 */
export const BATCH_DELAY_MS = 100;
/** Lines that do not fit the file's buffer in place are encoded here; a longer one gets its own buffer. */
const SCRATCH_BYTES = 64 * 1024;

export class QueryLog {
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  private readonly writer = new ByteWriter(this.scratch);
  private readonly files: JsonLogFiles;
  private readonly ring: LineRing;
  private readonly now: () => number;
  private readonly batch = new QueryRecords(BATCH_QUERIES);
  private batchTimer: NodeJS.Timeout | null = null;
  /** Queries skipped by the min-duration filter, not yet added to the counter (counting one by one costs more than the check). */
  private filteredPending = 0;
  private path: string | null = null;
  private minDurationMs = 0;

  constructor(opts: QueryLogOptions = {}) {
    const registry = opts.registry ?? new Registry();
    this.files = new JsonLogFiles(
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
    const filtered: Counter = new Counter({
      name: 'tsprom_query_log_filtered_total',
      help: 'Successful queries not logged because they ran for less than query_log_min_duration.',
      registers: [registry],
      collect: () => {
        filtered.inc(this.filteredPending);
        this.filteredPending = 0;
      },
    });
    this.ring = new LineRing(opts.ringSize ?? DEFAULT_RING_SIZE, opts.ringBytes ?? DEFAULT_RING_BYTES);
    this.now = opts.now ?? Date.now;
  }

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
    this.encodeBatch();
    const file = cfg.file === null || cfg.file === '' ? null : cfg.file;
    const wanted = new Map<string, { maxSizeBytes: number; maxFiles: number }>();
    if (file !== null) wanted.set(file, { maxSizeBytes: cfg.maxSizeBytes ?? 0, maxFiles: cfg.maxFiles ?? 0 });
    this.files.configure(wanted);
    this.path = file;
    this.minDurationMs = cfg.minDurationMs ?? 0;
  }

  /** Records one finished query; the engine's onQueryDone. Never throws, never waits for the disk. */
  readonly log = (rec: QueryLogRecord): void => {
    if (this.path === null) return;
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
    if (b.full) this.encodeBatch();
    else this.batchTimer ??= setTimeout(this.onBatchTimer, BATCH_DELAY_MS);
  };

  private readonly onBatchTimer = (): void => {
    this.batchTimer = null;
    this.encodeBatch();
    // The batch waited long enough: write it now rather than wait for the file's own batching.
    if (this.path !== null) this.files.get(this.path)?.flush();
  };

  /** Encodes the waiting queries into the file's buffer (in place when there is room) and the ring. */
  private encodeBatch(): void {
    const b = this.batch;
    const n = b.count;
    if (n === 0) return;
    const sink = this.path === null ? undefined : this.files.get(this.path);
    const w = this.writer;
    for (let k = 0; k < n; k++) {
      const space = sink?.spaceFor(b.maxLineBytes(k)) ?? null;
      const start = space === null ? 0 : space.len;
      if (space === null) w.reset(this.scratch);
      else w.reset(space.bytes, start);
      try {
        b.encode(k, w);
      } catch {
        // As in log(): a record that cannot be encoded is skipped, the others are not.
        continue;
      }
      this.ring.push(w.buf, start, w.pos);
      if (space !== null) sink!.commit(space, w.pos - start);
      else sink?.pushBytes(w.buf, 0, w.pos);
    }
    b.clear();
  }

  /** Reopens the file by name (SIGHUP after logrotate moved it). */
  reopen(): void {
    this.encodeBatch();
    this.files.reopen();
  }

  /** The newest logged entries, newest first; `limit` 0 means all that are kept. */
  recent(limit: number): object[] {
    this.encodeBatch();
    const lines = this.ring.newest(limit > 0 ? limit : this.ring.maxEntries);
    return lines.map((l) => JSON.parse(l) as object);
  }

  /** Resolves once everything logged so far has been written (or dropped). */
  idle(): Promise<void> {
    this.encodeBatch();
    return this.files.idle();
  }

  /** Writes what is queued and closes the file; the log is off afterwards. */
  async close(): Promise<void> {
    this.encodeBatch();
    if (this.batchTimer !== null) {
      clearTimeout(this.batchTimer);
      this.batchTimer = null;
    }
    this.path = null;
    await this.files.close();
  }
}
