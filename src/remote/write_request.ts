// Decoding of remote write 1.0's prometheus.WriteRequest protobuf, by hand.
//
// The whole message is decoded and checked before the caller appends
// anything, so a malformed body changes nothing. Samples land in two shared
// Float64Arrays (timestamps, values) with per-series offsets: no object per
// sample. Native histograms are few and large: one object each.
import { isUtf8 } from 'node:buffer';
import { CounterResetHint, FloatHistogram, Histogram, type Span } from '../model/histogram.js';

export class ProtobufError extends Error {
  override name = 'ProtobufError';
}

export interface DecodedSeries {
  /** name, value, name, value ... as sent (unsorted, possibly invalid: the caller checks). */
  readonly labels: string[];
  /** False when a label name or value was not valid UTF-8. */
  readonly utf8: boolean;
  /** Samples are timestamps[start..end) and values[start..end). */
  readonly start: number;
  readonly end: number;
  /** Native histograms are histograms[hStart..hEnd) of the request's list. */
  readonly hStart: number;
  readonly hEnd: number;
  /** Exemplars are exemplars[exStart..exEnd) of the request's list. */
  readonly exStart: number;
  readonly exEnd: number;
}

/** A 1.0 exemplar as sent; exemplars are few (one per sample at most), so one object each. */
export interface DecodedExemplar {
  /** name, value, name, value ... as sent (the caller checks them). */
  readonly labels: string[];
  /** False when a label name or value was not valid UTF-8. */
  readonly utf8: boolean;
  readonly value: number;
  readonly t: number;
}

export interface DecodedWriteRequest {
  readonly series: DecodedSeries[];
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  readonly samples: number;
  readonly metadata: number;
  readonly exemplars: DecodedExemplar[];
  readonly histograms: DecodedHistogram[];
}

/**
 * A native histogram as sent (remote write 1.0 and 2.0 share the message):
 * integer when its count came as count_int, float when as count_float.
 * Not validated: the caller checks it before appending.
 */
export interface DecodedHistogram {
  readonly t: number;
  /** 2.0's start timestamp (0 when absent). */
  readonly st: number;
  readonly h: Histogram | null;
  readonly fh: FloatHistogram | null;
}

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_I32 = 5;

// Error texts as the gogo-protobuf code Prometheus decodes with words them.
const UNEXPECTED_EOF = 'unexpected EOF';
const INT_OVERFLOW = 'proto: integer overflow';
const NEGATIVE_LENGTH = 'proto: negative length found during unmarshaling';

/**
 * A cursor over one protobuf message's bytes; every read is bounds-checked
 * against end, and end <= buf.length (a nested message's end was checked
 * against its parent's), so the buf[...]! reads below are in range.
 */
export class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
    /** The message's type name, for error texts. */
    readonly msg: string,
  ) {
    this.pos = start;
  }

  varint(): number {
    const buf = this.buf;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError(UNEXPECTED_EOF);
      const b = buf[this.pos++]!;
      if (i >= 7 && b !== 0) {
        // Past 49 bits: finish exactly with BigInt (negative int64s take all ten bytes).
        return this.varintTail(result, i, b);
      }
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new ProtobufError(INT_OVERFLOW);
  }

  private varintTail(low: number, i: number, first: number): number {
    let v = BigInt(low);
    let shift = BigInt(7 * i);
    let b = first;
    for (;;) {
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) break;
      if (++i >= 10) throw new ProtobufError(INT_OVERFLOW);
      if (this.pos >= this.end) throw new ProtobufError(UNEXPECTED_EOF);
      b = this.buf[this.pos++]!;
      // Bits past the 64th are dropped, as Go's decoder drops them.
      shift += 7n;
    }
    return Number(BigInt.asIntN(64, v));
  }

  /** A uint32 field: Go keeps the low 32 bits of a longer varint. */
  uint32(): number {
    let v = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError(UNEXPECTED_EOF);
      const b = this.buf[this.pos++]!;
      if (i < 5) v = (v + (b & 0x7f) * 2 ** (7 * i)) % 2 ** 32;
      if (b < 0x80) return v;
    }
    throw new ProtobufError(INT_OVERFLOW);
  }

  /** An int64 field as a number (exact within ±2^53, as timestamps in ms always are). */
  int64(): number {
    return this.varint();
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new ProtobufError(UNEXPECTED_EOF);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Bounds of a length-delimited field's payload; the cursor moves past it. */
  bytes(): [number, number] {
    const len = this.varint();
    if (len < 0) throw new ProtobufError(NEGATIVE_LENGTH);
    const start = this.pos;
    if (len > this.end - start) throw new ProtobufError(UNEXPECTED_EOF);
    this.pos = start + len;
    return [start, start + len];
  }

  /** Skips an unknown field's payload; a group is skipped up to its matching end. */
  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_I64:
        if (this.pos + 8 > this.end) throw new ProtobufError(UNEXPECTED_EOF);
        this.pos += 8;
        return;
      case WIRE_LEN:
        this.bytes();
        return;
      case WIRE_START_GROUP:
        for (;;) {
          if (this.pos >= this.end) throw new ProtobufError(UNEXPECTED_EOF);
          const inner = this.varint() & 7;
          if (inner === WIRE_END_GROUP) return;
          this.skip(inner);
        }
      case WIRE_I32:
        if (this.pos + 4 > this.end) throw new ProtobufError(UNEXPECTED_EOF);
        this.pos += 4;
        return;
      case WIRE_END_GROUP:
        throw new ProtobufError('proto: unexpected end of group');
      default:
        throw new ProtobufError(`proto: illegal wireType ${wire}`);
    }
  }

  /** Next field's number and wire type. */
  tag(): [number, number] {
    const t = this.varint();
    // Go reads the field number as an int32 of the tag's upper bits.
    const field = Math.floor(t / 8) | 0;
    const wire = t & 7;
    if (wire === WIRE_END_GROUP) throw new ProtobufError(`proto: ${this.msg}: wiretype end group for non-group`);
    if (field <= 0) throw new ProtobufError(`proto: ${this.msg}: illegal tag ${field} (wire type ${t})`);
    return [field, wire];
  }
}

export function expectWire(field: string, wire: number, want: number): void {
  if (wire !== want) throw new ProtobufError(`proto: wrong wireType = ${wire} for field ${field}`);
}

/** Grows the sample arrays by doubling; bounded by the body size (each sample takes at least 11 bytes). */
export class SampleBuffer {
  ts: Float64Array;
  vs: Float64Array;
  n = 0;
  constructor(cap: number) {
    this.ts = new Float64Array(cap);
    this.vs = new Float64Array(cap);
  }
  push(t: number, v: number): void {
    if (this.n === this.ts.length) {
      const ts = new Float64Array(this.ts.length * 2);
      ts.set(this.ts);
      const vs = new Float64Array(this.vs.length * 2);
      vs.set(this.vs);
      this.ts = ts;
      this.vs = vs;
    }
    this.ts[this.n] = t;
    this.vs[this.n] = v;
    this.n++;
  }
}

// A sample message is at least 2 bytes of tag+length plus 9 for the double and
// 2 for the timestamp: a cheap first guess at the sample count.
export const MIN_SAMPLE_BYTES = 13;

/** Decodes a prometheus.WriteRequest; throws ProtobufError for malformed input. */
export function decodeWriteRequest(buf: Buffer): DecodedWriteRequest {
  const samples = new SampleBuffer(Math.max(16, Math.ceil(buf.length / MIN_SAMPLE_BYTES / 4)));
  const series: DecodedSeries[] = [];
  const exemplars: DecodedExemplar[] = [];
  const histograms: DecodedHistogram[] = [];
  let metadata = 0;
  const r = new Reader(buf, 0, buf.length, 'WriteRequest');
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    if (field === 1) {
      expectWire('Timeseries', wire, WIRE_LEN);
      const [s, e] = r.bytes();
      series.push(decodeTimeSeries(buf, s, e, samples, exemplars, histograms));
    } else if (field === 3) {
      expectWire('Metadata', wire, WIRE_LEN);
      r.bytes();
      metadata++;
    } else {
      r.skip(wire);
    }
  }
  return { series, timestamps: samples.ts, values: samples.vs, samples: samples.n, metadata, exemplars, histograms };
}

function decodeTimeSeries(
  buf: Buffer,
  start: number,
  end: number,
  samples: SampleBuffer,
  exemplars: DecodedExemplar[],
  histograms: DecodedHistogram[],
): DecodedSeries {
  const r = new Reader(buf, start, end, 'TimeSeries');
  const labels: string[] = [];
  let utf8 = true;
  const first = samples.n;
  const hStart = histograms.length;
  const exStart = exemplars.length;
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    switch (field) {
      case 1: {
        expectWire('Labels', wire, WIRE_LEN);
        const [s, e] = r.bytes();
        utf8 = decodeLabel(buf, s, e, labels) && utf8;
        break;
      }
      case 2: {
        expectWire('Samples', wire, WIRE_LEN);
        const [s, e] = r.bytes();
        decodeSample(buf, s, e, samples);
        break;
      }
      case 3: {
        expectWire('Exemplars', wire, WIRE_LEN);
        const [s, e] = r.bytes();
        exemplars.push(decodeExemplar(buf, s, e));
        break;
      }
      case 4: {
        expectWire('Histograms', wire, WIRE_LEN);
        const [s, e] = r.bytes();
        histograms.push(decodeHistogram(buf, s, e));
        break;
      }
      default:
        r.skip(wire);
    }
  }
  return { labels, utf8, start: first, end: samples.n, hStart, hEnd: histograms.length, exStart, exEnd: exemplars.length };
}

/**
 * The labels of a run of TimeSeries label fields (a CompactV1 series' label
 * bytes), decoded as decodeWriteRequest decodes them.
 */
export function decodeLabelFields(buf: Buffer, start: number, end: number): { labels: string[]; utf8: boolean } {
  const r = new Reader(buf, start, end, 'TimeSeries');
  const labels: string[] = [];
  let utf8 = true;
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    if (field !== 1) throw new ProtobufError(`BUG: field ${field} in a run of label fields`);
    expectWire('Labels', wire, WIRE_LEN);
    const [s, e] = r.bytes();
    utf8 = decodeLabel(buf, s, e, labels) && utf8;
  }
  return { labels, utf8 };
}

function decodeExemplar(buf: Buffer, start: number, end: number): DecodedExemplar {
  const r = new Reader(buf, start, end, 'Exemplar');
  const labels: string[] = [];
  let utf8 = true;
  let value = 0;
  let t = 0;
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    if (field === 1) {
      expectWire('Labels', wire, WIRE_LEN);
      const [s, e] = r.bytes();
      utf8 = decodeLabel(buf, s, e, labels) && utf8;
    } else if (field === 2) {
      expectWire('Value', wire, WIRE_I64);
      value = r.double();
    } else if (field === 3) {
      expectWire('Timestamp', wire, WIRE_VARINT);
      t = r.int64();
    } else {
      r.skip(wire);
    }
  }
  return { labels, utf8, value, t };
}

/** Slots of the recent label strings (a power of two): more than the distinct names and common values of a request. */
const RECENT_SLOTS = 4096;
/** Longer strings are not remembered (the memo stays under 256 KiB of characters). */
const RECENT_MAX_LENGTH = 64;
/**
 * Label strings decoded lately, by a hash of their bytes: names and many
 * values repeat from series to series, and a repeat is found with one
 * compare instead of decoding a string. Fixed size; a slot holds the last one.
 */
const recent: string[] = new Array<string>(RECENT_SLOTS).fill('');

/** buf[start, end) as a string when it is ASCII (then also valid UTF-8), else null. */
function asciiString(buf: Buffer, start: number, end: number): string | null {
  const n = end - start;
  let h = n;
  // start <= i < end <= buf.length.
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b >= 0x80) return null;
    h = Math.imul(h ^ b, 0x01000193);
  }
  if (n > RECENT_MAX_LENGTH) return buf.toString('latin1', start, end);
  const slot = (h ^ (h >>> 15)) & (RECENT_SLOTS - 1);
  const c = recent[slot]!;
  if (c.length === n) {
    let i = 0;
    while (i < n && c.charCodeAt(i) === buf[start + i]) i++;
    if (i === n) return c;
  }
  const str = buf.toString('latin1', start, end);
  recent[slot] = str;
  return str;
}

function decodeLabel(buf: Buffer, start: number, end: number, out: string[]): boolean {
  const r = new Reader(buf, start, end, 'Label');
  let name = '';
  let value = '';
  let ok = true;
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    if (field === 1 || field === 2) {
      expectWire(field === 1 ? 'Name' : 'Value', wire, WIRE_LEN);
      const [s, e] = r.bytes();
      let str = asciiString(buf, s, e);
      if (str === null) {
        const bytes = buf.subarray(s, e);
        if (!isUtf8(bytes)) ok = false;
        str = bytes.toString('utf8');
      }
      if (field === 1) name = str;
      else value = str;
    } else {
      r.skip(wire);
    }
  }
  out.push(name, value);
  return ok;
}

function decodeSample(buf: Buffer, start: number, end: number, samples: SampleBuffer): void {
  const r = new Reader(buf, start, end, 'Sample');
  let v = 0;
  let t = 0;
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    if (field === 1) {
      expectWire('Value', wire, WIRE_I64);
      v = r.double();
    } else if (field === 2) {
      expectWire('Timestamp', wire, WIRE_VARINT);
      t = r.int64();
    } else {
      r.skip(wire);
    }
  }
  samples.push(t, v);
}

/** Histogram's fields 1, 2, 3 ... with the wire types they take (repeated scalars may also come packed). */
const HISTOGRAM_FIELDS: ReadonlyArray<readonly [name: string, wire: number, packable: boolean]> = [
  ['CountInt', WIRE_VARINT, false],
  ['CountFloat', WIRE_I64, false],
  ['Sum', WIRE_I64, false],
  ['Schema', WIRE_VARINT, false],
  ['ZeroThreshold', WIRE_I64, false],
  ['ZeroCountInt', WIRE_VARINT, false],
  ['ZeroCountFloat', WIRE_I64, false],
  ['NegativeSpans', WIRE_LEN, false],
  ['NegativeDeltas', WIRE_VARINT, true],
  ['NegativeCounts', WIRE_I64, true],
  ['PositiveSpans', WIRE_LEN, false],
  ['PositiveDeltas', WIRE_VARINT, true],
  ['PositiveCounts', WIRE_I64, true],
  ['ResetHint', WIRE_VARINT, false],
  ['Timestamp', WIRE_VARINT, false],
  ['CustomValues', WIRE_I64, true],
  ['StartTimestamp', WIRE_VARINT, false],
];

/** A zigzag-encoded sint32/sint64 (exact within ±2^53). */
function zigzag(n: number): number {
  if (n < 0) return Number(BigInt.asIntN(64, (BigInt.asUintN(64, BigInt(n)) >> 1n) ^ -(BigInt.asUintN(64, BigInt(n)) & 1n)));
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

/** A Histogram message (the same in 1.0 and 2.0), checked as gogo decodes it; fields met twice: the last wins, repeated ones append. */
export function decodeHistogram(buf: Buffer, start: number, end: number): DecodedHistogram {
  const r = new Reader(buf, start, end, 'Histogram');
  let isFloat = false;
  let countInt = 0;
  let countFloat = 0;
  let zeroInt = 0;
  let zeroFloat = 0;
  let sum = 0;
  let schema = 0;
  let zeroThreshold = 0;
  let hint = 0;
  let t = 0;
  let st = 0;
  const negSpans: Span[] = [];
  const posSpans: Span[] = [];
  const negDeltas: number[] = [];
  const posDeltas: number[] = [];
  const negCounts: number[] = [];
  const posCounts: number[] = [];
  const customValues: number[] = [];
  const repeated = (field: number): number[] | null =>
    field === 9 ? negDeltas : field === 10 ? negCounts : field === 12 ? posDeltas : field === 13 ? posCounts : field === 16 ? customValues : null;
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    const spec = HISTOGRAM_FIELDS[field - 1];
    if (spec === undefined) {
      r.skip(wire);
      continue;
    }
    const [name, want, packable] = spec;
    if (packable && wire === WIRE_LEN) {
      const out = repeated(field)!;
      const [s, post] = r.bytes();
      // Read to the run's end, bounds-checked against the message, as gogo reads them.
      r.pos = s;
      while (r.pos < post) out.push(want === WIRE_I64 ? r.double() : zigzag(r.varint()));
      continue;
    }
    expectWire(name, wire, want);
    switch (field) {
      case 1:
        countInt = r.varint();
        isFloat = false;
        break;
      case 2:
        countFloat = r.double();
        isFloat = true;
        break;
      case 3:
        sum = r.double();
        break;
      case 4:
        schema = zigzag(r.varint());
        break;
      case 5:
        zeroThreshold = r.double();
        break;
      case 6:
        zeroInt = r.varint();
        break;
      case 7:
        zeroFloat = r.double();
        break;
      case 8:
      case 11: {
        const [s, e] = r.bytes();
        (field === 8 ? negSpans : posSpans).push(decodeBucketSpan(buf, s, e));
        break;
      }
      case 14:
        hint = r.varint();
        break;
      case 15:
        t = r.int64();
        break;
      case 17:
        st = r.int64();
        break;
      default: {
        const out = repeated(field)!;
        out.push(want === WIRE_I64 ? r.double() : zigzag(r.varint()));
      }
    }
  }
  // An unknown hint value is kept as Unknown (Go keeps the number; no code path gives it meaning).
  const counterResetHint = hint >= 0 && hint <= 3 ? (hint as CounterResetHint) : CounterResetHint.Unknown;
  const common = { counterResetHint, schema, zeroThreshold, sum, negativeSpans: negSpans, positiveSpans: posSpans, customValues };
  if (isFloat) {
    return { t, st, h: null, fh: new FloatHistogram({ ...common, count: countFloat, zeroCount: zeroFloat, negativeBuckets: negCounts, positiveBuckets: posCounts }) };
  }
  return { t, st, h: new Histogram({ ...common, count: countInt, zeroCount: zeroInt, negativeBuckets: negDeltas, positiveBuckets: posDeltas }), fh: null };
}

function decodeBucketSpan(buf: Buffer, start: number, end: number): Span {
  const r = new Reader(buf, start, end, 'BucketSpan');
  let offset = 0;
  let length = 0;
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    if (field === 1) {
      expectWire('Offset', wire, WIRE_VARINT);
      offset = zigzag(r.varint()) | 0;
    } else if (field === 2) {
      expectWire('Length', wire, WIRE_VARINT);
      length = r.uint32();
    } else {
      r.skip(wire);
    }
  }
  return { offset, length };
}
