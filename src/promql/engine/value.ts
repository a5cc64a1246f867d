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

/**
 * Series of at most this many points take their arrays from a shared slab.
 * A typed array of its own costs about 200 bytes of overhead whatever its
 * length, so an instant query over thousands of series spent more on empty
 * array headers than on samples; a view into a slab costs half of that.
 */
const SLAB_MAX_POINTS = 16;
/** Doubles per slab (64 KiB): room for 4,096 one-point series (timestamp and value each). */
const SLAB_DOUBLES = 8192;

let slab = new Float64Array(SLAB_DOUBLES);
let slabUsed = 0;

/** `2 * c` doubles from the current slab, as timestamp and value views. A slab lives as long as any view into it. */
function slabArrays(c: number): [Float64Array, Float64Array] {
  if (slabUsed + 2 * c > SLAB_DOUBLES) {
    slab = new Float64Array(SLAB_DOUBLES);
    slabUsed = 0;
  }
  const at = slabUsed;
  slabUsed += 2 * c;
  return [slab.subarray(at, at + c), slab.subarray(at + c, at + 2 * c)];
}

const NO_POINTS = new Float64Array(0);

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
    const c = Math.max(0, capacity);
    if (c === 0) {
      // Arrays supplied by the caller (fromArrays); push() grows from here.
      this.ts = NO_POINTS;
      this.vs = NO_POINTS;
    } else if (c <= SLAB_MAX_POINTS) {
      [this.ts, this.vs] = slabArrays(c);
    } else {
      this.ts = new Float64Array(c);
      this.vs = new Float64Array(c);
    }
  }

  /** Wraps existing arrays (used for subquery results and fixtures); n points are valid. */
  static fromArrays(metric: Labels, ts: Float64Array, vs: Float64Array, n: number, dropName = false): Series {
    const s = new Series(metric, dropName, 0);
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

function isMetadataLabel(name: string): boolean {
  return name === '__name__' || name === '__type__' || name === '__unit__';
}

/** Drops __name__ and the other metadata labels (__type__, __unit__), as Prometheus's DropReserved(IsMetadataLabel). */
export function dropMetadata(ls: Labels): Labels {
  const p = ls.toPairs();
  let drop = 0;
  for (let i = 0; i < p.length; i += 2) if (isMetadataLabel(p[i]!)) drop++;
  if (drop === 0) return ls;
  // An exactly sized array: every output series keeps one, so slack from push() would add up.
  const out = new Array<string>(p.length - 2 * drop);
  let w = 0;
  for (let i = 0; i < p.length; i += 2) {
    if (isMetadataLabel(p[i]!)) continue;
    out[w++] = p[i]!;
    out[w++] = p[i + 1]!;
  }
  return Labels.fromSortedPairs(out);
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
