// Gathers per-step results into output series, reproducing how Prometheus's
// rangeEval assembles them: an instant evaluation keeps the order in which
// samples were produced, a range evaluation merges samples with the same
// label set into one series and rejects two at the same timestamp.
import type { FloatHistogram } from '../../model/histogram.js';
import type { Labels } from '../../model/labels.js';
import { EvalError } from './errors.js';
import { Series, type Matrix } from './value.js';

export const DUPLICATE_LABELSET = 'vector cannot contain metrics with the same labelset';

/**
 * Label sets seen so far, by hash: checking thousands of series for duplicates keeps a number per
 * series instead of a key string. Different sets with the same hash are told apart by comparing them.
 */
export class LabelSetIndex<L extends { hash(): number; equals(o: L): boolean } = Labels> {
  private readonly byHash = new Map<number, L | L[]>();

  /** Adds `ls`; false when an equal set was added before. */
  add(ls: L): boolean {
    const h = ls.hash();
    const prev = this.byHash.get(h);
    if (prev === undefined) {
      this.byHash.set(h, ls);
      return true;
    }
    const list = Array.isArray(prev) ? prev : [prev];
    for (const o of list) if (o.equals(ls)) return false;
    list.push(ls);
    this.byHash.set(h, list);
    return true;
  }
}

/**
 * Ordinals for label sets: equal sets get the same ordinal (0, 1, ...), told
 * apart by hash and then by comparison. Operators that know a result's
 * ordinal emit by it (StepCollector.emitAt) instead of by key string.
 */
export class LabelOrdinals {
  private readonly byHash = new Map<number, number | number[]>();
  private readonly list: Labels[] = [];

  ordinal(ls: Labels): number {
    const h = ls.hash();
    const prev = this.byHash.get(h);
    if (prev === undefined) {
      this.byHash.set(h, this.list.length);
      this.list.push(ls);
      return this.list.length - 1;
    }
    // Ordinals stored here are below list.length.
    const cands = typeof prev === 'number' ? [prev] : prev;
    for (const o of cands) if (this.list[o]!.equals(ls)) return o;
    const o = this.list.length;
    this.list.push(ls);
    this.byHash.set(h, [...cands, o]);
    return o;
  }
}

export class StepCollector {
  readonly out: Matrix = [];
  /** Samples emitted since the last call to takeEmitted(). */
  private emitted = 0;
  private readonly byKey: Map<string, Series> | null;
  private readonly seen: LabelSetIndex | null;
  /** Series by label-set ordinal for emitAt (a collector is fed either by ordinal or by label set, not both). */
  private readonly byOrdinal: Array<Series | undefined> = [];
  private readonly checkInstantDuplicates: boolean;

  constructor(
    private readonly instant: boolean,
    /** Instant evaluations reject duplicates right away unless names are removed late. */
    checkInstantDuplicates: boolean,
    private readonly capacity: number,
  ) {
    this.byKey = instant ? null : new Map();
    this.seen = instant && checkInstantDuplicates ? new LabelSetIndex() : null;
    this.checkInstantDuplicates = checkInstantDuplicates;
  }

  /** Like emit, for a label set whose ordinal (see LabelOrdinals) the caller knows: no key or hash per sample. */
  emitAt(ordinal: number, metric: Labels, dropName: boolean, t: number, v: number): void {
    this.seriesAt(ordinal, metric, dropName, t).push(t, v);
  }

  emitHistogramAt(ordinal: number, metric: Labels, dropName: boolean, t: number, h: FloatHistogram): void {
    this.seriesAt(ordinal, metric, dropName, t).pushHistogram(t, h);
  }

  private seriesAt(ordinal: number, metric: Labels, dropName: boolean, t: number): Series {
    this.emitted++;
    let s = this.byOrdinal[ordinal];
    if (this.instant) {
      // One step: a label set met again is a duplicate (unless names are removed late, as in emit).
      if (s !== undefined && this.checkInstantDuplicates) throw new EvalError(DUPLICATE_LABELSET);
      s = new Series(metric, dropName, 1);
      this.byOrdinal[ordinal] = s;
      this.out.push(s);
      return s;
    }
    if (s === undefined) {
      s = new Series(metric, dropName, this.capacity);
      this.byOrdinal[ordinal] = s;
      this.out.push(s);
    } else if (s.n > 0 && s.ts[s.off + s.n - 1] === t) {
      throw new EvalError(DUPLICATE_LABELSET);
    }
    return s;
  }

  emit(metric: Labels, dropName: boolean, t: number, v: number): void {
    this.seriesFor(metric, dropName, t).push(t, v);
  }

  emitHistogram(metric: Labels, dropName: boolean, t: number, h: FloatHistogram): void {
    this.seriesFor(metric, dropName, t).pushHistogram(t, h);
  }

  private seriesFor(metric: Labels, dropName: boolean, t: number): Series {
    this.emitted++;
    if (this.byKey === null) {
      if (this.seen !== null && !this.seen.add(metric)) throw new EvalError(DUPLICATE_LABELSET);
      const s = new Series(metric, dropName, 1);
      this.out.push(s);
      return s;
    }
    const key = metric.key();
    let s = this.byKey.get(key);
    if (s === undefined) {
      s = new Series(metric, dropName, this.capacity);
      this.byKey.set(key, s);
      this.out.push(s);
    } else if (s.n > 0 && s.ts[s.off + s.n - 1] === t) {
      throw new EvalError(DUPLICATE_LABELSET);
    }
    return s;
  }

  takeEmitted(): number {
    const n = this.emitted;
    this.emitted = 0;
    return n;
  }

  /** The output series, trimmed of spare capacity. */
  result(): Matrix {
    if (!this.instant) for (const s of this.out) s.trim();
    return this.out;
  }
}

/** True when two series share a label set. */
export function containsSameLabelset(m: Matrix): boolean {
  if (m.length < 2) return false;
  if (m.length === 2) return m[0]!.metric.equals(m[1]!.metric); // both exist: length 2
  const seen = new LabelSetIndex();
  for (const s of m) if (!seen.add(s.metric)) return true;
  return false;
}

/**
 * Merges series that share a label set (after a name was dropped or a label
 * rewritten); fails when two of them have a sample at the same timestamp.
 */
export function mergeSameLabelset(m: Matrix): Matrix {
  if (!containsSameLabelset(m)) return m;
  const groups = new Map<string, Series[]>();
  for (const s of m) {
    const k = s.metric.key();
    const g = groups.get(k);
    if (g === undefined) groups.set(k, [s]);
    else g.push(s);
  }
  const out: Matrix = [];
  for (const g of groups.values()) {
    // A group has at least one series (it is made with its first).
    if (g.length === 1) {
      out.push(g[0]!);
      continue;
    }
    let total = 0;
    for (const s of g) total += s.n;
    const idx = new Array<number>(total);
    const ts = new Float64Array(total);
    const vs = new Float64Array(total);
    let hs: Array<FloatHistogram | undefined> | null = null;
    let w = 0;
    for (const s of g) {
      // i in [off, off + n): a point of s; w < total = the arrays' length.
      for (let i = s.off; i < s.off + s.n; i++) {
        ts[w] = s.ts[i]!;
        vs[w] = s.vs[i]!;
        const h = s.histogramAt(i - s.off);
        if (h !== undefined) (hs ??= [])[w] = h;
        idx[w] = w;
        w++;
      }
    }
    idx.sort((a, b) => ts[a]! - ts[b]!);
    const merged = new Series(g[0]!.metric, g[0]!.dropName, total);
    // idx holds the positions 0..total-1 of ts/vs.
    for (let i = 0; i < total; i++) {
      const j = idx[i]!;
      if (i > 0 && ts[j] === merged.ts[merged.off + merged.n - 1]) throw new EvalError(DUPLICATE_LABELSET);
      const h = hs === null ? undefined : hs[j];
      if (h !== undefined) merged.pushHistogram(ts[j]!, h);
      else merged.push(ts[j]!, vs[j]!);
    }
    out.push(merged);
  }
  return out;
}
