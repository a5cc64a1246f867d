// Exemplars end to end in a real tsprom process: scraped from an OpenMetrics
// target and received by remote write 1.0 and 2.0, read back through
// /api/v1/query_exemplars, still there after kill -9 and a restart; compared
// with Prometheus 2.42 scraping the same target.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, startTsprom, type Tsprom } from './api_process.js';
import { until } from './alertmanager_process.js';
import { startPrometheus } from './prometheus_process.js';
import { writeRequestBody, writeV2RequestBody, V2_CONTENT_TYPE } from './remote_write_proto.js';

/** An exemplar timestamp (s) fixed for the run, recent enough for any server's checks. */
const EX_TS = Math.floor(Date.now() / 1000) - 60;
const LONG = 'y'.repeat(130);

const EXPOSITION = `# TYPE foo counter
foo_total{path="/a"} 17 # {trace_id="abc123"} 1.5 ${EX_TS}.123
# TYPE lat histogram
lat_bucket{le="0.5"} 3 # {trace_id="t1",span_id="s1"} 0.25 ${EX_TS}.5
lat_bucket{le="+Inf"} 4 # {trace_id="t2"} 7
lat_count 4
lat_sum 2.0
# TYPE long counter
long_total 1 # {trace_id="${LONG}"} 1 ${EX_TS}
# EOF
`;

let target: http.Server;
let targetAddr = '';

before(async () => {
  target = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/openmetrics-text; version=1.0.0; charset=utf-8' });
    res.end(EXPOSITION);
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetAddr = `127.0.0.1:${(target.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((r) => target.close(() => r()));
});

function scrapeConfig(interval = '200ms'): string {
  return `global:\n  scrape_interval: ${interval}\nscrape_configs:\n  - job_name: om\n    static_configs:\n      - targets: ['${targetAddr}']\n`;
}

interface ExemplarJSON {
  labels: Record<string, string>;
  value: string;
  timestamp: number;
}
interface SeriesExemplarsJSON {
  seriesLabels: Record<string, string>;
  exemplars: ExemplarJSON[];
}

async function queryExemplars(base: string, query: string, start = 0, end = Date.now() / 1000 + 3600): Promise<SeriesExemplarsJSON[]> {
  const r = await api(`${base}/api/v1/query_exemplars?query=${encodeURIComponent(query)}&start=${start}&end=${end}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.status, 'success');
  return r.body.data as SeriesExemplarsJSON[];
}

async function metricValue(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('exemplars end to end', () => {
  test('scraped, remote-written, queried, refused when too long, and kept across kill -9', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsprom-ex-'));
    const args = ['--enable-feature=exemplar-storage', '--web.enable-remote-write-receiver', '--web.enable-lifecycle'];
    // One process (no launcher), so kill -9 hits the server itself.
    let s: Tsprom = await startTsprom({ dir, config: scrapeConfig(), args, heapMiB: 512 });
    try {
      const foo = await until(async () => {
        const d = await queryExemplars(s.base, 'foo_total');
        return d.length > 0 ? d : null;
      }, 'scraped exemplar');
      assert.deepEqual(foo, [
        {
          seriesLabels: { __name__: 'foo_total', instance: targetAddr, job: 'om', path: '/a' },
          exemplars: [{ labels: { trace_id: 'abc123' }, value: '1.5', timestamp: EX_TS + 0.123 }],
        },
      ]);
      // Several scrapes later: the exemplar without a timestamp is still one (a repeat each scrape), with a scrape time.
      await until(async () => ((await metricValue(s.base, 'prometheus_target_interval_length_seconds_count')) >= 3 ? true : null), 'three scrapes');
      const lat = await queryExemplars(s.base, 'rate(lat_bucket[5m]) > 0 or lat_count');
      assert.deepEqual(
        lat.map((r) => [r.seriesLabels.le, r.exemplars.map((e) => [e.labels, e.value])]),
        [
          ['+Inf', [[{ trace_id: 't2' }, '7']]],
          ['0.5', [[{ span_id: 's1', trace_id: 't1' }, '0.25']]],
        ],
      );
      const inf = lat[0]!.exemplars[0]!.timestamp;
      assert.ok(Math.abs(inf - Date.now() / 1000) < 60, `scrape timestamp ${inf}`);
      // Time range: only the explicit-timestamp exemplar of lat_bucket{le="0.5"} lies in [EX_TS, EX_TS + 1].
      assert.deepEqual(
        (await queryExemplars(s.base, 'lat_bucket', EX_TS, EX_TS + 1)).map((r) => r.seriesLabels.le),
        ['0.5'],
      );
      // Too long: refused and counted.
      assert.deepEqual(await queryExemplars(s.base, 'long_total'), []);
      assert.ok((await metricValue(s.base, 'tsprom_tsdb_exemplar_label_length_exceeded_total')) >= 1);
      assert.ok((await metricValue(s.base, 'prometheus_tsdb_exemplar_exemplars_appended_total')) >= 3);
      assert.equal(await metricValue(s.base, 'prometheus_tsdb_exemplar_max_exemplars'), 100000);

      // Remote write 1.0 and 2.0.
      const now = Date.now();
      const v1 = await fetch(`${s.base}/api/v1/write`, {
        method: 'POST',
        headers: { 'Content-Encoding': 'snappy', 'Content-Type': 'application/x-protobuf' },
        body: writeRequestBody([
          {
            labels: { __name__: 'rw1_total', job: 'rw' },
            samples: [[now - 1000, 1]],
            exemplars: [
              { labels: { trace_id: 'rw1' }, value: 1, t: now - 1000 },
              { labels: { trace_id: LONG }, value: 2, t: now - 500 },
            ],
          },
        ]),
      });
      assert.equal(v1.status, 204, await v1.text());
      const v2 = await fetch(`${s.base}/api/v1/write`, {
        method: 'POST',
        headers: { 'Content-Encoding': 'snappy', 'Content-Type': V2_CONTENT_TYPE },
        body: writeV2RequestBody([{ labels: { __name__: 'rw2_total', job: 'rw' }, samples: [[now - 1000, 1]], exemplars: [{ labels: { trace_id: 'rw2' }, value: 2.5, t: now - 1000 }] }]),
      });
      assert.equal(v2.status, 204, await v2.text());
      assert.equal(v2.headers.get('X-Prometheus-Remote-Write-Exemplars-Written'), '1');
      const rw = await queryExemplars(s.base, '{job="rw"}');
      assert.deepEqual(
        rw.map((r) => [r.seriesLabels.__name__, r.exemplars.map((e) => [e.labels.trace_id, e.value, e.timestamp])]),
        [
          ['rw1_total', [['rw1', '1', (now - 1000) / 1000]]],
          ['rw2_total', [['rw2', '2.5', (now - 1000) / 1000]]],
        ],
      );
      const rejected = await (await fetch(`${s.base}/metrics`)).text();
      assert.match(rejected, /tsprom_remote_write_exemplars_rejected_total\{reason="label_length"\} 1/);

      // kill -9 with the target gone: what comes back is from the WAL.
      const beforeKill = await queryExemplars(s.base, '{__name__=~".+"}');
      s.proc.kill('SIGKILL');
      await s.exited;
      s = await startTsprom({ dir, config: 'global:\n  scrape_interval: 15s\n', args, heapMiB: 512 });
      const afterRestart = await queryExemplars(s.base, '{__name__=~".+"}');
      // Replayed exemplars are the same ones (the WAL keeps labels, value and time).
      assert.deepEqual(afterRestart, beforeKill);
      assert.ok(afterRestart.length >= 5, `series with exemplars: ${afterRestart.length}`);

      // Reload with a smaller storage: the newest exemplars stay.
      writeFileSync(join(dir, 'tsprom.yml'), 'global:\n  scrape_interval: 15s\nstorage:\n  exemplars:\n    max_exemplars: 2\n');
      assert.equal((await fetch(`${s.base}/-/reload`, { method: 'POST' })).status, 200);
      assert.equal(await metricValue(s.base, 'prometheus_tsdb_exemplar_max_exemplars'), 2);
      assert.equal(await metricValue(s.base, 'prometheus_tsdb_exemplar_exemplars_in_storage'), 2);
      const kept = await queryExemplars(s.base, '{__name__=~".+"}');
      assert.deepEqual(
        kept.map((r) => r.seriesLabels.__name__),
        ['rw1_total', 'rw2_total'],
      );
    } finally {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('without the feature, query_exemplars answers an empty list', async () => {
    const s = await startTsprom({ config: scrapeConfig() });
    try {
      await until(async () => ((await metricValue(s.base, 'prometheus_target_interval_length_seconds_count')) >= 1 ? true : null), 'a scrape');
      assert.deepEqual(await queryExemplars(s.base, 'foo_total'), []);
      // No selector at all: no data (204), as Prometheus.
      const r = await fetch(`${s.base}/api/v1/query_exemplars?query=1%2B1`);
      assert.equal(r.status, 204);
    } finally {
      await s.stop();
    }
  });

  test('the same exemplars as Prometheus 2.42 for a shared target', { timeout: 120_000 }, async () => {
    const config = scrapeConfig('500ms');
    const prom = await startPrometheus(config, ['--enable-feature=exemplar-storage']);
    const s = await startTsprom({ config, args: ['--enable-feature=exemplar-storage'] });
    try {
      // Only exemplars with their own timestamps: the others take each server's scrape time.
      const q = 'foo_total or lat_bucket{le="0.5"} or long_total';
      const want = await until(async () => {
        const d = await queryExemplars(prom.base, q);
        return d.length >= 2 ? d : null;
      }, 'Prometheus has the exemplars');
      const got = await until(async () => {
        const d = await queryExemplars(s.base, q);
        return d.length >= 2 ? d : null;
      }, 'tsprom has the exemplars');
      assert.deepEqual(got, want);
      // The raw bytes too: field order, number formats.
      const path = `/api/v1/query_exemplars?query=${encodeURIComponent(q)}&start=${EX_TS - 10}&end=${EX_TS + 10}`;
      assert.equal(await (await fetch(s.base + path)).text(), await (await fetch(prom.base + path)).text());
    } finally {
      await s.stop();
      await prom.stop();
    }
  });
});
