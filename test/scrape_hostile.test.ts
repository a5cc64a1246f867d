// A hostile exporter: every kind of broken response fails only its own target, with a
// clear lastError, while a well-behaved target next to them keeps being scraped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { MemoryStorage } from '../src/storage/memory.js';
import { ScrapeManager } from '../src/scrape/manager.js';
import type { Target } from '../src/scrape/target.js';
import type { ScrapeFailure } from '../src/querylog/scrape_failure_log.js';
import { config, readSeries, scrapeConfig, waitFor, defaultHttpClient } from './fixtures/scrape/helpers.js';

const GOOD = '# HELP good_total A good counter.\n# TYPE good_total counter\ngood_total{k="v"} 42\n';
const TEN_MB = 10 * 1024 * 1024;
const MILLION = 1_000_000;

function hostileServer(): http.Server {
  // Built once: serving them must not cost the test its time budget.
  const bigLabel = Buffer.from(`big{v="${'a'.repeat(TEN_MB)}"} 1\n`);
  const lines: string[] = [];
  for (let i = 0; i < MILLION; i++) lines.push(`many{i="${i}"} 1`);
  const million = Buffer.from(lines.join('\n') + '\n');
  const gz = zlib.gzipSync(Buffer.from(GOOD));
  const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024, 'a'));
  return http.createServer((req, res) => {
    const text = (body: string | Buffer, ct = 'text/plain; version=0.0.4') => {
      res.setHeader('content-type', ct);
      res.end(body);
    };
    switch (req.url) {
      case '/good':
        return text(GOOD);
      case '/gzip':
        res.setHeader('content-encoding', 'gzip');
        return text(gz);
      case '/gzip-bomb':
        res.setHeader('content-encoding', 'gzip');
        return text(bomb);
      case '/bad-gzip':
        res.setHeader('content-encoding', 'gzip');
        return text('this is not gzip');
      case '/openmetrics':
        return text('# TYPE om counter\nom_total 1 # {trace_id="x"} 1\n# EOF\n', 'application/openmetrics-text; version=1.0.0; charset=utf-8');
      case '/truncated':
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
        res.write('truncated_metric 1\ntrunc');
        setTimeout(() => res.socket?.destroy(), 10);
        return;
      case '/invalid-utf8':
        return text(Buffer.from('ok_before 1\nbad{b="\xff\xfe"} 1\n', 'latin1'));
      case '/malformed':
        return text('fine 1\nbroken{a=} 1\n');
      case '/big-label':
        return text(bigLabel);
      case '/million':
        return text(million);
      case '/duplicate':
        return text('dup{a="1"} 1\ndup{a="1"} 2\nother 3\n');
      case '/json':
        return text('{"not":"metrics"}', 'application/json');
      case '/slow': {
        // Far past the 300ms timeout; cleared if the client is gone first.
        const t = setTimeout(() => text(GOOD), 10_000);
        res.on('close', () => clearTimeout(t));
        return;
      }
      case '/status500':
        res.statusCode = 500;
        return text('oops');
      case '/redirect-loop':
        res.writeHead(302, { location: '/redirect-loop' });
        return res.end();
      case '/redirect-good':
        res.writeHead(301, { location: '/good' });
        return res.end();
      default:
        res.statusCode = 404;
        return res.end();
    }
  });
}

test('hostile targets fail alone with clear errors', { timeout: 120_000 }, async () => {
  const srv = hostileServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const db = new MemoryStorage();
  const registry = new Registry();
  const failures: ScrapeFailure[] = [];
  const m = new ScrapeManager({ appendable: db, registry, discoveryUpdateIntervalMs: 50, onScrapeFailure: (f) => failures.push(f) });
  const job = (name: string, path: string, over: Parameters<typeof scrapeConfig>[0] extends infer T ? Partial<T> : never = {}) =>
    scrapeConfig({ jobName: name, metricsPath: path, scrapeIntervalMs: 2000, scrapeTimeoutMs: 1900, staticConfigs: [{ targets: [addr], labels: {} }], ...over });
  const jobs = [
    job('good', '/good'),
    job('gzip', '/gzip'),
    job('openmetrics', '/openmetrics'),
    job('truncated', '/truncated'),
    job('invalid-utf8', '/invalid-utf8'),
    job('malformed', '/malformed'),
    job('big-label', '/big-label', { scrapeIntervalMs: 5000, scrapeTimeoutMs: 4900, labelValueLengthLimit: 1024 }),
    job('body-limit', '/big-label', { scrapeIntervalMs: 5000, scrapeTimeoutMs: 4900, bodySizeLimit: 1024 * 1024 }),
    job('gzip-bomb', '/gzip-bomb', { bodySizeLimit: 1024 * 1024 }),
    job('bad-gzip', '/bad-gzip'),
    job('million', '/million', { scrapeIntervalMs: 10_000, scrapeTimeoutMs: 9900, sampleLimit: 1000 }),
    job('duplicate', '/duplicate'),
    job('json', '/json'),
    job('slow', '/slow', { scrapeTimeoutMs: 300 }),
    job('status500', '/status500'),
    job('redirect-loop', '/redirect-loop'),
    job('redirect-good', '/redirect-good'),
    job('redirect-off', '/redirect-good', { httpClient: { ...defaultHttpClient, followRedirects: false } }),
  ];
  m.applyConfig(config(jobs));
  const byJob = (): Map<string, Target> => {
    const out = new Map<string, Target>();
    for (const [pool, ts] of m.activeTargets()) if (ts[0] !== undefined) out.set(pool, ts[0]);
    return out;
  };
  try {
    await waitFor(() => {
      const ts = byJob();
      return ts.size === jobs.length && [...ts.values()].every((t) => t.health() !== 'unknown');
    }, 'every target scraped once', 90_000);
    const ts = byJob();
    const err = (j: string) => ts.get(j)!.lastError();
    const url = (p: string) => `http://${addr}${p}`;

    for (const j of ['good', 'gzip', 'openmetrics', 'redirect-good', 'duplicate']) {
      assert.equal(ts.get(j)!.health(), 'up', `${j}: ${err(j)}`);
      assert.equal(err(j), '');
    }
    assert.equal(err('truncated'), `Get "${url('/truncated')}": unexpected EOF`);
    assert.equal(err('invalid-utf8'), 'line 2: invalid UTF-8 label value: "\\"\\xff\\xfe\\""');
    assert.equal(err('malformed'), 'line 2: expected label value, got "}" ("INVALID") while parsing: "broken{a=}"');
    assert.match(err('big-label'), /^label_value_length_limit exceeded \(metric: big, label name: v, value: "a{50}", length: 10485760, limit: 1024\)$/);
    assert.equal(err('body-limit'), 'body size limit exceeded');
    assert.equal(err('million'), 'sample limit exceeded');
    assert.equal(err('gzip-bomb'), 'body size limit exceeded');
    assert.equal(err('bad-gzip'), 'gzip: incorrect header check');
    assert.equal(err('json'), 'received unsupported Content-Type "application/json" and no fallback_scrape_protocol specified for target');
    assert.equal(err('slow'), `Get "${url('/slow')}": context deadline exceeded`);
    assert.equal(err('status500'), 'server returned HTTP status 500 Internal Server Error');
    assert.equal(err('redirect-loop'), `Get "${url('/redirect-loop')}": stopped after 10 redirects`);
    assert.equal(err('redirect-off'), 'server returned HTTP status 301 Moved Permanently');
    for (const j of ['truncated', 'invalid-utf8', 'malformed', 'big-label', 'body-limit', 'gzip-bomb', 'bad-gzip', 'million', 'json', 'slow', 'status500', 'redirect-loop', 'redirect-off']) {
      assert.equal(ts.get(j)!.health(), 'down', j);
      // The failed scrape appended nothing but its synthetic series.
      const up = readSeries(db, { job: j, __name__: 'up' });
      assert.equal(up.length, 1, j);
      assert.ok(up[0]!.vs.every((v) => v === 0), `${j}: up is 0`);
      const names = new Set(readSeries(db, { job: j }).map((s) => s.labels.get('__name__')));
      assert.deepEqual([...names].sort(), ['scrape_duration_seconds', 'scrape_samples_post_metric_relabeling', 'scrape_samples_scraped', 'scrape_series_added', 'up'], j);
    }
    // Samples before the broken line were rolled back too.
    assert.equal(readSeries(db, { __name__: 'ok_before' }).length, 0);
    assert.equal(readSeries(db, { __name__: 'fine' }).length, 0);
    // The million-series scrape reports what it saw.
    assert.equal(readSeries(db, { job: 'million', __name__: 'scrape_samples_scraped' })[0]!.vs[0], MILLION);
    // Duplicates: Prometheus keeps the first sample, drops and counts the rest, and the target stays up.
    assert.equal(readSeries(db, { __name__: 'dup' })[0]!.vs[0], 1);
    const dupCount = (await registry.getSingleMetric('prometheus_target_scrapes_sample_duplicate_timestamp_total')!.get()).values[0]!.value;
    assert.ok(dupCount >= 1);
    // Good targets: all their samples, right labels.
    const good = readSeries(db, { __name__: 'good_total' });
    assert.deepEqual(good.map((s) => s.labels.toObject()).sort((a, b) => a.job!.localeCompare(b.job!)), [
      { __name__: 'good_total', instance: addr, job: 'good', k: 'v' },
      { __name__: 'good_total', instance: addr, job: 'gzip', k: 'v' },
      { __name__: 'good_total', instance: addr, job: 'redirect-good', k: 'v' },
    ]);
    assert.equal(readSeries(db, { __name__: 'om_total' }).length, 1);
    // The scrape failure hook heard about each failing target.
    const failedPools = new Set(failures.map((f) => f.scrapePool));
    for (const j of ['truncated', 'malformed', 'slow', 'million']) assert.ok(failedPools.has(j), j);
    assert.equal(failures.find((f) => f.scrapePool === 'slow')!.target, url('/slow'));

    // The good target kept its schedule while the others failed: one sample per interval.
    const before = readSeries(db, { job: 'good', __name__: 'up' })[0]!.ts.length;
    await waitFor(() => readSeries(db, { job: 'good', __name__: 'up' })[0]!.ts.length >= before + 2, 'good target keeps scraping');
    const upGood = readSeries(db, { job: 'good', __name__: 'up' })[0]!;
    assert.ok(upGood.vs.every((v) => v === 1));
  } finally {
    await m.stop();
    srv.closeAllConnections();
    srv.close();
  }
});
