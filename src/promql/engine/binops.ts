// Binary operators: arithmetic, comparison and set operators between
// scalars and vectors, with one-to-one, many-to-one and one-to-many matching.
import { CounterResetHint, HistogramError, type FloatHistogram } from '../../model/histogram.js';
import { compareStrings } from '../../gofmt/order.js';
import { Labels } from '../../model/labels.js';
import type { BinaryExpr, BinaryOp, PosRange, VectorMatching } from '../parser/ast.js';
import { annotations, type Annotation } from './annotations.js';
import { exprType } from '../parser/parser.js';
import { LabelOrdinals, mergeSameLabelset, type StepCollector } from './collector.js';
import type { EvalContext } from './context.js';
import type { StepVector } from './cursors.js';
import { EvalError } from './errors.js';
import { trimBuckets } from './native_histograms.js';
import { SignatureIndex } from './signature_index.js';
import { goAtan2, goPow } from './go_math.js';
import { Series, dropMetadata, metricsOf, sameMetadata, type Matrix } from './value.js';

/** Arithmetic result; NaN placeholders are never returned for comparisons (see compare). */
function arith(op: BinaryOp, l: number, r: number): number {
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      return l / r;
    case '%':
      return l % r;
    case '^':
      return goPow(l, r);
    case 'atan2':
      return goAtan2(l, r);
    default:
      throw new EvalError(`BUG: ${op} is not an arithmetic operator`);
  }
}

function compare(op: BinaryOp, l: number, r: number): boolean {
  switch (op) {
    case '==':
      return l === r;
    case '!=':
      return l !== r;
    case '>':
      return l > r;
    case '<':
      return l < r;
    case '>=':
      return l >= r;
    case '<=':
      return l <= r;
    default:
      throw new EvalError(`BUG: ${op} is not a comparison operator`);
  }
}

function isComparison(op: BinaryOp): boolean {
  return op === '==' || op === '!=' || op === '>' || op === '<' || op === '>=' || op === '<=';
}

/** Operators whose result no longer means what the metric name says. */
function changesMetricSchema(op: BinaryOp): boolean {
  return op === '+' || op === '-' || op === '*' || op === '/' || op === '%' || op === '^' || op === 'atan2';
}

/** An element-wise operation with a histogram on either side (Prometheus's vectorElemBinop). */
interface HistogramElemResult {
  v: number;
  h: FloatHistogram | undefined;
  keep: boolean;
  /** An annotation that drops the sample (an info about incompatible types, a collision warning). */
  err: Annotation | null;
  /** An info that keeps the sample (custom buckets reconciled). */
  info: Annotation | null;
}

function histogramElemBinop(op: BinaryOp, l: number, r: number, hl: FloatHistogram | undefined, hr: FloatHistogram | undefined, pos: PosRange): HistogramElemResult {
  const res: HistogramElemResult = { v: 0, h: undefined, keep: false, err: null, info: null };
  const incompatible = (): HistogramElemResult => ({ ...res, err: annotations.incompatibleTypesInBinOp(op, hl ? 'histogram' : 'float', hr ? 'histogram' : 'float', pos) });
  if (hl === undefined && hr !== undefined) {
    if (op === '*') return { ...res, h: hr.mul(l).compact(0), keep: true };
    return incompatible();
  }
  if (hl !== undefined && hr === undefined) {
    if (op === '*') return { ...res, h: hl.mul(r).compact(0), keep: true };
    if (op === '/') return { ...res, h: hl.div(r).compact(0), keep: true };
    if (op === '</' || op === '>/') return { ...res, h: trimBuckets(hl, r, op === '</'), keep: true };
    return incompatible();
  }
  if (hl === undefined || hr === undefined) {
    if (op === '</' || op === '>/') return incompatible();
    throw new EvalError('BUG: a float operation on the histogram path');
  }
  switch (op) {
    case '+':
    case '-': {
      const r2 = op === '+' ? hl.add(hr) : hl.sub(hr);
      let h = r2.histogram;
      if (op === '-') h = h.with({ counterResetHint: CounterResetHint.Gauge });
      const what = op === '+' ? 'addition' : 'subtraction';
      return {
        ...res,
        h: h.compact(0),
        keep: true,
        err: r2.counterResetCollision ? annotations.histogramCounterResetCollision(what, pos) : null,
        info: r2.nhcbBoundsReconciled ? annotations.mismatchedCustomBuckets(what, pos) : null,
      };
    }
    case '==':
      return { ...res, h: hl, keep: hl.equals(hr) };
    case '!=':
      return { ...res, h: hl, keep: !hl.equals(hr) };
    default:
      return incompatible();
  }
}

function isIncompatibleSchema(e: unknown): boolean {
  return e instanceof HistogramError && e.kind === 'incompatible_schema';
}

export async function evalBinary(ev: EvalContext, e: BinaryExpr): Promise<Matrix> {
  const lt = exprType(e.lhs);
  const rt = exprType(e.rhs);
  const before = ev.currentSamples;
  if (lt === 'scalar' && rt === 'scalar') {
    const l = await ev.evalMatrix(e.lhs);
    const r = await ev.evalMatrix(e.rhs);
    const lv = ev.dense(l);
    const rv = ev.dense(r);
    const s = new Series(Labels.EMPTY, false, ev.numSteps);
    const produced = new Int32Array(ev.numSteps);
    // k < numSteps = lv.length = rv.length.
    for (let k = 0; k < ev.numSteps; k++) {
      const x = lv[k]!;
      const y = rv[k]!;
      s.push(ev.stepTime(k), isComparison(e.op) ? (compare(e.op, x, y) ? 1 : 0) : arith(e.op, x, y));
      produced[k] = 1;
    }
    ev.accountStepwise(before, ev.currentSamples, ev.pointsPerStep([l, r]), produced);
    return [s];
  }
  if (lt === 'vector' && rt === 'vector') {
    const l = await ev.evalMatrix(e.lhs);
    const r = await ev.evalMatrix(e.rhs);
    const matching = e.matching ?? { card: 'one-to-one', matchingLabels: [], on: false, include: [] };
    if (e.op === 'and' || e.op === 'or' || e.op === 'unless') return setOperation(ev, e.op, l, r, matching, before);
    return vectorBinop(ev, e, l, r, matching, before);
  }
  // Vector and scalar.
  const scalarLeft = lt === 'scalar';
  const lm = await ev.evalMatrix(e.lhs);
  const rm = await ev.evalMatrix(e.rhs);
  const vec = scalarLeft ? rm : lm;
  const scalar = ev.dense(scalarLeft ? lm : rm);
  const gathered = ev.pointsPerStep([lm, rm]);
  return vectorScalar(ev, e, vec, scalar, scalarLeft, before, gathered);
}

async function vectorScalar(
  ev: EvalContext,
  e: BinaryExpr,
  vec: Matrix,
  scalar: Float64Array,
  scalarLeft: boolean,
  before: number,
  gathered: Int32Array,
): Promise<Matrix> {
  const held = ev.currentSamples;
  const produced = new Int32Array(ev.numSteps);
  const unique = sameMetadata(metricsOf(vec));
  const op = e.op;
  const cmp = isComparison(op);
  const trim = op === '</' || op === '>/';
  const dropsName = changesMetricSchema(op) || e.returnBool;
  const delayed = ev.q.delayedNameRemoval;
  const out: Matrix = [];
  for (const s of vec) {
    const ts = s.ts;
    const vs = s.vs;
    const hs = s.hs;
    const o = s.off;
    let w = 0;
    // o + i is a point of s; its timestamp is a step time, so 0 <= k < numSteps = scalar.length.
    for (let i = 0; i < s.n; i++) {
      const t = ts[o + i]!;
      const x = vs[o + i]!;
      const k = ev.stepOf(t);
      const y = scalar[k]!;
      const l = scalarLeft ? y : x;
      const r = scalarLeft ? x : y;
      const hx = hs === null ? undefined : hs[i];
      if (hx !== undefined) {
        const res = histogramElemBinop(op, l, r, scalarLeft ? undefined : hx, scalarLeft ? hx : undefined, e.posRange);
        if (res.err !== null) {
          ev.q.annotations.add(res.err);
          continue;
        }
        if (!res.keep && !e.returnBool) continue;
        ts[o + w] = t;
        if (e.returnBool) {
          vs[o + w] = res.keep ? 1 : 0;
          hs![w] = undefined;
        } else {
          // A comparison keeps the vector's sample, whichever side it is on.
          hs![w] = cmp ? hx : res.h;
        }
        w++;
        produced[k]!++;
        continue;
      }
      if (hs !== null) hs[w] = undefined;
      if (trim) {
        ev.q.annotations.add(annotations.incompatibleTypesInBinOp(op, 'float', 'float', e.posRange));
        continue;
      }
      let v: number;
      if (cmp) {
        const keep = compare(op, l, r);
        if (e.returnBool) v = keep ? 1 : 0;
        else if (keep) v = x;
        else continue;
      } else {
        v = arith(op, l, r);
      }
      ts[o + w] = t;
      vs[o + w] = v;
      w++;
      produced[k]!++;
    }
    s.n = w;
    if (hs !== null) hs.length = w;
    if (dropsName) {
      if (!delayed) s.metric = dropMetadata(s.metric);
      s.dropName = true;
    }
    if (w > 0) out.push(s);
    await ev.tick(w + 1);
  }
  ev.accountStepwise(before, held, gathered, produced);
  return dropsName && !delayed && !unique ? mergeSameLabelset(out) : out;
}

// ---------------------------------------------------------------------------
// Vector matching

/** Series given a join signature between yields. */
const SERIES_PER_SIGNATURE_TICK = 2048;

/**
 * Ordinals of the join signatures of both sides (equal signatures share an ordinal): the values of the
 * on(...) labels, or all labels but the ignoring(...) ones and the name.
 */
async function signatures(ev: EvalContext, l: Matrix, r: Matrix, m: VectorMatching): Promise<{ ls: Int32Array; rs: Int32Array; count: number }> {
  const index = new SignatureIndex([...m.matchingLabels].sort(), m.on);
  const side = async (x: Matrix): Promise<Int32Array> => {
    const sig = new Int32Array(x.length);
    // i < x.length = sig.length.
    for (let i = 0; i < x.length; i++) {
      sig[i] = index.ordinal(x[i]!.metric);
      if ((i + 1) % SERIES_PER_SIGNATURE_TICK === 0) await ev.tick(SERIES_PER_SIGNATURE_TICK);
    }
    return sig;
  };
  const lsig = await side(l);
  const rsig = await side(r);
  return { ls: lsig, rs: rsig, count: index.size };
}

/** Prometheus's Labels.MatchLabels: the on(...) labels, or all but ignoring(...) ones and the name. */
function matchLabels(ls: Labels, m: VectorMatching): Labels {
  if (m.on) return ls.keep(...m.matchingLabels);
  return ls.without('__name__', ...m.matchingLabels);
}

function isMetadataName(n: string): boolean {
  return n === '__name__' || n === '__type__' || n === '__unit__';
}

/**
 * The labels of a vector-matching result, built from the "many" side's sorted pairs in one pass: the
 * metadata labels dropped when the operation changes what the metric means, a one-to-one result reduced
 * to its matching labels, and the group_left/group_right labels taken from the "one" side (unset there: removed).
 */
function resultLabelsFn(m: VectorMatching, oneToOne: boolean, dropMeta: boolean): (many: Labels, one: Labels) => Labels {
  const matching = m.matchingLabels;
  const include = [...new Set(m.include)].sort(compareStrings);
  return (many, one) => {
    const p = many.toPairs();
    const out: string[] = [];
    let changed = false;
    // Name/value pairs: i + 1 < p.length.
    for (let i = 0; i < p.length; i += 2) {
      const n = p[i]!;
      if ((dropMeta && isMetadataName(n)) || (oneToOne && matching.includes(n) !== m.on) || include.includes(n)) {
        changed = true;
        continue;
      }
      out.push(n, p[i + 1]!);
    }
    if (include.length === 0) return changed ? Labels.fromSortedPairs(out) : many;
    // Merge the included labels (sorted) into the sorted pairs kept.
    const merged: string[] = [];
    let i = 0;
    for (const n of include) {
      const v = one.get(n);
      if (v === '') continue;
      // i + 1 < out.length while i < out.length (pairs).
      while (i < out.length && compareStrings(out[i]!, n) < 0) {
        merged.push(out[i]!, out[i + 1]!);
        i += 2;
      }
      merged.push(n, v);
    }
    for (; i < out.length; i++) merged.push(out[i]!);
    return Labels.fromSortedPairs(merged);
  };
}

async function setOperation(
  ev: EvalContext,
  op: 'and' | 'or' | 'unless',
  l: Matrix,
  r: Matrix,
  m: VectorMatching,
  before: number,
): Promise<Matrix> {
  const sig = await signatures(ev, l, r, m);
  const mark = new Uint8Array(Math.max(1, sig.count));
  // Output series are told apart by label-set ordinals found once per input series, not per emitted sample.
  const ords = new LabelOrdinals();
  const ordinalsOf = async (x: Matrix): Promise<Int32Array> => {
    const o = new Int32Array(x.length);
    // i < x.length = o.length.
    for (let i = 0; i < x.length; i++) {
      o[i] = ords.ordinal(x[i]!.metric);
      if ((i + 1) % SERIES_PER_SIGNATURE_TICK === 0) await ev.tick(SERIES_PER_SIGNATURE_TICK);
    }
    return o;
  };
  const lo = await ordinalsOf(l);
  const ro = op === 'or' ? await ordinalsOf(r) : new Int32Array(0);
  // In every loop below: vecs has the two sides' StepVectors, their idx[i] (i < n) index l and r, sig.ls/sig.rs
  // have an entry per series of l/r, as lo (and ro for or), and signature ordinals are below sig.count <= mark.length.
  // A step over many series yields on the way (the first one creates every output series).
  return ev.rangeEval(before, [l, r], async (_k, t, vecs, out) => {
    const lv = vecs[0]!;
    const rv = vecs[1]!;
    switch (op) {
      case 'and':
        if (lv.n === 0 || rv.n === 0) return;
        mark.fill(0);
        for (let i = 0; i < rv.n; i++) mark[sig.rs[rv.idx[i]!]!] = 1;
        for (let i = 0; i < lv.n; i++) {
          const si = lv.idx[i]!;
          if (mark[sig.ls[si]!] === 1) emitInput(out, lo[si]!, l[si]!, t, lv.v[i]!, lv.h?.[i]);
          if ((i + 1) % SERIES_PER_SIGNATURE_TICK === 0) await ev.tick(SERIES_PER_SIGNATURE_TICK);
        }
        return;
      case 'or':
        mark.fill(0);
        for (let i = 0; i < lv.n; i++) {
          const si = lv.idx[i]!;
          mark[sig.ls[si]!] = 1;
          emitInput(out, lo[si]!, l[si]!, t, lv.v[i]!, lv.h?.[i]);
          if ((i + 1) % SERIES_PER_SIGNATURE_TICK === 0) await ev.tick(SERIES_PER_SIGNATURE_TICK);
        }
        for (let i = 0; i < rv.n; i++) {
          const si = rv.idx[i]!;
          if (lv.n === 0 || mark[sig.rs[si]!] === 0) emitInput(out, ro[si]!, r[si]!, t, rv.v[i]!, rv.h?.[i]);
          if ((i + 1) % SERIES_PER_SIGNATURE_TICK === 0) await ev.tick(SERIES_PER_SIGNATURE_TICK);
        }
        return;
      case 'unless':
        if (lv.n === 0 || rv.n === 0) {
          for (let i = 0; i < lv.n; i++) {
            emitInput(out, lo[lv.idx[i]!]!, l[lv.idx[i]!]!, t, lv.v[i]!, lv.h?.[i]);
            if ((i + 1) % SERIES_PER_SIGNATURE_TICK === 0) await ev.tick(SERIES_PER_SIGNATURE_TICK);
          }
          return;
        }
        mark.fill(0);
        for (let i = 0; i < rv.n; i++) mark[sig.rs[rv.idx[i]!]!] = 1;
        for (let i = 0; i < lv.n; i++) {
          const si = lv.idx[i]!;
          if (mark[sig.ls[si]!] === 0) emitInput(out, lo[si]!, l[si]!, t, lv.v[i]!, lv.h?.[i]);
          if ((i + 1) % SERIES_PER_SIGNATURE_TICK === 0) await ev.tick(SERIES_PER_SIGNATURE_TICK);
        }
        return;
    }
  });
}

function emitInput(out: StepCollector, ordinal: number, s: Series, t: number, v: number, h: FloatHistogram | undefined): void {
  if (h !== undefined) out.emitHistogramAt(ordinal, s.metric, s.dropName, t, h);
  else out.emitAt(ordinal, s.metric, s.dropName, t, v);
}

async function vectorBinop(ev: EvalContext, e: BinaryExpr, l: Matrix, r: Matrix, m: VectorMatching, before: number): Promise<Matrix> {
  const op = e.op;
  const cmp = isComparison(op);
  const oneToMany = m.card === 'one-to-many';
  const oneToOne = m.card === 'one-to-one';
  const fillL = m.fillValues?.lhs ?? null;
  const fillR = m.fillValues?.rhs ?? null;
  const sig = await signatures(ev, l, r, m);
  const numSigs = Math.max(1, sig.count);
  // After the swap for one-to-many, "many" is always the left and "one" the right.
  const manyM = oneToMany ? r : l;
  const oneM = oneToMany ? l : r;
  const manySig = oneToMany ? sig.rs : sig.ls;
  const oneSig = oneToMany ? sig.ls : sig.rs;
  const rightAt = new Int32Array(numSigs).fill(-1);
  const rightVal = new Float64Array(numSigs);
  const rightH = new Array<FloatHistogram | undefined>(numSigs);
  const matched = new Uint8Array(numSigs);
  const delayed = ev.q.delayedNameRemoval;
  const dropMetricName = !delayed && e.returnBool;
  const dropMeta = dropMetricName || changesMetricSchema(op);
  const joinedLabels = resultLabelsFn(m, oneToOne, dropMeta);
  // One-to-one on(...) results carry just the on(...) labels (fill values included): their label set is the
  // join signature, so the signature ordinal serves as the result's, unless the operation drops an on(...) label.
  const bySignature = oneToOne && m.on && !(dropMeta && m.matchingLabels.some(isMetadataName));
  // Result label sets by ordinal, and per ordinal the (step, signature) of its last insertion: many-to-one
  // rejects a label set produced twice for one signature within a step.
  const results = new LabelOrdinals();
  const resultLabels: Array<Labels | undefined> = [];
  let lastTag = new Float64Array(64).fill(-1);
  // A many-side series meets the same one-side series at every step as a rule: its last partner and the
  // ordinal of their result; other pairs (and fill values, index -1) go through pairCache.
  const lastOne = new Int32Array(manyM.length).fill(-2);
  const lastResult = new Int32Array(manyM.length);
  const pairCache = ev.numSteps > 1 ? new Map<number, number>() : null;
  const stride = oneM.length + 1;

  // The ordinal of the output labels of a pair of input series; index -1 marks a side made up from a fill value.
  // mi < manyM.length = lastOne.length = lastResult.length when mi >= 0.
  const resultOrdinal = (mi: number, many: Labels, oi: number, one: Labels, o: number): number => {
    if (bySignature) {
      // o < numSigs; resultLabels grows to hold it.
      if (resultLabels[o] === undefined) resultLabels[o] = joinedLabels(many, one);
      return o;
    }
    if (mi >= 0 && lastOne[mi] === oi) return lastResult[mi]!;
    const key = (mi + 1) * stride + (oi + 1);
    let r = pairCache?.get(key);
    if (r === undefined) {
      const ls = joinedLabels(many, one);
      r = results.ordinal(ls);
      if (r === resultLabels.length) {
        resultLabels.push(ls);
        if (r >= lastTag.length) {
          const grown = new Float64Array(lastTag.length * 2).fill(-1);
          grown.set(lastTag);
          lastTag = grown;
        }
      }
      pairCache?.set(key, r);
    }
    if (mi >= 0) {
      lastOne[mi] = oi;
      lastResult[mi] = r;
    }
    return r;
  };

  // In every loop below: vecs has the two sides' StepVectors, their idx[i] (i < n) index the side's matrix,
  // oneSig/manySig have an entry per series of it, and signature ordinals are below numSigs, the length of
  // rightAt, rightVal, matched and produced.
  // Result labels are built here, with yields, rather than all in the first step: where a signature has one
  // series on the "one" side, each "many" series meets that series whenever both have a sample.
  const oneOfSig = new Int32Array(numSigs).fill(-1);
  // oi < oneM.length = oneSig.length; mi < manyM.length = manySig.length; ordinals < numSigs.
  for (let oi = 0; oi < oneM.length; oi++) {
    const o = oneSig[oi]!;
    oneOfSig[o] = oneOfSig[o] === -1 ? oi : -2;
  }
  for (let mi = 0; mi < manyM.length; mi++) {
    const oi = oneOfSig[manySig[mi]!]!;
    if (oi >= 0) resultOrdinal(mi, manyM[mi]!.metric, oi, oneM[oi]!.metric, manySig[mi]!);
    if ((mi + 1) % SERIES_PER_SIGNATURE_TICK === 0) await ev.tick(SERIES_PER_SIGNATURE_TICK);
  }

  return ev.rangeEval(before, [l, r], async (step, t, vecs, out) => {
    const lv = vecs[0]!;
    const rv = vecs[1]!;
    if ((lv.n === 0 && rv.n === 0) || ((lv.n === 0 || rv.n === 0) && fillL === null && fillR === null)) return;
    const many: StepVector = oneToMany ? rv : lv;
    const one: StepVector = oneToMany ? lv : rv;
    rightAt.fill(-1);
    const manyH = many.h;
    const oneH = one.h;
    if (oneH !== null) rightH.fill(undefined);
    // As Prometheus reports only the last problem of a step.
    let lastAnn: Annotation | null = null;
    for (let i = 0; i < one.n; i++) {
      const si = one.idx[i]!;
      const o = oneSig[si]!;
      const prev = rightAt[o]!;
      if (prev >= 0) {
        const cur = oneM[si]!.metric;
        const side = oneToMany ? 'left' : 'right';
        // The two series in text order, so the message does not depend on the order they arrived in.
        let dup1 = cur.toString();
        let dup2 = oneM[prev]!.metric.toString();
        if (dup1 > dup2) [dup1, dup2] = [dup2, dup1];
        throw new EvalError(
          `found duplicate series for the match group ${matchLabels(cur, m).toString()} on the ${side} hand-side of the operation: ` +
            `[${dup1}, ${dup2}];many-to-many matching not allowed: matching labels must be unique on one side`,
        );
      }
      rightAt[o] = si;
      rightVal[o] = one.v[i]!;
      if (oneH !== null) rightH[o] = oneH[i];
    }
    if (oneToOne) matched.fill(0);
    const stepTag = step * numSigs;
    // Many-to-one signatures that produced a result in this step (for the left fill below).
    const produced = oneToOne ? null : new Uint8Array(numSigs);

    const apply = (mi: number, manyMetric: Labels, manyV: number, oi: number, oneMetric: Labels, oneV: number, o: number, manyHist?: FloatHistogram, oneHist?: FloatHistogram): void => {
      const x = oneToMany ? oneV : manyV;
      const y = oneToMany ? manyV : oneV;
      let v: number;
      let h: FloatHistogram | undefined;
      let keep = true;
      if (manyHist !== undefined || oneHist !== undefined || op === '</' || op === '>/') {
        let res: HistogramElemResult;
        try {
          res = histogramElemBinop(op, x, y, oneToMany ? oneHist : manyHist, oneToMany ? manyHist : oneHist, e.posRange);
        } catch (err) {
          if (!isIncompatibleSchema(err)) throw err;
          lastAnn = annotations.incompatibleBucketLayoutInBinOp(op, e.posRange);
          return;
        }
        if (res.err !== null) {
          lastAnn = res.err;
          return;
        }
        if (res.info !== null) lastAnn = res.info;
        keep = res.keep;
        v = res.v;
        h = e.returnBool ? undefined : res.h;
      } else if (cmp) {
        keep = compare(op, x, y);
        v = x;
      } else {
        v = arith(op, x, y);
      }
      if (e.returnBool) v = keep ? 1 : 0;
      const r = resultOrdinal(mi, manyMetric, oi, oneMetric, o);
      if (oneToOne) {
        if (matched[o] === 1) throw new EvalError('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
        matched[o] = 1;
      } else {
        const tag = stepTag + o;
        // r < resultLabels.length <= lastTag.length (grown with each new ordinal).
        if (lastTag[r] === tag) throw new EvalError('multiple matches for labels: grouping labels must ensure unique matches');
        lastTag[r] = tag;
        produced![o] = 1;
      }
      if (!keep && !e.returnBool) return;
      // r < resultLabels.length: every ordinal's labels are kept when it is made.
      if (h !== undefined) out.emitHistogramAt(r, resultLabels[r]!, e.returnBool, t, h);
      else out.emitAt(r, resultLabels[r]!, e.returnBool, t, v);
    };

    // As in Prometheus, the fill values apply to the sides after the one-to-many swap:
    // the right fill stands in for a missing "one" sample, the left fill for a missing "many" sample.
    const fillForOne = fillR;
    const fillForMany = fillL;
    for (let i = 0; i < many.n; i++) {
      const si = many.idx[i]!;
      const o = manySig[si]!;
      const ri = rightAt[o]!;
      const mm = manyM[si]!.metric;
      const mh = manyH === null ? undefined : manyH[i];
      if (ri >= 0) {
        apply(si, mm, many.v[i]!, ri, oneM[ri]!.metric, rightVal[o]!, o, mh, oneH === null ? undefined : rightH[o]);
      } else if (fillForOne !== null) {
        apply(si, mm, many.v[i]!, -1, matchLabels(mm, m), fillForOne, o, mh);
      }
      // A step over many series yields on the way: the first one creates every output series.
      if ((i + 1) % SERIES_PER_SIGNATURE_TICK === 0) await ev.tick(SERIES_PER_SIGNATURE_TICK);
    }
    if (fillForMany !== null) {
      for (let i = 0; i < one.n; i++) {
        const si = one.idx[i]!;
        const o = oneSig[si]!;
        if (oneToOne ? matched[o] === 1 : produced![o] === 1) continue;
        const om = oneM[si]!.metric;
        apply(-1, matchLabels(om, m), fillForMany, si, om, one.v[i]!, o, undefined, oneH === null ? undefined : oneH[i]);
      }
    }
    if (lastAnn !== null) ev.q.annotations.add(lastAnn);
  });
}
