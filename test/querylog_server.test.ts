// The query log under load, through the real server and the real engine: 20,000 HTTP queries keep
// every line the same shape and size, SIGHUP reopens the file, and a failing disk never stops queries.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { Engine } from '../src/promql/engine/engine.js';
import { MemoryStorage } from '../src/storage/memory.js';
import { Labels } from '../src/model/labels.js';
import { QueryLog } from '../src/querylog/querylog.js';
import { FakeDisk, keyPaths, metric } from './querylog_helpers.js';

const QUERIES = 20_000;
/** Requests in flight at once: enough to keep the server busy without swamping a shared machine. */
const CONCURRENCY = 8;

/** The queries sent, in rotation: instant, range, and one that fails during evaluation. */
const MIX: ReadonlyArray<{ path: string; params: Record<string, string>; fails: boolean }> = [
  { path: '/api/v1/query', params: { query: 'vector(1) + 1' }, fails: false },
  { path: '/api/v1/query_range', params: { query: 'sum(vector(2))', start: '1700000000', end: '1700000600', step: '60' }, fails: false },
  { path: '/api/v1/query', params: { query: 'label_replace(vector(1), "a", "b", "c", "[")' }, fails: true },
];

/** The line with its varying values (clock, timings, evaluation time of instant queries) blanked. */
function normalise(line: string): string {
  return line
    .replace(/"time":"[^"]*"/, '"time":"T"')
    .replace(/"(evalTotalTime|resultSortTime|queryPreparationTime|innerEvalTime|execQueueTime|execTotalTime)":[0-9.e-]+/g, '"$1":0')
    .replace(/"(start|end)":"[^"]*"/g, '"$1":"D"');
}

const root = process.cwd();
const mainJs = join(root, 'dist/src/cli/main.js');

describe('query log through the HTTP server (needs `npm run build`)', () => {
  let dir: string;
  let server: ChildProcess;
  let base: string;
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

  function get(path: string, params: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    const qs = new URLSearchParams(params).toString();
    return new Promise((resolve, reject) => {
      http
        .get(`${base}${path}${qs ? '?' + qs : ''}`, { agent }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
        .on('error', reject);
    });
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsprom-querylog-server-'));
    writeFileSync(join(dir, 'tsprom.yml'), `global:\n  query_log_file: ${join(dir, 'query.log')}\n`);
    server = spawn(
      process.execPath,
      // Without the built-in rule group, whose queries would be logged too.
      [mainJs, `--config.file=${join(dir, 'tsprom.yml')}`, '--web.listen-address=127.0.0.1:0', `--storage.tsdb.path=${join(dir, 'data')}`, '--no-rules.self-monitoring'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    const onData = (c: Buffer) => (out += c.toString());
    server.stdout!.on('data', onData);
    server.stderr!.on('data', onData);
    const port = await new Promise<string>((resolve, reject) => {
      const check = (): void => {
        const m = /msg="Server is ready/.test(out) ? /address=127\.0\.0\.1:(\d+)/.exec(out) : null;
        if (m) resolve(m[1]!);
      };
      server.stdout!.on('data', check);
      server.stderr!.on('data', check);
      server.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
    });
    base = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    agent.destroy();
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test(`${QUERIES.toLocaleString('en-US')} queries: one line each, the same shape and size first to last`, async () => {
    let next = 0;
    const failures: string[] = [];
    const worker = async (): Promise<void> => {
      while (next < QUERIES) {
        const m = MIX[next++ % MIX.length]!;
        const r = await get(m.path, m.params);
        if ((r.status === 200) === m.fails) failures.push(`${m.params.query}: ${r.status} ${r.body}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    assert.deepEqual(failures.slice(0, 3), []);

    // The API serves the newest entries from memory.
    const recent = JSON.parse((await get('/api/v1/status/query_log', { limit: '3' })).body);
    assert.equal(recent.status, 'success');
    assert.equal(recent.data.length, 3);

    // Lines are written in the background; wait until the file holds them all.
    const file = join(dir, 'query.log');
    let lines: string[] = [];
    for (let i = 0; i < 100 && lines.length < QUERIES; i++) {
      await new Promise((r) => setTimeout(r, 50));
      lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    }
    assert.equal(lines.length, QUERIES);

    // Per query, every line has the keys of the first and, once the varying values are blanked, the
    // very same text: nothing accumulates from one query to the next.
    const firstByQuery = new Map<string, { keys: string[]; norm: string }>();
    for (const line of lines) {
      const o = JSON.parse(line);
      const first = firstByQuery.get(o.params.query);
      if (first === undefined) {
        firstByQuery.set(o.params.query, { keys: keyPaths(o), norm: normalise(line) });
        continue;
      }
      assert.deepEqual(keyPaths(o), first.keys);
      assert.equal(normalise(line), first.norm);
    }
    assert.equal(firstByQuery.size, MIX.length);
    const failed = JSON.parse(lines.find((l) => l.includes('label_replace'))!);
    assert.match(failed.error, /invalid regular expression/);
    assert.deepEqual(failed.httpRequest, { clientIP: '127.0.0.1', method: 'GET', path: '/api/v1/query' });

    const metrics = (await get('/metrics')).body;
    assert.match(metrics, /\nprometheus_engine_query_log_enabled 1\n/);
    assert.match(metrics, /\nprometheus_engine_query_log_failures_total 0\n/);
    assert.match(metrics, new RegExp(`\\ntsprom_query_log_bytes_written_total ${readFileSync(file).length}\\n`));
    assert.doesNotMatch(metrics, /\ntsprom_query_log_dropped_total\{[^}]*\} [1-9]/);
  });

  test('SIGHUP reopens the file after logrotate moved it', async () => {
    const file = join(dir, 'query.log');
    renameSync(file, file + '.1');
    server.kill('SIGHUP');
    // The reload that follows SIGHUP reopens the file; wait until a query lands in a new one.
    for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(file), 'query.log recreated');
    assert.equal((await get('/api/v1/query', { query: 'vector(42)' })).status, 200);
    let text = '';
    for (let i = 0; i < 100 && !text.includes('vector(42)'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      text = readFileSync(file, 'utf8');
    }
    assert.match(text, /"query":"vector\(42\)"/);
    assert.doesNotMatch(readFileSync(file + '.1', 'utf8'), /vector\(42\)/);
  });

  /** Points query_log_file at `path`, reloads with SIGHUP and waits until the server serves that config. */
  async function switchLog(path: string): Promise<void> {
    writeFileSync(join(dir, 'tsprom.yml'), `global:\n  query_log_file: ${path}\n`);
    server.kill('SIGHUP');
    for (let i = 0; i < 100; i++) {
      if ((await get('/api/v1/status/config')).body.includes(path)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`config with ${path} not applied`);
  }

  async function metricValue(re: RegExp): Promise<number> {
    const m = re.exec((await get('/metrics')).body);
    return m === null ? 0 : Number(m[1]);
  }

  test('a full disk (/dev/full) drops and counts lines while every query is served; a working file resumes', { skip: !existsSync('/dev/full') && 'no /dev/full here' }, async () => {
    await switchLog('/dev/full');
    for (let i = 0; i < 300; i++) {
      const r = await get('/api/v1/query', { query: `vector(${i})` });
      assert.equal(r.status, 200);
    }
    let dropped = 0;
    for (let i = 0; i < 100 && dropped < 300; i++) {
      await new Promise((r) => setTimeout(r, 50));
      dropped = await metricValue(/\ntsprom_query_log_dropped_total\{reason="write_error"\} (\d+)\n/);
    }
    assert.equal(dropped, 300);
    assert.ok((await metricValue(/\nprometheus_engine_query_log_failures_total (\d+)\n/)) >= 1);

    const file = join(dir, 'after-full.log');
    await switchLog(file);
    assert.equal((await get('/api/v1/query', { query: 'vector(7)' })).status, 200);
    let text = '';
    for (let i = 0; i < 100 && !text.includes('vector(7)'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    }
    assert.match(text, /"query":"vector\(7\)"/);
  });
});

describe('query log on a full disk, with the real engine', () => {
  test('lines are dropped and counted, queries keep being served, logging resumes', async () => {
    const storage = new MemoryStorage();
    const app = storage.appender();
    for (let i = 0; i < 10; i++) app.append(0, Labels.fromObject({ __name__: 'up', instance: `h${i}` }), 1_700_000_000_000, 1);
    app.commit();
    const disk = new FakeDisk();
    const registry = new Registry();
    const ql = new QueryLog({ fs: disk, registry, retryDelayMs: 1 });
    ql.configure({ file: '/q.log' });
    const engine = new Engine({ onQueryDone: ql.log });
    const run = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const r = await engine.newInstantQuery(storage, 'count(up)', 1_700_000_000_000).exec({ origin: {} });
        assert.equal(r.value.type, 'vector');
        if (i % 100 === 99) await new Promise((res) => setImmediate(res));
      }
      // Everything logged goes to the file's buffer now; lines queued while the writer waits out a
      // failure are settled at its next attempt.
      await ql.idle();
      for (let i = 0; i < 200 && (await metric(registry, 'tsprom_query_log_buffered_bytes')) > 0; i++) {
        await new Promise((res) => setTimeout(res, 5));
      }
      await ql.idle();
    };
    await run(100);
    disk.mode = 'full';
    await run(1000);
    assert.equal(await metric(registry, 'tsprom_query_log_dropped_total', { reason: 'write_error' }), 1000);
    assert.ok((await metric(registry, 'prometheus_engine_query_log_failures_total')) >= 1);
    disk.mode = 'ok';
    await new Promise((r) => setTimeout(r, 10));
    await run(100);
    assert.equal(disk.lines('/q.log').length, 200);
    await ql.close();
  });
});
