// Scrape bodies parsed on worker threads (parse_batch.ts replayed by the scrape loop)
// store exactly what inline parsing stores: the same sequence of bodies, scraped at the
// same timestamps by a loop that offloads every body and by one that parses inline,
// leaves equal series, samples (staleness markers included), report series, errors and
// metadata. A full pool or a failing worker falls back to inline parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { ScrapeConfig } from '../src/config/types.js';
import zlib from 'node:zlib';
import { gunzipBody, type GetOptions, type HttpClient, type HttpResponse } from '../src/httpclient/httpclient.js';
import { nopLogger } from '../src/logging/types.js';
import { SymbolTable } from '../src/model/textparse/interface.js';
import { ScrapeLoop, type ParseOffload } from '../src/scrape/loop.js';
import { ScrapeMetrics } from '../src/scrape/metrics.js';
import { SharedBodies, type ParseJob, type ParseReply } from '../src/scrape/parse_batch.js';
import { targetsFromGroup } from '../src/scrape/target.js';
import { MemoryStorage } from '../src/storage/memory.js';
import { PoolFullError, WorkerCrashError, WorkerPool } from '../src/workers/pool.js';
import { readSeries, relabelConfig, scrapeConfig } from './fixtures/scrape/helpers.js';

const BODY_1 = [
  '# HELP req_total Requests.',
  '# TYPE req_total counter',
  'req_total{code="200",job="exposed"} 10',
  'req_total{code="500",job="exposed"} 1 1000',
  '# TYPE lat histogram',
  'lat_bucket{le="1"} 1',
  'lat_bucket{le="+Inf"} 2',
  'lat_sum 3',
  'lat_count 2',
  'drop_me{a="b"} 5',
  'unsorted{z="1",b="2"} 6',
  '',
].join('\n');

const BODIES = [
  BODY_1,
  // req_total 500 and lat_* vanish (stale), a new series comes.
  '# TYPE req_total counter\nreq_total{code="200",job="exposed"} 11\nnew_one 1\ndrop_me{a="b"} 6\nunsorted{z="1",b="2"} 7\n',
  // A parse error after two good lines: the whole scrape is rolled back.
  'req_total{code="200",job="exposed"} 12\nnew_one 2\nbroken{ 3\n',
  // The same series twice in one scrape.
  'req_total{code="200",job="exposed"} 13\nreq_total{code="200",job="exposed"} 14\nnew_one 3\n',
  BODY_1,
  'duplicate_labels{x="1",x="2"} 1\n',
  BODY_1.replace('10', '20'),
  // Every series one position later than last time.
  'first 1\n' + BODY_1,
  BODY_1,
  '',
  BODY_1,
];

const JOBS: Record<string, Partial<ScrapeConfig>> = {
  default: {},
  'honor labels': { honorLabels: true },
  'metric relabeling drops a series': { metricRelabelConfigs: [relabelConfig({ sourceLabels: ['__name__'], regex: 'drop_me', action: 'drop' })] },
  'sample limit': { sampleLimit: 8 },
  'label limit': { labelLimit: 3 },
  'timestamps ignored, tracked staleness': { honorTimestamps: false, trackTimestampsStaleness: true },
  'classic histograms converted to NHCB': { convertClassicHistogramsToNhcb: true },
};

/** Serves `body`; with `gzip` compressed, inflated as the HTTP client does unless the loop asks to keep it (keepGzip). */
class FixedClient {
  body = '';
  gzip = false;
  contentType = 'text/plain; version=0.0.4';
  async get(_url: string, opts: GetOptions): Promise<HttpResponse> {
    const headers = { 'content-type': this.contentType };
    if (!this.gzip) return { status: 200, statusLine: '200 OK', headers, body: Buffer.from(this.body) };
    const gz = this.body === 'corrupt' ? Buffer.from('\x1f\x8b not gzip at all', 'latin1') : zlib.gzipSync(this.body);
    if (opts.keepGzip === true) return { status: 200, statusLine: '200 OK', headers, body: gz, gzipped: true };
    return { status: 200, statusLine: '200 OK', headers, body: gunzipBody(gz, opts.bodySizeLimit) };
  }
}

function newLoop(sc: ScrapeConfig, db: MemoryStorage, client: FixedClient, parseOffload?: ParseOffload, createdTimestampZeroIngestion = false): { loop: ScrapeLoop; metrics: Registry } {
  const registry = new Registry();
  const r = targetsFromGroup({ source: 't', targets: [{ __address__: 'example.com:9100' }], labels: {} }, sc, sc.jobName);
  const target = r.targets[0]!;
  const loop = new ScrapeLoop(target, sc, client as unknown as HttpClient, {
    appendable: db,
    metrics: new ScrapeMetrics(registry),
    symbols: new SymbolTable(),
    logger: nopLogger,
    offsetSeed: 0,
    userAgent: 'test',
    parseOffload,
    createdTimestampZeroIngestion,
  });
  return { loop, metrics: registry };
}

/** Every stored series but the scrape durations (wall time), with its samples as raw bits. */
function dump(db: MemoryStorage): string[] {
  return readSeries(db, {})
    .filter((s) => s.labels.get('__name__') !== 'scrape_duration_seconds')
    .map((s) => `${s.labels.toString()} ${s.ts.join(',')} ${[...new Uint32Array(s.vs.buffer)].join(',')}`)
    .sort();
}

async function runBoth(
  sc: ScrapeConfig,
  offload: ParseOffload,
  gzip = false,
  bodies = BODIES,
  contentType = 'text/plain; version=0.0.4',
  ctZero = false,
): Promise<{ inline: string[]; offloaded: string[]; errors: [string, string][]; registry: Registry }> {
  const dbA = new MemoryStorage();
  const dbB = new MemoryStorage();
  const cA = new FixedClient();
  const cB = new FixedClient();
  cA.gzip = cB.gzip = gzip;
  cA.contentType = cB.contentType = contentType;
  const a = newLoop(sc, dbA, cA, undefined, ctZero);
  const b = newLoop(sc, dbB, cB, offload, ctZero);
  const t0 = Date.now() - 60_000;
  const errors: [string, string][] = [];
  for (let i = 0; i < bodies.length; i++) {
    cA.body = cB.body = bodies[i]!;
    await a.loop.scrapeAndReport(t0 + i * 1000);
    await b.loop.scrapeAndReport(t0 + i * 1000);
    errors.push([a.loop.target.lastError(), b.loop.target.lastError()]);
    assert.deepEqual(b.loop.cache.listMetadata(), a.loop.cache.listMetadata(), `metadata after scrape ${i}`);
  }
  return { inline: dump(dbA), offloaded: dump(dbB), errors, registry: b.metrics };
}

async function counter(r: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await r.getSingleMetric(name)?.get();
  return m?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}

test('bodies parsed on workers store exactly what inline parsing stores', { timeout: 60_000 }, async () => {
  const pool = new WorkerPool<ParseJob, ParseReply>({ module: new URL('../src/scrape/parse_worker.js', import.meta.url), size: 2, maxQueued: 8, name: 'test parse' });
  try {
    for (const [name, over] of Object.entries(JOBS)) {
      const sc = scrapeConfig({ jobName: 'j', scrapeIntervalMs: 1000, scrapeTimeoutMs: 1000, ...over });
      const r = await runBoth(sc, { pool, minBytes: 0, bodies: new SharedBodies(8, 1 << 24) });
      assert.deepEqual(r.offloaded, r.inline, name);
      for (const [i, [x, y]] of r.errors.entries()) assert.equal(y, x, `${name}: error of scrape ${i}`);
      if (name === 'default') assert.ok(r.errors.some(([x]) => x.includes('line 3')), 'the parse error is reported');
      // A target's first scrape, and scrapes after the cache was emptied, parse inline.
      if (name === 'default') assert.equal(await counter(r.registry, 'tsprom_target_scrape_parses_offloaded_total'), BODIES.filter((b) => b !== '').length - 1);
    }
  } finally {
    await pool.close();
  }
});

test('a full pool or a failing worker parses inline, with the same result', async () => {
  const sc = scrapeConfig({ jobName: 'j', scrapeIntervalMs: 1000, scrapeTimeoutMs: 1000 });
  const full = { full: true, run: () => Promise.reject(new Error('not called')) } as unknown as WorkerPool<ParseJob, ParseReply>;
  const refusing = { full: false, run: () => Promise.reject(new PoolFullError('p')) } as unknown as WorkerPool<ParseJob, ParseReply>;
  const crashing = { full: false, run: () => Promise.reject(new WorkerCrashError('p', 'exited with code 1')) } as unknown as WorkerPool<ParseJob, ParseReply>;
  for (const [pool, reason] of [
    [full, 'pool_full'],
    [refusing, 'pool_full'],
    [crashing, 'worker_failed'],
  ] as const) {
    const r = await runBoth(sc, { pool, minBytes: 0, bodies: new SharedBodies(8, 1 << 24) });
    assert.deepEqual(r.offloaded, r.inline, reason);
    assert.equal(await counter(r.registry, 'tsprom_target_scrape_parse_fallbacks_total', { reason }), BODIES.filter((b) => b !== '').length - 1, reason);
    assert.equal(await counter(r.registry, 'tsprom_target_scrape_parses_offloaded_total'), 0, reason);
  }
});

test('bodies below the threshold never reach the pool', async () => {
  const sc = scrapeConfig({ jobName: 'j', scrapeIntervalMs: 1000, scrapeTimeoutMs: 1000 });
  const never = { full: false, run: () => assert.fail('a small body went to the pool') } as unknown as WorkerPool<ParseJob, ParseReply>;
  const r = await runBoth(sc, { pool: never, minBytes: 1 << 20, bodies: new SharedBodies(8, 1 << 24) });
  assert.deepEqual(r.offloaded, r.inline);
  assert.equal(await counter(r.registry, 'tsprom_target_scrape_parse_fallbacks_total', { reason: 'pool_full' }), 0);
});

test('gzip bodies inflated on workers: same samples, same errors over the body size limit and for corrupt data', { timeout: 60_000 }, async () => {
  const pool = new WorkerPool<ParseJob, ParseReply>({ module: new URL('../src/scrape/parse_worker.js', import.meta.url), size: 1, maxQueued: 4, name: 'test parse' });
  try {
    const bodies = [...BODIES.filter((b) => b !== ''), 'corrupt', BODY_1, 'x{a="' + 'y'.repeat(5000) + '"} 1\n', BODY_1];
    for (const [name, over] of Object.entries({ ...JOBS, 'body size limit': { bodySizeLimit: 2000 } })) {
      const sc = scrapeConfig({ jobName: 'j', scrapeIntervalMs: 1000, scrapeTimeoutMs: 1000, ...over });
      const r = await runBoth(sc, { pool, minBytes: 0, bodies: new SharedBodies(8, 1 << 24) }, true, bodies);
      assert.deepEqual(r.offloaded, r.inline, name);
      for (const [i, [x, y]] of r.errors.entries()) assert.equal(y, x, `${name}: error of scrape ${i}`);
      assert.ok(r.errors.some(([x]) => x.startsWith('gzip: ')), `${name}: the corrupt body fails`);
      if (name === 'default') assert.ok((await counter(r.registry, 'tsprom_target_scrape_parses_offloaded_total')) >= bodies.length - 3, 'inflated and parsed on the worker');
      if (name === 'body size limit') {
        assert.ok(r.errors.some(([x]) => x === 'body size limit exceeded'), 'the long body is over the limit');
        assert.equal(await counter(r.registry, 'prometheus_target_scrapes_exceeded_body_size_limit_total'), 1);
      }
    }
  } finally {
    await pool.close();
  }
});

const OM_1 = [
  '# TYPE req counter',
  '# HELP req Requests.',
  'req_total{code="200"} 10 # {trace_id="a"} 1',
  'req_created{code="200"} 1000',
  'req_total{code="500"} 1',
  '# TYPE g gauge',
  'g{x="1"} 5',
  '# EOF',
  '',
].join('\n');
const OM_BODIES = [OM_1, OM_1.replace(' 10 ', ' 11 '), 'g{x="1"} 6\n', OM_1.replace('g{x="1"} 5', 'g{x="2"} 5'), OM_1, 'g{ 1\n# EOF\n', OM_1];

test('OpenMetrics bodies parsed on workers store what inline parsing stores, created timestamps included', { timeout: 60_000 }, async () => {
  const pool = new WorkerPool<ParseJob, ParseReply>({ module: new URL('../src/scrape/parse_worker.js', import.meta.url), size: 1, maxQueued: 4, name: 'test parse' });
  try {
    for (const ctZero of [false, true]) {
      for (const gzip of [false, true]) {
        const what = `ctZero ${ctZero}, gzip ${gzip}`;
        const sc = scrapeConfig({ jobName: 'j', scrapeIntervalMs: 1000, scrapeTimeoutMs: 1000 });
        const r = await runBoth(sc, { pool, minBytes: 0, bodies: new SharedBodies(8, 1 << 24) }, gzip, OM_BODIES, 'application/openmetrics-text; version=1.0.0', ctZero);
        assert.deepEqual(r.offloaded, r.inline, what);
        for (const [i, [x, y]] of r.errors.entries()) assert.equal(y, x, `${what}: error of scrape ${i}`);
        assert.ok(r.errors.some(([x]) => x.includes('# EOF')), `${what}: the body without # EOF fails`);
        assert.ok((await counter(r.registry, 'tsprom_target_scrape_parses_offloaded_total')) >= OM_BODIES.length - 2, `${what}: parsed on the worker`);
      }
    }
  } finally {
    await pool.close();
  }
});
