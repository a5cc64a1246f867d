// `npm run bench -- ingest [--sizes 10150,101500] [--only tsprom|prometheus] [--rounds N]
//                          [--latency-interval-ms 20] [--latency-idle-s 15] [--latency-query-step 1]
//                          [--latency-query-s 15] [--latency-query 'sum by (instance) (rate(...[1m]))']`
//
// Remote-write ingest through the real HTTP servers, one process at a time, each with a fresh
// data directory: tsprom (remote write 1.0, then 2.0) and Debian's Prometheus 2.42 (1.0 only:
// it cannot receive 2.0). The workload is a node_exporter fleet (bench/load_workload.ts) of each
// size; 4 clients in this process each own a quarter of the series and send its rounds in
// timestamp order (15 s apart), one sample per series per request, at most 2,000 samples per
// request, one request in flight per client. Every body is built before timing starts.
//
// Figures per server, protocol and size: samples/s (all samples over the wall time from the
// first send to the last 2xx; any other status fails the bench), the server's VmRSS right after
// ingest, and its data directory's disk usage per sample (WAL and head chunks: no block is cut
// yet). On the largest size, after ingest, a light sender (one request every 20 ms, continuing
// the rounds) measures remote-write latency idle and while a heavy range query runs back to back
// for at least 15 s (the same query and range on both servers): one run of it takes about a
// second, too few requests for a p99, and 5 s (250 requests) leaves a p99 to the 3 slowest.
// The idle phase's two halves get a p99 each: how far apart they are is the figure's own noise.
// The query runs on a worker thread of this process, so parsing its answers does not delay the
// sender's timing. The last line is one JSON object with the figures.
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { BenchFailure, pacedSender, quantile, sendConcurrently } from './load_client.js';
import { flagValue, listFlag, numberFlag, FlagError } from './load_flags.js';
import { BATCH, buildBodies, type Bodies } from './load_ingest.js';
import { BodyEncoder, HEADERS, type Protocol } from './load_proto.js';
import type { QueryLoopInput, QueryLoopOutput } from './load_query_thread.js';
import { buildWorkload, STEP_MS } from './load_workload.js';
import { diskBytes, rssMiB, startServer, type Server, type ServerName } from './peer_servers.js';

/** Default rounds per size: about this many samples, 10-25 s per server today. */
const DEFAULT_SAMPLES = 3_000_000;
/** The pause between the end of ingest and the light sender's start. */
const SETTLE_MS = 3000;
const DEFAULT_QUERY = 'sum by (instance) (rate(node_cpu_seconds_total[1m]))';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface IngestFigures {
  server: ServerName;
  protocol: Protocol;
  size: number;
  samples: number;
  wallS: number;
  samplesPerS: number;
  rssMiB: number;
  bytesPerSample: number;
  clientCpuS: number;
}

interface LatencyFigures {
  server: ServerName;
  p50IdleMs: number;
  p99IdleMs: number;
  /** The p99 of the idle phase's first and second half. */
  p99IdleHalvesMs: [number, number];
  p99DuringMs: number;
  idleRequests: number;
  duringRequests: number;
  /** Seconds per run of the query, and how many runs the phase took. */
  queryS: number;
  queryRuns: number;
}

async function ingest(server: Server, protocol: Protocol, size: number, bodies: Bodies): Promise<IngestFigures> {
  const r = await sendConcurrently(server.base, HEADERS[protocol], bodies.perClient);
  // Read at once: the figures are the state right after the last acknowledgement.
  const rss = rssMiB(server.pid);
  const disk = diskBytes(server.dataDir);
  return {
    server: server.name,
    protocol,
    size,
    samples: bodies.samples,
    wallS: r.wallS,
    samplesPerS: bodies.samples / r.wallS,
    rssMiB: rss,
    bytesPerSample: disk / bodies.samples,
    clientCpuS: r.clientCpuS,
  };
}

interface LatencyPlan {
  intervalMs: number;
  idleS: number;
  /** The query runs back to back, at least once, until this many seconds have passed. */
  queryS: number;
  query: string;
  start: number;
  end: number;
  step: number;
}

async function latency(server: Server, light: Buffer[], p: LatencyPlan): Promise<LatencyFigures> {
  // Work the ingest left behind (garbage collection, chunk writing) is not the idle state.
  await sleep(SETTLE_MS);
  const paced = pacedSender(server.base, HEADERS['1.0'], light, p.intervalMs);
  await sleep(p.idleS * 1000);
  const q0 = performance.now();
  const input: QueryLoopInput = { base: server.base, params: { query: p.query, start: p.start, end: p.end, step: p.step }, seconds: p.queryS };
  const out = await new Promise<QueryLoopOutput>((resolve, reject) => {
    const w = new Worker(new URL('./load_query_thread.js', import.meta.url), { workerData: input });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => reject(new BenchFailure(`the query thread exited (${code}) without an answer`)));
  });
  const q1 = performance.now();
  const ranOut = paced.exhausted();
  await paced.stop();
  if ('error' in out) throw new BenchFailure(`${server.name}: ${out.error}`);
  const runs = out.runs;
  if (ranOut) console.error(`warning: ${server.name}: the light sender ran out of bodies before the query ended (raise --latency-interval-ms or lower --latency-query-s)`);
  // The first second warms the connection up.
  const idle = paced.latencies.filter((_, i) => paced.starts[i]! >= paced.starts[0]! + 1000 && paced.starts[i]! < q0);
  const during = paced.latencies.filter((_, i) => paced.starts[i]! >= q0 && paced.starts[i]! < q1);
  const half = idle.length >> 1;
  return {
    server: server.name,
    p50IdleMs: quantile(idle, 0.5),
    p99IdleMs: quantile(idle, 0.99),
    p99IdleHalvesMs: [quantile(idle.slice(0, half), 0.99), quantile(idle.slice(half), 0.99)],
    p99DuringMs: quantile(during, 0.99),
    idleRequests: idle.length,
    duringRequests: during.length,
    queryS: (q1 - q0) / 1000 / runs,
    queryRuns: runs,
  };
}

async function withServer<T>(name: ServerName, f: (s: Server) => Promise<T>): Promise<T> {
  const s = await startServer(name);
  try {
    return await f(s);
  } finally {
    await s.stop();
  }
}

const fmt = (v: number, d = 0): string => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
const round = (v: number | undefined, d = 0): number | null => (v === undefined || !Number.isFinite(v) ? null : Number(v.toFixed(d)));

async function main(): Promise<void> {
  const sizes = listFlag('sizes', [10150, 101500]);
  const only = flagValue('only');
  if (only !== undefined && only !== 'tsprom' && only !== 'prometheus') throw new FlagError(`--only must be tsprom or prometheus, got ${JSON.stringify(only)}`);
  const servers: ServerName[] = only === undefined ? ['tsprom', 'prometheus'] : [only];
  const roundsFlag = flagValue('rounds') === undefined ? undefined : numberFlag('rounds', 1);
  const intervalMs = numberFlag('latency-interval-ms', 20);
  const idleS = numberFlag('latency-idle-s', 15);
  const queryS = numberFlag('latency-query-s', 15);
  const queryStep = numberFlag('latency-query-step', 1);
  const query = flagValue('latency-query') ?? DEFAULT_QUERY;
  const latencySize = Math.max(...sizes);

  const results: IngestFigures[] = [];
  const lat: LatencyFigures[] = [];
  for (const size of sizes) {
    const wl = buildWorkload(size);
    const rounds = Math.round(roundsFlag ?? Math.max(10, DEFAULT_SAMPLES / size));
    // Enough light rounds for the idle phase and a query of up to 20 s per run.
    const lightRounds = size === latencySize ? Math.ceil((((idleS + queryS + 20) * 1000) / intervalMs) * (BATCH / size)) : 0;
    const t0 = Math.floor(Date.now() / STEP_MS) * STEP_MS - (rounds + lightRounds) * STEP_MS;
    const plan: LatencyPlan = { intervalMs, idleS, queryS, query, start: t0 / 1000 + 60, end: (t0 + (rounds - 1) * STEP_MS) / 1000, step: queryStep };

    const b0 = performance.now();
    let bodies = buildBodies(new BodyEncoder(wl, '1.0', t0), size, rounds, lightRounds);
    console.error(`${size} series, ${rounds} rounds: ${bodies.samples} samples in ${bodies.perClient.reduce((a, c) => a + c.length, 0)} bodies of ${fmt(bodies.bytes / 1e6, 1)} MB (1.0), built in ${fmt((performance.now() - b0) / 1000, 1)} s`);
    for (const name of servers) {
      await withServer(name, async (s) => {
        const f = await ingest(s, '1.0', size, bodies);
        results.push(f);
        console.error(`  ${name} 1.0: ${fmt(f.samplesPerS)} samples/s`);
        if (size === latencySize) {
          const l = await latency(s, bodies.light, plan);
          lat.push(l);
          console.error(`  ${name} latency: p99 idle ${fmt(l.p99IdleMs, 1)} ms, during query ${fmt(l.p99DuringMs, 1)} ms; query ${fmt(l.queryS, 2)} s`);
        }
      });
    }
    if (servers.includes('tsprom')) {
      bodies = buildBodies(new BodyEncoder(wl, '2.0', t0), size, rounds, 0);
      await withServer('tsprom', async (s) => {
        const f = await ingest(s, '2.0', size, bodies);
        results.push(f);
        console.error(`  tsprom 2.0: ${fmt(f.samplesPerS)} samples/s`);
      });
    }
  }

  const get = (server: ServerName, protocol: Protocol, size: number): IngestFigures | undefined => results.find((r) => r.server === server && r.protocol === protocol && r.size === size);
  console.log('remote-write ingest: 4 clients, 2,000 samples per request, real HTTP servers one at a time (machine shared: compare ratios)');
  console.log('server      proto  series     samples   wall s   samples/s  vs prometheus  RSS MiB  data B/sample  client CPU s');
  for (const r of results) {
    const p = get('prometheus', '1.0', r.size);
    const ratio = p === undefined ? NaN : r.samplesPerS / p.samplesPerS;
    console.log(
      `${r.server.padEnd(11)} ${r.protocol.padEnd(5)} ${String(r.size).padStart(7)} ${String(r.samples).padStart(11)} ${fmt(r.wallS, 2).padStart(8)} ${fmt(r.samplesPerS).padStart(11)} ${fmt(ratio, 2).padStart(14)} ${fmt(r.rssMiB).padStart(8)} ${fmt(r.bytesPerSample, 2).padStart(14)} ${fmt(r.clientCpuS, 2).padStart(13)}`,
    );
  }
  if (lat.length > 0) {
    console.log(`remote-write latency at ${latencySize} series: one request every ${intervalMs} ms; query: ${query} over the ingested range, step ${queryStep}s, back to back for at least ${queryS} s`);
    console.log('server      p50 idle ms  p99 idle ms  idle halves ms  p99 during query ms  ratio  requests idle/during  query s  runs');
    for (const l of lat) {
      const halves = `${fmt(l.p99IdleHalvesMs[0], 1)}/${fmt(l.p99IdleHalvesMs[1], 1)}`;
      console.log(
        `${l.server.padEnd(11)} ${fmt(l.p50IdleMs, 1).padStart(11)} ${fmt(l.p99IdleMs, 1).padStart(12)} ${halves.padStart(15)} ${fmt(l.p99DuringMs, 1).padStart(20)} ${fmt(l.p99DuringMs / l.p99IdleMs, 2).padStart(6)} ${`${l.idleRequests}/${l.duringRequests}`.padStart(21)} ${fmt(l.queryS, 2).padStart(8)} ${String(l.queryRuns).padStart(5)}`,
      );
    }
  }

  // Keys name the sizes 10k and 100k after the defaults; other sizes get their own suffix.
  const suffix = (size: number): string => (size === 10150 ? '10k' : size === 101500 ? '100k' : String(size));
  const json: Record<string, unknown> = { bench: 'ingest' };
  const ratios: number[] = [];
  for (const size of sizes) {
    const k = suffix(size);
    const t = get('tsprom', '1.0', size);
    const v2 = get('tsprom', '2.0', size);
    const p = get('prometheus', '1.0', size);
    json[`ingest_samples_per_s_${k}`] = round(t?.samplesPerS);
    json[`ingest_v2_samples_per_s_${k}`] = round(v2?.samplesPerS);
    json[`prometheus_ingest_samples_per_s_${k}`] = round(p?.samplesPerS);
    const ratio = t !== undefined && p !== undefined ? t.samplesPerS / p.samplesPerS : undefined;
    json[`ingest_ratio_vs_prometheus_${k}`] = round(ratio, 3);
    json[`ingest_v2_ratio_vs_prometheus_${k}`] = round(v2 !== undefined && p !== undefined ? v2.samplesPerS / p.samplesPerS : undefined, 3);
    if (ratio !== undefined) ratios.push(ratio);
    json[`wal_bytes_per_sample_${k}`] = round(t?.bytesPerSample, 2);
    json[`prometheus_wal_bytes_per_sample_${k}`] = round(p?.bytesPerSample, 2);
    json[`rss_mib_after_ingest_${k}`] = round(t?.rssMiB, 1);
    json[`prometheus_rss_mib_after_ingest_${k}`] = round(p?.rssMiB, 1);
  }
  json.ingest_ratio_vs_prometheus = ratios.length === 0 ? null : round(Math.min(...ratios), 3);
  const big = suffix(latencySize);
  json.wal_bytes_per_sample = json[`wal_bytes_per_sample_${big}`] ?? null;
  json.prometheus_wal_bytes_per_sample = json[`prometheus_wal_bytes_per_sample_${big}`] ?? null;
  for (const l of lat) {
    const pre = l.server === 'tsprom' ? '' : 'prometheus_';
    json[`${pre}rw_p99_idle_ms`] = round(l.p99IdleMs, 2);
    json[`${pre}rw_p99_during_query_ms`] = round(l.p99DuringMs, 2);
    json[`${pre}rw_p99_ratio_during_query`] = round(l.p99DuringMs / l.p99IdleMs, 3);
    const [a, b] = l.p99IdleHalvesMs;
    json[`${pre}rw_p99_idle_halves_ratio`] = round(Math.max(a, b) / Math.min(a, b), 3);
    json[`${pre}latency_query_s`] = round(l.queryS, 3);
    json[`${pre}latency_query_runs`] = l.queryRuns;
  }
  console.log(JSON.stringify(json));
}

await main();
