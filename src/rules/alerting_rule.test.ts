import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Labels } from '../model/labels.js';
import { STALE_NAN } from '../model/value.js';
import { MemoryStorage } from '../storage/memory.js';
import { AlertingRule, RESOLVED_RETENTION_MS } from './alerting_rule.js';
import { group, ls, recordingLogger, samples, storage } from './test_util.test.js';

const M = 60_000;

function rule(o: Partial<ConstructorParameters<typeof AlertingRule>[0]> = {}): AlertingRule {
  return new AlertingRule({ name: 'A', expr: 'up == 0', ...o });
}

describe('AlertingRule', () => {
  it('goes pending, fires after `for`, resolves, and writes ALERTS and ALERTS_FOR_STATE', async () => {
    const db = storage({ 'up{job="a"}': '0 0 0 0 1 1' });
    const r = rule({ holdDurationMs: 2 * M, labels: ls('{severity="page"}') });
    const { g } = group(db, [r]);
    assert.equal(r.state(), 'unknown');
    const states: string[] = [];
    for (let t = 0; t <= 4 * M; t += M) {
      await g.eval(t);
      states.push(r.state());
    }
    assert.deepEqual(states, ['pending', 'pending', 'firing', 'firing', 'inactive']);
    assert.deepEqual(samples(db, 'ALERTS'), [
      ['{__name__="ALERTS", alertname="A", alertstate="firing", job="a", severity="page"}', [[2 * M, 1], [3 * M, 1], [4 * M, 'stale']]],
      ['{__name__="ALERTS", alertname="A", alertstate="pending", job="a", severity="page"}', [[0, 1], [M, 1], [2 * M, 'stale']]],
    ]);
    assert.deepEqual(samples(db, 'ALERTS_FOR_STATE'), [
      ['{__name__="ALERTS_FOR_STATE", alertname="A", job="a", severity="page"}', [[0, 0], [M, 0], [2 * M, 0], [3 * M, 0], [4 * M, 'stale']]],
    ]);
    assert.deepEqual(r.activeAlerts(), []);
    const [a] = r.currentAlerts();
    assert.equal(a!.state, 'inactive');
    assert.equal(a!.activeAt, 0);
    assert.equal(a!.firedAt, 2 * M);
    assert.equal(a!.resolvedAt, 4 * M);
    assert.equal(a!.labels.toString(), '{alertname="A", job="a", severity="page"}');
  });

  it('keeps resolved alerts for 15 minutes, and a new activation starts over', async () => {
    const db = storage({ 'up{job="a"}': '0 1' });
    const r = rule();
    const { g } = group(db, [r]);
    await g.eval(0);
    assert.equal(r.state(), 'firing');
    await g.eval(M);
    await g.eval(M + RESOLVED_RETENTION_MS);
    assert.equal(r.currentAlerts().length, 1);
    await g.eval(2 * M + RESOLVED_RETENTION_MS);
    assert.equal(r.currentAlerts().length, 0);

    const db2 = storage({ 'up{job="a"}': '0 1 0' });
    const r2 = rule();
    const g2 = group(db2, [r2]).g;
    for (const t of [0, M, 2 * M]) await g2.eval(t);
    const [a] = r2.activeAlerts();
    assert.equal(a!.state, 'firing');
    assert.equal(a!.activeAt, 2 * M);
    assert.equal(a!.resolvedAt, 0);
  });

  it('keeps firing for keep_firing_for after the condition ends', async () => {
    const db = storage({ 'up{job="a"}': '0 1 1 1 1' });
    const r = rule({ keepFiringForMs: 2 * M });
    const { g } = group(db, [r]);
    await g.eval(0);
    await g.eval(M);
    let [a] = r.activeAlerts();
    assert.equal(a!.state, 'firing');
    assert.equal(a!.keepFiringSince, M);
    await g.eval(2 * M);
    assert.equal(r.state(), 'firing');
    await g.eval(3 * M);
    assert.equal(r.state(), 'inactive');
    [a] = r.currentAlerts();
    assert.equal(a!.resolvedAt, 3 * M);
  });

  it('sends firing and resolved alerts, re-sending after the resend delay', async () => {
    const db = storage({ 'up{job="a"}': '0 0 0 0 1 1 1' });
    const r = rule({ holdDurationMs: 2 * M });
    const { g, sent } = group(db, [r], { resendDelayMs: M, intervalMs: M });
    const at: Array<[number, string[]]> = [];
    for (let t = 0; t <= 6 * M; t += M) {
      const before = sent.length;
      await g.eval(t);
      at.push([t, sent.slice(before).flatMap((s) => s.alerts.map((a) => a.state))]);
    }
    assert.deepEqual(at, [
      [0, []],
      [M, []],
      [2 * M, ['firing']],
      [3 * M, []],
      [4 * M, ['inactive']],
      [5 * M, []],
      [6 * M, ['inactive']],
    ]);
    assert.equal(sent[0]!.expr, 'up == 0');
    const firing = sent[0]!.alerts[0]!;
    assert.equal(firing.firedAt, 2 * M);
    assert.equal(firing.lastSentAt, 2 * M);
    assert.equal(firing.validUntil, 6 * M);
    assert.equal(sent[1]!.alerts[0]!.resolvedAt, 4 * M);
  });

  it('uses the larger of resend delay and interval for validUntil', async () => {
    const db = storage({ 'up{job="a"}': '0' });
    const r = rule();
    const { g, sent } = group(db, [r], { resendDelayMs: M, intervalMs: 5 * M });
    await g.eval(0);
    assert.equal(sent[0]!.alerts[0]!.validUntil, 20 * M);
  });

  it('fails on alerts with the same labels and above the limit', async () => {
    const db = storage({ 'a{i="1"}': '0', 'b{i="1"}': '0', 'up{i="1"}': '0', 'up{i="2"}': '0' });
    const dup = rule({ expr: '{__name__=~"a|b"}' });
    const lim = rule({ name: 'L' });
    const { g } = group(db, [dup, lim], { limit: 1 });
    await g.eval(0);
    assert.equal(dup.lastError(), 'vector contains metrics with the same labelset after applying alert labels');
    assert.equal(lim.lastError(), 'exceeded limit of 1 with 2 alerts');
    assert.equal(lim.activeAlertsCount(), 0);
    assert.deepEqual(samples(db, 'ALERTS'), []);
  });

  it('queries and writes ALERTS at ts - query_offset, activeAt staying ts', async () => {
    const db = storage({ 'up{job="a"}': '1 0 1' });
    const r = rule();
    await group(db, [r], { queryOffsetMs: M }).g.eval(2 * M);
    assert.deepEqual(
      samples(db, 'ALERTS').map(([, p]) => p),
      [[[M, 1]]],
    );
    assert.equal(r.activeAlerts()[0]!.activeAt, 2 * M);
  });

  it('writes no ALERTS before the for state was restored', async () => {
    const db = storage({ 'up{job="a"}': '0' });
    const r = rule({ restored: false });
    await group(db, [r]).g.eval(0);
    assert.equal(r.state(), 'firing');
    assert.deepEqual(samples(db, 'ALERTS'), []);
  });

  it('handles 10k alerts from one rule', async () => {
    const db = new MemoryStorage();
    const app = db.appender();
    for (let i = 0; i < 10_000; i++) app.append(0, Labels.fromPairs('__name__', 'x', 'i', String(i)), 0, 1);
    app.commit();
    const r = rule({ expr: 'x > 0', annotations: ls('{summary="x is up"}') });
    const { g, sent } = group(db, [r]);
    await g.eval(0);
    await g.eval(M);
    assert.equal(r.health(), 'ok');
    assert.equal(r.activeAlerts().length, 10_000);
    assert.equal(sent[0]!.alerts.length, 10_000);
    assert.equal(samples(db, 'ALERTS').length, 10_000);
    assert.equal(samples(db, 'ALERTS_FOR_STATE').length, 10_000);
    // Alerts without templates share one annotations value.
    const [a, b] = r.activeAlerts();
    assert.equal(a!.annotations, b!.annotations);
  });

  it('expands label and annotation templates per alert', async () => {
    const db = storage({ 'up{job="a",instance="h:1"}': '0', 'other{}': '7' });
    const r = rule({
      labels: ls('{severity="{{ if eq $labels.job \\"a\\" }}page{{ else }}ticket{{ end }}"}'),
      annotations: ls(
        '{summary="{{ $labels.instance }} of {{ $externalLabels.cluster }} is {{ $value }}", q="{{ query \\"other\\" | first | value }}", url="{{ $externalURL }}"}',
      ),
      externalLabels: ls('{cluster="c1"}'),
      externalUrl: 'http://prom.example:9090',
    });
    await group(db, [r]).g.eval(0);
    const [a] = r.activeAlerts();
    assert.equal(a!.labels.get('severity'), 'page');
    assert.equal(a!.annotations.get('summary'), 'h:1 of c1 is 0');
    assert.equal(a!.annotations.get('q'), '7');
    assert.equal(a!.annotations.get('url'), 'http://prom.example:9090');
  });

  it('puts a template error into the annotation and logs it, without failing the rule', async () => {
    const db = storage({ 'up{job="a"}': '0' });
    const lines: Array<{ msg: string; fields: Record<string, unknown> }> = [];
    const r = rule({ annotations: ls('{summary="{{ query \\"up{\\" }}"}'), logger: recordingLogger(lines) });
    await group(db, [r]).g.eval(0);
    assert.equal(r.health(), 'ok');
    const [a] = r.activeAlerts();
    assert.match(a!.annotations.get('summary'), /^<error expanding template: .+>$/);
    assert.equal(lines[0]!.msg, 'Expanding alert template failed');
  });
});

describe('restoring the for state', () => {
  /** ALERTS_FOR_STATE as a previous run left it: activeAt (s) written at each time in `at`. */
  function previousRun(activeAtS: number, at: number[], stale = false): MemoryStorage {
    const db = storage({ 'up{job="a"}': '0' });
    const app = db.appender();
    const l = ls('ALERTS_FOR_STATE{alertname="A",job="a"}');
    for (const t of at) app.append(0, l, t, activeAtS);
    if (stale) app.append(0, l, at[at.length - 1]! + 1000, STALE_NAN);
    app.commit();
    // The alert's condition holds again after the restart.
    const app2 = db.appender();
    app2.append(0, ls('up{job="a"}'), 40 * M, 0);
    app2.commit();
    return db;
  }

  async function restart(db: MemoryStorage, ts: number, holdMs: number, o: { forGracePeriodMs?: number; outageToleranceMs?: number } = {}): Promise<AlertingRule> {
    const r = rule({ holdDurationMs: holdMs, restored: false });
    const { g } = group(db, [r], o);
    await g.eval(ts);
    g.restoreForState(ts);
    assert.equal(r.isRestored(), true);
    return r;
  }

  it('resumes a pending alert where it stopped', async () => {
    const db = previousRun(0, [M, 2 * M, 3 * M]);
    const r = await restart(db, 42 * M, 10 * M, { forGracePeriodMs: 2 * M });
    // Pending for 3m before the outage: 7m remain after the restart.
    assert.equal(r.activeAlerts()[0]!.activeAt, 39 * M);
  });

  it('fires an alert that was firing at once', async () => {
    const db = previousRun(0, [11 * M]);
    const r = await restart(db, 42 * M, 10 * M, { forGracePeriodMs: 2 * M });
    assert.equal(r.activeAlerts()[0]!.activeAt, 0);
  });

  it('gives an alert about to fire the grace period', async () => {
    const db = previousRun(0, [9 * M]);
    const r = await restart(db, 42 * M, 10 * M, { forGracePeriodMs: 2 * M });
    assert.equal(r.activeAlerts()[0]!.activeAt, 42 * M + 2 * M - 10 * M);
  });

  it('ignores state older than the outage tolerance, stale state and short `for`', async () => {
    let r = await restart(previousRun(0, [3 * M]), 42 * M, 10 * M, { forGracePeriodMs: 2 * M, outageToleranceMs: 30 * M });
    assert.equal(r.activeAlerts()[0]!.activeAt, 42 * M);
    r = await restart(previousRun(0, [3 * M], true), 42 * M, 10 * M, { forGracePeriodMs: 2 * M });
    assert.equal(r.activeAlerts()[0]!.activeAt, 42 * M);
    r = await restart(previousRun(0, [3 * M]), 42 * M, M, { forGracePeriodMs: 2 * M });
    assert.equal(r.activeAlerts()[0]!.activeAt, 42 * M);
  });
});
