// rules: recording and alerting rules, their groups and the manager that
// loads rule files and schedules the groups (Prometheus's rules package and
// model/rulefmt). May import the floors below it (gofmt, model, logging,
// config, template, storage, promql, metrics); never notifier/ (its peer,
// reached through the notify callback that cli/ wires) nor web/ or cli/.
//
// This file: the RuleManager. update() loads the files and swaps the groups
// in, keeping the old ones on any error and the state of unchanged rules.
import type { Registry } from 'prom-client';
import { Labels, type LabelsBuilder } from '../model/labels.js';
import { nopLogger, type Logger } from '../logging/types.js';
import type { QueryEngine } from '../promql/engine/types.js';
import { exprToString } from '../promql/parser/printer.js';
import { parseExpr } from '../promql/parser/parser.js';
import type { Appendable, Queryable } from '../storage/interface.js';
import { AlertingRule, type NotifyFunc } from './alerting_rule.js';
import { Group, groupKey, realTimers, type GroupDeps, type RulePause, type Timers } from './group.js';
import { RecordingRule } from './recording_rule.js';
import { loadRuleFiles, parseRuleFile, type RuleFileError, type RuleGroupDef } from './rule_file.js';
import { RuleMetrics } from './rule_metrics.js';
import type { Rule } from './rule.js';

/** Prometheus's defaults for --rules.alert.for-outage-tolerance, --rules.alert.for-grace-period, --rules.alert.resend-delay. */
export const DEFAULT_OUTAGE_TOLERANCE_MS = 3_600_000;
export const DEFAULT_FOR_GRACE_PERIOD_MS = 600_000;
export const DEFAULT_RESEND_DELAY_MS = 60_000;

export interface RuleManagerOptions {
  appendable: Appendable;
  queryable: Queryable;
  engine: Pick<QueryEngine, 'newInstantQuery'> & { readonly features?: ReadonlySet<string> };
  notify: NotifyFunc;
  logger?: Logger;
  registry?: Registry | null;
  /** --web.external-url */
  externalUrl: string;
  outageToleranceMs?: number;
  forGracePeriodMs?: number;
  resendDelayMs?: number;
  now?: () => number;
  timers?: Timers;
}

export interface RuleConfig {
  /** global.evaluation_interval */
  intervalMs: number;
  /** rule_files patterns (globs are expanded). */
  files: readonly string[];
  externalLabels: Labels;
  /** global.rule_query_offset */
  queryOffsetMs: number;
  /** Groups built into the server, loaded after the files. */
  builtin?: readonly BuiltinRules[];
}

/**
 * Rule groups that come with the server instead of a file (the
 * self-monitoring alerts). They are scheduled, listed and reloaded like the
 * groups of files, may read their own storage, and are never paused.
 */
export interface BuiltinRules {
  /** Shown as the groups' file; not a path on disk. */
  readonly file: string;
  /** The groups in the rule file format. */
  readonly text: string;
  /** What the groups query, given the manager's queryable. */
  queryable(base: Queryable): Queryable;
  /** Awaited before each evaluation of the groups, with its query time (ms). */
  prepare(ts: number): Promise<void>;
}

/** Rule files failed to load; the previous rule set keeps running. */
export class RuleLoadError extends Error {
  override name = 'RuleLoadError';
  constructor(readonly errors: readonly RuleFileError[]) {
    super('error loading rules, previous rule set restored');
  }
}

/** The pause of groups the memory guard never sheds. */
const NEVER_PAUSED: RulePause = { skip: null };

export class RuleManager {
  private groups = new Map<string, Group>();
  private readonly deps: GroupDeps;
  private readonly logger: Logger;
  private readonly features: ReadonlySet<string> | undefined;
  private queryOffsetMs = 0;
  /** Set after the first successful update: later ones do not restore `for` state. */
  private restored = false;
  private stopped = false;
  /** Removed groups whose staleness markers are still due. */
  private readonly removed = new Set<Group>();
  /** update() calls run one after the other. */
  private updating: Promise<void> = Promise.resolve();
  private readonly pause: RulePause = { skip: null };

  constructor(o: RuleManagerOptions) {
    this.logger = o.logger ?? nopLogger;
    this.features = o.engine.features;
    this.deps = {
      appendable: o.appendable,
      queryable: o.queryable,
      engine: o.engine,
      notify: o.notify,
      logger: this.logger,
      metrics: new RuleMetrics(o.registry ?? null),
      externalUrl: o.externalUrl,
      outageToleranceMs: o.outageToleranceMs ?? DEFAULT_OUTAGE_TOLERANCE_MS,
      forGracePeriodMs: o.forGracePeriodMs ?? DEFAULT_FOR_GRACE_PERIOD_MS,
      resendDelayMs: o.resendDelayMs ?? DEFAULT_RESEND_DELAY_MS,
      defaultQueryOffsetMs: () => this.queryOffsetMs,
      now: o.now ?? Date.now,
      timers: o.timers ?? realTimers,
      pause: this.pause,
    };
  }

  /**
   * Loads the rule files and replaces the running groups: unchanged groups
   * keep running untouched, changed ones take over the state of their
   * predecessor, removed ones stop and mark their series stale. On any error
   * nothing changes and RuleLoadError is thrown.
   */
  update(cfg: RuleConfig): Promise<void> {
    const run = this.updating.then(() => this.doUpdate(cfg));
    this.updating = run.catch(() => undefined);
    return run;
  }

  private async doUpdate(cfg: RuleConfig): Promise<void> {
    if (this.stopped) return;
    const { groups, errors } = this.loadGroups(cfg.intervalMs, cfg.externalLabels, cfg.files);
    if (errors.length === 0) {
      for (const b of cfg.builtin ?? []) {
        const r = this.builtinGroups(b, cfg.intervalMs, cfg.externalLabels);
        groups.push(...r.groups);
        errors.push(...r.errors);
      }
    }
    if (errors.length > 0) {
      for (const e of errors) this.logger.error('loading groups failed', { err: e.message });
      throw new RuleLoadError(errors);
    }
    this.restored = true;
    this.queryOffsetMs = cfg.queryOffsetMs;
    // A file named twice (overlapping globs) yields its groups once, the last ones winning as in Prometheus's map.
    const loaded = new Map<string, Group>();
    for (const g of groups) loaded.set(groupKey(g.file, g.name), g);
    const next = new Map<string, Group>();
    const starting: Array<Promise<void>> = [];
    for (const [key, g] of loaded) {
      const old = this.groups.get(key);
      this.groups.delete(key);
      if (old !== undefined && old.equals(g)) {
        next.set(key, old);
        continue;
      }
      next.set(key, g);
      starting.push(
        (async () => {
          if (old !== undefined) {
            await old.stop();
            g.copyState(old);
          }
          g.start();
        })(),
      );
    }
    const stopping = [...this.groups.entries()].map(async ([key, g]) => {
      await g.stop(true);
      this.deps.metrics.deleteGroup(key);
      if (g.hasPendingStaleMarkers()) this.removed.add(g);
    });
    await Promise.all([...starting, ...stopping]);
    this.groups = next;
    for (const g of this.removed) if (!g.hasPendingStaleMarkers()) this.removed.delete(g);
  }

  /**
   * Builds the groups of the rule files without starting them (`test rules`
   * drives group.eval itself). Alerting rules of a manager that never loaded
   * rules start unrestored, as after a restart.
   */
  loadGroups(intervalMs: number, externalLabels: Labels, files: readonly string[], externalUrl = this.deps.externalUrl): { groups: Group[]; errors: RuleFileError[] } {
    const { groups: defs, errors } = loadRuleFiles(files, { features: this.features, logger: this.logger });
    if (errors.length > 0) return { groups: [], errors };
    const shouldRestore = !this.restored;
    const deps = externalUrl === this.deps.externalUrl ? this.deps : { ...this.deps, externalUrl };
    const groups = defs.map((d) => this.buildGroup(d, intervalMs, externalLabels, externalUrl, shouldRestore, deps));
    return { groups, errors: [] };
  }

  /** The groups of built-in rules, reading their own queryable. */
  private builtinGroups(b: BuiltinRules, intervalMs: number, externalLabels: Labels): { groups: Group[]; errors: RuleFileError[] } {
    const { groups: defs, errors } = parseRuleFile(b.text, b.file, { features: this.features, logger: this.logger });
    if (errors.length > 0) return { groups: [], errors };
    // Never shed by the memory guard: these groups are how the user hears of the memory pressure, and they cost a few ms.
    const deps: GroupDeps = { ...this.deps, queryable: b.queryable(this.deps.queryable), pause: NEVER_PAUSED };
    const prepare = (ts: number): Promise<void> => b.prepare(ts);
    return { groups: defs.map((d) => this.buildGroup(d, intervalMs, externalLabels, this.deps.externalUrl, !this.restored, deps, prepare)), errors: [] };
  }

  private buildGroup(
    d: RuleGroupDef,
    intervalMs: number,
    externalLabels: Labels,
    externalUrl: string,
    shouldRestore: boolean,
    deps: GroupDeps,
    prepare?: (ts: number) => Promise<void>,
  ): Group {
    const rules: Rule[] = d.rules.map((r) => {
      const b: LabelsBuilder = d.labels.builder();
      r.labels.forEach((n, v) => b.set(n, v));
      const labels = b.labels();
      // A rule's own non-empty value overrides the group's empty one and the reverse.
      const removed = [...d.removedLabels.filter((n) => !r.labels.has(n)), ...r.removedLabels];
      const expr = exprToString(parseExpr(r.expr, { features: this.features }));
      if (r.alert !== undefined) {
        return new AlertingRule({
          name: r.alert,
          expr,
          holdDurationMs: r.forMs,
          keepFiringForMs: r.keepFiringForMs,
          labels: labels.without(...removed),
          removedLabels: removed,
          annotations: r.annotations,
          externalLabels,
          externalUrl,
          restored: !shouldRestore,
          logger: this.logger.with({ alert: r.alert }),
        });
      }
      return new RecordingRule(r.record ?? '', expr, labels.without(...removed), removed);
    });
    return new Group(
      {
        name: d.name,
        file: d.file,
        intervalMs: d.intervalMs !== 0 ? d.intervalMs : intervalMs,
        limit: d.limit,
        queryOffsetMs: d.queryOffsetMs,
        rules,
        shouldRestore,
        externalLabels,
        prepare,
      },
      deps,
    );
  }

  /**
   * Sheds rule evaluation: while `skip` is set, a group for which it answers true (given the group's
   * last evaluation time in ms) skips its iterations, counted as missed; null resumes them all.
   */
  setPaused(skip: ((lastEvaluationMs: number) => boolean) | null): void {
    this.pause.skip = skip;
  }

  /** The groups, sorted by file, then name. */
  ruleGroups(): Group[] {
    return [...this.groups.values()].sort((a, b) => cmp(a.file, b.file) || cmp(a.name, b.name));
  }

  rules(): Rule[] {
    return this.ruleGroups().flatMap((g) => [...g.rules]);
  }

  alertingRules(): AlertingRule[] {
    return this.rules().filter((r): r is AlertingRule => r instanceof AlertingRule);
  }

  /** Stops every group (waiting for running evaluations); pending staleness markers are dropped. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.updating;
    await Promise.all([...this.groups.values()].map((g) => g.stop()));
    for (const g of this.removed) g.cancelStaleMarkers();
    this.removed.clear();
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
