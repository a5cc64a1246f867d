// WAL checkpoints. After the head drops data older than `mint`, the oldest
// WAL segments are folded into checkpoint.NNNNNNNN (NNNNNNNN = the last
// segment folded in): series records of series still in the head, samples
// and exemplars at or after mint of those series, and tombstones that still matter. Replay then reads the
// checkpoint and only the segments after it, so its cost stays bounded.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FloatHistogram, Histogram } from '../../model/histogram.js';
import type { Labels } from '../../model/labels.js';
import { RecordEncoder, decodeRecord, type RecordHandler } from '../record/record.js';
import { fsyncDir } from '../fileutil/fileutil.js';
import { FRAME_HEADER, FrameEncoder, SegmentReader, listSegments, segmentName, type WALCompression } from './wal.js';
import { Pacer } from '../fileutil/pacer.js';

const CHECKPOINT_PREFIX = 'checkpoint.';
const CHECKPOINT_RE = /^checkpoint\.(\d{8})$/;
/** Output records are flushed at about this size, keeping decode buffers small on replay. */
const FLUSH_BYTES = 1 << 20;

export interface CheckpointRef {
  index: number;
  dir: string;
}

function checkpointName(i: number): string {
  return CHECKPOINT_PREFIX + segmentName(i);
}

/** Completed checkpoints in a WAL directory, oldest first. */
function listCheckpoints(walDir: string): CheckpointRef[] {
  let names: string[];
  try {
    names = fs.readdirSync(walDir);
  } catch {
    return [];
  }
  const out: CheckpointRef[] = [];
  for (const n of names) {
    const m = CHECKPOINT_RE.exec(n);
    if (m) out.push({ index: Number(m[1]), dir: path.join(walDir, n) });
  }
  return out.sort((a, b) => a.index - b.index);
}

export function lastCheckpoint(walDir: string): CheckpointRef | null {
  return listCheckpoints(walDir).at(-1) ?? null;
}

/** Deletes checkpoints older than `before`, and leftovers of interrupted checkpoint writes. */
export function deleteCheckpoints(walDir: string, before: number): number {
  let n = 0;
  for (const c of listCheckpoints(walDir)) {
    if (c.index < before) {
      fs.rmSync(c.dir, { recursive: true, force: true });
      n++;
    }
  }
  for (const name of safeReaddir(walDir)) {
    if (name.startsWith(CHECKPOINT_PREFIX) && name.endsWith('.tmp')) fs.rmSync(path.join(walDir, name), { recursive: true, force: true });
  }
  return n;
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

export interface CheckpointStats {
  index: number;
  seriesKept: number;
  seriesDropped: number;
  samplesKept: number;
  samplesDropped: number;
  tombstonesKept: number;
  tombstonesDropped: number;
  exemplarsKept: number;
  exemplarsDropped: number;
}

/** Accumulates kept entries and writes them as framed records into checkpoint segment files. */
class CheckpointWriter implements RecordHandler {
  private seriesList: { ref: number; labels: Labels }[] = [];
  private refs: number[] = [];
  private ts: number[] = [];
  private his: number[] = [];
  private los: number[] = [];
  private tRefs: number[] = [];
  private tMin: number[] = [];
  private tMax: number[] = [];
  private exemplars: { ref: number; t: number; v: number; labels: Labels }[] = [];
  private hists: { ref: number; t: number; seq: number; h: Histogram | null; fh: FloatHistogram | null }[] = [];
  private pendingBytes = 0;
  private readonly enc = new RecordEncoder(FLUSH_BYTES + 4096, FLUSH_BYTES + 4096);
  private fd = -1;
  private seg = 0;
  private segBytes = 0;
  private readonly frames: FrameEncoder;
  readonly stats: CheckpointStats;

  constructor(
    private readonly dir: string,
    private readonly keep: (ref: number) => boolean,
    private readonly mint: number,
    private readonly segmentSize: number,
    index: number,
    compression: WALCompression,
  ) {
    this.frames = new FrameEncoder(compression);
    this.stats = { index, seriesKept: 0, seriesDropped: 0, samplesKept: 0, samplesDropped: 0, tombstonesKept: 0, tombstonesDropped: 0, exemplarsKept: 0, exemplarsDropped: 0 };
    this.fd = fs.openSync(path.join(dir, segmentName(0)), 'w');
  }

  series(ref: number, labels: Labels): void {
    if (!this.keep(ref)) {
      this.stats.seriesDropped++;
      return;
    }
    this.stats.seriesKept++;
    this.seriesList.push({ ref, labels });
    this.pendingBytes += 16 + labels.key().length;
  }

  sample(ref: number, t: number, hi: number, lo: number): void {
    if (t < this.mint || !this.keep(ref)) {
      this.stats.samplesDropped++;
      return;
    }
    this.stats.samplesKept++;
    this.refs.push(ref);
    this.ts.push(t);
    this.his.push(hi);
    this.los.push(lo);
    this.pendingBytes += 16;
  }

  histogram(ref: number, t: number, h: Histogram): void {
    this.keepHistogram(ref, t, h, null);
  }

  floatHistogram(ref: number, t: number, fh: FloatHistogram): void {
    this.keepHistogram(ref, t, null, fh);
  }

  private keepHistogram(ref: number, t: number, h: Histogram | null, fh: FloatHistogram | null): void {
    if (t < this.mint || !this.keep(ref)) {
      this.stats.samplesDropped++;
      return;
    }
    this.stats.samplesKept++;
    this.hists.push({ ref, t, seq: this.refs.length, h, fh });
    const x = (h ?? fh)!;
    this.pendingBytes += 64 + 12 * (x.positiveBuckets.length + x.negativeBuckets.length + x.customValues.length);
  }

  tombstone(ref: number, mint: number, maxt: number): void {
    if (maxt < this.mint || !this.keep(ref)) {
      this.stats.tombstonesDropped++;
      return;
    }
    this.stats.tombstonesKept++;
    this.tRefs.push(ref);
    this.tMin.push(mint);
    this.tMax.push(maxt);
    this.pendingBytes += 16;
  }

  exemplar(ref: number, t: number, v: number, labels: Labels): void {
    if (t < this.mint || !this.keep(ref)) {
      this.stats.exemplarsDropped++;
      return;
    }
    this.stats.exemplarsKept++;
    this.exemplars.push({ ref, t, v, labels });
    this.pendingBytes += 24 + labels.key().length;
  }

  maybeFlush(): void {
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  flush(): void {
    const enc = this.enc;
    if (this.seriesList.length > 0 || this.refs.length > 0 || this.hists.length > 0) {
      enc.startBatch(this.seriesList.length, this.hists.length > 0);
      for (const s of this.seriesList) enc.series(s.ref, s.labels);
      if (this.hists.length > 0) {
        enc.histograms(this.hists.length);
        for (const x of this.hists) enc.histogram(x.ref, x.t, x.h, x.fh, x.seq);
      }
      const n = this.refs.length;
      enc.samples(n);
      // i < n: the four sample lists are pushed together, so each index is in range.
      for (let i = 0; i < n; i++) enc.sample(this.refs[i]!, this.ts[i]!, this.his[i]!, this.los[i]!);
      this.write(enc.bytes());
    }
    if (this.tRefs.length > 0) {
      const n = this.tRefs.length;
      enc.startTombstones(n);
      // i < n: the three tombstone lists are pushed together.
      for (let i = 0; i < n; i++) enc.tombstone(this.tRefs[i]!, this.tMin[i]!, this.tMax[i]!);
      this.write(enc.bytes());
    }
    // After the batch: its series come first, as in the segments.
    if (this.exemplars.length > 0) {
      enc.startExemplars(this.exemplars.length);
      for (const x of this.exemplars) enc.exemplar(x.ref, x.t, x.v, x.labels);
      this.write(enc.bytes());
    }
    this.exemplars = [];
    this.hists = [];
    this.seriesList = [];
    this.refs = [];
    this.ts = [];
    this.his = [];
    this.los = [];
    this.tRefs = [];
    this.tMin = [];
    this.tMax = [];
    this.pendingBytes = 0;
  }

  private write(payload: Buffer): void {
    const body = this.frames.encode(payload);
    if (this.segBytes > 0 && this.segBytes + FRAME_HEADER + body.length > this.segmentSize) {
      fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
      this.seg++;
      this.fd = fs.openSync(path.join(this.dir, segmentName(this.seg)), 'w');
      this.segBytes = 0;
    }
    writeFully(this.fd, this.frames.header, body);
    this.segBytes += FRAME_HEADER + body.length;
  }

  close(): void {
    this.flush();
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  abort(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** Writes header and body; writev may write less than asked. */
function writeFully(fd: number, hdr: Buffer, body: Uint8Array): void {
  const total = hdr.length + body.length;
  let written = fs.writevSync(fd, [hdr, body]);
  while (written < total) {
    if (written < hdr.length) written += fs.writeSync(fd, hdr, written, hdr.length - written);
    else written += fs.writeSync(fd, body, written - hdr.length, total - written);
  }
}

/** The files of a checkpoint directory, in order. */
export function checkpointSegments(dir: string): string[] {
  return listSegments(dir).map((i) => path.join(dir, segmentName(i)));
}

/**
 * Folds the previous checkpoint and segments [from, to] into checkpoint.<to>.
 * Throws on unreadable input (the caller then keeps the WAL as it is).
 */
export async function createCheckpoint(
  walDir: string,
  from: number,
  to: number,
  keep: (ref: number) => boolean,
  mint: number,
  segmentSize: number,
  compression: WALCompression = 'snappy',
): Promise<CheckpointStats> {
  const inputs: string[] = [];
  const prev = lastCheckpoint(walDir);
  // The previous checkpoint holds what older, already deleted segments contributed.
  if (prev !== null && prev.index < to) inputs.push(...checkpointSegments(prev.dir));
  // Segments the previous checkpoint already holds (left when a crash came between checkpoint and truncation) are skipped.
  const first = prev !== null && prev.index < to ? Math.max(from, prev.index + 1) : from;
  for (const s of listSegments(walDir)) if (s >= first && s <= to) inputs.push(path.join(walDir, segmentName(s)));

  const final = path.join(walDir, checkpointName(to));
  const tmp = final + '.tmp';
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const w = new CheckpointWriter(tmp, keep, mint, segmentSize, to, compression);
  const pacer = new Pacer();
  try {
    for (const file of inputs) {
      const r = new SegmentReader(fs.readFileSync(file), file);
      while (r.next()) {
        decodeRecord(r.buf, r.start, r.end, w, file);
        r.accept();
        w.maybeFlush();
        await pacer.maybeYield();
      }
      if (r.error !== null) throw r.error;
    }
    w.close();
  } catch (e) {
    w.abort();
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  fsyncDir(tmp);
  fs.rmSync(final, { recursive: true, force: true });
  fs.renameSync(tmp, final);
  fsyncDir(walDir);
  return w.stats;
}
