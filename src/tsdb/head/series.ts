// The head's series table: per-slot identity (ref, label-set hash, labels as
// symbol ids in one pooled Uint32Array), lookup by label set and by ref, and
// postings from label pairs to sorted slot lists.
//
// Series have two identities: the slot (dense, reused after garbage
// collection, used in postings) and the ref (monotonic, never reused, handed
// to appenders and written to the WAL).
import { compareStrings, sortStrings } from '../../gofmt/order.js';
import { Labels, isValidLabelName, isValidMetricName, METRIC_NAME } from '../../model/labels.js';
import type { Matcher } from '../../model/matcher.js';
import { InvalidSeriesError } from '../../storage/interface.js';
import { uvarintSize } from '../encoding/encoding.js';
import { EMPTY_POSTINGS, PostingsList, postingsForMatchers, type PostingsIndex } from '../index/postings.js';
import type { RecordEncoder } from '../record/record.js';
import { NONE, growF64, growU16, growU32, nextCap } from './grow.js';
import { NumMultiMap } from './num_map.js';
import { SymbolTable } from './symbols.js';

/** A name/value statistic of the TSDB status API. */
export interface Stat {
  name: string;
  value: number;
}

/** The label-pair part of the TSDB status. */
export interface LabelStats {
  numLabelPairs: number;
  seriesCountByMetricName: Stat[];
  labelValueCountByLabelName: Stat[];
  memoryInBytesByLabelName: Stat[];
  seriesCountByLabelValuePair: Stat[];
}

/** Throws InvalidSeriesError for a label set the head does not accept. */
export function validateLabels(ls: Labels): void {
  if (ls.isEmpty()) throw new InvalidSeriesError('empty labelset: invalid sample');
  for (let i = 0; i < ls.length; i++) {
    const name = ls.nameAt(i);
    const bad = !isValidLabelName(name) || (name === METRIC_NAME && !isValidMetricName(ls.valueAt(i)));
    if (bad) throw new InvalidSeriesError(`invalid metric name or label names: ${ls.toString()}: invalid sample`);
  }
  if (ls.length > 0xffff) throw new InvalidSeriesError(`too many labels (${ls.length}): invalid sample`);
}

/**
 * Index invariant (why reads below use `!`): slots handed out are below cap,
 * and a live slot's label set lies whole in the pool at lblOff[slot].
 */
export class SeriesTable {
  /** Slots the per-slot arrays have room for (the head grows its other tables to match). */
  cap = 0;
  /** Slots ever used; live slots have refOf != 0. */
  numSlots = 0;
  private freeSlots: number[] = [];
  refOf = new Float64Array(0);
  private hashOf = new Float64Array(0);
  private lblOff = new Uint32Array(0);
  private lblLen = new Uint16Array(0);

  private pool = new Uint32Array(4096);
  private poolLen = 0;
  private poolLive = 0;
  readonly symbols = new SymbolTable();
  private readonly postingsMap = new Map<number, Map<number, PostingsList>>();
  private allList: PostingsList | null = null;
  private readonly byHash = new NumMultiMap(1024);
  private readonly byRef = new NumMultiMap(1024);
  /**
   * A slot guess per ref, at ref & (length - 1): right when refOf says so (a
   * live slot's ref is its own: no other live slot has it). Refs are handed
   * out in order, so the series of one request sit side by side here, where
   * byRef's hashing scatters them (a cache miss per lookup). Length: a power
   * of two at least cap.
   */
  private slotHint = new Int32Array(1024);
  /** Extra refs that point at a slot (the same label set logged under several refs). */
  private readonly aliases = new Map<number, number[]>();
  numSeries = 0;
  private nextRef = 1;

  constructor(initialSlots: number) {
    this.growSlots(initialSlots);
  }

  private growSlots(n: number): void {
    this.refOf = growF64(this.refOf, n);
    this.hashOf = growF64(this.hashOf, n);
    this.lblOff = growU32(this.lblOff, n);
    this.lblLen = growU16(this.lblLen, n);
    this.cap = n;
    if (this.slotHint.length < n) {
      let len = this.slotHint.length;
      while (len < n) len *= 2;
      this.slotHint = new Int32Array(len);
      const mask = len - 1;
      // s < numSlots <= cap.
      for (let s = 0; s < this.numSlots; s++) if (this.refOf[s] !== 0) this.slotHint[this.refOf[s]! & mask] = s;
    }
  }

  // ---- lookup ----

  private labelsEqual(slot: number, ls: Labels): boolean {
    const n = this.lblLen[slot]!;
    if (n !== ls.length) return false;
    const off = this.lblOff[slot]!;
    const strs = this.symbols.strs;
    const pool = this.pool;
    // i < n = lblLen[slot]: the label set is stored whole at off.
    for (let i = 0; i < n; i++) {
      if (strs[pool[off + 2 * i]!] !== ls.nameAt(i) || strs[pool[off + 2 * i + 1]!] !== ls.valueAt(i)) return false;
    }
    return true;
  }

  /** The slot holding a label set, or -1. */
  slotByLabels(ls: Labels): number {
    const m = this.byHash;
    for (let p = m.first(ls.hash()); p >= 0; p = m.nextOf(p)) {
      const slot = m.vals[p]!;
      if (this.labelsEqual(slot, ls)) return slot;
    }
    return NONE;
  }

  /** The slot of a series ref (or alias), or -1 when the series is gone. */
  slotByRef(ref: number): number {
    // The mask keeps the index in range; a hint is below cap, the refOf's length.
    const h = this.slotHint[ref & (this.slotHint.length - 1)]!;
    if (this.refOf[h] === ref && ref !== 0) return h;
    return this.byRef.get(ref);
  }

  /** The label set of a live slot, materialised from symbols. */
  labelsOf(slot: number): Labels {
    const n = this.lblLen[slot]!;
    const off = this.lblOff[slot]!;
    const strs = this.symbols.strs;
    const pairs: string[] = new Array(2 * n);
    // Symbol ids of live label sets are live symbols.
    for (let i = 0; i < 2 * n; i++) pairs[i] = strs[this.pool[off + i]!]!;
    return Labels.fromSortedPairs(pairs);
  }

  /**
   * Sorts live slots in place by label set (Labels.compare's order) without
   * materialising the sets: the distinct symbols of the slots are ranked once
   * (few strings compared), then series compare rank by rank.
   */
  sortByLabels(slots: Uint32Array): void {
    const strs = this.symbols.strs;
    const pool = this.pool;
    const lblOff = this.lblOff;
    const lblLen = this.lblLen;
    // Symbol ids of live label sets are below strs.length; slots are live (see the class invariant).
    const rank = new Uint32Array(strs.length);
    const distinct: number[] = [];
    for (let k = 0; k < slots.length; k++) {
      const off = lblOff[slots[k]!]!;
      const end = off + 2 * lblLen[slots[k]!]!;
      for (let i = off; i < end; i++) {
        const id = pool[i]!;
        if (rank[id] === 0) {
          rank[id] = 1;
          distinct.push(id);
        }
      }
    }
    distinct.sort((a, b) => compareStrings(strs[a]!, strs[b]!));
    for (let r = 0; r < distinct.length; r++) rank[distinct[r]!] = r + 1;
    slots.sort((x, y) => {
      const ox = lblOff[x]!;
      const oy = lblOff[y]!;
      const nx = 2 * lblLen[x]!;
      const ny = 2 * lblLen[y]!;
      const n = nx < ny ? nx : ny;
      for (let i = 0; i < n; i++) {
        const d = rank[pool[ox + i]!]! - rank[pool[oy + i]!]!;
        if (d !== 0) return d;
      }
      return nx - ny;
    });
  }

  /** Writes a WAL series entry for a live slot. */
  encodeSeries(rec: RecordEncoder, slot: number): void {
    rec.seriesFromSymbols(this.refOf[slot]!, this.lblLen[slot]!, this.symbols.strs, this.pool, this.lblOff[slot]!);
  }

  // ---- creation and removal ----

  /** A fresh ref for a new series. */
  newRef(): number {
    return this.nextRef++;
  }

  /** Stores a new series under ref in a free slot (growing the arrays when there is none) and returns the slot. */
  create(ls: Labels, ref: number): number {
    if (ref >= this.nextRef) this.nextRef = ref + 1;
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      if (this.numSlots === this.cap) this.growSlots(nextCap(this.cap));
      slot = this.numSlots++;
    }
    const n = ls.length;
    if (this.poolLen + 2 * n > this.pool.length) this.growPool(2 * n);
    const off = this.poolLen;
    for (let i = 0; i < n; i++) {
      const nameId = this.symbols.ref(ls.nameAt(i));
      const valueId = this.symbols.ref(ls.valueAt(i));
      this.pool[off + 2 * i] = nameId;
      this.pool[off + 2 * i + 1] = valueId;
      this.addPosting(nameId, valueId, slot);
    }
    this.poolLen += 2 * n;
    this.poolLive += 2 * n;
    if (this.allList === null) this.allList = new PostingsList(slot);
    else this.allList.add(slot);
    this.refOf[slot] = ref;
    this.slotHint[ref & (this.slotHint.length - 1)] = slot;
    this.hashOf[slot] = ls.hash();
    this.lblOff[slot] = off;
    this.lblLen[slot] = n;
    this.byHash.add(ls.hash(), slot);
    this.byRef.add(ref, slot);
    this.numSeries++;
    return slot;
  }

  /** Makes ref another name of a slot (a label set replayed under a second ref). */
  addAlias(ref: number, slot: number): void {
    this.byRef.add(ref, slot);
    let a = this.aliases.get(slot);
    if (a === undefined) this.aliases.set(slot, (a = []));
    a.push(ref);
    if (ref >= this.nextRef) this.nextRef = ref + 1;
  }

  private growPool(extra: number): void {
    // Compact instead of growing when most of the pool is garbage from removed series.
    if (this.poolLive * 2 < this.poolLen) {
      this.compactPool();
      if (this.poolLen + extra <= this.pool.length) return;
    }
    let n = this.pool.length * 2;
    while (n < this.poolLen + extra) n *= 2;
    this.pool = growU32(this.pool, n);
  }

  private compactPool(): void {
    const np = new Uint32Array(Math.max(4096, this.poolLive * 2));
    let k = 0;
    for (let s = 0; s < this.numSlots; s++) {
      if (this.refOf[s] === 0) continue;
      const off = this.lblOff[s]!;
      const n = 2 * this.lblLen[s]!;
      np.set(this.pool.subarray(off, off + n), k);
      this.lblOff[s] = k;
      k += n;
    }
    this.pool = np;
    this.poolLen = k;
    this.poolLive = k;
  }

  private addPosting(nameId: number, valueId: number, slot: number): void {
    let byValue = this.postingsMap.get(nameId);
    if (byValue === undefined) {
      byValue = new Map();
      this.postingsMap.set(nameId, byValue);
    }
    const l = byValue.get(valueId);
    if (l === undefined) byValue.set(valueId, new PostingsList(slot));
    else l.add(slot);
  }

  /** Forgets a series' identity and labels; its postings stay until prunePostings(). The slot is reused after freeSlot(). */
  remove(s: number): void {
    const ref = this.refOf[s]!;
    this.byHash.remove(this.hashOf[s]!, s);
    this.byRef.remove(ref, s);
    const al = this.aliases.get(s);
    if (al !== undefined) {
      for (const r of al) this.byRef.remove(r, s);
      this.aliases.delete(s);
    }
    const off = this.lblOff[s]!;
    const n = this.lblLen[s]!;
    for (let i = 0; i < 2 * n; i++) this.symbols.unref(this.pool[off + i]!);
    this.poolLive -= 2 * n;
    this.refOf[s] = 0;
    this.numSeries--;
  }

  freeSlot(s: number): void {
    this.freeSlots.push(s);
  }

  /** Drops removed slots (dead[slot] = 1) from the postings, then compacts the label pool when mostly garbage. */
  prunePostings(dead: Uint8Array): void {
    for (const [nid, byValue] of this.postingsMap) {
      for (const [vid, l] of byValue) if (l.prune(dead) === 0) byValue.delete(vid);
      if (byValue.size === 0) this.postingsMap.delete(nid);
    }
    if (this.allList !== null && this.allList.prune(dead) === 0) this.allList = null;
    // Label offsets are only read synchronously, so the pool can move now.
    if (this.poolLive * 2 < this.poolLen) this.compactPool();
  }

  // ---- postings and label queries ----

  /** PostingsIndex over slots. */
  readonly index: PostingsIndex = {
    allPostings: () => (this.allList === null ? EMPTY_POSTINGS : this.allList.view().slice()),
    postings: (name, value) => {
      const nid = this.symbols.lookup(name);
      const vid = this.symbols.lookup(value);
      if (nid < 0 || vid < 0) return EMPTY_POSTINGS;
      const l = this.postingsMap.get(nid)?.get(vid);
      return l === undefined ? EMPTY_POSTINGS : l.view().slice();
    },
    labelValuesOf: (name) => {
      const nid = this.symbols.lookup(name);
      const m = nid < 0 ? undefined : this.postingsMap.get(nid);
      if (m === undefined) return [];
      const out: string[] = [];
      for (const vid of m.keys()) out.push(this.symbols.str(vid));
      return out;
    },
  };

  /**
   * The index as one synchronous postingsForMatchers call reads it: views of the lists, no copies (a
   * matcher on a label every series has, job="node", would copy them all). Only the result is copied.
   */
  private readonly viewIndex: PostingsIndex = {
    allPostings: () => (this.allList === null ? EMPTY_POSTINGS : this.allList.view()),
    postings: (name, value) => {
      const nid = this.symbols.lookup(name);
      const vid = this.symbols.lookup(value);
      if (nid < 0 || vid < 0) return EMPTY_POSTINGS;
      return this.postingsMap.get(nid)?.get(vid)?.view() ?? EMPTY_POSTINGS;
    },
    labelValuesOf: (name) => this.index.labelValuesOf(name),
  };

  postingsForMatchers(matchers: readonly Matcher[]): Uint32Array {
    const r = postingsForMatchers(this.viewIndex, matchers);
    // The result may be one of the lists, which change as series come and go: the caller gets its own.
    return r.length === 0 ? EMPTY_POSTINGS : r.slice();
  }

  /** Symbol id of a label's value in a series, or -1. */
  private valueIdOf(slot: number, nameId: number): number {
    const off = this.lblOff[slot]!;
    const n = this.lblLen[slot]!;
    for (let i = 0; i < n; i++) if (this.pool[off + 2 * i] === nameId) return this.pool[off + 2 * i + 1]!;
    return NONE;
  }

  labelValues(name: string, matchers: readonly Matcher[]): string[] {
    if (matchers.length === 0) return sortStrings([...this.index.labelValuesOf(name)]);
    const nid = this.symbols.lookup(name);
    if (nid < 0) return [];
    const ids = new Set<number>();
    for (const slot of this.postingsForMatchers(matchers)) {
      const v = this.valueIdOf(slot, nid);
      if (v >= 0) ids.add(v);
    }
    return sortStrings([...ids].map((id) => this.symbols.str(id)));
  }

  labelNames(matchers: readonly Matcher[]): string[] {
    if (matchers.length === 0) return sortStrings([...this.postingsMap.keys()].map((id) => this.symbols.str(id)));
    const ids = new Set<number>();
    for (const slot of this.postingsForMatchers(matchers)) {
      const off = this.lblOff[slot]!;
      const n = this.lblLen[slot]!;
      // i < n = lblLen[slot]: the label set is stored whole at off.
      for (let i = 0; i < n; i++) ids.add(this.pool[off + 2 * i]!);
    }
    return sortStrings([...ids].map((id) => this.symbols.str(id)));
  }

  /** Label-pair statistics for the TSDB status API, each list cut to its top `limit`. */
  labelStats(limit: number): LabelStats {
    const byMetric: Stat[] = [];
    const byLabel: Stat[] = [];
    const mem: Stat[] = [];
    const pairs: Stat[] = [];
    let numLabelPairs = 0;
    const nameId = this.symbols.lookup(METRIC_NAME);
    for (const [nid, byValue] of this.postingsMap) {
      const name = this.symbols.str(nid);
      byLabel.push({ name, value: byValue.size });
      numLabelPairs += byValue.size;
      let size = 0;
      const nameBytes = Buffer.byteLength(name);
      for (const [vid, l] of byValue) {
        const value = this.symbols.str(vid);
        if (nid === nameId) byMetric.push({ name: value, value: l.n });
        pairs.push({ name: `${name}=${value}`, value: l.n });
        const vb = Buffer.byteLength(value);
        size += (uvarintSize(nameBytes) + nameBytes + uvarintSize(vb) + vb) * l.n;
      }
      mem.push({ name, value: size });
    }
    const top = (xs: Stat[]): Stat[] => xs.sort((a, b) => b.value - a.value || (a.name < b.name ? -1 : 1)).slice(0, limit);
    return {
      numLabelPairs,
      seriesCountByMetricName: top(byMetric),
      labelValueCountByLabelName: top(byLabel),
      memoryInBytesByLabelName: top(mem),
      seriesCountByLabelValuePair: top(pairs),
    };
  }

  /** Bytes of the typed arrays, the label pool and the lookup maps. */
  metadataBytes(): number {
    return (
      this.refOf.byteLength +
      this.hashOf.byteLength +
      this.lblOff.byteLength +
      this.lblLen.byteLength +
      this.pool.byteLength +
      this.byHash.bytes() +
      this.byRef.bytes() +
      this.slotHint.byteLength
    );
  }
}
