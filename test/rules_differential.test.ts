// The same rule file in tsprom and in Debian's Prometheus 2.42, both scraping the same
// target: recorded series, alerts (labels, templated annotations, state, value) and the
// ALERTS series must agree.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, startTsprom, type Tsprom } from './api_process.js';
import { until } from './alertmanager_process.js';
import { startPrometheus, type Prometheus } from './prometheus_process.js';

// Constant values: both servers see the same numbers whenever they scrape.
const EXPOSITION = `# TYPE diff_temp gauge
diff_temp{room="a",floor="1"} 21.5
diff_temp{room="b",floor="1"} 25
diff_temp{room="c",floor="2"} 30.25
diff_temp{room="d",floor="2"} 18
# TYPE diff_requests_total counter
diff_requests_total{code="200"} 1000
diff_requests_total{code="500"} 50
# TYPE diff_latency_seconds histogram
diff_latency_seconds_bucket{le="0.1"} 10
diff_latency_seconds_bucket{le="0.5"} 40
diff_latency_seconds_bucket{le="1"} 45
diff_latency_seconds_bucket{le="+Inf"} 50
diff_latency_seconds_sum 20
diff_latency_seconds_count 50
`;

// Only what Prometheus 2.42 understands (no group labels or query_offset).
const RULES = `
groups:
  - name: diff-recording
    interval: 1s
    rules:
      - record: floor:diff_temp:avg
        expr: avg by (floor) (diff_temp)
      - record: diff:error_ratio
        expr: sum(diff_requests_total{code=~"5.."}) / sum(diff_requests_total)
      - record: diff:latency:p90
        expr: histogram_quantile(0.9, diff_latency_seconds_bucket)
      - record: floor:diff_temp:max
        expr: max by (floor) (diff_temp)
        labels:
          source: rule
      - record: diff:hot_floors:count
        expr: count(floor:diff_temp:max > 20)
  - name: diff-alerts
    interval: 1s
    rules:
      - alert: DiffHot
        expr: diff_temp > 20
        for: 2s
        labels:
          severity: '{{ if gt $value 28.0 }}page{{ else }}ticket{{ end }}'
        annotations:
          summary: 'Room {{ $labels.room }} is at {{ $value | humanize }} degrees'
          detail: '{{ printf "%.1f" $value }} on floor {{ $labels.floor }} ({{ $labels.instance | stripPort }}); {{ $externalLabels.site }}'
          share: '{{ 0.4567 | humanizePercentage }} {{ 1536 | humanize1024 }} {{ 90061 | humanizeDuration }} {{ "ab" | toUpper }}'
      - alert: DiffErrors
        expr: diff:error_ratio > 0.01
        annotations:
          summary: '{{ $value | humanizePercentage }} errors of {{ with query "sum(diff_requests_total)" }}{{ . | first | value | humanize }}{{ end }}'
          rooms: '{{ range query "diff_temp > 24" }}{{ .Labels.room }}={{ .Value }} {{ end }}'
      - alert: DiffNever
        expr: diff_temp > 1000
`;

type Sample = { metric: Record<string, string>; value: [number, string] };
type ApiAlert = { labels: Record<string, string>; annotations: Record<string, string>; state: string; value: string };

let exporter: http.Server;
let prom: Prometheus;
let ts: Tsprom;
let dir: string;

function config(target: string, ruleFile: string): string {
  return `
global:
  scrape_interval: 1s
  evaluation_interval: 1s
  external_labels: {site: lab}
rule_files: ['${ruleFile}']
scrape_configs:
  - job_name: diff
    static_configs: [{targets: ['${target}']}]
`;
}

before(async () => {
  exporter = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(EXPOSITION);
  });
  await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
  const target = `127.0.0.1:${(exporter.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), 'tsprom-rules-diff-'));
  const ruleFile = join(dir, 'diff.rules.yml');
  writeFileSync(ruleFile, RULES);
  // Both name the same rule file, so both place the groups at the same phase of the interval.
  const [p, t] = await Promise.allSettled([startPrometheus(config(target, ruleFile)), startTsprom({ config: config(target, ruleFile), args: ['--no-rules.self-monitoring'] })]);
  if (p.status === 'fulfilled') prom = p.value;
  if (t.status === 'fulfilled') ts = t.value;
  if (p.status === 'rejected') throw p.reason;
  if (t.status === 'rejected') throw t.reason;
});

after(async () => {
  await prom?.stop();
  await ts?.stop();
  await new Promise((r) => exporter?.close(r));
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

async function query(base: string, q: string): Promise<Array<[string, string]>> {
  const r = await api(`${base}/api/v1/query?query=${encodeURIComponent(q)}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const result = (r.body.data as { result: Sample[] }).result;
  return result.map((s) => [JSON.stringify(Object.entries(s.metric).sort()), s.value[1]] as [string, string]).sort();
}

async function alerts(base: string): Promise<Array<Omit<ApiAlert, 'activeAt'>>> {
  const r = await api(`${base}/api/v1/alerts`);
  assert.equal(r.status, 200);
  return (r.body.data as { alerts: ApiAlert[] }).alerts
    .map((a) => ({ labels: a.labels, annotations: a.annotations, state: a.state, value: a.value }))
    .sort((x, y) => JSON.stringify(x.labels).localeCompare(JSON.stringify(y.labels)));
}

test('recorded series, alerts and ALERTS agree with Prometheus 2.42', { timeout: 120_000 }, async () => {
  // Settled: every alert past its `for`, and the recording chain complete, on both sides.
  const settled = async (base: string) => {
    const as = await alerts(base);
    const firing = as.filter((a) => a.state === 'firing').length;
    const hot = await query(base, 'diff:hot_floors:count');
    return firing === 4 && hot.length === 1 ? true : null;
  };
  await until(() => settled(prom.base), 'Prometheus: all alerts firing', 60_000);
  await until(() => settled(ts.base), 'tsprom: all alerts firing', 60_000);

  const recorded = '{__name__=~"floor:.*|diff:.*"}';
  assert.deepEqual(await query(ts.base, recorded), await query(prom.base, recorded));
  const promAlerts = await alerts(prom.base);
  assert.equal(promAlerts.length, 4);
  assert.deepEqual(await alerts(ts.base), promAlerts);
  assert.deepEqual(await query(ts.base, 'ALERTS'), await query(prom.base, 'ALERTS'));
  assert.deepEqual(await query(ts.base, 'count by (alertname) (ALERTS_FOR_STATE)'), await query(prom.base, 'count by (alertname) (ALERTS_FOR_STATE)'));
});
