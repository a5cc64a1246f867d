// Remote-write request bodies for the ingest and queries benches, built before any timing:
// each request's protobuf (1.0 WriteRequest or 2.0 Request) is encoded once with one sample
// per series, then every round patches its timestamp and values in place and compresses a
// copy with snappy. Timestamps are written as 6-byte varints (every millisecond timestamp
// from 2^35 to 2^42, i.e. 1971 to 2109, has that length), so the offsets never move.
import { compressSync } from 'snappy';
import { valueAt, type Workload } from './load_workload.js';

export interface RequestTemplate {
  /** The uncompressed message; patched by bodyFor. */
  readonly message: Buffer;
  /** Per sample: the workload series, the offset of its 8-byte value and of its 6-byte timestamp. */
  readonly series: Int32Array;
  readonly valueAt: Uint32Array;
  readonly tsAt: Uint32Array;
}

export type Protocol = '1.0' | '2.0';

export const HEADERS: Readonly<Record<Protocol, Readonly<Record<string, string>>>> = {
  '1.0': { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' },
  '2.0': { 'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '2.0.0' },
};

const TS_BYTES = 6;
/** A Sample message: tag, double, tag, 6-byte varint. */
const SAMPLE_LEN = 1 + 8 + 1 + TS_BYTES;

function varintLen(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** Bounded by construction: every template's size is computed before it is written. */
class Writer {
  readonly buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.alloc(size);
  }
  byte(b: number): void {
    this.buf[this.pos++] = b;
  }
  varint(n: number): void {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }
  string(field: number, s: string): void {
    const len = Buffer.byteLength(s);
    this.varint((field << 3) | 2);
    this.varint(len);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
  /** A Sample with a zero value and timestamp; returns the value's offset (the timestamp's is 9 further). */
  sample(field: number): number {
    this.byte((field << 3) | 2);
    this.byte(SAMPLE_LEN);
    this.byte(0x09);
    const at = this.pos;
    this.pos += 8;
    this.byte(0x10);
    for (let i = 0; i < TS_BYTES - 1; i++) this.byte(0x80);
    this.byte(0x40);
    return at;
  }
}

function stringFieldLen(s: string): number {
  const n = Buffer.byteLength(s);
  return 1 + varintLen(n) + n;
}

function finish(w: Writer, series: ArrayLike<number>, valueOffsets: number[]): RequestTemplate {
  if (w.pos !== w.buf.length) throw new Error(`template size mismatch: wrote ${w.pos} of ${w.buf.length}`);
  return {
    message: w.buf,
    series: Int32Array.from(series),
    valueAt: Uint32Array.from(valueOffsets),
    tsAt: Uint32Array.from(valueOffsets, (o) => o + 9),
  };
}

/** A 1.0 WriteRequest with one sample for each of `series`. */
export function templateV1(wl: Workload, series: ArrayLike<number>): RequestTemplate {
  const tsLens: number[] = [];
  let size = 0;
  for (let k = 0; k < series.length; k++) {
    let len = 2 + SAMPLE_LEN;
    for (const [n, v] of wl.labels[series[k]!]!) {
      const l = stringFieldLen(n) + stringFieldLen(v);
      len += 1 + varintLen(l) + l;
    }
    tsLens.push(len);
    size += 1 + varintLen(len) + len;
  }
  const w = new Writer(size);
  const offsets: number[] = [];
  for (let k = 0; k < series.length; k++) {
    w.byte((1 << 3) | 2);
    w.varint(tsLens[k]!);
    for (const [n, v] of wl.labels[series[k]!]!) {
      w.byte((1 << 3) | 2);
      w.varint(stringFieldLen(n) + stringFieldLen(v));
      w.string(1, n);
      w.string(2, v);
    }
    offsets.push(w.sample(2));
  }
  return finish(w, series, offsets);
}

/** io.prometheus.write.v2.Request's metric types, by the workload's series kind. */
const V2_TYPE = [1 /* counter */, 2 /* gauge */, 3 /* histogram */, 3, 2];

/** A 2.0 Request with one sample for each of `series`, symbols interned in order of use as Prometheus does. */
export function templateV2(wl: Workload, series: ArrayLike<number>): RequestTemplate {
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
  const refs: number[][] = [];
  const tsLens: number[] = [];
  let size = 0;
  for (let k = 0; k < series.length; k++) {
    const r = wl.labels[series[k]!]!.flatMap(([n, v]) => [sym(n), sym(v)]);
    refs.push(r);
    const packed = r.reduce((a, x) => a + varintLen(x), 0);
    const len = 1 + varintLen(packed) + packed + 2 + SAMPLE_LEN + 4;
    tsLens.push(len);
    size += 1 + varintLen(len) + len;
  }
  for (const s of symbols) size += stringFieldLen(s);
  const w = new Writer(size);
  for (const s of symbols) w.string(4, s);
  const offsets: number[] = [];
  for (let k = 0; k < series.length; k++) {
    const r = refs[k]!;
    w.byte((5 << 3) | 2);
    w.varint(tsLens[k]!);
    w.byte((1 << 3) | 2);
    w.varint(r.reduce((a, x) => a + varintLen(x), 0));
    for (const x of r) w.varint(x);
    offsets.push(w.sample(2));
    // Metadata { type }: 4 bytes.
    w.byte((5 << 3) | 2);
    w.byte(2);
    w.byte(0x08);
    w.byte(V2_TYPE[wl.kind[series[k]!]!] ?? 0);
  }
  return finish(w, series, offsets);
}

/** Writes n (below 2^42) as a 6-byte varint at `at`. */
function writeTs(buf: Buffer, at: number, n: number): void {
  for (let i = 0; i < TS_BYTES - 1; i++) {
    buf[at + i] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[at + TS_BYTES - 1] = n;
}

export const MIN_TS = 2 ** 35;
export const MAX_TS = 2 ** 42 - 1;

/** The snappy body of `t` for round `round` at timestamp `tsMs`. */
export function bodyFor(t: RequestTemplate, wl: Workload, round: number, tsMs: number): Buffer {
  if (tsMs < MIN_TS || tsMs > MAX_TS) throw new Error(`timestamp ${tsMs} does not fit 6 varint bytes`);
  for (let k = 0; k < t.series.length; k++) {
    t.message.writeDoubleLE(valueAt(wl, t.series[k]!, round), t.valueAt[k]!);
    writeTs(t.message, t.tsAt[k]!, tsMs);
  }
  return compressSync(t.message);
}
