import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { uncompressSync } from 'snappy';
import { loadConfig } from '../config/load.js';
import type { RemoteWriteConfig } from '../config/types.js';
import { Labels } from '../model/labels.js';
import { openDB, type DB } from '../tsdb/db.js';
import { QueueManager, parseRetryAfter, type SendFn, type SendResponse } from './queue_manager.js';
import { RemoteWriteMetrics } from './write_metrics.js';
import { decodeWriteRequest } from './write_request.js';

const dirs: string[] = [];
const dbs: DB[] = [];
const queues: QueueManager[] = [];
afterEach(async () => {
  for (const q of queues.splice(0)) await q.stop(0);
  for (const db of dbs.splice(0)) await db.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function openTmpDB(maxExemplars?: number): Promise<DB> {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-qm-'));
  dirs.push(d);
  const db = await openDB(d, { maintenanceIntervalMs: 0, compactOnCommit: false, walSegmentSizeBytes: 64 * 1024, maxExemplars });
  dbs.push(db);
  return db;
}

function rwConfig(extra = '', global = ''): RemoteWriteConfig {
  const cfg = loadConfig(`${global}remote_write:\n  - url: http://127.0.0.1:1/api/v1/write\n    name: test\n${extra}`);
  return cfg.remoteWrite[0]!;
}

/** Appends series x samples: series i is up{i="<i>"}, sample j at t = 1000 * (j + 1) with value j. */
function appendSamples(db: DB, series: number, samples: number, t0 = 1000): void {
  for (let j = 0; j < samples; j++) {
    const app = db.appender();
    for (let i = 0; i < series; i++) app.append(0, Labels.fromPairs('__name__', 'up', 'i', String(i)), t0 + 1000 * j, j);
    app.commit();
  }
}

interface Received {
  labels: string;
  t: number;
  v: number;
}

interface ReceivedExemplar {
  labels: string;
  exemplar: string;
  t: number;
  v: number;
}

/** A fake receiver: answers from `script` per request (then 200), records accepted samples. */
function fakeReceiver(script: (n: number, body: Buffer, signal: AbortSignal) => SendResponse | Promise<SendResponse> = () => ({ status: 200, body: '' })) {
  const received: Received[] = [];
  const exemplars: ReceivedExemplar[] = [];
  let metadata = 0;
  let calls = 0;
  const send: SendFn = async (body, headers, signal) => {
    assert.equal(headers['content-encoding'], 'snappy');
    const raw = uncompressSync(body) as Buffer;
    const res = await script(calls++, raw, signal);
    if (res.status >= 200 && res.status < 300) {
      const req = decodeWriteRequest(raw);
      metadata += req.metadata;
      for (const s of req.series) {
        const pairs: string[] = [];
        for (let k = 0; k < s.labels.length; k += 2) pairs.push(`${s.labels[k]}=${s.labels[k + 1]}`);
        for (let k = s.start; k < s.end; k++) received.push({ labels: pairs.join(','), t: req.timestamps[k]!, v: req.values[k]! });
        for (let k = s.exStart; k < s.exEnd; k++) {
          const e = req.exemplars[k]!;
          exemplars.push({ labels: pairs.join(','), exemplar: e.labels.join('='), t: e.t, v: e.value });
        }
      }
    }
    return res;
  };
  return { send, received, exemplars, metadata: () => metadata, calls: () => calls };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function startQueue(db: DB, cfg: RemoteWriteConfig, send: SendFn, extra: Partial<ConstructorParameters<typeof QueueManager>[0]> = {}) {
  const reg = new Registry();
  const metrics = new RemoteWriteMetrics(reg);
  const sleeps: number[] = [];
  const qm = new QueueManager({
    cfg,
    externalLabels: Labels.EMPTY,
    walDir: path.join(db.dir, 'wal'),
    start: { segment: 0, offset: 0 },
    send,
    metrics,
    pollIntervalMs: 5,
    shardUpdateIntervalMs: 0,
    // Backoff is recorded, not waited for; a turn of the event loop keeps retries from starving timers.
    sleep: (ms) => {
      sleeps.push(ms);
      return new Promise((r) => setImmediate(r));
    },
    ...extra,
  });
  qm.start();
  queues.push(qm);
  const value = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const m = await reg.getSingleMetric(name)!.get();
    return m.values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);
  };
  return { qm, value, sleeps };
}

const QUEUE = '    queue_config: { batch_send_deadline: 10ms, max_samples_per_send: 50, capacity: 100, min_backoff: 10ms, max_backoff: 40ms }\n';

test('every sample in the WAL arrives once, with external labels and write relabeling applied', async () => {
  const db = await openTmpDB();
  appendSamples(db, 20, 10);
  const cfg = rwConfig(
    QUEUE + "    write_relabel_configs:\n      - source_labels: [i]\n        regex: '1.'\n        action: drop\n",
    'global:\n  external_labels: { region: eu, i: ignored }\n',
  );
  const rx = fakeReceiver();
  const ext = loadConfig('global:\n  external_labels: { region: eu, i: ignored }\n').global.externalLabels;
  const { qm, value } = startQueue(db, cfg, rx.send, { externalLabels: ext });
  // Series 10..19 are dropped by relabeling: 10 series x 10 samples arrive.
  await until(() => rx.received.length === 100, 'all samples');
  appendSamples(db, 20, 1, 20_000);
  qm.notify();
  await until(() => rx.received.length === 110, 'the tailed samples');
  const keys = new Set(rx.received.map((r) => `${r.labels}@${r.t}`));
  assert.equal(keys.size, 110);
  assert.ok(rx.received.every((r) => r.labels.includes('region=eu') && !r.labels.includes('ignored')));
  assert.equal(await value('prometheus_remote_storage_samples_total'), 110);
  assert.equal(await value('prometheus_remote_storage_samples_dropped_total', { reason: 'dropped_series' }), 110);
  assert.equal(await value('prometheus_remote_storage_queue_highest_sent_timestamp_seconds'), 20);
  await until(() => qm.pending() === 0, 'nothing pending');
});

test('series refs in any order and far apart find their samples; a checkpoint reset forgets the older ones', async () => {
  const db = await openTmpDB();
  const rx = fakeReceiver();
  const { qm, value } = startQueue(db, rwConfig(QUEUE), rx.send);
  const refs = [5, 2, 5_000_000, 3, 1];
  for (const [k, ref] of refs.entries()) qm.series(ref, Labels.fromPairs('__name__', 'up', 'ref', String(ref)), k < 3 ? 0 : 2);
  const rec = (rs: number[], t: number) => ({
    n: rs.length,
    refs: rs,
    ts: Float64Array.from(rs, () => t),
    vs: Float64Array.from(rs),
    exN: 0, exRefs: [], exTs: [], exVs: [], exLabels: [],
    hN: 0, hRefs: [], hTs: [], hs: [],
  });
  const pos = { segment: 2, offset: 0 };
  // Ref 7 was never declared.
  await qm.samples(rec([1, 2, 3, 5, 7, 5_000_000], 1000), pos, pos);
  await until(() => rx.received.length === 5, 'the known series\' samples');
  assert.deepEqual(rx.received.map((r) => `${r.labels}=${r.v}`).sort(), ['__name__=up,ref=1=1', '__name__=up,ref=2=2', '__name__=up,ref=3=3', '__name__=up,ref=5000000=5000000', '__name__=up,ref=5=5']);
  assert.equal(await value('prometheus_remote_storage_samples_dropped_total', { reason: 'unintentionally_dropped_series' }), 1);
  // Series last seen before segment 1 (refs 5, 2, 5000000) are gone; 1 and 3 stay.
  qm.seriesReset(1);
  await qm.samples(rec([1, 2, 3, 5, 5_000_000], 2000), pos, pos);
  await until(() => rx.received.length === 7, 'the remaining series\' samples');
  assert.deepEqual(rx.received.slice(5).map((r) => r.labels).sort(), ['__name__=up,ref=1', '__name__=up,ref=3']);
  assert.equal(await value('prometheus_remote_storage_samples_dropped_total', { reason: 'unintentionally_dropped_series' }), 4);
});

test('5xx and network errors are retried with exponential backoff until they succeed', async () => {
  const db = await openTmpDB();
  appendSamples(db, 10, 5);
  const rx = fakeReceiver((n) => {
    if (n < 3) return { status: 503, body: 'busy' };
    if (n === 3) throw new Error('Post "http://x": dial tcp: connect: connection refused');
    return { status: 200, body: '' };
  });
  const cfg = rwConfig('    queue_config: { batch_send_deadline: 10ms, max_samples_per_send: 1000, capacity: 1000, min_backoff: 10ms, max_backoff: 40ms }\n');
  const { value, sleeps } = startQueue(db, cfg, rx.send);
  await until(() => rx.received.length === 50, 'all samples');
  assert.deepEqual(sleeps.slice(0, 4), [10, 20, 40, 40]);
  assert.equal(await value('prometheus_remote_storage_samples_failed_total'), 0);
  assert.ok((await value('prometheus_remote_storage_samples_retried_total')) >= 4);
});

test('429 is retried after Retry-After only with retry_on_http_429; 4xx is dropped and counted', async () => {
  const db = await openTmpDB();
  appendSamples(db, 10, 2);
  const retrying = fakeReceiver((n) => (n === 0 ? { status: 429, retryAfter: '3', body: 'slow down' } : { status: 200, body: '' }));
  const q1 = startQueue(db, rwConfig('    queue_config: { batch_send_deadline: 10ms, retry_on_http_429: true }\n'), retrying.send);
  await until(() => retrying.received.length === 20, 'samples after the 429');
  assert.deepEqual(q1.sleeps, [3000]);

  const refusing = fakeReceiver((n) => (n === 0 ? { status: 429, body: 'slow down' } : { status: 400, body: 'bad\nmore' }));
  const q2 = startQueue(db, rwConfig('    queue_config: { batch_send_deadline: 10ms, max_samples_per_send: 10 }\n'), refusing.send);
  await until(() => refusing.calls() === 2, 'two requests');
  await until(() => q2.qm.pending() === 0, 'nothing pending');
  assert.equal(refusing.received.length, 0);
  assert.equal(await q2.value('prometheus_remote_storage_samples_failed_total'), 20);
  assert.equal(await q2.value('prometheus_remote_storage_samples_retried_total'), 0);
  assert.deepEqual(q2.sleeps, []);
  // Refused samples are done: the queue's position moves past them.
  await until(() => q2.qm.position().offset > 0, 'the position to move');
});

test('a hanging receiver holds memory to shards x capacity and the position before unsent data', async () => {
  const db = await openTmpDB();
  appendSamples(db, 200, 10);
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  let inFlight = 0;
  const rx = fakeReceiver(async (_n, _b, signal) => {
    inFlight++;
    await Promise.race([gate, new Promise((r) => signal.addEventListener('abort', r))]);
    return { status: 200, body: '' };
  });
  const cfg = rwConfig('    queue_config: { batch_send_deadline: 10ms, max_samples_per_send: 50, capacity: 100, min_shards: 2, max_shards: 2 }\n');
  const { qm, value } = startQueue(db, cfg, rx.send);
  await until(() => inFlight === 2, 'both shards to send');
  // Shards fill up and the watcher waits: what is queued stays within shards x capacity.
  await until(() => qm.pending() >= 2 * 100, 'the queues to fill');
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(qm.pending() <= 2 * (100 + 50), `pending ${qm.pending()}`);
  assert.ok((await value('prometheus_remote_storage_enqueue_retries_total')) > 0);
  assert.deepEqual(qm.position(), { segment: 0, offset: 0 });
  release();
  await until(() => rx.received.length === 2000, 'all samples after the receiver recovers');
});

test('a queue resumed from a saved position sends what the previous one did not', async () => {
  const db = await openTmpDB();
  appendSamples(db, 50, 20);
  let up = true;
  const rx = fakeReceiver(() => (up ? { status: 200, body: '' } : { status: 500, body: 'down' }));
  const cfg = rwConfig('    queue_config: { batch_send_deadline: 10ms, max_samples_per_send: 100, capacity: 200 }\n');
  const first = startQueue(db, cfg, async (body, h, signal) => {
    // The receiver goes down after 300 samples.
    if (rx.received.length >= 300) up = false;
    return rx.send(body, h, signal);
  });
  await until(() => !up && rx.calls() > 5, 'the outage');
  await first.qm.stop(0);
  queues.splice(queues.indexOf(first.qm), 1);
  const saved = first.qm.position();
  up = true;
  startQueue(db, cfg, rx.send, { start: saved });
  await until(() => new Set(rx.received.map((r) => `${r.labels}@${r.t}`)).size === 1000, 'every sample');
});

test('sample_age_limit drops samples older than the limit', async () => {
  const db = await openTmpDB();
  appendSamples(db, 5, 4);
  const rx = fakeReceiver();
  // "Now" is 2.5 s after the third sample: samples at 1 s, 2 s are too old.
  const { value } = startQueue(db, rwConfig('    queue_config: { batch_send_deadline: 10ms, sample_age_limit: 1500ms }\n'), rx.send, { now: () => 4500 });
  await until(() => rx.received.length === 10, 'the recent samples');
  assert.equal(await value('prometheus_remote_storage_samples_dropped_total', { reason: 'too_old' }), 10);
  assert.ok(rx.received.every((r) => r.t >= 3000));
});

test('resharding follows the observed rates (Prometheus calculateDesiredShards)', async () => {
  const db = await openTmpDB();
  appendSamples(db, 100, 30);
  let now = 1_000_000;
  // Each request takes 1 s of (fake) time: sending needs many shards.
  const rx = fakeReceiver(() => {
    now += 1000;
    return { status: 200, body: '' };
  });
  const cfg = rwConfig('    queue_config: { batch_send_deadline: 10ms, max_samples_per_send: 10, capacity: 100, max_shards: 8 }\n');
  const { qm, value } = startQueue(db, cfg, rx.send, { now: () => now, shardUpdateIntervalMs: 1000 });
  await until(() => rx.received.length >= 500, 'some samples');
  qm.updateShards();
  assert.ok((await value('prometheus_remote_storage_shards_desired')) > 0);
  await until(() => qm.shardCount() > 1, 'more shards');
  await until(() => rx.received.length === 3000, 'all samples');
});

test('Retry-After is read as seconds or as an HTTP date', () => {
  assert.equal(parseRetryAfter('7', 0), 7000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 4000), 6000);
  assert.equal(parseRetryAfter('soon', 0), 0);
});

test('with send_exemplars, exemplars from the WAL go with the samples and are counted apart', async () => {
  const db = await openTmpDB(1000);
  for (let j = 0; j < 3; j++) {
    const app = db.appender();
    for (let i = 0; i < 4; i++) {
      const ls = Labels.fromPairs('__name__', 'req', 'i', String(i));
      const ref = app.append(0, ls, 1000 * (j + 1), j);
      if (i === 0) app.appendExemplar!(ref, ls, { labels: Labels.fromPairs('trace_id', `t${j}`), value: j, ts: 1000 * (j + 1), hasTs: true });
    }
    app.commit();
  }
  const rx = fakeReceiver();
  const { value } = startQueue(db, rwConfig('    send_exemplars: true\n    queue_config: { batch_send_deadline: 10ms }\n'), rx.send);
  await until(() => rx.received.length === 12 && rx.exemplars.length === 3, 'samples and exemplars');
  assert.deepEqual(
    rx.exemplars.map((e) => `${e.labels} ${e.exemplar}@${e.t}=${e.v}`),
    ['__name__=req,i=0 trace_id=t0@1000=0', '__name__=req,i=0 trace_id=t1@2000=1', '__name__=req,i=0 trace_id=t2@3000=2'],
  );
  assert.equal(await value('prometheus_remote_storage_samples_total'), 12);
  assert.equal(await value('prometheus_remote_storage_exemplars_total'), 3);

  // Without send_exemplars the exemplar records are skipped.
  const rx2 = fakeReceiver();
  startQueue(db, rwConfig('    queue_config: { batch_send_deadline: 10ms }\n'), rx2.send);
  await until(() => rx2.received.length === 12, 'the samples');
  assert.equal(rx2.exemplars.length, 0);
});

test('metadata of the scraped targets goes every send_interval, in chunks of its max_samples_per_send', async () => {
  const db = await openTmpDB();
  const rx = fakeReceiver();
  const entries = Array.from({ length: 5 }, (_, i) => ({ metricFamily: `m${i}`, type: 'counter' as const, help: `help ${i}`, unit: i === 0 ? 'seconds' : '' }));
  const cfg = rwConfig('    metadata_config: { send_interval: 20ms, max_samples_per_send: 2 }\n');
  const { value } = startQueue(db, cfg, rx.send, { metadata: () => entries });
  // Every round sends 5 entries in 3 requests.
  await until(() => rx.metadata() >= 10, 'two rounds of metadata');
  assert.ok((await value('prometheus_remote_storage_metadata_total')) >= 10);
  assert.ok((await value('prometheus_remote_storage_metadata_bytes_total')) > 0);
  assert.equal(rx.received.length, 0);
});
