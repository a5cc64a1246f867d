// Writing blocks (from the head or from other blocks) and deciding which
// blocks to compact, following Prometheus's leveled compactor: overlapping
// blocks first, then aligned groups of ever larger ranges, then blocks with
// many tombstones.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Labels } from '../model/labels.js';
import type { Block, BlockDesc, BlockMetaFile, BlockStats } from './block.js';
import { CHUNKS_DIR, INDEX_FILE, writeMeta } from './block.js';
import { ChunkWriter } from './chunks/chunks.js';
import { FloatHistogram, Histogram } from '../model/histogram.js';
import {
  decodeFloatHistogramChunk,
  decodeHistogramChunk,
  ENC_FLOAT_HISTOGRAM,
  ENC_HISTOGRAM,
  FloatHistogramChunk,
  HistogramChunk,
} from './chunkenc/histogram_chunk.js';
import { ENC_XOR, XORChunk, XorIterator } from './chunkenc/xor.js';
import type { Head } from './head/head.js';
import { IndexWriter, type ChunkMeta } from './index/index.js';
import { isDeleted } from './chunks/chunk_list.js';
import { writeTombstones } from './tombstones/tombstones.js';
import { newULID } from './ulid.js';
import { Pacer } from './fileutil/pacer.js';
import { fsyncDir } from './fileutil/fileutil.js';

/** Samples per chunk when compaction has to re-encode (Prometheus's target). */
const SAMPLES_PER_CHUNK = 120;
export const TMP_CREATION_SUFFIX = '.tmp-for-creation';
export const TMP_DELETION_SUFFIX = '.tmp-for-deletion';


/** One chunk of a series read for compaction. */
export interface SourceChunk {
  mint: number;
  maxt: number;
  /** ENC_XOR, ENC_HISTOGRAM or ENC_FLOAT_HISTOGRAM. */
  enc: number;
  /** Chunk bytes (count header included). */
  bytes: Uint8Array;
}

export interface SourceSeries {
  labels: Labels;
  chunks: SourceChunk[];
  /** Deleted intervals of this series in its source. */
  intervals: Float64Array | null;
}

/** Series of one source, in label order. */
export interface CompactionSource {
  next(): SourceSeries | null;
}

/** The head's series with data in [mint, maxt] (inclusive). */
export async function headSource(head: Head, mint: number, maxt: number): Promise<CompactionSource> {
  const list = await head.sortedSeriesIn(mint, maxt);
  let i = 0;
  return {
    next() {
      for (;;) {
        const item = list[i++];
        if (item === undefined) return null;
        const { slot, labels } = item;
        const chunks = head.chunksForBlock(slot, mint, maxt);
        if (chunks.length === 0) continue;
        return { labels, chunks, intervals: head.tombstones.get(slot) ?? null };
      }
    },
  };
}

export function blockSource(b: Block): CompactionSource {
  let id = 0;
  return {
    next() {
      if (id >= b.index.numSeries) return null;
      const s = b.readSeries(id);
      const chunks: SourceChunk[] = s.metas.map((m, k) => {
        const loc = s.locs[k];
        if (loc === undefined) throw new Error(`BUG: series ${id} of block ${b.ulid} has ${s.metas.length} chunk metas but ${s.locs.length} locations`);
        return { mint: m.mint, maxt: m.maxt, enc: loc.enc, bytes: s.buf.subarray(loc.start, loc.end) };
      });
      const intervals = b.tombstones.get(id) ?? null;
      id++;
      return { labels: s.labels, chunks, intervals };
    },
  };
}

function numSamplesOf(bytes: Uint8Array): number {
  return ((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0);
}

function intersects(iv: Float64Array | null, mint: number, maxt: number): boolean {
  if (iv === null) return false;
  // i + 1 < iv.length: intervals are stored as pairs.
  for (let i = 0; i < iv.length; i += 2) if (iv[i]! <= maxt && iv[i + 1]! >= mint) return true;
  return false;
}

export interface WriteBlockOptions {
  /** Directory holding the blocks. */
  dir: string;
  sources: CompactionSource[];
  /** Block range [mint, maxt): samples outside are dropped. */
  mint: number;
  maxt: number;
  level: number;
  sourceULIDs: string[];
  parents?: BlockDesc[];
}

/**
 * Writes a block from merged sources. Returns its ULID, or null when no
 * sample survived (no empty blocks are written).
 */
export async function writeBlock(o: WriteBlockOptions): Promise<{ ulid: string; meta: BlockMetaFile } | null> {
  const ulid = newULID();
  const tmp = path.join(o.dir, ulid + TMP_CREATION_SUFFIX);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const cw = new ChunkWriter(path.join(tmp, CHUNKS_DIR));
  const iw = new IndexWriter(path.join(tmp, INDEX_FILE));
  const stats: BlockStats = { numSamples: 0, numSeries: 0, numChunks: 0, numTombstones: 0 };
  let realMin = Infinity;
  let realMax = -Infinity;
  try {
    const heads: (SourceSeries | null)[] = o.sources.map((s) => s.next());
    const pacer = new Pacer();
    for (;;) {
      let min: Labels | null = null;
      for (const h of heads) if (h !== null && (min === null || Labels.compare(h.labels, min) < 0)) min = h.labels;
      if (min === null) break;
      const group: SourceSeries[] = [];
      // heads[i] is the current series of sources[i]: both lists have the same length.
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i]!;
        if (h !== null && h.labels.equals(min)) {
          group.push(h);
          heads[i] = o.sources[i]!.next();
        }
      }
      const metas = writeSeriesChunks(cw, group, o.mint, o.maxt - 1, stats);
      const first = metas[0];
      const last = metas.at(-1);
      if (first !== undefined && last !== undefined) {
        iw.addSeries(min, metas);
        stats.numSeries++;
        stats.numChunks += metas.length;
        if (first.mint < realMin) realMin = first.mint;
        if (last.maxt > realMax) realMax = last.maxt;
      }
      await pacer.maybeYield();
    }
    cw.close();
    if (stats.numSeries === 0) {
      fs.rmSync(tmp, { recursive: true, force: true });
      return null;
    }
    await iw.finish(pacer);
    writeTombstones(tmp, new Map());
    const meta: BlockMetaFile = {
      ulid,
      minTime: o.mint,
      maxTime: o.maxt,
      stats,
      compaction: { level: o.level, sources: o.sourceULIDs.length > 0 ? [...o.sourceULIDs].sort() : [ulid] },
      version: 1,
    };
    if (o.parents && o.parents.length > 0) meta.compaction.parents = o.parents;
    writeMeta(tmp, meta);
    fsyncDir(path.join(tmp, CHUNKS_DIR));
    fsyncDir(tmp);
    const final = path.join(o.dir, ulid);
    fs.renameSync(tmp, final);
    fsyncDir(o.dir);
    return { ulid, meta };
  } catch (e) {
    cw.close();
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Writes one series' chunks. Chunks are copied as they are unless something
 * forces re-encoding: overlap between chunks (several sources), deleted
 * intervals, or samples outside [mint, maxt].
 */
function writeSeriesChunks(cw: ChunkWriter, group: SourceSeries[], mint: number, maxt: number, stats: BlockStats): ChunkMeta[] {
  const all: { c: SourceChunk; iv: Float64Array | null }[] = [];
  for (const s of group) for (const c of s.chunks) if (c.maxt >= mint && c.mint <= maxt) all.push({ c, iv: s.intervals });
  all.sort((a, b) => a.c.mint - b.c.mint);
  let reencode = false;
  // 0 <= i - 1 < i < all.length: both reads are in range.
  for (let i = 0; i < all.length && !reencode; i++) {
    const { c, iv } = all[i]!;
    if (c.mint < mint || c.maxt > maxt || intersects(iv, c.mint, c.maxt)) reencode = true;
    if (i > 0 && c.mint <= all[i - 1]!.c.maxt) reencode = true;
  }
  const out: ChunkMeta[] = [];
  if (!reencode) {
    for (const { c } of all) {
      out.push(cw.write(c.mint, c.maxt, c.bytes, c.enc));
      // Both chunk kinds start with the sample count (uint16 big-endian).
      stats.numSamples += numSamplesOf(c.bytes);
    }
    return out;
  }
  // Decode everything that survives, merge by time (first source wins on ties), re-encode.
  const ts: number[] = [];
  const his: number[] = [];
  const los: number[] = [];
  /** The histogram of each sample, null for floats. */
  const hs: (Histogram | FloatHistogram | null)[] = [];
  const it = new XorIterator();
  for (const { c, iv } of all) {
    if (c.enc !== ENC_XOR) {
      const samples = c.enc === ENC_HISTOGRAM ? decodeHistogramChunk(c.bytes) : decodeFloatHistogramChunk(c.bytes);
      for (const x of samples) {
        if (x.t < mint || x.t > maxt || isDeleted(iv, x.t)) continue;
        ts.push(x.t);
        his.push(0);
        los.push(0);
        hs.push(x.h);
      }
      continue;
    }
    it.reset(c.bytes, 0, c.bytes.length);
    while (it.next()) {
      const t = it.ts;
      if (t < mint || t > maxt || isDeleted(iv, t)) continue;
      ts.push(t);
      his.push(it.valueHi());
      los.push(it.valueLo());
      hs.push(null);
    }
    if (it.error !== null) throw it.error;
  }
  // ts, his, los and hs are pushed together and order holds their indexes, so every read below is in range.
  const order = Array.from(ts.keys()).sort((a, b) => ts[a]! - ts[b]! || a - b);
  const enc = new SeriesReencoder(cw, out, stats);
  let lastT = -Infinity;
  for (const k of order) {
    const t = ts[k]!;
    if (t === lastT) continue;
    const h = hs[k]!;
    if (h === null) enc.float(t, his[k]!, los[k]!);
    else enc.histogram(t, h);
    lastT = t;
  }
  enc.flush();
  return out;
}

/**
 * Re-encodes one series' merged samples into chunks: a new chunk at a type
 * change, at SAMPLES_PER_CHUNK samples, and where a histogram chunk asks for
 * one (counter reset, layout it cannot take); a histogram chunk recodes
 * itself for new buckets.
 */
class SeriesReencoder {
  private xor: XORChunk | null = null;
  private hc: HistogramChunk | null = null;
  private fhc: FloatHistogramChunk | null = null;
  /** The last histogram chunk written: a fresh chunk's counter reset header follows from it. */
  private prevH: HistogramChunk | FloatHistogramChunk | null = null;
  private cmin = 0;
  private lastT = 0;

  constructor(
    private readonly cw: ChunkWriter,
    private readonly out: ChunkMeta[],
    private readonly stats: BlockStats,
  ) {}

  float(t: number, hi: number, lo: number): void {
    if (this.xor === null) this.start(t);
    this.xor ??= new XORChunk();
    this.xor.append(t, hi, lo);
    this.lastT = t;
    if (this.xor.numSamples() >= SAMPLES_PER_CHUNK) this.flush();
  }

  histogram(t: number, h: Histogram | FloatHistogram): void {
    let r;
    if (h instanceof Histogram) {
      if (this.hc === null) this.start(t);
      const prev = this.prevH instanceof HistogramChunk ? this.prevH : null;
      r = (this.hc ?? new HistogramChunk()).append(t, h, this.hc === null ? prev : null);
    } else {
      if (this.fhc === null) this.start(t);
      const prev = this.prevH instanceof FloatHistogramChunk ? this.prevH : null;
      r = (this.fhc ?? new FloatHistogramChunk()).append(t, h, this.fhc === null ? prev : null);
    }
    if (r.newChunk) {
      // The full chunk ends at the previous sample; the new one holds this one.
      this.flush();
      this.cmin = t;
    }
    if (r.chunk instanceof HistogramChunk) this.hc = r.chunk;
    else this.fhc = r.chunk;
    this.lastT = t;
    if (r.chunk.numSamples() >= SAMPLES_PER_CHUNK) this.flush();
  }

  /** Ends the open chunk of another type and notes where the new one starts. */
  private start(t: number): void {
    this.flush();
    this.cmin = t;
  }

  flush(): void {
    if (this.xor !== null) {
      this.out.push(this.cw.write(this.cmin, this.lastT, this.xor.bytes()));
      this.stats.numSamples += this.xor.numSamples();
      this.xor = null;
      this.prevH = null;
    }
    const h = this.hc ?? this.fhc;
    if (h !== null) {
      this.out.push(this.cw.write(this.cmin, this.lastT, h.bytes(), h.encoding));
      this.stats.numSamples += h.numSamples();
      this.prevH = h;
      this.hc = null;
      this.fhc = null;
    }
  }
}

// =====================================================================
// planning
// =====================================================================

/** ranges[i] = min * factor^i, as Prometheus's ExponentialBlockRanges. */
export function exponentialRanges(min: number, steps: number, factor: number): number[] {
  const out: number[] = [];
  let r = min;
  for (let i = 0; i < steps; i++) {
    out.push(r);
    r *= factor;
  }
  return out;
}

/** Groups blocks (sorted by minTime) by aligned windows of width tr; blocks wider than a window are skipped. */
export function splitByRange<T extends { minTime: number; maxTime: number }>(ds: T[], tr: number): T[][] {
  const out: T[][] = [];
  let i = 0;
  // i < ds.length at every read below.
  while (i < ds.length) {
    const m = ds[i]!;
    const t0 = m.minTime >= 0 ? tr * Math.floor(m.minTime / tr) : tr * Math.trunc((m.minTime - tr + 1) / tr);
    if (m.maxTime > t0 + tr) {
      i++;
      continue;
    }
    const group: T[] = [];
    for (; i < ds.length; i++) {
      if (ds[i]!.maxTime > t0 + tr) break;
      group.push(ds[i]!);
    }
    if (group.length > 0) out.push(group);
  }
  return out;
}

/**
 * Chooses the blocks to compact next (ULIDs), or [] when nothing is due.
 * `ranges` are the block ranges (first = minimum block duration).
 */
export function planCompaction(metas: readonly BlockMetaFile[], ranges: readonly number[]): string[] {
  const dms = [...metas].sort((a, b) => a.minTime - b.minTime);
  const oldest = dms[0];
  if (oldest === undefined) return [];

  // Overlapping blocks (backfill, out-of-order) are merged first.
  const overlapping: string[] = [];
  let globalMax = oldest.maxTime;
  // 1 <= i < dms.length: dms[i] and dms[i - 1] are in range.
  for (let i = 1; i < dms.length; i++) {
    const d = dms[i]!;
    if (d.minTime < globalMax) {
      if (overlapping.length === 0) overlapping.push(dms[i - 1]!.ulid);
      overlapping.push(d.ulid);
    } else if (overlapping.length > 0) {
      break;
    }
    if (d.maxTime > globalMax) globalMax = d.maxTime;
  }
  if (overlapping.length > 0) return overlapping;

  // Leave the newest block alone: it gives a window to back up fresh data piecewise.
  const older = dms.slice(0, -1);
  const newestOlder = older.at(-1);
  if (ranges.length >= 2 && newestOlder !== undefined) {
    const highTime = newestOlder.minTime;
    for (const iv of ranges.slice(1)) {
      for (const p of splitByRange(older, iv)) {
        if (p.some((m) => m.compaction.failed)) continue;
        // splitByRange returns non-empty groups.
        const mint = p[0]!.minTime;
        const maxt = p[p.length - 1]!.maxTime;
        if ((maxt - mint === iv || maxt <= highTime) && p.length > 1) return p.map((m) => m.ulid);
      }
    }
  }

  // Rewrite large blocks with more than 5% of their series deleted.
  const mid = ranges[Math.floor(ranges.length / 2)] ?? 0;
  for (const m of older.toReversed()) {
    if (m.maxTime - m.minTime < mid) {
      if (m.stats.numTombstones > 0 && m.stats.numTombstones >= m.stats.numSeries) return [m.ulid];
      break;
    }
    if (m.stats.numTombstones / (m.stats.numSeries + 1) > 0.05) return [m.ulid];
  }
  return [];
}
