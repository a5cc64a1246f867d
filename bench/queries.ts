// `npm run bench -- queries [--sizes 101500] [--rounds 60] [--runs 15] [--warmups 2] [--only tsprom] [--noise] [--filter name,...]`
//
// PromQL through HTTP on tsprom and Debian's Prometheus 2.42, both real processes holding the
// same data: the node_exporter fleet workload (bench/load_workload.ts, 101,500 series by
// default; `--sizes 10150,101500` adds the small fleet) pushed by remote write 1.0, `rounds`
// rounds 15 s apart. Then ~30 queries of the kinds issue 17 names, each as an instant query at
// the last round and as a range query over the data (step 15 s), POSTed as forms as Grafana
// sends them. After `warmups` untimed passes over all executions, each execution runs once more
// per server, then `runs` times, the two servers' order swapped every run (tsprom, Prometheus,
// Prometheus, tsprom, ...); the figure is the median. The swap matters: after a large answer the
// client itself is slower for a few requests (its JSON parsing's garbage), and a fixed order would
// always measure the same server first. Both must answer 200; a result
// size (series count) that differs between them is flagged in the table's last column.
// `--noise` adds a second Prometheus with the same data to the rotation: its ratio to the
// first is what the machine's noise alone makes of a comparison between two equal servers.
// The last line is one JSON object: geometric means, ratios and per-query times.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { BenchFailure, runQuery, sendConcurrently, type QueryParams, type QueryResult } from './load_client.js';
import { flagValue, listFlag, numberFlag, FlagError } from './load_flags.js';
import { buildBodies } from './load_ingest.js';
import { BodyEncoder, HEADERS } from './load_proto.js';
import { buildWorkload, STEP_MS } from './load_workload.js';
import { startServer, type Server, type ServerName } from './peer_servers.js';

/** Short name (for keys) and PromQL; each runs as an instant and as a range query. */
const QUERIES: ReadonlyArray<readonly [string, string]> = [
  ['sel_eq', 'node_cpu_seconds_total{mode="idle"}'],
  ['sel_re', 'node_filesystem_avail_bytes{mountpoint=~"/|/var/lib/.*",fstype!="tmpfs"}'],
  ['sel_name_re', '{__name__=~"node_network_(receive|transmit)_bytes_total",device!~"veth.*"}'],
  ['rate', 'rate(node_network_receive_bytes_total[5m])'],
  ['irate', 'irate(node_cpu_seconds_total{mode="user"}[5m])'],
  ['increase', 'increase(http_request_duration_seconds_count[5m])'],
  ['avg_over_time', 'avg_over_time(node_load1[5m])'],
  ['max_over_time', 'max_over_time(node_memory_MemAvailable_bytes[5m])'],
  ['deriv', 'deriv(node_memory_MemFree_bytes[5m])'],
  ['sum_by', 'sum by (instance) (node_filesystem_size_bytes)'],
  ['sum_by_rate', 'sum by (instance) (rate(node_cpu_seconds_total[5m]))'],
  ['sum_by_rate_big', 'sum by (instance, cpu) (rate(node_interrupts_total[5m]))'],
  ['sum_rate_all', 'sum(rate(http_request_duration_seconds_count[5m]))'],
  ['avg_by', 'avg by (mode) (rate(node_cpu_seconds_total[5m]))'],
  ['avg_by_big', 'avg by (instance) (node_interrupts_total)'],
  ['count_by', 'count by (mode) (node_cpu_seconds_total)'],
  ['count', 'count(node_interrupts_total)'],
  ['count_all', 'count({job="node"})'],
  ['max_without', 'max without (cpu) (rate(node_cpu_seconds_total[5m]))'],
  ['topk', 'topk(5, rate(node_network_receive_bytes_total[5m]))'],
  ['quantile', 'quantile by (mode) (0.9, rate(node_cpu_seconds_total[5m]))'],
  ['count_values', 'count_values("cores", count by (instance) (node_cpu_seconds_total{mode="idle"}))'],
  ['ratio_on', 'node_filesystem_avail_bytes / on(instance, device, mountpoint, fstype) node_filesystem_size_bytes'],
  ['ratio_on_cpu', 'irate(node_cpu_seconds_total[5m]) / on(instance, cpu, mode) rate(node_cpu_seconds_total[5m])'],
  ['ignoring', 'rate(node_disk_read_bytes_total[5m]) / ignoring(__name__) rate(node_disk_reads_completed_total[5m])'],
  ['group_left', 'rate(node_cpu_seconds_total[5m]) * on(instance) group_left(release, nodename) node_uname_info'],
  ['group_left_share', 'sum by (instance, mode) (rate(node_cpu_seconds_total[5m])) / on(instance) group_left sum by (instance) (rate(node_cpu_seconds_total[5m]))'],
  ['absent_present', 'absent(node_load1{instance="node-007.dc2.example.net:9100"})'],
  ['absent_missing', 'absent(node_not_exported_total{job="node"})'],
  ['hist_quantile', 'histogram_quantile(0.99, sum by (le, handler) (rate(http_request_duration_seconds_bucket[5m])))'],
  ['hist_quantile_all', 'histogram_quantile(0.9, rate(http_request_duration_seconds_bucket[5m]))'],
  ['scalar_arith', 'node_memory_MemTotal_bytes / 1024 / 1024 - 100'],
  ['label_replace', 'label_replace(node_load5, "host", "$1", "instance", "([^.]+)\\\\..*")'],
  ['subquery', 'max_over_time(rate(node_network_receive_bytes_total[1m])[10m:1m])'],
];

const SERVERS: readonly ServerName[] = ['tsprom', 'prometheus'];
/** Who answers in the rotation: the two servers, and with --noise Prometheus's twin. */
type Role = ServerName | 'twin';
interface Member {
  readonly role: Role;
  readonly server: Server;
}
const RANGE_STEP_S = 15;
/** The issue's limit on any one query's ratio, against which the noise run is counted. */
const NOISE_LIMIT = 1.5;

interface Execution {
  name: string;
  params: QueryParams;
  ms: Partial<Record<Role, number>>;
  size: Partial<Record<Role, number>>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const geomean = (xs: number[]): number => Math.exp(xs.reduce((a, x) => a + Math.log(Math.max(x, 1e-3)), 0) / xs.length);
const fmt = (v: number, d = 1): string => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');

async function ingestInto(role: Role, s: Server, perClient: Buffer[][], samples: number): Promise<void> {
  const r = await sendConcurrently(s.base, HEADERS['1.0'], perClient);
  console.error(`  ${role}: ${samples} samples in ${fmt(r.wallS, 1)} s (${fmt(samples / r.wallS, 0)} samples/s)`);
}

async function measure(members: Member[], execs: Execution[], runs: number, warmups: number): Promise<void> {
  const agents = new Map(members.map((m) => [m.role, new http.Agent({ keepAlive: true, maxSockets: 1 })]));
  const ask = async (m: Member, e: Execution): Promise<QueryResult> => {
    const r = await runQuery(agents.get(m.role)!, m.server.base, e.params);
    if (r.status !== 200) throw new BenchFailure(`${m.role}: ${e.name} answered ${r.status}: ${r.error ?? ''}`);
    return r;
  };
  try {
    // Whole passes over every execution before any is timed: a long-running server has run each code
    // path many times (tsprom's JIT has optimized it); the first queries after ingest would otherwise
    // pay for that alone.
    for (let pass = 0; pass < warmups; pass++) {
      for (const e of execs) for (const m of members) await ask(m, e);
    }
    for (const e of execs) {
      const times = new Map<Role, number[]>(members.map((m) => [m.role, []]));
      for (let run = -1; run < runs; run++) {
        for (const m of run % 2 === 0 ? [...members].reverse() : members) {
          const r = await ask(m, e);
          e.size[m.role] = r.size;
          // Run -1 warms caches and pools up.
          if (run >= 0) times.get(m.role)!.push(r.ms);
        }
      }
      for (const m of members) e.ms[m.role] = median(times.get(m.role)!);
      console.error(`  ${e.name}: ${members.map((m) => `${m.role} ${fmt(e.ms[m.role]!)} ms`).join(', ')}`);
    }
  } finally {
    for (const a of agents.values()) a.destroy();
  }
}

/** Prints one size's table and adds its figures to `json`; returns the worst ratio. */
function report(size: number, key: string, execs: Execution[], json: Record<string, unknown>): { ratio: number; name: string } {
  const both = execs.every((e) => e.ms.tsprom !== undefined && e.ms.prometheus !== undefined);
  console.log(`queries over ${size} series (median of the runs, ms; machine shared: compare ratios)`);
  const noise = execs.some((e) => e.ms.twin !== undefined);
  console.log(`${'query'.padEnd(26)} ${'tsprom'.padStart(9)} ${'prometheus'.padStart(11)} ${'ratio'.padStart(6)}${noise ? ' twin/prom' : ''}  series  check`);
  let worst = { ratio: 0, name: '' };
  let worstNoise = { ratio: 0, name: '' };
  let noiseOver = 0;
  for (const e of execs) {
    const t = e.ms.tsprom ?? NaN;
    const p = e.ms.prometheus ?? NaN;
    const ratio = t / p;
    if (ratio > worst.ratio) worst = { ratio, name: e.name };
    let twinCol = '';
    if (noise) {
      const twin = (e.ms.twin ?? NaN) / p;
      // Either way round: the twin is no more likely to be the slower one.
      const spread = Math.max(twin, 1 / twin);
      if (spread > worstNoise.ratio) worstNoise = { ratio: spread, name: e.name };
      if (spread > NOISE_LIMIT) noiseOver++;
      twinCol = ` ${fmt(twin, 2).padStart(9)}`;
    }
    const agree = !both || e.size.tsprom === e.size.prometheus;
    const sizes = both ? `${e.size.tsprom}/${e.size.prometheus}` : String(e.size.tsprom ?? e.size.prometheus);
    console.log(`${e.name.padEnd(26)} ${fmt(t).padStart(9)} ${fmt(p).padStart(11)} ${fmt(ratio, 2).padStart(6)}${twinCol}  ${sizes.padStart(6)}  ${agree ? '' : 'WARNING: result sizes differ'}`);
    const sfx = key === '100k' ? '' : `_${key}`;
    if (e.ms.tsprom !== undefined) json[`q_${e.name}_ms${sfx}`] = Number(t.toFixed(2));
    if (e.ms.prometheus !== undefined) json[`prometheus_q_${e.name}_ms${sfx}`] = Number(p.toFixed(2));
  }
  const gt = execs.some((e) => e.ms.tsprom !== undefined) ? geomean(execs.map((e) => e.ms.tsprom!)) : NaN;
  const gp = execs.some((e) => e.ms.prometheus !== undefined) ? geomean(execs.map((e) => e.ms.prometheus!)) : NaN;
  const mismatches = execs.filter((e) => both && e.size.tsprom !== e.size.prometheus).length;
  console.log(`geomean over ${execs.length} executions: tsprom ${fmt(gt, 2)} ms, prometheus ${fmt(gp, 2)} ms, ratio ${fmt(gt / gp, 3)}; worst ratio ${fmt(worst.ratio, 2)} (${worst.name}); size mismatches: ${mismatches}`);
  const num = (v: number, d: number): number | null => (Number.isFinite(v) ? Number(v.toFixed(d)) : null);
  json[`query_geomean_ms_${key}`] = num(gt, 2);
  json[`prometheus_query_geomean_ms_${key}`] = num(gp, 2);
  json[`query_geomean_ratio_vs_prometheus_${key}`] = num(gt / gp, 3);
  json[`query_max_ratio_vs_prometheus_${key}`] = num(worst.ratio, 3);
  json[`query_max_ratio_query_${key}`] = both ? worst.name : null;
  json[`query_size_mismatches_${key}`] = both ? mismatches : null;
  if (noise) {
    console.log(`noise (two Prometheus servers with the same data): widest spread ${fmt(worstNoise.ratio, 2)} (${worstNoise.name}); executions past ${NOISE_LIMIT}x: ${noiseOver} of ${execs.length}`);
    json[`noise_max_ratio_${key}`] = num(worstNoise.ratio, 3);
    json[`noise_executions_over_1_5x_${key}`] = noiseOver;
  }
  return worst;
}

async function main(): Promise<void> {
  const sizes = listFlag('sizes', [101500]);
  const rounds = Math.round(numberFlag('rounds', 60));
  const runs = Math.round(numberFlag('runs', 15));
  const warmups = Math.round(numberFlag('warmups', 2));
  const only = flagValue('only');
  if (only !== undefined && only !== 'tsprom' && only !== 'prometheus') throw new FlagError(`--only must be tsprom or prometheus, got ${JSON.stringify(only)}`);
  if (rounds < 25) throw new FlagError('--rounds must be at least 25: the range queries start 5 minutes into the data');
  const filter = flagValue('filter')?.split(',');
  const names: ServerName[] = only === undefined ? [...SERVERS] : [only];
  const withNoise = process.argv.includes('--noise');
  if (withNoise && !names.includes('prometheus')) throw new FlagError('--noise needs Prometheus in the run');
  const roles: Role[] = withNoise ? [...names, 'twin'] : names;
  const queries = QUERIES.filter(([n]) => filter === undefined || filter.includes(n));
  if (queries.length === 0) throw new FlagError(`--filter matches no query; names: ${QUERIES.map(([n]) => n).join(', ')}`);

  const json: Record<string, unknown> = { bench: 'queries' };
  // Keys name the default sizes 10k and 100k; others get their own suffix.
  const suffix = (size: number): string => (size === 10150 ? '10k' : size === 101500 ? '100k' : String(size));
  const ratios: number[] = [];
  let worst = { ratio: 0, name: '' };
  for (const size of sizes) {
    const wl = buildWorkload(size);
    const t0 = Math.floor(Date.now() / STEP_MS) * STEP_MS - rounds * STEP_MS;
    const end = (t0 + (rounds - 1) * STEP_MS) / 1000;
    const b0 = performance.now();
    const bodies = buildBodies(new BodyEncoder(wl, '1.0', t0), size, rounds, 0);
    console.error(`${size} series, ${rounds} rounds: ${bodies.samples} samples, bodies built in ${fmt((performance.now() - b0) / 1000)} s`);
    const execs: Execution[] = queries.flatMap(([name, query]) => [
      { name: `${name}_instant`, params: { query, time: end }, ms: {}, size: {} },
      { name: `${name}_range`, params: { query, start: t0 / 1000 + 300, end, step: RANGE_STEP_S }, ms: {}, size: {} },
    ]);
    const members: Member[] = [];
    try {
      // One server ingests at a time; all stay up for the queries.
      for (const role of roles) {
        const server = await startServer(role === 'twin' ? 'prometheus' : role);
        members.push({ role, server });
        await ingestInto(role, server, bodies.perClient, bodies.samples);
      }
      bodies.perClient.length = 0;
      await sleep(2000);
      await measure(members, execs, runs, warmups);
    } finally {
      for (const m of members) await m.server.stop();
    }
    const key = suffix(size);
    const w = report(size, key, execs, json);
    const r = json[`query_geomean_ratio_vs_prometheus_${key}`];
    if (typeof r === 'number') ratios.push(r);
    if (w.ratio > worst.ratio) worst = { ratio: w.ratio, name: sizes.length > 1 ? `${w.name} (${key})` : w.name };
  }
  // Over all sizes: the worse geomean ratio, the worst single execution.
  json.query_geomean_ratio_vs_prometheus = ratios.length === 0 ? null : Math.max(...ratios);
  json.query_max_ratio_vs_prometheus = worst.ratio > 0 && Number.isFinite(worst.ratio) ? Number(worst.ratio.toFixed(3)) : null;
  json.query_max_ratio_query = worst.ratio > 0 && Number.isFinite(worst.ratio) ? worst.name : null;
  console.log(JSON.stringify(json));
}

await main();
