// Query memory accounting: what each running query holds (sample columns,
// the label sets of the series it read, decode buffers, its result set),
// the per-query limit (--query.max-memory) and the budget shared by all
// running queries (--query.max-total-memory).
//
// Accounting happens per batch (a series read, a step evaluated, a column
// allocated), never per sample: the evaluator already counts the samples it
// holds for --query.max-samples, and bytes are derived from that count.
import type { Labels } from '../../model/labels.js';
import { EvalError, QueryQueueFullError } from './errors.js';

/** A sample held by the evaluator: a Float64 timestamp and a Float64 value in parallel columns. */
export const SAMPLE_BYTES = 16;
/**
 * A V8 string's header (map, hash, length: 12 bytes on 64-bit with pointer
 * compression, rounded up to its 8-byte alignment) plus its slot in the
 * pairs array. Its characters count 2 bytes each, the two-byte
 * representation: one-byte strings take half, so the estimate errs high.
 */
export const STRING_OVERHEAD_BYTES = 24;
/** A Labels object and the header of its pairs array (two objects of ~24 bytes each in V8). */
export const LABELS_OVERHEAD_BYTES = 48;
/**
 * One series as the evaluator keeps it beyond its labels and points: the
 * storage series or Series object, its array headers and list slot.
 */
export const SERIES_OVERHEAD_BYTES = 128;
/** A sample of a column-wise instant vector: its value, its drop flag and the slot of its label set. */
export const COLUMN_SAMPLE_BYTES = 8 + 1 + 8;

/** Estimated heap bytes of a label set: 2 bytes per character plus a fixed overhead per string and per set. */
export function labelsBytes(ls: Labels): number {
  const p = ls.toPairs();
  let chars = 0;
  // i < p.length.
  for (let i = 0; i < p.length; i++) chars += p[i]!.length;
  return LABELS_OVERHEAD_BYTES + p.length * STRING_OVERHEAD_BYTES + 2 * chars;
}

/**
 * Bytes as a short base-2 size with one decimal ("512MiB", "530.2MiB"), for
 * error messages; `up` rounds up, so that a size just past a limit never
 * prints as the limit itself.
 */
export function formatBytes(bytes: number, up = false): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const text = Number.isInteger(v) ? String(v) : (up ? Math.ceil(v * 10) / 10 : Math.round(v * 10) / 10).toString();
  return `${text}${units[u]!}`;
}

/** --query.max-memory exceeded (API errorType "execution", HTTP 422). */
export class QueryMemoryLimitError extends EvalError {
  override name = 'QueryMemoryLimitError';
  constructor(
    readonly limitBytes: number,
    readonly wouldHoldBytes: number,
  ) {
    super(
      `query processing would use too much memory in query execution: it would hold ${formatBytes(wouldHoldBytes, true)}, more than the limit of ${formatBytes(limitBytes)} per query (--query.max-memory)`,
    );
  }
}

/** A query found the memory budget used up and the queue full (API errorType "unavailable", HTTP 503). */
export class QueryMemoryBudgetError extends QueryQueueFullError {
  override name = 'QueryMemoryBudgetError';
  constructor(budgetBytes: number) {
    super();
    this.message = `too many queries waiting to run: running queries hold the memory budget of ${formatBytes(budgetBytes)} (--query.max-total-memory)`;
  }
}

export interface QueryMemoryLimits {
  /** Most bytes one query may hold; 0 means no limit. */
  perQueryBytes: number;
  /** Most bytes all running queries may hold before new ones wait; 0 means no budget. */
  totalBytes: number;
}

/** Share of the JS heap limit one query may hold by default: a quarter leaves room for the head, scrapes and other queries. */
const DEFAULT_QUERY_HEAP_SHARE = 4;
/** The budget of all running queries by default, in per-query limits: two queries at their limit may run at once. */
const DEFAULT_TOTAL_QUERY_LIMITS = 2;

/**
 * The limits for the flags as given (null: not given). By default one query
 * may hold a quarter of the heap limit and all running queries twice that
 * (half the heap limit when the per-query limit is off).
 */
export function defaultQueryMemoryLimits(heapLimitBytes: number, perQueryBytes: number | null, totalBytes: number | null): QueryMemoryLimits {
  const perQuery = perQueryBytes ?? Math.floor(heapLimitBytes / DEFAULT_QUERY_HEAP_SHARE);
  const fallbackTotal = perQuery > 0 ? perQuery * DEFAULT_TOTAL_QUERY_LIMITS : Math.floor((heapLimitBytes * DEFAULT_TOTAL_QUERY_LIMITS) / DEFAULT_QUERY_HEAP_SHARE);
  return { perQueryBytes: perQuery, totalBytes: totalBytes ?? fallbackTotal };
}

/**
 * The accounts of all running queries: their sum, the highest single-query
 * peak and how often the per-query limit stopped a query. One tracker may be
 * shared by several engines (the server replaces its engine on some reloads),
 * so the budget covers every query of the process.
 */
export class QueryMemoryTracker {
  /** Bytes held by running queries now. */
  heldBytes = 0;
  /** Highest bytes one query held since the tracker was made. */
  peakQueryBytes = 0;
  /** Queries stopped by the per-query limit. */
  limitExceeded = 0;
  readonly perQueryBytes: number;
  readonly totalBytes: number;

  constructor(limits: QueryMemoryLimits) {
    this.perQueryBytes = Math.max(0, limits.perQueryBytes);
    this.totalBytes = Math.max(0, limits.totalBytes);
  }

  /** True when running queries hold the whole budget: a new query must wait. */
  overBudget(): boolean {
    return this.totalBytes > 0 && this.heldBytes >= this.totalBytes;
  }

  /** A new account for a query that is starting; close it when the query ends, however it ends. */
  open(): QueryMemory {
    return new QueryMemory(this);
  }
}

/** What one query holds; the evaluator updates it per batch of work. */
export class QueryMemory {
  /** Bytes held now, as last accounted. */
  held = 0;
  peak = 0;
  /**
   * Bytes held besides the samples the evaluator counts: label sets and
   * objects of the series read, decode buffers. They stay held until the
   * query ends (results refer to the label sets).
   */
  fixed = 0;
  private closed = false;

  constructor(private readonly tracker: QueryMemoryTracker) {}

  /** Records that the query holds `bytes` now; throws QueryMemoryLimitError past the per-query limit. */
  set(bytes: number): void {
    if (this.closed) return;
    this.tracker.heldBytes += bytes - this.held;
    this.held = bytes;
    if (bytes <= this.peak) return;
    this.peak = bytes;
    const limit = this.tracker.perQueryBytes;
    if (limit > 0 && bytes > limit) {
      this.tracker.limitExceeded++;
      throw new QueryMemoryLimitError(limit, bytes);
    }
  }

  /** Accounts `samples` held samples on top of the fixed bytes. */
  setSamples(samples: number): void {
    this.set(samples * SAMPLE_BYTES + this.fixed);
  }

  /** Gives the query's bytes back to the budget and records its peak; later calls do nothing. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.tracker.heldBytes -= this.held;
    this.held = 0;
    if (this.peak > this.tracker.peakQueryBytes) this.tracker.peakQueryBytes = this.peak;
  }
}
