// discovery: service discovery (static, file, HTTP, DNS) producing target groups.
// Imports model, config, logging and httpclient; nothing of scrape/.
//
// The discovery manager: runs the discoverers of every scrape pool (or alertmanager
// set) and hands the merged target groups per pool to a consumer.
//
//   const dm = new DiscoveryManager((updates) => ..., { registry, logger });
//   dm.applyConfig(new Map([['job', scrapeConfig]]));   // keeps unchanged discoverers running
//   dm.stop();
//
// Updates are batched: the consumer hears about changed pools at most once per
// updateIntervalMs (Prometheus's 5 seconds), the first time at once.
import { promises as dnsPromises } from 'node:dns';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ServiceDiscoveryConfigs } from '../config/types.js';
import { nopLogger, type Logger } from '../logging/types.js';
import {
  DnsDiscoverer,
  FileDiscoverer,
  HttpDiscoverer,
  StaticDiscoverer,
  type Discoverer,
  type DiscoveryMetrics,
  type DnsResolver,
} from './discoverers.js';
import type { TargetGroup } from './target_group.js';

export interface DiscoveryManagerOptions {
  logger?: Logger;
  registry?: Registry;
  /** Minimum time between two consumer updates. Prometheus batches for 5s; tests use less. */
  updateIntervalMs?: number;
  /** The manager's name in metrics ("scrape" or "notify"). */
  name?: string;
  /** Resolver for dns_sd_configs; the system's by default. */
  dnsResolver?: DnsResolver;
  userAgent?: string;
}

export type UpdateCallback = (updates: ReadonlyMap<string, readonly TargetGroup[]>) => void;

/** Prometheus's 5s: a burst of discovery changes (a deploy) reaches the scrape pools as one sync. */
const DEFAULT_UPDATE_INTERVAL_MS = 5000;

interface Provider {
  readonly key: string;
  readonly pool: string;
  readonly discoverer: Discoverer;
  /** Latest group per source. */
  readonly groups: Map<string, TargetGroup>;
}

export class DiscoveryManager {
  private readonly logger: Logger;
  private readonly updateIntervalMs: number;
  private readonly name: string;
  private readonly resolver: DnsResolver;
  private readonly userAgent: string;
  private readonly metrics: DiscoveryMetrics;
  private readonly discoveredTargets: Gauge<'config' | 'name'>;
  private readonly receivedUpdates: Counter<'name'>;
  private readonly sentUpdates: Counter<'name'>;
  /** Providers by key; each belongs to one pool. */
  private providers = new Map<string, Provider>();
  private pools = new Set<string>();
  private readonly dirty = new Set<string>();
  private lastFlush = -Infinity;
  private flushTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly onUpdate: UpdateCallback,
    opts: DiscoveryManagerOptions = {},
  ) {
    this.logger = opts.logger ?? nopLogger;
    this.updateIntervalMs = opts.updateIntervalMs ?? DEFAULT_UPDATE_INTERVAL_MS;
    this.name = opts.name ?? 'scrape';
    this.resolver = opts.dnsResolver ?? new dnsPromises.Resolver();
    this.userAgent = opts.userAgent ?? 'tsprom';
    const registry = opts.registry ?? new Registry();
    const registers = [registry];
    this.metrics = {
      fileReadErrors: getOrCreate(registry, () => new Counter({ name: 'prometheus_sd_file_read_errors_total', help: 'The number of File-SD read errors.', registers })),
      fileScanDuration: getOrCreate(registry, () => new Histogram({ name: 'prometheus_sd_file_scan_duration_seconds', help: 'The duration of the File-SD scan in seconds.', registers })),
      httpFailures: getOrCreate(registry, () => new Counter({ name: 'prometheus_sd_http_failures_total', help: 'Number of HTTP service discovery refresh failures.', registers })),
      dnsLookups: getOrCreate(registry, () => new Counter({ name: 'prometheus_sd_dns_lookups_total', help: 'The number of DNS-SD lookups.', registers })),
      dnsLookupFailures: getOrCreate(registry, () => new Counter({ name: 'prometheus_sd_dns_lookup_failures_total', help: 'The number of DNS-SD lookup failures.', registers })),
      refreshFailures: getOrCreate(registry, () => new Counter({ name: 'prometheus_sd_refresh_failures_total', help: 'Number of refresh failures for the given SD mechanism.', labelNames: ['mechanism', 'config'] as const, registers })),
    };
    this.discoveredTargets = getOrCreate(registry, () => new Gauge({ name: 'prometheus_sd_discovered_targets', help: 'Current number of discovered targets.', labelNames: ['config', 'name'] as const, registers }));
    this.receivedUpdates = getOrCreate(registry, () => new Counter({ name: 'prometheus_sd_received_updates_total', help: 'Total number of update events received from the SD providers.', labelNames: ['name'] as const, registers }));
    this.sentUpdates = getOrCreate(registry, () => new Counter({ name: 'prometheus_sd_updates_total', help: 'Total number of update events sent to the SD consumers.', labelNames: ['name'] as const, registers }));
  }

  /**
   * Sets the discovery configuration of every pool. Discoverers whose configuration did
   * not change keep running with their current targets; removed pools get an empty update.
   */
  applyConfig(pools: ReadonlyMap<string, ServiceDiscoveryConfigs>): void {
    if (this.stopped) throw new Error('BUG: DiscoveryManager used after stop()');
    const wanted = new Map<string, { pool: string; make: () => Discoverer }>();
    for (const [pool, sd] of pools) {
      // One static discoverer per pool even without static configs, so the pool always hears an update.
      wanted.set(providerKey(pool, 'static', sd.staticConfigs), { pool, make: () => new StaticDiscoverer(sd.staticConfigs) });
      sd.fileSdConfigs.forEach((c, i) => wanted.set(providerKey(pool, `file/${i}`, c), { pool, make: () => new FileDiscoverer(c, this.logger.with({ discovery: 'file', config: pool }), this.metrics) }));
      sd.httpSdConfigs.forEach((c, i) =>
        wanted.set(providerKey(pool, `http/${i}`, c), { pool, make: () => new HttpDiscoverer(c, this.logger.with({ discovery: 'http', config: pool }), this.metrics, this.userAgent) }),
      );
      sd.dnsSdConfigs.forEach((c, i) => wanted.set(providerKey(pool, `dns/${i}`, c), { pool, make: () => new DnsDiscoverer(c, this.logger.with({ discovery: 'dns', config: pool }), this.metrics, this.resolver) }));
    }
    const next = new Map<string, Provider>();
    for (const [key, p] of this.providers) {
      if (wanted.has(key)) next.set(key, p);
      else {
        p.discoverer.stop();
        this.markDirty(p.pool);
      }
    }
    const started: Provider[] = [];
    for (const [key, w] of wanted) {
      if (next.has(key)) continue;
      const p: Provider = { key, pool: w.pool, discoverer: w.make(), groups: new Map() };
      next.set(key, p);
      started.push(p);
    }
    for (const pool of this.pools) if (!pools.has(pool)) this.markDirty(pool);
    this.providers = next;
    this.pools = new Set(pools.keys());
    for (const p of started) {
      this.markDirty(p.pool);
      p.discoverer.start((groups) => this.receive(p, groups));
    }
  }

  /** The current groups of one pool. */
  groups(pool: string): TargetGroup[] {
    const out: TargetGroup[] = [];
    for (const p of this.providers.values()) if (p.pool === pool) out.push(...p.groups.values());
    return out;
  }

  stop(): void {
    this.stopped = true;
    for (const p of this.providers.values()) p.discoverer.stop();
    this.providers.clear();
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
  }

  private receive(p: Provider, groups: readonly TargetGroup[]): void {
    if (this.stopped || this.providers.get(p.key) !== p) return;
    this.receivedUpdates.inc({ name: this.name });
    for (const g of groups) {
      if (g.targets.length === 0) p.groups.delete(g.source);
      else p.groups.set(g.source, g);
    }
    this.markDirty(p.pool);
  }

  private markDirty(pool: string): void {
    this.dirty.add(pool);
    if (this.flushTimer !== null || this.stopped) return;
    const wait = Math.max(0, this.lastFlush + this.updateIntervalMs - performance.now());
    this.flushTimer = setTimeout(() => this.flush(), wait);
    this.flushTimer.unref();
  }

  private flush(): void {
    this.flushTimer = null;
    if (this.stopped) return;
    this.lastFlush = performance.now();
    const updates = new Map<string, TargetGroup[]>();
    for (const pool of this.dirty) {
      const groups = this.pools.has(pool) ? this.groups(pool) : [];
      updates.set(pool, groups);
      let n = 0;
      for (const g of groups) n += g.targets.length;
      if (this.pools.has(pool)) this.discoveredTargets.set({ config: pool, name: this.name }, n);
      else this.discoveredTargets.remove({ config: pool, name: this.name });
    }
    this.dirty.clear();
    if (updates.size === 0) return;
    this.sentUpdates.inc({ name: this.name });
    try {
      this.onUpdate(updates);
    } catch (e) {
      this.logger.error('Discovery consumer failed', { err: e instanceof Error ? e.message : String(e) });
    }
  }
}

function providerKey(pool: string, kind: string, cfg: unknown): string {
  return `${pool}\u0000${kind}\u0000${JSON.stringify(cfg)}`;
}

/** Several managers (scrape, notify) may share a registry: reuse a metric already registered there. */
function getOrCreate<T>(registry: Registry, make: () => T): T {
  try {
    return make();
  } catch (e) {
    const name = /metric with the name (\S+) has already been registered/.exec(e instanceof Error ? e.message : '')?.[1];
    if (name === undefined) throw e;
    return registry.getSingleMetric(name) as unknown as T;
  }
}
