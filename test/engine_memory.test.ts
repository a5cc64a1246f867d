// The per-query memory limit and the query memory budget, through real
// server processes: the same remote-written data is queried on a server with
// --query.max-memory=1MB and on one with the defaults.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTsprom, type Tsprom } from './api_process.js';
import { writeRequestBody, type TestSeries } from './remote_write_proto.js';

const SERIES = 500;
const POINTS = 240;
const STEP_MS = 15_000;
/** Whole minutes, so that the range queries' steps fall on sample times. */
const END = Math.floor(Date.now() / 60_000) * 60_000;
const START = END - (POINTS - 1) * STEP_MS;

async function remoteWrite(base: string, series: TestSeries[]): Promise<void> {
  const r = await fetch(`${base}/api/v1/write`, {
    method: 'POST',
    body: writeRequestBody(series),
    headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0' },
  });
  assert.equal(r.status, 204, await r.text());
}

/** 500 series x 1 hour at 15s: 120,000 samples, 1.8 MiB as columns; the series and their labels about 200 KiB. */
async function load(base: string): Promise<void> {
  const batch = 250;
  for (let first = 0; first < SERIES; first += batch) {
    const series: TestSeries[] = [];
    for (let i = first; i < first + batch; i++) {
      const samples: Array<[number, number]> = [];
      for (let k = 0; k < POINTS; k++) samples.push([START + k * STEP_MS, i * 1000 + k * (i % 7)]);
      series.push({ labels: { __name__: 'big', group: `g${i % 10}`, instance: `host-${i}` }, samples });
    }
    await remoteWrite(base, series);
  }
}

function query(base: string, q: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return api(`${base}/api/v1/query?${new URLSearchParams({ query: q, time: String(END / 1000) })}`);
}

function queryRange(base: string, q: string, step = 60): Promise<{ status: number; body: Record<string, unknown> }> {
  const params = new URLSearchParams({ query: q, start: String(START / 1000), end: String(END / 1000), step: String(step) });
  return api(`${base}/api/v1/query_range?${params}`);
}

async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  assert.ok(m !== null, `${name} is exposed`);
  return Number(m[1]);
}

describe('query memory limits in a real server', () => {
  let limited: Tsprom;
  let free: Tsprom;

  before(async () => {
    [limited, free] = await Promise.all([
      startTsprom({ args: ['--web.enable-remote-write-receiver', '--query.max-memory=1MB', '--query.max-total-memory=1B'] }),
      startTsprom({ args: ['--web.enable-remote-write-receiver'] }),
    ]);
    await Promise.all([load(limited.base), load(free.base)]);
  });

  after(async () => {
    await Promise.all([limited?.stop(), free?.stop()]);
  });

  test('a query over the limit fails with 422 "execution", naming the limit', async () => {
    const r = await query(limited.base, 'big[1h]');
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.equal(r.body['status'], 'error');
    assert.equal(r.body['errorType'], 'execution');
    assert.match(
      String(r.body['error']),
      /^query processing would use too much memory in query execution: it would hold [\d.]+(KiB|MiB), more than the limit of 1MiB per query \(--query.max-memory\)$/,
    );
    // Every sample at a 15s step: 1.8 MiB of results.
    const range = await queryRange(limited.base, 'big * 2', 15);
    assert.equal(range.status, 422);
    assert.equal(range.body['errorType'], 'execution');
    // Without the limit the same queries succeed.
    assert.equal((await query(free.base, 'big[1h]')).status, 200);
    assert.equal((await queryRange(free.base, 'big * 2', 15)).status, 200);
  });

  test('queries under the limit give the same answers as without it', async () => {
    const instants = ['count(big)', 'sum by (group) (rate(big[5m]))', 'topk(5, big)', 'max_over_time(big{instance="host-7"}[1h])', 'quantile(0.9, big)'];
    for (const q of instants) {
      const [a, b] = await Promise.all([query(limited.base, q), query(free.base, q)]);
      assert.equal(a.status, 200, `${q}: ${JSON.stringify(a.body)}`);
      assert.deepEqual(a.body, b.body, q);
    }
    const ranges = ['sum by (group) (rate(big[5m]))', 'avg(big)', 'big{instance=~"host-1.?"}'];
    for (const q of ranges) {
      const [a, b] = await Promise.all([queryRange(limited.base, q), queryRange(free.base, q)]);
      assert.equal(a.status, 200, `${q}: ${JSON.stringify(a.body)}`);
      assert.deepEqual(a.body, b.body, q);
    }
  });

  test('with the budget used up, concurrent queries wait their turn and all succeed', async () => {
    // A budget of one byte: every query but the first waits until the running one ends.
    const q = 'sum by (group) (rate(big[5m]))';
    const expected = await queryRange(free.base, q);
    const answers = await Promise.all(Array.from({ length: 6 }, () => queryRange(limited.base, q)));
    for (const a of answers) {
      assert.equal(a.status, 200, JSON.stringify(a.body));
      assert.deepEqual(a.body, expected.body);
    }
  });

  test('the metrics: nothing held once queries are done, the stopped queries counted, the limits shown', async () => {
    assert.equal(await metric(limited.base, 'tsprom_query_memory_bytes'), 0);
    assert.equal(await metric(free.base, 'tsprom_query_memory_bytes'), 0);
    assert.equal(await metric(limited.base, 'tsprom_query_memory_limit_exceeded_total'), 2);
    assert.equal(await metric(free.base, 'tsprom_query_memory_limit_exceeded_total'), 0);
    assert.equal(await metric(limited.base, 'tsprom_query_memory_limit_bytes'), 1024 * 1024);
    assert.equal(await metric(limited.base, 'tsprom_query_memory_budget_bytes'), 1);
    const peak = await metric(limited.base, 'tsprom_query_memory_peak_bytes');
    assert.ok(peak > 1024 * 1024, `the stopped query's peak is recorded (${peak})`);
    // The default limit is a share of the heap limit.
    assert.ok((await metric(free.base, 'tsprom_query_memory_limit_bytes')) > 64 * 1024 * 1024);
  });

  test('a query abandoned by its client gives its memory back', async () => {
    const ac = new AbortController();
    const params = new URLSearchParams({ query: 'sum by (group) (rate(big[5m]))', start: String(START / 1000), end: String(END / 1000), step: '1' });
    const pending = fetch(`${free.base}/api/v1/query_range?${params}`, { signal: ac.signal }).catch(() => null);
    setTimeout(() => ac.abort(), 20);
    await pending;
    // The server notices the closed connection on its own schedule; wait until the query is gone.
    for (let i = 0; i < 200 && (await metric(free.base, 'tsprom_query_memory_bytes')) !== 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await metric(free.base, 'tsprom_query_memory_bytes'), 0);
  });
});
