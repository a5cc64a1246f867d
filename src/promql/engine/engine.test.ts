import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ParseError } from '../parser/errors.js';
import { parseExpr } from '../parser/parser.js';
import { exprToString } from '../parser/printer.js';
import { EvalError } from './errors.js';
import type { QueryLogRecord } from './types.js';
import { STALE, _, engine, instant, matrixLines, range, store, vectorLines } from './test_util.test.js';

const M = 60_000;

describe('query results', () => {
  const db = store({
    'x{a="1"}': [1, 2, 3, 4, 5],
    'x{a="2"}': [10, 20, 30, 40, 50],
    'x{a="3"}': [7, 7, 7, 7, 7],
  });

  test('instant vectors keep evaluation order and carry the evaluation time', async () => {
    const res = await instant(db, 'sort_desc(x)', 4 * M + 1);
    assert.deepEqual(vectorLines(res.value), ['{__name__="x", a="2"} 50', '{__name__="x", a="3"} 7', '{__name__="x", a="1"} 5']);
    assert.ok(res.value.type === 'vector' && res.value.samples.every((s) => s.t === 4 * M + 1));
  });

  test('range results are series sorted by labels with points at the steps', async () => {
    const res = await range(db, 'x * 2', M, 3 * M, M);
    assert.deepEqual(matrixLines(res.value), ['{a="1"} 4@60 6@120 8@180', '{a="2"} 40@60 60@120 80@180', '{a="3"} 14@60 14@120 14@180']);
  });

  test('scalars, strings and range vectors', async () => {
    assert.deepEqual(await instant(db, '1 + 2', 0).then((r) => r.value), { type: 'scalar', t: 0, v: 3 });
    assert.deepEqual(await instant(db, '"hi"', 5).then((r) => r.value), { type: 'string', t: 5, v: 'hi' });
    const m = await instant(db, 'x{a="1"}[2m]', 4 * M);
    assert.deepEqual(matrixLines(m.value), ['{__name__="x", a="1"} 4@180 5@240']);
  });

  test('range queries accept only scalars and instant vectors', () => {
    assert.throws(() => engine().newRangeQuery(db, 'x[5m]', 0, M, M), {
      message: 'invalid expression type "range vector" for range query, must be Scalar or instant Vector',
    });
    assert.throws(() => engine().newInstantQuery(db, 'sum(', 0), ParseError);
  });
});

describe('lookback and staleness', () => {
  const db = store({ 'y{}': [1, _, _, _, _, _, _, 8, STALE, _, 10] });

  test('a sample is visible for the lookback delta (default 5m) after it', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'y', 5 * M - 1)).value), ['{__name__="y"} 1']);
    assert.deepEqual(vectorLines((await instant(db, 'y', 5 * M)).value), []);
  });

  test('the lookback delta can be set per engine and per query', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'y', 5 * M, { lookbackDeltaMs: 6 * M })).value), ['{__name__="y"} 1']);
    const q = engine().newInstantQuery(db, 'y', 2 * M, { lookbackDeltaMs: M });
    assert.deepEqual(vectorLines((await q.exec()).value), []);
  });

  test('a staleness marker ends the series at once', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'y', 7 * M + 30_000)).value), ['{__name__="y"} 8']);
    assert.deepEqual(vectorLines((await instant(db, 'y', 8 * M + 30_000)).value), []);
    assert.deepEqual(vectorLines((await instant(db, 'count_over_time(y[10m])', 10 * M)).value), ['{} 2']);
  });
});

describe('metric name removal', () => {
  const db = store({ 'a_total{env="1"}': [0, 60, 120], 'b_total{env="1"}': [0, 30, 60] });

  test('without delayed removal, names go as soon as a function or operator changes the meaning', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'rate(a_total[2m])', 2 * M)).value), ['{env="1"} 1']);
    await assert.rejects(instant(db, 'rate({env="1"}[2m])', 2 * M), { message: 'vector cannot contain metrics with the same labelset' });
  });

  test('with promql-delayed-name-removal, names go at the end', async () => {
    const opts = { features: new Set(['promql-delayed-name-removal']) };
    // Grouping by a name that is removed afterwards collides at the end, as in Prometheus.
    await assert.rejects(instant(db, 'sum by (__name__) (rate({env="1"}[2m]))', 2 * M, opts), {
      message: 'vector cannot contain metrics with the same labelset',
    });
    const res = await instant(db, 'sum by (env) (rate({env="1"}[2m]))', 2 * M, opts);
    assert.deepEqual(vectorLines(res.value), ['{env="1"} 1.5']);
    const kept = await instant(db, 'label_replace(rate(a_total[2m]), "__name__", "r_$1", "__name__", "(.+)")', 2 * M, opts);
    assert.deepEqual(vectorLines(kept.value), ['{__name__="r_a_total", env="1"} 1']);
  });
});

describe('annotations', () => {
  const db = store({ 'gauge{}': [1, 2, 3] });

  test('are returned without and with positions', async () => {
    const res = await instant(db, 'sum(rate(gauge[5m]))', 2 * M);
    const msg = 'PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "gauge"';
    assert.deepEqual(res.infos, [msg]);
    assert.deepEqual(res.infosWithPosition, [`${msg} (1:10)`]);
    assert.deepEqual(res.warnings, []);
  });

  test('sorting in a range query is flagged as ineffective', async () => {
    const res = await range(db, 'sort(gauge)', 0, M, M);
    assert.deepEqual(res.warnings, ['PromQL warning: sort is ineffective for range queries since results are always ordered by labels']);
  });
});

describe('stats and the query-log hook', () => {
  const db = store({ 'z{}': [1, 2, 3, 4] });

  test('every execution is reported, with its error when it failed', async () => {
    const recs: QueryLogRecord[] = [];
    const ng = engine({ onQueryDone: (r) => recs.push(r), maxSamples: 2 });
    await ng.newRangeQuery(db, 'z', 0, M, M).exec({ origin: { httpRequest: { clientIP: '127.0.0.1', method: 'GET', path: '/api/v1/query_range' } } });
    await assert.rejects(ng.newRangeQuery(db, 'z', 0, 3 * M, M).exec(), EvalError);
    assert.equal(recs.length, 2);
    assert.deepEqual(recs[0]!.params, { query: 'z', start: 0, end: M, step: M });
    assert.deepEqual(recs[0]!.origin, { httpRequest: { clientIP: '127.0.0.1', method: 'GET', path: '/api/v1/query_range' } });
    assert.equal(recs[0]!.error, undefined);
    assert.equal(recs[0]!.stats.samples.totalQueryableSamples, 2);
    assert.equal(recs[1]!.error, 'query processing would load too many samples into memory in query execution');
    assert.deepEqual(recs[1]!.origin, {});
    for (const v of Object.values(recs[1]!.stats.timings)) assert.ok(v >= 0);
  });

  test('a query runs once', async () => {
    const q = engine().newInstantQuery(db, 'z', 0);
    await q.exec();
    await assert.rejects(q.exec(), { message: 'query already executed' });
  });

  test('per-step totals are reported when the feature and the query ask for them', async () => {
    const ng = engine({ features: new Set(['promql-per-step-stats']) });
    const q = ng.newRangeQuery(db, 'z', 0, 2 * M, M, { perStepStats: true });
    await q.exec();
    assert.deepEqual(q.stats().samples.totalQueryableSamplesPerStep, [
      [0, 1],
      [60, 1],
      [120, 1],
    ]);
    const plain = engine().newRangeQuery(db, 'z', 0, 2 * M, M, { perStepStats: true });
    await plain.exec();
    assert.equal(plain.stats().samples.totalQueryableSamplesPerStep, undefined);
  });
});

describe('yielding', () => {
  test('joins, set operations and aggregations over thousands of series let the event loop run while they are evaluated', async () => {
    const series: Record<string, number[]> = {};
    for (let i = 0; i < 5000; i++) {
      series[`a{i="${i}"}`] = [i, i];
      series[`b{i="${i}"}`] = [1, 2];
    }
    const db = store(series);
    const ng = engine({ yieldIntervalMs: 0 });
    for (const q of ['a * on(i) b', 'a and on(i) b', 'sum by (i) (a)', 'absent(a)']) {
      for (const [start, end] of [
        [M, M],
        [0, M],
      ] as const) {
        let turns = 0;
        let running = true;
        const spin = (): void => {
          turns++;
          if (running) setImmediate(spin);
        };
        setImmediate(spin);
        await ng.newRangeQuery(db, q, start, end, M).exec();
        running = false;
        assert.ok(turns >= 3, `${q} over [${start}, ${end}]: the event loop turned ${turns} times`);
      }
    }
  });
});

describe('parsed expression cache', () => {
  const db = store({
    'x{a="1"}': [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    'x{a="2"}': [10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
  });
  // Preparation rewrites @ and offsets, wraps step-invariant parts and resolves durations: on its own copy.
  const queries = [
    'x @ 120 offset 1m',
    'rate(x[2m] @ end())',
    'max_over_time(rate(x[1m])[3m:1m] offset 1m)',
    'sum by (a) (x offset -1m) + on(a) group_left x @ start()',
    'x[2m:1m]',
    'time() + 2 * 3 - vector(1)',
  ];

  test('a repeated query answers as a fresh engine does and its tree is never changed', async () => {
    const ng = engine();
    for (const q of queries) {
      const printed = exprToString(parseExpr(q));
      for (const t of [3 * M, 5 * M, 7 * M + 1]) {
        const cached = ng.newInstantQuery(db, q, t);
        const again = await cached.exec();
        const fresh = await engine().newInstantQuery(db, q, t).exec();
        assert.deepEqual(again.value, fresh.value, `${q} @ ${t}`);
        assert.equal(exprToString(cached.statement), printed, q);
      }
      if (q !== 'x[2m:1m]') {
        const a = await ng.newRangeQuery(db, q, 2 * M, 8 * M, M).exec();
        const b = await engine().newRangeQuery(db, q, 2 * M, 8 * M, M).exec();
        assert.deepEqual(a.value, b.value, `${q} range`);
      }
    }
    // The same string gives the same (shared, unchanged) tree.
    assert.equal(ng.newInstantQuery(db, queries[0]!, 0).statement, ng.newInstantQuery(db, queries[0]!, M).statement);
  });

  test('a query that fails to parse fails every time', () => {
    const ng = engine();
    assert.throws(() => ng.newInstantQuery(db, 'sum(', 0), ParseError);
    assert.throws(() => ng.newInstantQuery(db, 'sum(', 0), ParseError);
  });
});
