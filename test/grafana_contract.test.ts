// What Grafana's Prometheus data source sends, replayed against a real tsprom
// process, with Prometheus 3.x's answers as the contract. The calls come from
// Grafana's sources: the Go backend (pkg/promlib: client.go, healthcheck.go,
// heuristics.go, resource.go) and the browser side
// (packages/grafana-prometheus: datasource.ts, language_provider.ts,
// resource_clients.ts, utf8_support.ts):
// - the backend POSTs query, query_range and query_exemplars as a form
//   (Content-Type application/x-www-form-urlencoded, `timeout` when the data
//   source has one); Go's transport asks for gzip;
// - the health check is the instant query `1+1` at time=4;
// - version and flavour come from /api/v1/status/buildinfo: no `features`
//   member means "Prometheus" (one means Mimir, with a ruler API);
// - editor lookups go through the backend's resource calls: labels and series
//   by POST (falling back to GET on 400/405), label values, metadata, rules,
//   alerts and status/* always by GET; `limit` is 40000 unless configured; a
//   label name that is not a legacy name travels U__-escaped in the path;
// - the exemplar probe asks for `test` with start/end in milliseconds that the
//   server reads as seconds (year ~57000): Prometheus answers success, [].
// Where Debian's Prometheus 2.42 runs the same sequence, the test compares; the
// comments say where 2.x and 3.x differ.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startTsprom, type Tsprom } from './api_process.js';
import { startPrometheus, type Prometheus } from './prometheus_process.js';
import { until } from './alertmanager_process.js';
import { writeRequestBody, type TestSeries } from './remote_write_proto.js';

const FORM = 'application/x-www-form-urlencoded';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown>;
}

/** One HTTP exchange with raw headers (fetch would hide Content-Encoding); gzip bodies are unpacked. */
function call(base: string, path: string, opts: { method?: string; form?: Record<string, string | string[]>; headers?: Record<string, string> } = {}): Promise<Reply> {
  const url = new URL(path, base);
  let body: string | undefined;
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.form !== undefined) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.form)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
    body = p.toString();
    headers['Content-Type'] = FORM;
    headers['Content-Length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: opts.method ?? (body === undefined ? 'GET' : 'POST'), headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let raw = Buffer.concat(chunks);
        if (res.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
        const text = raw.toString('utf8');
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // Not JSON (204, or a plain-text error): callers look at text.
        }
        resolve({ status: res.statusCode!, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A Grafana backend form POST (query, query_range, query_exemplars, labels, series). */
const post = (base: string, path: string, form: Record<string, string | string[]>): Promise<Reply> => call(base, path, { form, headers: { 'Accept-Encoding': 'gzip' } });
/** A Grafana GET with its parameters in the URL (label values, metadata, rules, alerts, status). */
const get = (base: string, path: string, params: Record<string, string | string[]> = {}): Promise<Reply> => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  const q = p.toString();
  return call(base, q === '' ? path : `${path}?${q}`, { headers: { 'Accept-Encoding': 'gzip' } });
};

function data<T>(r: Reply): T {
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json['status'], 'success', r.text);
  return r.json['data'] as T;
}

/** A time in Grafana's wire form: Unix seconds, shortest decimal (strconv.FormatFloat(..., 'f', -1, 64)). */
const secs = (ms: number): string => String(ms / 1000);

// Remote-written samples: every 15 s for 10 minutes, from T0, a whole minute some 15 minutes ago.
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 15 * 60_000;
const STEPS = 40;
const at = (i: number): number => T0 + i * 15_000;
const EXEMPLAR_T = at(10);

function writeSeries(): TestSeries[] {
  const idx = [...Array(STEPS + 1).keys()];
  return [
    {
      labels: { __name__: 'grafana_rw_requests_total', job: 'rw', instance: 'a', code: '200' },
      samples: idx.map((i) => [at(i), i * 10]),
      exemplars: [{ labels: { trace_id: 'abc123' }, value: 123, t: EXEMPLAR_T }],
    },
    { labels: { __name__: 'grafana_rw_requests_total', job: 'rw', instance: 'a', code: '500' }, samples: idx.map((i) => [at(i), i]) },
    { labels: { __name__: 'grafana_rw_temp', job: 'rw', instance: 'a' }, samples: idx.map((i) => [at(i), 20 + (i % 3)]) },
    // A label name outside the legacy charset: Grafana sends it U__-escaped in label-values paths.
    { labels: { __name__: 'grafana_rw_utf8', job: 'rw', 'http.status': 'ok' }, samples: idx.map((i) => [at(i), 1]) },
  ];
}

const RULES = `groups:
  - name: grafana
    interval: 1s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: GrafanaAlwaysFiring
        expr: vector(1)
        labels:
          severity: page
        annotations:
          summary: always firing
`;

/** Two scrape targets exposing the same families; the gauge's HELP differs, so /metadata has two entries for it. */
function exporter(help: string): Server {
  return createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(
      [
        '# HELP grafana_test_requests_total Requests served.',
        '# TYPE grafana_test_requests_total counter',
        'grafana_test_requests_total{code="200"} 10',
        `# HELP grafana_test_temp_celsius ${help}`,
        '# TYPE grafana_test_temp_celsius gauge',
        'grafana_test_temp_celsius 21.5',
        '',
      ].join('\n'),
    );
  });
}

function listen(s: Server): Promise<number> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
}

async function remoteWrite(base: string): Promise<void> {
  const r = await fetch(`${base}/api/v1/write`, {
    method: 'POST',
    body: writeRequestBody(writeSeries()),
    headers: { 'Content-Encoding': 'snappy', 'Content-Type': 'application/x-protobuf', 'X-Prometheus-Remote-Write-Version': '0.1.0' },
  });
  assert.equal(r.status, 204, await r.text());
}

interface Metadata {
  type: string;
  help: string;
  unit: string;
}

describe('Grafana data source contract', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsprom-grafana-'));
  const exporters = [exporter('Temperature in the lab.'), exporter('Temperature outside.')];
  let tsprom: Tsprom;
  let prom: Prometheus;
  const args = ['--web.enable-remote-write-receiver', '--enable-feature=exemplar-storage'];

  before(async () => {
    const ports = await Promise.all(exporters.map(listen));
    writeFileSync(join(dir, 'grafana.rules.yml'), RULES);
    const config = `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ['${join(dir, 'grafana.rules.yml')}']
scrape_configs:
  - job_name: app
    static_configs:
      - targets: [${ports.map((p) => `'127.0.0.1:${p}'`).join(', ')}]
`;
    [tsprom, prom] = await Promise.all([startTsprom({ config, args }), startPrometheus(config, args)]);
    await Promise.all([remoteWrite(tsprom.base), remoteWrite(prom.base)]);
    // Both servers ready for the editor: both targets' metadata scraped, the rules evaluated, the alert firing.
    for (const base of [tsprom.base, prom.base]) {
      await until(async () => {
        const md = data<Record<string, Metadata[]>>(await get(base, '/api/v1/metadata', { metric: 'grafana_test_temp_celsius' }));
        const alerts = data<{ alerts: Array<{ state: string }> }>(await get(base, '/api/v1/alerts'));
        // The recording rule has seen a scrape (its first evaluation may have come before one).
        const recorded = data<{ result: unknown[] }>(await post(base, '/api/v1/query', { query: 'job:up:sum' }));
        return (md['grafana_test_temp_celsius']?.length ?? 0) === 2 && alerts.alerts.some((a) => a.state === 'firing') && recorded.result.length > 0 ? true : null;
      }, `${base}: targets scraped, the rule recorded and the alert firing`);
    }
  });

  after(async () => {
    await Promise.all([tsprom?.stop(), prom?.stop()]);
    for (const s of exporters) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('version detection: /api/v1/status/buildinfo without `features`, so Grafana takes it for Prometheus', async () => {
    const [t, p] = await Promise.all([get(tsprom.base, '/api/v1/status/buildinfo'), get(prom.base, '/api/v1/status/buildinfo')]);
    const bt = data<Record<string, string>>(t);
    assert.deepEqual(Object.keys(bt).sort(), Object.keys(data<Record<string, string>>(p)).sort());
    assert.deepEqual(Object.keys(bt).sort(), ['branch', 'buildDate', 'buildUser', 'goVersion', 'revision', 'version']);
    assert.equal('features' in bt, false);
    // Grafana maps the version onto its list of 2.x releases and keeps none when the major differs:
    // tsprom's 0.x, like Prometheus 3.x, leaves the version unset, and then Grafana assumes every
    // modern API (labels with match[], and so on).
    assert.match(bt['version'] ?? '', /^\d+\.\d+\.\d+/);
  });

  test('health check: instant 1+1 at time=4, as a POSTed form, answers exactly as Prometheus', async () => {
    const form = { query: '1+1', time: '4' };
    const [t, p] = await Promise.all([post(tsprom.base, '/api/v1/query', form), post(prom.base, '/api/v1/query', form)]);
    assert.equal(t.text, '{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}');
    assert.equal(t.text, p.text);
    assert.equal(t.headers['content-type'], 'application/json');
  });

  test('query_range and the instant query of "Both", POSTed with timeout; answers gzipped when asked', async () => {
    const range = { query: 'sum by (code) (grafana_rw_requests_total)', start: secs(at(8)), end: secs(at(40)), step: '60', timeout: '30s' };
    const [t, p] = await Promise.all([post(tsprom.base, '/api/v1/query_range', range), post(prom.base, '/api/v1/query_range', range)]);
    assert.equal(t.headers['content-encoding'], 'gzip');
    assert.equal(t.headers['content-type'], 'application/json');
    const m = data<{ resultType: string; result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> }>(t);
    assert.equal(m.resultType, 'matrix');
    assert.deepEqual(
      m.result.map((s) => [s.metric['code'], s.values.map(([ts, v]) => [ts * 1000, v])]),
      [
        ['200', [8, 12, 16, 20, 24, 28, 32, 36, 40].map((i) => [at(i), String(i * 10)])],
        ['500', [8, 12, 16, 20, 24, 28, 32, 36, 40].map((i) => [at(i), String(i)])],
      ],
    );
    // Plain sums over whole samples: Prometheus 2.42 answers byte for byte the same.
    assert.equal(t.text, p.text);

    const instant = { query: 'rate(grafana_rw_requests_total{code="200"}[1m])', time: secs(at(40)), timeout: '30s' };
    const v = data<{ resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(await post(tsprom.base, '/api/v1/query', instant));
    assert.equal(v.resultType, 'vector');
    assert.equal(v.result.length, 1);
    assert.equal(v.result[0]!.value[0], at(40) / 1000);
    // 10 per 15 s. Prometheus 3.x's windows are left-open (2.x's were closed), which changes the
    // samples a 1m rate sees but not this straight line's slope.
    assert.ok(Math.abs(Number(v.result[0]!.value[1]) - 2 / 3) < 1e-9, v.result[0]!.value[1]);
  });

  test('timeout: seconds or a Prometheus duration; one that has run out is a 503 timeout error', async () => {
    // Grafana passes its "Query timeout" setting through as typed ("60s"); Prometheus durations have no fractions.
    const bad = await post(tsprom.base, '/api/v1/query', { query: '1', timeout: '0.5s' });
    assert.deepEqual(bad.json, { status: 'error', errorType: 'bad_data', error: 'invalid parameter "timeout": cannot parse "0.5s" to a valid duration' });
    // 1 ns: the deadline has passed before evaluation starts. Prometheus names the stage it noticed
    // ("query queue" or "query execution", by the luck of a Go select), so only the prefix is fixed.
    const form = { query: 'grafana_rw_requests_total', time: secs(at(40)), timeout: '0.000000001' };
    for (const r of await Promise.all([post(tsprom.base, '/api/v1/query', form), post(prom.base, '/api/v1/query', form)])) {
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json['errorType'], 'timeout');
      assert.match(String(r.json['error']), /^query timed out in /);
    }
  });

  test('warnings and infos: Prometheus 3.x annotations, each list its own member after data', async () => {
    const q = 'quantile(2, rate(grafana_rw_temp[5m]))';
    const r = await post(tsprom.base, '/api/v1/query', { query: q, time: secs(at(40)) });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json['warnings'], ['PromQL warning: quantile value should be between 0 and 1, got 2 (1:10)']);
    assert.deepEqual(r.json['infos'], ['PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "grafana_rw_temp" (1:18)']);
    // Member order as Go's struct: status, data, warnings, infos.
    assert.deepEqual(Object.keys(r.json), ['status', 'data', 'warnings', 'infos']);
    // Range queries carry them the same way.
    const rr = await post(tsprom.base, '/api/v1/query_range', { query: q, start: secs(at(20)), end: secs(at(40)), step: '60' });
    assert.deepEqual(Object.keys(rr.json), ['status', 'data', 'warnings', 'infos']);
    // Prometheus 2.42 had no annotations: its answer has neither member.
    const p = await post(prom.base, '/api/v1/query', { query: q, time: secs(at(40)) });
    assert.deepEqual(Object.keys(p.json), ['status', 'data']);
  });

  test('label names (POST): match[], start, end and limit; truncation is a warning', async () => {
    const range = { start: secs(at(0)), end: secs(at(40)) };
    const form = { ...range, 'match[]': 'grafana_rw_requests_total', limit: '40000' };
    const [t, p] = await Promise.all([post(tsprom.base, '/api/v1/labels', form), post(prom.base, '/api/v1/labels', form)]);
    assert.deepEqual(data<string[]>(t), ['__name__', 'code', 'instance', 'job']);
    assert.equal(t.text, p.text);
    // `limit` is Prometheus 2.49+; 2.42 ignores it and answers everything.
    const cut = await post(tsprom.base, '/api/v1/labels', { ...form, limit: '2' });
    assert.deepEqual(cut.json, { status: 'success', data: ['__name__', 'code'], warnings: ['results truncated due to limit'] });
    // Nothing matched: empty lists, never null (Grafana's clients check Array.isArray).
    for (const base of [tsprom.base, prom.base]) {
      assert.equal((await post(base, '/api/v1/labels', { ...range, 'match[]': 'no_such_metric' })).text, '{"status":"success","data":[]}');
      assert.equal((await post(base, '/api/v1/series', { ...range, 'match[]': 'no_such_metric' })).text, '{"status":"success","data":[]}');
      assert.equal((await get(base, '/api/v1/label/no_such_label/values', range)).text, '{"status":"success","data":[]}');
    }
    // The backend's resource call keeps the browser's URL parameters and POSTs the body too: Go's
    // r.Form holds both, body first, so both match[] count.
    const both = await call(tsprom.base, `/api/v1/labels?${new URLSearchParams({ 'match[]': 'grafana_rw_utf8' }).toString()}`, { form: { ...range, 'match[]': 'grafana_rw_temp' } });
    assert.deepEqual(data<string[]>(both), ['__name__', 'http.status', 'instance', 'job']);
    // Grafana's "0 = no limit"; a negative one is refused.
    assert.deepEqual(data<string[]>(await post(tsprom.base, '/api/v1/labels', { ...form, limit: '0' })), ['__name__', 'code', 'instance', 'job']);
    const neg = await post(tsprom.base, '/api/v1/labels', { ...form, limit: '-1' });
    assert.deepEqual(neg.json, { status: 'error', errorType: 'bad_data', error: 'invalid parameter "limit": limit must be non-negative' });
    const all = data<string[]>(await post(tsprom.base, '/api/v1/labels', { ...range, limit: '40000' }));
    assert.ok(all.includes('http.status') && all.includes('code'), all.join());
  });

  test('label values (GET): metric names, match[] and limit, and a U__-escaped UTF-8 label name', async () => {
    const range = { start: secs(at(0)), end: secs(at(40)) };
    // The editor's metric list: the last hour up to now, so scraped and recorded series are in it too.
    const hour = { start: secs(Date.now() - 3_600_000), end: secs(Date.now()) };
    const names = data<string[]>(await get(tsprom.base, '/api/v1/label/__name__/values', { ...hour, limit: '40000' }));
    for (const n of ['grafana_rw_requests_total', 'grafana_rw_temp', 'grafana_test_temp_celsius', 'job:up:sum', 'up']) assert.ok(names.includes(n), n);
    const codes = { ...range, 'match[]': 'grafana_rw_requests_total', limit: '40000' };
    const [t, p] = await Promise.all([get(tsprom.base, '/api/v1/label/code/values', codes), get(prom.base, '/api/v1/label/code/values', codes)]);
    assert.equal(t.text, '{"status":"success","data":["200","500"]}');
    assert.equal(t.text, p.text);
    const cut = await get(tsprom.base, '/api/v1/label/code/values', { ...codes, limit: '1' });
    assert.deepEqual(cut.json, { status: 'success', data: ['200'], warnings: ['results truncated due to limit'] });
    // escapeForUtf8Support('"http.status"') in Grafana; Prometheus 3.x unescapes the path name.
    const utf8 = await get(tsprom.base, '/api/v1/label/U__http_2e_status/values', range);
    assert.equal(utf8.text, '{"status":"success","data":["ok"]}');
  });

  test('label values by POST: 405, which sends Grafana back to GET', async () => {
    for (const base of [tsprom.base, prom.base]) {
      const r = await post(base, '/api/v1/label/code/values', { limit: '40000' });
      assert.equal(r.status, 405, `${base}: ${r.text}`);
    }
  });

  test('series (POST): the match-all selector with limit 40000, a named selector truncated by limit', async () => {
    const range = { start: secs(at(0)), end: secs(at(40)) };
    const hour = { start: secs(Date.now() - 3_600_000), end: secs(Date.now()) };
    const all = data<Array<Record<string, string>>>(await post(tsprom.base, '/api/v1/series', { ...hour, 'match[]': '{__name__!=""}', limit: '40000' }));
    assert.ok(all.some((s) => s['__name__'] === 'grafana_rw_utf8' && s['http.status'] === 'ok'));
    assert.ok(all.some((s) => s['__name__'] === 'grafana_test_temp_celsius'));
    const form = { ...range, 'match[]': 'grafana_rw_requests_total' };
    const [t, p] = await Promise.all([post(tsprom.base, '/api/v1/series', form), post(prom.base, '/api/v1/series', form)]);
    assert.equal(
      t.text,
      '{"status":"success","data":[{"__name__":"grafana_rw_requests_total","code":"200","instance":"a","job":"rw"},{"__name__":"grafana_rw_requests_total","code":"500","instance":"a","job":"rw"}]}',
    );
    assert.equal(t.text, p.text);
    const cut = await post(tsprom.base, '/api/v1/series', { ...form, limit: '1' });
    assert.deepEqual(cut.json['warnings'], ['results truncated due to limit']);
    assert.equal((cut.json['data'] as unknown[]).length, 1);
  });

  test('metadata (GET): all, by metric, limit and limit_per_metric; entries are {type, help, unit}', async () => {
    const one = data<Record<string, Metadata[]>>(await get(tsprom.base, '/api/v1/metadata', { metric: 'grafana_test_temp_celsius' }));
    assert.deepEqual(Object.keys(one), ['grafana_test_temp_celsius']);
    // Two targets, two HELP texts: two entries, in no promised order (Prometheus builds them from a Go map).
    assert.deepEqual(
      one['grafana_test_temp_celsius']!.map((m) => m.help).sort(),
      ['Temperature in the lab.', 'Temperature outside.'],
    );
    for (const m of one['grafana_test_temp_celsius']!) assert.deepEqual(Object.keys(m), ['type', 'help', 'unit']);
    assert.equal(one['grafana_test_temp_celsius']![0]!.type, 'gauge');
    const perMetric = data<Record<string, Metadata[]>>(await get(tsprom.base, '/api/v1/metadata', { metric: 'grafana_test_temp_celsius', limit_per_metric: '1' }));
    assert.equal(perMetric['grafana_test_temp_celsius']!.length, 1);
    const all = data<Record<string, Metadata[]>>(await get(tsprom.base, '/api/v1/metadata'));
    assert.deepEqual(all['grafana_test_requests_total'], [{ type: 'counter', help: 'Requests served.', unit: '' }]);
    const limited = data<Record<string, Metadata[]>>(await get(tsprom.base, '/api/v1/metadata', { limit: '1' }));
    assert.equal(Object.keys(limited).length, 1);
    const none = await get(tsprom.base, '/api/v1/metadata', { metric: 'no_such_metric' });
    assert.equal(none.text, '{"status":"success","data":{}}');
    // limit=0 is a limit of nothing in /metadata (its default is -1), unlike labels and series.
    assert.equal((await get(tsprom.base, '/api/v1/metadata', { limit: '0' })).text, '{"status":"success","data":{}}');
    const bad = await get(tsprom.base, '/api/v1/metadata', { limit: 'x' });
    assert.deepEqual(bad.json, { status: 'error', errorType: 'bad_data', error: 'limit must be a number' });
    assert.equal(bad.status, 400);
    // Prometheus 2.42 answers the same shapes.
    const p = data<Record<string, Metadata[]>>(await get(prom.base, '/api/v1/metadata', { metric: 'grafana_test_requests_total' }));
    assert.deepEqual(p['grafana_test_requests_total'], [{ type: 'counter', help: 'Requests served.', unit: '' }]);
  });

  test('query_exemplars: the backend form POST, and the probe with milliseconds read as seconds', async () => {
    const range = { query: 'grafana_rw_requests_total', start: secs(at(0)), end: secs(at(40)) };
    const [t, p] = await Promise.all([post(tsprom.base, '/api/v1/query_exemplars', range), post(prom.base, '/api/v1/query_exemplars', range)]);
    assert.equal(
      t.text,
      `{"status":"success","data":[{"seriesLabels":{"__name__":"grafana_rw_requests_total","code":"200","instance":"a","job":"rw"},"exemplars":[{"labels":{"trace_id":"abc123"},"value":"123","timestamp":${EXEMPLAR_T / 1000}}]}]}`,
    );
    assert.equal(t.text, p.text);
    // areExemplarsAvailable(): start/end are Date.valueOf() strings. Read as Unix seconds they lie
    // some 55,000 years ahead; Prometheus parses them all the same and finds nothing: success, [].
    const now = Date.now();
    const probe = { query: 'test', start: String(now - 30 * 60_000), end: String(now) };
    for (const r of await Promise.all([post(tsprom.base, '/api/v1/query_exemplars', probe), post(prom.base, '/api/v1/query_exemplars', probe)])) {
      assert.equal(r.text, '{"status":"success","data":[]}');
    }
  });

  test('rules: recording rules as Grafana reads them (type, name, query) and Prometheus 3.x fields', async () => {
    const [t, p] = await Promise.all([get(tsprom.base, '/api/v1/rules'), get(prom.base, '/api/v1/rules')]);
    type Group = Record<string, unknown> & { rules: Array<Record<string, unknown>> };
    const groups = data<{ groups: Group[] }>(t).groups;
    const pg = data<{ groups: Group[] }>(p).groups;
    // tsprom adds its built-in "tsprom-self" group (alerts only, so Grafana's recording-rule
    // mapping holds the user's rules alone); --no-rules.self-monitoring removes it.
    const self = groups.filter((x) => x['name'] === 'tsprom-self');
    assert.deepEqual(self.flatMap((x) => x.rules.filter((r) => r['type'] === 'recording')), []);
    const tg = groups.filter((x) => x['name'] !== 'tsprom-self');
    assert.equal(tg.length, 1);
    const g = tg[0]!;
    assert.deepEqual(Object.keys(g), ['name', 'file', 'rules', 'interval', 'limit', 'evaluationTime', 'lastEvaluation']);
    assert.deepEqual(Object.keys(g).sort(), Object.keys(pg[0]!).sort());
    assert.equal(g['interval'], 1);
    const [rec, alert] = g.rules;
    // Grafana's extractRuleMappingFromGroups: rule.type === 'recording' -> rule.name: rule.query.
    assert.equal(rec!['type'], 'recording');
    assert.equal(rec!['name'], 'job:up:sum');
    assert.equal(rec!['query'], 'sum by (job) (up)');
    assert.deepEqual(Object.keys(rec!), ['name', 'query', 'labels', 'health', 'evaluationTime', 'lastEvaluation', 'type']);
    assert.deepEqual(Object.keys(alert!), ['state', 'name', 'query', 'duration', 'keepFiringFor', 'labels', 'annotations', 'alerts', 'health', 'evaluationTime', 'lastEvaluation', 'type']);
    // A recording rule without labels: 3.x writes "labels":{} (its Labels are a struct, which
    // omitempty keeps); 2.x's slice was omitted when empty.
    assert.deepEqual(rec!['labels'], {});
    assert.deepEqual(Object.keys(pg[0]!.rules[0]!).sort(), Object.keys(rec!).filter((k) => k !== 'labels').sort());
    assert.deepEqual(Object.keys(alert!).sort(), Object.keys(pg[0]!.rules[1]!).sort());
    assert.equal(alert!['state'], 'firing');
    const types = data<{ groups: Group[] }>(await get(tsprom.base, '/api/v1/rules', { type: 'record' })).groups.flatMap((x) => x.rules.map((r) => r['type']));
    assert.deepEqual(types, ['recording']);
  });

  test('alerts: {alerts: [{labels, annotations, state, activeAt, value}]}', async () => {
    const [t, p] = await Promise.all([get(tsprom.base, '/api/v1/alerts'), get(prom.base, '/api/v1/alerts')]);
    const [a] = data<{ alerts: Array<Record<string, unknown>> }>(t).alerts;
    assert.deepEqual(Object.keys(a!), ['labels', 'annotations', 'state', 'activeAt', 'value']);
    assert.deepEqual(Object.keys(a!), Object.keys(data<{ alerts: Array<Record<string, unknown>> }>(p).alerts[0]!));
    assert.deepEqual(a!['labels'], { alertname: 'GrafanaAlwaysFiring', severity: 'page' });
    assert.deepEqual(a!['annotations'], { summary: 'always firing' });
    assert.equal(a!['state'], 'firing');
    assert.equal(a!['value'], '1e+00');
    assert.match(String(a!['activeAt']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });

  test('status/*: the GET-only endpoints Grafana proxies, with Prometheus 3.x members', async () => {
    const config = data<{ yaml: string }>(await get(tsprom.base, '/api/v1/status/config'));
    assert.match(config.yaml, /job_name: app/);
    const flags = data<Record<string, string>>(await get(tsprom.base, '/api/v1/status/flags'));
    assert.equal(flags['web.enable-remote-write-receiver'], 'true');
    const [rt, rp] = await Promise.all([get(tsprom.base, '/api/v1/status/runtimeinfo'), get(prom.base, '/api/v1/status/runtimeinfo')]);
    const runtime = data<Record<string, unknown>>(rt);
    const v3 = ['startTime', 'CWD', 'hostname', 'serverTime', 'reloadConfigSuccess', 'lastConfigTime', 'corruptionCount', 'goroutineCount', 'GOMAXPROCS', 'GOMEMLIMIT', 'GOGC', 'GODEBUG', 'storageRetention'];
    assert.deepEqual(Object.keys(runtime), v3);
    // 3.x added hostname, serverTime and GOMEMLIMIT; 2.42 has the rest.
    assert.deepEqual(Object.keys(data<Record<string, unknown>>(rp)).sort(), v3.filter((k) => !['hostname', 'serverTime', 'GOMEMLIMIT'].includes(k)).sort());
    assert.equal(runtime['reloadConfigSuccess'], true);
    const tsdb = data<Record<string, unknown>>(await get(tsprom.base, '/api/v1/status/tsdb'));
    // Prometheus's members in its order, plus tsprom's documented headSeriesLimit (docs/operations.md).
    assert.deepEqual(
      Object.keys(tsdb).filter((k) => k !== 'headSeriesLimit'),
      ['headStats', 'seriesCountByMetricName', 'labelValueCountByLabelName', 'memoryInBytesByLabelName', 'seriesCountByLabelValuePair'],
    );
    assert.deepEqual(Object.keys(tsdb['headStats'] as object), ['numSeries', 'numLabelPairs', 'chunkCount', 'minTime', 'maxTime']);
    const targets = data<{ activeTargets: Array<{ health: string; scrapePool: string }> }>(await get(tsprom.base, '/api/v1/targets', { state: 'active' }));
    assert.deepEqual(targets.activeTargets.map((t) => [t.scrapePool, t.health]), [['app', 'up'], ['app', 'up']]);
    const wal = data<Record<string, unknown>>(await get(tsprom.base, '/api/v1/status/walreplay'));
    assert.deepEqual(Object.keys(wal), ['min', 'max', 'current']);
  });

  test('headers: JSON content type on answers and errors; CORS for a browser Origin; preflight', async () => {
    const err = await post(tsprom.base, '/api/v1/query', { query: 'sum(' });
    assert.equal(err.status, 400);
    assert.equal(err.headers['content-type'], 'application/json');
    assert.equal(err.json['errorType'], 'bad_data');
    const cors = await call(tsprom.base, '/api/v1/labels', { headers: { Origin: 'https://grafana.example' } });
    assert.equal(cors.headers['access-control-allow-origin'], '*');
    const pre = await call(tsprom.base, '/api/v1/query', { method: 'OPTIONS', headers: { Origin: 'https://grafana.example', 'Access-Control-Request-Method': 'POST' } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-methods'], 'GET, POST, OPTIONS');
    // Prometheus's handler sets CORS headers only when the request names an Origin.
    const none = await call(tsprom.base, '/api/v1/labels');
    assert.equal(none.headers['access-control-allow-origin'], undefined);
  });
});

test('--web.cors.origin: a matching Origin is echoed, another gets no Allow-Origin (anchored regex, as Prometheus)', async () => {
  const s = await startTsprom({ args: ['--web.cors.origin=https?://grafana\\.example'] });
  try {
    const ok = await call(s.base, '/api/v1/labels', { headers: { Origin: 'https://grafana.example' } });
    assert.equal(ok.headers['access-control-allow-origin'], 'https://grafana.example');
    const other = await call(s.base, '/api/v1/labels', { headers: { Origin: 'https://grafana.example.evil' } });
    assert.equal(other.status, 200);
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    assert.equal(other.headers['access-control-allow-methods'], 'GET, POST, OPTIONS');
  } finally {
    await s.stop();
  }
});
