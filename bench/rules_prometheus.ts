// The rules bench's peer: Debian's Prometheus evaluating the same rule file over the same
// data, pushed with remote write 1.0. Its figures come from its own /metrics
// (prometheus_rule_group_last_duration_seconds, prometheus_rule_group_iterations_total),
// /proc/<pid>/stat for CPU, and its HTTP API for alerts and recorded series.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRequestBody, type TestSeries } from '../test/remote_write_proto.js';
import { STEP_MS } from './rules_gen.js';
import { freePort } from '../test/free_port.js';
import { procCpuSeconds } from './proc_stat.js';

export const PROMETHEUS = '/usr/bin/prometheus';
/** Evaluations every group completes on the pushed data before measuring (its caches and pools settle). */
const WARMUP_ITERATIONS = 2;

export interface PeerResult {
  /** Process CPU seconds per evaluation interval (every group evaluated once). */
  cpuPerIntervalS: number;
  /** Mean over the window of sum(prometheus_rule_group_last_duration_seconds). */
  groupDurationSumS: number;
  intervals: number;
  firing: number;
  pending: number;
  recordedSeries: number;
  alertsSeries: number;
  pushSeconds: number;
}


export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}


function request(url: string, method: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        const ok = res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300;
        if (ok) resolve(b);
        else reject(new Error(`${method} ${url}: status ${res.statusCode}: ${b.toString().slice(0, 300)}`));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Values of one metric from /metrics text, keyed by the whole label part. */
function metricValues(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of text.split('\n')) {
    if (!(l.startsWith(name + ' ') || l.startsWith(name + '{'))) continue;
    const sp = l.lastIndexOf(' ');
    out.set(l.slice(name.length, sp), Number(l.slice(sp + 1)));
  }
  return out;
}

async function query(port: number, q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = JSON.parse((await request(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`, 'GET')).toString()) as {
    data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  return res.data.result;
}

async function countOf(port: number, q: string): Promise<number> {
  const r = await query(port, `count(${q})`);
  return r.length === 0 ? 0 : Number(r[0]!.value[1]);
}

/**
 * Runs Prometheus on `ruleFile`, pushes `batches`, waits until every one of `groups` groups
 * has evaluated WARMUP_ITERATIONS times on the data, then measures `intervals` intervals.
 */
export async function runPrometheus(ruleFile: string, groups: number, batches: readonly TestSeries[][], intervals: number, log: (s: string) => void): Promise<PeerResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-rules-prom-'));
  const port = await freePort();
  writeFileSync(join(dir, 'prometheus.yml'), ['global:', `  evaluation_interval: ${STEP_MS / 1000}s`, 'rule_files:', `  - ${ruleFile}`, ''].join('\n'));
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise((r) => child.once('exit', r));
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      try {
        await request(`${base}/-/ready`, 'GET');
        break;
      } catch (e) {
        if (i > 300 || child.exitCode !== null) throw new Error(`Prometheus did not become ready: ${String(e)}`);
        await sleep(100);
      }
    }
    const t0 = performance.now();
    for (const b of batches) {
      await request(`${base}/api/v1/write`, 'POST', writeRequestBody(b), {
        'content-type': 'application/x-protobuf',
        'content-encoding': 'snappy',
        'x-prometheus-remote-write-version': '0.1.0',
      });
    }
    const pushSeconds = (performance.now() - t0) / 1000;
    log(`  prometheus: pushed ${batches.reduce((n, b) => n + b.reduce((m, s) => m + s.samples.length, 0), 0)} samples in ${pushSeconds.toFixed(1)}s`);

    const iterations = async (): Promise<Map<string, number>> => metricValues((await request(`${base}/metrics`, 'GET')).toString(), 'prometheus_rule_group_iterations_total');
    const it0 = await iterations();
    if (it0.size !== groups) throw new Error(`Prometheus loaded ${it0.size} rule groups, expected ${groups}`);
    const minDone = (it: Map<string, number>): number => Math.min(...[...it].map(([k, v]) => v - (it0.get(k) ?? 0)));
    while (minDone(await iterations()) < WARMUP_ITERATIONS) await sleep(1000);

    const itStart = await iterations();
    const cpu0 = procCpuSeconds(child.pid!);
    const sums: number[] = [];
    for (let i = 0; i < intervals; i++) {
      await sleep(STEP_MS);
      const text = (await request(`${base}/metrics`, 'GET')).toString();
      sums.push([...metricValues(text, 'prometheus_rule_group_last_duration_seconds').values()].reduce((a, b) => a + b, 0));
    }
    const cpu1 = procCpuSeconds(child.pid!);
    const itEnd = await iterations();
    let evals = 0;
    for (const [k, v] of itEnd) evals += v - (itStart.get(k) ?? 0);
    const done = evals / groups;

    const alerts = JSON.parse((await request(`${base}/api/v1/alerts`, 'GET')).toString()) as { data: { alerts: Array<{ state: string }> } };
    const firing = alerts.data.alerts.filter((a) => a.state === 'firing').length;
    const pending = alerts.data.alerts.filter((a) => a.state === 'pending').length;
    return {
      cpuPerIntervalS: (cpu1 - cpu0) / done,
      groupDurationSumS: sums.reduce((a, b) => a + b, 0) / sums.length,
      intervals: done,
      firing,
      pending,
      recordedSeries: await countOf(port, '{__name__=~"r[0-9]+:.+"}'),
      alertsSeries: await countOf(port, 'ALERTS'),
      pushSeconds,
    };
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}
