import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { STALE, _, instant, matrixLines, range, store, vectorLines } from './test_util.test.js';

const M = 60_000;
const db = store({
  'c_total{}': [0, 60, 120, 180, 0, 60, 120],
  'g{}': [1, 3, 2, 8, 4, 4, 5],
  's{}': [1, 2, STALE, 4, 5, _, 7],
});

describe('range windows', () => {
  test('are left-open: a sample exactly at the start is outside', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'count_over_time(g[2m])', 3 * M)).value), ['{} 2']);
    assert.deepEqual(vectorLines((await instant(db, 'sum_over_time(g[2m])', 3 * M)).value), ['{} 10']);
  });

  test('skip staleness markers', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'count_over_time(s[6m])', 6 * M)).value), ['{} 4']);
  });

  test('move with offset and stay fixed with @', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'max_over_time(g[2m] offset 3m)', 6 * M)).value), ['{} 8']);
    const res = await range(db, 'last_over_time(g[1m] @ 120)', 0, 2 * M, M);
    assert.deepEqual(matrixLines(res.value), ['{__name__="g"} 2@0 2@60 2@120']);
  });
});

describe('counter functions', () => {
  test('rate and increase correct resets and extrapolate', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'increase(c_total[3m])', 3 * M)).value), ['{} 180']);
    assert.deepEqual(vectorLines((await instant(db, 'rate(c_total[3m])', 3 * M)).value), ['{} 1']);
    assert.deepEqual(vectorLines((await instant(db, 'resets(c_total[6m])', 6 * M)).value), ['{} 1']);
    // The reset at 4m adds the 180 before it: (60 - 120 + 180) * 240s / 180s.
    assert.deepEqual(vectorLines((await instant(db, 'increase(c_total[4m])', 5 * M)).value), ['{} 160']);
    assert.deepEqual(vectorLines((await instant(db, 'increase(c_total[3m])', 6 * M)).value), ['{} 120']);
    assert.deepEqual(vectorLines((await instant(db, 'irate(c_total[3m])', 4 * M)).value), ['{} 0']);
  });

  test('rate on a non-counter name adds an info', async () => {
    const res = await instant(db, 'rate(g[5m])', 5 * M);
    assert.deepEqual(res.infos, ['PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "g"']);
    assert.deepEqual((await instant(db, 'rate(c_total[5m])', 5 * M)).infos, []);
  });
});

describe('gauge functions', () => {
  test('delta, idelta, deriv, predict_linear, changes', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'idelta(g[5m])', 3 * M)).value), ['{} 6']);
    assert.deepEqual(vectorLines((await instant(db, 'changes(g[10m])', 6 * M)).value), ['{} 5']);
    assert.deepEqual(vectorLines((await instant(db, 'deriv(c_total[3m])', 3 * M)).value), ['{} 1']);
    assert.deepEqual(vectorLines((await instant(db, 'predict_linear(c_total[3m], 60)', 3 * M)).value), ['{} 240']);
    assert.deepEqual(vectorLines((await instant(db, 'delta(g[3m])', 3 * M)).value), ['{} 7.5']);
  });

  test('*_over_time aggregates and quantiles', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'avg_over_time(g[10m])', 6 * M)).value), ['{} 3.857142857142857']);
    assert.deepEqual(vectorLines((await instant(db, 'quantile_over_time(0.5, g[10m])', 6 * M)).value), ['{} 4']);
    assert.deepEqual(vectorLines((await instant(db, 'min_over_time(g[10m])', 6 * M)).value), ['{} 1']);
    assert.deepEqual(vectorLines((await instant(db, 'present_over_time(g[1m])', 6 * M)).value), ['{} 1']);
    assert.deepEqual(vectorLines((await instant(db, 'last_over_time(g[10m])', 6 * M)).value), ['{__name__="g"} 5']);
    const bad = await instant(db, 'quantile_over_time(-1, g[10m])', 6 * M);
    assert.deepEqual(bad.warnings, ['PromQL warning: quantile value should be between 0 and 1, got -1']);
  });

  test('double_exponential_smoothing validates its factors', async () => {
    const opts = { features: new Set(['promql-experimental-functions']) };
    const ok = await instant(db, 'double_exponential_smoothing(g[10m], 0.5, 0.5)', 6 * M, opts);
    assert.equal(vectorLines(ok.value).length, 1);
    await assert.rejects(instant(db, 'double_exponential_smoothing(g[10m], 1, 0.5)', 6 * M, opts), {
      message: 'invalid smoothing factor. Expected: 0 < sf < 1, got: 1.000000',
    });
  });
});

describe('subqueries', () => {
  test('evaluate on their own step grid, aligned to multiples of the step', async () => {
    // At 5m30s a [2m:1m] subquery evaluates at 4m and 5m (3m30s is excluded, 3m is outside).
    assert.deepEqual(vectorLines((await instant(db, 'sum_over_time(g[2m:1m])', 5 * M + 30_000)).value), ['{} 8']);
    const m = await instant(db, 'g[2m:1m]', 5 * M + 30_000);
    assert.deepEqual(matrixLines(m.value), ['{__name__="g"} 4@240 4@300']);
  });

  test('use the default step when none is written', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'count_over_time(g[3m:])', 6 * M)).value), ['{} 3']);
  });

  test('nest inside range queries', async () => {
    const res = await range(db, 'max_over_time(rate(c_total[2m])[2m:1m])', 4 * M, 6 * M, M);
    assert.deepEqual(matrixLines(res.value), ['{} 1@240 0.5@300 1@360']);
  });
});

describe('steps longer than the window', () => {
  // One sample every 15s for 2h, with resets; steps of 10m only look at the windows around them.
  const points: number[] = [];
  for (let i = 0; i < 480; i++) points.push((i % 100) * 3 + (i % 7));
  const big = store({ 'w_total{}': points }, 15_000);

  for (const q of ['rate(w_total[1m])', 'max_over_time(w_total[2m] offset 1m)', 'w_total', 'w_total offset 30s', 'changes(w_total[1m])']) {
    test(`${q} over a range agrees with instant queries at each step`, async () => {
      const start = 5 * M;
      const step = 10 * M;
      const res = await range(big, q, start, 115 * M, step, { lookbackDeltaMs: 2 * M });
      const got = matrixLines(res.value);
      const want: string[] = [];
      const byMetric = new Map<string, string[]>();
      for (let t = start; t <= 115 * M; t += step) {
        const v = (await instant(big, q, t, { lookbackDeltaMs: 2 * M })).value;
        if (v.type !== 'vector') throw new Error('expected a vector');
        for (const s of v.samples) {
          const k = s.metric.toString();
          byMetric.set(k, [...(byMetric.get(k) ?? []), `${s.f}@${t / 1000}`]);
        }
      }
      for (const [k, pts] of byMetric) want.push(`${k} ${pts.join(' ')}`);
      assert.deepEqual(got, want);
    });
  }
});
