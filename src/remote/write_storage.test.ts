import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { Labels } from '../model/labels.js';
import { openDB, type DB } from '../tsdb/db.js';
import { listSegments } from '../tsdb/wal/wal.js';
import type { SendResponse } from './queue_manager.js';
import { RemoteWriteStorage } from './write_storage.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-storage-'));
  cleanup.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

function cfg(name = 'a', capacity = 10_000): Config {
  return loadConfig(
    `remote_write:\n  - url: http://127.0.0.1:1/write\n    name: ${name}\n    queue_config: { batch_send_deadline: 10ms, min_backoff: 5ms, max_backoff: 5ms, max_samples_per_send: 100, capacity: ${capacity} }\n`,
  );
}

/** A receiver whose answer the test switches; counts accepted samples by request size. */
function receiver() {
  const r = { status: 200, requests: 0, ok: 0 };
  const factory = () => ({
    send: async (): Promise<SendResponse> => {
      r.requests++;
      if (r.status === 200) r.ok++;
      return { status: r.status, body: '' };
    },
    close: () => {},
  });
  return { r, factory };
}

function newStorage(dir: string, factory: ReturnType<typeof receiver>['factory'], opts: Partial<ConstructorParameters<typeof RemoteWriteStorage>[0]> = {}) {
  const reg = new Registry();
  const s = new RemoteWriteStorage({
    walDir: path.join(dir, 'db', 'wal'),
    stateDir: path.join(dir, 'remote'),
    registry: reg,
    maxWalRetentionBytes: 0,
    flushDeadlineMs: 0,
    userAgent: 'test',
    sendFactory: factory,
    pollIntervalMs: 5,
    shardUpdateIntervalMs: 0,
    saveIntervalMs: 10,
    capCheckIntervalMs: 10,
    ...opts,
  });
  const value = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const m = await reg.getSingleMetric(name)!.get();
    return m.values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);
  };
  return { s, value };
}

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** 50 series, one commit per second of sample time from t0 on. */
function append(db: DB, seconds: number, t0: number): void {
  for (let j = 0; j < seconds; j++) {
    const app = db.appender();
    for (let i = 0; i < 50; i++) app.append(0, Labels.fromPairs('__name__', 'm', 'i', String(i)), t0 + 1000 * j, j);
    app.commit();
  }
}

test('positions are saved and a new storage resumes from them; the WAL a queue needs survives head compaction', async () => {
  const dir = tmp();
  const rx = receiver();
  const { s } = newStorage(dir, rx.factory);
  // The DB outlives the storage here, as it would not in a restart: its retention hook follows the current storage.
  let current = s;
  const retention = { lowestNeededSegment: () => current.lowestNeededSegment() };
  // Small segments and a 2 s head block: compaction checkpoints and deletes segments.
  const db = await openDB(path.join(dir, 'db'), { maintenanceIntervalMs: 0, compactOnCommit: false, walSegmentSizeBytes: 4096, minBlockDurationMs: 2000, walRetention: retention });
  cleanup.push(() => db.close());
  await s.applyConfig(cfg());
  // The receiver is down from the start: nothing is sent.
  rx.r.status = 503;
  append(db, 20, 0);
  await until(() => rx.r.requests > 3, 'failing requests');
  await s.stop();
  const saved = JSON.parse(fs.readFileSync(path.join(dir, 'remote', 'a.json'), 'utf8')) as { segment: number; offset: number };
  assert.deepEqual(saved, { segment: 0, offset: 0 });

  // A restarted storage needs segment 0 before its config is applied, so compaction keeps it.
  const rx2 = receiver();
  rx2.r.status = 503;
  const { s: s2, value } = newStorage(dir, rx2.factory);
  current = s2;
  assert.equal(s2.lowestNeededSegment(), 0);
  await db.compact();
  assert.equal(listSegments(path.join(dir, 'db', 'wal'))[0], 0);
  await s2.applyConfig(cfg());
  await until(() => rx2.r.requests > 0, 'the resumed queue to send');
  rx2.r.status = 200;
  await until(async () => (await value('prometheus_remote_storage_samples_total')) === 1000, 'every sample');
  // Once sent, the position moves on and compaction may fold the old segments away.
  await until(() => (s2.lowestNeededSegment() ?? 0) > 0, 'the position to move past segment 0');
  append(db, 5, 20_000);
  await db.compact();
  assert.ok(listSegments(path.join(dir, 'db', 'wal'))[0]! > 0);
  await s2.stop();
});

test('past the WAL retention cap the oldest unsent samples are dropped and counted', async () => {
  const dir = tmp();
  const rx = receiver();
  rx.r.status = 503;
  const { s, value } = newStorage(dir, rx.factory, { maxWalRetentionBytes: 2048 });
  cleanup.push(() => s.stop());
  // Small segments: the WAL's compact records take about 3 bytes per sample here.
  const db = await openDB(path.join(dir, 'db'), { maintenanceIntervalMs: 0, compactOnCommit: false, walSegmentSizeBytes: 1024, walRetention: s });
  cleanup.push(() => db.close());
  await s.applyConfig(cfg('capped', 100));
  append(db, 60, 0);
  const segs = listSegments(path.join(dir, 'db', 'wal'));
  assert.ok(segs.length > 4);
  // Only the newest segments within 2 KiB are kept for the queue.
  await until(() => (s.lowestNeededSegment() ?? 0) >= segs.at(-2)!, 'the cap to apply');
  rx.r.status = 200;
  const sent = () => value('prometheus_remote_storage_samples_total');
  const dropped = () => value('prometheus_remote_storage_samples_dropped_total', { reason: 'wal_retention_exceeded' });
  await until(async () => (await sent()) + (await dropped()) === 3000, 'every sample sent or dropped');
  assert.ok((await dropped()) > 0);
  assert.ok((await sent()) >= 200);
});

test('reload keeps queues whose config did not change and replaces the others', async () => {
  const dir = tmp();
  const rx = receiver();
  const { s } = newStorage(dir, rx.factory);
  cleanup.push(() => s.stop());
  fs.mkdirSync(path.join(dir, 'db', 'wal'), { recursive: true });
  const two = (timeout: string) =>
    loadConfig(`remote_write:\n  - url: http://127.0.0.1:1/a\n    name: a\n  - url: http://127.0.0.1:1/b\n    name: b\n    remote_timeout: ${timeout}\n`);
  await s.applyConfig(two('10s'));
  const a = s.queue('a');
  const b = s.queue('b');
  await s.applyConfig(two('20s'));
  assert.equal(s.queue('a'), a);
  assert.notEqual(s.queue('b'), b);
  assert.equal(s.queue('b')?.cfg.remoteTimeoutMs, 20_000);
  // A remote that is gone loses its saved position.
  await s.applyConfig(loadConfig(`remote_write:\n  - url: http://127.0.0.1:1/a\n    name: a\n`));
  await until(() => !fs.existsSync(path.join(dir, 'remote', 'b.json')), 'b.json to go');
});

test('settings accepted but not acted on are named in a warning (send_exemplars and send_native_histograms are acted on)', async () => {
  const dir = tmp();
  fs.mkdirSync(path.join(dir, 'db', 'wal'), { recursive: true });
  const warnings: string[] = [];
  const logger = {
    debug: () => {},
    info: () => {},
    error: () => {},
    warn: (msg: string, f?: Record<string, unknown>) => warnings.push(`${msg}: ${String(f?.settings ?? '')}`),
    with: () => logger,
  };
  const { s } = newStorage(dir, receiver().factory, { logger });
  cleanup.push(() => s.stop());
  await s.applyConfig(
    loadConfig(`remote_write:
  - url: http://127.0.0.1:1/a
    send_exemplars: true
    send_native_histograms: true
    enable_http2: true
  - url: http://127.0.0.1:1/b
    metadata_config: { send: false }
`),
  );
  assert.equal(warnings.length, 1);
  for (const k of ['metadata_config.send', 'enable_http2']) assert.ok(warnings[0]!.includes(k), k);
  for (const k of ['send_exemplars', 'send_native_histograms']) assert.ok(!warnings[0]!.includes(k), k);
});
