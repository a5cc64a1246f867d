// The built-in rule group `tsprom-self`: alerts on tsprom's own health
// (memory, disk, query log, WAL, rules, notifications, scrape targets), on by
// default (--no-rules.self-monitoring turns it off). Its text lives here, not
// in a file, so that every way of starting tsprom has it. It reads the
// process's own metrics from the process (self_metrics.ts) and only `up` from
// the TSDB, so it works without a self-scrape.
import type { Registry } from 'prom-client';
import type { Logger } from '../logging/types.js';
import type { Queryable } from '../storage/interface.js';
import type { BuiltinRules } from './manager.js';
import { ProcessMetrics, routedQueryable } from './self_metrics.js';

/** The name shown as the group's file in /api/v1/rules; no such file exists. */
export const SELF_RULES_FILE = '<builtin>/tsprom-self.rules.yml';
export const SELF_RULES_GROUP = 'tsprom-self';

/** Metrics the group reads from the TSDB: made by scraping, not by this process. */
export const TSDB_METRICS: readonly string[] = ['up'];

/** The process's own metrics the group reads; each comes from its registry. */
export const PROCESS_METRICS: readonly string[] = [
  'process_resident_memory_bytes',
  'tsprom_memory_limit_bytes',
  'nodejs_heap_size_used_bytes',
  'tsprom_heap_limit_bytes',
  'tsprom_disk_free_bytes',
  'tsprom_disk_size_bytes',
  'tsprom_query_log_dropped_total',
  'prometheus_tsdb_wal_corruptions_total',
  'prometheus_tsdb_compactions_failed_total',
  'prometheus_rule_evaluation_failures_total',
  'prometheus_rule_group_iterations_missed_total',
  'prometheus_notifications_dropped_total',
  'prometheus_notifications_errors_total',
  'prometheus_notifications_sent_total',
  'prometheus_config_last_reload_successful',
];

/** The longest range the group's expressions read (predict_linear and the WAL alert look back 1h). */
export const SELF_RULES_MAX_RANGE_MS = 3_600_000;

export const SELF_RULES_YAML = `groups:
  - name: ${SELF_RULES_GROUP}
    # The values are read from the process at evaluation time: no offset needed.
    query_offset: 0s
    labels:
      source: tsprom-self
    rules:
      - alert: TspromMemoryNearLimit
        expr: process_resident_memory_bytes / tsprom_memory_limit_bytes > 0.85
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: tsprom memory use is near its limit
          description: 'Resident memory is {{ $value | humanizePercentage }} of the memory limit. Near the limit tsprom rejects new queries (503) to protect ingestion.'

      - alert: TspromHeapNearLimit
        expr: nodejs_heap_size_used_bytes / tsprom_heap_limit_bytes > 0.85
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: tsprom JavaScript heap is near its limit
          description: 'The JavaScript heap is {{ $value | humanizePercentage }} full; the process stops when it is exhausted.'

      - alert: TspromDiskNearlyFull
        expr: tsprom_disk_free_bytes / tsprom_disk_size_bytes < 0.05
        for: 5m
        labels:
          severity: critical
        annotations:
          summary: tsprom disk is nearly full
          description: 'Only {{ $value | humanizePercentage }} of the file system holding {{ $labels.path }} is free. When it is full, writes fail.'

      - alert: TspromDiskFillingUp
        expr: predict_linear(tsprom_disk_free_bytes[1h], 4 * 3600) < 0 and tsprom_disk_free_bytes / tsprom_disk_size_bytes < 0.4
        for: 15m
        labels:
          severity: warning
        annotations:
          summary: tsprom disk fills up fast
          description: 'At the rate of the last hour, the file system holding {{ $labels.path }} is full within 4 hours.'

      - alert: TspromQueryLogDropping
        expr: increase(tsprom_query_log_dropped_total[5m]) > 0
        labels:
          severity: warning
        annotations:
          summary: tsprom query log drops lines
          description: '{{ $value | humanize }} query log lines were dropped in the last 5 minutes (reason {{ $labels.reason }}: buffer_full, the disk is too slow; write_error, the file cannot be written; disk_low, paused because the disk is nearly full).'

      - alert: TspromWALCorruption
        expr: increase(prometheus_tsdb_wal_corruptions_total[1h]) > 0
        labels:
          severity: critical
        annotations:
          summary: tsprom found a corrupted WAL
          description: 'The WAL was corrupted and repaired {{ $value | humanize }} times in the last hour; samples after the corruption were lost.'

      - alert: TspromCompactionsFailing
        expr: increase(prometheus_tsdb_compactions_failed_total[1h]) > 0
        labels:
          severity: warning
        annotations:
          summary: tsprom TSDB compactions fail
          description: '{{ $value | humanize }} compactions failed in the last hour; the head keeps growing in memory.'

      - alert: TspromRuleEvaluationFailures
        expr: increase(prometheus_rule_evaluation_failures_total[5m]) > 0
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: tsprom rule evaluations fail
          description: '{{ $value | humanize }} rule evaluations of group {{ $labels.rule_group }} failed in the last 5 minutes.'

      - alert: TspromRuleGroupIterationsMissed
        expr: increase(prometheus_rule_group_iterations_missed_total[5m]) > 0
        for: 15m
        labels:
          severity: warning
        annotations:
          summary: tsprom rule group is slower than its interval
          description: 'Rule group {{ $labels.rule_group }} missed {{ $value | humanize }} evaluations in the last 5 minutes.'

      - alert: TspromTargetDown
        expr: up == 0
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: A scrape target is down
          description: 'Target {{ $labels.instance }} of job {{ $labels.job }} has failed every scrape for 5 minutes.'

      - alert: TspromNotificationsDropped
        expr: increase(prometheus_notifications_dropped_total[5m]) > 0
        labels:
          severity: warning
        annotations:
          summary: tsprom drops alert notifications
          description: '{{ $value | humanize }} alerts were dropped in the last 5 minutes: an Alertmanager refused them or the queue was full.'

      - alert: TspromAlertmanagerErrors
        expr: increase(prometheus_notifications_errors_total[5m]) / increase(prometheus_notifications_sent_total[5m]) > 0.01
        for: 15m
        labels:
          severity: warning
        annotations:
          summary: tsprom cannot send alerts to an Alertmanager
          description: 'Sending to {{ $labels.alertmanager }} failed for {{ $value | humanizePercentage }} of the alerts in the last 5 minutes.'

      - alert: TspromConfigReloadFailed
        expr: prometheus_config_last_reload_successful == 0
        for: 10m
        labels:
          severity: warning
        annotations:
          summary: tsprom configuration reload failed
          description: 'The last reload of the configuration failed; tsprom still runs the previous one. Its log says why.'
`;

// The history keeps one point per 15s: four per minute make increase() over
// 5m exact enough, and a series then costs (3600 / 15 + 2) * 16 B = 3.9 KiB.
const MIN_SPACING_MS = 15_000;
// The group reads a few dozen series (one per rule group, Alertmanager,
// watched path); the bound keeps a pathological count below 4 MiB.
const MAX_SERIES = 1000;

export interface SelfRulesOptions {
  registry: Registry;
  logger?: Logger;
}

/** The `tsprom-self` group as the rule manager takes built-in rules. */
export class SelfRules implements BuiltinRules {
  readonly file = SELF_RULES_FILE;
  readonly text = SELF_RULES_YAML;
  readonly metrics: ProcessMetrics;

  constructor(o: SelfRulesOptions) {
    this.metrics = new ProcessMetrics({
      registry: o.registry,
      names: PROCESS_METRICS,
      retentionMs: SELF_RULES_MAX_RANGE_MS,
      minSpacingMs: MIN_SPACING_MS,
      maxSeries: MAX_SERIES,
      metricsRegistry: o.registry,
      logger: o.logger,
    });
  }

  queryable(base: Queryable): Queryable {
    return routedQueryable(this.metrics, base);
  }

  prepare(ts: number): Promise<void> {
    return this.metrics.sample(ts);
  }
}
