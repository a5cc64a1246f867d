// The discovery mechanisms: static_configs, file_sd_configs, http_sd_configs and
// dns_sd_configs. Each Discoverer pushes target groups to a callback until stopped;
// a group replaces the earlier group with the same source.
import { promises as dnsPromises } from 'node:dns';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Counter, Histogram } from 'prom-client';
import { expandGlob } from '../config/load.js';
import type { DNSSDConfig, FileSDConfig, HTTPSDConfig, StaticConfig } from '../config/types.js';
import type { Logger } from '../logging/types.js';
import { HttpClient } from '../httpclient/httpclient.js';
import { ADDRESS_LABEL, emptyGroup, parseTargetGroups, type LabelSet, type TargetGroup } from './target_group.js';

export type GroupsCallback = (groups: readonly TargetGroup[]) => void;

export interface Discoverer {
  /** Starts discovering; `up` receives updates until stop(). */
  start(up: GroupsCallback): void;
  stop(): void;
}

/** Metrics the discoverers update, named as Prometheus names them. */
export interface DiscoveryMetrics {
  fileReadErrors: Counter;
  fileScanDuration: Histogram;
  httpFailures: Counter;
  dnsLookups: Counter;
  dnsLookupFailures: Counter;
  refreshFailures: Counter<'mechanism' | 'config'>;
}

export class StaticDiscoverer implements Discoverer {
  constructor(private readonly configs: readonly StaticConfig[]) {}

  start(up: GroupsCallback): void {
    up(
      this.configs.map((c, i) =>
        Object.freeze({
          source: String(i),
          targets: Object.freeze(c.targets.map((t) => Object.freeze({ [ADDRESS_LABEL]: t }))),
          labels: Object.freeze({ ...c.labels }),
        }),
      ),
    );
  }

  stop(): void {}
}

/** A discoverer that refreshes when started and then every refresh interval; `up` is null once stopped. */
abstract class PollingDiscoverer implements Discoverer {
  protected up: GroupsCallback | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly refreshIntervalMs: number) {}

  start(up: GroupsCallback): void {
    this.up = up;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.up = null;
    if (this.timer !== null) clearInterval(this.timer);
  }

  protected abstract refresh(): void | Promise<void>;
}

/** Debounce for bursts of watch events (editors write a file in several steps). */
const FILE_WATCH_DEBOUNCE_MS = 100;

/**
 * file_sd_configs: reads JSON or YAML files (globs allowed in the last path element),
 * re-reads them when the watcher reports a change and every refresh_interval. A file
 * that fails to read or parse keeps its last good targets; the error is logged and counted.
 */
export class FileDiscoverer extends PollingDiscoverer {
  private readonly watchers = new Map<string, FSWatcher>();
  private debounce: NodeJS.Timeout | null = null;
  /** Number of groups each file produced last time, to empty the ones that went away. */
  private lastCounts = new Map<string, number>();
  /** Last read error per file (cleared on success), for reporting. */
  readonly errors = new Map<string, string>();

  constructor(
    private readonly cfg: FileSDConfig,
    private readonly logger: Logger,
    private readonly metrics: DiscoveryMetrics,
  ) {
    super(cfg.refreshIntervalMs);
  }

  override stop(): void {
    super.stop();
    if (this.debounce !== null) clearTimeout(this.debounce);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  private listFiles(): string[] {
    const out = new Set<string>();
    for (const pattern of this.cfg.files) {
      // A plain path is read even before it exists (a missing file is skipped quietly); a glob lists what is there.
      if (!/[*?[]/.test(basename(pattern))) out.add(pattern);
      else for (const f of expandGlob(pattern)) out.add(f);
    }
    return [...out].filter((p) => /\.(json|ya?ml)$/i.test(p)).sort();
  }

  protected refresh(): void {
    const up = this.up;
    if (up === null) return;
    const t0 = performance.now();
    const counts = new Map<string, number>();
    const updates: TargetGroup[] = [];
    for (const path of this.listFiles()) {
      try {
        const groups = readTargetFile(path);
        updates.push(...groups);
        counts.set(path, groups.length);
        this.errors.delete(path);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'ENOENT') continue;
        this.metrics.fileReadErrors.inc();
        const msg = err instanceof Error ? err.message : String(err);
        this.errors.set(path, msg);
        this.logger.error('Error reading file', { path, err: msg });
        // Keep the last good targets of this file.
        counts.set(path, this.lastCounts.get(path) ?? 0);
      }
    }
    for (const [path, n] of this.lastCounts) {
      const m = counts.get(path) ?? 0;
      for (let i = m; i < n; i++) updates.push(emptyGroup(`${path}:${i}`));
    }
    this.lastCounts = counts;
    this.watchDirs();
    this.metrics.fileScanDuration.observe((performance.now() - t0) / 1000);
    if (updates.length > 0) up(updates);
  }

  /** Watches the directories holding the files, since editors often replace files rather than write them. */
  private watchDirs(): void {
    const dirs = new Set(this.cfg.files.map((f) => dirname(f)));
    for (const d of dirs) {
      if (this.watchers.has(d)) continue;
      try {
        const w = watch(d, { persistent: false }, () => this.scheduleRefresh());
        w.on('error', () => {
          w.close();
          this.watchers.delete(d);
        });
        this.watchers.set(d, w);
      } catch (e) {
        // The refresh interval still picks up changes; the directory may appear later.
        this.logger.debug('Cannot watch directory', { dir: d, err: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  private scheduleRefresh(): void {
    if (this.debounce !== null || this.up === null) return;
    this.debounce = setTimeout(() => {
      this.debounce = null;
      this.refresh();
    }, FILE_WATCH_DEBOUNCE_MS);
    this.debounce.unref();
  }
}

/** Reads one file_sd file; throws on unreadable or malformed content. */
function readTargetFile(path: string): TargetGroup[] {
  const text = readFileSync(path, 'utf8');
  const ext = extname(path).toLowerCase();
  let doc: unknown;
  if (ext === '.json') {
    doc = JSON.parse(text);
  } else {
    doc = parseYaml(text, { uniqueKeys: true, strict: true });
  }
  return parseTargetGroups(doc, (i) => `${path}:${i}`, { __meta_filepath: path });
}

const HTTP_SD_CONTENT_TYPE = /^application\/json(;\s*charset=("utf-8"|utf-8))?$/i;

/** How long one HTTP SD request may take: Prometheus's SD client uses the refresh interval as its bound too. */
const HTTP_SD_MAX_TIMEOUT_MS = 60_000;

/**
 * Largest HTTP SD response accepted (uncompressed bytes). A target in a group
 * takes 20-200 bytes of JSON, so 64 MiB holds hundreds of thousands of targets,
 * more than one server scrapes; a larger answer is a broken or hostile endpoint
 * and would otherwise be buffered, then parsed into ten times its size, whole.
 * Such a refresh fails like any other (counted, logged, last targets kept).
 */
const HTTP_SD_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** http_sd_configs: polls a URL for a JSON list of target groups. */
export class HttpDiscoverer extends PollingDiscoverer {
  private readonly client: HttpClient;
  private lastLength = 0;
  private inFlight: AbortController | null = null;
  lastError: string | null = null;

  constructor(
    private readonly cfg: HTTPSDConfig,
    private readonly logger: Logger,
    private readonly metrics: DiscoveryMetrics,
    private readonly userAgent: string,
    private readonly maxBodyBytes = HTTP_SD_MAX_BODY_BYTES,
  ) {
    super(cfg.refreshIntervalMs);
    this.client = new HttpClient(cfg.httpClient);
  }

  override stop(): void {
    super.stop();
    this.inFlight?.abort();
    this.client.close();
  }

  protected async refresh(): Promise<void> {
    if (this.inFlight !== null) return;
    const ac = new AbortController();
    this.inFlight = ac;
    try {
      const groups = await this.fetchGroups(ac.signal);
      if (this.up === null) return;
      const l = groups.length;
      for (let i = l; i < this.lastLength; i++) groups.push(emptyGroup(`${this.cfg.url}:${i}`));
      this.lastLength = l;
      this.lastError = null;
      this.up(groups);
    } catch (e) {
      if (this.up === null) return;
      this.metrics.httpFailures.inc();
      this.metrics.refreshFailures.inc({ mechanism: 'http', config: this.cfg.url });
      this.lastError = e instanceof Error ? e.message : String(e);
      this.logger.error('Unable to refresh target groups', { err: this.lastError });
    } finally {
      this.inFlight = null;
    }
  }

  private async fetchGroups(signal: AbortSignal): Promise<TargetGroup[]> {
    const res = await this.client.get(this.cfg.url, {
      headers: {
        accept: 'application/json',
        'user-agent': this.userAgent,
        'x-prometheus-refresh-interval-seconds': String(this.cfg.refreshIntervalMs / 1000),
      },
      timeoutMs: Math.min(this.cfg.refreshIntervalMs, HTTP_SD_MAX_TIMEOUT_MS),
      bodySizeLimit: this.maxBodyBytes,
      signal,
    });
    if (res.status !== 200) throw new Error(`server returned HTTP status ${res.statusLine}`);
    const ct = String(res.headers['content-type'] ?? '').trim();
    if (!HTTP_SD_CONTENT_TYPE.test(ct)) throw new Error(`unsupported content type ${JSON.stringify(res.headers['content-type'] ?? '')}`);
    const doc: unknown = JSON.parse(res.body.toString('utf8'));
    return parseTargetGroups(doc, (i) => `${this.cfg.url}:${i}`, { __meta_url: this.cfg.url });
  }
}

/** A resolver as node:dns provides it; tests point one at their own server. */
export type DnsResolver = Pick<dnsPromises.Resolver, 'resolveSrv' | 'resolve4' | 'resolve6' | 'resolveMx' | 'resolveNs'>;

const DNS_META = {
  name: '__meta_dns_name',
  srvTarget: '__meta_dns_srv_record_target',
  srvPort: '__meta_dns_srv_record_port',
  mxTarget: '__meta_dns_mx_record_target',
  nsTarget: '__meta_dns_ns_record_target',
} as const;

/** dns_sd_configs: SRV, A, AAAA, MX and NS lookups, one group per name. */
export class DnsDiscoverer extends PollingDiscoverer {
  constructor(
    private readonly cfg: DNSSDConfig,
    private readonly logger: Logger,
    private readonly metrics: DiscoveryMetrics,
    private readonly resolver: DnsResolver,
  ) {
    super(cfg.refreshIntervalMs);
  }

  protected async refresh(): Promise<void> {
    await Promise.all(
      this.cfg.names.map(async (name) => {
        try {
          const targets = await this.lookup(name);
          this.up?.([Object.freeze({ source: name, targets: Object.freeze(targets), labels: Object.freeze({}) })]);
        } catch (e) {
          this.metrics.dnsLookupFailures.inc();
          this.metrics.refreshFailures.inc({ mechanism: 'dns', config: name });
          this.logger.error('Error refreshing DNS targets', { name, err: e instanceof Error ? e.message : String(e) });
        }
      }),
    );
  }

  private async lookup(name: string): Promise<LabelSet[]> {
    this.metrics.dnsLookups.inc();
    const port = this.cfg.port;
    const base = (address: string): Record<string, string> => ({ [ADDRESS_LABEL]: address, [DNS_META.name]: name });
    try {
      switch (this.cfg.type) {
        case 'SRV':
          return (await this.resolver.resolveSrv(name)).map((r) => {
            const host = r.name.replace(/\.+$/, '');
            // The meta label keeps the rooted name, as the DNS answer has it.
            return Object.freeze({ ...base(joinHostPort(host, r.port)), [DNS_META.srvTarget]: `${host}.`, [DNS_META.srvPort]: String(r.port) });
          });
        case 'A':
          return (await this.resolver.resolve4(name)).map((ip) => Object.freeze(base(joinHostPort(ip, port))));
        case 'AAAA':
          return (await this.resolver.resolve6(name)).map((ip) => Object.freeze(base(joinHostPort(ip, port))));
        case 'MX':
          return (await this.resolver.resolveMx(name)).map((r) => {
            const host = r.exchange.replace(/\.+$/, '');
            return Object.freeze({ ...base(joinHostPort(host, port)), [DNS_META.mxTarget]: `${host}.` });
          });
        case 'NS':
          return (await this.resolver.resolveNs(name)).map((ns) => {
            const host = ns.replace(/\.+$/, '');
            return Object.freeze({ ...base(joinHostPort(host, port)), [DNS_META.nsTarget]: `${host}.` });
          });
      }
    } catch (e) {
      // A name that does not exist (any more) has no targets; other failures keep the last ones.
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
      throw e;
    }
  }
}

/** Go's net.JoinHostPort: IPv6 literals get brackets. */
function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
