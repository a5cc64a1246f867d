// histogram_quantile, histogram_fraction and histogram_quantiles over classic
// histograms: series that differ only in their `le` label form one histogram.
// Bucket membership is worked out once per query; each step only copies the
// present bucket counts into typed arrays and runs the kernel.
//
// Calls arrive type-checked by the parser, with every argument their
// function declares, so e.args[i] of a declared argument is asserted with `!`;
// so are the per-step scalars (numSteps values each, read at steps k < numSteps)
// and the StepVectors rangeEval passes (one per argument).
import { formatOpenMetricsFloat, NumError, parseGoFloat } from '../../gofmt/float.js';
import type { Labels } from '../../model/labels.js';
import type { Call, Expr } from '../parser/ast.js';
import { annotations } from './annotations.js';
import type { EvalContext } from './context.js';
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
    start,
    bounds: new Float64Array(Math.max(1, off)),
    counts: new Float64Array(Math.max(1, off)),
    filled: new Int32Array(metrics.length),
    scratch: new BucketScratch(),
  };
}

/** Collects the buckets present at one step into their groups, warning about bad `le` labels. */
function fillBuckets(ev: EvalContext, input: Matrix, bg: BucketGroups, idx: Int32Array, vals: Float64Array, n: number, arg: Expr): void {
  bg.filled.fill(0);
  // i < n: idx[i] is an input series (see StepVector), g >= 0 a group, and a group's slice has room for its series.
  for (let i = 0; i < n; i++) {
    const si = idx[i]!;
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
    fillBuckets(ev, input, bg, v.idx, v.v, v.n, e.args[1]!);
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
    fillBuckets(ev, input, bg, v.idx, v.v, v.n, e.args[2]!);
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
    fillBuckets(ev, input, bg, v.idx, v.v, v.n, e.args[0]!);
    for (let i = 0; i < qs.length; i++) {
      const q = qs[i]![k]!;
      // g < metrics.length: a group (see BucketGroups).
      for (let g = 0; g < bg.metrics.length; g++) {
        if (bg.filled[g] === 0) continue;
        out.emit(withQuantile(g, q), true, t, quantileOfGroup(ev, bg, g, q, t, e.args[0]!));
      }
    }
  });
}
