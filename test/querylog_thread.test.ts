// The query log on its worker thread, with the real file system: lines, the ring, reopening, a bad
// path, and a device that is really full (/dev/full answers every write with ENOSPC).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { QueryLog } from '../src/querylog/querylog.js';
import { LogFileOpenError } from '../src/logging/json_log.js';
import { createLogger } from '../src/logging/logger.js';
import { metric, record } from './querylog_helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tsprom-querylog-thread-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
}

describe('query log on its worker thread', () => {
  test('writes every line, serves recent(), reopens after a move, and keeps metrics current', async () => {
    const registry = new Registry();
    const ql = new QueryLog({ registry, ringSize: 50 });
    const path = join(dir, 'q.log');
    ql.configure({ file: path });
    for (let i = 0; i < 1000; i++) ql.log(record(i, { params: { query: `q${i}`, start: 0, end: 0, step: 0 } }));
    await ql.idle();
    const got = lines(path);
    assert.equal(got.length, 1000);
    assert.equal(JSON.parse(got[999]!).params.query, 'q999');
    const bytes = readFileSync(path).length;
    assert.equal(await metric(registry, 'tsprom_query_log_bytes_written_total'), bytes);
    assert.equal(await metric(registry, 'prometheus_engine_query_log_enabled'), 1);

    const recent = (await ql.recent(3)).map((o) => (o as { params: { query: string } }).params.query);
    assert.deepEqual(recent, ['q999', 'q998', 'q997']);
    assert.equal((await ql.recent(0)).length, 50);

    // logrotate moves the file, then SIGHUP: new lines go to a new file at the old path.
    renameSync(path, `${path}.moved`);
    ql.reopen();
    ql.log(record(1));
    await ql.idle();
    assert.equal(lines(path).length, 1);
    assert.equal(lines(`${path}.moved`).length, 1000);

    assert.ok((await ql.threadHeapBytes()) > 0);
    // Removing the setting closes the file: nothing more is written, and the log reports itself off.
    ql.configure({ file: null });
    assert.equal(await metric(registry, 'prometheus_engine_query_log_enabled'), 0);
    ql.log(record(3));
    await ql.idle();
    assert.equal(lines(path).length, 1);
    ql.configure({ file: path });
    ql.log(record(4));
    await ql.idle();
    assert.equal(lines(path).length, 2, 'set again, the log appends to the same file');
    await ql.close();
    assert.equal(await metric(registry, 'prometheus_engine_query_log_enabled'), 0);
    ql.log(record(2));
    assert.equal(lines(path).length, 2, 'nothing is logged after close');
  });

  test('a path that cannot be opened fails the configuration and keeps the old file', async () => {
    const ql = new QueryLog();
    const good = join(dir, 'good.log');
    ql.configure({ file: good });
    assert.throws(() => ql.configure({ file: join(dir, 'missing-dir', 'q.log') }), LogFileOpenError);
    assert.equal(ql.file, good);
    ql.log(record(0));
    await ql.idle();
    assert.equal(lines(good).length, 1);
    await ql.close();
  });

  test('built-in rotation works from the thread', async () => {
    const ql = new QueryLog();
    const path = join(dir, 'rot.log');
    ql.configure({ file: path, maxSizeBytes: 20_000, maxFiles: 2 });
    for (let i = 0; i < 200; i++) ql.log(record(i));
    await ql.idle();
    assert.ok(existsSync(`${path}.1`) && existsSync(`${path}.2`));
    for (const f of [path, `${path}.1`, `${path}.2`]) assert.ok(readFileSync(f).length <= 20_000, f);
    await ql.close();
  });

  test('a full device drops and counts lines, logs the error once, and never blocks the caller', { skip: !existsSync('/dev/full') && 'no /dev/full here' }, async () => {
    const registry = new Registry();
    const logged: string[] = [];
    const logger = createLogger({ stream: new Writable({ write: (c, _e, cb) => (logged.push(String(c)), cb()) }) });
    const ql = new QueryLog({ registry, logger, retryDelayMs: 5 });
    ql.configure({ file: '/dev/full' });
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 100; i++) ql.log(record(i));
      await ql.idle();
      await new Promise((r) => setTimeout(r, 10));
    }
    await ql.idle();
    assert.equal(await metric(registry, 'tsprom_query_log_dropped_total', { reason: 'write_error' }), 500);
    assert.ok((await metric(registry, 'prometheus_engine_query_log_failures_total')) >= 5);
    assert.equal(logged.length, 1, 'one error line within the minute');
    assert.match(logged[0]!, /Failed to write to the query log; lines are being dropped.*no space left on device/i);
    await ql.close();
  });
});
