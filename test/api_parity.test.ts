// The HTTP API in-process on the real engine and parser over MemoryStorage,
// checked against what Prometheus 3.x's web/api/v1 answers: parameters and
// their precedence, value and timestamp formats, warnings, compression,
// streaming of big answers, CORS.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { Labels } from '../src/model/labels.js';
import { MemoryStorage } from '../src/storage/memory.js';
import { WebServer } from '../src/web/server.js';
import { createApiRoutes } from '../src/web/api/v1.js';
import { queryApiDeps } from './api_deps.js';

const T = 1_700_000_000_000;

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function raw(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const headers = { ...opts.headers, ...(opts.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(opts.body)) } : {}) };
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('API parity with Prometheus 3.x', () => {
  let web: WebServer;
  let port: number;
  const storage = new MemoryStorage();
  const get = async (path: string): Promise<{ status: number; text: string; json: Record<string, unknown> }> => {
    const r = await raw(port, `/api/v1/${path}`);
    const text = r.body.toString('utf8');
    return { status: r.status, text, json: JSON.parse(text) as Record<string, unknown> };
  };

  before(async () => {
    const app = storage.appender();
    // Created out of label order: instant vectors keep storage order, matrices are sorted.
    for (const inst of ['c', 'a', 'b']) {
      for (let i = 0; i <= 20; i++) app.append(0, Labels.fromPairs('__name__', 'g', 'inst', inst), T - 300_000 + i * 15_000, i + 0.5);
    }
    app.append(0, Labels.fromPairs('__name__', 'tiny', 'note', '<&>'), T, 1.5e-7);
    for (const v of ['b', 'é', 'Z', '\u{1F600}', '\uFFFD', 'a']) app.append(0, Labels.fromPairs('__name__', 'u', 'v', v), T, 1);
    app.commit();
    web = new WebServer({ listenAddress: '127.0.0.1:0' });
    web.api(
      createApiRoutes(queryApiDeps(storage)),
    );
    web.ready = true;
    port = ((await web.listen()) as AddressInfo).port;
  });
  after(() => web.close());

  test('sample timestamps keep three decimals; values switch to exponent form; labels are not HTML-escaped', async () => {
    const r = await get(`query?query=tiny&time=${(T + 500) / 1000}`);
    assert.equal(r.text, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"tiny","note":"<&>"},"value":[${T / 1000}.500,"1.5e-07"]}]}}`);
    const sc = await get(`query?query=${encodeURIComponent('0.00000015')}&time=1.5`);
    // Scalars are formatted by their own MarshalJSON: plain float timestamp, 'f' format value.
    assert.equal(sc.text, '{"status":"success","data":{"resultType":"scalar","result":[1.5,"0.00000015"]}}');
    const st = await get(`query?query=${encodeURIComponent('"<b>"')}&time=2`);
    assert.equal(st.text, '{"status":"success","data":{"resultType":"string","result":[2,"\\u003cb\\u003e"]}}');
  });

  test('instant vectors keep the order of storage; range results are sorted by labels', async () => {
    const v = await get(`query?query=g&time=${T / 1000}`);
    const insts = (v.json['data'] as { result: Array<{ metric: { inst: string } }> }).result.map((s) => s.metric.inst);
    assert.deepEqual(insts, ['c', 'a', 'b']);
    const m = await get(`query_range?query=g&start=${(T - 60_000) / 1000}&end=${T / 1000}&step=30`);
    const minst = (m.json['data'] as { result: Array<{ metric: { inst: string } }> }).result.map((s) => s.metric.inst);
    assert.deepEqual(minst, ['a', 'b', 'c']);
  });

  test('form body values take precedence over the query string', async () => {
    const r = await raw(port, `/api/v1/query?query=nonexistent&time=1`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `query=${encodeURIComponent('42')}&time=3`,
    });
    assert.equal(r.body.toString(), '{"status":"success","data":{"resultType":"scalar","result":[3,"42"]}}');
    // A GET body is not a form.
    const g = await raw(port, `/api/v1/query?query=1&time=1`, { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'query=2' });
    assert.equal(g.body.toString(), '{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}');
  });

  test('range query parameters: float or duration steps, Prometheus wording for bad ones', async () => {
    const ok = await get(`query_range?query=1&start=0&end=60&step=1m`);
    assert.deepEqual((ok.json['data'] as { result: unknown }).result, [{ metric: {}, values: [[0, '1'], [60, '1']] }]);
    const half = await get(`query_range?query=1&start=0&end=1&step=0.5`);
    assert.deepEqual((half.json['data'] as { result: unknown }).result, [{ metric: {}, values: [[0, '1'], [0.5, '1'], [1, '1']] }]);
    const cases: Array<[string, string]> = [
      ['start=0&end=1&step=0', 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer'],
      ['start=0&end=1&step=-1', 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer'],
      ['start=0&end=1&step=-1s', 'invalid parameter "step": cannot parse "-1s" to a valid duration'],
      ['start=0&end=1&step=NaN', 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer'],
      ['start=0&end=1&step=Inf', 'invalid parameter "step": cannot parse "Inf" to a valid duration. It overflows int64'],
      ['start=0&end=1&step=x', 'invalid parameter "step": cannot parse "x" to a valid duration'],
      ['start=2&end=1&step=1', 'invalid parameter "end": end timestamp must not be before start time'],
      ['start=0&end=11001&step=1', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)'],
      ['start=x&end=1&step=1', 'invalid parameter "start": cannot parse "x" to a valid timestamp'],
      ['start=0&end=1&step=1&timeout=x', 'invalid parameter "timeout": cannot parse "x" to a valid duration'],
      ['start=0&end=1&step=1&lookback_delta=x', 'error parsing lookback delta duration: cannot parse "x" to a valid duration'],
      ['start=0&end=1&step=1&limit=x', 'invalid parameter "limit": strconv.Atoi: parsing "x": invalid syntax'],
    ];
    for (const [p, msg] of cases) {
      const r = await get(`query_range?query=1&${p}`);
      assert.equal(r.status, 400, p);
      assert.deepEqual(r.json, { status: 'error', errorType: 'bad_data', error: msg }, p);
    }
    // 11,000 points are still fine.
    assert.equal((await get('query_range?query=1&start=0&end=11000&step=1')).status, 200);
  });

  test('notifications: none by default, the provider\'s entries as Prometheus marshals them otherwise', async () => {
    const r = await get('notifications');
    assert.equal(r.text, '{"status":"success","data":[]}');
    const routes = createApiRoutes(
      queryApiDeps(storage, {
        notifications: () => [{ text: 'Configuration reload has failed.', date: '2026-01-02T03:04:05.123456789Z', active: true }],
      }),
    );
    const web2 = new WebServer({ listenAddress: '127.0.0.1:0' });
    web2.api(routes);
    web2.ready = true;
    const p2 = ((await web2.listen()) as AddressInfo).port;
    try {
      const n = await raw(p2, '/api/v1/notifications');
      assert.equal(
        n.body.toString(),
        '{"status":"success","data":[{"text":"Configuration reload has failed.","date":"2026-01-02T03:04:05.123456789Z","active":true}]}',
      );
    } finally {
      await web2.close();
    }
  });

  test('a step under 1 ms is accepted, then fails evaluation as in Prometheus (its zero-ms step divides by zero)', async () => {
    const divideByZero = { status: 'error', errorType: 'execution', error: 'unexpected error: runtime error: integer divide by zero' };
    for (const p of ['query=1&start=0&end=1&step=0.0001', 'query=g&start=0&end=1.1&step=0.0001', 'query=up&start=5&end=5&step=0.0009999']) {
      const r = await get(`query_range?${p}`);
      assert.equal(r.status, 422, p);
      assert.deepEqual(r.json, divideByZero, p);
    }
    // The query is still created first (a bad one is a bad parameter), after the points limit and the other parameters.
    const cases: Array<[string, string]> = [
      ['query=1&start=0&end=1.2&step=0.0001', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)'],
      ['query=%22s%22&start=0&end=1&step=0.0001', 'invalid parameter "query": invalid expression type "string" for range query, must be Scalar or instant Vector'],
      ['query=1&start=0&end=1&step=0.0001&timeout=x', 'invalid parameter "timeout": cannot parse "x" to a valid duration'],
      ['query=sum(&start=0&end=1&step=0.0001', 'invalid parameter "query": 1:5: parse error: unclosed left parenthesis'],
    ];
    for (const [p, msg] of cases) {
      const r = await get(`query_range?${p}`);
      assert.equal(r.status, 400, p);
      assert.deepEqual(r.json, { status: 'error', errorType: 'bad_data', error: msg }, p);
    }
    // 1.5 ms is evaluated on a 1 ms grid, as Prometheus truncates the step.
    const r = await get('query_range?query=1&start=0&end=0.003&step=0.0015');
    assert.deepEqual((r.json['data'] as { result: unknown }).result, [{ metric: {}, values: [[0, '1'], [0.001, '1'], [0.002, '1'], [0.003, '1']] }]);
  });

  test('annotations carry their position; other warnings are plain; unsupported stats values warn', async () => {
    const r = await get(`query?query=${encodeURIComponent('rate(g[5m])')}&time=${T / 1000}&limit=1&stats=1`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json['infos'], ['PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "g" (1:6)']);
    assert.deepEqual(r.json['warnings'], [
      'results truncated due to limit',
      'value "1" for parameter "stats" is deprecated and will be rejected in the next major release, use "true" or "all"',
    ]);
    const stats = (r.json['data'] as { stats: { timings: object; samples: object } }).stats;
    assert.deepEqual(Object.keys(stats), ['timings', 'samples']);
    const all = await get(`query?query=g&time=${T / 1000}&stats=all`);
    assert.equal(all.json['warnings'], undefined);
    assert.ok('totalQueryableSamples' in (all.json['data'] as { stats: { samples: object } }).stats.samples);
  });

  test('label values sort by UTF-8 bytes; bad label names are quoted as Go quotes them', async () => {
    const r = await get('label/v/values');
    assert.deepEqual(r.json['data'], ['Z', 'a', 'b', 'é', '\uFFFD', '\u{1F600}']);
    const lim = await get('label/v/values?limit=2');
    assert.deepEqual(lim.json, { status: 'success', data: ['Z', 'a'], warnings: ['results truncated due to limit'] });
    const bad = await get(`label/${encodeURIComponent('U__a_')}/values`);
    assert.equal(bad.status, 200);
    const empty = await raw(port, '/api/v1/label/U__/values');
    assert.equal(empty.body.toString(), '{"status":"error","errorType":"bad_data","error":"invalid label name: \\"\\""}');
  });

  test('error texts are HTML-escaped as json-iterator escapes them', async () => {
    const r = await get(`query?query=g&time=${encodeURIComponent('<&>')}`);
    assert.equal(r.status, 400);
    assert.equal(
      r.text,
      `{"status":"error","errorType":"bad_data","error":"invalid parameter \\"time\\": invalid time value for 'time': cannot parse \\"\\u003c\\u0026\\u003e\\" to a valid timestamp"}`,
    );
  });

  test('compression: exact "gzip" or "deflate" tokens only, whatever the size', async () => {
    const gz = await raw(port, '/api/v1/query?query=1&time=1', { headers: { 'Accept-Encoding': 'br, gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(gz.body).toString(), '{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}');
    const q = await raw(port, '/api/v1/query?query=1&time=1', { headers: { 'Accept-Encoding': 'gzip;q=1.0' } });
    assert.equal(q.headers['content-encoding'], undefined);
    assert.match(String(q.headers['vary']), /Accept-Encoding/);
  });

  test('CORS headers only when an Origin is named; "*" for the default pattern', async () => {
    const r = await raw(port, '/api/v1/labels', { headers: { Origin: 'https://grafana.example' } });
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.equal(r.headers['access-control-expose-headers'], 'Date');
    const none = await raw(port, '/api/v1/labels');
    assert.equal(none.headers['access-control-allow-origin'], undefined);
  });

  test('series and labels: limits, merges, defaults', async () => {
    const s = await get(`series?match[]=g&match[]=tiny`);
    assert.deepEqual(
      (s.json['data'] as Array<Record<string, string>>).map((x) => x['inst'] ?? x['note']),
      ['a', 'b', 'c', '<&>'],
    );
    assert.ok(s.text.includes('"note":"<&>"'), 'series labels are not HTML-escaped');
    const one = await get(`series?match[]=g&limit=2`);
    assert.deepEqual(one.json['warnings'], ['results truncated due to limit']);
    assert.equal((one.json['data'] as unknown[]).length, 2);
    const names = await get('labels?match[]=tiny&match[]=u');
    assert.deepEqual(names.json['data'], ['__name__', 'note', 'v']);
  });
});

describe('big answers stream', () => {
  let web: WebServer;
  let port: number;
  const SERIES = 200;
  const POINTS = 2000;
  before(async () => {
    const storage = new MemoryStorage();
    const app = storage.appender();
    for (let s = 0; s < SERIES; s++) {
      const ls = Labels.fromPairs('__name__', 'big', 'i', String(s).padStart(3, '0'));
      for (let j = 0; j < POINTS; j++) app.append(0, ls, T + j * 1000, (s * j) / 7);
    }
    app.commit();
    web = new WebServer({ listenAddress: '127.0.0.1:0' });
    web.api(
      createApiRoutes(queryApiDeps(storage)),
    );
    web.ready = true;
    port = ((await web.listen()) as AddressInfo).port;
  });
  after(() => web.close());

  const path = `/api/v1/query_range?query=big&start=${T / 1000}&end=${(T + (POINTS - 1) * 1000) / 1000}&step=1`;

  function check(text: string): void {
    const body = JSON.parse(text) as { status: string; data: { result: Array<{ metric: { i: string }; values: Array<[number, string]> }> } };
    assert.equal(body.status, 'success');
    assert.equal(body.data.result.length, SERIES);
    const last = body.data.result[SERIES - 1]!;
    assert.equal(last.metric.i, String(SERIES - 1));
    assert.equal(last.values.length, POINTS);
    assert.deepEqual(last.values[POINTS - 1], [(T + (POINTS - 1) * 1000) / 1000, String(((SERIES - 1) * (POINTS - 1)) / 7)]);
  }

  test('chunked, without Content-Length, identity and gzip alike', async () => {
    const plain = await raw(port, path);
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-length'], undefined);
    assert.equal(plain.headers['transfer-encoding'], 'chunked');
    assert.ok(plain.body.length > 2 * 1024 * 1024);
    check(plain.body.toString('utf8'));
    const gz = await raw(port, path, { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.ok(gz.body.length < plain.body.length / 2);
    assert.equal(gunzipSync(gz.body).toString('utf8'), plain.body.toString('utf8'));
  });

  test('a client that goes away mid-answer stops the encoding and leaves the server healthy', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve() : reject(e)));
      req.end();
    });
    const again = await raw(port, '/api/v1/query?query=1&time=1');
    assert.equal(again.status, 200);
  });
});
