// End-to-end API tests against the real server process: remote-written data,
// every v1 endpoint and its error cases, value formatting, limits.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { startTsprom, api, postForm, type Tsprom } from './api_process.js';
import { writeRequestBody, type TestSeries } from './remote_write_proto.js';

// Data sits ten minutes in the past: inside what the head accepts, clear of the future limit.
const T = Math.floor(Date.now() / 60_000) * 60_000 - 600_000;
const sec = (ms: number): number => ms / 1000;

const SERIES: TestSeries[] = [
  { labels: { __name__: 'm1', a: '1', job: 'x' }, samples: [0, 1, 2, 3, 4].map((i) => [T - 60_000 + i * 15_000, i + 1]) },
  { labels: { __name__: 'm1', a: '2', job: 'y' }, samples: [0, 1, 2, 3, 4].map((i) => [T - 60_000 + i * 15_000, 10 * (i + 1)]) },
  { labels: { __name__: 'special', kind: 'nan' }, samples: [[T, NaN]] },
  { labels: { __name__: 'special', kind: 'inf' }, samples: [[T, Infinity]] },
  { labels: { __name__: 'special', kind: 'neginf' }, samples: [[T, -Infinity]] },
  { labels: { __name__: 'special', kind: 'tiny' }, samples: [[T, 1e-7]] },
  { labels: { __name__: 'special', kind: 'big' }, samples: [[T, 1e21]] },
  { labels: { __name__: 'special', kind: 'third' }, samples: [[T, 1 / 3]] },
  { labels: { __name__: 'special', kind: 'html', note: '<a&b>' }, samples: [[T, 2]] },
  { labels: { __name__: 'gone', job: 'x' }, samples: [[T - 30_000, 1], [T - 15_000, 'stale']] },
];

async function remoteWrite(base: string, series: TestSeries[]): Promise<Response> {
  return fetch(`${base}/api/v1/write`, {
    method: 'POST',
    body: writeRequestBody(series),
    headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0' },
  });
}

function result(body: Record<string, unknown>): unknown {
  return (body['data'] as { result: unknown }).result;
}

describe('API against the real server', () => {
  let s: Tsprom;
  before(async () => {
    s = await startTsprom({ args: ['--web.enable-remote-write-receiver', '--web.enable-admin-api'] });
    const r = await remoteWrite(s.base, SERIES);
    assert.equal(r.status, 204, await r.text());
  });
  after(async () => {
    await s.stop();
  });

  test('instant queries return Prometheus JSON, values formatted as Go formats them', async () => {
    const { status, body } = await api(`${s.base}/api/v1/query?query=m1&time=${sec(T)}`);
    assert.equal(status, 200);
    assert.deepEqual(body, {
      status: 'success',
      data: {
        resultType: 'vector',
        result: [
          { metric: { __name__: 'm1', a: '1', job: 'x' }, value: [sec(T), '5'] },
          { metric: { __name__: 'm1', a: '2', job: 'y' }, value: [sec(T), '50'] },
        ],
      },
    });
    const sp = await api(`${s.base}/api/v1/query?query=special&time=${sec(T)}`);
    const byKind = Object.fromEntries(
      (result(sp.body) as Array<{ metric: Record<string, string>; value: [number, string] }>).map((x) => [x.metric['kind'], x.value[1]]),
    );
    // Sample values switch to the exponent form below 1e-6 and from 1e21, as Prometheus's MarshalFloat does.
    assert.deepEqual(byKind, { nan: 'NaN', inf: '+Inf', neginf: '-Inf', tiny: '1e-07', big: '1e+21', third: '0.3333333333333333', html: '2' });
    // Label values are written without HTML escaping.
    const raw = await (await fetch(`${s.base}/api/v1/query?query=special{kind="html"}&time=${sec(T)}`)).text();
    assert.ok(raw.includes('"note":"<a&b>"'), raw);
    const sc = await api(`${s.base}/api/v1/query?query=${encodeURIComponent('scalar(m1{a="1"}) / 3')}&time=${sec(T + 1)}`);
    assert.deepEqual(sc.body['data'], { resultType: 'scalar', result: [sec(T + 1), '1.6666666666666667'] });
    const str = await api(`${s.base}/api/v1/query?query=${encodeURIComponent('"x"')}&time=1.5`);
    assert.deepEqual(str.body['data'], { resultType: 'string', result: [1.5, 'x'] });
  });

  test('a staleness marker ends a series at once', async () => {
    const before = await api(`${s.base}/api/v1/query?query=gone&time=${sec(T - 20_000)}`);
    assert.equal((result(before.body) as unknown[]).length, 1);
    const after = await api(`${s.base}/api/v1/query?query=gone&time=${sec(T - 10_000)}`);
    assert.deepEqual(result(after.body), []);
  });

  test('range queries, GET and POST, with stats', async () => {
    const params = { query: 'm1{a="1"}', start: String(sec(T - 60_000)), end: String(sec(T)), step: '15s' };
    const get = await api(`${s.base}/api/v1/query_range?${new URLSearchParams(params)}`);
    const post = await api(`${s.base}/api/v1/query_range`, postForm(params));
    assert.deepEqual(get.body, post.body);
    assert.deepEqual(get.body['data'], {
      resultType: 'matrix',
      result: [{ metric: { __name__: 'm1', a: '1', job: 'x' }, values: [0, 1, 2, 3, 4].map((i) => [sec(T - 60_000 + i * 15_000), String(i + 1)]) }],
    });
    const st = await api(`${s.base}/api/v1/query_range?${new URLSearchParams({ ...params, stats: 'all' })}`);
    const stats = (st.body['data'] as { stats: { timings: Record<string, number>; samples: Record<string, number> } }).stats;
    assert.deepEqual(Object.keys(stats.timings), ['evalTotalTime', 'resultSortTime', 'queryPreparationTime', 'innerEvalTime', 'execQueueTime', 'execTotalTime']);
    assert.ok(stats.samples['totalQueryableSamples']! >= 5);
    const lim = await api(`${s.base}/api/v1/query_range?${new URLSearchParams({ ...params, query: 'm1', limit: '1' })}`);
    assert.equal((result(lim.body) as unknown[]).length, 1);
    assert.deepEqual(lim.body['warnings'], ['results truncated due to limit']);
  });

  test('query errors: status codes, types and Prometheus wording', async () => {
    const q = (p: Record<string, string>, path = 'query') => api(`${s.base}/api/v1/${path}?${new URLSearchParams(p)}`);
    const cases: Array<[Promise<{ status: number; body: Record<string, unknown> }>, number, string, string | RegExp]> = [
      [q({ query: 'up{' }), 400, 'bad_data', 'invalid parameter "query": 1:4: parse error: unexpected end of input inside braces'],
      [q({ query: '' }), 400, 'bad_data', 'invalid parameter "query": unknown position: parse error: no expression found in input'],
      [q({ query: 'm1', time: 'later' }), 400, 'bad_data', `invalid parameter "time": invalid time value for 'time': cannot parse "later" to a valid timestamp`],
      [q({ query: 'm1', timeout: '1x' }), 400, 'bad_data', 'invalid parameter "timeout": cannot parse "1x" to a valid duration'],
      [q({ query: '"a"', start: '0', end: '1', step: '1' }, 'query_range'), 400, 'bad_data', 'invalid parameter "query": invalid expression type "string" for range query, must be Scalar or instant Vector'],
      [q({ query: 'm1', start: '0', end: '20000', step: '1' }, 'query_range'), 400, 'bad_data', /^exceeded maximum resolution of 11,000 points per timeseries/],
      [q({ query: 'm1', start: '5', end: '1', step: '1' }, 'query_range'), 400, 'bad_data', 'invalid parameter "end": end timestamp must not be before start time'],
      [q({ query: 'm1', start: '0', end: '1', step: '-1' }, 'query_range'), 400, 'bad_data', /^invalid parameter "step": zero or negative query resolution step widths/],
      [q({ query: 'm1', start: 'x', end: '1', step: '1' }, 'query_range'), 400, 'bad_data', 'invalid parameter "start": cannot parse "x" to a valid timestamp'],
      [q({ query: 'm1 + on() m1', time: String(sec(T)) }), 422, 'execution', /many-to-many matching not allowed/],
    ];
    for (const [p, code, type, msg] of cases) {
      const { status, body } = await p;
      assert.equal(status, code, JSON.stringify(body));
      assert.equal(body['status'], 'error');
      assert.equal(body['errorType'], type);
      if (typeof msg === 'string') assert.equal(body['error'], msg);
      else assert.match(String(body['error']), msg);
    }
  });

  test('format_query and parse_query', async () => {
    const f = await api(`${s.base}/api/v1/format_query?${new URLSearchParams({ query: 'sum(rate(m1[5m])) by (job)' })}`);
    assert.deepEqual(f.body, { status: 'success', data: 'sum by (job) (rate(m1[5m]))' });
    const bad = await api(`${s.base}/api/v1/format_query?query=${encodeURIComponent('sum(')}`);
    assert.equal(bad.status, 400);
    assert.match(String(bad.body['error']), /^invalid parameter "query": 1:5: parse error/);
    const p = await api(`${s.base}/api/v1/parse_query`, postForm({ query: 'rate(m1{a="1"}[5m])' }));
    const tree = p.body['data'] as { type: string; func: { name: string }; args: Array<{ type: string; range: number; matchers: unknown[] }> };
    assert.equal(tree.type, 'call');
    assert.equal(tree.func.name, 'rate');
    assert.equal(tree.args[0]!.type, 'matrixSelector');
    assert.equal(tree.args[0]!.range, 300_000);
    const ms = (tree.args[0]!.matchers as Array<{ name: string }>).map((m) => JSON.stringify(m)).sort();
    assert.deepEqual(ms, [JSON.stringify({ name: '__name__', type: '=', value: 'm1' }), JSON.stringify({ name: 'a', type: '=', value: '1' })]);
  });

  test('series, labels and label values with their error cases', async () => {
    const ser = await api(`${s.base}/api/v1/series?${new URLSearchParams([['match[]', 'm1'], ['match[]', 'special{kind="inf"}']])}`);
    assert.deepEqual(ser.body, {
      status: 'success',
      data: [
        { __name__: 'm1', a: '1', job: 'x' },
        { __name__: 'm1', a: '2', job: 'y' },
        { __name__: 'special', kind: 'inf' },
      ],
    });
    const post = await api(`${s.base}/api/v1/series`, postForm({ 'match[]': 'm1', start: String(sec(T - 3_600_000)), end: String(sec(T)) }));
    assert.equal((post.body['data'] as unknown[]).length, 2);
    const lim = await api(`${s.base}/api/v1/series?match[]=m1&limit=1`);
    assert.deepEqual(lim.body['warnings'], ['results truncated due to limit']);
    const names = await api(`${s.base}/api/v1/labels?match[]=m1`);
    assert.deepEqual(names.body['data'], ['__name__', 'a', 'job']);
    const vals = await api(`${s.base}/api/v1/label/job/values`);
    assert.deepEqual(vals.body['data'], ['x', 'y']);
    const metricNames = await api(`${s.base}/api/v1/label/__name__/values?match[]={job="x"}`);
    assert.deepEqual(metricNames.body['data'], ['gone', 'm1']);
    const errs: Array<[string, string]> = [
      ['series', 'no match[] parameter provided'],
      ['series?match[]=m1{', 'invalid parameter "match[]": 1:4: parse error: unexpected end of input inside braces'],
      ['series?match[]={a=""}', 'invalid parameter "match[]": match[] must contain at least one non-empty matcher'],
      ['labels?match[]={a=~".*"}', 'match[] must contain at least one non-empty matcher'],
      ['labels?start=abc', `invalid parameter "start": invalid time value for 'start': cannot parse "abc" to a valid timestamp`],
      ['label/job/values?limit=abc', 'invalid parameter "limit": strconv.Atoi: parsing "abc": invalid syntax'],
      // Prometheus 3.x takes any non-empty UTF-8 label name; invalid UTF-8 and empty names are refused.
      ['label/%ff/values', 'invalid label name: "\\xff"'],
      ['label/a%C3%28b/values', 'invalid label name: "a\\xc3(b"'],
      ['label/U__/values', 'invalid label name: ""'],
    ];
    for (const [path, msg] of errs) {
      const { status, body } = await api(`${s.base}/api/v1/${path}`);
      assert.equal(status, 400, path);
      assert.deepEqual(body, { status: 'error', errorType: 'bad_data', error: msg }, path);
    }
    // Not a legacy name, but valid UTF-8: Prometheus 3.x answers it.
    assert.deepEqual((await api(`${s.base}/api/v1/label/foo-bar%C3%A9/values`)).body, { status: 'success', data: [] });
  });

  test('metadata, exemplars and status endpoints', async () => {
    assert.deepEqual((await api(`${s.base}/api/v1/metadata`)).body, { status: 'success', data: {} });
    assert.deepEqual((await api(`${s.base}/api/v1/query_exemplars?query=m1`)).body, { status: 'success', data: [] });
    const cfg = await api(`${s.base}/api/v1/status/config`);
    assert.match((cfg.body['data'] as { yaml: string }).yaml, /^global:\n {2}scrape_interval: 15s\n/);
    const flags = (await api(`${s.base}/api/v1/status/flags`)).body['data'] as Record<string, string>;
    assert.equal(flags['web.enable-admin-api'], 'true');
    assert.equal(flags['query.max-samples'], '50000000');
    const rt = (await api(`${s.base}/api/v1/status/runtimeinfo`)).body['data'] as Record<string, unknown>;
    assert.equal(rt['reloadConfigSuccess'], true);
    assert.equal(rt['storageRetention'], '15d');
    const bi = (await api(`${s.base}/api/v1/status/buildinfo`)).body['data'] as Record<string, string>;
    assert.match(bi['version']!, /^\d+\.\d+\.\d+/);
    const wal = await api(`${s.base}/api/v1/status/walreplay`);
    assert.deepEqual(Object.keys(wal.body['data'] as object), ['min', 'max', 'current']);
    const tsdb = await api(`${s.base}/api/v1/status/tsdb?limit=5`);
    assert.equal(tsdb.status, 200, JSON.stringify(tsdb.body));
    const st = tsdb.body['data'] as { headStats: { numSeries: number }; seriesCountByMetricName: Array<{ name: string; value: number }> };
    assert.ok(st.headStats.numSeries >= SERIES.length);
    assert.deepEqual(st.seriesCountByMetricName[0], { name: 'special', value: 7 });
    // tsprom's addition: the head-series limit (off here) and the count it is compared with.
    assert.deepEqual((tsdb.body['data'] as { headSeriesLimit: unknown }).headSeriesLimit, { maxSeries: 0, numSeries: st.headStats.numSeries, ratio: 0 });
    assert.equal((await api(`${s.base}/api/v1/status/tsdb?limit=10001`)).body['error'], 'limit must not exceed 10000');
  });

  test('admin: delete series, clean tombstones, snapshot', async () => {
    const del = await fetch(`${s.base}/api/v1/admin/tsdb/delete_series?match[]=special{kind="big"}`, { method: 'POST' });
    assert.equal(del.status, 204);
    const after = await api(`${s.base}/api/v1/query?query=special{kind="big"}&time=${sec(T)}`);
    assert.deepEqual(result(after.body), []);
    assert.equal((await fetch(`${s.base}/api/v1/admin/tsdb/clean_tombstones`, { method: 'PUT' })).status, 204);
    const snap = await api(`${s.base}/api/v1/admin/tsdb/snapshot`, { method: 'POST' });
    assert.equal(snap.status, 200, JSON.stringify(snap.body));
    const name = (snap.body['data'] as { name: string }).name;
    assert.match(name, /^\d{8}T\d{6}Z-[0-9a-f]{16}$/);
    assert.ok(existsSync(join(s.dir, 'data', 'snapshots', name)));
    const badSkip = await api(`${s.base}/api/v1/admin/tsdb/snapshot?skip_head=maybe`, { method: 'POST' });
    assert.equal(badSkip.status, 400);
    const noMatch = await api(`${s.base}/api/v1/admin/tsdb/delete_series`, { method: 'POST' });
    assert.deepEqual(noMatch.body, { status: 'error', errorType: 'bad_data', error: 'no match[] parameter provided' });
  });

  test('remote write: malformed bodies 400 and change nothing; oversized 413', async () => {
    const before = await api(`${s.base}/api/v1/series?match[]={__name__=~".+"}`);
    for (const body of [Buffer.from('definitely not snappy'), Buffer.alloc(0)]) {
      const r = await fetch(`${s.base}/api/v1/write`, { method: 'POST', body });
      assert.equal(r.status, 400);
    }
    const ooo = await remoteWrite(s.base, [
      { labels: { __name__: 'fresh' }, samples: [[T, 1]] },
      { labels: { __name__: 'm1', a: '1', job: 'x' }, samples: [[T - 120_000, 1]] },
    ]);
    assert.equal(ooo.status, 400);
    assert.match(await ooo.text(), /out of order sample/);
    const after = await api(`${s.base}/api/v1/series?match[]={__name__=~".+"}`);
    assert.deepEqual(after.body, before.body);
    const huge = await fetch(`${s.base}/api/v1/write`, { method: 'POST', body: Buffer.alloc(33 * 1024 * 1024) });
    assert.equal(huge.status, 413);
  });

  test('oversized form bodies are refused', async () => {
    const r = await fetch(`${s.base}/api/v1/query`, postForm({ query: 'x'.repeat(11 * 1024 * 1024) }));
    assert.equal(r.status, 413);
  });

  test('gzip when asked, federation, own metrics', async () => {
    const gz = await new Promise<{ enc: unknown; body: Buffer }>((resolve, reject) => {
      request(`${s.base}/api/v1/series?match[]=m1`, { headers: { 'Accept-Encoding': 'gzip' } }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => resolve({ enc: r.headers['content-encoding'], body: Buffer.concat(chunks) }));
      })
        .on('error', reject)
        .end();
    });
    // Small answers go out uncompressed; this one is small, so check the header only when compressed.
    const text = gz.enc === 'gzip' ? gunzipSync(gz.body).toString() : gz.body.toString();
    assert.equal(JSON.parse(text).status, 'success');
    const metrics = await (await fetch(`${s.base}/metrics`)).text();
    assert.match(metrics, /prometheus_http_requests_total\{code="200",handler="\/api\/v1\/query"\} \d+/);
    assert.match(metrics, /prometheus_engine_query_duration_seconds\{quantile="0.5",slice="inner_eval"\}/);
    const fed = await fetch(`${s.base}/federate?match[]=m1`);
    assert.equal(fed.status, 200);
  });
});

describe('server process lifecycle', () => {
  test('remote write and admin APIs are off unless enabled; --query.max-samples applies', async () => {
    const s = await startTsprom({ args: ['--query.max-samples=100'] });
    try {
      const big = await api(`${s.base}/api/v1/query?${new URLSearchParams({ query: 'count_over_time(vector(1)[1000s:1s])', time: '2000' })}`);
      assert.equal(big.status, 422);
      assert.deepEqual(big.body, {
        status: 'error',
        errorType: 'execution',
        error: 'query processing would load too many samples into memory in query execution',
      });
      const w = await remoteWrite(s.base, SERIES);
      assert.equal(w.status, 404);
      const a = await api(`${s.base}/api/v1/admin/tsdb/snapshot`, { method: 'POST' });
      assert.deepEqual(a.body, { status: 'error', errorType: 'unavailable', error: 'admin APIs disabled' });
    } finally {
      await s.stop();
    }
  });

  test('SIGHUP with a broken config keeps the old one; SIGTERM shuts down cleanly', async () => {
    const s = await startTsprom({ config: 'global:\n  scrape_interval: 15s\n' });
    try {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(s.configFile, 'scrape_configs:\n  - job_name: a\n    bogus_key: 1\n');
      s.proc.kill('SIGHUP');
      for (let i = 0; i < 100 && !s.logs().includes('Error reloading config'); i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(s.logs(), /Error reloading config.*line|tsprom\.yml:3: scrape_configs\[0\]\.bogus_key: field bogus_key not found/);
      const m = await (await fetch(`${s.base}/metrics`)).text();
      assert.match(m, /prometheus_config_last_reload_successful 0/);
      const cfg = await api(`${s.base}/api/v1/status/config`);
      assert.match((cfg.body['data'] as { yaml: string }).yaml, /scrape_interval: 15s/);
      assert.equal((await fetch(`${s.base}/-/ready`)).status, 200);
      s.proc.kill('SIGTERM');
      assert.equal(await s.exited, 0);
      assert.match(s.logs(), /See you next time!/);
    } finally {
      await s.stop();
    }
  });

  test('queries are logged to query_log_file with their HTTP origin; SIGHUP reopens it', async () => {
    const { readFileSync, renameSync } = await import('node:fs');
    // Without the built-in rule group, whose queries would be logged too.
    const s = await startTsprom({ config: 'global:\n  query_log_file: queries.log\n', args: ['--no-rules.self-monitoring'] });
    try {
      const log = join(s.dir, 'queries.log');
      assert.equal((await api(`${s.base}/api/v1/query?query=vector(1)&time=100`)).status, 200);
      const readLines = async (path: string, n: number): Promise<Array<Record<string, unknown>>> => {
        for (let i = 0; i < 200; i++) {
          const lines = existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l !== '') : [];
          if (lines.length >= n) return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
          await new Promise((r) => setTimeout(r, 20));
        }
        throw new Error(`no query log lines in ${path}`);
      };
      const [line] = await readLines(log, 1);
      assert.deepEqual((line!['params'] as Record<string, unknown>)['query'], 'vector(1)');
      assert.deepEqual((line!['httpRequest'] as Record<string, unknown>)['path'], '/api/v1/query');
      renameSync(log, `${log}.1`);
      s.proc.kill('SIGHUP');
      for (let i = 0; i < 200 && !existsSync(log); i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal((await api(`${s.base}/api/v1/query?query=vector(2)&time=100`)).status, 200);
      const [again] = await readLines(log, 1);
      assert.deepEqual((again!['params'] as Record<string, unknown>)['query'], 'vector(2)');
    } finally {
      await s.stop();
    }
  });

  test('a bad config at start-up is an error naming the line', async () => {
    await assert.rejects(
      startTsprom({ config: 'global:\n  evaluation_interval: soon\n' }),
      /exited with 1[\s\S]*tsprom\.yml:2: global\.evaluation_interval: not a valid duration string: \\?"soon\\?"/,
    );
  });
});
