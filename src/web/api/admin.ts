// TSDB admin endpoints (--web.enable-admin-api): delete_series, clean_tombstones and snapshot.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ApiError, type ApiContext, type ApiResult, type ApiRoute } from './types.js';
import type { ApiDeps, TSDBAdmin } from './deps.js';
import type { Matcher } from '../../model/matcher.js';
import { apiErrorOf } from './errors.js';
import { MAX_TIME_MS, MIN_TIME_MS, invalidParam, parseBoolParam, parseTimeParam } from './params.js';

export class AdminApi {
  private readonly now: () => number;

  constructor(private readonly deps: ApiDeps) {
    this.now = deps.now ?? Date.now;
  }

  async deleteSeries(ctx: ApiContext): Promise<ApiResult> {
    const db = this.db();
    const matches = ctx.params.getAll('match[]');
    if (matches.length === 0) throw new ApiError('bad_data', 'no match[] parameter provided');
    const start = parseTimeParam(ctx.params, 'start', MIN_TIME_MS);
    const end = parseTimeParam(ctx.params, 'end', MAX_TIME_MS);
    const sets: Matcher[][] = [];
    for (const m of matches) {
      try {
        sets.push(this.deps.parser.parseMetricSelector(m));
      } catch (e) {
        throw invalidParam('match[]', e);
      }
    }
    for (const ms of sets) {
      try {
        await db.deleteSeries(start, end, ms);
      } catch (e) {
        throw apiErrorOf('internal', e);
      }
    }
    return { data: undefined };
  }

  async cleanTombstones(): Promise<ApiResult> {
    const db = this.db();
    try {
      await db.cleanTombstones();
    } catch (e) {
      throw apiErrorOf('internal', e);
    }
    return { data: undefined };
  }

  async snapshot(ctx: ApiContext): Promise<ApiResult> {
    const db = this.db();
    const skipHead = parseBoolParam(ctx.params, 'skip_head');
    const stamp = new Date(this.now()).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const name = `${stamp}-${randomBytes(8).toString('hex')}`;
    const dir = join(this.deps.dataDir, 'snapshots', name);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw apiErrorOf('internal', e, 'create snapshot directory');
    }
    try {
      await db.snapshot(dir, !skipHead);
    } catch (e) {
      throw apiErrorOf('internal', e, 'create snapshot');
    }
    return { data: { name } };
  }

  /** POST and PUT, as Prometheus registers its admin endpoints. */
  routes(): ApiRoute[] {
    const routes: ApiRoute[] = [];
    const admin = (path: string, handler: ApiRoute['handler']): void => {
      routes.push({ method: 'POST', path, handler }, { method: 'PUT', path, handler });
    };
    admin('/admin/tsdb/delete_series', (ctx) => this.deleteSeries(ctx));
    admin('/admin/tsdb/clean_tombstones', () => this.cleanTombstones());
    admin('/admin/tsdb/snapshot', (ctx) => this.snapshot(ctx));
    return routes;
  }

  /** The TSDB, when admin APIs are on and storage is open. */
  private db(): TSDBAdmin {
    if (!this.deps.adminEnabled) throw new ApiError('unavailable', 'admin APIs disabled');
    const db = this.deps.tsdb();
    if (db === null) throw new ApiError('unavailable', 'TSDB not ready');
    return db;
  }
}
