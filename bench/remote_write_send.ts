// `npm run bench -- remote_write_send [--series=200000] [--targets=20] [--interval=5]
//                                    [--steady=12] [--outage=12] [--catchup=30] [--no-prometheus]`
//
// tsprom and Debian's Prometheus 2.42 (one after the other, same machine) scrape the same
// <series> series (<targets> targets served by one node:http child) every <interval>
// seconds and remote-write them to Debian's VictoriaMetrics through a small relay in this
// process that can play an outage (503). For each sender:
//   0. baseline: <steady> s of scraping without remote_write (the CPU of scraping alone),
//      then remote_write is added by a config reload;
//   1. steady: <steady> s of normal sending: samples/s and CPU per sent sample, with and
//      without the baseline (cpu_ratio_vs_prometheus compares the sending part);
//   2. outage: <outage> s of 503s: heap growth per pending sample (samples_pending), a
//      noisy figure (garbage collection); tsprom's is also measured in this process with
//      queues of two capacities, which is the one reported;
//   3. catch-up: the relay answers again; the backlog drains at send_samples_per_s
//      (samples sent per second until the highest sent timestamp passes the outage's end).
// CPU is the sender process's (/proc/<pid>/stat), scraping included: both do the same
// scraping. The last line is one JSON object with the figures.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { loadConfig } from '../src/config/load.js';
import { Labels } from '../src/model/labels.js';
import { QueueManager } from '../src/remote/queue_manager.js';
import { RemoteWriteMetrics } from '../src/remote/write_metrics.js';
import { openDB } from '../src/tsdb/db.js';
import { freePort } from '../test/free_port.js';
import { procCpuSeconds } from './proc_stat.js';

function flag(name: string, def: string): string {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? def : a.slice(name.length + 3);
}

const PROMETHEUS = '/usr/bin/prometheus';
const VM = '/usr/bin/victoria-metrics';
const MAIN_JS = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- the exporter child

/** Serves /m/<i>: <per> series each, values changing every second. */
function serve(per: number): void {
  let pages: Buffer[] = [];
  const targets = Number(flag('targets', '20'));
  const build = () => {
    const epoch = Math.floor(Date.now() / 1000);
    pages = [];
    for (let t = 0; t < targets; t++) {
      const lines: string[] = ['# TYPE bench_value gauge'];
      for (let j = 0; j < per; j++) lines.push(`bench_value{shard="${t}",id="${j}",host="bench-host-${j % 97}"} ${(epoch * 0.37 + j).toFixed(2)}`);
      pages.push(Buffer.from(lines.join('\n') + '\n'));
    }
  };
  build();
  setInterval(build, 1000);
  const srv = http.createServer((req, res) => {
    const i = Number((req.url ?? '').split('/').at(-1));
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(pages[i] ?? '');
  });
  srv.keepAliveTimeout = 60_000;
  srv.listen(0, '127.0.0.1', () => process.stdout.write(`${(srv.address() as AddressInfo).port}\n`));
}

async function startChild(cmd: string, args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
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

// ---------------------------------------------------------------- the relay

/** Forwards remote-write requests to VictoriaMetrics, or answers 503 while `down`. */
async function startRelay(target: number): Promise<{ port: number; state: { down: boolean }; close(): void }> {
  const state = { down: false };
  const agent = new http.Agent({ keepAlive: true });
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (state.down) {
        res.statusCode = 503;
        res.end('outage');
        return;
      }
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const h of ['content-type', 'content-encoding', 'x-prometheus-remote-write-version']) {
        const v = req.headers[h];
        if (typeof v === 'string') headers[h] = v;
      }
      const up = http.request({ host: '127.0.0.1', port: target, path: '/api/v1/write', method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } }, (r) => {
        res.statusCode = r.statusCode ?? 502;
        r.pipe(res);
      });
      up.on('error', () => {
        res.statusCode = 502;
        res.end();
      });
      up.end(body);
    });
  });
  srv.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as AddressInfo).port, state, close: () => srv.close() };
}

// ---------------------------------------------------------------- senders

interface Sender {
  name: string;
  pid: number;
  base: string;
  heapMetrics: string[];
  /** Replaces the config file and reloads it. */
  reload(cfg: string): Promise<void>;
  stop(): Promise<void>;
}

async function waitReady(base: string, proc: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (proc.exitCode !== null) throw new Error(`sender exited with ${proc.exitCode}`);
    try {
      if ((await fetch(`${base}/-/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error('sender not ready');
}

async function startSender(name: 'tsprom' | 'prometheus', cfg: string): Promise<Sender> {
  const dir = mkdtempSync(join(tmpdir(), `bench-rw-${name}-`));
  writeFileSync(join(dir, 'cfg.yml'), cfg);
  const port = await freePort();
  const common = [`--config.file=${join(dir, 'cfg.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--web.enable-lifecycle'];
  // One process for tsprom (an explicit heap size skips the launcher), so its PID's CPU is the server's.
  const proc = name === 'tsprom' ? spawn(process.execPath, ['--max-old-space-size=3072', MAIN_JS, ...common], { stdio: 'ignore' }) : spawn(PROMETHEUS, common, { stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  await waitReady(base, proc);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    name,
    pid: proc.pid!,
    base,
    heapMetrics: name === 'tsprom' ? ['nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes'] : ['go_memstats_heap_inuse_bytes'],
    reload: async (text: string) => {
      writeFileSync(join(dir, 'cfg.yml'), text);
      const r = await fetch(`${base}/-/reload`, { method: 'POST' });
      if (!r.ok) throw new Error(`reload failed: ${r.status} ${await r.text()}`);
    },
    stop: async () => {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sum of a metric's samples on the sender's /metrics page. */
async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

interface Result {
  steadySamplesPerS: number;
  /** Process CPU per million samples sent, scraping included. */
  cpuPerMillionSamples: number;
  /** The same minus the CPU of scraping alone (measured before remote write was configured). */
  sendCpuPerMillionSamples: number;
  sendSamplesPerS: number;
  catchupS: number;
  caughtUp: boolean;
  heapPerPending: number;
  pendingAtOutage: number;
}

async function measure(s: Sender, withRemote: string, relay: { state: { down: boolean } }, interval: number, steadyS: number, outageS: number, catchupS: number): Promise<Result> {
  const sent = () => metric(s.base, 'prometheus_remote_storage_samples_total');
  const heap = async () => (await Promise.all(s.heapMetrics.map((m) => metric(s.base, m)))).reduce((a, b) => a + b, 0);
  // Scraping alone first: the baseline CPU.
  await sleep(interval * 3000);
  const b0 = procCpuSeconds(s.pid);
  const bt0 = performance.now();
  await sleep(steadyS * 1000);
  const baselineCpuPerS = (procCpuSeconds(s.pid) - b0) / ((performance.now() - bt0) / 1000);
  await s.reload(withRemote);
  // Warm-up: the queue starts (reading the series of the WAL so far), first batches out, and it catches up.
  for (let i = 0; i < 600 && (await sent()) < 1; i++) await sleep(200);
  for (let i = 0; i < 300; i++) {
    if ((await metric(s.base, 'prometheus_remote_storage_queue_highest_sent_timestamp_seconds')) >= Date.now() / 1000 - 2 * interval) break;
    await sleep(200);
  }
  await sleep(interval * 1000);

  const c0 = procCpuSeconds(s.pid);
  const n0 = await sent();
  const t0 = performance.now();
  await sleep(steadyS * 1000);
  const steadyN = (await sent()) - n0;
  const steadyWall = (performance.now() - t0) / 1000;

  const steadyCpu = procCpuSeconds(s.pid) - c0;
  const heap0 = await heap();
  const pend0 = await metric(s.base, 'prometheus_remote_storage_samples_pending');
  relay.state.down = true;
  await sleep(outageS * 1000);
  const heap1 = await heap();
  const pend1 = await metric(s.base, 'prometheus_remote_storage_samples_pending');
  const backlogStart = await sent();
  relay.state.down = false;
  const recoveredAt = Date.now() / 1000;
  const r0 = performance.now();
  let caughtUp = false;
  while ((performance.now() - r0) / 1000 < catchupS) {
    if ((await metric(s.base, 'prometheus_remote_storage_queue_highest_sent_timestamp_seconds')) >= recoveredAt) {
      caughtUp = true;
      break;
    }
    await sleep(250);
  }
  const catchupWall = (performance.now() - r0) / 1000;
  const backlogSent = (await sent()) - backlogStart;
  const c1 = procCpuSeconds(s.pid);
  const total = (await sent()) - n0;
  return {
    steadySamplesPerS: steadyN / steadyWall,
    cpuPerMillionSamples: ((c1 - c0) / Math.max(1, total)) * 1e6,
    sendCpuPerMillionSamples: ((steadyCpu - baselineCpuPerS * steadyWall) / Math.max(1, steadyN)) * 1e6,
    sendSamplesPerS: backlogSent / catchupWall,
    catchupS: catchupWall,
    caughtUp,
    heapPerPending: pend1 - pend0 > 0 ? (heap1 - heap0) / (pend1 - pend0) : NaN,
    pendingAtOutage: pend1,
  };
}

/**
 * tsprom's heap per pending sample, measured in this process: queues against a hanging
 * receiver filled with two capacities; the heap difference (after GC) over the pending
 * difference is what a queued sample costs, whatever the series cost.
 */
async function queueHeapPerPending(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return NaN;
  const dir = mkdtempSync(join(tmpdir(), 'bench-rw-heap-'));
  const db = await openDB(dir, { maintenanceIntervalMs: 0, compactOnCommit: false });
  try {
    for (let j = 0; j < 3; j++) {
      const app = db.appender();
      for (let i = 0; i < 100_000; i++) app.append(0, Labels.fromPairs('__name__', 'bench_value', 'id', String(i), 'host', `h${i % 97}`), 1000 * (j + 1), i);
      app.commit();
    }
    const heapWith = async (capacity: number): Promise<{ heap: number; pending: number }> => {
      const rw = loadConfig(`remote_write:\n  - url: http://127.0.0.1:1/w\n    queue_config: { min_shards: 10, max_shards: 10, capacity: ${capacity} }\n`).remoteWrite[0]!;
      const qm = new QueueManager({
        cfg: rw,
        externalLabels: Labels.EMPTY,
        walDir: join(dir, 'wal'),
        start: { segment: 0, offset: 0 },
        metrics: new RemoteWriteMetrics(new Registry()),
        shardUpdateIntervalMs: 0,
        // The receiver never answers until the queue stops.
        send: (_b, _h, signal) => new Promise((_r, reject) => signal.addEventListener('abort', () => reject(new Error('stopped')))),
      });
      qm.start();
      for (let i = 0; i < 200 && qm.pending() < 10 * capacity; i++) await sleep(50);
      gc();
      gc();
      // Typed arrays keep their data outside the JS heap: count both.
      const mu = process.memoryUsage();
      const out = { heap: mu.heapUsed + mu.arrayBuffers, pending: qm.pending() };
      await qm.stop(0);
      return out;
    };
    await heapWith(1000);
    const small = await heapWith(1000);
    const big = await heapWith(10_000);
    return (big.heap - small.heap) / (big.pending - small.pending);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function config(exporterPort: number, targets: number, interval: number, relayPort: number, sender: string, remote: boolean): string {
  const t = Array.from({ length: targets }, (_, i) => `'127.0.0.1:${exporterPort}'`);
  const jobs = t.map((tg, i) => `  - job_name: bench${i}\n    metrics_path: /m/${i}\n    static_configs: [{ targets: [${tg}] }]`).join('\n');
  return `global:
  scrape_interval: ${interval}s
  scrape_timeout: ${Math.min(interval, 10)}s
  external_labels: { sender: ${sender} }
scrape_configs:
${jobs}
${
  remote
    ? `remote_write:
  - url: http://127.0.0.1:${relayPort}/api/v1/write
    queue_config: { min_shards: 10, min_backoff: 100ms, max_backoff: 1s }
    metadata_config: { send: false }
`
    : ''
}`;
}

async function main(): Promise<void> {
  if (process.argv.includes('--serve')) {
    serve(Number(flag('per', '10000')));
    return;
  }
  const series = Number(flag('series', '200000'));
  const targets = Number(flag('targets', '20'));
  const interval = Number(flag('interval', '5'));
  const steadyS = Number(flag('steady', '12'));
  const outageS = Number(flag('outage', '12'));
  const catchupS = Number(flag('catchup', '30'));
  const withProm = !process.argv.includes('--no-prometheus') && existsSync(PROMETHEUS);
  if (!existsSync(VM)) throw new Error(`${VM} is missing: install Debian's victoria-metrics`);

  const exporter = await startChild(process.execPath, [process.argv[1]!, '--serve', `--per=${Math.ceil(series / targets)}`, `--targets=${targets}`]);
  const vmDir = mkdtempSync(join(tmpdir(), 'bench-rw-vm-'));
  const vmPort = await freePort();
  const vm = spawn(VM, [`-httpListenAddr=127.0.0.1:${vmPort}`, `-storageDataPath=${vmDir}`], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${vmPort}/health`)).ok) break;
    } catch {
      await sleep(100);
    }
  }
  const relay = await startRelay(vmPort);
  const results: Record<string, Result> = {};
  const tspromHeapPerPending = await queueHeapPerPending();
  try {
    for (const name of withProm ? (['tsprom', 'prometheus'] as const) : (['tsprom'] as const)) {
      const s = await startSender(name, config(exporter.port, targets, interval, relay.port, name, false));
      try {
        results[name] = await measure(s, config(exporter.port, targets, interval, relay.port, name, true), relay, interval, steadyS, outageS, catchupS);
      } finally {
        await s.stop();
      }
    }
  } finally {
    relay.close();
    // VictoriaMetrics flushes its parts on SIGTERM: removing its directory before it exits fails (ENOTEMPTY).
    const vmExited = new Promise<void>((r) => (vm.exitCode !== null ? r() : vm.once('exit', () => r())));
    vm.kill('SIGTERM');
    exporter.child.kill('SIGTERM');
    await Promise.race([vmExited, sleep(10_000)]);
    rmSync(vmDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }

  console.log(`tsprom queue heap per pending sample (in-process, 10 shards, capacity 1000 vs 10000): ${tspromHeapPerPending.toFixed(1)} B`);
  const fmt = (v: number, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
  console.log(`remote write sending: ${series} series, ${targets} targets, every ${interval}s, to VictoriaMetrics`);
  console.log('sender      steady samples/s  CPU s/1M sent (all)  (sending only)  catch-up samples/s  caught up  heap B/pending  pending at outage');
  for (const [name, r] of Object.entries(results)) {
    // tsprom's server-side heap delta over the outage is not a per-sample cost (a GC between
    // the two readings can make it negative): its column shows the in-process figure, as the JSON does.
    const heapPerPending = name === 'tsprom' ? tspromHeapPerPending : r.heapPerPending;
    console.log(
      `${name.padEnd(11)} ${fmt(r.steadySamplesPerS).padStart(16)}  ${fmt(r.cpuPerMillionSamples, 2).padStart(19)}  ${fmt(r.sendCpuPerMillionSamples, 2).padStart(14)}  ${fmt(r.sendSamplesPerS).padStart(18)}  ${String(r.caughtUp).padStart(9)}  ${fmt(heapPerPending, 1).padStart(14)}  ${fmt(r.pendingAtOutage).padStart(17)}`,
    );
  }
  const t = results.tsprom!;
  const p = results.prometheus;
  console.log(
    JSON.stringify({
      bench: 'remote_write_send',
      series,
      send_samples_per_s: Math.round(t.sendSamplesPerS),
      steady_samples_per_s: Math.round(t.steadySamplesPerS),
      cpu_s_per_million_samples: Number(t.cpuPerMillionSamples.toFixed(3)),
      send_cpu_s_per_million_samples: Number(t.sendCpuPerMillionSamples.toFixed(3)),
      cpu_ratio_vs_prometheus: p !== undefined ? Number((t.sendCpuPerMillionSamples / p.sendCpuPerMillionSamples).toFixed(3)) : null,
      cpu_ratio_vs_prometheus_with_scraping: p !== undefined ? Number((t.cpuPerMillionSamples / p.cpuPerMillionSamples).toFixed(3)) : null,
      sender_heap_bytes_per_pending_sample: Number.isFinite(tspromHeapPerPending) ? Number(tspromHeapPerPending.toFixed(1)) : null,
      prometheus_heap_bytes_per_pending_sample: p !== undefined && Number.isFinite(p.heapPerPending) ? Number(p.heapPerPending.toFixed(1)) : null,
      prometheus_send_samples_per_s: p !== undefined ? Math.round(p.sendSamplesPerS) : null,
    }),
  );
}

await main();
