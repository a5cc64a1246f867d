// Status endpoints: /status/{config,flags,runtimeinfo,buildinfo,tsdb,walreplay} and /notifications.
import { ApiError, type ApiContext, type ApiResult, type ApiRoute } from './types.js';
import type { ApiDeps } from './deps.js';
import { sortedKeys } from './sort.js';

const MAX_TSDB_STATUS_LIMIT = 10_000;

export class StatusApi {
  constructor(private readonly deps: ApiDeps) {}

  config(): ApiResult {
    return { data: { yaml: this.deps.configYAML() } };
  }

  flags(): ApiResult {
    // A Go map: json-iterator writes its keys sorted.
    return { data: sortedKeys(this.deps.flags()) };
  }

  runtimeInfo(): ApiResult {
    return { data: this.deps.runtimeInfo() };
  }

  buildInfo(): ApiResult {
    return { data: this.deps.buildInfo() };
  }

  tsdb(ctx: ApiContext): ApiResult {
    let limit = 10;
    const s = ctx.params.get('limit');
    if (s !== null && s !== '') {
      limit = /^[+-]?\d+$/.test(s) ? Number(s) : NaN;
      if (!(limit >= 1)) throw new ApiError('bad_data', 'limit must be a positive number');
      if (limit > MAX_TSDB_STATUS_LIMIT) throw new ApiError('bad_data', `limit must not exceed ${MAX_TSDB_STATUS_LIMIT}`);
    }
    const db = this.deps.tsdb();
    if (db === null) throw new ApiError('unavailable', 'TSDB not ready');
    return { data: db.status(limit) };
  }

  notifications(): ApiResult {
    return { data: this.deps.notifications?.() ?? [] };
  }

  /** Routes served once the server is ready. */
  routes(): ApiRoute[] {
    return [
      { method: 'GET', path: '/status/config', handler: () => this.config() },
      { method: 'GET', path: '/status/flags', handler: () => this.flags() },
      { method: 'GET', path: '/status/runtimeinfo', handler: () => this.runtimeInfo() },
      { method: 'GET', path: '/status/buildinfo', handler: () => this.buildInfo() },
      { method: 'GET', path: '/status/tsdb', handler: (ctx) => this.tsdb(ctx) },
      { method: 'GET', path: '/notifications', handler: () => this.notifications() },
    ];
  }
}

/** /api/v1/status/walreplay: served before the server is ready, so clients can watch replay progress. */
export function walReplayRoute(deps: Pick<ApiDeps, 'walReplayStatus'>): ApiRoute {
  return { method: 'GET', path: '/status/walreplay', handler: () => ({ data: deps.walReplayStatus() }) };
}
