// A test exporter serving the protobuf exposition format with native
// histograms (encoded with the generated code of model/textparse/gen), and the
// pieces to build its payloads: delimited encoding, and a histogram that
// collects observations into exponential buckets as client libraries do.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { create, toBinary, type Message, type MessageInitShape } from '@bufbuild/protobuf';
import { HistogramSchema, MetricFamilySchema, MetricType } from '../src/model/textparse/gen/metrics_pb.js';

export type FamilyInit = MessageInitShape<typeof MetricFamilySchema>;
export { MetricType };
/** A Histogram message as a plain object (so tests can spread and change it). */
export type HistogramMessage = Exclude<MessageInitShape<typeof HistogramSchema>, Message>;

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

/** MetricFamily messages, each preceded by its length (`encoding=delimited`). */
export function encodeFamilies(families: readonly FamilyInit[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of families) {
    const b = toBinary(MetricFamilySchema, create(MetricFamilySchema, f));
    const len: number[] = [];
    let n = b.length;
    while (n >= 0x80) {
      len.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    len.push(n);
    parts.push(Buffer.from(len), Buffer.from(b));
  }
  return Buffer.concat(parts);
}

/**
 * An integer native histogram fed with observations: exponential buckets of
 * `schema` (upper bounds 2^(i/2^schema)), a zero bucket for |v| <= zeroThreshold.
 * Deterministic: same observations, same message.
 */
export class NativeHistogram {
  private readonly pos = new Map<number, number>();
  private readonly neg = new Map<number, number>();
  private zero = 0;
  private count = 0;
  private sum = 0;

  constructor(
    readonly schema = 3,
    readonly zeroThreshold = 1e-128,
  ) {}

  observe(v: number): void {
    this.count++;
    this.sum += v;
    if (Math.abs(v) <= this.zeroThreshold) {
      this.zero++;
      return;
    }
    const idx = Math.ceil(Math.log2(Math.abs(v)) * 2 ** this.schema);
    const m = v > 0 ? this.pos : this.neg;
    m.set(idx, (m.get(idx) ?? 0) + 1);
  }

  /** The `histogram` field of a Metric message. */
  message(): HistogramMessage {
    const side = (m: Map<number, number>) => {
      const idxs = [...m.keys()].sort((a, b) => a - b);
      const spans: { offset: number; length: number }[] = [];
      const deltas: bigint[] = [];
      let prevIdx = 0;
      let prevCount = 0;
      for (const [k, i] of idxs.entries()) {
        const last = spans[spans.length - 1];
        if (k > 0 && i === prevIdx + 1 && last !== undefined) last.length++;
        else spans.push({ offset: k === 0 ? i : i - prevIdx - 1, length: 1 });
        const c = m.get(i)!;
        deltas.push(BigInt(c - prevCount));
        prevCount = c;
        prevIdx = i;
      }
      return { spans, deltas };
    };
    const p = side(this.pos);
    const n = side(this.neg);
    return {
      sampleCount: BigInt(this.count),
      sampleSum: this.sum,
      schema: this.schema,
      zeroThreshold: this.zeroThreshold,
      zeroCount: BigInt(this.zero),
      positiveSpan: p.spans,
      positiveDelta: p.deltas,
      negativeSpan: n.spans,
      negativeDelta: n.deltas,
    };
  }
}

/** An HTTP exporter answering every scrape with `body(n, userAgent)` (n counts scrapes from 1); it records the Accept headers it got. */
export class NativeHistogramExporter {
  private readonly srv: http.Server;
  readonly accepts: string[] = [];
  scrapes = 0;

  constructor(
    private readonly body: (n: number, userAgent: string) => Buffer,
    private readonly contentType = PROTOBUF_CONTENT_TYPE,
  ) {
    this.srv = http.createServer((req, res) => {
      this.scrapes++;
      if (this.accepts.length < 100) this.accepts.push(String(req.headers.accept ?? ''));
      res.setHeader('content-type', this.contentType);
      res.end(this.body(this.scrapes, String(req.headers['user-agent'] ?? '')));
    });
  }

  /** Listens on 127.0.0.1 at a free port; returns host:port. */
  async start(): Promise<string> {
    await new Promise<void>((r) => this.srv.listen(0, '127.0.0.1', r));
    return `127.0.0.1:${(this.srv.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.srv.close(() => r()));
  }
}
