// Aggregation operators. Input series are mapped to groups once; each step
// then folds the samples present into per-group accumulators held in typed
// arrays, in input order, exactly as Prometheus's aggregation() does. In a
// range query, sum & co. of a range function fold its series as it produces
// them, without holding its matrix (aggregateFused).
import { HistogramError, type FloatHistogram } from '../../model/histogram.js';
import { Labels, isValidLabelName } from '../../model/labels.js';
import type { AggregateExpr, Call, PosRange } from '../parser/ast.js';
import { annotations } from './annotations.js';
import type { EvalContext } from './context.js';
import { EvalError } from './errors.js';
import { formatF, formatG } from '../../gofmt/float.js';
import { goQuote } from '../../gofmt/quote.js';
import { goMax, goMin } from './go_math.js';
import { kahanCompensation } from './kahan.js';
import { HistogramSum, histogramMean } from './native_histograms.js';
import { quantile } from './quantile.js';
import { evalRangeFunctionInto, type SeriesSink } from './range_functions.js';
import { GROWING_CAPACITY, InstantColumns, Series, dropMetadata, effectiveMetric, isString, type EvalValue, type Matrix } from './value.js';
import { SignatureIndex } from './signature_index.js';
import { ratioOffset } from './xxhash.js';

const SEP = '\xff';
const NV = '\xfe';

/** Key identifying the group of `ls` (Prometheus hashes the same labels). */
export function groupingKey(ls: Labels, grouping: readonly string[], without: boolean): string {
  let key = '';
  if (without) {
    const pairs = ls.toPairs();
    // Name/value pairs: i + 1 < pairs.length.
    for (let i = 0; i < pairs.length; i += 2) {
      const n = pairs[i]!;
      if (n === '__name__' || grouping.includes(n)) continue;
      key += n + NV + pairs[i + 1]! + SEP;
    }
    return key;
  }
  for (const n of grouping) {
    const v = ls.get(n);
    if (v !== '') key += n + NV + v + SEP;
  }
  return key;
}

/** Labels of the output series of a group. */
export function groupingLabels(ls: Labels, grouping: readonly string[], without: boolean): Labels {
  if (without) return ls.without(...grouping, '__name__');
  if (grouping.length === 0) return Labels.EMPTY;
  return ls.keep(...grouping);
}

function isMetadataName(n: string): boolean {
  return n === '__name__' || n === '__type__' || n === '__unit__';
}

/**
 * Labels that give a sample stored with `raw` (its metadata labels to be removed when `drop`) the group its
 * effective labels give: the stored ones unless the grouping looks at a metadata label the sample no longer has.
 */
function groupingMetricOf(raw: Labels, drop: boolean, delayed: boolean, grouping: readonly string[], without: boolean): Labels {
  if (delayed || !drop) return raw;
  const alike = without ? !raw.has('__type__') && !raw.has('__unit__') : !grouping.some(isMetadataName);
  return alike ? raw : dropMetadata(raw);
}

/**
 * The argument of an aggregation as it reads it: a label set per input and,
 * step by step, the inputs present and their values (in `idx`, or all of
 * them in order when `idx` is null, and `vals`). Methods taking an input i
 * expect 0 <= i < length; gather's count n keeps idx[0..n) and vals[0..n) in
 * range, and every idx entry is an input.
 */
interface AggInput {
  readonly length: number;
  /** The labels of input i as operators see them. */
  metric(i: number): Labels;
  /** Labels that give input i the same group as metric(i) does, built only when they must be. */
  groupingMetric(i: number, grouping: readonly string[], without: boolean): Labels;
  dropName(i: number): boolean;
  /** Lets go of the inputs' label sets once the groups are formed (metric() may not be called after). */
  releaseLabels(): void;
  /** Gathers the inputs with a sample at step time t; returns their number. */
  gather(t: number): number;
  idx: Int32Array | null;
  vals: Float64Array;
  /** Histogram samples of the last gather by position, or null when the input has none. */
  hs: Array<FloatHistogram | undefined> | null;
  /** Whether any input sample is a native histogram. */
  hasHistograms(): boolean;
}

/** A matrix argument: series with a point at some steps. */
class MatrixInput implements AggInput {
  private readonly cursors: Int32Array;
  idx: Int32Array;
  vals: Float64Array;
  hs: Array<FloatHistogram | undefined> | null = null;
  constructor(private readonly m: Matrix) {
    this.cursors = new Int32Array(m.length);
    this.idx = new Int32Array(m.length);
    this.vals = new Float64Array(m.length);
  }
  get length(): number {
    return this.m.length;
  }
  get matrix(): Matrix {
    return this.m;
  }
  metric(i: number): Labels {
    return this.m[i]!.metric;
  }
  groupingMetric(i: number): Labels {
    return this.m[i]!.metric;
  }
  dropName(i: number): boolean {
    return this.m[i]!.dropName;
  }
  releaseLabels(): void {
    // The series objects hold them.
  }
  hasHistograms(): boolean {
    return this.m.some((s) => s.hs !== null);
  }
  gather(t: number): number {
    const m = this.m;
    const cursors = this.cursors;
    const idx = this.idx;
    const vals = this.vals;
    let n = 0;
    // si < m.length = cursors.length; c < s.n is checked before the read at off + c; n <= si < idx.length = vals.length.
    for (let si = 0; si < m.length; si++) {
      const s = m[si]!;
      const c = cursors[si]!;
      if (c >= s.n || s.ts[s.off + c] !== t) continue;
      cursors[si] = c + 1;
      idx[n] = si;
      vals[n] = s.vs[s.off + c]!;
      if (s.hs !== null) (this.hs ??= [])[n] = s.hs[c];
      else if (this.hs !== null) this.hs[n] = undefined;
      n++;
    }
    return n;
  }
}

/** A column-wise instant vector: every input has its one sample at the only step. */
class ColumnsInput implements AggInput {
  readonly idx = null;
  readonly vals: Float64Array;
  readonly hs: Array<FloatHistogram | undefined> | null;
  constructor(
    private readonly c: InstantColumns,
    private readonly delayed: boolean,
  ) {
    this.vals = c.vs;
    this.hs = c.hs;
  }
  hasHistograms(): boolean {
    return this.hs !== null;
  }
  get length(): number {
    return this.c.n;
  }
  metric(i: number): Labels {
    return effectiveMetric(this.c.metrics[i]!, this.c.drop[i] === 1, this.delayed);
  }
  groupingMetric(i: number, grouping: readonly string[], without: boolean): Labels {
    return groupingMetricOf(this.c.metrics[i]!, this.c.drop[i] === 1, this.delayed, grouping, without);
  }
  dropName(i: number): boolean {
    return this.c.drop[i] === 1;
  }
  releaseLabels(): void {
    // The columns belong to this aggregation: from here on it needs only the values and flags.
    this.c.metrics = [];
  }
  gather(t: number): number {
    return t === this.c.t ? this.c.n : 0;
  }
}

/** Parameter of topk, quantile, ...: a value per step plus Prometheus's min/max/NaN summary over all steps. */
interface Params {
  values: Float64Array;
  min: number;
  max: number;
  hasNaN: boolean;
}

async function evalParams(ev: EvalContext, e: AggregateExpr): Promise<Params> {
  const values = new Float64Array(ev.numSteps);
  if (e.param === null || e.param.type === 'StringLiteral') return { values, min: 0, max: 0, hasNaN: false };
  const m = await ev.evalMatrix(e.param);
  const s = m[0];
  if (s === undefined) return { values, min: 0, max: 0, hasNaN: false };
  if (e.param.type === 'NumberLiteral') {
    const c = e.param.val;
    values.fill(c);
    return { values, min: c, max: c, hasNaN: c !== c };
  }
  let min = Number.MAX_VALUE;
  let max = -Number.MAX_VALUE;
  let hasNaN = false;
  // i in [off, off + n): a point of s; k is checked against values.
  for (let i = s.off; i < s.off + s.n; i++) {
    const v = s.vs[i]!;
    const k = ev.stepOf(s.ts[i]!);
    if (k >= 0 && k < values.length) values[k] = v;
    max = goMax(max, v);
    min = goMin(min, v);
    if (v !== v) hasNaN = true;
  }
  return { values, min, max, hasNaN };
}

/** Largest float that converts to an int64 without overflow, and the smallest. */
const MAX_INT64 = 9223372036854774784;
const MIN_INT64 = -9223372036854775808;

export async function evalAggregate(ev: EvalContext, e: AggregateExpr): Promise<Matrix> {
  const grouping = [...e.grouping].sort();
  if (e.op === 'count_values') return countValues(ev, e, grouping);
  const before = ev.currentSamples;
  const params = await evalParams(ev, e);
  const call = ev.numSteps > 1 && ev.numSteps <= MAX_FUSED_CELLS && fusion.enabled ? fusableCall(e) : null;
  const fused = call !== null ? await aggregateFused(ev, e, grouping, call) : null;
  let result: Matrix;
  if (fused !== null && fused.done) {
    result = fused.result;
  } else {
    const arg: EvalValue | InstantColumns = fused !== null ? fused.input : await ev.evalColumns(e.expr);
    if (isString(arg)) throw new EvalError('BUG: aggregation over a string');
    const input: AggInput = arg instanceof InstantColumns ? new ColumnsInput(arg, ev.q.delayedNameRemoval) : new MatrixInput(arg);
    switch (e.op) {
      case 'topk':
      case 'bottomk':
      case 'limitk':
      case 'limit_ratio':
        result = await aggregateK(ev, e, grouping, input, params);
        break;
      default:
        result = await aggregate(ev, e, grouping, input, params);
    }
  }
  let total = 0;
  for (const s of result) total += s.n;
  ev.currentSamples = before + total;
  ev.stats.updatePeak(ev.currentSamples);
  return result;
}

interface Groups {
  /** Group index of each input series, in the narrowest array that holds the group count. */
  of: Uint8Array | Uint16Array | Int32Array;
  count: number;
  /** First input series of each group. */
  first: number[];
}

/** Input series mapped to groups between yields: a few milliseconds of work. */
const SERIES_PER_GROUPING_TICK = 2048;

async function groupSeries(ev: EvalContext, input: AggInput, grouping: readonly string[], without: boolean): Promise<Groups> {
  const of = new Int32Array(input.length);
  const index = new SignatureIndex(grouping, !without);
  const first: number[] = [];
  for (let i = 0; i < input.length; i++) {
    const g = index.ordinal(input.groupingMetric(i, grouping, without));
    if (g === first.length) first.push(i);
    of[i] = g;
    if ((i + 1) % SERIES_PER_GROUPING_TICK === 0) await ev.tick(SERIES_PER_GROUPING_TICK);
  }
  // An index per input is the one per-series cost of an aggregation: most have few groups.
  const count = first.length;
  const narrow = count <= 0x100 ? Uint8Array.from(of) : count <= 0x10000 ? Uint16Array.from(of) : of;
  return { of: narrow, count, first };
}

const enum Op {
  Sum,
  Avg,
  Count,
  Min,
  Max,
  Group,
  Stddev,
  Stdvar,
  Quantile,
}

function opCode(op: string): Op {
  switch (op) {
    case 'sum':
      return Op.Sum;
    case 'avg':
      return Op.Avg;
    case 'count':
      return Op.Count;
    case 'min':
      return Op.Min;
    case 'max':
      return Op.Max;
    case 'group':
      return Op.Group;
    case 'stddev':
      return Op.Stddev;
    case 'stdvar':
      return Op.Stdvar;
    case 'quantile':
      return Op.Quantile;
  }
  throw new EvalError(`expected aggregation operator but got "${op}"`);
}

/**
 * Running state of sum, avg, count, min, max, group, stddev and stdvar, one
 * cell per group (or per group and step): Kahan sums, the incremental mean
 * avg switches to before a sum overflows, and Welford's mean and squares.
 */
class Accumulators {
  readonly value: Float64Array;
  readonly comp: Float64Array;
  readonly mean: Float64Array;
  readonly count: Float64Array;
  readonly incremental: Uint8Array;
  constructor(cells: number) {
    this.value = new Float64Array(cells);
    this.comp = new Float64Array(cells);
    this.mean = new Float64Array(cells);
    this.count = new Float64Array(cells);
    this.incremental = new Uint8Array(cells);
  }
}

// The fold functions take a cell below the accumulators' size, and the sample as an array and an index
// in it: a float argument of a call that is not inlined is boxed, one heap object per point folded.

/** The first sample (src[i]) of a cell. */
function foldFirst(a: Accumulators, op: Op, c: number, src: Float64Array, i: number): void {
  const f = src[i]!;
  a.value[c] = op === Op.Stddev || op === Op.Stdvar ? (f !== f || f === Infinity || f === -Infinity ? NaN : 0) : op === Op.Group ? 1 : f;
  a.mean[c] = f;
  a.comp[c] = 0;
  a.count[c] = 1;
  a.incremental[c] = 0;
}

/** A further sample (src[i]) of a cell (not for quantile, whose values are kept). */
function foldNext(a: Accumulators, op: Op, c: number, src: Float64Array, i: number): void {
  const f = src[i]!;
  const value = a.value;
  switch (op) {
    case Op.Sum: {
      const sum = value[c]!;
      a.comp[c] = kahanCompensation(f, sum, a.comp[c]!);
      value[c] = sum + f;
      return;
    }
    case Op.Avg: {
      const comp = a.comp;
      const mean = a.mean;
      const n = ++a.count[c]!;
      if (a.incremental[c] === 0) {
        const prev = value[c]!;
        const sum = prev + f;
        if (sum !== Infinity && sum !== -Infinity) {
          comp[c] = kahanCompensation(f, prev, comp[c]!);
          value[c] = sum;
          return;
        }
        // The sum would overflow: continue with an incremental mean.
        a.incremental[c] = 1;
        mean[c] = value[c]! / (n - 1);
        comp[c] = comp[c]! / (n - 1);
      }
      const q = (n - 1) / n;
      const inc = f / n;
      const base = q * mean[c]!;
      comp[c] = kahanCompensation(inc, base, q * comp[c]!);
      mean[c] = base + inc;
      return;
    }
    case Op.Max:
      if (value[c]! < f || value[c] !== value[c]) value[c] = f;
      return;
    case Op.Min:
      if (value[c]! > f || value[c] !== value[c]) value[c] = f;
      return;
    case Op.Count:
      a.count[c]!++;
      return;
    case Op.Stddev:
    case Op.Stdvar: {
      const mean = a.mean;
      const n = ++a.count[c]!;
      const delta = f - mean[c]!;
      mean[c] = mean[c]! + delta / n;
      value[c] = value[c]! + delta * (f - mean[c]!);
      return;
    }
    default:
      return;
  }
}

/** The aggregated value of a cell that saw at least one sample (not for quantile). */
function foldResult(a: Accumulators, op: Op, c: number): number {
  switch (op) {
    case Op.Avg:
      return a.incremental[c] === 1 ? a.mean[c]! + a.comp[c]! : a.value[c]! / a.count[c]! + a.comp[c]! / a.count[c]!;
    case Op.Count:
      return a.count[c]!;
    case Op.Stdvar:
      return a.value[c]! / a.count[c]!;
    case Op.Stddev:
      return Math.sqrt(a.value[c]! / a.count[c]!);
    case Op.Sum:
      return a.value[c]! + a.comp[c]!;
    default:
      return a.value[c]!;
  }
}

/**
 * Most cells (group x step) the series-major path folds at once, about 2.5
 * MiB of accumulators: with few groups a block spans many steps, with more
 * groups than this it is one step at a time.
 */
const MAX_BLOCK_CELLS = 1 << 16;
/**
 * Points folded between accountings of work: a series of a long range query
 * holds thousands, so counting by series would let one tick cover tens of
 * milliseconds. A point is about 1/32 of a work unit (a series or step).
 */
const POINTS_PER_FOLD_TICK = 4096;
const POINTS_PER_UNIT_SHIFT = 5;

/**
 * sum, avg, count, min, max, group, stddev and stdvar over a matrix of
 * floats, read series by series instead of step by step: every point of a
 * series goes straight to its (group, step) cell, so no step scans all the
 * series for the few that have a point there. Each cell still takes its
 * samples in input order, so results are the ones the step-by-step fold gives.
 */
async function aggregateSeriesMajor(ev: EvalContext, op: Op, groups: Groups, m: Matrix, metrics: readonly Labels[]): Promise<Matrix> {
  const G = groups.count;
  const numSteps = ev.numSteps;
  const B = Math.max(1, Math.min(numSteps, Math.floor(MAX_BLOCK_CELLS / Math.max(1, G))));
  const cells = G * B;
  const acc = new Accumulators(cells);
  const seen = new Uint8Array(cells);
  const drop = new Uint8Array(cells);
  const cursors = new Int32Array(m.length);
  const out: Array<Series | null> = new Array<Series | null>(G).fill(null);
  const start = ev.start;
  const interval = ev.interval;
  for (let k0 = 0; k0 < numSteps; k0 += B) {
    const k1 = Math.min(numSteps, k0 + B);
    seen.fill(0);
    // si < m.length = cursors.length; c < s.n before each read at off + c; a point's step k is in
    // [k0, k1) (points sit on steps, in order, and earlier blocks took those before k0), so its cell
    // g * B + k - k0 < G * B = cells.
    let folded = 0;
    for (let si = 0; si < m.length; si++) {
      const s = m[si]!;
      const base = groups.of[si]! * B - k0;
      const ts = s.ts;
      const vs = s.vs;
      const off = s.off;
      const n = s.n;
      const dn = s.dropName ? 1 : 0;
      const c0 = cursors[si]!;
      let c = c0;
      for (; c < n; c++) {
        const k = Math.round((ts[off + c]! - start) / interval);
        if (k >= k1) break;
        const cell = base + k;
        if (seen[cell] === 0) {
          seen[cell] = 1;
          drop[cell] = dn;
          foldFirst(acc, op, cell, vs, off + c);
        } else {
          if (dn === 1) drop[cell] = 1;
          foldNext(acc, op, cell, vs, off + c);
        }
      }
      cursors[si] = c;
      folded += c - c0 + 1;
      if (folded >= POINTS_PER_FOLD_TICK) {
        const pending = ev.tick(folded >> POINTS_PER_UNIT_SHIFT);
        folded = 0;
        if (pending !== null) await pending;
      }
    }
    // g < G = out.length = metrics.length; cells as above.
    for (let g = 0; g < G; g++) {
      const base = g * B - k0;
      for (let k = k0; k < k1; k++) {
        const cell = base + k;
        if (seen[cell] === 0) continue;
        let o = out[g];
        if (o === null || o === undefined) {
          o = new Series(metrics[g]!, false, Math.min(numSteps, GROWING_CAPACITY));
          out[g] = o;
        }
        o.dropName = drop[cell] === 1;
        o.push(start + k * interval, foldResult(acc, op, cell));
      }
    }
    await ev.tick(G * (k1 - k0) + 1);
  }
  const res: Matrix = [];
  for (const o of out) {
    if (o !== null) {
      o.trim();
      res.push(o);
    }
  }
  return res;
}

// ---------------------------------------------------------------------------
// Aggregations fused with the range function they aggregate

/** Lets tests compare the fused path with the unfused one (which they turn it off for); on otherwise. */
export const fusion = { enabled: true };

/** The operators that fold a cell's samples as they come (the others keep them per series or per step). */
const FUSED_OPS: ReadonlySet<string> = new Set(['sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar']);

/**
 * Most (group, step) cells the fused path folds into, grown as groups appear:
 * at 35 bytes a cell (Accumulators, seen, drop) up to 9 MiB, a 1,000-step
 * range with 262 groups or an 11,000-step one with 23. The series of further
 * groups are kept and folded afterwards, as without fusion.
 */
const MAX_FUSED_CELLS = 1 << 18;

/**
 * The call an aggregation of a range evaluation can take its input from one
 * series at a time: a function over a matrix selector or subquery, but
 * absent_over_time (which builds its one series from all the others). A
 * step-invariant argument never gets here: the aggregation around it is
 * step-invariant too, so the whole is evaluated at one step.
 */
function fusableCall(e: AggregateExpr): Call | null {
  if (!FUSED_OPS.has(e.op)) return null;
  let x = e.expr;
  while (x.type === 'ParenExpr') x = x.expr;
  if (x.type !== 'Call' || x.func.name === 'absent_over_time' || !x.func.argTypes.includes('matrix')) return null;
  return x.args.some((a) => a.type === 'MatrixSelector' || a.type === 'SubqueryExpr') ? x : null;
}

/**
 * The fused path's outcome: its result, or the range function's matrix when it fell back (a native histogram, or
 * input names that may collide once removed).
 */
type Fused = { done: true; result: Matrix } | { done: false; input: Matrix };

/** Accumulators with room for `cells`, holding the cells of `a`. */
function grown(a: Accumulators, cells: number): Accumulators {
  const b = new Accumulators(cells);
  b.value.set(a.value);
  b.comp.set(a.comp);
  b.mean.set(a.mean);
  b.count.set(a.count);
  b.incremental.set(a.incremental);
  return b;
}

/** Folds the points values[0..n) at steps[0..n) of one series into its group's cells base + step. */
function foldSeries(acc: Accumulators, op: Op, seen: Uint8Array, drop: Uint8Array, base: number, dropName: boolean, steps: Int32Array, values: Float64Array, n: number): void {
  const dn = dropName ? 1 : 0;
  // i < n <= steps.length = values.length; base + step lies in the group's cells.
  for (let i = 0; i < n; i++) {
    const cell = base + steps[i]!;
    if (seen[cell] === 0) {
      seen[cell] = 1;
      drop[cell] = dn;
      foldFirst(acc, op, cell, values, i);
    } else {
      if (dn === 1) drop[cell] = 1;
      foldNext(acc, op, cell, values, i);
    }
  }
}

/**
 * sum, avg, count, min, max, group, stddev and stdvar over a range function,
 * folding each series into its group's cells (a block of all steps per group)
 * as the function produces it, so the function's matrix is never held: a long
 * range query kept thousands of series of numSteps points alive until the
 * aggregation read them. Each cell takes its samples in input order, as
 * aggregateSeriesMajor does, so results are bit for bit the same; statistics,
 * limits and errors are the range function's (it counts the points it
 * produces as if they were held, as Prometheus does).
 */
async function aggregateFused(ev: EvalContext, e: AggregateExpr, grouping: readonly string[], call: Call): Promise<Fused> {
  const op = opCode(e.op);
  const numSteps = ev.numSteps;
  const without = e.without;
  const delayed = ev.q.delayedNameRemoval;
  const start = ev.start;
  const interval = ev.interval;
  const maxGroups = Math.floor(MAX_FUSED_CELLS / numSteps);
  const index = new SignatureIndex(grouping, !without);
  /** Labels of each group's output series, by group ordinal (groups are numbered in order of appearance). */
  const metrics: Labels[] = [];
  let acc = new Accumulators(0);
  let seen = new Uint8Array(0);
  let drop = new Uint8Array(0);
  // Series of the groups from maxGroups on, kept whole, and their group less maxGroups.
  const rest: Matrix = [];
  const restOf: number[] = [];
  const sink: SeriesSink = (metric, dropName, steps, values, n) => {
    const g = index.ordinal(groupingMetricOf(metric, dropName, delayed, grouping, without));
    if (g === metrics.length) metrics.push(groupingLabels(effectiveMetric(metric, dropName, delayed), grouping, without));
    if (g >= maxGroups) {
      const s = new Series(metric, dropName, n);
      // i < n <= steps.length = values.length.
      for (let i = 0; i < n; i++) s.push(start + steps[i]! * interval, values[i]!);
      rest.push(s);
      restOf.push(g - maxGroups);
      return;
    }
    if ((g + 1) * numSteps > seen.length) {
      // Room for twice the groups (at most maxGroups): a new group is met only as often as the count doubles.
      const cells = Math.min(maxGroups, Math.max(4, 2 * (g + 1))) * numSteps;
      acc = grown(acc, cells);
      const s = new Uint8Array(cells);
      s.set(seen);
      seen = s;
      const d = new Uint8Array(cells);
      d.set(drop);
      drop = d;
    }
    foldSeries(acc, op, seen, drop, g * numSteps, dropName, steps, values, n);
  };
  ev.q.checkpoint.check();
  const matrixArg = call.args.findIndex((a) => a.type === 'MatrixSelector' || a.type === 'SubqueryExpr');
  const unfused = await evalRangeFunctionInto(ev, call, matrixArg, sink);
  if (unfused !== null) return { done: false, input: unfused };

  const res: Matrix = [];
  const G = Math.min(metrics.length, maxGroups);
  // g < G <= the groups the cells have room for; cells base + k as in foldSeries.
  for (let g = 0; g < G; g++) {
    const base = g * numSteps;
    let points = 0;
    for (let k = 0; k < numSteps; k++) points += seen[base + k]!;
    // Every group has a series with a point: it made the group.
    const o = new Series(metrics[g]!, false, points);
    for (let k = 0; k < numSteps; k++) {
      const cell = base + k;
      if (seen[cell] === 0) continue;
      o.dropName = drop[cell] === 1;
      o.push(start + k * interval, foldResult(acc, op, cell));
    }
    res.push(o);
    const pending = ev.tick(numSteps);
    if (pending !== null) await pending;
  }
  if (rest.length > 0) {
    const count = metrics.length - maxGroups;
    const groups: Groups = { of: Int32Array.from(restOf), count, first: [] };
    for (const o of await aggregateSeriesMajor(ev, op, groups, rest, metrics.slice(maxGroups))) res.push(o);
  }
  return { done: true, result: res };
}

async function aggregate(ev: EvalContext, e: AggregateExpr, grouping: string[], input: AggInput, params: Params): Promise<Matrix> {
  const op = opCode(e.op);
  if (op === Op.Quantile && e.param !== null) {
    const pos = e.param.posRange;
    if (params.hasNaN) ev.q.annotations.add(annotations.invalidQuantile(NaN, pos));
    if (params.max > 1) ev.q.annotations.add(annotations.invalidQuantile(params.max, pos));
    if (params.min < 0) ev.q.annotations.add(annotations.invalidQuantile(params.min, pos));
  }
  const groups = await groupSeries(ev, input, grouping, e.without);
  const G = groups.count;
  const seen = new Uint8Array(G);
  const acc = new Accumulators(G);
  const dropName = new Uint8Array(G);
  // Quantile: the values of each group, in a slice of one array sized by group membership.
  let qStart: Int32Array | null = null;
  let qLen: Int32Array | null = null;
  let qVals: Float64Array | null = null;
  if (op === Op.Quantile) {
    qStart = new Int32Array(G);
    qLen = new Int32Array(G);
    const sizes = new Int32Array(G);
    // i < input.length = groups.of.length, and groups are below G.
    for (let i = 0; i < input.length; i++) sizes[groups.of[i]!]!++;
    let off = 0;
    // g < G = sizes.length.
    for (let g = 0; g < G; g++) {
      qStart[g] = off;
      off += sizes[g]!;
    }
    qVals = new Float64Array(Math.max(1, off));
  }
  const out: Array<Series | null> = new Array<Series | null>(G).fill(null);
  const metrics: Labels[] = groups.first.map((i) => groupingLabels(input.metric(i), grouping, e.without));
  // Native histograms: summed (sum, avg), counted (count, group) or ignored with an info (the others).
  const histograms = input.hasHistograms();
  const names: string[] | null = histograms ? Array.from({ length: input.length }, (_, i) => input.metric(i).get('__name__')) : null;
  const hasFloat = histograms ? new Uint8Array(G) : null;
  const hl: Array<Array<{ h: FloatHistogram; si: number }> | null> | null = histograms ? new Array(G).fill(null) : null;
  const sums = op === Op.Sum || op === Op.Avg;
  const ignores = op === Op.Min || op === Op.Max || op === Op.Stddev || op === Op.Stdvar || op === Op.Quantile;
  input.releaseLabels();
  const numSteps = ev.numSteps;
  if (input instanceof MatrixInput && !histograms && op !== Op.Quantile && numSteps > 1) {
    return aggregateSeriesMajor(ev, op, groups, input.matrix, metrics);
  }

  for (let step = 0; step < numSteps; step++) {
    // Yield between steps, not after the last: the input is let go before the result is handed on.
    if (step > 0) await ev.tick(input.length + G);
    const t = ev.stepTime(step);
    seen.fill(0);
    const np = input.gather(t);
    const idx = input.idx;
    const vals = input.vals;
    // p < np (gather's count), si an input, g < G: the length of every per-group array. A group's quantile
    // values stay inside its slice: qLen[g] < sizes[g] before each write.
    const hs = input.hs;
    for (let p = 0; p < np; p++) {
      const si = idx === null ? p : idx[p]!;
      const f = vals[p]!;
      const g = groups.of[si]!;
      const h = hs === null ? undefined : hs[p];
      if (h !== undefined && ignores) {
        ev.q.annotations.add(annotations.histogramIgnoredInAggregation(e.op, e.expr.posRange));
        continue;
      }
      if (hl !== null && sums) {
        if (seen[g] === 0) {
          hl[g] = null;
          hasFloat![g] = 0;
        }
        if (h !== undefined) {
          (hl[g] ??= []).push({ h, si });
          if (seen[g] === 0) {
            seen[g] = 1;
            dropName[g] = input.dropName(si) ? 1 : 0;
          } else if (input.dropName(si)) dropName[g] = 1;
          continue;
        }
        hasFloat![g] = 1;
        if (seen[g] === 1 && hl[g] !== null) continue; // a mixed group gives no result
      }
      if (seen[g] === 0) {
        seen[g] = 1;
        dropName[g] = input.dropName(si) ? 1 : 0;
        foldFirst(acc, op, g, vals, p);
        if (op === Op.Quantile) {
          qVals![qStart![g]!] = f;
          qLen![g] = 1;
        }
        continue;
      }
      if (input.dropName(si)) dropName[g] = 1;
      if (op === Op.Quantile) {
        qVals![qStart![g]! + qLen![g]!] = f;
        qLen![g]!++;
        continue;
      }
      foldNext(acc, op, g, vals, p);
    }
    // g < G: the length of every per-group array; step < numSteps = params.values.length.
    for (let g = 0; g < G; g++) {
      if (seen[g] === 0) continue;
      const list = hl === null ? null : hl[g];
      if (list !== null && list !== undefined && sums) {
        if (hasFloat![g] === 1) {
          ev.q.annotations.add(annotations.mixedFloatsHistogramsAgg(e.expr.posRange));
          continue;
        }
        const hv = sumHistogramGroup(ev, list, op === Op.Avg, names!, e.expr.posRange);
        if (hv === null) continue;
        let o = out[g];
        if (o === null || o === undefined) {
          o = new Series(metrics[g]!, false, Math.min(numSteps, GROWING_CAPACITY));
          out[g] = o;
        }
        o.dropName = dropName[g] === 1;
        o.pushHistogram(t, hv);
        continue;
      }
      const v = op === Op.Quantile ? quantile(params.values[step]!, qVals!.subarray(qStart![g]!), qLen![g]!) : foldResult(acc, op, g);
      let o = out[g];
      if (o === null || o === undefined) {
        o = new Series(metrics[g]!, false, Math.min(numSteps, GROWING_CAPACITY));
        out[g] = o;
      }
      o.dropName = dropName[g] === 1;
      o.push(t, v);
    }
    if (ev.currentSamples > ev.q.maxSamples) ev.checkSamples();
  }
  const res: Matrix = [];
  for (const o of out) {
    if (o !== null && o !== undefined) {
      o.trim();
      res.push(o);
    }
  }
  return res;
}

/** A group's histograms summed (or averaged), with Prometheus's annotations; null when schemas do not mix. */
function sumHistogramGroup(ev: EvalContext, list: ReadonlyArray<{ h: FloatHistogram; si: number }>, avg: boolean, names: readonly string[], pos: PosRange): FloatHistogram | null {
  const sum = new HistogramSum(list[0]!.h);
  let res: FloatHistogram;
  let at = 0;
  try {
    if (avg) {
      res = histogramMean(list.map((x) => x.h), sum);
    } else {
      for (at = 1; at < list.length; at++) sum.add(list[at]!.h);
      res = sum.result();
    }
  } catch (err) {
    if (!(err instanceof HistogramError && err.kind === 'incompatible_schema')) throw err;
    ev.q.annotations.add(annotations.mixedExponentialCustomHistograms(names[list[Math.min(at, list.length - 1)]!.si] ?? '', pos));
    return null;
  }
  if (sum.reconciled) ev.q.annotations.add(annotations.mismatchedCustomBuckets('aggregation', pos));
  if (sum.reset && sum.notReset) ev.q.annotations.add(annotations.histogramCounterResetCollision('aggregation', pos));
  return res.compact(0);
}

// ---------------------------------------------------------------------------
// topk, bottomk, limitk, limit_ratio

/**
 * A binary heap over input-series indices that reproduces Go's
 * container/heap step for step, so results come out in Prometheus's order.
 */
class IndexHeap {
  idx: number[] = [];
  vals: number[] = [];
  constructor(private readonly less: (a: number, b: number) => boolean) {}

  get length(): number {
    return this.idx.length;
  }

  // Heap positions i, j passed below are < length = idx.length = vals.length.

  private lessAt(i: number, j: number): boolean {
    return this.less(this.vals[i]!, this.vals[j]!);
  }

  private swap(i: number, j: number): void {
    const a = this.idx[i]!;
    this.idx[i] = this.idx[j]!;
    this.idx[j] = a;
    const b = this.vals[i]!;
    this.vals[i] = this.vals[j]!;
    this.vals[j] = b;
  }

  private up(j: number): void {
    for (;;) {
      const i = Math.trunc((j - 1) / 2);
      if (i === j || !this.lessAt(j, i)) break;
      this.swap(i, j);
      j = i;
    }
  }

  private down(i0: number, n: number): boolean {
    let i = i0;
    for (;;) {
      const j1 = 2 * i + 1;
      if (j1 >= n || j1 < 0) break;
      let j = j1;
      const j2 = j1 + 1;
      if (j2 < n && this.lessAt(j2, j1)) j = j2;
      if (!this.lessAt(j, i)) break;
      this.swap(i, j);
      i = j;
    }
    return i > i0;
  }

  push(index: number, v: number): void {
    this.idx.push(index);
    this.vals.push(v);
    this.up(this.idx.length - 1);
  }

  /** Appends without restoring the heap order (Prometheus seeds limitk's heap this way). */
  append(index: number, v: number): void {
    this.idx.push(index);
    this.vals.push(v);
  }

  replaceTop(index: number, v: number): void {
    this.idx[0] = index;
    this.vals[0] = v;
  }

  fix(i: number): void {
    if (!this.down(i, this.idx.length)) this.up(i);
  }

  /** Go's sort.Sort(sort.Reverse(h)): insertion sort for short heaps (as pdqsort does), stable merge sort beyond. */
  sortReverse(): void {
    const n = this.idx.length;
    if (n <= 12) {
      for (let i = 1; i < n; i++) {
        for (let j = i; j > 0 && this.lessAt(j - 1, j); j--) this.swap(j, j - 1);
      }
      return;
    }
    // order holds the positions 0..n-1.
    const order = this.idx.map((_, i) => i);
    order.sort((a, b) => (this.less(this.vals[b]!, this.vals[a]!) ? -1 : this.less(this.vals[a]!, this.vals[b]!) ? 1 : 0));
    this.idx = order.map((i) => this.idx[i]!);
    this.vals = order.map((i) => this.vals[i]!);
  }
}

/** Prometheus's vectorByValueHeap order: NaN first, then ascending. */
const lessAsc = (a: number, b: number): boolean => a !== a || a < b;
/** vectorByReverseValueHeap order: NaN first, then descending. */
const lessDesc = (a: number, b: number): boolean => a !== a || a > b;

async function aggregateK(ev: EvalContext, e: AggregateExpr, grouping: string[], input: AggInput, params: Params): Promise<Matrix> {
  const op = e.op;
  const pos = e.param?.posRange ?? e.posRange;
  if (op === 'limit_ratio') {
    if (params.max === 0 && params.min === 0) return [];
    if (params.hasNaN) throw new EvalError('Ratio value is NaN');
    if (params.max > 1) ev.q.annotations.add(annotations.invalidRatio(params.max, 1, pos));
    if (params.min < -1) ev.q.annotations.add(annotations.invalidRatio(params.min, -1, pos));
  } else {
    if (params.max < 1) return [];
    if (params.hasNaN) throw new EvalError('Parameter value is NaN');
    if (params.min <= MIN_INT64) throw new EvalError(`Scalar value ${formatG(params.min)} underflows int64`);
    if (params.max >= MAX_INT64) throw new EvalError(`Scalar value ${formatG(params.max)} overflows int64`);
  }
  const groups = await groupSeries(ev, input, grouping, e.without);
  const G = groups.count;
  const heaps: Array<IndexHeap | null> = new Array<IndexHeap | null>(G).fill(null);
  const offsets = op === 'limit_ratio' ? new Float64Array(input.length).fill(NaN) : null;
  // si is an input: below input.length = offsets.length.
  const ratioOf = (si: number): number => {
    let o = offsets![si]!;
    if (o !== o) {
      o = ratioOffset(input.metric(si));
      offsets![si] = o;
    }
    return o;
  };
  const addRatio = (r: number, si: number): boolean => {
    const o = ratioOf(si);
    return (r >= 0 && o < r) || (r < 0 && o >= 1 + r);
  };
  const outInstant: Matrix = [];
  const outByInput: Array<Series | null> = new Array<Series | null>(input.length).fill(null);
  /** The histogram samples of the current step by input (limitk, limit_ratio). */
  let stepH: Array<FloatHistogram | undefined> | null = null;
  const numSteps = ev.numSteps;

  for (let step = 0; step < numSteps; step++) {
    if (step > 0) await ev.tick(input.length + 1);
    const t = ev.stepTime(step);
    const np = input.gather(t);
    if (np === 0) continue;
    const present = input.idx;
    const presentV = input.vals;
    // step < numSteps = params.values.length.
    const fParam = params.values[step]!;
    let k = 0;
    let r = 0;
    if (op === 'limit_ratio') {
      if (fParam === 0) continue;
      r = Math.max(-1, Math.min(1, fParam));
    } else {
      k = Math.min(Math.trunc(fParam), input.length);
      if (k < 1) continue;
    }
    heaps.fill(null);
    const hs = input.hs;
    // p < np (gather's count), si an input, g < G = heaps.length; heaps with entries have vals[0].
    for (let p = 0; p < np; p++) {
      const si = present === null ? p : present[p]!;
      const f = presentV[p]!;
      const g = groups.of[si]!;
      const hist = hs === null ? undefined : hs[p];
      if (hist !== undefined) {
        // topk and bottomk rank floats only; limitk and limit_ratio pass histograms on.
        if (op === 'topk' || op === 'bottomk') {
          ev.q.annotations.add(annotations.histogramIgnoredInAggregation(op, e.expr.posRange));
          continue;
        }
        (stepH ??= new Array<FloatHistogram | undefined>(input.length))[si] = hist;
      } else if (stepH !== null) {
        stepH[si] = undefined;
      }
      let h = heaps[g];
      if (h === null || h === undefined) {
        h = new IndexHeap(op === 'bottomk' ? lessDesc : lessAsc);
        heaps[g] = h;
        if (op === 'limitk') h.append(si, f);
        else if (op === 'limit_ratio') {
          if (addRatio(r, si)) h.push(si, f);
        } else h.push(si, f);
        continue;
      }
      switch (op) {
        case 'topk': {
          if (h.length < k) h.push(si, f);
          else {
            const top = h.vals[0]!;
            if (top < f || (top !== top && f === f)) {
              h.replaceTop(si, f);
              if (k > 1) h.fix(0);
            }
          }
          break;
        }
        case 'bottomk': {
          if (h.length < k) h.push(si, f);
          else {
            const top = h.vals[0]!;
            if (top > f || (top !== top && f === f)) {
              h.replaceTop(si, f);
              if (k > 1) h.fix(0);
            }
          }
          break;
        }
        case 'limitk':
          if (h.length < k) h.push(si, f);
          break;
        default:
          if (addRatio(r, si)) h.push(si, f);
      }
    }
    for (const h of heaps) {
      if (h === null || h === undefined) continue;
      if ((op === 'topk' || op === 'bottomk') && h.length > 1) h.sortReverse();
      // i < h.length = h.idx.length = h.vals.length.
      for (let i = 0; i < h.length; i++) {
        const si = h.idx[i]!;
        const hist = stepH === null ? undefined : stepH[si];
        let o: Series | null | undefined;
        if (ev.instant) {
          o = new Series(input.metric(si), input.dropName(si), 1);
          outInstant.push(o);
        } else {
          o = outByInput[si];
          if (o === null || o === undefined) {
            o = new Series(input.metric(si), input.dropName(si), Math.min(numSteps, GROWING_CAPACITY));
            outByInput[si] = o;
          }
        }
        if (hist !== undefined) o.pushHistogram(t, hist);
        else o.push(t, h.vals[i]!);
      }
    }
  }
  if (ev.instant) return outInstant;
  return mergeByLabels(outByInput);
}

/** Output series of topk & co. keyed by label set: input series with equal labels (possible late in name removal) share one. */
function mergeByLabels(list: Array<Series | null>): Matrix {
  const byKey = new Map<string, Series>();
  const res: Matrix = [];
  for (const s of list) {
    if (s === null) continue;
    s.trim();
    const key = s.metric.key();
    const prev = byKey.get(key);
    if (prev === undefined) {
      byKey.set(key, s);
      res.push(s);
      continue;
    }
    // i in [off, off + n): a point of s.
    for (let i = s.off; i < s.off + s.n; i++) {
      const h = s.histogramAt(i - s.off);
      if (h !== undefined) prev.pushHistogram(s.ts[i]!, h);
      else prev.push(s.ts[i]!, s.vs[i]!);
    }
    sortPoints(prev);
  }
  return res;
}

function sortPoints(s: Series): void {
  // order holds the points' indices off..off+n-1; ts and vs have n entries.
  const o = s.off;
  const order = Array.from({ length: s.n }, (_, i) => o + i).sort((a, b) => s.ts[a]! - s.ts[b]!);
  const ts = order.map((i) => s.ts[i]!);
  const vs = order.map((i) => s.vs[i]!);
  const hs = s.hs === null ? null : order.map((i) => s.histogramAt(i - o));
  for (let i = 0; i < s.n; i++) {
    s.ts[o + i] = ts[i]!;
    s.vs[o + i] = vs[i]!;
  }
  if (hs !== null) s.hs = hs;
}

// ---------------------------------------------------------------------------
// count_values

async function countValues(ev: EvalContext, e: AggregateExpr, sortedGrouping: string[]): Promise<Matrix> {
  if (e.param === null || e.param.type !== 'StringLiteral') throw new EvalError('BUG: count_values needs a string parameter');
  const label = e.param.val;
  if (!isValidLabelName(label)) throw new EvalError(`invalid label name ${goQuote(label)}`);
  const grouping = e.without ? sortedGrouping : [...sortedGrouping, label].sort();
  const before = ev.currentSamples;
  const input = await ev.evalMatrix(e.expr);
  if (!e.without) return countValuesBy(ev, input, label, grouping, before);
  return ev.rangeEval(before, [input], (_k, t, vecs, out) => {
    const v = vecs[0]!;
    const counts = new Map<string, { labels: Labels; n: number }>();
    // i < v.n: v.idx[i] is a series of input (see StepVector).
    for (let i = 0; i < v.n; i++) {
      const h = v.h === null ? undefined : v.h[i];
      const metric = input[v.idx[i]!]!.metric.builder().set(label, h !== undefined ? h.toString() : formatF(v.v[i]!)).labels();
      const key = groupingKey(metric, grouping, e.without);
      const c = counts.get(key);
      if (c === undefined) counts.set(key, { labels: groupingLabels(metric, grouping, e.without), n: 1 });
      else c.n++;
    }
    for (const c of counts.values()) out.emit(c.labels, false, t, c.n);
  });
}

/**
 * count_values by (...): the same groups as setting the label on each input and grouping, without building a
 * label set per sample. A group is an input's grouping labels but the count label (worked out once per input)
 * plus the formatted value (kept per input while it repeats), and its labels are built only when it first appears.
 */
function countValuesBy(ev: EvalContext, input: Matrix, label: string, grouping: readonly string[], before: number): Promise<Matrix> {
  const rest = grouping.filter((n) => n !== label);
  const baseKey: Array<string | undefined> = new Array(input.length);
  const lastV = new Float64Array(input.length);
  const lastStr: Array<string | undefined> = new Array(input.length);
  // One label set per output series, however many steps it has points at.
  const labelsOf = new Map<string, Labels>();
  return ev.rangeEval(before, [input], (_k, t, vecs, out) => {
    const v = vecs[0]!;
    const counts = new Map<string, { j: number; str: string; n: number }>();
    // i < v.n: v.idx[i] is a series of input (see StepVector), j < input.length.
    for (let i = 0; i < v.n; i++) {
      const j = v.idx[i]!;
      const h = v.h === null ? undefined : v.h[i];
      let str: string;
      if (h !== undefined) {
        str = h.toString();
      } else {
        const x = v.v[i]!;
        const prev = lastStr[j];
        // Object.is tells -0 ("-0") from 0; a NaN is formatted again.
        if (prev !== undefined && Object.is(lastV[j], x)) {
          str = prev;
        } else {
          str = formatF(x);
          lastV[j] = x;
          lastStr[j] = str;
        }
      }
      const base = (baseKey[j] ??= groupingKey(input[j]!.metric, rest, false));
      // Neither a formatted float nor a histogram's text holds SEP, so the key splits back into its parts.
      const key = str + SEP + base;
      const c = counts.get(key);
      if (c === undefined) counts.set(key, { j, str, n: 1 });
      else c.n++;
    }
    for (const [key, c] of counts) {
      let labels = labelsOf.get(key);
      if (labels === undefined) {
        labels = groupingLabels(input[c.j]!.metric, rest, false).builder().set(label, c.str).labels();
        labelsOf.set(key, labels);
      }
      out.emit(labels, false, t, c.n);
    }
  });
}
