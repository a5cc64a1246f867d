// A JSON-lines file with a bounded write buffer, size rotation and reopening.
//
// Callers hand over whole lines and never wait: each line is encoded at once into a fixed byte buffer,
// and one asynchronous loop writes the buffer out while the next one fills (two buffers, each half of
// the byte and line bounds). Keeping bytes rather than strings means a queued line is not a JS object
// the garbage collector has to copy and promote, which keeps logging cheap and the heap flat.
// When the disk is slow the buffers fill and new lines are dropped; when a write fails (ENOSPC, EIO,
// ...) its lines are dropped and the next attempt waits `retryDelayMs`. Every lost line is reported,
// so the owner can count it, and writing resumes by itself once the disk accepts data again.
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
  /** Bound on bytes queued plus bytes being written. */
  maxBufferBytes?: number;
  /** Bound on lines queued plus lines being written. */
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
 * 4 MiB holds about 8,000 query-log lines (~500 bytes each): a second or more of a busy server's
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

const NEWLINE = Buffer.from('\n');

/** Encoded lines: bytes and the end offset of each line. */
class LineBuffer {
  readonly bytes: Buffer;
  readonly ends: Uint32Array;
  len = 0;
  lines = 0;
  constructor(maxBytes: number, maxLines: number) {
    this.bytes = Buffer.allocUnsafe(maxBytes);
    this.ends = new Uint32Array(maxLines);
  }

  /** Appends a line (text, or its UTF-8 bytes); false when it does not fit. */
  add(line: string | Uint8Array): boolean {
    if (this.lines >= this.ends.length) return false;
    const room = this.bytes.length - this.len;
    if (typeof line !== 'string') {
      if (line.length > room) return false;
      this.bytes.set(line, this.len);
      this.len += line.length;
      this.ends[this.lines++] = this.len;
      return true;
    }
    // UTF-8 needs at most 3 bytes per UTF-16 unit, so the exact length is only needed near the end.
    if (line.length * 3 > room && Buffer.byteLength(line) > room) return false;
    this.len += this.bytes.write(line, this.len);
    this.ends[this.lines++] = this.len;
    return true;
  }

  clear(): void {
    this.len = 0;
    this.lines = 0;
  }
}

export class LineFileSink {
  private readonly fs: LogFileSystem;
  private readonly halfBytes: number;
  private readonly halfLines: number;
  private readonly retryDelayMs: number;
  private readonly events: SinkEvents;
  private maxSizeBytes: number;
  private maxFiles: number;

  private handle: LogFileHandle | null = null;
  /** Bytes in the open file, for rotation. */
  private size = 0;
  /** A failed write left a partial line; the next write starts with a newline. */
  private tailDirty = false;

  /** Lines waiting; allocated on the first line, so an idle log costs no buffer memory. */
  private fill: LineBuffer | null = null;
  /** The other buffer, free for the next swap (null while it is being written or not yet needed). */
  private spare: LineBuffer | null = null;
  private inFlightBytes = 0;

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
    this.halfBytes = Math.max(1, Math.floor((opts.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES) / 2));
    this.halfLines = Math.max(1, Math.floor((opts.maxBufferLines ?? DEFAULT_MAX_BUFFER_LINES) / 2));
    this.retryDelayMs = opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
    this.events = opts.events;
    this.maxSizeBytes = opts.maxSizeBytes ?? 0;
    this.maxFiles = opts.maxFiles ?? 0;
    const { handle, size } = this.fs.open(path);
    this.handle = handle;
    this.size = size;
  }

  /** Bytes queued or being written. */
  get bufferedBytes(): number {
    return (this.fill?.len ?? 0) + this.inFlightBytes;
  }

  setRotation(maxSizeBytes: number, maxFiles: number): void {
    this.maxSizeBytes = maxSizeBytes;
    this.maxFiles = maxFiles;
  }

  /** Queues one line (with its trailing newline; text or UTF-8 bytes, copied). Never throws, never waits. */
  push(line: string | Uint8Array): void {
    if (this.closed) {
      this.events.dropped(1, 'closed');
      return;
    }
    this.fill ??= new LineBuffer(this.halfBytes, this.halfLines);
    if (!this.fill.add(line)) {
      this.events.dropped(1, 'buffer_full');
      return;
    }
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
    await this.closeHandle();
    this.fill = null;
    this.spare = null;
  }

  /** Resolves once nothing is queued or being written (or the sink is waiting out a failed write). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private queued(): number {
    return this.fill?.lines ?? 0;
  }

  private isIdle(): boolean {
    return !this.running && !this.scheduled && (this.retryTimer !== null || (this.queued() === 0 && !this.reopenWanted));
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
        const batch = this.fill;
        if (batch === null || batch.lines === 0) break;
        if (this.handle === null && (this.closed || !this.tryOpen())) {
          this.dropQueued('write_error');
          this.backOff();
          break;
        }
        // Swap buffers: new lines fill the spare while this one is written.
        this.fill = this.spare;
        this.spare = null;
        this.inFlightBytes = batch.len;
        const ok = await this.writeBatch(batch);
        this.inFlightBytes = 0;
        batch.clear();
        if (this.fill === null) this.fill = batch;
        else this.spare = batch;
        if (!ok) {
          this.backOff();
          break;
        }
      }
    } catch (e) {
      // Only a bug gets here (file errors are handled above); report it rather than lose the loop.
      this.events.failed('write', asError(e));
    } finally {
      this.running = false;
      if (this.queued() > 0 && this.retryTimer === null && !this.closed) this.schedule();
      if (this.isIdle()) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  /** Writes a batch in order, rotating at line boundaries; false after a failure (the rest are dropped). */
  private async writeBatch(b: LineBuffer): Promise<boolean> {
    let i = 0;
    while (i < b.lines) {
      const from = i === 0 ? 0 : b.ends[i - 1]!;
      const room = this.maxSizeBytes > 0 ? this.maxSizeBytes - this.size : Infinity;
      if (this.size > 0 && b.ends[i]! - from > room) {
        await this.rotate();
        if (this.handle === null) {
          this.events.dropped(b.lines - i, 'write_error');
          return false;
        }
        continue;
      }
      // At least one line per write, so a line longer than the limit still gets a file of its own.
      let j = i + 1;
      while (j < b.lines && b.ends[j]! - from <= room) j++;
      const to = b.ends[j - 1]!;
      try {
        if (this.tailDirty) {
          await this.handle!.write(NEWLINE);
          this.tailDirty = false;
          this.size += 1;
        }
        await this.handle!.write(b.bytes.subarray(from, to));
      } catch (e) {
        if (e instanceof PartialWriteError) {
          this.tailDirty = true;
          this.size += e.bytesWritten;
        }
        this.events.failed('write', asError(e));
        this.events.dropped(b.lines - i, 'write_error');
        return false;
      }
      this.size += to - from;
      this.events.written(to - from, j - i);
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
    const n = this.queued();
    if (n > 0) this.events.dropped(n, reason);
    this.fill?.clear();
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
