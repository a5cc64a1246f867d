// tsprom as a remote-write sender into real receivers: Debian's VictoriaMetrics
// and Prometheus 2.42 (--web.enable-remote-write-receiver), scraping Debian's
// node_exporter. A receiver outage with a tsprom restart inside it, and a
// kill -9 while sending, must lose nothing: every sample tsprom holds for the
// window arrives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTsprom, type Tsprom } from './api_process.js';
import { until } from './alertmanager_process.js';
import { freePort } from './free_port.js';
import { PROMETHEUS } from './prometheus_process.js';

const VM = '/usr/bin/victoria-metrics';
const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';

interface Proc {
  readonly base: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

async function startProc(bin: string, args: (port: number) => string[], ready: string, fixedPort?: number): Promise<Proc> {
  assert.ok(existsSync(bin), `${bin} is missing (.ci/run installs it)`);
  const port = fixedPort ?? (await freePort());
  const p: ChildProcess = spawn(bin, args(port), { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  p.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-10_000)));
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  const killOnExit = (): void => void p.kill('SIGKILL');
  process.once('exit', killOnExit);
  const base = `http://127.0.0.1:${port}`;
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill(signal);
      const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    process.removeListener('exit', killOnExit);
  };
  await until(async () => {
    assert.ok(p.exitCode === null, `${bin} exited early:\n${log}`);
    return (await fetch(base + ready)).ok ? true : null;
  }, `${bin} ready`);
  return { base, stop };
}

function startNodeExporter(): Promise<Proc> {
  return startProc(NODE_EXPORTER, (port) => [`--web.listen-address=127.0.0.1:${port}`], '/metrics');
}

function config(nodeExporter: string, receiverUrl: string): string {
  return `global:
  scrape_interval: 1s
scrape_configs:
  - job_name: node
    static_configs: [{ targets: ['${nodeExporter.replace('http://', '')}'] }]
remote_write:
  - url: ${receiverUrl}
    name: rx
    remote_timeout: 2s
    queue_config: { batch_send_deadline: 500ms, min_backoff: 100ms, max_backoff: 1s }
`;
}

/** "labels@t" keys of tsprom's float samples of job="node" with t in [from, to] (ms). */
async function tspromSamples(t: Tsprom, from: number, to: number): Promise<Set<string>> {
  const secs = Math.ceil((to - from) / 1000) + 1;
  const u = `${t.base}/api/v1/query?query=${encodeURIComponent(`{job="node"}[${secs}s]`)}&time=${to / 1000}`;
  const body = (await (await fetch(u)).json()) as { data: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
  const out = new Set<string>();
  for (const s of body.data.result) {
    const k = labelKey(s.metric);
    for (const [ts] of s.values) if (ts * 1000 >= from) out.add(`${k}@${Math.round(ts * 1000)}`);
  }
  return out;
}

function labelKey(m: Record<string, string>): string {
  return Object.keys(m)
    .sort()
    .map((k) => `${k}=${m[k]}`)
    .join(',');
}

/** The same keys as VictoriaMetrics exports them. */
async function vmSamples(vm: { base: string }, from: number, to: number): Promise<Set<string>> {
  await fetch(`${vm.base}/internal/force_flush`);
  const u = `${vm.base}/api/v1/export?match[]=${encodeURIComponent('{job="node"}')}&start=${from / 1000}&end=${to / 1000}`;
  const text = await (await fetch(u)).text();
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const s = JSON.parse(line) as { metric: Record<string, string>; values: (number | null)[]; timestamps: number[] };
    const k = labelKey(s.metric);
    s.timestamps.forEach((ts) => out.add(`${k}@${ts}`));
  }
  return out;
}

/** The same keys from Prometheus's TSDB. */
async function promSamples(base: string, from: number, to: number): Promise<Set<string>> {
  const secs = Math.ceil((to - from) / 1000) + 1;
  const u = `${base}/api/v1/query?query=${encodeURIComponent(`{job="node"}[${secs}s]`)}&time=${to / 1000}`;
  const body = (await (await fetch(u)).json()) as { data: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
  const out = new Set<string>();
  for (const s of body.data.result) {
    const k = labelKey(s.metric);
    for (const [ts] of s.values) if (ts * 1000 >= from) out.add(`${k}@${Math.round(ts * 1000)}`);
  }
  return out;
}

function missing(want: Set<string>, got: Set<string>): string[] {
  return [...want].filter((k) => !got.has(k));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until every sample tsprom holds for [from, to] is at the receiver; returns how many there were. */
async function allArrive(t: Tsprom, from: number, to: number, receiver: (from: number, to: number) => Promise<Set<string>>): Promise<number> {
  const want = await tspromSamples(t, from, to);
  assert.ok(want.size > 100, `tsprom holds only ${want.size} samples for the window`);
  let lost: string[] = [];
  try {
    await until(async () => {
      lost = missing(want, await receiver(from, to));
      return lost.length === 0 ? true : null;
    }, 'every sample at the receiver', 60_000);
  } catch (e) {
    assert.fail(`${lost.length} of ${want.size} samples never arrived, e.g. ${lost.slice(0, 3).join(' ')}: ${String(e)}`);
  }
  return want.size;
}

interface Receiver {
  /** Command-line arguments for a port and a data directory (the same ones on restart). */
  args(port: number, dataDir: string): string[];
  bin: string;
  ready: string;
  writePath: string;
  samples(base: string, from: number, to: number): Promise<Set<string>>;
}

const RECEIVERS: Record<string, Receiver> = {
  'victoria-metrics': {
    bin: VM,
    args: (port, d) => [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${d}`, '-retentionPeriod=1y'],
    ready: '/health',
    writePath: '/api/v1/write',
    samples: (base, f, t) => vmSamples({ base }, f, t),
  },
  prometheus: {
    bin: PROMETHEUS,
    args: (port, d) => [
      `--config.file=${join(d, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(d, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
    ],
    ready: '/-/ready',
    writePath: '/api/v1/write',
    samples: promSamples,
  },
};

for (const [name, rxSpec] of Object.entries(RECEIVERS)) {
  test(`${name}: a receiver outage with a tsprom restart inside it loses nothing`, { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-send-'));
    const rxDir = join(dir, 'rx');
    mkdirSync(rxDir);
    writeFileSync(join(rxDir, 'prometheus.yml'), 'global: {}\n');
    const node = await startNodeExporter();
    const port = await freePort();
    let rx = await startProc(rxSpec.bin, (p) => rxSpec.args(p, rxDir), rxSpec.ready, port);
    const cfg = config(node.base, rx.base + rxSpec.writePath);
    let t: Tsprom | null = null;
    try {
      t = await startTsprom({ config: cfg, dir, heapMiB: 256 });
      const from = Date.now();
      await sleep(4000);
      // The outage, with a tsprom restart in the middle of it.
      await rx.stop();
      await sleep(3000);
      await t.stop();
      t = await startTsprom({ config: cfg, dir, heapMiB: 256 });
      await sleep(3000);
      const to = Date.now();
      // The receiver comes back on the same port with its data.
      rx = await startProc(rxSpec.bin, (p) => rxSpec.args(p, rxDir), rxSpec.ready, port);
      await allArrive(t, from, to, (f, x) => rxSpec.samples(rx.base, f, x));
    } finally {
      await t?.stop();
      await rx.stop();
      await node.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

for (const [name, rxSpec] of Object.entries(RECEIVERS)) {
  test(`${name}: kill -9 of tsprom while it sends loses nothing after the restart`, { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-send-'));
    const rxDir = join(dir, 'rx');
    mkdirSync(rxDir);
    writeFileSync(join(rxDir, 'prometheus.yml'), 'global: {}\n');
    const node = await startNodeExporter();
    const rx = await startProc(rxSpec.bin, (p) => rxSpec.args(p, rxDir), rxSpec.ready);
    const cfg = config(node.base, rx.base + rxSpec.writePath);
    let t: Tsprom | null = null;
    try {
      t = await startTsprom({ config: cfg, dir, heapMiB: 256 });
      const from = Date.now();
      await sleep(5000);
      t.proc.kill('SIGKILL');
      await t.exited;
      const to = Date.now();
      t = await startTsprom({ config: cfg, dir, heapMiB: 256 });
      await allArrive(t, from, to, (f, x) => rxSpec.samples(rx.base, f, x));
    } finally {
      await t?.stop();
      await rx.stop();
      await node.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
