import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { Writable } from 'node:stream';
import { QueryLog } from '../src/querylog/querylog.js';
import { ScrapeFailureLog, formatScrapeFailureLine } from '../src/querylog/scrape_failure_log.js';
import { LogFileOpenError } from '../src/logging/json_log.js';
import { createLogger } from '../src/logging/logger.js';
import { queryLogRoutes } from '../src/web/api/querylog.js';
import { ApiError, type ApiContext } from '../src/web/api/types.js';
import { FakeDisk, formatQueryLogLine, keyPaths, metric, record } from './querylog_helpers.js';

const NOW = Date.UTC(2024, 10, 14, 9, 51, 50, 620);

const dirs: string[] = [];
/** A temporary directory, removed after all tests even when one fails. */
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsprom-querylog-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('query log line', () => {
  test('has Prometheus 3.x keys, order and formats', () => {
    const line = formatQueryLogLine(record(0), NOW);
    assert.ok(line.endsWith('}\n'));
    const o = JSON.parse(line);
    assert.deepEqual(Object.keys(o), ['time', 'level', 'msg', 'params', 'stats', 'httpRequest']);
    assert.equal(o.level, 'INFO');
    assert.equal(o.msg, 'promql query logged');
    assert.deepEqual(o.params, {
      end: '2023-11-14T22:14:20.000Z',
      query: 'rate(http_requests_total{job="api",instance="h0"}[5m])',
      start: '2023-11-14T22:13:20.000Z',
      step: 15,
    });
    assert.deepEqual(Object.keys(o.params), ['end', 'query', 'start', 'step']);
    assert.deepEqual(Object.keys(o.stats.timings), [
      'evalTotalTime', 'resultSortTime', 'queryPreparationTime', 'innerEvalTime', 'execQueueTime', 'execTotalTime',
    ]);
    assert.deepEqual(o.stats.samples, { totalQueryableSamples: 120, peakSamples: 40 });
    assert.deepEqual(o.httpRequest, { clientIP: '127.0.0.1', method: 'GET', path: '/api/v1/query_range' });
  });

  test('failed rule queries carry error and ruleGroup', () => {
    const o = JSON.parse(
      formatQueryLogLine(record(1, { error: 'query timed out in expression evaluation', origin: { ruleGroup: { name: 'g', file: '/r.yml' } } }), NOW),
    );
    assert.deepEqual(Object.keys(o), ['time', 'level', 'msg', 'params', 'error', 'stats', 'ruleGroup']);
    assert.equal(o.error, 'query timed out in expression evaluation');
    assert.deepEqual(Object.keys(o.ruleGroup), ['file', 'name']);
  });

  test('instant queries log step 0 and per-step stats when present', () => {
    const r = record(2, {
      params: { query: 'up', start: NOW, end: NOW, step: 0 },
      stats: { ...record(2).stats, samples: { totalQueryableSamples: 2, peakSamples: 1, totalQueryableSamplesPerStep: [[1, 2]] } },
      origin: {},
    });
    const o = JSON.parse(formatQueryLogLine(r, NOW));
    assert.equal(o.params.step, 0);
    assert.deepEqual(o.stats.samples.totalQueryableSamplesPerStep, [[1, 2]]);
    assert.deepEqual(Object.keys(o), ['time', 'level', 'msg', 'params', 'stats']);
  });
});

describe('QueryLog', () => {
  test('after 10,000 queries the last line has exactly the keys and size of the first', async () => {
    const disk = new FakeDisk();
    const ql = new QueryLog({ fs: disk, now: () => NOW });
    ql.configure({ file: '/q.log' });
    // Alternate origins and failures, as a server does, to catch anything that sticks.
    for (let i = 0; i < 10_000; i++) {
      const over = i % 3 === 1 ? { error: 'boom', origin: { ruleGroup: { file: 'f', name: `g${i}` } } } : {};
      ql.log(record(i, over));
      // Let the writer run now and then, as the event loop does between requests.
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
    }
    ql.log(record(0));
    await ql.idle();
    const lines = disk.lines('/q.log');
    assert.equal(lines.length, 10_001);
    const first = lines[0]!;
    const last = lines[lines.length - 1]!;
    assert.deepEqual(keyPaths(JSON.parse(last)), keyPaths(JSON.parse(first)));
    assert.equal(last.length, first.length);
    assert.equal(last, first);
    await ql.close();
  });

  test('writes through the real file system and counts bytes', async () => {
    const dir = tmp();
    const registry = new Registry();
    const ql = new QueryLog({ registry });
    const file = join(dir, 'query.log');
    ql.configure({ file });
    assert.equal(await metric(registry, 'prometheus_engine_query_log_enabled'), 1);
    for (let i = 0; i < 100; i++) ql.log(record(i));
    await ql.idle();
    const text = readFileSync(file, 'utf8');
    assert.equal(text.split('\n').filter(Boolean).length, 100);
    assert.equal(await metric(registry, 'tsprom_query_log_bytes_written_total'), Buffer.byteLength(text));
    await ql.close();
    assert.equal(await metric(registry, 'prometheus_engine_query_log_enabled'), 0);
  });

  test('a stalled disk fills the bounded buffer, then lines are dropped and counted without blocking', async () => {
    const disk = new FakeDisk();
    disk.mode = 'hang';
    const registry = new Registry();
    const ql = new QueryLog({ fs: disk, registry, maxBufferBytes: 4096, now: () => NOW });
    ql.configure({ file: '/q.log' });
    ql.log(record(0));
    void ql.idle();
    await new Promise((r) => setImmediate(r));
    // That line's write is now in flight and never finishes; its bytes stay in the buffer meanwhile.
    for (let i = 0; i < 100; i++) ql.log(record(i));
    void ql.idle();
    const line = Buffer.byteLength(formatQueryLogLine(record(0), NOW));
    const fit = Math.floor(4096 / line);
    assert.equal(await metric(registry, 'tsprom_query_log_buffered_bytes'), fit * line);
    assert.equal(await metric(registry, 'tsprom_query_log_dropped_total', { reason: 'buffer_full' }), 100 - (fit - 1));
    disk.mode = 'ok';
    disk.release();
    await ql.idle();
    assert.equal(disk.lines('/q.log').length, fit);
    assert.equal(await metric(registry, 'tsprom_query_log_buffered_bytes'), 0);
    // With the disk back, the buffer takes lines again.
    for (let i = 0; i < 5; i++) ql.log(record(i));
    await ql.idle();
    assert.equal(disk.lines('/q.log').length, fit + 5);
    await ql.close();
  });

  test('a disk that keeps up loses nothing, in large writes, with a line per query', async () => {
    const disk = new FakeDisk();
    const registry = new Registry();
    const ql = new QueryLog({ fs: disk, registry, now: () => NOW });
    ql.configure({ file: '/q.log' });
    // Twice the bound of the old two-buffer design, with the writer getting a turn only every 5,000 queries.
    for (let i = 0; i < 20_000; i++) {
      ql.log(record(i));
      if (i % 5000 === 4999) await new Promise((r) => setImmediate(r));
    }
    await ql.idle();
    assert.equal(disk.lines('/q.log').length, 20_000);
    const line = Buffer.byteLength(formatQueryLogLine(record(0), NOW));
    assert.equal(await metric(registry, 'tsprom_query_log_bytes_written_total'), 20_000 * line);
    assert.equal(await metric(registry, 'tsprom_query_log_dropped_total'), 0);
    assert.ok(disk.writeCalls <= Math.ceil((20_000 * line) / (64 * 1024)) + 4, `${disk.writeCalls} writes`);
    await ql.close();
  });

  test('lines reach the file within the batch delay without anyone waiting for them', async () => {
    const disk = new FakeDisk();
    const ql = new QueryLog({ fs: disk });
    ql.configure({ file: '/q.log' });
    ql.log(record(1));
    ql.log(record(2));
    await new Promise((r) => setImmediate(r));
    assert.equal(disk.writeCalls, 0, 'two lines wait for more');
    for (let i = 0; i < 50 && disk.lines('/q.log').length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(disk.lines('/q.log').length, 2);
    assert.equal(disk.writeCalls, 1);
    await ql.close();
  });

  test('a full disk drops and counts lines, logs the error once a minute, and recovers', async () => {
    const disk = new FakeDisk();
    const registry = new Registry();
    const logged: string[] = [];
    const logger = createLogger({ stream: new Writable({ write: (c, _e, cb) => (logged.push(String(c)), cb()) }) });
    let now = 0;
    const ql = new QueryLog({ fs: disk, registry, logger, retryDelayMs: 5, now: () => now });
    ql.configure({ file: '/q.log' });
    ql.log(record(0));
    await ql.idle();
    disk.mode = 'full';
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 10; i++) ql.log(record(i));
      await ql.idle();
      await new Promise((r) => setTimeout(r, 10));
      await ql.idle();
      now += 1000;
    }
    const failures = await metric(registry, 'prometheus_engine_query_log_failures_total');
    assert.ok(failures >= 5, `failures ${failures}`);
    assert.equal(await metric(registry, 'tsprom_query_log_dropped_total', { reason: 'write_error' }), 50);
    assert.equal(logged.length, 1, 'one error line within the minute');
    assert.match(logged[0]!, /level=ERROR msg="Failed to write to the query log; lines are being dropped" err="write: no space left on device"/);
    now += 60_000;
    disk.mode = 'ok';
    await new Promise((r) => setTimeout(r, 10));
    ql.log(record(7));
    await ql.idle();
    const lines = disk.lines('/q.log');
    assert.equal(lines.length, 2);
    assert.equal(JSON.parse(lines[1]!).params.query, record(7).params.query);
    await ql.close();
  });

  test('min duration logs only slow queries, and failed queries always', async () => {
    const disk = new FakeDisk();
    const registry = new Registry();
    const ql = new QueryLog({ fs: disk, registry });
    ql.configure({ file: '/q.log', minDurationMs: 100 });
    const timed = (sec: number, error?: string) =>
      record(0, { stats: { ...record(0).stats, timings: { ...record(0).stats.timings, execTotalTime: sec } }, ...(error ? { error } : {}) });
    ql.log(timed(0.05));
    ql.log(timed(0.1));
    ql.log(timed(2));
    ql.log(timed(0.001, 'bad'));
    await ql.idle();
    const got = disk.lines('/q.log').map((l) => JSON.parse(l));
    assert.deepEqual(got.map((o) => o.stats.timings.execTotalTime), [0.1, 2, 0.001]);
    assert.equal(got[2].error, 'bad');
    assert.equal(await metric(registry, 'tsprom_query_log_filtered_total'), 1);
    await ql.close();
  });

  test('built-in rotation keeps whole lines, max size and max files', async () => {
    const dir = tmp();
    const file = join(dir, 'query.log');
    // A fixed clock: the time field's length varies with its milliseconds.
    const ql = new QueryLog({ now: () => NOW });
    const lineLen = Buffer.byteLength(formatQueryLogLine(record(0), NOW));
    ql.configure({ file, maxSizeBytes: lineLen * 10 + 5, maxFiles: 2 });
    for (let i = 0; i < 45; i++) {
      ql.log(record(i));
      // Several batches, so rotation happens both inside a batch and between batches.
      if (i % 7 === 0) await ql.idle();
    }
    await ql.close();
    assert.deepEqual(readdirSync(dir).sort(), ['query.log', 'query.log.1', 'query.log.2']);
    const count = (f: string) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).length;
    assert.equal(count('query.log.2'), 10);
    assert.equal(count('query.log.1'), 10);
    assert.equal(count('query.log'), 5);
    for (const f of readdirSync(dir)) assert.ok(readFileSync(join(dir, f)).length <= lineLen * 10 + 5);
  });

  test('max files 0 starts the file afresh when full', async () => {
    const disk = new FakeDisk();
    const ql = new QueryLog({ fs: disk, now: () => NOW });
    const lineLen = Buffer.byteLength(formatQueryLogLine(record(0), NOW));
    ql.configure({ file: '/q.log', maxSizeBytes: lineLen * 3 });
    for (let i = 0; i < 7; i++) ql.log(record(i));
    await ql.close();
    assert.deepEqual([...disk.files.keys()], ['/q.log']);
    assert.equal(disk.lines('/q.log').length, 1);
  });

  test('reopen follows logrotate: old lines stay in the moved file, new ones go to a new file', async () => {
    const dir = tmp();
    const file = join(dir, 'query.log');
    const ql = new QueryLog();
    ql.configure({ file });
    ql.log(record(1));
    await ql.idle();
    renameSync(file, file + '.1');
    ql.log(record(2));
    await ql.idle();
    ql.reopen();
    ql.log(record(3));
    await ql.idle();
    const q = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).params.query);
    assert.deepEqual(q(file + '.1'), [record(1).params.query, record(2).params.query]);
    assert.deepEqual(q(file), [record(3).params.query]);
    await ql.close();
  });

  test('configure: same file reopens, new file switches, no file closes; a bad path keeps the old', async () => {
    const disk = new FakeDisk();
    const registry = new Registry();
    const ql = new QueryLog({ fs: disk, registry });
    ql.configure({ file: '/a.log' });
    ql.configure({ file: '/a.log' });
    await ql.idle();
    assert.equal(disk.opens, 2);
    assert.throws(() => ql.configure({ file: '/missing-dir/b.log' }), LogFileOpenError);
    assert.equal(ql.file, '/a.log');
    ql.log(record(0));
    ql.configure({ file: '/b.log' });
    ql.log(record(1));
    await ql.idle();
    assert.equal(disk.lines('/a.log').length, 1);
    assert.equal(disk.lines('/b.log').length, 1);
    ql.configure({ file: null });
    assert.equal(ql.file, null);
    assert.equal(await metric(registry, 'prometheus_engine_query_log_enabled'), 0);
    ql.log(record(2));
    await ql.idle();
    assert.equal(disk.lines('/b.log').length, 1);
    await ql.close();
  });

  test('recent() returns the newest entries first from a bounded ring', async () => {
    const disk = new FakeDisk();
    const ql = new QueryLog({ fs: disk, ringSize: 5 });
    ql.configure({ file: '/q.log' });
    for (let i = 0; i < 12; i++) ql.log(record(0, { params: { query: `q${i}`, start: 0, end: 0, step: 0 } }));
    const q = (l: object[]) => l.map((o) => (o as { params: { query: string } }).params.query);
    assert.deepEqual(q(await ql.recent(3)), ['q11', 'q10', 'q9']);
    assert.deepEqual(q(await ql.recent(0)), ['q11', 'q10', 'q9', 'q8', 'q7']);
    assert.deepEqual(q(await ql.recent(100)), ['q11', 'q10', 'q9', 'q8', 'q7']);
    void ql.close();
  });
});

describe('GET /status/query_log', () => {
  const ctx = (query: string): ApiContext =>
    ({ params: new URLSearchParams(query) }) as unknown as ApiContext;

  test('serves recent entries and rejects a bad limit', async () => {
    const ql = new QueryLog({ fs: new FakeDisk() });
    ql.configure({ file: '/q.log' });
    ql.log(record(1));
    ql.log(record(2));
    const [route] = queryLogRoutes(ql);
    assert.equal(route!.method, 'GET');
    assert.equal(route!.path, '/status/query_log');
    const res = await route!.handler(ctx('limit=1'));
    assert.equal((res.data as object[]).length, 1);
    assert.equal(((await route!.handler(ctx(''))).data as object[]).length, 2);
    for (const bad of ['-1', 'x', '1.5', '99999999999999999999']) {
      assert.throws(() => route!.handler(ctx(`limit=${bad}`)), (e: unknown) => e instanceof ApiError && e.errorType === 'bad_data');
    }
    await ql.close();
  });
});

describe('ScrapeFailureLog', () => {
  test('one JSON line per failed scrape, per configured file, reopened and closed like the query log', async () => {
    const disk = new FakeDisk();
    const registry = new Registry();
    const sfl = new ScrapeFailureLog({ fs: disk, registry, now: () => NOW });
    sfl.configure({ files: ['/s.log', '/t.log', ''] });
    assert.deepEqual(sfl.paths().sort(), ['/s.log', '/t.log']);
    sfl.log({ file: '/s.log', target: 'http://h:9100/metrics', scrapePool: 'node', error: 'server returned HTTP status 500 Internal Server Error' });
    sfl.log({ file: '/nowhere.log', target: 'x', scrapePool: 'y', error: 'z' });
    await sfl.idle();
    const [o] = disk.lines('/s.log').map((l) => JSON.parse(l));
    assert.deepEqual(Object.keys(o), ['time', 'level', 'msg', 'target', 'scrape_pool']);
    assert.equal(o.level, 'ERROR');
    assert.equal(o.msg, 'server returned HTTP status 500 Internal Server Error');
    assert.equal(o.target, 'http://h:9100/metrics');
    assert.equal(
      formatScrapeFailureLine({ target: 't', scrapePool: 'p', error: 'e' }, NOW),
      JSON.stringify({ time: JSON.parse(formatScrapeFailureLine({ target: '', scrapePool: '', error: '' }, NOW)).time, level: 'ERROR', msg: 'e', target: 't', scrape_pool: 'p' }) + '\n',
    );
    sfl.configure({ files: ['/s.log'] });
    assert.deepEqual(sfl.paths(), ['/s.log']);
    disk.mode = 'full';
    sfl.log({ file: '/s.log', target: 't', scrapePool: 'p', error: 'e' });
    await sfl.idle();
    assert.equal(await metric(registry, 'tsprom_scrape_failure_log_dropped_total', { reason: 'write_error' }), 1);
    await sfl.close();
    assert.deepEqual(sfl.paths(), []);
  });
});
