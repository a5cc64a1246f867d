import type { Labels } from '../labels.js';

export const enum Entry {
  EOF = 0,
  Series = 1,
  Help = 2,
  Type = 3,
  Unit = 4,
  Comment = 5,
}

export type MetricType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'gaugehistogram'
  | 'summary'
  | 'info'
  | 'stateset'
  | 'unknown';

export interface Exemplar {
  readonly labels: Labels;
  readonly value: number;
  /** Milliseconds, or null when the exemplar carries no timestamp. */
  readonly timestamp: number | null;
}

export class TextParseError extends Error {
  override name = 'TextParseError';
  constructor(
    readonly reason: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

/**
 * Interns strings so that label sets built from many scrapes share one copy of each
 * name and value. Bounded: when full it starts over (held strings stay valid; only
 * sharing is lost), so it never grows with churn.
 */
export class SymbolTable {
  private readonly map = new Map<string, string>();
  /** 64Ki strings hold the names and common values of a few thousand targets' series. */
  constructor(readonly maxSize = 65536) {}

  intern(s: string): string {
    const got = this.map.get(s);
    if (got !== undefined) return got;
    if (this.map.size >= this.maxSize) this.map.clear();
    this.map.set(s, s);
    return s;
  }

  get size(): number {
    return this.map.size;
  }
}

export interface TextParserOptions {
  symbols?: SymbolTable;
  /** OpenMetrics: skip `_created` series (used only for startTimestamp()), as Prometheus does with created-timestamp ingestion on. */
  skipCreatedSeries?: boolean;
  /** Prometheus text: parse every line with the general lexer (tests compare it with the fast path). */
  noFastPath?: boolean;
}

export interface TextParser {
  next(): Entry;
  seriesKey(): string;
  seriesHash(): number;
  seriesIs(key: string): boolean;
  metricName(): string;
  labels(): Labels;
  value(): number;
  timestamp(): number | null;
  exemplar(): Exemplar | null;
  startTimestamp(): number;
  currentType(): MetricType;
  metaName(): string;
  helpText(): string;
  metricType(): MetricType;
  unitText(): string;
  commentText(): string;
}
