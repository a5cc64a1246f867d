// Internal values the evaluator passes between nodes.
//
// A series keeps its points in parallel Float64Arrays (timestamps in ms and
// values) with a fill count, so evaluation allocates one pair of arrays per
// series instead of one object per sample.
import type { FloatHistogram } from '../../model/histogram.js';
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
 * Series of at most this many points keep them in shared slab arrays, at an
 * offset. A typed array or a view of one costs about 100 bytes of header
 * whatever its length, so an instant query over thousands of series, or a
 * short subquery (30 steps), would spend a large share of its memory on array
 * headers; with the slab a series costs its 16 bytes per point and its own
 * fields.
 */
const SLAB_MAX_POINTS = 64;
/**
 * Points per slab (2 x 32 KiB in one buffer): room for 4096 one-point series
 * or 64 of the longest. Every typed array buffer costs an allocation outside
 * the heap and GC bookkeeping, so small slabs made that the main cost of
 * reading 100k short series; one slab is the most a small query keeps alive.
 */
const SLAB_POINTS = 4096;

function newSlab(): Float64Array {
  return new Float64Array(2 * SLAB_POINTS);
}

let slab = newSlab();
let tsSlab = slab.subarray(0, SLAB_POINTS);
let vsSlab = slab.subarray(SLAB_POINTS);
let slabUsed = 0;

/** Reserves `c` points in the current slabs; returns their offset. A slab lives as long as any series in it. */
function slabOffset(c: number): number {
  if (slabUsed + c > SLAB_POINTS) {
    slab = newSlab();
    tsSlab = slab.subarray(0, SLAB_POINTS);
    vsSlab = slab.subarray(SLAB_POINTS);
    slabUsed = 0;
  }
  const at = slabUsed;
  slabUsed += c;
  return at;
}

const NO_POINTS = new Float64Array(0);

/**
 * A series' points: timestamps and values at ts[off .. off+n) and
 * vs[off .. off+n). Small series share their arrays with others (see
 * SLAB_MAX_POINTS), so code indexes from `off` and writes only within its
 * own n points; tsView()/vsView() give the points as arrays of their own.
 * off + n <= ts.length = vs.length always, so reads in [off, off + n) are
 * asserted with `!`.
 */
export class Series {
  ts: Float64Array;
  vs: Float64Array;
  off = 0;
  n = 0;
  /**
   * Native histogram points by point number (0 .. n-1; not offset by `off`),
   * only in series that have them: a point whose entry is set is that
   * histogram (its vs value is unused), the others are floats.
   */
  hs: Array<FloatHistogram | undefined> | null = null;
  /** Points there is room for from `off`. */
  private cap: number;

  constructor(
    public metric: Labels,
    /** Set when the metric name must be removed at the end (delayed name removal). */
    public dropName = false,
    capacity = MIN_CAPACITY,
  ) {
    const c = Math.max(0, capacity);
    this.cap = c;
    if (c === 0) {
      // Arrays supplied by the caller (fromArrays); push() grows from here.
      this.ts = NO_POINTS;
      this.vs = NO_POINTS;
    } else if (c <= SLAB_MAX_POINTS) {
      this.off = slabOffset(c);
      this.ts = tsSlab;
      this.vs = vsSlab;
    } else {
      this.ts = new Float64Array(c);
      this.vs = new Float64Array(c);
    }
  }

  /** Wraps existing arrays (used for subquery results and fixtures); n points are valid, from index 0. */
  static fromArrays(metric: Labels, ts: Float64Array, vs: Float64Array, n: number, dropName = false): Series {
    const s = new Series(metric, dropName, 0);
    s.setPoints(ts, vs, n);
    return s;
  }

  /** Replaces the points with the first n of the given arrays, which the series then owns. */
  setPoints(ts: Float64Array, vs: Float64Array, n: number): void {
    this.ts = ts;
    this.vs = vs;
    this.off = 0;
    this.n = n;
    this.cap = ts.length;
  }

  push(t: number, v: number): void {
    if (this.n === this.cap) this.grow();
    const i = this.off + this.n;
    this.ts[i] = t;
    this.vs[i] = v;
    this.n++;
  }

  /** Adds a histogram point. */
  pushHistogram(t: number, h: FloatHistogram): void {
    this.push(t, 0);
    if (this.hs === null) this.hs = [];
    this.hs[this.n - 1] = h;
  }

  /** The histogram at point i (0-based), or undefined when it is a float. */
  histogramAt(i: number): FloatHistogram | undefined {
    return this.hs === null ? undefined : this.hs[i];
  }

  /** The timestamps as an array of their own length (a view, not a copy). */
  tsView(): Float64Array {
    return this.ts.subarray(this.off, this.off + this.n);
  }

  /** The values as an array of their own length (a view, not a copy). */
  vsView(): Float64Array {
    return this.vs.subarray(this.off, this.off + this.n);
  }

  private grow(): void {
    const cap = Math.max(MIN_CAPACITY, this.cap * 2);
    const ts = new Float64Array(cap);
    ts.set(this.tsView());
    const vs = new Float64Array(cap);
    vs.set(this.vsView());
    this.setPoints(ts, vs, this.n);
  }

  /** Releases spare capacity when it is large; results that live long should not pin twice their size. */
  trim(): void {
    if (this.cap <= this.n * 2 || this.cap <= MIN_CAPACITY) return;
    if (this.n > SLAB_MAX_POINTS) {
      this.setPoints(this.tsView().slice(), this.vsView().slice(), this.n);
      return;
    }
    // A short series moves to a slab region of its own size: arrays of its own would cost more in headers.
    const at = slabOffset(this.n);
    tsSlab.set(this.tsView(), at);
    vsSlab.set(this.vsView(), at);
    this.ts = tsSlab;
    this.vs = vsSlab;
    this.off = at;
    this.cap = this.n;
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

export function isString(v: EvalValue | InstantColumns): v is StringValue {
  return v instanceof StringValue;
}

function isMetadataLabel(name: string): boolean {
  return name === '__name__' || name === '__type__' || name === '__unit__';
}

/** Drops __name__ and the other metadata labels (__type__, __unit__), as Prometheus's DropReserved(IsMetadataLabel). */
export function dropMetadata(ls: Labels): Labels {
  const p = ls.toPairs();
  let drop = 0;
  // Name/value pairs: i + 1 < p.length in both loops.
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
  let first: Labels | null = null;
  for (const ls of list) {
    if (first === null) first = ls;
    else if (!sameMetadataAs(first, ls)) return false;
  }
  return true;
}

/** True when two label sets carry the same name, type and unit. */
export function sameMetadataAs(a: Labels, b: Labels): boolean {
  return a.get('__name__') === b.get('__name__') && a.get('__type__') === b.get('__type__') && a.get('__unit__') === b.get('__unit__');
}

export function* metricsOf(m: Matrix): Iterable<Labels> {
  for (const s of m) yield s.metric;
}

const byLabels = (a: Series, b: Series): number => Labels.compare(a.metric, b.metric);

/** Series sorted at once before sortMatrix merges runs, yielding between them. */
const SORT_RUN = 2048;

/**
 * Sorts series by label set, as the API returns range results. A large
 * matrix is sorted in runs that are then merged, with `pause` called between
 * pieces of about SORT_RUN series, so sorting 100k series does not hold the
 * event loop for its whole length.
 */
export async function sortMatrix(m: Matrix, pause: (units: number) => Promise<void>): Promise<void> {
  const n = m.length;
  if (n <= SORT_RUN) {
    m.sort(byLabels);
    return;
  }
  for (let i = 0; i < n; i += SORT_RUN) {
    const run = m.slice(i, i + SORT_RUN).sort(byLabels);
    // j < run.length, i + j < n.
    for (let j = 0; j < run.length; j++) m[i + j] = run[j]!;
    await pause(SORT_RUN);
  }
  let src = m;
  let dst = new Array<Series>(n);
  for (let width = SORT_RUN; width < n; width *= 2) {
    let done = 0;
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let a = lo;
      let b = mid;
      let w = lo;
      // a < mid and b < hi are checked before each read; w < hi <= n = dst.length. Ties take the left run (stable).
      while (a < mid && b < hi) {
        dst[w++] = byLabels(src[a]!, src[b]!) <= 0 ? src[a++]! : src[b++]!;
        if (++done === SORT_RUN) {
          await pause(done);
          done = 0;
        }
      }
      while (a < mid) dst[w++] = src[a++]!;
      while (b < hi) dst[w++] = src[b++]!;
    }
    [src, dst] = [dst, src];
  }
  // i < n = src.length = m.length.
  if (src !== m) for (let i = 0; i < n; i++) m[i] = src[i]!;
}

/** Labels of an instant sample: metadata labels removed when `drop` is set and names are removed right away. */
export function effectiveMetric(metric: Labels, drop: boolean, delayedNameRemoval: boolean): Labels {
  return drop && !delayedNameRemoval ? dropMetadata(metric) : metric;
}

/**
 * An instant vector (one evaluation time) held column-wise: the label set of
 * each sample as it came from storage, a flag for samples whose metadata
 * labels (__name__, __type__, __unit__) are removed, and the values. The
 * samples of a selector or of a function over one then cost 17 bytes each
 * instead of a series object and a new label set: the flagged labels are
 * only built when an operator needs them or when the result is written.
 */
export class InstantColumns {
  metrics: Labels[];
  drop: Uint8Array;
  vs: Float64Array;
  /** Native histogram samples by index, only when the vector has some; the others are floats. */
  hs: Array<FloatHistogram | undefined> | null = null;
  n = 0;

  constructor(
    readonly t: number,
    capacity = 64,
  ) {
    const c = Math.max(1, capacity);
    this.metrics = new Array<Labels>(c);
    this.drop = new Uint8Array(c);
    this.vs = new Float64Array(c);
  }

  push(metric: Labels, drop: boolean, v: number): void {
    if (this.n === this.vs.length) this.resize(this.n + (this.n >> 3) + 64);
    this.metrics[this.n] = metric;
    this.drop[this.n] = drop ? 1 : 0;
    this.vs[this.n] = v;
    this.n++;
  }

  pushHistogram(metric: Labels, drop: boolean, h: FloatHistogram): void {
    this.push(metric, drop, 0);
    if (this.hs === null) this.hs = [];
    this.hs[this.n - 1] = h;
  }

  /** Growing by an eighth keeps the spare room small while a large vector is gathered (copies stay cheap: 17 bytes a sample). */
  private resize(c: number): void {
    const metrics = new Array<Labels>(c);
    // i < n: a sample of the columns.
    for (let i = 0; i < this.n; i++) metrics[i] = this.metrics[i]!;
    this.metrics = metrics;
    const vs = new Float64Array(c);
    vs.set(this.vs.subarray(0, this.n));
    this.vs = vs;
    const d = new Uint8Array(c);
    d.set(this.drop.subarray(0, this.n));
    this.drop = d;
  }

  /** Releases spare capacity: the columns may be the query's result. */
  trim(): void {
    if (this.vs.length !== this.n) this.resize(this.n);
  }

  /** True when any sample has its metadata labels removed. */
  anyDropped(): boolean {
    for (let i = 0; i < this.n; i++) if (this.drop[i] === 1) return true;
    return false;
  }

  /** The same samples as series of one point (what operators without a column-wise path take). */
  toMatrix(delayedNameRemoval: boolean): Matrix {
    const out: Matrix = new Array<Series>(this.n);
    // i < n: a sample of the columns.
    for (let i = 0; i < this.n; i++) {
      const drop = this.drop[i] === 1;
      const s = new Series(effectiveMetric(this.metrics[i]!, drop, delayedNameRemoval), drop, 1);
      const h = this.hs?.[i];
      if (h !== undefined) s.pushHistogram(this.t, h);
      else s.push(this.t, this.vs[i]!);
      out[i] = s;
    }
    return out;
  }
}
