import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Counter, Gauge, Registry } from 'prom-client';
import { Labels } from '../model/labels.js';
import { inspect } from '../promql/engine/preprocess.js';
import { parseExpr } from '../promql/parser/parser.js';
import { MemoryStorage } from '../storage/memory.js';
import type { RuleConfig } from './manager.js';
import { parseRuleFile } from './rule_file.js';
import { PROCESS_METRICS, SELF_RULES_FILE, SELF_RULES_GROUP, SELF_RULES_MAX_RANGE_MS, SELF_RULES_YAML, SelfRules, TSDB_METRICS } from './self_rules.js';
import { FakeClock, manager } from './test_util.test.js';

const I = 15_000;
const M = 60_000;
const T0 = 1_700_000_000_000;

describe('the tsprom-self rules text', () => {
  const { groups, errors } = parseRuleFile(SELF_RULES_YAML, SELF_RULES_FILE);

  it('is one valid group of alerts with a severity, a summary and a description each', () => {
    assert.deepEqual(errors, []);
    assert.equal(groups.length, 1);
    const g = groups[0]!;
    assert.equal(g.name, SELF_RULES_GROUP);
    assert.equal(g.labels.get('source'), 'tsprom-self');
    assert.equal(g.queryOffsetMs, 0);
    assert.ok(g.rules.length >= 10);
    for (const r of g.rules) {
      assert.ok(r.alert !== undefined && /^Tsprom[A-Z]/.test(r.alert), r.alert);
      assert.match(r.labels.get('severity'), /^(warning|critical)$/, r.alert);
      assert.ok(r.annotations.get('summary') !== '' && r.annotations.get('description') !== '', r.alert);
    }
  });

  it('reads only the listed metrics, over ranges the history keeps', () => {
    const known = new Set([...PROCESS_METRICS, ...TSDB_METRICS]);
    const used = new Set<string>();
    for (const r of groups[0]!.rules) {
      inspect(parseExpr(r.expr), (n) => {
        if (n.type === 'VectorSelector') {
          assert.ok(known.has(n.name), `${r.alert}: ${n.name} is not listed`);
          used.add(n.name);
        }
        if (n.type === 'MatrixSelector') assert.ok(n.range <= SELF_RULES_MAX_RANGE_MS, `${r.alert}: range ${n.range}`);
        assert.notEqual(n.type, 'SubqueryExpr');
      });
    }
    assert.deepEqual([...known].filter((n) => !used.has(n)), []);
  });
});

/** The metrics the self rules read, in a test registry, all at healthy values. */
function healthyMetrics(reg: Registry, o: { ruleMetrics: boolean }) {
  const registers = [reg];
  const gauge = (name: string, labelNames: string[] = []) => new Gauge({ name, help: name, labelNames, registers });
  const counter = (name: string, labelNames: string[] = []) => new Counter({ name, help: name, labelNames, registers });
  const m = {
    rss: gauge('process_resident_memory_bytes'),
    memLimit: gauge('tsprom_memory_limit_bytes'),
    heapUsed: gauge('nodejs_heap_size_used_bytes'),
    heapLimit: gauge('tsprom_heap_limit_bytes'),
    diskFree: gauge('tsprom_disk_free_bytes', ['path']),
    diskSize: gauge('tsprom_disk_size_bytes', ['path']),
    queryLogDropped: counter('tsprom_query_log_dropped_total'),
    walCorruptions: counter('prometheus_tsdb_wal_corruptions_total'),
    compactionsFailed: counter('prometheus_tsdb_compactions_failed_total'),
    evalFailures: o.ruleMetrics ? counter('prometheus_rule_evaluation_failures_total', ['rule_group']) : null,
    missed: o.ruleMetrics ? counter('prometheus_rule_group_iterations_missed_total', ['rule_group']) : null,
    notifDropped: counter('prometheus_notifications_dropped_total'),
    notifErrors: counter('prometheus_notifications_errors_total', ['alertmanager']),
    notifSent: counter('prometheus_notifications_sent_total', ['alertmanager']),
    reloadOk: gauge('prometheus_config_last_reload_successful'),
  };
  m.rss.set(100e6);
  m.memLimit.set(1e9);
  m.heapUsed.set(50e6);
  m.heapLimit.set(500e6);
  m.diskFree.set({ path: '/data' }, 500e9);
  m.diskSize.set({ path: '/data' }, 1000e9);
  m.evalFailures?.inc({ rule_group: 'f.yml;g' }, 0);
  m.missed?.inc({ rule_group: 'f.yml;g' }, 0);
  m.notifErrors.inc({ alertmanager: 'http://am:9093/api/v2/alerts' }, 0);
  m.notifSent.inc({ alertmanager: 'http://am:9093/api/v2/alerts' }, 0);
  m.reloadOk.set(1);
  return m;
}

type Metrics = ReturnType<typeof healthyMetrics>;

/** A TSDB holding `up` for one target every 15s around the test's time. */
function targets(up: number): MemoryStorage {
  const db = new MemoryStorage();
  const app = db.appender();
  for (let t = T0 - 10 * M; t <= T0 + 120 * M; t += I) app.append(0, Labels.fromPairs('__name__', 'up', 'job', 'node', 'instance', 'host:9100'), t, up);
  app.commit();
  return db;
}

function cfg(builtin: SelfRules[], o: { files?: string[]; intervalMs?: number } = {}): RuleConfig {
  return { intervalMs: o.intervalMs ?? I, files: o.files ?? [], externalLabels: Labels.EMPTY, queryOffsetMs: 0, builtin };
}

interface Step {
  t: number;
  /** alertname -> its alerts' states. */
  active: Map<string, string[]>;
}

interface Scenario {
  /** Changes the healthy metrics before the first evaluation. */
  setup?(m: Metrics): void;
  /** Changes them before evaluation k (0-based). */
  tick?(m: Metrics, k: number): void;
  up?: number;
  /** A real failing rule group on the same registry instead of simulated rule metrics. */
  failingRules?: boolean;
  steps: number;
}

/** Runs the tsprom-self group on a fake clock every 15s; records the alerts after each evaluation. */
async function run(sc: Scenario): Promise<{ steps: Step[]; labels: Map<string, Labels[]>; sent: string[] }> {
  const reg = new Registry();
  const m = healthyMetrics(reg, { ruleMetrics: sc.failingRules !== true });
  sc.setup?.(m);
  const clock = new FakeClock(T0);
  const { m: mgr, sent } = manager(targets(sc.up ?? 1), clock, { registry: sc.failingRules === true ? reg : null });
  const files: string[] = [];
  if (sc.failingRules === true) {
    const dir = mkdtempSync(join(tmpdir(), 'self-rules-'));
    files.push(join(dir, 'bad.yml'));
    // Two output series over the group's limit of one: every evaluation fails.
    writeFileSync(files[0]!, 'groups:\n- name: bad\n  limit: 1\n  rules:\n  - record: r\n    expr: vector(1) or label_replace(vector(1), "a", "b", "", "")\n');
  }
  await mgr.update(cfg([new SelfRules({ registry: reg })], { files }));
  const g = mgr.ruleGroups().find((x) => x.name === SELF_RULES_GROUP)!;
  let next = g.evalTimestamp(clock.now()) + I;
  const steps: Step[] = [];
  const labels = new Map<string, Labels[]>();
  for (let k = 0; k < sc.steps; k++) {
    sc.tick?.(m, k);
    await clock.advanceTo(next);
    const active = new Map<string, string[]>();
    for (const r of g.alertingRules()) {
      const alerts = r.activeAlerts();
      if (alerts.length === 0) continue;
      active.set(r.name(), alerts.map((a) => a.state));
      labels.set(r.name(), alerts.map((a) => a.labels));
    }
    steps.push({ t: next, active });
    next += I;
  }
  await mgr.stop();
  return { steps, labels, sent: sent.flatMap((s) => s.alerts.filter((a) => a.state === 'firing').map((a) => a.labels.get('alertname'))) };
}

/**
 * Asserts that only `alert` became active, pending first for `forMs` (or
 * firing at once without one), then firing and sent; returns its labels.
 */
async function expectAlert(alert: string, forMs: number, sc: Scenario): Promise<Labels[]> {
  const { steps, labels, sent } = await run(sc);
  for (const s of steps) for (const name of s.active.keys()) assert.equal(name, alert, `another alert at +${(s.t - T0) / 1000}s`);
  const first = steps.find((s) => s.active.has(alert));
  assert.ok(first !== undefined, `${alert} never became active`);
  const firing = steps.find((s) => s.active.get(alert)?.includes('firing'));
  assert.ok(firing !== undefined, `${alert} never fired`);
  if (forMs === 0) {
    assert.equal(firing, first);
  } else {
    assert.deepEqual(first.active.get(alert), ['pending']);
    const held = firing.t - first.t;
    assert.ok(held >= forMs && held < forMs + I, `fired after ${held} ms`);
  }
  assert.ok(sent.includes(alert), 'sent to the notifier');
  const ls = labels.get(alert)!;
  for (const l of ls) {
    assert.equal(l.get('source'), 'tsprom-self');
    assert.match(l.get('severity'), /^(warning|critical)$/);
  }
  return ls;
}

const after = (ms: number): number => Math.ceil(ms / I) + 4;

describe('the tsprom-self alerts', () => {
  it('stay quiet while everything is healthy', async () => {
    const { steps } = await run({ steps: after(20 * M) });
    assert.deepEqual(
      steps.filter((s) => s.active.size > 0).map((s) => [...s.active.keys()]),
      [],
    );
  });

  it('TspromMemoryNearLimit: resident memory above 85% of the limit for 5m', async () => {
    await expectAlert('TspromMemoryNearLimit', 5 * M, { setup: (m) => m.rss.set(900e6), steps: after(5 * M) });
  });

  it('TspromHeapNearLimit: the JS heap above 85% of its limit for 5m', async () => {
    await expectAlert('TspromHeapNearLimit', 5 * M, { setup: (m) => m.heapUsed.set(450e6), steps: after(5 * M) });
  });

  it('TspromDiskNearlyFull: less than 5% free for 5m, per path', async () => {
    const ls = await expectAlert('TspromDiskNearlyFull', 5 * M, { setup: (m) => m.diskFree.set({ path: '/data' }, 40e9), steps: after(5 * M) });
    assert.equal(ls[0]!.get('path'), '/data');
    assert.equal(ls[0]!.get('severity'), 'critical');
  });

  it('TspromDiskFillingUp: full within 4h at the rate of the last hour, for 15m', async () => {
    // 300 GB free of 1 TB, 2 GB less every 15s: full in 37.5 minutes.
    await expectAlert('TspromDiskFillingUp', 15 * M, {
      tick: (m, k) => m.diskFree.set({ path: '/data' }, 300e9 - k * 2e9),
      steps: after(15 * M),
    });
  });

  it('TspromQueryLogDropping: lines dropped in the last 5m, at once', async () => {
    await expectAlert('TspromQueryLogDropping', 0, { tick: (m, k) => k === 3 && m.queryLogDropped.inc(17), steps: 8 });
  });

  it('TspromWALCorruption: a corruption repaired at startup, before the first evaluation', async () => {
    const ls = await expectAlert('TspromWALCorruption', 0, { setup: (m) => m.walCorruptions.inc(), steps: 3 });
    assert.equal(ls[0]!.get('severity'), 'critical');
  });

  it('TspromCompactionsFailing: a failed compaction in the last hour', async () => {
    await expectAlert('TspromCompactionsFailing', 0, { tick: (m, k) => k === 2 && m.compactionsFailed.inc(), steps: 5 });
  });

  it('TspromRuleEvaluationFailures: a rule group of the same manager failing for 5m', async () => {
    const ls = await expectAlert('TspromRuleEvaluationFailures', 5 * M, { failingRules: true, steps: after(5 * M) });
    assert.match(ls[0]!.get('rule_group'), /bad\.yml;bad$/);
  });

  it('TspromRuleGroupIterationsMissed: iterations missed for 15m', async () => {
    await expectAlert('TspromRuleGroupIterationsMissed', 15 * M, { tick: (m) => m.missed!.inc({ rule_group: 'f.yml;g' }), steps: after(15 * M) });
  });

  it('TspromTargetDown: up == 0 in the TSDB for 5m', async () => {
    const ls = await expectAlert('TspromTargetDown', 5 * M, { up: 0, steps: after(5 * M) });
    assert.deepEqual([ls[0]!.get('job'), ls[0]!.get('instance')], ['node', 'host:9100']);
  });

  it('TspromNotificationsDropped: alerts dropped in the last 5m', async () => {
    await expectAlert('TspromNotificationsDropped', 0, { tick: (m, k) => k === 2 && m.notifDropped.inc(3), steps: 5 });
  });

  it('TspromAlertmanagerErrors: more than 1% of sends to an Alertmanager failing for 15m', async () => {
    const am = { alertmanager: 'http://am:9093/api/v2/alerts' };
    const ls = await expectAlert('TspromAlertmanagerErrors', 15 * M, {
      tick: (m) => {
        m.notifSent.inc(am, 10);
        m.notifErrors.inc(am, 1);
      },
      steps: after(15 * M),
    });
    assert.equal(ls[0]!.get('alertmanager'), am.alertmanager);
  });

  it('TspromConfigReloadFailed: the last reload failed, for 10m', async () => {
    await expectAlert('TspromConfigReloadFailed', 10 * M, { setup: (m) => m.reloadOk.set(0), steps: after(10 * M) });
  });

  it('resolve when the condition ends', async () => {
    const { steps } = await run({ tick: (m, k) => m.rss.set(k < 30 ? 900e6 : 100e6), steps: 34 });
    assert.deepEqual(steps[29]!.active.get('TspromMemoryNearLimit'), ['firing']);
    assert.equal(steps[31]!.active.size, 0);
  });
});

describe('the tsprom-self group in the rule manager', () => {
  it('is listed under its built-in file, kept over reloads with its alert state, and gone without it', async () => {
    const reg = new Registry();
    const m = healthyMetrics(reg, { ruleMetrics: true });
    m.rss.set(900e6);
    const clock = new FakeClock(T0);
    const { m: mgr } = manager(targets(1), clock);
    const self = new SelfRules({ registry: reg });
    await mgr.update(cfg([]));
    assert.deepEqual(mgr.ruleGroups(), []);
    await mgr.update(cfg([self]));
    const [g] = mgr.ruleGroups();
    assert.deepEqual([g!.file, g!.name, g!.intervalMs], [SELF_RULES_FILE, SELF_RULES_GROUP, I]);
    await clock.advance(2 * I);
    const pending = mgr.alertingRules().find((r) => r.name() === 'TspromMemoryNearLimit')!.activeAlerts();
    assert.deepEqual(pending.map((a) => a.state), ['pending']);

    await mgr.update(cfg([self]));
    assert.equal(mgr.ruleGroups()[0], g);
    // A new evaluation_interval rebuilds the group; the alert keeps its start.
    await mgr.update(cfg([self], { intervalMs: 2 * I }));
    const g2 = mgr.ruleGroups()[0]!;
    assert.notEqual(g2, g);
    assert.equal(g2.intervalMs, 2 * I);
    assert.deepEqual(
      mgr.alertingRules().find((r) => r.name() === 'TspromMemoryNearLimit')!.activeAlerts().map((a) => a.activeAt),
      pending.map((a) => a.activeAt),
    );
    await mgr.update(cfg([]));
    assert.deepEqual(mgr.ruleGroups(), []);
    await mgr.stop();
  });

  it('keeps evaluating while the memory guard pauses every other group', async () => {
    const reg = new Registry();
    healthyMetrics(reg, { ruleMetrics: true }).rss.set(900e6);
    const clock = new FakeClock(T0);
    const { m: mgr } = manager(targets(1), clock);
    const dir = mkdtempSync(join(tmpdir(), 'self-rules-'));
    writeFileSync(join(dir, 'r.yml'), 'groups:\n- name: user\n  rules:\n  - record: r\n    expr: up\n');
    await mgr.update(cfg([new SelfRules({ registry: reg })], { files: [join(dir, 'r.yml')] }));
    mgr.setPaused(() => true);
    await clock.advance(4 * I);
    const [user, self] = mgr.ruleGroups();
    assert.equal(user!.name, 'user');
    assert.equal(user!.lastEvaluation(), 0);
    assert.ok(self!.lastEvaluation() > 0);
    assert.deepEqual(mgr.alertingRules().find((r) => r.name() === 'TspromMemoryNearLimit')!.activeAlerts().map((a) => a.state), ['pending']);
    await mgr.stop();
  });
});
