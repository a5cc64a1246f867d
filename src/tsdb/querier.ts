// Reading side shared by the head and blocks: an iterator over a series'
// chunks (range- and tombstone-aware), series sets, and the merge of several
// queriers (head + blocks) with de-duplication where blocks overlap.
import { compareStrings } from '../gofmt/order.js';
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
import { XorIterator } from './chunkenc/xor.js';

/**
 * The chunks of one series, as views into bytes owned by the head (pages) or
 * by a block read (one buffer per series). count -1 means "read the header".
 */
export class ChunkList {
  n = 0;
  bufs: Uint8Array[] = [];
  starts: number[] = [];
  ends: number[] = [];
  counts: number[] = [];
  mints: number[] = [];
  maxts: number[] = [];

  push(buf: Uint8Array, start: number, end: number, count: number, mint: number, maxt: number): void {
    this.bufs.push(buf);
    this.starts.push(start);
    this.ends.push(end);
    this.counts.push(count);
    this.mints.push(mint);
    this.maxts.push(maxt);
    this.n++;
  }
}

/** True when t falls in one of the sorted, disjoint [mint, maxt] intervals. */
export function isDeleted(intervals: Float64Array | null, t: number): boolean {
  if (intervals === null) return false;
  for (let i = 0; i < intervals.length; i += 2) {
    if (t < intervals[i]!) return false;
    if (t <= intervals[i + 1]!) return true;
  }
  return false;
}

/** True when [a, b] lies entirely inside one of the (merged) intervals. */
export function isCovered(intervals: Float64Array | null, a: number, b: number): boolean {
  if (intervals === null) return false;
  for (let i = 0; i < intervals.length; i += 2) if (intervals[i]! <= a && b <= intervals[i + 1]!) return true;
  return false;
}

/** Iterates the samples of a ChunkList within [mint, maxt], skipping deleted intervals. */
export class ChunkSeriesIterator implements SampleIterator {
  private ci = -1;
  private readonly x = new XorIterator();
  private loaded = false;
  private valid = false;
  private done = false;
  private di = 0;
  private error: Error | null = null;

  constructor(
    private readonly cl: ChunkList,
    private readonly mint: number,
    private readonly maxt: number,
    private readonly del: Float64Array | null,
  ) {}

  private finish(): ValueType {
    this.valid = false;
    this.done = true;
    return ValueType.None;
  }

  /** Loads the first chunk at index >= from whose maxt >= minT; false when there is none in range. */
  private load(from: number, minT: number): boolean {
    const cl = this.cl;
    let ci = from;
    while (ci < cl.n && cl.maxts[ci]! < minT) ci++;
    if (ci >= cl.n || cl.mints[ci]! > this.maxt) return false;
    this.ci = ci;
    this.x.reset(cl.bufs[ci]!, cl.starts[ci]!, cl.ends[ci]!, cl.counts[ci]!);
    this.loaded = true;
    return true;
  }

  private deleted(t: number): boolean {
    const d = this.del!;
    while (this.di < d.length && d[this.di + 1]! < t) this.di += 2;
    return this.di < d.length && d[this.di]! <= t;
  }

  next(): ValueType {
    if (this.done) return ValueType.None;
    const x = this.x;
    for (;;) {
      if (!this.loaded && !this.load(this.ci + 1, this.mint)) return this.finish();
      if (x.next()) {
        const t = x.ts;
        if (t < this.mint) continue;
        if (t > this.maxt) return this.finish();
        if (this.del !== null && this.deleted(t)) continue;
        this.valid = true;
        return ValueType.Float;
      }
      if (x.error !== null) {
        this.error = x.error;
        return this.finish();
      }
      this.loaded = false;
    }
  }

  seek(t: number): ValueType {
    if (this.done) return ValueType.None;
    if (this.valid && this.x.ts >= t) return ValueType.Float;
    // Skip whole chunks that end before t.
    if (!this.loaded || this.cl.maxts[this.ci]! < t) {
      if (!this.load(this.loaded ? this.ci + 1 : this.ci + 1, Math.max(t, this.mint))) return this.finish();
    }
    for (;;) {
      const r = this.next();
      if (r === ValueType.None || this.x.ts >= t) return r;
    }
  }

  t(): number {
    return this.x.ts;
  }

  v(): number {
    return this.x.v();
  }

  err(): Error | null {
    return this.error;
  }
}

export class EmptyIterator implements SampleIterator {
  next(): ValueType {
    return ValueType.None;
  }
  seek(): ValueType {
    return ValueType.None;
  }
  t(): number {
    return 0;
  }
  v(): number {
    return 0;
  }
  err(): Error | null {
    return null;
  }
}

export class ListSeriesSet implements SeriesSet {
  private i = -1;
  constructor(
    private readonly list: Series[],
    private readonly warns: readonly string[] = [],
    private readonly error: Error | null = null,
  ) {}
  next(): boolean {
    if (this.i < this.list.length) this.i++;
    return this.i < this.list.length;
  }
  at(): Series {
    return this.list[this.i]!;
  }
  err(): Error | null {
    return this.error;
  }
  warnings(): readonly string[] {
    return this.warns;
  }
}

export const EMPTY_SERIES_SET: SeriesSet = new ListSeriesSet([]);

/**
 * Merges iterators of the same series from several sources; at equal
 * timestamps the first source wins and the others are skipped.
 */
export class MergedIterator implements SampleIterator {
  private readonly ts: Float64Array;
  private readonly ok: Uint8Array;
  private cur = -1;
  private started = false;
  private error: Error | null = null;

  constructor(private readonly its: SampleIterator[]) {
    this.ts = new Float64Array(its.length);
    this.ok = new Uint8Array(its.length);
  }

  private pick(): ValueType {
    let best = -1;
    for (let i = 0; i < this.its.length; i++) {
      if (this.ok[i] === 1 && (best < 0 || this.ts[i]! < this.ts[best]!)) best = i;
    }
    this.cur = best;
    if (best < 0) {
      for (const it of this.its) if (it.err() !== null) this.error = it.err();
      return ValueType.None;
    }
    return ValueType.Float;
  }

  private advance(i: number, seekT: number): void {
    const it = this.its[i]!;
    const r = seekT === -Infinity ? it.next() : it.seek(seekT);
    this.ok[i] = r === ValueType.None ? 0 : 1;
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
    for (let i = 0; i < this.its.length; i++) if (this.ok[i] === 1 && this.ts[i] === t) this.advance(i, -Infinity);
    return this.pick();
  }

  seek(t: number): ValueType {
    if (this.started && this.cur >= 0 && this.ts[this.cur]! >= t) return ValueType.Float;
    if (this.started && this.cur < 0) return ValueType.None;
    for (let i = 0; i < this.its.length; i++) {
      if (!this.started || (this.ok[i] === 1 && this.ts[i]! < t)) this.advance(i, t);
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
      for (let i = 0; i < this.sets.length; i++) this.heads[i] = this.sets[i]!.next() ? this.sets[i]!.at() : null;
    }
    let min: Labels | null = null;
    for (const h of this.heads) if (h !== null && (min === null || Labels.compare(h.labels, min) < 0)) min = h.labels;
    if (min === null) {
      this.current = null;
      return false;
    }
    const parts: Series[] = [];
    for (let i = 0; i < this.heads.length; i++) {
      const h = this.heads[i]!;
      if (h !== null && h.labels.equals(min)) {
        parts.push(h);
        this.heads[i] = this.sets[i]!.next() ? this.sets[i]!.at() : null;
      }
    }
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
  const out = [...set].sort(compareStrings);
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
