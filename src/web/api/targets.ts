// /api/v1/targets, /targets/metadata, /metadata and /scrape_pools, as Prometheus serves them.
import { formatGoTimeJSON } from '../../gofmt/time.js';
import type { Labels } from '../../model/labels.js';
import type { Matcher } from '../../model/matcher.js';
import { parseMetricSelector } from '../../promql/parser/parser.js';
import type { ScrapeManager } from '../../scrape/manager.js';
import { SCRAPE_INTERVAL_LABEL, SCRAPE_TIMEOUT_LABEL, type Target } from '../../scrape/target.js';
import type { ApiContext, ApiResult, ApiRoute } from './types.js';
import { invalidParam, parseIntParam } from './params.js';

/** The scrape manager's endpoints. */
class TargetsApi {
  constructor(private readonly m: ScrapeManager) {}

  targets(ctx: ApiContext): ApiResult {
    return { data: targets(this.m, ctx) };
  }

  targetMetadata(ctx: ApiContext): ApiResult {
    return { data: targetMetadata(this.m, ctx) };
  }

  metricMetadata(ctx: ApiContext): ApiResult {
    return { data: metricMetadata(this.m, ctx) };
  }

  scrapePools(): ApiResult {
    return { data: { scrapePools: this.m.poolNames() } };
  }

  routes(): ApiRoute[] {
    return [
      { method: 'GET', path: '/targets', handler: (ctx) => this.targets(ctx) },
      { method: 'GET', path: '/targets/metadata', handler: (ctx) => this.targetMetadata(ctx) },
      { method: 'GET', path: '/metadata', handler: (ctx) => this.metricMetadata(ctx) },
      { method: 'GET', path: '/scrape_pools', handler: () => this.scrapePools() },
    ];
  }
}

export function targetsRoutes(m: ScrapeManager): ApiRoute[] {
  return new TargetsApi(m).routes();
}

interface ActiveTargetJSON {
  discoveredLabels: Record<string, string>;
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  globalUrl: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  health: string;
  scrapeInterval: string;
  scrapeTimeout: string;
}

function targets(m: ScrapeManager, ctx: ApiContext): unknown {
  const pool = ctx.url.searchParams.get('scrapePool') ?? '';
  const state = (ctx.url.searchParams.get('state') ?? '').toLowerCase();
  const showActive = state === '' || state === 'any' || state === 'active';
  const showDropped = state === '' || state === 'any' || state === 'dropped';
  const res: { activeTargets: ActiveTargetJSON[]; droppedTargets: { discoveredLabels: Record<string, string>; scrapePool: string }[]; droppedTargetCounts?: Record<string, number> } = {
    activeTargets: [],
    droppedTargets: [],
  };
  if (showActive) {
    const active = m.activeTargets();
    for (const name of [...active.keys()].sort()) {
      if (pool !== '' && name !== pool) continue;
      for (const t of active.get(name)!) res.activeTargets.push(activeJSON(t, name));
    }
  }
  if (showDropped) {
    res.droppedTargetCounts = Object.fromEntries(m.droppedTargetCounts());
    const dropped = m.droppedTargets();
    for (const name of [...dropped.keys()].sort()) {
      if (pool !== '' && name !== pool) continue;
      for (const d of dropped.get(name)!) res.droppedTargets.push({ discoveredLabels: d.discoveredLabels.toObject(), scrapePool: name });
    }
  }
  return res;
}

function activeJSON(t: Target, pool: string): ActiveTargetJSON {
  return {
    discoveredLabels: t.discoveredLabels().toObject(),
    labels: t.labelsPublic().toObject(),
    scrapePool: pool,
    scrapeUrl: t.url,
    globalUrl: t.globalURL(),
    lastError: t.lastError(),
    lastScrape: formatGoTimeJSON(t.lastScrape()),
    lastScrapeDuration: t.lastScrapeDurationSeconds(),
    health: t.health(),
    scrapeInterval: t.labels.get(SCRAPE_INTERVAL_LABEL),
    scrapeTimeout: t.labels.get(SCRAPE_TIMEOUT_LABEL),
  };
}

function targetMetadata(m: ScrapeManager, ctx: ApiContext): unknown {
  const limit = parseIntParam(ctx.params, 'limit');
  const matchTarget = ctx.params.get('match_target') ?? '';
  let matchers: Matcher[] = [];
  if (matchTarget !== '') {
    try {
      matchers = parseMetricSelector(matchTarget);
    } catch (e) {
      throw invalidParam('match_target', e);
    }
  }
  const metric = ctx.params.get('metric') ?? '';
  const res: { target: Record<string, string>; metric?: string; type: string; help: string; unit: string }[] = [];
  for (const list of m.activeTargets().values()) {
    for (const t of list) {
      if (limit >= 0 && res.length >= limit) break;
      const labels = t.labelsPublic();
      if (!matchAll(labels, matchers)) continue;
      const target = labels.toObject();
      if (metric === '') {
        for (const md of t.listMetadata()) res.push({ target, metric: md.metricFamily, type: md.type, help: md.help, unit: md.unit });
        continue;
      }
      const md = t.getMetadata(metric);
      if (md !== undefined) res.push({ target, type: md.type, help: md.help, unit: md.unit });
    }
  }
  return res;
}

function matchAll(ls: Labels, ms: readonly Matcher[]): boolean {
  for (const mt of ms) if (!mt.matches(ls.get(mt.name))) return false;
  return true;
}

function metricMetadata(m: ScrapeManager, ctx: ApiContext): unknown {
  const limit = parseIntParam(ctx.params, 'limit');
  const limitPerMetric = parseIntParam(ctx.params, 'limit_per_metric');
  const metric = ctx.params.get('metric') ?? '';
  // Family -> distinct (type, help, unit), in first-seen order.
  const families = new Map<string, Map<string, { type: string; help: string; unit: string }>>();
  const add = (family: string, type: string, help: string, unit: string) => {
    let set = families.get(family);
    if (limitPerMetric > 0 && set !== undefined && set.size >= limitPerMetric) return;
    if (set === undefined) {
      set = new Map();
      families.set(family, set);
    }
    set.set(JSON.stringify([type, help, unit]), { type, help, unit });
  };
  for (const list of m.activeTargets().values()) {
    for (const t of list) {
      if (metric === '') {
        for (const md of t.listMetadata()) add(md.metricFamily, md.type, md.help, md.unit);
      } else {
        const md = t.getMetadata(metric);
        if (md !== undefined) add(md.metricFamily, md.type, md.help, md.unit);
      }
    }
  }
  const res: Record<string, { type: string; help: string; unit: string }[]> = {};
  let n = 0;
  for (const [family, set] of families) {
    if (limit >= 0 && n >= limit) break;
    res[family] = [...set.values()];
    n++;
  }
  return res;
}
