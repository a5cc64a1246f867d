// Golden bytes from Prometheus itself: Debian's Prometheus 2.42 scrapes native
// histograms served in the protobuf format (encoded with our generated code): a
// counter histogram, a gauge histogram and a float histogram, each changing its
// layout. A TSDB snapshot writes the chunks; our decoders must read them back
// and our appenders, fed the same scraped histograms, must write the same bytes.
// A schema-8 histogram with a bucket at every fraction of an octave checks our
// bucket bounds against those Prometheus's query API prints.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { type Bucket, FloatHistogram, Histogram } from '../src/model/histogram.js';
import { formatF } from '../src/gofmt/float.js';
import { HistogramSchema, MetricFamilySchema, MetricType } from '../src/model/textparse/gen/metrics_pb.js';
import { ProtobufParser } from '../src/model/textparse/protobuf_parser.js';
import { Entry } from '../src/model/textparse/interface.js';
import {
  CounterResetHeader,
  ENC_FLOAT_HISTOGRAM,
  ENC_HISTOGRAM,
  FloatHistogramChunk,
  HistogramChunk,
  decodeFloatHistogramChunk,
  decodeHistogramChunk,
} from '../src/tsdb/chunkenc/histogram_chunk.js';
import { until } from './alertmanager_process.js';
import { freePort } from './free_port.js';
import { startPrometheus, type Prometheus } from './prometheus_process.js';

/**
 * The n-th scrape's histogram: counts grow, the layout widens at scrapes 3
 * and 6 (a bucket between two others, a bucket past the end, negative
 * buckets), so Prometheus recodes its chunk.
 */
function nth(n: number): { count: bigint; sum: number; schema: number; zeroThreshold: number; zeroCount: bigint; positiveSpan: { offset: number; length: number }[]; positiveDelta: bigint[]; negativeSpan: { offset: number; length: number }[]; negativeDelta: bigint[] } {
  const pos = new Map<number, number>([
    [-2, 3 * n + 1],
    [0, 5 * n + 2],
    [1, n * n + 1],
  ]);
  const neg = new Map<number, number>();
  if (n >= 3) pos.set(-1, n - 2);
  if (n >= 6) {
    pos.set(7, 2 * n);
    neg.set(2, n);
  }
  const zero = n;
  const side = (m: Map<number, number>): { spans: { offset: number; length: number }[]; deltas: bigint[] } => {
    const idx = [...m.keys()].sort((a, b) => a - b);
    const spans: { offset: number; length: number }[] = [];
    const deltas: bigint[] = [];
    let last = 0;
    let prev = 0;
    for (const i of idx) {
      const top = spans[spans.length - 1];
      if (top !== undefined && i === last + 1) top.length++;
      else spans.push({ offset: spans.length === 0 ? i : i - last - 1, length: 1 });
      last = i;
      deltas.push(BigInt(m.get(i)! - prev));
      prev = m.get(i)!;
    }
    return { spans, deltas };
  };
  const p = side(pos);
  const ng = side(neg);
  let count = zero;
  for (const v of pos.values()) count += v;
  for (const v of neg.values()) count += v;
  return {
    count: BigInt(count),
    sum: 0.25 * n * n + 0.1 * n,
    schema: 1,
    zeroThreshold: 2 ** -10,
    zeroCount: BigInt(zero),
    positiveSpan: p.spans,
    positiveDelta: p.deltas,
    negativeSpan: ng.spans,
    negativeDelta: ng.deltas,
  };
}

/**
 * A gauge histogram (sum 1.5n identifies scrape n) that gains a bucket at
 * scrape 4. Its counts only grow: Prometheus 2.42 re-encodes chunks when it
 * writes a block and then mistakes a falling gauge histogram for a counter
 * reset ("detected unexpected counter reset in histogram"), so falling gauges
 * cannot be compared through a snapshot.
 */
function gauge(n: number): MessageInitShape<typeof HistogramSchema> {
  const b0 = 5 + n;
  const b1 = 10 + 2 * n;
  const b3 = n >= 4 ? n : 0;
  const spans = b3 > 0 ? [{ offset: 0, length: 2 }, { offset: 1, length: 1 }] : [{ offset: 0, length: 2 }];
  const deltas = b3 > 0 ? [BigInt(b0), BigInt(b1 - b0), BigInt(b3 - b1)] : [BigInt(b0), BigInt(b1 - b0)];
  return { sampleCount: BigInt(b0 + b1 + b3), sampleSum: 1.5 * n, schema: 0, zeroThreshold: 2 ** -10, positiveSpan: spans, positiveDelta: deltas };
}

/** A float counter histogram whose layout widens at scrape 5: sum 0.75n identifies scrape n. */
function floats(n: number): MessageInitShape<typeof HistogramSchema> {
  const pos = n >= 5 ? [0.5 * n, 1.25 * n, 0.1 * n] : [0.5 * n, 1.25 * n];
  const count = pos.reduce((x, y) => x + y, 0) + 0.3 * n;
  return {
    sampleCountFloat: count,
    sampleSum: 0.75 * n,
    schema: -1,
    zeroThreshold: 2 ** -10,
    zeroCountFloat: 0.3 * n,
    positiveSpan: [{ offset: -1, length: pos.length }],
    positiveCount: pos,
  };
}

/** Schema 8 with one bucket per fraction of an octave on each side: every bucket bound Prometheus's table gives. */
function fine(n: number): MessageInitShape<typeof HistogramSchema> {
  const deltas = Array.from({ length: 256 }, (_, i) => (i === 0 ? BigInt(n) : 0n));
  return {
    sampleCount: BigInt(512 * n),
    sampleSum: 1000 + n,
    schema: 8,
    zeroThreshold: 2 ** -10,
    positiveSpan: [{ offset: 0, length: 256 }],
    positiveDelta: deltas,
    negativeSpan: [{ offset: -100, length: 256 }],
    negativeDelta: deltas,
  };
}

function body(n: number): Uint8Array {
  const h = nth(n);
  const families: MessageInitShape<typeof MetricFamilySchema>[] = [
    {
      name: 'rpc_latency_seconds',
      help: 'Latency.',
      type: MetricType.HISTOGRAM,
      metric: [
        {
          histogram: {
            sampleCount: h.count,
            sampleSum: h.sum,
            schema: h.schema,
            zeroThreshold: h.zeroThreshold,
            zeroCount: h.zeroCount,
            positiveSpan: h.positiveSpan,
            positiveDelta: h.positiveDelta,
            negativeSpan: h.negativeSpan,
            negativeDelta: h.negativeDelta,
          },
        },
      ],
    },
    { name: 'queue_sizes', type: MetricType.GAUGE_HISTOGRAM, metric: [{ histogram: gauge(n) }] },
    { name: 'work_seconds', type: MetricType.HISTOGRAM, metric: [{ histogram: floats(n) }] },
    { name: 'fine_seconds', type: MetricType.HISTOGRAM, metric: [{ histogram: fine(n) }] },
  ];
  const out: number[] = [];
  for (const f of families) {
    const msg = toBinary(MetricFamilySchema, create(MetricFamilySchema, f));
    let l = msg.length;
    while (l >= 0x80) {
      out.push((l & 0x7f) | 0x80);
      l >>>= 7;
    }
    out.push(l, ...msg);
  }
  return Uint8Array.from(out);
}

/** The histograms our parser makes of the n-th body (what our scrape path will append), by metric name. */
function parsed(n: number): Map<string, Histogram | FloatHistogram> {
  const out = new Map<string, Histogram | FloatHistogram>();
  const p = new ProtobufParser(body(n));
  for (let e = p.next(); e !== Entry.EOF; e = p.next()) if (e === Entry.Histogram) out.set(p.metricName(), p.histogram());
  return out;
}

/** Which series and scrape a decoded sample came from (sum and count together identify both). */
function sourceOf(h: Histogram | FloatHistogram): { name: string; n: number } {
  for (let n = 1; n < 10_000; n++) {
    for (const [name, want] of parsed(n)) if (want.sum === h.sum && want.count === h.count) return { name, n };
  }
  throw new Error(`no scrape matches ${h.toString()}`);
}

/** Prometheus's JSON bucket boundary rule: 0 open left, 1 open right, 2 open both, 3 closed both. */
function boundaryRule(b: Bucket): number {
  if (b.lowerInclusive && b.upperInclusive) return 3;
  if (b.lowerInclusive) return 1;
  if (b.upperInclusive) return 0;
  return 2;
}

/** The scrape a queried fine_seconds histogram came from: its first bucket holds n. */
function scrapeCountOf(buckets: [number, string, string, string][]): number {
  return Number(buckets[0]![3]);
}

/** Chunk records of a block chunk file: magic, version, padding, then uvarint length, encoding, data, CRC. */
function chunksOf(file: Buffer): { encoding: number; data: Uint8Array }[] {
  assert.equal(file.readUInt32BE(0), 0x85bd40dd);
  const out: { encoding: number; data: Uint8Array }[] = [];
  let p = 8;
  while (p < file.length) {
    let len = 0;
    let shift = 1;
    for (;;) {
      const b = file[p++]!;
      len += (b & 0x7f) * shift;
      if (b < 0x80) break;
      shift *= 128;
    }
    const encoding = file[p++]!;
    out.push({ encoding, data: new Uint8Array(file.subarray(p, p + len)) });
    p += len + 4;
  }
  return out;
}

describe('histogram chunks against Prometheus 2.42', { timeout: 120_000 }, () => {
  let server: http.Server;
  let prom: Prometheus;
  let scrapes = 0;

  before(async () => {
    const port = await freePort();
    server = http.createServer((_req, res) => {
      scrapes++;
      res.writeHead(200, { 'Content-Type': 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited' });
      res.end(body(scrapes));
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    prom = await startPrometheus(
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: h\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`,
      ['--enable-feature=native-histograms', '--web.enable-admin-api'],
    );
  });

  after(async () => {
    await prom?.stop();
    await new Promise<void>((r) => server?.close(() => r()));
  });

  test('Prometheus\'s chunks decode to what was served and our appenders write the same bytes', async () => {
    // Enough scrapes to cross every layout change.
    await until(async () => (scrapes >= 10 ? true : null), '10 scrapes', 60_000);
    const res = await fetch(`${prom.base}/api/v1/admin/tsdb/snapshot`, { method: 'POST' });
    const text = await res.text();
    assert.equal(res.status, 200, `${text}\n${prom.logs()}`);
    const { data } = JSON.parse(text) as { data: { name: string } };
    const snap = join(prom.dataDir, 'snapshots', data.name);
    const blocks = readdirSync(snap).filter((d) => existsSync(join(snap, d, 'chunks')));
    assert.ok(blocks.length > 0, 'the snapshot has a block');
    const chunks = blocks.flatMap((b) => readdirSync(join(snap, b, 'chunks')).flatMap((f) => chunksOf(readFileSync(join(snap, b, 'chunks', f)))));

    const seen = { counter: 0, gauge: 0, float: 0 };
    let recoded = 0;
    for (const c of chunks) {
      if (c.encoding !== ENC_HISTOGRAM && c.encoding !== ENC_FLOAT_HISTOGRAM) continue;
      const isFloat = c.encoding === ENC_FLOAT_HISTOGRAM;
      const got: { t: number; h: Histogram | FloatHistogram }[] = isFloat ? [...decodeFloatHistogramChunk(c.data)] : [...decodeHistogramChunk(c.data)];
      assert.ok(got.length > 0);
      const { name } = sourceOf(got[0]!.h);
      const isGauge = name === 'queue_sizes';
      let cur: HistogramChunk | FloatHistogramChunk = isFloat ? new FloatHistogramChunk() : new HistogramChunk();
      for (const s of got) {
        const { n } = sourceOf(s.h);
        const served = parsed(n).get(name)!;
        const a = s.h instanceof Histogram ? s.h.toFloat() : s.h;
        const b = served instanceof Histogram ? served.toFloat() : served;
        assert.ok(a.compact(0).equals(b.compact(0)), `${name} sample of scrape ${n}: ${a.toString()} vs ${b.toString()}`);
        const r = cur instanceof HistogramChunk ? cur.append(s.t, served as Histogram) : cur.append(s.t, served as FloatHistogram);
        assert.equal(r.newChunk, false, 'Prometheus kept these samples in one chunk');
        if (r.recoded) recoded++;
        cur = r.chunk;
        seen[isFloat ? 'float' : isGauge ? 'gauge' : 'counter']++;
      }
      const ours = Array.from(cur.bytes());
      if (isGauge) {
        // 2.42 re-encodes chunks when it writes a block and writes this one with
        // the header 00 instead of 11 (gauge); every other byte must agree.
        assert.equal(ours[2], CounterResetHeader.Gauge);
        assert.equal(c.data[2], CounterResetHeader.Unknown);
        ours[2] = CounterResetHeader.Unknown;
      }
      assert.deepEqual(ours, Array.from(c.data), `${name}: bytes equal to Prometheus's chunk`);
    }
    assert.ok(seen.counter >= 8 && seen.gauge >= 8 && seen.float >= 8, `samples compared: ${JSON.stringify(seen)}`);
    assert.ok(recoded >= 3, 'the layout changes made both encoders recode');
  });

  test('bucket bounds (all 256 schema-8 fractions, both signs) print as Prometheus\'s query API prints them', async () => {
    await until(async () => (scrapes >= 2 ? true : null), '2 scrapes', 30_000);
    const res = await fetch(`${prom.base}/api/v1/query?query=fine_seconds`);
    const body = (await res.json()) as { data: { result: { histogram: [number, { buckets: [number, string, string, string][] }] }[] } };
    const theirs = body.data.result[0]!.histogram[1].buckets;
    const n = scrapeCountOf(theirs);
    const ours = [...(parsed(n).get('fine_seconds') as Histogram).toFloat().allBucketIterator()].map((b) => [
      boundaryRule(b),
      formatF(b.lower),
      formatF(b.upper),
      formatF(b.count),
    ]);
    assert.equal(theirs.length, 512);
    assert.deepEqual(ours, theirs);
  });
});
