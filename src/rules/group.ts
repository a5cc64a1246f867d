// A rule group: rules evaluated in order on the group's own schedule, results
// written through the appender with staleness markers for series that went
// away, and the `for` state restored once after a restart (Prometheus's rules.Group).
import { Labels } from '../model/labels.js';
import { STALE_NAN } from '../model/value.js';
import type { Logger } from '../logging/types.js';
import { QueryCanceledError } from '../promql/engine/errors.js';
import type { QueryEngine } from '../promql/engine/types.js';
import { labelsHash } from '../promql/engine/xxhash.js';
import { DuplicateSampleError, OutOfBoundsError, OutOfOrderSampleError, StorageError, type Appendable, type Appender, type Queryable } from '../storage/interface.js';
import { AlertingRule, type NotifyFunc } from './alerting_rule.js';
import { LabelsSet } from './labels_map.js';
import type { RuleMetrics } from './rule_metrics.js';
import type { QueryFunc, Rule } from './rule.js';

/** setTimeout/clearTimeout, replaceable so that tests drive the schedule. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    // The schedule alone must not keep a process (a CLI, a test) alive.
    t.unref();
    return t;
  },
  clearTimeout(h) {
    clearTimeout(h as ReturnType<typeof setTimeout>);
  },
};

/** What every group of one manager shares. */
export interface GroupDeps {
  readonly appendable: Appendable;
  readonly queryable: Queryable;
  readonly engine: Pick<QueryEngine, 'newInstantQuery'>;
  readonly notify: NotifyFunc;
  readonly logger: Logger;
  readonly metrics: RuleMetrics;
  readonly externalUrl: string;
  readonly outageToleranceMs: number;
  readonly forGracePeriodMs: number;
  readonly resendDelayMs: number;
  /** global.rule_query_offset, read at each evaluation. */
  readonly defaultQueryOffsetMs: () => number;
  /** Wall clock (ms). */
  readonly now: () => number;
  readonly timers: Timers;
  /** Load shedding (the memory guard): groups it tells to skip miss their iteration. */
  readonly pause?: RulePause;
}

/** Shared by a manager's groups; `skip` is asked before each iteration with the group's last evaluation time. */
export interface RulePause {
  skip: ((lastEvaluationMs: number) => boolean) | null;
}

export interface GroupOptions {
  name: string;
  file: string;
  intervalMs: number;
  limit: number;
  /** null: the global rule_query_offset. */
  queryOffsetMs: number | null;
  rules: Rule[];
  /** Restore the alerts' `for` state after the second evaluation (after a restart). */
  shouldRestore: boolean;
  /** Part of the group's identity on reload (Prometheus ignores them there; a change must reach the rules). */
  externalLabels?: Labels;
  /** Awaited before each evaluation with its query time (built-in groups read their data then). */
  prepare?: (ts: number) => Promise<void>;
}

/** The series each rule wrote at its last successful evaluation. */
type SeriesSet = LabelsSet;

function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Errors an appender gives when another writer (another rule, an old group) owns the sample: expected, not logged. */
function isIgnorableAppendError(e: unknown): boolean {
  return e instanceof OutOfOrderSampleError || e instanceof DuplicateSampleError || e instanceof OutOfBoundsError;
}

export class Group {
  readonly name: string;
  readonly file: string;
  readonly intervalMs: number;
  readonly limit: number;
  readonly rules: readonly Rule[];
  private readonly ownQueryOffsetMs: number | null;
  private readonly externalLabels: Labels;
  private readonly deps: GroupDeps;
  private readonly logger: Logger;
  private readonly key: string;
  private readonly queryFunc: QueryFunc;
  private readonly prepare: ((ts: number) => Promise<void>) | null;
  private seriesInPreviousEval: Array<SeriesSet | null>;
  private staleSeries: Labels[] = [];
  private shouldRestore: boolean;
  private evaluationTime = 0;
  private lastEvalWallMs = 0;
  private lastEvalTs = 0;

  // Schedule state.
  private running: Promise<void> | null = null;
  private stopped = false;
  private sleepTimer: unknown = null;
  private wake: ((ok: boolean) => void) | null = null;
  /** Set when the group is removed: its series get staleness markers. */
  private markStaleOnStop = false;
  private staleTimer: unknown = null;

  constructor(o: GroupOptions, deps: GroupDeps) {
    this.name = o.name;
    this.file = o.file;
    this.intervalMs = o.intervalMs;
    this.limit = o.limit;
    this.rules = o.rules;
    this.ownQueryOffsetMs = o.queryOffsetMs;
    this.externalLabels = o.externalLabels ?? Labels.EMPTY;
    this.shouldRestore = o.shouldRestore;
    this.prepare = o.prepare ?? null;
    this.deps = deps;
    this.key = groupKey(o.file, o.name);
    this.logger = deps.logger.with({ file: o.file, group: o.name });
    this.seriesInPreviousEval = new Array<SeriesSet | null>(o.rules.length).fill(null);
    deps.metrics.initGroup(this.key, o.rules.length, o.intervalMs);
    const origin = { ruleGroup: { file: o.file, name: o.name } };
    this.queryFunc = async (expr, ts) => {
      const res = await deps.engine.newInstantQuery(deps.queryable, expr, ts).exec({ origin });
      const v = res.value;
      if (v.type === 'vector') return v.samples;
      if (v.type === 'scalar') return [{ metric: Labels.EMPTY, t: v.t, f: v.v }];
      throw new Error('rule result is not a vector or scalar');
    };
  }

  /** The query offset in effect: the group's own, else the global one. */
  get queryOffsetMs(): number {
    return this.ownQueryOffsetMs ?? this.deps.defaultQueryOffsetMs();
  }

  /** The group's query_offset as configured; null when it uses the global one. */
  get configuredQueryOffsetMs(): number | null {
    return this.ownQueryOffsetMs;
  }

  /** Wall-clock start (ms) of the last scheduled evaluation; 0 before the first. */
  lastEvaluation(): number {
    return this.lastEvalWallMs;
  }

  /** The evaluation time (ms) the last scheduled evaluation used. */
  lastEvalTimestamp(): number {
    return this.lastEvalTs;
  }

  evaluationDurationMs(): number {
    return this.evaluationTime;
  }

  /** Sum of the rules' last evaluation durations. */
  ruleEvaluationDurationSumMs(): number {
    let sum = 0;
    for (const r of this.rules) sum += r.evaluationDurationMs();
    return sum;
  }

  /** Alerting rules, firing first, then pending, then the others; by name within a state. */
  alertingRules(): AlertingRule[] {
    const rank = { firing: 3, pending: 2, inactive: 1, unknown: 0 } as const;
    const list = this.rules.filter((r): r is AlertingRule => r instanceof AlertingRule).map((r) => ({ r, s: rank[r.state()] }));
    list.sort((a, b) => b.s - a.s || (a.r.name() < b.r.name() ? -1 : a.r.name() > b.r.name() ? 1 : 0));
    return list.map((x) => x.r);
  }

  hasAlertingRules(): boolean {
    return this.rules.some((r) => r instanceof AlertingRule);
  }

  /**
   * The latest time at or before startMs in this group's slots: the interval
   * grid shifted by a stable offset from the hash of name and file, so that
   * groups spread over the interval and keep their phase across restarts.
   */
  evalTimestamp(startMs: number): number {
    const intervalNs = BigInt(this.intervalMs) * 1_000_000n;
    const offset = labelsHash(Labels.fromPairs('name', this.name, 'file', this.file)) % intervalNs;
    const adjNow = BigInt(Math.floor(startMs)) * 1_000_000n - offset;
    let rem = adjNow % intervalNs;
    if (rem < 0n) rem += intervalNs;
    const ns = adjNow - rem + offset;
    // Floor to whole ms (BigInt division truncates toward zero).
    const ms = ns / 1_000_000n;
    return Number(ns < 0n && ms * 1_000_000n !== ns ? ms - 1n : ms);
  }

  /** Whether the group is configured exactly as `o` (then a reload keeps it running as it is). */
  equals(o: Group): boolean {
    if (this.name !== o.name || this.file !== o.file || this.intervalMs !== o.intervalMs || this.limit !== o.limit) return false;
    if (this.ownQueryOffsetMs !== o.ownQueryOffsetMs || !this.externalLabels.equals(o.externalLabels)) return false;
    if (this.rules.length !== o.rules.length) return false;
    return this.rules.every((r, i) => r.definitionKey() === o.rules[i]!.definitionKey());
  }

  /**
   * Takes over the state of the group this one replaces: alerts of rules with
   * the same name and labels (in order among equals), the series each wrote,
   * and staleness markers for the series of rules that are gone.
   */
  copyState(from: Group): void {
    this.evaluationTime = from.evaluationTime;
    this.lastEvalWallMs = from.lastEvalWallMs;
    const byName = new Map<string, number[]>();
    from.rules.forEach((r, i) => {
      const k = nameAndLabels(r);
      const l = byName.get(k);
      if (l === undefined) byName.set(k, [i]);
      else l.push(i);
    });
    this.rules.forEach((r, i) => {
      const k = nameAndLabels(r);
      const fi = byName.get(k)?.shift();
      if (fi === undefined) return;
      this.seriesInPreviousEval[i] = from.seriesInPreviousEval[fi] ?? null;
      const old = from.rules[fi];
      if (r instanceof AlertingRule && old instanceof AlertingRule) r.copyStateFrom(old);
    });
    this.staleSeries = from.staleSeries.slice();
    for (const left of byName.values()) {
      for (const fi of left) from.seriesInPreviousEval[fi]?.forEach((ls) => this.staleSeries.push(ls));
    }
  }

  /** One evaluation of every rule in order at ts (ms), writing the results. */
  async eval(ts: number): Promise<void> {
    let samples = 0;
    const offset = this.queryOffsetMs;
    if (this.prepare !== null) await this.prepare(ts - offset);
    for (let i = 0; i < this.rules.length; i++) {
      if (this.stopped) return;
      samples += await this.evalRule(i, this.rules[i]!, ts, offset);
    }
    this.deps.metrics.groupSamples.set({ rule_group: this.key }, samples);
    this.cleanupStaleSeries(ts);
  }

  /** Evaluates one rule and writes its samples; resolves with their number. */
  private async evalRule(i: number, rule: Rule, ts: number, offset: number): Promise<number> {
    const { metrics } = this.deps;
    const start = this.deps.now();
    const t0 = performance.now();
    const l = { rule_group: this.key };
    metrics.evalTotal.inc(l);
    try {
      let vector;
      try {
        vector = await rule.eval({ ts, queryOffsetMs: offset, query: this.queryFunc, externalUrl: this.deps.externalUrl, limit: this.limit });
      } catch (e) {
        rule.setHealth('err', errMsg(e));
        metrics.evalFailures.inc(l);
        // A canceled query is a shutdown, not a failure worth a line.
        if (!(e instanceof QueryCanceledError)) this.logger.warn('Evaluating rule failed', { name: rule.name(), index: i, err: errMsg(e) });
        return 0;
      }
      rule.setHealth('ok', '');
      if (rule instanceof AlertingRule) {
        try {
          rule.sendAlerts(ts, this.deps.resendDelayMs, this.intervalMs, this.deps.notify);
        } catch (e) {
          this.logger.warn('Sending alerts failed', { name: rule.name(), err: errMsg(e) });
        }
      }
      const app = this.deps.appendable.appender();
      const returned: SeriesSet = new LabelsSet();
      let outOfOrder = 0;
      let duplicates = 0;
      let tooOld = 0;
      for (const s of vector) {
        try {
          if (s.h === undefined) app.append(0, s.metric, s.t, s.f);
          else if (app.appendHistogram !== undefined) app.appendHistogram(0, s.metric, s.t, null, s.h);
          else throw new StorageError('native histogram samples are not supported by this storage');
          returned.add(s.metric);
        } catch (e) {
          rule.setHealth('err', errMsg(e));
          if (e instanceof OutOfOrderSampleError) outOfOrder++;
          else if (e instanceof DuplicateSampleError) duplicates++;
          else if (e instanceof OutOfBoundsError) tooOld++;
          else this.logger.warn('Rule evaluation result discarded', { name: rule.name(), err: errMsg(e), sample: s.metric.toString() });
        }
      }
      if (outOfOrder > 0) this.logger.warn('Error on ingesting out-of-order result from rule evaluation', { name: rule.name(), num_dropped: outOfOrder });
      if (tooOld > 0) this.logger.warn('Error on ingesting too old result from rule evaluation', { name: rule.name(), num_dropped: tooOld });
      if (duplicates > 0) {
        this.logger.warn('Error on ingesting results from rule evaluation with different value but same timestamp', { name: rule.name(), num_dropped: duplicates });
      }
      const prev = this.seriesInPreviousEval[i];
      if (prev !== null && prev !== undefined) {
        prev.forEach((ls) => {
          if (!returned.has(ls)) this.appendStale(app, ls, ts - offset, 'Adding stale sample failed');
        });
      }
      try {
        app.commit();
        this.seriesInPreviousEval[i] = returned;
      } catch (e) {
        rule.setHealth('err', errMsg(e));
        metrics.evalFailures.inc(l);
        this.logger.warn('Rule sample appending failed', { name: rule.name(), err: errMsg(e) });
      }
      return vector.length;
    } finally {
      const dur = performance.now() - t0;
      metrics.evalDuration.observe(dur / 1000);
      metrics.evalDurationHistogram.observe(dur / 1000);
      rule.setEvaluation(start, dur);
    }
  }

  private appendStale(app: Appender, ls: Labels, t: number, what: string): void {
    try {
      app.append(0, ls, t, STALE_NAN);
    } catch (e) {
      if (!isIgnorableAppendError(e)) this.logger.warn(what, { sample: ls.toString(), err: errMsg(e) });
    }
  }

  /** Staleness markers for series of rules no longer configured. */
  private cleanupStaleSeries(ts: number): void {
    if (this.staleSeries.length === 0) return;
    const app = this.deps.appendable.appender();
    const t = ts - this.queryOffsetMs;
    for (const ls of this.staleSeries) this.appendStale(app, ls, t, 'Adding stale sample for previous configuration failed');
    try {
      app.commit();
      this.staleSeries = [];
    } catch (e) {
      this.logger.warn('Stale sample appending for previous configuration failed', { err: errMsg(e) });
    }
  }

  /** Restores the `for` state of the alerting rules from ALERTS_FOR_STATE within the outage tolerance. */
  restoreForState(ts: number): void {
    const t0 = performance.now();
    const q = this.deps.queryable.querier(ts - this.deps.outageToleranceMs, ts);
    try {
      for (const r of this.rules) if (r instanceof AlertingRule) r.restoreForState(q, ts, this.deps.forGracePeriodMs);
    } catch (e) {
      this.logger.error("Failed to restore 'for' state", { err: errMsg(e) });
    } finally {
      q.close();
      this.shouldRestore = false;
      const secs = (performance.now() - t0) / 1000;
      this.deps.metrics.groupLastRestoreDuration.set({ rule_group: this.key }, secs);
      this.logger.debug("'for' state restoration completed", { duration_seconds: secs });
    }
  }

  /** One scheduled iteration: the evaluation and the group's timings and metrics. */
  private async iterate(ts: number): Promise<void> {
    const { metrics } = this.deps;
    const l = { rule_group: this.key };
    metrics.iterationsScheduled.inc(l);
    if (this.deps.pause?.skip?.(this.evaluationTime) === true) {
      metrics.iterationsMissed.inc(l);
      return;
    }
    const start = this.deps.now();
    const t0 = performance.now();
    await this.eval(ts);
    const dur = performance.now() - t0;
    metrics.iterationDuration.observe(dur / 1000);
    metrics.iterationDurationHistogram.observe(dur / 1000);
    metrics.groupLastRuleDurationSum.set(l, this.ruleEvaluationDurationSumMs() / 1000);
    metrics.groupLastDuration.set(l, dur / 1000);
    this.evaluationTime = dur;
    metrics.groupLastEvalTime.set(l, start / 1000);
    this.lastEvalWallMs = start;
    this.lastEvalTs = ts;
  }

  /** Starts the schedule: the first evaluation at the group's next slot, then one per interval. */
  start(): void {
    if (this.running !== null) throw new Error('BUG: rule group started twice');
    this.running = this.run().catch((e: unknown) => {
      this.logger.error('Rule group evaluation loop failed', { err: errMsg(e) });
    });
  }

  private async run(): Promise<void> {
    let evalTs = this.evalTimestamp(this.deps.now()) + this.intervalMs;
    if (!(await this.sleepUntil(evalTs))) return;
    await this.iterate(evalTs);
    if (this.shouldRestore) {
      // Restoring waits for a second evaluation: by then recording rules the alerts may depend on have run.
      const next = await this.nextTick(evalTs);
      if (next === null) return;
      evalTs = next;
      await this.iterate(evalTs);
      if (this.stopped) return;
      this.restoreForState(this.deps.now());
    }
    for (;;) {
      const next = await this.nextTick(evalTs);
      if (next === null) return;
      evalTs = next;
      await this.iterate(evalTs);
    }
  }

  /** Waits for the slot after evalTs; counts the slots missed meanwhile. Null once stopped. */
  private async nextTick(evalTs: number): Promise<number | null> {
    if (!(await this.sleepUntil(evalTs + this.intervalMs))) return null;
    const missed = Math.floor((this.deps.now() - evalTs) / this.intervalMs) - 1;
    if (missed > 0) {
      const l = { rule_group: this.key };
      this.deps.metrics.iterationsMissed.inc(l, missed);
      this.deps.metrics.iterationsScheduled.inc(l, missed);
    }
    return evalTs + (Math.max(missed, 0) + 1) * this.intervalMs;
  }

  /** Resolves true at time t, false if the group is stopped first. */
  private sleepUntil(t: number): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sleepTimer = this.deps.timers.setTimeout(
        () => {
          this.sleepTimer = null;
          this.wake = null;
          resolve(true);
        },
        Math.max(0, t - this.deps.now()),
      );
    });
  }

  /**
   * Stops the schedule and waits for a running evaluation to finish. With
   * markStale (the group was removed), its series get staleness markers two
   * intervals later, dated now, so that a renamed rule writing them meanwhile wins.
   */
  async stop(markStale = false): Promise<void> {
    this.stopped = true;
    this.markStaleOnStop = markStale;
    if (this.sleepTimer !== null) {
      this.deps.timers.clearTimeout(this.sleepTimer);
      this.sleepTimer = null;
    }
    this.wake?.(false);
    this.wake = null;
    if (this.running !== null) await this.running;
    if (!this.markStaleOnStop) return;
    const stoppedAt = this.deps.now();
    for (const s of this.seriesInPreviousEval) s?.forEach((ls) => this.staleSeries.push(ls));
    this.seriesInPreviousEval = [];
    this.staleTimer = this.deps.timers.setTimeout(() => {
      this.staleTimer = null;
      this.cleanupStaleSeries(stoppedAt);
    }, 2 * this.intervalMs);
  }

  /** Drops pending staleness markers (the manager is shutting down). */
  cancelStaleMarkers(): void {
    if (this.staleTimer !== null) this.deps.timers.clearTimeout(this.staleTimer);
    this.staleTimer = null;
  }

  hasPendingStaleMarkers(): boolean {
    return this.staleTimer !== null;
  }
}

/** Prometheus's group key: group names are unique per file only. */
export function groupKey(file: string, name: string): string {
  return `${file};${name}`;
}

function nameAndLabels(r: Rule): string {
  return r.name() + r.labels.toString();
}
