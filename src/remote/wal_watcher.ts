// Tails a WAL directory (the TSDB's <data>/wal or the agent's) for one
// remote-write queue: the last checkpoint and the segments give series
// labels, the segments from a start position on give float samples, and
// native histograms and exemplars when the queue sends them. Other records
// (tombstones, types it does not know) are skipped.
//
// Positions are (segment, offset of a record's frame). The watcher reads
// series up to its start position and sends samples from it on; a new queue
// starts at walEnd(), after what the WAL holds. Segments deleted before they
// were read are reported to the sink.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FloatHistogram, Histogram } from '../model/histogram.js';
import type { Labels } from '../model/labels.js';
import type { Logger } from '../logging/types.js';
import { nopLogger } from '../logging/types.js';
import { crc32c } from '../tsdb/encoding/crc32c.js';
import { REC_EXEMPLARS, decodeRecord, isBatchRecord, type RecordHandler } from '../tsdb/record/record.js';
import { checkpointSegments, lastCheckpoint } from '../tsdb/wal/checkpoint.js';
import { FRAME_HEADER, FRAME_LENGTH_MASK, FramePayload, listSegments, segmentName, unreadableFrame } from '../tsdb/wal/wal.js';

export interface WalPosition {
  readonly segment: number;
  /** Byte offset of a record's frame in the segment. */
  readonly offset: number;
}

/**
 * The samples of one record: refs[i], ts[i], vs[i] for i < n and its native
 * histograms hRefs[i], hTs[i], hs[i] for i < hN; or the exemplars of one
 * exemplar record: exRefs[i], exTs[i], exVs[i], exLabels[i] for i < exN (an
 * exemplar record holds nothing else). Valid until the sink's call returns (or
 * its promise settles).
 */
export interface SampleRecord {
  n: number;
  /** A plain array: series refs are small integers, which V8 keeps unboxed there (Map lookups by them allocate nothing). */
  refs: number[];
  ts: Float64Array;
  vs: Float64Array;
  exN: number;
  exRefs: number[];
  exTs: number[];
  exVs: number[];
  exLabels: Labels[];
  hN: number;
  hRefs: number[];
  hTs: number[];
  hs: (Histogram | FloatHistogram)[];
}

export interface WatcherSink {
  /** A series entry, from a segment or the checkpoint numbered `segment`. */
  series(ref: number, labels: Labels, segment: number): void;
  /**
   * The samples of the record at `start`; `end` is where the next record begins.
   * A returned promise holds the watcher until the queue has room.
   */
  samples(rec: SampleRecord, start: WalPosition, end: WalPosition): void | Promise<void>;
  /** Everything before `pos` is read and handed over (called when the watcher waits for more). */
  caughtUp(pos: WalPosition): void;
  /** Checkpoint `index` was read again: series last seen in segments before it are gone from the WAL. */
  seriesReset(index: number): void;
  /** Segments [from, to) were deleted before they were read; their samples are lost. */
  lost(from: number, to: number): void;
}

/** The record types prometheus_wal_watcher_records_read_total counts (Prometheus's names for the histogram ones). */
export type WatcherRecordType = 'series' | 'samples' | 'exemplars' | 'histogram_samples' | 'float_histogram_samples' | 'other';

export interface WatcherMetrics {
  recordRead(type: WatcherRecordType): void;
  currentSegment(seg: number): void;
}

export interface WalWatcherOptions {
  dir: string;
  /** Where sending starts (walEnd(dir) for a new queue). */
  start: WalPosition;
  /** Hand over exemplar records too (send_exemplars). */
  exemplars?: boolean;
  /** Hand over native histograms too (send_native_histograms); otherwise they are skipped undecoded. */
  histograms?: boolean;
  sink: WatcherSink;
  /** How often the end of the WAL is checked for new records (ms). */
  pollIntervalMs?: number;
  logger?: Logger;
  metrics?: WatcherMetrics;
}

const DEFAULT_POLL_MS = 100;
/** Bytes read from a segment at once (more when a record is larger). */
const CHUNK = 1 << 20;
/** Series-only reading gives the event loop a turn after this many records. */
const YIELD_EVERY = 64;

type Frame = { start: number; end: number; next: number } | 'incomplete' | 'corrupt';

/** Reads frames of one segment file through a reused chunk buffer. */
class SegmentFile {
  private buf = Buffer.alloc(0);
  private bufStart = 0;
  private bufLen = 0;

  constructor(
    readonly seg: number,
    private readonly fd: number,
    /** Decompresses records (shared by the watcher's files: one record is read at a time). */
    private readonly payload: FramePayload,
  ) {}

  static open(dir: string, seg: number, payload: FramePayload): SegmentFile | null {
    try {
      return new SegmentFile(seg, fs.openSync(path.join(dir, segmentName(seg)), 'r'), payload);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  /** Holds the payload of the last frame frameAt() returned. */
  get buffer(): Buffer {
    return this.payload.buf;
  }

  /** Makes file bytes [off, off + need) available in the buffer; false when the file is shorter. */
  private fill(off: number, need: number): boolean {
    if (off >= this.bufStart && off + need <= this.bufStart + this.bufLen) return true;
    const size = Math.max(need, CHUNK);
    if (this.buf.length < size) this.buf = Buffer.allocUnsafe(size);
    this.bufStart = off;
    this.bufLen = fs.readSync(this.fd, this.buf, 0, size, off);
    return this.bufLen >= need;
  }

  /** The frame at file offset off; payload offsets are into `buffer` (decompressed when the record is). */
  frameAt(off: number): Frame {
    if (!this.fill(off, FRAME_HEADER)) return 'incomplete';
    const h = off - this.bufStart;
    const word = this.buf.readUInt32LE(h);
    const crc = this.buf.readUInt32LE(h + 4);
    const len = word & FRAME_LENGTH_MASK;
    if (len === 0) return 'corrupt';
    if (!this.fill(off, FRAME_HEADER + len)) return 'incomplete';
    const start = off - this.bufStart + FRAME_HEADER;
    if (crc32c(this.buf, start, start + len) !== crc || unreadableFrame(word) !== null) return 'corrupt';
    try {
      this.payload.load(this.buf, start, start + len, word);
    } catch {
      return 'corrupt';
    }
    return { start: this.payload.start, end: this.payload.end, next: off + FRAME_HEADER + len };
  }
}

/** Collects a batch record's entries: series straight to the sink, samples into typed arrays. */
class Collector implements RecordHandler {
  readonly rec: SampleRecord = {
    n: 0,
    refs: [],
    ts: new Float64Array(1024),
    vs: new Float64Array(1024),
    exN: 0,
    exRefs: [],
    exTs: [],
    exVs: [],
    exLabels: [],
    hN: 0,
    hRefs: [],
    hTs: [],
    hs: [],
  };
  seriesCount = 0;
  /** Integer histograms among the record's hN. */
  intHistograms = 0;
  /** Set when histograms are handed over: decodeRecord skips them, undecoded, for a handler without these. */
  readonly histogram?: (ref: number, t: number, h: Histogram) => void;
  readonly floatHistogram?: (ref: number, t: number, fh: FloatHistogram) => void;
  segment = 0;
  private readonly f64 = new Float64Array(1);
  private readonly u32 = new Uint32Array(this.f64.buffer);

  constructor(
    private readonly sink: WatcherSink,
    histograms: boolean,
  ) {
    if (histograms) {
      this.histogram = (ref, t, h) => {
        this.intHistograms++;
        this.addHistogram(ref, t, h);
      };
      this.floatHistogram = (ref, t, fh) => this.addHistogram(ref, t, fh);
    }
  }

  private addHistogram(ref: number, t: number, h: Histogram | FloatHistogram): void {
    const r = this.rec;
    r.hRefs[r.hN] = ref;
    r.hTs[r.hN] = t;
    r.hs[r.hN] = h;
    r.hN++;
  }

  series(ref: number, labels: Labels): void {
    this.seriesCount++;
    this.sink.series(ref, labels, this.segment);
  }

  sample(ref: number, t: number, hi: number, lo: number): void {
    const r = this.rec;
    if (r.n === r.ts.length) {
      const grow = (a: Float64Array): Float64Array => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      r.ts = grow(r.ts);
      r.vs = grow(r.vs);
    }
    // Little-endian host (x86, arm64): word 0 is the low half.
    this.u32[0] = lo;
    this.u32[1] = hi;
    r.refs[r.n] = ref;
    r.ts[r.n] = t;
    r.vs[r.n] = this.f64[0]!;
    r.n++;
  }

  tombstone(): void {}

  exemplar(ref: number, t: number, v: number, labels: Labels): void {
    const r = this.rec;
    r.exRefs[r.exN] = ref;
    r.exTs[r.exN] = t;
    r.exVs[r.exN] = v;
    r.exLabels[r.exN] = labels;
    r.exN++;
  }

  /** Forgets the current record's entries. */
  clear(): void {
    this.rec.n = 0;
    this.rec.exN = 0;
    // Histograms are objects: let them go with the record.
    this.rec.hs.length = this.rec.hN = 0;
    this.intHistograms = 0;
  }

  /** Drops a record's arrays back to their initial size when one burst grew them. */
  shrink(): void {
    if (this.rec.exLabels.length > 1024) {
      this.rec.exRefs = [];
      this.rec.exTs = [];
      this.rec.exVs = [];
      this.rec.exLabels = [];
    }
    if (this.rec.hRefs.length > 1024) {
      this.rec.hRefs = [];
      this.rec.hTs = [];
    }
    if (this.rec.ts.length > 1 << 16) {
      this.rec.refs = [];
      this.rec.ts = new Float64Array(1024);
      this.rec.vs = new Float64Array(1024);
    }
  }
}

export class WalWatcher {
  private readonly dir: string;
  private readonly sink: WatcherSink;
  private readonly pollMs: number;
  private readonly logger: Logger;
  private readonly metrics: WatcherMetrics | undefined;
  private readonly collector: Collector;
  private readonly payload = new FramePayload();
  private stopped = false;
  private wake: (() => void) | null = null;
  private lastCheckpointIndex = -1;
  private done: Promise<void> | null = null;

  constructor(private readonly opts: WalWatcherOptions) {
    this.dir = opts.dir;
    this.sink = opts.sink;
    this.pollMs = opts.pollIntervalMs ?? DEFAULT_POLL_MS;
    this.logger = opts.logger ?? nopLogger;
    this.metrics = opts.metrics;
    this.collector = new Collector(this.sink, opts.histograms === true);
  }

  start(): void {
    this.done ??= this.run().catch((e: unknown) => {
      this.logger.error('WAL watcher stopped', { err: String(e) });
    });
  }

  /** Checks the WAL now instead of at the next poll. */
  notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Stops reading; resolves once the loop has left (a pending sink promise must settle first). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.notify();
    await this.done;
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, this.pollMs);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    const cp = lastCheckpoint(this.dir);
    const cpIndex = cp?.index ?? -1;
    const segs = listSegments(this.dir).filter((s) => s > cpIndex);
    let pos = this.opts.start;
    const first = segs[0] ?? cpIndex + 1;
    if (pos.segment < first) {
      this.logger.warn('WAL segments to send were deleted before they were read', { from: pos.segment, to: first });
      this.sink.lost(pos.segment, first);
      pos = { segment: first, offset: 0 };
    }
    // Series come from the checkpoint and every segment before the start position.
    if (cp !== null) await this.readCheckpoint(cp.index, cp.dir);
    for (const s of segs) {
      if (s > pos.segment || this.stopped) break;
      const f = SegmentFile.open(this.dir, s, this.payload);
      if (f === null) continue;
      try {
        await this.readSeriesOnly(f, s === pos.segment ? pos.offset : Infinity);
      } finally {
        f.close();
      }
    }
    await this.tail(pos);
  }

  private async readCheckpoint(index: number, dir: string): Promise<void> {
    for (const file of checkpointSegments(dir)) {
      let fd: number;
      try {
        fd = fs.openSync(file, 'r');
      } catch {
        // Replaced by a newer checkpoint meanwhile; that one is read when the watcher gets there.
        return;
      }
      const f = new SegmentFile(index, fd, this.payload);
      try {
        await this.readSeriesOnly(f, Infinity);
      } finally {
        f.close();
      }
    }
    this.lastCheckpointIndex = index;
  }

  /** Reads series entries of the records before file offset `upTo`. */
  private async readSeriesOnly(f: SegmentFile, upTo: number): Promise<void> {
    let off = 0;
    let n = 0;
    while (off < upTo && !this.stopped) {
      const fr = f.frameAt(off);
      if (typeof fr === 'string') return;
      this.decode(f, fr.start, fr.end);
      this.collector.clear();
      off = fr.next;
      if (++n % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
    }
  }

  /** Decodes one record into the collector; false for record types it skips. */
  private decode(f: SegmentFile, start: number, end: number): boolean {
    const buf = f.buffer;
    const type = buf[start];
    // A batch with histograms gives its series and float samples, and its histograms when the queue sends them.
    if (!isBatchRecord(type) && (type !== REC_EXEMPLARS || this.opts.exemplars !== true)) {
      this.metrics?.recordRead('other');
      return false;
    }
    const c = this.collector;
    c.segment = f.seg;
    c.seriesCount = 0;
    c.clear();
    try {
      decodeRecord(buf, start, end, c);
    } catch (e) {
      // The record's checksum matched, so this is a format this reader does not know: skip it.
      this.logger.warn('Skipping an undecodable WAL record', { segment: f.seg, err: String(e) });
      c.clear();
      this.metrics?.recordRead('other');
      return false;
    }
    if (c.seriesCount > 0) this.metrics?.recordRead('series');
    if (c.rec.n > 0) this.metrics?.recordRead('samples');
    if (c.rec.exN > 0) this.metrics?.recordRead('exemplars');
    if (c.intHistograms > 0) this.metrics?.recordRead('histogram_samples');
    if (c.rec.hN > c.intHistograms) this.metrics?.recordRead('float_histogram_samples');
    return true;
  }

  private async tail(from: WalPosition): Promise<void> {
    let seg = from.segment;
    let off = from.offset;
    let f: SegmentFile | null = null;
    try {
      while (!this.stopped) {
        if (f === null || f.seg !== seg) {
          f?.close();
          f = SegmentFile.open(this.dir, seg, this.payload);
          this.metrics?.currentSegment(seg);
          if (f === null) {
            const next = listSegments(this.dir).find((s) => s > seg);
            if (next === undefined) {
              // Not written yet (a new WAL, or the writer has not rolled over).
              this.sink.caughtUp({ segment: seg, offset: 0 });
              await this.sleep();
              continue;
            }
            this.logger.warn('WAL segments to send were deleted before they were read', { from: seg, to: next });
            this.sink.lost(seg, next);
            seg = next;
            off = 0;
            continue;
          }
        }
        const fr = f.frameAt(off);
        if (typeof fr !== 'string') {
          const ok = this.decode(f, fr.start, fr.end);
          const rec = this.collector.rec;
          if (ok && (rec.n > 0 || rec.exN > 0 || rec.hN > 0)) {
            const p = this.sink.samples(rec, { segment: seg, offset: off }, { segment: seg, offset: fr.next });
            if (p !== undefined) await p;
          }
          this.collector.shrink();
          this.payload.release();
          off = fr.next;
          continue;
        }
        // At the end of what is written: move on once a later segment exists, else wait.
        const next = listSegments(this.dir).find((s) => s > seg);
        if (next === undefined) {
          this.sink.caughtUp({ segment: seg, offset: off });
          await this.sleep();
          continue;
        }
        // The writer finishes a segment before it opens the next: check once more for records written meanwhile.
        const again = f.frameAt(off);
        if (typeof again !== 'string') continue;
        if (segSize(this.dir, seg) > off) this.logger.warn('WAL segment ends in a damaged record; going on with the next one', { segment: seg, offset: off });
        if (next > seg + 1) {
          this.logger.warn('WAL segments to send were deleted before they were read', { from: seg + 1, to: next });
          this.sink.lost(seg + 1, next);
        }
        seg = next;
        off = 0;
        await this.maybeResetSeries(seg);
      }
    } finally {
      f?.close();
    }
  }

  /** After a new checkpoint, series the head dropped are forgotten (their labels come back only from the checkpoint). */
  private async maybeResetSeries(seg: number): Promise<void> {
    const cp = lastCheckpoint(this.dir);
    if (cp === null || cp.index <= this.lastCheckpointIndex || cp.index >= seg) return;
    await this.readCheckpoint(cp.index, cp.dir);
    this.sink.seriesReset(cp.index);
  }
}

/** The position after the last record written so far. */
export function walEnd(dir: string): WalPosition {
  const last = listSegments(dir).at(-1);
  if (last !== undefined) return { segment: last, offset: segSize(dir, last) };
  const cp = lastCheckpoint(dir);
  return { segment: cp !== null ? cp.index + 1 : 0, offset: 0 };
}

function segSize(dir: string, seg: number): number {
  try {
    return fs.statSync(path.join(dir, segmentName(seg))).size;
  } catch {
    return 0;
  }
}
