import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FloatHistogram } from '../model/histogram.js';
import { Labels } from '../model/labels.js';
import { MatchType, Matcher } from '../model/matcher.js';
import { ValueType } from '../storage/interface.js';
import { RecordingRule } from './recording_rule.js';
import { group, ls, samples, storage } from './test_util.test.js';

const M = 60_000;

describe('RecordingRule', () => {
  it('records the result under its name with the rule labels', async () => {
    const db = storage({ 'x{job="a",i="1"}': '1 2 3', 'x{job="a",i="2"}': '10 20 30', 'x{job="b",i="1"}': '5 5 5' });
    const r = new RecordingRule('job:x:sum', 'sum by (job) (x)', ls('{team="t"}'));
    const { g } = group(db, [r]);
    await g.eval(M);
    assert.deepEqual(samples(db, '{__name__="job:x:sum"}'), [
      ['{__name__="job:x:sum", job="a", team="t"}', [[M, 22]]],
      ['{__name__="job:x:sum", job="b", team="t"}', [[M, 5]]],
    ]);
    assert.equal(r.health(), 'ok');
    assert.equal(r.lastError(), '');
    assert.equal(r.query(), 'sum by (job) (x)');
  });

  it('records native histogram results as histograms', async () => {
    const db = storage({});
    const app = db.appender();
    const h = new FloatHistogram({ count: 4, sum: 2, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [4] });
    app.appendHistogram!(0, ls('{__name__="h", i="1"}'), 0, null, h);
    app.appendHistogram!(0, ls('{__name__="h", i="2"}'), 0, null, h);
    app.commit();
    const { g } = group(db, [new RecordingRule('h:sum', 'sum(h)', Labels.EMPTY)]);
    await g.eval(M);
    const set = db.querier(0, 2 * M).select(false, null, Matcher.create(MatchType.Equal, '__name__', 'h:sum'));
    assert.ok(set.next());
    const it = set.at().iterator();
    assert.equal(it.next(), ValueType.FloatHistogram);
    assert.equal(it.atFloatHistogram!().count, 8);
  });

  it('turns a scalar into one sample and removes labels given an empty value', async () => {
    const db = storage({ 'x{job="a",i="1"}': '1' });
    const { g } = group(db, [new RecordingRule('one', '1', Labels.EMPTY), new RecordingRule('y', 'x', ls('{a="b"}'), ['i'])]);
    await g.eval(0);
    assert.deepEqual(samples(db, '{__name__=~"one|y"}'), [
      ['{__name__="one"}', [[0, 1]]],
      ['{__name__="y", a="b", job="a"}', [[0, 1]]],
    ]);
  });

  it('marks series stale when they disappear', async () => {
    const db = storage({ 'x{i="1"}': '1 1 1 1', 'x{i="2"}': '2 2 _ _' }, M);
    const r = new RecordingRule('y', 'x', Labels.EMPTY);
    const { g } = group(db, [r]);
    // Lookback is 5m: x{i="2"} vanishes from queries once its last sample is older.
    await g.eval(M);
    await g.eval(7 * M);
    assert.deepEqual(samples(db, 'y'), [
      ['{__name__="y", i="1"}', [[M, 1], [7 * M, 1]]],
      ['{__name__="y", i="2"}', [[M, 2], [7 * M, 'stale']]],
    ]);
  });

  it('fails on outputs with the same labels', async () => {
    const db = storage({ 'a{i="1"}': '1', 'b{i="1"}': '2' });
    const r = new RecordingRule('y', '{__name__=~"a|b"}', Labels.EMPTY);
    const { g } = group(db, [r]);
    await g.eval(0);
    assert.equal(r.health(), 'err');
    assert.equal(r.lastError(), 'vector contains metrics with the same labelset after applying rule labels');
    assert.deepEqual(samples(db, 'y'), []);
  });

  it('fails above the group limit', async () => {
    const db = storage({ 'x{i="1"}': '1', 'x{i="2"}': '2' });
    const r = new RecordingRule('y', 'x', Labels.EMPTY);
    const { g } = group(db, [r], { limit: 1 });
    await g.eval(0);
    assert.equal(r.lastError(), 'exceeded limit of 1 with 2 series');
    const ok = new RecordingRule('y', 'x', Labels.EMPTY);
    await group(db, [ok], { limit: 2 }).g.eval(0);
    assert.equal(ok.health(), 'ok');
  });

  it('reports a failing query and keeps evaluating the next rules', async () => {
    const db = storage({ 'x{i="1"}': '1' });
    const bad = new RecordingRule('bad', 'label_replace(x, "a", "$1", "i", "(")', Labels.EMPTY);
    const good = new RecordingRule('good', 'x', Labels.EMPTY);
    const { g } = group(db, [bad, good]);
    await g.eval(0);
    assert.equal(bad.health(), 'err');
    assert.equal(bad.lastError(), 'invalid regular expression in label_replace(): (');
    assert.equal(good.health(), 'ok');
    assert.equal(samples(db, 'good').length, 1);
  });

  it('queries at ts - query_offset and writes at that time', async () => {
    const db = storage({ 'x{i="1"}': '1 2 3' });
    const { g } = group(db, [new RecordingRule('y', 'x', Labels.EMPTY)], { queryOffsetMs: M });
    await g.eval(2 * M);
    assert.deepEqual(samples(db, 'y'), [['{__name__="y", i="1"}', [[M, 2]]]]);
  });
});
