// GET /api/v1/status/query_log?limit=N: the newest query-log entries kept in memory, newest first.
import type { QueryLog } from '../../querylog/querylog.js';
import { ApiError, type ApiRoute } from './types.js';

/** Parses `limit` as Prometheus parses its limit parameters: a non-negative integer, 0 = no limit. */
function parseLimit(raw: string | null): number {
  if (raw === null || raw === '') return 0;
  if (!/^\d+$/.test(raw)) throw new ApiError('bad_data', `invalid limit: ${JSON.stringify(raw)} is not a non-negative integer`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new ApiError('bad_data', `invalid limit: ${raw} is too large`);
  return n;
}

export function queryLogRoutes(ql: QueryLog): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/status/query_log',
      handler: (ctx) => {
        const limit = parseLimit(ctx.params.get('limit'));
        return ql.recent(limit).then((data) => ({ data }));
      },
    },
  ];
}
