// Query stats as Prometheus reports them: totalQueryableSamples,
// samplesRead and peakSamples for the same data and queries as Prometheus's own engine tests
// (float series only), so `stats=all` and the query log agree with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../src/model/labels.js';
import { Engine } from '../src/promql/engine/engine.js';
import { MemoryStorage } from '../src/storage/memory.js';

function fixture(): MemoryStorage {
  const db = new MemoryStorage();
  const add = (ls: Labels): void => {
    const app = db.appender();
    for (let i = 0; i <= 100; i++) app.append(0, ls, i * 10_000, 1 + i);
    app.commit();
  };
  add(Labels.fromPairs('__name__', 'metricWith1SampleEvery10Seconds'));
  add(Labels.fromPairs('__name__', 'metricWith3SampleEvery10Seconds', 'a', '1', 'b', '1'));
  add(Labels.fromPairs('__name__', 'metricWith3SampleEvery10Seconds', 'a', '2', 'b', '2'));
  add(Labels.fromPairs('__name__', 'metricWith3SampleEvery10Seconds', 'a', '3', 'b', '2'));
  return db;
}

/** [query, start s, end s (null: instant), step s, totalQueryableSamples, peakSamples (0: not checked), samplesRead] */
const CASES: Array<[string, number, number | null, number | null, number, number, number]> = [
  ['"literal string"', 21, null, null, 0, 0, 0],
  ['1', 21, null, null, 0, 1, 0],
  ['metricWith1SampleEvery10Seconds', 21, null, null, 1, 1, 1],
  ['timestamp(metricWith1SampleEvery10Seconds)', 21, null, null, 1, 2, 1],
  ['metricWith1SampleEvery10Seconds', 22, null, null, 1, 1, 1],
  ['metricWith1SampleEvery10Seconds offset 10s', 21, null, null, 1, 1, 1],
  ['metricWith1SampleEvery10Seconds @ 15', 21, null, null, 1, 1, 1],
  ['metricWith3SampleEvery10Seconds{a="1"}', 21, null, null, 1, 1, 1],
  ['metricWith3SampleEvery10Seconds{a="1"} @ 19', 21, null, null, 1, 1, 1],
  ['metricWith3SampleEvery10Seconds{a="1"}[20s] @ 19', 21, null, null, 2, 2, 2],
  ['metricWith3SampleEvery10Seconds', 21, null, null, 3, 3, 3],
  ['metricWith1SampleEvery10Seconds[60s]', 201, null, null, 6, 6, 6],
  ['max_over_time(metricWith1SampleEvery10Seconds[60s])[20s:5s]', 201, null, null, 24, 10, 8],
  ['max_over_time(metricWith1SampleEvery10Seconds[61s])[20s:5s]', 201, null, null, 26, 11, 8],
  ['metricWith1SampleEvery10Seconds[60s] @ 30', 201, null, null, 4, 4, 4],
  ['sum(max_over_time(metricWith3SampleEvery10Seconds[60s] @ 30))', 201, null, null, 12, 7, 12],
  ['sum by (b) (max_over_time(metricWith3SampleEvery10Seconds[60s] @ 30))', 201, null, null, 12, 7, 12],
  ['metricWith1SampleEvery10Seconds[60s] offset 10s', 201, null, null, 6, 6, 6],
  ['metricWith3SampleEvery10Seconds[60s]', 201, null, null, 18, 18, 18],
  ['max_over_time(metricWith1SampleEvery10Seconds[60s])', 201, null, null, 6, 7, 6],
  ['absent_over_time(metricWith1SampleEvery10Seconds[60s])', 201, null, null, 6, 7, 6],
  ['max_over_time(metricWith3SampleEvery10Seconds[60s])', 201, null, null, 18, 9, 18],
  ['metricWith1SampleEvery10Seconds[60s:5s]', 201, null, null, 12, 12, 12],
  ['metricWith1SampleEvery10Seconds[60s:5s] offset 10s', 201, null, null, 12, 12, 12],
  ['max_over_time(metricWith3SampleEvery10Seconds[60s:5s])', 201, null, null, 36, 51, 36],
  ['sum(max_over_time(metricWith3SampleEvery10Seconds[60s:5s])) + sum(max_over_time(metricWith3SampleEvery10Seconds[60s:5s]))', 201, null, null, 72, 52, 72],
  ['metricWith3SampleEvery10Seconds{a="1"}', 201, 220, 5, 4, 4, 4],
  ['metricWith3SampleEvery10Seconds{a="1"}', 204, 223, 5, 4, 4, 4],
  ['timestamp(metricWith1SampleEvery10Seconds)', 201, 220, 5, 4, 5, 4],
  ['max_over_time(metricWith3SampleEvery10Seconds{a="1"}[10s])', 991, 1021, 10, 2, 2, 2],
  ['metricWith3SampleEvery10Seconds{a="1"} offset 10s', 201, 220, 5, 4, 4, 4],
  ['max_over_time(metricWith3SampleEvery10Seconds[60s] @ 30)', 201, 220, 5, 48, 12, 12],
  ['metricWith3SampleEvery10Seconds', 201, 220, 5, 12, 12, 12],
  ['max_over_time(metricWith3SampleEvery10Seconds[60s])', 201, 220, 5, 72, 18, 21],
  ['max_over_time(metricWith3SampleEvery10Seconds[60s:5s])', 201, 220, 5, 144, 69, 45],
  ['max_over_time(metricWith1SampleEvery10Seconds[60s:5s])', 201, 220, 5, 48, 31, 15],
  ['sum by (b) (max_over_time(metricWith1SampleEvery10Seconds[60s:5s]))', 201, 220, 5, 48, 31, 15],
  ['sum(max_over_time(metricWith3SampleEvery10Seconds[60s:5s])) + sum(max_over_time(metricWith3SampleEvery10Seconds[60s:5s]))', 201, 220, 5, 288, 73, 90],
  ['sum(max_over_time(metricWith3SampleEvery10Seconds[60s:5s])) + sum(max_over_time(metricWith1SampleEvery10Seconds[60s:5s]))', 201, 220, 5, 192, 69, 60],
  ['max_over_time(metricWith1SampleEvery10Seconds[20s:10s])', 201, null, null, 2, 5, 2],
  ['sum_over_time(metricWith1SampleEvery10Seconds[30s:30s])', 90, null, null, 1, 3, 1],
  ['max_over_time(metricWith1SampleEvery10Seconds[30s:2m])', 240, null, null, 1, 3, 1],
  ['max_over_time(metricWith1SampleEvery10Seconds[30s:10s])', 201, 231, 30, 6, 11, 6],
  ['max_over_time(metricWith1SampleEvery10Seconds[20s:10s])', 201, 261, 10, 14, 17, 8],
  ['max_over_time(metricWith1SampleEvery10Seconds[30s:10s])', 201, 261, 60, 6, 14, 6],
  ['max_over_time(metricWith3SampleEvery10Seconds[60s:10s])', 200, 400, 30, 126, 99, 72],
  ['predict_linear(metricWith1SampleEvery10Seconds[60s] @ 100, 60)', 100, 300, 100, 18, 12, 6],
  ['sum_over_time(metricWith3SampleEvery10Seconds[20s:10s] @ 200)', 250, null, null, 6, 11, 6],
  ['sum_over_time(metricWith1SampleEvery10Seconds[20s:10s] offset 1m)', 240, null, null, 2, 5, 2],
  ['sum_over_time(metricWith3SampleEvery10Seconds[1m:10s] @ 200 offset 1m)', 300, null, null, 18, 27, 18],
  ['sum_over_time(max_over_time(metricWith3SampleEvery10Seconds[60s] @ 300)[5m:1m] @ 600)[10m:2m]', 800, null, null, 75, 23, 18],
  ['rate(sum_over_time(metricWith1SampleEvery10Seconds[30s])[1m:30s])', 240, null, null, 2, 5, 6],
];

test('sample stats match Prometheus for instant and range queries', async () => {
  const db = fixture();
  const engine = new Engine({ noStepSubqueryIntervalMs: 60_000, features: new Set(['promql-delayed-name-removal']) });
  for (const [q, start, end, step, total, peak, read] of CASES) {
    const query = end === null ? engine.newInstantQuery(db, q, start * 1000) : engine.newRangeQuery(db, q, start * 1000, end * 1000, step! * 1000);
    await query.exec();
    const s = query.stats().samples;
    const where = `${q} @ ${start}${end === null ? '' : `..${end} step ${step}`}`;
    assert.equal(s.totalQueryableSamples, total, `totalQueryableSamples of ${where}`);
    if (peak > 0) assert.equal(s.peakSamples, peak, `peakSamples of ${where}`);
    assert.equal(s.samplesRead, read, `samplesRead of ${where}`);
  }
});
