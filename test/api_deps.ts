// The smallest set of API dependencies that answers queries: an engine over a storage, the real
// parser, and empty status providers. Shared by the API tests and the API benchmark.
import { Engine } from '../src/promql/engine/engine.js';
import type { QueryEngine } from '../src/promql/engine/types.js';
import { parseExpr, parseMetricSelector } from '../src/promql/parser/parser.js';
import { prettify } from '../src/promql/parser/printer.js';
import type { Queryable } from '../src/storage/interface.js';
import type { ApiDeps } from '../src/web/api/v1.js';

export function queryApiDeps(storage: Queryable, over: Partial<ApiDeps> & { engine?: QueryEngine } = {}): ApiDeps {
  return {
    engine: new Engine({}),
    storage,
    parser: { parseExpr: (q) => parseExpr(q), parseMetricSelector, prettify: (e) => prettify(e) },
    features: new Set(),
    configYAML: () => '',
    flags: () => ({}),
    runtimeInfo: () => ({}),
    buildInfo: () => ({}),
    tsdb: () => null,
    walReplayStatus: () => ({ min: 0, max: 0, current: 0 }),
    adminEnabled: false,
    dataDir: '.',
    ...over,
  };
}
