// The targets and metadata API handlers over a live ScrapeManager.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryStorage } from '../src/storage/memory.js';
import { ScrapeManager } from '../src/scrape/manager.js';
import { targetsRoutes } from '../src/web/api/targets.js';
import { ApiError, type ApiContext, type ApiRoute } from '../src/web/api/types.js';
import { config, relabelConfig, scrapeConfig, waitFor } from './fixtures/scrape/helpers.js';

function call(routes: ApiRoute[], path: string, query = ''): unknown {
  const route = routes.find((r) => r.path === path)!;
  const url = new URL(`http://localhost/api/v1${path}${query}`);
  const ctx: ApiContext = {
    method: 'GET',
    url,
    params: url.searchParams,
    pathParams: {},
    clientIP: '127.0.0.1',
    path,
    signal: new AbortController().signal,
    body: Buffer.alloc(0),
    headers: {},
  };
  const r = route.handler(ctx);
  assert.ok(!(r instanceof Promise));
  return (r as { data: unknown }).data;
}

test('targets, targets/metadata and metadata answer as Prometheus does', { timeout: 60_000 }, async () => {
  const srv = http.createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end('# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\nhttp_requests_total 3\n# HELP temp Temperature.\n# TYPE temp gauge\ntemp 21\n');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const m = new ScrapeManager({ appendable: new MemoryStorage(), discoveryUpdateIntervalMs: 20 });
  const routes = targetsRoutes(m);
  try {
    m.applyConfig(
      config([
        scrapeConfig({
          jobName: 'app',
          scrapeIntervalMs: 300,
          scrapeTimeoutMs: 200,
          staticConfigs: [{ targets: [addr, 'dropme:1'], labels: { env: 'test' } }],
          relabelConfigs: [relabelConfig({ sourceLabels: ['__address__'], regex: 'dropme:.*', action: 'drop' })],
        }),
        scrapeConfig({ jobName: 'down', scrapeIntervalMs: 300, scrapeTimeoutMs: 200, staticConfigs: [{ targets: ['127.0.0.1:1'], labels: {} }] }),
      ]),
    );
    await waitFor(() => {
      const all = [...m.activeTargets().values()].flat();
      return all.length === 2 && all.every((t) => t.health() !== 'unknown');
    }, 'targets scraped');

    const all = call(routes, '/targets') as {
      activeTargets: Record<string, unknown>[];
      droppedTargets: Record<string, unknown>[];
      droppedTargetCounts: Record<string, number>;
    };
    assert.equal(all.activeTargets.length, 2);
    const app = all.activeTargets[0]!;
    assert.deepEqual(Object.keys(app), [
      'discoveredLabels',
      'labels',
      'scrapePool',
      'scrapeUrl',
      'globalUrl',
      'lastError',
      'lastScrape',
      'lastScrapeDuration',
      'health',
      'scrapeInterval',
      'scrapeTimeout',
    ]);
    assert.equal(app.scrapePool, 'app');
    assert.equal(app.scrapeUrl, `http://${addr}/metrics`);
    assert.equal(app.health, 'up');
    assert.equal(app.lastError, '');
    assert.equal(app.scrapeInterval, '300ms');
    assert.equal(app.scrapeTimeout, '200ms');
    assert.match(app.lastScrape as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.equal(typeof app.lastScrapeDuration, 'number');
    assert.deepEqual(app.labels, { env: 'test', instance: addr, job: 'app' });
    assert.equal((app.discoveredLabels as Record<string, string>).__address__, addr);
    assert.equal((app.discoveredLabels as Record<string, string>).__metrics_path__, '/metrics');
    const down = all.activeTargets[1]!;
    assert.equal(down.health, 'down');
    assert.equal(down.lastError, 'Get "http://127.0.0.1:1/metrics": dial tcp 127.0.0.1:1: connect: connection refused');
    assert.deepEqual(all.droppedTargets, [
      {
        discoveredLabels: { __address__: 'dropme:1', __metrics_path__: '/metrics', __scheme__: 'http', __scrape_interval__: '300ms', __scrape_timeout__: '200ms', env: 'test', job: 'app' },
        scrapePool: 'app',
      },
    ]);
    assert.deepEqual(all.droppedTargetCounts, { app: 1, down: 0 });

    const active = call(routes, '/targets', '?state=active') as { activeTargets: unknown[]; droppedTargets: unknown[]; droppedTargetCounts?: unknown };
    assert.equal(active.activeTargets.length, 2);
    assert.deepEqual(active.droppedTargets, []);
    assert.equal(active.droppedTargetCounts, undefined);
    const dropped = call(routes, '/targets', '?state=Dropped') as { activeTargets: unknown[]; droppedTargets: unknown[] };
    assert.deepEqual(dropped.activeTargets, []);
    assert.equal(dropped.droppedTargets.length, 1);
    const pool = call(routes, '/targets', '?scrapePool=down') as { activeTargets: { scrapePool: string }[]; droppedTargets: unknown[] };
    assert.deepEqual(pool.activeTargets.map((t) => t.scrapePool), ['down']);
    assert.deepEqual(pool.droppedTargets, []);

    const tm = call(routes, '/targets/metadata', '?metric=temp') as unknown[];
    assert.deepEqual(tm, [{ target: { env: 'test', instance: addr, job: 'app' }, type: 'gauge', help: 'Temperature.', unit: '' }]);
    const tmAll = call(routes, '/targets/metadata', '?match_target={job="app"}') as { metric: string }[];
    assert.deepEqual(tmAll.map((x) => x.metric).sort(), ['http_requests_total', 'temp']);
    assert.deepEqual(call(routes, '/targets/metadata', '?match_target={job="nope"}'), []);
    assert.throws(() => call(routes, '/targets/metadata', '?match_target={job='), (e: unknown) => e instanceof ApiError && e.errorType === 'bad_data');

    assert.deepEqual(call(routes, '/metadata'), {
      http_requests_total: [{ type: 'counter', help: 'Requests.', unit: '' }],
      temp: [{ type: 'gauge', help: 'Temperature.', unit: '' }],
    });
    assert.deepEqual(Object.keys(call(routes, '/metadata', '?limit=1') as object).length, 1);
    assert.deepEqual(call(routes, '/metadata', '?metric=temp'), { temp: [{ type: 'gauge', help: 'Temperature.', unit: '' }] });
    assert.throws(() => call(routes, '/metadata', '?limit=x'), (e: unknown) => e instanceof ApiError && e.errorType === 'bad_data' && e.message === 'limit must be a number');
    assert.deepEqual(call(routes, '/scrape_pools'), { scrapePools: ['app', 'down'] });
  } finally {
    await m.stop();
    srv.close();
  }
});
