// A JSON-lines file with a bounded write buffer, size rotation and reopening.
//
// Callers hand over whole lines and never wait: each line is copied into a byte buffer at once, and one
// asynchronous loop appends the buffer to the file, one large write at a time (at least WRITE_BATCH_BYTES,
// or whatever is there WRITE_DELAY_MS after the first waiting line). The buffer is a queue of chunks taken
// as lines arrive and given back once written, bounded in bytes. Keeping bytes rather than strings means
// a queued line is not a JS object the garbage collector has to copy and promote.
// When the disk stalls for longer than the buffer covers, new lines are dropped; when a write fails
// (ENOSPC, EIO, ...) everything queued is dropped and the next attempt waits `retryDelayMs`. Every lost
// line is reported, so the owner can count it, and writing resumes by itself once the disk accepts data.
import { nodeLogFileSystem, PartialWriteError, type LogFileHandle, type LogFileSystem } from './log_fs.js';

/** disk_low: the owner paused the log because its file system is nearly full (the disk guard). */
export type DropReason = 'buffer_full' | 'write_error' | 'closed' | 'disk_low';
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
  /** Bound on the buffer's memory: lines queued plus lines being written. */
  maxBufferBytes?: number;
  /** Wait after a failed write or open before trying again. */
  retryDelayMs?: number;
  /** Rotate before the file would grow past this; 0 = never (default). */
  maxSizeBytes?: number;
  /** Rotated files kept (path.1 newest ... path.N); 0 = the full file is removed on rotation. */
  maxFiles?: number;
  events: SinkEvents;
}

/**
 * A working local disk takes a write into the page cache in well under a millisecond, but now and then
 * pauses for much longer: a journal commit, writeback throttling at the dirty-page limit, a busy shared
 * or virtual disk, the unlink of a rotated file. The buffer must ride such pauses out at the busiest
 * rate the log sees: ~30,000 queries/s of ~500-byte lines is ~16 MB/s, so 32 MiB covers two seconds of
 * it, far longer than the pauses measured here (tens of ms while writing 14 MB/s with rotation). It is
 * taken chunk by chunk only while lines wait, so a disk that keeps up costs 1-2 MiB; all of it is held
 * only while the disk is really stuck, and beyond it lines are dropped and counted.
 */
const DEFAULT_MAX_BUFFER_BYTES = 32 * 1024 * 1024;
/**
 * A write costs a thread-pool round trip and a syscall (~10 µs of CPU) on top of its bytes, so lines are
 * written in batches: 64 KiB is ~130 query-log lines, a few milliseconds of a busy server.
 */
export const WRITE_BATCH_BYTES = 64 * 1024;
/** Fewer lines than a batch are written this long after the first of them: soon enough for `tail -f`. */
const WRITE_DELAY_MS = 100;
/** One attempt a second keeps a full disk from being hammered while noticing recovery quickly. */
const DEFAULT_RETRY_DELAY_MS = 1000;
/** Buffer memory is taken and returned in pieces this large: big writes, and few allocations. */
const CHUNK_BYTES = 1024 * 1024;

const NL = 0x0a;
const NEWLINE = Buffer.from('\n');

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** Lines in `b` from `from` to `to` (each ends with a newline). */
function countLines(b: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = b.indexOf(NL, from); i >= 0 && i < to; i = b.indexOf(NL, i + 1)) n++;
  return n;
}

/** Room to encode a line in place: `bytes` from offset `len` on. */
export interface LineSpace {
  readonly bytes: Buffer;
  readonly len: number;
}

/** Queued lines: bytes [done, len) are still to be written. */
class Chunk implements LineSpace {
  readonly bytes: Buffer;
  len = 0;
  done = 0;
  lines = 0;
  doneLines = 0;
  constructor(size: number) {
    this.bytes = Buffer.allocUnsafe(size);
  }

  reset(): void {
    this.len = 0;
    this.done = 0;
    this.lines = 0;
    this.doneLines = 0;
  }
}

export class LineFileSink {
  private readonly fs: LogFileSystem;
  private readonly maxBufferBytes: number;
  private readonly chunkBytes: number;
  private readonly retryDelayMs: number;
  private readonly events: SinkEvents;
  private maxSizeBytes: number;
  private maxFiles: number;

  private handle: LogFileHandle | null = null;
  /** Bytes in the open file, for rotation. */
  private size = 0;
  /** A failed write left a partial line; the next write starts with a newline. */
  private tailDirty = false;

  /** Oldest first: writes take from the first chunk, lines go into the last. Empty until the first line. */
  private chunks: Chunk[] = [];
  /** A written chunk kept for the next one needed, so a busy log does not allocate all the time. */
  private spare: Chunk | null = null;
  /** Memory of the chunks held (queued and spare): what maxBufferBytes bounds. */
  private allocated = 0;
  /** Bytes queued or being written. */
  private queuedBytes = 0;

  private running = false;
  private scheduled = false;
  /** Write everything queued, not only full batches (delay over, idle(), close(), a retry). */
  private flushWanted = false;
  private delayTimer: NodeJS.Timeout | null = null;
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
    this.maxBufferBytes = Math.max(1, Math.floor(opts.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES));
    this.chunkBytes = Math.min(CHUNK_BYTES, this.maxBufferBytes);
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
    return this.queuedBytes;
  }

  setRotation(maxSizeBytes: number, maxFiles: number): void {
    this.maxSizeBytes = maxSizeBytes;
    this.maxFiles = maxFiles;
  }

  /** Queues one line of text ending with its newline (and holding no other). Never throws, never waits. */
  push(line: string): void {
    const n = Buffer.byteLength(line);
    const c = this.room(n);
    if (c === null) return;
    c.bytes.write(line, c.len);
    this.added(c, n);
  }

  /** Queues a copy of the line in `src` from `start` to `end` (UTF-8, ending with its newline). */
  pushBytes(src: Buffer, start: number, end: number): void {
    const n = end - start;
    const c = this.room(n);
    if (c === null) return;
    src.copy(c.bytes, c.len, start, end);
    this.added(c, n);
  }

  /**
   * Where a line of at most `maxBytes` can be encoded in place, saving the copy pushBytes makes: the
   * buffer and the offset to write at, or null when the buffer's current chunk has no room for it
   * (then encode elsewhere and use pushBytes). Finish with commit().
   */
  spaceFor(maxBytes: number): LineSpace | null {
    if (this.closed) return null;
    const tail = this.chunks[this.chunks.length - 1];
    return tail !== undefined && tail.bytes.length - tail.len >= maxBytes ? tail : null;
  }

  /** Queues the `n` bytes just encoded at `space.len` (one whole line, ending with its newline). */
  commit(space: LineSpace, n: number): void {
    this.added(space as Chunk, n);
  }

  /** Starts writing what is queued now instead of waiting for a full batch. */
  flush(): void {
    if (this.delayTimer !== null) {
      clearTimeout(this.delayTimer);
      this.delayTimer = null;
    }
    this.flushWanted = true;
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
    this.flush();
  }

  /** Writes what is queued (one attempt), then closes the file. Later lines are dropped. */
  async close(): Promise<void> {
    if (this.closed) return this.idle();
    this.closed = true;
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.flush();
    await this.idle();
    await this.closeHandle();
    this.chunks = [];
    this.spare = null;
    this.allocated = 0;
  }

  /** Writes what is queued and resolves once nothing is queued or being written (or a failed write is being waited out). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    this.flush();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** The chunk with room for `n` more bytes, or null (and the line counted as dropped). */
  private room(n: number): Chunk | null {
    if (this.closed) {
      this.events.dropped(1, 'closed');
      return null;
    }
    const tail = this.chunks[this.chunks.length - 1];
    if (tail !== undefined && tail.bytes.length - tail.len >= n) return tail;
    const c = this.newChunk(n);
    if (c === null) this.events.dropped(1, 'buffer_full');
    return c;
  }

  /** A chunk for at least `n` bytes appended to the queue, or null when it would pass the bound. */
  private newChunk(n: number): Chunk | null {
    let c = this.spare;
    if (c !== null && c.bytes.length >= n) {
      this.spare = null;
    } else {
      // A line longer than a chunk gets a chunk of its own size.
      const size = Math.max(this.chunkBytes, n);
      if (this.allocated + size > this.maxBufferBytes) return null;
      c = new Chunk(size);
      this.allocated += size;
    }
    this.chunks.push(c);
    return c;
  }

  /** Returns a written chunk: kept as the spare, or its memory given back. */
  private release(c: Chunk): void {
    if (this.spare === null && c.bytes.length === this.chunkBytes) {
      c.reset();
      this.spare = c;
    } else {
      this.allocated -= c.bytes.length;
    }
  }

  private added(c: Chunk, n: number): void {
    c.len += n;
    c.lines++;
    this.queuedBytes += n;
    if (this.queuedBytes >= WRITE_BATCH_BYTES) this.schedule();
    else if (this.delayTimer === null && !this.running && !this.scheduled) this.armDelay();
  }

  private armDelay(): void {
    this.delayTimer = setTimeout(() => {
      this.delayTimer = null;
      this.flushWanted = true;
      this.schedule();
    }, WRITE_DELAY_MS);
  }

  private isIdle(): boolean {
    return !this.running && !this.scheduled && (this.retryTimer !== null || (this.queuedBytes === 0 && !this.reopenWanted));
  }

  private schedule(): void {
    if (this.running || this.scheduled || this.retryTimer !== null) return;
    this.scheduled = true;
    // setImmediate lets the current turn of the event loop add its lines to the same write.
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
        // An emptied chunk ahead of others (a long line needed a chunk of its own) has nothing to write.
        for (let first = this.chunks[0]; first !== undefined && this.chunks.length > 1 && first.done === first.len; first = this.chunks[0]) {
          this.chunks.shift();
          this.release(first);
        }
        const c = this.chunks[0];
        if (c === undefined || c.done === c.len) {
          this.flushWanted = false;
          break;
        }
        if (!this.flushWanted && this.queuedBytes < WRITE_BATCH_BYTES) {
          if (this.delayTimer === null) this.armDelay();
          break;
        }
        if (this.handle === null && (this.closed || !this.tryOpen())) {
          this.failed();
          break;
        }
        if (!(await this.writeNext(c))) {
          this.failed();
          break;
        }
        if (c.done === c.len) {
          if (this.chunks.length > 1) this.release(this.chunks.shift()!);
          else c.reset();
        }
      }
    } catch (e) {
      // Only a bug gets here (file errors are handled above); report it rather than lose the loop.
      this.events.failed('write', asError(e));
    } finally {
      this.running = false;
      if (this.isIdle()) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  /**
   * Writes the next lines of `c`: all of them, or as many whole lines as fit before the file must
   * rotate (at least one, so a line longer than the limit still gets a file of its own). False after a
   * failed write or reopen.
   */
  private async writeNext(c: Chunk): Promise<boolean> {
    const from = c.done;
    let to = c.len;
    const room = this.maxSizeBytes > 0 ? this.maxSizeBytes - this.size : Infinity;
    if (to - from > room) {
      // The end of the last whole line within `room` (a newline ends every line).
      let cut = room > 0 ? c.bytes.lastIndexOf(NL, from + room - 1) + 1 : 0;
      if (cut <= from) {
        if (this.size > 0) {
          await this.rotate();
          return this.handle !== null;
        }
        cut = c.bytes.indexOf(NL, from) + 1;
        if (cut <= from || cut > to) cut = to;
      }
      to = cut;
    }
    const lines = to === c.len ? c.lines - c.doneLines : countLines(c.bytes, from, to);
    try {
      if (this.tailDirty) {
        await this.handle!.write(NEWLINE);
        this.tailDirty = false;
        this.size += 1;
      }
      await this.handle!.write(c.bytes.subarray(from, to));
    } catch (e) {
      if (e instanceof PartialWriteError) {
        this.tailDirty = true;
        this.size += e.bytesWritten;
      }
      this.events.failed('write', asError(e));
      return false;
    }
    c.done = to;
    c.doneLines += lines;
    this.size += to - from;
    this.queuedBytes -= to - from;
    this.events.written(to - from, lines);
    return true;
  }

  /** A write or open failed: what is queued is lost, and the next attempt waits. */
  private failed(): void {
    let lines = 0;
    for (const c of this.chunks) lines += c.lines - c.doneLines;
    if (lines > 0) this.events.dropped(lines, 'write_error');
    const first = this.chunks.shift();
    for (const c of this.chunks) this.release(c);
    this.chunks = [];
    if (first !== undefined) {
      first.reset();
      this.chunks.push(first);
    }
    this.queuedBytes = 0;
    this.flushWanted = false;
    if (this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.flushWanted = true;
      this.schedule();
    }, this.retryDelayMs);
    // A pending retry must not keep the process alive on its own.
    this.retryTimer.unref();
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
}
