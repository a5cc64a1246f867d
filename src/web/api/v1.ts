// Prometheus's HTTP API v1 handlers: queries, metadata, status and admin.
// Parameter handling, error types and wording follow web/api/v1/api.go.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ApiError, type ApiContext, type ApiResult, type ApiRoute } from '../types.js';
import { Labels, isValidLabelName } from '../../model/labels.js';
import type { Matcher } from '../../model/matcher.js';
import type { Expr } from '../../promql/parser/ast.js';
import { ParseError } from '../../promql/parser/errors.js';
import { EvalError, QueryCanceledError, QueryTimeoutError } from '../../promql/engine/errors.js';
import type { Query, QueryEngine, QueryResult, QueryStats } from '../../promql/engine/types.js';
import type { Queryable, SeriesSet } from '../../storage/interface.js';
import { StorageError } from '../../storage/interface.js';
import { RawJSON, formatJSONNumber, formatUnixSeconds } from './json.js';
import { QueryData } from './response.js';
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
import { compareStrings } from '../../gofmt/order.js';
import { goQuote } from '../../gofmt/quote.js';
import { astJSON, extractSelectors } from './ast_json.js';

/** What the API needs from the PromQL parser. */
export interface PromQLParser {
  /** Throws ParseError. */
  parseExpr(input: string): Expr;
  /** Parses a series selector like `up{job="x"}`; throws ParseError. */
  parseMetricSelector(input: string): Matcher[];
  /** Prometheus's prettified form of an expression (format_query). */
  prettify(expr: Expr): string;
}

/** One cardinality entry of /api/v1/status/tsdb. */
export interface TSDBStat {
  name: string;
  value: number;
}

export interface TSDBStatus {
  headStats: { numSeries: number; numLabelPairs: number; chunkCount: number; minTime: number; maxTime: number };
  seriesCountByMetricName: TSDBStat[];
  labelValueCountByLabelName: TSDBStat[];
  memoryInBytesByLabelName: TSDBStat[];
  seriesCountByLabelValuePair: TSDBStat[];
}

export interface WALReplayStatus {
  min: number;
  max: number;
  current: number;
}

/** What the admin and status endpoints need from the TSDB. */
export interface TSDBAdmin {
  deleteSeries(mint: number, maxt: number, matchers: Matcher[]): void | Promise<void>;
  cleanTombstones(): void | Promise<void>;
  snapshot(dir: string, withHead: boolean): void | Promise<void>;
  status(limit: number): TSDBStatus;
}

export interface MetricMetadata {
  type: string;
  help: string;
  unit: string;
}

/** One entry of /api/v1/notifications, as Prometheus's notifications.Notification marshals it. */
export interface Notification {
  text: string;
  /** RFC 3339 with fractional seconds, as Go marshals a time.Time. */
  date: string;
  active: boolean;
}

export interface ApiDeps {
  engine: QueryEngine;
  storage: Queryable;
  parser: PromQLParser;
  /** --enable-feature values. */
  features: ReadonlySet<string>;
  /** Current config as YAML (secrets hidden). */
  configYAML(): string;
  flags(): Record<string, string>;
  runtimeInfo(): Record<string, unknown>;
  buildInfo(): Record<string, unknown>;
  /** TSDB admin and stats; null while storage is not open. */
  tsdb(): TSDBAdmin | null;
  walReplayStatus(): WALReplayStatus;
  adminEnabled: boolean;
  dataDir: string;
  /** Metric metadata from scraped targets: metric family -> distinct entries. */
  metadata?(metric: string): Map<string, MetricMetadata[]>;
  /** Server notifications (failed reload, shutting down); none when absent. */
  notifications?(): readonly Notification[];
  /** Query bookkeeping (in-flight gauge). */
  onQueryStart?(): void;
  onQueryEnd?(): void;
  now?(): number;
}

// Prometheus shows at most this many warnings and infos per response.
const MAX_ANNOTATIONS = 10;
// Prometheus's cap on points per series of a range query: 60s resolution for a week, 1h for a year.
const MAX_POINTS_PER_SERIES = 11_000;
const MAX_TSDB_STATUS_LIMIT = 10_000;
/** What Prometheus answers for a range query whose step is under 1 ms (its evaluator's integer division by zero). */
const SUB_MS_STEP_ERROR = 'unexpected error: runtime error: integer divide by zero';

/** Distinct texts (Prometheus keeps annotations in a map keyed by text), capped as annotations.AsStrings caps them. */
function capAnnotations(list: readonly string[], kind: 'warning' | 'info'): string[] {
  const distinct = [...new Set(list)];
  if (distinct.length <= MAX_ANNOTATIONS) return distinct;
  return [...distinct.slice(0, MAX_ANNOTATIONS), `${distinct.length - MAX_ANNOTATIONS} more ${kind} annotations omitted`];
}

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

/** Prometheus's labels.Compare: pairwise by name, then value, as UTF-8 bytes; shorter first. */
export function compareLabelsUTF8(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareStrings(a.nameAt(i), b.nameAt(i)) || compareStrings(a.valueAt(i), b.valueAt(i));
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** A copy with keys in Go's sorted-map order (by bytes). */
function sortedKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort(compareStrings)) out[k] = o[k]!;
  return out;
}

/** Values of `stats` that Prometheus supports; others still enable stats, with a deprecation warning. */
const STATS_VALUES = new Set(['', 'true', 'all']);

/** Maps an error from running a query to Prometheus's error type (api.go returnAPIError). */
function queryExecError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof QueryCanceledError) return new ApiError('canceled', e.message);
  if (e instanceof QueryTimeoutError) return new ApiError('timeout', e.message);
  if (e instanceof StorageError) return new ApiError('internal', e.message);
  if (e instanceof EvalError || e instanceof Error) return new ApiError('execution', e.message);
  return new ApiError('execution', String(e));
}

/** Parses match[] values; `wrap` names the parameter in errors as series and admin endpoints do. */
function parseMatcherSets(parser: PromQLParser, values: string[], wrap: boolean): Matcher[][] {
  const sets: Matcher[][] = [];
  for (const v of values) {
    try {
      sets.push(parser.parseMetricSelector(v));
    } catch (e) {
      if (e instanceof ParseError || e instanceof Error) throw wrap ? invalidParam('match[]', e) : new ApiError('bad_data', e.message);
      throw e;
    }
  }
  for (const set of sets) {
    if (!set.some((m) => !m.matches(''))) {
      const err = new ParamError('match[] must contain at least one non-empty matcher');
      throw wrap ? invalidParam('match[]', err) : new ApiError('bad_data', err.message);
    }
  }
  return sets;
}

/** Prometheus's model.UnescapeName for the U__ value-encoding escape of label names in paths. */
export function unescapeLabelName(name: string): string {
  if (!name.startsWith('U__')) return name;
  const s = name.slice(3);
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '_') {
      out += c;
      continue;
    }
    if (s[i + 1] === '_') {
      out += '_';
      i++;
      continue;
    }
    const end = s.indexOf('_', i + 1);
    if (end < 0) return name;
    const hex = s.slice(i + 1, end);
    if (!/^[0-9a-fA-F]+$/.test(hex)) return name;
    const cp = parseInt(hex, 16);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return name;
    out += String.fromCodePoint(cp);
    i = end;
  }
  return out;
}

const BOOL_TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const BOOL_FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

export function createApiRoutes(deps: ApiDeps): ApiRoute[] {
  const now = deps.now ?? Date.now;
  const perStepEnabled = deps.features.has('promql-per-step-stats');

  /** Runs a query with the request's cancellation and optional timeout, shaping its answer. */
  async function runQuery(ctx: ApiContext, q: Query, timeoutMs: number | null, limit: number): Promise<ApiResult> {
    let signal = ctx.signal;
    let timedOut: AbortSignal | null = null;
    if (timeoutMs !== null) {
      timedOut = AbortSignal.timeout(Math.max(timeoutMs, 0));
      signal = AbortSignal.any([ctx.signal, timedOut]);
    }
    deps.onQueryStart?.();
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
      deps.onQueryEnd?.();
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

  function queryOpts(ctx: ApiContext): { lookbackDeltaMs?: number; perStepStats: boolean } {
    const opts: { lookbackDeltaMs?: number; perStepStats: boolean } = {
      perStepStats: perStepEnabled && ctx.params.get('stats') === 'all',
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

  const query = async (ctx: ApiContext): Promise<ApiResult> => {
    const limit = parseLimitParam(ctx.params);
    const ts = parseTimeParam(ctx.params, 'time', now());
    const timeoutMs = timeoutParam(ctx);
    const opts = queryOpts(ctx);
    const qs = ctx.params.get('query') ?? '';
    const q = newQuery(() => deps.engine.newInstantQuery(deps.storage, qs, ts, opts));
    return runQuery(ctx, q, timeoutMs, limit);
  };

  const queryRange = async (ctx: ApiContext): Promise<ApiResult> => {
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
    const opts = queryOpts(ctx);
    const qs = p.get('query') ?? '';
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
    return runQuery(ctx, q, timeoutMs, limit);
  };

  const parseQueryParam = (ctx: ApiContext): Expr => {
    try {
      return deps.parser.parseExpr(ctx.params.get('query') ?? '');
    } catch (e) {
      throw invalidParam('query', e);
    }
  };

  const formatQuery = (ctx: ApiContext): ApiResult => ({ data: deps.parser.prettify(parseQueryParam(ctx)) });
  const parseQuery = (ctx: ApiContext): ApiResult => ({ data: astJSON(parseQueryParam(ctx)) });

  const queryExemplars = (ctx: ApiContext): ApiResult => {
    const start = parseTimeParam(ctx.params, 'start', MIN_TIME_MS);
    const end = parseTimeParam(ctx.params, 'end', MAX_TIME_MS);
    if (end < start) throw new ApiError('bad_data', 'end timestamp must not be before start timestamp');
    let expr: Expr;
    try {
      expr = deps.parser.parseExpr(ctx.params.get('query') ?? '');
    } catch (e) {
      throw new ApiError('bad_data', (e as Error).message);
    }
    // No selectors: Prometheus answers with no data at all (204).
    if (extractSelectors(expr).length === 0) return { data: undefined };
    // Exemplars are not stored yet, so every selection is empty.
    return { data: [] };
  };

  const labelNames = (ctx: ApiContext): ApiResult => {
    const limit = parseLimitParam(ctx.params);
    const start = parseTimeParam(ctx.params, 'start', MIN_TIME_MS);
    const end = parseTimeParam(ctx.params, 'end', MAX_TIME_MS);
    const sets = parseMatcherSets(deps.parser, ctx.params.getAll('match[]'), false);
    const hints = { limit: limit > 0 ? limit + 1 : 0 };
    const q = deps.storage.querier(start, end);
    let names: string[];
    try {
      if (sets.length > 1) {
        const all = new Set<string>();
        for (const ms of sets) for (const n of q.labelNames(hints, ...ms)) all.add(n);
        names = [...all].sort(compareStrings);
      } else {
        // Storage sorts by UTF-16 units; Prometheus's order is by UTF-8 bytes.
        names = [...q.labelNames(hints, ...(sets[0] ?? []))].sort(compareStrings);
      }
    } catch (e) {
      throw new ApiError('execution', (e as Error).message);
    } finally {
      q.close();
    }
    const warnings: string[] = [];
    if (limit > 0 && names.length > limit) {
      names = names.slice(0, limit);
      warnings.push('results truncated due to limit');
    }
    return { data: names, warnings };
  };

  const labelValues = (ctx: ApiContext): ApiResult => {
    const name = unescapeLabelName(ctx.pathParams['name'] ?? '');
    if (!isValidLabelName(name)) throw new ApiError('bad_data', `invalid label name: ${goQuote(name)}`);
    const limit = parseLimitParam(ctx.params);
    const start = parseTimeParam(ctx.params, 'start', MIN_TIME_MS);
    const end = parseTimeParam(ctx.params, 'end', MAX_TIME_MS);
    const sets = parseMatcherSets(deps.parser, ctx.params.getAll('match[]'), false);
    const hints = { limit: limit > 0 ? limit + 1 : 0 };
    const q = deps.storage.querier(start, end);
    let vals: string[];
    try {
      if (sets.length > 1) {
        const all = new Set<string>();
        for (const ms of sets) for (const v of q.labelValues(name, hints, ...ms)) all.add(v);
        vals = [...all];
      } else {
        vals = [...q.labelValues(name, hints, ...(sets[0] ?? []))];
      }
    } catch (e) {
      throw new ApiError('execution', (e as Error).message);
    } finally {
      q.close();
    }
    vals.sort(compareStrings);
    const warnings: string[] = [];
    if (limit > 0 && vals.length > limit) {
      vals = vals.slice(0, limit);
      warnings.push('results truncated due to limit');
    }
    return { data: vals, warnings };
  };

  const series = (ctx: ApiContext): ApiResult => {
    const matches = ctx.params.getAll('match[]');
    if (matches.length === 0) throw new ApiError('bad_data', 'no match[] parameter provided');
    const limit = parseLimitParam(ctx.params);
    const start = parseTimeParam(ctx.params, 'start', MIN_TIME_MS);
    const end = parseTimeParam(ctx.params, 'end', MAX_TIME_MS);
    const sets = parseMatcherSets(deps.parser, matches, true);
    const q = deps.storage.querier(start, end);
    const found = new Map<string, Labels>();
    const warnings: string[] = [];
    try {
      // As Prometheus: one selector is answered in storage order, several are sorted and merged.
      const sort = sets.length > 1;
      for (const ms of sets) {
        const set: SeriesSet = q.select(sort, { start, end, func: 'series' }, ...ms);
        while (set.next()) {
          const ls = set.at().labels;
          found.set(ls.key(), ls);
          if (ctx.signal.aborted) throw new ApiError('canceled', 'context canceled');
        }
        const err = set.err();
        if (err !== null) throw queryExecError(err);
        warnings.push(...set.warnings());
      }
    } finally {
      q.close();
    }
    let metrics = [...found.values()];
    if (sets.length > 1) metrics.sort(compareLabelsUTF8);
    if (limit > 0 && metrics.length > limit) {
      metrics = metrics.slice(0, limit);
      warnings.push('results truncated due to limit');
    }
    return { data: metrics, warnings: capAnnotations(warnings, 'warning') };
  };

  const metadata = (ctx: ApiContext): ApiResult => {
    const intParam = (name: string): number => {
      const s = ctx.params.get(name);
      if (s === null || s === '') return -1;
      if (!/^[+-]?\d+$/.test(s)) throw new ApiError('bad_data', `${name} must be a number`);
      return Number(s);
    };
    const limit = intParam('limit');
    const limitPerMetric = intParam('limit_per_metric');
    const all = deps.metadata?.(ctx.params.get('metric') ?? '') ?? new Map<string, MetricMetadata[]>();
    const out: Record<string, MetricMetadata[]> = {};
    let n = 0;
    for (const [family, entries] of all) {
      if (limit >= 0 && n >= limit) break;
      out[family] = limitPerMetric > 0 ? entries.slice(0, limitPerMetric) : entries;
      n++;
    }
    return { data: sortedKeys(out) };
  };

  const tsdbStatus = (ctx: ApiContext): ApiResult => {
    let limit = 10;
    const s = ctx.params.get('limit');
    if (s !== null && s !== '') {
      limit = /^[+-]?\d+$/.test(s) ? Number(s) : NaN;
      if (!(limit >= 1)) throw new ApiError('bad_data', 'limit must be a positive number');
      if (limit > MAX_TSDB_STATUS_LIMIT) throw new ApiError('bad_data', `limit must not exceed ${MAX_TSDB_STATUS_LIMIT}`);
    }
    const db = deps.tsdb();
    if (db === null) throw new ApiError('unavailable', 'TSDB not ready');
    return { data: db.status(limit) };
  };

  const adminDB = (): TSDBAdmin => {
    if (!deps.adminEnabled) throw new ApiError('unavailable', 'admin APIs disabled');
    const db = deps.tsdb();
    if (db === null) throw new ApiError('unavailable', 'TSDB not ready');
    return db;
  };

  const deleteSeries = async (ctx: ApiContext): Promise<ApiResult> => {
    const db = adminDB();
    const matches = ctx.params.getAll('match[]');
    if (matches.length === 0) throw new ApiError('bad_data', 'no match[] parameter provided');
    const start = parseTimeParam(ctx.params, 'start', MIN_TIME_MS);
    const end = parseTimeParam(ctx.params, 'end', MAX_TIME_MS);
    const sets: Matcher[][] = [];
    for (const m of matches) {
      try {
        sets.push(deps.parser.parseMetricSelector(m));
      } catch (e) {
        throw invalidParam('match[]', e);
      }
    }
    for (const ms of sets) {
      try {
        await db.deleteSeries(start, end, ms);
      } catch (e) {
        throw new ApiError('internal', (e as Error).message);
      }
    }
    return { data: undefined };
  };

  const cleanTombstones = async (): Promise<ApiResult> => {
    const db = adminDB();
    try {
      await db.cleanTombstones();
    } catch (e) {
      throw new ApiError('internal', (e as Error).message);
    }
    return { data: undefined };
  };

  const snapshot = async (ctx: ApiContext): Promise<ApiResult> => {
    const db = adminDB();
    let skipHead = false;
    const sh = ctx.params.get('skip_head');
    if (sh !== null && sh !== '') {
      if (BOOL_TRUE.includes(sh)) skipHead = true;
      else if (!BOOL_FALSE.includes(sh)) {
        throw invalidParam('skip_head', new ParamError(`unable to parse boolean: strconv.ParseBool: parsing ${goQuote(sh)}: invalid syntax`));
      }
    }
    const stamp = new Date(now()).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const name = `${stamp}-${randomBytes(8).toString('hex')}`;
    const dir = join(deps.dataDir, 'snapshots', name);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new ApiError('internal', `create snapshot directory: ${(e as Error).message}`);
    }
    try {
      await db.snapshot(dir, !skipHead);
    } catch (e) {
      throw new ApiError('internal', `create snapshot: ${(e as Error).message}`);
    }
    return { data: { name } };
  };

  const routes: ApiRoute[] = [];
  const both = (path: string, handler: ApiRoute['handler']): void => {
    routes.push({ method: 'GET', path, handler }, { method: 'POST', path, handler });
  };
  const admin = (path: string, handler: ApiRoute['handler']): void => {
    routes.push({ method: 'POST', path, handler }, { method: 'PUT', path, handler });
  };
  both('/query', query);
  both('/query_range', queryRange);
  both('/query_exemplars', queryExemplars);
  both('/format_query', formatQuery);
  both('/parse_query', parseQuery);
  both('/labels', labelNames);
  routes.push({ method: 'GET', path: '/label/:name/values', handler: labelValues });
  both('/series', series);
  routes.push(
    { method: 'GET', path: '/metadata', handler: metadata },
    { method: 'GET', path: '/status/config', handler: () => ({ data: { yaml: deps.configYAML() } }) },
    // A Go map: json-iterator writes its keys sorted.
    { method: 'GET', path: '/status/flags', handler: () => ({ data: sortedKeys(deps.flags()) }) },
    { method: 'GET', path: '/status/runtimeinfo', handler: () => ({ data: deps.runtimeInfo() }) },
    { method: 'GET', path: '/status/buildinfo', handler: () => ({ data: deps.buildInfo() }) },
    { method: 'GET', path: '/status/tsdb', handler: tsdbStatus },
    { method: 'GET', path: '/notifications', handler: () => ({ data: deps.notifications?.() ?? [] }) },
  );
  admin('/admin/tsdb/delete_series', deleteSeries);
  admin('/admin/tsdb/clean_tombstones', cleanTombstones);
  admin('/admin/tsdb/snapshot', snapshot);
  return routes;
}

/** /api/v1/status/walreplay: served before the server is ready, so clients can watch replay progress. */
export function walReplayRoute(deps: Pick<ApiDeps, 'walReplayStatus'>): ApiRoute {
  return { method: 'GET', path: '/status/walreplay', handler: () => ({ data: deps.walReplayStatus() }) };
}
