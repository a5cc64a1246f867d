// A scrape pool: the targets of one scrape config and their loops.
import type { ScrapeConfig } from '../config/types.js';
import type { Logger } from '../logging/types.js';
import type { TargetGroup } from '../discovery/target_group.js';
import { HttpClient } from '../httpclient/httpclient.js';
import { ScrapeLoop, type ScrapeLoopDeps } from './loop.js';
import type { ScrapeMetrics } from './metrics.js';
import { targetsFromGroup, type DroppedTarget, type Target } from './target.js';
import { SymbolTable } from '../model/textparse/interface.js';

export interface ScrapePoolDeps extends Omit<ScrapeLoopDeps, 'symbols' | 'logger' | 'metrics'> {
  readonly logger: Logger;
  readonly metrics: ScrapeMetrics;
  /** Aborted at shutdown: cancels pending end-of-run staleness writes. */
  readonly shutdown: AbortSignal;
}

export class ScrapePool {
  private cfg: ScrapeConfig;
  private client: HttpClient;
  private readonly symbols = new SymbolTable();
  private readonly loops = new Map<number, ScrapeLoop>();
  private dropped: DroppedTarget[] = [];
  private droppedCount = 0;
  private lastGroups: readonly TargetGroup[] = [];
  /** Loops being stopped (they may still write staleness markers). */
  private readonly stopping = new Set<Promise<void>>();
  private readonly log: Logger;

  constructor(
    readonly name: string,
    cfg: ScrapeConfig,
    private readonly deps: ScrapePoolDeps,
  ) {
    this.cfg = cfg;
    this.client = new HttpClient(cfg.httpClient);
    this.log = deps.logger.with({ scrape_pool: name });
    deps.metrics.poolsTotal.inc();
    deps.metrics.poolTargetLimit.set({ scrape_job: name }, cfg.targetLimit);
  }

  config(): ScrapeConfig {
    return this.cfg;
  }

  /** Takes a changed config: running loops keep their schedule and caches, then targets are rebuilt with the new rules. */
  reload(cfg: ScrapeConfig): void {
    this.deps.metrics.poolReloads.inc();
    const clientChanged = JSON.stringify(cfg.httpClient) !== JSON.stringify(this.cfg.httpClient);
    const oldClient = this.client;
    if (clientChanged) this.client = new HttpClient(cfg.httpClient);
    this.cfg = cfg;
    for (const l of this.loops.values()) l.updateConfig(cfg, this.client);
    if (clientChanged) oldClient.close();
    this.deps.metrics.poolTargetLimit.set({ scrape_job: this.name }, cfg.targetLimit);
    this.sync(this.lastGroups);
  }

  /** Replaces the pool's target groups: starts loops for new targets, stops those that went away. */
  sync(groups: readonly TargetGroup[]): void {
    const t0 = performance.now();
    this.lastGroups = groups;
    const m = this.deps.metrics;
    const wanted = new Map<number, Target>();
    const dropped: DroppedTarget[] = [];
    let droppedCount = 0;
    const keep = this.cfg.keepDroppedTargets;
    for (const g of groups) {
      const r = targetsFromGroup(g, this.cfg, this.name);
      for (const f of r.failures) this.log.error('Creating target failed', { err: f });
      if (r.failures.length > 0) m.syncFailed.inc({ scrape_job: this.name }, r.failures.length);
      for (const t of r.targets) if (!wanted.has(t.hash)) wanted.set(t.hash, t);
      for (const d of r.dropped) {
        droppedCount++;
        if (keep === 0 || dropped.length < keep) dropped.push(d);
      }
    }
    this.dropped = dropped;
    this.droppedCount = droppedCount;
    for (const [hash, t] of wanted) {
      const l = this.loops.get(hash);
      if (l !== undefined) {
        if (!l.target.discoveredLabels().equals(t.discoveredLabels())) l.target.setDiscoveredLabels(t.discoveredLabels());
        continue;
      }
      const loop = new ScrapeLoop(t, this.cfg, this.client, { ...this.deps, symbols: this.symbols, logger: this.deps.logger });
      this.loops.set(hash, loop);
      loop.start();
    }
    // A target replaced by one with the same public labels (say its interval changed) writes
    // the same series: its old loop must not mark them stale behind the new loop's back.
    const publicKeys = new Set<string>();
    for (const t of wanted.values()) publicKeys.add(t.labelsPublic().key());
    for (const [hash, l] of this.loops) {
      if (wanted.has(hash)) continue;
      this.loops.delete(hash);
      this.trackStop(l.stop(!publicKeys.has(l.target.labelsPublic().key()), this.deps.shutdown));
    }
    this.applyTargetLimit();
    m.poolSyncTotal.inc({ scrape_job: this.name });
    m.poolTargets.set({ scrape_job: this.name }, this.loops.size);
    m.poolSymbolTableItems.set({ scrape_job: this.name }, this.symbols.size);
    m.syncLength.observe({ scrape_job: this.name }, (performance.now() - t0) / 1000);
  }

  /** Over target_limit, every target of the pool fails with the limit error (nothing is scraped). */
  private applyTargetLimit(): void {
    const limit = this.cfg.targetLimit;
    const n = this.loops.size;
    let err: string | null = null;
    if (limit > 0 && n > limit) {
      err = `target_limit exceeded (number of targets: ${n}, limit: ${limit})`;
      this.deps.metrics.poolExceededTargetLimit.inc();
    }
    for (const l of this.loops.values()) l.setForcedError(err);
  }

  private trackStop(p: Promise<void>): void {
    const q = p.catch((e: unknown) => this.log.error('Stopping scrape loop failed', { err: e instanceof Error ? e.message : String(e) })).finally(() => this.stopping.delete(q));
    this.stopping.add(q);
  }

  activeTargets(): Target[] {
    return [...this.loops.values()].map((l) => l.target);
  }

  droppedTargets(): DroppedTarget[] {
    return this.dropped;
  }

  droppedTargetsCount(): number {
    return this.droppedCount;
  }

  /** Series and metadata entries held by the loops' caches (for the bounded-cache gauges). */
  cacheSizes(): { series: number; metadata: number; bodyBytes: number } {
    let series = 0;
    let metadata = 0;
    let bodyBytes = 0;
    for (const l of this.loops.values()) {
      series += l.cache.series.size;
      metadata += l.cache.metadata.size;
      bodyBytes += l.cache.seqBody?.body.byteLength ?? 0;
    }
    return { series, metadata, bodyBytes };
  }

  /**
   * Stops every loop. With staleness (the pool was removed from the config) their
   * series get staleness markers; without (shutdown) they do not.
   */
  async stop(staleness: boolean): Promise<void> {
    for (const l of this.loops.values()) this.trackStop(l.stop(staleness, this.deps.shutdown));
    this.loops.clear();
    await Promise.all([...this.stopping]);
    this.client.close();
    const m = this.deps.metrics;
    m.poolTargets.remove({ scrape_job: this.name });
    m.poolTargetLimit.remove({ scrape_job: this.name });
    m.poolSymbolTableItems.remove({ scrape_job: this.name });
    m.seriesCacheEntries.remove({ scrape_job: this.name });
    m.metadataCacheEntries.remove({ scrape_job: this.name });
  }
}
