// The head's chunk table: chunk entries (struct of arrays, linked per series)
// whose bytes live in shared pages (ChunkPool), and each series' chunk-writing
// state (last sample, XOR encoder state, open chunk). Appending a sample and
// reading a series' chunks both happen here, so the hot paths touch only this
// object's arrays. Native histogram chunks are entries of the same per-series
// list whose bytes live in their chunk objects (HistogramChunk and
// FloatHistogramChunk grow, cut and recode themselves); a series switching
// between floats and histograms cuts a new chunk, as Prometheus does.
import type { FloatHistogram, Histogram } from '../../model/histogram.js';
import { ENC_FLOAT_HISTOGRAM, ENC_HISTOGRAM, FloatHistogramChunk, HistogramChunk } from '../chunkenc/histogram_chunk.js';
import { CHUNK_HEADER_SIZE, ENC_XOR, MAX_APPEND_BYTES, XorEncoder } from '../chunkenc/xor.js';
import { isCovered, type ChunkList } from '../chunks/chunk_list.js';
import { ChunkPool, SIZE_CLASSES } from './chunk_pool.js';
import { NONE, growF64, growI32, growU16, growU32, growU8, nextCap } from './grow.js';
import type { HeadMetrics } from './metrics.js';
import { FREE_CHUNK_BYTES, FREE_CHUNK_ENTRY, type ReaderEpochs } from './readers.js';

/** Prometheus cuts a float chunk once it holds more than 1 KiB, whatever its sample count. */
const MAX_BYTES_PER_CHUNK_BEFORE_APPEND = 1024;
/** Prometheus's size target of a histogram chunk, and the samples a chunk gets before a size cut. */
const TARGET_BYTES_PER_HISTOGRAM_CHUNK = 1024;
const MIN_SAMPLES_PER_HISTOGRAM_CHUNK = 10;

type AnyHistogramChunk = HistogramChunk | FloatHistogramChunk;

/** Go's (t/width)*width + width: the end of the aligned range holding t. */
export function rangeForTimestamp(t: number, width: number): number {
  return Math.trunc(t / width) * width + width;
}

/** Predicts where to cut a chunk so the remaining chunks of the range get equal sample counts. */
function computeChunkEndTime(start: number, cur: number, maxT: number, ratioToFull: number): number {
  const n = (maxT - start) / ((cur - start + 1) * ratioToFull);
  if (n <= 1) return maxT;
  return Math.trunc(start + (maxT - start) / Math.floor(n));
}

/** One series' chunks for block writing. */
export interface HeadChunk {
  mint: number;
  maxt: number;
  /** ENC_XOR, ENC_HISTOGRAM or ENC_FLOAT_HISTOGRAM. */
  enc: number;
  bytes: Uint8Array;
}

/**
 * Index invariant (why reads below use `!`): every slot passed in is below
 * slotCap (the head grows this table with the series table before handing a
 * slot out), and every chunk index reached through firstC/lastC/cNext was
 * allocated below cCap.
 */
export class ChunkTable {
  // ---- per-slot writing state ----
  /** Slots the per-slot arrays have room for. */
  slotCap = 0;
  /** Time of the newest sample (-Infinity before the first). */
  lastT = new Float64Array(0);
  /** Bits of the newest value, also the XOR encoder's previous value. */
  vhi = new Uint32Array(0);
  vlo = new Uint32Array(0);
  private tDelta = new Float64Array(0);
  private lead = new Uint8Array(0);
  private trail = new Uint8Array(0);
  /** Decimal scale of the value encoding. */
  private scl = new Uint8Array(0);
  /** Bits used in the open chunk, header included. */
  private bitPos = new Uint32Array(0);
  private nextAt = new Float64Array(0);
  private firstC = new Int32Array(0);
  private lastC = new Int32Array(0);
  /** 1 once the open histogram chunk's end time was predicted (Prometheus's histogramChunkHasComputedEndTime). */
  private hComputed = new Uint8Array(0);
  /** The newest sample of series whose newest sample is a histogram (duplicate checks, stale markers). */
  readonly lastHist = new Map<number, Histogram | FloatHistogram>();

  // ---- chunk entries ----
  private cCap = 0;
  private cHigh = 0;
  private cFree: number[] = [];
  private cAddr = new Uint32Array(0);
  private cCls = new Uint8Array(0);
  private cBytes = new Uint32Array(0);
  /** Encoding of each chunk entry: ENC_XOR, ENC_HISTOGRAM or ENC_FLOAT_HISTOGRAM. */
  private cEnc = new Uint8Array(0);
  /** The chunk objects holding the bytes of histogram chunk entries. */
  private readonly hChunks = new Map<number, AnyHistogramChunk>();
  /** Bytes held by histogram chunks (the pool counts the XOR chunks'). */
  histBytes = 0;
  private cMinT = new Float64Array(0);
  private cMaxT = new Float64Array(0);
  private cNum = new Uint16Array(0);
  private cNext = new Int32Array(0);
  numChunks = 0;

  private readonly enc = new XorEncoder();
  minTime = Infinity;
  maxTime = -Infinity;

  constructor(
    /** Width (ms) of the aligned ranges chunks never cross. */
    private readonly chunkRange: number,
    private readonly samplesPerChunk: number,
    readonly pool: ChunkPool,
    private readonly readers: ReaderEpochs,
    private readonly metrics: HeadMetrics,
    initialSlots: number,
    initialChunks: number,
  ) {
    this.growSlots(initialSlots);
    this.growChunks(initialChunks);
  }

  growSlots(n: number): void {
    this.lastT = growF64(this.lastT, n);
    this.vhi = growU32(this.vhi, n);
    this.vlo = growU32(this.vlo, n);
    this.tDelta = growF64(this.tDelta, n);
    this.lead = growU8(this.lead, n);
    this.trail = growU8(this.trail, n);
    this.scl = growU8(this.scl, n);
    this.bitPos = growU32(this.bitPos, n);
    this.nextAt = growF64(this.nextAt, n);
    this.firstC = growI32(this.firstC, n);
    this.lastC = growI32(this.lastC, n);
    this.hComputed = growU8(this.hComputed, n);
    this.slotCap = n;
  }

  private growChunks(n: number): void {
    this.cAddr = growU32(this.cAddr, n);
    this.cCls = growU8(this.cCls, n);
    this.cBytes = growU32(this.cBytes, n);
    this.cEnc = growU8(this.cEnc, n);
    this.cMinT = growF64(this.cMinT, n);
    this.cMaxT = growF64(this.cMaxT, n);
    this.cNum = growU16(this.cNum, n);
    this.cNext = growI32(this.cNext, n);
    this.cCap = n;
  }

  /** Resets a new series' state: no samples, no chunks. */
  initSlot(slot: number): void {
    this.lastT[slot] = -Infinity;
    this.vhi[slot] = 0;
    this.vlo[slot] = 0;
    this.firstC[slot] = NONE;
    this.lastC[slot] = NONE;
    this.lastHist.delete(slot);
  }

  /** True when the series' newest sample is a histogram (its open chunk is a histogram chunk). */
  histogramIsNewest(slot: number): boolean {
    const c = this.lastC[slot]!;
    return c !== NONE && this.cEnc[c] !== ENC_XOR;
  }

  // =====================================================================
  // appending
  // =====================================================================

  /**
   * Appends a sample that is known to be newer than the series' last one.
   * Cuts chunks as Prometheus does: at the aligned range end, at 1 KiB, at
   * twice the target count, or where the prediction made at a quarter of the
   * target says the range splits evenly.
   */
  appendSample(slot: number, t: number, hi: number, lo: number): void {
    // slot < slotCap and every chunk index c < cCap: all indexes below are in range.
    let c = this.lastC[slot]!;
    if (c === NONE || this.cEnc[c] !== ENC_XOR) {
      c = this.cutChunk(slot, t);
    } else {
      const num = this.cNum[c]!;
      const bytes = (this.bitPos[slot]! + 7) >>> 3;
      if (bytes > MAX_BYTES_PER_CHUNK_BEFORE_APPEND) {
        c = this.cutChunk(slot, t);
      } else {
        if (num === this.samplesPerChunk >>> 2) {
          this.nextAt[slot] = computeChunkEndTime(this.cMinT[c]!, this.cMaxT[c]!, this.nextAt[slot]!, 4);
        }
        if (t >= this.nextAt[slot]! || num >= this.samplesPerChunk * 2) c = this.cutChunk(slot, t);
      }
    }
    const used = (this.bitPos[slot]! + 7) >>> 3;
    if (used + MAX_APPEND_BYTES > SIZE_CLASSES[this.cCls[c]!]!) this.growChunk(c, used);
    const addr = this.cAddr[c]!;
    const enc = this.enc;
    const w = enc.w;
    w.buf = this.pool.page(addr);
    w.base = ChunkPool.offset(addr);
    w.bit = this.bitPos[slot]!;
    enc.num = this.cNum[c]!;
    enc.t = this.lastT[slot]!;
    enc.tDelta = this.tDelta[slot]!;
    enc.vhi = this.vhi[slot]!;
    enc.vlo = this.vlo[slot]!;
    enc.leading = this.lead[slot]!;
    enc.trailing = this.trail[slot]!;
    enc.scale = this.scl[slot]!;
    enc.append(t, hi, lo);
    this.bitPos[slot] = w.bit;
    this.tDelta[slot] = enc.tDelta;
    this.vhi[slot] = hi;
    this.vlo[slot] = lo;
    this.lead[slot] = enc.leading;
    this.trail[slot] = enc.trailing;
    this.scl[slot] = enc.scale;
    this.cNum[c] = enc.num;
    this.cMaxT[c] = t;
    this.lastT[slot] = t;
    if (t < this.minTime) this.minTime = t;
    if (t > this.maxTime) this.maxTime = t;
    this.lastHist.delete(slot);
  }

  /**
   * Appends a histogram sample known to be newer than the series' last one
   * (exactly one of h and fh). Cuts as Prometheus cuts histogram chunks: on an
   * encoding change, at the aligned range end or where the prediction made at
   * a quarter of the byte target says, or at twice the target, but not before
   * the chunk holds its minimum samples unless the range ends; the chunk
   * itself asks for a new chunk on a counter reset or a layout it cannot take,
   * and recodes itself for new buckets.
   */
  appendHistogram(slot: number, t: number, h: Histogram | null, fh: FloatHistogram | null): void {
    const enc = h !== null ? ENC_HISTOGRAM : ENC_FLOAT_HISTOGRAM;
    let c = this.lastC[slot]!;
    const prevC = c;
    let created = false;
    if (c === NONE || this.cEnc[c] !== enc) {
      c = this.cutChunk(slot, t, enc);
      created = true;
    } else {
      // c is a histogram entry of this encoding, so it has its object.
      const cur = this.hChunks.get(c)!;
      const num = cur.numSamples();
      const numBytes = cur.bytes().length;
      const rangeStart = this.hComputed[slot] === 1 ? rangeForTimestamp(this.cMinT[c]!, this.chunkRange) : this.nextAt[slot]!;
      if (this.hComputed[slot] === 0 && numBytes >= TARGET_BYTES_PER_HISTOGRAM_CHUNK / 4) {
        this.nextAt[slot] = computeChunkEndTime(this.cMinT[c]!, this.cMaxT[c]!, this.nextAt[slot]!, TARGET_BYTES_PER_HISTOGRAM_CHUNK / numBytes);
        this.hComputed[slot] = 1;
      }
      const due = t >= this.nextAt[slot]! || numBytes >= TARGET_BYTES_PER_HISTOGRAM_CHUNK * 2;
      if (due && (num >= MIN_SAMPLES_PER_HISTOGRAM_CHUNK || t >= rangeStart)) {
        c = this.cutChunk(slot, t, enc);
        created = true;
      }
    }
    if (created) this.hComputed[slot] = 0;
    // The previous chunk decides the counter reset header of a fresh one when it has the same encoding.
    const prev = created && prevC !== NONE && this.cEnc[prevC] === enc ? (this.hChunks.get(prevC) ?? null) : null;
    const obj = this.hChunks.get(c)!;
    const before = obj.bytes().length;
    let res;
    if (h !== null) res = (obj as HistogramChunk).append(t, h, prev as HistogramChunk | null);
    else res = (obj as FloatHistogramChunk).append(t, fh!, prev as FloatHistogramChunk | null);
    if (res.recoded) {
      this.hChunks.set(c, res.chunk);
      this.histBytes += res.chunk.bytes().length - before;
    } else if (res.newChunk) {
      this.histBytes += obj.bytes().length - before;
      c = this.cutChunk(slot, t, enc, res.chunk);
      this.hComputed[slot] = 0;
    } else {
      this.histBytes += obj.bytes().length - before;
    }
    this.cNum[c] = Math.min(res.chunk.numSamples(), 0xffff);
    this.cMaxT[c] = t;
    this.lastT[slot] = t;
    this.lastHist.set(slot, h ?? fh!);
    if (t < this.minTime) this.minTime = t;
    if (t > this.maxTime) this.maxTime = t;
  }

  private allocChunkEntry(): number {
    const free = this.cFree.pop();
    if (free !== undefined) return free;
    if (this.cHigh === this.cCap) this.growChunks(nextCap(this.cCap));
    return this.cHigh++;
  }

  /** Opens a new chunk (an XOR one, or a histogram one holding `obj` or a fresh chunk object). */
  private cutChunk(slot: number, t: number, enc = ENC_XOR, obj: AnyHistogramChunk | null = null): number {
    const prev = this.lastC[slot]!;
    if (prev !== NONE) this.sealChunk(prev, slot);
    const c = this.allocChunkEntry();
    this.cEnc[c] = enc;
    if (enc === ENC_XOR) {
      this.cAddr[c] = this.pool.alloc(0);
    } else {
      const o = obj ?? (enc === ENC_HISTOGRAM ? new HistogramChunk() : new FloatHistogramChunk());
      this.hChunks.set(c, o);
      this.histBytes += o.bytes().length;
    }
    this.cCls[c] = 0;
    this.cBytes[c] = 0;
    this.cMinT[c] = t;
    this.cMaxT[c] = t;
    this.cNum[c] = 0;
    this.cNext[c] = NONE;
    if (prev !== NONE) this.cNext[prev] = c;
    else this.firstC[slot] = c;
    this.lastC[slot] = c;
    this.bitPos[slot] = CHUNK_HEADER_SIZE * 8;
    this.lead[slot] = 0xff;
    this.trail[slot] = 0;
    this.scl[slot] = 0;
    this.tDelta[slot] = 0;
    this.nextAt[slot] = rangeForTimestamp(t, this.chunkRange);
    this.numChunks++;
    this.metrics.chunksCreated.inc();
    return c;
  }

  /** Records the final size of a full chunk and moves it to the tightest size class. */
  private sealChunk(c: number, slot: number): void {
    if (this.cEnc[c] !== ENC_XOR) {
      // Histogram chunk objects hold their bytes; only the size is recorded.
      this.cBytes[c] = this.hChunks.get(c)!.bytes().length;
      return;
    }
    const bytes = (this.bitPos[slot]! + 7) >>> 3;
    this.cBytes[c] = bytes;
    const cls = ChunkPool.classFor(bytes);
    if (cls < this.cCls[c]!) this.moveChunk(c, cls, bytes);
  }

  private growChunk(c: number, used: number): void {
    const cls = ChunkPool.classFor(used + MAX_APPEND_BYTES);
    if (cls < 0) throw new Error(`BUG: head chunk of ${used} bytes exceeds the largest size class`);
    this.moveChunk(c, cls, used);
  }

  private moveChunk(c: number, cls: number, used: number): void {
    const oldAddr = this.cAddr[c]!;
    const oldCls = this.cCls[c]!;
    const addr = this.pool.alloc(cls);
    const src = this.pool.page(oldAddr);
    const so = ChunkPool.offset(oldAddr);
    this.pool.page(addr).set(src.subarray(so, so + used), ChunkPool.offset(addr));
    this.cAddr[c] = addr;
    this.cCls[c] = cls;
    this.readers.free(FREE_CHUNK_BYTES, oldAddr, oldCls);
  }

  /** Bytes of a chunk: exact for full chunks, current fill for the open one. */
  private chunkLen(c: number, slot: number): number {
    if (this.cEnc[c] !== ENC_XOR) return this.hChunks.get(c)!.bytes().length;
    return c === this.lastC[slot] ? (this.bitPos[slot]! + 7) >>> 3 : this.cBytes[c]!;
  }

  // =====================================================================
  // reading
  // =====================================================================

  /** True when the series has a chunk overlapping [mint, maxt]. */
  hasChunksIn(slot: number, mint: number, maxt: number): boolean {
    for (let c = this.firstC[slot]!; c !== NONE; c = this.cNext[c]!) {
      if (this.cMinT[c]! > maxt) return false;
      if (this.cMaxT[c]! >= mint) return true;
    }
    return false;
  }

  /**
   * True when the series has a chunk in [mint, maxt] that the deleted
   * intervals do not hide entirely (what a query should list; Prometheus
   * decides per chunk too).
   */
  hasVisibleChunksIn(slot: number, mint: number, maxt: number, del: Float64Array | undefined): boolean {
    if (del === undefined) return this.hasChunksIn(slot, mint, maxt);
    for (let c = this.firstC[slot]!; c !== NONE; c = this.cNext[c]!) {
      if (this.cMinT[c]! > maxt) return false;
      if (this.cMaxT[c]! < mint) continue;
      if (!isCovered(del, Math.max(mint, this.cMinT[c]!), Math.min(maxt, this.cMaxT[c]!))) return true;
    }
    return false;
  }

  /** Fills a ChunkList with the series' chunks overlapping [mint, maxt]. */
  chunksOf(slot: number, mint: number, maxt: number, out: ChunkList): void {
    for (let c = this.firstC[slot]!; c !== NONE; c = this.cNext[c]!) {
      if (this.cMaxT[c]! < mint) continue;
      if (this.cMinT[c]! > maxt) break;
      const enc = this.cEnc[c]!;
      if (enc !== ENC_XOR) {
        // The open chunk keeps changing in place (and may be recoded): the reader gets a copy of it as of now.
        const b = this.hChunks.get(c)!.bytes();
        const view = c === this.lastC[slot] ? b.slice() : b;
        out.push(view, 0, view.length, -1, this.cMinT[c]!, this.cMaxT[c]!, enc);
        continue;
      }
      const addr = this.cAddr[c]!;
      const off = ChunkPool.offset(addr);
      out.push(this.pool.page(addr), off, off + this.chunkLen(c, slot), this.cNum[c]!, this.cMinT[c]!, this.cMaxT[c]!);
      // The open float chunk's newest sample is at hand: an instant selector reads it without decoding the chunk.
      if (c === this.lastC[slot] && this.cNum[c]! > 0 && this.lastT[slot] === this.cMaxT[c]) out.setLast(this.cMaxT[c]!, this.vhi[slot]!, this.vlo[slot]!);
    }
  }

  /** Copies of the series' chunk bytes in [mint, maxt] (for block writing). */
  chunksForBlock(slot: number, mint: number, maxt: number): HeadChunk[] {
    const out: HeadChunk[] = [];
    for (let c = this.firstC[slot]!; c !== NONE; c = this.cNext[c]!) {
      if (this.cMaxT[c]! < mint) continue;
      if (this.cMinT[c]! > maxt) break;
      const enc = this.cEnc[c]!;
      if (enc !== ENC_XOR) {
        out.push({ mint: this.cMinT[c]!, maxt: this.cMaxT[c]!, enc, bytes: this.hChunks.get(c)!.bytes().slice() });
        continue;
      }
      const addr = this.cAddr[c]!;
      const off = ChunkPool.offset(addr);
      const bytes = this.pool.page(addr).slice(off, off + this.chunkLen(c, slot));
      out.push({ mint: this.cMinT[c]!, maxt: this.cMaxT[c]!, enc, bytes });
    }
    return out;
  }

  // =====================================================================
  // truncation
  // =====================================================================

  /** Frees the series' chunks that end before mint; returns how many went. */
  dropBefore(slot: number, mint: number): number {
    let removed = 0;
    let c = this.firstC[slot]!;
    while (c !== NONE && this.cMaxT[c]! < mint) {
      const next = this.cNext[c]!;
      const h = this.hChunks.get(c);
      if (h !== undefined) {
        // Readers hold views of the bytes, not the object: it can go now.
        this.histBytes -= h.bytes().length;
        this.hChunks.delete(c);
      } else {
        this.readers.free(FREE_CHUNK_BYTES, this.cAddr[c]!, this.cCls[c]!);
      }
      this.readers.free(FREE_CHUNK_ENTRY, c, 0);
      removed++;
      c = next;
    }
    this.firstC[slot] = c;
    if (c === NONE) {
      this.lastC[slot] = NONE;
      this.lastHist.delete(slot);
    }
    this.numChunks -= removed;
    return removed;
  }

  /** True when the series has no chunk left. */
  isEmpty(slot: number): boolean {
    return this.firstC[slot] === NONE;
  }

  /** Makes a chunk entry reusable (once no reader can see it). */
  freeEntry(c: number): void {
    this.cFree.push(c);
  }

  /** Bytes of the typed arrays (not chunk data). */
  metadataBytes(): number {
    return (
      this.lastT.byteLength +
      this.vhi.byteLength +
      this.vlo.byteLength +
      this.tDelta.byteLength +
      this.lead.byteLength +
      this.trail.byteLength +
      this.scl.byteLength +
      this.bitPos.byteLength +
      this.nextAt.byteLength +
      this.firstC.byteLength +
      this.lastC.byteLength +
      this.hComputed.byteLength +
      this.cEnc.byteLength +
      this.cAddr.byteLength +
      this.cCls.byteLength +
      this.cBytes.byteLength +
      this.cMinT.byteLength +
      this.cMaxT.byteLength +
      this.cNum.byteLength +
      this.cNext.byteLength
    );
  }
}
