import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../../model/labels.js';
import { Engine } from '../../promql/engine/engine.js';
import { parseExpr, parseMetricSelector } from '../../promql/parser/parser.js';
import { prettify } from '../../promql/parser/printer.js';
import { MemoryStorage } from '../../storage/memory.js';
import { QueryApi } from './query.js';
import { ApiError, type ApiContext } from './types.js';
import type { ApiDeps } from './deps.js';

function deps(): ApiDeps {
  const storage = new MemoryStorage();
  const app = storage.appender();
  app.append(0, Labels.fromPairs('__name__', 'x'), 1000, 1);
  app.commit();
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
  };
}

function ctx(params: Record<string, string>): ApiContext {
  return {
    method: 'POST',
    url: new URL('http://localhost/api/v1/query'),
    params: new URLSearchParams(params),
    pathParams: {},
    clientIP: '127.0.0.1',
    path: '/api/v1/query',
    signal: new AbortController().signal,
    body: Buffer.alloc(0),
    headers: {},
  };
}

test('a timeout under a millisecond has run out before evaluation: timeout error, as Prometheus', async () => {
  const api = new QueryApi(deps());
  // 1ns, 0 and a negative duration all make a deadline in the past for Prometheus's context.
  for (const timeout of ['0.000000001', '0', '-1']) {
    await assert.rejects(
      async () => api.query(ctx({ query: 'x', time: '1', timeout })),
      (e: unknown) => e instanceof ApiError && e.errorType === 'timeout' && /^query timed out in /.test(e.message),
      timeout,
    );
  }
});

test('a timeout of a millisecond or more leaves a quick query alone', async () => {
  const api = new QueryApi(deps());
  for (const timeout of ['0.001', '30s']) {
    const r = await api.query(ctx({ query: 'x', time: '1', timeout }));
    assert.equal(r.warnings?.length ?? 0, 0, timeout);
  }
});
