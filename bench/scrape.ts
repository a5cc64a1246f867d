// `npm run bench -- scrape [--duration=120] [--targets=1000] [--series=1000] [--interval=15]
//                          [--storage=tsdb|memory] [--parse-workers=N] [--parse-only] [--no-parse] [--no-prometheus]`
//
// 1. Parse throughput of the text format on a node_exporter payload (fetched from
//    Debian's prometheus-node-exporter when installed, else a synthetic one of the same
//    shape) and on a 100,000-series payload: samples/s and MB/s.
// 2. Scrapes <targets> loopback targets of <series> series each at <interval> for
//    <duration> seconds with a ScrapeManager into the TSDB (or MemoryStorage), served by
//    one node:http server in a child process (one path per target, gzip as exporters do).
//    Reports CPU seconds per million samples appended (all threads, and the main thread
//    alone: bodies of 16 KiB or more are parsed on worker threads, --parse-workers=0
//    parses all inline) and the p99 scrape duration.
// 3. Scrapes the same targets with Debian's Prometheus (/usr/bin/prometheus, temp dir,
//    loopback), measuring its CPU from /proc/<pid>/stat, and reports the CPU ratio.
// The last line is one JSON object with the figures.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { Registry } from 'prom-client';
import type { Config } from '../src/config/types.js';
import { Labels } from '../src/model/labels.js';
import { MatchType, Matcher } from '../src/model/matcher.js';
import { isStaleNaN } from '../src/model/value.js';
import { ScrapeManager } from '../src/scrape/manager.js';
import { Entry } from '../src/model/textparse/interface.js';
import { PromParser } from '../src/model/textparse/prom_parser.js';
import type { Appendable, Appender, Storage } from '../src/storage/interface.js';
import { MemoryStorage } from '../src/storage/memory.js';
import { openDB } from '../src/tsdb/db.js';
import { config, relabelConfig, scrapeConfig } from '../test/fixtures/scrape/helpers.js';
import { freePort } from '../test/free_port.js';
import { procCpuSeconds } from './proc_stat.js';

function flag(name: string, def: string): string {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? def : a.slice(name.length + 3);
}

const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
const PROMETHEUS = '/usr/bin/prometheus';
/** Each parse measurement runs at least this long (wall time) so timer resolution and JIT warm-up do not dominate. */
const PARSE_MIN_MS = 2000;

// ---------------------------------------------------------------- the exporter child

/** The exporter: every path /m/<i> serves the same <series> series; values change every second. */
function serve(series: number): void {
  let body = Buffer.alloc(0);
  let gz = Buffer.alloc(0);
  const build = () => {
    const epoch = Math.floor(Date.now() / 1000);
    const lines: string[] = ['# HELP bench_cpu_seconds_total Seconds the CPUs spent in each mode.', '# TYPE bench_cpu_seconds_total counter'];
    for (let j = 0; j < series; j++) {
      lines.push(`bench_cpu_seconds_total{cpu="${j >> 3}",mode="mode${j & 7}",host="bench-host"} ${(epoch * 0.37 + j).toFixed(2)}`);
    }
    body = Buffer.from(lines.join('\n') + '\n');
    gz = zlib.gzipSync(body, { level: 1 });
  };
  build();
  setInterval(build, 1000);
  const srv = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/plain; version=0.0.4; charset=utf-8');
    if (String(req.headers['accept-encoding'] ?? '').includes('gzip')) {
      res.setHeader('content-encoding', 'gzip');
      res.end(gz);
    } else res.end(body);
  });
  srv.keepAliveTimeout = 60_000;
  srv.maxConnections = 100_000;
  srv.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${(srv.address() as net.AddressInfo).port}\n`);
  });
}

async function startExporter(series: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [process.argv[1]!, '--serve', `--series=${series}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(Number(buf.slice(0, nl)));
    });
    child.on('exit', (c) => reject(new Error(`exporter exited with ${c}`)));
  });
  return { child, port };
}

// ---------------------------------------------------------------- parse throughput

function parseRate(body: Buffer): { samplesPerS: number; mbPerS: number; samples: number } {
  let samples = 0;
  const once = () => {
    const p = new PromParser(body);
    let n = 0;
    let sink = 0;
    for (let e = p.next(); e !== Entry.EOF; e = p.next()) {
      if (e !== Entry.Series) continue;
      // What the scrape loop reads for a series it already knows.
      sink += p.seriesKey().length + p.value() + (p.timestamp() ?? 0);
      n++;
    }
    if (sink === -1) throw new Error('unreachable');
    return n;
  };
  for (let i = 0; i < 3; i++) samples = once();
  (globalThis as { gc?: () => void }).gc?.();
  let iters = 0;
  // CPU time, not wall time: the machine may be shared, and waiting for a core is not parsing.
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < PARSE_MIN_MS) {
    once();
    iters++;
  }
  const c1 = process.cpuUsage(c0);
  const s = (c1.user + c1.system) / 1e6;
  return { samplesPerS: (samples * iters) / s, mbPerS: (body.length * iters) / s / 1e6, samples };
}

async function nodeExporterPayload(): Promise<{ body: Buffer; source: string }> {
  if (existsSync(NODE_EXPORTER)) {
    const port = await freePort();
    const child = spawn(NODE_EXPORTER, [`--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100; i++) {
        try {
          const body = await get(`http://127.0.0.1:${port}/metrics`);
          return { body, source: 'node_exporter' };
        } catch {
          await sleep(100);
        }
      }
    } finally {
      child.kill('SIGTERM');
    }
  }
  // Same shape as a small node_exporter: ~2,000 series over ~300 families.
  const lines: string[] = [];
  for (let f = 0; f < 300; f++) {
    lines.push(`# HELP node_family_${f} Family ${f} of the synthetic payload.`, `# TYPE node_family_${f} gauge`);
    for (let s = 0; s < 7; s++) lines.push(`node_family_${f}{device="dev${s}",mode="m${s}"} ${(f * 7 + s) * 1.5e3}`);
  }
  return { body: Buffer.from(lines.join('\n') + '\n'), source: 'synthetic' };
}

function bigPayload(n: number): Buffer {
  const lines: string[] = ['# HELP big_metric_total A large family.', '# TYPE big_metric_total counter'];
  for (let i = 0; i < n; i++) lines.push(`big_metric_total{instance="host-${i % 500}:9100",job="node",shard="${i}",path="/api/v1/items/${i % 97}"} ${(i * 1.37).toFixed(2)} 1700000000000`);
  return Buffer.from(lines.join('\n') + '\n');
}

// ---------------------------------------------------------------- our scraper

function benchConfig(port: number, targets: number, intervalMs: number): Config {
  const timeoutMs = Math.min(10_000, intervalMs);
  const sc = scrapeConfig({
    jobName: 'bench',
    scrapeIntervalMs: intervalMs,
    scrapeTimeoutMs: timeoutMs,
    relabelConfigs: [relabelConfig({ sourceLabels: ['__metrics_path__'], targetLabel: 'instance' })],
    staticConfigs: Array.from({ length: targets }, (_, i) => ({ targets: [`127.0.0.1:${port}`], labels: { __metrics_path__: `/m/${i}` } })),
  });
  const c = config([sc]);
  return { ...c, global: { ...c.global, scrapeIntervalMs: intervalMs, scrapeTimeoutMs: timeoutMs } };
}

/** Counts samples the storage accepted, as Prometheus's prometheus_tsdb_head_samples_appended_total does. */
class CountingAppendable implements Appendable {
  committed = 0;
  constructor(private readonly inner: Appendable) {}
  appender(): Appender {
    const app = this.inner.appender();
    let n = 0;
    return {
      append: (ref: number, labels: Labels, t: number, v: number) => {
        const r = app.append(ref, labels, t, v);
        n++;
        return r;
      },
      commit: () => {
        app.commit();
        this.committed += n;
      },
      rollback: () => app.rollback(),
    };
  }
}

function p99(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)]!;
}

interface OurResult {
  cpuS: number;
  /** CPU of the main thread alone (the event loop that scraping shares with queries and ingestion). */
  mainCpuS: number;
  offloaded: number;
  samples: number;
  p99S: number;
  scrapes: number;
  failed: number;
  lagP99Ms: number;
  lagMaxMs: number;
  /** The most common last errors of failing targets, with counts. */
  lastErrors: [string, number][];
}

/** CPU seconds of this process's main thread (Linux: its task's utime + stime); NaN elsewhere. */
function mainThreadCpuS(): number {
  try {
    const s = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

async function runOurs(port: number, targets: number, intervalMs: number, durationS: number, storageKind: string, parseWorkers: number | undefined): Promise<OurResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-scrape-tsdb-'));
  let storage: Storage;
  if (storageKind === 'memory') storage = new MemoryStorage();
  else storage = await openDB(dir, { registry: new Registry(), maintenanceIntervalMs: 0 });
  const counting = new CountingAppendable(storage);
  const registry = new Registry();
  const m = new ScrapeManager({ appendable: counting, registry, discoveryUpdateIntervalMs: 0, parseWorkers });
  (globalThis as { gc?: () => void }).gc?.();
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const c0 = process.cpuUsage();
  const m0 = mainThreadCpuS();
  const t0 = Date.now();
  m.applyConfig(benchConfig(port, targets, intervalMs));
  await sleep(durationS * 1000);
  const c1 = process.cpuUsage(c0);
  const mainCpuS = mainThreadCpuS() - m0;
  const offloaded = (await registry.getSingleMetric('tsprom_target_scrape_parses_offloaded_total')?.get())?.values[0]?.value ?? 0;
  lag.disable();
  const samples = counting.committed;
  const errors = new Map<string, number>();
  for (const t of m.activeTargets().get('bench') ?? []) {
    // Ports differ per run; group messages by their shape.
    const e = t.lastError().replace(/\d+/g, 'N');
    if (e !== '') errors.set(e, (errors.get(e) ?? 0) + 1);
  }
  await m.stop();
  // Scrape durations as stored in scrape_duration_seconds.
  const q = storage.querier(t0, Date.now());
  const ss = q.select(false, null, Matcher.create(MatchType.Equal, '__name__', 'scrape_duration_seconds'));
  const durs: number[] = [];
  while (ss.next()) {
    const it = ss.at().iterator();
    while (it.next()) if (!isStaleNaN(it.v())) durs.push(it.v());
  }
  const up = q.select(false, null, Matcher.create(MatchType.Equal, '__name__', 'up'));
  let failed = 0;
  while (up.next()) {
    const it = up.at().iterator();
    while (it.next()) if (it.v() === 0) failed++;
  }
  q.close();
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    cpuS: (c1.user + c1.system) / 1e6,
    mainCpuS,
    offloaded,
    samples,
    p99S: p99(durs),
    scrapes: durs.length,
    failed,
    lagP99Ms: lag.percentile(99) / 1e6,
    lagMaxMs: lag.max / 1e6,
    lastErrors: [...errors].sort((a, b) => b[1] - a[1]).slice(0, 3),
  };
}

// ---------------------------------------------------------------- Prometheus


/** Sum of a metric over its label values, from Prometheus's own /metrics (0 before its first sample: counter vectors appear on first use). */
async function promMetric(port: number, name: string): Promise<number> {
  const text = (await get(`http://127.0.0.1:${port}/metrics`)).toString();
  let sum = 0;
  for (const l of text.split('\n')) {
    if (l.startsWith(name + ' ') || l.startsWith(name + '{')) sum += Number(l.slice(l.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function runPrometheus(port: number, targets: number, intervalMs: number, durationS: number): Promise<{ cpuS: number; samples: number; p99S: number; scrapes: number; failed: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-scrape-prom-'));
  const webPort = await freePort();
  const yml = [
    'global:',
    `  scrape_interval: ${intervalMs / 1000}s`,
    `  scrape_timeout: ${Math.min(10_000, intervalMs) / 1000}s`,
    'scrape_configs:',
    '  - job_name: bench',
    '    relabel_configs:',
    '      - source_labels: [__metrics_path__]',
    '        target_label: instance',
    '    static_configs:',
    ...Array.from({ length: targets }, (_, i) => `      - targets: ['127.0.0.1:${port}']\n        labels: {__metrics_path__: '/m/${i}'}`),
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), yml + '\n');
  const child = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${webPort}`, '--log.level=warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await get(`http://127.0.0.1:${webPort}/-/ready`)).length >= 0) break;
      } catch {
        if (i > 300) throw new Error('Prometheus did not become ready');
        await sleep(100);
      }
    }
    const cpu0 = procCpuSeconds(child.pid!);
    const s0 = await promMetric(webPort, 'prometheus_tsdb_head_samples_appended_total');
    const t0 = Date.now();
    await sleep(durationS * 1000);
    const cpu1 = procCpuSeconds(child.pid!);
    const s1 = await promMetric(webPort, 'prometheus_tsdb_head_samples_appended_total');
    const rangeS = Math.ceil((Date.now() - t0) / 1000);
    const res = JSON.parse(
      (await get(`http://127.0.0.1:${webPort}/api/v1/query?query=${encodeURIComponent(`scrape_duration_seconds{job="bench"}[${rangeS}s]`)}`)).toString(),
    ) as { data: { result: { values: [number, string][] }[] } };
    const durs = res.data.result.flatMap((r) => r.values.map((v) => Number(v[1])));
    const upRes = JSON.parse((await get(`http://127.0.0.1:${webPort}/api/v1/query?query=${encodeURIComponent(`up{job="bench"}[${rangeS}s]`)}`)).toString()) as {
      data: { result: { values: [number, string][] }[] };
    };
    const failed = upRes.data.result.reduce((n, r) => n + r.values.filter((v) => v[1] === '0').length, 0);
    return { cpuS: cpu1 - cpu0, samples: s1 - s0, p99S: p99(durs), scrapes: durs.length, failed };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- helpers

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}


function get(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`status ${res.statusCode}`))));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}

async function main(): Promise<void> {
  if (process.argv.includes('--serve')) {
    serve(Number(flag('series', '1000')));
    return;
  }
  const durationS = Number(flag('duration', '120'));
  const targets = Number(flag('targets', '1000'));
  const series = Number(flag('series', '1000'));
  const intervalMs = Number(flag('interval', '15')) * 1000;
  const storageKind = flag('storage', 'tsdb');
  const pw = flag('parse-workers', '');
  const parseWorkers = pw === '' ? undefined : Number(pw);

  const figures: Record<string, number | string> = {};
  if (!process.argv.includes('--no-parse')) {
    const ne = await nodeExporterPayload();
    const small = parseRate(ne.body);
    const big = parseRate(bigPayload(100_000));
    console.log('parse throughput (Prometheus text format 0.0.4)');
    console.log(`  ${`node_exporter payload (${ne.source}, ${small.samples} samples, ${(ne.body.length / 1024).toFixed(0)} KiB)`.padEnd(62)} ${fmt(small.samplesPerS / 1e6)} M samples/s  ${fmt(small.mbPerS, 1)} MB/s`);
    console.log(`  ${'100,000-series payload'.padEnd(62)} ${fmt(big.samplesPerS / 1e6)} M samples/s  ${fmt(big.mbPerS, 1)} MB/s`);
    figures.parse_samples_per_s = Math.round(big.samplesPerS);
    figures.parse_mb_per_s = Number(big.mbPerS.toFixed(1));
    figures.parse_node_exporter_samples_per_s = Math.round(small.samplesPerS);
    figures.parse_node_exporter_mb_per_s = Number(small.mbPerS.toFixed(1));
  }
  if (process.argv.includes('--parse-only')) {
    console.log(JSON.stringify(figures));
    return;
  }

  const exporter = await startExporter(series);
  try {
    console.log(`\nscraping ${targets} targets x ${series} series every ${intervalMs / 1000}s for ${durationS}s (storage: ${storageKind})`);
    const ours = await runOurs(exporter.port, targets, intervalMs, durationS, storageKind, parseWorkers);
    const oursPerM = ours.cpuS / (ours.samples / 1e6);
    const mainPerM = ours.mainCpuS / (ours.samples / 1e6);
    console.log(`  tsprom:     ${fmt(ours.cpuS)} CPU s, ${ours.samples} samples, ${fmt(oursPerM, 3)} CPU s per million samples, scrape p99 ${fmt(ours.p99S * 1000, 1)} ms (${ours.scrapes} scrapes, ${ours.failed} failed)`);
    console.log(`              main thread ${fmt(ours.mainCpuS)} CPU s, ${fmt(mainPerM, 3)} per million samples; ${ours.offloaded} bodies parsed on worker threads`);
    figures.scrape_main_thread_cpu_s_per_million_samples = Number(mainPerM.toFixed(3));
    figures.scrape_parses_offloaded = ours.offloaded;
    figures.scrape_cpu_s = Number(ours.cpuS.toFixed(2));
    figures.scrape_samples = ours.samples;
    figures.scrape_cpu_s_per_million_samples = Number(oursPerM.toFixed(3));
    figures.scrape_duration_p99_ms = Number((ours.p99S * 1000).toFixed(1));
    console.log(`              event loop delay p99 ${fmt(ours.lagP99Ms, 1)} ms, max ${fmt(ours.lagMaxMs, 1)} ms`);
    for (const [e, n] of ours.lastErrors) console.log(`              ${n} targets last failed with: ${e}`);
    figures.scrapes_failed = ours.failed;
    figures.event_loop_delay_p99_ms = Number(ours.lagP99Ms.toFixed(1));
    figures.storage = storageKind;
    if (process.argv.includes('--no-prometheus')) {
      figures.cpu_ratio_vs_prometheus = 'not measured (--no-prometheus)';
    } else if (existsSync(PROMETHEUS)) {
      const prom = await runPrometheus(exporter.port, targets, intervalMs, durationS);
      const promPerM = prom.cpuS / (prom.samples / 1e6);
      console.log(`  prometheus: ${fmt(prom.cpuS)} CPU s, ${prom.samples} samples, ${fmt(promPerM, 3)} CPU s per million samples, scrape p99 ${fmt(prom.p99S * 1000, 1)} ms (${prom.scrapes} scrapes, ${prom.failed} failed)`);
      const ratio = oursPerM / promPerM;
      console.log(`  CPU per sample, tsprom / Prometheus: ${fmt(ratio)}x (target <= 1.5x)`);
      figures.prometheus_cpu_s_per_million_samples = Number(promPerM.toFixed(3));
      figures.prometheus_scrape_duration_p99_ms = Number((prom.p99S * 1000).toFixed(1));
      figures.cpu_ratio_vs_prometheus = Number(ratio.toFixed(2));
    } else {
      console.log(`  ${PROMETHEUS} not found: no comparison`);
      figures.cpu_ratio_vs_prometheus = 'n/a';
    }
  } finally {
    exporter.child.kill('SIGTERM');
  }
  console.log(JSON.stringify(figures));
}

await main();
