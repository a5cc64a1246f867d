// A JSON-lines file with a bounded write buffer, size rotation and reopening.
//
// Callers hand over whole lines and never wait: lines are queued in a buffer bounded in bytes and in
// lines, and written by one asynchronous loop. When the disk is slow the buffer fills and new lines
// are dropped; when a write fails (ENOSPC, EIO, ...) its lines are dropped and the next attempt waits
// `retryDelayMs`. Every lost line is reported, so the owner can count it, and writing resumes by
// itself once the disk accepts data again.
import { nodeLogFileSystem, PartialWriteError, type LogFileHandle, type LogFileSystem } from './logfs.js';

export type DropReason = 'buffer_full' | 'write_error' | 'closed';
export type SinkOp = 'open' | 'write' | 'rotate' | 'close';

/** How the sink reports what happened to the lines it was given. */
export interface SinkEvents {
  written(bytes: number, lines: number): void;
  dropped(lines: number, reason: DropReason): void;
  /** One failed file operation. */
  failed(op: SinkOp, err: Error): void;
}

export interface SinkOptions {
  fs?: LogFileSystem;
  /** Bound on queued bytes. */
  maxBufferBytes?: number;
  /** Bound on queued lines. */
  maxBufferLines?: number;
  /** Wait after a failed write or open before trying again. */
  retryDelayMs?: number;
  /** Rotate before the file would grow past this; 0 = never (default). */
  maxSizeBytes?: number;
  /** Rotated files kept (path.1 newest ... path.N); 0 = the full file is removed on rotation. */
  maxFiles?: number;
  events: SinkEvents;
}

/**
 * 4 MiB holds about 10,000 query-log lines (~400 bytes each): a second or more of a busy server's
 * queries while the disk stalls, yet little memory should the disk never come back.
 */
export const DEFAULT_MAX_BUFFER_BYTES = 4 * 1024 * 1024;
/** Bounds the per-line bookkeeping when lines are short (scrape failures). */
export const DEFAULT_MAX_BUFFER_LINES = 20_000;
/** One attempt a second keeps a full disk from being hammered while noticing recovery quickly. */
export const DEFAULT_RETRY_DELAY_MS = 1000;

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

export class LineFileSink {
  private readonly fs: LogFileSystem;
  private readonly maxBufferBytes: number;
  private readonly maxBufferLines: number;
  private readonly retryDelayMs: number;
  private readonly events: SinkEvents;
  private maxSizeBytes: number;
  private maxFiles: number;

  private handle: LogFileHandle | null = null;
  /** Bytes in the open file, for rotation. */
  private size = 0;
  /** A failed write left a partial line; the next write starts with a newline. */
  private tailDirty = false;

  private lines: string[] = [];
  private lineBytes: number[] = [];
  private bufBytes = 0;

  private running = false;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private reopenWanted = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];

  /** Opens `path` at once, so a bad path fails the configuration that named it; throws on failure. */
  constructor(
    readonly path: string,
    opts: SinkOptions,
  ) {
    this.fs = opts.fs ?? nodeLogFileSystem;
    this.maxBufferBytes = opts.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES;
    this.maxBufferLines = opts.maxBufferLines ?? DEFAULT_MAX_BUFFER_LINES;
    this.retryDelayMs = opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
    this.events = opts.events;
    this.maxSizeBytes = opts.maxSizeBytes ?? 0;
    this.maxFiles = opts.maxFiles ?? 0;
    const { handle, size } = this.fs.open(path);
    this.handle = handle;
    this.size = size;
  }

  /** Bytes waiting to be written. */
  get bufferedBytes(): number {
    return this.bufBytes;
  }

  setRotation(maxSizeBytes: number, maxFiles: number): void {
    this.maxSizeBytes = maxSizeBytes;
    this.maxFiles = maxFiles;
  }

  /** Queues one line (with its trailing newline). Never throws, never waits. */
  push(line: string): void {
    if (this.closed) {
      this.events.dropped(1, 'closed');
      return;
    }
    const n = Buffer.byteLength(line);
    if (this.lines.length >= this.maxBufferLines || this.bufBytes + n > this.maxBufferBytes) {
      this.events.dropped(1, 'buffer_full');
      return;
    }
    this.lines.push(line);
    this.lineBytes.push(n);
    this.bufBytes += n;
    this.schedule();
  }

  /** Closes and reopens the file by name (after logrotate moved it away); queued lines go to the new file. */
  reopen(): void {
    if (this.closed) return;
    this.reopenWanted = true;
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.schedule();
  }

  /** Writes what is queued (one attempt), then closes the file. Later lines are dropped. */
  async close(): Promise<void> {
    if (this.closed) return this.idle();
    this.closed = true;
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.schedule();
    await this.idle();
    const h = this.handle;
    this.handle = null;
    if (h !== null) {
      try {
        await h.close();
      } catch (e) {
        this.events.failed('close', asError(e));
      }
    }
  }

  /** Resolves once nothing is queued or being written (or the sink is waiting out a failed write). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return !this.running && !this.scheduled && (this.retryTimer !== null || (this.lines.length === 0 && !this.reopenWanted));
  }

  private schedule(): void {
    if (this.running || this.scheduled || this.retryTimer !== null) return;
    this.scheduled = true;
    // setImmediate gathers every line queued in this turn of the event loop into one write.
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      for (;;) {
        if (this.reopenWanted) {
          this.reopenWanted = false;
          await this.closeHandle();
          if (!this.closed) this.tryOpen();
        }
        if (this.lines.length === 0) break;
        if (this.handle === null && (this.closed || !this.tryOpen())) {
          this.dropQueued('write_error');
          this.backOff();
          break;
        }
        const lines = this.lines;
        const lens = this.lineBytes;
        this.lines = [];
        this.lineBytes = [];
        this.bufBytes = 0;
        if (!(await this.writeLines(lines, lens))) {
          this.backOff();
          break;
        }
      }
    } catch (e) {
      // Only a bug gets here (file errors are handled above); report it rather than lose the loop.
      this.events.failed('write', asError(e));
    } finally {
      this.running = false;
      if (this.lines.length > 0 && this.retryTimer === null && !this.closed) this.schedule();
      if (this.isIdle()) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  /** Writes lines in order, rotating at line boundaries; false after a failure (the rest are dropped). */
  private async writeLines(lines: string[], lens: number[]): Promise<boolean> {
    let i = 0;
    while (i < lines.length) {
      const room = this.maxSizeBytes > 0 ? this.maxSizeBytes - this.size : Infinity;
      if (this.size > 0 && lens[i]! > room) {
        await this.rotate();
        if (this.handle === null) {
          this.events.dropped(lines.length - i, 'write_error');
          return false;
        }
        continue;
      }
      // At least one line per write, so a line longer than the limit still gets a file of its own.
      let j = i + 1;
      let bytes = lens[i]!;
      while (j < lines.length && bytes + lens[j]! <= room) bytes += lens[j++]!;
      const text = (this.tailDirty ? '\n' : '') + (j - i === 1 ? lines[i]! : lines.slice(i, j).join(''));
      const data = Buffer.from(text);
      try {
        await this.handle!.write(data);
      } catch (e) {
        if (e instanceof PartialWriteError) {
          this.tailDirty = true;
          this.size += e.bytesWritten;
        }
        this.events.failed('write', asError(e));
        this.events.dropped(lines.length - i, 'write_error');
        return false;
      }
      this.tailDirty = false;
      this.size += data.length;
      this.events.written(data.length, j - i);
      i = j;
    }
    return true;
  }

  /** path -> path.1 -> ... -> path.N (the oldest is overwritten), then a fresh path. */
  private async rotate(): Promise<void> {
    await this.closeHandle();
    try {
      if (this.maxFiles > 0) {
        for (let k = this.maxFiles - 1; k >= 1; k--) {
          try {
            await this.fs.rename(`${this.path}.${k}`, `${this.path}.${k + 1}`);
          } catch (e) {
            if (!isNotFound(e)) throw e;
          }
        }
        await this.fs.rename(this.path, `${this.path}.1`);
      } else {
        await this.fs.remove(this.path);
      }
    } catch (e) {
      this.events.failed('rotate', asError(e));
    }
    this.tailDirty = false;
    this.tryOpen();
  }

  private async closeHandle(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    if (h === null) return;
    try {
      await h.close();
    } catch (e) {
      this.events.failed('close', asError(e));
    }
  }

  private tryOpen(): boolean {
    try {
      const { handle, size } = this.fs.open(this.path);
      this.handle = handle;
      this.size = size;
      this.tailDirty = false;
      return true;
    } catch (e) {
      this.events.failed('open', asError(e));
      return false;
    }
  }

  private dropQueued(reason: DropReason): void {
    if (this.lines.length > 0) this.events.dropped(this.lines.length, reason);
    this.lines = [];
    this.lineBytes = [];
    this.bufBytes = 0;
  }

  private backOff(): void {
    if (this.closed) {
      this.dropQueued('write_error');
      return;
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.schedule();
    }, this.retryDelayMs);
    // A pending retry must not keep the process alive on its own.
    this.retryTimer.unref();
  }
}
