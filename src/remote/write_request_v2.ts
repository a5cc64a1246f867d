// Decoding of remote write 2.0's io.prometheus.write.v2.Request, by hand.
//
// As for 1.0, the whole message is decoded and checked before anything is
// appended, so a malformed body changes nothing. Strings stay where they are
// in the body: the symbols table is a list of byte ranges, decoded only when a
// series refers to them. Label references, samples and exemplars land in
// shared typed arrays with per-series offsets; every array grows by doubling
// and is bounded by the (already size-limited) body. Native histograms (few,
// large) are one object each, decoded as in 1.0 (the message is the same).
//
// Fields are checked as the gogo-protobuf code Prometheus decodes with checks
// them (wire types, lengths, integer overflow), with its error texts, so a body
// Prometheus refuses is refused here too and one it accepts is accepted.
import {
  ProtobufError,
  Reader,
  SampleBuffer,
  MIN_SAMPLE_BYTES,
  WIRE_I64,
  WIRE_LEN,
  WIRE_VARINT,
  decodeHistogram,
  expectWire,
  type DecodedHistogram,
} from './write_request.js';

export interface V2Series {
  /** Label references (name, value, name, value ...) are refs[refStart..refEnd). */
  readonly refStart: number;
  readonly refEnd: number;
  /** Float samples are timestamps[start..end) and values[start..end). */
  readonly start: number;
  readonly end: number;
  /** Native histograms are histograms[hStart..hEnd). */
  readonly hStart: number;
  readonly hEnd: number;
  /** Exemplars exStart..exEnd of the exemplar arrays. */
  readonly exStart: number;
  readonly exEnd: number;
  readonly helpRef: number;
  readonly unitRef: number;
}

export interface DecodedV2Request {
  /** The decoded body; symbols are byte ranges of it. */
  readonly buf: Buffer;
  readonly symbolCount: number;
  readonly symStart: Uint32Array;
  readonly symEnd: Uint32Array;
  readonly refs: Uint32Array;
  readonly series: V2Series[];
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  readonly histograms: DecodedHistogram[];
  /** Exemplar i's label references are exRefs[exRefStart[i]..exRefEnd[i]); its timestamp is exTs[i], its value exValues[i]. */
  readonly exRefs: Uint32Array;
  readonly exRefStart: Uint32Array;
  readonly exRefEnd: Uint32Array;
  readonly exTs: Float64Array;
  readonly exValues: Float64Array;
}

/** A growable Uint32Array. */
class U32List {
  a: Uint32Array;
  n = 0;
  constructor(cap: number) {
    this.a = new Uint32Array(cap);
  }
  push(v: number): void {
    if (this.n === this.a.length) {
      const next = new Uint32Array(this.a.length * 2);
      next.set(this.a);
      this.a = next;
    }
    this.a[this.n++] = v;
  }
}

/** A growable Float64Array. */
class F64List {
  a: Float64Array;
  n = 0;
  constructor(cap: number) {
    this.a = new Float64Array(cap);
  }
  push(v: number): void {
    if (this.n === this.a.length) {
      const next = new Float64Array(this.a.length * 2);
      next.set(this.a);
      this.a = next;
    }
    this.a[this.n++] = v;
  }
}

/** Everything the series of one request write into. */
interface Sink {
  buf: Buffer;
  refs: U32List;
  exRefs: U32List;
  samples: SampleBuffer;
  histograms: DecodedHistogram[];
  exRefStart: U32List;
  exRefEnd: U32List;
  exTs: F64List;
  exValues: F64List;
}

// First guesses at array sizes; the arrays double as needed.
const INITIAL_CAPACITY = 16;
// A symbol takes at least 2 bytes of the body and a label reference 1, so body
// bytes / 32 under-guesses real bodies a little and costs small ones nothing.
const BYTES_PER_GUESS = 32;

/** Decodes an io.prometheus.write.v2.Request; throws ProtobufError for malformed input. */
export function decodeWriteV2Request(buf: Buffer): DecodedV2Request {
  const guess = Math.max(INITIAL_CAPACITY, Math.ceil(buf.length / BYTES_PER_GUESS));
  const symStart = new U32List(guess);
  const symEnd = new U32List(guess);
  const sink: Sink = {
    buf,
    refs: new U32List(guess),
    exRefs: new U32List(INITIAL_CAPACITY),
    samples: new SampleBuffer(Math.max(INITIAL_CAPACITY, Math.ceil(buf.length / MIN_SAMPLE_BYTES / 4))),
    histograms: [],
    exRefStart: new U32List(INITIAL_CAPACITY),
    exRefEnd: new U32List(INITIAL_CAPACITY),
    exTs: new F64List(INITIAL_CAPACITY),
    exValues: new F64List(INITIAL_CAPACITY),
  };
  const series: V2Series[] = [];
  const r = new Reader(buf, 0, buf.length, 'Request');
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    if (field === 4) {
      expectWire('Symbols', wire, WIRE_LEN);
      const [s, e] = r.bytes();
      symStart.push(s);
      symEnd.push(e);
    } else if (field === 5) {
      expectWire('Timeseries', wire, WIRE_LEN);
      const [s, e] = r.bytes();
      series.push(decodeTimeSeries(sink, s, e));
    } else {
      r.skip(wire);
    }
  }
  return {
    buf,
    symbolCount: symStart.n,
    symStart: symStart.a,
    symEnd: symEnd.a,
    refs: sink.refs.a,
    series,
    timestamps: sink.samples.ts,
    values: sink.samples.vs,
    histograms: sink.histograms,
    exRefs: sink.exRefs.a,
    exRefStart: sink.exRefStart.a,
    exRefEnd: sink.exRefEnd.a,
    exTs: sink.exTs.a,
    exValues: sink.exValues.a,
  };
}

/** A repeated uint32 field, packed (length-delimited) or one value per field, as proto3 allows both. */
function readRefs(r: Reader, field: string, wire: number, out: U32List): void {
  if (wire === WIRE_VARINT) {
    out.push(r.uint32());
    return;
  }
  if (wire !== WIRE_LEN) throw new ProtobufError(`proto: wrong wireType = ${wire} for field ${field}`);
  const [s, post] = r.bytes();
  // Values are read up to the run's end but bounds-checked against the whole message, as gogo reads them.
  r.pos = s;
  while (r.pos < post) out.push(r.uint32());
}

function decodeTimeSeries(sink: Sink, start: number, end: number): V2Series {
  const r = new Reader(sink.buf, start, end, 'TimeSeries');
  const refStart = sink.refs.n;
  const first = sink.samples.n;
  const hStart = sink.histograms.length;
  const exStart = sink.exTs.n;
  let helpRef = 0;
  let unitRef = 0;
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    switch (field) {
      case 1:
        readRefs(r, 'LabelsRefs', wire, sink.refs);
        break;
      case 2: {
        expectWire('Samples', wire, WIRE_LEN);
        const [s, e] = r.bytes();
        decodeSample(sink, s, e);
        break;
      }
      case 3: {
        expectWire('Histograms', wire, WIRE_LEN);
        const [s, e] = r.bytes();
        sink.histograms.push(decodeHistogram(sink.buf, s, e));
        break;
      }
      case 4: {
        expectWire('Exemplars', wire, WIRE_LEN);
        const [s, e] = r.bytes();
        decodeExemplar(sink, s, e);
        break;
      }
      case 5: {
        expectWire('Metadata', wire, WIRE_LEN);
        const [s, e] = r.bytes();
        // A message field met twice is merged: later values win field by field.
        const m = decodeMetadata(sink.buf, s, e, helpRef, unitRef);
        helpRef = m[0];
        unitRef = m[1];
        break;
      }
      default:
        r.skip(wire);
    }
  }
  return {
    refStart,
    refEnd: sink.refs.n,
    start: first,
    end: sink.samples.n,
    hStart,
    hEnd: sink.histograms.length,
    exStart,
    exEnd: sink.exTs.n,
    helpRef,
    unitRef,
  };
}

function decodeSample(sink: Sink, start: number, end: number): void {
  const r = new Reader(sink.buf, start, end, 'Sample');
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
    } else if (field === 3) {
      // Start timestamps are checked and not used: tsprom does not ingest them (as Prometheus without created-timestamp-zero-ingestion).
      expectWire('StartTimestamp', wire, WIRE_VARINT);
      r.int64();
    } else {
      r.skip(wire);
    }
  }
  sink.samples.push(t, v);
}

function decodeExemplar(sink: Sink, start: number, end: number): void {
  const r = new Reader(sink.buf, start, end, 'Exemplar');
  const refStart = sink.exRefs.n;
  let t = 0;
  let v = 0;
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    if (field === 1) {
      readRefs(r, 'LabelsRefs', wire, sink.exRefs);
    } else if (field === 2) {
      expectWire('Value', wire, WIRE_I64);
      v = r.double();
    } else if (field === 3) {
      expectWire('Timestamp', wire, WIRE_VARINT);
      t = r.int64();
    } else {
      r.skip(wire);
    }
  }
  sink.exRefStart.push(refStart);
  sink.exRefEnd.push(sink.exRefs.n);
  sink.exTs.push(t);
  sink.exValues.push(v);
}

/** [helpRef, unitRef] after merging this Metadata message into the given ones. */
function decodeMetadata(buf: Buffer, start: number, end: number, help: number, unit: number): [number, number] {
  const r = new Reader(buf, start, end, 'Metadata');
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    if (field === 1) {
      expectWire('Type', wire, WIRE_VARINT);
      r.varint();
    } else if (field === 3) {
      expectWire('HelpRef', wire, WIRE_VARINT);
      help = r.uint32();
    } else if (field === 4) {
      expectWire('UnitRef', wire, WIRE_VARINT);
      unit = r.uint32();
    } else {
      r.skip(wire);
    }
  }
  return [help, unit];
}
