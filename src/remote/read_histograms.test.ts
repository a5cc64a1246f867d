// Native histograms through remote read: the Histogram message as the
// generated code writes it, both answer types of the handler, the client's
// decoding and the iterator queries read them with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { compressSync, uncompressSync } from 'snappy';
import { loadConfig } from '../config/load.js';
import { nopLogger } from '../logging/types.js';
import { CounterResetHint, FloatHistogram, Histogram } from '../model/histogram.js';
import { Labels } from '../model/labels.js';
import { MatchType, Matcher } from '../model/matcher.js';
import { ValueType, type SampleIterator } from '../storage/interface.js';
import { MemoryStorage } from '../storage/memory.js';
import { HistogramSchema } from './gen/types_pb.js';
import { ReadClient, ReadClientMetrics } from './read_client.js';
import { PROM_ENC_FLOAT_HISTOGRAM, PROM_ENC_HISTOGRAM, decodeReadChunk } from './read_chunks.js';
import { RemoteReadHandler } from './read_handler.js';
import {
  ProtoWriter,
  ReadResponseWriter,
  RESPONSE_SAMPLES,
  RESPONSE_STREAMED_XOR_CHUNKS,
  decodeChunkedReadResponse,
  decodeReadResponse,
  encodeReadRequest,
  readFrames,
  writeHistogram,
  type ReadHistogram,
  type ReadQuery,
  type ReadSeries,
} from './read_request.js';
import { ReadSeriesIterator } from './read_storage.js';
import { PROM_ENC_XOR } from './read_xor.js';
import { decodeHistogram } from './write_request.js';

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomMessage(r: () => number): MessageInitShape<typeof HistogramSchema> {
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const float = r() < 0.5;
  const maybe = <T>(x: T, zero: T): T => (r() < 0.2 ? zero : x);
  const spans = () => Array.from({ length: int(0, 3) }, () => ({ offset: int(-500, 500), length: int(0, 4) }));
  const list = <T>(n: number, f: () => T): T[] => Array.from({ length: n }, f);
  const big = (): bigint => BigInt(int(-(2 ** 40), 2 ** 40));
  return {
    count: float ? { case: 'countFloat', value: maybe(r() * 1e6, 0) } : { case: 'countInt', value: BigInt(maybe(int(0, 2 ** 48), 0)) },
    sum: maybe((r() - 0.5) * 1e9, 0),
    schema: maybe(int(-53, 52), 0),
    zeroThreshold: maybe(r(), 0),
    zeroCount: float ? { case: 'zeroCountFloat', value: maybe(r() * 10, 0) } : { case: 'zeroCountInt', value: BigInt(maybe(int(0, 1000), 0)) },
    negativeSpans: spans(),
    negativeDeltas: float ? [] : list(int(0, 5), big),
    negativeCounts: float ? list(int(0, 5), () => r() * 100) : [],
    positiveSpans: spans(),
    positiveDeltas: float ? [] : list(int(0, 5), big),
    positiveCounts: float ? list(int(0, 5), () => r() * 100) : [],
    resetHint: int(0, 3),
    timestamp: BigInt(maybe(int(-(2 ** 50), 2 ** 50), 0)),
    customValues: r() < 0.3 ? list(int(1, 4), () => (r() - 0.5) * 100) : [],
  };
}

test('Histogram messages are written byte for byte as the generated code writes them', () => {
  const r = rng(42);
  for (let i = 0; i < 2000; i++) {
    const want = Buffer.from(toBinary(HistogramSchema, create(HistogramSchema, randomMessage(r))));
    const d = decodeHistogram(want, 0, want.length);
    const w = new ProtoWriter(16);
    writeHistogram(w, 4, d.t, d.h, d.fh);
    const got = w.finish();
    // Field 4, length-delimited, then the message.
    const inner = new ProtoWriter(16);
    inner.bytesField(4, want);
    assert.deepEqual(got, inner.finish(), `message ${i}`);
  }
});

/** count = zero bucket + one negative + two positive buckets, each n. */
function ih(n: number, hint = CounterResetHint.Unknown): Histogram {
  return new Histogram({
    counterResetHint: hint,
    schema: 1,
    zeroThreshold: 0.001,
    zeroCount: n,
    count: 4 * n,
    sum: 10 * n,
    positiveSpans: [{ offset: 0, length: 2 }],
    positiveBuckets: [n, 0],
    negativeSpans: [{ offset: 1, length: 1 }],
    negativeBuckets: [n],
  });
}

function fh(n: number): FloatHistogram {
  return new FloatHistogram({ schema: -53, customValues: [1, 2.5], count: 6 * n, sum: n, positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [n, 2 * n, 3 * n] });
}

const H = Labels.fromPairs('__name__', 'h');
const F = Labels.fromPairs('__name__', 'f');
const MIXED = Labels.fromPairs('__name__', 'mixed');

/** Integer histograms with a counter reset at t=6000, float histograms with custom buckets, and a series that changes type twice. */
function storage(): MemoryStorage {
  const s = new MemoryStorage();
  const app = s.appender();
  for (let i = 1; i <= 10; i++) {
    app.appendHistogram!(0, H, i * 1000, ih(i <= 5 ? i : i - 5), null);
    app.appendHistogram!(0, F, i * 1000, null, fh(i));
  }
  app.append(0, MIXED, 1000, 1);
  app.append(0, MIXED, 2000, 2);
  app.appendHistogram!(0, MIXED, 3000, ih(1), null);
  app.appendHistogram!(0, MIXED, 4000, ih(2), null);
  app.append(0, MIXED, 5000, 5);
  app.commit();
  return s;
}

function handler(s: MemoryStorage): RemoteReadHandler {
  return new RemoteReadHandler({ queryable: s, externalLabels: () => Labels.EMPTY, sampleLimit: 0, concurrencyLimit: 0, maxBytesInFrame: 1 << 20, logger: nopLogger });
}

const all: ReadQuery = { startMs: 0, endMs: 100_000, matchers: [Matcher.create(MatchType.NotEqual, '__name__', '')], hints: null };

function body(types: number[], q: ReadQuery = all): Buffer {
  return compressSync(encodeReadRequest({ queries: [q], acceptedResponseTypes: types }));
}

async function collect(b: Buffer | AsyncIterable<Buffer>): Promise<Buffer> {
  if (Buffer.isBuffer(b)) return b;
  const parts: Buffer[] = [];
  for await (const p of b) parts.push(p);
  return Buffer.concat(parts);
}

/** A series' samples as comparable text: floats as numbers, histograms by their test expression. */
function samplesOf(it: SampleIterator): string[] {
  const out: string[] = [];
  for (let vt = it.next(); vt !== ValueType.None; vt = it.next()) {
    if (vt === ValueType.Float) out.push(`${it.t()} ${it.v()}`);
    else if (vt === ValueType.Histogram) out.push(`${it.t()} int ${it.atHistogram!().testExpression()}`);
    else out.push(`${it.t()} float ${it.atFloatHistogram!().testExpression()}`);
  }
  assert.equal(it.err(), null);
  return out;
}

function stored(s: MemoryStorage): Map<string, string[]> {
  const q = s.querier(0, 100_000);
  const set = q.select(true, null, ...all.matchers);
  const out = new Map<string, string[]>();
  while (set.next()) out.set(set.at().labels.toString(), samplesOf(set.at().iterator()));
  q.close();
  return out;
}

function read(series: readonly ReadSeries[]): Map<string, string[]> {
  return new Map(series.map((s) => [s.labels.toString(), samplesOf(new ReadSeriesIterator(s))]));
}

test('SAMPLES answers carry histograms in TimeSeries.histograms, floats in samples', async () => {
  const s = storage();
  const r = await handler(s).handle(body([RESPONSE_SAMPLES]));
  assert.equal(r.status, 200);
  const res = decodeReadResponse(uncompressSync(await collect(r.body)) as Buffer);
  const series = res[0]!;
  const mixed = series.find((x) => x.labels.equals(MIXED))!;
  assert.deepEqual([...mixed.timestamps], [1000, 2000, 5000]);
  assert.deepEqual(mixed.histograms.map((x) => x.t), [3000, 4000]);
  assert.ok(series.find((x) => x.labels.equals(F))!.histograms.every((x) => x.fh !== null && x.h === null));
  assert.deepEqual(read(series), stored(s));
});

test('the sample limit counts histograms', async () => {
  const s = storage();
  const q = { ...all, matchers: [Matcher.create(MatchType.Equal, '__name__', 'h')] };
  const limited = new RemoteReadHandler({ queryable: s, externalLabels: () => Labels.EMPTY, sampleLimit: 9, concurrencyLimit: 0, maxBytesInFrame: 1 << 20, logger: nopLogger });
  const r = await limited.handle(body([RESPONSE_SAMPLES], q));
  assert.equal(r.status, 400);
  assert.match((await collect(r.body)).toString(), /exceeded sample limit \(9\)/);
});

test('streamed answers carry histogram chunks: a new chunk at a counter reset and at each change of sample type', async () => {
  const s = storage();
  const r = await handler(s).handle(body([RESPONSE_STREAMED_XOR_CHUNKS]));
  assert.equal(r.status, 200);
  const series: ReadSeries[] = [];
  const encodings = new Map<string, number[]>();
  for (const msg of readFrames(await collect(r.body), 1 << 20)) {
    for (const cs of decodeChunkedReadResponse(msg).series) {
      const ts: number[] = [];
      const vs: number[] = [];
      const hs: ReadHistogram[] = [];
      for (const c of cs.chunks) {
        decodeReadChunk(
          c,
          (t, v) => {
            ts.push(t);
            vs.push(v);
          },
          (x) => hs.push(x),
        );
      }
      encodings.set(cs.labels.toString(), cs.chunks.map((c) => c.encoding));
      series.push({ labels: cs.labels, timestamps: Float64Array.from(ts), values: Float64Array.from(vs), histograms: hs });
    }
  }
  assert.deepEqual(encodings.get(H.toString()), [PROM_ENC_HISTOGRAM, PROM_ENC_HISTOGRAM]);
  assert.deepEqual(encodings.get(F.toString()), [PROM_ENC_FLOAT_HISTOGRAM]);
  assert.deepEqual(encodings.get(MIXED.toString()), [PROM_ENC_XOR, PROM_ENC_HISTOGRAM, PROM_ENC_XOR]);
  // Counter-reset hints come from the chunks: compare the samples' values, not their hints.
  const noHints = (m: Map<string, string[]>): Map<string, string[]> => new Map([...m].map(([k, v]) => [k, v.map((x) => x.replace(/ ?counter_reset_hint:\w+/, ''))]));
  assert.deepEqual(noHints(read(series)), noHints(stored(s)));
});

test('the client reads histograms from streamed answers, within the query range', async () => {
  const s = storage();
  const h = handler(s);
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      void (async () => {
        const r = await h.handle(Buffer.concat(parts));
        res.writeHead(r.status, r.headers);
        res.end(await collect(r.body));
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const c = new ReadClient(loadConfig(`remote_read:\n  - url: ${base}/api/v1/read\n`).remoteRead[0]!, new ReadClientMetrics(), 0);
  try {
    const got = read(await c.read({ ...all, startMs: 2000, endMs: 4000 }));
    assert.deepEqual(got.get(MIXED.toString())!.map((x) => x.split(' ').slice(0, 2).join(' ')), ['2000 2', '3000 int', '4000 int']);
    assert.equal(got.get(F.toString())!.length, 3);
  } finally {
    c.close();
    server.close();
  }
});

test('the iterator merges floats and histograms by time, the float winning a shared timestamp; seek finds the earlier kind', () => {
  const fine = new Histogram({ schema: 10, count: 2, sum: 1, positiveSpans: [{ offset: 1, length: 2 }], positiveBuckets: [1, 0] });
  const s: ReadSeries = {
    labels: H,
    timestamps: Float64Array.from([1000, 3000]),
    values: Float64Array.from([1, 3]),
    histograms: [
      { t: 2000, h: ih(1), fh: null },
      { t: 3000, h: ih(2), fh: null },
      { t: 4000, h: fine, fh: null },
      { t: 5000, h: null, fh: fh(1) },
    ],
  };
  const it = new ReadSeriesIterator(s);
  assert.equal(it.next(), ValueType.Float);
  assert.equal(it.next(), ValueType.Histogram);
  assert.equal(it.t(), 2000);
  assert.ok(it.atHistogram().equals(ih(1)));
  assert.equal(it.next(), ValueType.Float);
  assert.equal(it.t(), 3000);
  assert.equal(it.next(), ValueType.Histogram);
  assert.equal(it.t(), 4000);
  // Schema 10 is reduced to 8: the two buckets fall into one.
  assert.equal(it.atHistogram().schema, 8);
  assert.equal(it.atFloatHistogram().positiveBuckets.length, 1);
  assert.equal(it.next(), ValueType.FloatHistogram);
  assert.equal(it.next(), ValueType.None);

  const sk = new ReadSeriesIterator(s);
  assert.equal(sk.seek(1500), ValueType.Histogram);
  assert.equal(sk.t(), 2000);
  assert.equal(sk.seek(1000), ValueType.Histogram, 'a seek backwards stays put');
  assert.equal(sk.seek(2500), ValueType.Float);
  assert.equal(sk.t(), 3000);
  assert.equal(sk.seek(4500), ValueType.FloatHistogram);
  assert.equal(sk.seek(6000), ValueType.None);
});

test('the iterator ends with an error at a histogram of an unknown schema or an invalid one', () => {
  const bad = (h: Histogram): Error | null => {
    const it = new ReadSeriesIterator({ labels: H, timestamps: new Float64Array(0), values: new Float64Array(0), histograms: [{ t: 1, h, fh: null }] });
    assert.equal(it.next(), ValueType.None);
    return it.err();
  };
  assert.match(String(bad(new Histogram({ schema: 60 }))), /histogram has an unknown schema/);
  assert.match(String(bad(new Histogram({ count: 1, sum: 1, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [5] }))), /observations found in buckets/);
});

test('histogram chunks are cut at 120 samples or, past 10 samples, at 1 KiB', async () => {
  const s = new MemoryStorage();
  const app = s.appender();
  const small = Labels.fromPairs('__name__', 'small');
  const wide = Labels.fromPairs('__name__', 'wide');
  for (let i = 1; i <= 300; i++) {
    app.appendHistogram!(0, small, i * 1000, ih(i), null);
    // 40 buckets with irregular growth: about 40 bytes a sample.
    const counts = Array.from({ length: 40 }, (_, k) => i * (k + 1) + k * (i % 2));
    app.appendHistogram!(0, wide, i * 1000, null, new FloatHistogram({ count: counts.reduce((x, y) => x + y, 0), sum: i, positiveSpans: [{ offset: 0, length: 40 }], positiveBuckets: counts }));
  }
  app.commit();
  const r = await handler(s).handle(body([RESPONSE_STREAMED_XOR_CHUNKS], { ...all, endMs: 400_000 }));
  const sizes = new Map<string, number[]>();
  const bytes = new Map<string, number[]>();
  for (const msg of readFrames(await collect(r.body), 1 << 20)) {
    for (const cs of decodeChunkedReadResponse(msg).series) {
      const name = cs.labels.get('__name__');
      for (const c of cs.chunks) {
        let n = 0;
        decodeReadChunk(c, () => assert.fail('a float'), () => n++);
        sizes.set(name, [...(sizes.get(name) ?? []), n]);
        bytes.set(name, [...(bytes.get(name) ?? []), c.data.length]);
      }
    }
  }
  // Every chunk but a series' last is full: 120 samples, or at least 10 in 1 KiB or more.
  for (const [name, ns] of sizes) {
    for (let i = 0; i < ns.length - 1; i++) {
      const n = ns[i]!;
      assert.ok(n === 120 || (n >= 10 && bytes.get(name)![i]! >= 1024), `${name}: ${n} samples in ${bytes.get(name)![i]} bytes`);
    }
  }
  assert.deepEqual(sizes.get('small'), [120, 120, 60]);
  const wideSizes = sizes.get('wide')!;
  assert.equal(wideSizes.reduce((x, y) => x + y, 0), 300);
  assert.ok(wideSizes.length > 3);
});

test('the client reads histograms from SAMPLES answers and counts them against its sample limit', async () => {
  const server = http.createServer((_req, res) => {
    const w = new ReadResponseWriter();
    w.beginResult();
    w.series(H, Float64Array.from([1000]), Float64Array.from([1]), 1, [
      { t: 2000, h: ih(1), fh: null },
      { t: 3000, h: null, fh: fh(2) },
    ]);
    w.endResult();
    res.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' });
    res.end(compressSync(w.finish()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const cfg = loadConfig(`remote_read:\n  - url: http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/read\n`).remoteRead[0]!;
  const c = new ReadClient(cfg, new ReadClientMetrics(), 0);
  const limited = new ReadClient(cfg, new ReadClientMetrics(), 2);
  try {
    const got = read(await c.read(all));
    assert.deepEqual(got.get(H.toString())!.map((x) => x.split(' ').slice(0, 2).join(' ')), ['1000 1', '2000 int', '3000 float']);
    await assert.rejects(limited.read(all), /more than the 2 samples/);
  } finally {
    c.close();
    limited.close();
    server.close();
  }
});
