// WAL record payloads: the one encoder every writer uses (the head's
// appender and deletions, checkpoints) and the decoder beside it. One commit
// is one record, so a torn write loses the whole commit and never part of it.
// Room tsdb/record: may import model/ and tsdb/encoding only.
//
//   batch      : 0x05 uvarint(#series) series* uvarint(#samples) [uvarint(baseRef) varint(baseT) sample*]
//     series   : uvarint(ref) uvarint(#labels) (string(name) string(value))*
//     sample   : varint(ref-baseRef) varint(t-baseT) value
//     value    : uvarint(0) u32le(low bits) u32le(high bits)          any float, bit for bit
//              | uvarint(1 + 8 * zigzag(N) + k)                        N / 10^k exactly, k in 0..6, |N| < 2^49
//   batch with histograms: 0x06 uvarint(#series) series*
//              uvarint(#histograms) [uvarint(baseRef) varint(baseT) histogram*]
//              uvarint(#samples) [uvarint(baseRef) varint(baseT) sample*]
//     histogram: varint(ref-baseRef) varint(t-baseT) uvarint(seq) u8(0 integer, 1 float) u8(counter reset hint)
//                varint(schema) f64(zero threshold) count zeroCount f64(sum)
//                spans(positive) buckets(positive) spans(negative) buckets(negative)
//                uvarint(#custom bounds) f64*
//       count, zeroCount, bucket: uvarint / uvarint / varint (integer: bucket deltas) or f64 each (float)
//       spans    : uvarint(#spans) (varint(offset) uvarint(length))*
//       f64      : u32le(low bits) u32le(high bits)
//       seq      : how many of the record's float samples were appended before this histogram
//                  (a series may switch type inside one commit; replay keeps the order)
//   tombstones : 0x02 uvarint(#n) (uvarint(ref) varint(mint) varint(maxt))*
//   0x01 and 0x04: batches as 0x05 and 0x06 with every sample value as
//              u32le(low bits) u32le(high bits) (written before compact values; still read)
//   exemplars  : 0x03 uvarint(#n) [uvarint(baseRef) varint(baseT) exemplar*]
//     exemplar : varint(ref-baseRef) varint(t-baseT) u32le(value low bits) u32le(value high bits)
//                uvarint(#labels) (string(name) string(value))*
//
// An exemplar record follows the batch record of the same commit (its series
// are logged there or earlier), as Prometheus logs exemplars after samples.
import { FloatHistogram, Histogram, type Span } from '../../model/histogram.js';
import { Labels } from '../../model/labels.js';
import { CorruptionError, Decbuf, Encbuf } from '../encoding/encoding.js';

/** Batches with raw 8-byte values (read only). */
export const REC_BATCH_RAW = 1;
export const REC_TOMBSTONES = 2;
export const REC_EXEMPLARS = 3;
export const REC_BATCH_HISTOGRAMS_RAW = 4;
/** Batches with compact values (what is written). */
export const REC_BATCH = 5;
export const REC_BATCH_HISTOGRAMS = 6;

/** Whether a record of this type is a batch (series, floats, maybe histograms). */
export function isBatchRecord(type: number | undefined): boolean {
  return type === REC_BATCH || type === REC_BATCH_HISTOGRAMS || type === REC_BATCH_RAW || type === REC_BATCH_HISTOGRAMS_RAW;
}

/** Powers of ten a compact value may be scaled by. */
const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];
/** |N| bound of a compact value: 1 + 8 * zigzag(N) + k stays below 2^53. */
const MAX_COMPACT = 2 ** 49;

/** Scratch for an exemplar value's bit halves (the host is little-endian: the TSDB checks that at load). */
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/**
 * Writes records into one reused buffer; nothing is allocated per entry.
 * A batch is written as startBatch(#series), that many series entries,
 * samples(#samples), that many sample() calls, then bytes(). The counts come
 * first because the format puts them before the entries.
 */
export class RecordEncoder {
  private readonly e: Encbuf;
  private baseRef = 0;
  private baseT = 0;
  private first = true;

  /**
   * @param initial starting buffer size
   * @param retained release() cuts a buffer grown past this back to it, so
   *   one large record (a burst of new series) does not pin its size
   */
  constructor(
    initial: number,
    private readonly retained: number,
  ) {
    this.e = new Encbuf(initial);
  }

  /** withHistograms: the batch ends with a histograms() part (a REC_BATCH_HISTOGRAMS record). */
  startBatch(numSeries: number, withHistograms = false): void {
    const e = this.e;
    e.reset();
    e.putByte(withHistograms ? REC_BATCH_HISTOGRAMS : REC_BATCH);
    e.putUvarint(numSeries);
  }

  /** A series entry from a label set. */
  series(ref: number, labels: Labels): void {
    const e = this.e;
    const n = labels.length;
    e.putUvarint(ref);
    e.putUvarint(n);
    for (let i = 0; i < n; i++) {
      e.putString(labels.nameAt(i));
      e.putString(labels.valueAt(i));
    }
  }

  /** A series entry whose n label pairs are strs[ids[off]], strs[ids[off + 1]], ... (the head's symbol pool). */
  seriesFromSymbols(ref: number, n: number, strs: readonly string[], ids: Uint32Array, off: number): void {
    const e = this.e;
    e.putUvarint(ref);
    e.putUvarint(n);
    // off + 2n is within the pool: the head stores each label set whole.
    for (let i = 0; i < 2 * n; i++) e.putString(strs[ids[off + i]!]!);
  }

  /** Starts the sample part of a batch: exactly n sample() calls follow. */
  samples(n: number): void {
    this.e.putUvarint(n);
    this.first = true;
  }

  sample(ref: number, t: number, hi: number, lo: number): void {
    const e = this.e;
    if (this.first) {
      this.first = false;
      this.baseRef = ref;
      this.baseT = t;
      e.putUvarint(ref);
      e.putVarint(t);
    }
    e.putVarint(ref - this.baseRef);
    e.putVarint(t - this.baseT);
    putValue(e, hi, lo);
  }

  /**
   * Starts the histogram part of a batch begun withHistograms (after the
   * series, before samples()): exactly n histogram() calls follow.
   */
  histograms(n: number): void {
    this.e.putUvarint(n);
    this.first = true;
  }

  /** One histogram sample (exactly one of h and fh), appended after the batch's first `seq` float samples. */
  histogram(ref: number, t: number, h: Histogram | null, fh: FloatHistogram | null, seq: number): void {
    const e = this.e;
    if (this.first) {
      this.first = false;
      this.baseRef = ref;
      this.baseT = t;
      e.putUvarint(ref);
      e.putVarint(t);
    }
    e.putVarint(ref - this.baseRef);
    e.putVarint(t - this.baseT);
    e.putUvarint(seq);
    // One of the two is given (the appender checks).
    const x = (h ?? fh)!;
    const int = h !== null;
    e.putByte(int ? 0 : 1);
    e.putByte(x.counterResetHint);
    e.putVarint(x.schema);
    putF64(e, x.zeroThreshold);
    if (int) {
      e.putUvarint(x.count);
      e.putUvarint(x.zeroCount);
    } else {
      putF64(e, x.count);
      putF64(e, x.zeroCount);
    }
    putF64(e, x.sum);
    putSpans(e, x.positiveSpans);
    putBuckets(e, x.positiveBuckets, int);
    putSpans(e, x.negativeSpans);
    putBuckets(e, x.negativeBuckets, int);
    e.putUvarint(x.customValues.length);
    for (const v of x.customValues) putF64(e, v);
  }

  /** Starts a tombstones record: exactly n tombstone() calls follow. */
  startTombstones(n: number): void {
    const e = this.e;
    e.reset();
    e.putByte(REC_TOMBSTONES);
    e.putUvarint(n);
  }

  tombstone(ref: number, mint: number, maxt: number): void {
    const e = this.e;
    e.putUvarint(ref);
    e.putVarint(mint);
    e.putVarint(maxt);
  }

  /** Starts an exemplars record: exactly n exemplar() calls follow. */
  startExemplars(n: number): void {
    const e = this.e;
    e.reset();
    e.putByte(REC_EXEMPLARS);
    e.putUvarint(n);
    this.first = true;
  }

  exemplar(ref: number, t: number, v: number, labels: Labels): void {
    const e = this.e;
    if (this.first) {
      this.first = false;
      this.baseRef = ref;
      this.baseT = t;
      e.putUvarint(ref);
      e.putVarint(t);
    }
    e.putVarint(ref - this.baseRef);
    e.putVarint(t - this.baseT);
    f64[0] = v;
    // u32 views f64's 8 bytes: indexes 0 and 1 exist.
    e.putF64Bits(u32[1]!, u32[0]!);
    const n = labels.length;
    e.putUvarint(n);
    for (let i = 0; i < n; i++) {
      e.putString(labels.nameAt(i));
      e.putString(labels.valueAt(i));
    }
  }

  /** The record written so far: a view valid until the next record starts. */
  bytes(): Buffer {
    return this.e.get();
  }

  /** Current buffer size (for tests of release()). */
  capacity(): number {
    return this.e.buf.length;
  }

  /** Call once the record's bytes are written out: drops an oversized buffer. */
  release(): void {
    this.e.shrinkTo(this.retained);
  }
}

/**
 * A sample value: integers and decimals with up to 6 places (counters,
 * gauges such as 12.75) as a scaled integer, anything else (NaN, staleness
 * markers, -0, infinities, other fractions) as raw bits. A value takes the
 * compact form only when dividing back gives the same float, so replay
 * restores it bit for bit.
 */
function putValue(e: Encbuf, hi: number, lo: number): void {
  u32[0] = lo;
  u32[1] = hi;
  const v = f64[0]!;
  // -0 is 0 to arithmetic: keep its sign bit raw.
  // When v = N / 10^k with k <= 6 and |v * 10^6| < 2^40, v * 10^6 lies within 2^-12 of an integer:
  // a larger remainder rules out every k at once (the usual case for measured fractions).
  const x = v * 1e6;
  const r = x - Math.round(x);
  const hopeless = (r > 1e-3 || r < -1e-3) && x < 2 ** 40 && x > -(2 ** 40);
  if (v === v && !(v === 0 && hi !== 0) && !hopeless) {
    for (let k = 0; k < POW10.length; k++) {
      const p = POW10[k]!;
      const n = Math.round(v * p);
      if (n / p !== v) continue;
      if (n < MAX_COMPACT && n > -MAX_COMPACT) {
        e.putUvarint(1 + 8 * (n >= 0 ? 2 * n : -2 * n - 1) + k);
        return;
      }
      break;
    }
  }
  e.putUvarint(0);
  e.putF64Bits(hi, lo);
}

function putF64(e: Encbuf, v: number): void {
  f64[0] = v;
  // u32 views f64's 8 bytes: indexes 0 and 1 exist.
  e.putF64Bits(u32[1]!, u32[0]!);
}

function getF64(d: Decbuf): number {
  u32[0] = d.u32LE();
  u32[1] = d.u32LE();
  return f64[0]!;
}

function putSpans(e: Encbuf, spans: readonly Span[]): void {
  e.putUvarint(spans.length);
  for (const s of spans) {
    e.putVarint(s.offset);
    e.putUvarint(s.length);
  }
}

function putBuckets(e: Encbuf, b: Float64Array, int: boolean): void {
  e.putUvarint(b.length);
  if (int) for (const v of b) e.putVarint(v);
  else for (const v of b) putF64(e, v);
}

/** Refuses a count read from a record that no valid record holds, before allocating for it. */
function checkCount(d: Decbuf, n: number, file: string, start: number): number {
  if (n > d.end - d.pos) throw new CorruptionError(`histogram record entry count ${n} exceeds the record`, file, start);
  return n;
}

function getSpans(d: Decbuf, file: string, start: number): Span[] {
  const n = checkCount(d, d.uvarint(), file, start);
  const out: Span[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = { offset: d.varint(), length: d.uvarint() };
  return out;
}

function getBuckets(d: Decbuf, int: boolean, file: string, start: number): Float64Array {
  const n = checkCount(d, d.uvarint(), file, start);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = int ? d.varint() : getF64(d);
  return out;
}

/** Receives the decoded content of records. */
export interface RecordHandler {
  series(ref: number, labels: Labels): void;
  sample(ref: number, t: number, hi: number, lo: number): void;
  tombstone(ref: number, mint: number, maxt: number): void;
  /** One exemplar (t in ms). Optional: exemplar records are skipped, undecoded, by handlers without it. */
  exemplar?(ref: number, t: number, v: number, labels: Labels): void;
  /**
   * One integer / float histogram sample. Optional: handlers without them get
   * the series and float samples of a batch with histograms, and its
   * histograms are skipped undecoded.
   */
  histogram?(ref: number, t: number, h: Histogram): void;
  floatHistogram?(ref: number, t: number, fh: FloatHistogram): void;
}

/** Decodes one record payload, calling the handler per entry. */
export function decodeRecord(buf: Buffer, start: number, end: number, h: RecordHandler, file = ''): void {
  const d = new Decbuf(buf, start, end, file);
  const type = d.byte();
  if (isBatchRecord(type)) {
    const compact = type === REC_BATCH || type === REC_BATCH_HISTOGRAMS;
    const ns = d.uvarint();
    for (let i = 0; i < ns; i++) {
      const ref = d.uvarint();
      const nl = d.uvarint();
      const pairs: string[] = new Array(2 * nl);
      for (let j = 0; j < 2 * nl; j++) pairs[j] = d.string();
      h.series(ref, Labels.fromSortedPairs(pairs));
    }
    const hs = type === REC_BATCH_HISTOGRAMS || type === REC_BATCH_HISTOGRAMS_RAW ? decodeHistograms(d, file, start) : NO_HISTOGRAMS;
    let hi = 0;
    const n = d.uvarint();
    if (n > 0) {
      const baseRef = d.uvarint();
      const baseT = d.varint();
      for (let i = 0; i < n; i++) {
        // Histograms appended before this float go first.
        while (hi < hs.length && hs[hi]!.seq <= i) emitHistogram(h, hs[hi++]!);
        const ref = baseRef + d.varint();
        const t = baseT + d.varint();
        const c = compact ? d.uvarint() : 0;
        if (c === 0) {
          const lo = d.u32LE();
          h.sample(ref, t, d.u32LE(), lo);
        } else {
          const k = (c - 1) % 8;
          const z = (c - 1 - k) / 8;
          if (k >= POW10.length) throw new CorruptionError(`compact sample value with scale ${k} in WAL record`, file, start);
          // k < POW10.length, checked above.
          f64[0] = (z % 2 === 0 ? z / 2 : -(z + 1) / 2) / POW10[k]!;
          h.sample(ref, t, u32[1]!, u32[0]!);
        }
      }
    }
    while (hi < hs.length) emitHistogram(h, hs[hi++]!);
  } else if (type === REC_TOMBSTONES) {
    const n = d.uvarint();
    for (let i = 0; i < n; i++) h.tombstone(d.uvarint(), d.varint(), d.varint());
  } else if (type === REC_EXEMPLARS) {
    if (h.exemplar === undefined) return;
    const n = d.uvarint();
    if (n === 0) return;
    const baseRef = d.uvarint();
    const baseT = d.varint();
    for (let i = 0; i < n; i++) {
      const ref = baseRef + d.varint();
      const t = baseT + d.varint();
      u32[0] = d.u32LE();
      u32[1] = d.u32LE();
      const v = f64[0]!;
      const nl = d.uvarint();
      const pairs: string[] = new Array(2 * nl);
      for (let j = 0; j < 2 * nl; j++) pairs[j] = d.string();
      h.exemplar(ref, t, v, Labels.fromSortedPairs(pairs));
    }
  } else {
    throw new CorruptionError(`unknown WAL record type ${type}`, file, start);
  }
}

interface DecodedHistogram {
  readonly ref: number;
  readonly t: number;
  readonly seq: number;
  readonly h: Histogram | null;
  readonly fh: FloatHistogram | null;
}

const NO_HISTOGRAMS: readonly DecodedHistogram[] = [];

function emitHistogram(h: RecordHandler, x: DecodedHistogram): void {
  if (x.h !== null) h.histogram?.(x.ref, x.t, x.h);
  else if (x.fh !== null) h.floatHistogram?.(x.ref, x.t, x.fh);
}

/** The histogram part of a batch; decoded even for handlers without histogram methods, to reach the floats after it. */
function decodeHistograms(d: Decbuf, file: string, start: number): DecodedHistogram[] {
  const n = checkCount(d, d.uvarint(), file, start);
  if (n === 0) return [];
  const out: DecodedHistogram[] = [];
  const baseRef = d.uvarint();
  const baseT = d.varint();
  for (let i = 0; i < n; i++) {
    const ref = baseRef + d.varint();
    const t = baseT + d.varint();
    const seq = d.uvarint();
    const kind = d.byte();
    if (kind > 1) throw new CorruptionError(`unknown histogram kind ${kind} in WAL record`, file, start);
    const int = kind === 0;
    const counterResetHint = d.byte();
    if (counterResetHint > 3) throw new CorruptionError(`unknown counter reset hint ${counterResetHint} in WAL record`, file, start);
    const schema = d.varint();
    const zeroThreshold = getF64(d);
    const count = int ? d.uvarint() : getF64(d);
    const zeroCount = int ? d.uvarint() : getF64(d);
    const sum = getF64(d);
    const positiveSpans = getSpans(d, file, start);
    const positiveBuckets = getBuckets(d, int, file, start);
    const negativeSpans = getSpans(d, file, start);
    const negativeBuckets = getBuckets(d, int, file, start);
    const nc = checkCount(d, d.uvarint(), file, start);
    const customValues = new Float64Array(nc);
    for (let j = 0; j < nc; j++) customValues[j] = getF64(d);
    const init = { counterResetHint, schema, zeroThreshold, count, zeroCount, sum, positiveSpans, positiveBuckets, negativeSpans, negativeBuckets, customValues };
    out.push({ ref, t, seq, h: int ? new Histogram(init) : null, fh: int ? null : new FloatHistogram(init) });
  }
  return out;
}
