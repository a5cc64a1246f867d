import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { goPow } from './go_math.js';
import { instant, range, matrixLines, store, vectorLines } from './test_util.test.js';

const M = 60_000;
const db = store({
  'req{job="a", inst="1", code="200"}': [10, 20],
  'req{job="a", inst="1", code="500"}': [1, 2],
  'req{job="a", inst="2", code="200"}': [30, 40],
  'info{job="a", inst="1", version="v1"}': [1, 1],
  'info{job="a", inst="2", version="v2"}': [1, 1],
  'lim{job="a", inst="1"}': [15, 15],
});

const sorted = (lines: string[]): string[] => [...lines].sort();

test('goPow follows Go for the cases where JavaScript differs', () => {
  assert.equal(goPow(1, NaN), 1);
  assert.equal(goPow(-1, Infinity), 1);
  assert.equal(goPow(NaN, 0), 1);
  assert.ok(Number.isNaN(goPow(NaN, 2)));
  assert.equal(goPow(2, 10), 1024);
});

describe('scalar and vector operands', () => {
  test('arithmetic drops the name; comparisons filter unless bool', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'lim % 4', 0)).value), ['{inst="1", job="a"} 3']);
    assert.deepEqual(vectorLines((await instant(db, '2 ^ 3 - 1', 0)).value), ['scalar 7']);
    assert.deepEqual(vectorLines((await instant(db, 'lim > 20', 0)).value), []);
    assert.deepEqual(vectorLines((await instant(db, '20 > lim', 0)).value), ['{__name__="lim", inst="1", job="a"} 15']);
    assert.deepEqual(vectorLines((await instant(db, 'lim > bool 20', 0)).value), ['{inst="1", job="a"} 0']);
    assert.deepEqual(vectorLines((await instant(db, '-lim', 0)).value), ['{inst="1", job="a"} -15']);
  });
});

describe('vector matching', () => {
  test('one-to-one on labels keeps only those labels', async () => {
    const res = await instant(db, 'sum by (job, inst) (req) / on (job, inst) lim', 0);
    assert.deepEqual(vectorLines(res.value), ['{inst="1", job="a"} 0.7333333333333333']);
    const cmp = await instant(db, 'req > on (job, inst) group_left lim', 0);
    assert.deepEqual(vectorLines(cmp.value), []);
  });

  test('group_left copies labels from the one side', async () => {
    const res = await instant(db, 'req * on (job, inst) group_left (version) info', M);
    assert.deepEqual(sorted(vectorLines(res.value)), [
      '{code="200", inst="1", job="a", version="v1"} 20',
      '{code="200", inst="2", job="a", version="v2"} 40',
      '{code="500", inst="1", job="a", version="v1"} 2',
    ]);
  });

  test('group_right swaps the sides', async () => {
    const res = await instant(db, 'info * on (job, inst) group_right (version) req', 0);
    assert.equal(vectorLines(res.value).length, 3);
  });

  test('Prometheus errors for ambiguous matches', async () => {
    await assert.rejects(instant(db, 'req + on (job, inst) req', 0), {
      message:
        'found duplicate series for the match group {inst="1", job="a"} on the right hand-side of the operation: ' +
        '[{__name__="req", code="200", inst="1", job="a"}, {__name__="req", code="500", inst="1", job="a"}];' +
        'many-to-many matching not allowed: matching labels must be unique on one side',
    });
    const names = store({ 'a{x="1"}': [1], 'b{x="1"}': [2], 'one{x="1"}': [3] });
    await assert.rejects(instant(names, '{__name__=~"a|b"} + on (x) group_left one', 0), {
      message: 'multiple matches for labels: grouping labels must ensure unique matches',
    });
    await assert.rejects(instant(names, '{__name__=~"a|b"} + on (x) one', 0), {
      message: 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
    });
    await assert.rejects(instant(db, 'lim + on (job) info', 0), /found duplicate series for the match group \{job="a"\} on the right hand-side/);
  });

  test('set operators', async () => {
    assert.deepEqual(sorted(vectorLines((await instant(db, 'req and on (inst) lim', 0)).value)), [
      '{__name__="req", code="200", inst="1", job="a"} 10',
      '{__name__="req", code="500", inst="1", job="a"} 1',
    ]);
    assert.deepEqual(vectorLines((await instant(db, 'req unless on (inst) info', 0)).value), []);
    assert.equal(vectorLines((await instant(db, 'lim or info', 0)).value).length, 3);
    assert.equal(vectorLines((await instant(db, 'lim or on (job, inst) info', 0)).value).length, 2);
  });

  test('fill modifiers stand in for missing samples', async () => {
    const opts = { features: new Set(['promql-binop-fill-modifiers']) };
    const res = await instant(db, 'sum by (inst) (req) + on (inst) fill (0) sum by (inst) (lim)', 0, opts);
    assert.deepEqual(sorted(vectorLines(res.value)), ['{inst="1"} 26', '{inst="2"} 30']);
  });

  test('range evaluation matches series at every step', async () => {
    const res = await range(db, 'lim - on (inst) sum by (inst) (req)', 0, M, M);
    assert.deepEqual(matrixLines(res.value), ['{inst="1"} 4@0 -7@60']);
  });
});

describe('one-to-one on(...) results keyed by signature', () => {
  const jdb = store({
    '{__name__="x", i="1", j="p"}': [1, 2],
    '{__name__="y", i="2", j="p"}': [3, 4],
    '{__name__="x", i="1", j="q"}': [10, 20],
    '{__name__="y", i="2", j="q"}': [30, 40],
  });

  test('an on(...) list with the name keeps results apart while the name is kept, and collides when it is dropped', async () => {
    assert.deepEqual(matrixLines((await range(jdb, '{j="p"} < on(__name__, i) {j="q"}', 0, M, M)).value), ['{__name__="x", i="1"} 1@0 2@60', '{__name__="y", i="2"} 3@0 4@60']);
    await assert.rejects(range(jdb, '{j="p"} + on(__name__) {j="q"}', 0, M, M), { message: 'vector cannot contain metrics with the same labelset' });
  });
});
