import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { Labels } from '../model/labels.js';
import { Engine } from '../promql/engine/engine.js';
import type { QueryLogRecord } from '../promql/engine/types.js';
import { MemoryStorage } from '../storage/memory.js';
import type { AlertingRule } from './alerting_rule.js';
import { RuleLoadError } from './manager.js';
import { FakeClock, manager, samples, storage } from './test_util.test.js';

const M = 60_000;
/** A wall-clock start well after the fixtures' samples. */
const T0 = 1_700_000_000_000;

function ruleFile(text: string, name = 'rules.yml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'rules-mgr-'));
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

function cfg(files: string[], o: { intervalMs?: number; queryOffsetMs?: number } = {}): { intervalMs: number; files: string[]; externalLabels: Labels; queryOffsetMs: number } {
  return { intervalMs: o.intervalMs ?? M, files, externalLabels: Labels.EMPTY, queryOffsetMs: o.queryOffsetMs ?? 0 };
}

/** A storage whose `up` series holds `v` every 15s over [from, to]. */
function upSeries(db: MemoryStorage, v: number, from: number, to: number): void {
  const app = db.appender();
  for (let t = from; t <= to; t += 15_000) app.append(0, Labels.fromPairs('__name__', 'up', 'job', 'a'), t, v);
  app.commit();
}

async function metricValue(reg: Registry, name: string, group: string): Promise<number | undefined> {
  const m = reg.getSingleMetric(name);
  if (m === undefined) return undefined;
  const v = (await m.get()).values.find((x) => x.labels.rule_group === group);
  return v?.value;
}

describe('RuleManager', () => {
  it('evaluates each group in its own stable slot of the interval', async () => {
    const db = new MemoryStorage();
    upSeries(db, 1, T0 - 10 * M, T0 + 10 * M);
    const f = ruleFile('groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n- name: h\n  interval: 30s\n  rules:\n  - record: s\n    expr: up\n');
    const clock = new FakeClock(T0);
    const { m } = manager(db, clock);
    await m.update(cfg([f]));
    const [g, h] = m.ruleGroups();
    assert.equal(g!.intervalMs, M);
    assert.equal(h!.intervalMs, 30_000);
    const slot = g!.evalTimestamp(T0);
    assert.ok(slot <= T0 && T0 < slot + M);
    // The phase is a property of the group, not of the start time.
    assert.equal((g!.evalTimestamp(T0 + 12_345_678) - slot) % M, 0);
    await clock.advance(3 * M);
    assert.equal(g!.lastEvalTimestamp(), slot + 3 * M);
    assert.deepEqual(
      samples(db, 'r')[0]![1].map(([t]) => t),
      [slot + M, slot + 2 * M, slot + 3 * M],
    );
    assert.equal(samples(db, 's')[0]![1].length, 6);
    await m.stop();
  });

  it('counts missed iterations and skips them', async () => {
    const db = new MemoryStorage();
    upSeries(db, 1, T0 - 10 * M, T0 + 20 * M);
    const f = ruleFile('groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n');
    const clock = new FakeClock(T0);
    const engine = new Engine();
    let slow = true;
    const registry = new Registry();
    const { m } = manager(db, clock, {
      registry,
      engine: {
        newInstantQuery: (q, qs, ts) => {
          const inner = engine.newInstantQuery(q, qs, ts);
          return {
            statement: inner.statement,
            queryString: inner.queryString,
            stats: () => inner.stats(),
            exec: (ctx) => {
              // The first evaluation takes 2.5 intervals.
              if (slow) clock.t += 150_000;
              slow = false;
              return inner.exec(ctx);
            },
          };
        },
      },
    });
    await m.update(cfg([f]));
    const g = m.ruleGroups()[0]!;
    const first = g.evalTimestamp(T0) + M;
    await clock.advanceTo(first);
    await clock.advanceTo(first + 3 * M);
    const key = `${f};g`;
    assert.equal(await metricValue(registry, 'prometheus_rule_group_iterations_missed_total', key), 1);
    assert.equal(await metricValue(registry, 'prometheus_rule_group_iterations_total', key), 4);
    assert.deepEqual(
      samples(db, 'r')[0]![1].map(([t]) => t - first),
      [0, 2 * M, 3 * M],
    );
    await m.stop();
  });

  it('loads a file named twice once', async () => {
    const db = storage({ 'up{job="a"}': '1' });
    const f = ruleFile('groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n');
    const { m } = manager(db, new FakeClock(T0));
    await m.update(cfg([f, f]));
    assert.equal(m.ruleGroups().length, 1);
    await m.stop();
  });

  it('runs the queries with the rule group as their origin', async () => {
    const db = storage({ 'up{job="a"}': '1' });
    const f = ruleFile('groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n');
    const origins: QueryLogRecord['origin'][] = [];
    const { m } = manager(db, new FakeClock(0), { engine: new Engine({ onQueryDone: (rec) => origins.push(rec.origin) }) });
    const { groups } = m.loadGroups(M, Labels.EMPTY, [f]);
    await groups[0]!.eval(0);
    assert.deepEqual(origins, [{ ruleGroup: { file: f, name: 'g' } }]);
  });

  it('keeps the old groups when a file has errors', async () => {
    const db = storage({ 'up{job="a"}': '1' });
    const good = ruleFile('groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n');
    const bad = ruleFile('groups:\n- name: g\n  rules:\n  - record: r\n    expr: up ==== 1\n');
    const { m } = manager(db, new FakeClock(T0));
    await m.update(cfg([good]));
    const before = m.ruleGroups();
    await assert.rejects(m.update(cfg([good, bad])), (e: unknown) => {
      assert.ok(e instanceof RuleLoadError);
      assert.equal(e.message, 'error loading rules, previous rule set restored');
      assert.match(e.errors[0]!.message, /could not parse expression/);
      return true;
    });
    assert.deepEqual(m.ruleGroups(), before);
    await m.stop();
  });

  it('keeps the state of unchanged rules over a reload and marks removed series stale', async () => {
    const db = new MemoryStorage();
    upSeries(db, 0, T0 - 10 * M, T0 + 30 * M);
    const text = 'groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n    for: 5m\n  - record: r\n    expr: up\n';
    const f = ruleFile(text);
    const clock = new FakeClock(T0);
    const registry = new Registry();
    const { m } = manager(db, clock, { registry });
    await m.update(cfg([f]));
    await clock.advance(3 * M);
    const [rule] = m.alertingRules() as [AlertingRule];
    const activeAt = rule.activeAlerts()[0]!.activeAt;

    // The same file: the group keeps running as it is.
    const g1 = m.ruleGroups()[0]!;
    await m.update(cfg([f]));
    assert.equal(m.ruleGroups()[0], g1);

    // A changed group takes over the alerts of rules with the same name and labels.
    writeFileSync(f, 'groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n    for: 5m\n');
    await m.update(cfg([f]));
    const g2 = m.ruleGroups()[0]!;
    assert.notEqual(g2, g1);
    await clock.advance(3 * M);
    const [rule2] = m.alertingRules() as [AlertingRule];
    assert.notEqual(rule2, rule);
    const [a] = rule2.activeAlerts();
    assert.equal(a!.activeAt, activeAt);
    assert.equal(a!.state, 'firing');
    // The removed recording rule's series ends with a staleness marker.
    const r = samples(db, 'r')[0]![1];
    assert.equal(r[r.length - 1]![1], 'stale');

    // A removed group stops, its series go stale and its metrics go away.
    const key = `${f};g`;
    assert.ok((await metricValue(registry, 'prometheus_rule_evaluations_total', key))! > 0);
    await m.update(cfg([]));
    assert.deepEqual(m.ruleGroups(), []);
    assert.equal(await metricValue(registry, 'prometheus_rule_evaluations_total', key), undefined);
    await clock.advance(2 * M);
    for (const [, pts] of samples(db, 'ALERTS')) assert.equal(pts[pts.length - 1]![1], 'stale');
    await m.stop();
  });

  it('restores the for state after a restart', async () => {
    const db = new MemoryStorage();
    upSeries(db, 0, T0 - 10 * M, T0 + 60 * M);
    const f = ruleFile('groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n    for: 30m\n');
    const clock = new FakeClock(T0);
    const first = manager(db, clock, { forGracePeriodMs: 5 * M });
    await first.m.update(cfg([f]));
    await clock.advance(5 * M);
    const [before] = (first.m.alertingRules()[0] as AlertingRule).activeAlerts();
    assert.equal(before!.state, 'pending');
    await first.m.stop();

    // Down for 10 minutes, then a new process.
    clock.t += 10 * M;
    const second = manager(db, clock, { forGracePeriodMs: 5 * M });
    await second.m.update(cfg([f]));
    const rule = second.m.alertingRules()[0] as AlertingRule;
    assert.equal(rule.isRestored(), false);
    await clock.advance(2 * M);
    assert.equal(rule.isRestored(), true);
    const [after] = rule.activeAlerts();
    // activeAt moves later by the outage, in whole seconds as ALERTS_FOR_STATE keeps it.
    const lastWrite = Math.floor(samples(db, 'ALERTS_FOR_STATE')[0]![1].at(-1)![0] / 1000) * 1000;
    // Restored right after the second evaluation, at its time.
    const restartTs = second.m.ruleGroups()[0]!.lastEvalTimestamp();
    assert.equal(after!.activeAt, Math.floor(before!.activeAt / 1000) * 1000 + (restartTs - lastWrite));
    await second.m.stop();
  });
});
