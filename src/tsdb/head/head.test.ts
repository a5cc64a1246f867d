import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { Labels } from '../../model/labels.js';
import { Matcher, MatchType } from '../../model/matcher.js';
import { STALE_NAN, isStaleNaN } from '../../model/value.js';
import { DuplicateSampleError, HeadSeriesLimitError, InvalidSeriesError, OutOfBoundsError, OutOfOrderSampleError, ValueType } from '../../storage/interface.js';
import type { Querier } from '../../storage/interface.js';
import { TSDBMetrics } from '../metrics.js';
import { Head, type WalWriter } from './head.js';

const HOUR = 3_600_000;

function newHead(chunkRange = 2 * HOUR, wal: WalWriter | null = null, maxSeries = 0): { head: Head; registry: Registry } {
  const registry = new Registry();
  const state = {
    headSeries: () => 0,
    headChunks: () => 0,
    headMinTime: () => 0,
    headMaxTime: () => 0,
    headChunkBytes: () => 0,
    symbolTableBytes: () => 0,
    activeAppenders: () => 0,
    blocksLoaded: () => 0,
    blocksBytes: () => 0,
    lowestTimestamp: () => 0,
    walSegmentCurrent: () => 0,
    walStorageBytes: () => 0,
    retentionLimitBytes: () => 0,
    headSeriesLimit: () => maxSeries,
    walReplayStatus: () => ({ min: 0, max: 0, current: 0 }),
  };
  return { head: new Head({ chunkRange, metrics: new TSDBMetrics(registry, state), wal, maxSeries }), registry };
}

const ls = (...nv: string[]): Labels => Labels.fromPairs(...nv);
const eq = (n: string, v: string): Matcher => Matcher.create(MatchType.Equal, n, v);

function read(q: Querier, ...ms: Matcher[]): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  const ss = q.select(true, null, ...ms);
  while (ss.next()) {
    const s = ss.at();
    const it = s.iterator();
    const samples: [number, number][] = [];
    while (it.next() !== ValueType.None) samples.push([it.t(), it.v()]);
    assert.equal(it.err(), null);
    out.set(s.labels.toString(), samples);
  }
  return out;
}

async function counter(reg: Registry, name: string): Promise<number> {
  const m = (await reg.getMetricsAsJSON()).find((x) => x.name === name);
  return m ? m.values.reduce((n, v) => n + v.value, 0) : 0;
}

describe('head appends', () => {
  test('the WAL record buffer does not stay at the size of one huge commit', () => {
    const records: number[] = [];
    const { head } = newHead(undefined, { log: (rec) => records.push(rec.length) });
    const a = head.appender();
    const pad = 'x'.repeat(300);
    for (let i = 0; i < 20_000; i++) a.append(0, ls('__name__', 'big', 'i', String(i), 'pad', pad), 1000, i);
    a.commit();
    assert.ok(records[0]! > 4 << 20, `record of ${records[0]} bytes`);
    assert.ok(head.appends.records.capacity() <= 4 << 20, `buffer kept at ${head.appends.records.capacity()} bytes`);
    const b = head.appender();
    b.append(0, ls('__name__', 'small'), 2000, 1);
    b.commit();
    assert.equal(records.length, 2);
    assert.equal(head.numSeries, 20_001);
  });

  test('commit makes samples visible; rollback discards them', () => {
    const { head } = newHead();
    const a = head.appender();
    const ref = a.append(0, ls('__name__', 'up', 'job', 'a'), 1000, 1);
    a.append(ref, ls('__name__', 'up', 'job', 'a'), 2000, 2);
    assert.equal(read(head.querier(0, 10_000), eq('__name__', 'up')).size, 0, 'nothing visible before commit');
    a.commit();
    const b = head.appender();
    b.append(ref, ls('__name__', 'up', 'job', 'a'), 3000, 3);
    b.rollback();
    assert.deepEqual(read(head.querier(0, 10_000), eq('__name__', 'up')).get('{__name__="up", job="a"}'), [
      [1000, 1],
      [2000, 2],
    ]);
    assert.throws(() => b.append(ref, ls('__name__', 'up', 'job', 'a'), 4000, 4), /BUG/);
  });

  test('rejects out-of-order, duplicate and out-of-bounds samples one by one without failing the batch', async () => {
    const { head, registry } = newHead();
    const s = ls('__name__', 'm');
    const a = head.appender();
    a.append(0, s, 10_000, 1);
    a.commit();
    const b = head.appender();
    assert.throws(() => b.append(0, s, 5_000, 1), OutOfOrderSampleError);
    assert.throws(() => b.append(0, s, 10_000, 2), (e: Error) => e instanceof DuplicateSampleError && e.message === 'duplicate sample for timestamp');
    // An identical duplicate is silently accepted (and not stored twice).
    b.append(0, s, 10_000, 1);
    b.append(0, s, 20_000, 2);
    assert.throws(() => b.append(0, s, 15_000, 3), (e: Error) => e.message === 'out of order sample');
    b.append(0, ls('__name__', 'other'), 20_000, 5);
    b.commit();
    const got = read(head.querier(0, 100_000));
    assert.deepEqual(got.get('{__name__="m"}'), [
      [10_000, 1],
      [20_000, 2],
    ]);
    assert.deepEqual(got.get('{__name__="other"}'), [[20_000, 5]]);
    assert.equal(await counter(registry, 'prometheus_tsdb_out_of_order_samples_total'), 2);
    assert.equal(await counter(registry, 'prometheus_tsdb_head_samples_appended_total'), 3);

    head.minValidTime = 50_000;
    const c = head.appender();
    assert.throws(() => c.append(0, s, 40_000, 1), (e: Error) => e instanceof OutOfBoundsError && e.message === 'out of bounds');
    c.rollback();
  });

  test('samples older than half a chunk range behind the newest are out of bounds', () => {
    const { head } = newHead(2 * HOUR);
    const a = head.appender();
    a.append(0, ls('a', '1'), 10 * HOUR, 1);
    a.commit();
    const b = head.appender();
    assert.throws(() => b.append(0, ls('a', '2'), 10 * HOUR - HOUR - 1, 1), OutOfBoundsError);
    b.append(0, ls('a', '2'), 10 * HOUR - HOUR + 1, 1);
    b.commit();
  });

  test('invalid label sets are rejected', () => {
    const { head } = newHead();
    const a = head.appender();
    assert.throws(() => a.append(0, Labels.EMPTY, 1, 1), InvalidSeriesError);
    assert.throws(() => a.append(0, ls('__name__', 'x', '\ud800bad', 'v'), 1, 1), InvalidSeriesError);
    a.append(0, ls('__name__', 'ok'), 1, 1);
    a.commit();
    assert.equal(head.numSeries, 1);
  });

  test('the series limit refuses new series only; existing ones keep taking samples', async () => {
    const { head, registry } = newHead(2 * HOUR, null, 2);
    const app = head.appender();
    app.append(0, ls('__name__', 'a'), 1000, 1);
    app.append(0, ls('__name__', 'b'), 1000, 2);
    assert.throws(
      () => app.append(0, ls('__name__', 'c'), 1000, 3),
      (e: unknown) => e instanceof HeadSeriesLimitError && e.limit === 2 && e.message === 'head series limit of 2 reached',
    );
    // The appender stays usable after the refusal.
    app.append(0, ls('__name__', 'a'), 2000, 4);
    app.commit();
    assert.equal(head.numSeries, 2);
    const app2 = head.appender();
    assert.throws(() => app2.append(0, ls('__name__', 'd'), 3000, 1), HeadSeriesLimitError);
    app2.append(0, ls('__name__', 'b'), 3000, 5);
    app2.commit();
    assert.equal(await counter(registry, 'tsprom_tsdb_head_series_limit_rejected_total'), 2);
    const st = head.stats(10);
    assert.deepEqual(st.headSeriesLimit, { maxSeries: 2, numSeries: 2, ratio: 1 });
    const q = head.querier(0, 10_000);
    assert.deepEqual([...read(q).keys()].sort(), ['{__name__="a"}', '{__name__="b"}']);
    q.close();
  });

  test('ordering is checked against other appenders that committed in between', () => {
    const { head } = newHead();
    const s = ls('x', 'y');
    const a = head.appender();
    const b = head.appender();
    a.append(0, s, 100, 1);
    b.append(0, s, 200, 2);
    b.commit();
    a.commit();
    assert.deepEqual(read(head.querier(0, 1000)).get('{x="y"}'), [[200, 2]]);
  });

  test('staleness markers and special values round-trip bit-exactly', () => {
    const { head } = newHead();
    const s = ls('__name__', 'stale');
    const a = head.appender();
    a.append(0, s, 1000, 1);
    a.append(0, s, 2000, STALE_NAN);
    a.append(0, s, 3000, NaN);
    a.append(0, s, 4000, -0);
    a.commit();
    const it = head.querier(0, 10_000).select(false, null, eq('__name__', 'stale'));
    assert.ok(it.next());
    const si = it.at().iterator();
    si.next();
    si.next();
    assert.equal(isStaleNaN(si.v()), true);
    si.next();
    assert.ok(Number.isNaN(si.v()) && !isStaleNaN(si.v()));
    si.next();
    assert.ok(Object.is(si.v(), -0));
  });
});

describe('head postings', () => {
  test('postingsForMatchers answers with its own copy: later series and a caller writing into it change nothing', () => {
    const { head } = newHead();
    const a = head.appender();
    for (let i = 0; i < 5; i++) a.append(0, ls('__name__', 'm', 'job', i % 2 === 0 ? 'x' : 'y', 'i', String(i)), 1000, i);
    a.commit();
    const one = head.postingsForMatchers([eq('job', 'x')]);
    const both = head.postingsForMatchers([eq('__name__', 'm'), eq('job', 'x')]);
    assert.deepEqual([one.length, both.length], [3, 3]);
    one.fill(0);
    both.fill(0);
    const b = head.appender();
    b.append(0, ls('__name__', 'm', 'job', 'x', 'i', '9'), 2000, 9);
    b.commit();
    const again = head.postingsForMatchers([eq('job', 'x')]);
    assert.equal(again.length, 4);
    assert.equal(new Set(again).size, 4);
    assert.deepEqual(one, new Uint32Array(3));
    // A matcher whose list is missing ends the search with nothing.
    assert.equal(head.postingsForMatchers([eq('job', 'x'), eq('__name__', 'absent')]).length, 0);
  });
});

describe('head chunks', () => {
  test('cuts chunks near 120 samples and at chunk range boundaries', () => {
    const { head } = newHead(2 * HOUR);
    const s = ls('__name__', 'c');
    let ref = 0;
    // 3h at 15s: 720 samples; 2h ranges hold 480 each, split into 4 chunks of 120.
    for (let t = 0; t < 3 * HOUR; t += 15_000) {
      const a = head.appender();
      ref = a.append(ref, s, t, t);
      a.commit();
    }
    const q = head.querier(0, 3 * HOUR);
    const got = read(q).get('{__name__="c"}')!;
    assert.equal(got.length, 720);
    // 480 samples in [0, 2h) -> 4 chunks; 240 in [2h, 3h) so far -> 2 full chunks (the second open).
    assert.equal(head.numChunks, 6);
    const slot = head.series.slotByRef(ref);
    const chunks = head.chunksForBlock(slot, 0, 2 * HOUR - 1);
    assert.equal(chunks.length, 4);
    for (const c of chunks) assert.equal((c.bytes[0]! << 8) | c.bytes[1]!, 120);
    assert.ok(chunks.every((c) => c.maxt < 2 * HOUR));
  });

  test('a high-rate series gets chunks of at most 240 samples', () => {
    const { head } = newHead(2 * HOUR);
    const a = head.appender();
    for (let t = 0; t < 1000; t++) a.append(0, ls('hi', 'rate'), t, t % 7);
    a.commit();
    assert.ok(head.numChunks >= Math.ceil(1000 / 240));
    assert.equal(read(head.querier(0, 1000)).get('{hi="rate"}')!.length, 1000);
  });

  test('truncation drops old chunks and empty series, and slots are reused', () => {
    const { head } = newHead(2 * HOUR);
    const a = head.appender();
    for (let i = 0; i < 100; i++) a.append(0, ls('__name__', 'old', 'i', String(i)), 1000, i);
    a.commit();
    const b = head.appender();
    b.append(0, ls('__name__', 'new'), 3 * HOUR, 1);
    b.commit();
    assert.equal(head.numSeries, 101);
    head.truncate(2 * HOUR);
    assert.equal(head.numSeries, 1);
    assert.equal(head.minValidTime, 2 * HOUR);
    const q = head.querier(0, 4 * HOUR);
    assert.deepEqual(q.labelValues('__name__', null), ['new']);
    assert.deepEqual(q.labelNames(null), ['__name__']);
    assert.equal(head.series.symbols.size, 2);
    const c = head.appender();
    c.append(0, ls('__name__', 'again'), 3 * HOUR, 1);
    c.commit();
    assert.ok(head.series.numSlots <= 101, 'a freed slot was reused');
    assert.deepEqual([...read(head.querier(0, 4 * HOUR)).keys()], ['{__name__="again"}', '{__name__="new"}']);
  });

  test('memory freed while a querier is open is reused only after it closes', () => {
    const { head } = newHead(2 * HOUR);
    const a = head.appender();
    a.append(0, ls('s', '1'), 1000, 1);
    a.commit();
    const q = head.querier(0, 10 * HOUR);
    const ss = q.select(false, null, eq('s', '1'));
    const b = head.appender();
    b.append(0, ls('s', '2'), 3 * HOUR, 1);
    b.commit();
    head.truncate(2 * HOUR);
    // Allocate more; the old series' memory must not be handed out yet.
    const c = head.appender();
    c.append(0, ls('s', '3'), 3 * HOUR, 7);
    c.commit();
    // The open querier still reads the truncated data.
    assert.ok(ss.next());
    assert.equal(ss.at().labels.get('s'), '1');
    const it = ss.at().iterator();
    assert.equal(it.next(), ValueType.Float);
    assert.equal(it.t(), 1000);
    // New queriers do not see it.
    assert.equal(read(head.querier(0, 10 * HOUR)).has('{s="1"}'), false);
    assert.equal(head.numSeries, 3);
    q.close();
    assert.equal(head.numSeries, 2, 'garbage collection ran once the querier closed');
  });
});

describe('head select', () => {
  test('an unsorted select makes each series when the reader reaches it, and skips one whose slot was reused', () => {
    const { head } = newHead(2 * HOUR);
    const a = head.appender();
    a.append(0, ls('s', '1'), 1000, 1);
    a.append(0, ls('s', '2'), 3 * HOUR, 2);
    a.commit();
    const q = head.querier(0, 10 * HOUR);
    const ss = q.select(false, null, Matcher.create(MatchType.Regexp, 's', '.+'));
    // The querier outlives the reader timeout: truncation frees s=1's slot and a new series takes it.
    head.truncate(2 * HOUR);
    head.expireReaders(Date.now() + 3 * 60_000);
    const b = head.appender();
    b.append(0, ls('s', '3'), 3 * HOUR, 3);
    b.commit();
    const seen: string[] = [];
    while (ss.next()) seen.push(ss.at().labels.get('s'));
    assert.deepEqual(seen, ['2'], 'neither the freed series nor the one now in its slot');
    assert.equal(ss.err(), null);
    q.close();
  });
});

describe('head index', () => {
  function fill(): Head {
    const { head } = newHead();
    const a = head.appender();
    const rows: string[][] = [
      ['__name__', 'http_requests_total', 'job', 'api', 'code', '200'],
      ['__name__', 'http_requests_total', 'job', 'api', 'code', '500'],
      ['__name__', 'http_requests_total', 'job', 'web', 'code', '200'],
      ['__name__', 'up', 'job', 'api'],
      ['__name__', 'up', 'job', 'web'],
      ['__name__', 'up', 'job', 'db', 'env', 'prod'],
    ];
    for (const r of rows) a.append(0, ls(...r), 1000, 1);
    a.commit();
    return head;
  }

  test('select with equality, literal alternations, regexes and empty matchers', () => {
    const head = fill();
    const q = head.querier(0, 2000);
    const names = (...ms: Matcher[]): string[] => [...read(q, ...ms).keys()];
    assert.equal(names(eq('__name__', 'up')).length, 3);
    assert.deepEqual(names(Matcher.create(MatchType.Regexp, 'code', '200|500'), eq('job', 'api')), [
      '{__name__="http_requests_total", code="200", job="api"}',
      '{__name__="http_requests_total", code="500", job="api"}',
    ]);
    assert.deepEqual(names(eq('__name__', 'up'), eq('env', '')), ['{__name__="up", job="api"}', '{__name__="up", job="web"}']);
    assert.deepEqual(names(eq('__name__', 'up'), Matcher.create(MatchType.NotEqual, 'env', '')), ['{__name__="up", env="prod", job="db"}']);
    assert.equal(names(Matcher.create(MatchType.Regexp, 'job', 'a.i|w.b')).length, 5);
    assert.equal(names(Matcher.create(MatchType.NotRegexp, 'code', '5..'), eq('__name__', 'http_requests_total')).length, 2);
    assert.equal(names(eq('__name__', 'nope')).length, 0);
  });

  test('labelNames and labelValues, with and without matchers, honour limits', () => {
    const head = fill();
    const q = head.querier(0, 2000);
    assert.deepEqual(q.labelNames(null), ['__name__', 'code', 'env', 'job']);
    assert.deepEqual(q.labelNames(null, eq('__name__', 'up')), ['__name__', 'env', 'job']);
    assert.deepEqual(q.labelValues('job', null), ['api', 'db', 'web']);
    assert.deepEqual(q.labelValues('job', null, eq('code', '500')), ['api']);
    assert.deepEqual(q.labelValues('job', { limit: 2 }), ['api', 'db']);
    assert.deepEqual(q.labelValues('nosuch', null), []);
  });

  test('select hints narrow the time range; the "series" hint skips samples', () => {
    const { head } = newHead();
    const a = head.appender();
    for (let t = 0; t < 100_000; t += 1000) a.append(0, ls('__name__', 'h'), t, t);
    a.commit();
    const q = head.querier(0, 1_000_000);
    const ss = q.select(false, { start: 10_000, end: 12_000 }, eq('__name__', 'h'));
    assert.ok(ss.next());
    const it = ss.at().iterator();
    const ts: number[] = [];
    while (it.next()) ts.push(it.t());
    assert.deepEqual(ts, [10_000, 11_000, 12_000]);
    const meta = q.select(false, { start: 0, end: 1_000_000, func: 'series' }, eq('__name__', 'h'));
    assert.ok(meta.next());
    assert.equal(meta.at().iterator().next(), ValueType.None);
    assert.equal(q.select(false, { start: 200_000, end: 300_000 }, eq('__name__', 'h')).next(), false);
  });

  test('seek skips to the first sample at or after a time, across chunks', () => {
    const { head } = newHead();
    const a = head.appender();
    for (let t = 0; t < 1000 * 15_000; t += 15_000) a.append(0, ls('__name__', 'seek'), t, t);
    a.commit();
    const ss = head.querier(0, Infinity).select(false, null, eq('__name__', 'seek'));
    ss.next();
    const it = ss.at().iterator();
    assert.equal(it.seek(7_000_001), ValueType.Float);
    assert.equal(it.t(), 7_005_000);
    assert.equal(it.seek(100), ValueType.Float);
    assert.equal(it.t(), 7_005_000);
    assert.equal(it.next(), ValueType.Float);
    assert.equal(it.t(), 7_020_000);
    assert.equal(it.seek(1e12), ValueType.None);
  });

  test('tombstones hide deleted samples', () => {
    const { head } = newHead();
    const a = head.appender();
    for (let t = 0; t <= 10_000; t += 1000) a.append(0, ls('__name__', 'd'), t, t);
    a.commit();
    head.deleteRange(head.postingsForMatchers([eq('__name__', 'd')]), 2000, 5000);
    const got = read(head.querier(0, 20_000)).get('{__name__="d"}')!;
    assert.deepEqual(
      got.map(([t]) => t),
      [0, 1000, 6000, 7000, 8000, 9000, 10_000],
    );
  });

  test('stats report cardinality like the TSDB status API', () => {
    const head = fill();
    const st = head.stats(2);
    assert.equal(st.headStats.numSeries, 6);
    assert.equal(st.headStats.chunkCount, 6);
    assert.equal(st.headStats.minTime, 1000);
    assert.deepEqual(st.seriesCountByMetricName, [
      { name: 'http_requests_total', value: 3 },
      { name: 'up', value: 3 },
    ]);
    assert.deepEqual(st.labelValueCountByLabelName[0], { name: 'job', value: 3 });
    assert.equal(st.seriesCountByLabelValuePair.length, 2);
    // Pairs: __name__ x2, job x3, code x2, env x1.
    assert.equal(st.headStats.numLabelPairs, 8);
  });
});

test('appendByRef appends to a live series and answers 0 for an unknown ref', () => {
  const { head: h } = newHead();
  const a = h.appender();
  const ref = a.append(0, Labels.fromPairs('__name__', 'm'), 1000, 1);
  a.commit();
  const b = h.appender();
  assert.equal(b.appendByRef(ref, 2000, 2), ref);
  assert.equal(b.appendByRef(ref + 1000, 2000, 2), 0);
  assert.throws(() => b.appendByRef(ref, 1500, 3), OutOfOrderSampleError);
  b.commit();
  assert.equal(h.numSeries, 1);
});
