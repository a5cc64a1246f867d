// storage: the contracts between the rooms that write samples and the rooms that read
// them, plus the in-memory store and the lazy series-set base. May import gofmt/ and model/.
//
// Storage contracts shared by the engine, the TSDB, scraping and remote write.
//
// Everything here is synchronous: the engine's inner loops must not await per
// series. Timestamps are integer milliseconds since the epoch (JS numbers are
// exact up to 2^53 ms, far beyond any real timestamp).
import type { FloatHistogram, Histogram } from '../model/histogram.js';
import type { Labels } from '../model/labels.js';
import type { Matcher } from '../model/matcher.js';

/** What an iterator holds at its current position. */
export enum ValueType {
  None = 0,
  Float = 1,
  /** An integer native histogram: read it with atHistogram() (or atFloatHistogram(), converted). */
  Histogram = 2,
  /** A float native histogram: read it with atFloatHistogram(). */
  FloatHistogram = 3,
}

/**
 * Iterates one series' samples in increasing timestamp order without
 * allocating per sample: read the current sample with t() and v().
 */
export interface SampleIterator {
  /** Moves to the next sample; ValueType.None at the end. */
  next(): ValueType;
  /**
   * Moves to the first sample with timestamp >= t, staying put when the current
   * sample already qualifies; ValueType.None when there is none.
   */
  seek(t: number): ValueType;
  /** Timestamp (ms) of the current sample. */
  t(): number;
  /** Value of the current float sample (staleness markers are the StaleNaN bit pattern). */
  v(): number;
  /**
   * Start timestamp (ms) of the current sample, 0 when it has none. Optional:
   * only iterators of series that carry start timestamps have it.
   */
  st?(): number;
  /**
   * The current sample when next()/seek() said ValueType.Histogram. Iterators of
   * float-only sources may leave these out; callers only ask after such a result.
   */
  atHistogram?(): Histogram;
  /** The current sample as a float histogram (ValueType.Histogram or FloatHistogram). */
  atFloatHistogram?(): FloatHistogram;
  /** An error that ended iteration early, if any. */
  err(): Error | null;
  /**
   * Optional, for readers that want only the newest sample at or before t (an instant selector): true when the
   * iterator knows it without decoding (a head series' newest sample, a float) and moved to it; false when it
   * cannot tell cheaply, leaving the iterator as it was (the caller then seeks and reads as usual).
   */
  newestFloatAtOrBefore?(t: number): boolean;
  /**
   * Optional bulk read of float samples, for decoding loops that would otherwise call t() and v() per
   * sample. Starting at the current sample (the last next() or seek() said Float), appends each float
   * sample with t <= to to run.t and run.v at run.n (staleness markers only with keepStale), advancing
   * run.n and the iterator. Stops at the first sample past `to`, at the first non-float sample, at the
   * end, or at a sample to keep when run.t is full (run.n = run.t.length; that sample stays current).
   * Returns what the iterator holds then, as next() would have said.
   */
  readFloats?(to: number, keepStale: boolean, run: FloatRun): ValueType;
}

/** Where readFloats() appends: parallel timestamp and value arrays of equal length, n of them filled. */
export interface FloatRun {
  t: Float64Array;
  v: Float64Array;
  n: number;
}

export interface Series {
  readonly labels: Labels;
  /**
   * An iterator over the series' samples (within the querier's time range). `reuse` is an iterator
   * from an earlier call on a series of the same querier that the caller no longer reads: an
   * implementation may reset and return it instead of making a new one.
   */
  iterator(reuse?: SampleIterator): SampleIterator;
}

/** A lazy sequence of series, sorted by labels when the caller asked for sorting. */
export interface SeriesSet {
  next(): boolean;
  at(): Series;
  err(): Error | null;
  /** Non-fatal problems met while selecting (shown as query warnings). */
  warnings(): readonly string[];
}

/** Hints that let a querier read only what a query needs. */
export interface SelectHints {
  /** Inclusive start and end (ms) of the samples the caller needs. */
  start: number;
  end: number;
  /** Query step in ms (0 for instant queries). */
  step?: number;
  /** The function applied to the selection, e.g. "rate", "series" for metadata calls. */
  func?: string;
  /** Range of a matrix selector in ms. */
  range?: number;
  grouping?: readonly string[];
  by?: boolean;
}

export interface LabelHints {
  /** Maximum number of results; 0 means no limit. */
  limit?: number;
}

/** Reads a fixed time range [mint, maxt] (ms, inclusive). Close it when done. */
export interface Querier {
  select(sortSeries: boolean, hints: SelectHints | null, ...matchers: Matcher[]): SeriesSet;
  /** Sorted, distinct values of a label over series that match all matchers. */
  labelValues(name: string, hints: LabelHints | null, ...matchers: Matcher[]): string[];
  /** Sorted, distinct label names over series that match all matchers. */
  labelNames(hints: LabelHints | null, ...matchers: Matcher[]): string[];
  /**
   * Queriers that fetch from elsewhere (remote read) start fetching in
   * select(); the caller awaits ready() after its selects and before reading
   * the sets, so reading stays synchronous. Absent for local storage.
   */
  ready?(): Promise<void>;
  close(): void;
}

export interface Queryable {
  querier(mint: number, maxt: number): Querier;
}

/** Opaque per-appender series reference; 0 means "unknown, look up by labels". */
export type SeriesRef = number;

/**
 * Collects samples and makes them visible atomically on commit. An appender
 * must be finished with commit() or rollback() and not reused afterwards.
 */
export interface Appender {
  /**
   * Adds one float sample. Returns a reference the caller may pass back for the
   * same series to skip the label lookup. Throws a StorageError subclass for a
   * rejected sample; the appender stays usable for the other samples.
   */
  append(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef;
  /**
   * append() for a series known by a reference alone (remote write's series
   * cache): returns 0 and appends nothing when the reference is not live (the
   * series was collected), so the caller falls back to append() with labels.
   * Optional: stores that always need labels leave it out.
   */
  appendByRef?(ref: SeriesRef, t: number, v: number): SeriesRef;
  /**
   * Adds one native histogram sample: exactly one of h (integer) and fh (float)
   * is given. Optional while stores gain histogram support: a caller holding a
   * histogram for an appender without it rejects and counts that sample.
   * Throws a StorageError subclass for a rejected sample, as append() does.
   */
  appendHistogram?(ref: SeriesRef, labels: Labels, t: number, h: Histogram | null, fh: FloatHistogram | null): SeriesRef;
  /**
   * Sets the start timestamp (ms, 0 = none) of the next sample appended (by
   * append or appendHistogram), for that sample only. Optional: only the in-memory store keeps
   * start timestamps yet (the TSDB does not).
   */
  setStartTimestamp?(st: number): void;
  /**
   * Adds an exemplar to a series that exists (appended to before, in this
   * appender or earlier); it is logged and made visible with the samples on
   * commit. Returns the series reference, or 0 when the exemplar is not kept
   * (exemplar storage of size 0, or a repeat of the series' newest one). Throws
   * OutOfOrderExemplarError, ExemplarLabelLengthError, or UnknownSeriesError
   * for a series the storage does not have. Optional: stores without exemplar
   * storage leave it out, and callers skip exemplars then.
   */
  appendExemplar?(ref: SeriesRef, labels: Labels, e: Exemplar): SeriesRef;
  /** Makes all appended samples durable (WAL) and visible, then ends the appender. */
  commit(): void;
  /** Discards all appended samples and ends the appender. */
  rollback(): void;
}

/**
 * An exemplar: a sample of a trace (its labels, e.g. trace_id) linked to a
 * series' sample. `ts` is in ms; `hasTs` is false when the exposition gave no
 * timestamp and the scrape's was used (two such exemplars with equal labels
 * and value are the same one, whatever their timestamps).
 */
export interface Exemplar {
  readonly labels: Labels;
  readonly value: number;
  readonly ts: number;
  readonly hasTs: boolean;
}

/** A series' exemplars in a time range, oldest first (query_exemplars). */
export interface ExemplarQueryResult {
  readonly seriesLabels: Labels;
  readonly exemplars: readonly Exemplar[];
}

export interface ExemplarQuerier {
  /**
   * Exemplars in [start, end] (ms, inclusive) of series matching any one of
   * the matcher sets, sorted by series labels.
   */
  select(start: number, end: number, matcherSets: readonly (readonly Matcher[])[]): ExemplarQueryResult[];
}

export interface Appendable {
  appender(): Appender;
}

export interface Storage extends Queryable, Appendable {
  /** Oldest timestamp held, or Infinity when empty. */
  startTime(): number;
  close(): void | Promise<void>;
}

/** Base class of typed storage errors. */
export class StorageError extends Error {
  override name = 'StorageError';
}

export class OutOfOrderSampleError extends StorageError {
  override name = 'OutOfOrderSampleError';
  constructor() {
    super('out of order sample');
  }
}

/** The sample a DuplicateSampleError is about, when the storage knows it. */
export interface DuplicateSampleDetails {
  readonly timestamp: number;
  /** The value stored at that timestamp. */
  readonly existing: number;
  /** The refused value. */
  readonly newValue: number;
}

export class DuplicateSampleError extends StorageError {
  override name = 'DuplicateSampleError';
  /** Callers that answer Prometheus's detailed text (remote write) format it from these. */
  readonly details: DuplicateSampleDetails | undefined;
  constructor(details?: DuplicateSampleDetails) {
    super('duplicate sample for timestamp');
    this.details = details;
  }
}

export class OutOfBoundsError extends StorageError {
  override name = 'OutOfBoundsError';
  constructor() {
    super('out of bounds');
  }
}

/**
 * The sample's series is not in the head and creating it would pass the head's
 * series limit (--storage.tsdb.max-head-series); series already there still
 * take samples.
 */
export class HeadSeriesLimitError extends StorageError {
  override name = 'HeadSeriesLimitError';
  constructor(readonly limit: number) {
    super(`head series limit of ${limit} reached`);
  }
}

/** A sample for a label set that is not valid (empty, duplicate names, bad UTF-8). */
export class InvalidSeriesError extends StorageError {
  override name = 'InvalidSeriesError';
}

/** An exemplar older than its series' newest one (or at the same time with a lower value). */
export class OutOfOrderExemplarError extends StorageError {
  override name = 'OutOfOrderExemplarError';
  constructor() {
    super('out of order exemplar');
  }
}

/** OpenMetrics's limit on an exemplar's label names and values together, in UTF-8 characters. */
export const EXEMPLAR_MAX_LABEL_SET_LENGTH = 128;

export class ExemplarLabelLengthError extends StorageError {
  override name = 'ExemplarLabelLengthError';
  constructor() {
    super(`label length for exemplar exceeds maximum of ${EXEMPLAR_MAX_LABEL_SET_LENGTH} UTF-8 characters`);
  }
}

/** An exemplar (or other per-series data) for a series the storage does not hold. */
export class UnknownSeriesError extends StorageError {
  override name = 'UnknownSeriesError';
}
