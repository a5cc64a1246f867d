// Encoding of outgoing remote-write requests, by hand: prometheus.WriteRequest
// (1.0) and io.prometheus.write.v2.Request (2.0). A batch is one TimeSeries
// per sample, exemplar or native histogram, as Prometheus sends it. For 1.0 each series' Label messages are
// encoded once (labelBytesV1) and copied into every request; 2.0 builds a
// symbols table per request.
import { FloatHistogram, type Histogram, type Span } from '../model/histogram.js';
import type { Labels } from '../model/labels.js';
import type { MetricType } from '../model/textparse/interface.js';

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;

/** Bytes of v as a protobuf varint (v a non-negative safe integer). */
function varintLen(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Bytes of an int64 timestamp as a varint (negative ones take the full ten). */
function int64Len(t: number): number {
  return t < 0 ? 10 : varintLen(t);
}

/** A growable output buffer for one request. */
class ProtoWriter {
  buf: Buffer;
  pos = 0;

  constructor(initial: number) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  reset(): void {
    this.pos = 0;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Callers ensure() room first. */
  varint(v: number): void {
    const b = this.buf;
    let p = this.pos;
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    b[p++] = v;
    this.pos = p;
  }

  int64(t: number): void {
    if (t >= 0) {
      this.varint(t);
      return;
    }
    // Two's complement over 64 bits, ten bytes.
    let u = BigInt.asUintN(64, BigInt(t));
    for (let i = 0; i < 9; i++) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  double(v: number): void {
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A packed repeated double field (callers ensure() room). */
  packedDoubles(field: number, vs: ArrayLike<number>): void {
    if (vs.length === 0) return;
    this.varint((field << 3) | WIRE_LEN);
    this.varint(8 * vs.length);
    for (let i = 0; i < vs.length; i++) this.double(vs[i]!);
  }

  string(s: string, byteLen: number): void {
    this.pos += this.buf.write(s, this.pos, byteLen, 'utf8');
  }

  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** The Label messages (WriteRequest's TimeSeries field 1) of a label set. */
export function labelBytesV1(labels: Labels): Buffer {
  const n = labels.length;
  let size = 0;
  const lens: number[] = [];
  for (let i = 0; i < n; i++) {
    const nl = Buffer.byteLength(labels.nameAt(i));
    const vl = Buffer.byteLength(labels.valueAt(i));
    const ll = 1 + varintLen(nl) + nl + 1 + varintLen(vl) + vl;
    lens.push(nl, vl, ll);
    size += 1 + varintLen(ll) + ll;
  }
  const w = new ProtoWriter(size);
  for (let i = 0; i < n; i++) {
    // lens holds three entries per label, pushed above.
    const nl = lens[3 * i]!;
    const vl = lens[3 * i + 1]!;
    w.varint((1 << 3) | WIRE_LEN);
    w.varint(lens[3 * i + 2]!);
    w.varint((1 << 3) | WIRE_LEN);
    w.varint(nl);
    w.string(labels.nameAt(i), nl);
    w.varint((2 << 3) | WIRE_LEN);
    w.varint(vl);
    w.string(labels.valueAt(i), vl);
  }
  return w.result();
}

/** Zigzag of a safe integer, as sint32/sint64 varints carry it. */
function zigzag(v: number): number {
  return v >= 0 ? 2 * v : -2 * v - 1;
}

function spanLen(sp: Span): number {
  return (sp.offset !== 0 ? 1 + varintLen(zigzag(sp.offset)) : 0) + (sp.length !== 0 ? 1 + varintLen(sp.length) : 0);
}

function writeSpans(w: ProtoWriter, field: number, spans: readonly Span[]): void {
  for (const sp of spans) {
    w.varint((field << 3) | WIRE_LEN);
    w.varint(spanLen(sp));
    if (sp.offset !== 0) {
      w.varint((1 << 3) | WIRE_VARINT);
      w.varint(zigzag(sp.offset));
    }
    if (sp.length !== 0) {
      w.varint((2 << 3) | WIRE_VARINT);
      w.varint(sp.length);
    }
  }
}

function writeDeltas(w: ProtoWriter, field: number, ds: Float64Array): void {
  if (ds.length === 0) return;
  let n = 0;
  for (let i = 0; i < ds.length; i++) n += varintLen(zigzag(ds[i]!));
  w.varint((field << 3) | WIRE_LEN);
  w.varint(n);
  for (let i = 0; i < ds.length; i++) w.varint(zigzag(ds[i]!));
}

/**
 * Writes the Histogram message (the same in 1.0 and 2.0) of h at t, without
 * its tag and length. The count's oneof is always written (it says integer or
 * float); other zero fields are left out, as protobuf encoders do.
 */
function writeHistogram(w: ProtoWriter, h: Histogram | FloatHistogram, t: number): void {
  const float = h instanceof FloatHistogram;
  const nb = h.positiveBuckets.length + h.negativeBuckets.length;
  // An upper bound: tags, varints of up to 10 bytes, doubles, spans.
  w.ensure(96 + 11 * nb + 8 * h.customValues.length + 20 * (h.positiveSpans.length + h.negativeSpans.length));
  if (float) {
    w.varint((2 << 3) | WIRE_I64);
    w.double(h.count);
  } else {
    w.varint((1 << 3) | WIRE_VARINT);
    w.varint(h.count);
  }
  if (h.sum !== 0 || Object.is(h.sum, -0)) {
    w.varint((3 << 3) | WIRE_I64);
    w.double(h.sum);
  }
  if (h.schema !== 0) {
    w.varint((4 << 3) | WIRE_VARINT);
    w.varint(zigzag(h.schema));
  }
  if (h.zeroThreshold !== 0) {
    w.varint((5 << 3) | WIRE_I64);
    w.double(h.zeroThreshold);
  }
  if (float) {
    w.varint((7 << 3) | WIRE_I64);
    w.double(h.zeroCount);
  } else {
    w.varint((6 << 3) | WIRE_VARINT);
    w.varint(h.zeroCount);
  }
  writeSpans(w, 8, h.negativeSpans);
  if (float) w.packedDoubles(10, h.negativeBuckets);
  else writeDeltas(w, 9, h.negativeBuckets);
  writeSpans(w, 11, h.positiveSpans);
  if (float) w.packedDoubles(13, h.positiveBuckets);
  else writeDeltas(w, 12, h.positiveBuckets);
  if (h.counterResetHint !== 0) {
    w.varint((14 << 3) | WIRE_VARINT);
    w.varint(h.counterResetHint);
  }
  if (t !== 0) {
    w.varint((15 << 3) | WIRE_VARINT);
    w.int64(t);
  }
  w.packedDoubles(16, h.customValues);
}

/** One Histogram message's bytes (for tests against the generated code). */
export function encodeHistogramMessage(h: Histogram | FloatHistogram, t: number): Buffer {
  const w = new ProtoWriter(256);
  writeHistogram(w, h, t);
  return Buffer.from(w.result());
}

/** What a request encoder needs of a queued series. */
export interface EncodableSeries {
  readonly labels: Labels;
  /** labelBytesV1(labels), made once per series when 1.0 is sent. */
  readonly v1: Buffer | null;
}

/** Encodes batches into one reused buffer; the result is valid until the next encode. */
export class RequestEncoder {
  private readonly w = new ProtoWriter(64 * 1024);
  /** One histogram message at a time, before its length is known. */
  private readonly hw = new ProtoWriter(1024);
  private readonly symbols = new Map<string, number>();
  private symbolList: string[] = [];
  private refs: number[] = [];

  constructor(readonly version: 1 | 2) {}

  /**
   * series[i], ts[i], vs[i] for i < n: one TimeSeries with one sample each, or with
   * one exemplar where ex[i] holds the exemplar's labels, or with one native
   * histogram where hs[i] holds it (vs[i] unused).
   */
  encode(
    series: readonly EncodableSeries[],
    ts: Float64Array,
    vs: Float64Array,
    n: number,
    ex: readonly (Labels | undefined)[],
    hs: readonly (Histogram | FloatHistogram | undefined)[] = [],
  ): Buffer {
    return this.version === 1 ? this.encodeV1(series, ts, vs, n, ex, hs) : this.encodeV2(series, ts, vs, n, ex, hs);
  }

  /** The histogram message of h at t in the scratch writer. */
  private histogram(h: Histogram | FloatHistogram, t: number): Buffer {
    this.hw.reset();
    writeHistogram(this.hw, h, t);
    return this.hw.result();
  }

  private encodeV1(
    series: readonly EncodableSeries[],
    ts: Float64Array,
    vs: Float64Array,
    n: number,
    ex: readonly (Labels | undefined)[],
    hs: readonly (Histogram | FloatHistogram | undefined)[],
  ): Buffer {
    const w = this.w;
    w.reset();
    if (ex.length === 0 && hs.length === 0) {
      this.samplesV1(series, ts, vs, n);
      return w.result();
    }
    for (let i = 0; i < n; i++) {
      // i < n <= the lengths of the arrays (the queue fills them together).
      const s = series[i]!;
      const lb = s.v1 ?? labelBytesV1(s.labels);
      const t = ts[i]!;
      const e = ex[i];
      const h = hs[i];
      if (h !== undefined) {
        // Histogram: TimeSeries field 4.
        const hb = this.histogram(h, t);
        const tsLen = lb.length + 1 + varintLen(hb.length) + hb.length;
        w.ensure(1 + 5 + tsLen);
        w.varint((1 << 3) | WIRE_LEN);
        w.varint(tsLen);
        w.bytes(lb);
        w.varint((4 << 3) | WIRE_LEN);
        w.varint(hb.length);
        w.bytes(hb);
        continue;
      }
      if (e !== undefined) {
        // Exemplar: labels (1), value (2), timestamp (3), in TimeSeries field 3.
        const el = labelBytesV1(e);
        const exLen = el.length + 1 + 8 + 1 + int64Len(t);
        const tsLen = lb.length + 1 + varintLen(exLen) + exLen;
        w.ensure(1 + 5 + tsLen);
        w.varint((1 << 3) | WIRE_LEN);
        w.varint(tsLen);
        w.bytes(lb);
        w.varint((3 << 3) | WIRE_LEN);
        w.varint(exLen);
        w.bytes(el);
        w.varint((2 << 3) | WIRE_I64);
        w.double(vs[i]!);
        w.varint((3 << 3) | WIRE_VARINT);
        w.int64(t);
        continue;
      }
      const sampleLen = 1 + 8 + 1 + int64Len(t);
      const tsLen = lb.length + 1 + varintLen(sampleLen) + sampleLen;
      w.ensure(1 + 5 + tsLen);
      w.varint((1 << 3) | WIRE_LEN);
      w.varint(tsLen);
      w.bytes(lb);
      w.varint((2 << 3) | WIRE_LEN);
      w.varint(sampleLen);
      w.varint((1 << 3) | WIRE_I64);
      w.double(vs[i]!);
      w.varint((2 << 3) | WIRE_VARINT);
      w.int64(t);
    }
    return w.result();
  }

  /** encodeV1 for a batch of float samples only (the common case), in one pass without per-entry checks. */
  private samplesV1(series: readonly EncodableSeries[], ts: Float64Array, vs: Float64Array, n: number): void {
    const w = this.w;
    for (let i = 0; i < n; i++) {
      const s = series[i]!;
      const lb = s.v1 ?? labelBytesV1(s.labels);
      const t = ts[i]!;
      const sampleLen = 1 + 8 + 1 + int64Len(t);
      const tsLen = lb.length + 2 + sampleLen;
      w.ensure(1 + 5 + tsLen);
      w.varint((1 << 3) | WIRE_LEN);
      w.varint(tsLen);
      w.bytes(lb);
      // sampleLen < 128: its varint is one byte.
      w.buf[w.pos++] = (2 << 3) | WIRE_LEN;
      w.buf[w.pos++] = sampleLen;
      w.buf[w.pos++] = (1 << 3) | WIRE_I64;
      w.double(vs[i]!);
      w.buf[w.pos++] = (2 << 3) | WIRE_VARINT;
      w.int64(t);
    }
  }

  private symbol(s: string): number {
    let id = this.symbols.get(s);
    if (id === undefined) {
      id = this.symbolList.length;
      this.symbols.set(s, id);
      this.symbolList.push(s);
    }
    return id;
  }

  private encodeV2(
    series: readonly EncodableSeries[],
    ts: Float64Array,
    vs: Float64Array,
    n: number,
    ex: readonly (Labels | undefined)[],
    hs: readonly (Histogram | FloatHistogram | undefined)[],
  ): Buffer {
    const w = this.w;
    w.reset();
    this.symbols.clear();
    this.symbolList = [];
    // The spec wants "" as the first symbol.
    this.symbol('');
    // The symbols table is written first, so every label reference is resolved before any series is written.
    const refs = this.refs;
    refs.length = 0;
    // Per entry: its series' label refs, then (for an exemplar) the exemplar's label refs.
    const starts = new Array<number>(n + 1);
    const exStarts = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      starts[i] = refs.length;
      const l = series[i]!.labels;
      for (let j = 0; j < l.length; j++) refs.push(this.symbol(l.nameAt(j)), this.symbol(l.valueAt(j)));
      exStarts[i] = refs.length;
      const e = ex[i];
      if (e !== undefined) for (let j = 0; j < e.length; j++) refs.push(this.symbol(e.nameAt(j)), this.symbol(e.valueAt(j)));
    }
    starts[n] = refs.length;
    for (const s of this.symbolList) {
      const bl = Buffer.byteLength(s);
      w.ensure(1 + 5 + bl);
      w.varint((4 << 3) | WIRE_LEN);
      w.varint(bl);
      w.string(s, bl);
    }
    for (let i = 0; i < n; i++) {
      const a = starts[i]!;
      const m = exStarts[i]!;
      const b = starts[i + 1]!;
      let refsLen = 0;
      for (let k = a; k < m; k++) refsLen += varintLen(refs[k]!);
      const t = ts[i]!;
      const h = hs[i];
      if (h !== undefined) {
        // Histogram: TimeSeries field 3.
        const hb = this.histogram(h, t);
        const tsLen = 1 + varintLen(refsLen) + refsLen + 1 + varintLen(hb.length) + hb.length;
        w.ensure(1 + 5 + tsLen);
        w.varint((5 << 3) | WIRE_LEN);
        w.varint(tsLen);
        w.varint((1 << 3) | WIRE_LEN);
        w.varint(refsLen);
        for (let k = a; k < m; k++) w.varint(refs[k]!);
        w.varint((3 << 3) | WIRE_LEN);
        w.varint(hb.length);
        w.bytes(hb);
        continue;
      }
      if (ex[i] !== undefined) {
        // Exemplar (TimeSeries field 4): labels_refs (1, packed), value (2), timestamp (3).
        let exRefsLen = 0;
        for (let k = m; k < b; k++) exRefsLen += varintLen(refs[k]!);
        const exLen = 1 + varintLen(exRefsLen) + exRefsLen + 1 + 8 + 1 + int64Len(t);
        const tsLen = 1 + varintLen(refsLen) + refsLen + 1 + varintLen(exLen) + exLen;
        w.ensure(1 + 5 + tsLen);
        w.varint((5 << 3) | WIRE_LEN);
        w.varint(tsLen);
        w.varint((1 << 3) | WIRE_LEN);
        w.varint(refsLen);
        for (let k = a; k < m; k++) w.varint(refs[k]!);
        w.varint((4 << 3) | WIRE_LEN);
        w.varint(exLen);
        w.varint((1 << 3) | WIRE_LEN);
        w.varint(exRefsLen);
        for (let k = m; k < b; k++) w.varint(refs[k]!);
        w.varint((2 << 3) | WIRE_I64);
        w.double(vs[i]!);
        w.varint((3 << 3) | WIRE_VARINT);
        w.int64(t);
        continue;
      }
      const sampleLen = 1 + 8 + 1 + int64Len(t);
      const tsLen = 1 + varintLen(refsLen) + refsLen + 1 + varintLen(sampleLen) + sampleLen;
      w.ensure(1 + 5 + tsLen);
      w.varint((5 << 3) | WIRE_LEN);
      w.varint(tsLen);
      w.varint((1 << 3) | WIRE_LEN);
      w.varint(refsLen);
      for (let k = a; k < m; k++) w.varint(refs[k]!);
      w.varint((2 << 3) | WIRE_LEN);
      w.varint(sampleLen);
      w.varint((1 << 3) | WIRE_I64);
      w.double(vs[i]!);
      w.varint((2 << 3) | WIRE_VARINT);
      w.int64(t);
    }
    return w.result();
  }
}

/** One metric family's metadata, as remote write 1.0 sends it. */
export interface MetadataEntry {
  readonly metricFamily: string;
  readonly type: MetricType;
  readonly help: string;
  readonly unit: string;
}

/** MetricMetadata.MetricType's numbers. */
const METRIC_TYPES: Record<MetricType, number> = {
  unknown: 0,
  counter: 1,
  gauge: 2,
  histogram: 3,
  gaugehistogram: 4,
  summary: 5,
  info: 6,
  stateset: 7,
};

/** A WriteRequest holding only metadata (field 3): type (1), metric_family_name (2), help (4), unit (5). */
export function encodeMetadataV1(entries: readonly MetadataEntry[]): Buffer {
  const w = new ProtoWriter(4096);
  for (const m of entries) {
    const type = METRIC_TYPES[m.type];
    const nl = Buffer.byteLength(m.metricFamily);
    const hl = Buffer.byteLength(m.help);
    const ul = Buffer.byteLength(m.unit);
    const len =
      (type !== 0 ? 2 : 0) + 1 + varintLen(nl) + nl + (hl > 0 ? 1 + varintLen(hl) + hl : 0) + (ul > 0 ? 1 + varintLen(ul) + ul : 0);
    w.ensure(1 + 5 + len);
    w.varint((3 << 3) | WIRE_LEN);
    w.varint(len);
    if (type !== 0) {
      w.varint((1 << 3) | WIRE_VARINT);
      w.varint(type);
    }
    w.varint((2 << 3) | WIRE_LEN);
    w.varint(nl);
    w.string(m.metricFamily, nl);
    if (hl > 0) {
      w.varint((4 << 3) | WIRE_LEN);
      w.varint(hl);
      w.string(m.help, hl);
    }
    if (ul > 0) {
      w.varint((5 << 3) | WIRE_LEN);
      w.varint(ul);
      w.string(m.unit, ul);
    }
  }
  return w.result();
}
