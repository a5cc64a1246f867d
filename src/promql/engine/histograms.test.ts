import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatOpenMetricsFloat } from '../../gofmt/float.js';
import { instant, matrixLines, range, store, vectorLines } from './test_util.test.js';

const M = 60_000;
const db = store({
  'lat_bucket{job="a", le="0.1"}': [10, 20],
  'lat_bucket{job="a", le="1"}': [30, 60],
  'lat_bucket{job="a", le="+Inf"}': [40, 80],
  // Broken histogram: counts fall with the bound.
  'bad_bucket{job="b", le="1"}': [10],
  'bad_bucket{job="b", le="2"}': [5],
  'bad_bucket{job="b", le="+Inf"}': [20],
  'odd_bucket{le="x"}': [1],
});

describe('histogram_quantile on classic buckets', () => {
  test('interpolates inside the bucket holding the rank', async () => {
    const res = await instant(db, 'histogram_quantile(0.5, lat_bucket)', 0);
    assert.deepEqual(vectorLines(res.value), ['{job="a"} 0.55']);
    const r = await range(db, 'histogram_quantile(0.25, lat_bucket)', 0, M, M);
    assert.deepEqual(matrixLines(r.value), ['{job="a"} 0.1@0 0.1@60']);
  });

  test('fixes non-monotonic counts and says so', async () => {
    const res = await instant(db, 'histogram_quantile(0.5, bad_bucket)', 0);
    assert.deepEqual(vectorLines(res.value), ['{job="b"} 1']);
    assert.equal(res.infos.length, 1);
    assert.match(res.infos[0]!, /^PromQL info: input to histogram_quantile needed to be fixed for monotonicity/);
    assert.match(res.infosWithPosition![0]!, /from buckets 2 to 2, with a max diff of 5, over 1 samples from 1970-01-01T00:00:00Z to 1970-01-01T00:00:00Z \(1:25\)$/);
  });

  test('warns about malformed le labels and quantiles outside [0, 1]', async () => {
    const res = await instant(db, 'histogram_quantile(1.5, odd_bucket)', 0);
    assert.deepEqual(vectorLines(res.value), []);
    assert.deepEqual(res.warnings.sort(), [
      'PromQL warning: bucket label "le" is missing or has a malformed value of "x"',
      'PromQL warning: quantile value should be between 0 and 1, got 1.5',
    ]);
  });
});

test('histogram_fraction estimates the share of observations in a range', async () => {
  const res = await instant(db, 'histogram_fraction(0, 0.1, lat_bucket)', 0);
  assert.deepEqual(vectorLines(res.value), ['{job="a"} 0.25']);
});

test('histogram_quantiles labels each quantile', async () => {
  const res = await instant(db, 'histogram_quantiles(lat_bucket, "q", 0.25, 0.5)', 0, { features: new Set(['promql-experimental-functions']) });
  assert.deepEqual(vectorLines(res.value).sort(), ['{job="a", q="0.25"} 0.1', '{job="a", q="0.5"} 0.55']);
  assert.equal(formatOpenMetricsFloat(1), '1.0');
  assert.equal(formatOpenMetricsFloat(0.5), '0.5');
  assert.equal(formatOpenMetricsFloat(1e21), '1e+21');
});
