import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../../model/labels.js';
import { groupingKey, groupingLabels } from './aggregations.js';
import { instant, matrixLines, range, store, vectorLines } from './test_util.test.js';

const M = 60_000;
const db = store({
  'r{job="a", i="1"}': [1, 2, 3],
  'r{job="a", i="2"}': [5, 6, 7],
  'r{job="b", i="1"}': [10, NaN, 30],
  'r{job="b", i="2"}': [10, 40, 20],
});

const EXP = { features: new Set(['promql-experimental-functions']) };
const sorted = (lines: string[]): string[] => [...lines].sort();

describe('grouping', () => {
  test('by keeps the listed labels, without drops them and the name', () => {
    const ls = Labels.fromPairs('__name__', 'r', 'job', 'a', 'i', '1');
    assert.equal(groupingLabels(ls, ['job'], false).toString(), '{job="a"}');
    assert.equal(groupingLabels(ls, ['i'], true).toString(), '{job="a"}');
    assert.equal(groupingLabels(ls, [], false).toString(), '{}');
    assert.equal(groupingKey(ls, ['i'], true), groupingKey(Labels.fromPairs('job', 'a', 'i', '2'), ['i'], true));
  });
});

describe('aggregations', () => {
  test('sum, avg, count, min, max, group, stddev, stdvar', async () => {
    assert.deepEqual(sorted(vectorLines((await instant(db, 'sum by (job) (r)', 0)).value)), ['{job="a"} 6', '{job="b"} 20']);
    assert.deepEqual(vectorLines((await instant(db, 'avg(r)', 0)).value), ['{} 6.5']);
    assert.deepEqual(vectorLines((await instant(db, 'count without (i) (r)', 0)).value), ['{job="a"} 2', '{job="b"} 2']);
    assert.deepEqual(vectorLines((await instant(db, 'max(r)', M)).value), ['{} 40']);
    assert.deepEqual(vectorLines((await instant(db, 'min by (job) (r)', M)).value), ['{job="a"} 2', '{job="b"} 40']);
    assert.deepEqual(vectorLines((await instant(db, 'group by (i) (r)', 0)).value), ['{i="1"} 1', '{i="2"} 1']);
    assert.deepEqual(vectorLines((await instant(db, 'stdvar by (job) (r)', 0)).value), ['{job="a"} 4', '{job="b"} 0']);
    assert.deepEqual(vectorLines((await instant(db, 'stddev by (job) (r)', 0)).value), ['{job="a"} 2', '{job="b"} 0']);
  });

  test('quantile interpolates and warns about a parameter outside [0, 1]', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'quantile(0.5, r)', 0)).value), ['{} 7.5']);
    const res = await instant(db, 'quantile(2, r)', 0);
    assert.deepEqual(vectorLines(res.value), ['{} Infinity']);
    assert.deepEqual(res.warnings, ['PromQL warning: quantile value should be between 0 and 1, got 2']);
  });

  test('count_values counts equal values under a new label', async () => {
    const res = await instant(db, 'count_values by (job) ("v", r)', 0);
    assert.deepEqual(sorted(vectorLines(res.value)), ['{job="a", v="1"} 1', '{job="a", v="5"} 1', '{job="b", v="10"} 2']);
    await assert.rejects(instant(db, 'count_values("", r)', 0), { message: 'invalid label name ""' });
  });

  test('count_values by: -0 and 0 are distinct values, NaN is one, and the count label replaces an input label', async () => {
    const zdb = store({
      'z{job="a", i="1"}': [0, -0, NaN],
      'z{job="a", i="2"}': [-0, -0, NaN],
      'z{job="b", i="1"}': [0, 0, 1],
    });
    const by = (await range(zdb, 'count_values by (job) ("v", z)', 0, 2 * M, M)).value;
    // The without form groups the same series by the generic path.
    assert.deepEqual(sorted(matrixLines(by)), sorted(matrixLines((await range(zdb, 'count_values without (i) ("v", z)', 0, 2 * M, M)).value)));
    assert.deepEqual(sorted(matrixLines(by)), [
      '{job="a", v="-0"} 1@0 2@60',
      '{job="a", v="0"} 1@0',
      '{job="a", v="NaN"} 2@120',
      '{job="b", v="0"} 1@0 1@60',
      '{job="b", v="1"} 1@120',
    ]);
    assert.deepEqual(sorted(vectorLines((await instant(zdb, 'count_values by (job) ("job", z)', 0)).value)), ['{job="-0"} 1', '{job="0"} 2']);
  });

  test('topk and bottomk order instant results and keep the input labels', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'topk(2, r)', 2 * M)).value), ['{__name__="r", i="1", job="b"} 30', '{__name__="r", i="2", job="b"} 20']);
    assert.deepEqual(vectorLines((await instant(db, 'bottomk by (job) (1, r)', M)).value), [
      '{__name__="r", i="1", job="a"} 2',
      '{__name__="r", i="2", job="b"} 40',
    ]);
    // NaN counts as the smallest value for topk.
    assert.deepEqual(vectorLines((await instant(db, 'topk(4, r{job="b"})', M)).value), ['{__name__="r", i="2", job="b"} 40', '{__name__="r", i="1", job="b"} NaN']);
  });

  test('topk over a range keeps each series at the steps where it ranked', async () => {
    const res = await range(db, 'topk(1, r{job="a"} or r{job="b", i="2"})', 0, 2 * M, M);
    assert.deepEqual(matrixLines(res.value), ['{__name__="r", i="2", job="b"} 10@0 40@60 20@120']);
  });

  test('parameter checks', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'topk(0, r)', 0)).value), []);
    await assert.rejects(instant(db, 'topk(scalar(nope), r)', 0), { message: 'Parameter value is NaN' });
    await assert.rejects(instant(db, 'limitk(1e19, r)', 0, EXP), { message: 'Scalar value 1e+19 overflows int64' });
    await assert.rejects(instant(db, 'limit_ratio(scalar(nope), r)', 0, EXP), { message: 'Ratio value is NaN' });
    const capped = await instant(db, 'count(limit_ratio(1.5, r))', 0, EXP);
    assert.deepEqual(vectorLines(capped.value), ['{} 4']);
    assert.deepEqual(capped.warnings, ['PromQL warning: ratio value should be between -1 and 1, got 1.5, capping to 1']);
  });

  test('limit_ratio picks complementary, stable subsets', async () => {
    const a = vectorLines((await instant(db, 'limit_ratio(0.5, r)', 0, EXP)).value);
    const b = vectorLines((await instant(db, 'limit_ratio(-0.5, r)', 0, EXP)).value);
    assert.equal(a.length + b.length, 4);
    assert.deepEqual(sorted([...a, ...b]), sorted(vectorLines((await instant(db, 'r', 0)).value)));
    assert.deepEqual(vectorLines((await instant(db, 'limit_ratio(0.5, r)', 0, EXP)).value), a);
    assert.equal(vectorLines((await instant(db, 'limitk by (job) (1, r)', 0, EXP)).value).length, 2);
  });
});

describe('range aggregations read series by series', () => {
  // Gaps, NaN, infinities and values whose sum overflows, so every op's special cases are met.
  const values: Array<number | null> = [1, null, 3, NaN, 1e308, 1e308, -Infinity, 0.1, 0.7, null];
  const series: Record<string, Array<number | null>> = {};
  for (let i = 0; i < 60; i++) series[`v{g="${i % 7}", i="${i}"}`] = values.map((v, k) => (v === null || (i + k) % 5 === 0 ? null : v === 1 ? i + k / 3 : v));
  const vdb = store(series);

  for (const op of ['sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar']) {
    test(`${op}: every step equals the instant evaluation at that time`, async () => {
      const q = `${op} by (g) (v)`;
      const r = (await range(vdb, q, 0, 9 * M, M)).value;
      assert.equal(r.type, 'matrix');
      const got = new Map<string, number>();
      if (r.type === 'matrix') for (const s of r.series) s.ts.forEach((t, j) => got.set(`${s.metric.toString()}@${t}`, s.fs[j]!));
      let points = 0;
      for (let k = 0; k <= 9; k++) {
        const v = (await instant(vdb, q, k * M)).value;
        assert.equal(v.type, 'vector');
        if (v.type !== 'vector') continue;
        for (const s of v.samples) {
          assert.ok(Object.is(got.get(`${s.metric.toString()}@${k * M}`), s.f), `${s.metric.toString()} at step ${k}`);
          points++;
        }
      }
      assert.equal(points, got.size);
    });
  }

  test('more groups than one block of cells holds: the steps are folded a few at a time', async () => {
    const many: Record<string, number[]> = {};
    for (let i = 0; i < 30_000; i++) many[`w{i="${i}"}`] = [i, i + 1, i + 2, i + 3, i + 4];
    const wdb = store(many);
    const r = (await range(wdb, 'sum by (i) (w) + 0', 0, 4 * M, M)).value;
    assert.equal(r.type, 'matrix');
    if (r.type !== 'matrix') return;
    assert.equal(r.series.length, 30_000);
    for (const s of r.series) {
      const i = Number(s.metric.get('i'));
      assert.deepEqual([...s.fs], [i, i + 1, i + 2, i + 3, i + 4]);
    }
  });
});
