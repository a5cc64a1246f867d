// A minimal prometheus.WriteRequest encoder for tests (the server only decodes).
import { compressSync } from 'snappy';
import { STALE_NAN_BITS_HI, STALE_NAN_BITS_LO } from '../src/model/value.js';

export interface TestSeries {
  labels: Record<string, string> | Array<[string, string]>;
  /** 'stale' writes Prometheus's staleness marker (JS arrays of numbers may not keep its NaN bits). */
  samples: Array<[number, number | 'stale']>;
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
    out.push(...lenField(1, ts));
  }
  return Buffer.from(out);
}

/** A snappy-compressed WriteRequest, as a remote-write body. */
export function writeRequestBody(series: TestSeries[]): Buffer {
  return compressSync(encodeWriteRequest(series));
}
