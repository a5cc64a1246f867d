// Remote read's protobuf messages (prometheus.ReadRequest, ReadResponse,
// ChunkedReadResponse), encoded and decoded by hand as the remote-write
// decoder is (native histograms are remote write 1.0's Histogram message,
// decoded by its decoder and encoded here), plus the frames of the streamed
// response:
//
//   frame = uvarint(len(message)) u32be(CRC-32C of message) message
import type { FloatHistogram, Histogram, Span } from '../model/histogram.js';
import { Labels } from '../model/labels.js';
import { MatchType, Matcher } from '../model/matcher.js';
import { crc32c } from '../tsdb/encoding/crc32c.js';
import { Reader, WIRE_I64, WIRE_LEN, WIRE_VARINT, decodeHistogram, expectWire } from './write_request.js';

/** ReadRequest.ResponseType. */
export const RESPONSE_SAMPLES = 0;
export const RESPONSE_STREAMED_XOR_CHUNKS = 1;

export interface ReadHints {
  readonly stepMs: number;
  readonly func: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly grouping: readonly string[];
  readonly by: boolean;
  readonly rangeMs: number;
}

export interface ReadQuery {
  readonly startMs: number;
  readonly endMs: number;
  readonly matchers: readonly Matcher[];
  readonly hints: ReadHints | null;
}

export interface ReadRequest {
  readonly queries: readonly ReadQuery[];
  readonly acceptedResponseTypes: readonly number[];
}

/** A native histogram sample: exactly one of h and fh. */
export interface ReadHistogram {
  readonly t: number;
  readonly h: Histogram | null;
  readonly fh: FloatHistogram | null;
}

/** One series of an answer: float samples are timestamps[i], values[i]; histograms apart, each list in time order. */
export interface ReadSeries {
  readonly labels: Labels;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  readonly histograms: readonly ReadHistogram[];
}

export interface ReadChunk {
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  readonly encoding: number;
  readonly data: Uint8Array;
}

export interface ChunkedSeries {
  readonly labels: Labels;
  readonly chunks: readonly ReadChunk[];
}

export interface ChunkedReadResponse {
  readonly series: readonly ChunkedSeries[];
  readonly queryIndex: number;
}

const MATCH_TYPES = [MatchType.Equal, MatchType.NotEqual, MatchType.Regexp, MatchType.NotRegexp] as const;

/** A matcher of a well-formed request that cannot be used (unknown type); Prometheus answers these with a 500, not a 400. */
export class InvalidMatcherError extends Error {
  override name = 'InvalidMatcherError';
}

// ---- encoding ----

/**
 * A growable protobuf writer. Nested messages are written in place after
 * five reserved length bytes, then moved left when the length's varint is
 * shorter, so nothing is sized twice.
 */
export class ProtoWriter {
  buf: Buffer;
  pos = 0;
  private readonly scratch = Buffer.alloc(8);

  constructor(initial = 1024) {
    this.buf = Buffer.alloc(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const b = Buffer.alloc(size);
    this.buf.copy(b, 0, 0, this.pos);
    this.buf = b;
  }

  uvarint(x: number): void {
    this.ensure(10);
    const buf = this.buf;
    while (x >= 0x80) {
      buf[this.pos++] = (x % 128) | 0x80;
      x = Math.floor(x / 128);
    }
    buf[this.pos++] = x;
  }

  /** An int64 field value: negative numbers take ten bytes (two's complement), as Go writes them. */
  int64(x: number): void {
    if (x >= 0) {
      this.uvarint(x);
      return;
    }
    let v = BigInt.asUintN(64, BigInt(x));
    this.ensure(10);
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  tag(field: number, wire: number): void {
    this.uvarint(field * 8 + wire);
  }

  double(x: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(x, this.pos);
    this.pos += 8;
  }

  bytesField(field: number, b: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    this.uvarint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  stringField(field: number, s: string): void {
    this.tag(field, WIRE_LEN);
    const n = Buffer.byteLength(s);
    this.uvarint(n);
    this.ensure(n);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += n;
  }

  /** Starts a nested message field; pass the result to end(). */
  begin(field: number): number {
    this.tag(field, WIRE_LEN);
    this.ensure(5);
    this.pos += 5;
    return this.pos;
  }

  end(start: number): void {
    const len = this.pos - start;
    let n = 0;
    for (let x = len; ; x = Math.floor(x / 128)) {
      this.scratch[n++] = x >= 0x80 ? (x % 128) | 0x80 : x;
      if (x < 0x80) break;
    }
    const lenPos = start - 5;
    this.scratch.copy(this.buf, lenPos, 0, n);
    if (n < 5) this.buf.copyWithin(lenPos + n, start, this.pos);
    this.pos -= 5 - n;
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

function writeLabels(w: ProtoWriter, field: number, labels: Labels): void {
  for (let i = 0; i < labels.length; i++) {
    const s = w.begin(field);
    w.stringField(1, labels.nameAt(i));
    w.stringField(2, labels.valueAt(i));
    w.end(s);
  }
}

function zigzag(x: number): number {
  return x >= 0 ? 2 * x : -2 * x - 1;
}

function writeSpans(w: ProtoWriter, field: number, spans: readonly Span[]): void {
  for (const sp of spans) {
    const s = w.begin(field);
    if (sp.offset !== 0) {
      w.tag(1, WIRE_VARINT);
      w.uvarint(zigzag(sp.offset));
    }
    if (sp.length !== 0) {
      w.tag(2, WIRE_VARINT);
      w.uvarint(sp.length);
    }
    w.end(s);
  }
}

function writePacked(w: ProtoWriter, field: number, xs: ArrayLike<number>, doubles: boolean): void {
  if (xs.length === 0) return;
  const s = w.begin(field);
  for (let i = 0; i < xs.length; i++) {
    if (doubles) w.double(xs[i]!);
    else w.uvarint(zigzag(xs[i]!));
  }
  w.end(s);
}

/**
 * A Histogram message (remote write 1.0's, which remote read shares) in
 * field order with zero scalars left out, as gogo writes it; the count and
 * zero count are a oneof, so they are written even when zero.
 */
export function writeHistogram(w: ProtoWriter, field: number, t: number, h: Histogram | null, fh: FloatHistogram | null): void {
  const x = (h ?? fh)!;
  const s = w.begin(field);
  if (h !== null) {
    w.tag(1, WIRE_VARINT);
    w.uvarint(h.count);
  } else {
    w.tag(2, WIRE_I64);
    w.double(x.count);
  }
  if (x.sum !== 0) {
    w.tag(3, WIRE_I64);
    w.double(x.sum);
  }
  if (x.schema !== 0) {
    w.tag(4, WIRE_VARINT);
    w.uvarint(zigzag(x.schema));
  }
  if (x.zeroThreshold !== 0) {
    w.tag(5, WIRE_I64);
    w.double(x.zeroThreshold);
  }
  if (h !== null) {
    w.tag(6, WIRE_VARINT);
    w.uvarint(h.zeroCount);
  } else {
    w.tag(7, WIRE_I64);
    w.double(x.zeroCount);
  }
  writeSpans(w, 8, x.negativeSpans);
  writePacked(w, h !== null ? 9 : 10, x.negativeBuckets, h === null);
  writeSpans(w, 11, x.positiveSpans);
  writePacked(w, h !== null ? 12 : 13, x.positiveBuckets, h === null);
  if (x.counterResetHint !== 0) {
    w.tag(14, WIRE_VARINT);
    w.uvarint(x.counterResetHint);
  }
  if (t !== 0) {
    w.tag(15, WIRE_VARINT);
    w.int64(t);
  }
  writePacked(w, 16, x.customValues, true);
  w.end(s);
}

export function encodeReadRequest(req: ReadRequest): Buffer {
  const w = new ProtoWriter();
  for (const q of req.queries) {
    const qs = w.begin(1);
    if (q.startMs !== 0) {
      w.tag(1, WIRE_VARINT);
      w.int64(q.startMs);
    }
    if (q.endMs !== 0) {
      w.tag(2, WIRE_VARINT);
      w.int64(q.endMs);
    }
    for (const m of q.matchers) {
      const ms = w.begin(3);
      const type = MATCH_TYPES.indexOf(m.type);
      if (type !== 0) {
        w.tag(1, WIRE_VARINT);
        w.uvarint(type);
      }
      w.stringField(2, m.name);
      w.stringField(3, m.value);
      w.end(ms);
    }
    const h = q.hints;
    if (h !== null) {
      const hs = w.begin(4);
      const int = (field: number, x: number): void => {
        if (x === 0) return;
        w.tag(field, WIRE_VARINT);
        w.int64(x);
      };
      int(1, h.stepMs);
      if (h.func !== '') w.stringField(2, h.func);
      int(3, h.startMs);
      int(4, h.endMs);
      for (const g of h.grouping) w.stringField(5, g);
      if (h.by) {
        w.tag(6, WIRE_VARINT);
        w.uvarint(1);
      }
      int(7, h.rangeMs);
      w.end(hs);
    }
    w.end(qs);
  }
  if (req.acceptedResponseTypes.length > 0) {
    const s = w.begin(2);
    for (const t of req.acceptedResponseTypes) w.uvarint(t);
    w.end(s);
  }
  return w.finish();
}

/**
 * Writes ReadResponse's results one query at a time: the caller adds series
 * to the open result, so no intermediate object per sample exists.
 */
export class ReadResponseWriter {
  private readonly w = new ProtoWriter(64 * 1024);
  private result = -1;

  beginResult(): void {
    this.result = this.w.begin(1);
  }

  /** A series: n float samples from ts/vs, then its histograms (TimeSeries field 4). */
  series(labels: Labels, ts: Float64Array, vs: Float64Array, n: number, histograms: readonly ReadHistogram[] = []): void {
    const w = this.w;
    const s = w.begin(1);
    writeLabels(w, 1, labels);
    for (let i = 0; i < n; i++) {
      const ss = w.begin(2);
      const v = vs[i]!;
      const t = ts[i]!;
      // proto3 leaves zero values out, as Go's marshaller does; -0 keeps its sign bit.
      if (v !== 0 || Object.is(v, -0)) {
        w.tag(1, WIRE_I64);
        w.double(v);
      }
      if (t !== 0) {
        w.tag(2, WIRE_VARINT);
        w.int64(t);
      }
      w.end(ss);
    }
    for (const x of histograms) writeHistogram(w, 4, x.t, x.h, x.fh);
    w.end(s);
  }

  endResult(): void {
    this.w.end(this.result);
  }

  finish(): Buffer {
    return this.w.finish();
  }
}

/** Bytes a label takes inside a ChunkedSeries (tag, length and its name and value fields), as gogo's Size() counts. */
export function labelSize(name: string, value: string): number {
  const n = Buffer.byteLength(name);
  const v = Buffer.byteLength(value);
  return fieldSize(n) + fieldSize(v);
}

function varintSize(x: number): number {
  let n = 1;
  while (x >= 0x80) {
    x = Math.floor(x / 128);
    n++;
  }
  return n;
}

function fieldSize(len: number): number {
  return len === 0 ? 0 : 1 + varintSize(len) + len;
}

/** Bytes of a prompb.Chunk message's fields, as gogo's Size() counts them. */
export function chunkSize(c: ReadChunk): number {
  const i64 = (x: number): number => (x === 0 ? 0 : 1 + (x < 0 ? 10 : varintSize(x)));
  return i64(c.minTimeMs) + i64(c.maxTimeMs) + (c.encoding !== 0 ? 2 : 0) + fieldSize(c.data.length);
}

/** One ChunkedReadResponse message holding one series. */
export function encodeChunkedReadResponse(labels: Labels, chunks: readonly ReadChunk[], queryIndex: number): Buffer {
  const w = new ProtoWriter(4096);
  const s = w.begin(1);
  writeLabels(w, 1, labels);
  for (const c of chunks) {
    const cs = w.begin(2);
    if (c.minTimeMs !== 0) {
      w.tag(1, WIRE_VARINT);
      w.int64(c.minTimeMs);
    }
    if (c.maxTimeMs !== 0) {
      w.tag(2, WIRE_VARINT);
      w.int64(c.maxTimeMs);
    }
    if (c.encoding !== 0) {
      w.tag(3, WIRE_VARINT);
      w.uvarint(c.encoding);
    }
    if (c.data.length > 0) w.bytesField(4, c.data);
    w.end(cs);
  }
  w.end(s);
  if (queryIndex !== 0) {
    w.tag(2, WIRE_VARINT);
    w.int64(queryIndex);
  }
  return w.finish();
}

/** A streamed response's frame around one message. */
export function frame(msg: Uint8Array): Buffer {
  const w = new ProtoWriter(msg.length + 16);
  w.uvarint(msg.length);
  const out = Buffer.alloc(w.pos + 4 + msg.length);
  w.buf.copy(out, 0, 0, w.pos);
  out.writeUInt32BE(crc32c(msg), w.pos);
  out.set(msg, w.pos + 4);
  return out;
}

// ---- decoding ----

function str(buf: Buffer, s: number, e: number): string {
  return buf.toString('utf8', s, e);
}

function decodeLabelPair(buf: Buffer, start: number, end: number, out: string[]): void {
  const r = new Reader(buf, start, end, 'Label');
  let name = '';
  let value = '';
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    if (field === 1 || field === 2) {
      expectWire(field === 1 ? 'Name' : 'Value', wire, WIRE_LEN);
      const [s, e] = r.bytes();
      if (field === 1) name = str(buf, s, e);
      else value = str(buf, s, e);
    } else {
      r.skip(wire);
    }
  }
  out.push(name, value);
}

function decodeMatcher(buf: Buffer, start: number, end: number): Matcher {
  const r = new Reader(buf, start, end, 'LabelMatcher');
  let type = 0;
  let name = '';
  let value = '';
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    if (field === 1) {
      expectWire('Type', wire, WIRE_VARINT);
      type = r.varint();
    } else if (field === 2 || field === 3) {
      expectWire(field === 2 ? 'Name' : 'Value', wire, WIRE_LEN);
      const [s, e] = r.bytes();
      if (field === 2) name = str(buf, s, e);
      else value = str(buf, s, e);
    } else {
      r.skip(wire);
    }
  }
  const mt = MATCH_TYPES[type];
  if (mt === undefined) throw new InvalidMatcherError('invalid matcher type');
  return Matcher.create(mt, name, value);
}

function decodeHints(buf: Buffer, start: number, end: number): ReadHints {
  const r = new Reader(buf, start, end, 'ReadHints');
  const h = { stepMs: 0, func: '', startMs: 0, endMs: 0, grouping: [] as string[], by: false, rangeMs: 0 };
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    switch (field) {
      case 2:
      case 5: {
        expectWire(field === 2 ? 'Func' : 'Grouping', wire, WIRE_LEN);
        const [s, e] = r.bytes();
        if (field === 2) h.func = str(buf, s, e);
        else h.grouping.push(str(buf, s, e));
        break;
      }
      case 1:
      case 3:
      case 4:
      case 6:
      case 7: {
        expectWire('ReadHints', wire, WIRE_VARINT);
        const v = r.int64();
        if (field === 1) h.stepMs = v;
        else if (field === 3) h.startMs = v;
        else if (field === 4) h.endMs = v;
        else if (field === 6) h.by = v !== 0;
        else h.rangeMs = v;
        break;
      }
      default:
        r.skip(wire);
    }
  }
  return h;
}

function decodeQuery(buf: Buffer, start: number, end: number): ReadQuery {
  const r = new Reader(buf, start, end, 'Query');
  let startMs = 0;
  let endMs = 0;
  const matchers: Matcher[] = [];
  let hints: ReadHints | null = null;
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    if (field === 1 || field === 2) {
      expectWire(field === 1 ? 'StartTimestampMs' : 'EndTimestampMs', wire, WIRE_VARINT);
      if (field === 1) startMs = r.int64();
      else endMs = r.int64();
    } else if (field === 3) {
      expectWire('Matchers', wire, WIRE_LEN);
      const [s, e] = r.bytes();
      matchers.push(decodeMatcher(buf, s, e));
    } else if (field === 4) {
      expectWire('Hints', wire, WIRE_LEN);
      const [s, e] = r.bytes();
      hints = decodeHints(buf, s, e);
    } else {
      r.skip(wire);
    }
  }
  return { startMs, endMs, matchers, hints };
}

/** Decodes a ReadRequest; throws ProtobufError, or InvalidMatcherError / InvalidRegexError for a matcher that cannot be used. */
export function decodeReadRequest(buf: Buffer): ReadRequest {
  const r = new Reader(buf, 0, buf.length, 'ReadRequest');
  const queries: ReadQuery[] = [];
  const types: number[] = [];
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    if (field === 1) {
      expectWire('Queries', wire, WIRE_LEN);
      const [s, e] = r.bytes();
      queries.push(decodeQuery(buf, s, e));
    } else if (field === 2) {
      // Repeated enums come packed (proto3) or one per field (older writers).
      if (wire === WIRE_LEN) {
        const [s, e] = r.bytes();
        const p = new Reader(buf, s, e, 'ReadRequest');
        while (p.pos < p.end) types.push(p.varint());
      } else {
        expectWire('AcceptedResponseTypes', wire, WIRE_VARINT);
        types.push(r.varint());
      }
    } else {
      r.skip(wire);
    }
  }
  return { queries, acceptedResponseTypes: types };
}

function decodeLabelsField(buf: Buffer, s: number, e: number, pairs: string[]): void {
  decodeLabelPair(buf, s, e, pairs);
}

/** Labels from name/value pairs as sent (sorted here; the sender should have sorted them). */
function toLabels(pairs: string[]): Labels {
  return Labels.fromPairs(...pairs);
}

function decodeTimeSeries(buf: Buffer, start: number, end: number): ReadSeries {
  const r = new Reader(buf, start, end, 'TimeSeries');
  const pairs: string[] = [];
  const ts: number[] = [];
  const vs: number[] = [];
  const hs: ReadHistogram[] = [];
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    if (field === 1) {
      expectWire('Labels', wire, WIRE_LEN);
      const [s, e] = r.bytes();
      decodeLabelsField(buf, s, e, pairs);
    } else if (field === 2) {
      expectWire('Samples', wire, WIRE_LEN);
      const [s, e] = r.bytes();
      const sr = new Reader(buf, s, e, 'Sample');
      let t = 0;
      let v = 0;
      while (sr.pos < sr.end) {
        const [f, w] = sr.tag();
        if (f === 1) {
          expectWire('Value', w, WIRE_I64);
          v = sr.double();
        } else if (f === 2) {
          expectWire('Timestamp', w, WIRE_VARINT);
          t = sr.int64();
        } else {
          sr.skip(w);
        }
      }
      ts.push(t);
      vs.push(v);
    } else if (field === 4) {
      expectWire('Histograms', wire, WIRE_LEN);
      const [s, e] = r.bytes();
      const d = decodeHistogram(buf, s, e);
      hs.push({ t: d.t, h: d.h, fh: d.fh });
    } else {
      r.skip(wire);
    }
  }
  return { labels: toLabels(pairs), timestamps: Float64Array.from(ts), values: Float64Array.from(vs), histograms: hs };
}

/** Decodes a ReadResponse into each query's series. */
export function decodeReadResponse(buf: Buffer): ReadSeries[][] {
  const r = new Reader(buf, 0, buf.length, 'ReadResponse');
  const results: ReadSeries[][] = [];
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    if (field !== 1) {
      r.skip(wire);
      continue;
    }
    expectWire('Results', wire, WIRE_LEN);
    const [s, e] = r.bytes();
    const qr = new Reader(buf, s, e, 'QueryResult');
    const series: ReadSeries[] = [];
    while (qr.pos < qr.end) {
      const [f, w] = qr.tag();
      if (f === 1) {
        expectWire('Timeseries', w, WIRE_LEN);
        const [ss, se] = qr.bytes();
        series.push(decodeTimeSeries(buf, ss, se));
      } else {
        qr.skip(w);
      }
    }
    results.push(series);
  }
  return results;
}

/** Decodes one ChunkedReadResponse message. */
export function decodeChunkedReadResponse(buf: Buffer): ChunkedReadResponse {
  const r = new Reader(buf, 0, buf.length, 'ChunkedReadResponse');
  const series: ChunkedSeries[] = [];
  let queryIndex = 0;
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    if (field === 2) {
      expectWire('QueryIndex', wire, WIRE_VARINT);
      queryIndex = r.int64();
    } else if (field === 1) {
      expectWire('ChunkedSeries', wire, WIRE_LEN);
      const [s, e] = r.bytes();
      const cr = new Reader(buf, s, e, 'ChunkedSeries');
      const pairs: string[] = [];
      const chunks: ReadChunk[] = [];
      while (cr.pos < cr.end) {
        const [f, w] = cr.tag();
        if (f === 1) {
          expectWire('Labels', w, WIRE_LEN);
          const [ls, le] = cr.bytes();
          decodeLabelsField(buf, ls, le, pairs);
        } else if (f === 2) {
          expectWire('Chunks', w, WIRE_LEN);
          const [cs, ce] = cr.bytes();
          chunks.push(decodeChunk(buf, cs, ce));
        } else {
          cr.skip(w);
        }
      }
      series.push({ labels: toLabels(pairs), chunks });
    } else {
      r.skip(wire);
    }
  }
  return { series, queryIndex };
}

function decodeChunk(buf: Buffer, start: number, end: number): ReadChunk {
  const r = new Reader(buf, start, end, 'Chunk');
  let minTimeMs = 0;
  let maxTimeMs = 0;
  let encoding = 0;
  let data: Uint8Array = new Uint8Array(0);
  while (r.pos < r.end) {
    const [field, wire] = r.tag();
    if (field === 4) {
      expectWire('Data', wire, WIRE_LEN);
      const [s, e] = r.bytes();
      data = buf.subarray(s, e);
    } else if (field >= 1 && field <= 3) {
      expectWire('Chunk', wire, WIRE_VARINT);
      const v = r.int64();
      if (field === 1) minTimeMs = v;
      else if (field === 2) maxTimeMs = v;
      else encoding = v;
    } else {
      r.skip(wire);
    }
  }
  return { minTimeMs, maxTimeMs, encoding, data };
}

export class FrameError extends Error {
  override name = 'FrameError';
}

/**
 * Splits a streamed body into its messages, checking each checksum; a frame
 * longer than maxBytes is refused before it is read.
 */
export function* readFrames(body: Buffer, maxBytes: number): Generator<Buffer> {
  let pos = 0;
  while (pos < body.length) {
    let len = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      if (pos >= body.length || i >= 10) throw new FrameError('streamed remote read: truncated frame header');
      const b = body[pos++]!;
      len += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 128;
    }
    if (len > maxBytes) throw new FrameError(`chunkedReader: message size exceeded the limit ${len} bytes; limit ${maxBytes} bytes`);
    if (pos + 4 + len > body.length) throw new FrameError('streamed remote read: truncated frame');
    const crc = body.readUInt32BE(pos);
    const msg = body.subarray(pos + 4, pos + 4 + len);
    if (crc32c(msg) !== crc) throw new FrameError('chunkedReader: corrupted frame; checksum mismatch');
    pos += 4 + len;
    yield msg;
  }
}
