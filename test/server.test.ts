// The HTTP server in-process, on MemoryStorage with a stand-in engine: routing,
// readiness, lifecycle and reload, limits, compression, prefixes, auth.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { TsPromServer, type Components, type ServerStorage } from '../src/cli/server.js';
import { parseArgs, type ServerFlags } from '../src/cli/flags.js';
import { MemoryStorage } from '../src/storage/memory.js';
import { nopLogger } from '../src/logging/types.js';
import { Labels } from '../src/model/labels.js';
import { fakeEngine, fakeParser } from './server_fakes.js';
import { writeRequestBody } from './remote_write_proto.js';
import { bcryptHash } from '../src/web/bcrypt.js';

function flagsOf(args: string[]): ServerFlags {
  const p = parseArgs(args);
  if (p.kind !== 'run') throw new Error('expected run');
  return p.flags;
}

interface Started {
  server: TsPromServer;
  base: string;
  port: number;
  storage: MemoryStorage;
  dir: string;
}

function components(storage: MemoryStorage, gate?: Promise<void>): Components {
  return {
    openStorage: async () => {
      await gate;
      return storage as ServerStorage;
    },
    createEngine: (o) => fakeEngine(o),
    createParser: () => fakeParser,
  };
}

async function start(extra: string[] = [], opts: { gate?: Promise<void>; config?: string; waitReady?: boolean } = {}): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'tsprom-server-'));
  writeFileSync(join(dir, 'p.yml'), opts.config ?? 'global:\n  scrape_interval: 15s\n  external_labels: {region: eu}\n');
  const storage = new MemoryStorage();
  const flags = flagsOf([`--config.file=${join(dir, 'p.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, '--web.listen-address=127.0.0.1:0', ...extra]);
  const server = new TsPromServer(flags, components(storage, opts.gate), { logger: nopLogger, registry: new Registry() });
  let port = 0;
  const started = server.start();
  if (opts.waitReady === false) {
    // listen() happens before storage opens; poll for the port.
    for (;;) {
      const addr = (server as unknown as { web: { server: { address(): { port: number } | null } | null } }).web.server?.address();
      if (addr) {
        port = addr.port;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    void started;
  } else {
    port = (await started).port;
  }
  return { server, base: `http://127.0.0.1:${port}`, port, storage, dir };
}

async function stop(s: Started): Promise<void> {
  await s.server.shutdown();
  rmSync(s.dir, { recursive: true, force: true });
}

async function getJSON(url: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(url, init);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

function form(params: Record<string, string | string[]>): RequestInit {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
  return { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } };
}

const T0 = 1_700_000_000_000;

describe('server in-process', () => {
  let s: Started;
  before(async () => {
    s = await start(['--web.enable-remote-write-receiver', '--web.enable-lifecycle']);
    const app = s.storage.appender();
    app.append(0, Labels.fromPairs('__name__', 'up', 'job', 'a', 'instance', 'x:1'), T0, 1);
    app.append(0, Labels.fromPairs('__name__', 'up', 'job', 'b', 'instance', 'y:2'), T0, 0);
    app.append(0, Labels.fromPairs('__name__', 'temp', 'city', 'a<b'), T0 - 15_000, -1.5e-7);
    app.append(0, Labels.fromPairs('__name__', 'temp', 'city', 'a<b'), T0, 2.5);
    app.commit();
  });
  after(() => stop(s));

  test('health and readiness', async () => {
    const h = await fetch(`${s.base}/-/healthy`);
    assert.equal(h.status, 200);
    assert.equal(await h.text(), 'Prometheus Server is Healthy.\n');
    const r = await fetch(`${s.base}/-/ready`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'Prometheus Server is Ready.\n');
    const head = await fetch(`${s.base}/-/healthy`, { method: 'HEAD' });
    assert.equal(head.status, 200);
  });

  test('instant query JSON is Prometheus-shaped', async () => {
    const { status, body } = await getJSON(`${s.base}/api/v1/query?query=temp&time=${T0 / 1000}`);
    assert.equal(status, 200);
    assert.deepEqual(body, {
      status: 'success',
      data: { resultType: 'vector', result: [{ metric: { __name__: 'temp', city: 'a<b' }, value: [T0 / 1000, '2.5'] }] },
    });
    const raw = await (await fetch(`${s.base}/api/v1/query?query=temp&time=${T0 / 1000}`)).text();
    // Label values are not HTML-escaped in results (json-iterator's plain string writer).
    assert.equal(raw, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"temp","city":"a<b"},"value":[${T0 / 1000},"2.5"]}]}}`);
    const sc = await getJSON(`${s.base}/api/v1/query?query=42&time=1.5`);
    assert.deepEqual(sc.body['data'], { resultType: 'scalar', result: [1.5, '42'] });
    const st = await getJSON(`${s.base}/api/v1/query`, form({ query: '"hi"', time: '2015-07-01T20:10:51.781Z' }));
    assert.deepEqual(st.body['data'], { resultType: 'string', result: [1435781451.781, 'hi'] });
  });

  test('range query, limit and stats', async () => {
    const { body } = await getJSON(`${s.base}/api/v1/query_range?query=temp&start=${(T0 - 15_000) / 1000}&end=${T0 / 1000}&step=15`);
    assert.deepEqual(body['data'], {
      resultType: 'matrix',
      result: [{ metric: { __name__: 'temp', city: 'a<b' }, values: [[(T0 - 15_000) / 1000, '-1.5e-07'], [T0 / 1000, '2.5']] }],
    });
    const lim = await getJSON(`${s.base}/api/v1/query?query=up&time=${T0 / 1000}&limit=1&stats=all`);
    const data = lim.body['data'] as Record<string, unknown>;
    assert.equal((data['result'] as unknown[]).length, 1);
    assert.deepEqual(lim.body['warnings'], ['results truncated due to limit']);
    assert.deepEqual(Object.keys(data['stats'] as object), ['timings', 'samples']);
  });

  test('query errors use Prometheus types, codes and wording', async () => {
    const cases: Array<[string, number, string, string]> = [
      ['query?query=', 400, 'bad_data', 'invalid parameter "query": unknown position: parse error: no expression found in input'],
      ['query?query=up&time=abc', 400, 'bad_data', `invalid parameter "time": invalid time value for 'time': cannot parse "abc" to a valid timestamp`],
      ['query?query=up&timeout=zz', 400, 'bad_data', 'invalid parameter "timeout": cannot parse "zz" to a valid duration'],
      ['query?query=up&limit=-2', 400, 'bad_data', 'invalid parameter "limit": limit must be non-negative'],
      ['query?query=up&lookback_delta=x', 400, 'bad_data', 'error parsing lookback delta duration: cannot parse "x" to a valid duration'],
      ['query_range?query=up&start=10&end=5&step=1', 400, 'bad_data', 'invalid parameter "end": end timestamp must not be before start time'],
      ['query_range?query=up&end=5&step=1', 400, 'bad_data', 'invalid parameter "start": cannot parse "" to a valid timestamp'],
      ['query_range?query=up&start=0&end=5&step=0', 400, 'bad_data', 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer'],
      ['query_range?query=up&start=0&end=5&step=x', 400, 'bad_data', 'invalid parameter "step": cannot parse "x" to a valid duration'],
      [
        'query_range?query=up&start=0&end=11001&step=1',
        400,
        'bad_data',
        'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
      ],
      ['query?query=fail', 422, 'execution', 'evaluation failed on purpose'],
      ['query?query=slow&timeout=0.05', 503, 'timeout', 'query timed out in query execution'],
    ];
    for (const [path, code, type, msg] of cases) {
      const { status, body } = await getJSON(`${s.base}/api/v1/${path}`);
      assert.equal(status, code, path);
      assert.deepEqual(body, { status: 'error', errorType: type, error: msg }, path);
    }
    const ok = await getJSON(`${s.base}/api/v1/query_range?query=up&start=0&end=11000&step=1`);
    assert.equal(ok.status, 200);
  });

  test('series, labels and label values', async () => {
    const series = await getJSON(`${s.base}/api/v1/series`, form({ 'match[]': ['up{job="b"}', 'temp'] }));
    assert.deepEqual(series.body['data'], [
      { __name__: 'temp', city: 'a<b' },
      { __name__: 'up', instance: 'y:2', job: 'b' },
    ]);
    const labels = await getJSON(`${s.base}/api/v1/labels`);
    assert.deepEqual(labels.body['data'], ['__name__', 'city', 'instance', 'job']);
    const lim = await getJSON(`${s.base}/api/v1/labels?limit=2`);
    assert.deepEqual(lim.body, { status: 'success', data: ['__name__', 'city'], warnings: ['results truncated due to limit'] });
    const vals = await getJSON(`${s.base}/api/v1/label/job/values?match[]=up`);
    assert.deepEqual(vals.body['data'], ['a', 'b']);
    const none = await getJSON(`${s.base}/api/v1/label/nothing/values`);
    assert.deepEqual(none.body['data'], []);
    const esc = await getJSON(`${s.base}/api/v1/label/U__ci_74_y/values`);
    assert.deepEqual(esc.body['data'], ['a<b']);

    const bad: Array<[string, string]> = [
      ['series', 'no match[] parameter provided'],
      ['series?match[]={job=~".*"}', 'invalid parameter "match[]": match[] must contain at least one non-empty matcher'],
      ['series?match[]=up{', 'invalid parameter "match[]": 1:1: parse error: unexpected character: "u"'],
      ['labels?match[]={job=~".*"}', 'match[] must contain at least one non-empty matcher'],
      ['series?match[]=up&start=x', `invalid parameter "start": invalid time value for 'start': cannot parse "x" to a valid timestamp`],
    ];
    for (const [path, msg] of bad) {
      const { status, body } = await getJSON(`${s.base}/api/v1/${path}`);
      assert.equal(status, 400, path);
      assert.equal(body['error'], msg, path);
    }
  });

  test('format_query, parse_query and query_exemplars', async () => {
    const f = await getJSON(`${s.base}/api/v1/format_query?query=${encodeURIComponent('up{job="a"}')}`);
    assert.deepEqual(f.body, { status: 'success', data: 'up{job="a"}' });
    const p = await getJSON(`${s.base}/api/v1/parse_query?query=up`);
    assert.equal((p.body['data'] as Record<string, unknown>)['type'], 'vectorSelector');
    const bad = await getJSON(`${s.base}/api/v1/format_query?query=`);
    assert.equal(bad.status, 400);
    const ex = await getJSON(`${s.base}/api/v1/query_exemplars?query=up`);
    assert.deepEqual(ex.body, { status: 'success', data: [] });
    const exNone = await fetch(`${s.base}/api/v1/query_exemplars?query=1`);
    assert.equal(exNone.status, 204);
    const exBad = await getJSON(`${s.base}/api/v1/query_exemplars?query=up&start=10&end=5`);
    assert.equal(exBad.body['error'], 'end timestamp must not be before start timestamp');
  });

  test('status endpoints', async () => {
    const cfg = await getJSON(`${s.base}/api/v1/status/config`);
    assert.match((cfg.body['data'] as { yaml: string }).yaml, /scrape_interval: 15s/);
    const flags = await getJSON(`${s.base}/api/v1/status/flags`);
    assert.equal((flags.body['data'] as Record<string, string>)['query.timeout'], '2m');
    assert.equal((flags.body['data'] as Record<string, string>)['storage.tsdb.retention.time'], '15d');
    const bi = await getJSON(`${s.base}/api/v1/status/buildinfo`);
    assert.deepEqual(Object.keys(bi.body['data'] as object), ['version', 'revision', 'branch', 'buildUser', 'buildDate', 'goVersion']);
    const rt = await getJSON(`${s.base}/api/v1/status/runtimeinfo`);
    assert.equal((rt.body['data'] as Record<string, unknown>)['storageRetention'], '15d');
    const wal = await getJSON(`${s.base}/api/v1/status/walreplay`);
    assert.deepEqual(wal.body, { status: 'success', data: { min: 0, max: 0, current: 0 } });
    const ts = await getJSON(`${s.base}/api/v1/status/tsdb?limit=0`);
    assert.deepEqual(ts.body, { status: 'error', errorType: 'bad_data', error: 'limit must be a positive number' });
    const md = await getJSON(`${s.base}/api/v1/metadata?limit=x`);
    assert.equal(md.body['error'], 'limit must be a number');
    assert.deepEqual((await getJSON(`${s.base}/api/v1/metadata`)).body, { status: 'success', data: {} });
  });

  test('admin API is off by default', async () => {
    for (const p of ['tsdb/delete_series?match[]=up', 'tsdb/clean_tombstones', 'tsdb/snapshot']) {
      const { status, body } = await getJSON(`${s.base}/api/v1/admin/${p}`, { method: 'POST' });
      assert.equal(status, 500);
      assert.deepEqual(body, { status: 'error', errorType: 'unavailable', error: 'admin APIs disabled' });
    }
  });

  test('remote write lands and is queryable; malformed bodies change nothing', async () => {
    const now = Date.now();
    const body = writeRequestBody([{ labels: { __name__: 'rw_metric', src: 'test' }, samples: [[now - 1000, 7]] }]);
    const r = await fetch(`${s.base}/api/v1/write`, { method: 'POST', body, headers: { 'Content-Encoding': 'snappy', 'Content-Type': 'application/x-protobuf' } });
    assert.equal(r.status, 204);
    const q = await getJSON(`${s.base}/api/v1/query?query=rw_metric&time=${now / 1000}`);
    assert.equal(((q.body['data'] as { result: unknown[] }).result).length, 1);
    const before = s.storage.numSeries();
    const bad = await fetch(`${s.base}/api/v1/write`, { method: 'POST', body: Buffer.from('garbage') });
    assert.equal(bad.status, 400);
    assert.equal(s.storage.numSeries(), before);
  });

  test('oversized bodies are refused with 413', async () => {
    const big = 'query=' + 'x'.repeat(11 * 1024 * 1024);
    const r = await fetch(`${s.base}/api/v1/query`, { method: 'POST', body: big, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.equal(r.status, 413);
  });

  test('responses are gzip-compressed when asked', async () => {
    const res = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      const req = request(`${s.base}/metrics`, { headers: { 'Accept-Encoding': 'gzip' } }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => resolve({ headers: r.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.match(gunzipSync(res.body).toString(), /prometheus_http_requests_total/);
  });

  test('own metrics', async () => {
    const text = await (await fetch(`${s.base}/metrics`)).text();
    for (const name of [
      'prometheus_http_requests_total{code="200",handler="/api/v1/query"}',
      'prometheus_http_request_duration_seconds_bucket',
      'prometheus_engine_query_duration_seconds{',
      'prometheus_engine_queries ',
      'prometheus_build_info{',
      'prometheus_config_last_reload_successful 1',
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'prometheus_ready 1',
    ]) {
      assert.ok(text.includes(name), name);
    }
  });

  test('federation serves the latest samples with external labels', async () => {
    const t = await (await fetch(`${s.base}/federate?match[]=up`)).text();
    // Samples at T0 are older than the lookback window from now; federate a fresh one.
    assert.equal(t, '');
    const app = s.storage.appender();
    const now = Date.now();
    app.append(0, Labels.fromPairs('__name__', 'fed', 'job', 'j'), now - 1000, 1234567);
    app.commit();
    const t2 = await (await fetch(`${s.base}/federate?match[]=fed`)).text();
    assert.equal(t2, `# TYPE fed untyped\nfed{job="j",instance="",region="eu"} 1.234567e+06 ${now - 1000}\n`);
    const bad = await fetch(`${s.base}/federate?match[]=fed{`);
    assert.equal(bad.status, 400);
  });

  test('unknown paths and methods', async () => {
    assert.equal((await fetch(`${s.base}/nope`)).status, 404);
    assert.equal((await fetch(`${s.base}/api/v1/labels`, { method: 'DELETE' })).status, 405);
    assert.equal((await fetch(`${s.base}/-/reload`)).status, 405);
    const opt = await fetch(`${s.base}/api/v1/query`, { method: 'OPTIONS', headers: { Origin: 'http://x' } });
    assert.equal(opt.status, 204);
    // The default --web.cors.origin (".*") answers with "*", as Prometheus does.
    assert.equal(opt.headers.get('access-control-allow-origin'), '*');
    assert.equal(opt.headers.get('access-control-allow-methods'), 'GET, POST, OPTIONS');
    const noOrigin = await fetch(`${s.base}/api/v1/labels`);
    assert.equal(noOrigin.headers.get('access-control-allow-origin'), null);
    assert.match(noOrigin.headers.get('vary') ?? '', /Origin/);
  });
});

describe('server lifecycle', () => {
  test('/-/ready is 503 until storage is open; the API too; walreplay answers', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const s = await start([], { gate, waitReady: false });
    try {
      assert.equal((await fetch(`${s.base}/-/ready`)).status, 503);
      assert.equal((await fetch(`${s.base}/-/healthy`)).status, 200);
      const q = await fetch(`${s.base}/api/v1/query?query=up`);
      assert.equal(q.status, 503);
      assert.equal(await q.text(), 'Service Unavailable');
      assert.equal((await fetch(`${s.base}/api/v1/status/walreplay`)).status, 200);
      open();
      for (let i = 0; i < 200 && (await fetch(`${s.base}/-/ready`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal((await fetch(`${s.base}/-/ready`)).status, 200);
    } finally {
      open();
      await stop(s);
    }
  });

  test('lifecycle endpoints are refused unless enabled', async () => {
    const s = await start();
    try {
      const r = await fetch(`${s.base}/-/reload`, { method: 'POST' });
      assert.equal(r.status, 403);
      assert.equal(await r.text(), 'Lifecycle API is not enabled.');
      assert.equal((await fetch(`${s.base}/-/quit`, { method: 'PUT' })).status, 403);
      const rw = await fetch(`${s.base}/api/v1/write`, { method: 'POST', body: 'x' });
      assert.equal(rw.status, 404);
      assert.match(await rw.text(), /remote write receiver needs to be enabled with --web.enable-remote-write-receiver/);
    } finally {
      await stop(s);
    }
  });

  test('a broken config on reload is rejected and the old one keeps running', async () => {
    const s = await start(['--web.enable-lifecycle']);
    try {
      writeFileSync(join(s.dir, 'p.yml'), 'global:\n  scrape_interval: 1x\n');
      const r = await fetch(`${s.base}/-/reload`, { method: 'POST' });
      assert.equal(r.status, 500);
      assert.match(await r.text(), /^failed to reload config: .*p\.yml:2: global\.scrape_interval: unknown unit "x" in duration "1x"/);
      const metrics = await (await fetch(`${s.base}/metrics`)).text();
      assert.match(metrics, /prometheus_config_last_reload_successful 0/);
      const cfg = await getJSON(`${s.base}/api/v1/status/config`);
      assert.match((cfg.body['data'] as { yaml: string }).yaml, /scrape_interval: 15s/);
      assert.equal(((await getJSON(`${s.base}/api/v1/status/runtimeinfo`)).body['data'] as Record<string, unknown>)['reloadConfigSuccess'], false);

      // A query log that cannot be opened fails the reload the same way.
      writeFileSync(join(s.dir, 'p.yml'), 'global:\n  scrape_interval: 45s\n  query_log_file: /dev/null/q.log\n');
      const r2 = await fetch(`${s.base}/-/reload`, { method: 'POST' });
      assert.equal(r2.status, 500);
      assert.match(await r2.text(), /failed to reload config: can't create json log file "\/dev\/null\/q.log"/);
      assert.doesNotMatch(((await getJSON(`${s.base}/api/v1/status/config`)).body['data'] as { yaml: string }).yaml, /45s/);

      writeFileSync(join(s.dir, 'p.yml'), 'global:\n  scrape_interval: 30s\n');
      assert.equal((await fetch(`${s.base}/-/reload`, { method: 'POST' })).status, 200);
      const cfg2 = await getJSON(`${s.base}/api/v1/status/config`);
      assert.match((cfg2.body['data'] as { yaml: string }).yaml, /scrape_interval: 30s/);
      assert.match(await (await fetch(`${s.base}/metrics`)).text(), /prometheus_config_last_reload_successful 1/);

      const quit = await fetch(`${s.base}/-/quit`, { method: 'POST' });
      assert.equal(await quit.text(), 'Requesting termination... Goodbye!');
      await s.server.done;
    } finally {
      await stop(s);
    }
  });

  test('route prefix and external URL', async () => {
    const s = await start(['--web.external-url=http://example.com/prom/']);
    try {
      assert.equal((await fetch(`${s.base}/prom/-/ready`)).status, 200);
      assert.equal((await fetch(`${s.base}/-/ready`)).status, 404);
      const root = await fetch(`${s.base}/`, { redirect: 'manual' });
      assert.equal(root.status, 302);
      assert.equal(root.headers.get('location'), '/prom');
      assert.equal((await fetch(`${s.base}/prom/api/v1/query?query=1`)).status, 200);
    } finally {
      await stop(s);
    }
    const s2 = await start(['--web.route-prefix=/x']);
    try {
      assert.equal((await fetch(`${s2.base}/x/api/v1/labels`)).status, 200);
    } finally {
      await stop(s2);
    }
  });

  test('basic auth from the web config file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsprom-webcfg-'));
    const hash = bcryptHash('s3cret', '$2y$04$abcdefghijklmnopqrstuu');
    writeFileSync(join(dir, 'web.yml'), `basic_auth_users:\n  alice: ${hash}\n`);
    const s = await start([`--web.config.file=${join(dir, 'web.yml')}`]);
    try {
      const no = await fetch(`${s.base}/-/healthy`);
      assert.equal(no.status, 401);
      assert.equal(no.headers.get('www-authenticate'), 'Basic');
      const auth = (u: string, p: string) => ({ headers: { Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` } });
      assert.equal((await fetch(`${s.base}/-/healthy`, auth('alice', 'wrong'))).status, 401);
      assert.equal((await fetch(`${s.base}/-/healthy`, auth('bob', 's3cret'))).status, 401);
      assert.equal((await fetch(`${s.base}/-/healthy`, auth('alice', 's3cret'))).status, 200);
    } finally {
      await stop(s);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('TLS from the web config file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsprom-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1'], { stdio: 'ignore' });
    writeFileSync(join(dir, 'web.yml'), 'tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n');
    const s = await start([`--web.config.file=${join(dir, 'web.yml')}`]);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        httpsRequest(`https://127.0.0.1:${s.port}/-/healthy`, { ca: readFileSync(join(dir, 'c.pem')) }, (r) => {
          let b = '';
          r.on('data', (c: Buffer) => (b += c.toString()));
          r.on('end', () => resolve(b));
        })
          .on('error', reject)
          .end();
      });
      assert.equal(body, 'Prometheus Server is Healthy.\n');
      await assert.rejects(fetch(`http://127.0.0.1:${s.port}/-/healthy`));
    } finally {
      await stop(s);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
