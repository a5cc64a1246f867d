// Debian's Prometheus 2.42 remote-writes its own metrics into tsprom; the same
// queries are then asked of both and must give the same answers.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTsprom, api, type Tsprom } from './api_process.js';
import { freePort } from './free_port.js';

const PROMETHEUS = '/usr/bin/prometheus';
const WAIT_MS = 60_000;


async function until<T>(what: string, fn: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

type Vector = Array<{ metric: Record<string, string>; value: [number, string] }>;

async function instant(base: string, query: string, time?: number): Promise<Vector> {
  const params = new URLSearchParams({ query });
  if (time !== undefined) params.set('time', String(time));
  const { body } = await api(`${base}/api/v1/query?${params}`);
  if (body['status'] !== 'success') throw new Error(JSON.stringify(body));
  return (body['data'] as { result: Vector }).result;
}

describe('Prometheus remote-writes into tsprom', () => {
  let ts: Tsprom;
  let prom: ChildProcess;
  let promBase: string;
  let promDir: string;
  let promLog = '';

  before(async () => {
    assert.ok(existsSync(PROMETHEUS), 'prometheus is missing: install the Debian package prometheus');
    ts = await startTsprom({ args: ['--web.enable-remote-write-receiver'] });
    const port = await freePort();
    promBase = `http://127.0.0.1:${port}`;
    promDir = mkdtempSync(join(tmpdir(), 'tsprom-prom-'));
    writeFileSync(
      join(promDir, 'prometheus.yml'),
      `global:
  scrape_interval: 1s
scrape_configs:
  - job_name: prom
    static_configs:
      - targets: ['127.0.0.1:${port}']
remote_write:
  - url: ${ts.base}/api/v1/write
    queue_config:
      batch_send_deadline: 1s
      max_samples_per_send: 1000
      min_backoff: 50ms
      max_backoff: 1s
`,
    );
    prom = spawn(
      PROMETHEUS,
      [`--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prom.stderr!.on('data', (c: Buffer) => {
      promLog = (promLog + c.toString()).slice(-20_000);
    });
  });

  after(async () => {
    if (prom.exitCode === null && prom.signalCode === null) {
      const exited = new Promise((r) => prom.once('exit', r));
      prom.kill('SIGTERM');
      const t = setTimeout(() => prom.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(promDir, { recursive: true, force: true });
    await ts.stop();
  });

  test("Prometheus's own metrics arrive and answer as Prometheus answers", async () => {
    const info = await until('prometheus_build_info in tsprom', async () => {
      const v = await instant(ts.base, 'prometheus_build_info{job="prom"}');
      return v.length > 0 ? v : null;
    }).catch((e: Error) => {
      throw new Error(`${e.message}\nprometheus log:\n${promLog}\ntsprom log:\n${ts.logs()}`);
    });
    assert.match(info[0]!.metric['version']!, /^2\.42\./);
    assert.equal(info[0]!.metric['instance'], new URL(promBase).host);

    // Let a few more scrapes arrive, then compare answers at a time both hold data for.
    await new Promise((r) => setTimeout(r, 6000));
    // Remote write batches within a second; five seconds back both hold the same samples.
    const t = Math.floor(Date.now() / 1000) - 5;
    for (const q of ['up{job="prom"}', 'prometheus_tsdb_head_series{job="prom"}', 'scrape_samples_scraped{job="prom"}', 'count by (job) ({job="prom"})']) {
      const [a, b] = await Promise.all([instant(promBase, q, t), instant(ts.base, q, t)]);
      assert.ok(a.length > 0, q);
      assert.deepEqual(b, a, q);
    }
    const rq = new URLSearchParams({ query: 'up{job="prom"}', start: String(t - 5), end: String(t), step: '1' });
    const [ra, rb] = await Promise.all([api(`${promBase}/api/v1/query_range?${rq}`), api(`${ts.base}/api/v1/query_range?${rq}`)]);
    assert.deepEqual(rb.body, ra.body);
  });
});
