// notifier: sends alerts to Alertmanager, as Prometheus's notifier package does.
// May import everything up to remote/ (config, model, relabel, logging, metrics,
// httpclient, discovery); never rules/ (its peer: cli/ connects the two).
//
// The notification manager: alerts handed to send() get the external labels and the
// global alert_relabel_configs, wait in one bounded queue, and leave it in batches that
// go to every discovered Alertmanager of every `alertmanagers` entry at once.
//
//   const n = new NotifierManager({ queueCapacity: 10000, registry, logger });
//   n.applyConfig(config);            // keeps unchanged Alertmanager sets and what they discovered
//   n.send(alerts);                   // never waits for the network
//   n.activeAlertmanagers();          // ['http://127.0.0.1:9093/api/v2/alerts']
//   await n.stop();                   // sends what is queued, within drainTimeoutMs
//
// When the queue is full the oldest alerts give way and are counted as dropped; a batch
// no Alertmanager of some entry took is counted as dropped too. Only one batch is in
// flight at a time, each post bounded by its entry's timeout.
import { Registry } from 'prom-client';
import type { Config, RelabelConfig } from '../config/types.js';
import { DiscoveryManager } from '../discovery/manager.js';
import type { DnsResolver } from '../discovery/discoverers.js';
import type { TargetGroup } from '../discovery/target_group.js';
import { nopLogger, type Logger } from '../logging/types.js';
import { buildInfo } from '../metrics/build.js';
import { Labels } from '../model/labels.js';
import { encodeAlerts, relabelAlerts, type NotifierAlert } from './alert.js';
import { AlertmanagerSet, configKey } from './alertmanager_set.js';
import { NotifierMetrics } from './metrics.js';

export type { NotifierAlert } from './alert.js';

/** Prometheus's --alertmanager.notification-queue-capacity default. */
export const DEFAULT_QUEUE_CAPACITY = 10000;

/** Prometheus's --alertmanager.notification-batch-size default: alerts per request. */
export const DEFAULT_MAX_BATCH_SIZE = 256;

/**
 * How long stop() keeps sending what is queued: the default timeout of one post to an
 * Alertmanager, so a shutdown waits for a dead Alertmanager no longer than a single
 * send would. Prometheus has no overall bound and may wait a timeout per batch.
 */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

export interface NotifierManagerOptions {
  /** Alerts waiting to be sent; the oldest are dropped beyond it. */
  queueCapacity?: number;
  maxBatchSize?: number;
  /** Prometheus's --alertmanager.drain-notification-queue-on-shutdown (default true). */
  drainOnShutdown?: boolean;
  drainTimeoutMs?: number;
  registry?: Registry;
  logger?: Logger;
  /** Clock in milliseconds for the latency metrics. */
  now?: () => number;
  /** Passed to the discovery manager: Prometheus batches discovery changes for 5s. */
  discoveryUpdateIntervalMs?: number;
  dnsResolver?: DnsResolver;
}

export class NotifierManager {
  private readonly capacity: number;
  private readonly maxBatchSize: number;
  private readonly drainOnShutdown: boolean;
  private readonly drainTimeoutMs: number;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly userAgent: string;
  private readonly metrics: NotifierMetrics;
  private readonly discovery: DiscoveryManager;
  /** Oldest first; never longer than capacity. */
  private queue: NotifierAlert[] = [];
  /** By Prometheus's keys "config-<index in alerting.alertmanagers>", in that order. */
  private sets = new Map<string, AlertmanagerSet>();
  private externalLabels: Labels = Labels.EMPTY;
  private relabelConfigs: readonly RelabelConfig[] = [];
  /** The running send loop, if any. */
  private loop: Promise<void> | null = null;
  private stopping = false;
  private stopped: Promise<void> | null = null;
  /** Aborts the posts still running when the drain bound is reached. */
  private readonly shutdown = new AbortController();

  constructor(opts: NotifierManagerOptions = {}) {
    this.capacity = opts.queueCapacity ?? DEFAULT_QUEUE_CAPACITY;
    this.maxBatchSize = opts.maxBatchSize !== undefined && opts.maxBatchSize > 0 ? opts.maxBatchSize : DEFAULT_MAX_BATCH_SIZE;
    this.drainOnShutdown = opts.drainOnShutdown ?? true;
    this.drainTimeoutMs = opts.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    this.logger = opts.logger ?? nopLogger;
    this.now = opts.now ?? (() => performance.now());
    this.userAgent = `tsprom/${buildInfo().version}`;
    const registry = opts.registry ?? new Registry();
    this.metrics = new NotifierMetrics(
      registry,
      this.capacity,
      () => this.queue.length,
      () => this.activeAlertmanagers().length,
    );
    this.discovery = new DiscoveryManager((updates) => this.reload(updates), {
      name: 'notify',
      registry,
      logger: this.logger,
      updateIntervalMs: opts.discoveryUpdateIntervalMs,
      dnsResolver: opts.dnsResolver,
      userAgent: this.userAgent,
    });
  }

  /**
   * Takes the alerting section and external labels of a (validated) configuration. An
   * `alertmanagers` entry whose configuration did not change keeps its Alertmanagers
   * without waiting for discovery.
   */
  applyConfig(cfg: Config): void {
    if (this.stopping) return;
    this.externalLabels = cfg.global.externalLabels;
    this.relabelConfigs = cfg.alerting.alertRelabelConfigs;
    const old = new Map<string, AlertmanagerSet>();
    for (const s of this.sets.values()) old.set(s.configKey, s);
    const kept = new Set<AlertmanagerSet>();
    const next = new Map<string, AlertmanagerSet>();
    cfg.alerting.alertmanagers.forEach((amCfg, i) => {
      const key = `config-${i}`;
      const prev = old.get(configKey(amCfg));
      if (prev !== undefined && !kept.has(prev)) {
        kept.add(prev);
        next.set(key, prev);
        return;
      }
      // A second entry with the same configuration gets its own set, seeded alike.
      const fresh = new AlertmanagerSet(amCfg, this.metrics, this.logger);
      if (prev !== undefined) fresh.adopt(prev);
      next.set(key, fresh);
    });
    for (const s of this.sets.values()) if (!kept.has(s)) s.retire();
    this.sets = next;
    this.discovery.applyConfig(new Map([...next].map(([key, s]) => [key, s.cfg])));
    // Discoverers that kept running (same service discovery, other settings) send no
    // update of their own: new sets start from what they already found.
    for (const [key, s] of next) {
      if (!kept.has(s) && s.alertmanagers.length === 0) s.sync(this.discovery.groups(key));
    }
  }

  /** Queues alerts for sending; returns at once. */
  send(alerts: readonly NotifierAlert[]): void {
    if (this.stopping) return;
    let add = relabelAlerts(this.relabelConfigs, this.externalLabels, alerts);
    if (add.length === 0) return;
    // The queue should be much larger than one batch of alerts; keep the newest if not.
    if (add.length > this.capacity) {
      const d = add.length - this.capacity;
      add = add.slice(d);
      this.logger.warn('Alert batch larger than queue capacity, dropping alerts', { num_dropped: d });
      this.metrics.dropped.inc(d);
    }
    const over = this.queue.length + add.length - this.capacity;
    if (over > 0) {
      this.queue.splice(0, over);
      this.logger.warn('Alert notification queue full, dropping alerts', { num_dropped: over });
      this.metrics.dropped.inc(over);
    }
    for (const a of add) this.queue.push(a);
    this.startLoop();
  }

  /** URLs of the Alertmanagers alerts go to. */
  activeAlertmanagers(): string[] {
    const out: string[] = [];
    for (const s of this.sets.values()) out.push(...s.alertmanagers);
    return out;
  }

  /** URLs of the Alertmanagers relabeling dropped. */
  droppedAlertmanagers(): string[] {
    const out: string[] = [];
    for (const s of this.sets.values()) out.push(...s.dropped);
    return out;
  }

  /**
   * Stops discovery and accepting alerts, then sends what is queued (unless draining is
   * off) for at most drainTimeoutMs; what is left then is counted as dropped.
   */
  stop(): Promise<void> {
    if (this.stopped !== null) return this.stopped;
    this.logger.info('Stopping notification manager...');
    this.stopping = true;
    this.discovery.stop();
    this.stopped = this.drain();
    return this.stopped;
  }

  private async drain(): Promise<void> {
    const bound = setTimeout(() => this.shutdown.abort(), this.drainTimeoutMs);
    try {
      // The loop sees `stopping` and ends after its current batch.
      await this.loop;
      if (this.drainOnShutdown) {
        this.logger.info('Draining any remaining notifications...');
        while (this.queue.length > 0 && !this.shutdown.signal.aborted) await this.sendOneBatch();
      }
      if (this.queue.length > 0) {
        this.logger.warn('Notifications left unsent on shutdown were dropped', { count: this.queue.length });
        this.metrics.dropped.inc(this.queue.length);
        this.queue = [];
      } else if (this.drainOnShutdown) {
        this.logger.info('Remaining notifications drained');
      }
    } finally {
      clearTimeout(bound);
      for (const s of this.sets.values()) s.retire();
      this.logger.info('Notification manager stopped');
    }
  }

  private reload(updates: ReadonlyMap<string, readonly TargetGroup[]>): void {
    for (const [key, groups] of updates) {
      // Sets removed by the last applyConfig get one last, empty update: nothing to do.
      this.sets.get(key)?.sync(groups);
    }
  }

  private startLoop(): void {
    if (this.loop !== null || this.stopping) return;
    this.loop = this.sendLoop().finally(() => {
      this.loop = null;
      // Alerts queued between the loop's last look and now.
      if (this.queue.length > 0) this.startLoop();
    });
  }

  private async sendLoop(): Promise<void> {
    // Let the caller's burst of send() calls (one rule group evaluation) fill the batch first.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.queue.length > 0 && !this.stopping) await this.sendOneBatch();
  }

  private async sendOneBatch(): Promise<void> {
    const batch = this.queue.splice(0, this.maxBatchSize);
    if (!(await this.sendAll(batch))) this.metrics.dropped.inc(batch.length);
  }

  /**
   * Posts the batch to every Alertmanager of every set at once. True when every set that
   * had Alertmanagers (and alerts left after its alert_relabel_configs) took it at least once.
   */
  private async sendAll(alerts: readonly NotifierAlert[]): Promise<boolean> {
    if (alerts.length === 0) return true;
    const begin = this.now();
    let shared: Buffer | null = null;
    const posts: Promise<void>[] = [];
    const covered = new Map<AlertmanagerSet, boolean>();
    for (const set of this.sets.values()) {
      const urls = set.alertmanagers;
      if (urls.length === 0) continue;
      let amAlerts: readonly NotifierAlert[] = alerts;
      let body: Buffer;
      if (set.cfg.alertRelabelConfigs.length > 0) {
        amAlerts = relabelAlerts(set.cfg.alertRelabelConfigs, Labels.EMPTY, alerts);
        if (amAlerts.length === 0) continue;
        body = encodeAlerts(amAlerts);
      } else {
        shared ??= encodeAlerts(alerts);
        body = shared;
      }
      covered.set(set, false);
      const count = amAlerts.length;
      for (const url of urls) {
        posts.push(
          set.post(url, body, { userAgent: this.userAgent, signal: this.shutdown.signal }).then(
            () => {
              covered.set(set, true);
              this.observe(url, begin, count);
            },
            (e: unknown) => {
              this.logger.error('Error sending alerts', { alertmanager: url, count, err: e instanceof Error ? e.message : String(e) });
              this.metrics.errors.inc({ alertmanager: url }, count);
              this.observe(url, begin, count);
            },
          ),
        );
      }
    }
    await Promise.all(posts);
    for (const ok of covered.values()) if (!ok) return false;
    return true;
  }

  /** As Prometheus does, latency and sent_total count every attempt, failed ones too. */
  private observe(url: string, begin: number, count: number): void {
    this.metrics.observeSend(url, (this.now() - begin) / 1000, count);
  }
}
