import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { CounterResetHint, FloatHistogram, Histogram } from '../../model/histogram.js';
import { Labels } from '../../model/labels.js';
import { Matcher, MatchType } from '../../model/matcher.js';
import { STALE_NAN, isStaleNaN } from '../../model/value.js';
import { DuplicateSampleError, OutOfOrderSampleError, StorageError, ValueType, type Querier } from '../../storage/interface.js';
import { Buffer } from 'node:buffer';
import { decodeRecord, type RecordHandler } from '../record/record.js';
import { TSDBMetrics } from '../metrics.js';
import { Head, type WalWriter } from './head.js';
import { HeadReplayer } from './replay.js';

const HOUR = 3_600_000;

function newHead(wal: WalWriter | null = null): { head: Head; registry: Registry } {
  const registry = new Registry();
  const zero = (): number => 0;
  const state = {
    headSeries: zero,
    headChunks: zero,
    headMinTime: zero,
    headMaxTime: zero,
    headChunkBytes: zero,
    symbolTableBytes: zero,
    activeAppenders: zero,
    blocksLoaded: zero,
    blocksBytes: zero,
    lowestTimestamp: zero,
    walSegmentCurrent: zero,
    walStorageBytes: zero,
    retentionLimitBytes: zero,
    headSeriesLimit: zero,
    walReplayStatus: () => ({ min: 0, max: 0, current: 0 }),
  };
  return { head: new Head({ chunkRange: 2 * HOUR, metrics: new TSDBMetrics(registry, state), wal }), registry };
}

const ls = (...nv: string[]): Labels => Labels.fromPairs(...nv);
const eq = (n: string, v: string): Matcher => Matcher.create(MatchType.Equal, n, v);

/** A counter histogram with 4 buckets whose counts grow with i. */
function hist(i: number): Histogram {
  return new Histogram({
    schema: 1,
    zeroThreshold: 0.001,
    zeroCount: i,
    count: 5 * i + 4,
    sum: 10.5 * i,
    positiveSpans: [{ offset: 0, length: 2 }, { offset: 1, length: 2 }],
    positiveBuckets: [i + 1, 0, 0, 0],
  });
}

type Got = { t: number; type: ValueType; v?: number; h?: Histogram | FloatHistogram };

function readAll(q: Querier, ...ms: Matcher[]): Got[] {
  const ss = q.select(true, null, ...ms);
  const out: Got[] = [];
  while (ss.next()) {
    const it = ss.at().iterator();
    for (let ty = it.next(); ty !== ValueType.None; ty = it.next()) {
      if (ty === ValueType.Float) out.push({ t: it.t(), type: ty, v: it.v() });
      else if (ty === ValueType.Histogram) out.push({ t: it.t(), type: ty, h: it.atHistogram!() });
      else out.push({ t: it.t(), type: ty, h: it.atFloatHistogram!() });
    }
    assert.equal(it.err(), null);
  }
  return out;
}

async function counter(reg: Registry, name: string, type: string): Promise<number> {
  const m = (await reg.getMetricsAsJSON()).find((x) => x.name === name);
  return m?.values.filter((v) => v.labels['type'] === type).reduce((n, v) => n + v.value, 0) ?? 0;
}

describe('head native histograms', () => {
  test('integer and float histograms read back as appended, floats between them', async () => {
    const { head, registry } = newHead();
    const l = ls('__name__', 'h');
    const app = head.appender();
    for (let i = 0; i < 30; i++) app.appendHistogram!(0, l, i * 1000, hist(i), null);
    app.append(0, l, 30_000, 7);
    app.appendHistogram!(0, l, 31_000, null, hist(1).toFloat());
    app.commit();
    const got = readAll(head.querier(0, Infinity), eq('__name__', 'h'));
    assert.equal(got.length, 32);
    for (let i = 0; i < 30; i++) {
      assert.equal(got[i]!.type, ValueType.Histogram);
      assert.ok((got[i]!.h as Histogram).equals(hist(i)), `sample ${i}`);
    }
    assert.deepEqual({ t: got[30]!.t, type: got[30]!.type, v: got[30]!.v }, { t: 30_000, type: ValueType.Float, v: 7 });
    assert.equal(got[31]!.type, ValueType.FloatHistogram);
    assert.ok((got[31]!.h as FloatHistogram).equals(hist(1).toFloat()));
    // A type change cuts a chunk: at least 3 chunks.
    assert.ok(head.numChunks >= 3);
    assert.equal(await counter(registry, 'prometheus_tsdb_head_samples_appended_total', 'histogram'), 31);
    assert.ok(head.chunkTable.histBytes > 0);
  });

  test('out of order, duplicates and repeats as for floats', () => {
    const { head } = newHead();
    const l = ls('__name__', 'h');
    let app = head.appender();
    app.appendHistogram!(0, l, 1000, hist(1), null);
    app.commit();
    app = head.appender();
    assert.throws(() => app.appendHistogram!(0, l, 500, hist(2), null), OutOfOrderSampleError);
    assert.throws(() => app.appendHistogram!(0, l, 1000, hist(2), null), DuplicateSampleError);
    assert.throws(() => app.append(0, l, 1000, 1.5), (e: unknown) => e instanceof DuplicateSampleError && e.message === 'duplicate sample for timestamp 1000; overrides not allowed: existing is a histogram, new value 1.5');
    // The same histogram again is accepted and dropped.
    app.appendHistogram!(0, l, 1000, hist(1), null);
    app.appendHistogram!(0, l, 2000, hist(2), null);
    assert.throws(() => app.appendHistogram!(0, l, 2000, hist(3), null), DuplicateSampleError);
    app.commit();
    assert.deepEqual(readAll(head.querier(0, Infinity)).map((g) => g.t), [1000, 2000]);
  });

  test('an invalid histogram is refused with Prometheus text as a StorageError', () => {
    const { head } = newHead();
    const app = head.appender();
    const bad = hist(1).with({ count: 1 });
    assert.throws(
      () => app.appendHistogram!(0, ls('__name__', 'h'), 1000, bad, null),
      (e: unknown) => e instanceof StorageError && /observation count should equal the number of observations found in the buckets/.test((e as Error).message),
    );
    app.commit();
    assert.equal(head.numSeries, 0);
  });

  test('a float StaleNaN after a histogram is stored as a histogram staleness marker', () => {
    const { head } = newHead();
    const l = ls('__name__', 'h');
    const app = head.appender();
    app.appendHistogram!(0, l, 1000, hist(1), null);
    app.append(0, l, 2000, STALE_NAN);
    app.commit();
    const got = readAll(head.querier(0, Infinity));
    assert.equal(got.length, 2);
    assert.equal(got[1]!.type, ValueType.Histogram);
    assert.ok(isStaleNaN(got[1]!.h!.sum));
    assert.equal(head.numChunks, 1);
  });

  test('histogram chunks are cut near 1 KiB with at least 10 samples, and counter resets cut them', () => {
    const { head } = newHead();
    const l = ls('__name__', 'h');
    const app = head.appender();
    // Irregular growth makes each sample cost many bits.
    for (let i = 0; i < 400; i++) {
      const b = [(i * 7919) % 1000, (i * 104729) % 777, (i * 31) % 555, (i * 17) % 333];
      const count = b.reduce((a, x) => a + x, 0);
      const abs = new Histogram({ count, sum: i, positiveSpans: [{ offset: 0, length: 4 }], positiveBuckets: [b[0]!, b[1]! - b[0]!, b[2]! - b[1]!, b[3]! - b[2]!] });
      app.appendHistogram!(0, l, i * 15_000, abs.with({ counterResetHint: CounterResetHint.Gauge }), null);
    }
    app.commit();
    const cl = head.chunkTable.chunksForBlock(0, 0, Infinity);
    assert.ok(cl.length > 2, `${cl.length} chunks`);
    for (const c of cl.slice(0, -1)) assert.ok(c.bytes.length < 2 * 1024 + 512, `chunk of ${c.bytes.length} bytes`);
    assert.equal(readAll(head.querier(0, Infinity)).length, 400);
  });

  test('commits log histograms in the WAL and replay restores them', () => {
    const recs: Buffer[] = [];
    const wal: WalWriter = { log: (r) => recs.push(Buffer.from(r)) };
    const { head } = newHead(wal);
    const l = ls('__name__', 'h', 'job', 'x');
    const app = head.appender();
    app.append(0, l, 500, 1);
    for (let i = 0; i < 5; i++) app.appendHistogram!(0, l, 1000 * (i + 1), hist(i), null);
    app.appendHistogram!(0, ls('__name__', 'fh'), 1000, null, hist(3).toFloat().with({ customValues: [], zeroThreshold: 0.5 }));
    app.commit();
    assert.equal(recs.length, 1);
    const { head: h2 } = newHead();
    const r = new HeadReplayer(h2);
    for (const b of recs) decodeRecord(b, 0, b.length, r);
    assert.equal(r.samples, 7);
    assert.deepEqual(readAll(h2.querier(0, Infinity), eq('__name__', 'h')), readAll(head.querier(0, Infinity), eq('__name__', 'h')));
    assert.deepEqual(readAll(h2.querier(0, Infinity), eq('__name__', 'fh')), readAll(head.querier(0, Infinity), eq('__name__', 'fh')));
    // A handler without histogram methods still gets the batch's series and floats.
    const seen: string[] = [];
    const plain: RecordHandler = { series: (ref) => seen.push(`s${ref}`), sample: (_r, t) => seen.push(`f${t}`), tombstone: () => {} };
    for (const b of recs) decodeRecord(b, 0, b.length, plain);
    assert.deepEqual(seen, ['s1', 's2', 'f500']);
  });

  test('a series switching kind inside one appender keeps its append order, in the head and through the WAL', () => {
    const recs: Buffer[] = [];
    const { head } = newHead({ log: (r) => recs.push(Buffer.from(r)) });
    const l = ls('__name__', 'm');
    const app = head.appender();
    app.appendHistogram!(0, l, 1000, hist(1), null);
    app.append(0, l, 2000, 5);
    app.appendHistogram!(0, l, 3000, null, hist(2).toFloat());
    // A float at a pending histogram's time is a duplicate; samples behind the newest of either kind are out of order.
    assert.throws(() => app.append(0, l, 3000, 1), DuplicateSampleError);
    app.append(0, l, 4000, 6);
    assert.throws(() => app.appendHistogram!(0, l, 3500, hist(3), null), OutOfOrderSampleError);
    app.commit();
    const kinds = (h: Head): string[] => readAll(h.querier(0, Infinity)).map((g) => `${g.t}:${g.type}`);
    const want = [`1000:${ValueType.Histogram}`, `2000:${ValueType.Float}`, `3000:${ValueType.FloatHistogram}`, `4000:${ValueType.Float}`];
    assert.deepEqual(kinds(head), want);
    assert.equal(head.numChunks, 4);
    const { head: h2 } = newHead();
    const r = new HeadReplayer(h2);
    for (const b of recs) decodeRecord(b, 0, b.length, r);
    assert.deepEqual(kinds(h2), want);
  });

  test('a commit drops histograms another appender overtook, counting them out of order', async () => {
    const { head, registry } = newHead();
    const l = ls('__name__', 'h');
    const a = head.appender();
    const b = head.appender();
    a.appendHistogram!(0, l, 1000, hist(1), null);
    b.appendHistogram!(0, l, 2000, hist(2), null);
    b.commit();
    a.commit();
    assert.deepEqual(readAll(head.querier(0, Infinity)).map((g) => g.t), [2000]);
    assert.equal(await counter(registry, 'prometheus_tsdb_out_of_order_samples_total', 'histogram'), 1);
  });

  test('seek lands on histogram samples and says their kind', () => {
    const { head } = newHead();
    const l = ls('__name__', 'h');
    const app = head.appender();
    for (let i = 0; i < 5; i++) app.append(0, l, i * 1000, i);
    for (let i = 5; i < 40; i++) app.appendHistogram!(0, l, i * 1000, hist(i), null);
    app.commit();
    const ss = head.querier(0, Infinity).select(false, null, eq('__name__', 'h'));
    assert.ok(ss.next());
    const it = ss.at().iterator();
    assert.equal(it.seek(2500), ValueType.Float);
    assert.equal(it.t(), 3000);
    assert.equal(it.seek(4500), ValueType.Histogram);
    assert.equal(it.t(), 5000);
    // Staying put when the current sample qualifies.
    assert.equal(it.seek(5000), ValueType.Histogram);
    assert.equal(it.seek(33_000), ValueType.Histogram);
    assert.ok(it.atHistogram!().equals(hist(33)));
    assert.ok(it.atFloatHistogram!().equals(hist(33).toFloat()));
    assert.equal(it.seek(40_000), ValueType.None);
    assert.equal(it.err(), null);
  });

  test('deleted ranges hide histogram samples', () => {
    const { head } = newHead();
    const l = ls('__name__', 'h');
    const app = head.appender();
    for (let i = 0; i < 10; i++) app.appendHistogram!(0, l, i * 1000, hist(i), null);
    app.commit();
    head.deleteRange(head.postingsForMatchers([eq('__name__', 'h')]), 2000, 6000);
    assert.deepEqual(readAll(head.querier(0, Infinity)).map((g) => g.t), [0, 1000, 7000, 8000, 9000]);
  });

  test('truncation frees histogram chunks and their bytes', () => {
    const { head } = newHead();
    const l = ls('__name__', 'h');
    const app = head.appender();
    for (let i = 0; i < 20; i++) app.appendHistogram!(0, l, i * 1000, hist(i), null);
    app.commit();
    head.truncate(Infinity);
    assert.equal(head.numSeries, 0);
    assert.equal(head.chunkTable.histBytes, 0);
  });
});
