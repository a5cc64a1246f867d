// Room tsdb/wal (segments, checkpoints): may import model/, logging/,
// tsdb/encoding, tsdb/fileutil, tsdb/record and the snappy package.
//
// Write-ahead log: numbered segment files of framed records.
//
//   frame: u32le(flags << 30 | stored length) u32le(CRC-32C of the stored bytes) stored bytes
//
// Flag bit 31 marks a snappy-compressed record (the stored bytes are a
// snappy block of the payload); bit 30 is reserved for zstd, which this
// version refuses. WALs written before compression existed have both bits
// clear and read unchanged. A record is stored compressed only when that is
// smaller, so tiny records stay raw. CRCs cover the stored bytes, so damage
// is found before decompression.
//
// A record never spans segments. Every commit is written with one
// synchronous writev before the commit returns: once it returns, the bytes
// are in the page cache and survive a process crash. fsync happens when a
// segment is completed and on close. Reading stops at the first frame that
// is short, fails its checksum or does not decompress; repair() truncates
// there and drops later segments.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compressSync, uncompressSync } from 'snappy';
import type { Logger } from '../../logging/types.js';
import { nopLogger } from '../../logging/types.js';
import { crc32c } from '../encoding/crc32c.js';
import { CorruptionError } from '../encoding/encoding.js';
import { fsyncDir } from '../fileutil/fileutil.js';
import { isBatchRecord } from '../record/record.js';
import type { Counter, Summary } from 'prom-client';

export const FRAME_HEADER = 8;
/** Length-word flag: the stored bytes are a snappy block. */
export const FRAME_SNAPPY = 0x80000000;
/** Length-word flag reserved for zstd blocks. */
export const FRAME_ZSTD = 0x40000000;
/** The stored length's bits in the length word; also the largest record. */
export const FRAME_LENGTH_MASK = 0x3fffffff;
/**
 * Output copied into plain buffers: measured 3-4x faster than the package's
 * external buffers (they cost at creation and in GC), and faster than a
 * JavaScript decoder into a reused buffer.
 */
const SNAPPY_OPTIONS = { copyOutputData: true };
const UNSNAPPY_OPTIONS = { asBuffer: true, copyOutputData: true };
/** Records shorter than this are stored raw: snappy rarely shrinks them. */
const MIN_COMPRESS_BYTES = 64;
/** Most sample-only batches skipped between two tries while they do not shrink. */
const MAX_SKIP = 32;

/** How records are stored (Prometheus's --storage.tsdb.wal-compression-type, plus 'none' for the flag turned off). */
export type WALCompression = 'none' | 'snappy';

/**
 * Frames record payloads: fills `header` and returns the bytes to store after
 * it (the payload, or its snappy block when that is smaller).
 *
 * Batches without series records (samples only) often do not shrink: their
 * values are compact already. After such a batch failed to shrink, the next
 * ones are stored raw without trying, 1, 2, 4 ... up to MAX_SKIP of them
 * before the next try, and compression resumes at once when a try pays.
 * Everything else is always tried.
 */
export class FrameEncoder {
  readonly header = Buffer.alloc(FRAME_HEADER);
  private backoff = 0;
  private skip = 0;

  constructor(readonly compression: WALCompression) {}

  encode(payload: Uint8Array): Uint8Array {
    let body = payload;
    let word = payload.length;
    if (word > FRAME_LENGTH_MASK) throw new RangeError(`WAL record of ${word} bytes exceeds the ${FRAME_LENGTH_MASK} bytes limit`);
    if (this.compression === 'snappy' && word >= MIN_COMPRESS_BYTES) {
      // Byte 1 of a batch is its series count's uvarint: 0 means samples only.
      const samplesOnly = isBatchRecord(payload[0]) && payload[1] === 0;
      if (samplesOnly && this.skip > 0) this.skip--;
      else {
        const c = compressSync(payload, SNAPPY_OPTIONS);
        const pays = c.length < word;
        if (pays) {
          body = c;
          word = (c.length | FRAME_SNAPPY) >>> 0;
        }
        if (samplesOnly) {
          this.backoff = pays ? 0 : Math.min(MAX_SKIP, 2 * this.backoff || 1);
          this.skip = this.backoff;
        }
      }
    }
    this.header.writeUInt32LE(word, 0);
    this.header.writeUInt32LE(crc32c(body), 4);
    return body;
  }
}

/** The payload of a frame: the stored bytes themselves, or their decompression. */
export class FramePayload {
  buf: Buffer = EMPTY;
  start = 0;
  end = 0;

  /** Loads the frame whose length word is `word` and stored bytes src[start, end). Throws CorruptionError. */
  load(src: Buffer, start: number, end: number, word: number): void {
    if ((word & FRAME_SNAPPY) === 0) {
      this.buf = src;
      this.start = start;
      this.end = end;
      return;
    }
    const length = snappyDecodedLength(src, start, end);
    // No writer stores an empty or over-long record; refuse before allocating.
    if (length === 0 || length > FRAME_LENGTH_MASK) throw new CorruptionError(`snappy: record declares ${length} bytes`);
    let out: Buffer;
    try {
      out = uncompressSync(src.subarray(start, end), UNSNAPPY_OPTIONS) as Buffer;
    } catch (e) {
      // The package's messages start with "snappy: " already.
      throw new CorruptionError((e as Error).message);
    }
    if (out.length !== length) throw new CorruptionError(`snappy: record declares ${length} bytes and holds ${out.length}`);
    this.buf = out;
    this.start = 0;
    this.end = length;
  }

  /** Lets go of the last decompressed record (for long-lived readers between records). */
  release(): void {
    this.buf = EMPTY;
  }
}

/** The decoded length a snappy block declares (its leading uvarint). */
function snappyDecodedLength(src: Uint8Array, start: number, end: number): number {
  let length = 0;
  for (let pos = start, shift = 0; ; shift += 7) {
    if (pos >= end || shift > 28) throw new CorruptionError('snappy: corrupt length header');
    // pos < end <= src.length.
    const b = src[pos++]!;
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return length;
  }
}

const EMPTY = Buffer.alloc(0);

/** A frame's flags that this version cannot read, as an error message; null when readable. */
export function unreadableFrame(word: number): string | null {
  return (word & FRAME_ZSTD) !== 0 ? 'zstd-compressed record (this version reads snappy only)' : null;
}

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
 * at the first frame that is short, fails its checksum or does not
 * decompress; then `error` says what was wrong and `validEnd` where the good
 * part ends.
 */
export class SegmentReader {
  /** The current record's payload is buf[start, end): the segment itself, or a decompression buffer. */
  buf: Buffer = EMPTY;
  start = 0;
  end = 0;
  records = 0;
  /** Offset just after the last good record. */
  validEnd = 0;
  error: CorruptionError | null = null;
  /** Segment offset just after the current frame. */
  private frameEnd = 0;
  private readonly payload = new FramePayload();

  constructor(
    readonly segment: Buffer,
    readonly file: string,
  ) {}

  next(): boolean {
    const buf = this.segment;
    const n = buf.length;
    const pos = this.validEnd;
    if (pos >= n || this.error !== null) return false;
    if (n - pos < FRAME_HEADER) return this.fail(`torn record header (${n - pos} bytes)`);
    const word = buf.readUInt32LE(pos);
    const crc = buf.readUInt32LE(pos + 4);
    const len = word & FRAME_LENGTH_MASK;
    const start = pos + FRAME_HEADER;
    if (len === 0) return this.fail('zero-length record');
    if (start + len > n) return this.fail(`record of ${len} bytes runs past the end of the segment (${n - start} left)`);
    if (crc32c(buf, start, start + len) !== crc) return this.fail('record checksum mismatch');
    const bad = unreadableFrame(word);
    if (bad !== null) return this.fail(bad);
    try {
      this.payload.load(buf, start, start + len, word);
    } catch (e) {
      return this.fail(`undecodable record: ${(e as Error).message}`);
    }
    this.buf = this.payload.buf;
    this.start = this.payload.start;
    this.end = this.payload.end;
    this.frameEnd = start + len;
    return true;
  }

  /** Accepts the current record (it decoded); the good part now ends after it. */
  accept(): void {
    this.validEnd = this.frameEnd;
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
  /** Default snappy, as Prometheus's --storage.tsdb.wal-compression. */
  compression?: WALCompression;
  logger?: Logger;
  metrics: WALMetrics;
}

export class WAL {
  readonly dir: string;
  readonly segmentSize: number;
  readonly compression: WALCompression;
  private readonly logger: Logger;
  private readonly metrics: WALMetrics;
  private fd = -1;
  private seg = -1;
  private segBytes = 0;
  private readonly frames: FrameEncoder;
  /** Bytes of the segments before the current one (kept to avoid stat calls on every scrape of the size gauge). */
  private olderBytes = 0;
  /** Set by close(): records are refused from then on. */
  private closed = false;

  constructor(dir: string, opts: WALOptions) {
    this.dir = dir;
    this.segmentSize = opts.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    this.logger = opts.logger ?? nopLogger;
    this.metrics = opts.metrics;
    this.compression = opts.compression ?? 'snappy';
    this.frames = new FrameEncoder(this.compression);
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
    const body = this.frames.encode(payload);
    const hdr = this.frames.header;
    const len = body.length;
    if (this.segBytes > 0 && this.segBytes + FRAME_HEADER + len > this.segmentSize) this.nextSegment();
    const before = this.segBytes;
    try {
      let written = fs.writevSync(this.fd, [hdr, body]);
      // writev may write less than asked (signals, quotas); finish the frame.
      while (written < FRAME_HEADER + len) {
        if (written < FRAME_HEADER) written += fs.writeSync(this.fd, hdr, written, FRAME_HEADER - written);
        else written += fs.writeSync(this.fd, body, written - FRAME_HEADER, len - (written - FRAME_HEADER));
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
