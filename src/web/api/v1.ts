// web/api: Prometheus's HTTP API v1, one class per concern (query, series,
// metadata, status, admin), each with one method per endpoint, plus targets,
// the query log and the remote-write receiver. Parameter handling, error types
// and wording follow Prometheus's web/api/v1. It knows nothing of HTTP
// serving: web/ mounts these routes. May import gofmt, model, logging,
// config, storage, promql/parser, promql/engine, querylog, scrape and remote;
// never web/.
import type { ApiRoute } from './types.js';
import type { ApiDeps } from './deps.js';
import { QueryApi } from './query.js';
import { SeriesApi } from './series.js';
import { MetadataApi } from './metadata.js';
import { StatusApi } from './status.js';
import { AdminApi } from './admin.js';

export type { ApiDeps, MetricMetadata, Notification, PromQLParser, TSDBAdmin, TSDBStat, TSDBStatus, WALReplayStatus } from './deps.js';
export { walReplayRoute } from './status.js';

/** The API's endpoints over one set of dependencies. */
class ApiV1 {
  readonly query: QueryApi;
  readonly series: SeriesApi;
  readonly metadata: MetadataApi;
  readonly status: StatusApi;
  readonly admin: AdminApi;

  constructor(deps: ApiDeps) {
    this.query = new QueryApi(deps);
    this.series = new SeriesApi(deps);
    this.metadata = new MetadataApi(deps);
    this.status = new StatusApi(deps);
    this.admin = new AdminApi(deps);
  }

  /** Every route served once the server is ready (walreplay, served before, is walReplayRoute). */
  routes(): ApiRoute[] {
    return [...this.query.routes(), ...this.series.routes(), ...this.metadata.routes(), ...this.status.routes(), ...this.admin.routes()];
  }
}

export function createApiRoutes(deps: ApiDeps): ApiRoute[] {
  return new ApiV1(deps).routes();
}
