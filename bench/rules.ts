// `npm run bench -- rules [--intervals=6] [--no-prometheus]`: what evaluating rules costs, tsprom and Prometheus.
//
// 1,000 recording and 500 alerting rules in 50 groups (15s interval) over 10,000 series
// of 15s samples covering 20 minutes before "now" and 8 after (see rules_gen.ts for the
// data and the rules; about 3,000 alerts are active, a busy but healthy server).
//
// 1. Prometheus (Debian's 2.42, temp dir, loopback): the data is pushed with remote write
//    1.0, and once every group has evaluated twice on it, its process CPU (/proc/<pid>/stat)
//    over <intervals> intervals (at most 5: it runs in real time) is divided by the
//    intervals its groups completed, and sum(prometheus_rule_group_last_duration_seconds)
//    is sampled once per interval. Run first, while its future samples are still ahead.
// 2. tsprom, in this process: the same samples go into a TSDB in a temp dir; the
//    RuleManager builds the groups from the same file, and the bench drives every group's
//    eval(ts) itself at consecutive 15s timestamps (no waiting for the clock): 3 warm-up
//    intervals (with the `for`-state restore after the second, as the scheduled loop does)
//    and <intervals> measured ones. Per interval: process CPU (process.cpuUsage) and the
//    sum of the groups' wall durations (Prometheus's last-duration figure, summed).
// 3. Heap per active alert (tsprom): the alerting rules alone, their thresholds lowered so
//    ~34,000 alerts are active, against the same rules with thresholds nothing reaches,
//    each evaluated twice (with the `for`-state restore between) into a discarding appender
//    (so only rule state is retained): (live heap after GC, storm) - (same, silent), over
//    the number of active alerts.
// Both sides' firing/pending alerts and recorded series are compared; a mismatch is
// printed as a warning (a correctness signal, not a timing one).
// The last line is one JSON object with the figures.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import { Registry } from 'prom-client';
import { Labels } from '../src/model/labels.js';
import { Engine } from '../src/promql/engine/engine.js';
import type { AlertingRule } from '../src/rules/alerting_rule.js';
import type { Group } from '../src/rules/group.js';
import { RuleManager } from '../src/rules/manager.js';
import type { Appendable, Queryable } from '../src/storage/interface.js';
import { openDB } from '../src/tsdb/db.js';
import { ALERTING_RULES, GROUPS, RECORDING_RULES, STEP_MS, benchSeries, rulesYaml, toWriteBatches, type BenchSeries } from './rules_gen.js';
import { PROMETHEUS, runPrometheus, type PeerResult } from './rules_prometheus.js';

function flag(name: string, def: string): string {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? def : a.slice(name.length + 3);
}

/** Steps of history before "now" (20 min: every range in the rules is covered) and after it (the peer's evaluations run in real time). */
const HISTORY_STEPS = 80;
const FUTURE_STEPS = 32;
/** Intervals before measuring: two evaluations, the `for`-state restore, one more (JIT and caches warm). */
const WARMUP_INTERVALS = 3;
/** The peer runs in real time: this many measured intervals is 75s. */
const MAX_PEER_INTERVALS = 5;
const EXTERNAL_URL = 'http://localhost:9090';
const RECORDED = '{__name__=~"r[0-9]+:.+"}';

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Live JS heap plus typed-array backing stores, less compiled code (V8 compiles and drops it when it likes). */
function liveBytes(): number {
  const m = process.memoryUsage();
  const code = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'code_space')?.space_used_size ?? 0;
  return m.heapUsed - code + m.arrayBuffers;
}

async function settledLiveBytes(): Promise<number> {
  // Backing stores of dead typed arrays go after the GC that finds them; give that a few turns.
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  return liveBytes();
}

function cpuSeconds(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
}

interface AlertCounts {
  firing: number;
  pending: number;
}

function countAlerts(groups: readonly Group[]): AlertCounts {
  const n = { firing: 0, pending: 0 };
  for (const g of groups) {
    for (const r of g.alertingRules() as AlertingRule[]) {
      for (const a of r.activeAlerts()) {
        if (a.state === 'firing') n.firing++;
        else if (a.state === 'pending') n.pending++;
      }
    }
  }
  return n;
}

/** The interval's evaluation time: "now" is HISTORY_STEPS steps after the data's first sample. */
const evalTs = (baseMs: number, i: number): number => baseMs + (HISTORY_STEPS + i) * STEP_MS;

/** Evaluates every group once at ts, one after the other; resolves with the sum of their wall durations (s). */
async function evalAll(groups: readonly Group[], ts: number): Promise<number> {
  let sum = 0;
  for (const g of groups) {
    const t0 = performance.now();
    await g.eval(ts);
    sum += performance.now() - t0;
  }
  return sum / 1000;
}

/** The warm-up the scheduled loop does: two evaluations, then the `for` state restored from ALERTS_FOR_STATE. */
async function warmUp(groups: readonly Group[], baseMs: number): Promise<void> {
  for (let i = 0; i < WARMUP_INTERVALS; i++) {
    await evalAll(groups, evalTs(baseMs, i));
    if (i === 1) for (const g of groups) g.restoreForState(evalTs(baseMs, i));
  }
}

function newManager(appendable: Appendable, queryable: Queryable, engine: Engine, onNotify: (n: number) => void): RuleManager {
  return new RuleManager({ appendable, queryable, engine, notify: (_expr, alerts) => onNotify(alerts.length), registry: new Registry(), externalUrl: EXTERNAL_URL });
}

function loadGroups(m: RuleManager, file: string): Group[] {
  const { groups, errors } = m.loadGroups(STEP_MS, Labels.EMPTY, [file]);
  if (errors.length > 0) throw new Error(`loading ${file}: ${errors.map((e) => e.message).join('; ')}`);
  return groups;
}

interface OurResult {
  cpuPerIntervalS: number[];
  groupDurationSumS: number[];
  alerts: AlertCounts;
  sent: number;
  recordedSeries: number;
  alertsSeries: number;
  heap: { bytesPerAlert: number; alerts: number };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function runOurs(dir: string, ruleFile: string, series: readonly BenchSeries[], baseMs: number, intervals: number): Promise<OurResult> {
  const db = await openDB(join(dir, 'tsdb'), { registry: new Registry(), maintenanceIntervalMs: 0 });
  try {
    const t0 = performance.now();
    const BATCH = 100;
    for (let s = 0; s < series.length; s += BATCH) {
      const app = db.appender();
      for (const x of series.slice(s, s + BATCH)) {
        const ls = Labels.fromPairs(...x.labels.flat());
        for (let k = 0; k < HISTORY_STEPS + FUTURE_STEPS; k++) app.append(0, ls, baseMs + k * STEP_MS, x.value(k));
      }
      app.commit();
    }
    console.log(`  tsprom: loaded ${series.length * (HISTORY_STEPS + FUTURE_STEPS)} samples into the TSDB in ${fmt((performance.now() - t0) / 1000, 1)}s`);
    const engine = new Engine();
    let sent = 0;
    const m = newManager(db, db, engine, (n) => (sent += n));
    const groups = loadGroups(m, ruleFile);
    await warmUp(groups, baseMs);
    const cpu: number[] = [];
    const durs: number[] = [];
    for (let i = WARMUP_INTERVALS; i < WARMUP_INTERVALS + intervals; i++) {
      const c0 = cpuSeconds();
      durs.push(await evalAll(groups, evalTs(baseMs, i)));
      cpu.push(cpuSeconds() - c0);
    }
    const lastTs = evalTs(baseMs, WARMUP_INTERVALS + intervals - 1);
    const count = async (q: string): Promise<number> => {
      const res = await engine.newInstantQuery(db, `count(${q})`, lastTs).exec();
      return res.value.type === 'vector' ? (res.value.samples[0]?.f ?? 0) : NaN;
    };
    const alerts = countAlerts(groups);
    const recordedSeries = await count(RECORDED);
    const alertsSeries = await count('ALERTS');
    const t1 = performance.now();
    const heap = await heapPerAlert(dir, db, engine, baseMs);
    console.log(`  tsprom: heap phase took ${fmt((performance.now() - t1) / 1000, 1)}s`);
    return { cpuPerIntervalS: cpu, groupDurationSumS: durs, alerts, sent, recordedSeries, alertsSeries, heap };
  } finally {
    await db.close();
  }
}

/** Live heap with the rules of `file` evaluated into steady state, and the alerts they hold. */
async function heldBy(file: string, db: Queryable, engine: Engine, baseMs: number): Promise<{ bytes: number; alerts: number }> {
  const discard: Appendable = { appender: () => ({ append: () => 0, commit: () => undefined, rollback: () => undefined }) };
  const m = newManager(discard, db, engine, () => undefined);
  const groups = loadGroups(m, file);
  // Steady state at the least cost: an evaluation, the restore (after it ALERTS label sets are cached), one more.
  await evalAll(groups, evalTs(baseMs, 0));
  for (const g of groups) g.restoreForState(evalTs(baseMs, 0));
  await evalAll(groups, evalTs(baseMs, 1));
  const bytes = await settledLiveBytes();
  const n = countAlerts(groups);
  return { bytes, alerts: n.firing + n.pending };
}

async function heapPerAlert(dir: string, db: Queryable, engine: Engine, baseMs: number): Promise<{ bytesPerAlert: number; alerts: number }> {
  const silentFile = join(dir, 'alerts_silent.yml');
  const stormFile = join(dir, 'alerts_storm.yml');
  writeFileSync(silentFile, rulesYaml({ recording: false, alerts: 'silent' }));
  writeFileSync(stormFile, rulesYaml({ recording: false, alerts: 'storm' }));
  // Silent first: whatever a first manager leaves behind for good then counts in both.
  const silent = await heldBy(silentFile, db, engine, baseMs);
  const storm = await heldBy(stormFile, db, engine, baseMs);
  if (silent.alerts !== 0) throw new Error(`the silent rules hold ${silent.alerts} alerts`);
  return { bytesPerAlert: (storm.bytes - silent.bytes) / storm.alerts, alerts: storm.alerts };
}

function fmt(n: number, digits = 3): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}

function row(cells: string[]): string {
  const widths = [44, 12, 12, 7];
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

async function main(): Promise<void> {
  const intervals = Number(flag('intervals', '6'));
  if (!Number.isInteger(intervals) || intervals <= 0) {
    console.error('--intervals needs a positive integer');
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-rules-'));
  const ruleFile = join(dir, 'rules.yml');
  writeFileSync(ruleFile, rulesYaml({ recording: true, alerts: 'normal' }));
  const series = benchSeries();
  const baseMs = Math.floor(Date.now() / STEP_MS) * STEP_MS - HISTORY_STEPS * STEP_MS;
  console.log(`rules: ${RECORDING_RULES} recording + ${ALERTING_RULES} alerting rules in ${GROUPS} groups every ${STEP_MS / 1000}s over ${series.length} series`);
  // The machine may be shared: its load explains noisy wall times (CPU times suffer less).
  const load = loadavg()[0]!;
  console.log(`  load average (1m) at start: ${fmt(load, 2)}`);
  const figures: Record<string, number | string> = {};
  try {
    let peer: PeerResult | null = null;
    if (process.argv.includes('--no-prometheus')) {
      console.log('  prometheus: skipped (--no-prometheus)');
    } else if (!existsSync(PROMETHEUS)) {
      console.log(`  prometheus: ${PROMETHEUS} not found, no comparison`);
    } else {
      const batches = toWriteBatches(series, baseMs, 0, HISTORY_STEPS + FUTURE_STEPS, 250);
      peer = await runPrometheus(ruleFile, GROUPS, batches, Math.min(intervals, MAX_PEER_INTERVALS), (s) => console.log(s));
      console.log(`  prometheus: measured ${fmt(peer.intervals, 2)} intervals`);
    }
    const ours = await runOurs(dir, ruleFile, series, baseMs, intervals);
    console.log(`  tsprom: CPU per measured interval (s): ${ours.cpuPerIntervalS.map((c) => fmt(c, 2)).join(' ')}`);

    const cpu = median(ours.cpuPerIntervalS);
    const durSum = median(ours.groupDurationSumS);
    const ratio = (a: number, b: number | undefined): string => (b === undefined ? '' : `${fmt(a / b, 2)}x`);
    console.log('');
    console.log(row(['figure', 'tsprom', 'Prometheus', 'ratio']));
    console.log(row(['CPU per interval (s)', fmt(cpu), peer === null ? '-' : fmt(peer.cpuPerIntervalS), ratio(cpu, peer?.cpuPerIntervalS)]));
    // No ratio: wall times of concurrent groups on a busy machine do not compare (see the note below the table).
    console.log(row(['sum of group durations (s, wall)', fmt(durSum), peer === null ? '-' : fmt(peer.groupDurationSumS), '']));
    console.log(row(['alerts firing', String(ours.alerts.firing), peer === null ? '-' : String(peer.firing), '']));
    console.log(row(['alerts pending', String(ours.alerts.pending), peer === null ? '-' : String(peer.pending), '']));
    console.log(row(['ALERTS series', String(ours.alertsSeries), peer === null ? '-' : String(peer.alertsSeries), '']));
    console.log(row(['recorded series', String(ours.recordedSeries), peer === null ? '-' : String(peer.recordedSeries), '']));
    console.log(row([`heap per active alert (B, ${ours.heap.alerts} alerts)`, fmt(ours.heap.bytesPerAlert, 0), '-', '']));
    console.log('');
    if (peer !== null) console.log('(Prometheus runs its groups concurrently: under CPU contention their wall durations include the wait; tsprom\'s ran one after the other.)');
    console.log(`target: CPU per interval <= Prometheus's${peer === null ? ' (not measured)' : cpu <= peer.cpuPerIntervalS ? ' (met)' : ' (NOT met)'}; heap per active alert <= 2048 B${ours.heap.bytesPerAlert <= 2048 ? ' (met)' : ' (NOT met)'}`);
    if (peer !== null) {
      for (const [what, a, b] of [
        ['firing alerts', ours.alerts.firing, peer.firing],
        ['pending alerts', ours.alerts.pending, peer.pending],
        ['ALERTS series', ours.alertsSeries, peer.alertsSeries],
        ['recorded series', ours.recordedSeries, peer.recordedSeries],
      ] as const) {
        if (a !== b) console.log(`WARNING: ${what} differ: tsprom ${a}, Prometheus ${b}`);
      }
    }

    figures.rule_eval_seconds_per_interval = Number(fmt(cpu, 4));
    figures.rule_group_duration_seconds_sum = Number(fmt(durSum, 4));
    if (peer !== null) {
      figures.prometheus_rule_eval_seconds_per_interval = Number(fmt(peer.cpuPerIntervalS, 4));
      figures.prometheus_rule_group_duration_seconds_sum = Number(fmt(peer.groupDurationSumS, 4));
      figures.cpu_ratio = Number(fmt(cpu / peer.cpuPerIntervalS, 2));
      figures.prometheus_active_alerts = peer.firing + peer.pending;
    } else {
      figures.cpu_ratio = 'not measured';
    }
    figures.heap_bytes_per_active_alert = Math.round(ours.heap.bytesPerAlert);
    figures.heap_alerts = ours.heap.alerts;
    figures.active_alerts = ours.alerts.firing + ours.alerts.pending;
    figures.alerts_sent = ours.sent;
    figures.recorded_series = ours.recordedSeries;
    figures.load_average_1m = Number(fmt(load, 2));
    figures.series = series.length;
    figures.recording_rules = RECORDING_RULES;
    figures.alerting_rules = ALERTING_RULES;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(figures));
}

await main();
