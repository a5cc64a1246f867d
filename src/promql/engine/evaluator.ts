// The evaluator: computes an expression at every step of [start, end] and
// returns a matrix whose points sit at the step timestamps, as Prometheus's
// evaluator does. Instant queries are range evaluations with one step.
//
// Samples are decoded from storage once per selector into reusable typed
// arrays and scanned with two pointers; results are series of parallel
// Float64Arrays. Long loops call `this.tick(n)` (awaiting the promise it gives when it is time) so the event loop keeps
// serving other work and the deadline and cancellation are checked.
import { CounterResetHint, FloatHistogram } from '../../model/histogram.js';
import { Labels } from '../../model/labels.js';
import { isStaleNaN } from '../../model/value.js';
import { ValueType, type FloatRun, type SampleIterator, type Series as StorageSeries, type SeriesSet } from '../../storage/interface.js';
import type { Expr, MatrixSelector, StepInvariantExpr, SubqueryExpr, UnaryExpr, VectorSelector } from '../parser/ast.js';
import { evalAggregate } from './aggregations.js';
import { evalBinary } from './binops.js';
import { StepCollector, mergeSameLabelset } from './collector.js';
import type { EvalContext, QueryContext, StepFn } from './context.js';
import { StepVector, listCursor, type SeriesCursor } from './cursors.js';
import { EvalError, HistogramsUnsupportedError, TooManySamplesError } from './errors.js';
import { extendPoints, smoothedValue } from './extended.js';
import { smoothedHistogram } from './histogram_range.js';
import { histogramSampleWeight } from './native_histograms.js';
import { evalCall } from './functions.js';
import { setOffsetForAtModifier } from './preprocess.js';
import { SAMPLE_BYTES, SERIES_OVERHEAD_BYTES, labelsBytes } from './memory.js';
import { evalRangeFunction } from './range_functions.js';
import { SampleStats } from './stats.js';
import { GROWING_CAPACITY, InstantColumns, MAX_PREALLOCATED_POINTS, Series, StringValue, dropMetadata, isString, metricsOf, sameMetadata, type EvalValue, type Matrix } from './value.js';

/** Functions evalCall handles before its range-vector path; they never give columns. */
const COLUMNLESS_FUNCTIONS = new Set(['timestamp', 'start_timestamp', 'label_replace', 'label_join', 'info']);

/** Series read between memory checks while a selector's series are gathered into a list (a check is a few additions). */
const SERIES_PER_MEMORY_CHECK = 1024;

/** Sets kept between queries: a few cover the queries that run at once (max-concurrency bounds the rest). */
const MAX_SPARE_BUFFERS = 4;
/** Largest set kept (256 KiB each): a bigger one was grown for one unusual series and is let go. */
const MAX_SPARE_BUFFER_SAMPLES = 16_384;
const spareBuffers: DecodeBuffers[] = [];

/**
 * Reusable decode buffers of one query. They start at 1024 samples (16 KiB,
 * a few hours of one series at 15s) and double up to the longest series read.
 */
class DecodeBuffers implements FloatRun {
  t = new Float64Array(1024);
  v = new Float64Array(1024);
  /** Samples filled, while an iterator's readFloats() appends (decodeRun keeps its own count otherwise). */
  n = 0;
  /**
   * Native histograms of the last decode by position, or null when it had
   * none (set per decode, so float-only series cost nothing).
   */
  h: Array<FloatHistogram | undefined> | null = null;
  /** Start timestamps by position (0 = none); made for the first series that carries them. */
  st: Float64Array | null = null;
  /** Whether the last decode's series carries start timestamps (then st holds them). */
  hasST = false;

  /** Prepares st for a decode of `it`: used only when its series carries start timestamps. */
  startST(it: SampleIterator): void {
    this.hasST = it.st !== undefined;
    if (this.hasST && (this.st === null || this.st.length < this.t.length)) this.st = new Float64Array(this.t.length);
  }

  /** A spare set from an earlier query, or a new one: small queries should not pay 16 KiB of zeroing each. */
  static acquire(): DecodeBuffers {
    return spareBuffers.pop() ?? new DecodeBuffers();
  }

  /** Keeps the set for a later query unless enough are kept or it grew large (a long series once). */
  static release(b: DecodeBuffers): void {
    if (spareBuffers.length < MAX_SPARE_BUFFERS && b.t.length <= MAX_SPARE_BUFFER_SAMPLES) spareBuffers.push(b);
  }

  grow(): void {
    const t = new Float64Array(this.t.length * 2);
    t.set(this.t);
    const v = new Float64Array(this.v.length * 2);
    v.set(this.v);
    this.t = t;
    this.v = v;
    if (this.st !== null) {
      const st = new Float64Array(t.length);
      st.set(this.st);
      this.st = st;
    }
  }
}

/** Steps of the grid start, start + interval, ..., <= end. */
export function stepCount(start: number, end: number, interval: number): number {
  return end < start ? 0 : Math.floor((end - start) / interval) + 1;
}

/**
 * Throws unless a step grid of `numSteps` steps may be evaluated. Evaluation
 * allocates per-step arrays (scalar values, per-step counts, statistics), so
 * a grid must stay bounded; --query.max-samples is the bound, since a grid
 * longer than it could not hold even one sample per step. Without this,
 * `vector(1)[100000d:1s]` would try to allocate 8.64e9 entries at once.
 */
function checkStepGrid(numSteps: number, maxSamples: number): void {
  if (numSteps > maxSamples) throw new TooManySamplesError();
}

export class Evaluator implements EvalContext {
  readonly numSteps: number;
  private readonly series = new Map<VectorSelector, StorageSeries[]>();
  /** Selectors whose series were read by streamSelected (and not kept). */
  private readonly streamed = new Set<VectorSelector>();
  private readonly buffers: DecodeBuffers;

  constructor(
    readonly q: QueryContext,
    readonly start: number,
    readonly end: number,
    /** Step in ms; 1 for instant evaluations. */
    readonly interval: number,
    readonly stats: SampleStats,
    /** Samples currently held, counted as Prometheus counts them for --query.max-samples. */
    public currentSamples = 0,
    parent: Evaluator | null = null,
  ) {
    this.numSteps = stepCount(start, end, interval);
    checkStepGrid(this.numSteps, q.maxSamples);
    if (parent !== null) {
      this.buffers = parent.buffers;
      this.series = parent.series;
      this.streamed = parent.streamed;
    } else {
      this.buffers = DecodeBuffers.acquire();
      q.memory.fixed += this.buffers.t.length * SAMPLE_BYTES;
    }
  }

  /** Gives the decode buffers back for later queries; call once, on the top-level evaluator, when the query is done. */
  release(): void {
    DecodeBuffers.release(this.buffers);
  }

  get instant(): boolean {
    return this.start === this.end;
  }

  // ---------------------------------------------------------------------------
  // Limits

  /**
   * Accounts work and the memory held (failing past --query.max-memory) and,
   * every so often, yields and checks deadline and cancellation.
   */
  tick(units: number): Promise<void> | null {
    this.q.memory.setSamples(this.currentSamples);
    return this.q.checkpoint.due(units) ? this.q.checkpoint.pause() : null;
  }

  /** Throws when the samples held exceed --query.max-samples. */
  checkSamples(extra = 0): void {
    if (this.currentSamples + extra > this.q.maxSamples) throw new TooManySamplesError();
  }

  /**
   * Replays Prometheus's rangeEval accounting for a result computed series by
   * series: at step k it holds the arguments (`held`), the samples gathered at
   * k and everything produced up to k. Updates the peak, fails like Prometheus
   * when the limit is crossed, and leaves `before` plus the output counted.
   */
  accountStepwise(before: number, held: number, gathered: Int32Array, produced: Int32Array): void {
    let cum = held;
    let peak = this.stats.peakSamples;
    const max = this.q.maxSamples;
    let total = 0;
    // k < gathered.length = produced.length (callers pass one entry per step to both).
    for (let k = 0; k < gathered.length; k++) {
      const g = gathered[k]!;
      if (cum + g > max) throw new TooManySamplesError();
      cum += produced[k]!;
      total += produced[k]!;
      const now = cum + g;
      if (now > max) throw new TooManySamplesError();
      if (now > peak) peak = now;
    }
    this.stats.updatePeak(peak);
    // The peak was held at one step: the memory limit applies to it.
    this.q.memory.setSamples(peak);
    this.currentSamples = before + total;
  }

  /** Points per step of the given matrices (what rangeEval would gather at each step). */
  pointsPerStep(ms: readonly Matrix[], into: Int32Array = new Int32Array(this.numSteps)): Int32Array {
    for (const m of ms) {
      for (const s of m) {
        // i in [off, off + n): a point of s; k is checked against into.
        for (let i = s.off; i < s.off + s.n; i++) {
          const k = this.stepOf(s.ts[i]!);
          if (k >= 0 && k < into.length) into[k]!++;
        }
      }
    }
    return into;
  }

  stepOf(t: number): number {
    return Math.round((t - this.start) / this.interval);
  }

  stepTime(k: number): number {
    return this.start + k * this.interval;
  }

  // ---------------------------------------------------------------------------
  // Entry points

  /** Evaluates the whole query expression, applying delayed name removal at the end. */
  async evalTop(e: Expr): Promise<EvalValue | InstantColumns> {
    // Without delayed name removal the result can stay column-wise; the writer leaves the flagged names out.
    if (!this.q.delayedNameRemoval) return this.evalColumns(e);
    const v = await this.eval(e);
    if (isString(v)) return v;
    for (const s of v) if (s.dropName) s.metric = dropMetadata(s.metric);
    return mergeSameLabelset(v);
  }

  async eval(e: Expr): Promise<EvalValue> {
    this.q.checkpoint.check();
    if (this.end < this.start) return [];
    switch (e.type) {
      case 'AggregateExpr':
        return evalAggregate(this, e);
      case 'Call':
        return evalCall(this, e);
      case 'ParenExpr':
        return this.eval(e.expr);
      case 'UnaryExpr':
        return this.evalUnary(e);
      case 'BinaryExpr':
        return evalBinary(this, e);
      case 'NumberLiteral':
        return this.constant(e.val);
      case 'StringLiteral':
        return new StringValue(e.val, this.start);
      case 'VectorSelector':
        return this.evalVectorSelector(e);
      case 'MatrixSelector':
        if (!this.instant) throw new EvalError('cannot do range evaluation of matrix selector');
        return this.evalMatrixSelector(e);
      case 'SubqueryExpr': {
        const { result, stats: child } = await this.runSubquery(e);
        this.stats.updatePeakFrom(child);
        this.stats.incAtTimestamp(this.end, child.totalSamples);
        this.stats.mergeReadFrom(child, this.start, this.interval, this.numSteps, 0, 0);
        return result;
      }
      case 'StepInvariantExpr':
        return this.evalStepInvariant(e);
    }
  }

  /** Evaluates to a matrix (any non-string expression). */
  async evalMatrix(e: Expr): Promise<Matrix> {
    const v = await this.eval(e);
    if (isString(v)) throw new EvalError(`BUG: expected a vector or scalar, got a string from ${e.type}`);
    return v;
  }

  /** Evaluates a scalar expression to one value per step. */
  async evalScalar(e: Expr): Promise<Float64Array> {
    return this.dense(await this.evalMatrix(e));
  }

  /** The values of a scalar result (one series, a point per step) by step. */
  dense(m: Matrix): Float64Array {
    const out = new Float64Array(this.numSteps);
    const s = m[0];
    if (s === undefined) return out;
    // i in [off, off + n): a point of s.
    for (let i = s.off; i < s.off + s.n; i++) {
      const k = this.stepOf(s.ts[i]!);
      if (k >= 0 && k < this.numSteps) out[k] = s.vs[i]!;
    }
    return out;
  }

  /** A scalar with the same value at every step. */
  constant(v: number): Matrix {
    // It holds a sample per step: fail before allocating them, as Prometheus fails while adding them.
    this.checkSamples(this.numSteps);
    const s = new Series(Labels.EMPTY, false, this.numSteps);
    for (let k = 0; k < this.numSteps; k++) s.push(this.stepTime(k), v);
    this.currentSamples += this.numSteps;
    this.stats.updatePeak(this.currentSamples);
    return [s];
  }

  // ---------------------------------------------------------------------------
  // Generic step-by-step evaluation (Prometheus's rangeEval)

  /**
   * Calls `fn` once per step with the samples each argument matrix has at
   * that step (null arguments, for strings, give empty vectors). `before` is
   * currentSamples from before the arguments were evaluated: the arguments are
   * released afterwards and only the result stays counted.
   */
  async rangeEval(before: number, args: ReadonlyArray<Matrix | null>, fn: StepFn): Promise<Matrix> {
    const originalSamples = before;
    const mats = args.map((m) => m ?? []);
    const vecs = mats.map((m) => new StepVector(m));
    const cursors = mats.map((m) => new Int32Array(m.length));
    const out = new StepCollector(this.instant, !this.q.delayedNameRemoval, Math.min(this.numSteps, GROWING_CAPACITY));
    let held = this.currentSamples;
    for (let k = 0; k < this.numSteps; k++) {
      const t = this.stepTime(k);
      this.currentSamples = held;
      let gathered = 0;
      // a < mats.length = cursors.length = vecs.length; i < m.length = cur.length; c < s.n is checked
      // before the read at off + c.
      for (let a = 0; a < mats.length; a++) {
        const m = mats[a]!;
        const cur = cursors[a]!;
        const vec = vecs[a]!;
        let n = 0;
        for (let i = 0; i < m.length; i++) {
          const s = m[i]!;
          const c = cur[i]!;
          if (c < s.n && s.ts[s.off + c] === t) {
            vec.idx[n] = i;
            vec.v[n] = s.vs[s.off + c]!;
            if (s.hs !== null) (vec.h ??= [])[n] = s.hs[c];
            else if (vec.h !== null) vec.h[n] = undefined;
            n++;
            cur[i] = c + 1;
          }
        }
        vec.n = n;
        gathered += n;
      }
      this.currentSamples += gathered;
      this.checkSamples();
      const pending = fn(k, t, vecs, out);
      if (pending !== undefined) await pending;
      const produced = out.takeEmitted();
      this.currentSamples += produced;
      held += produced;
      this.stats.updatePeak(this.currentSamples);
      this.checkSamples();
      await this.tick(gathered + 1);
    }
    const res = out.result();
    let total = 0;
    for (const s of res) total += s.n;
    this.currentSamples = originalSamples + total;
    this.stats.updatePeak(this.currentSamples);
    return res;
  }

  // ---------------------------------------------------------------------------
  // Selectors

  /** The storage series of a selector, expanded once per query. */
  selected(vs: VectorSelector): StorageSeries[] {
    this.histogramsAllowed = this.q.histogramSelectors.has(vs);
    this.histogramStats = this.q.histogramStatsSelectors.has(vs);
    let list = this.series.get(vs);
    if (list !== undefined) return list;
    if (this.streamed.has(vs)) throw new EvalError('BUG: the series of a selector were read twice');
    const set = this.q.selections.get(vs);
    list = [];
    if (set !== undefined) {
      const mem = this.q.memory;
      while (set.next()) {
        const ss = set.at();
        list.push(ss);
        mem.fixed += SERIES_OVERHEAD_BYTES + labelsBytes(ss.labels);
        if (list.length % SERIES_PER_MEMORY_CHECK === 0) mem.setSamples(this.currentSamples);
      }
      this.finishSet(set);
      mem.setSamples(this.currentSamples);
    }
    this.series.set(vs, list);
    return list;
  }

  /**
   * The storage series of a selector one at a time, none kept: an evaluation
   * that reads each series once (a function over a range) then holds only the
   * series it is reading. A selector is evaluated once per query.
   */
  streamSelected(vs: VectorSelector): SeriesCursor {
    this.histogramsAllowed = this.q.histogramSelectors.has(vs);
    this.histogramStats = this.q.histogramStatsSelectors.has(vs);
    const list = this.series.get(vs);
    if (list !== undefined) return listCursor(list);
    if (this.streamed.has(vs)) throw new EvalError('BUG: the series of a selector were read twice');
    this.streamed.add(vs);
    const set = this.q.selections.get(vs);
    if (set === undefined) return listCursor([]);
    const mem = this.q.memory;
    return {
      next: () => {
        if (set.next()) {
          const ss = set.at();
          // Its label set may stay referred to by the result: it counts until the query ends.
          mem.fixed += SERIES_OVERHEAD_BYTES + labelsBytes(ss.labels);
          return ss;
        }
        this.finishSet(set);
        return null;
      },
    };
  }

  async restreamSelected(vs: VectorSelector): Promise<SeriesCursor> {
    const set = await this.q.reselect(vs);
    if (set === null) return listCursor([]);
    // Their memory was accounted when they were first read.
    return {
      next: () => {
        if (set.next()) return set.at();
        this.finishSet(set);
        return null;
      },
    };
  }

  private finishSet(set: SeriesSet): void {
    const err = set.err();
    if (err !== null) throw new EvalError(`expanding series: ${err.message}`);
    for (const w of set.warnings()) this.q.annotations.add({ severity: 'warning', message: w, pos: null });
  }

  /**
   * Decodes the samples of `it` with mint <= t <= maxt into the shared
   * buffers (bufT/bufV) and returns their number. Staleness markers are kept
   * for instant selectors (they end a series) and dropped for ranges. More
   * than `limit` samples fail the query: callers whose samples are all held
   * at once pass what --query.max-samples has left, the others the whole
   * limit, so one long series cannot grow the buffers without bound.
   */
  decode(it: SampleIterator, mint: number, maxt: number, keepStale: boolean, limit = this.q.maxSamples): number {
    this.buffers.h = null;
    this.buffers.startST(it);
    const n = this.decodeRun(it, mint, maxt, keepStale, limit, 0);
    const err = it.err();
    if (err !== null) throw err;
    return n;
  }

  /**
   * What one step of a selector needs of a series: its newest sample in [mint, maxt] (staleness markers
   * kept), as decode would leave it last in the buffers. Taken without decoding when the iterator knows it.
   */
  private decodeNewest(it: SampleIterator, mint: number, maxt: number): number {
    if (it.newestFloatAtOrBefore === undefined || it.st !== undefined || !it.newestFloatAtOrBefore(maxt)) return this.decode(it, mint, maxt, true);
    this.buffers.h = null;
    this.buffers.startST(it);
    const t = it.t();
    if (t < mint) return 0;
    // The buffers hold at least one sample.
    this.buffers.t[0] = t;
    this.buffers.v[0] = it.v();
    return 1;
  }

  /**
   * Like decode, but only for the windows (end - width, end] with end =
   * firstEnd + k * stride for every step k; used when the windows do not
   * overlap (the step is longer than the window), so the iterator can seek
   * over the samples between them instead of decoding them.
   */
  decodeWindows(it: SampleIterator, firstEnd: number, width: number, stride: number, keepStale: boolean): number {
    let n = 0;
    this.iteratorDone = false;
    this.buffers.h = null;
    this.buffers.startST(it);
    for (let k = 0; k < this.numSteps && !this.iteratorDone; k++) {
      const hi = firstEnd + k * stride;
      n = this.decodeRun(it, hi - width + 1, hi, keepStale, this.q.maxSamples, n);
    }
    const err = it.err();
    if (err !== null) throw err;
    return n;
  }

  /** Set by decodeRun when the iterator has no samples left. */
  private iteratorDone = false;

  /** Appends the samples from `from` to `to` (inclusive) to the buffers after the first n; returns the new count. */
  private decodeRun(it: SampleIterator, from: number, to: number, keepStale: boolean, limit: number, n: number): number {
    const b = this.buffers;
    this.lastHistogram = null;
    let vt = it.seek(from);
    if (it.readFloats !== undefined && !b.hasST) {
      // Float runs in bulk: no call and no boxed timestamp per sample. What it stops at (a histogram,
      // the end, a sample past `to`) the loop below takes as it would have.
      while (vt === ValueType.Float) {
        b.n = n;
        vt = it.readFloats(to, keepStale, b);
        n = b.n;
        if (vt !== ValueType.Float || it.t() > to) break;
        // Stopped at a sample to keep with the buffers full.
        if (n >= limit) throw new TooManySamplesError();
        b.grow();
        this.q.memory.fixed += n * SAMPLE_BYTES;
        this.q.memory.setSamples(this.currentSamples);
      }
    }
    while (vt !== ValueType.None) {
      const t = it.t();
      if (t > to) break;
      if (vt !== ValueType.Float) {
        n = this.decodeHistogram(it, t, keepStale, limit, n);
        vt = it.next();
        continue;
      }
      const v = it.v();
      if (keepStale || !isStaleNaN(v)) {
        if (n === b.t.length) {
          if (n >= limit) throw new TooManySamplesError();
          b.grow();
          // The buffers doubled: n more samples' room in each.
          this.q.memory.fixed += n * SAMPLE_BYTES;
          this.q.memory.setSamples(this.currentSamples);
        }
        b.t[n] = t;
        b.v[n] = v;
        if (b.hasST) b.st![n] = it.st!();
        n++;
      }
      vt = it.next();
    }
    this.iteratorDone = vt === ValueType.None;
    return n;
  }

  /**
   * Set while a selector whose histogram samples its consumers handle is read
   * (selected() and streamSelected() set it); elsewhere a histogram sample
   * fails the query: it is never taken for a float nor silently dropped.
   */
  private histogramsAllowed = false;
  /** Set with histogramsAllowed for selectors read as count and sum only; lastHistogram is the previous one read. */
  private histogramStats = false;
  private lastHistogram: FloatHistogram | null = null;

  /** decodeRun's histogram case: the sample goes to the histogram buffer, its float slot unused. */
  private decodeHistogram(it: SampleIterator, t: number, keepStale: boolean, limit: number, n: number): number {
    if (!this.histogramsAllowed || it.atFloatHistogram === undefined) throw new HistogramsUnsupportedError();
    let h = it.atFloatHistogram();
    if (!keepStale && isStaleNaN(h.sum)) return n;
    if (this.histogramStats && !isStaleNaN(h.sum)) h = this.statsOf(h);
    const b = this.buffers;
    if (n === b.t.length) {
      if (n >= limit) throw new TooManySamplesError();
      b.grow();
      this.q.memory.fixed += n * SAMPLE_BYTES;
      this.q.memory.setSamples(this.currentSamples);
    }
    if (b.h === null) b.h = [];
    b.t[n] = t;
    b.v[n] = isStaleNaN(h.sum) ? h.sum : 0;
    b.h[n] = h;
    if (b.hasST) b.st![n] = it.st!();
    return n + 1;
  }

  /**
   * Count and sum of a histogram with the counter reset hint Prometheus's
   * HistogramStatsIterator gives it: an unknown hint becomes a reset or not
   * from the previous histogram read in the same pass.
   */
  private statsOf(h: FloatHistogram): FloatHistogram {
    let hint = h.counterResetHint;
    const last = this.lastHistogram;
    if (hint === CounterResetHint.Unknown && last !== null) hint = h.detectReset(last) ? CounterResetHint.CounterReset : CounterResetHint.NotCounterReset;
    this.lastHistogram = h;
    return new FloatHistogram({ schema: h.schema, count: h.count, sum: h.sum, counterResetHint: hint });
  }

  /** Histograms of the last decode by position (null when it had none). */
  get bufH(): ReadonlyArray<FloatHistogram | undefined> | null {
    return this.buffers.h;
  }

  get bufST(): Float64Array | null {
    return this.buffers.hasST ? this.buffers.st : null;
  }

  get bufT(): Float64Array {
    return this.buffers.t;
  }

  get bufV(): Float64Array {
    return this.buffers.v;
  }

  async evalVectorSelector(vs: VectorSelector): Promise<Matrix> {
    if (vs.smoothed === true) return this.evalSmoothedSelector(vs);
    return this.evalSeries(this.streamSelected(vs), vs.offset, false);
  }

  /**
   * The value of each series at every step: its latest sample no older than
   * the lookback delta, unless that sample is a staleness marker. With
   * recordOrigT the value is the sample's timestamp instead (for info()).
   */
  /**
   * The value of each series at every step (`offset` earlier), or with `at` set, the value as of
   * that fixed time, repeated at every step (info() reads its info series so).
   */
  async evalSeries(cursor: SeriesCursor, offset: number, recordOrigT: boolean, at: number | null = null): Promise<Matrix> {
    return (await this.evalSeriesInto(cursor, offset, recordOrigT, at, null)) as Matrix;
  }

  /**
   * The number of series of a plain selector with a value at each step,
   * read and accounted (statistics, limits) as evaluating the selector does,
   * without building its series: what absent() needs to know.
   */
  async countSelected(vs: VectorSelector): Promise<Int32Array> {
    const counts = new Int32Array(this.numSteps);
    await this.evalSeriesInto(this.streamSelected(vs), vs.offset, false, null, null, counts);
    return counts;
  }

  /**
   * evalSeries into InstantColumns when `cols` is given (one step only), into
   * per-step counts of series when `counts` is, else into a matrix.
   */
  private async evalSeriesInto(
    cursor: SeriesCursor,
    offset: number,
    recordOrigT: boolean,
    at: number | null,
    cols: InstantColumns | null,
    counts: Int32Array | null = null,
  ): Promise<Matrix | InstantColumns> {
    const lookback = this.q.lookbackDelta;
    const mint = (at ?? this.start) - offset - lookback + 1;
    const maxt = (at ?? this.end) - offset;
    // With steps longer than the lookback, only the samples near each step are needed.
    const sparse = at === null && this.interval > lookback && this.numSteps > 1;
    // The one step's reference time (end may lie a little after start with a single step).
    const ref0 = (at ?? this.start) - offset;
    const out: Matrix = [];
    // Each series is decoded whole before the next: its iterator can serve the next one.
    let it: SampleIterator | undefined;
    for (let ss = cursor.next(); ss !== null; ss = cursor.next()) {
      it = ss.iterator(it);
      const n = sparse
        ? this.decodeWindows(it, this.start - offset, lookback, this.interval, true)
        : this.numSteps === 1
          ? this.decodeNewest(it, ref0 - lookback + 1, ref0)
          : this.decode(it, mint, maxt, true);
      const T = this.bufT;
      const V = this.bufV;
      const H = this.bufH;
      let s: Series | null = null;
      // What the series' histogram points count beyond one sample each.
      let extra = 0;
      // Points counted (not kept) in counting mode.
      let held = 0;
      let j = -1;
      // -1 <= j < n <= T.length = V.length (the decoded samples); j >= 0 is checked before T[j] and V[j].
      for (let k = 0; k < this.numSteps; k++) {
        const t = this.start + k * this.interval;
        const ref = (at ?? t) - offset;
        while (j + 1 < n && T[j + 1]! <= ref) j++;
        if (j < 0 || T[j]! <= ref - lookback) continue;
        const v = V[j]!;
        if (v !== v && isStaleNaN(v)) continue;
        const h = H === null || recordOrigT ? undefined : H[j];
        if (cols !== null) {
          if (this.currentSamples >= this.q.maxSamples) throw new TooManySamplesError();
          // A histogram counts by its size, as Prometheus counts it.
          const w = h === undefined ? 1 : histogramSampleWeight(h);
          if (h !== undefined) cols.pushHistogram(ss.labels, false, h);
          else cols.push(ss.labels, false, recordOrigT ? T[j]! : v);
          this.currentSamples += w;
          this.stats.incAtStep(k, w);
          this.stats.incReadAtStep(k, w);
          continue;
        }
        if (counts !== null) {
          // As below, with the series' points counted instead of kept (k < numSteps = counts.length).
          if (this.currentSamples + held >= this.q.maxSamples) throw new TooManySamplesError();
          const w = h === undefined ? 1 : histogramSampleWeight(h);
          extra += w - 1;
          held++;
          counts[k]!++;
          this.stats.incAtStep(k, w);
          this.stats.incReadAtStep(k, w);
          continue;
        }
        if (s === null) s = new Series(ss.labels, false, Math.min(this.numSteps, n + 16, MAX_PREALLOCATED_POINTS));
        // Prometheus checks the limit with every point it adds.
        if (this.currentSamples + s.n >= this.q.maxSamples) throw new TooManySamplesError();
        let w = 1;
        if (h !== undefined) {
          s.pushHistogram(t, h);
          w = histogramSampleWeight(h);
          extra += w - 1;
        } else {
          s.push(t, recordOrigT ? T[j]! : v);
        }
        this.stats.incAtStep(k, w);
        this.stats.incReadAtStep(k, w);
      }
      if (s !== null) {
        this.currentSamples += s.n + extra;
        out.push(s);
      } else if (held > 0) {
        this.currentSamples += held + extra;
      }
      // Per series: awaited only when it is time to yield, as an await costs a turn of the microtask queue.
      const pending = this.tick(this.numSteps);
      if (pending !== null) await pending;
    }
    this.stats.updatePeak(this.currentSamples);
    if (cols !== null) {
      cols.trim();
      return cols;
    }
    return out;
  }

  /**
   * Evaluates an operand that can be taken column-wise: in a one-step
   * evaluation a selector or a function over a range vector gives
   * InstantColumns (no object or label set per sample); anything else a matrix.
   */
  async evalColumns(e: Expr): Promise<EvalValue | InstantColumns> {
    let x = e;
    while (x.type === 'ParenExpr') x = x.expr;
    if (this.numSteps !== 1 || this.end < this.start) return this.eval(e);
    if (x.type === 'VectorSelector' && x.smoothed !== true) {
      this.q.checkpoint.check();
      return this.evalSeriesInto(this.streamSelected(x), x.offset, false, null, new InstantColumns(this.start));
    }
    if (x.type === 'Call' && !COLUMNLESS_FUNCTIONS.has(x.func.name)) {
      const matrixArg = x.args.findIndex((a) => a.type === 'MatrixSelector' || a.type === 'SubqueryExpr');
      if (matrixArg >= 0) {
        this.q.checkpoint.check();
        return evalRangeFunction(this, x, matrixArg, true);
      }
    }
    return this.eval(e);
  }

  /** A `smoothed` instant selector: values interpolated between the samples around each step. */
  private async evalSmoothedSelector(vs: VectorSelector): Promise<Matrix> {
    const lookback = this.q.lookbackDelta;
    const offset = vs.offset;
    const out: Matrix = [];
    let it: SampleIterator | undefined;
    for (const ss of this.selected(vs)) {
      it = ss.iterator(it);
      const n = this.decode(it, this.start - offset - lookback + 1, this.end - offset + lookback, false);
      const T = this.bufT;
      const V = this.bufV;
      const H = this.bufH;
      let s: Series | null = null;
      let lo = 0;
      let hi = 0;
      // lo <= hi < n <= T.length where T is read.
      for (let k = 0; k < this.numSteps; k++) {
        const t = this.stepTime(k);
        const dataT = t - offset;
        while (hi < n && T[hi]! <= dataT + lookback) hi++;
        while (lo < hi && T[lo]! <= dataT - lookback) lo++;
        const h = H === null ? undefined : smoothedHistogram(this, T, H, lo, hi, dataT, ss.labels.get('__name__'), vs.posRange);
        if (h === null) continue;
        const v = h === undefined ? smoothedValue(T, V, lo, hi, dataT) : 0;
        if (v === null) continue;
        if (s === null) s = new Series(ss.labels, false, Math.min(this.numSteps, MAX_PREALLOCATED_POINTS));
        if (this.currentSamples + s.n >= this.q.maxSamples) throw new TooManySamplesError();
        if (h !== undefined) s.pushHistogram(t, h);
        else s.push(t, v);
      }
      if (s !== null) {
        this.currentSamples += s.n;
        this.checkSamples();
        out.push(s);
      }
      await this.tick(this.numSteps);
    }
    this.stats.updatePeak(this.currentSamples);
    return out;
  }

  /** A range vector at the evaluation time (only valid in instant evaluations). */
  async evalMatrixSelector(ms: MatrixSelector): Promise<Matrix> {
    const vs = ms.vectorSelector;
    const maxt = this.start - vs.offset;
    const mint = maxt - ms.range;
    const anchored = vs.anchored === true;
    const smoothed = vs.smoothed === true;
    const lookback = this.q.lookbackDelta;
    const loadFrom = anchored || smoothed ? mint - lookback : mint;
    const loadTo = smoothed ? maxt + lookback : maxt;
    const out: Matrix = [];
    let it: SampleIterator | undefined;
    for (const ss of this.selected(vs)) {
      // A plain range holds every sample it decodes, so the limit left applies as they are read.
      const limit = anchored || smoothed ? this.q.maxSamples : this.q.maxSamples - this.currentSamples;
      it = ss.iterator(it);
      const n = this.decode(it, loadFrom + 1, loadTo, false, limit);
      let ts: Float64Array = this.bufT.slice(0, n);
      let vals: Float64Array = this.bufV.slice(0, n);
      let count = n;
      if (anchored || smoothed) {
        const ext = extendPoints(ts, vals, n, mint, maxt, smoothed);
        ts = ext.ts;
        vals = ext.vs;
        count = ext.n;
      }
      this.currentSamples += count;
      this.checkSamples();
      this.stats.incAtTimestamp(this.start, count);
      this.stats.incReadAtTimestamp(this.start, count);
      if (count > 0) {
        const s = Series.fromArrays(ss.labels, ts, vals, count);
        const H = this.bufH;
        if (H !== null) {
          if (anchored || smoothed) throw new HistogramsUnsupportedError();
          s.hs = H.slice(0, n);
        }
        out.push(s);
      }
      const pending = this.tick(n + 1);
      if (pending !== null) await pending;
    }
    this.stats.updatePeak(this.currentSamples);
    return out;
  }

  // ---------------------------------------------------------------------------
  // Subqueries and step-invariant parts

  /** Evaluates the inside of a subquery on its own step grid (Prometheus's runSubquery). */
  async runSubquery(e: SubqueryExpr): Promise<{ result: Matrix; stats: SampleStats }> {
    const offset = e.offset;
    const range = e.range;
    // The parent's last real step, so a subquery never runs past it.
    const parentEnd = this.start + Math.floor((this.end - this.start) / this.interval) * this.interval;
    const subqEnd = parentEnd - offset;
    const step = e.step !== 0 ? e.step : this.q.noStepSubqueryIntervalMs;
    const lowest = this.start - offset - range;
    // Go's integer division truncates towards zero.
    let subqStart = step * Math.trunc(lowest / step);
    if (subqStart <= lowest) subqStart += step;
    // Before the per-step statistics of the subquery are allocated.
    checkStepGrid(stepCount(subqStart, subqEnd, step), this.q.maxSamples);
    const childStats = this.stats.subqueryChild(subqStart, subqEnd, step, this.numSteps);
    const ev = new Evaluator(this.q, subqStart, subqEnd, step, childStats, this.currentSamples, this);
    // Offsets for @ inside are relative to the time the child evaluator starts
    // at. Prometheus skips this when subqStart equals the parent's start, but
    // the offsets set for the parent were computed against the subquery's
    // shifted time (its @ and offset), so the skip made results depend on the
    // query time whenever the two happened to coincide.
    setOffsetForAtModifier(subqStart, e.expr);
    const result = await ev.evalMatrix(e.expr);
    this.currentSamples = ev.currentSamples;
    return { result, stats: childStats };
  }

  private async evalStepInvariant(e: StepInvariantExpr): Promise<EvalValue> {
    const childStats = this.stats.child(this.start, this.interval);
    const ev = new Evaluator(this.q, this.start, this.start, this.interval, childStats, this.currentSamples, this);
    const res = await ev.eval(e.expr);
    this.currentSamples = ev.currentSamples;
    this.stats.updatePeakFrom(childStats);
    for (let k = 0; k < this.numSteps; k++) this.stats.incAtStep(k, childStats.totalSamples);
    // It ran once, so what it read counts once.
    this.stats.incReadAtStep(0, childStats.samplesRead);
    if (isString(res) || e.expr.type === 'MatrixSelector' || e.expr.type === 'SubqueryExpr') return res;
    if (this.numSteps <= 1) return res;
    for (const s of res) {
      if (s.n !== 1) throw new EvalError('BUG: unexpected number of samples in step-invariant result');
      this.checkSamples(this.numSteps - 1);
      // s.n === 1: its one point is at off.
      const v = s.vs[s.off]!;
      const h = s.histogramAt(0);
      const ts = new Float64Array(this.numSteps);
      const vs = new Float64Array(this.numSteps).fill(v);
      for (let k = 0; k < this.numSteps; k++) ts[k] = this.stepTime(k);
      s.setPoints(ts, vs, this.numSteps);
      if (h !== undefined) s.hs = new Array<FloatHistogram>(this.numSteps).fill(h);
      this.currentSamples += this.numSteps - 1;
      await this.tick(this.numSteps);
    }
    this.stats.updatePeak(this.currentSamples);
    return res;
  }

  // ---------------------------------------------------------------------------
  // Unary minus

  private async evalUnary(e: UnaryExpr): Promise<EvalValue> {
    const m = await this.evalMatrix(e.expr);
    if (e.op !== '-') return m;
    const unique = this.q.delayedNameRemoval || sameMetadata(metricsOf(m));
    for (const s of m) {
      if (!this.q.delayedNameRemoval) s.metric = dropMetadata(s.metric);
      s.dropName = true;
      const vs = s.vs;
      // i in [off, off + n): a point of s.
      for (let i = s.off; i < s.off + s.n; i++) vs[i] = -vs[i]!;
      const hs = s.hs;
      if (hs !== null) for (let i = 0; i < s.n; i++) hs[i] = hs[i]?.mul(-1);
    }
    return unique ? m : mergeSameLabelset(m);
  }
}
