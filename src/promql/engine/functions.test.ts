import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { absentLabels } from './absent.js';
import { natLess } from './functions.js';
import { parseExpr } from '../parser/parser.js';
import { _, engine, instant, range, matrixLines, store, vectorLines } from './test_util.test.js';

const M = 60_000;
const db = store({
  'm{i="a"}': [1.4, 2.5, -3.5, 4],
  'm{i="b"}': [10, 20, 30, 40],
  't{}': [1_700_000_000, 86_400 * 59, 0, 951_782_400],
});

describe('element-wise functions', () => {
  test('math drops the name and maps values', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'abs(m)', 2 * M)).value), ['{i="a"} 3.5', '{i="b"} 30']);
    assert.deepEqual(vectorLines((await instant(db, 'round(m)', 2 * M)).value), ['{i="a"} -3', '{i="b"} 30']);
    assert.deepEqual(vectorLines((await instant(db, 'round(m, 5)', M)).value), ['{i="a"} 5', '{i="b"} 20']);
    assert.deepEqual(vectorLines((await instant(db, 'sgn(m)', 2 * M)).value), ['{i="a"} -1', '{i="b"} 1']);
  });

  test('clamp limits values and yields nothing when max < min', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'clamp(m, 0, 25)', M)).value), ['{i="a"} 2.5', '{i="b"} 20']);
    assert.deepEqual(vectorLines((await instant(db, 'clamp(m, 5, 1)', M)).value), []);
    assert.deepEqual(vectorLines((await instant(db, 'clamp_max(m, 3)', M)).value), ['{i="a"} 2.5', '{i="b"} 3']);
  });

  test('date functions read the value as Unix seconds, or the evaluation time without argument', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'year(t)', 0)).value), ['{} 2023']);
    assert.deepEqual(vectorLines((await instant(db, 'day_of_year(t)', M)).value), ['{} 60']);
    assert.deepEqual(vectorLines((await instant(db, 'days_in_month(t)', 3 * M)).value), ['{} 29']);
    assert.deepEqual(vectorLines((await instant(db, 'hour()', 3_600_000 * 5)).value), ['{} 5']);
  });

  test('timestamp() of a selector reports the sample time, of other expressions the step', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'timestamp(m{i="a"})', M + 30_000)).value), ['{i="a"} 60']);
    assert.deepEqual(vectorLines((await instant(db, 'timestamp(abs(m{i="a"}))', M + 30_000)).value), ['{i="a"} 90']);
  });
});

describe('vector functions', () => {
  test('scalar(), vector(), time()', async () => {
    assert.deepEqual((await instant(db, 'scalar(m{i="b"})', M)).value, { type: 'scalar', t: M, v: 20 });
    assert.deepEqual((await instant(db, 'scalar(m)', M)).value, { type: 'scalar', t: M, v: NaN });
    assert.deepEqual(vectorLines((await instant(db, 'vector(time())', 90_000)).value), ['{} 90']);
  });

  test('absent() reports the labels fixed by equality matchers', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'absent(nope{job="x", inst=~"y"})', 0)).value), ['{job="x"} 1']);
    assert.deepEqual(vectorLines((await instant(db, 'absent(m)', 0)).value), []);
    assert.equal(absentLabels(parseExpr('x{a="1", a="2", b="3"}')).toString(), '{b="3"}');
    assert.deepEqual(matrixLines((await range(db, 'absent_over_time(m{i="a"}[1m])', 0, 6 * M, 2 * M)).value), ['{i="a"} 1@240 1@360']);
  });

  test('sort_by_label orders naturally, then by all labels', async () => {
    const d = store({ 'n{v="x10"}': [1], 'n{v="x9"}': [1], 'n{v="x08", w="1"}': [1], 'n{v="y"}': [1] });
    assert.deepEqual(vectorLines((await instant(d, 'sort_by_label(n, "v")', 0, { features: new Set(['promql-experimental-functions']) })).value).map((l) => l.slice(0, l.lastIndexOf(' '))), [
      '{__name__="n", v="x08", w="1"}',
      '{__name__="n", v="x9"}',
      '{__name__="n", v="x10"}',
      '{__name__="n", v="y"}',
    ]);
    assert.ok(natLess('a2', 'a10'));
    assert.ok(!natLess('a10', 'a2'));
    assert.ok(natLess('', 'a'));
  });

  test('sort puts NaN last in both directions', async () => {
    const d = store({ 's{k="1"}': [NaN], 's{k="2"}': [3], 's{k="3"}': [1] });
    assert.deepEqual(vectorLines((await instant(d, 'sort(s)', 0)).value).map((l) => l.slice(l.lastIndexOf(' ') + 1)), ['1', '3', 'NaN']);
    assert.deepEqual(vectorLines((await instant(d, 'sort_desc(s)', 0)).value).map((l) => l.slice(l.lastIndexOf(' ') + 1)), ['3', '1', 'NaN']);
  });
});

describe('label_replace and label_join', () => {
  test('replace on a full match only, and fail on bad input', async () => {
    const res = await instant(db, 'label_replace(m, "j", "v-$1", "i", "(a)")', 0);
    assert.deepEqual(vectorLines(res.value), ['{__name__="m", i="a", j="v-a"} 1.4', '{__name__="m", i="b"} 10']);
    await assert.rejects(instant(db, 'label_replace(m, "j", "", "i", "(")', 0), { message: 'invalid regular expression in label_replace(): (' });
    await assert.rejects(instant(db, 'label_replace(m, "", "", "i", ".*")', 0), { message: 'invalid destination label name in label_replace(): ' });
    await assert.rejects(instant(db, 'label_replace(m, "i", "", "i", ".*")', 0), { message: 'vector cannot contain metrics with the same labelset' });
  });

  test('join concatenates source values', async () => {
    const res = await instant(db, 'label_join(m{i="a"}, "j", "-", "__name__", "i", "none")', 0);
    assert.deepEqual(vectorLines(res.value), ['{__name__="m", i="a", j="m-a-"} 1.4']);
  });
});

describe('absent over a selector', () => {
  const gaps = store({ 'g{i="a"}': [1, _, _, _, _, _, _, 2, _, _], 'g{i="b"}': [_, _, 3, _, _, _, _, _, _, _] });

  test('counts instead of building the series, with the result and statistics of the general path', async () => {
    for (const [start, end] of [
      [0, 9 * M],
      [4 * M, 4 * M],
      [20 * M, 20 * M],
    ] as const) {
      const fast = engine().newRangeQuery(gaps, 'absent(g)', start, end, M);
      const general = engine().newRangeQuery(gaps, 'absent((g))', start, end, M);
      const a = await fast.exec();
      const b = await general.exec();
      assert.deepEqual(matrixLines(a.value), matrixLines(b.value));
      assert.deepEqual(fast.stats().samples, general.stats().samples);
    }
  });

  test('fails on the sample limit where the general path does', async () => {
    for (const maxSamples of [1, 4, 8]) {
      const fast = range(gaps, 'absent(g{i="a"})', 0, 9 * M, M, { maxSamples }).then(() => 'ok', (e: Error) => e.message);
      const general = range(gaps, 'absent((g{i="a"}))', 0, 9 * M, M, { maxSamples }).then(() => 'ok', (e: Error) => e.message);
      assert.equal(await fast, await general);
    }
  });
});

