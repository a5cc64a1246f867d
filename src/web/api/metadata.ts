// /metadata from the server's metadata provider. With scraping on, targets.ts
// serves /metadata from the scrape manager instead (registered later, it wins).
import type { ApiContext, ApiResult, ApiRoute } from './types.js';
import type { ApiDeps, MetricMetadata } from './deps.js';
import { parseIntParam } from './params.js';
import { sortedKeys } from './sort.js';

export class MetadataApi {
  constructor(private readonly deps: ApiDeps) {}

  metadata(ctx: ApiContext): ApiResult {
    const limit = parseIntParam(ctx.params, 'limit');
    const limitPerMetric = parseIntParam(ctx.params, 'limit_per_metric');
    const all = this.deps.metadata?.(ctx.params.get('metric') ?? '') ?? new Map<string, MetricMetadata[]>();
    const out: Record<string, MetricMetadata[]> = {};
    let n = 0;
    for (const [family, entries] of all) {
      if (limit >= 0 && n >= limit) break;
      out[family] = limitPerMetric > 0 ? entries.slice(0, limitPerMetric) : entries;
      n++;
    }
    return { data: sortedKeys(out) };
  }

  routes(): ApiRoute[] {
    return [{ method: 'GET', path: '/metadata', handler: (ctx) => this.metadata(ctx) }];
  }
}
