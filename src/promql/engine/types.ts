// The engine's public contract, used by the HTTP API, rules, the query log and the test runner.
import type { FloatHistogram } from '../../model/histogram.js';
import type { Labels } from '../../model/labels.js';
import type { Expr } from '../parser/ast.js';
import type { Queryable } from '../../storage/interface.js';
import type { Logger } from '../../logging/types.js';
import type { QueryMemoryTracker } from './memory.js';

/** One sample of an instant vector. Timestamps in ms. */
export interface InstantSample {
  metric: Labels;
  t: number;
  f: number;
  /** Set when the sample is a native histogram (f is then 0). */
  h?: FloatHistogram;
}

/**
 * One series of a range vector (matrix): parallel arrays of timestamps (ms)
 * and values of its float points, and, when it has any, its native histogram
 * points apart (as Prometheus's Series holds Floats and Histograms).
 */
export interface RangeSeries {
  metric: Labels;
  ts: Float64Array;
  fs: Float64Array;
  /** Timestamps of the histogram points, parallel to `hs`. */
  hts?: Float64Array;
  hs?: FloatHistogram[];
}

/**
 * An instant vector held column-wise: the label sets as selected, a flag per
 * sample whose metadata labels (__name__, __type__, __unit__) are not part of
 * its labels, and the values, all at time t. Writers that stream a result
 * read these instead of `samples`, which builds an object per sample.
 */
export interface VectorColumns {
  readonly t: number;
  readonly n: number;
  readonly metrics: readonly Labels[];
  readonly drop: Uint8Array;
  readonly vs: Float64Array;
  /** Native histogram samples by index when the vector has some (their vs entries are unused). */
  readonly hs?: ReadonlyArray<FloatHistogram | undefined> | null;
}

export type QueryValue =
  | { type: 'scalar'; t: number; v: number }
  | { type: 'string'; t: number; v: string }
  | { type: 'vector'; samples: InstantSample[]; columns?: VectorColumns }
  | { type: 'matrix'; series: RangeSeries[] };

/** Prometheus's query stats, in seconds, as the API's `stats=all` and the query log show them. */
export interface QueryTimings {
  evalTotalTime: number;
  resultSortTime: number;
  queryPreparationTime: number;
  innerEvalTime: number;
  execQueueTime: number;
  execTotalTime: number;
}

export interface QuerySamples {
  totalQueryableSamples: number;
  peakSamples: number;
  /** Per-step totals when per-step stats were asked for: [t (s), count] pairs. */
  totalQueryableSamplesPerStep?: Array<[number, number]>;
  /** Samples read from storage (Prometheus 3.x's samplesRead), each counted once. */
  samplesRead?: number;
  /** Per-step samples read when per-step stats were asked for: [t (s), count] pairs. */
  samplesReadPerStep?: Array<[number, number]>;
}

export interface QueryStats {
  timings: QueryTimings;
  samples: QuerySamples;
}

export interface QueryResult {
  value: QueryValue;
  /** Annotation texts without positions (the form Prometheus's test files match). */
  warnings: string[];
  infos: string[];
  /** The same texts as Prometheus's HTTP API shows them, each followed by its position in the query, e.g. "... (1:7)". */
  warningsWithPosition?: string[];
  infosWithPosition?: string[];
}

/** Where a query came from; copied into its query-log line. */
export type QueryOrigin =
  | { httpRequest: { clientIP: string; method: string; path: string } }
  | { ruleGroup: { file: string; name: string } }
  | Record<string, never>;

export interface QueryParams {
  query: string;
  /** ms */
  start: number;
  end: number;
  /** ms; 0 for instant queries */
  step: number;
}

/** Handed to the query-log hook after every executed query. */
export interface QueryLogRecord {
  params: QueryParams;
  stats: QueryStats;
  /** Set when the query failed. */
  error?: string;
  origin: QueryOrigin;
}

export interface EngineOptions {
  /** Default 2m. */
  timeoutMs?: number;
  /** Default 50,000,000. */
  maxSamples?: number;
  /** Default 5m. */
  lookbackDeltaMs?: number;
  /** Default 20; further queries wait in a bounded queue. */
  maxConcurrency?: number;
  /** Bound on queries waiting for a slot; past it a query fails at once. */
  maxQueued?: number;
  /** Feature flags as given to --enable-feature (e.g. "promql-experimental-functions"). */
  features?: ReadonlySet<string>;
  /** Step used by subqueries written without one (ms); default 1m, as Prometheus's global evaluation interval. */
  noStepSubqueryIntervalMs?: number;
  /** Called after every query; must not throw. */
  onQueryDone?: (rec: QueryLogRecord) => void;
  /** Receives unexpected evaluation errors; default nopLogger. */
  logger?: Logger;
  /**
   * Longest stretch (ms) an evaluation runs before it yields to the event
   * loop; default 10. Lower values trade throughput for latency of other work.
   */
  yieldIntervalMs?: number;
  /** Most bytes one query may hold (--query.max-memory); 0 or unset: no limit (bytes are still accounted). */
  maxQueryMemoryBytes?: number;
  /** Bytes all running queries may hold before new ones wait (--query.max-total-memory); 0 or unset: no budget. */
  maxTotalQueryMemoryBytes?: number;
  /**
   * A tracker shared with other engines (the server's engine is replaced on
   * some reloads); when given, it holds the limits and the two options above
   * are ignored.
   */
  memory?: QueryMemoryTracker;
}

export interface QueryOptions {
  /** Overrides the engine's lookback delta for this query (ms). */
  lookbackDeltaMs?: number;
  /** Collect totalQueryableSamplesPerStep. */
  perStepStats?: boolean;
}

export interface ExecContext {
  /** Aborting cancels the query (client went away). */
  signal?: AbortSignal;
  origin?: QueryOrigin;
}

export interface Query {
  readonly statement: Expr;
  readonly queryString: string;
  /** Resolves with the result, or rejects with a typed error (see errors.ts). */
  exec(ctx?: ExecContext): Promise<QueryResult>;
  /** Available after exec settles. */
  stats(): QueryStats;
}

export interface QueryEngine {
  /** Throws ParseError synchronously for a malformed query. */
  newInstantQuery(q: Queryable, qs: string, ts: number, opts?: QueryOptions): Query;
  newRangeQuery(q: Queryable, qs: string, start: number, end: number, step: number, opts?: QueryOptions): Query;
}
