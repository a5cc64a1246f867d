// Native histograms through the queue: read from the WAL only with
// send_native_histograms, sent beside float samples, counted in the histograms_*
// metrics; custom-bucket ones cannot go over 1.0.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { uncompressSync } from 'snappy';
import { loadConfig } from '../config/load.js';
import type { RemoteWriteConfig } from '../config/types.js';
import { FloatHistogram, Histogram } from '../model/histogram.js';
import { Labels } from '../model/labels.js';
import { openAgentDB } from '../tsdb/agent/db.js';
import { openDB, type DB } from '../tsdb/db.js';
import { QueueManager, type SendFn, type SendResponse } from './queue_manager.js';
import { RemoteWriteMetrics } from './write_metrics.js';
import { decodeWriteRequest, type DecodedHistogram } from './write_request.js';
import { decodeWriteV2Request } from './write_request_v2.js';

const dirs: string[] = [];
const dbs: DB[] = [];
const queues: QueueManager[] = [];
afterEach(async () => {
  for (const q of queues.splice(0)) await q.stop(0);
  for (const db of dbs.splice(0)) await db.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function openTmpDB(): Promise<DB> {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-qmh-'));
  dirs.push(d);
  const db = await openDB(d, { maintenanceIntervalMs: 0, compactOnCommit: false, walSegmentSizeBytes: 64 * 1024 });
  dbs.push(db);
  return db;
}

function rwConfig(extra: string): RemoteWriteConfig {
  return loadConfig(`remote_write:\n  - url: http://127.0.0.1:1/api/v1/write\n    name: test\n    queue_config: { batch_send_deadline: 10ms, min_backoff: 10ms }\n${extra}`).remoteWrite[0]!;
}

const exp = (i: number) =>
  new Histogram({ schema: 0, count: 3 + i, sum: 1.5 * i, zeroCount: 1, zeroThreshold: 0.001, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1, 1 + i - 1] });
const flt = (i: number) => new FloatHistogram({ schema: 2, count: 2 + i, sum: i, positiveSpans: [{ offset: 1, length: 1 }], positiveBuckets: [2 + i] });
const nhcb = (i: number) => new Histogram({ schema: -53, count: 1 + i, sum: i, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1, i - 1], customValues: [0.5] });

/** Three commits, each with a float sample, an integer, a float and a custom-bucket histogram. */
function appendMixed(db: Pick<DB, 'appender'>): void {
  for (let j = 1; j <= 3; j++) {
    const app = db.appender();
    const t = 1000 * j;
    app.append(0, Labels.fromPairs('__name__', 'up'), t, j);
    app.appendHistogram!(0, Labels.fromPairs('__name__', 'h_int'), t, exp(j), null);
    app.appendHistogram!(0, Labels.fromPairs('__name__', 'h_float'), t, null, flt(j));
    app.appendHistogram!(0, Labels.fromPairs('__name__', 'h_nhcb'), t, nhcb(j), null);
    app.commit();
  }
}

interface Got {
  name: string;
  t: number;
  v?: number;
  h?: Histogram | FloatHistogram;
}

/** A fake receiver for either protocol: answers from `script` per request, records what 2xx answers accepted. */
function fakeReceiver(script: (n: number) => SendResponse = () => ({ status: 200, body: '' })) {
  const got: Got[] = [];
  let calls = 0;
  const hist = (d: DecodedHistogram) => d.h ?? d.fh ?? undefined;
  const send: SendFn = async (body, headers) => {
    const raw = uncompressSync(body) as Buffer;
    const res = script(calls++);
    if (res.status < 200 || res.status >= 300) return res;
    if (headers['x-prometheus-remote-write-version'] === '2.0.0') {
      const req = decodeWriteV2Request(raw);
      const sym = (i: number) => req.buf.subarray(req.symStart[i]!, req.symEnd[i]!).toString('utf8');
      for (const s of req.series) {
        const name = sym(req.refs[s.refStart + 1]!);
        for (let k = s.start; k < s.end; k++) got.push({ name, t: req.timestamps[k]!, v: req.values[k]! });
        for (let k = s.hStart; k < s.hEnd; k++) got.push({ name, t: req.histograms[k]!.t, h: hist(req.histograms[k]!) });
      }
      return res;
    }
    const req = decodeWriteRequest(raw);
    for (const s of req.series) {
      const name = s.labels[1]!;
      for (let k = s.start; k < s.end; k++) got.push({ name, t: req.timestamps[k]!, v: req.values[k]! });
      for (let k = s.hStart; k < s.hEnd; k++) got.push({ name, t: req.histograms[k]!.t, h: hist(req.histograms[k]!) });
    }
    return res;
  };
  return { send, got, calls: () => calls };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function startQueue(db: { dir: string }, cfg: RemoteWriteConfig, send: SendFn) {
  const reg = new Registry();
  const qm = new QueueManager({
    cfg,
    externalLabels: Labels.EMPTY,
    walDir: path.join(db.dir, 'wal'),
    start: { segment: 0, offset: 0 },
    send,
    metrics: new RemoteWriteMetrics(reg),
    pollIntervalMs: 5,
    shardUpdateIntervalMs: 0,
    sleep: () => new Promise((r) => setImmediate(r)),
  });
  qm.start();
  queues.push(qm);
  const value = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const m = await reg.getSingleMetric(name)!.get();
    return m.values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);
  };
  const has = async (name: string): Promise<boolean> => (await reg.getSingleMetric(name)!.get()).values.length > 0;
  return { qm, value, has };
}

const byName = (got: Got[], name: string) => got.filter((g) => g.name === name).sort((x, y) => x.t - y.t);

test('1.0 with send_native_histograms: integer and float histograms arrive as appended; custom-bucket ones are dropped', async () => {
  const db = await openTmpDB();
  appendMixed(db);
  const rx = fakeReceiver();
  const { qm, value } = startQueue(db, rwConfig('    send_native_histograms: true\n'), rx.send);
  await until(() => rx.got.length === 9, 'samples and histograms');
  assert.deepEqual(byName(rx.got, 'up').map((g) => g.v), [1, 2, 3]);
  const ints = byName(rx.got, 'h_int');
  assert.deepEqual(ints.map((g) => g.t), [1000, 2000, 3000]);
  ints.forEach((g, i) => assert.ok(g.h instanceof Histogram && g.h.equals(exp(i + 1)), `h_int ${i}`));
  byName(rx.got, 'h_float').forEach((g, i) => assert.ok(g.h instanceof FloatHistogram && g.h.equals(flt(i + 1)), `h_float ${i}`));
  assert.equal(byName(rx.got, 'h_nhcb').length, 0);
  await until(() => qm.pending() === 0, 'an empty queue');
  assert.equal(await value('prometheus_remote_storage_samples_total'), 3);
  assert.equal(await value('prometheus_remote_storage_histograms_total'), 6);
  assert.equal(await value('prometheus_remote_storage_histograms_dropped_total', { reason: 'nhcb_in_rw1_not_supported' }), 3);
  assert.equal(await value('prometheus_remote_storage_histograms_pending'), 0);
  assert.equal(await value('prometheus_wal_watcher_records_read_total', { type: 'histogram_samples' }), 3);
  assert.equal(await value('prometheus_wal_watcher_records_read_total', { type: 'float_histogram_samples' }), 3);
});

test('2.0 sends custom-bucket histograms too', async () => {
  const db = await openTmpDB();
  appendMixed(db);
  const rx = fakeReceiver();
  const { qm, value } = startQueue(db, rwConfig('    send_native_histograms: true\n    protobuf_message: io.prometheus.write.v2.Request\n'), rx.send);
  await until(() => rx.got.length === 12, 'samples and histograms');
  const got = byName(rx.got, 'h_nhcb');
  assert.equal(got.length, 3);
  got.forEach((g, i) => assert.ok(g.h instanceof Histogram && g.h.equals(nhcb(i + 1)), `h_nhcb ${i}`));
  await until(() => qm.pending() === 0, 'an empty queue');
  assert.equal(await value('prometheus_remote_storage_histograms_total'), 9);
});

test('without send_native_histograms the histograms are skipped unread and counted nowhere', async () => {
  const db = await openTmpDB();
  appendMixed(db);
  const rx = fakeReceiver();
  const { qm, value, has } = startQueue(db, rwConfig(''), rx.send);
  await until(() => rx.got.length === 3, 'the float samples');
  await until(() => qm.pending() === 0, 'an empty queue');
  assert.ok(rx.got.every((g) => g.name === 'up'));
  // As in Prometheus, the queue's histogram series exist, at 0.
  assert.equal(await has('prometheus_remote_storage_histograms_total'), true);
  assert.equal(await value('prometheus_remote_storage_histograms_total'), 0);
  assert.equal(await has('prometheus_remote_storage_histograms_dropped_total'), false);
  assert.equal(await value('prometheus_wal_watcher_records_read_total', { type: 'histogram_samples' }), 0);
});

test('refused and retried batches count their histograms apart from their samples', async () => {
  const db = await openTmpDB();
  const app = db.appender();
  app.appendHistogram!(0, Labels.fromPairs('__name__', 'h_int'), 1000, exp(1), null);
  app.append(0, Labels.fromPairs('__name__', 'up'), 1000, 1);
  app.commit();
  // First a 500 (retried), then a 400 (refused).
  const rx = fakeReceiver((n) => ({ status: n === 0 ? 500 : 400, body: 'no' }));
  const { qm, value } = startQueue(db, rwConfig('    send_native_histograms: true\n'), rx.send);
  await until(() => rx.calls() >= 2, 'two attempts');
  await until(() => qm.pending() === 0, 'an empty queue');
  assert.equal(await value('prometheus_remote_storage_histograms_retried_total'), 1);
  assert.equal(await value('prometheus_remote_storage_samples_retried_total'), 1);
  assert.equal(await value('prometheus_remote_storage_histograms_failed_total'), 1);
  assert.equal(await value('prometheus_remote_storage_samples_failed_total'), 1);
  assert.equal(await value('prometheus_remote_storage_histograms_total'), 0);
});

test("the agent's WAL sends its histograms the same way", async () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-qmh-agent-'));
  dirs.push(d);
  const agent = await openAgentDB({ dir: d, truncateFrequencyMs: 0, minWalTimeMs: 0, maxWalTimeMs: 1e12 });
  try {
    appendMixed(agent);
    const rx = fakeReceiver();
    startQueue({ dir: d }, rwConfig('    send_native_histograms: true\n    protobuf_message: io.prometheus.write.v2.Request\n'), rx.send);
    await until(() => rx.got.length === 12, 'samples and histograms');
    byName(rx.got, 'h_int').forEach((g, i) => assert.ok(g.h instanceof Histogram && g.h.equals(exp(i + 1)), `h_int ${i}`));
    byName(rx.got, 'h_float').forEach((g, i) => assert.ok(g.h instanceof FloatHistogram && g.h.equals(flt(i + 1)), `h_float ${i}`));
  } finally {
    for (const q of queues.splice(0)) await q.stop(0);
    await agent.close();
  }
});
