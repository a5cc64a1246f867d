// Scrape targets: turning discovered label sets into targets as Prometheus does
// (defaults, relabel_configs, validation), and the per-target state the API shows.
import { hostname } from 'node:os';
import type { ScrapeConfig } from '../config/types.js';
import { formatDuration, parseDuration } from '../gofmt/duration.js';
import { Labels, hashString } from '../model/labels.js';
import { LabelMap, processBuilder } from '../relabel/relabel.js';
import type { LabelSet, TargetGroup } from '../discovery/target_group.js';
import type { MetricType } from '../model/textparse/interface.js';

const ADDRESS_LABEL = '__address__';
const SCHEME_LABEL = '__scheme__';
const METRICS_PATH_LABEL = '__metrics_path__';
export const SCRAPE_INTERVAL_LABEL = '__scrape_interval__';
export const SCRAPE_TIMEOUT_LABEL = '__scrape_timeout__';
const PARAM_PREFIX = '__param_';
const META_PREFIX = '__meta_';
const RESERVED_PREFIX = '__';
const INSTANCE_LABEL = 'instance';
const JOB_LABEL = 'job';

export type TargetHealth = 'up' | 'down' | 'unknown';

/** One metric family's metadata as a target exposes it. */
export interface MetricMetadata {
  readonly metricFamily: string;
  readonly type: MetricType;
  readonly help: string;
  readonly unit: string;
}

/** Where a target's metadata comes from (its scrape loop's cache). */
export interface MetadataSource {
  listMetadata(): MetricMetadata[];
  getMetadata(family: string): MetricMetadata | undefined;
}

/** Thrown by populateLabels for a target that cannot be scraped. */
class TargetError extends Error {
  override name = 'TargetError';
}

export class Target {
  private healthState: TargetHealth = 'unknown';
  private lastErr = '';
  private lastScrapeMs = 0;
  private lastDurationS = 0;
  private meta: MetadataSource | null = null;
  private discovered: Labels;
  /** Identity within a pool: equal labels and URL mean the same target. */
  readonly hash: number;
  readonly url: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  private readonly publicLabels: Labels;

  constructor(
    /** Labels after relabeling, including reserved `__` labels (but no `__meta_`). */
    readonly labels: Labels,
    discoveredLabels: Labels,
    readonly scrapePool: string,
    cfg: ScrapeConfig,
  ) {
    this.discovered = discoveredLabels;
    this.url = targetURL(labels, cfg.params);
    this.hash = hashString(labels.key() + '\xff' + this.url);
    this.intervalMs = parseDuration(labels.get(SCRAPE_INTERVAL_LABEL));
    this.timeoutMs = parseDuration(labels.get(SCRAPE_TIMEOUT_LABEL));
    const pub: string[] = [];
    labels.forEach((n, v) => {
      if (!n.startsWith(RESERVED_PREFIX)) pub.push(n, v);
    });
    this.publicLabels = Labels.fromSortedPairs(pub);
  }

  /** The target's labels without reserved (`__`) ones: what its samples get. */
  labelsPublic(): Labels {
    return this.publicLabels;
  }

  discoveredLabels(): Labels {
    return this.discovered;
  }

  setDiscoveredLabels(l: Labels): void {
    this.discovered = l;
  }

  health(): TargetHealth {
    return this.healthState;
  }

  lastError(): string {
    return this.lastErr;
  }

  /** Wall-clock ms of the last scrape (0 before the first). */
  lastScrape(): number {
    return this.lastScrapeMs;
  }

  lastScrapeDurationSeconds(): number {
    return this.lastDurationS;
  }

  report(startMs: number, durationS: number, err: string | null): void {
    this.healthState = err === null ? 'up' : 'down';
    this.lastErr = err ?? '';
    this.lastScrapeMs = startMs;
    this.lastDurationS = durationS;
  }

  setMetadataSource(m: MetadataSource | null): void {
    this.meta = m;
  }

  listMetadata(): MetricMetadata[] {
    return this.meta?.listMetadata() ?? [];
  }

  getMetadata(family: string): MetricMetadata | undefined {
    return this.meta?.getMetadata(family);
  }

  /**
   * Milliseconds until this target's next scrape slot. Slots are pinned to absolute time
   * (now % interval), shifted by a hash of the target so that targets spread over the
   * interval instead of being scraped all at once, and stay put across restarts.
   */
  offset(intervalMs: number, seed: number, nowMs: number): number {
    const base = intervalMs - (nowMs % intervalMs);
    const off = (this.hash + seed) % intervalMs;
    let next = base + off;
    if (next > intervalMs) next -= intervalMs;
    return next;
  }

  /** The URL with a loopback host replaced by this machine's name, as Prometheus's globalUrl. */
  globalURL(): string {
    try {
      const u = new URL(this.url);
      const h = u.hostname.replace(/^\[|\]$/g, '');
      if (h === 'localhost' || h === '::1' || h.startsWith('127.')) u.hostname = hostname();
      return u.toString();
    } catch {
      return this.url;
    }
  }
}

/** A target that relabeling dropped: the API lists its discovered labels. */
export interface DroppedTarget {
  readonly discoveredLabels: Labels;
  readonly scrapePool: string;
}

/** Builds the scrape URL from the address, scheme, path and parameters. */
function targetURL(labels: Labels, params: Readonly<Record<string, readonly string[]>>): string {
  const values = new Map<string, string[]>();
  for (const [k, vs] of Object.entries(params)) values.set(k, [...vs]);
  labels.forEach((n, v) => {
    if (!n.startsWith(PARAM_PREFIX)) return;
    const k = n.slice(PARAM_PREFIX.length);
    const cur = values.get(k);
    if (cur !== undefined && cur.length > 0) cur[0] = v;
    else values.set(k, [v]);
  });
  // Go's url.Values.Encode sorts by key.
  const q = new URLSearchParams();
  for (const k of [...values.keys()].sort()) for (const v of values.get(k)!) q.append(k, v);
  let path = labels.get(METRICS_PATH_LABEL);
  if (path !== '' && !path.startsWith('/')) path = '/' + path;
  const qs = q.toString();
  return `${labels.get(SCHEME_LABEL)}://${labels.get(ADDRESS_LABEL)}${encodeURI(path)}${qs !== '' ? '?' + qs : ''}`;
}

/** The discovered labels plus the scrape config's defaults (job, interval, timeout, path, scheme, params). */
function populateDiscoveredLabels(cfg: ScrapeConfig, tLabels: LabelSet, tgLabels: LabelSet): LabelMap {
  const lb = new LabelMap();
  for (const [n, v] of Object.entries(tLabels)) lb.set(n, v);
  for (const [n, v] of Object.entries(tgLabels)) if (!Object.hasOwn(tLabels, n)) lb.set(n, v);
  const defaults: [string, string][] = [
    [JOB_LABEL, cfg.jobName],
    [SCRAPE_INTERVAL_LABEL, formatDuration(cfg.scrapeIntervalMs)],
    [SCRAPE_TIMEOUT_LABEL, formatDuration(cfg.scrapeTimeoutMs)],
    [METRICS_PATH_LABEL, cfg.metricsPath],
    [SCHEME_LABEL, cfg.scheme],
  ];
  for (const [n, v] of defaults) if (lb.get(n) === '') lb.set(n, v);
  for (const [k, vs] of Object.entries(cfg.params)) {
    const name = PARAM_PREFIX + k;
    const first = vs[0];
    if (first !== undefined && lb.get(name) === '') lb.set(name, first);
  }
  return lb;
}

/**
 * Applies relabel_configs and Prometheus's checks. Returns the final labels, or null
 * when relabeling dropped the target; throws TargetError for an unusable target.
 */
function populateLabels(cfg: ScrapeConfig, discovered: LabelMap): Labels | null {
  const lb = new LabelMap(discovered.entries().map(([name, value]) => ({ name, value })));
  if (!processBuilder(lb, cfg.relabelConfigs)) return null;
  const addr = lb.get(ADDRESS_LABEL);
  if (addr === '') throw new TargetError('no address');
  if (addr.includes('/')) throw new TargetError(`${JSON.stringify(addr)} is not a valid hostname`);
  const interval = lb.get(SCRAPE_INTERVAL_LABEL);
  let intervalMs: number;
  try {
    intervalMs = parseDuration(interval);
  } catch (e) {
    throw new TargetError(`error parsing scrape interval: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (intervalMs === 0) throw new TargetError('scrape interval cannot be 0');
  const timeout = lb.get(SCRAPE_TIMEOUT_LABEL);
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(timeout);
  } catch (e) {
    throw new TargetError(`error parsing scrape timeout: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (timeoutMs === 0) throw new TargetError('scrape timeout cannot be 0');
  if (timeoutMs > intervalMs) throw new TargetError(`scrape timeout cannot be greater than scrape interval (${JSON.stringify(timeout)} > ${JSON.stringify(interval)})`);
  for (const [n] of lb.entries()) if (n.startsWith(META_PREFIX)) lb.del(n);
  if (lb.get(INSTANCE_LABEL) === '') lb.set(INSTANCE_LABEL, addr);
  return lb.labels();
}

export interface GroupTargets {
  targets: Target[];
  dropped: DroppedTarget[];
  /** One message per target that could not be built. */
  failures: string[];
}

/** The targets of one group, as scrapePool.Sync builds them. */
export function targetsFromGroup(group: TargetGroup, cfg: ScrapeConfig, pool: string): GroupTargets {
  const out: GroupTargets = { targets: [], dropped: [], failures: [] };
  group.targets.forEach((tLabels, i) => {
    const discovered = populateDiscoveredLabels(cfg, tLabels, group.labels);
    const discoveredLabels = discovered.labels();
    try {
      const labels = populateLabels(cfg, discovered);
      if (labels === null) out.dropped.push({ discoveredLabels, scrapePool: pool });
      else out.targets.push(new Target(labels, discoveredLabels, pool, cfg));
    } catch (e) {
      out.failures.push(`instance ${i} in group ${group.source}: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
  return out;
}
