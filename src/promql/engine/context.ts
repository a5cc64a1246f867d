// What the operator files (aggregations, binops, functions, range_functions,
// histograms, info) see of the evaluation: they depend on this interface,
// never on evaluator.ts, and the Evaluator class is its one implementation
// (so calls through it stay monomorphic). Calls go through it per expression
// or per step, never per sample.
import type { Logger } from '../../logging/types.js';
import type { FloatHistogram } from '../../model/histogram.js';
import type { Querier, SampleIterator, Series as StorageSeries, SeriesSet } from '../../storage/interface.js';
import type { Expr, SubqueryExpr, VectorSelector } from '../parser/ast.js';
import type { Annotations } from './annotations.js';
import type { StepCollector } from './collector.js';
import type { SeriesCursor, StepVector } from './cursors.js';
import type { Checkpoint } from './limits.js';
import type { QueryMemory } from './memory.js';
import type { SampleStats } from './stats.js';
import type { EvalValue, InstantColumns, Matrix } from './value.js';

/** Everything the evaluators of one query share. */
export interface QueryContext {
  readonly querier: Querier;
  readonly lookbackDelta: number;
  readonly maxSamples: number;
  /** Feature promql-delayed-name-removal: __name__ is dropped at the end of evaluation. */
  readonly delayedNameRemoval: boolean;
  /** Feature type-and-unit-labels: rate() checks __type__ instead of the name suffix. */
  readonly typeAndUnitLabels: boolean;
  /** use-start-timestamps: rate, increase, irate, resets and start_timestamp() read samples' start timestamps. */
  readonly useStartTimestamps: boolean;
  readonly noStepSubqueryIntervalMs: number;
  readonly checkpoint: Checkpoint;
  /** The query's memory account (--query.max-memory). */
  readonly memory: QueryMemory;
  readonly annotations: Annotations;
  /** Series sets selected during preparation, expanded on first use. */
  readonly selections: Map<VectorSelector, SeriesSet>;
  /** Selects a selector's series again, as in preparation (null for one that was not selected then). */
  readonly reselect: (vs: VectorSelector) => Promise<SeriesSet | null>;
  /** Selectors whose native histogram samples their consumers handle (see histogram_paths.ts). */
  readonly histogramSelectors: ReadonlySet<VectorSelector>;
  /** Selectors whose histograms are read as count and sum only (see histogramStatsSelectors). */
  readonly histogramStatsSelectors: ReadonlySet<VectorSelector>;
  readonly logger: Logger;
}

/**
 * Called by rangeEval once per step with the samples each argument has at that step (vecs[a] for argument a);
 * a step over many series may return a promise and yield inside (rangeEval waits for it).
 */
export type StepFn = (step: number, t: number, vecs: StepVector[], out: StepCollector) => void | Promise<void>;

/** One evaluation over the step grid start, start + interval, ..., end. */
export interface EvalContext {
  readonly q: QueryContext;
  readonly start: number;
  readonly end: number;
  /** Step in ms; 1 for instant evaluations. */
  readonly interval: number;
  readonly numSteps: number;
  readonly stats: SampleStats;
  /** Samples currently held, counted as Prometheus counts them for --query.max-samples. */
  currentSamples: number;
  /** A one-step evaluation (start === end). */
  readonly instant: boolean;

  // Limits
  /**
   * Accounts work and, every so often, gives a promise to await that yields and checks deadline and
   * cancellation; null when there is nothing to wait for (per-series loops then skip the await).
   */
  tick(units: number): Promise<void> | null;
  /** Throws when the samples held (plus `extra`) exceed --query.max-samples. */
  checkSamples(extra?: number): void;
  /** Replays Prometheus's per-step sample accounting for a result computed series by series. */
  accountStepwise(before: number, held: number, gathered: Int32Array, produced: Int32Array): void;
  /** Points per step of the given matrices (what rangeEval would gather at each step). */
  pointsPerStep(ms: readonly Matrix[], into?: Int32Array): Int32Array;
  /** The step of timestamp t. */
  stepOf(t: number): number;
  /** The timestamp of step k. */
  stepTime(k: number): number;

  // Sub-expressions
  /** Evaluates to a matrix (any non-string expression). */
  evalMatrix(e: Expr): Promise<Matrix>;
  /** Evaluates a scalar expression to one value per step. */
  evalScalar(e: Expr): Promise<Float64Array>;
  /** Like eval, but a one-step selector or range function gives InstantColumns. */
  evalColumns(e: Expr): Promise<EvalValue | InstantColumns>;
  /** The values of a scalar result by step. */
  dense(m: Matrix): Float64Array;
  /** A scalar with the same value at every step. */
  constant(v: number): Matrix;
  /** Calls `fn` at every step with the samples each argument has there (Prometheus's rangeEval). */
  rangeEval(before: number, args: ReadonlyArray<Matrix | null>, fn: StepFn): Promise<Matrix>;
  /** Evaluates the inside of a subquery on its own step grid. */
  runSubquery(e: SubqueryExpr): Promise<{ result: Matrix; stats: SampleStats }>;

  // Selectors and decoding
  /** The storage series of a selector, expanded once per query. */
  selected(vs: VectorSelector): StorageSeries[];
  /** The storage series of a selector one at a time, none kept. */
  streamSelected(vs: VectorSelector): SeriesCursor;
  /** The series of a selector read again from a new select, for a pass that abandoned its first reading of them. */
  restreamSelected(vs: VectorSelector): Promise<SeriesCursor>;
  /** The value of each series at every step (`offset` earlier), or as of `at` at every step. */
  evalSeries(cursor: SeriesCursor, offset: number, recordOrigT: boolean, at?: number | null): Promise<Matrix>;
  /** Per step, the number of series of a plain selector with a value there, accounted as evaluating it is. */
  countSelected(vs: VectorSelector): Promise<Int32Array>;
  /** Decodes the samples of `it` in [mint, maxt] into bufT/bufV; returns their number. */
  decode(it: SampleIterator, mint: number, maxt: number, keepStale: boolean, limit?: number): number;
  /** Like decode, for the windows (end - width, end] of every step only. */
  decodeWindows(it: SampleIterator, firstEnd: number, width: number, stride: number, keepStale: boolean): number;
  /** Timestamps decoded by the last decode call. */
  readonly bufT: Float64Array;
  /** Values decoded by the last decode call. */
  readonly bufV: Float64Array;
  /** Histograms of the last decode by position, null when it had none. */
  readonly bufH: ReadonlyArray<FloatHistogram | undefined> | null;
  /** Start timestamps of the last decode by position (0 = none), null when its series carries none. */
  readonly bufST: Float64Array | null;
}
