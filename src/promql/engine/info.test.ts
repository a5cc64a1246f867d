import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instant, store, vectorLines } from './test_util.test.js';

const F = { features: new Set(['promql-experimental-functions']) };
const db = store({
  'up{job="a", instance="1"}': [1, 1],
  'up{job="a", instance="2"}': [1, 1],
  'target_info{job="a", instance="1", region="eu", team="x"}': [1, 1],
  'build_info{job="a", instance="1", version="v1"}': [1, 1],
});

test('info() adds the data labels of target_info joined on instance and job', async () => {
  const res = await instant(db, 'info(up)', 60_000, F);
  assert.deepEqual(vectorLines(res.value).sort(), [
    '{__name__="up", instance="1", job="a", region="eu", team="x"} 1',
    '{__name__="up", instance="2", job="a"} 1',
  ]);
});

test('a label selector picks the info metric and the labels to add', async () => {
  const res = await instant(db, 'info(up, {__name__="build_info", version=~".+"})', 60_000, F);
  assert.deepEqual(vectorLines(res.value), ['{__name__="up", instance="1", job="a", version="v1"} 1']);
  const some = await instant(db, 'info(up, {team=~".+"})', 60_000, F);
  assert.deepEqual(vectorLines(some.value), ['{__name__="up", instance="1", job="a", team="x"} 1']);
});
