// An alerting rule: its expression's result becomes alerts that go pending,
// fire after `for`, keep firing for `keep_firing_for`, and once resolved are
// kept (and re-sent) for 15 minutes; ALERTS and ALERTS_FOR_STATE samples
// describe them, and the `for` state is restored after a restart
// (Prometheus's rules.AlertingRule).
import { Labels, LabelsBuilder, METRIC_NAME, type Label } from '../model/labels.js';
import { MatchType, Matcher } from '../model/matcher.js';
import { isStaleNaN } from '../model/value.js';
import { nopLogger, type Logger } from '../logging/types.js';
import type { InstantSample } from '../promql/engine/types.js';
import { ValueType, type Querier } from '../storage/interface.js';
import { compileAlertTemplate, type AlertTemplate, type TemplateQueryFunc } from '../template/template.js';
import { ActiveAlert, UNSET, type Alert, type AlertState, type RuleState } from './alert.js';
import { LabelsMap, LabelsSet } from './labels_map.js';
import { RuleLimitError } from './recording_rule.js';
import { BaseRule, mayCollide, overrideLabels, sortedPairs, type Rule, type RuleEvalContext } from './rule.js';

export const ALERT_METRIC_NAME = 'ALERTS';
export const ALERT_FOR_STATE_METRIC_NAME = 'ALERTS_FOR_STATE';
export const ALERT_NAME_LABEL = 'alertname';
export const ALERT_STATE_LABEL = 'alertstate';

/** How long a resolved alert is kept, and so re-sent, so that Alertmanager hears of the resolution. */
export const RESOLVED_RETENTION_MS = 15 * 60_000;

/** Called with the expression and the alerts due for (re)sending. */
export type NotifyFunc = (expr: string, alerts: readonly Alert[]) => void;

export class DuplicateAlertLabelSetError extends Error {
  override name = 'DuplicateAlertLabelSetError';
}

export interface AlertingRuleOptions {
  name: string;
  /** The expression as printed. */
  expr: string;
  holdDurationMs?: number;
  keepFiringForMs?: number;
  labels?: Labels;
  /** Rule labels with an empty value: removed from the alerts. */
  removedLabels?: readonly string[];
  annotations?: Labels;
  externalLabels?: Labels;
  externalUrl?: string;
  /** False until the `for` state was restored: no ALERTS samples are written before. */
  restored?: boolean;
  logger?: Logger;
}

/** A label or annotation value: fixed text, or a template expanded per alert. */
interface TemplatedValue {
  readonly name: string;
  readonly text: string;
  readonly tmpl: AlertTemplate | null;
}

function compileValues(list: Labels, tmplName: string): TemplatedValue[] {
  const out: TemplatedValue[] = [];
  list.forEach((name, text) => {
    // Text without an action expands to itself.
    out.push({ name, text, tmpl: text.includes('{{') ? compileAlertTemplate(text, tmplName) : null });
  });
  return out;
}

export class AlertingRule extends BaseRule implements Rule {
  readonly kind = 'alerting';
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly holdDurationMs: number;
  readonly keepFiringForMs: number;
  private readonly alertName: string;
  private readonly expr: string;
  private readonly removedLabels: readonly string[];
  private readonly externalLabels: Labels;
  private readonly externalUrl: string;
  private readonly logger: Logger;
  private readonly labelValues: TemplatedValue[];
  private readonly annotationValues: TemplatedValue[];
  /** Annotations when none is templated: one Labels shared by every alert. */
  private readonly staticAnnotations: Labels | null;
  private readonly labelsTemplated: boolean;
  /** Without label templates: the rule labels and alertname, sorted, set on every alert; __name__ and removed labels dropped. */
  private readonly setPairs: readonly string[];
  private readonly dropNames: ReadonlySet<string>;
  /** Label names other than __name__ the rule sets or removes. */
  private readonly touched: readonly string[];
  private restored: boolean;
  /** Pending, firing, and resolved alerts still kept; keyed by their labels. */
  private active = new LabelsMap<ActiveAlert>();
  /** Counts evaluations; alerts remember the last one that returned them. */
  private evalSeq = 0;

  constructor(o: AlertingRuleOptions) {
    super();
    this.alertName = o.name;
    this.expr = o.expr;
    this.holdDurationMs = o.holdDurationMs ?? 0;
    this.keepFiringForMs = o.keepFiringForMs ?? 0;
    this.labels = o.labels ?? Labels.EMPTY;
    this.removedLabels = o.removedLabels ?? [];
    this.annotations = o.annotations ?? Labels.EMPTY;
    this.externalLabels = o.externalLabels ?? Labels.EMPTY;
    this.externalUrl = o.externalUrl ?? '';
    this.restored = o.restored ?? true;
    this.logger = o.logger ?? nopLogger;
    const tmplName = `__alert_${o.name}`;
    this.labelValues = compileValues(this.labels, tmplName);
    this.annotationValues = compileValues(this.annotations, tmplName);
    const annotationsTemplated = this.annotationValues.some((v) => v.tmpl !== null);
    this.staticAnnotations = annotationsTemplated ? null : this.annotations;
    this.labelsTemplated = this.labelValues.some((v) => v.tmpl !== null);
    this.setPairs = sortedPairs(this.labels.without(...this.removedLabels), ALERT_NAME_LABEL, o.name);
    this.dropNames = new Set([METRIC_NAME, ...this.removedLabels]);
    this.touched = [...this.labels.toPairs().filter((_, i) => i % 2 === 0), ...this.removedLabels, ALERT_NAME_LABEL];
  }

  name(): string {
    return this.alertName;
  }

  query(): string {
    return this.expr;
  }

  definitionKey(): string {
    return JSON.stringify([
      'alert',
      this.alertName,
      this.expr,
      this.holdDurationMs,
      this.keepFiringForMs,
      this.labels.toPairs(),
      this.removedLabels,
      this.annotations.toPairs(),
    ]);
  }

  isRestored(): boolean {
    return this.restored;
  }

  setRestored(restored: boolean): void {
    this.restored = restored;
  }

  async eval(ctx: RuleEvalContext): Promise<InstantSample[]> {
    const ts = ctx.ts;
    const res = await ctx.query(this.expr, ts - ctx.queryOffsetMs);
    const seq = ++this.evalSeq;
    // Only needed when relabelling may make two alerts equal.
    const found = this.labelsTemplated || mayCollide(res, this.touched) ? new LabelsSet() : null;
    const lbsList: Labels[] = new Array<Labels>(res.length);
    const annList: Labels[] = new Array<Labels>(res.length);
    const queryFunc: TemplateQueryFunc = async (q, t) => (await ctx.query(q, t)).map((s) => ({ labels: s.metric, value: s.f }));
    for (let i = 0; i < res.length; i++) {
      const smpl = res[i]!; // i < res.length
      let annotations = this.staticAnnotations;
      // Replaced below when label templates need expanding.
      let lbs = this.labelsTemplated ? Labels.EMPTY : overrideLabels(smpl.metric, this.setPairs, this.dropNames);
      if (this.labelsTemplated || annotations === null) {
        const data = { labels: smpl.metric, externalLabels: this.externalLabels, externalUrl: this.externalUrl, value: smpl.f };
        const opts = { timestampMs: ts, queryFunc, externalUrl: ctx.externalUrl };
        if (this.labelsTemplated) {
          const b = new LabelsBuilder(smpl.metric).del(METRIC_NAME);
          for (const v of this.labelValues) b.set(v.name, v.tmpl === null ? v.text : await this.expand(v.tmpl, data, opts));
          if (this.removedLabels.length > 0) b.del(...this.removedLabels);
          b.set(ALERT_NAME_LABEL, this.alertName);
          lbs = b.labels();
        }
        if (annotations === null) {
          const list: Label[] = [];
          for (const v of this.annotationValues) list.push({ name: v.name, value: v.tmpl === null ? v.text : await this.expand(v.tmpl, data, opts) });
          annotations = Labels.fromList(list);
        }
      }
      if (found !== null && !found.add(lbs)) throw new DuplicateAlertLabelSetError('vector contains metrics with the same labelset after applying alert labels');
      lbsList[i] = lbs;
      annList[i] = annotations!; // set above in both branches
    }

    for (let i = 0; i < res.length; i++) {
      const lbs = lbsList[i]!;
      const a = this.active.get(lbs);
      if (a !== undefined && a.state !== 'inactive') {
        a.value = res[i]!.f;
        a.annotations = annList[i]!;
        a.seen = seq;
        continue;
      }
      const fresh = new ActiveAlert(lbs, annList[i]!, res[i]!.f, ts);
      fresh.seen = seq;
      this.active.set(lbs, fresh);
    }

    const outTs = ts - ctx.queryOffsetMs;
    const vec: InstantSample[] = [];
    const drop: Labels[] = [];
    let numActivePending = 0;
    this.active.forEach((a, lbs) => {
      if (a.seen !== seq) {
        let keepFiring = false;
        if (a.state === 'firing' && this.keepFiringForMs > 0) {
          if (a.keepFiringSince === UNSET) a.keepFiringSince = ts;
          if (ts - a.keepFiringSince < this.keepFiringForMs) keepFiring = true;
        }
        // Resolved alerts stay for a while, so that a lost resolution is sent again.
        if (a.state === 'pending' || (a.resolvedAt !== UNSET && ts - a.resolvedAt > RESOLVED_RETENTION_MS)) drop.push(lbs);
        if (a.state !== 'inactive' && !keepFiring) {
          a.state = 'inactive';
          a.resolvedAt = ts;
        }
        if (!keepFiring) return;
      } else {
        a.keepFiringSince = UNSET;
      }
      numActivePending++;
      if (a.state === 'pending' && ts - a.activeAt >= this.holdDurationMs) {
        a.state = 'firing';
        a.firedAt = ts;
      }
      // A longer `for` after a reload sends a firing alert back to pending.
      if (a.state === 'firing' && ts - a.activeAt < this.holdDurationMs) {
        a.state = 'pending';
        a.firedAt = UNSET;
        a.lastSentAt = UNSET;
        a.keepFiringSince = UNSET;
      }
      if (this.restored) {
        vec.push({ metric: this.alertsLabels(a), t: outTs, f: 1 });
        vec.push({ metric: this.forStateLabels(a), t: outTs, f: Math.floor(a.activeAt / 1000) });
      }
    });
    for (const lbs of drop) this.active.delete(lbs);

    if (ctx.limit > 0 && numActivePending > ctx.limit) {
      this.active = new LabelsMap<ActiveAlert>();
      throw new RuleLimitError(`exceeded limit of ${ctx.limit} with ${numActivePending} alerts`);
    }
    return vec;
  }

  private async expand(
    tmpl: AlertTemplate,
    data: { labels: Labels; externalLabels: Labels; externalUrl: string; value: number },
    opts: { timestampMs: number; queryFunc: TemplateQueryFunc; externalUrl: string },
  ): Promise<string> {
    try {
      return await tmpl.expand(data, opts);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.logger.warn('Expanding alert template failed', { err: msg, labels: data.labels.toString(), value: data.value });
      return `<error expanding template: ${msg}>`;
    }
  }

  /** ALERTS{...}: rule labels overridden by the alert's, its name and state; cached per state. */
  private alertsLabels(a: ActiveAlert): Labels {
    if (a.seriesLabels !== null && a.cachedState === a.state) return a.seriesLabels;
    const b = this.ruleLabelsUnder(a).set(METRIC_NAME, ALERT_METRIC_NAME).set(ALERT_NAME_LABEL, this.alertName).set(ALERT_STATE_LABEL, a.state);
    a.seriesLabels = b.labels();
    a.cachedState = a.state;
    return a.seriesLabels;
  }

  private forStateLabels(a: ActiveAlert | null): Labels {
    if (a !== null && a.forStateLabels !== null) return a.forStateLabels;
    const b = (a === null ? new LabelsBuilder(this.labels) : this.ruleLabelsUnder(a))
      .set(METRIC_NAME, ALERT_FOR_STATE_METRIC_NAME)
      .set(ALERT_NAME_LABEL, this.alertName);
    const ls = b.labels();
    if (a !== null) a.forStateLabels = ls;
    return ls;
  }

  private ruleLabelsUnder(a: ActiveAlert): LabelsBuilder {
    const b = new LabelsBuilder(a.labels);
    this.labels.forEach((n, v) => {
      if (!a.labels.has(n)) b.set(n, v);
    });
    return b;
  }

  /** The highest state of the alerts; 'unknown' before the first evaluation. */
  state(): RuleState {
    if (!this.wasEvaluated()) return 'unknown';
    let max: AlertState = 'inactive';
    this.active.forEach((a) => {
      if (a.state === 'firing') max = 'firing';
      else if (a.state === 'pending' && max === 'inactive') max = 'pending';
    });
    return max;
  }

  /** Pending and firing alerts (not the resolved ones still kept), sorted by labels, as copies. */
  activeAlerts(): Alert[] {
    const out: Alert[] = [];
    this.active.forEach((a) => {
      if (a.resolvedAt === UNSET) out.push(a.snapshot());
    });
    return out.sort((x, y) => Labels.compare(x.labels, y.labels));
  }

  /** Every alert held, resolved ones included, sorted by labels, as copies. */
  currentAlerts(): Alert[] {
    const out: Alert[] = [];
    this.active.forEach((a) => out.push(a.snapshot()));
    return out.sort((x, y) => Labels.compare(x.labels, y.labels));
  }

  activeAlertsCount(): number {
    return this.active.size;
  }

  /** Marks the alerts due for (re)sending as sent and hands copies of them to notify. */
  sendAlerts(ts: number, resendDelayMs: number, intervalMs: number, notify: NotifyFunc): void {
    const alerts: Alert[] = [];
    this.active.forEach((a) => {
      if (!a.needsSending(ts, resendDelayMs)) return;
      a.lastSentAt = ts;
      // Valid through two missed evaluations or Alertmanager sends.
      a.validUntil = ts + 4 * Math.max(intervalMs, resendDelayMs);
      alerts.push(a.snapshot());
    });
    if (alerts.length > 0) notify(this.expr, alerts);
  }

  /** Takes over the alerts of the rule this one replaces on a reload. */
  copyStateFrom(old: AlertingRule): void {
    old.active.forEach((a, lbs) => {
      // The old rule counted its evaluations differently.
      a.seen = -1;
      this.active.set(lbs, a);
    });
  }

  /**
   * Restores the alerts' activeAt from the last ALERTS_FOR_STATE samples in
   * `q` (which covers the outage tolerance up to ts), as Prometheus's
   * RestoreForState: an alert that was pending resumes where it stopped, one
   * that would fire within the grace period fires only after it.
   */
  restoreForState(q: Querier, ts: number, forGracePeriodMs: number): void {
    try {
      if (this.holdDurationMs < forGracePeriodMs) return;
      const matchers: Matcher[] = [];
      this.forStateLabels(null).forEach((n, v) => {
        // Templated values are expanded per alert and would not match the stored series.
        if (!v.includes('{{')) matchers.push(Matcher.create(MatchType.Equal, n, v));
      });
      const set = q.select(false, null, ...matchers);
      const byLabels = new LabelsMap<{ t: number; v: number }>();
      while (set.next()) {
        const s = set.at();
        const it = s.iterator();
        let t = NaN;
        let v = NaN;
        for (let vt = it.next(); vt !== ValueType.None; vt = it.next()) {
          // ALERTS_FOR_STATE holds floats; a histogram sample there is none of ours and is skipped.
          if (vt !== ValueType.Float) continue;
          t = it.t();
          v = it.v();
        }
        const err = it.err();
        if (err !== null) {
          this.logger.error("Failed to restore 'for' state", { alertname: this.alertName, stage: 'Iterator', err: err.message });
          continue;
        }
        if (!Number.isNaN(t)) byLabels.set(s.labels.without(METRIC_NAME), { t, v });
      }
      const err = set.err();
      if (err !== null) {
        this.logger.error("Failed to restore 'for' state", { alertname: this.alertName, stage: 'Select', err: err.message });
        return;
      }
      if (byLabels.size === 0) {
        this.logger.debug("No series found to restore the 'for' state of the alert rule", { alertname: this.alertName });
        return;
      }
      this.active.forEach((a) => {
        const last = byLabels.get(a.labels);
        if (last === undefined || isStaleNaN(last.v)) return;
        // Prometheus keeps these in whole seconds.
        const downAt = Math.floor(last.t / 1000) * 1000;
        let activeAt = Math.trunc(last.v) * 1000;
        const remaining = this.holdDurationMs - (downAt - activeAt);
        if (remaining <= 0) {
          // It was firing: the next evaluation fires it again.
        } else if (remaining < forGracePeriodMs) {
          activeAt = ts + forGracePeriodMs - this.holdDurationMs;
        } else {
          activeAt += ts - downAt;
        }
        a.activeAt = activeAt;
        this.logger.debug("'for' state restored", { alertname: this.alertName, restored_time: new Date(activeAt).toISOString(), labels: a.labels.toString() });
      });
    } finally {
      this.restored = true;
    }
  }
}
