// Machinery shared by the query log and the scrape failure log: one JSON-lines file, replaced or
// reopened on configuration changes, with its losses counted and its errors logged at most once a minute.
//
// The metrics (JsonLogMetrics) and the files (JsonLogFiles) are separate objects because the query log
// writes its files on a worker thread: there the files report to a relay that forwards what happened,
// and the metrics stay with the registry on the main thread.
import { Counter, Gauge, Registry } from 'prom-client';
import type { Logger } from './types.js';
import { nopLogger } from './types.js';
import type { LogFileSystem } from './log_fs.js';
import { LineFileSink, type DropReason, type SinkEvents, type SinkOp } from './sink.js';
import { throttledLogger } from './throttle.js';

/** Raised by configure() when the file cannot be opened; the previous file stays in use. */
export class LogFileOpenError extends Error {
  override name = 'LogFileOpenError';
  constructor(
    readonly path: string,
    override readonly cause: Error,
  ) {
    super(`can't create json log file ${JSON.stringify(path)}: ${cause.message}`);
  }
}

export const DROP_REASONS: readonly DropReason[] = ['buffer_full', 'write_error', 'closed', 'disk_low'];

/** A full or failing disk repeats the same error on every attempt; once a minute is enough to notice. */
const ERROR_LOG_INTERVAL_MS = 60_000;

export interface JsonLogFileOptions {
  registry?: Registry;
  logger?: Logger;
  /** The file operations; tests pass one that fails like a full disk. */
  fs?: LogFileSystem;
  /** Bound on each file's write buffer (default DEFAULT_MAX_BUFFER_BYTES in sink.ts). */
  maxBufferBytes?: number;
  retryDelayMs?: number;
  /** Clock in ms for line timestamps and the error throttle. */
  now?: () => number;
  errorLogIntervalMs?: number;
}

export interface JsonLogFileMetricNames {
  /** What the file is, for error messages ("query log"). */
  what: string;
  enabled?: string;
  failures: string;
  bytesWritten: string;
  dropped: string;
  buffered: string;
}

export interface FileSettings {
  maxSizeBytes: number;
  maxFiles: number;
}

/** The metrics of one kind of log file, fed by its sinks' events (directly, or relayed from a worker). */
export class JsonLogMetrics implements SinkEvents {
  private readonly enabled: Gauge | null;
  private readonly failures: Counter;
  private readonly bytesWritten: Counter;
  private readonly droppedLines: Counter<'reason'>;
  private readonly errLog: Logger;
  private readonly what: string;
  private pendingBytes = 0;
  private readonly pendingDrops: Record<DropReason, number> = { buffer_full: 0, write_error: 0, closed: 0, disk_low: 0 };
  /** Bytes waiting to be written, read when the gauge is collected. */
  bufferedBytes: () => number = () => 0;
  /** Brings the figures up to date before they are read (the query log's worker sends them on request). */
  refresh: () => Promise<void> = () => Promise.resolve();
  private refreshing: Promise<void> | null = null;

  constructor(names: JsonLogFileMetricNames, opts: Pick<JsonLogFileOptions, 'registry' | 'logger' | 'now' | 'errorLogIntervalMs'>) {
    const registers = [opts.registry ?? new Registry()];
    this.what = names.what;
    this.errLog = throttledLogger(opts.logger ?? nopLogger, {
      intervalMs: opts.errorLogIntervalMs ?? ERROR_LOG_INTERVAL_MS,
      now: opts.now,
    });
    this.enabled =
      names.enabled === undefined
        ? null
        : new Gauge({ name: names.enabled, help: `State of the ${names.what} (1 = enabled).`, registers });
    // Unlabelled, as Prometheus's own failure counter is, so existing alerts keep working.
    this.failures = new Counter({
      name: names.failures,
      help: `File operations on the ${names.what} that failed (open, write, rotate, close).`,
      registers,
      collect: () => this.refreshOnce(),
    });
    // Bytes written and lines dropped are added up here and handed to the counters when they are read:
    // while the disk is stuck every line is dropped, and a labelled inc() per line costs more than the line.
    this.bytesWritten = new Counter({
      name: names.bytesWritten,
      help: `Bytes written to the ${names.what}.`,
      registers,
      collect: async () => {
        await this.refreshOnce();
        this.bytesWritten.inc(this.pendingBytes);
        this.pendingBytes = 0;
      },
    });
    this.droppedLines = new Counter({
      name: names.dropped,
      help: `Lines of the ${names.what} lost: buffer_full (disk too slow), write_error (write or open failed), closed.`,
      labelNames: ['reason'],
      registers,
      collect: async () => {
        await this.refreshOnce();
        for (const r of DROP_REASONS) {
          // Every reason shows from the start (at 0), so rate() and alerts see the series before the first loss.
          this.droppedLines.labels(r).inc(this.pendingDrops[r]);
          this.pendingDrops[r] = 0;
        }
      },
    });
    const buffered = (): number => this.bufferedBytes();
    const refresh = (): Promise<void> => this.refreshOnce();
    new Gauge({
      name: names.buffered,
      help: `Bytes of the ${names.what} waiting to be written.`,
      registers,
      async collect() {
        await refresh();
        this.set(buffered());
      },
    });
    this.enabled?.set(0);
  }

  /** One refresh shared by the collectors of a scrape. */
  private refreshOnce(): Promise<void> {
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  setEnabled(on: boolean): void {
    this.enabled?.set(on ? 1 : 0);
  }

  readonly written = (bytes: number): void => {
    this.pendingBytes += bytes;
  };

  readonly dropped = (lines: number, reason: DropReason): void => {
    this.pendingDrops[reason] += lines;
  };

  /** Failed operations reported without their errors (the error of one of them was logged). */
  countFailures(n: number): void {
    if (n > 0) this.failures.inc(n);
  }

  readonly failed = (op: SinkOp, err: Error): void => {
    this.failures.inc();
    this.errLog.error(`Failed to ${op === 'write' ? 'write to' : op} the ${this.what}; lines are being dropped`, { err });
  };
}

export interface JsonLogFilesOptions {
  fs?: LogFileSystem;
  maxBufferBytes?: number;
  retryDelayMs?: number;
}

/** Several files reporting to one set of events: the query log uses one, the scrape failure log one per path. */
export class JsonLogFiles {
  private readonly sinks = new Map<string, LineFileSink>();

  constructor(
    private readonly events: SinkEvents,
    private readonly opts: JsonLogFilesOptions = {},
  ) {}

  /** The paths open now. */
  paths(): string[] {
    return [...this.sinks.keys()];
  }

  get(path: string): LineFileSink | undefined {
    return this.sinks.get(path);
  }

  /** Bytes queued or being written, over all files. */
  bufferedBytes(): number {
    let n = 0;
    for (const s of this.sinks.values()) n += s.bufferedBytes;
    return n;
  }

  /**
   * Makes exactly `wanted` open: new paths are opened (all before anything changes, so one bad path
   * leaves the previous set untouched), kept ones are reopened, dropped ones are closed.
   */
  configure(wanted: ReadonlyMap<string, FileSettings>): void {
    const opened = new Map<string, LineFileSink>();
    for (const [path, s] of wanted) {
      if (this.sinks.has(path)) continue;
      try {
        opened.set(
          path,
          new LineFileSink(path, {
            fs: this.opts.fs,
            maxBufferBytes: this.opts.maxBufferBytes,
            retryDelayMs: this.opts.retryDelayMs,
            maxSizeBytes: s.maxSizeBytes,
            maxFiles: s.maxFiles,
            events: this.events,
          }),
        );
      } catch (e) {
        for (const sink of opened.values()) void sink.close();
        throw new LogFileOpenError(path, e instanceof Error ? e : new Error(String(e)));
      }
    }
    for (const [path, sink] of this.sinks) {
      const s = wanted.get(path);
      if (s === undefined) {
        this.sinks.delete(path);
        void sink.close();
      } else {
        sink.setRotation(s.maxSizeBytes, s.maxFiles);
        sink.reopen();
      }
    }
    for (const [path, sink] of opened) this.sinks.set(path, sink);
  }

  reopen(): void {
    for (const s of this.sinks.values()) s.reopen();
  }

  /** Resolves once every file has written what it was given (or is waiting out a failure). */
  async idle(): Promise<void> {
    await Promise.all([...this.sinks.values()].map((s) => s.idle()));
  }

  async close(): Promise<void> {
    const all = [...this.sinks.values()];
    this.sinks.clear();
    await Promise.all(all.map((s) => s.close()));
  }
}
