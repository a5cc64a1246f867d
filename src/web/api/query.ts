// Query endpoints: /query, /query_range, /query_exemplars, /format_query and /parse_query.
import { ApiError, type ApiContext, type ApiResult, type ApiRoute } from './types.js';
import type { ApiDeps } from './deps.js';
import type { Expr } from '../../promql/parser/ast.js';
import { QueryCanceledError, QueryTimeoutError } from '../../promql/engine/errors.js';
import type { Query, QueryResult, QueryStats } from '../../promql/engine/types.js';
import { RawJSON, formatJSONNumber, formatSampleValue, formatUnixSeconds, labelsJSON } from './json.js';
import type { ExemplarQueryResult } from '../../storage/interface.js';
import { QueryData, capAnnotations } from './response.js';
import { queryExecError } from './errors.js';
import {
  MAX_TIME_MS,
  MIN_TIME_MS,
  ParamError,
  invalidParam,
  parseDurationNs,
  parseDurationParam,
  parseLimitParam,
  parseTime,
  parseTimeParam,
} from './params.js';
import { goQuote } from '../../gofmt/quote.js';
import { astJSON, extractSelectors } from './ast_json.js';

// Prometheus's cap on points per series of a range query: 60s resolution for a week, 1h for a year.
const MAX_POINTS_PER_SERIES = 11_000;
/** What Prometheus answers for a range query whose step is under 1 ms (its evaluator's integer division by zero). */
const SUB_MS_STEP_ERROR = 'unexpected error: runtime error: integer divide by zero';

/** Per-step counts as stats.stepStat marshals them: [float64(t)/1000, n]. */
function stepStatsJSON(steps: ReadonlyArray<readonly [number, number]>): string {
  return `[${steps.map(([sec, n]) => `[${formatUnixSeconds(Math.round(sec * 1000))},${n}]`).join(',')}]`;
}

/** The `stats` member as Prometheus's stats.BuiltinStats marshals it, fields in its order. */
function statsJSON(s: QueryStats): RawJSON {
  const t = s.timings;
  const sm = s.samples;
  let samples = '{';
  if (sm.totalQueryableSamplesPerStep !== undefined) samples += `"totalQueryableSamplesPerStep":${stepStatsJSON(sm.totalQueryableSamplesPerStep)},`;
  samples += `"totalQueryableSamples":${sm.totalQueryableSamples},`;
  if (sm.samplesReadPerStep !== undefined) samples += `"samplesReadPerStep":${stepStatsJSON(sm.samplesReadPerStep)},`;
  if (sm.samplesRead !== undefined) samples += `"samplesRead":${sm.samplesRead},`;
  samples += `"peakSamples":${sm.peakSamples}}`;
  return new RawJSON(
    `{"timings":{"evalTotalTime":${num(t.evalTotalTime)},"resultSortTime":${num(t.resultSortTime)},"queryPreparationTime":${num(t.queryPreparationTime)},"innerEvalTime":${num(t.innerEvalTime)},"execQueueTime":${num(t.execQueueTime)},"execTotalTime":${num(t.execTotalTime)}},"samples":${samples}}`,
  );
}

function num(x: number): string {
  return Number.isFinite(x) ? formatJSONNumber(x) : '0';
}

/** Values of `stats` that Prometheus supports; others still enable stats, with a deprecation warning. */
const STATS_VALUES = new Set(['', 'true', 'all']);

interface QueryOpts {
  lookbackDeltaMs?: number;
  perStepStats: boolean;
}

export class QueryApi {
  private readonly now: () => number;
  private readonly perStepEnabled: boolean;

  constructor(private readonly deps: ApiDeps) {
    this.now = deps.now ?? Date.now;
    this.perStepEnabled = deps.features.has('promql-per-step-stats');
  }

  async query(ctx: ApiContext): Promise<ApiResult> {
    const limit = parseLimitParam(ctx.params);
    const ts = parseTimeParam(ctx.params, 'time', this.now());
    const timeoutMs = timeoutParam(ctx);
    const opts = this.queryOpts(ctx);
    const qs = ctx.params.get('query') ?? '';
    const q = newQuery(() => this.deps.engine.newInstantQuery(this.deps.storage, qs, ts, opts));
    return this.runQuery(ctx, q, timeoutMs, limit);
  }

  async queryRange(ctx: ApiContext): Promise<ApiResult> {
    const limit = parseLimitParam(ctx.params);
    const p = ctx.params;
    let start: number;
    let end: number;
    let stepNs: number;
    try {
      start = parseTime(p.get('start') ?? '');
    } catch (e) {
      throw invalidParam('start', e);
    }
    try {
      end = parseTime(p.get('end') ?? '');
    } catch (e) {
      throw invalidParam('end', e);
    }
    if (end < start) throw invalidParam('end', new ParamError('end timestamp must not be before start time'));
    try {
      stepNs = parseDurationNs(p.get('step') ?? '');
    } catch (e) {
      throw invalidParam('step', e);
    }
    if (stepNs <= 0) {
      throw invalidParam('step', new ParamError('zero or negative query resolution step widths are not accepted. Try a positive integer'));
    }
    // Go divides the range by the step as integer nanoseconds.
    if (Math.floor(((end - start) * 1e6) / stepNs) > MAX_POINTS_PER_SERIES) {
      throw new ApiError(
        'bad_data',
        'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
      );
    }
    const timeoutMs = timeoutParam(ctx);
    const opts = this.queryOpts(ctx);
    const qs = p.get('query') ?? '';
    const deps = this.deps;
    // The engine works in whole ms, as Prometheus's evaluator truncates the step.
    const stepMs = Math.trunc(stepNs / 1e6);
    if (stepMs === 0) {
      // Prometheus accepts a step under 1 ms and creates the query (so a bad
      // query is still a bad parameter), then its evaluator divides the range
      // by the truncated zero step and the query fails with the recovered panic.
      newQuery(() => deps.engine.newRangeQuery(deps.storage, qs, start, end, 1, opts));
      throw new ApiError('execution', SUB_MS_STEP_ERROR);
    }
    const q = newQuery(() => deps.engine.newRangeQuery(deps.storage, qs, start, end, stepMs, opts));
    return this.runQuery(ctx, q, timeoutMs, limit);
  }

  queryExemplars(ctx: ApiContext): ApiResult {
    const start = parseTimeParam(ctx.params, 'start', MIN_TIME_MS);
    const end = parseTimeParam(ctx.params, 'end', MAX_TIME_MS);
    if (end < start) throw new ApiError('bad_data', 'end timestamp must not be before start timestamp');
    let expr: Expr;
    try {
      expr = this.deps.parser.parseExpr(ctx.params.get('query') ?? '');
    } catch (e) {
      throw new ApiError('bad_data', (e as Error).message);
    }
    const selectors = extractSelectors(expr);
    // No selectors: Prometheus answers with no data at all (204).
    if (selectors.length === 0) return { data: undefined };
    const eq = this.deps.exemplars?.() ?? null;
    if (eq === null) return { data: [] };
    return { data: exemplarsJSON(eq.select(start, end, selectors)) };
  }

  formatQuery(ctx: ApiContext): ApiResult {
    return { data: this.deps.parser.prettify(this.parseQueryParam(ctx)) };
  }

  parseQuery(ctx: ApiContext): ApiResult {
    return { data: astJSON(this.parseQueryParam(ctx)) };
  }

  /** GET and POST routes of every query endpoint. */
  routes(): ApiRoute[] {
    const routes: ApiRoute[] = [];
    const both = (path: string, handler: ApiRoute['handler']): void => {
      routes.push({ method: 'GET', path, handler }, { method: 'POST', path, handler });
    };
    both('/query', (ctx) => this.query(ctx));
    both('/query_range', (ctx) => this.queryRange(ctx));
    both('/query_exemplars', (ctx) => this.queryExemplars(ctx));
    both('/format_query', (ctx) => this.formatQuery(ctx));
    both('/parse_query', (ctx) => this.parseQuery(ctx));
    return routes;
  }

  private parseQueryParam(ctx: ApiContext): Expr {
    try {
      return this.deps.parser.parseExpr(ctx.params.get('query') ?? '');
    } catch (e) {
      throw invalidParam('query', e);
    }
  }

  private queryOpts(ctx: ApiContext): QueryOpts {
    const opts: QueryOpts = {
      perStepStats: this.perStepEnabled && ctx.params.get('stats') === 'all',
    };
    const lb = ctx.params.get('lookback_delta');
    if (lb !== null && lb !== '') {
      try {
        opts.lookbackDeltaMs = parseDurationParam(lb);
      } catch (e) {
        throw new ApiError('bad_data', `error parsing lookback delta duration: ${(e as Error).message}`);
      }
    }
    return opts;
  }

  /** Runs a query with the request's cancellation and optional timeout, shaping its answer. */
  private async runQuery(ctx: ApiContext, q: Query, timeoutMs: number | null, limit: number): Promise<ApiResult> {
    let signal = ctx.signal;
    let timedOut: AbortSignal | null = null;
    if (timeoutMs !== null) {
      // Prometheus sets a context deadline of now + timeout: one under a millisecond (0, 1ns) has
      // passed when evaluation starts, and the query times out. A JS timer would fire 1 ms later,
      // after a small query is done.
      timedOut = timeoutMs < 1 ? AbortSignal.abort() : AbortSignal.timeout(timeoutMs);
      signal = AbortSignal.any([ctx.signal, timedOut]);
    }
    const refusal = this.deps.admitQuery?.() ?? null;
    if (refusal !== null) throw new ApiError('unavailable', refusal, 503);
    this.deps.onQueryStart?.();
    let res: QueryResult;
    try {
      res = await q.exec({ signal, origin: { httpRequest: { clientIP: ctx.clientIP, method: ctx.method, path: ctx.path } } });
    } catch (e) {
      if (e instanceof QueryCanceledError && timedOut?.aborted && !ctx.signal.aborted) {
        const where = /canceled in (.*)$/.exec(e.message)?.[1] ?? 'query execution';
        throw new ApiError('timeout', new QueryTimeoutError(where).message);
      }
      throw queryExecError(e);
    } finally {
      this.deps.onQueryEnd?.();
    }
    // The API shows annotations with their position in the query, as annotations.AsStrings does.
    const warnings = [...(res.warningsWithPosition ?? res.warnings)];
    const infos = res.infosWithPosition ?? res.infos;
    let value = res.value;
    if (limit > 0) {
      if (value.type === 'vector' && value.samples.length > limit) {
        value = { type: 'vector', samples: value.samples.slice(0, limit) };
        warnings.push('results truncated due to limit');
      } else if (value.type === 'matrix' && value.series.length > limit) {
        value = { type: 'matrix', series: value.series.slice(0, limit) };
        warnings.push('results truncated due to limit');
      }
    }
    const statsParam = ctx.params.get('stats') ?? '';
    if (!STATS_VALUES.has(statsParam)) {
      warnings.push(`value ${goQuote(statsParam)} for parameter "stats" is deprecated and will be rejected in the next major release, use "true" or "all"`);
    }
    const data = new QueryData(value, statsParam !== '' ? statsJSON(q.stats()) : undefined);
    return { data, warnings: capAnnotations(warnings, 'warning'), infos: capAnnotations(infos, 'info') };
  }
}

/** query_exemplars' data as Prometheus writes it: labels, the value as a string, the timestamp in seconds. */
function exemplarsJSON(results: readonly ExemplarQueryResult[]): RawJSON {
  const parts: string[] = [];
  for (const r of results) {
    const ex = r.exemplars.map((e) => `{"labels":${labelsJSON(e.labels)},"value":"${formatSampleValue(e.value)}","timestamp":${exemplarTimestamp(e.ts)}}`);
    parts.push(`{"seriesLabels":${labelsJSON(r.seriesLabels)},"exemplars":[${ex.join(',')}]}`);
  }
  return new RawJSON(`[${parts.join(',')}]`);
}

/** Milliseconds as seconds with up to three decimals, written from the integer as Prometheus writes point timestamps. */
function exemplarTimestamp(ms: number): string {
  const neg = ms < 0;
  const a = Math.abs(ms);
  const sec = Math.floor(a / 1000);
  const frac = a % 1000;
  const s = frac === 0 ? String(sec) : `${sec}.${String(frac).padStart(3, '0')}`;
  return neg ? `-${s}` : s;
}

function timeoutParam(ctx: ApiContext): number | null {
  const to = ctx.params.get('timeout');
  if (to === null || to === '') return null;
  try {
    return parseDurationParam(to);
  } catch (e) {
    throw invalidParam('timeout', e);
  }
}

function newQuery(build: () => Query): Query {
  try {
    return build();
  } catch (e) {
    throw invalidParam('query', e);
  }
}
