// textparse: the exposition-format parsers (Prometheus text 0.0.4, OpenMetrics
// 1.0, protobuf in protobuf_parser.ts with its schema's generated code in gen/)
// and media-type negotiation, apart from the scrape loop so that the CLI and
// tests parse metrics text without scrape/. Imports only model/, gofmt/, its
// gen/ and @bufbuild/protobuf (and node built-ins). This file: the parser
// interface and entry types.
//
// Exported API
//   enum Entry            EOF | Series | Help | Type | Unit | Comment | Histogram: what next() found
//                         (a const enum: inlined where used, no object at run time).
//   type MetricType       'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary'
//                         | 'info' | 'stateset' | 'unknown'.
//   class TextParseError  Malformed input: `.reason` is Prometheus's wording (e.g.
//                         `expected equal, got "}0" ("BCLOSE") while parsing: "{A}0"`),
//                         `.line` the 1-based line; `.message` is `line N: <reason>`.
//   class SymbolTable     Bounded interning of label names and values, shared across parses
//                         (one per scrape pool) so repeated strings are held once.
//   interface TextParser  The iterator; one per body. Read it like this:
//                           for (let e = p.next(); e !== Entry.EOF; e = p.next()) {
//                             if (e === Entry.Series) use(p.seriesKey(), p.value(), p.timestamp());
//                           }
//                         next() throws TextParseError on malformed input. Accessors describe
//                         the current entry only:
//                           Series:  seriesKey() (raw bytes of name and labels as a latin1
//                                    string, a cache key), seriesHash() (a 30-bit hash of
//                                    those bytes, no allocation) and seriesIs(key) (compares
//                                    them with a key), metricName(), labels() (built on
//                                    demand, interned), value(), timestamp() (ms or null),
//                                    exemplar() (OpenMetrics), startTimestamp() (OpenMetrics
//                                    `_created`, ms, 0 when unknown), currentType().
//                           Help/Type/Unit: metaName(), helpText(), metricType(), unitText().
//                           Comment: commentText().
//   class PromParser (prom_parser.ts), class OpenMetricsParser (openmetrics_parser.ts)
//                         The two implementations.
//   newTextParser(body, contentType, fallback, opts)   media_type.ts: picks the parser from
//                         a Content-Type (with Prometheus's fallback rules); acceptHeader()
//                         builds the Accept header a scrape sends.
//
// Both parsers are byte-level state machines over a Buffer, mirroring Prometheus's
// lexers token for token so error messages match. Nothing is allocated per sample on the
// hot path: positions live in a reused Int32Array, values are decoded straight from bytes.
// Shared byte scanning is in scan.ts, shared parser state in base_parser.ts.
import type { Labels } from '../labels.js';

export const enum Entry {
  EOF = 0,
  Series = 1,
  Help = 2,
  Type = 3,
  Unit = 4,
  Comment = 5,
  /** A native histogram (protobuf only; read it with ProtobufParser.histogram()). */
  Histogram = 6,
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
