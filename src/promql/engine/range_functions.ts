// Functions over range vectors (rate, *_over_time, deriv, ...).
//
// Each input series is decoded once into typed arrays; the window of every
// step is found with two pointers that only move forward, and a kernel
// computes the value from the window [lo, hi) without copying it.
import { CounterResetHint, type FloatHistogram } from '../../model/histogram.js';
import type { Labels } from '../../model/labels.js';
import type { SampleIterator, Series as StorageSeries } from '../../storage/interface.js';
import type { Call, Expr, PosRange, SubqueryExpr } from '../parser/ast.js';
import { absentLabels } from './absent.js';
import { annotations } from './annotations.js';
import { containsSameLabelset, DUPLICATE_LABELSET } from './collector.js';
import type { EvalContext } from './context.js';
import { EvalError, TooManySamplesError } from './errors.js';
import { ANCHORED_SAFE, SMOOTHED_SAFE, anchoredFirst, extendedRate } from './extended.js';
import { hasHistogram, histogramKernelFor, type Histograms } from './histogram_range.js';
import * as k from './kernels.js';
import { histogramSampleWeight } from './native_histograms.js';
import { Scratch } from './quantile.js';
import { extrapolatedRateST, instantRateST, resetsST } from './start_timestamps.js';
import { InstantColumns, MAX_PREALLOCATED_POINTS, Series, dropMetadata, sameMetadataAs, type Matrix } from './value.js';

/**
 * Computes one output value from the window [lo, hi) of ts/vs at step `step`; null for none. It takes the
 * step, not its time: a time is no small integer, so passing it to a call that is not inlined (the kernel
 * differs by function) would box it, one heap object per step and series.
 */
type WindowFn = (ts: Float64Array, vs: Float64Array, lo: number, hi: number, step: number) => number | null;

interface RangeSource {
  /** Moves to the next series; false after the last. */
  next(): boolean;
  /** Makes next() start again at the first series. */
  rewind(): Promise<void>;
  metric(): Labels;
  dropName(): boolean;
  /** Loads the current series; its samples are then in ts()/vs() [0, n). */
  load(): number;
  ts(): Float64Array;
  vs(): Float64Array;
  /** The current series' histograms by sample position, or null when it has none. */
  hs(): Histograms | null;
  /** The current series' start timestamps by sample position, or null when it carries none. */
  sts(): Float64Array | null;
  offset: number;
  range: number;
  /** The window stays at the first step's (selector or subquery with @). */
  fixed: boolean;
  anchored: boolean;
  smoothed: boolean;
  /** Position Prometheus reports annotations at. */
  pos: PosRange;
}

/**
 * A window function that leaves its value in windowValue[0] and says whether
 * there is one: a number returned through the call of a function picked at
 * run time is boxed, one heap object per window (about 100 MB of garbage for
 * a range query over 7,000 series, a scavenge every few milliseconds).
 */
type WindowInto = (ts: Float64Array, vs: Float64Array, lo: number, hi: number, step: number) => boolean;

/** Where a WindowInto leaves its value. */
const windowValue = new Float64Array(1);

/** The WindowInto of rate, increase, delta, irate and idelta (each its own closure, so that its kernel is inlined into it), else null. */
function kernelIntoFor(ev: EvalContext, e: Call, src: RangeSource, resets: k.ResetTracker): WindowInto | null {
  if (src.anchored || src.smoothed) return null;
  const { offset, range } = src;
  const start = ev.start;
  const interval = ev.interval;
  switch (e.func.name) {
    case 'rate':
    case 'increase': {
      const isRate = e.func.name === 'rate';
      return (ts, vs, lo, hi, step) => {
        if (hi - lo < 2) return false;
        const t = start + step * interval;
        windowValue[0] = k.extrapolatedRateOf(ts, vs, lo, hi, t - offset - range, t - offset, true, isRate, resets.noneIn(vs, lo, hi));
        return true;
      };
    }
    case 'delta':
      return (ts, vs, lo, hi, step) => {
        if (hi - lo < 2) return false;
        const t = start + step * interval;
        windowValue[0] = k.extrapolatedRateOf(ts, vs, lo, hi, t - offset - range, t - offset, false, false, false);
        return true;
      };
    case 'irate':
      return (ts, vs, lo, hi) => {
        if (!k.hasInstantDelta(ts, lo, hi)) return false;
        windowValue[0] = k.instantDeltaOf(ts, vs, hi, true);
        return true;
      };
    case 'idelta':
      return (ts, vs, lo, hi) => {
        if (!k.hasInstantDelta(ts, lo, hi)) return false;
        windowValue[0] = k.instantDeltaOf(ts, vs, hi, false);
        return true;
      };
  }
  return null;
}

function kernelFor(
  ev: EvalContext,
  e: Call,
  src: RangeSource,
  params: ReadonlyArray<Float64Array | null>,
  /** For windows that move forward over each series' samples (null: any windows, e.g. the floats of a mixed one). */
  resets: k.ResetTracker | null,
): WindowFn {
  const { offset, range } = src;
  const start = ev.start;
  const interval = ev.interval;
  // The parser checked the arguments against the function's signature, and params holds numSteps values for each
  // scalar argument (null only for the range and string ones): params[i]! and their [step]! below are in range.
  switch (e.func.name) {
    case 'rate':
    case 'increase':
    case 'delta': {
      const isCounter = e.func.name !== 'delta';
      const isRate = e.func.name === 'rate';
      if (src.anchored || src.smoothed) {
        const smoothed = src.smoothed;
        return (ts, vs, lo, hi, step) => {
          const t = start + step * interval;
          return extendedRate(ts, vs, lo, hi, t - offset - range, t - offset, isCounter, isRate, smoothed);
        };
      }
      if (!isCounter || resets === null) {
        return (ts, vs, lo, hi, step) => {
          const t = start + step * interval;
          return k.extrapolatedRate(ts, vs, lo, hi, t - offset - range, t - offset, isCounter, isRate);
        };
      }
      return (ts, vs, lo, hi, step) => {
        const t = start + step * interval;
        return k.extrapolatedRate(ts, vs, lo, hi, t - offset - range, t - offset, true, isRate, resets.noneIn(vs, lo, hi));
      };
    }
    case 'irate':
      return (ts, vs, lo, hi) => k.instantDelta(ts, vs, lo, hi, true);
    case 'idelta':
      return (ts, vs, lo, hi) => k.instantDelta(ts, vs, lo, hi, false);
    case 'avg_over_time':
      return k.avgOverTime;
    case 'sum_over_time':
      return k.sumOverTime;
    case 'min_over_time':
      return k.minOverTime;
    case 'max_over_time':
      return k.maxOverTime;
    case 'count_over_time':
      return k.countOverTime;
    case 'stddev_over_time':
      return k.stddevOverTime;
    case 'stdvar_over_time':
      return k.stdvarOverTime;
    case 'mad_over_time': {
      const scratch = new Scratch();
      return (ts, vs, lo, hi) => k.madOverTime(ts, vs, lo, hi, scratch);
    }
    case 'last_over_time':
      return k.lastOverTime;
    case 'first_over_time':
      return k.firstOverTime;
    case 'ts_of_min_over_time':
      return k.tsOfMinOverTime;
    case 'ts_of_max_over_time':
      return k.tsOfMaxOverTime;
    case 'ts_of_first_over_time':
      return k.tsOfFirstOverTime;
    case 'ts_of_last_over_time':
      return k.tsOfLastOverTime;
    case 'present_over_time':
    case 'absent_over_time':
      return () => 1;
    case 'changes':
    case 'resets': {
      const f = e.func.name === 'changes' ? k.changes : k.resets;
      if (!src.anchored) return f;
      return (ts, vs, lo, hi, step) => {
        const first = anchoredFirst(ts, lo, hi, start + step * interval - offset - range);
        return first < 0 ? null : f(ts, vs, first, hi);
      };
    }
    case 'deriv':
      return k.deriv;
    case 'quantile_over_time': {
      const qs = params[0]!;
      const pos = e.args[0]!.posRange;
      const scratch = new Scratch();
      return (ts, vs, lo, hi, step) => {
        const q = qs[step]!;
        if (q !== q || q < 0 || q > 1) ev.q.annotations.add(annotations.invalidQuantile(q, pos));
        return k.quantileOverTime(q, ts, vs, lo, hi, scratch);
      };
    }
    case 'predict_linear': {
      const ds = params[1]!;
      const fit = new k.LinearFit();
      return (ts, vs, lo, hi, step) => k.predictLinear(ts, vs, lo, hi, start + step * interval, ds[step]!, fit);
    }
    case 'double_exponential_smoothing': {
      const sfs = params[1]!;
      const tfs = params[2]!;
      return (_ts, vs, lo, hi, step) => {
        const sf = sfs[step]!;
        const tf = tfs[step]!;
        const err = k.smoothingFactorError(sf, tf);
        if (err !== null) throw new EvalError(err);
        return k.doubleExponentialSmoothing(vs, lo, hi, sf, tf);
      };
    }
  }
  throw new EvalError(`function "${e.func.name}" is not supported`);
}

/**
 * The series of a matrix selector, read as the cursor gives them. rewind()
 * selects them again instead of keeping those read: a pass that holds each
 * series only while reading it (a fused aggregation) would otherwise keep
 * thousands alive for the whole query, which every scavenge then copies.
 */
function storageSource(ev: EvalContext, arg: Expr): RangeSource {
  if (arg.type !== 'MatrixSelector') throw new EvalError('BUG: expected a matrix selector');
  const vs = arg.vectorSelector;
  let cursor = ev.streamSelected(vs);
  let cur: StorageSeries | null = null;
  const offset = vs.offset;
  const range = arg.range;
  const fixed = vs.timestamp !== null;
  const anchored = vs.anchored === true;
  const smoothed = vs.smoothed === true;
  const lookback = ev.q.lookbackDelta;
  let mint = ev.start - offset - range + 1;
  let maxt = (fixed ? ev.start : ev.end) - offset;
  if (anchored || smoothed) mint -= lookback;
  if (smoothed) maxt += lookback;
  // When the windows of successive steps do not overlap, skip the samples between them.
  const width = maxt - (fixed ? ev.start : ev.end) + offset + range + (anchored || smoothed ? lookback : 0);
  const sparse = !fixed && ev.numSteps > 1 && ev.interval > width;
  const firstEnd = ev.start - offset + (smoothed ? lookback : 0);
  // With one window, everything decoded is held at once and counts against the limit as it is read.
  const oneWindow = (fixed || ev.numSteps === 1) && !anchored && !smoothed;
  // load() decodes a series whole: its iterator can serve the next series.
  let it: SampleIterator | undefined;
  return {
    next: () => (cur = cursor.next()) !== null,
    rewind: async () => {
      cursor = await ev.restreamSelected(vs);
      cur = null;
    },
    metric: () => cur!.labels,
    dropName: () => false,
    load: () => {
      it = cur!.iterator(it);
      return sparse ? ev.decodeWindows(it, firstEnd, width, ev.interval, false) : ev.decode(it, mint, maxt, false, oneWindow ? ev.q.maxSamples - ev.currentSamples : ev.q.maxSamples);
    },
    ts: () => ev.bufT,
    vs: () => ev.bufV,
    hs: () => ev.bufH,
    sts: () => ev.bufST,
    offset,
    range,
    fixed,
    anchored,
    smoothed,
    pos: arg.posRange,
  };
}

/** Computes one output value from the window [lo, hi) with the samples' start timestamps. */
type WindowFnST = (ts: Float64Array, vs: Float64Array, sts: Float64Array, lo: number, hi: number, t: number, metric: Labels) => number | null;

/** The start-timestamp kernel of the functions that read them (use-start-timestamps), else null. */
function stKernelFor(ev: EvalContext, e: Call, src: RangeSource): WindowFnST | null {
  if (!ev.q.useStartTimestamps || src.anchored || src.smoothed) return null;
  const { offset, range } = src;
  switch (e.func.name) {
    case 'rate':
    case 'increase': {
      const isRate = e.func.name === 'rate';
      return (ts, vs, sts, lo, hi, t, metric) =>
        extrapolatedRateST(ts, vs, sts, lo, hi, t - offset - range, t - offset, true, isRate, () =>
          ev.q.annotations.add(annotations.startTimeOverlap(metric.get('__name__'), src.pos)),
        );
    }
    case 'irate':
      return (ts, vs, sts, lo, hi) => instantRateST(ts, vs, sts, lo, hi);
    case 'resets':
      return (ts, vs, sts, lo, hi) => resetsST(ts, vs, sts, lo, hi);
  }
  return null;
}

/** Samples of [lo, hi) with each histogram counted by its size. */
function weightedCount(hs: Histograms, lo: number, hi: number): number {
  let n = 0;
  for (let i = lo; i < hi; i++) {
    const h = hs[i];
    n += h === undefined ? 1 : histogramSampleWeight(h);
  }
  return n;
}

/**
 * A subquery's histograms lose their counter reset hints (as in Prometheus):
 * it may skip the sample after a reset, or repeat one, so the hints would
 * mislead; resets are then detected from the values.
 */
function unknownResets(h: FloatHistogram | undefined): FloatHistogram | undefined {
  if (h === undefined || (h.counterResetHint !== CounterResetHint.CounterReset && h.counterResetHint !== CounterResetHint.NotCounterReset)) return h;
  return h.with({ counterResetHint: CounterResetHint.Unknown });
}

function subquerySource(ev: EvalContext, subq: SubqueryExpr, m: Matrix): RangeSource {
  let offset = subq.offset;
  if (subq.timestamp !== null) offset = subq.originalOffset + (ev.start - subq.timestamp);
  let i = -1;
  let cur: Series | null = null;
  let curHs: Histograms | null = null;
  return {
    next: () => {
      cur = m[++i] ?? null;
      curHs = cur?.hs?.map(unknownResets) ?? null;
      return cur !== null;
    },
    rewind: () => {
      i = -1;
      return Promise.resolve();
    },
    metric: () => cur!.metric,
    dropName: () => cur!.dropName,
    load: () => cur!.n,
    ts: () => cur!.tsView(),
    vs: () => cur!.vsView(),
    hs: () => curHs,
    // A subquery's points have no start timestamps (as in Prometheus).
    sts: () => null,
    offset,
    range: subq.range,
    fixed: subq.timestamp !== null,
    anchored: false,
    smoothed: false,
    // Prometheus reports at the synthetic selector that replaces the subquery, which has no position.
    pos: { start: 0, end: 0 },
  };
}

const COUNTER_SUFFIXES = ['_total', '_sum', '_count', '_bucket'];

/**
 * Takes the float points of one output series of a range function: its input
 * labels (the name not yet removed), whether the name is to be removed, and
 * steps[0..n) with values[0..n), steps ascending. The arrays are reused for
 * the next series.
 */
export type SeriesSink = (metric: Labels, dropName: boolean, steps: Int32Array, values: Float64Array, n: number) => void;

/**
 * Evaluates a function over a range vector. With `columns` (instant
 * evaluations only) the result is an InstantColumns, whose samples keep
 * their storage label sets and only flag the removal of the metric name.
 */
export async function evalRangeFunction(ev: EvalContext, e: Call, matrixArg: number): Promise<Matrix>;
export async function evalRangeFunction(ev: EvalContext, e: Call, matrixArg: number, columns: boolean): Promise<Matrix | InstantColumns>;
export async function evalRangeFunction(ev: EvalContext, e: Call, matrixArg: number, columns = false): Promise<Matrix | InstantColumns> {
  return (await rangeFunction(ev, e, matrixArg, columns, null))!;
}

/**
 * Evaluates a function over a range vector handing each output series to
 * `sink` instead of keeping it (not for absent_over_time), with statistics,
 * limits and errors as evalRangeFunction's. Gives null when every series went
 * to the sink. A native histogram met in a window, or inputs of several names
 * (without delayed name removal), make it start again the unkept way and give
 * the matrix: the series the sink was given are then void.
 */
export async function evalRangeFunctionInto(ev: EvalContext, e: Call, matrixArg: number, sink: SeriesSink): Promise<Matrix | null> {
  if (e.func.name === 'absent_over_time') throw new EvalError('BUG: absent_over_time has no output series to hand on');
  return (await rangeFunction(ev, e, matrixArg, false, sink)) as Matrix | null;
}

async function rangeFunction(ev: EvalContext, e: Call, matrixArg: number, columns: boolean, into: SeriesSink | null): Promise<Matrix | InstantColumns | null> {
  const name = e.func.name;
  const arg = e.args[matrixArg];
  if (arg === undefined) throw new EvalError(`BUG: ${name} has no argument ${matrixArg}`);
  let src: RangeSource;
  let subquerySamples = 0;
  // What a subquery read was counted when it ran; its points are not read again.
  let fromSubquery = false;
  if (arg.type === 'SubqueryExpr') {
    const { result: m, stats: child } = await ev.runSubquery(arg);
    ev.stats.updatePeakFrom(child);
    ev.stats.mergeReadFrom(child, ev.start, ev.interval, ev.numSteps, arg.originalOffset, arg.range);
    fromSubquery = true;
    for (const s of m) subquerySamples += s.n;
    src = subquerySource(ev, arg, m);
  } else {
    src = storageSource(ev, arg);
  }

  const params: Array<Float64Array | null> = [];
  for (const [i, a] of e.args.entries()) {
    params.push(i === matrixArg || a.type === 'StringLiteral' ? null : await ev.evalScalar(a));
  }

  if (src.anchored && !ANCHORED_SAFE.includes(name)) {
    throw new EvalError(`anchored modifier can only be used with: ${ANCHORED_SAFE.join(', ')} - not with ${name}`);
  }
  if (src.smoothed && !SMOOTHED_SAFE.includes(name)) {
    throw new EvalError(`smoothed modifier can only be used with: ${SMOOTHED_SAFE.join(', ')} - not with ${name}`);
  }

  // rate() and increase() carry what they found of counter resets from one window of a series to the next.
  const resets = new k.ResetTracker();
  const fn = kernelFor(ev, e, src, params, resets);
  const fnInto = kernelIntoFor(ev, e, src, resets);
  const stFn = stKernelFor(ev, e, src);
  // Made when a window with histograms is first met.
  let histFn: ReturnType<typeof histogramKernelFor> | null = null;
  const dropNameByFunc = name !== 'last_over_time' && name !== 'first_over_time';
  const checkCounter = name === 'rate' || name === 'increase';
  const isAbsent = name === 'absent_over_time';
  const covered = isAbsent ? new Uint8Array(ev.numSteps) : null;
  const lookback = ev.q.lookbackDelta;
  const { offset, range, fixed } = src;
  // Anchored and smoothed windows reach one lookback further back (and smoothed ones forward).
  const leftExtra = src.anchored || src.smoothed ? lookback : 0;
  const rightExtra = src.smoothed ? lookback : 0;
  const delayed = ev.q.delayedNameRemoval;
  const numSteps = ev.numSteps;
  const cols = columns && numSteps === 1 ? new InstantColumns(ev.start) : null;
  // The sink's points of the current series (null once it fell back).
  let sink = into;
  let sinkSteps = sink !== null ? new Int32Array(numSteps) : null;
  let sinkValues = sink !== null ? new Float64Array(numSteps) : null;
  // What a pass for the sink started from, to go back to when it falls back.
  const stats0 = sink !== null ? ev.stats.snapshot() : null;
  const samples0 = ev.currentSamples;
  const out: Matrix = [];
  let peak = 0;
  // Series that all carry the same name (and type and unit) cannot collide once it is removed.
  let firstMetric: Labels | null = null;
  let inputsShareName = true;

  // Set when the sink cannot take this input: the pass stops and starts again without it.
  let fallBack = false;

  for (;;) {
    peak = ev.currentSamples;
    while (src.next()) {
      const n = src.load();
      resets.begin();
      const T = src.ts();
      const V = src.vs();
      const H = src.hs();
      const ST = stFn !== null ? src.sts() : null;
      const inMetric = src.metric();
      if (firstMetric === null) firstMetric = inMetric;
      else if (inputsShareName && !sameMetadataAs(firstMetric, inMetric)) {
        inputsShareName = false;
        // Series of several names may collide once the name goes: the check needs them all, which only the
        // unfused pass keeps. (Kept here, the label sets of every series would live as long as the query.)
        if (sink !== null && !delayed) {
          fallBack = true;
          break;
        }
      }
      const dropName = dropNameByFunc || src.dropName();
      let s: Series | null = null;
      let produced = 0;
      let lo = 0;
      let hi = 0;
      // Prometheus keeps the last window buffered until the next series starts.
      let lastCount = 0;
      // absent_over_time: Prometheus first builds (and counts) a 1 for every step with samples.
      let coveredHere = 0;
      // 0 <= lo <= hi <= n <= T.length: T is read at indices below n, and the read count at [lo, hi).
      // produced <= step < numSteps = sinkSteps.length = sinkValues.length.
      for (let step = 0; step < numSteps; step++) {
        const t = ev.start + step * ev.interval;
        if (step === 0 || !fixed) {
          const maxt = t - offset + rightExtra;
          const mint = t - offset - range - leftExtra;
          while (hi < n && T[hi]! <= maxt) hi++;
          while (lo < hi && T[lo]! <= mint) lo++;
        }
        // A histogram sample counts by its size, as Prometheus counts it.
        const count = H === null ? hi - lo : weightedCount(H, lo, hi);
        lastCount = count;
        if (count === 0) continue;
        ev.stats.incAtStep(step, count);
        if (!fromSubquery && (step === 0 || !fixed)) {
          // The first window is read whole; later ones add only samples newer than one step ago.
          let read = count;
          if (step > 0) {
            const cutoff = t - offset + rightExtra - ev.interval;
            read = 0;
            for (let i = hi - 1; i >= lo && T[i]! > cutoff; i--) read += H === null ? 1 : weightedCount(H, i, i + 1);
          }
          ev.stats.incReadAtStep(step, read);
        }
        const held = ev.currentSamples + count;
        if (held > ev.q.maxSamples) throw new TooManySamplesError();
        if (held > peak) peak = held;
        if (covered !== null) {
          covered[step] = 1;
          coveredHere++;
          continue;
        }
        if (fnInto !== null && ST === null && (H === null || !hasHistogram(H, lo, hi))) {
          // Floats through a kernel that boxes nothing; emitted here so that the value stays unboxed.
          if (!fnInto(T, V, lo, hi, step)) continue;
          const f = windowValue[0]!;
          if (sinkSteps !== null) {
            sinkSteps[produced] = step;
            sinkValues![produced] = f;
            produced++;
          } else if (cols !== null) {
            cols.push(inMetric, dropName, f);
            produced = 1;
          } else {
            if (s === null) s = new Series(delayed || !dropName ? inMetric : dropMetadata(inMetric), dropName, Math.min(numSteps, MAX_PREALLOCATED_POINTS));
            s.push(t, f);
          }
          continue;
        }
        let v: number | FloatHistogram | null;
        if (H !== null && hasHistogram(H, lo, hi)) {
          if (sink !== null) {
            // Histogram results take the consumer's histogram path, which needs the whole matrix.
            fallBack = true;
            break;
          }
          histFn ??= histogramKernelFor(ev, e, offset, range, src.pos, kernelFor(ev, e, src, params, null), src.anchored || src.smoothed);
          v = histFn(T, V, H, lo, hi, t, step, inMetric, ST);
        } else if (ST !== null) {
          v = stFn!(T, V, ST, lo, hi, t, inMetric);
        } else {
          v = fn(T, V, lo, hi, step);
        }
        if (v === null) continue;
        if (sinkSteps !== null) {
          if (typeof v !== 'number') throw new EvalError('BUG: a histogram for a range function sink');
          sinkSteps[produced] = step;
          sinkValues![produced] = v;
          produced++;
          continue;
        }
        if (cols !== null) {
          if (typeof v === 'number') cols.push(inMetric, dropName, v);
          else cols.pushHistogram(inMetric, dropName, v);
          produced = 1;
          continue;
        }
        if (s === null) s = new Series(delayed || !dropName ? inMetric : dropMetadata(inMetric), dropName, Math.min(numSteps, MAX_PREALLOCATED_POINTS));
        if (typeof v === 'number') s.push(t, v);
        else s.pushHistogram(t, v);
      }
      if (fallBack) break;
      if (s !== null) {
        s.trim();
        out.push(s);
        produced = s.n;
      } else if (produced > 0 && sink !== null) {
        sink(inMetric, dropName, sinkSteps!, sinkValues!, produced);
      }
      if (produced > 0) {
        ev.checkSamples(produced);
        ev.currentSamples += produced;
        if (ev.currentSamples + lastCount > peak) peak = ev.currentSamples + lastCount;
        if (checkCounter) {
          const metricName = inMetric.get('__name__');
          if (metricName !== '') {
            if (ev.q.typeAndUnitLabels) {
              const type = inMetric.get('__type__');
              if (type !== 'counter' && type !== 'histogram') {
                ev.q.annotations.add(annotations.possibleNonCounterLabel(metricName, type, src.pos));
              }
            } else if (!COUNTER_SUFFIXES.some((x) => metricName.endsWith(x))) {
              ev.q.annotations.add(annotations.possibleNonCounter(metricName, src.pos));
            }
          }
        }
      } else if (coveredHere > 0) {
        ev.checkSamples(coveredHere);
        ev.currentSamples += coveredHere;
        if (ev.currentSamples + lastCount > peak) peak = ev.currentSamples + lastCount;
      }
      const pending = ev.tick(numSteps + n);
      if (pending !== null) await pending;
    }
    if (!fallBack) break;
    // Again without the sink, from the first series and the statistics as they were.
    fallBack = false;
    ev.stats.restore(stats0!);
    ev.currentSamples = samples0;
    await src.rewind();
    sink = null;
    sinkSteps = null;
    sinkValues = null;
    firstMetric = null;
    inputsShareName = true;
  }
  ev.stats.updatePeak(Math.max(peak, ev.currentSamples));
  ev.currentSamples -= subquerySamples;

  if (covered !== null) {
    let missing = 0;
    for (let step = 0; step < numSteps; step++) if (covered[step] === 0) missing++;
    if (missing === 0) return [];
    const s = new Series(absentLabels(arg), true, missing);
    for (let step = 0; step < numSteps; step++) if (covered[step] === 0) s.push(ev.stepTime(step), 1);
    return [s];
  }
  if (cols !== null) {
    cols.trim();
    if (!delayed && !inputsShareName && containsSameLabelset(cols.toMatrix(false))) throw new EvalError(DUPLICATE_LABELSET);
    return cols;
  }
  // The sink was given series of one name only (or names are removed later): none can collide.
  if (sink !== null) return null;
  if (!delayed && !inputsShareName && containsSameLabelset(out)) throw new EvalError(DUPLICATE_LABELSET);
  return out;
}


