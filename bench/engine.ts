// `npm run bench -- engine [--quick]`: PromQL engine throughput and memory.
//
// Builds an in-memory store of 10,000 series x 2h at 15s (4.8M samples):
// counters, gauges, an info metric and classic histograms. Each query runs as
// an instant query at the end and as a range query over the last hour at a
// 15s step. Prints samples processed per second (Prometheus's
// totalQueryableSamples over the evaluation time) and the peak heap the query
// added (median of five runs, measured in a child process: see measurePeaksInChild)
// over the bytes of samples it held at its peak (16 bytes each), and the
// longest the event loop was blocked while a range query ran (what a request
// handled meanwhile, e.g. a remote write, waits at worst).
// The last line is one JSON object with the figures.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import v8 from 'node:v8';
import { Labels } from '../src/model/labels.js';
import { Engine } from '../src/promql/engine/engine.js';
import { MemoryStorage } from '../src/storage/memory.js';

const quick = process.argv.includes('--quick');
const SCRAPE_MS = 15_000;
const DURATION_MS = 2 * 3600_000;
const START = 1_700_000_000_000;
const END = START + DURATION_MS - SCRAPE_MS;

// 10,000 series: 6,000 counters, 1,800 gauges, 200 info series and 2,000 histogram buckets (200 histograms x 10 le).
const JOBS = 10;
const INSTANCES_PER_JOB = 20;
const COUNTERS_PER_INSTANCE = 30;
const GAUGES_PER_INSTANCE = 9;
const LE = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '+Inf'];

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Deterministic pseudo-random numbers so every run loads the same data. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function buildStorage(): { db: MemoryStorage; samples: number } {
  const db = new MemoryStorage();
  const rand = rng(42);
  const series: Array<{ ls: Labels; kind: 'counter' | 'gauge' | 'info' | 'bucket'; rate: number; le: number }> = [];
  for (let j = 0; j < JOBS; j++) {
    const job = `job-${j}`;
    for (let i = 0; i < INSTANCES_PER_JOB; i++) {
      const instance = `10.0.${j}.${i}:9100`;
      for (let c = 0; c < COUNTERS_PER_INSTANCE; c++) {
        const ls = Labels.fromPairs('__name__', 'http_requests_total', 'job', job, 'instance', instance, 'handler', `/api/v${c % 3}/h${c}`, 'code', c % 7 === 0 ? '500' : '200');
        series.push({ ls, kind: 'counter', rate: 1 + rand() * 50, le: 0 });
      }
      for (let g = 0; g < GAUGES_PER_INSTANCE; g++) {
        const ls = Labels.fromPairs('__name__', 'node_memory_bytes', 'job', job, 'instance', instance, 'kind', `k${g}`);
        series.push({ ls, kind: 'gauge', rate: 1e6 + rand() * 1e9, le: 0 });
      }
      series.push({ ls: Labels.fromPairs('__name__', 'build_info', 'job', job, 'instance', instance, 'version', `v${i % 4}`), kind: 'info', rate: 1, le: 0 });
      for (let b = 0; b < LE.length; b++) {
        const ls = Labels.fromPairs('__name__', 'http_request_duration_seconds_bucket', 'job', job, 'instance', instance, 'le', LE[b]!);
        series.push({ ls, kind: 'bucket', rate: 10, le: b });
      }
    }
  }
  // One appender per series: the in-memory appender looks up pending samples of the same series.
  let samples = 0;
  for (const s of series) {
    const app = db.appender();
    for (let t = START; t <= END; t += SCRAPE_MS) {
      const step = (t - START) / SCRAPE_MS;
      let v: number;
      switch (s.kind) {
        case 'counter':
          v = Math.floor(s.rate * step);
          break;
        case 'gauge':
          v = s.rate * (1 + 0.1 * Math.sin(step / 20));
          break;
        case 'info':
          v = 1;
          break;
        case 'bucket':
          // Cumulative counts: each bucket holds a growing share of the +Inf count.
          v = Math.floor((s.rate * step * (s.le + 1)) / LE.length);
          break;
      }
      app.append(0, s.ls, t, v);
      samples++;
    }
    app.commit();
  }
  return { db, samples };
}

const QUERIES: Array<{ name: string; q: string }> = [
  { name: 'rate', q: 'rate(http_requests_total[5m])' },
  { name: 'sum by job of rate', q: 'sum by (job) (rate(http_requests_total[5m]))' },
  { name: 'histogram_quantile', q: 'histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))' },
  { name: 'topk', q: 'topk(10, rate(http_requests_total[5m]))' },
  { name: 'group_left join', q: 'sum by (job, instance) (rate(http_requests_total[5m])) * on (job, instance) group_left (version) build_info' },
  { name: 'subquery', q: 'max_over_time(rate(http_requests_total[5m])[30m:1m])' },
];

interface Result {
  name: string;
  mode: 'instant' | 'range';
  seconds: number;
  samples: number;
  samplesPerSec: number;
  peakHeapBytes: number;
  heldBytes: number;
  ratio: number;
}

/** Longest event-loop delay (ms) seen while a range query ran: its longest stretch without yielding. */
let maxRangeBlockMs = 0;

async function runOnce(engine: Engine, db: MemoryStorage, q: string, mode: 'instant' | 'range'): Promise<{ seconds: number; samples: number; peakSamples: number }> {
  const query = mode === 'instant' ? engine.newInstantQuery(db, q, END) : engine.newRangeQuery(db, q, END - 3600_000, END, 15_000);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  if (mode === 'range') delay.enable();
  const t0 = performance.now();
  const res = await query.exec();
  const seconds = (performance.now() - t0) / 1000;
  delay.disable();
  if (mode === 'range') maxRangeBlockMs = Math.max(maxRangeBlockMs, delay.max / 1e6);
  if (res.value.type !== 'vector' && res.value.type !== 'matrix') throw new Error(`unexpected result type for ${q}`);
  const st = query.stats();
  return { seconds, samples: st.samples.totalQueryableSamples, peakSamples: st.samples.peakSamples };
}

/**
 * Live JS heap plus typed-array backing stores (which V8 keeps outside
 * heapUsed), less compiled code: JIT code is the process's, not a query's,
 * and V8 compiles and drops it at times of its own choosing.
 */
function liveBytes(): number {
  const m = process.memoryUsage();
  const code = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'code_space')?.space_used_size ?? 0;
  return m.heapUsed - code + m.arrayBuffers;
}

async function settle(): Promise<void> {
  // Backing stores of dead typed arrays are released after the GC that finds them; give that a few turns.
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The live heap now: read right after a full collection. */
function liveNow(): number {
  gc();
  return liveBytes();
}

/**
 * Peak live heap added by one execution: a timer forces a full GC and reads
 * the heap at every point where the evaluation yields (every 1 ms of work for
 * instant queries, 10 ms for range queries), so garbage not yet collected
 * does not count.
 */
async function livePeak(engine: Engine, db: MemoryStorage, q: string, mode: 'instant' | 'range'): Promise<number> {
  await settle();
  const base = liveNow();
  let peak = base;
  const timer = setInterval(() => {
    const h = liveNow();
    if (h > peak) peak = h;
  }, 1);
  const query = mode === 'instant' ? engine.newInstantQuery(db, q, END) : engine.newRangeQuery(db, q, END - 3600_000, END, 15_000);
  const res = await query.exec();
  // The result is still referenced here, so it counts.
  const h = liveNow();
  if (h > peak) peak = h;
  clearInterval(timer);
  if (res.value.type === 'string') throw new Error('unexpected string result');
  return peak - base;
}

/** Time of the fastest of `runs` executions, with the samples it processed and held. */
async function timeQuery(engine: Engine, db: MemoryStorage, q: string, mode: 'instant' | 'range', runs: number) {
  let best = Infinity;
  let samples = 0;
  let peakSamples = 0;
  for (let r = 0; r < runs; r++) {
    gc();
    const o = await runOnce(engine, db, q, mode);
    best = Math.min(best, o.seconds);
    samples = o.samples;
    peakSamples = o.peakSamples;
  }
  return { seconds: best, samples, peakSamples };
}

/** Peak heap of a query: the median of five runs after one to warm up. */
async function peakOf(engine: Engine, db: MemoryStorage, q: string, mode: 'instant' | 'range'): Promise<number> {
  await livePeak(engine, db, q, mode);
  const peaks: number[] = [];
  for (let r = 0; r < 5; r++) peaks.push(await livePeak(engine, db, q, mode));
  peaks.sort((a, b) => a - b);
  return peaks[2]!;
}

/**
 * Memory is measured in a process of its own whose V8 collects on the main
 * thread, keeps bytecode, does not optimize and gives each function its
 * inline-cache data on the first call: a forced collection then leaves
 * exactly the live heap, which a query of ~100 KiB needs to be measured at
 * all. With background sweeping and code flushing the same query read
 * anywhere from 80 to 500 KiB, and the optimizing compiler and the inline
 * caches, made whenever V8 decides, leave tens of KiB of V8's own data in
 * the heap (not in code space) in the middle of a query. The data structures
 * of a query do not depend on the compiler tier. Those settings slow
 * evaluation, so the timings come from this process.
 */
function measurePeaksInChild(): Map<string, number> {
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--single-threaded-gc', '--no-opt', '--no-flush-bytecode', '--no-lazy-feedback-allocation', fileURLToPath(import.meta.url), '--memory'],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  if (r.status !== 0) throw new Error(`memory measurement failed: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  const peaks = JSON.parse(lines[lines.length - 1]!) as Record<string, number>;
  return new Map(Object.entries(peaks));
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const { db, samples } = buildStorage();
  const engine = new Engine({ maxSamples: 200_000_000, timeoutMs: 600_000 });
  if (process.argv.includes('--memory')) {
    const peaks: Record<string, number> = {};
    // Yielding every millisecond gives the heap readings a chance at every phase of a short instant query.
    const sampled = new Engine({ maxSamples: 200_000_000, timeoutMs: 600_000, yieldIntervalMs: 1 });
    for (const { name, q } of QUERIES) {
      for (const mode of ['instant', 'range'] as const) peaks[`${name}/${mode}`] = await peakOf(mode === 'instant' ? sampled : engine, db, q, mode);
    }
    console.log(JSON.stringify(peaks));
    return;
  }
  console.log(`loaded ${db.numSeries()} series, ${samples} samples in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  const runs = quick ? 1 : 3;
  const timed: Array<{ name: string; mode: 'instant' | 'range'; seconds: number; samples: number; peakSamples: number }> = [];
  for (const { name, q } of QUERIES) {
    for (const mode of ['instant', 'range'] as const) timed.push({ name, mode, ...(await timeQuery(engine, db, q, mode, runs)) });
  }
  const peaks = measurePeaksInChild();
  const results: Result[] = timed.map((r) => {
    const peakHeapBytes = peaks.get(`${r.name}/${r.mode}`) ?? NaN;
    const heldBytes = r.peakSamples * 16;
    return {
      name: r.name,
      mode: r.mode,
      seconds: r.seconds,
      samples: r.samples,
      samplesPerSec: r.samples / r.seconds,
      peakHeapBytes,
      heldBytes,
      ratio: heldBytes > 0 ? peakHeapBytes / heldBytes : 0,
    };
  });
  console.log(`${pad('query', 22)} ${pad('mode', 8)} ${pad('time', 9)} ${pad('samples', 11)} ${pad('samples/s', 12)} ${pad('peak heap', 11)} ${pad('held', 10)} ratio`);
  for (const r of results) {
    console.log(
      `${pad(r.name, 22)} ${pad(r.mode, 8)} ${pad(`${(r.seconds * 1000).toFixed(1)}ms`, 9)} ${pad(String(r.samples), 11)} ` +
        `${pad(`${(r.samplesPerSec / 1e6).toFixed(1)}M`, 12)} ${pad(`${(r.peakHeapBytes / 1048576).toFixed(1)}MiB`, 11)} ` +
        `${pad(`${(r.heldBytes / 1048576).toFixed(1)}MiB`, 10)} ${r.ratio.toFixed(2)}`,
    );
  }
  const range = results.filter((r) => r.mode === 'range');
  const geo = Math.exp(range.reduce((a, r) => a + Math.log(r.samplesPerSec), 0) / range.length);
  const instant = results.filter((r) => r.mode === 'instant');
  const geoInstant = Math.exp(instant.reduce((a, r) => a + Math.log(r.samplesPerSec), 0) / instant.length);
  // Range queries hold megabytes of samples, so their ratio measures the sample data. Instant queries
  // hold a few thousand samples, and their live heap is dominated by per-series label sets and objects
  // (hundreds of bytes per series); peak_heap_ratio is the worst of all queries, as the issue defines it.
  const worstRange = range.reduce((a, r) => Math.max(a, r.ratio), 0);
  const worstInstant = instant.reduce((a, r) => Math.max(a, r.ratio), 0);
  console.log('peak heap: live JS heap (less JIT code) plus typed-array memory added by the query, read after a full GC at every');
  console.log('yield (every 1 ms of work for instant queries), median of 5 runs, in a child process with synchronous GC and');
  console.log('neither optimizing compiler nor lazily made inline caches (their data is V8\'s, not the query\'s);');
  console.log('held: peakSamples (as Prometheus counts them) x 16 bytes; peak_heap_ratio is the worst query of either mode.');
  console.log(`longest event-loop block during a range query: ${maxRangeBlockMs.toFixed(1)} ms (max_event_loop_block_ms)`);
  console.log(
    JSON.stringify({
      range_samples_per_s: Math.round(geo),
      instant_samples_per_s: Math.round(geoInstant),
      peak_heap_ratio: Number(Math.max(worstRange, worstInstant).toFixed(3)),
      range_peak_heap_ratio: Number(worstRange.toFixed(3)),
      instant_peak_heap_ratio: Number(worstInstant.toFixed(3)),
      series: db.numSeries(),
      samples,
      max_event_loop_block_ms: Number(maxRangeBlockMs.toFixed(1)),
    }),
  );
}

await main();
