// The merge of several queriers (head + blocks) with de-duplication where
// blocks overlap.
import { sortStrings } from '../gofmt/order.js';
import type { FloatHistogram, Histogram } from '../model/histogram.js';
import { Labels } from '../model/labels.js';
import type { Matcher } from '../model/matcher.js';
import {
  ValueType,
  type LabelHints,
  type Querier,
  type SampleIterator,
  type SelectHints,
  type Series,
  type SeriesSet,
} from '../storage/interface.js';
import { EMPTY_SERIES_SET } from './chunks/chunk_list.js';

/**
 * Merges iterators of the same series from several sources; at equal
 * timestamps the first source wins and the others are skipped.
 */
export class MergedIterator implements SampleIterator {
  private readonly ts: Float64Array;
  /** What each iterator holds now (ValueType.None at its end). */
  private readonly ok: Uint8Array;
  private cur = -1;
  private started = false;
  private error: Error | null = null;

  constructor(private readonly its: SampleIterator[]) {
    this.ts = new Float64Array(its.length);
    this.ok = new Uint8Array(its.length);
  }

  // its, ts and ok are parallel arrays, and cur/best index an iterator: every read in this class is in range.
  private pick(): ValueType {
    let best = -1;
    for (let i = 0; i < this.its.length; i++) {
      if (this.ok[i] !== ValueType.None && (best < 0 || this.ts[i]! < this.ts[best]!)) best = i;
    }
    this.cur = best;
    if (best < 0) {
      for (const it of this.its) if (it.err() !== null) this.error = it.err();
      return ValueType.None;
    }
    return this.ok[best]!;
  }

  private advance(i: number, seekT: number): void {
    const it = this.its[i]!;
    const r = seekT === -Infinity ? it.next() : it.seek(seekT);
    this.ok[i] = r;
    if (r !== ValueType.None) this.ts[i] = it.t();
  }

  next(): ValueType {
    if (!this.started) {
      this.started = true;
      for (let i = 0; i < this.its.length; i++) this.advance(i, -Infinity);
      return this.pick();
    }
    if (this.cur < 0) return ValueType.None;
    const t = this.ts[this.cur]!;
    for (let i = 0; i < this.its.length; i++) if (this.ok[i] !== ValueType.None && this.ts[i] === t) this.advance(i, -Infinity);
    return this.pick();
  }

  seek(t: number): ValueType {
    if (this.started && this.cur >= 0 && this.ts[this.cur]! >= t) return this.ok[this.cur]!;
    if (this.started && this.cur < 0) return ValueType.None;
    for (let i = 0; i < this.its.length; i++) {
      if (!this.started || (this.ok[i] !== ValueType.None && this.ts[i]! < t)) this.advance(i, t);
    }
    this.started = true;
    return this.pick();
  }

  t(): number {
    return this.its[this.cur]!.t();
  }

  v(): number {
    return this.its[this.cur]!.v();
  }

  atHistogram(): Histogram {
    const it = this.its[this.cur]!;
    if (it.atHistogram === undefined) throw new Error('BUG: atHistogram() on an iterator without histograms');
    return it.atHistogram();
  }

  atFloatHistogram(): FloatHistogram {
    const it = this.its[this.cur]!;
    if (it.atFloatHistogram === undefined) throw new Error('BUG: atFloatHistogram() on an iterator without histograms');
    return it.atFloatHistogram();
  }

  err(): Error | null {
    return this.error;
  }
}

class MergedSeries implements Series {
  constructor(
    readonly labels: Labels,
    private readonly parts: Series[],
  ) {}
  iterator(): SampleIterator {
    return new MergedIterator(this.parts.map((p) => p.iterator()));
  }
}

/** Merges series sets that are each sorted by labels into one sorted set. */
export class MergeSeriesSet implements SeriesSet {
  private readonly heads: (Series | null)[];
  private current: Series | null = null;
  private started = false;

  constructor(private readonly sets: SeriesSet[]) {
    this.heads = sets.map(() => null);
  }

  next(): boolean {
    if (!this.started) {
      this.started = true;
      // heads and sets are parallel arrays.
      for (let i = 0; i < this.sets.length; i++) this.heads[i] = this.sets[i]!.next() ? this.sets[i]!.at() : null;
    }
    let min: Labels | null = null;
    for (const h of this.heads) if (h !== null && (min === null || Labels.compare(h.labels, min) < 0)) min = h.labels;
    if (min === null) {
      this.current = null;
      return false;
    }
    const parts: Series[] = [];
    // heads and sets are parallel arrays.
    for (let i = 0; i < this.heads.length; i++) {
      const h = this.heads[i]!;
      if (h !== null && h.labels.equals(min)) {
        parts.push(h);
        this.heads[i] = this.sets[i]!.next() ? this.sets[i]!.at() : null;
      }
    }
    // parts holds at least the series labelled min.
    this.current = parts.length === 1 ? parts[0]! : new MergedSeries(parts[0]!.labels, parts);
    return true;
  }

  at(): Series {
    return this.current!;
  }

  err(): Error | null {
    for (const s of this.sets) if (s.err() !== null) return s.err();
    return null;
  }

  warnings(): readonly string[] {
    const w: string[] = [];
    for (const s of this.sets) w.push(...s.warnings());
    return w;
  }
}

function mergeSortedStrings(lists: string[][], limit: number): string[] {
  const set = new Set<string>();
  for (const l of lists) for (const s of l) set.add(s);
  const out = sortStrings([...set]);
  return limit > 0 && out.length > limit ? out.slice(0, limit) : out;
}

/** A querier over several sources (blocks and head); closing it closes them all. */
export class MergeQuerier implements Querier {
  private closed = false;

  constructor(
    private readonly queriers: Querier[],
    private readonly onClose: () => void = () => {},
  ) {}

  select(sortSeries: boolean, hints: SelectHints | null, ...matchers: Matcher[]): SeriesSet {
    if (this.queriers.length === 0) return EMPTY_SERIES_SET;
    // length 1: index 0 exists.
    if (this.queriers.length === 1) return this.queriers[0]!.select(sortSeries, hints, ...matchers);
    // Merging needs every input sorted.
    return new MergeSeriesSet(this.queriers.map((q) => q.select(true, hints, ...matchers)));
  }

  labelValues(name: string, hints: LabelHints | null, ...matchers: Matcher[]): string[] {
    const lists = this.queriers.map((q) => q.labelValues(name, hints, ...matchers));
    return mergeSortedStrings(lists, hints?.limit ?? 0);
  }

  labelNames(hints: LabelHints | null, ...matchers: Matcher[]): string[] {
    const lists = this.queriers.map((q) => q.labelNames(hints, ...matchers));
    return mergeSortedStrings(lists, hints?.limit ?? 0);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const q of this.queriers) q.close();
    this.onClose();
  }
}
