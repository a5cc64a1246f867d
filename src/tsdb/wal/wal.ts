// Room tsdb/wal (segments, checkpoints): may import model/, logging/ and
// tsdb/encoding, tsdb/fileutil, tsdb/record.
//
// Write-ahead log: numbered segment files of framed records.
//
//   frame: u32le(payload length) u32le(CRC-32C of payload) payload
//
// A record never spans segments. Every commit is written with one
// synchronous writev before the commit returns: once it returns, the bytes
// are in the page cache and survive a process crash. fsync happens when a
// segment is completed and on close. Reading stops at the first frame that
// is short or fails its checksum; repair() truncates there and drops later
// segments.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../../logging/types.js';
import { nopLogger } from '../../logging/types.js';
import { crc32c } from '../encoding/crc32c.js';
import { CorruptionError } from '../encoding/encoding.js';
import { fsyncDir } from '../fileutil/fileutil.js';
import type { Counter, Summary } from 'prom-client';

export const FRAME_HEADER = 8;
/** Prometheus's default segment size. */
export const DEFAULT_SEGMENT_SIZE = 128 * 1024 * 1024;
const SEGMENT_RE = /^\d{8}$/;

export function segmentName(i: number): string {
  return String(i).padStart(8, '0');
}

/** Segment numbers present in a directory, ascending. */
export function listSegments(dir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => SEGMENT_RE.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * Walks the intact records of a segment's bytes. next() stops at the end or
 * at the first frame that is short or fails its checksum; then `error` says
 * what was wrong and `validEnd` where the good part ends.
 */
export class SegmentReader {
  /** Payload range of the current record. */
  start = 0;
  end = 0;
  records = 0;
  /** Offset just after the last good record. */
  validEnd = 0;
  error: CorruptionError | null = null;

  constructor(
    readonly buf: Buffer,
    readonly file: string,
  ) {}

  next(): boolean {
    const buf = this.buf;
    const n = buf.length;
    const pos = this.validEnd;
    if (pos >= n || this.error !== null) return false;
    if (n - pos < FRAME_HEADER) return this.fail(`torn record header (${n - pos} bytes)`);
    const len = buf.readUInt32LE(pos);
    const crc = buf.readUInt32LE(pos + 4);
    const start = pos + FRAME_HEADER;
    if (len === 0) return this.fail('zero-length record');
    if (start + len > n) return this.fail(`record of ${len} bytes runs past the end of the segment (${n - start} left)`);
    if (crc32c(buf, start, start + len) !== crc) return this.fail('record checksum mismatch');
    this.start = start;
    this.end = start + len;
    return true;
  }

  /** Accepts the current record (it decoded); the good part now ends after it. */
  accept(): void {
    this.validEnd = this.end;
    this.records++;
  }

  /** Marks the current record bad (it did not decode). */
  reject(reason: string): void {
    this.fail(`undecodable record: ${reason}`);
  }

  private fail(what: string): false {
    this.error = new CorruptionError(what, this.file, this.validEnd);
    return false;
  }
}

/** What the WAL counts about itself (the TSDB's metrics provide these). */
export interface WALMetrics {
  readonly walFsyncDuration: Summary;
  readonly walWritesFailed: Counter;
  readonly walRecordsWritten: Counter;
  readonly walRecordBytesWritten: Counter;
  readonly walTruncations: Counter;
  readonly walTruncationsFailed: Counter;
}

export interface WALOptions {
  segmentSize?: number;
  logger?: Logger;
  metrics: WALMetrics;
}

export class WAL {
  readonly dir: string;
  readonly segmentSize: number;
  private readonly logger: Logger;
  private readonly metrics: WALMetrics;
  private fd = -1;
  private seg = -1;
  private segBytes = 0;
  private readonly hdr = Buffer.alloc(FRAME_HEADER);
  /** Bytes of the segments before the current one (kept to avoid stat calls on every scrape of the size gauge). */
  private olderBytes = 0;
  /** Set by close(): records are refused from then on. */
  private closed = false;

  constructor(dir: string, opts: WALOptions) {
    this.dir = dir;
    this.segmentSize = opts.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    this.logger = opts.logger ?? nopLogger;
    this.metrics = opts.metrics;
    fs.mkdirSync(dir, { recursive: true });
  }

  /** Begins writing in a new segment after the existing ones (reusing an empty last one). */
  startWriting(): void {
    const segs = listSegments(this.dir);
    const last = segs.at(-1);
    let next = last !== undefined ? last + 1 : 0;
    if (last !== undefined && fs.statSync(this.segPath(next - 1)).size === 0) next--;
    this.openSegment(next);
  }

  private segPath(i: number): string {
    return path.join(this.dir, segmentName(i));
  }

  private openSegment(i: number): void {
    this.fd = fs.openSync(this.segPath(i), 'a');
    this.seg = i;
    this.segBytes = fs.fstatSync(this.fd).size;
    this.olderBytes = 0;
    for (const s of listSegments(this.dir)) if (s !== i) this.olderBytes += safeSize(this.segPath(s));
    fsyncDir(this.dir);
  }

  currentSegment(): number {
    return this.seg;
  }

  /** Completes the current segment (fsync) and starts the next one. */
  nextSegment(): number {
    const prev = this.seg;
    this.closeSegment();
    this.openSegment(prev + 1);
    return this.seg;
  }

  private closeSegment(): void {
    if (this.fd < 0) return;
    const t0 = performance.now();
    fs.fsyncSync(this.fd);
    this.metrics.walFsyncDuration.observe((performance.now() - t0) / 1000);
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  /** Appends one record; on return it is in the page cache. Throws when the write fails (nothing partial remains). */
  log(payload: Uint8Array): void {
    // The WAL closes with its database; a commit racing the close fails like other calls on a closed database.
    if (this.closed) throw new Error('tsdb: database is closed');
    if (this.fd < 0) throw new Error('BUG: WAL is not open for writing');
    const len = payload.length;
    if (this.segBytes > 0 && this.segBytes + FRAME_HEADER + len > this.segmentSize) this.nextSegment();
    this.hdr.writeUInt32LE(len, 0);
    this.hdr.writeUInt32LE(crc32c(payload), 4);
    const before = this.segBytes;
    try {
      let written = fs.writevSync(this.fd, [this.hdr, payload]);
      // writev may write less than asked (signals, quotas); finish the frame.
      while (written < FRAME_HEADER + len) {
        if (written < FRAME_HEADER) written += fs.writeSync(this.fd, this.hdr, written, FRAME_HEADER - written);
        else written += fs.writeSync(this.fd, payload, written - FRAME_HEADER, len - (written - FRAME_HEADER));
      }
    } catch (e) {
      this.metrics.walWritesFailed.inc();
      // Cut off a partial frame so later records do not land behind garbage.
      try {
        fs.ftruncateSync(this.fd, before);
      } catch (te) {
        this.logger.error('cannot truncate WAL segment after a failed write', { err: String(te) });
      }
      throw e;
    }
    this.segBytes = before + FRAME_HEADER + len;
    this.metrics.walRecordsWritten.inc();
    this.metrics.walRecordBytesWritten.inc(FRAME_HEADER + len);
  }

  /** Deletes segments numbered below `upTo`. */
  truncate(upTo: number): void {
    this.metrics.walTruncations.inc();
    try {
      for (const s of listSegments(this.dir)) {
        if (s >= upTo || s === this.seg) continue;
        const p = this.segPath(s);
        this.olderBytes -= safeSize(p);
        fs.rmSync(p, { force: true });
      }
    } catch (e) {
      this.metrics.walTruncationsFailed.inc();
      throw e;
    }
  }

  sizeBytes(): number {
    return this.olderBytes + this.segBytes;
  }

  close(): void {
    this.closed = true;
    this.closeSegment();
  }
}

function safeSize(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}

/** Cuts a segment at `offset` and deletes the segments after it. Returns the bytes dropped. */
export function repairSegments(dir: string, seg: number, offset: number): number {
  const p = path.join(dir, segmentName(seg));
  let dropped = Math.max(0, safeSize(p) - offset);
  fs.truncateSync(p, offset);
  for (const s of listSegments(dir)) {
    if (s > seg) {
      const q = path.join(dir, segmentName(s));
      dropped += safeSize(q);
      fs.rmSync(q, { force: true });
    }
  }
  fsyncDir(dir);
  return dropped;
}
