// The chunks of one series as views into bytes (head pages or a block read),
// the iterator over them (range- and tombstone-aware; float chunks and
// native histogram chunks, a series may hold both over time), and the simple
// series sets both the head and blocks return. Shared by tsdb/head and the root.
import { isStaleNaN, STALE_NAN } from '../../model/value.js';
import type { FloatHistogram, Histogram } from '../../model/histogram.js';
import { ValueType, type FloatRun, type SampleIterator, type Series, type SeriesSet } from '../../storage/interface.js';
import { decodeFloatHistogramChunk, decodeHistogramChunk, ENC_HISTOGRAM } from '../chunkenc/histogram_chunk.js';
import { ENC_XOR, XorIterator } from '../chunkenc/xor.js';

/**
 * The chunks of one series, as views into bytes owned by the head (pages) or
 * by a block read (one buffer per series). count -1 means "read the header".
 * Made per series and query, so it holds two arrays rather than one per field.
 */
export class ChunkList {
  n = 0;
  readonly bufs: Uint8Array[] = [];
  /** Per chunk, META numbers: start, end, count, mint, maxt, encoding (ENC_XOR, ENC_HISTOGRAM or ENC_FLOAT_HISTOGRAM). */
  readonly meta: number[] = [];
  /** Set when the head knows the last chunk's newest sample (its open float chunk): its time and value bits. */
  lastKnown = false;
  lastT = 0;
  lastHi = 0;
  lastLo = 0;

  /** Records the newest sample of the last chunk pushed, a float with bits (hi, lo). */
  setLast(t: number, hi: number, lo: number): void {
    this.lastKnown = true;
    this.lastT = t;
    this.lastHi = hi;
    this.lastLo = lo;
  }

  /** Empties the list for another series' chunks, keeping the arrays' room (entries past n are stale). */
  clear(): void {
    this.n = 0;
    this.lastKnown = false;
  }

  push(buf: Uint8Array, start: number, end: number, count: number, mint: number, maxt: number, enc = ENC_XOR): void {
    const i = this.n;
    const m = this.meta;
    // Entries up to n are in use; writing at n extends the arrays by one entry at most.
    this.bufs[i] = buf;
    const k = i * META;
    m[k] = start;
    m[k + 1] = end;
    m[k + 2] = count;
    m[k + 3] = mint;
    m[k + 4] = maxt;
    m[k + 5] = enc;
    this.n = i + 1;
  }

  // Accessors for chunk i < n: meta holds META entries per chunk.
  start(i: number): number {
    return this.meta[i * META]!;
  }
  end(i: number): number {
    return this.meta[i * META + 1]!;
  }
  count(i: number): number {
    return this.meta[i * META + 2]!;
  }
  mint(i: number): number {
    return this.meta[i * META + 3]!;
  }
  maxt(i: number): number {
    return this.meta[i * META + 4]!;
  }
  enc(i: number): number {
    return this.meta[i * META + 5]!;
  }
}

const META = 6;

/** True when t falls in one of the sorted, disjoint [mint, maxt] intervals. */
export function isDeleted(intervals: Float64Array | null, t: number): boolean {
  if (intervals === null) return false;
  // i + 1 < intervals.length: intervals are stored as pairs.
  for (let i = 0; i < intervals.length; i += 2) {
    if (t < intervals[i]!) return false;
    if (t <= intervals[i + 1]!) return true;
  }
  return false;
}

/** True when [a, b] lies entirely inside one of the (merged) intervals. */
export function isCovered(intervals: Float64Array | null, a: number, b: number): boolean {
  if (intervals === null) return false;
  // i + 1 < intervals.length: intervals are stored as pairs.
  for (let i = 0; i < intervals.length; i += 2) if (intervals[i]! <= a && b <= intervals[i + 1]!) return true;
  return false;
}

/**
 * The samples of one histogram chunk (decoded when the iterator reaches it).
 * A histogram whose sum is the StaleNaN bits is a staleness marker.
 */
class HistogramChunkCursor {
  private gen: Generator<{ t: number; h: Histogram | FloatHistogram }> | null = null;
  ts = 0;
  h: Histogram | FloatHistogram | null = null;
  error: Error | null = null;
  isInt = false;

  reset(buf: Uint8Array, start: number, end: number, enc: number): void {
    const b = buf.subarray(start, end);
    this.isInt = enc === ENC_HISTOGRAM;
    this.gen = this.isInt ? decodeHistogramChunk(b) : decodeFloatHistogramChunk(b);
    this.h = null;
    this.error = null;
  }

  next(): boolean {
    if (this.gen === null) return false;
    try {
      const r = this.gen.next();
      if (r.done === true) {
        this.gen = null;
        return false;
      }
      this.ts = r.value.t;
      this.h = r.value.h;
      return true;
    } catch (e) {
      this.error = e instanceof Error ? e : new Error(String(e));
      this.gen = null;
      return false;
    }
  }
}

/** Iterates the samples of a ChunkList within [mint, maxt], skipping deleted intervals. */
export class ChunkSeriesIterator implements SampleIterator {
  private ci = -1;
  private readonly x = new XorIterator();
  /** The histogram cursor, made when the first histogram chunk is reached. */
  private hx: HistogramChunkCursor | null = null;
  /** What the loaded chunk holds: Float, Histogram or FloatHistogram. */
  private kind = ValueType.Float;
  private loaded = false;
  private valid = false;
  private done = false;
  private di = 0;
  private error: Error | null = null;

  constructor(
    private readonly cl: ChunkList,
    private mint: number,
    private maxt: number,
    private del: Float64Array | null,
  ) {}

  /** The chunk list this iterator reads: a caller reusing the iterator clears and refills it, then calls restart(). */
  get chunks(): ChunkList {
    return this.cl;
  }

  /** Starts over on what chunks() now holds, as a new iterator over (mint, maxt, del) would. */
  restart(mint: number, maxt: number, del: Float64Array | null): void {
    this.ci = -1;
    this.kind = ValueType.Float;
    this.loaded = false;
    this.valid = false;
    this.done = false;
    this.di = 0;
    this.error = null;
    this.mint = mint;
    this.maxt = maxt;
    this.del = del;
  }

  private finish(): ValueType {
    this.valid = false;
    this.done = true;
    return ValueType.None;
  }

  /** Loads the first chunk at index >= from whose maxt >= minT; false when there is none in range. */
  private load(from: number, minT: number): boolean {
    const cl = this.cl;
    let ci = from;
    // ci < cl.n, the number of chunks in the list.
    while (ci < cl.n && cl.maxt(ci) < minT) ci++;
    if (ci >= cl.n || cl.mint(ci) > this.maxt) return false;
    this.ci = ci;
    const enc = cl.enc(ci);
    if (enc === ENC_XOR) {
      this.kind = ValueType.Float;
      this.x.reset(cl.bufs[ci]!, cl.start(ci), cl.end(ci), cl.count(ci));
    } else {
      this.hx ??= new HistogramChunkCursor();
      this.hx.reset(cl.bufs[ci]!, cl.start(ci), cl.end(ci), enc);
      this.kind = enc === ENC_HISTOGRAM ? ValueType.Histogram : ValueType.FloatHistogram;
    }
    this.loaded = true;
    return true;
  }

  private deleted(t: number): boolean {
    const d = this.del!;
    // di + 1 < d.length: intervals are stored as pairs.
    while (this.di < d.length && d[this.di + 1]! < t) this.di += 2;
    return this.di < d.length && d[this.di]! <= t;
  }

  next(): ValueType {
    if (this.done) return ValueType.None;
    const x = this.x;
    for (;;) {
      if (!this.loaded && !this.load(this.ci + 1, this.mint)) return this.finish();
      const float = this.kind === ValueType.Float;
      // hx exists whenever a histogram chunk is loaded.
      if (float ? x.next() : this.hx!.next()) {
        const t = float ? x.ts : this.hx!.ts;
        if (t < this.mint) continue;
        if (t > this.maxt) return this.finish();
        if (this.del !== null && this.deleted(t)) continue;
        this.valid = true;
        return this.kind;
      }
      const e = float ? x.error : this.hx!.error;
      if (e !== null) {
        this.error = e;
        return this.finish();
      }
      this.loaded = false;
    }
  }

  seek(t: number): ValueType {
    if (this.done) return ValueType.None;
    if (this.valid && this.t() >= t) return this.kind;
    // Skip whole chunks that end before t.
    // ci < cl.n while a chunk is loaded.
    if (!this.loaded || this.cl.maxt(this.ci) < t) {
      if (!this.load(this.ci + 1, Math.max(t, this.mint))) return this.finish();
    }
    if (this.kind === ValueType.Float && this.del === null) {
      // Skip inside the decoder: no per-sample range checks, values not materialized.
      const x = this.x;
      if (x.seekTo(Math.max(t, this.mint))) {
        if (x.ts > this.maxt) return this.finish();
        this.valid = true;
        return ValueType.Float;
      }
      if (x.error !== null) {
        this.error = x.error;
        return this.finish();
      }
      // The chunk ended before t: the loop below goes on from the next one.
      this.loaded = false;
    }
    for (;;) {
      const r = this.next();
      if (r === ValueType.None || this.t() >= t) return r;
    }
  }

  /** Places the iterator on the newest sample the chunk list knows, when that answers for t without decoding. */
  newestFloatAtOrBefore(t: number): boolean {
    const cl = this.cl;
    if (!cl.lastKnown || this.del !== null || this.loaded || this.done || cl.n === 0) return false;
    const lt = cl.lastT;
    // An older sample would be the answer (or none is in range): decoding finds it.
    if (lt > t || lt > this.maxt || lt < this.mint) return false;
    this.ci = cl.n - 1;
    this.kind = ValueType.Float;
    this.x.placeAt(lt, cl.lastHi, cl.lastLo);
    this.loaded = true;
    this.valid = true;
    return true;
  }

  readFloats(to: number, keepStale: boolean, run: FloatRun): ValueType {
    const x = this.x;
    const T = run.t;
    const V = run.v;
    let n = run.n;
    let r: ValueType = this.kind;
    // While r is Float the current sample is the float decoder's.
    while (r === ValueType.Float) {
      const t = x.ts;
      if (t > to) break;
      const v = x.v();
      if (keepStale || !isStaleNaN(v)) {
        if (n === T.length) break;
        // n < T.length = V.length (FloatRun's arrays have equal lengths).
        T[n] = t;
        V[n] = v;
        n++;
      }
      r = this.next();
    }
    run.n = n;
    return r;
  }

  t(): number {
    return this.kind === ValueType.Float ? this.x.ts : this.hx!.ts;
  }

  /** The float value; for a histogram staleness marker, StaleNaN (callers that read v() of histograms see markers). */
  v(): number {
    if (this.kind === ValueType.Float) return this.x.v();
    const h = this.hx!.h;
    return h !== null && isStaleNaN(h.sum) ? STALE_NAN : 0;
  }

  atHistogram(): Histogram {
    const h = this.hx!.h!;
    if (this.hx!.isInt) return h as Histogram;
    throw new Error('BUG: atHistogram() on a float histogram sample');
  }

  atFloatHistogram(): FloatHistogram {
    const h = this.hx!.h!;
    return this.hx!.isInt ? (h as Histogram).toFloat() : (h as FloatHistogram);
  }

  err(): Error | null {
    return this.error;
  }
}

export class EmptyIterator implements SampleIterator {
  next(): ValueType {
    return ValueType.None;
  }
  seek(): ValueType {
    return ValueType.None;
  }
  t(): number {
    return 0;
  }
  v(): number {
    return 0;
  }
  err(): Error | null {
    return null;
  }
}

export class ListSeriesSet implements SeriesSet {
  private i = -1;
  constructor(
    private readonly list: Series[],
    private readonly warns: readonly string[] = [],
    private readonly error: Error | null = null,
  ) {}
  next(): boolean {
    if (this.i < this.list.length) this.i++;
    return this.i < this.list.length;
  }
  at(): Series {
    // Called after next() returned true: i < list.length.
    return this.list[this.i]!;
  }
  err(): Error | null {
    return this.error;
  }
  warnings(): readonly string[] {
    return this.warns;
  }
}

export const EMPTY_SERIES_SET: SeriesSet = new ListSeriesSet([]);

