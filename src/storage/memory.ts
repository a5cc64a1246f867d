// An in-memory Storage for tests and the PromQL test runner.
// Samples of each series live in growable typed arrays, sorted by timestamp;
// a series that has native histogram samples also keeps a parallel array of
// them (float-only series carry none).
import { sortStrings } from '../gofmt/order.js';
import { CounterResetHint, FloatHistogram, Histogram, customBoundsMatch } from '../model/histogram.js';
import { Labels } from '../model/labels.js';
import type { Matcher } from '../model/matcher.js';
import { isStaleNaN } from '../model/value.js';
import {
  DuplicateSampleError,
  InvalidSeriesError,
  OutOfOrderSampleError,
  ValueType,
  type Appender,
  type LabelHints,
  type Querier,
  type SampleIterator,
  type SelectHints,
  type Series,
  type SeriesRef,
  type SeriesSet,
  type Storage,
} from './interface.js';
import { LazySeriesSet } from './lazy.js';

/** A histogram sample as stored, or null at a float sample's position. */
type StoredHistogram = Histogram | FloatHistogram | null;

class MemSeries {
  ts = new Float64Array(16);
  vs = new Float64Array(16);
  /** Histogram samples by position, created with the first one; null entries are float samples. */
  hs: StoredHistogram[] | null = null;
  /** Start timestamps by position (0 = none), created with the first non-zero one. */
  sts: Float64Array | null = null;
  n = 0;
  /** The histogram chunk the TSDB would be filling (see readBackHint), null after a float sample. */
  private chunk: { gauge: boolean; n: number; last: FloatHistogram } | null = null;
  constructor(
    readonly ref: number,
    readonly labels: Labels,
  ) {}

  push(t: number, v: number, h: StoredHistogram = null, st = 0): void {
    if (h !== null) h = this.withReadBackHint(h);
    else this.chunk = null;
    if (h !== null && this.hs === null) this.hs = new Array<StoredHistogram>(this.n).fill(null);
    if (this.hs !== null) this.hs.push(h);
    if (this.n === this.ts.length) {
      const ts = new Float64Array(this.n * 2);
      ts.set(this.ts);
      const vs = new Float64Array(this.n * 2);
      vs.set(this.vs);
      this.ts = ts;
      this.vs = vs;
      if (this.sts !== null) {
        const sts = new Float64Array(this.n * 2);
        sts.set(this.sts);
        this.sts = sts;
      }
    }
    if (st !== 0 && this.sts === null) this.sts = new Float64Array(this.ts.length);
    if (this.sts !== null) this.sts[this.n] = st;
    this.ts[this.n] = t;
    this.vs[this.n] = h === null ? v : 0;
    this.n++;
  }

  /**
   * The histogram with the counter reset hint the TSDB gives it back with,
   * so that tests see what queries over real storage see: unknown for the
   * first sample of a chunk (a new chunk starts after a float sample, at a
   * counter reset, at a layout change and when one is full), not-a-reset for
   * the samples after it, gauge for gauge histograms.
   */
  private withReadBackHint<H extends Histogram | FloatHistogram>(h: H): H {
    const fh = h instanceof Histogram ? h.toFloat() : (h as FloatHistogram);
    const gauge = fh.counterResetHint === CounterResetHint.Gauge;
    const c = this.chunk;
    let continues: boolean;
    if (c === null || c.gauge !== gauge || c.n >= SAMPLES_PER_CHUNK) continues = false;
    else if (gauge) continues = sameLayout(c.last, fh);
    else continues = chunkContinuation(c.last, fh) === 'append';
    if (continues && c !== null) {
      c.n++;
      c.last = fh;
    } else {
      this.chunk = { gauge, n: 1, last: fh };
    }
    const hint = gauge ? CounterResetHint.Gauge : continues ? CounterResetHint.NotCounterReset : CounterResetHint.Unknown;
    if (h.counterResetHint === hint) return h;
    return h.with({ counterResetHint: hint }) as H;
  }

  lastT(): number {
    return this.n === 0 ? -Infinity : this.ts[this.n - 1]!;
  }
}

/** Samples a TSDB histogram chunk holds before the next one is started (Prometheus's default). */
const SAMPLES_PER_CHUNK = 120;

function sameLayout(a: FloatHistogram, b: FloatHistogram): boolean {
  return a.schema === b.schema && a.zeroThreshold === b.zeroThreshold && (!a.usesCustomBuckets() || customBoundsMatch(a.customValues, b.customValues));
}

/** Absolute bucket counts by index, per side. */
function countsByIndex(h: FloatHistogram, positive: boolean): Map<number, number> {
  const m = new Map<number, number>();
  for (const b of positive ? h.positiveBucketIterator() : h.negativeBucketIterator()) m.set(b.index, b.count);
  return m;
}

/**
 * Whether `h` continues the histogram chunk whose last sample is `prev`, as
 * the TSDB's appender decides: appended, a new chunk after a counter reset,
 * or a new chunk because the layout changed (schema, zero threshold, after a
 * staleness marker).
 */
function chunkContinuation(prev: FloatHistogram, h: FloatHistogram): 'append' | 'reset' | 'cut' {
  if (h.counterResetHint === CounterResetHint.CounterReset) return 'reset';
  if (isStaleNaN(h.sum)) return 'append';
  if (isStaleNaN(prev.sum)) return 'cut';
  if (h.count < prev.count) return 'reset';
  if (h.schema !== prev.schema || h.zeroThreshold !== prev.zeroThreshold) return 'cut';
  if (h.usesCustomBuckets() && !customBoundsMatch(h.customValues, prev.customValues)) return 'reset';
  if (h.zeroCount < prev.zeroCount) return 'reset';
  for (const positive of [true, false]) {
    const now = countsByIndex(h, positive);
    for (const [idx, c] of countsByIndex(prev, positive)) if ((now.get(idx) ?? 0) < c) return 'reset';
  }
  return 'append';
}

function typeOf(h: StoredHistogram | undefined): ValueType {
  if (h === null || h === undefined) return ValueType.Float;
  return h instanceof Histogram ? ValueType.Histogram : ValueType.FloatHistogram;
}

/** Callers read the sample only after next() or seek() returned a type, so i < end <= ts.length there. */
class ArrayIterator implements SampleIterator {
  private i: number;
  private readonly end: number;
  constructor(
    private readonly ts: Float64Array,
    private readonly vs: Float64Array,
    private readonly hs: readonly StoredHistogram[] | null,
    start: number,
    end: number,
  ) {
    this.i = start - 1;
    this.end = end;
  }
  private type(): ValueType {
    if (this.i >= this.end) return ValueType.None;
    return this.hs === null ? ValueType.Float : typeOf(this.hs[this.i]);
  }
  next(): ValueType {
    if (this.i < this.end) this.i++;
    return this.type();
  }
  seek(t: number): ValueType {
    if (this.i < 0) this.i = 0;
    while (this.i < this.end && this.ts[this.i]! < t) this.i++;
    return this.type();
  }
  t(): number {
    return this.ts[this.i]!;
  }
  protected index(): number {
    return this.i;
  }
  v(): number {
    return this.vs[this.i]!;
  }
  atHistogram(): Histogram {
    const h = this.hs?.[this.i];
    if (!(h instanceof Histogram)) throw new Error('BUG: atHistogram() at a sample that is not an integer histogram');
    return h;
  }
  atFloatHistogram(): FloatHistogram {
    const h = this.hs?.[this.i];
    if (h instanceof Histogram) return h.toFloat();
    if (h instanceof FloatHistogram) return h;
    throw new Error('BUG: atFloatHistogram() at a float sample');
  }
  err(): Error | null {
    return null;
  }
}

/** An ArrayIterator over a series that carries start timestamps. */
class STArrayIterator extends ArrayIterator {
  constructor(
    ts: Float64Array,
    vs: Float64Array,
    hs: readonly StoredHistogram[] | null,
    private readonly sts: Float64Array,
    start: number,
    end: number,
  ) {
    super(ts, vs, hs, start, end);
  }
  st(): number {
    return this.sts[this.index()]!;
  }
}

/** First index with ts[i] >= t. */
function lowerBound(ts: Float64Array, n: number, t: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1; // mid < hi <= n <= ts.length
    if (ts[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A selected series: its arrays and bounds, not a closure, so thousands of them stay small. */
class SelectedSeries implements Series {
  constructor(
    readonly labels: Labels,
    private readonly ts: Float64Array,
    private readonly vs: Float64Array,
    private readonly hs: readonly StoredHistogram[] | null,
    private readonly sts: Float64Array | null,
    private readonly start: number,
    private readonly end: number,
  ) {}

  iterator(): SampleIterator {
    if (this.sts !== null) return new STArrayIterator(this.ts, this.vs, this.hs, this.sts, this.start, this.end);
    return new ArrayIterator(this.ts, this.vs, this.hs, this.start, this.end);
  }
}

/** The series matching a selection, created one at a time as the caller advances. */
class MemSeriesSet extends LazySeriesSet {
  private i = -1;
  constructor(
    private readonly list: readonly MemSeries[],
    private readonly count: number,
    private readonly matchers: readonly Matcher[],
    private readonly mint: number,
    private readonly maxt: number,
  ) {
    super();
  }
  protected produce(): Series | null {
    // count <= list.length.
    while (++this.i < this.count) {
      const s = this.list[this.i]!;
      if (!matchesAll(s.labels, this.matchers)) continue;
      const start = lowerBound(s.ts, s.n, this.mint);
      const end = lowerBound(s.ts, s.n, this.maxt + 1);
      if (start >= end) continue;
      return new SelectedSeries(s.labels, s.ts, s.vs, s.hs, s.sts, start, end);
    }
    return null;
  }
}

function matchesAll(ls: Labels, matchers: readonly Matcher[]): boolean {
  for (const m of matchers) if (!m.matches(ls.get(m.name))) return false;
  return true;
}

export class MemoryStorage implements Storage {
  private readonly byKey = new Map<string, MemSeries>();
  /** Series in creation order. Queriers read a prefix of it, so clear() replaces it instead of emptying it. */
  private byRef: MemSeries[] = [];

  appender(): Appender {
    return new MemAppender(this);
  }

  querier(mint: number, maxt: number): Querier {
    return new MemQuerier(this.byRef, this.byRef.length, mint, maxt);
  }

  startTime(): number {
    let min = Infinity;
    for (const s of this.byKey.values()) if (s.n > 0 && s.ts[0]! < min) min = s.ts[0]!;
    return min;
  }

  close(): void {}

  /** Drops all data. */
  clear(): void {
    this.byKey.clear();
    this.byRef = [];
  }

  /** Number of series held. */
  numSeries(): number {
    return this.byKey.size;
  }

  /** @internal used by MemAppender */
  getOrCreate(ls: Labels): MemSeries {
    let s = this.byKey.get(ls.key());
    if (s === undefined) {
      s = new MemSeries(this.byRef.length + 1, ls);
      this.byRef.push(s);
      this.byKey.set(ls.key(), s);
    }
    return s;
  }

  /** @internal */
  getByRef(ref: number): MemSeries | undefined {
    return this.byRef[ref - 1];
  }

  /** @internal */
  lookup(ls: Labels): MemSeries | undefined {
    return this.byKey.get(ls.key());
  }
}

interface Pending {
  labels: Labels;
  ref: number;
  t: number;
  v: number;
  h: StoredHistogram;
  st: number;
}

/** Whether a repeated sample at the same timestamp is the same one (then it is ignored, as Prometheus ignores it). */
function sameSample(v1: number, h1: StoredHistogram, v2: number, h2: StoredHistogram): boolean {
  if (h1 === null || h2 === null) return h1 === h2 && (Object.is(v1, v2) || (isStaleNaN(v1) && isStaleNaN(v2)));
  if (h1 instanceof Histogram && h2 instanceof Histogram) return h1.equals(h2);
  if (h1 instanceof FloatHistogram && h2 instanceof FloatHistogram) return h1.equals(h2);
  return false;
}

class MemAppender implements Appender {
  private pending: Pending[] = [];
  /** Last pending sample per series key, so ordering checks stay O(1) per append. */
  private readonly lastPending = new Map<string, Pending>();
  private done = false;
  /** Start timestamp for the next appended sample (setStartTimestamp), 0 = none. */
  private nextST = 0;
  constructor(private readonly db: MemoryStorage) {}

  setStartTimestamp(st: number): void {
    this.nextST = st;
  }

  append(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef {
    return this.add(ref, labels, t, v, null);
  }

  appendHistogram(ref: SeriesRef, labels: Labels, t: number, h: Histogram | null, fh: FloatHistogram | null): SeriesRef {
    const hist = h ?? fh;
    if (hist === null) throw new Error('BUG: appendHistogram() without a histogram');
    hist.validate();
    return this.add(ref, labels, t, 0, hist);
  }

  private add(ref: SeriesRef, labels: Labels, t: number, v: number, h: StoredHistogram): SeriesRef {
    const st = this.nextST;
    this.nextST = 0;
    if (this.done) throw new Error('BUG: appender used after commit or rollback');
    if (labels.isEmpty()) throw new InvalidSeriesError('empty labelset');
    const s = ref !== 0 ? this.db.getByRef(ref) : this.db.lookup(labels);
    const key = labels.key();
    const prev = this.lastPending.get(key);
    let last: number;
    let lastV: number;
    let lastH: StoredHistogram;
    if (prev !== undefined) {
      last = prev.t;
      lastV = prev.v;
      lastH = prev.h;
    } else {
      last = s !== undefined ? s.lastT() : -Infinity;
      lastV = s !== undefined && s.n > 0 ? s.vs[s.n - 1]! : NaN;
      lastH = s !== undefined && s.n > 0 ? (s.hs?.[s.n - 1] ?? null) : null;
    }
    if (t < last) throw new OutOfOrderSampleError();
    if (t === last) {
      if (!sameSample(lastV, lastH, v, h)) {
        throw new DuplicateSampleError(h === null && lastH === null ? { timestamp: t, existing: lastV, newValue: v } : undefined);
      }
      return s?.ref ?? 0;
    }
    const p: Pending = { labels, ref, t, v, h, st };
    this.pending.push(p);
    this.lastPending.set(key, p);
    return s?.ref ?? 0;
  }

  commit(): void {
    if (this.done) throw new Error('BUG: appender used after commit or rollback');
    this.done = true;
    for (const p of this.pending) this.db.getOrCreate(p.labels).push(p.t, p.v, p.h, p.st);
    this.pending = [];
    this.lastPending.clear();
  }

  rollback(): void {
    this.done = true;
    this.pending = [];
    this.lastPending.clear();
  }
}

class MemQuerier implements Querier {
  constructor(
    /** The storage's series; the first `count` (<= series.length) existed when the querier was made. */
    private readonly series: readonly MemSeries[],
    private readonly count: number,
    private readonly mint: number,
    private readonly maxt: number,
  ) {}

  select(sortSeries: boolean, hints: SelectHints | null, ...matchers: Matcher[]): SeriesSet {
    const mint = Math.max(this.mint, hints?.start ?? -Infinity);
    const maxt = Math.min(this.maxt, hints?.end ?? Infinity);
    if (!sortSeries) return new MemSeriesSet(this.series, this.count, matchers, mint, maxt);
    const sorted = this.series.slice(0, this.count).filter((s) => matchesAll(s.labels, matchers)).sort((a, b) => Labels.compare(a.labels, b.labels));
    return new MemSeriesSet(sorted, sorted.length, [], mint, maxt);
  }

  labelValues(name: string, hints: LabelHints | null, ...matchers: Matcher[]): string[] {
    const set = new Set<string>();
    for (let i = 0; i < this.count; i++) {
      const s = this.series[i]!;
      if (!this.hasSamples(s) || !matchesAll(s.labels, matchers)) continue;
      const v = s.labels.get(name);
      if (v !== '') set.add(v);
    }
    return limit(sortStrings([...set]), hints);
  }

  labelNames(hints: LabelHints | null, ...matchers: Matcher[]): string[] {
    const set = new Set<string>();
    for (let i = 0; i < this.count; i++) {
      const s = this.series[i]!;
      if (!this.hasSamples(s) || !matchesAll(s.labels, matchers)) continue;
      s.labels.forEach((n) => set.add(n));
    }
    return limit(sortStrings([...set]), hints);
  }

  close(): void {}

  private hasSamples(s: MemSeries): boolean {
    const start = lowerBound(s.ts, s.n, this.mint);
    return start < s.n && s.ts[start]! <= this.maxt;
  }
}

function limit(xs: string[], hints: LabelHints | null): string[] {
  return hints?.limit ? xs.slice(0, hints.limit) : xs;
}
