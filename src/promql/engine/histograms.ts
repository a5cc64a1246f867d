// histogram_quantile, histogram_fraction and histogram_quantiles over classic
// histograms (series that differ only in their `le` label form one histogram)
// and over native histogram samples, each its own histogram.
// Bucket membership is worked out once per query; each step only copies the
// present bucket counts into typed arrays and runs the kernel.
//
// Calls arrive type-checked by the parser, with every argument their
// function declares, so e.args[i] of a declared argument is asserted with `!`;
// so are the per-step scalars (numSteps values each, read at steps k < numSteps)
// and the StepVectors rangeEval passes (one per argument).
import { formatOpenMetricsFloat, NumError, parseGoFloat } from '../../gofmt/float.js';
import type { FloatHistogram } from '../../model/histogram.js';
import type { Labels } from '../../model/labels.js';
import type { Call, Expr } from '../parser/ast.js';
import { annotations } from './annotations.js';
import type { EvalContext } from './context.js';
import type { StepCollector } from './collector.js';
import type { StepVector } from './cursors.js';
import { histogramFraction, histogramQuantile } from './native_histograms.js';
import { BucketScratch, bucketFraction, bucketQuantile } from './quantile.js';
import { dropMetadata, type Matrix } from './value.js';

/** Per-series arrays have input.length entries, per-group ones metrics.length: indices below those are asserted. */
interface BucketGroups {
  /** Group of each input series, -1 when its `le` label is missing or malformed. */
  of: Int32Array;
  /** Upper bound of each input series. */
  le: Float64Array;
  /** Output labels of each group. */
  metrics: Labels[];
  /** Group of each label set without `le` (by key). */
  keys: Map<string, number>;
  /** Start of each group's slice in the per-step bucket arrays. */
  start: Int32Array;
  bounds: Float64Array;
  counts: Float64Array;
  /** Buckets filled in the current step, per group. */
  filled: Int32Array;
  /** Where the kernels sort one group's buckets. */
  scratch: BucketScratch;
}

function bucketGroups(ev: EvalContext, input: Matrix): BucketGroups {
  const of = new Int32Array(input.length).fill(-1);
  const le = new Float64Array(input.length);
  const keys = new Map<string, number>();
  const metrics: Labels[] = [];
  const sizes: number[] = [];
  // i < input.length; g < metrics.length = sizes.length.
  for (let i = 0; i < input.length; i++) {
    const ls = input[i]!.metric;
    try {
      le[i] = parseGoFloat(ls.get('le'));
    } catch (e) {
      if (e instanceof NumError) continue;
      throw e;
    }
    const base = ls.without('le');
    const key = base.key();
    let g = keys.get(key);
    if (g === undefined) {
      g = metrics.length;
      keys.set(key, g);
      metrics.push(ev.q.delayedNameRemoval ? base : dropMetadata(base));
      sizes.push(0);
    }
    sizes[g]!++;
    of[i] = g;
  }
  const start = new Int32Array(metrics.length);
  let off = 0;
  // g < metrics.length = sizes.length.
  for (let g = 0; g < metrics.length; g++) {
    start[g] = off;
    off += sizes[g]!;
  }
  return {
    of,
    le,
    metrics,
    keys,
    start,
    bounds: new Float64Array(Math.max(1, off)),
    counts: new Float64Array(Math.max(1, off)),
    filled: new Int32Array(metrics.length),
    scratch: new BucketScratch(),
  };
}

/** Collects the buckets present at one step into their groups, warning about bad `le` labels. */
function fillBuckets(ev: EvalContext, input: Matrix, bg: BucketGroups, vec: StepVector, arg: Expr): void {
  const { idx, v: vals, n, h: hs } = vec;
  bg.filled.fill(0);
  // i < n: idx[i] is an input series (see StepVector), g >= 0 a group, and a group's slice has room for its series.
  for (let i = 0; i < n; i++) {
    const si = idx[i]!;
    if (hs !== null && hs[i] !== undefined) continue;
    const g = bg.of[si]!;
    if (g < 0) {
      const ls = input[si]!.metric;
      const name = ev.q.delayedNameRemoval ? ls.get('__name__') : '';
      ev.q.annotations.add(annotations.badBucketLabel(name, ls.get('le'), arg.posRange));
      continue;
    }
    const at = bg.start[g]! + bg.filled[g]!;
    bg.bounds[at] = bg.le[si]!;
    bg.counts[at] = vals[i]!;
    bg.filled[g]!++;
  }
}

/**
 * The native histogram samples of a step, each with its output labels; a
 * sample whose label set is also a classic histogram's (at this step) is
 * left out with that histogram, and a warning.
 */
function nativeSamples(ev: EvalContext, input: Matrix, bg: BucketGroups, vec: StepVector, arg: Expr): Array<{ metric: Labels; name: string; h: FloatHistogram }> {
  const out: Array<{ metric: Labels; name: string; h: FloatHistogram }> = [];
  const hs = vec.h;
  if (hs === null) return out;
  // j < n: a sample of the step (see StepVector).
  for (let j = 0; j < vec.n; j++) {
    const h = hs[j];
    if (h === undefined) continue;
    const ls = input[vec.idx[j]!]!.metric;
    const g = bg.keys.get(ls.key());
    if (g !== undefined && bg.filled[g]! > 0) {
      ev.q.annotations.add(annotations.mixedClassicNativeHistograms(ev.q.delayedNameRemoval ? ls.get('__name__') : '', arg.posRange));
      bg.filled[g] = 0;
      continue;
    }
    const metric = ev.q.delayedNameRemoval ? ls : dropMetadata(ls);
    out.push({ metric, name: metric.get('__name__'), h });
  }
  return out;
}

function emitNativeQuantiles(ev: EvalContext, natives: ReturnType<typeof nativeSamples>, q: number, t: number, arg: Expr, out: StepCollector, label: (m: Labels) => Labels): void {
  for (const s of natives) {
    const r = histogramQuantile(q, s.h);
    if (r.nanResult) ev.q.annotations.add(annotations.nativeHistogramQuantileNaNResult(s.name, arg.posRange));
    if (r.nanSkew) ev.q.annotations.add(annotations.nativeHistogramQuantileNaNSkew(s.name, arg.posRange));
    out.emit(label(s.metric), true, t, r.value);
  }
}

function quantileOfGroup(
  ev: EvalContext,
  bg: BucketGroups,
  g: number,
  q: number,
  t: number,
  arg: Expr,
): number {
  // g < metrics.length (callers loop over the groups).
  const s = bg.start[g]!;
  const n = bg.filled[g]!;
  const res = bucketQuantile(q, bg.bounds.subarray(s, s + n), bg.counts.subarray(s, s + n), n, bg.scratch);
  if (res.forcedMonotonicity) {
    const name = ev.q.delayedNameRemoval ? bg.metrics[g]!.get('__name__') : '';
    ev.q.annotations.add(
      annotations.histogramQuantileForcedMonotonicity(name, arg.posRange, t, res.minBucket, res.maxBucket, res.maxDiff),
    );
  }
  return res.value;
}

function checkQuantile(ev: EvalContext, q: number, arg: Expr): void {
  if (q !== q || q < 0 || q > 1) ev.q.annotations.add(annotations.invalidQuantile(q, arg.posRange));
}

export async function evalHistogramQuantile(ev: EvalContext, e: Call): Promise<Matrix> {
  const before = ev.currentSamples;
  const qm = await ev.evalMatrix(e.args[0]!);
  const input = await ev.evalMatrix(e.args[1]!);
  const qs = ev.dense(qm);
  const bg = bucketGroups(ev, input);
  return ev.rangeEval(before, [qm, input], (k, t, vecs, out) => {
    const v = vecs[1]!;
    const q = qs[k]!;
    checkQuantile(ev, q, e.args[0]!);
    fillBuckets(ev, input, bg, v, e.args[1]!);
    emitNativeQuantiles(ev, nativeSamples(ev, input, bg, v, e.args[1]!), q, t, e.args[1]!, out, (m) => m);
    // g < metrics.length: a group (see BucketGroups).
    for (let g = 0; g < bg.metrics.length; g++) {
      if (bg.filled[g] === 0) continue;
      out.emit(bg.metrics[g]!, true, t, quantileOfGroup(ev, bg, g, q, t, e.args[1]!));
    }
  });
}

export async function evalHistogramFraction(ev: EvalContext, e: Call): Promise<Matrix> {
  const before = ev.currentSamples;
  const lm = await ev.evalMatrix(e.args[0]!);
  const um = await ev.evalMatrix(e.args[1]!);
  const input = await ev.evalMatrix(e.args[2]!);
  const lower = ev.dense(lm);
  const upper = ev.dense(um);
  const bg = bucketGroups(ev, input);
  return ev.rangeEval(before, [lm, um, input], (k, t, vecs, out) => {
    const v = vecs[2]!;
    fillBuckets(ev, input, bg, v, e.args[2]!);
    for (const s of nativeSamples(ev, input, bg, v, e.args[2]!)) {
      const r = histogramFraction(lower[k]!, upper[k]!, s.h);
      if (r.nans) ev.q.annotations.add(annotations.nativeHistogramFractionNaNs(s.name, e.args[2]!.posRange));
      out.emit(s.metric, true, t, r.value);
    }
    // g < metrics.length: a group (see BucketGroups).
    for (let g = 0; g < bg.metrics.length; g++) {
      const n = bg.filled[g]!;
      if (n === 0) continue;
      const s = bg.start[g]!;
      const f = bucketFraction(lower[k]!, upper[k]!, bg.bounds.subarray(s, s + n), bg.counts.subarray(s, s + n), n, bg.scratch);
      out.emit(bg.metrics[g]!, true, t, f);
    }
  });
}

export async function evalHistogramQuantiles(ev: EvalContext, e: Call): Promise<Matrix> {
  const before = ev.currentSamples;
  const input = await ev.evalMatrix(e.args[0]!);
  const labelArg = e.args[1]!;
  const label = labelArg.type === 'StringLiteral' ? labelArg.val : '';
  const qArgs = e.args.slice(2);
  const qMats: Matrix[] = [];
  for (const a of qArgs) qMats.push(await ev.evalMatrix(a));
  const qs = qMats.map((m) => ev.dense(m));
  const bg = bucketGroups(ev, input);
  const labelled = new Map<string, Labels>();
  const withQuantile = (g: number, q: number): Labels => {
    const key = `${g}\xff${q}`;
    let ls = labelled.get(key);
    if (ls === undefined) {
      ls = bg.metrics[g]!.builder().set(label, formatOpenMetricsFloat(q)).labels();
      labelled.set(key, ls);
    }
    return ls;
  };
  return ev.rangeEval(before, [input, ...qMats], (k, t, vecs, out) => {
    const v = vecs[0]!;
    // i < qs.length = qArgs.length.
    for (let i = 0; i < qs.length; i++) checkQuantile(ev, qs[i]![k]!, qArgs[i]!);
    fillBuckets(ev, input, bg, v, e.args[0]!);
    const natives = nativeSamples(ev, input, bg, v, e.args[0]!);
    for (let i = 0; i < qs.length; i++) {
      const q = qs[i]![k]!;
      emitNativeQuantiles(ev, natives, q, t, e.args[0]!, out, (m) => m.builder().set(label, formatOpenMetricsFloat(q)).labels());
      // g < metrics.length: a group (see BucketGroups).
      for (let g = 0; g < bg.metrics.length; g++) {
        if (bg.filled[g] === 0) continue;
        out.emit(withQuantile(g, q), true, t, quantileOfGroup(ev, bg, g, q, t, e.args[0]!));
      }
    }
  });
}
