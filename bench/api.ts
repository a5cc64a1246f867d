// `npm run bench -- api [--series N] [--points N]`: how fast query results become JSON.
//
// 1. Encoding alone: a matrix of N series x M points (default 1,000 x 1,000)
//    through the API's response encoder, per kind of value (integers such as
//    counters, short decimals such as most gauges, full-precision doubles
//    such as rates, and a third of each), in points per second of CPU time.
// 2. Many short series: 100,000 series x 41 points (a range query over a
//    fleet), in CPU ms, and the CPU time between event-loop turns while the
//    answer streams (p99 and max: how long other requests wait behind it).
// 3. End to end: the same data in memory storage behind the real HTTP server
//    and engine; `query_range` for all of it, plain and gzip, in ms of wall
//    time from request to the last byte.
import type { AddressInfo } from 'node:net';
import { request } from 'node:http';
import { Labels } from '../src/model/labels.js';
import { MemoryStorage } from '../src/storage/memory.js';
import { Engine } from '../src/promql/engine/engine.js';
import type { RangeSeries } from '../src/promql/engine/types.js';
import { WebServer } from '../src/web/server.js';
import { createApiRoutes } from '../src/web/api/v1.js';
import { queryApiDeps } from '../test/api_deps.js';
import { QueryData, encodeApiSuccess, isBodyStream } from '../src/web/api/response.js';

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

const SERIES = flag('series', 1000);
const POINTS = flag('points', 1000);
/** Timed repetitions per case; the best one is reported (the machine is shared, the minimum is the least disturbed). */
const REPEATS = 5;
const T0 = 1_700_000_000_000;
const STEP = 15_000;

type Kind = 'integer' | 'short decimal' | 'full precision' | 'mixed';

/** Deterministic values of each kind (a linear congruential generator, so runs compare). */
function valueFor(kind: Kind, s: number, j: number): number {
  const r = ((s * 7919 + j * 104_729) % 1_000_003) / 1_000_003;
  const k: Kind = kind === 'mixed' ? (['integer', 'short decimal', 'full precision'] as const)[s % 3]! : kind;
  if (k === 'integer') return s * 1000 + j * 3;
  if (k === 'short decimal') return Math.round(r * 1e5) / 100;
  return (r * 1000) / 7;
}

function labelsFor(s: number): Labels {
  return Labels.fromPairs('__name__', 'http_requests_total', 'instance', `host-${s}.example.com:9100`, 'job', 'node', 'code', String(200 + (s % 5)));
}

function matrix(kind: Kind): RangeSeries[] {
  const out: RangeSeries[] = [];
  for (let s = 0; s < SERIES; s++) {
    const ts = new Float64Array(POINTS);
    const fs = new Float64Array(POINTS);
    for (let j = 0; j < POINTS; j++) {
      ts[j] = T0 + j * STEP;
      fs[j] = valueFor(kind, s, j);
    }
    out.push({ metric: labelsFor(s), ts, fs });
  }
  return out;
}

/** Encodes the whole answer, streamed or not; returns its size. */
async function encode(series: RangeSeries[]): Promise<number> {
  const body = encodeApiSuccess({ data: new QueryData({ type: 'matrix', series }) });
  if (!isBodyStream(body)) return body.length;
  let n = 0;
  for await (const c of body) n += c.length;
  return n;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const points = SERIES * POINTS;
const rows: Array<[string, string, string, string]> = [];
const figures: Record<string, number> = {};
for (const kind of ['integer', 'short decimal', 'full precision', 'mixed'] as const) {
  const m = matrix(kind);
  await encode(m); // warm-up: JIT
  let best = Infinity;
  let bytes = 0;
  for (let i = 0; i < REPEATS; i++) {
    const t = cpuMs();
    bytes = await encode(m);
    best = Math.min(best, cpuMs() - t);
  }
  const pps = points / (best / 1000);
  rows.push([kind, best.toFixed(0), (pps / 1e6).toFixed(1), ((bytes / (best / 1000)) / 1e6).toFixed(0)]);
  const key = kind.replace(' ', '_');
  figures[`encode_${key}_points_per_s`] = Math.round(pps);
  if (kind === 'mixed') {
    figures['encode_points_per_s'] = Math.round(pps);
    figures['encode_mb_per_s'] = Math.round(bytes / (best / 1000) / 1e6);
    figures['response_bytes'] = bytes;
  }
}

console.log(`Encoding a ${SERIES} x ${POINTS} matrix (${points.toLocaleString('en')} points), best of ${REPEATS}, CPU time:`);
console.log(['values', 'ms', 'Mpoints/s', 'MB/s'].map((h, i) => (i === 0 ? h.padEnd(16) : h.padStart(10))).join(''));
for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(16) : c.padStart(10))).join(''));

// ---- many short series: a range query over a fleet (100,000 series x 41 steps)

const FLEET = 100_000;
const FLEET_POINTS = 41;
const MODES = ['idle', 'user', 'system', 'iowait'] as const;
const fleet: RangeSeries[] = [];
for (let s = 0; s < FLEET; s++) {
  const metric = Labels.fromPairs('__name__', 'node_cpu_seconds_total', 'cpu', String(s % 4), 'instance', `host-${Math.floor(s / 100)}.example.com:9100`, 'job', 'node', 'mode', MODES[s % 4]!);
  const ts = new Float64Array(FLEET_POINTS);
  const fs = new Float64Array(FLEET_POINTS);
  for (let j = 0; j < FLEET_POINTS; j++) {
    ts[j] = T0 + j * STEP;
    fs[j] = valueFor('mixed', s, j);
  }
  fleet.push({ metric, ts, fs });
}

/**
 * CPU time between two turns of the event loop while the fleet's answer
 * streams: what a remote-write request arriving meanwhile waits at most.
 */
async function encodeSlices(): Promise<number[]> {
  const slices: number[] = [];
  let ticking = true;
  let last = cpuMs();
  const tick = (): void => {
    if (!ticking) return;
    const now = cpuMs();
    slices.push(now - last);
    last = now;
    setImmediate(tick);
  };
  setImmediate(tick);
  await encode(fleet);
  ticking = false;
  return slices;
}

await encode(fleet);
let bestFleet = Infinity;
const fleetSlices: number[] = [];
for (let i = 0; i < REPEATS; i++) {
  const t = cpuMs();
  const slices = await encodeSlices();
  bestFleet = Math.min(bestFleet, cpuMs() - t);
  fleetSlices.push(...slices);
}
fleetSlices.sort((a, b) => a - b);
const sliceAt = (q: number): number => fleetSlices[Math.min(fleetSlices.length - 1, Math.floor(q * fleetSlices.length))] ?? 0;
console.log(`\nEncoding ${FLEET.toLocaleString('en')} series x ${FLEET_POINTS} points, best of ${REPEATS}: ${bestFleet.toFixed(0)} ms CPU;`);
console.log(`CPU between event-loop turns while streaming: p50 ${sliceAt(0.5).toFixed(1)} ms, p99 ${sliceAt(0.99).toFixed(1)} ms, max ${sliceAt(1).toFixed(1)} ms (the max may hold a GC pause)`);
figures['encode_100k_series_ms'] = Math.round(bestFleet);
figures['encode_slice_p99_ms'] = Math.round(sliceAt(0.99) * 10) / 10;
figures['encode_slice_max_ms'] = Math.round(sliceAt(1) * 10) / 10;
fleet.length = 0;

// ---- end to end

const storage = new MemoryStorage();
{
  const app = storage.appender();
  for (let s = 0; s < SERIES; s++) {
    const ls = labelsFor(s);
    for (let j = 0; j < POINTS; j++) app.append(0, ls, T0 + j * STEP, valueFor('mixed', s, j));
  }
  app.commit();
}
// Room for the whole result: the default limit of 50M samples would do, say so anyway.
const engine = new Engine({ maxSamples: 4 * points });
const web = new WebServer({ listenAddress: '127.0.0.1:0' });
web.api(
  createApiRoutes(queryApiDeps(storage, { engine })),
);
web.ready = true;
const addr: AddressInfo = await web.listen();
const qs = new URLSearchParams({
  query: 'http_requests_total',
  start: String(T0 / 1000),
  end: String((T0 + (POINTS - 1) * STEP) / 1000),
  step: String(STEP / 1000),
});

/** GETs the query; resolves with wall ms to the last byte and bytes received. */
function get(gzip: boolean): Promise<{ ms: number; bytes: number }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: addr.port, path: `/api/v1/query_range?${qs}`, headers: gzip ? { 'Accept-Encoding': 'gzip' } : {} },
      (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => (res.statusCode === 200 ? resolve({ ms: performance.now() - t, bytes }) : reject(new Error(`status ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function engineOnly(): Promise<number> {
  const t = performance.now();
  const q = engine.newRangeQuery(storage, 'http_requests_total', T0, T0 + (POINTS - 1) * STEP, STEP);
  await q.exec();
  return performance.now() - t;
}

await get(false);
await get(true);
const e2e: Array<[string, number, number]> = [];
let bestEngine = Infinity;
let bestPlain = { ms: Infinity, bytes: 0 };
let bestGzip = { ms: Infinity, bytes: 0 };
for (let i = 0; i < REPEATS; i++) {
  bestEngine = Math.min(bestEngine, await engineOnly());
  const p = await get(false);
  if (p.ms < bestPlain.ms) bestPlain = p;
  const g = await get(true);
  if (g.ms < bestGzip.ms) bestGzip = g;
}
await web.close();
e2e.push(['engine only', bestEngine, 0], ['HTTP, identity', bestPlain.ms, bestPlain.bytes], ['HTTP, gzip', bestGzip.ms, bestGzip.bytes]);

console.log(`\nquery_range returning ${SERIES} series x ${POINTS} steps, best of ${REPEATS}, wall time:`);
console.log(['path', 'ms', 'MB sent'].map((h, i) => (i === 0 ? h.padEnd(16) : h.padStart(10))).join(''));
for (const [name, ms, bytes] of e2e) {
  console.log([name.padEnd(16), ms.toFixed(0).padStart(10), (bytes > 0 ? (bytes / 1e6).toFixed(1) : '-').padStart(10)].join(''));
}
figures['engine_query_range_ms'] = Math.round(bestEngine);
figures['e2e_query_range_ms'] = Math.round(bestPlain.ms);
figures['e2e_query_range_gzip_ms'] = Math.round(bestGzip.ms);
figures['gzip_response_bytes'] = bestGzip.bytes;
console.log(JSON.stringify(figures));
