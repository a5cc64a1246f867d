import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Labels } from '../model/labels.js';
import { AlertingRule } from './alerting_rule.js';
import { RecordingRule } from './recording_rule.js';
import { group, ls, samples, storage } from './test_util.test.js';

const M = 60_000;

describe('Group', () => {
  it('slots evaluations at a stable offset inside the interval', () => {
    const { g } = group(storage({}), []);
    const base = g.evalTimestamp(0);
    for (const t of [1, 59_999, 60_000, 1_700_000_123_456]) {
      const s = g.evalTimestamp(t);
      assert.ok(s <= t && t < s + M, `slot of ${t}`);
      assert.equal((((s - base) % M) + M) % M, 0);
    }
  });

  it('lists alerting rules firing first, then pending, then by name', async () => {
    const db = storage({ 'up{job="a"}': '0', 'x{}': '1' });
    const rules = [
      new AlertingRule({ name: 'C', expr: 'up == 1' }),
      new AlertingRule({ name: 'B', expr: 'up == 0', holdDurationMs: M }),
      new RecordingRule('r', 'x', Labels.EMPTY),
      new AlertingRule({ name: 'A', expr: 'up == 1' }),
      new AlertingRule({ name: 'D', expr: 'up == 0' }),
    ];
    const { g } = group(db, rules);
    await g.eval(0);
    assert.deepEqual(
      g.alertingRules().map((r) => `${r.name()}:${r.state()}`),
      ['D:firing', 'B:pending', 'A:inactive', 'C:inactive'],
    );
    assert.equal(g.hasAlertingRules(), true);
  });

  it('copies state by rule name and labels, duplicates in order, and marks series of dropped rules stale', async () => {
    const db = storage({ 'x{i="1"}': '1 1 1', 'up{job="a"}': '0 0 0' });
    const old = group(db, [
      new RecordingRule('a', 'x', ls('{n="1"}')),
      new RecordingRule('a', 'x * 2', ls('{n="1"}')),
      new AlertingRule({ name: 'A', expr: 'up == 0', holdDurationMs: 5 * M }),
      new RecordingRule('gone', 'x', Labels.EMPTY),
    ]).g;
    await old.eval(0);
    const alert = new AlertingRule({ name: 'A', expr: 'up == 0', holdDurationMs: 5 * M });
    const next = group(db, [new RecordingRule('a', 'x', ls('{n="1"}')), alert]).g;
    next.copyState(old);
    assert.equal(alert.activeAlerts()[0]!.activeAt, 0);
    await next.eval(M);
    assert.deepEqual(samples(db, 'gone'), [['{__name__="gone", i="1"}', [[0, 1], [M, 'stale']]]]);
    // Both rules named `a` wrote one series; the unmatched second one's is marked stale after the first wrote it.
    assert.deepEqual(samples(db, 'a'), [['{__name__="a", i="1", n="1"}', [[0, 1], [M, 1]]]]);
  });
});
