// `npm run bench -- querylog [--queries N]`: the Prometheus 3.0.0 query-log leak, as a benchmark.
//
// Runs N queries (default 1,000,000) through the engine with the query log on, interleaved block by
// block with the same queries through an engine without it, on a small in-memory dataset. Prints heap
// after GC at 10%, 50% and 100% of N, the average line size of the first and last 10,000 lines, and
// what the log costs in throughput. Fairness: blocks alternate (and alternate which side goes first) so
// machine noise hits both sides alike, and every block ends with a turn of the event loop and a
// young-generation GC, so each side pays for its own garbage. The log encodes and writes its lines on a
// worker thread while the queries go on, so its cost to throughput is the main thread's time: the
// figure reported is the median over block pairs of (wall time with the log / without) - 1, which a
// burst from another process in a few blocks cannot move. The run ends by waiting for every line to be
// written and reports lines dropped, so a log that kept up only by losing lines would show. Process
// CPU time (all threads, the worker's encoding and the file writes included) is printed beside it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { Engine } from '../src/promql/engine/engine.js';
import type { QueryEngine, QueryOrigin } from '../src/promql/engine/types.js';
import { MemoryStorage } from '../src/storage/memory.js';
import { Labels } from '../src/model/labels.js';
import { QueryLog } from '../src/querylog/querylog.js';

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

const N = flag('queries', 1_000_000);
/** Queries per block before switching between the logged and the unlogged engine. */
const BLOCK = 1000;
/** Lines averaged at each end of the run. */
const EDGE = Math.min(10_000, Math.floor(N / 10));
/** 64 MiB x 2 files bounds the disk the run uses (~530 MB of lines) and exercises rotation. */
const ROTATE_BYTES = 64 * 1024 * 1024;

const gc = (globalThis as { gc?: (opts?: { type: 'minor' | 'major' }) => void }).gc;
if (!gc) {
  console.error('run with --expose-gc (npm run bench -- querylog does)');
  process.exit(2);
}

/**
 * Heap after GC of the main thread and of the log's worker thread together, and memory outside the
 * heap (the log's byte buffers live there, fixed in size).
 */
async function memoryMB(): Promise<{ heap: number; external: number }> {
  gc!();
  gc!();
  const m = process.memoryUsage();
  const worker = await ql.threadHeapBytes();
  return { heap: (m.heapUsed + worker) / 1024 / 1024, external: m.external / 1024 / 1024 };
}

// A small dataset: 3 jobs x 10 instances x 2 metrics, one sample every 15s for an hour.
const storage = new MemoryStorage();
const T0 = 1_700_000_000_000;
const END = T0 + 3600_000;
{
  const app = storage.appender();
  for (let j = 0; j < 3; j++) {
    for (let i = 0; i < 10; i++) {
      const up = Labels.fromObject({ __name__: 'up', job: `job${j}`, instance: `host${i}:9100` });
      const req = Labels.fromObject({ __name__: 'http_requests_total', job: `job${j}`, instance: `host${i}:9100`, code: '200' });
      for (let t = T0, k = 0; t <= END; t += 15_000, k++) {
        app.append(0, up, t, 1);
        app.append(0, req, t, k * (i + 1));
      }
    }
  }
  app.commit();
}

/** The same mix of instant and range queries, from the API and from a rule group, in both runs. */
const MIX: Array<{ q: string; range: boolean; origin: QueryOrigin }> = [
  { q: 'up', range: false, origin: { httpRequest: { clientIP: '127.0.0.1', method: 'GET', path: '/api/v1/query' } } },
  { q: 'sum by (job) (rate(http_requests_total[5m]))', range: false, origin: { ruleGroup: { file: '/etc/prometheus/rules.yml', name: 'http' } } },
  { q: 'rate(http_requests_total{job="job1"}[1m])', range: true, origin: { httpRequest: { clientIP: '10.0.0.7', method: 'POST', path: '/api/v1/query_range' } } },
  { q: 'max(up) by (instance)', range: false, origin: { httpRequest: { clientIP: '127.0.0.1', method: 'GET', path: '/api/v1/query' } } },
];

async function runOne(engine: QueryEngine, i: number): Promise<void> {
  const m = MIX[i % MIX.length]!;
  const q = m.range
    ? engine.newRangeQuery(storage, m.q, END - 600_000, END, 60_000)
    : engine.newInstantQuery(storage, m.q, END);
  await q.exec({ origin: m.origin });
}

const dir = mkdtempSync(join(tmpdir(), 'tsprom-bench-querylog-'));
const registry = new Registry();
const ql = new QueryLog({ registry });
ql.configure({ file: join(dir, 'query.log'), maxSizeBytes: ROTATE_BYTES, maxFiles: 1 });
const logged = new Engine({ onQueryDone: ql.log });
const plain = new Engine({});

async function counter(name: string, labels: Record<string, string> = {}): Promise<number> {
  const got = await registry.getSingleMetric(name)!.get();
  return got.values.filter((v) => Object.entries(labels).every(([k, w]) => v.labels[k] === w)).reduce((a, v) => a + v.value, 0);
}

/** Average bytes per line over `count` logged queries starting at query `from`. */
async function lineBytes(from: number, count: number): Promise<number> {
  await ql.idle();
  const before = await counter('tsprom_query_log_bytes_written_total');
  for (let i = 0; i < count; i++) {
    await runOne(logged, from + i);
    if (i % BLOCK === 0) await new Promise((r) => setImmediate(r));
  }
  await ql.idle();
  return ((await counter('tsprom_query_log_bytes_written_total')) - before) / count;
}

// Warm both engines so neither side pays for JIT compilation in the timed run.
for (let i = 0; i < 20_000; i++) {
  await runOne(logged, i);
  await runOne(plain, i);
  if (i % BLOCK === 0) await new Promise((r) => setImmediate(r));
}
await ql.idle();

const heapAt = new Map<number, { heap: number; external: number }>();
const marks = [Math.floor(N / 10), Math.floor(N / 2), N];
let done = 0;
const firstBytes = await lineBytes(0, EDGE);
done += EDGE;
interface Cost {
  wallMs: number;
  cpuMs: number;
}
const on: Cost = { wallMs: 0, cpuMs: 0 };
const off: Cost = { wallMs: 0, cpuMs: 0 };
/** Wall ms of each logged block over its unlogged twin. */
const pairRatios: number[] = [];

// The event loop's turn between requests, which both sides get.
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Runs one block on `engine`, then settles it (see the header); returns its wall ms. */
async function block(engine: QueryEngine, from: number, n: number, into: Cost): Promise<number> {
  const t = performance.now();
  const c = process.cpuUsage();
  for (let i = 0; i < n; i++) await runOne(engine, from + i);
  await settle();
  gc!({ type: 'minor' });
  const used = process.cpuUsage(c);
  const wallMs = performance.now() - t;
  into.cpuMs += (used.user + used.system) / 1000;
  into.wallMs += wallMs;
  return wallMs;
}

let flip = false;
while (done < N - EDGE) {
  const n = Math.min(BLOCK, N - EDGE - done);
  let onMs: number;
  let offMs: number;
  // Alternate which side goes first, so neither always follows the other.
  if (flip) {
    offMs = await block(plain, done, n, off);
    onMs = await block(logged, done, n, on);
  } else {
    onMs = await block(logged, done, n, on);
    offMs = await block(plain, done, n, off);
  }
  if (offMs > 0) pairRatios.push(onMs / offMs);
  flip = !flip;
  done += n;
  for (const m of marks) {
    if (done >= m && !heapAt.has(m)) {
      heapAt.set(m, await memoryMB());
      // The full collections just forced leave both threads slow for a block (caches refilled); not timed.
      for (let i = 0; i < BLOCK; i++) {
        await runOne(logged, done + i);
        await runOne(plain, done + i);
      }
    }
  }
}
const lastBytes = await lineBytes(done, EDGE);
done += EDGE;
await ql.idle();
heapAt.set(N, await memoryMB());
const timed = N - 2 * EDGE;
const qpsOn = timed / (on.wallMs / 1000);
const qpsOff = timed / (off.wallMs / 1000);
// Process CPU time over all threads: the whole work of logging, wherever it runs.
const cpuOverhead = (on.cpuMs / off.cpuMs - 1) * 100;
// The typical block pair, which a burst of noise in a few blocks cannot move.
pairRatios.sort((a, b) => a - b);
const medianOverhead = pairRatios.length > 0 ? (pairRatios[pairRatios.length >> 1]! - 1) * 100 : NaN;
if (process.env.QL_DEBUG) console.log([0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99].map((q) => `p${q * 100}=${((pairRatios[Math.floor(q * pairRatios.length)]! - 1) * 100).toFixed(1)}`).join(' '));
const dropped = await counter('tsprom_query_log_dropped_total');
const droppedFull = await counter('tsprom_query_log_dropped_total', { reason: 'buffer_full' });
const failures = await counter('prometheus_engine_query_log_failures_total');
await ql.close();
rmSync(dir, { recursive: true, force: true });

const h = marks.map((m) => heapAt.get(m)!.heap);
const ext = marks.map((m) => heapAt.get(m)!.external);
const growth = h[2]! - h[0]!;
const wallOverhead = (qpsOff / qpsOn - 1) * 100;
const rows: Array<[string, string]> = [
  ['queries with the log on (and as many off)', N.toLocaleString('en-US')],
  [`heap after GC at ${marks[0]!.toLocaleString('en-US')} queries`, `${h[0]!.toFixed(2)} MB`],
  [`heap after GC at ${marks[1]!.toLocaleString('en-US')} queries`, `${h[1]!.toFixed(2)} MB`],
  [`heap after GC at ${marks[2]!.toLocaleString('en-US')} queries`, `${h[2]!.toFixed(2)} MB`],
  ['heap growth (target < 5 MB)', `${growth.toFixed(2)} MB`],
  ['memory outside the heap at 10% / 100%', `${ext[0]!.toFixed(2)} / ${ext[2]!.toFixed(2)} MB`],
  [`bytes/line, first ${EDGE.toLocaleString('en-US')} lines`, firstBytes.toFixed(1)],
  [`bytes/line, last ${EDGE.toLocaleString('en-US')} lines`, lastBytes.toFixed(1)],
  ['CPU µs/query with the log (all threads)', ((on.cpuMs * 1000) / timed).toFixed(2)],
  ['CPU µs/query without the log', ((off.cpuMs * 1000) / timed).toFixed(2)],
  ['queries/s with the log', qpsOn.toFixed(0)],
  ['queries/s without the log', qpsOff.toFixed(0)],
  [`log overhead in throughput (wall time), median of ${pairRatios.length} block pairs (target < 5%)`, `${medianOverhead.toFixed(2)} %`],
  ['log overhead in wall time, total with / total without', `${wallOverhead.toFixed(2)} %`],
  ['CPU time with the log over without, all threads', `${cpuOverhead.toFixed(2)} %`],
  ['lines dropped (of them: buffer full, the disk fell behind)', `${dropped} (${droppedFull})`],
  ['write failures', String(failures)],
];
const w = Math.max(...rows.map((r) => r[0].length));
console.log('query log benchmark');
for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
console.log(
  JSON.stringify({
    queries: N,
    heap_mb_at_10pct: +h[0]!.toFixed(3),
    heap_mb_at_50pct: +h[1]!.toFixed(3),
    heap_mb_at_100pct: +h[2]!.toFixed(3),
    heap_growth_mb: +growth.toFixed(3),
    external_mb_at_10pct: +ext[0]!.toFixed(3),
    external_mb_at_100pct: +ext[2]!.toFixed(3),
    line_bytes_first: +firstBytes.toFixed(2),
    line_bytes_last: +lastBytes.toFixed(2),
    qps_log_on: Math.round(qpsOn),
    qps_log_off: Math.round(qpsOff),
    log_overhead_pct: +medianOverhead.toFixed(2),
    log_overhead_total_pct: +wallOverhead.toFixed(2),
    cpu_overhead_all_threads_pct: +cpuOverhead.toFixed(2),
    lines_dropped: dropped,
    lines_dropped_buffer_full: droppedFull,
    write_failures: failures,
  }),
);
