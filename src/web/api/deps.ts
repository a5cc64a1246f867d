// What the API needs from the rest of the server: parser, engine, storage,
// TSDB admin and status providers. The server (cli/) passes the real ones.
import type { Matcher } from '../../model/matcher.js';
import type { Expr } from '../../promql/parser/ast.js';
import type { QueryEngine } from '../../promql/engine/types.js';
import type { ExemplarQuerier, Queryable } from '../../storage/interface.js';

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
  /** tsprom's addition: --storage.tsdb.max-head-series (0 = off), the head's series and their ratio. */
  headSeriesLimit?: { maxSeries: number; numSeries: number; ratio: number };
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
  /** Exemplar storage for query_exemplars; absent or null (storage off or not open): every answer is empty. */
  exemplars?(): ExemplarQuerier | null;
  /** Metric metadata from scraped targets: metric family -> distinct entries. */
  metadata?(metric: string): Map<string, MetricMetadata[]>;
  /** Server notifications (failed reload, shutting down); none when absent. */
  notifications?(): readonly Notification[];
  /** Load shedding: null admits a new query, a message refuses it (503 unavailable). */
  admitQuery?(): string | null;
  /** Query bookkeeping (in-flight gauge). */
  onQueryStart?(): void;
  onQueryEnd?(): void;
  now?(): number;
}
