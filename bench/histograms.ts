// `npm run bench -- histograms [--series N] [--hours H]`: how compactly native
// histograms are stored. A service with a 20-bucket exponential histogram
// (schema 3, request latencies around 100 ms) scraped every 15 s for H hours
// (default 2: one block) per series; every sample is appended to histogram
// chunks in Prometheus's layout, cut as Prometheus's head cuts them (at about
// 1 KiB, never below 10 samples, and at 120 samples for comparison).
// The same data also goes through the TSDB (head appends, a block written
// from the head): block_bytes_per_histogram_sample is what the block's chunk
// files take per sample, next to prometheus_block_bytes_per_histogram_sample,
// what Prometheus's encoding gives for it (its chunk records around chunks cut
// by its head's rules, computed here with the bit-exact chunk encoder).
// Prints a table and, last, one JSON line with chunk_bytes_per_histogram_sample
// (and the CPU rates of appending and decoding, as histograms per second).
// The query half (bench/histograms_query.ts): histogram_quantile(0.9,
// rate(...[5m])) as a range query over --query-series (default 1000) native
// histogram series, next to the same query over equivalent classic buckets.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { Histogram, type Span } from '../src/model/histogram.js';
import { Labels } from '../src/model/labels.js';
import { CHUNKS_DIR, INDEX_FILE } from '../src/tsdb/block.js';
import { HistogramChunk, decodeHistogramChunk } from '../src/tsdb/chunkenc/histogram_chunk.js';
import { headSource, writeBlock } from '../src/tsdb/compact.js';
import { Head } from '../src/tsdb/head/head.js';
import { TSDBMetrics } from '../src/tsdb/metrics.js';
import { histogramQueryBench } from './histograms_query.js';

function flag(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v <= 0) {
    console.error(`--${name} needs a positive integer`);
    process.exit(2);
  }
  return v;
}

const SERIES = flag('series', 20);
const HOURS = flag('hours', 2);
const STEP = 15_000;
const SCHEMA = 3;
/** Prometheus's head cuts a histogram chunk once it holds about this many bytes (and at least 10 samples). */
const TARGET_BYTES = 1024;
const MIN_SAMPLES = 10;

/** A deterministic generator (mulberry32), so every run measures the same data. */
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

/** Latencies (seconds) of one scrape interval: lognormal around 100 ms, 50-150 requests. */
function observe(r: () => number, counts: Map<number, number>): { n: number; sum: number } {
  const n = 50 + Math.floor(r() * 100);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const u = Math.max(r(), 1e-12);
    const g = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
    const v = 0.1 * Math.exp(0.2 * g);
    sum += v;
    // Bucket index at schema 3: ceil(log2(v) * 8).
    const idx = Math.ceil(Math.log2(v) * 2 ** SCHEMA);
    counts.set(idx, (counts.get(idx) ?? 0) + 1);
  }
  return { n, sum };
}

function histogramOf(counts: Map<number, number>, count: number, sum: number): Histogram {
  const idx = [...counts.keys()].sort((a, b) => a - b);
  const spans: Span[] = [];
  const deltas: number[] = [];
  let last = 0;
  let prev = 0;
  for (const i of idx) {
    const top = spans[spans.length - 1];
    if (top !== undefined && i === last + 1) spans[spans.length - 1] = { offset: top.offset, length: top.length + 1 };
    else spans.push({ offset: spans.length === 0 ? i : i - last - 1, length: 1 });
    last = i;
    const c = counts.get(i)!;
    deltas.push(c - prev);
    prev = c;
  }
  return new Histogram({ schema: SCHEMA, zeroThreshold: 2 ** -128, count, sum, positiveSpans: spans, positiveBuckets: deltas });
}

interface Measured {
  bytes: number;
  samples: number;
  chunks: number;
  buckets: number;
  /** CPU ms spent in append and in decoding the finished chunks. */
  appendMs: number;
  decodeMs: number;
}

function measure(cut: (c: HistogramChunk) => boolean): Measured {
  let appendMs = 0;
  let decodeMs = 0;
  const finished: Uint8Array[] = [];
  let bytes = 0;
  let samples = 0;
  let chunks = 0;
  let buckets = 0;
  const points = (HOURS * 3600_000) / STEP;
  for (let s = 0; s < SERIES; s++) {
    const r = rng(1234 + s);
    const counts = new Map<number, number>();
    let count = 0;
    let sum = 0;
    // Warm up so that the layout has settled at about 20 buckets, as a long-running service's has.
    for (let k = 0; k < 40; k++) {
      const o = observe(r, counts);
      count += o.n;
      sum += o.sum;
    }
    let c = new HistogramChunk();
    for (let k = 0; k < points; k++) {
      const o = observe(r, counts);
      count += o.n;
      sum += o.sum;
      const h = histogramOf(counts, count, sum);
      buckets += h.positiveBuckets.length;
      if (c.numSamples() > 0 && cut(c)) {
        bytes += c.bytes().length;
        finished.push(c.bytes());
        chunks++;
        c = new HistogramChunk();
      }
      const t0 = process.cpuUsage();
      c = c.append(1_700_000_000_000 + k * STEP, h).chunk;
      const d = process.cpuUsage(t0);
      appendMs += (d.user + d.system) / 1000;
      samples++;
    }
    bytes += c.bytes().length;
    finished.push(c.bytes());
    chunks++;
  }
  const t0 = process.cpuUsage();
  let decoded = 0;
  for (const b of finished) for (const s of decodeHistogramChunk(b)) if (s.t > 0) decoded++;
  const d = process.cpuUsage(t0);
  decodeMs = (d.user + d.system) / 1000;
  if (decoded !== samples) throw new Error(`decoded ${decoded} of ${samples} samples`);
  return { bytes, samples, chunks, buckets, appendMs, decodeMs };
}

/** Every series' samples, as the measurements above generate them. */
function* series(): Generator<{ s: number; k: number; h: Histogram }> {
  const points = (HOURS * 3600_000) / STEP;
  for (let s = 0; s < SERIES; s++) {
    const r = rng(1234 + s);
    const counts = new Map<number, number>();
    let count = 0;
    let sum = 0;
    for (let k = 0; k < 40; k++) {
      const o = observe(r, counts);
      count += o.n;
      sum += o.sum;
    }
    for (let k = 0; k < points; k++) {
      const o = observe(r, counts);
      count += o.n;
      sum += o.sum;
      yield { s, k, h: histogramOf(counts, count, sum) };
    }
  }
}

const BLOCK_RANGE = 2 * 3600_000;
/** The first sample's time, at a block boundary so that 2 hours make one block. */
const BASE = Math.floor(1_700_000_000_000 / BLOCK_RANGE) * BLOCK_RANGE;

function uvarintLen(v: number): number {
  let n = 1;
  for (; v >= 0x80; v = Math.floor(v / 0x80)) n++;
  return n;
}

/**
 * Bytes of Prometheus's block chunk records (length uvarint, encoding byte,
 * data, CRC32) for chunks cut by its head's rules: at the end of the aligned
 * range or the time predicted when the chunk reached a quarter of 1 KiB, or at
 * 2 KiB, not below 10 samples unless the range ends.
 */
function prometheusBlockChunkBytes(): { bytes: number; samples: number } {
  let bytes = 0;
  let samples = 0;
  let c: HistogramChunk | null = null;
  let minT = 0;
  let maxT = 0;
  let nextAt = 0;
  let computed = false;
  let cur = -1;
  const finish = (): void => {
    if (c !== null) bytes += uvarintLen(c.bytes().length) + 1 + c.bytes().length + 4;
  };
  for (const { s, k, h } of series()) {
    const t = BASE + k * STEP;
    if (s !== cur) {
      finish();
      c = null;
      cur = s;
    }
    let cut = c === null;
    if (c !== null) {
      const n = c.bytes().length;
      const rangeStart = computed ? Math.trunc(minT / BLOCK_RANGE) * BLOCK_RANGE + BLOCK_RANGE : nextAt;
      if (!computed && n >= TARGET_BYTES / 4) {
        const ratio = TARGET_BYTES / n;
        const m = (nextAt - minT) / ((maxT - minT + 1) * ratio);
        if (m > 1) nextAt = Math.trunc(minT + (nextAt - minT) / Math.floor(m));
        computed = true;
      }
      cut = (t >= nextAt || n >= 2 * TARGET_BYTES) && (c.numSamples() >= MIN_SAMPLES || t >= rangeStart);
    }
    if (cut) {
      finish();
      c = new HistogramChunk();
      minT = t;
      nextAt = Math.trunc(t / BLOCK_RANGE) * BLOCK_RANGE + BLOCK_RANGE;
      computed = false;
    }
    // c was set above whenever it was null.
    const r: { chunk: HistogramChunk; newChunk: boolean } = c!.append(t, h);
    if (r.newChunk) {
      finish();
      minT = t;
      nextAt = Math.trunc(t / BLOCK_RANGE) * BLOCK_RANGE + BLOCK_RANGE;
      computed = false;
    }
    c = r.chunk;
    maxT = t;
    samples++;
  }
  finish();
  return { bytes, samples };
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return n;
}

/** Appends every sample to a TSDB head and writes one block from it; bytes of its chunk files and of the whole block. */
async function tsdbBlockBytes(): Promise<{ chunkBytes: number; blockBytes: number; indexBytes: number; samples: number }> {
  const zero = (): number => 0;
  const metrics = new TSDBMetrics(new Registry(), {
    headSeries: zero,
    headChunks: zero,
    headMinTime: zero,
    headMaxTime: zero,
    headChunkBytes: zero,
    symbolTableBytes: zero,
    activeAppenders: zero,
    blocksLoaded: zero,
    blocksBytes: zero,
    lowestTimestamp: zero,
    walSegmentCurrent: zero,
    walStorageBytes: zero,
    retentionLimitBytes: zero,
    headSeriesLimit: zero,
    walReplayStatus: () => ({ min: 0, max: 0, current: 0 }),
  });
  const head = new Head({ chunkRange: BLOCK_RANGE, metrics });
  let samples = 0;
  let app = head.appender();
  // In time order, as scrapes append them (the head refuses samples far behind its newest).
  const all = [...series()].sort((a, b) => a.k - b.k || a.s - b.s);
  for (const { s, k, h } of all) {
    app.appendHistogram(0, Labels.fromPairs('__name__', 'http_request_duration_seconds', 'instance', `host-${s}:9100`), BASE + k * STEP, h, null);
    samples++;
    if (samples % 1000 === 0) {
      app.commit();
      app = head.appender();
    }
  }
  app.commit();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-hist-block-'));
  try {
    const res = await writeBlock({ dir, sources: [await headSource(head, head.minTime, head.maxTime)], mint: head.minTime, maxt: head.maxTime + 1, level: 1, sourceULIDs: [] });
    if (res === null) throw new Error('no block written');
    if (res.meta.stats.numSamples !== samples) throw new Error(`block holds ${res.meta.stats.numSamples} of ${samples} samples`);
    const b = path.join(dir, res.ulid);
    // The chunk files' 8-byte headers are left out: they do not grow with the data.
    const files = fs.readdirSync(path.join(b, CHUNKS_DIR));
    const chunkBytes = dirBytes(path.join(b, CHUNKS_DIR)) - 8 * files.length;
    return { chunkBytes, blockBytes: dirBytes(b), indexBytes: fs.statSync(path.join(b, INDEX_FILE)).size, samples };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const bySize = measure((c) => c.numSamples() >= MIN_SAMPLES && c.bytes().length >= TARGET_BYTES);
const by120 = measure((c) => c.numSamples() >= 120);
const prom = prometheusBlockChunkBytes();
const block = await tsdbBlockBytes();
const perSec = (n: number, ms: number): string => `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;
const row = (name: string, m: Measured): void =>
  console.log(
    `${name.padEnd(28)} ${(m.bytes / m.samples).toFixed(2).padStart(8)} B/sample  ${(m.samples / m.chunks).toFixed(1).padStart(7)} samples/chunk  ${(m.buckets / m.samples).toFixed(1)} buckets  append ${perSec(m.samples, m.appendMs)}  decode ${perSec(m.samples, m.decodeMs)}`,
  );
console.log(`${SERIES} series x ${(HOURS * 3600_000) / STEP} samples, schema ${SCHEMA}, every 15 s`);
row('cut at ~1 KiB (Prometheus)', bySize);
row('cut at 120 samples', by120);
console.log(
  `block (TSDB head -> block)   ${(block.chunkBytes / block.samples).toFixed(2).padStart(8)} B/sample in chunk files, ${(block.blockBytes / block.samples).toFixed(2)} B/sample with index and meta; Prometheus's encoding: ${(prom.bytes / prom.samples).toFixed(2)} B/sample in chunk files`,
);
const query = await histogramQueryBench(flag('query-series', 1000), 1);
console.log(
  `query (${query.series} series, 1h)  histogram_quantile(0.9, rate(x[5m])): native ${query.nativeSamplesPerSec.toLocaleString('en-US')} histogram samples/s, classic buckets ${query.classicHistogramsPerSec.toLocaleString('en-US')} histograms/s (${query.bucketsPerHistogram} buckets each): ${(query.ratio * 100).toFixed(0)}%`,
);
console.log(
  JSON.stringify({
    query_native_histogram_samples_per_sec: query.nativeSamplesPerSec,
    query_classic_histograms_per_sec: query.classicHistogramsPerSec,
    query_native_vs_classic: query.ratio,
    chunk_bytes_per_histogram_sample: Number((bySize.bytes / bySize.samples).toFixed(2)),
    chunk_bytes_per_histogram_sample_120: Number((by120.bytes / by120.samples).toFixed(2)),
    block_bytes_per_histogram_sample: Number((block.chunkBytes / block.samples).toFixed(2)),
    prometheus_block_bytes_per_histogram_sample: Number((prom.bytes / prom.samples).toFixed(2)),
    block_total_bytes_per_histogram_sample: Number((block.blockBytes / block.samples).toFixed(2)),
    buckets_per_sample: Number((bySize.buckets / bySize.samples).toFixed(1)),
    chunk_append_histograms_per_sec: Math.round((bySize.samples / bySize.appendMs) * 1000),
    chunk_decode_histograms_per_sec: Math.round((bySize.samples / bySize.decodeMs) * 1000),
  }),
);
