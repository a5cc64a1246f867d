// Minimal prometheus.WriteRequest (1.0) and io.prometheus.write.v2.Request (2.0) encoders for tests (the server only decodes).
import { compressSync } from 'snappy';
import { STALE_NAN_BITS_HI, STALE_NAN_BITS_LO } from '../src/model/value.js';

export interface TestSeries {
  labels: Record<string, string> | Array<[string, string]>;
  /** 'stale' writes Prometheus's staleness marker (JS arrays of numbers may not keep its NaN bits). */
  samples: Array<[number, number | 'stale']>;
  /** Native histograms: a timestamp alone is an integer histogram with one observation. */
  histograms?: (number | TestHistogram)[];
  exemplars?: Array<{ labels: Record<string, string>; value: number; t: number }>;
}

/** A native histogram message, field by field (buckets: deltas for integer histograms, counts for float ones). */
export interface TestHistogram {
  t: number;
  float?: boolean;
  count: number;
  sum: number;
  schema?: number;
  zeroThreshold?: number;
  zeroCount?: number;
  positiveSpans?: Array<[offset: number, length: number]>;
  positiveBuckets?: number[];
  negativeSpans?: Array<[offset: number, length: number]>;
  negativeBuckets?: number[];
  customValues?: number[];
  resetHint?: number;
}

function varint(n: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

function field(no: number, wire: number): number[] {
  return varint(no * 8 + wire);
}

/** Appends without spreading into arguments (large messages would overflow the stack). */
function pushAll(out: number[], bytes: number[]): void {
  for (const b of bytes) out.push(b);
}

function lenField(no: number, payload: number[] | Buffer): number[] {
  return [...field(no, 2), ...varint(payload.length), ...payload];
}

export function encodeWriteRequest(series: TestSeries[]): Buffer {
  const out: number[] = [];
  for (const s of series) {
    const ts: number[] = [];
    const pairs = Array.isArray(s.labels) ? s.labels : Object.entries(s.labels);
    for (const [name, value] of pairs) {
      ts.push(...lenField(1, [...lenField(1, Buffer.from(name)), ...lenField(2, Buffer.from(value))]));
    }
    for (const [t, v] of s.samples) {
      const d = Buffer.alloc(8);
      if (v === 'stale') {
        d.writeUInt32LE(STALE_NAN_BITS_LO, 0);
        d.writeUInt32LE(STALE_NAN_BITS_HI, 4);
      } else {
        d.writeDoubleLE(v);
      }
      ts.push(...lenField(2, [...field(1, 1), ...d, ...field(2, 0), ...varint(t)]));
    }
    for (const e of s.exemplars ?? []) {
      const ex: number[] = [];
      for (const [name, value] of Object.entries(e.labels)) pushAll(ex, lenField(1, [...lenField(1, Buffer.from(name)), ...lenField(2, Buffer.from(value))]));
      pushAll(ex, [...field(2, 1), ...doubleBytes(e.value), ...field(3, 0), ...varint(e.t)]);
      pushAll(ts, lenField(3, ex));
    }
    for (const t of s.histograms ?? []) pushAll(ts, lenField(4, histogramBytes(t)));
    pushAll(out, lenField(1, ts));
  }
  return Buffer.from(out);
}

/** A snappy-compressed WriteRequest, as a remote-write body. */
export function writeRequestBody(series: TestSeries[]): Buffer {
  return compressSync(encodeWriteRequest(series));
}

export interface TestV2Series {
  labels: Record<string, string> | Array<[string, string]>;
  samples?: Array<[number, number | 'stale']>;
  /** Native histograms: a timestamp alone is an integer histogram with one observation. */
  histograms?: (number | TestHistogram)[];
  exemplars?: Array<{ labels: Record<string, string>; value: number; t: number }>;
  metadata?: { type: number; help: string; unit: string };
  /** Label references sent instead of the labels' (to send bad ones). */
  refs?: number[];
  /** Send the label references unpacked, one field each. */
  unpacked?: boolean;
}

function doubleBytes(v: number | 'stale'): Buffer {
  const d = Buffer.alloc(8);
  if (v === 'stale') {
    d.writeUInt32LE(STALE_NAN_BITS_LO, 0);
    d.writeUInt32LE(STALE_NAN_BITS_HI, 4);
  } else {
    d.writeDoubleLE(v);
  }
  return d;
}

function zigzag(n: number): bigint {
  const b = BigInt(n);
  return b >= 0n ? b * 2n : -b * 2n - 1n;
}

/** A Histogram message (the same in 1.0 and 2.0); a bare timestamp: count_int 1, sum 1, schema 0, one positive bucket holding the observation. */
function histogramBytes(spec: number | TestHistogram): number[] {
  if (typeof spec !== 'number') return fullHistogramBytes(spec);
  const t = spec;
  const span = [...field(1, 0), ...varint(0), ...field(2, 0), ...varint(1)];
  return [...field(1, 0), 1, ...field(3, 1), ...doubleBytes(1), ...field(4, 0), 0, ...lenField(11, span), ...lenField(12, [2]), ...field(15, 0), ...varint(t)];
}

function refsField(no: number, refs: number[], unpacked: boolean): number[] {
  if (unpacked) return refs.flatMap((r) => [...field(no, 0), ...varint(r)]);
  return lenField(no, refs.flatMap((r) => varint(r)));
}

/** An io.prometheus.write.v2.Request, symbols interned in order of use after the empty string, as Prometheus builds them. */
export function encodeWriteV2Request(series: TestV2Series[]): Buffer {
  const symbols = [''];
  const index = new Map<string, number>([['', 0]]);
  const sym = (s: string): number => {
    let i = index.get(s);
    if (i === undefined) {
      i = symbols.length;
      symbols.push(s);
      index.set(s, i);
    }
    return i;
  };
  const labelRefs = (labels: Record<string, string> | Array<[string, string]>): number[] =>
    (Array.isArray(labels) ? labels : Object.entries(labels)).flatMap(([n, v]) => [sym(n), sym(v)]);
  const tsBytes: number[][] = [];
  for (const s of series) {
    const ts: number[] = [];
    pushAll(ts, refsField(1, s.refs ?? labelRefs(s.labels), s.unpacked === true));
    for (const [t, v] of s.samples ?? []) pushAll(ts, lenField(2, [...field(1, 1), ...doubleBytes(v), ...field(2, 0), ...varint(t)]));
    for (const t of s.histograms ?? []) pushAll(ts, lenField(3, histogramBytes(t)));
    for (const e of s.exemplars ?? []) {
      pushAll(ts, lenField(4, [...refsField(1, labelRefs(e.labels), false), ...field(2, 1), ...doubleBytes(e.value), ...field(3, 0), ...varint(e.t)]));
    }
    if (s.metadata !== undefined) {
      const m = s.metadata;
      pushAll(ts, lenField(5, [...field(1, 0), ...varint(m.type), ...field(3, 0), ...varint(sym(m.help)), ...field(4, 0), ...varint(sym(m.unit))]));
    }
    tsBytes.push(ts);
  }
  const out: number[] = [];
  for (const s of symbols) pushAll(out, lenField(4, Buffer.from(s)));
  for (const ts of tsBytes) pushAll(out, lenField(5, ts));
  return Buffer.from(out);
}

/** A snappy-compressed 2.0 Request, as a remote-write body. */
export function writeV2RequestBody(series: TestV2Series[]): Buffer {
  return compressSync(encodeWriteV2Request(series));
}

export const V2_CONTENT_TYPE = 'application/x-protobuf;proto=io.prometheus.write.v2.Request';

function fullHistogramBytes(h: TestHistogram): number[] {
  const out: number[] = [];
  const spans = (no: number, list: Array<[number, number]> | undefined) => {
    for (const [o, l] of list ?? []) pushAll(out, lenField(no, [...field(1, 0), ...varint(zigzag(o)), ...field(2, 0), ...varint(l)]));
  };
  const buckets = (deltaNo: number, countNo: number, list: number[] | undefined) => {
    if (list === undefined || list.length === 0) return;
    if (h.float) pushAll(out, lenField(countNo, list.flatMap((v) => [...doubleBytes(v)])));
    else pushAll(out, lenField(deltaNo, list.flatMap((v) => varint(zigzag(v)))));
  };
  if (h.float) pushAll(out, [...field(2, 1), ...doubleBytes(h.count)]);
  else pushAll(out, [...field(1, 0), ...varint(h.count)]);
  pushAll(out, [...field(3, 1), ...doubleBytes(h.sum)]);
  pushAll(out, [...field(4, 0), ...varint(zigzag(h.schema ?? 0))]);
  if (h.zeroThreshold !== undefined) pushAll(out, [...field(5, 1), ...doubleBytes(h.zeroThreshold)]);
  if (h.float) pushAll(out, [...field(7, 1), ...doubleBytes(h.zeroCount ?? 0)]);
  else pushAll(out, [...field(6, 0), ...varint(h.zeroCount ?? 0)]);
  spans(8, h.negativeSpans);
  buckets(9, 10, h.negativeBuckets);
  spans(11, h.positiveSpans);
  buckets(12, 13, h.positiveBuckets);
  if (h.resetHint !== undefined) pushAll(out, [...field(14, 0), ...varint(h.resetHint)]);
  pushAll(out, [...field(15, 0), ...varint(h.t)]);
  if (h.customValues !== undefined && h.customValues.length > 0) pushAll(out, lenField(16, h.customValues.flatMap((v) => [...doubleBytes(v)])));
  return out;
}
