// Remote-write request bodies for the ingest and queries benches, built before any timing.
// A sender's samples form a stream (every series of its share for round 0, then round 1, ...)
// cut into requests of at most 2,000 samples, as Prometheus's queue batches them; a request
// may hold the end of one round and the start of the next, never two samples of one series
// while the share has more series than a request. Each series' labels are encoded once
// (1.0: its Label fields; 2.0: its symbols), so a body costs a copy, a few bytes and snappy.
import { compressSync } from 'snappy';
import { STEP_MS, valueAt, type Workload } from './load_workload.js';

export type Protocol = '1.0' | '2.0';

export const HEADERS: Readonly<Record<Protocol, Readonly<Record<string, string>>>> = {
  '1.0': { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' },
  '2.0': { 'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '2.0.0' },
};

/** One request's samples: series[k] at round rounds[k]. */
export interface Batch {
  readonly series: Int32Array;
  readonly rounds: Int32Array;
}

/** The stream of `share` (series ids) over rounds first..first+count-1, cut into batches of at most `size`. */
export function batches(share: readonly number[], first: number, count: number, size: number): Batch[] {
  const total = share.length * count;
  const out: Batch[] = [];
  for (let at = 0; at < total; at += size) {
    const n = Math.min(size, total - at);
    const series = new Int32Array(n);
    const rounds = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      series[k] = share[(at + k) % share.length]!;
      rounds[k] = first + Math.floor((at + k) / share.length);
    }
    out.push({ series, rounds });
  }
  return out;
}

function varintLen(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** A growable byte buffer, reused for every body (its size is bounded by the largest request). */
class Writer {
  buf = Buffer.alloc(1 << 20);
  pos = 0;
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
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
  bytes(b: Buffer): void {
    this.pos += b.copy(this.buf, this.pos);
  }
  /** A Sample message as field `field`: value (field 1, double) and timestamp (field 2, varint). */
  sample(field: number, v: number, t: number): void {
    this.byte((field << 3) | 2);
    this.byte(1 + 8 + 1 + varintLen(t));
    this.byte(0x09);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
    this.byte(0x10);
    this.varint(t);
  }
}

function lenPrefixed(field: number, payload: Buffer): Buffer {
  const head: number[] = [(field << 3) | 2];
  for (let n = payload.length; ; n = Math.floor(n / 128)) {
    if (n < 0x80) {
      head.push(n);
      break;
    }
    head.push((n % 128) | 0x80);
  }
  return Buffer.concat([Buffer.from(head), payload]);
}

/** io.prometheus.write.v2.Request's metric types, by the workload's series kind. */
const V2_TYPE = [1 /* counter */, 2 /* gauge */, 3 /* histogram */, 3, 2];

/** Encodes batches of one workload; timestamps are t0 + round * STEP_MS. */
export class BodyEncoder {
  private readonly w = new Writer();
  /** 1.0: the Label fields of each series. */
  private readonly labelBytes: Buffer[] = [];
  /** 2.0: each series' labels as global symbol ids, and each symbol's field-4 bytes. */
  private readonly seriesSyms: Uint32Array[] = [];
  private readonly symbolBytes: Buffer[] = [];
  private readonly localOf: Int32Array = new Int32Array(0);

  constructor(
    private readonly wl: Workload,
    readonly protocol: Protocol,
    private readonly t0: number,
  ) {
    if (protocol === '1.0') {
      for (const ls of wl.labels) {
        this.labelBytes.push(Buffer.concat(ls.map(([n, v]) => lenPrefixed(1, Buffer.concat([lenPrefixed(1, Buffer.from(n)), lenPrefixed(2, Buffer.from(v))])))));
      }
      return;
    }
    const ids = new Map<string, number>();
    const id = (s: string): number => {
      let i = ids.get(s);
      if (i === undefined) {
        i = this.symbolBytes.length;
        ids.set(s, i);
        this.symbolBytes.push(lenPrefixed(4, Buffer.from(s)));
      }
      return i;
    };
    id('');
    for (const ls of wl.labels) this.seriesSyms.push(Uint32Array.from(ls.flatMap(([n, v]) => [id(n), id(v)])));
    this.localOf = new Int32Array(this.symbolBytes.length).fill(-1);
  }

  /** The uncompressed message of a batch (valid until the next call). */
  message(b: Batch): Buffer {
    const w = this.w;
    w.pos = 0;
    if (this.protocol === '1.0') {
      for (let k = 0; k < b.series.length; k++) {
        const s = b.series[k]!;
        const t = this.t0 + b.rounds[k]! * STEP_MS;
        const lb = this.labelBytes[s]!;
        const sampleLen = 2 + 1 + 8 + 1 + varintLen(t);
        w.ensure(12 + lb.length + sampleLen);
        w.byte((1 << 3) | 2);
        w.varint(lb.length + sampleLen);
        w.bytes(lb);
        w.sample(2, valueAt(this.wl, s, b.rounds[k]!), t);
      }
      return w.buf.subarray(0, w.pos);
    }
    // 2.0: symbols in order of first use, starting with the empty string, as Prometheus interns them.
    const used: number[] = [0];
    this.localOf[0] = 0;
    const local: Uint32Array[] = [];
    for (let k = 0; k < b.series.length; k++) {
      const g = this.seriesSyms[b.series[k]!]!;
      const l = new Uint32Array(g.length);
      for (let j = 0; j < g.length; j++) {
        let x = this.localOf[g[j]!]!;
        if (x < 0) {
          x = used.length;
          this.localOf[g[j]!] = x;
          used.push(g[j]!);
        }
        l[j] = x;
      }
      local.push(l);
    }
    for (const g of used) {
      w.ensure(this.symbolBytes[g]!.length);
      w.bytes(this.symbolBytes[g]!);
      this.localOf[g] = -1;
    }
    for (let k = 0; k < b.series.length; k++) {
      const s = b.series[k]!;
      const l = local[k]!;
      const t = this.t0 + b.rounds[k]! * STEP_MS;
      let packed = 0;
      for (const x of l) packed += varintLen(x);
      // labels_refs (packed), one Sample, Metadata { type }.
      const len = 1 + varintLen(packed) + packed + 2 + 1 + 8 + 1 + varintLen(t) + 4;
      w.ensure(6 + len);
      w.byte((5 << 3) | 2);
      w.varint(len);
      w.byte((1 << 3) | 2);
      w.varint(packed);
      for (const x of l) w.varint(x);
      w.sample(2, valueAt(this.wl, s, b.rounds[k]!), t);
      w.byte((5 << 3) | 2);
      w.byte(2);
      w.byte(0x08);
      w.byte(V2_TYPE[this.wl.kind[s]!] ?? 0);
    }
    return w.buf.subarray(0, w.pos);
  }

  /** The snappy-compressed body of a batch. */
  body(b: Batch): Buffer {
    return compressSync(this.message(b));
  }
}
