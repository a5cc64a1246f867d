// Native histogram chunks in Prometheus's published layout (encoding 2 for
// integer histograms, 3 for float histograms; see docs/storage-format.md):
//
//   uint16 BE sample count | flags byte (top two bits: counter reset header)
//   zero threshold (1 byte, or 0xff and 8 bytes) | schema <varbit_int>
//   positive spans | negative spans | custom bounds (schema -53 only)
//   samples: the first absolute, the second as deltas, then delta-of-deltas
//   (integer chunks) or XOR against the previous value (float chunks).
//
// The appender follows Prometheus's rules: a sample whose layout adds buckets
// recodes the chunk (all samples re-encoded with the wider layout); a counter
// reset, a schema or zero-threshold change, or a switch between gauge and
// counter histograms asks for a new chunk. Imports model/ only for the
// histogram types (tsdb/chunkenc sits above model/).
import {
  CounterResetHint,
  FloatHistogram,
  Histogram,
  type HistogramInit,
  isCustomBucketsSchema,
  isKnownSchema,
  type Span,
  unknownSchemaError,
  EXPONENTIAL_SCHEMA_MAX,
} from '../../model/histogram.js';
import { isStaleNaN, STALE_NAN } from '../../model/value.js';
import { bitsHi, bitsLo, joinFloat, splitFloat } from './float_bits.js';

/** Encoding bytes in chunk files, as Prometheus numbers them. */
export const ENC_HISTOGRAM = 2;
export const ENC_FLOAT_HISTOGRAM = 3;
export const HISTOGRAM_HEADER_SIZE = 3;

/** The counter reset header: the two top bits of the flags byte. */
export const enum CounterResetHeader {
  Unknown = 0b0000_0000,
  CounterReset = 0b1000_0000,
  NotCounterReset = 0b0100_0000,
  Gauge = 0b1100_0000,
}
const HEADER_MASK = 0b1100_0000;
const MAX_SAMPLES = 0xffff;

export class ChunkDecodeError extends Error {
  override readonly name = 'ChunkDecodeError';
}

/** Why an append-only append was refused (Prometheus's texts). */
export class ChunkAppendError extends Error {
  override readonly name = 'ChunkAppendError';
}

const TWO32 = 0x1_0000_0000;

// ---- bit streams ----

/** A growable MSB-first bit writer. */
class Writer {
  buf = new Uint8Array(64);
  bit = 0;

  private ensure(bits: number): void {
    const need = (this.bit + bits + 7) >>> 3;
    if (need <= this.buf.length) return;
    const nb = new Uint8Array(Math.max(need, this.buf.length * 2));
    nb.set(this.buf);
    this.buf = nb;
  }

  writeBit(b: number): void {
    this.writeBits(b, 1);
  }

  /** The low n (<= 32) bits of v. */
  writeBits(v: number, n: number): void {
    this.ensure(n);
    let p = this.bit;
    while (n > 0) {
      const idx = p >>> 3;
      const free = 8 - (p & 7);
      const take = free < n ? free : n;
      const part = (v >>> (n - take)) & ((1 << take) - 1);
      this.buf[idx]! |= part << (free - take);
      p += take;
      n -= take;
    }
    this.bit = p;
  }

  /** The low n (<= 64) bits of the 64-bit value hi:lo. */
  writeBits64(hi: number, lo: number, n: number): void {
    if (n > 32) {
      this.writeBits(hi, n - 32);
      this.writeBits(lo, 32);
    } else {
      this.writeBits(lo, n);
    }
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, (this.bit + 7) >>> 3);
  }
}

class Reader {
  private pos: number;
  private readonly end: number;
  constructor(
    private readonly buf: Uint8Array,
    startByte: number,
  ) {
    this.pos = startByte * 8;
    this.end = buf.length * 8;
  }

  readBits(n: number): number {
    if (this.pos + n > this.end) throw new ChunkDecodeError('unexpected end of histogram chunk');
    let v = 0;
    let p = this.pos;
    while (n > 0) {
      const byte = this.buf[p >>> 3]!;
      const avail = 8 - (p & 7);
      const take = avail < n ? avail : n;
      v = v * (1 << take) + ((byte >>> (avail - take)) & ((1 << take) - 1));
      p += take;
      n -= take;
    }
    this.pos = p;
    return v;
  }

  readBit(): number {
    return this.readBits(1);
  }

  /** n (<= 64) bits as [hi, lo]. */
  readBits64(n: number): [number, number] {
    if (n > 32) {
      const hi = this.readBits(n - 32);
      return [hi, this.readBits(32)];
    }
    return [0, this.readBits(n)];
  }
}

// ---- varbit integers (Prometheus's <varbit_int> / <varbit_uint>) ----

/** Payload widths after 1..8 leading one bits (0 bits: the value 0). */
const VARBIT_WIDTHS = [3, 6, 9, 12, 18, 25, 56];

/** Signed: width w holds -(2^(w-1) - 1) .. 2^(w-1). */
function putVarbitInt(w: Writer, v: number): void {
  if (v === 0) {
    w.writeBit(0);
    return;
  }
  for (let i = 0; i < VARBIT_WIDTHS.length; i++) {
    const width = VARBIT_WIDTHS[i]!;
    const lim = 2 ** (width - 1);
    if (v >= -(lim - 1) && v <= lim) {
      // i+1 one bits, then a zero (except after the 8th, which has none).
      if (i + 1 < 8) w.writeBits(((1 << (i + 1)) - 1) << 1, i + 2);
      else w.writeBits(0xff, 8);
      writeTwos(w, v, width);
      return;
    }
  }
  w.writeBits(0xff, 8);
  writeTwos(w, v, 64);
}

/** The low `width` bits of v's two's complement. */
function writeTwos(w: Writer, v: number, width: number): void {
  if (width <= 32) {
    w.writeBits(v >>> 0, width);
    return;
  }
  const hi = Math.floor(v / TWO32);
  const lo = v - hi * TWO32;
  w.writeBits64(hi >>> 0, lo >>> 0, width);
}

function putVarbitUint(w: Writer, v: number): void {
  if (v === 0) {
    w.writeBit(0);
    return;
  }
  for (let i = 0; i < VARBIT_WIDTHS.length; i++) {
    const width = VARBIT_WIDTHS[i]!;
    if (v < 2 ** width) {
      if (i + 1 < 8) w.writeBits(((1 << (i + 1)) - 1) << 1, i + 2);
      else w.writeBits(0xff, 8);
      writeTwos(w, v, width);
      return;
    }
  }
  w.writeBits(0xff, 8);
  writeTwos(w, v, 64);
}

/** Number of leading one bits (0..8) of a varbit prefix. */
function readPrefix(r: Reader): number {
  let ones = 0;
  while (ones < 8 && r.readBit() === 1) ones++;
  return ones;
}

function readVarbitInt(r: Reader): number {
  const ones = readPrefix(r);
  if (ones === 0) return 0;
  const width = ones === 8 ? 64 : VARBIT_WIDTHS[ones - 1]!;
  if (width <= 32) {
    let v = r.readBits(width);
    if (v > 2 ** (width - 1)) v -= 2 ** width;
    return v;
  }
  const [hi, lo] = r.readBits64(width);
  const hiBits = width - 32;
  // Signed when the value exceeds 2^(width-1), i.e. the top bit is set and the rest is not all zero.
  const top = 2 ** (hiBits - 1);
  if (hi > top || (hi === top && lo > 0) || (width === 64 && hi >= top)) return (hi - 2 ** hiBits) * TWO32 + lo;
  return hi * TWO32 + lo;
}

function readVarbitUint(r: Reader): number {
  const ones = readPrefix(r);
  if (ones === 0) return 0;
  const width = ones === 8 ? 64 : VARBIT_WIDTHS[ones - 1]!;
  if (width <= 32) return r.readBits(width);
  const [hi, lo] = r.readBits64(width);
  return hi * TWO32 + lo;
}

// ---- XOR values (Prometheus's <varbit_xor>) ----

/** XOR window state of one float series within a chunk. */
class XorState {
  hi = 0;
  lo = 0;
  leading = 0xff;
  trailing = 0;

  set(v: number): void {
    splitFloat(v);
    this.hi = bitsHi();
    this.lo = bitsLo();
  }

  value(): number {
    return joinFloat(this.hi, this.lo);
  }

  write(w: Writer, v: number): void {
    splitFloat(v);
    const nhi = bitsHi();
    const nlo = bitsLo();
    let dh = (nhi ^ this.hi) >>> 0;
    let dl = (nlo ^ this.lo) >>> 0;
    this.hi = nhi;
    this.lo = nlo;
    if (dh === 0 && dl === 0) {
      w.writeBit(0);
      return;
    }
    w.writeBit(1);
    let lead = dh !== 0 ? Math.clz32(dh) : 32 + Math.clz32(dl);
    const trail = dl !== 0 ? 31 - Math.clz32(dl & -dl) : 32 + (31 - Math.clz32(dh & -dh));
    if (lead >= 32) lead = 31;
    let shift: number;
    let sig: number;
    if (this.leading !== 0xff && lead >= this.leading && trail >= this.trailing) {
      w.writeBit(0);
      shift = this.trailing;
      sig = 64 - this.leading - this.trailing;
    } else {
      this.leading = lead;
      this.trailing = trail;
      w.writeBit(1);
      w.writeBits(lead, 5);
      sig = 64 - lead - trail;
      w.writeBits(sig & 63, 6);
      shift = trail;
    }
    if (shift >= 32) {
      dl = dh >>> (shift - 32);
      dh = 0;
    } else if (shift > 0) {
      dl = ((dl >>> shift) | (dh << (32 - shift))) >>> 0;
      dh = dh >>> shift;
    }
    w.writeBits64(dh, dl, sig);
  }

  read(r: Reader): void {
    if (r.readBit() === 0) return;
    let sig: number;
    let trail: number;
    if (r.readBit() === 0) {
      trail = this.trailing;
      sig = 64 - this.leading - this.trailing;
    } else {
      const lead = r.readBits(5);
      sig = r.readBits(6);
      if (sig === 0) sig = 64;
      trail = 64 - lead - sig;
      this.leading = lead;
      this.trailing = trail;
    }
    if (sig <= 0 || trail < 0) throw new ChunkDecodeError('invalid XOR window in histogram chunk');
    let [dh, dl] = r.readBits64(sig);
    if (trail >= 32) {
      dh = (dl << (trail - 32)) >>> 0;
      dl = 0;
    } else if (trail > 0) {
      dh = ((dh << trail) | (dl >>> (32 - trail))) >>> 0;
      dl = (dl << trail) >>> 0;
    }
    this.hi = (this.hi ^ dh) >>> 0;
    this.lo = (this.lo ^ dl) >>> 0;
  }
}

// ---- layout ----

interface Layout {
  schema: number;
  zeroThreshold: number;
  positiveSpans: Span[];
  negativeSpans: Span[];
  customValues: number[];
}

function putZeroThreshold(w: Writer, t: number): void {
  if (t === 0) {
    w.writeBits(0, 8);
    return;
  }
  // A power of two 2^(e-1) with e in -242..11 is one byte e + 243.
  if (t > 0 && Number.isFinite(t)) {
    const e = Math.floor(Math.log2(t)) + 1;
    for (const ee of [e - 1, e, e + 1]) {
      if (ee >= -242 && ee <= 11 && 2 ** (ee - 1) === t) {
        w.writeBits(ee + 243, 8);
        return;
      }
    }
  }
  splitFloat(t);
  const hi = bitsHi();
  const lo = bitsLo();
  w.writeBits(0xff, 8);
  w.writeBits64(hi, lo, 64);
}

function readZeroThreshold(r: Reader): number {
  const b = r.readBits(8);
  if (b === 0) return 0;
  if (b === 0xff) {
    const [hi, lo] = r.readBits64(64);
    return joinFloat(hi, lo);
  }
  return 2 ** (b - 243 - 1);
}

/** Custom bounds: y = x*1000 in 0..33554430 and integral as varbit_uint y+1, else a 0 bit and the float. */
function putCustomBound(w: Writer, f: number): void {
  const tf = f * 1000;
  const whole = Math.round(tf) / 1000 === f && Math.round(tf) >= 0;
  if (tf < 0 || tf > 33554430 || !whole) {
    w.writeBit(0);
    splitFloat(f);
    const hi = bitsHi();
    const lo = bitsLo();
    w.writeBits64(hi, lo, 64);
    return;
  }
  putVarbitUint(w, Math.round(tf) + 1);
}

function readCustomBound(r: Reader): number {
  const v = readVarbitUint(r);
  if (v === 0) {
    const [hi, lo] = r.readBits64(64);
    return joinFloat(hi, lo);
  }
  return (v - 1) / 1000;
}

function putSpans(w: Writer, spans: readonly Span[]): void {
  putVarbitUint(w, spans.length);
  for (const s of spans) {
    putVarbitUint(w, s.length);
    putVarbitInt(w, s.offset);
  }
}

/** Spans are bounded by the chunk's own size: a span costs at least two bits. */
function readSpans(r: Reader): Span[] {
  const n = readVarbitUint(r);
  const out: Span[] = [];
  for (let i = 0; i < n; i++) {
    const length = readVarbitUint(r);
    const offset = readVarbitInt(r);
    out.push({ offset, length });
  }
  return out;
}

function putLayout(w: Writer, l: Layout): void {
  putZeroThreshold(w, l.zeroThreshold);
  putVarbitInt(w, l.schema);
  putSpans(w, l.positiveSpans);
  putSpans(w, l.negativeSpans);
  if (isCustomBucketsSchema(l.schema)) {
    putVarbitUint(w, l.customValues.length);
    for (const v of l.customValues) putCustomBound(w, v);
  }
}

function readLayout(r: Reader): Layout {
  const zeroThreshold = readZeroThreshold(r);
  const schema = readVarbitInt(r);
  const positiveSpans = readSpans(r);
  const negativeSpans = readSpans(r);
  const customValues: number[] = [];
  if (isCustomBucketsSchema(schema)) {
    const n = readVarbitUint(r);
    for (let i = 0; i < n; i++) customValues.push(readCustomBound(r));
  }
  if (!isKnownSchema(schema)) throw unknownSchemaError(schema);
  return { schema, zeroThreshold, positiveSpans, negativeSpans, customValues };
}

function countSpans(spans: readonly Span[]): number {
  let n = 0;
  for (const s of spans) n += s.length;
  return n;
}

/** Absolute bucket indexes of a layout side, skipping empty spans as Prometheus's bucket iterator does. */
function indexesOf(spans: readonly Span[]): number[] {
  const out: number[] = [];
  let idx = 0;
  for (const s of spans) {
    idx += s.offset;
    for (let j = 0; j < s.length; j++) out.push(idx++);
  }
  return out;
}

function spansFor(indexes: readonly number[]): Span[] {
  const spans: Span[] = [];
  let last = 0;
  for (const idx of indexes) {
    const top = spans[spans.length - 1];
    if (top !== undefined && idx === last + 1) spans[spans.length - 1] = { offset: top.offset, length: top.length + 1 };
    else spans.push({ offset: spans.length === 0 ? idx : idx - last - 1, length: 1 });
    last = idx;
  }
  return spans;
}

/** Outcome of comparing a chunk's last sample (a) with a new one (b), one side at a time. */
interface Expansion {
  ok: boolean;
  /** b has buckets a lacks: the chunk must be recoded. */
  forward: boolean;
  /** a has (empty) buckets b lacks: b gets zeros there. */
  backward: boolean;
  union: number[];
}

const UNCHANGED: Expansion = { ok: true, forward: false, backward: false, union: [] };

function sameSpans(a: readonly Span[], b: readonly Span[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.offset !== b[i]!.offset || a[i]!.length !== b[i]!.length) return false;
  return true;
}

/** Counter histograms: a bucket may only appear, or vanish when it was empty, and never decrease. */
function expandCounter(aSpans: readonly Span[], aAbs: ArrayLike<number>, bSpans: readonly Span[], bAbs: ArrayLike<number>): Expansion {
  // The common case, an unchanged layout, needs no index walk.
  if (aAbs.length === bAbs.length && sameSpans(aSpans, bSpans)) {
    for (let i = 0; i < aAbs.length; i++) if (aAbs[i]! > bAbs[i]!) return { ok: false, forward: false, backward: false, union: [] };
    return UNCHANGED;
  }
  const ai = indexesOf(aSpans);
  const bi = indexesOf(bSpans);
  const union: number[] = [];
  let forward = false;
  let backward = false;
  let i = 0;
  let j = 0;
  while (i < ai.length || j < bi.length) {
    if (i < ai.length && j < bi.length && ai[i] === bi[j]) {
      if (aAbs[i]! > bAbs[j]!) return { ok: false, forward, backward, union };
      union.push(ai[i]!);
      i++;
      j++;
    } else if (j >= bi.length || (i < ai.length && ai[i]! < bi[j]!)) {
      if (aAbs[i] !== 0) return { ok: false, forward, backward, union };
      backward = true;
      union.push(ai[i++]!);
    } else {
      forward = true;
      union.push(bi[j++]!);
    }
  }
  return { ok: true, forward, backward, union };
}

/** Gauge histograms: any layout change is fine; the union of both layouts is used. */
function expandGauge(aSpans: readonly Span[], bSpans: readonly Span[]): Expansion {
  // The union is needed even when this side is unchanged: a change on the other side rewrites both.
  if (sameSpans(aSpans, bSpans)) return { ok: true, forward: false, backward: false, union: indexesOf(aSpans) };
  const ai = indexesOf(aSpans);
  const bi = indexesOf(bSpans);
  const set = new Set([...ai, ...bi]);
  const union = [...set].sort((x, y) => x - y);
  return { ok: true, forward: union.length > ai.length, backward: union.length > bi.length, union };
}

/** Absolute counts of `abs` (laid out as `spans`) placed into the layout `target` (a superset), zeros elsewhere. */
function expandTo(spans: readonly Span[], abs: ArrayLike<number>, target: readonly Span[]): Float64Array {
  const from = indexesOf(spans);
  const to = indexesOf(target);
  const out = new Float64Array(to.length);
  let k = 0;
  for (let i = 0; i < to.length && k < from.length; i++) {
    if (to[i] === from[k]) out[i] = abs[k++]!;
  }
  return out;
}

function absolute(deltas: ArrayLike<number>): Float64Array {
  const out = new Float64Array(deltas.length);
  let c = 0;
  for (let i = 0; i < deltas.length; i++) out[i] = c += deltas[i]!;
  return out;
}

function deltasOf(abs: ArrayLike<number>): Float64Array {
  const out = new Float64Array(abs.length);
  let prev = 0;
  for (let i = 0; i < abs.length; i++) {
    out[i] = abs[i]! - prev;
    prev = abs[i]!;
  }
  return out;
}

function hintHeader(h: CounterResetHint): CounterResetHeader {
  switch (h) {
    case CounterResetHint.CounterReset:
      return CounterResetHeader.CounterReset;
    case CounterResetHint.NotCounterReset:
      return CounterResetHeader.NotCounterReset;
    case CounterResetHint.Gauge:
      return CounterResetHeader.Gauge;
    default:
      return CounterResetHeader.Unknown;
  }
}

/** The hint a decoded sample carries: gauge chunks say gauge, samples after the first say no reset, the first says unknown. */
function hintOf(header: CounterResetHeader, index: number): CounterResetHint {
  if (header === CounterResetHeader.Gauge) return CounterResetHint.Gauge;
  return index > 0 ? CounterResetHint.NotCounterReset : CounterResetHint.Unknown;
}

/** What an append did: the chunk holding the sample now, whether it is a new chunk (the old one is complete) or a recoded copy (it replaces the old one). */
export interface AppendResult<C> {
  readonly chunk: C;
  readonly newChunk: boolean;
  readonly recoded: boolean;
}

interface AnyHistogram {
  readonly counterResetHint: CounterResetHint;
  readonly schema: number;
  readonly zeroThreshold: number;
  readonly zeroCount: number;
  readonly count: number;
  readonly sum: number;
  readonly positiveSpans: readonly Span[];
  readonly negativeSpans: readonly Span[];
  readonly customValues: Float64Array;
}

/** The shared part of both chunk kinds: header, layout, append decisions. */
abstract class HistogramChunkBase<H extends AnyHistogram, C extends HistogramChunkBase<H, C>> {
  protected readonly w = new Writer();
  protected num = 0;
  protected layout: Layout = { schema: 0, zeroThreshold: 0, positiveSpans: [], negativeSpans: [], customValues: [] };
  protected t = 0;
  protected tDelta = 0;
  /** Absolute bucket counts of the last sample, for the append checks. */
  protected lastPos: Float64Array = new Float64Array(0);
  protected lastNeg: Float64Array = new Float64Array(0);
  protected lastCount = 0;
  protected lastZeroCount = 0;
  protected lastSumStale = false;

  constructor() {
    this.w.writeBits(0, 24);
  }

  protected abstract create(): C;
  protected abstract encode(t: number, h: H): void;
  protected abstract absoluteOf(h: H, positive: boolean): Float64Array;
  /** h with the given layout and absolute counts. */
  protected abstract withBuckets(h: H, pSpans: Span[], pAbs: Float64Array, nSpans: Span[], nAbs: Float64Array): H;
  abstract iterator(): Iterable<{ t: number; h: H }>;

  numSamples(): number {
    return this.num;
  }

  bytes(): Uint8Array {
    return this.w.bytes();
  }

  counterResetHeader(): CounterResetHeader {
    return (this.w.buf[2]! & HEADER_MASK) as CounterResetHeader;
  }

  protected setHeader(h: CounterResetHeader): void {
    this.w.buf[2] = (this.w.buf[2]! & ~HEADER_MASK) | h;
  }

  protected bumpCount(): void {
    this.num++;
    this.w.buf[0] = this.num >>> 8;
    this.w.buf[1] = this.num & 0xff;
  }

  /** Counter check against the last sample (Prometheus's appendable): ok, or the header a new chunk would get. */
  appendable(h: H): { ok: boolean; header: CounterResetHeader; p: Expansion | null; n: Expansion | null } {
    const no = (header: CounterResetHeader): { ok: boolean; header: CounterResetHeader; p: null; n: null } => ({ ok: false, header, p: null, n: null });
    if (this.num > 0 && this.counterResetHeader() === CounterResetHeader.Gauge) return no(CounterResetHeader.NotCounterReset);
    if (h.counterResetHint === CounterResetHint.CounterReset) return no(CounterResetHeader.CounterReset);
    if (isStaleNaN(h.sum)) return { ok: true, header: CounterResetHeader.NotCounterReset, p: null, n: null };
    if (this.lastSumStale) return no(CounterResetHeader.Unknown);
    if (h.count < this.lastCount) return no(CounterResetHeader.CounterReset);
    if (h.schema !== this.layout.schema || h.zeroThreshold !== this.layout.zeroThreshold) return no(CounterResetHeader.Unknown);
    if (isCustomBucketsSchema(h.schema) && !sameValues(h.customValues, this.layout.customValues)) return no(CounterResetHeader.CounterReset);
    if (h.zeroCount < this.lastZeroCount) return no(CounterResetHeader.CounterReset);
    const p = expandCounter(this.layout.positiveSpans, this.lastPos, h.positiveSpans, this.absoluteOf(h, true));
    if (!p.ok) return no(CounterResetHeader.CounterReset);
    const n = expandCounter(this.layout.negativeSpans, this.lastNeg, h.negativeSpans, this.absoluteOf(h, false));
    if (!n.ok) return no(CounterResetHeader.CounterReset);
    return { ok: true, header: CounterResetHeader.NotCounterReset, p, n };
  }

  private appendableGauge(h: H): { ok: boolean; p: Expansion | null; n: Expansion | null } {
    if (this.num > 0 && this.counterResetHeader() !== CounterResetHeader.Gauge) return { ok: false, p: null, n: null };
    if (isStaleNaN(h.sum)) return { ok: true, p: null, n: null };
    if (this.lastSumStale) return { ok: false, p: null, n: null };
    if (h.schema !== this.layout.schema || h.zeroThreshold !== this.layout.zeroThreshold) return { ok: false, p: null, n: null };
    if (isCustomBucketsSchema(h.schema) && !sameValues(h.customValues, this.layout.customValues)) return { ok: false, p: null, n: null };
    return { ok: true, p: expandGauge(this.layout.positiveSpans, h.positiveSpans), n: expandGauge(this.layout.negativeSpans, h.negativeSpans) };
  }

  /**
   * Appends h at t (t after the last sample; the caller checks order).
   * `prev` is the series' previous chunk, consulted for the counter reset
   * header of a fresh chunk. With appendOnly, anything but a plain append
   * throws ChunkAppendError instead of cutting or recoding.
   */
  append(t: number, h: H, prev: C | null = null, appendOnly = false): AppendResult<C> {
    if (this.num >= MAX_SAMPLES) throw new ChunkAppendError('chunk capacity exceeded');
    const self = this as unknown as C;
    if (this.num === 0) {
      this.encode(t, h);
      if (h.counterResetHint === CounterResetHint.Gauge) this.setHeader(CounterResetHeader.Gauge);
      else if (h.counterResetHint === CounterResetHint.CounterReset) this.setHeader(CounterResetHeader.CounterReset);
      else if (prev !== null && prev.num > 0) this.setHeader(prev.appendable(h).header);
      return { chunk: self, newChunk: false, recoded: false };
    }
    const gauge = h.counterResetHint === CounterResetHint.Gauge;
    let p: Expansion | null;
    let n: Expansion | null;
    if (!gauge) {
      const a = this.appendable(h);
      if (!a.ok || a.header !== CounterResetHeader.NotCounterReset) {
        if (appendOnly) throw new ChunkAppendError(a.header === CounterResetHeader.CounterReset ? 'histogram counter reset' : 'histogram schema change');
        const c = this.create();
        c.setHeader(a.header);
        c.encode(t, h);
        return { chunk: c, newChunk: true, recoded: false };
      }
      p = a.p;
      n = a.n;
    } else {
      const a = this.appendableGauge(h);
      if (!a.ok) {
        if (appendOnly) throw new ChunkAppendError('gauge histogram schema change');
        const c = this.create();
        c.setHeader(CounterResetHeader.Gauge);
        c.encode(t, h);
        return { chunk: c, newChunk: true, recoded: false };
      }
      p = a.p;
      n = a.n;
    }
    if (p === null || n === null) {
      // A staleness marker: no layout to reconcile.
      this.encode(t, h);
      return { chunk: self, newChunk: false, recoded: false };
    }
    const forward = p.forward || n.forward;
    const backward = p.backward || n.backward;
    let pSpans: Span[] = h.positiveSpans.slice();
    let nSpans: Span[] = h.negativeSpans.slice();
    if (backward) {
      if (gauge) {
        pSpans = spansFor(p.union);
        nSpans = spansFor(n.union);
      } else if (!forward) {
        pSpans = this.layout.positiveSpans.slice();
        nSpans = this.layout.negativeSpans.slice();
      } else {
        if (p.backward) pSpans = spansFor(p.union);
        if (n.backward) nSpans = spansFor(n.union);
      }
      if (appendOnly && gauge) throw new ChunkAppendError(`gauge histogram layout change with ${p.backward ? 1 : 0} positive and ${n.backward ? 1 : 0} negative backwards inserts`);
      h = this.withBuckets(
        h,
        pSpans,
        expandTo(h.positiveSpans, this.absoluteOf(h, true), pSpans),
        nSpans,
        expandTo(h.negativeSpans, this.absoluteOf(h, false), nSpans),
      );
    }
    if (forward) {
      if (appendOnly) {
        throw new ChunkAppendError(`${gauge ? 'gauge ' : ''}histogram layout change with ${p.forward ? 1 : 0} positive and ${n.forward ? 1 : 0} negative forwards inserts`);
      }
      const c = this.create();
      c.setHeader(this.counterResetHeader());
      for (const s of this.iterator()) {
        if (isStaleNaN(s.h.sum)) {
          c.encode(s.t, s.h);
          continue;
        }
        c.encode(
          s.t,
          this.withBuckets(
            s.h,
            pSpans,
            expandTo(s.h.positiveSpans, this.absoluteOf(s.h, true), pSpans),
            nSpans,
            expandTo(s.h.negativeSpans, this.absoluteOf(s.h, false), nSpans),
          ),
        );
      }
      c.encode(t, h);
      return { chunk: c, newChunk: false, recoded: true };
    }
    this.encode(t, h);
    return { chunk: self, newChunk: false, recoded: false };
  }

  /** Records the layout of the first sample and writes it. */
  protected startLayout(h: AnyHistogram): void {
    this.layout = {
      schema: h.schema,
      zeroThreshold: h.zeroThreshold,
      positiveSpans: h.positiveSpans.slice(),
      negativeSpans: h.negativeSpans.slice(),
      customValues: Array.from(h.customValues),
    };
    putLayout(this.w, this.layout);
  }

}

/** Reads the header and layout of chunk bytes; the reader is left at the first sample. */
function openChunk(b: Uint8Array): { num: number; header: CounterResetHeader; r: Reader; layout: Layout | null } {
  if (b.length < HISTOGRAM_HEADER_SIZE) throw new ChunkDecodeError('histogram chunk shorter than its header');
  const num = (b[0]! << 8) | b[1]!;
  const header = (b[2]! & HEADER_MASK) as CounterResetHeader;
  const r = new Reader(b, HISTOGRAM_HEADER_SIZE);
  return { num, header, r, layout: num > 0 ? readLayout(r) : null };
}

function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const STALE_INIT: HistogramInit = { sum: STALE_NAN };

// ---- integer histogram chunk ----

/** An integer histogram chunk (encoding 2). */
export class HistogramChunk extends HistogramChunkBase<Histogram, HistogramChunk> {
  readonly encoding = ENC_HISTOGRAM;
  private cnt = 0;
  private zCnt = 0;
  private cntDelta = 0;
  private zCntDelta = 0;
  /** Stored bucket values (deltas between buckets) of the last sample and their change from the one before. */
  private pBuckets = new Float64Array(0);
  private nBuckets = new Float64Array(0);
  private pBucketsDelta = new Float64Array(0);
  private nBucketsDelta = new Float64Array(0);
  private readonly sum = new XorState();

  protected create(): HistogramChunk {
    return new HistogramChunk();
  }

  protected absoluteOf(h: Histogram, positive: boolean): Float64Array {
    return absolute(positive ? h.positiveBuckets : h.negativeBuckets);
  }

  protected withBuckets(h: Histogram, pSpans: Span[], pAbs: Float64Array, nSpans: Span[], nAbs: Float64Array): Histogram {
    return h.with({ positiveSpans: pSpans, positiveBuckets: deltasOf(pAbs), negativeSpans: nSpans, negativeBuckets: deltasOf(nAbs) });
  }

  protected encode(t: number, hIn: Histogram): void {
    const stale = isStaleNaN(hIn.sum);
    const h = stale ? new Histogram(STALE_INIT) : hIn;
    const w = this.w;
    let tDelta = 0;
    let cntDelta = 0;
    let zCntDelta = 0;
    if (this.num === 0) {
      this.startLayout(h);
      const np = countSpans(h.positiveSpans);
      const nn = countSpans(h.negativeSpans);
      this.pBuckets = new Float64Array(np);
      this.nBuckets = new Float64Array(nn);
      this.pBucketsDelta = new Float64Array(np);
      this.nBucketsDelta = new Float64Array(nn);
      putVarbitInt(w, t);
      putVarbitUint(w, h.count);
      putVarbitUint(w, h.zeroCount);
      this.sum.set(h.sum);
      w.writeBits64(this.sum.hi, this.sum.lo, 64);
      for (const b of h.positiveBuckets) putVarbitInt(w, b);
      for (const b of h.negativeBuckets) putVarbitInt(w, b);
    } else {
      tDelta = t - this.t;
      cntDelta = h.count - this.cnt;
      zCntDelta = h.zeroCount - this.zCnt;
      let cntDod = cntDelta - this.cntDelta;
      let zCntDod = zCntDelta - this.zCntDelta;
      if (stale) {
        cntDod = 0;
        zCntDod = 0;
      }
      putVarbitInt(w, tDelta - this.tDelta);
      putVarbitInt(w, cntDod);
      putVarbitInt(w, zCntDod);
      this.sum.write(w, h.sum);
      for (let i = 0; i < h.positiveBuckets.length; i++) {
        const delta = h.positiveBuckets[i]! - this.pBuckets[i]!;
        putVarbitInt(w, delta - this.pBucketsDelta[i]!);
        this.pBucketsDelta[i] = delta;
      }
      for (let i = 0; i < h.negativeBuckets.length; i++) {
        const delta = h.negativeBuckets[i]! - this.nBuckets[i]!;
        putVarbitInt(w, delta - this.nBucketsDelta[i]!);
        this.nBucketsDelta[i] = delta;
      }
    }
    this.t = t;
    this.cnt = h.count;
    this.zCnt = h.zeroCount;
    this.tDelta = tDelta;
    this.cntDelta = cntDelta;
    this.zCntDelta = zCntDelta;
    this.pBuckets.set(h.positiveBuckets);
    this.nBuckets.set(h.negativeBuckets);
    this.lastSumStale = stale;
    if (!stale) {
      this.lastCount = h.count;
      this.lastZeroCount = h.zeroCount;
      this.lastPos = absolute(this.pBuckets);
      this.lastNeg = absolute(this.nBuckets);
    }
    this.bumpCount();
  }

  /** Decodes every sample (values are new Histogram objects). */
  *iterator(): Generator<{ t: number; h: Histogram }> {
    yield* decodeHistogramChunk(this.bytes());
  }

  /** A chunk that continues appending after the samples in b (as read from disk). */
  static fromBytes(b: Uint8Array): HistogramChunk {
    const c = new HistogramChunk();
    let header = CounterResetHeader.Unknown;
    for (const s of decodeHistogramChunk(b)) {
      if (c.num === 0) header = openChunk(b).header;
      c.encode(s.t, s.h);
    }
    c.setHeader(header);
    if (!bytesEqual(c.bytes(), b)) throw new ChunkDecodeError('histogram chunk does not re-encode to the same bytes');
    return c;
  }
}

/** Decodes an integer histogram chunk. Throws ChunkDecodeError (or HistogramError for an unknown schema) on bad bytes. */
export function* decodeHistogramChunk(b: Uint8Array): Generator<{ t: number; h: Histogram }> {
  const { num, header, r, layout } = openChunk(b);
  if (layout === null) return;
  const np = countSpans(layout.positiveSpans);
  const nn = countSpans(layout.negativeSpans);
  const pB = new Float64Array(np);
  const nB = new Float64Array(nn);
  const pD = new Float64Array(np);
  const nD = new Float64Array(nn);
  const sum = new XorState();
  let t = 0;
  let tDelta = 0;
  let cnt = 0;
  let zCnt = 0;
  let cntDelta = 0;
  let zCntDelta = 0;
  for (let k = 0; k < num; k++) {
    if (k === 0) {
      t = readVarbitInt(r);
      cnt = readVarbitUint(r);
      zCnt = readVarbitUint(r);
      const [hi, lo] = r.readBits64(64);
      sum.hi = hi;
      sum.lo = lo;
      for (let i = 0; i < np; i++) pB[i] = readVarbitInt(r);
      for (let i = 0; i < nn; i++) nB[i] = readVarbitInt(r);
    } else {
      tDelta += readVarbitInt(r);
      t += tDelta;
      cntDelta += readVarbitInt(r);
      cnt += cntDelta;
      zCntDelta += readVarbitInt(r);
      zCnt += zCntDelta;
      sum.read(r);
      if (!isStaleNaN(sum.value())) {
        for (let i = 0; i < np; i++) {
          pD[i]! += readVarbitInt(r);
          pB[i]! += pD[i]!;
        }
        for (let i = 0; i < nn; i++) {
          nD[i]! += readVarbitInt(r);
          nB[i]! += nD[i]!;
        }
      }
    }
    const s = sum.value();
    if (isStaleNaN(s)) {
      yield { t, h: new Histogram(STALE_INIT) };
      continue;
    }
    let h = new Histogram({
      counterResetHint: hintOf(header, k),
      schema: layout.schema,
      zeroThreshold: layout.zeroThreshold,
      zeroCount: zCnt,
      count: cnt,
      sum: s,
      positiveSpans: layout.positiveSpans,
      negativeSpans: layout.negativeSpans,
      positiveBuckets: pB,
      negativeBuckets: nB,
      customValues: layout.customValues,
    });
    if (h.schema > EXPONENTIAL_SCHEMA_MAX && !isCustomBucketsSchema(h.schema)) h = h.reduceResolution(EXPONENTIAL_SCHEMA_MAX);
    yield { t, h };
  }
}

// ---- float histogram chunk ----

/** A float histogram chunk (encoding 3). */
export class FloatHistogramChunk extends HistogramChunkBase<FloatHistogram, FloatHistogramChunk> {
  readonly encoding = ENC_FLOAT_HISTOGRAM;
  private readonly cnt = new XorState();
  private readonly zCnt = new XorState();
  private readonly sum = new XorState();
  private pX: XorState[] = [];
  private nX: XorState[] = [];

  protected create(): FloatHistogramChunk {
    return new FloatHistogramChunk();
  }

  protected absoluteOf(h: FloatHistogram, positive: boolean): Float64Array {
    return positive ? h.positiveBuckets : h.negativeBuckets;
  }

  protected withBuckets(h: FloatHistogram, pSpans: Span[], pAbs: Float64Array, nSpans: Span[], nAbs: Float64Array): FloatHistogram {
    return h.with({ positiveSpans: pSpans, positiveBuckets: pAbs, negativeSpans: nSpans, negativeBuckets: nAbs });
  }

  protected encode(t: number, hIn: FloatHistogram): void {
    const stale = isStaleNaN(hIn.sum);
    const h = stale ? new FloatHistogram(STALE_INIT) : hIn;
    const w = this.w;
    let tDelta = 0;
    if (this.num === 0) {
      this.startLayout(h);
      putVarbitInt(w, t);
      for (const [x, v] of [
        [this.cnt, h.count],
        [this.zCnt, h.zeroCount],
        [this.sum, h.sum],
      ] as const) {
        x.set(v);
        w.writeBits64(x.hi, x.lo, 64);
      }
      this.pX = Array.from(h.positiveBuckets, () => new XorState());
      this.nX = Array.from(h.negativeBuckets, () => new XorState());
      h.positiveBuckets.forEach((v, i) => {
        const x = this.pX[i]!;
        x.set(v);
        w.writeBits64(x.hi, x.lo, 64);
      });
      h.negativeBuckets.forEach((v, i) => {
        const x = this.nX[i]!;
        x.set(v);
        w.writeBits64(x.hi, x.lo, 64);
      });
    } else {
      tDelta = t - this.t;
      putVarbitInt(w, tDelta - this.tDelta);
      this.cnt.write(w, h.count);
      this.zCnt.write(w, h.zeroCount);
      this.sum.write(w, h.sum);
      h.positiveBuckets.forEach((v, i) => this.pX[i]!.write(w, v));
      h.negativeBuckets.forEach((v, i) => this.nX[i]!.write(w, v));
    }
    this.t = t;
    this.tDelta = tDelta;
    this.lastSumStale = stale;
    if (!stale) {
      this.lastCount = h.count;
      this.lastZeroCount = h.zeroCount;
      this.lastPos = Float64Array.from(h.positiveBuckets);
      this.lastNeg = Float64Array.from(h.negativeBuckets);
    }
    this.bumpCount();
  }

  *iterator(): Generator<{ t: number; h: FloatHistogram }> {
    yield* decodeFloatHistogramChunk(this.bytes());
  }

  static fromBytes(b: Uint8Array): FloatHistogramChunk {
    const c = new FloatHistogramChunk();
    let header = CounterResetHeader.Unknown;
    for (const s of decodeFloatHistogramChunk(b)) {
      if (c.num === 0) header = openChunk(b).header;
      c.encode(s.t, s.h);
    }
    c.setHeader(header);
    if (!bytesEqual(c.bytes(), b)) throw new ChunkDecodeError('float histogram chunk does not re-encode to the same bytes');
    return c;
  }
}

export function* decodeFloatHistogramChunk(b: Uint8Array): Generator<{ t: number; h: FloatHistogram }> {
  const { num, header, r, layout } = openChunk(b);
  if (layout === null) return;
  const np = countSpans(layout.positiveSpans);
  const nn = countSpans(layout.negativeSpans);
  const cnt = new XorState();
  const zCnt = new XorState();
  const sum = new XorState();
  const pX = Array.from({ length: np }, () => new XorState());
  const nX = Array.from({ length: nn }, () => new XorState());
  let t = 0;
  let tDelta = 0;
  for (let k = 0; k < num; k++) {
    if (k === 0) {
      t = readVarbitInt(r);
      for (const x of [cnt, zCnt, sum, ...pX, ...nX]) [x.hi, x.lo] = r.readBits64(64);
    } else {
      tDelta += readVarbitInt(r);
      t += tDelta;
      cnt.read(r);
      zCnt.read(r);
      sum.read(r);
      if (!isStaleNaN(sum.value())) for (const x of [...pX, ...nX]) x.read(r);
    }
    const s = sum.value();
    if (isStaleNaN(s)) {
      yield { t, h: new FloatHistogram(STALE_INIT) };
      continue;
    }
    let h = new FloatHistogram({
      counterResetHint: hintOf(header, k),
      schema: layout.schema,
      zeroThreshold: layout.zeroThreshold,
      zeroCount: zCnt.value(),
      count: cnt.value(),
      sum: s,
      positiveSpans: layout.positiveSpans,
      negativeSpans: layout.negativeSpans,
      positiveBuckets: pX.map((x) => x.value()),
      negativeBuckets: nX.map((x) => x.value()),
      customValues: layout.customValues,
    });
    if (h.schema > EXPONENTIAL_SCHEMA_MAX && !isCustomBucketsSchema(h.schema)) h = h.reduceResolution(EXPONENTIAL_SCHEMA_MAX);
    yield { t, h };
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

