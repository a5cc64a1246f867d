// The head: the in-memory block that receives appends. Per-series state
// lives in typed arrays indexed by a slot number (struct of arrays), chunk
// bytes live in shared pages (ChunkPool), label sets are symbol ids in one
// pooled Uint32Array, and postings map label pairs to sorted slot lists. No
// JS object exists per series or per sample.
//
// Series have two identities: the slot (dense, reused after garbage
// collection, used in postings) and the ref (monotonic, never reused, handed
// to appenders and written to the WAL).
import { compareStrings } from '../../gofmt/order.js';
import { Labels, isValidLabelName, isValidMetricName, METRIC_NAME } from '../../model/labels.js';
import type { Matcher } from '../../model/matcher.js';
import type { Logger } from '../../logging/types.js';
import { nopLogger } from '../../logging/types.js';
import {
  DuplicateSampleError,
  InvalidSeriesError,
  OutOfBoundsError,
  OutOfOrderSampleError,
  type Appender,
  type LabelHints,
  type Querier,
  type SampleIterator,
  type SelectHints,
  type Series,
  type SeriesRef,
  type SeriesSet,
} from '../../storage/interface.js';
import { CHUNK_HEADER_SIZE, MAX_APPEND_BYTES, XorEncoder } from '../chunkenc/xor.js';
import { bitsHi, bitsLo, joinFloat, splitFloat } from '../chunkenc/float_bits.js';
import { Encbuf, uvarintSize } from '../encoding.js';
import type { TSDBMetrics } from '../metrics.js';
import { EMPTY_POSTINGS, PostingsList, postingsForMatchers, type PostingsIndex } from '../postings.js';
import { ChunkList, ChunkSeriesIterator, EmptyIterator, ListSeriesSet, isCovered } from '../querier.js';
import { REC_BATCH, encodeTombstones } from '../wal/record.js';
import { addInterval } from '../tombstones.js';
import { ChunkPool, SIZE_CLASSES } from './chunk_pool.js';
import { NumMultiMap } from './num_map.js';
import { SymbolTable } from './symbols.js';
import { Pacer, sortAsync } from '../pacer.js';
import { LazySeriesSet } from '../../storage/lazy.js';

const NONE = -1;
/** Prometheus's default target of samples per chunk. */
export const DEFAULT_SAMPLES_PER_CHUNK = 120;
/** Prometheus cuts a float chunk once it holds more than 1 KiB, whatever its sample count. */
const MAX_BYTES_PER_CHUNK_BEFORE_APPEND = 1024;
/**
 * Freed memory is not reused, and truncated data not dropped, while a
 * querier that was open at the time may still read it. A querier open longer
 * than this no longer holds them back (it is assumed leaked), as Prometheus
 * stops waiting for readers after a while at truncation.
 */
const READER_TIMEOUT_MS = 2 * 60_000;
/** WAL record buffer: 64 KiB holds a typical scrape's batch without regrowing. */
const REC_BUF_INITIAL = 1 << 16;
/**
 * The record buffer is cut back to this size after a larger record (a burst of
 * new series, a huge remote-write request), so one burst does not pin its size
 * for the life of the process. 4 MiB holds the largest pooled batch (64 Ki
 * samples) with room for its new series.
 */
const REC_BUF_RETAINED = 4 << 20;
/** Largest timestamp magnitude accepted: zigzag varints stay exact below 2^52. */
const MAX_ABS_TIMESTAMP = 2 ** 52;

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

export interface HeadOptions {
  /** Width (ms) of the aligned ranges chunks never cross: the minimum block duration. */
  chunkRange: number;
  samplesPerChunk?: number;
  metrics: TSDBMetrics;
  logger?: Logger;
}

/** One series' chunks for block writing. */
export interface HeadChunk {
  mint: number;
  maxt: number;
  bytes: Uint8Array;
}

/** A name/value statistic of the TSDB status API. */
export interface Stat {
  name: string;
  value: number;
}

export interface HeadStatsData {
  numSeries: number;
  numLabelPairs: number;
  chunkCount: number;
  minTime: number;
  maxTime: number;
}

export interface TSDBStatus {
  headStats: HeadStatsData;
  seriesCountByMetricName: Stat[];
  labelValueCountByLabelName: Stat[];
  memoryInBytesByLabelName: Stat[];
  seriesCountByLabelValuePair: Stat[];
}

function growF64(a: Float64Array, n: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}
function growU32(a: Uint32Array, n: number): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(n);
  b.set(a);
  return b;
}
function growI32(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n).fill(NONE);
  b.set(a);
  return b;
}
function growU16(a: Uint16Array, n: number): Uint16Array<ArrayBuffer> {
  const b = new Uint16Array(n);
  b.set(a);
  return b;
}
function growU8(a: Uint8Array, n: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(n);
  b.set(a);
  return b;
}

export class Head {
  readonly chunkRange: number;
  readonly samplesPerChunk: number;
  readonly metrics: TSDBMetrics;
  readonly logger: Logger;

  // ---- per-slot series state (struct of arrays) ----
  private cap = 0;
  /** Slots ever used; live slots have refOf != 0. */
  numSlots = 0;
  private freeSlots: number[] = [];
  refOf = new Float64Array(0);
  private hashOf = new Float64Array(0);
  private lblOff = new Uint32Array(0);
  private lblLen = new Uint16Array(0);
  /** Time of the newest sample (-Infinity before the first). */
  lastT = new Float64Array(0);
  /** Bits of the newest value, also the XOR encoder's previous value. */
  private vhi = new Uint32Array(0);
  private vlo = new Uint32Array(0);
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
  /** Appender (or commit pass) that last touched the slot, and the index of its pending sample. */
  private pendMark = new Uint32Array(0);
  private pendIdx = new Int32Array(0);
  /** 1 once the series record is in the WAL. */
  private logged = new Uint8Array(0);

  // ---- chunk table ----
  private cCap = 0;
  private cHigh = 0;
  private cFree: number[] = [];
  private cAddr = new Uint32Array(0);
  private cCls = new Uint8Array(0);
  private cBytes = new Uint16Array(0);
  private cMinT = new Float64Array(0);
  private cMaxT = new Float64Array(0);
  private cNum = new Uint16Array(0);
  private cNext = new Int32Array(0);
  numChunks = 0;

  // ---- labels and index ----
  private pool = new Uint32Array(4096);
  private poolLen = 0;
  private poolLive = 0;
  readonly symbols = new SymbolTable();
  private readonly postingsMap = new Map<number, Map<number, PostingsList>>();
  private allList: PostingsList | null = null;
  private readonly byHash = new NumMultiMap(1024);
  private readonly byRef = new NumMultiMap(1024);
  /** Extra refs that point at a slot (the same label set logged under several refs). */
  private readonly aliases = new Map<number, number[]>();
  numSeries = 0;
  private nextRef = 1;

  readonly chunks = new ChunkPool();
  private readonly enc = new XorEncoder();

  minTime = Infinity;
  maxTime = -Infinity;
  /** No sample older than this is accepted (the end of the newest block). */
  minValidTime = -Infinity;

  /** Deleted intervals of head series, by slot. */
  readonly tombstones = new Map<number, Float64Array>();

  // ---- readers and deferred work ----
  // Memory a querier may still read is not reused until every querier that
  // was open when it was freed has closed: each deferred free carries the
  // reader-id watermark of its time, and readers are released in id order.
  private nextReaderId = 1;
  /** Open readers: id -> open time (ms). Ids increase, so the first key is the oldest. */
  private readonly readers = new Map<number, number>();
  private pendKind: number[] = [];
  private pendA: number[] = [];
  private pendB: number[] = [];
  private pendWm: number[] = [];
  private pendHead = 0;
  /** Truncation waiting for older readers to finish before data is dropped. */
  private gcMint = -Infinity;
  private gcWm = 0;

  // ---- appenders ----
  private nextMark = 1;
  readonly openAppenders = new Set<number>();
  /** Writes a WAL record; null when the head has no WAL (backfill). */
  walLog: ((rec: Buffer) => void) | null = null;
  readonly recBuf = new Encbuf(REC_BUF_INITIAL);
  /** Called after every commit that added samples. */
  onCommit: (() => void) | null = null;

  constructor(opts: HeadOptions) {
    this.chunkRange = opts.chunkRange;
    this.samplesPerChunk = opts.samplesPerChunk ?? DEFAULT_SAMPLES_PER_CHUNK;
    this.metrics = opts.metrics;
    this.logger = opts.logger ?? nopLogger;
    this.growSlots(1024);
    this.growChunks(1024);
  }

  // =====================================================================
  // storage growth
  // =====================================================================

  private growSlots(n: number): void {
    this.refOf = growF64(this.refOf, n);
    this.hashOf = growF64(this.hashOf, n);
    this.lblOff = growU32(this.lblOff, n);
    this.lblLen = growU16(this.lblLen, n);
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
    this.pendMark = growU32(this.pendMark, n);
    this.pendIdx = growI32(this.pendIdx, n);
    this.logged = growU8(this.logged, n);
    this.cap = n;
  }

  private growChunks(n: number): void {
    this.cAddr = growU32(this.cAddr, n);
    this.cCls = growU8(this.cCls, n);
    this.cBytes = growU16(this.cBytes, n);
    this.cMinT = growF64(this.cMinT, n);
    this.cMaxT = growF64(this.cMaxT, n);
    this.cNum = growU16(this.cNum, n);
    this.cNext = growI32(this.cNext, n);
    this.cCap = n;
  }

  /** Capacity growth: doubling while small, then 1.5x to limit slack at scale. */
  private static nextCap(cur: number): number {
    return cur < 65536 ? cur * 2 : cur + (cur >>> 1);
  }

  // =====================================================================
  // series lookup and creation
  // =====================================================================

  private labelsEqual(slot: number, ls: Labels): boolean {
    const n = this.lblLen[slot]!;
    if (n !== ls.length) return false;
    const off = this.lblOff[slot]!;
    const strs = this.symbols.strs;
    const pool = this.pool;
    for (let i = 0; i < n; i++) {
      if (strs[pool[off + 2 * i]!] !== ls.nameAt(i) || strs[pool[off + 2 * i + 1]!] !== ls.valueAt(i)) return false;
    }
    return true;
  }

  /** The slot holding a label set, or -1. */
  slotByLabels(ls: Labels): number {
    const m = this.byHash;
    for (let p = m.first(ls.hash()); p >= 0; p = m.nextOf(p)) {
      const slot = m.vals[p]!;
      if (this.labelsEqual(slot, ls)) return slot;
    }
    return NONE;
  }

  /** The slot of a series ref (or alias), or -1 when the series is gone. */
  slotByRef(ref: number): number {
    return this.byRef.get(ref);
  }

  /** The label set of a live slot, materialised from symbols. */
  labelsOf(slot: number): Labels {
    const n = this.lblLen[slot]!;
    const off = this.lblOff[slot]!;
    const strs = this.symbols.strs;
    const pairs: string[] = new Array(2 * n);
    for (let i = 0; i < 2 * n; i++) pairs[i] = strs[this.pool[off + i]!]!;
    return Labels.fromSortedPairs(pairs);
  }

  private validate(ls: Labels): void {
    if (ls.isEmpty()) throw new InvalidSeriesError('empty labelset: invalid sample');
    for (let i = 0; i < ls.length; i++) {
      const name = ls.nameAt(i);
      const bad = !isValidLabelName(name) || (name === METRIC_NAME && !isValidMetricName(ls.valueAt(i)));
      if (bad) throw new InvalidSeriesError(`invalid metric name or label names: ${ls.toString()}: invalid sample`);
    }
    if (ls.length > 0xffff) throw new InvalidSeriesError(`too many labels (${ls.length}): invalid sample`);
  }

  /** Finds or creates the series; `ref` 0 assigns a fresh ref. Returns the slot. */
  getOrCreate(ls: Labels, ref = 0): number {
    const found = this.slotByLabels(ls);
    if (found >= 0) return found;
    this.validate(ls);
    return this.createSeries(ls, ref === 0 ? this.nextRef++ : ref);
  }

  private createSeries(ls: Labels, ref: number): number {
    if (ref >= this.nextRef) this.nextRef = ref + 1;
    let slot: number;
    if (this.freeSlots.length > 0) {
      slot = this.freeSlots.pop()!;
    } else {
      if (this.numSlots === this.cap) this.growSlots(Head.nextCap(this.cap));
      slot = this.numSlots++;
    }
    const n = ls.length;
    if (this.poolLen + 2 * n > this.pool.length) this.growPool(2 * n);
    const off = this.poolLen;
    for (let i = 0; i < n; i++) {
      const nameId = this.symbols.ref(ls.nameAt(i));
      const valueId = this.symbols.ref(ls.valueAt(i));
      this.pool[off + 2 * i] = nameId;
      this.pool[off + 2 * i + 1] = valueId;
      this.addPosting(nameId, valueId, slot);
    }
    this.poolLen += 2 * n;
    this.poolLive += 2 * n;
    if (this.allList === null) this.allList = new PostingsList(slot);
    else this.allList.add(slot);
    this.refOf[slot] = ref;
    this.hashOf[slot] = ls.hash();
    this.lblOff[slot] = off;
    this.lblLen[slot] = n;
    this.lastT[slot] = -Infinity;
    this.vhi[slot] = 0;
    this.vlo[slot] = 0;
    this.firstC[slot] = NONE;
    this.lastC[slot] = NONE;
    this.pendMark[slot] = 0;
    this.logged[slot] = 0;
    this.byHash.add(ls.hash(), slot);
    this.byRef.add(ref, slot);
    this.numSeries++;
    this.metrics.headSeriesCreated.inc();
    return slot;
  }

  private growPool(extra: number): void {
    // Compact instead of growing when most of the pool is garbage from removed series.
    if (this.poolLive * 2 < this.poolLen) {
      this.compactPool();
      if (this.poolLen + extra <= this.pool.length) return;
    }
    let n = this.pool.length * 2;
    while (n < this.poolLen + extra) n *= 2;
    this.pool = growU32(this.pool, n);
  }

  private compactPool(): void {
    const np = new Uint32Array(Math.max(4096, this.poolLive * 2));
    let k = 0;
    for (let s = 0; s < this.numSlots; s++) {
      if (this.refOf[s] === 0) continue;
      const off = this.lblOff[s]!;
      const n = 2 * this.lblLen[s]!;
      np.set(this.pool.subarray(off, off + n), k);
      this.lblOff[s] = k;
      k += n;
    }
    this.pool = np;
    this.poolLen = k;
    this.poolLive = k;
  }

  private addPosting(nameId: number, valueId: number, slot: number): void {
    let byValue = this.postingsMap.get(nameId);
    if (byValue === undefined) {
      byValue = new Map();
      this.postingsMap.set(nameId, byValue);
    }
    const l = byValue.get(valueId);
    if (l === undefined) byValue.set(valueId, new PostingsList(slot));
    else l.add(slot);
  }

  /** Called while replaying a series record: maps ref to the series, creating it when new. */
  replaySeries(ref: number, ls: Labels): void {
    const existing = this.byRef.get(ref);
    if (existing >= 0) return;
    const slot = this.slotByLabels(ls);
    if (slot >= 0) {
      this.byRef.add(ref, slot);
      let a = this.aliases.get(slot);
      if (a === undefined) this.aliases.set(slot, (a = []));
      a.push(ref);
      if (ref >= this.nextRef) this.nextRef = ref + 1;
      return;
    }
    this.validate(ls);
    const s = this.createSeries(ls, ref);
    this.logged[s] = 1;
  }

  // =====================================================================
  // appending
  // =====================================================================

  /** The oldest timestamp an appender may write now. */
  appendableMinValidTime(): number {
    const cw = this.maxTime === -Infinity ? -Infinity : this.maxTime - this.chunkRange / 2;
    return Math.max(cw, this.minValidTime);
  }

  appender(): HeadAppender {
    const id = this.nextMark++;
    this.openAppenders.add(id);
    return new HeadAppender(this, id);
  }

  private readonly bufferPool: PendingBuffers[] = [];

  /** @internal */
  takeBuffers(): PendingBuffers {
    return this.bufferPool.pop() ?? new PendingBuffers();
  }

  /** @internal */
  returnBuffers(b: PendingBuffers): void {
    if (this.bufferPool.length < MAX_POOLED_BUFFERS && b.slots.length <= MAX_POOLED_CAPACITY) this.bufferPool.push(b);
  }

  /** @internal a fresh mark for a commit pass. */
  newMark(): number {
    return this.nextMark++;
  }

  /** @internal the appender's view of per-slot state. */
  pendingMark(slot: number): number {
    return this.pendMark[slot]!;
  }
  /** @internal */
  setPending(slot: number, mark: number, idx: number): void {
    this.pendMark[slot] = mark;
    this.pendIdx[slot] = idx;
  }
  /** @internal */
  pendingIndex(slot: number): number {
    return this.pendIdx[slot]!;
  }
  /** @internal */
  lastValueHi(slot: number): number {
    return this.vhi[slot]!;
  }
  /** @internal */
  lastValueLo(slot: number): number {
    return this.vlo[slot]!;
  }
  /** @internal */
  isLogged(slot: number): boolean {
    return this.logged[slot] === 1;
  }
  /** @internal */
  markLogged(slot: number): void {
    this.logged[slot] = 1;
  }
  /** @internal */
  unmarkLogged(slot: number): void {
    this.logged[slot] = 0;
  }
  /** @internal writes the series part of a WAL record entry. */
  encodeSeries(e: Encbuf, slot: number): void {
    e.putUvarint(this.refOf[slot]!);
    const n = this.lblLen[slot]!;
    const off = this.lblOff[slot]!;
    e.putUvarint(n);
    const strs = this.symbols.strs;
    for (let i = 0; i < 2 * n; i++) e.putString(strs[this.pool[off + i]!]!);
  }

  /**
   * Appends a sample that is known to be newer than the series' last one.
   * Cuts chunks as Prometheus does: at the aligned range end, at 1 KiB, at
   * twice the target count, or where the prediction made at a quarter of the
   * target says the range splits evenly.
   */
  appendSample(slot: number, t: number, hi: number, lo: number): void {
    let c = this.lastC[slot]!;
    if (c === NONE) {
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
    w.buf = this.chunks.page(addr);
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
  }

  private allocChunkEntry(): number {
    if (this.cFree.length > 0) return this.cFree.pop()!;
    if (this.cHigh === this.cCap) this.growChunks(Head.nextCap(this.cCap));
    return this.cHigh++;
  }

  private cutChunk(slot: number, t: number): number {
    const prev = this.lastC[slot]!;
    if (prev !== NONE) this.sealChunk(prev, slot);
    const c = this.allocChunkEntry();
    this.cAddr[c] = this.chunks.alloc(0);
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
    const addr = this.chunks.alloc(cls);
    const src = this.chunks.page(oldAddr);
    const so = ChunkPool.offset(oldAddr);
    this.chunks.page(addr).set(src.subarray(so, so + used), ChunkPool.offset(addr));
    this.cAddr[c] = addr;
    this.cCls[c] = cls;
    this.freeBytes(oldAddr, oldCls);
  }

  /** Bytes of a chunk: exact for full chunks, current fill for the open one. */
  private chunkLen(c: number, slot: number): number {
    return c === this.lastC[slot] ? (this.bitPos[slot]! + 7) >>> 3 : this.cBytes[c]!;
  }

  // =====================================================================
  // reading
  // =====================================================================

  acquireReader(): number {
    const id = this.nextReaderId++;
    this.readers.set(id, Date.now());
    return id;
  }

  releaseReader(id: number): void {
    this.readers.delete(id);
    this.runDeferred();
  }

  private oldestReader(): number {
    for (const id of this.readers.keys()) return id;
    return Infinity;
  }

  /** Frees (kind 0: chunk bytes a/b = addr/class; 1: chunk entry a; 2: slot a) now or once older readers are gone. */
  private release(kind: number, a: number, b: number): void {
    if (this.readers.size === 0) {
      this.releaseNow(kind, a, b);
      return;
    }
    this.pendKind.push(kind);
    this.pendA.push(a);
    this.pendB.push(b);
    this.pendWm.push(this.nextReaderId);
  }

  private releaseNow(kind: number, a: number, b: number): void {
    if (kind === 0) this.chunks.release(a, b);
    else if (kind === 1) this.cFree.push(a);
    else this.freeSlots.push(a);
  }

  private freeBytes(addr: number, cls: number): void {
    this.release(0, addr, cls);
  }

  /** Releases deferred frees and runs a deferred truncation once the readers that blocked them are gone. */
  private runDeferred(): void {
    const oldest = this.oldestReader();
    let i = this.pendHead;
    const n = this.pendWm.length;
    while (i < n && this.pendWm[i]! <= oldest) {
      this.releaseNow(this.pendKind[i]!, this.pendA[i]!, this.pendB[i]!);
      i++;
    }
    if (i === n) {
      if (n > 0) {
        this.pendKind = [];
        this.pendA = [];
        this.pendB = [];
        this.pendWm = [];
      }
      this.pendHead = 0;
    } else {
      this.pendHead = i;
    }
    if (this.gcMint > -Infinity && oldest >= this.gcWm) {
      const mint = this.gcMint;
      this.gcMint = -Infinity;
      this.gc(mint);
    }
  }

  /** Forgets readers open for longer than READER_TIMEOUT_MS so memory can be reused and truncation proceed. */
  expireReaders(now = Date.now()): void {
    for (const [id, since] of this.readers) {
      if (now - since > READER_TIMEOUT_MS) {
        this.logger.warn('querier open for too long; head memory is reused despite it', { openForMs: now - since });
        this.readers.delete(id);
      }
    }
    this.runDeferred();
  }

  /** True when the series has a chunk overlapping [mint, maxt]. */
  hasChunksIn(slot: number, mint: number, maxt: number): boolean {
    for (let c = this.firstC[slot]!; c !== NONE; c = this.cNext[c]!) {
      if (this.cMinT[c]! > maxt) return false;
      if (this.cMaxT[c]! >= mint) return true;
    }
    return false;
  }

  /**
   * True when the series has a chunk in [mint, maxt] that tombstones do not
   * hide entirely (what a query should list; Prometheus decides per chunk too).
   */
  hasVisibleChunksIn(slot: number, mint: number, maxt: number): boolean {
    const del = this.tombstones.get(slot);
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
      const addr = this.cAddr[c]!;
      const off = ChunkPool.offset(addr);
      out.push(this.chunks.page(addr), off, off + this.chunkLen(c, slot), this.cNum[c]!, this.cMinT[c]!, this.cMaxT[c]!);
    }
  }

  /** Copies of the series' chunk bytes in [mint, maxt] (for block writing). */
  chunksForBlock(slot: number, mint: number, maxt: number): HeadChunk[] {
    const out: HeadChunk[] = [];
    for (let c = this.firstC[slot]!; c !== NONE; c = this.cNext[c]!) {
      if (this.cMaxT[c]! < mint) continue;
      if (this.cMinT[c]! > maxt) break;
      const addr = this.cAddr[c]!;
      const off = ChunkPool.offset(addr);
      const bytes = this.chunks.page(addr).slice(off, off + this.chunkLen(c, slot));
      out.push({ mint: this.cMinT[c]!, maxt: this.cMaxT[c]!, bytes });
    }
    return out;
  }

  // PostingsIndex over slots.
  readonly index: PostingsIndex = {
    allPostings: () => (this.allList === null ? EMPTY_POSTINGS : this.allList.view().slice()),
    postings: (name, value) => {
      const nid = this.symbols.lookup(name);
      const vid = this.symbols.lookup(value);
      if (nid < 0 || vid < 0) return EMPTY_POSTINGS;
      const l = this.postingsMap.get(nid)?.get(vid);
      return l === undefined ? EMPTY_POSTINGS : l.view().slice();
    },
    labelValuesOf: (name) => {
      const nid = this.symbols.lookup(name);
      const m = nid < 0 ? undefined : this.postingsMap.get(nid);
      if (m === undefined) return [];
      const out: string[] = [];
      for (const vid of m.keys()) out.push(this.symbols.str(vid));
      return out;
    },
  };

  postingsForMatchers(matchers: readonly Matcher[]): Uint32Array {
    return postingsForMatchers(this.index, matchers);
  }

  /** Symbol id of a label's value in a series, or -1. */
  private valueIdOf(slot: number, nameId: number): number {
    const off = this.lblOff[slot]!;
    const n = this.lblLen[slot]!;
    for (let i = 0; i < n; i++) if (this.pool[off + 2 * i] === nameId) return this.pool[off + 2 * i + 1]!;
    return NONE;
  }

  labelValues(name: string, matchers: readonly Matcher[]): string[] {
    if (matchers.length === 0) return [...this.index.labelValuesOf(name)].sort(compareStrings);
    const nid = this.symbols.lookup(name);
    if (nid < 0) return [];
    const ids = new Set<number>();
    for (const slot of this.postingsForMatchers(matchers)) {
      const v = this.valueIdOf(slot, nid);
      if (v >= 0) ids.add(v);
    }
    return [...ids].map((id) => this.symbols.str(id)).sort(compareStrings);
  }

  labelNames(matchers: readonly Matcher[]): string[] {
    if (matchers.length === 0) return [...this.postingsMap.keys()].map((id) => this.symbols.str(id)).sort(compareStrings);
    const ids = new Set<number>();
    for (const slot of this.postingsForMatchers(matchers)) {
      const off = this.lblOff[slot]!;
      for (let i = 0; i < this.lblLen[slot]!; i++) ids.add(this.pool[off + 2 * i]!);
    }
    return [...ids].map((id) => this.symbols.str(id)).sort(compareStrings);
  }

  /** A querier over [mint, maxt]; data before the head's minimum time (already in blocks) is left out. */
  querier(mint: number, maxt: number): Querier {
    return new HeadQuerier(this, Math.max(mint, this.minTime), maxt);
  }

  /** Live slots with data in [mint, maxt], sorted by their label sets (yields while it works). */
  async sortedSeriesIn(mint: number, maxt: number): Promise<{ slot: number; labels: Labels }[]> {
    const pacer = new Pacer();
    const out: { slot: number; labels: Labels; ref: number }[] = [];
    for (let s = 0; s < this.numSlots; s++) {
      if (this.refOf[s] !== 0 && this.hasChunksIn(s, mint, maxt)) out.push({ slot: s, labels: this.labelsOf(s), ref: this.refOf[s]! });
      if ((s & 1023) === 0) await pacer.maybeYield();
    }
    const sorted = await sortAsync(out, (a, b) => Labels.compare(a.labels, b.labels), pacer);
    // Series collected before a yield may have been collected (garbage) since.
    return sorted.filter((x) => this.refOf[x.slot] === x.ref);
  }

  // =====================================================================
  // deletion, truncation and garbage collection
  // =====================================================================

  /** Marks [mint, maxt] deleted for the given slots and returns the (ref, mint, maxt) WAL record. */
  deleteRange(slots: Uint32Array, mint: number, maxt: number): Buffer | null {
    if (slots.length === 0) return null;
    const refs: number[] = [];
    for (const s of slots) {
      this.tombstones.set(s, addInterval(this.tombstones.get(s), mint, maxt));
      refs.push(this.refOf[s]!);
    }
    const e = new Encbuf(64 + slots.length * 12);
    encodeTombstones(e, refs, refs.map(() => mint), refs.map(() => maxt), refs.length);
    return Buffer.from(e.get());
  }

  /** Applies a replayed tombstone. */
  replayTombstone(ref: number, mint: number, maxt: number): void {
    const slot = this.byRef.get(ref);
    if (slot < 0) return;
    this.tombstones.set(slot, addInterval(this.tombstones.get(slot), mint, maxt));
  }

  /** True when the head spans enough time to cut a block out of it (1.5 chunk ranges). */
  compactable(): boolean {
    return Number.isFinite(this.minTime) && Number.isFinite(this.maxTime) && this.maxTime - this.minTime > (this.chunkRange / 2) * 3;
  }

  private isPending(slot: number): boolean {
    return this.openAppenders.has(this.pendMark[slot]!);
  }

  /**
   * Drops all data older than mint. New samples and queries stop seeing that
   * range at once; the memory is reclaimed (gc) when the queriers that were
   * open at this moment have closed, so they keep reading what they saw, as
   * Prometheus waits for pending readers before truncating.
   */
  truncate(mint: number): void {
    this.metrics.headTruncations.inc();
    if (mint > this.minValidTime) this.minValidTime = mint;
    if (this.minTime < mint) this.minTime = mint;
    if (mint > this.gcMint) this.gcMint = mint;
    this.gcWm = this.nextReaderId;
    this.expireReaders();
  }

  /**
   * Garbage collection: frees chunks that end before mint, then series left
   * without chunks (unless an open appender holds them), their postings and
   * unused symbols.
   */
  private gc(mint: number): void {
    const start = performance.now();
    const dead = new Uint8Array(this.numSlots);
    let removedSeries = 0;
    let removedChunks = 0;
    for (let s = 0; s < this.numSlots; s++) {
      if (this.refOf[s] === 0) continue;
      let c = this.firstC[s]!;
      while (c !== NONE && this.cMaxT[c]! < mint) {
        const next = this.cNext[c]!;
        this.freeBytes(this.cAddr[c]!, this.cCls[c]!);
        this.release(1, c, 0);
        removedChunks++;
        c = next;
      }
      this.firstC[s] = c;
      if (c === NONE) this.lastC[s] = NONE;
      const tomb = this.tombstones.get(s);
      if (tomb !== undefined) {
        const kept: number[] = [];
        for (let i = 0; i < tomb.length; i += 2) if (tomb[i + 1]! >= mint) kept.push(tomb[i]!, tomb[i + 1]!);
        if (kept.length === 0) this.tombstones.delete(s);
        else if (kept.length !== tomb.length) this.tombstones.set(s, Float64Array.from(kept));
      }
      if (c === NONE && !this.isPending(s)) {
        this.removeSeries(s);
        dead[s] = 1;
        removedSeries++;
      }
    }
    if (removedSeries > 0) {
      for (const [nid, byValue] of this.postingsMap) {
        for (const [vid, l] of byValue) if (l.prune(dead) === 0) byValue.delete(vid);
        if (byValue.size === 0) this.postingsMap.delete(nid);
      }
      if (this.allList !== null && this.allList.prune(dead) === 0) this.allList = null;
      // Label offsets are only read synchronously, so the pool can move now.
      if (this.poolLive * 2 < this.poolLen) this.compactPool();
    }
    this.numChunks -= removedChunks;
    this.metrics.chunksRemoved.inc(removedChunks);
    this.metrics.headSeriesRemoved.inc(removedSeries);
    if (this.numSeries === 0) {
      this.minTime = Infinity;
      this.maxTime = -Infinity;
    }
    this.metrics.headGCDuration.observe((performance.now() - start) / 1000);
  }

  private removeSeries(s: number): void {
    const ref = this.refOf[s]!;
    this.byHash.remove(this.hashOf[s]!, s);
    this.byRef.remove(ref, s);
    const al = this.aliases.get(s);
    if (al !== undefined) {
      for (const r of al) this.byRef.remove(r, s);
      this.aliases.delete(s);
    }
    const off = this.lblOff[s]!;
    const n = this.lblLen[s]!;
    for (let i = 0; i < 2 * n; i++) this.symbols.unref(this.pool[off + i]!);
    this.poolLive -= 2 * n;
    this.refOf[s] = 0;
    this.lastT[s] = -Infinity;
    this.tombstones.delete(s);
    this.numSeries--;
    this.release(2, s, 0);
  }

  /** Refs of all live series (for WAL checkpoints: which records to keep). */
  hasRef(ref: number): boolean {
    return this.byRef.get(ref) >= 0;
  }

  // =====================================================================
  // statistics
  // =====================================================================

  stats(limit: number): TSDBStatus {
    const byMetric: Stat[] = [];
    const byLabel: Stat[] = [];
    const mem: Stat[] = [];
    const pairs: Stat[] = [];
    let numLabelPairs = 0;
    const nameId = this.symbols.lookup(METRIC_NAME);
    for (const [nid, byValue] of this.postingsMap) {
      const name = this.symbols.str(nid);
      byLabel.push({ name, value: byValue.size });
      numLabelPairs += byValue.size;
      let size = 0;
      const nameBytes = Buffer.byteLength(name);
      for (const [vid, l] of byValue) {
        const value = this.symbols.str(vid);
        if (nid === nameId) byMetric.push({ name: value, value: l.n });
        pairs.push({ name: `${name}=${value}`, value: l.n });
        const vb = Buffer.byteLength(value);
        size += (uvarintSize(nameBytes) + nameBytes + uvarintSize(vb) + vb) * l.n;
      }
      mem.push({ name, value: size });
    }
    const top = (xs: Stat[]): Stat[] => xs.sort((a, b) => b.value - a.value || (a.name < b.name ? -1 : 1)).slice(0, limit);
    return {
      headStats: {
        numSeries: this.numSeries,
        numLabelPairs,
        chunkCount: this.numChunks,
        minTime: Number.isFinite(this.minTime) ? this.minTime : 0,
        maxTime: Number.isFinite(this.maxTime) ? this.maxTime : 0,
      },
      seriesCountByMetricName: top(byMetric),
      labelValueCountByLabelName: top(byLabel),
      memoryInBytesByLabelName: top(mem),
      seriesCountByLabelValuePair: top(pairs),
    };
  }

  /** Bytes of typed-array bookkeeping (not chunk data), for diagnostics. */
  metadataBytes(): number {
    const perSlot =
      this.refOf.byteLength +
      this.hashOf.byteLength +
      this.lblOff.byteLength +
      this.lblLen.byteLength +
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
      this.pendMark.byteLength +
      this.pendIdx.byteLength +
      this.logged.byteLength;
    const perChunk =
      this.cAddr.byteLength +
      this.cCls.byteLength +
      this.cBytes.byteLength +
      this.cMinT.byteLength +
      this.cMaxT.byteLength +
      this.cNum.byteLength +
      this.cNext.byteLength;
    return perSlot + perChunk + this.pool.byteLength + this.byHash.bytes() + this.byRef.bytes();
  }
}

// =====================================================================
// appender
// =====================================================================

/** Initial pending capacity; scrapes of a few hundred samples never regrow. */
const PENDING_INITIAL = 256;
/** Buffer sets kept for reuse: one per concurrently open appender in the common case. */
const MAX_POOLED_BUFFERS = 16;
/** Buffers larger than this (a huge batch) are not kept, so one burst does not pin memory. */
const MAX_POOLED_CAPACITY = 1 << 16;

/** An appender's pending samples, struct of arrays; pooled by the head to avoid garbage per commit. */
export class PendingBuffers {
  slots = new Uint32Array(PENDING_INITIAL);
  refs = new Float64Array(PENDING_INITIAL);
  ts = new Float64Array(PENDING_INITIAL);
  his = new Uint32Array(PENDING_INITIAL);
  los = new Uint32Array(PENDING_INITIAL);
  keep = new Uint8Array(PENDING_INITIAL);

  grow(): void {
    const n = this.slots.length * 2;
    this.slots = growU32(this.slots, n);
    this.refs = growF64(this.refs, n);
    this.ts = growF64(this.ts, n);
    this.his = growU32(this.his, n);
    this.los = growU32(this.los, n);
    this.keep = new Uint8Array(n);
  }
}

export class HeadAppender implements Appender {
  private b: PendingBuffers;
  private n = 0;
  private done = false;
  private readonly minValid: number;

  constructor(
    private readonly head: Head,
    private readonly id: number,
  ) {
    this.minValid = head.appendableMinValidTime();
    this.b = head.takeBuffers();
  }

  append(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef {
    if (this.done) throw new Error('BUG: appender used after commit or rollback');
    const head = this.head;
    if (!(t >= this.minValid) || !Number.isInteger(t) || Math.abs(t) > MAX_ABS_TIMESTAMP) {
      head.metrics.outOfBoundSamples.inc({ type: 'float' });
      throw new OutOfBoundsError();
    }
    let slot = ref !== 0 ? head.slotByRef(ref) : NONE;
    if (slot < 0) slot = head.getOrCreate(labels);
    splitFloat(v);
    const hi = bitsHi();
    const lo = bitsLo();
    let lastT: number;
    let lhi: number;
    let llo: number;
    if (head.pendingMark(slot) === this.id) {
      const i = head.pendingIndex(slot);
      lastT = this.b.ts[i]!;
      lhi = this.b.his[i]!;
      llo = this.b.los[i]!;
    } else {
      lastT = head.lastT[slot]!;
      lhi = head.lastValueHi(slot);
      llo = head.lastValueLo(slot);
    }
    const sref = head.refOf[slot]!;
    if (t <= lastT) {
      if (t < lastT) {
        head.metrics.outOfOrderSamples.inc({ type: 'float' });
        throw new OutOfOrderSampleError();
      }
      // Exact duplicates are accepted and dropped (federation sends them legitimately).
      if (hi === lhi && lo === llo) return sref;
      head.metrics.duplicateSamples.inc({ type: 'float' });
      throw new DuplicateSampleError({ timestamp: t, existing: joinFloat(lhi, llo), newValue: v });
    }
    const b = this.b;
    if (this.n === b.slots.length) b.grow();
    const i = this.n++;
    b.slots[i] = slot;
    b.refs[i] = sref;
    b.ts[i] = t;
    b.his[i] = hi;
    b.los[i] = lo;
    head.setPending(slot, this.id, i);
    return sref;
  }

  commit(): void {
    if (this.done) throw new Error('BUG: appender used after commit or rollback');
    this.done = true;
    const head = this.head;
    try {
      if (this.n === 0) return;
      // Re-check order against what other appenders committed meanwhile, and
      // that the series still exists (garbage collection may have run).
      const { slots, refs, ts, his, los, keep } = this.b;
      keep.fill(0, 0, this.n);
      const mark = head.newMark();
      // The bound as of now: samples must not land in a range being compacted.
      const minValid = head.appendableMinValidTime();
      let kept = 0;
      let ooo = 0;
      let oob = 0;
      for (let i = 0; i < this.n; i++) {
        const s = slots[i]!;
        if (head.refOf[s] !== refs[i]) continue;
        const t = ts[i]!;
        if (t < minValid) {
          oob++;
          continue;
        }
        const prev = head.pendingMark(s) === mark ? ts[head.pendingIndex(s)]! : head.lastT[s]!;
        if (t <= prev) {
          if (t < prev) ooo++;
          continue;
        }
        head.setPending(s, mark, i);
        keep[i] = 1;
        kept++;
      }
      if (ooo > 0) head.metrics.outOfOrderSamples.inc({ type: 'float' }, ooo);
      if (oob > 0) head.metrics.outOfBoundSamples.inc({ type: 'float' }, oob);
      if (head.walLog !== null) this.log(kept);
      for (let i = 0; i < this.n; i++) {
        if (keep[i] === 1) head.appendSample(slots[i]!, ts[i]!, his[i]!, los[i]!);
      }
      if (kept > 0) {
        head.metrics.samplesAppended.inc({ type: 'float' }, kept);
        head.onCommit?.();
      }
    } finally {
      head.openAppenders.delete(this.id);
      head.returnBuffers(this.b);
    }
  }

  /** Writes one WAL record with the new series and the kept samples; throws when the write fails. */
  private log(kept: number): void {
    const head = this.head;
    const { slots, refs, ts, his, los, keep } = this.b;
    const e = head.recBuf;
    e.reset();
    e.putByte(REC_BATCH);
    // Series first: every series this batch touches that the WAL has not seen.
    const fresh: number[] = [];
    for (let i = 0; i < this.n; i++) {
      const s = slots[i]!;
      if (head.refOf[s] === refs[i] && !head.isLogged(s)) {
        head.markLogged(s);
        fresh.push(s);
      }
    }
    if (fresh.length === 0 && kept === 0) return;
    e.putUvarint(fresh.length);
    for (const s of fresh) head.encodeSeries(e, s);
    e.putUvarint(kept);
    let baseRef = -1;
    let baseT = 0;
    for (let i = 0; i < this.n; i++) {
      if (keep[i] !== 1) continue;
      if (baseRef < 0) {
        baseRef = refs[i]!;
        baseT = ts[i]!;
        e.putUvarint(baseRef);
        e.putVarint(baseT);
      }
      e.putVarint(refs[i]! - baseRef);
      e.putVarint(ts[i]! - baseT);
      e.putF64Bits(his[i]!, los[i]!);
    }
    try {
      head.walLog!(e.get());
    } catch (err) {
      // The series were not logged after all.
      for (const s of fresh) if (head.refOf[s] !== 0) head.unmarkLogged(s);
      throw err;
    } finally {
      // The WAL writes synchronously, so the bytes are no longer needed here.
      e.shrinkTo(REC_BUF_RETAINED);
    }
  }

  rollback(): void {
    if (this.done) return;
    this.done = true;
    this.n = 0;
    this.head.openAppenders.delete(this.id);
    this.head.returnBuffers(this.b);
  }
}

// =====================================================================
// querier
// =====================================================================

class HeadSeries implements Series {
  constructor(
    private readonly head: Head,
    private readonly slot: number,
    private readonly ref: number,
    readonly labels: Labels,
    private readonly mint: number,
    private readonly maxt: number,
    private readonly skipChunks: boolean,
  ) {}

  iterator(): SampleIterator {
    const head = this.head;
    if (this.skipChunks || head.refOf[this.slot] !== this.ref) return new EmptyIterator();
    const cl = new ChunkList();
    head.chunksOf(this.slot, this.mint, this.maxt, cl);
    return new ChunkSeriesIterator(cl, this.mint, this.maxt, head.tombstones.get(this.slot) ?? null);
  }
}

/** Unsorted selected series of the head, made when the reader reaches them. */
class HeadSeriesSet extends LazySeriesSet {
  private i = 0;

  constructor(
    private readonly head: Head,
    private readonly slots: Uint32Array,
    private readonly refs: Float64Array,
    private readonly mint: number,
    private readonly maxt: number,
    private readonly skipChunks: boolean,
  ) {
    super();
  }

  protected produce(): Series | null {
    const head = this.head;
    while (this.i < this.slots.length) {
      const k = this.i++;
      const slot = this.slots[k]!;
      const ref = this.refs[k]!;
      if (head.refOf[slot] !== ref || !head.hasVisibleChunksIn(slot, this.mint, this.maxt)) continue;
      return new HeadSeries(head, slot, ref, head.labelsOf(slot), this.mint, this.maxt, this.skipChunks);
    }
    return null;
  }
}

class HeadQuerier implements Querier {
  private readonly readerId: number;
  private closed = false;

  constructor(
    private readonly head: Head,
    private readonly mint: number,
    private readonly maxt: number,
  ) {
    this.readerId = head.acquireReader();
  }

  select(sortSeries: boolean, hints: SelectHints | null, ...matchers: Matcher[]): SeriesSet {
    const head = this.head;
    const mint = Math.max(this.mint, hints?.start ?? -Infinity);
    const maxt = Math.min(this.maxt, hints?.end ?? Infinity);
    const skip = hints?.func === 'series';
    const slots = matchers.length === 0 ? head.index.allPostings() : head.postingsForMatchers(matchers);
    if (!sortSeries) {
      // The series refs as of now: a slot freed and reused later (only after this reader timed out) is skipped.
      const refs = new Float64Array(slots.length);
      for (let i = 0; i < slots.length; i++) refs[i] = head.refOf[slots[i]!]!;
      return new HeadSeriesSet(head, slots, refs, mint, maxt, skip);
    }
    const out: Series[] = [];
    for (const s of slots) {
      if (!head.hasVisibleChunksIn(s, mint, maxt)) continue;
      out.push(new HeadSeries(head, s, head.refOf[s]!, head.labelsOf(s), mint, maxt, skip));
    }
    out.sort((a, b) => Labels.compare(a.labels, b.labels));
    return new ListSeriesSet(out);
  }

  labelValues(name: string, hints: LabelHints | null, ...matchers: Matcher[]): string[] {
    const v = this.head.labelValues(name, matchers);
    return hints?.limit && v.length > hints.limit ? v.slice(0, hints.limit) : v;
  }

  labelNames(hints: LabelHints | null, ...matchers: Matcher[]): string[] {
    const v = this.head.labelNames(matchers);
    return hints?.limit && v.length > hints.limit ? v.slice(0, hints.limit) : v;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.head.releaseReader(this.readerId);
  }
}
