import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { Labels } from '../../model/labels.js';
import { MatchType, Matcher } from '../../model/matcher.js';
import { ExemplarLabelLengthError, OutOfOrderExemplarError, type Exemplar } from '../../storage/interface.js';
import { CircularExemplarStorage, ExemplarCheck, ExemplarMetrics } from './exemplars.js';

const A = Labels.fromPairs('__name__', 'a');
const B = Labels.fromPairs('__name__', 'b');
const ALL = [[Matcher.create(MatchType.Regexp, '__name__', '.+')]];

function ex(ts: number, value = 1, trace = 't', hasTs = true): Exemplar {
  return { labels: Labels.fromPairs('trace_id', trace), value, ts, hasTs };
}

/** Timestamps per series name, as select() returns them. */
function dump(s: CircularExemplarStorage, start = -Infinity, end = Infinity): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const r of s.select(start, end, ALL)) out[r.seriesLabels.get('__name__')] = r.exemplars.map((e) => e.ts);
  return out;
}

function metricsFor(reg: Registry, s: () => CircularExemplarStorage): ExemplarMetrics {
  return new ExemplarMetrics(reg, () => {
    const x = s();
    return { inStorage: x.size, series: x.numSeries, oldestTs: x.oldestTs(), max: x.capacity };
  });
}

async function value(reg: Registry, name: string): Promise<number> {
  const m = await reg.getSingleMetric(name)!.get();
  return m.values[0]?.value ?? NaN;
}

describe('circular exemplar storage', () => {
  test('keeps exemplars per series, oldest first, and selects by time and matchers', () => {
    const s = new CircularExemplarStorage(10);
    s.add(A, ex(1000));
    s.add(B, ex(1500));
    s.add(A, ex(2000));
    s.add(A, ex(3000));
    assert.deepEqual(dump(s), { a: [1000, 2000, 3000], b: [1500] });
    assert.deepEqual(dump(s, 1500, 2000), { a: [2000], b: [1500] });
    assert.deepEqual(dump(s, 3001, 4000), {});
    const onlyB = s.select(0, 5000, [[Matcher.create(MatchType.Equal, '__name__', 'b')]]);
    assert.equal(onlyB.length, 1);
    assert.deepEqual(onlyB[0]!.exemplars[0], { labels: Labels.fromPairs('trace_id', 't'), value: 1, ts: 1500, hasTs: true });
    // Any one matcher set selects; results are sorted by series labels.
    const both = s.select(0, 5000, [[Matcher.create(MatchType.Equal, '__name__', 'b')], [Matcher.create(MatchType.Equal, '__name__', 'a')]]);
    assert.deepEqual(
      both.map((r) => r.seriesLabels.toString()),
      ['{__name__="a"}', '{__name__="b"}'],
    );
    assert.equal(s.size, 4);
    assert.equal(s.numSeries, 2);
  });

  test('the ring wraps: new exemplars evict the oldest ones of any series', () => {
    const s = new CircularExemplarStorage(3);
    s.add(A, ex(1));
    s.add(B, ex(2));
    s.add(A, ex(3));
    s.add(A, ex(4)); // evicts A@1
    assert.deepEqual(dump(s), { a: [3, 4], b: [2] });
    assert.equal(s.oldestTs(), 2);
    s.add(A, ex(5)); // evicts B@2: B has no exemplars left
    assert.deepEqual(dump(s), { a: [3, 4, 5] });
    assert.equal(s.numSeries, 1);
    s.add(A, ex(6)); // evicts A@3, the series' own oldest
    assert.deepEqual(dump(s), { a: [4, 5, 6] });
    s.add(B, ex(7));
    s.add(B, ex(8));
    s.add(B, ex(9));
    assert.deepEqual(dump(s), { b: [7, 8, 9] });
    assert.equal(s.size, 3);
  });

  test('a series whose only exemplar is evicted by its own next one starts afresh', () => {
    const s = new CircularExemplarStorage(1);
    s.add(A, ex(1));
    s.add(A, ex(2));
    s.add(A, ex(3));
    assert.deepEqual(dump(s), { a: [3] });
    s.add(B, ex(4));
    assert.deepEqual(dump(s), { b: [4] });
  });

  test('repeats of the newest exemplar are ignored; without timestamps the time does not count', () => {
    const s = new CircularExemplarStorage(10);
    s.add(A, ex(1000, 5));
    s.add(A, ex(1000, 5));
    assert.equal(s.size, 1);
    assert.equal(s.validate(A, ex(1000, 5)), ExemplarCheck.Duplicate);
    // Scraped without a timestamp: each scrape gives it the scrape's time, still the same exemplar.
    s.add(B, ex(2000, 7, 'x', false));
    s.add(B, ex(17000, 7, 'x', false));
    assert.deepEqual(dump(s), { a: [1000], b: [2000] });
    // A different value (or labels) is a new exemplar.
    s.add(B, ex(32000, 8, 'x', false));
    assert.deepEqual(dump(s), { a: [1000], b: [2000, 32000] });
  });

  test('out-of-order exemplars are refused and counted; equal times are ordered by value, then labels', async () => {
    const reg = new Registry();
    let s!: CircularExemplarStorage;
    const m = metricsFor(reg, () => s);
    s = new CircularExemplarStorage(10, m);
    s.add(A, ex(2000, 5));
    assert.throws(() => s.add(A, ex(1999, 5)), OutOfOrderExemplarError);
    // Validation alone (as an appender checks before commit) does not count.
    assert.throws(() => s.validate(A, ex(1000)), OutOfOrderExemplarError);
    assert.throws(() => s.add(A, ex(2000, 4)), OutOfOrderExemplarError);
    s.add(A, ex(2000, 6));
    // Another series has its own order.
    s.add(B, ex(10));
    assert.deepEqual(dump(s), { a: [2000, 2000], b: [10] });
    assert.equal(await value(reg, 'prometheus_tsdb_exemplar_out_of_order_exemplars_total'), 2);
    assert.equal(await value(reg, 'prometheus_tsdb_exemplar_exemplars_appended_total'), 3);
    // Same time and value, other labels: the label hash orders them, so exactly one order is accepted.
    const x = ex(3000, 1, 'p');
    const y = ex(3000, 1, 'q');
    const [lo, hi] = x.labels.hash() < y.labels.hash() ? [x, y] : [y, x];
    s.add(B, hi);
    assert.throws(() => s.add(B, lo), OutOfOrderExemplarError);
  });

  test('label sets over 128 UTF-8 characters are refused and counted', async () => {
    const reg = new Registry();
    let s!: CircularExemplarStorage;
    s = new CircularExemplarStorage(10, metricsFor(reg, () => s));
    // trace_id (8) + 120 = 128: allowed. Characters, not bytes or UTF-16 units, count.
    s.add(A, { labels: Labels.fromPairs('trace_id', 'x'.repeat(120)), value: 1, ts: 1, hasTs: true });
    s.add(A, { labels: Labels.fromPairs('trace_id', '€'.repeat(60) + '😀'.repeat(60)), value: 1, ts: 2, hasTs: true });
    assert.throws(() => s.add(A, { labels: Labels.fromPairs('trace_id', 'x'.repeat(121)), value: 1, ts: 3, hasTs: true }), ExemplarLabelLengthError);
    assert.throws(
      () => s.validate(A, { labels: Labels.fromPairs('a', 'x'.repeat(100), 'b', 'y'.repeat(30)), value: 1, ts: 3, hasTs: true }),
      /label length for exemplar exceeds maximum of 128 UTF-8 characters/,
    );
    assert.equal(s.size, 2);
    assert.equal(await value(reg, 'tsprom_tsdb_exemplar_label_length_exceeded_total'), 2);
  });

  test('resize keeps the newest exemplars in ingestion order and keeps working', async () => {
    const reg = new Registry();
    let s!: CircularExemplarStorage;
    s = new CircularExemplarStorage(5, metricsFor(reg, () => s));
    for (let t = 1; t <= 7; t++) s.add(t % 2 === 0 ? A : B, ex(t)); // ring holds 3..7
    assert.deepEqual(dump(s), { a: [4, 6], b: [3, 5, 7] });
    // Shrinking keeps the newest.
    assert.equal(s.resize(3), 3);
    assert.deepEqual(dump(s), { a: [6], b: [5, 7] });
    assert.equal(s.oldestTs(), 5);
    s.add(A, ex(8)); // evicts 5
    assert.deepEqual(dump(s), { a: [6, 8], b: [7] });
    // Growing keeps everything; the oldest goes only once the new room is used up.
    assert.equal(s.resize(6), 3);
    for (let t = 9; t <= 11; t++) s.add(A, ex(t));
    assert.deepEqual(dump(s), { a: [6, 8, 9, 10, 11], b: [7] });
    s.add(A, ex(12)); // evicts 6
    assert.deepEqual(dump(s), { a: [8, 9, 10, 11, 12], b: [7] });
    assert.equal(await value(reg, 'prometheus_tsdb_exemplar_max_exemplars'), 6);
    assert.equal(await value(reg, 'prometheus_tsdb_exemplar_exemplars_in_storage'), 6);
    assert.equal(await value(reg, 'prometheus_tsdb_exemplar_series_with_exemplars_in_storage'), 2);
    assert.equal(await value(reg, 'prometheus_tsdb_exemplar_last_exemplars_timestamp_seconds'), 0.007);
    // Size 0 holds nothing and takes nothing, until it grows again.
    assert.equal(s.resize(0), 0);
    assert.deepEqual(dump(s), {});
    assert.equal(s.validate(A, ex(100)), ExemplarCheck.Disabled);
    s.add(A, ex(100));
    assert.equal(s.size, 0);
    s.resize(2);
    s.add(A, ex(100));
    s.add(A, ex(101));
    s.add(B, ex(102));
    assert.deepEqual(dump(s), { a: [101], b: [102] });
  });

  test('shrinking a ring that is not full keeps all that fits', () => {
    const s = new CircularExemplarStorage(10);
    s.add(A, ex(1));
    s.add(B, ex(2));
    s.add(A, ex(3));
    assert.equal(s.resize(5), 3);
    assert.deepEqual(dump(s), { a: [1, 3], b: [2] });
    s.add(A, ex(4));
    s.add(A, ex(5));
    s.add(A, ex(6)); // full at 5: evicts A@1
    assert.deepEqual(dump(s), { a: [3, 4, 5, 6], b: [2] });
    assert.equal(s.resize(2), 2);
    assert.deepEqual(dump(s), { a: [5, 6] });
  });

  test('many series through a small ring keep a consistent index', () => {
    const s = new CircularExemplarStorage(50);
    const series = Array.from({ length: 40 }, (_, i) => Labels.fromPairs('__name__', `s${i}`));
    // Deterministic pseudo-random walk over series.
    let x = 7;
    for (let t = 1; t <= 5000; t++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const i = x % 40;
      s.add(series[i]!, ex(t));
      if (t % 997 === 0) s.resize(30 + (t % 40));
    }
    let n = 0;
    for (const r of s.select(-Infinity, Infinity, ALL)) {
      const ts = r.exemplars.map((e) => e.ts);
      assert.deepEqual(ts, [...ts].sort((a, b) => a - b));
      n += ts.length;
    }
    assert.equal(n, s.size);
    assert.equal(n, s.capacity);
  });
});
