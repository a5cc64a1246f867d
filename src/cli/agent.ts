// Agent mode (--agent) as the server applies it, after Prometheus's agent:
// the config sections it refuses, and the API endpoints that answer the agent
// error instead of their data. The store itself is tsdb/agent.
import type { Config } from '../config/types.js';
import { ApiError, type ApiRoute } from '../web/api/types.js';

/** Prometheus's wording (web/api/v1, errorExec: HTTP 422). */
export const AGENT_API_ERROR = 'unavailable with Prometheus Agent';

/** Endpoints Prometheus's agent answers with AGENT_API_ERROR (paths under /api/v1). */
const UNAVAILABLE_IN_AGENT = new Set([
  '/query',
  '/query_range',
  '/query_exemplars',
  '/format_query',
  '/parse_query',
  '/labels',
  '/label/:name/values',
  '/series',
  '/alertmanagers',
  '/status/tsdb',
  '/status/tsdb/blocks',
  '/alerts',
  '/rules',
  '/admin/tsdb/delete_series',
  '/admin/tsdb/clean_tombstones',
  '/admin/tsdb/snapshot',
]);

export class AgentConfigError extends Error {
  override name = 'AgentConfigError';
}

/** Refuses what an agent cannot do, as Prometheus's config loader does in agent mode. */
export function checkAgentConfig(cfg: Config): void {
  if (cfg.alerting.alertmanagers.length > 0 || cfg.alerting.alertRelabelConfigs.length > 0) {
    throw new AgentConfigError('field alerting is not allowed in agent mode');
  }
  if (cfg.ruleFiles.length > 0) throw new AgentConfigError('field rule_files is not allowed in agent mode');
  if (cfg.remoteRead.length > 0) throw new AgentConfigError('field remote_read is not allowed in agent mode');
}

/** The routes with the query, rules and TSDB endpoints answering the agent error. */
export function agentRoutes(routes: readonly ApiRoute[]): ApiRoute[] {
  return routes.map((r) =>
    UNAVAILABLE_IN_AGENT.has(r.path)
      ? {
          ...r,
          handler: () => {
            throw new ApiError('execution', AGENT_API_ERROR);
          },
        }
      : r,
  );
}
