// Postings: sorted lists of series ids per label pair, and the algebra over
// them (galloping intersection, k-way union, difference). Both the head and
// persisted blocks answer matcher sets through postingsForMatchers below, so
// the Prometheus rules for matchers that match the empty string live in one
// place.
import { MatchType, Matcher } from '../../model/matcher.js';

export const EMPTY_POSTINGS: Uint32Array = new Uint32Array(0);

/** First index i >= lo with a[i] >= x (exponential then binary search). */
// Every a[...] read below is guarded by an index < n = a.length.
export function gallop(a: Uint32Array, lo: number, x: number): number {
  const n = a.length;
  if (lo >= n || a[lo]! >= x) return lo;
  let step = 1;
  let hi = lo + 1;
  while (hi < n && a[hi]! < x) {
    lo = hi;
    step <<= 1;
    hi = lo + step;
  }
  if (hi > n) hi = n;
  // Invariant: a[lo] < x, and a[hi] >= x or hi == n.
  lo++;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Intersection of two sorted lists; gallops through the longer one. */
function intersect2(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (a.length > b.length) [a, b] = [b, a];
  if (a.length === 0) return EMPTY_POSTINGS;
  const out = new Uint32Array(a.length);
  let n = 0;
  let j = 0;
  const bn = b.length;
  // i < a.length and j < bn = b.length.
  for (let i = 0; i < a.length && j < bn; i++) {
    const x = a[i]!;
    j = gallop(b, j, x);
    if (j < bn && b[j] === x) {
      out[n++] = x;
      j++;
    }
  }
  return n === out.length ? out : out.slice(0, n);
}

/** Intersection of any number of sorted lists, shortest first. */
export function intersect(lists: Uint32Array[]): Uint32Array {
  if (lists.length === 0) return EMPTY_POSTINGS;
  const sorted = [...lists].sort((x, y) => x.length - y.length);
  // sorted has lists.length > 0 entries.
  let acc = sorted[0]!;
  for (let i = 1; i < sorted.length && acc.length > 0; i++) acc = intersect2(acc, sorted[i]!);
  return acc;
}

/** Union of sorted lists without duplicates. */
export function union(lists: Uint32Array[]): Uint32Array {
  const nonEmpty = lists.filter((l) => l.length > 0);
  if (nonEmpty.length === 0) return EMPTY_POSTINGS;
  // Indexes below are within the lengths just checked.
  if (nonEmpty.length === 1) return nonEmpty[0]!;
  if (nonEmpty.length === 2) return merge2(nonEmpty[0]!, nonEmpty[1]!);
  // Many lists (regex over many values): concatenating and sorting natively
  // beats a JS heap merge.
  let total = 0;
  for (const l of nonEmpty) total += l.length;
  const all = new Uint32Array(total);
  let off = 0;
  for (const l of nonEmpty) {
    all.set(l, off);
    off += l.length;
  }
  all.sort();
  let n = 0;
  // i < total = all.length.
  for (let i = 0; i < total; i++) if (i === 0 || all[i] !== all[i - 1]) all[n++] = all[i]!;
  return n === total ? all : all.slice(0, n);
}

function merge2(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  // i < a.length and j < b.length at every read in this function.
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x < y) {
      out[n++] = x;
      i++;
    } else if (y < x) {
      out[n++] = y;
      j++;
    } else {
      out[n++] = x;
      i++;
      j++;
    }
  }
  while (i < a.length) out[n++] = a[i++]!;
  while (j < b.length) out[n++] = b[j++]!;
  return n === out.length ? out : out.slice(0, n);
}

/** Elements of a that are not in b. */
export function without(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (a.length === 0 || b.length === 0) return a;
  const out = new Uint32Array(a.length);
  let n = 0;
  let j = 0;
  // i < a.length.
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    j = gallop(b, j, x);
    if (j < b.length && b[j] === x) continue;
    out[n++] = x;
  }
  return n === a.length ? a : out.slice(0, n);
}

/** What postingsForMatchers needs from an index (head or block). */
export interface PostingsIndex {
  /** Every series id, sorted. */
  allPostings(): Uint32Array;
  /** Sorted ids of series with name=value; empty when there are none. */
  postings(name: string, value: string): Uint32Array;
  /** All values the index holds for a label name (any order). */
  labelValuesOf(name: string): readonly string[];
}

/** Series ids whose values of m.name satisfy m, among series that have the label. */
function postingsForMatcher(ix: PostingsIndex, m: Matcher): Uint32Array {
  if (m.type === MatchType.Equal) return ix.postings(m.name, m.value);
  const set = m.setMatches();
  if (set !== null) return union(set.map((v) => ix.postings(m.name, v)));
  const lists: Uint32Array[] = [];
  for (const v of ix.labelValuesOf(m.name)) if (m.matches(v)) lists.push(ix.postings(m.name, v));
  return union(lists);
}

/** Series ids with label m.name set to a value that m rejects. */
function postingsForInverse(ix: PostingsIndex, m: Matcher): Uint32Array {
  if (m.type === MatchType.NotEqual) return ix.postings(m.name, m.value);
  const lists: Uint32Array[] = [];
  for (const v of ix.labelValuesOf(m.name)) if (!m.matches(v)) lists.push(ix.postings(m.name, v));
  return union(lists);
}

/**
 * Sorted ids of the series that match every matcher, with Prometheus's
 * semantics: a missing label has the value "", so a matcher that matches ""
 * also selects series without the label.
 */
export function postingsForMatchers(ix: PostingsIndex, matchers: readonly Matcher[]): Uint32Array {
  const its: Uint32Array[] = [];
  const notIts: Uint32Array[] = [];
  for (const m of matchers) {
    // `=~".*"` matches every series, with or without the label.
    if (m.type === MatchType.Regexp && (m.value === '.*' || m.value === '^.*$')) continue;
    const positive = m.type === MatchType.Equal || m.type === MatchType.Regexp;
    if (m.matchesEmpty()) {
      // Keep series without the label and series whose value matches:
      // subtract the series whose value does not match.
      if (positive) {
        notIts.push(postingsForInverse(ix, m));
      } else {
        const inv = Matcher.create(m.type === MatchType.NotEqual ? MatchType.Equal : MatchType.Regexp, m.name, m.value);
        notIts.push(postingsForMatcher(ix, inv));
      }
    } else if (positive) {
      its.push(postingsForMatcher(ix, m));
    } else {
      // A negative matcher that rejects "" (l!="" or l!~"" ...) needs the label set.
      its.push(postingsForMatcher(ix, m));
    }
    if (its.at(-1)?.length === 0) return EMPTY_POSTINGS;
  }
  const base = its.length === 0 ? ix.allPostings() : intersect(its);
  if (base.length === 0 || notIts.length === 0) return base;
  return without(base, union(notIts));
}

/**
 * One growable postings list. Ids usually arrive in increasing order; when
 * they do not (slots reused after garbage collection) the list is marked
 * unsorted and sorted on the next read.
 */
export class PostingsList {
  a: Uint32Array;
  n = 0;
  sorted = true;

  constructor(first: number) {
    this.a = new Uint32Array(2);
    this.a[0] = first;
    this.n = 1;
  }

  add(id: number): void {
    if (this.n === this.a.length) {
      const b = new Uint32Array(this.n < 1024 ? this.n * 2 : this.n + (this.n >>> 1));
      b.set(this.a);
      this.a = b;
    }
    // 0 < n <= a.length.
    if (this.n > 0 && this.a[this.n - 1]! > id) this.sorted = false;
    this.a[this.n++] = id;
  }

  /** The ids in increasing order; a view that is only valid until the next change. */
  view(): Uint32Array {
    if (!this.sorted) {
      this.a.subarray(0, this.n).sort();
      this.sorted = true;
    }
    return this.a.subarray(0, this.n);
  }

  /** Removes ids flagged in `dead`; returns the new length. */
  prune(dead: Uint8Array): number {
    let k = 0;
    const a = this.a;
    // i < n <= a.length.
    for (let i = 0; i < this.n; i++) {
      const id = a[i]!;
      if (dead[id] !== 1) a[k++] = id;
    }
    this.n = k;
    if (k < a.length >>> 2 && a.length > 8) this.a = a.slice(0, Math.max(2, k));
    return k;
  }
}
