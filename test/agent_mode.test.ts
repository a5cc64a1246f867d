// tsprom --agent end to end: flags of the wrong mode and config sections an
// agent cannot use are refused as Prometheus refuses them; the agent scrapes
// into its WAL (read back here record by record), answers Prometheus's agent
// error on the query endpoints, and still serves /metrics, the targets and
// the UI; a restart replays the WAL and goes on. With Debian's
// VictoriaMetrics as receiver, the agent remote-writes every sample, and its
// WAL truncation keeps what a receiver outage left unsent, also when the
// agent restarts during the outage.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MAIN_JS, api, startTsprom, type Tsprom } from './api_process.js';
import { until } from './alertmanager_process.js';
import { freePort } from './free_port.js';
import { decodeRecord } from '../src/tsdb/record/record.js';
import { checkpointSegments, lastCheckpoint } from '../src/tsdb/wal/checkpoint.js';
import { SegmentReader, listSegments, segmentName } from '../src/tsdb/wal/wal.js';
import type { Labels } from '../src/model/labels.js';
import { MatchType, Matcher } from '../src/model/matcher.js';
import { encodeReadRequest } from '../src/remote/read_request.js';
import { compressSync } from 'snappy';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, ensureUiBuilt } from './ui_chromium.js';

const run = promisify(execFile);

async function tsprom(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, [MAIN_JS, ...args], { timeout: 20_000 });
    return { code: 0, stderr };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
}

/** Series (by ref) and float samples in an agent WAL directory. */
function readWal(walDir: string): { series: Map<number, Labels>; samples: Array<{ ref: number; t: number; v: number }> } {
  const series = new Map<number, Labels>();
  const samples: Array<{ ref: number; t: number; v: number }> = [];
  const f64 = new Float64Array(1);
  const u32 = new Uint32Array(f64.buffer);
  const cp = lastCheckpoint(walDir);
  const files = cp !== null ? checkpointSegments(cp.dir) : [];
  for (const s of listSegments(walDir)) if (cp === null || s > cp.index) files.push(join(walDir, segmentName(s)));
  for (const f of files) {
    const r = new SegmentReader(readFileSync(f), f);
    while (r.next()) {
      decodeRecord(r.buf, r.start, r.end, {
        series: (ref, l) => void series.set(ref, l),
        sample: (ref, t, hi, lo) => {
          u32[1] = hi;
          u32[0] = lo;
          samples.push({ ref, t, v: f64[0]! });
        },
        tombstone: () => {},
      });
      r.accept();
    }
  }
  return { series, samples };
}

test('agent flags: server-only flags are refused with --agent, agent-only flags without it (exit 3)', async () => {
  const a = await tsprom('--agent', '--storage.tsdb.path=/tmp/x', '--query.timeout=1m');
  assert.equal(a.code, 3);
  assert.equal(a.stderr, 'The following flag(s) can not be used in agent mode: ["--storage.tsdb.path" "--query.timeout"]');
  const b = await tsprom('--storage.agent.path=/tmp/x');
  assert.equal(b.code, 3);
  assert.equal(b.stderr, 'The following flag(s) can only be used in agent mode: ["--storage.agent.path"]');
  const c = await tsprom('--agent', '--storage.agent.wal-segment-size=1MB');
  assert.equal(c.code, 1);
  assert.match(c.stderr, /flag 'storage.agent.wal-segment-size' must be set between 10MB and 256MB/);
});

test('agent config: rule_files, alerting and remote_read are refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsprom-agentcfg-'));
  try {
    const cases: Array<[string, string]> = [
      ['rule_files: [x.yml]\n', 'field rule_files is not allowed in agent mode'],
      ["alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:9093']\n", 'field alerting is not allowed in agent mode'],
      ['remote_read:\n  - url: http://127.0.0.1:1/api/v1/read\n', 'field remote_read is not allowed in agent mode'],
    ];
    for (const [cfg, msg] of cases) {
      writeFileSync(join(dir, 'a.yml'), cfg);
      const r = await tsprom('--agent', `--config.file=${join(dir, 'a.yml')}`, `--storage.agent.path=${join(dir, 'data')}`, '--web.listen-address=127.0.0.1:0');
      assert.equal(r.code, 1, cfg);
      assert.ok(r.stderr.includes(msg), r.stderr);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('tsprom --agent scrapes into its WAL', () => {
  let target: http.Server;
  let targetPort: number;
  let agent: Tsprom;
  let dir: string;
  let config: string;

  before(async () => {
    target = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      res.end('# TYPE agent_test gauge\nagent_test{kind="a"} 42\nagent_test{kind="b"} 7\n');
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    targetPort = (target.address() as AddressInfo).port;
    dir = mkdtempSync(join(tmpdir(), 'tsprom-agent-'));
    config = `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: t\n    static_configs:\n      - targets: ['127.0.0.1:${targetPort}']\n`;
    agent = await startTsprom({ args: ['--agent'], config, dir });
  });

  after(async () => {
    await agent?.stop();
    await new Promise<void>((r) => target.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('the WAL holds the scraped series and samples', async () => {
    const walDir = join(dir, 'data-agent', 'wal');
    const got = await until(async () => {
      if (!existsSync(walDir)) return null;
      const w = readWal(walDir);
      const a = [...w.series].find(([, l]) => l.get('__name__') === 'agent_test' && l.get('kind') === 'a');
      if (a === undefined) return null;
      const vs = w.samples.filter((s) => s.ref === a[0]);
      return vs.length >= 2 ? { labels: a[1], vs } : null;
    }, 'scraped samples in the agent WAL');
    assert.equal(got.labels.get('job'), 't');
    assert.equal(got.labels.get('instance'), `127.0.0.1:${targetPort}`);
    assert.ok(got.vs.every((s) => s.v === 42));
    const w = readWal(walDir);
    assert.ok([...w.series.values()].some((l) => l.get('__name__') === 'up'));
  });

  test('query endpoints answer the agent error', async () => {
    for (const path of ['query?query=up', 'query_range?query=up&start=0&end=1&step=1', 'labels', 'label/job/values', 'series?match[]=up', 'rules', 'alerts', 'status/tsdb', 'format_query?query=up', 'parse_query?query=up']) {
      const r = await api(`${agent.base}/api/v1/${path}`);
      assert.equal(r.status, 422, path);
      assert.deepEqual(r.body, { status: 'error', errorType: 'execution', error: 'unavailable with Prometheus Agent' }, path);
    }
    // Remote read reaches the WAL-only store, which answers no queries.
    const body = compressSync(encodeReadRequest({ queries: [{ startMs: 0, endMs: 1, matchers: [Matcher.create(MatchType.Equal, 'job', 't')], hints: null }], acceptedResponseTypes: [] }));
    const read = await fetch(`${agent.base}/api/v1/read`, { method: 'POST', body });
    assert.equal(read.status, 500);
    assert.equal(await read.text(), 'unsupported operation with WAL-only storage\n');
    const fed = await fetch(`${agent.base}/federate?match[]=up`);
    assert.equal(fed.status, 500);
    assert.equal(await fed.text(), 'unsupported operation with WAL-only storage\n');
  });

  test('/metrics, targets, config, flags and the UI still work', async () => {
    const m = await fetch(`${agent.base}/metrics`);
    assert.equal(m.status, 200);
    const text = await m.text();
    assert.match(text, /^prometheus_agent_active_series \d+/m);
    assert.match(text, /^prometheus_agent_samples_appended_total\{type="float"\} \d+/m);
    const t = await api(`${agent.base}/api/v1/targets`);
    assert.equal(t.status, 200);
    const active = (t.body['data'] as { activeTargets: Array<{ health: string }> }).activeTargets;
    assert.equal(active.length, 1);
    const f = await api(`${agent.base}/api/v1/status/flags`);
    assert.equal((f.body['data'] as Record<string, string>)['agent'], 'true');
    assert.equal((await api(`${agent.base}/api/v1/status/config`)).status, 200);
    // The UI's home is the agent page.
    const home = await fetch(`${agent.base}/`, { redirect: 'manual' });
    assert.equal(home.status, 302);
    assert.equal(home.headers.get('location'), '/agent');
    assert.equal((await fetch(`${agent.base}/agent`)).status, 200);
  });

  test('in chromium the UI opens on the agent page, with only the pages that apply', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing` }, async () => {
    ensureUiBuilt();
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${agent.base}/`);
      await page.waitForSelector('text=agent mode');
      assert.ok(page.url().endsWith('/agent'), page.url());
      const nav = await page.$$eval('nav a', (as) => as.map((a) => a.textContent));
      assert.deepEqual(nav, ['Agent', 'Targets', 'Service discovery', 'Status', 'Flags', 'Config']);
      await page.click('nav >> text=Targets');
      await page.waitForSelector(`text=127.0.0.1:${targetPort}`);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  test('a restart replays the WAL and keeps appending to the same series', async () => {
    const walDir = join(dir, 'data-agent', 'wal');
    const ref = [...readWal(walDir).series].find(([, l]) => l.get('kind') === 'a')![0];
    await agent.stop();
    agent = await startTsprom({ args: ['--agent'], config, dir });
    const last = Math.max(...readWal(walDir).samples.filter((s) => s.ref === ref).map((s) => s.t));
    await until(async () => (readWal(walDir).samples.some((s) => s.ref === ref && s.t > last) ? true : null), 'new samples after the restart');
    // No second series record for the same labels: the replayed ref is reused.
    const refs = [...readWal(walDir).series].filter(([, l]) => l.get('kind') === 'a').map(([r]) => r);
    assert.deepEqual([...new Set(refs)], [ref]);
  });
});

const VM = '/usr/bin/victoria-metrics';

interface Victoria {
  readonly base: string;
  stop(): Promise<void>;
}

/** Debian's VictoriaMetrics on a given port and data directory (the same ones again after an outage). */
async function startVictoria(port: number, dataDir: string): Promise<Victoria> {
  assert.ok(existsSync(VM), `${VM} is missing (.ci/run installs it)`);
  const p = spawn(VM, [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${dataDir}`, '-retentionPeriod=1y'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  p.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-10_000)));
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  const killOnExit = (): void => void p.kill('SIGKILL');
  process.once('exit', killOnExit);
  const base = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    process.removeListener('exit', killOnExit);
  };
  await until(async () => {
    assert.ok(p.exitCode === null, `victoria-metrics exited early:\n${log}`);
    return (await fetch(`${base}/health`)).ok ? true : null;
  }, 'victoria-metrics ready');
  return { base, stop };
}

/** Timestamps VictoriaMetrics holds for agent_test{kind="a"}. */
async function vmTimestamps(vm: Victoria): Promise<Set<number>> {
  await fetch(`${vm.base}/internal/force_flush`);
  const text = await (await fetch(`${vm.base}/api/v1/export?match[]=${encodeURIComponent('agent_test{kind="a"}')}`)).text();
  const out = new Set<number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    for (const t of (JSON.parse(line) as { timestamps: number[] }).timestamps) out.add(t);
  }
  return out;
}

/** Timestamps of agent_test{kind="a"} in the agent's WAL. */
function walTimestamps(walDir: string): number[] {
  const w = readWal(walDir);
  const refs = new Set([...w.series].filter(([, l]) => l.get('__name__') === 'agent_test' && l.get('kind') === 'a').map(([r]) => r));
  return w.samples.filter((x) => refs.has(x.ref)).map((x) => x.t);
}

test('agent remote-writes to VictoriaMetrics; truncation keeps what a receiver outage left unsent, across an agent restart', { timeout: 180_000 }, async () => {
  let n = 0;
  const target = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(`# TYPE agent_test counter\nagent_test{kind="a"} ${++n}\n`);
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(join(tmpdir(), 'tsprom-agent-vm-'));
  const vmPort = await freePort();
  let vm = await startVictoria(vmPort, join(dir, 'vm'));
  let agent: Tsprom | null = null;
  const walDir = join(dir, 'data-agent', 'wal');
  const checkpoints = (): string[] => readdirSync(walDir).filter((f) => f.startsWith('checkpoint.'));
  try {
    const config = `global:\n  scrape_interval: 500ms\nscrape_configs:\n  - job_name: t\n    static_configs:\n      - targets: ['127.0.0.1:${(target.address() as AddressInfo).port}']\nremote_write:\n  - url: ${vm.base}/api/v1/write\n    remote_timeout: 2s\n    queue_config: { batch_send_deadline: 200ms, min_backoff: 100ms, max_backoff: 500ms }\n`;
    // Truncation every second, keeping only the last second of samples: the remote's needs decide what stays.
    // One process (heapMiB), and a short flush deadline so that a stop during the outage does not wait a minute.
    const agentArgs = ['--agent', '--storage.agent.wal-truncate-frequency=1s', '--storage.agent.retention.min-time=1s', '--storage.remote.flush-deadline=1s'];
    agent = await startTsprom({ args: agentArgs, config, dir, heapMiB: 256 });
    // Samples arrive, and the WAL is truncated (a checkpoint, the first segments gone).
    await until(async () => ((await vmTimestamps(vm)).size >= 6 ? true : null), 'samples at VictoriaMetrics');
    await until(async () => (checkpoints().length > 0 && listSegments(walDir)[0]! > 0 ? true : null), 'a WAL truncation');

    // Outage: whatever the agent scrapes now cannot be sent, so truncation must keep it.
    await vm.stop();
    const outageFrom = Date.now();
    await new Promise((r) => setTimeout(r, 5000));
    const pending = walTimestamps(walDir).filter((t) => t >= outageFrom);
    assert.ok(pending.length >= 5, `only ${pending.length} samples scraped during the outage are in the WAL`);
    // Several truncations ran meanwhile (one a second): the unsent samples are still in the WAL.
    await new Promise((r) => setTimeout(r, 2000));
    const still = new Set(walTimestamps(walDir));
    assert.deepEqual(
      pending.filter((t) => !still.has(t)),
      [],
    );
    // A restart of the agent inside the outage: it resumes where its queue stopped.
    const restartAt = Date.now();
    await agent.stop();
    agent = await startTsprom({ args: agentArgs, config, dir, heapMiB: 256 });
    await new Promise((r) => setTimeout(r, 3000));
    pending.push(...walTimestamps(walDir).filter((t) => t > pending.at(-1)!));

    vm = await startVictoria(vmPort, join(dir, 'vm'));
    let lost: number[] = [];
    try {
      await until(async () => {
        const got = await vmTimestamps(vm);
        lost = pending.filter((t) => !got.has(t));
        return lost.length === 0 ? true : null;
      }, 'every sample of the outage at VictoriaMetrics', 60_000);
    } catch {
      const inWal = new Set(walTimestamps(walDir));
      assert.fail(
        `${lost.length} of ${pending.length} outage samples never arrived (ms after the outage began: ${lost.map((t) => t - outageFrom).join(' ')}; restart at ${restartAt - outageFrom}; ${lost.filter((t) => inWal.has(t)).length} of them still in the WAL; positions ${readdirSync(join(dir, 'data-agent', 'remote')).map((f) => readFileSync(join(dir, 'data-agent', 'remote', f), 'utf8').trim()).join(' ')}; segments ${listSegments(walDir).join(',')})`,
      );
    }
    // Once sent, the outage's segments are truncated too.
    await until(async () => (walTimestamps(walDir).some((t) => t === pending[0]) ? null : true), 'the sent outage segments truncated', 30_000);
    const metrics = await (await fetch(`${agent.base}/metrics`)).text();
    assert.match(metrics, /^prometheus_agent_checkpoint_creations_total [1-9]/m);
  } finally {
    await agent?.stop();
    await vm.stop();
    await new Promise<void>((r) => target.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
});
