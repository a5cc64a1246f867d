// Decoding of remote write 1.0's prometheus.WriteRequest protobuf, by hand.
//
// The whole message is decoded and checked before the caller appends
// anything, so a malformed body changes nothing. Samples land in two shared
// Float64Arrays (timestamps, values) with per-series offsets: no object per
// sample.
import { isUtf8 } from 'node:buffer';

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
  readonly histograms: number;
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
  let metadata = 0;
  const r = new Reader(buf, 0, buf.length, 'WriteRequest');
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    if (field === 1) {
      expectWire('Timeseries', wire, WIRE_LEN);
      const [s, e] = r.bytes();
      series.push(decodeTimeSeries(buf, s, e, samples, exemplars));
    } else if (field === 3) {
      expectWire('Metadata', wire, WIRE_LEN);
      r.bytes();
      metadata++;
    } else {
      r.skip(wire);
    }
  }
  return { series, timestamps: samples.ts, values: samples.vs, samples: samples.n, metadata, exemplars };
}

function decodeTimeSeries(buf: Buffer, start: number, end: number, samples: SampleBuffer, exemplars: DecodedExemplar[]): DecodedSeries {
  const r = new Reader(buf, start, end, 'TimeSeries');
  const labels: string[] = [];
  let utf8 = true;
  const first = samples.n;
  let histograms = 0;
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
      case 4:
        expectWire('Histograms', wire, WIRE_LEN);
        r.bytes();
        histograms++;
        break;
      default:
        r.skip(wire);
    }
  }
  return { labels, utf8, start: first, end: samples.n, histograms, exStart, exEnd: exemplars.length };
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
      const bytes = buf.subarray(s, e);
      if (!isUtf8(bytes)) ok = false;
      const str = bytes.toString('utf8');
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
