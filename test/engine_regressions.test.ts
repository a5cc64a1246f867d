// Regression tests for engine bugs found by hostile queries and by the
// property test (test/engine_property.test.ts): each case failed before its
// fix. Queries run in-process against a small MemoryStorage.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../src/model/labels.js';
import { MemoryStorage } from '../src/storage/memory.js';
import { Engine } from '../src/promql/engine/engine.js';
import { TooManySamplesError } from '../src/promql/engine/errors.js';
import type { QueryValue } from '../src/promql/engine/types.js';

const S = 15_000;
const M = 60_000;
const DAY = 24 * 60 * M;

/**
 * m{i="0"} and m{i="1"}: a sample every 15s from 0 to 30m whose value is its
 * index (the value at t is t/15s, times 2 for i="1"); arg: 0, 0.5, 1, 0.75
 * at 30s steps; metric: 1..5 at 30s steps (Prometheus's at_modifier.test).
 */
function storage(): MemoryStorage {
  const db = new MemoryStorage();
  const app = db.appender();
  for (let i = 0; i <= 120; i++) {
    app.append(0, Labels.fromPairs('__name__', 'm', 'i', '0'), i * S, i);
    app.append(0, Labels.fromPairs('__name__', 'm', 'i', '1'), i * S, 2 * i);
  }
  [0, 0.5, 1, 0.75].forEach((v, i) => app.append(0, Labels.fromPairs('__name__', 'arg'), i * 30_000, v));
  [1, 2, 3, 4, 5].forEach((v, i) => app.append(0, Labels.fromPairs('__name__', 'metric'), i * 30_000, v));
  app.commit();
  return db;
}

const db = storage();
const engine = new Engine();

/** `labels t:v t:v ...` per series (matrix), `labels v` per sample (vector), or the scalar's value. */
function lines(v: QueryValue): string[] {
  switch (v.type) {
    case 'matrix':
      return v.series.map((s) => `${s.metric.toString()} ${Array.from(s.ts, (t, i) => `${t}:${s.fs[i]}`).join(' ')}`).sort();
    case 'vector':
      return v.samples.map((s) => `${s.metric.toString()} ${s.f}`).sort();
    case 'scalar':
      return [`scalar ${v.v}`];
    case 'string':
      return [`string ${v.v}`];
  }
}

async function instant(q: string, t: number, e: Engine = engine): Promise<string[]> {
  return lines((await e.newInstantQuery(db, q, t).exec()).value);
}

async function range(q: string, start: number, end: number, step: number, e: Engine = engine): Promise<string[]> {
  return lines((await e.newRangeQuery(db, q, start, end, step).exec()).value);
}

/** Each step of the range query as `labels v` lines, to compare with instant queries. */
async function rangeSteps(q: string, start: number, end: number, step: number): Promise<Map<number, string[]>> {
  const v = (await engine.newRangeQuery(db, q, start, end, step).exec()).value;
  assert.equal(v.type, 'matrix');
  const out = new Map<number, string[]>();
  for (let t = start; t <= end; t += step) out.set(t, []);
  for (const s of v.series) s.ts.forEach((t, i) => out.get(t)!.push(`${s.metric.toString()} ${s.fs[i]}`));
  for (const l of out.values()) l.sort();
  return out;
}

async function assertTooManySamples(run: () => Promise<unknown>): Promise<void> {
  await assert.rejects(run, (e: unknown) => {
    assert.ok(e instanceof TooManySamplesError, `expected TooManySamplesError, got ${String(e)}`);
    assert.equal(e.message, 'query processing would load too many samples into memory in query execution');
    return true;
  });
}

describe('queries sized far beyond --query.max-samples fail with the sample limit, before allocating', () => {
  test('a subquery of 8.64e9 steps (issue: "Invalid typed array length")', async () => {
    await assertTooManySamples(() => engine.newInstantQuery(db, 'count(count_over_time(vector(1)[100000d:1s]))', 0).exec());
  });

  test('subqueries with tiny steps over long ranges, whatever is inside', async () => {
    for (const q of ['count_over_time(m[1y:1ms])', 'count_over_time(missing[100000d:1s])', 'max_over_time((m @ 600)[100000d:1s])', 'rate(m[5m])[1y:1ms]']) {
      await assertTooManySamples(() => engine.newInstantQuery(db, q, 10 * M).exec());
    }
  });

  test('a range query with more steps than the limit', async () => {
    await assertTooManySamples(() => engine.newRangeQuery(db, 'm', 0, 365 * DAY, 1).exec());
    const small = new Engine({ maxSamples: 1000 });
    await assertTooManySamples(() => small.newRangeQuery(db, 'missing', 0, 2000, 1).exec());
  });

  test('values repeated at every step fail before their series are built', async () => {
    const small = new Engine({ maxSamples: 1500 });
    // 1000 steps: two operands of 1000 samples each, two step-invariant series grown to 1000 points.
    await assertTooManySamples(() => small.newRangeQuery(db, 'time() + time()', 0, 999 * S, S).exec());
    await assertTooManySamples(() => small.newRangeQuery(db, 'm @ 100', 0, 999 * S, S).exec());
    // Under the limit they work.
    const points = (l: string): number => (l.match(/ \d+:/g) ?? []).length;
    assert.equal(points((await range('time()', 0, 999 * S, S, small))[0]!), 1000);
    assert.equal(points((await range('m{i="0"} @ 100', 0, 999 * S, S, small))[0]!), 1000);
  });

  test('huge ranges and many steps over many series hit the limit, not an internal error', async () => {
    const small = new Engine({ maxSamples: 100 });
    await assertTooManySamples(() => small.newInstantQuery(db, 'm[100000d]', 30 * M).exec());
    await assertTooManySamples(() => small.newInstantQuery(db, 'sum_over_time(m[100000d])', 30 * M).exec());
    // 11,000 steps (the API's maximum) times two series.
    const q = 'label_replace(vector(1), "x", "1", "", "") or label_replace(vector(2), "x", "2", "", "")';
    await assertTooManySamples(() => new Engine({ maxSamples: 20_000 }).newRangeQuery(db, q, 0, 10_999 * S, S).exec());
    assert.equal((await range(q, 0, 10_999 * S, S, new Engine({ maxSamples: 22_000 }))).length, 2);
    // A long range whose windows stay under the limit is fine.
    assert.deepEqual(await instant('sum_over_time(m{i="0"}[100000d])', 30 * M), ['{i="0"} 7260']);
    assert.equal((await range('rate(m[100000d])', 0, 30 * M, 1000)).length, 2);
  });
});

describe('subqueries with @ give the same result at every query time', () => {
  // The child evaluator of a subquery must see @ offsets relative to its own
  // start. Prometheus recomputes them only when the subquery starts at a
  // different time than its parent, but the parent's offsets were computed
  // against the subquery's shifted time, so a coincidence of the two changed
  // the result.
  test('(x @ t)[2m:1m] @ 600 offset 1m', async () => {
    const q = '(m{i="0"} @ 60)[2m:1m] @ 600 offset 1m';
    const want = ['{__name__="m", i="0"} 480000:4 540000:4'];
    for (const t of [420_000, 480_000, 540_000, 660_000, 0]) assert.deepEqual(await instant(q, t), want, `at ${t}`);
  });

  test('(x @ t)[1m:30s] @ 1200', async () => {
    const q = '(m @ 0)[1m:30s] @ 1200';
    const want = ['{__name__="m", i="0"} 1170000:0 1200000:0', '{__name__="m", i="1"} 1170000:0 1200000:0'];
    for (const t of [1_140_000, 1_170_000, 1_200_000]) assert.deepEqual(await instant(q, t), want, `at ${t}`);
  });

  test('(25 >= x @ 600 offset 5m)[5m:30s] @ 1200.5', async () => {
    // m at 300s is 20 for i="0" and 40 for i="1": both filtered out, at every time.
    const q = '(25 >= m @ 600 offset 5m)[5m:30s] @ 1200.5';
    const at480 = await instant(q, 480_000);
    assert.equal(at480.length, 1);
    assert.match(at480[0]!, /^\{__name__="m", i="0"\} 930000:20 /);
    assert.deepEqual(await instant(q, 930_000), at480);
  });

  test('min_over_time((1 ^ x @ 1200.5)[10m:2m] @ 600 offset 1m) is 1 at every time', async () => {
    const q = 'min_over_time((1 ^ m{i="0"} @ 1200.5)[10m:2m] @ 600 offset 1m)';
    for (const t of [0, 90_000, 180_000]) assert.deepEqual(await instant(q, t), ['{i="0"} 1'], `at ${t}`);
    assert.deepEqual(await range(q, 0, 360_000, 90_000), ['{i="0"} 0:1 90000:1 180000:1 270000:1 360000:1']);
  });

  test('an outer offset does not shift an inner @', async () => {
    // quantile_over_time(0.25, m[5m] @ 1200.5) reads 61..80: 65.75.
    const inner = 'quantile_over_time(0.25, m{i="0"}[5m] @ 1200.5)';
    const q = `min_over_time((${inner})[31s:2m] offset 1m)`;
    const steps = await rangeSteps(q, 0, 600_000, 60_000);
    for (const [t, got] of steps) {
      assert.deepEqual(got, await instant(q, t), `step ${t}`);
      if (got.length > 0) assert.deepEqual(got, ['{i="0"} 65.75']);
    }
    assert.deepEqual(steps.get(60_000), ['{i="0"} 65.75']);
    assert.deepEqual(await instant(`min_over_time((${inner})[31s:2m])`, 0), ['{i="0"} 65.75']);
  });
});

describe('range arguments Prometheus 3.x reads directly', () => {
  test('a step-invariant subquery next to an argument that varies (at_modifier.test, Prometheus 3.x)', async () => {
    assert.deepEqual(await range('quantile_over_time(scalar(arg), metric[2m1s:30s] @ 2m)', 0, 90_000, 30_000), ['{} 0:1 30000:3 60000:5 90000:4']);
    assert.deepEqual(await instant('quantile_over_time(scalar(arg), metric[2m1s:30s] @ 2m)', 0), ['{} 1']);
    assert.deepEqual(await range('quantile_over_time(0.5, metric[2m1s:30s] @ 2m)', 0, 90_000, 30_000), ['{} 0:3 30000:3 60000:3 90000:3']);
  });

  test('a parenthesised range inside an aggregation parameter', async () => {
    // sum_over_time(metric[2m]) at 2m is 2+3+4+5 = 14; quantile 14 is +Inf.
    const q = 'quantile(scalar(sum_over_time((metric[2m]))), m)';
    assert.deepEqual(await instant(q, 120_000), ['{} Infinity']);
    assert.deepEqual(await range(q, 120_000, 150_000, 30_000), ['{} 120000:Infinity 150000:Infinity']);
  });
});

describe('^ and atan2 compute as Go does', () => {
  test('where JavaScript rounds differently in the last bit', async () => {
    // Values printed by Go's math.Pow(0.1, 0.4) and math.Atan2(0.2, 1.3).
    assert.deepEqual(await instant('0.1 ^ 0.4', 0), ['scalar 0.3981071705534973']);
    assert.deepEqual(await instant('0.2 atan2 1.3', 0), ['scalar 0.15264932839526515']);
    assert.deepEqual(await instant('vector(0.1) ^ 0.6', 0), ['{} 0.25118864315095796']);
    assert.deepEqual(await instant('vector(0.3) atan2 vector(0.2)', 0), ['{} 0.9827937232473289']);
  });

  test('special cases', async () => {
    assert.deepEqual(await instant('1 ^ NaN', 0), ['scalar 1']);
    assert.deepEqual(await instant('(-1) ^ Inf', 0), ['scalar 1']);
  });
});

describe('behaviour of Prometheus after 3.14', () => {
  /** A counter c on host h, and target_info for h whose version changes from v1 to v2 at 5m. */
  function infoStorage(): MemoryStorage {
    const s = new MemoryStorage();
    const app = s.appender();
    for (let k = 0; k <= 10; k++) {
      app.append(0, Labels.fromPairs('__name__', 'c', 'instance', 'h', 'job', 'j'), k * M, k);
      app.append(0, Labels.fromPairs('__name__', 'target_info', 'instance', 'h', 'job', 'j', 'version', k < 5 ? 'v1' : 'v2'), k * M, 1);
    }
    // An info metric with one sample only, at 0.
    app.append(0, Labels.fromPairs('__name__', 'sparse_info', 'instance', 'h', 'job', 'j', 'tier', 'gold'), 0, 1);
    // Two series that collide on on(): listed as they arrive, the second would come first.
    app.append(0, Labels.fromPairs('__name__', 'dup', 'l', 'a'), 0, 1);
    app.append(0, Labels.fromPairs('__name__', 'dup', 'l', 'b'), 0, 1);
    app.append(0, Labels.fromPairs('__name__', 'one'), 0, 1);
    app.commit();
    return s;
  }
  const idb = infoStorage();
  const withInfo = new Engine({ features: new Set(['promql-experimental-functions']) });
  const delayed = new Engine({ features: new Set(['promql-experimental-functions', 'promql-delayed-name-removal']) });

  test('info(v @ T) enriches with the info series as of T at every step', async () => {
    // At 10m and 11m the sample at 2m is beyond the lookback; as of 2m it is current.
    const r = await withInfo.newRangeQuery(idb, 'info(c @ 120)', 10 * M, 11 * M, M).exec();
    assert.equal(r.value.type, 'matrix');
    if (r.value.type !== 'matrix') return;
    assert.deepEqual(r.value.series.map((s) => s.metric.get('version')), ['v1']);
    assert.deepEqual(Array.from(r.value.series[0]!.fs), [2, 2]);
  });

  test('info(v offset d) reads the info series d earlier', async () => {
    // sparse_info's only sample (at 0) is within the lookback of 8m - 4m, not of 8m.
    const r = await withInfo.newInstantQuery(idb, 'info(c offset 4m, {__name__="sparse_info"})', 8 * M).exec();
    assert.equal(r.value.type, 'vector');
    if (r.value.type !== 'vector') return;
    assert.deepEqual(r.value.samples.map((s) => `${s.metric.get('tier')} ${s.f}`), ['gold 4']);
  });

  test('a name dropped before info() stays dropped with delayed name removal', async () => {
    const r = await delayed.newInstantQuery(idb, 'info(floor(c))', 6 * M).exec();
    assert.equal(r.value.type, 'vector');
    if (r.value.type !== 'vector') return;
    assert.deepEqual(r.value.samples.map((s) => s.metric.toString()), ['{instance="h", job="j", version="v2"}']);
  });

  test('the duplicate series of a many-to-many error are listed in text order', async () => {
    await assert.rejects(withInfo.newInstantQuery(idb, 'one > on() dup', 0).exec(), {
      message:
        'found duplicate series for the match group {} on the right hand-side of the operation: [{__name__="dup", l="a"}, {__name__="dup", l="b"}];' +
        'many-to-many matching not allowed: matching labels must be unique on one side',
    });
  });
});

describe('instant vectors held column-wise give what series did', () => {
  test('a function that removes the name, alone and under aggregations that group by it or return its inputs', async () => {
    // Range queries of two steps evaluate series by series: their last step is the oracle.
    const queries = [
      'rate(m[1m])',
      'sum by (__name__) (rate(m[1m]))',
      'sum without (i) (m)',
      'topk(1, rate(m[1m]))',
      'count by (i) (last_over_time(m[1m]))',
      'quantile by (__name__) (0.5, deriv(m[5m]))',
      'bottomk(1, sort_desc(m))',
      'max by (i) (abs(m))',
    ];
    for (const q of queries) {
      const want = (await rangeSteps(q, 10 * M - 30_000, 10 * M, 30_000)).get(10 * M)!;
      assert.ok(want.length > 0, q);
      assert.deepEqual(await instant(q, 10 * M), want, q);
    }
    assert.deepEqual(await instant('sum by (__name__) (rate(m[1m]))', 10 * M), ['{} 0.19999999999999996']);
  });

  test('names removed from series of different metrics still collide', async () => {
    await assert.rejects(engine.newInstantQuery(db, 'rate({__name__=~"arg|metric"}[5m])', 2 * M).exec(), {
      message: 'vector cannot contain metrics with the same labelset',
    });
  });

  test('a selector read by two functions of one query is read twice', async () => {
    assert.deepEqual(await instant('rate(m[1m]) / rate(m[1m])', 10 * M), ['{i="0"} 1', '{i="1"} 1']);
  });
});
