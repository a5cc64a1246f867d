// --storage.tsdb.max-head-series against a tsprom process: a scrape target and a
// remote-write client push past the limit; new series are refused (counted,
// named in the remote-write answer), existing series keep ingesting, and
// /api/v1/status/tsdb shows the limit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTsprom, api, type Tsprom } from './api_process.js';
import { writeRequestBody } from './remote_write_proto.js';

const LIMIT = 12;
const WAIT_MS = 30_000;

let ts: Tsprom;
let target: Server;
/** Series the target exposes now. */
let exposed = 5;

async function until<T>(what: string, fn: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${ts.logs()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function instant(q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const r = await api(`${ts.base}/api/v1/query?query=${encodeURIComponent(q)}`);
  return (r.body['data'] as { result: Array<{ metric: Record<string, string>; value: [number, string] }> }).result;
}

async function scalar(q: string): Promise<number | null> {
  const v = await instant(q);
  return v.length === 1 ? Number(v[0]!.value[1]) : null;
}

/** A sample of the server's own /metrics (it does not scrape itself). */
async function selfMetric(name: string): Promise<number> {
  const text = await (await fetch(`${ts.base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.slice(name.length + 1));
}

before(async () => {
  target = createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(Array.from({ length: exposed }, (_, i) => `m{i="${i}"} ${i}\n`).join(''));
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${(target.address() as AddressInfo).port}`;
  ts = await startTsprom({
    args: [`--storage.tsdb.max-head-series=${LIMIT}`, '--web.enable-remote-write-receiver'],
    config: `global:\n  scrape_interval: 500ms\nscrape_configs:\n  - job_name: t\n    static_configs:\n      - targets: ['${addr}']\n`,
  });
});

after(async () => {
  await ts.stop();
  await new Promise<void>((r) => target.close(() => r()));
});

test('new series past the limit are refused; existing series keep ingesting', { timeout: 90_000 }, async () => {
  // 5 exposed series and the scrape's 5 report series: 10 of 12.
  await until('the first scrapes', async () => ((await scalar('scrape_samples_scraped')) === 5 ? true : null));
  exposed = 20;
  await until('20 samples scraped', async () => ((await scalar('scrape_samples_scraped')) === 20 ? true : null));
  // Wait for a scrape after the one that filled the head.
  await until('series added drops to 0', async () => ((await scalar('scrape_series_added')) === 0 ? true : null));

  assert.equal(await scalar('count(m)'), LIMIT - 5);
  // Prometheus counts samples the storage refuses as scraped after relabeling, and not as added series.
  assert.equal(await scalar('scrape_samples_post_metric_relabeling'), 20);
  assert.equal(await scalar('up'), 1);
  const dropped = await selfMetric('tsprom_target_scrapes_sample_head_series_limit_total');
  assert.ok(dropped >= 13, String(dropped));
  assert.ok((await selfMetric('tsprom_tsdb_head_series_limit_rejected_total')) >= dropped);
  assert.equal(await selfMetric('tsprom_tsdb_head_series_limit'), LIMIT);
  assert.equal(await selfMetric('prometheus_tsdb_head_series'), LIMIT);

  // Existing series keep getting samples.
  const t1 = await scalar('timestamp(m{i="0"})');
  await until('a newer sample of an existing series', async () => ((await scalar('timestamp(m{i="0"})'))! > t1! ? true : null));

  // Remote write: the new series is refused by name, the existing one is written. Its sample
  // lies ahead of the scrapes', so no scrape can make it out of order.
  const instance = `127.0.0.1:${(target.address() as AddressInfo).port}`;
  const ahead = Date.now() + 5 * 60_000;
  const res = await fetch(`${ts.base}/api/v1/write`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' },
    body: writeRequestBody([
      { labels: { __name__: 'm', i: '0', job: 't', instance: 'x' }, samples: [[ahead, 1]] },
      { labels: { __name__: 'm', i: '0', job: 't', instance }, samples: [[ahead, 7]] },
    ]),
  });
  assert.equal(res.status, 400);
  assert.equal(await res.text(), `head series limit of ${LIMIT} reached for series {__name__="m", i="0", instance="x", job="t"}\n`);
  const written = await api(`${ts.base}/api/v1/query?query=${encodeURIComponent('m{i="0"}')}&time=${ahead / 1000}`);
  assert.deepEqual((written.body['data'] as { result: Array<{ value: [number, string] }> }).result.map((r) => r.value[1]), ['7']);

  const st = await api(`${ts.base}/api/v1/status/tsdb`);
  const data = st.body['data'] as { headStats: { numSeries: number }; headSeriesLimit: unknown; seriesCountByMetricName: Array<{ name: string; value: number }> };
  assert.equal(data.headStats.numSeries, LIMIT);
  assert.deepEqual(data.headSeriesLimit, { maxSeries: LIMIT, numSeries: LIMIT, ratio: 1 });
  assert.deepEqual(data.seriesCountByMetricName[0], { name: 'm', value: LIMIT - 5 });
});
