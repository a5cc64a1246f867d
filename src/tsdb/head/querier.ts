// Reading the head: a querier holds a reader epoch for its lifetime, selects
// slots through the series table's postings and iterates their chunks in
// place (views into the chunk pages).
import type { Labels } from '../../model/labels.js';
import type { Matcher } from '../../model/matcher.js';
import type { LabelHints, Querier, SampleIterator, SelectHints, Series, SeriesSet } from '../../storage/interface.js';
import { LazySeriesSet } from '../../storage/lazy.js';
import { ChunkList, ChunkSeriesIterator, EmptyIterator } from '../chunks/chunk_list.js';
import type { ChunkTable } from './chunk_table.js';
import type { SeriesTable } from './series.js';

/** What a querier needs of the head (the Head provides it). */
export interface QueryTarget {
  readonly series: SeriesTable;
  readonly chunkTable: ChunkTable;
  /** Deleted intervals of head series, by slot. */
  readonly tombstones: Map<number, Float64Array>;
  acquireReader(): number;
  releaseReader(id: number): void;
}

function hasVisibleChunksIn(head: QueryTarget, slot: number, mint: number, maxt: number): boolean {
  return head.chunkTable.hasVisibleChunksIn(slot, mint, maxt, head.tombstones.get(slot));
}

class HeadSeries implements Series {
  constructor(
    private readonly head: QueryTarget,
    private readonly slot: number,
    private readonly ref: number,
    readonly labels: Labels,
    private readonly mint: number,
    private readonly maxt: number,
    private readonly skipChunks: boolean,
  ) {}

  iterator(reuse?: SampleIterator): SampleIterator {
    const head = this.head;
    if (this.skipChunks || head.series.refOf[this.slot] !== this.ref) return new EmptyIterator();
    const del = head.tombstones.get(this.slot) ?? null;
    if (reuse instanceof ChunkSeriesIterator) {
      // A query reading 10k series would otherwise make 10k lists and iterators (~500 bytes each).
      const cl = reuse.chunks;
      cl.clear();
      head.chunkTable.chunksOf(this.slot, this.mint, this.maxt, cl);
      reuse.restart(this.mint, this.maxt, del);
      return reuse;
    }
    const cl = new ChunkList();
    head.chunkTable.chunksOf(this.slot, this.mint, this.maxt, cl);
    return new ChunkSeriesIterator(cl, this.mint, this.maxt, del);
  }
}

/** Selected series of the head (in postings order, or sorted by labels), made when the reader reaches them. */
class HeadSeriesSet extends LazySeriesSet {
  private i = 0;

  constructor(
    private readonly head: QueryTarget,
    private readonly slots: Uint32Array,
    private readonly refs: Float64Array,
    private readonly mint: number,
    private readonly maxt: number,
    private readonly skipChunks: boolean,
  ) {
    super();
  }

  protected produce(): Series | null {
    const head = this.head;
    // i < slots.length = refs.length.
    while (this.i < this.slots.length) {
      const k = this.i++;
      const slot = this.slots[k]!;
      const ref = this.refs[k]!;
      if (head.series.refOf[slot] !== ref || !hasVisibleChunksIn(head, slot, this.mint, this.maxt)) continue;
      return new HeadSeries(head, slot, ref, head.series.labelsOf(slot), this.mint, this.maxt, this.skipChunks);
    }
    return null;
  }
}

export class HeadQuerier implements Querier {
  private readonly readerId: number;
  private closed = false;

  constructor(
    private readonly head: QueryTarget,
    private readonly mint: number,
    private readonly maxt: number,
  ) {
    this.readerId = head.acquireReader();
  }

  select(sortSeries: boolean, hints: SelectHints | null, ...matchers: Matcher[]): SeriesSet {
    const head = this.head;
    const series = head.series;
    const mint = Math.max(this.mint, hints?.start ?? -Infinity);
    const maxt = Math.min(this.maxt, hints?.end ?? Infinity);
    const skip = hints?.func === 'series';
    let slots = matchers.length === 0 ? series.index.allPostings() : series.postingsForMatchers(matchers);
    const refOf = series.refOf;
    if (sortSeries) {
      // Only the series the set will list are sorted; a copy, since postings lists are shared.
      const keep = new Uint32Array(slots.length);
      let n = 0;
      // i < slots.length.
      for (let i = 0; i < slots.length; i++) if (hasVisibleChunksIn(head, slots[i]!, mint, maxt)) keep[n++] = slots[i]!;
      slots = keep.subarray(0, n);
      series.sortByLabels(slots);
    }
    // The series refs as of now: a slot freed and reused later (only after this reader timed out) is skipped.
    const refs = new Float64Array(slots.length);
    // i < slots.length, and postings hold slots below the table's capacity.
    for (let i = 0; i < slots.length; i++) refs[i] = refOf[slots[i]!]!;
    return new HeadSeriesSet(head, slots, refs, mint, maxt, skip);
  }

  labelValues(name: string, hints: LabelHints | null, ...matchers: Matcher[]): string[] {
    const v = this.head.series.labelValues(name, matchers);
    return hints?.limit && v.length > hints.limit ? v.slice(0, hints.limit) : v;
  }

  labelNames(hints: LabelHints | null, ...matchers: Matcher[]): string[] {
    const v = this.head.series.labelNames(matchers);
    return hints?.limit && v.length > hints.limit ? v.slice(0, hints.limit) : v;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.head.releaseReader(this.readerId);
  }
}
