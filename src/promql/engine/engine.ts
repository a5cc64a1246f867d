// The query engine: parses and prepares queries, runs them under the
// concurrency gate, deadline and sample limit, and reports stats to the
// query-log hook after every execution.
//
// Folder promql/engine evaluates parsed PromQL against storage. It may import
// model, logging, relabel, storage and promql/parser. Inside it, the operator
// files depend on context.ts (EvalContext), never on evaluator.ts.
import type { FloatHistogram } from '../../model/histogram.js';
import type { Labels } from '../../model/labels.js';
import { nopLogger, type Logger } from '../../logging/types.js';
import type { Querier, Queryable, SeriesSet } from '../../storage/interface.js';
import type { Expr, VectorSelector } from '../parser/ast.js';
import { ParseError } from '../parser/errors.js';
import { documentedType, exprType, parseExpr } from '../parser/parser.js';
import { Annotations } from './annotations.js';
import { EvalError, QueryCanceledError, QueryQueueFullError, QueryTimeoutError } from './errors.js';
import type { QueryContext } from './context.js';
import { Evaluator, stepCount } from './evaluator.js';
import { histogramSelectors, histogramStatsSelectors } from './histogram_paths.js';
import { Checkpoint, ConcurrencyGate, DEFAULT_YIELD_INTERVAL_MS } from './limits.js';
import {
  COLUMN_SAMPLE_BYTES,
  QueryMemoryBudgetError,
  QueryMemoryTracker,
  SAMPLE_BYTES,
  SERIES_OVERHEAD_BYTES,
  STRING_OVERHEAD_BYTES,
  labelsBytes,
  type QueryMemory,
} from './memory.js';
import {
  funcFromPath,
  groupingFromPath,
  lastSubqueryStep,
  preprocess,
  selectorTimeRange,
  selectors,
  setOffsetForAtModifier,
} from './preprocess.js';
import { SampleStats } from './stats.js';
import type {
  EngineOptions,
  ExecContext,
  InstantSample,
  Query,
  QueryEngine,
  QueryLogRecord,
  QueryOptions,
  QueryResult,
  QueryStats,
  QueryTimings,
  QueryValue,
  RangeSeries,
} from './types.js';
import { InstantColumns, effectiveMetric, isString, sortMatrix, type EvalValue, type Series } from './value.js';

/** Prometheus's defaults for --query.timeout, --query.max-samples, --query.lookback-delta, --query.max-concurrency. */
const DEFAULT_TIMEOUT_MS = 2 * 60_000;
const DEFAULT_MAX_SAMPLES = 50_000_000;
const DEFAULT_LOOKBACK_DELTA_MS = 5 * 60_000;
const DEFAULT_MAX_CONCURRENCY = 20;
/**
 * Queries allowed to wait for a slot. A waiting query holds only its parsed
 * expression (kilobytes), and 1,000 waiting behind 20 running ones already
 * means minutes of backlog; beyond that, failing fast beats piling up.
 */
const DEFAULT_MAX_QUEUED = 1000;
/** The default subquery step when none is written (Prometheus uses the global evaluation interval, 1m by default). */
const DEFAULT_NO_STEP_SUBQUERY_INTERVAL_MS = 60_000;

const FEATURE_DELAYED_NAME_REMOVAL = 'promql-delayed-name-removal';
const FEATURE_TYPE_AND_UNIT_LABELS = 'type-and-unit-labels';
const FEATURE_PER_STEP_STATS = 'promql-per-step-stats';
const FEATURE_USE_START_TIMESTAMPS = 'use-start-timestamps';

const NO_FEATURES: ReadonlySet<string> = new Set();

/**
 * Parsed expressions kept by query string: dashboards and rules send the same queries again and
 * again, and parsing one is ~80 us, a sixth of a small query's whole cost. Evaluation works on its
 * own copy of the tree (preprocess), so a cached tree is never changed. Long queries are parsed
 * each time: the bound on entries then bounds the memory (~10 bytes of tree per character).
 */
const PARSE_CACHE_ENTRIES = 256;
const PARSE_CACHE_MAX_QUERY_CHARS = 4096;

export class Engine implements QueryEngine {
  readonly timeoutMs: number;
  readonly maxSamples: number;
  readonly lookbackDeltaMs: number;
  readonly features: ReadonlySet<string>;
  readonly noStepSubqueryIntervalMs: number;
  private readonly gate: ConcurrencyGate;
  /** Insertion order is eviction order. */
  private readonly parsed = new Map<string, Expr>();
  private readonly onQueryDone: ((rec: QueryLogRecord) => void) | undefined;
  readonly logger: Logger;
  private readonly yieldIntervalMs: number;
  /** The memory accounts of running queries, the per-query limit and the budget. */
  readonly memory: QueryMemoryTracker;

  constructor(opts: EngineOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxSamples = opts.maxSamples ?? DEFAULT_MAX_SAMPLES;
    this.lookbackDeltaMs = opts.lookbackDeltaMs !== undefined && opts.lookbackDeltaMs > 0 ? opts.lookbackDeltaMs : DEFAULT_LOOKBACK_DELTA_MS;
    this.features = opts.features ?? NO_FEATURES;
    this.noStepSubqueryIntervalMs = opts.noStepSubqueryIntervalMs ?? DEFAULT_NO_STEP_SUBQUERY_INTERVAL_MS;
    const memory = opts.memory ?? new QueryMemoryTracker({ perQueryBytes: opts.maxQueryMemoryBytes ?? 0, totalBytes: opts.maxTotalQueryMemoryBytes ?? 0 });
    this.memory = memory;
    this.gate = new ConcurrencyGate(
      opts.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY,
      opts.maxQueued ?? DEFAULT_MAX_QUEUED,
      () => memory.overBudget(),
      () => (memory.overBudget() ? new QueryMemoryBudgetError(memory.totalBytes) : new QueryQueueFullError()),
    );
    this.onQueryDone = opts.onQueryDone;
    this.logger = opts.logger ?? nopLogger;
    this.yieldIntervalMs = opts.yieldIntervalMs ?? DEFAULT_YIELD_INTERVAL_MS;
  }

  /** Queries executing now. */
  get runningQueries(): number {
    return this.gate.active;
  }

  /** Queries waiting for a free slot. */
  get queuedQueries(): number {
    return this.gate.waiting;
  }

  /** The query's expression, from the cache of recent ones or parsed now (a ParseError is not kept). */
  private parse(qs: string): Expr {
    const hit = this.parsed.get(qs);
    if (hit !== undefined) return hit;
    const expr = parseExpr(qs, { features: this.features });
    if (qs.length <= PARSE_CACHE_MAX_QUERY_CHARS) {
      if (this.parsed.size >= PARSE_CACHE_ENTRIES) this.parsed.delete(this.parsed.keys().next().value!);
      this.parsed.set(qs, expr);
    }
    return expr;
  }

  newInstantQuery(q: Queryable, qs: string, ts: number, opts?: QueryOptions): Query {
    const expr = this.parse(qs);
    // Times are whole milliseconds, as Prometheus's timestamp.FromTime makes them.
    const t = Math.floor(ts);
    return new EngineQuery(this, q, qs, expr, t, t, 0, opts);
  }

  newRangeQuery(q: Queryable, qs: string, start: number, end: number, step: number, opts?: QueryOptions): Query {
    start = Math.floor(start);
    end = Math.floor(end);
    step = Math.trunc(step);
    const expr = this.parse(qs);
    const t = exprType(expr);
    if (t !== 'vector' && t !== 'scalar') {
      throw new EvalError(`invalid expression type "${documentedType(t)}" for range query, must be Scalar or instant Vector`);
    }
    if (!(step > 0)) throw new EvalError('zero or negative query resolution step widths are not accepted');
    return new EngineQuery(this, q, qs, expr, start, end, step, opts);
  }

  /** @internal Runs a query under the concurrency gate. */
  async run(query: EngineQuery, ctx: ExecContext): Promise<QueryResult> {
    const t0 = performance.now();
    const deadline = t0 + this.timeoutMs;
    const timings = query.timings;
    let error: unknown = null;
    try {
      await this.gate.acquire(deadline, ctx.signal);
      const t1 = performance.now();
      timings.execQueueTime = (t1 - t0) / 1000;
      const mem = this.memory.open();
      try {
        return await query.evaluate(new Checkpoint(deadline, ctx.signal, this.yieldIntervalMs), mem);
      } finally {
        // Before the slot is freed, so that waiting queries see the budget this query gives back.
        mem.close();
        this.gate.release();
        timings.evalTotalTime = (performance.now() - t1) / 1000;
      }
    } catch (e) {
      error = this.typedError(e, query);
      throw error;
    } finally {
      timings.execTotalTime = (performance.now() - t0) / 1000;
      this.report(query, ctx, error);
    }
  }

  private typedError(e: unknown, query: EngineQuery): Error {
    if (
      e instanceof EvalError ||
      e instanceof QueryTimeoutError ||
      e instanceof QueryCanceledError ||
      e instanceof QueryQueueFullError ||
      e instanceof ParseError
    ) {
      return e;
    }
    const msg = e instanceof Error ? e.message : String(e);
    if (e instanceof RangeError) {
      // Out of memory for an array or stack: the query is too big for this process.
      this.logger.warn('query evaluation ran out of resources', { query: query.queryString, err: msg });
    } else {
      this.logger.error('unexpected error during query evaluation', {
        query: query.queryString,
        err: msg,
        stack: e instanceof Error ? e.stack : undefined,
      });
    }
    return new EvalError(`unexpected error: ${msg}`);
  }

  private report(query: EngineQuery, ctx: ExecContext, error: unknown): void {
    if (this.onQueryDone === undefined) return;
    const rec: QueryLogRecord = {
      params: { query: query.queryString, start: query.start, end: query.end, step: query.step },
      stats: query.stats(),
      origin: ctx.origin ?? {},
    };
    if (error !== null) rec.error = error instanceof Error ? error.message : String(error);
    try {
      this.onQueryDone(rec);
    } catch (e) {
      this.logger.warn('query log hook failed', { err: e instanceof Error ? e.message : String(e) });
    }
  }
}

/** Result series converted between pauses (a few hundred microseconds of work). */
const RESULT_SERIES_PER_PAUSE = 2048;

/** Estimated bytes of a query's result as the engine hands it to its caller. */
function resultBytes(v: QueryValue): number {
  switch (v.type) {
    case 'scalar':
      return SAMPLE_BYTES;
    case 'string':
      return STRING_OVERHEAD_BYTES + 2 * v.v.length;
    case 'vector': {
      // Columns keep the label sets read from storage, which the query has already accounted.
      if (v.columns !== undefined) return v.columns.n * COLUMN_SAMPLE_BYTES;
      let b = 0;
      for (const s of v.samples) b += SERIES_OVERHEAD_BYTES + SAMPLE_BYTES + labelsBytes(s.metric);
      return b;
    }
    case 'matrix': {
      let b = 0;
      for (const s of v.series) b += SERIES_OVERHEAD_BYTES + SAMPLE_BYTES * s.ts.length + labelsBytes(s.metric);
      return b;
    }
  }
}

function zeroTimings(): QueryTimings {
  return { evalTotalTime: 0, resultSortTime: 0, queryPreparationTime: 0, innerEvalTime: 0, execQueueTime: 0, execTotalTime: 0 };
}

class EngineQuery implements Query {
  readonly timings: QueryTimings = zeroTimings();
  private readonly expr: Expr;
  private readonly lookbackDeltaMs: number;
  private samples: SampleStats;
  private executed = false;

  constructor(
    private readonly engine: Engine,
    private readonly queryable: Queryable,
    readonly queryString: string,
    readonly statement: Expr,
    readonly start: number,
    readonly end: number,
    readonly step: number,
    private readonly opts: QueryOptions | undefined,
  ) {
    this.lookbackDeltaMs =
      opts?.lookbackDeltaMs !== undefined && opts.lookbackDeltaMs > 0 ? opts.lookbackDeltaMs : engine.lookbackDeltaMs;
    // Prometheus prepares (and may reject) the expression when the query is created.
    this.expr = preprocess(statement, start, end, step);
    const interval = step === 0 ? 1 : step;
    const numSteps = stepCount(start, end, interval);
    // A grid beyond --query.max-samples fails when evaluated; its per-step statistics are never allocated.
    this.samples = new SampleStats(start, interval, numSteps, this.perStepStats() && numSteps <= engine.maxSamples);
  }

  private perStepStats(): boolean {
    return this.opts?.perStepStats === true && this.engine.features.has(FEATURE_PER_STEP_STATS);
  }

  exec(ctx: ExecContext = {}): Promise<QueryResult> {
    if (this.executed) return Promise.reject(new EvalError('query already executed'));
    this.executed = true;
    return this.engine.run(this, ctx);
  }

  stats(): QueryStats {
    return { timings: { ...this.timings }, samples: this.samples.toJSON() };
  }

  /** @internal Prepares and evaluates the query; called by the engine while holding a slot. */
  async evaluate(cp: Checkpoint, memory: QueryMemory): Promise<QueryResult> {
    cp.check('query execution');
    const features = this.engine.features;
    const interval = this.step === 0 ? 1 : this.step;

    const tPrep = performance.now();
    const visits = selectors(this.expr);
    let mint = Infinity;
    let maxt = -Infinity;
    const ranges = visits.map((v) => {
      const r = selectorTimeRange(this.start, this.end, this.lookbackDeltaMs, v.vs, v.path, v.rangeMs);
      mint = Math.min(mint, r.start);
      maxt = Math.max(maxt, r.end);
      return r;
    });
    if (visits.length === 0) {
      mint = 0;
      maxt = 0;
    }
    const querier: Querier = this.queryable.querier(mint, maxt);
    try {
      const selectVisit = (i: number): SeriesSet => {
        const v = visits[i]!; // i indexes visits, and ranges has an entry per visit
        const r = ranges[i]!;
        const g = groupingFromPath(v.path);
        const subStep = lastSubqueryStep(v.path, this.engine.noStepSubqueryIntervalMs);
        return querier.select(
          false,
          {
            start: r.start,
            end: r.end,
            step: subStep !== 0 ? subStep : this.step,
            range: v.rangeMs,
            func: funcFromPath(v.path),
            ...(g !== null ? { grouping: g.grouping, by: g.by } : {}),
          },
          ...v.vs.matchers,
        );
      };
      const selections = new Map<VectorSelector, SeriesSet>();
      visits.forEach((v, i) => selections.set(v.vs, selectVisit(i)));
      const reselect = async (vs: VectorSelector): Promise<SeriesSet | null> => {
        const i = visits.findIndex((v) => v.vs === vs);
        if (i < 0) return null;
        const set = selectVisit(i);
        if (querier.ready !== undefined) await querier.ready();
        return set;
      };
      // Remote-read queriers fetch during the selects above; evaluation reads synchronously.
      if (querier.ready !== undefined) await querier.ready();
      this.timings.queryPreparationTime = (performance.now() - tPrep) / 1000;

      // Offsets for @ are relative to the start, the only time step-invariant parts are evaluated at.
      setOffsetForAtModifier(this.start, this.expr);
      const annotations = new Annotations();
      const ctx: QueryContext = {
        querier,
        lookbackDelta: this.lookbackDeltaMs,
        maxSamples: this.engine.maxSamples,
        delayedNameRemoval: features.has(FEATURE_DELAYED_NAME_REMOVAL),
        typeAndUnitLabels: features.has(FEATURE_TYPE_AND_UNIT_LABELS),
        useStartTimestamps: features.has(FEATURE_USE_START_TIMESTAMPS),
        noStepSubqueryIntervalMs: this.engine.noStepSubqueryIntervalMs,
        checkpoint: cp,
        memory,
        annotations,
        selections,
        reselect,
        histogramSelectors: histogramSelectors(this.expr),
        histogramStatsSelectors: histogramStatsSelectors(this.expr),
        logger: this.engine.logger,
      };
      const tEval = performance.now();
      const ev = new Evaluator(ctx, this.start, this.end, interval, this.samples);
      let val: EvalValue | InstantColumns;
      try {
        val = await ev.evalTop(this.expr);
      } finally {
        this.timings.innerEvalTime = (performance.now() - tEval) / 1000;
        ev.release();
      }
      cp.check('expression evaluation');

      const tSort = performance.now();
      const value = await this.toQueryValue(val, async (units) => {
        if (cp.due(units)) await cp.pause(false);
      });
      this.timings.resultSortTime = (performance.now() - tSort) / 1000;
      // What the caller gets: the result set, besides the label sets read (still referred to).
      memory.set(memory.fixed + resultBytes(value));
      const plain = annotations.strings();
      const positioned = annotations.stringsWithPosition(this.queryString);
      return {
        value,
        warnings: plain.warnings,
        infos: plain.infos,
        warningsWithPosition: positioned.warnings,
        infosWithPosition: positioned.infos,
      };
    } finally {
      querier.close();
    }
  }

  /** The result as the engine hands it on; `pause` lets a long sort yield. */
  private async toQueryValue(res: EvalValue | InstantColumns, pause: (units: number) => Promise<void>): Promise<QueryValue> {
    if (res instanceof InstantColumns) {
      if (this.step === 0 && this.start === this.end && exprType(this.statement) === 'vector') return new ColumnarVector(res);
      res = res.toMatrix(false);
    }
    const val = res;
    if (isString(val)) return { type: 'string', t: val.t, v: val.v };
    const kind = exprType(this.statement);
    if (this.step === 0 && this.start === this.end) {
      if (kind === 'scalar') {
        const s = val[0];
        return { type: 'scalar', t: this.start, v: s !== undefined && s.n > 0 ? s.vs[s.off]! : NaN }; // n > 0: a point at off
      }
      if (kind === 'vector') {
        // The result keeps evaluation order (sort() and topk() rely on it) and is stamped with the evaluation time.
        // Every series of an instant vector has its one point at off.
        return { type: 'vector', samples: val.map((s) => instantSample(s.metric, this.start, s.vs[s.off]!, s.histogramAt(0))) };
      }
    }
    await sortMatrix(val, pause);
    const series = new Array<RangeSeries>(val.length);
    // i < val.length = series.length.
    for (let i = 0; i < val.length; i++) {
      series[i] = rangeSeries(val[i]!);
      if ((i + 1) % RESULT_SERIES_PER_PAUSE === 0) await pause(RESULT_SERIES_PER_PAUSE);
    }
    return { type: 'matrix', series };
  }
}

/** A result sample; a histogram one has f 0, as Prometheus's Sample.F is then (alerting rules read it as the value). */
function instantSample(metric: Labels, t: number, f: number, h: FloatHistogram | undefined): InstantSample {
  return h === undefined ? { metric, t, f } : { metric, t, f: 0, h };
}

/** A result series: its float points, and its histogram points apart when it has any. */
function rangeSeries(s: Series): RangeSeries {
  if (s.hs === null) return { metric: s.metric, ts: s.tsView(), fs: s.vsView() };
  const ts: number[] = [];
  const fs: number[] = [];
  const hts: number[] = [];
  const hs: FloatHistogram[] = [];
  // i < n: a point of s, at off + i in its arrays.
  for (let i = 0; i < s.n; i++) {
    const h = s.hs[i];
    const t = s.ts[s.off + i]!;
    if (h !== undefined) {
      hts.push(t);
      hs.push(h);
    } else {
      ts.push(t);
      fs.push(s.vs[s.off + i]!);
    }
  }
  return { metric: s.metric, ts: Float64Array.from(ts), fs: Float64Array.from(fs), hts: Float64Array.from(hts), hs };
}

/** An instant-query result kept column-wise; `samples` builds the sample objects only when asked for. */
class ColumnarVector {
  readonly type = 'vector';
  private built: InstantSample[] | null = null;

  constructor(readonly columns: InstantColumns) {}

  get samples(): InstantSample[] {
    if (this.built === null) {
      const c = this.columns;
      const out = new Array<InstantSample>(c.n);
      // i < n <= the length of the columns.
      for (let i = 0; i < c.n; i++) out[i] = instantSample(effectiveMetric(c.metrics[i]!, c.drop[i] === 1, false), c.t, c.vs[i]!, c.hs?.[i]);
      this.built = out;
    }
    return this.built;
  }
}
