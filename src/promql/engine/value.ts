// Internal values the evaluator passes between nodes.
//
// A series keeps its points in parallel Float64Arrays (timestamps in ms and
// values) with a fill count, so evaluation allocates one pair of arrays per
// series instead of one object per sample.
import { Labels } from '../../model/labels.js';

/** Smallest capacity a growing point buffer starts with; most series are short or sized up front. */
const MIN_CAPACITY = 8;

/**
 * First capacity of output series whose length is not known in advance
 * (aggregations, per-step results): 64 points (1 KiB) covers an hour at 1m
 * steps, and doubling from there wastes at most half of a long series.
 */
export const GROWING_CAPACITY = 64;

/**
 * Most points a series buffer is sized for up front when its final length is
 * only bounded by the step count: 5,000 points (80 KiB), the size Prometheus
 * caps its pooled point slices at. Longer series grow by doubling, so a huge
 * step grid costs memory only for the points really produced.
 */
export const MAX_PREALLOCATED_POINTS = 5000;

export class Series {
  ts: Float64Array;
  vs: Float64Array;
  n = 0;

  constructor(
    public metric: Labels,
    /** Set when the metric name must be removed at the end (delayed name removal). */
    public dropName = false,
    capacity = MIN_CAPACITY,
  ) {
    const c = Math.max(1, capacity);
    this.ts = new Float64Array(c);
    this.vs = new Float64Array(c);
  }

  /** Wraps existing arrays (used for subquery results and fixtures); n points are valid. */
  static fromArrays(metric: Labels, ts: Float64Array, vs: Float64Array, n: number, dropName = false): Series {
    const s = new Series(metric, dropName, 1);
    s.ts = ts;
    s.vs = vs;
    s.n = n;
    return s;
  }

  push(t: number, v: number): void {
    if (this.n === this.ts.length) this.grow();
    this.ts[this.n] = t;
    this.vs[this.n] = v;
    this.n++;
  }

  private grow(): void {
    const cap = Math.max(MIN_CAPACITY, this.ts.length * 2);
    const ts = new Float64Array(cap);
    ts.set(this.ts.subarray(0, this.n));
    const vs = new Float64Array(cap);
    vs.set(this.vs.subarray(0, this.n));
    this.ts = ts;
    this.vs = vs;
  }

  /** Releases spare capacity when it is large; results that live long should not pin twice their size. */
  trim(): void {
    if (this.ts.length > this.n * 2 && this.ts.length > MIN_CAPACITY) {
      this.ts = this.ts.slice(0, this.n);
      this.vs = this.vs.slice(0, this.n);
    }
  }
}

export type Matrix = Series[];

/** A string value (string literals only). */
export class StringValue {
  constructor(
    readonly v: string,
    readonly t: number,
  ) {}
}

export type EvalValue = Matrix | StringValue;

export function isString(v: EvalValue): v is StringValue {
  return v instanceof StringValue;
}

/** Drops __name__ and the other metadata labels (__type__, __unit__), as Prometheus's DropReserved(IsMetadataLabel). */
export function dropMetadata(ls: Labels): Labels {
  if (!ls.has('__name__') && !ls.has('__type__') && !ls.has('__unit__')) return ls;
  return ls.without('__name__', '__type__', '__unit__');
}

/**
 * True when all label sets carry the same name, type and unit. Dropping
 * those from distinct label sets then cannot make two of them equal, so the
 * duplicate check after name removal can be skipped (the common case, e.g.
 * rate() over one metric).
 */
export function sameMetadata(list: Iterable<Labels>): boolean {
  let first = true;
  let name = '';
  let type = '';
  let unit = '';
  for (const ls of list) {
    if (first) {
      name = ls.get('__name__');
      type = ls.get('__type__');
      unit = ls.get('__unit__');
      first = false;
    } else if (ls.get('__name__') !== name || ls.get('__type__') !== type || ls.get('__unit__') !== unit) {
      return false;
    }
  }
  return true;
}

export function* metricsOf(m: Matrix): Iterable<Labels> {
  for (const s of m) yield s.metric;
}

/** Sorts series by label set, as the API returns range results. */
export function sortMatrix(m: Matrix): void {
  m.sort((a, b) => Labels.compare(a.metric, b.metric));
}
