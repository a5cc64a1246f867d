// Alertmanager sets: the Alertmanagers one `alertmanagers` entry of prometheus.yml
// discovers, and the HTTP client that posts alerts to them.
import { posix } from 'node:path';
import type { AlertmanagerConfig } from '../config/types.js';
import { ADDRESS_LABEL, type TargetGroup } from '../discovery/target_group.js';
import { goQuote } from '../gofmt/quote.js';
import { HttpClient } from '../httpclient/httpclient.js';
import type { Logger } from '../logging/types.js';
import { LabelMap, processBuilder } from '../relabel/relabel.js';
import type { NotifierMetrics } from './metrics.js';

const SCHEME_LABEL = '__scheme__';
const ALERTS_PATH_LABEL = '__alerts_path__';

/**
 * Alertmanager answers a post with an empty body or a short error; a bound keeps a
 * misbehaving peer from making us buffer without end.
 */
const RESPONSE_BODY_LIMIT = 1 << 20;

/** A discovered address that is not a host[:port] (Prometheus's CheckTargetAddress). */
class InvalidAlertmanagerAddressError extends Error {
  override name = 'InvalidAlertmanagerAddressError';
}

/** An Alertmanager answered with a status outside 2xx. */
class AlertmanagerResponseError extends Error {
  override name = 'AlertmanagerResponseError';
}

interface DiscoveredAlertmanagers {
  readonly active: string[];
  /** URLs built from the labels before relabeling, as Prometheus lists dropped ones. */
  readonly dropped: string[];
}

/** The Alertmanagers of one target group, after the entry's relabel_configs. */
function alertmanagersFromGroup(tg: TargetGroup, cfg: AlertmanagerConfig): DiscoveredAlertmanagers {
  const active: string[] = [];
  const dropped: string[] = [];
  for (const target of tg.targets) {
    const lb = new LabelMap();
    for (const [name, value] of Object.entries(target)) lb.set(name, value);
    // The configured scheme and path are defaults that relabeling may overwrite.
    lb.set(SCHEME_LABEL, cfg.scheme);
    lb.set(ALERTS_PATH_LABEL, postPath(cfg.pathPrefix));
    for (const [name, value] of Object.entries(tg.labels)) {
      if (!Object.hasOwn(target, name)) lb.set(name, value);
    }
    const before = alertmanagerURL(lb);
    if (!processBuilder(lb, cfg.relabelConfigs)) {
      dropped.push(before);
      continue;
    }
    const addr = lb.get(ADDRESS_LABEL);
    if (addr.includes('/')) throw new InvalidAlertmanagerAddressError(`${goQuote(addr)} is not a valid hostname`);
    active.push(alertmanagerURL(lb));
  }
  return { active, dropped };
}

/** path_prefix joined with the v2 endpoint and cleaned, as Go's path.Join does. */
function postPath(prefix: string): string {
  return posix.join('/', prefix, '/api/v2/alerts');
}

/** The URL Go's url.URL{Scheme, Host, Path}.String() gives for these labels. */
function alertmanagerURL(lb: LabelMap): string {
  const scheme = lb.get(SCHEME_LABEL);
  const host = lb.get(ADDRESS_LABEL);
  const path = lb.get(ALERTS_PATH_LABEL);
  let s = scheme !== '' ? `${scheme}:` : '';
  if (scheme !== '' || host !== '') {
    if (host !== '' || path !== '') s += '//';
    s += host;
  }
  if (path !== '' && !path.startsWith('/') && host !== '') s += '/';
  return s + escapePath(path);
}

/** Characters Go leaves unescaped in a URL path: unreserved ones and $&+,/:;=@. */
const PATH_SAFE = /[A-Za-z0-9\-_.~$&+,/:;=@]/;

function escapePath(path: string): string {
  let out = '';
  for (const ch of path) {
    if (PATH_SAFE.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Identifies an entry's configuration: a reload keeps the set when it is unchanged. */
export function configKey(cfg: AlertmanagerConfig): string {
  return JSON.stringify(cfg);
}

interface PostOptions {
  readonly userAgent: string;
  /** Aborts the post early (the manager's shutdown bound). */
  readonly signal?: AbortSignal;
}

/**
 * One `alertmanagers` entry: its configuration, its HTTP client, and the Alertmanagers
 * discovery found for it (deduplicated by URL).
 */
export class AlertmanagerSet {
  readonly configKey: string;
  private active: readonly string[] = [];
  private droppedList: readonly string[] = [];
  private readonly client: HttpClient;
  private inflight = 0;
  private retired = false;

  constructor(
    readonly cfg: AlertmanagerConfig,
    private readonly metrics: NotifierMetrics,
    private readonly logger: Logger,
  ) {
    this.configKey = configKey(cfg);
    this.client = new HttpClient(cfg.httpClient);
  }

  get alertmanagers(): readonly string[] {
    return this.active;
  }

  get dropped(): readonly string[] {
    return this.droppedList;
  }

  /** Takes over what another set of the same configuration had discovered. */
  adopt(other: AlertmanagerSet): void {
    this.active = other.active;
    this.droppedList = other.droppedList;
  }

  /** Replaces the Alertmanagers with those of the given target groups. */
  sync(groups: readonly TargetGroup[]): void {
    const all: string[] = [];
    const dropped: string[] = [];
    for (const tg of groups) {
      try {
        const d = alertmanagersFromGroup(tg, this.cfg);
        all.push(...d.active);
        dropped.push(...d.dropped);
      } catch (e) {
        this.logger.error('Creating discovered Alertmanagers failed', { err: e instanceof Error ? e.message : String(e) });
      }
    }
    const seen = new Set<string>();
    const active: string[] = [];
    for (const url of all) {
      if (seen.has(url)) continue;
      seen.add(url);
      active.push(url);
      this.metrics.addAlertmanager(url);
    }
    for (const url of this.active) if (!seen.has(url)) this.metrics.removeAlertmanager(url);
    this.active = Object.freeze(active);
    this.droppedList = Object.freeze(dropped);
  }

  /** POSTs a request body to one of this set's Alertmanagers within the entry's timeout. */
  async post(url: string, body: Buffer, opts: PostOptions): Promise<void> {
    this.inflight++;
    try {
      const res = await this.client.post(url, body, {
        headers: { 'user-agent': opts.userAgent, 'content-type': 'application/json' },
        timeoutMs: this.cfg.timeoutMs,
        bodySizeLimit: RESPONSE_BODY_LIMIT,
        signal: opts.signal,
      });
      if (Math.floor(res.status / 100) !== 2) throw new AlertmanagerResponseError(`bad response status ${res.statusLine}`);
    } finally {
      this.inflight--;
      if (this.retired && this.inflight === 0) this.client.close();
    }
  }

  /** The set left the configuration: its connections close once its last post is done. */
  retire(): void {
    this.retired = true;
    if (this.inflight === 0) this.client.close();
  }
}
