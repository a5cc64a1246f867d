// The rule manager's own metrics, named, typed and labelled (rule_group="<file>;<group>") as Prometheus's.
import { Counter, Gauge, Histogram, Summary, type Registry } from 'prom-client';

const GROUP = ['rule_group'] as const;

export class RuleMetrics {
  readonly evalDuration: Summary;
  readonly evalDurationHistogram: Histogram;
  readonly iterationDuration: Summary;
  readonly iterationDurationHistogram: Histogram;
  readonly iterationsMissed: Counter<'rule_group'>;
  readonly iterationsScheduled: Counter<'rule_group'>;
  readonly evalTotal: Counter<'rule_group'>;
  readonly evalFailures: Counter<'rule_group'>;
  readonly groupInterval: Gauge<'rule_group'>;
  readonly groupLastEvalTime: Gauge<'rule_group'>;
  readonly groupLastDuration: Gauge<'rule_group'>;
  readonly groupLastRuleDurationSum: Gauge<'rule_group'>;
  readonly groupLastRestoreDuration: Gauge<'rule_group'>;
  readonly groupRules: Gauge<'rule_group'>;
  readonly groupSamples: Gauge<'rule_group'>;

  /** Without a registry the metrics are kept but exported nowhere (tests, `test rules`). */
  constructor(registry: Registry | null) {
    const registers = registry === null ? [] : [registry];
    // Prometheus's summaries: 10 minutes of observations in 5 buckets.
    const summary = { maxAgeSeconds: 600, ageBuckets: 5, registers };
    this.evalDuration = new Summary({
      name: 'prometheus_rule_evaluation_duration_seconds',
      help: 'The duration for a rule to execute.',
      percentiles: [0.5, 0.9, 0.99],
      ...summary,
    });
    this.evalDurationHistogram = new Histogram({
      name: 'prometheus_rule_evaluation_duration_histogram_seconds',
      help: 'The duration for a rule to execute.',
      buckets: [0.01, 0.1, 1, 10],
      registers,
    });
    this.iterationDuration = new Summary({
      name: 'prometheus_rule_group_duration_seconds',
      help: 'The duration of rule group evaluations.',
      percentiles: [0.01, 0.05, 0.5, 0.9, 0.99],
      ...summary,
    });
    this.iterationDurationHistogram = new Histogram({
      name: 'prometheus_rule_group_duration_histogram_seconds',
      help: 'The duration of rule group evaluations.',
      buckets: [0.01, 0.1, 1, 10],
      registers,
    });
    const counter = (name: string, help: string): Counter<'rule_group'> => new Counter({ name, help, labelNames: GROUP, registers });
    const gauge = (name: string, help: string): Gauge<'rule_group'> => new Gauge({ name, help, labelNames: GROUP, registers });
    this.iterationsMissed = counter(
      'prometheus_rule_group_iterations_missed_total',
      'The total number of rule group evaluations missed due to slow rule group evaluation.',
    );
    this.iterationsScheduled = counter(
      'prometheus_rule_group_iterations_total',
      'The total number of scheduled rule group evaluations, whether executed or missed.',
    );
    this.evalTotal = counter('prometheus_rule_evaluations_total', 'The total number of rule evaluations.');
    this.evalFailures = counter('prometheus_rule_evaluation_failures_total', 'The total number of rule evaluation failures.');
    this.groupInterval = gauge('prometheus_rule_group_interval_seconds', 'The interval of a rule group.');
    this.groupLastEvalTime = gauge('prometheus_rule_group_last_evaluation_timestamp_seconds', 'The timestamp of the last rule group evaluation in seconds.');
    this.groupLastDuration = gauge('prometheus_rule_group_last_duration_seconds', 'The duration of the last rule group evaluation.');
    this.groupLastRuleDurationSum = gauge(
      'prometheus_rule_group_last_rule_duration_sum_seconds',
      'The sum of time in seconds it took to evaluate each rule in the group regardless of concurrency. This should be higher than the group duration if rules are evaluated concurrently.',
    );
    this.groupLastRestoreDuration = gauge(
      'prometheus_rule_group_last_restore_duration_seconds',
      'The duration of the last alert rules alerts restoration using the `ALERTS_FOR_STATE` series.',
    );
    this.groupRules = gauge('prometheus_rule_group_rules', 'The number of rules.');
    this.groupSamples = gauge('prometheus_rule_group_last_evaluation_samples', 'The number of samples returned during the last rule group evaluation.');
  }

  /** Creates a group's series (0 before the first evaluation); a reloaded group's keep their values. */
  initGroup(key: string, numRules: number, intervalMs: number): void {
    const l = { rule_group: key };
    for (const c of [this.iterationsMissed, this.iterationsScheduled, this.evalTotal, this.evalFailures]) c.inc(l, 0);
    for (const g of [this.groupLastEvalTime, this.groupLastDuration, this.groupLastRuleDurationSum, this.groupSamples]) g.inc(l, 0);
    this.groupRules.set(l, numRules);
    this.groupInterval.set(l, intervalMs / 1000);
  }

  /** Drops a removed group's series. */
  deleteGroup(key: string): void {
    const l = { rule_group: key };
    for (const m of [this.iterationsMissed, this.iterationsScheduled, this.evalTotal, this.evalFailures]) m.remove(l);
    for (const g of [
      this.groupInterval,
      this.groupLastEvalTime,
      this.groupLastDuration,
      this.groupLastRuleDurationSum,
      this.groupLastRestoreDuration,
      this.groupRules,
      this.groupSamples,
    ]) {
      g.remove(l);
    }
  }
}
