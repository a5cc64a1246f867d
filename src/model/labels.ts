// model: the data model every other room shares (label sets, matchers, special
// sample values, native histograms in histogram.ts; textparse/ below it parses
// exposition formats). Imports only gofmt/. This file: immutable label sets, sorted by name (in Go's string order).
//
// A Labels value never changes after construction: every edit goes through a
// LabelsBuilder and yields a new value. The string key and hash are computed
// lazily and cached, which is invisible to callers.
import { compareStrings } from '../gofmt/order.js';
import { goQuote } from '../gofmt/quote.js';

export const METRIC_NAME = '__name__';

/** Separator used inside keys; 0xff never occurs in valid UTF-8. */
const SEP = '\xff';

export interface Label {
  readonly name: string;
  readonly value: string;
}

export class Labels {
  static readonly EMPTY: Labels = new Labels([]);

  /**
   * Alternating name, value; sorted by name; no empty values; no duplicate names.
   * Its length is even, so for an even i < pairs.length both pairs[i] and pairs[i + 1]
   * exist: the loops below index them with `!`.
   */
  private readonly pairs: readonly string[];
  private cachedKey: string | undefined;
  private cachedHash = -1;

  private constructor(pairs: readonly string[]) {
    // A copy of exactly its length: arrays grown by push keep room for 17 elements, and label sets live long.
    this.pairs = pairs.slice();
  }

  /** Builds from name/value pairs in any order. Empty values are dropped; a later duplicate name wins. */
  static fromPairs(...nv: string[]): Labels {
    if (nv.length % 2 !== 0) throw new Error('BUG: Labels.fromPairs needs an even number of strings');
    const list: Label[] = [];
    for (let i = 0; i < nv.length; i += 2) list.push({ name: nv[i]!, value: nv[i + 1]! }); // nv.length is even
    return Labels.fromList(list);
  }

  static fromObject(obj: Readonly<Record<string, string>>): Labels {
    return Labels.fromList(Object.entries(obj).map(([name, value]) => ({ name, value })));
  }

  static fromList(list: readonly Label[]): Labels {
    const m = new Map<string, string>();
    for (const l of list) m.set(l.name, l.value);
    const names = [...m.keys()].sort(compareStrings);
    const pairs: string[] = [];
    for (const n of names) {
      const v = m.get(n)!;
      if (v !== '') pairs.push(n, v);
    }
    return pairs.length === 0 ? Labels.EMPTY : new Labels(pairs);
  }

  /** Trusted constructor: pairs must already be sorted, unique, without empty values. */
  static fromSortedPairs(pairs: readonly string[]): Labels {
    return pairs.length === 0 ? Labels.EMPTY : new Labels(pairs);
  }

  get length(): number {
    return this.pairs.length >> 1;
  }

  isEmpty(): boolean {
    return this.pairs.length === 0;
  }

  /** The i-th name; callers keep 0 <= i < length. */
  nameAt(i: number): string {
    return this.pairs[2 * i]!;
  }

  /** The i-th value; callers keep 0 <= i < length. */
  valueAt(i: number): string {
    return this.pairs[2 * i + 1]!;
  }

  /** The value of a label, or '' when it is not set (as Prometheus does). */
  get(name: string): string {
    const p = this.pairs;
    // Label sets are small; a linear scan beats binary search below ~16 labels.
    for (let i = 0; i < p.length; i += 2) {
      if (p[i] === name) return p[i + 1]!;
    }
    return '';
  }

  has(name: string): boolean {
    const p = this.pairs;
    for (let i = 0; i < p.length; i += 2) if (p[i] === name) return true;
    return false;
  }

  forEach(fn: (name: string, value: string) => void): void {
    const p = this.pairs;
    for (let i = 0; i < p.length; i += 2) fn(p[i]!, p[i + 1]!);
  }

  *[Symbol.iterator](): IterableIterator<Label> {
    const p = this.pairs;
    for (let i = 0; i < p.length; i += 2) yield { name: p[i]!, value: p[i + 1]! };
  }

  /** The raw sorted name/value pairs (read-only view). */
  toPairs(): readonly string[] {
    return this.pairs;
  }

  toObject(): Record<string, string> {
    const o: Record<string, string> = {};
    for (let i = 0; i < this.pairs.length; i += 2) o[this.pairs[i]!] = this.pairs[i + 1]!;
    return o;
  }

  /** A string that is equal for two label sets exactly when they are equal. */
  key(): string {
    if (this.cachedKey === undefined) this.cachedKey = this.pairs.join(SEP);
    return this.cachedKey;
  }

  /** A 53-bit hash of the label set (two FNV-1a lanes); equal sets hash equal. */
  hash(): number {
    // Hashed from the pairs, equal to hashString(this.key()) without building the key: callers that only
    // need the hash (duplicate checks over thousands of series) then keep no key string per series.
    if (this.cachedHash < 0) this.cachedHash = hashPairs(this.pairs);
    return this.cachedHash;
  }

  equals(o: Labels): boolean {
    if (this === o) return true;
    const a = this.pairs;
    const b = o.pairs;
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  /** Orders as Prometheus's labels.Compare: by name, then value, pairwise (in Go's string order); shorter first. */
  static compare(x: Labels, y: Labels): number {
    const a = x.pairs;
    const b = y.pairs;
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i += 2) {
      const c = compareStrings(a[i]!, b[i]!) || compareStrings(a[i + 1]!, b[i + 1]!);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }

  /** A new label set without the given names. */
  without(...names: string[]): Labels {
    const drop = new Set(names);
    const out: string[] = [];
    const p = this.pairs;
    for (let i = 0; i < p.length; i += 2) if (!drop.has(p[i]!)) out.push(p[i]!, p[i + 1]!);
    return out.length === p.length ? this : Labels.fromSortedPairs(out);
  }

  /** A new label set with only the given names. */
  keep(...names: string[]): Labels {
    const keep = new Set(names);
    const out: string[] = [];
    const p = this.pairs;
    for (let i = 0; i < p.length; i += 2) if (keep.has(p[i]!)) out.push(p[i]!, p[i + 1]!);
    return out.length === p.length ? this : Labels.fromSortedPairs(out);
  }

  builder(): LabelsBuilder {
    return new LabelsBuilder(this);
  }

  /** Prometheus's labels.String() form, used in error messages: `{__name__="up", a="b"}`. */
  toString(): string {
    const parts: string[] = [];
    const p = this.pairs;
    for (let i = 0; i < p.length; i += 2) {
      const n = isValidLegacyLabelName(p[i]!) ? p[i]! : goQuote(p[i]!);
      parts.push(`${n}=${goQuote(p[i + 1]!)}`);
    }
    return `{${parts.join(', ')}}`;
  }
}

/** Collects edits against a base label set and produces a new Labels. */
export class LabelsBuilder {
  private readonly base: Labels;
  private readonly changes = new Map<string, string>();

  constructor(base: Labels = Labels.EMPTY) {
    this.base = base;
  }

  get(name: string): string {
    const c = this.changes.get(name);
    return c !== undefined ? c : this.base.get(name);
  }

  /** Setting '' deletes the label, as in Prometheus. */
  set(name: string, value: string): this {
    this.changes.set(name, value);
    return this;
  }

  del(...names: string[]): this {
    for (const n of names) this.changes.set(n, '');
    return this;
  }

  /** Keeps only the given names. */
  keep(...names: string[]): this {
    const k = new Set(names);
    this.base.forEach((n) => {
      if (!k.has(n)) this.changes.set(n, '');
    });
    for (const n of [...this.changes.keys()]) if (!k.has(n)) this.changes.set(n, '');
    return this;
  }

  labels(): Labels {
    if (this.changes.size === 0) return this.base;
    const list: Label[] = [];
    this.base.forEach((name, value) => {
      if (!this.changes.has(name)) list.push({ name, value });
    });
    for (const [name, value] of this.changes) list.push({ name, value });
    return Labels.fromList(list);
  }
}

/**
 * FNV-1a over UTF-16 code units in two lanes, folded into a non-negative
 * 53-bit integer, of the pairs joined with SEP, without joining them.
 */
function hashPairs(pairs: readonly string[]): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  const sep = SEP.charCodeAt(0);
  for (let p = 0; p < pairs.length; p++) {
    if (p > 0) {
      h1 = Math.imul(h1 ^ sep, 0x01000193);
      h2 = Math.imul(h2 ^ sep, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    const s = pairs[p]!; // p < pairs.length
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
  }
  return (h1 >>> 0) * 0x200000 + ((h2 >>> 0) & 0x1fffff);
}

/** The same hash of one string. */
export function hashString(s: string): number {
  return hashPairs([s]);
}

const LEGACY_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LEGACY_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** True for names that need no quoting in the classic syntax. */
export function isValidLegacyMetricName(s: string): boolean {
  return LEGACY_METRIC_NAME.test(s);
}

export function isValidLegacyLabelName(s: string): boolean {
  return LEGACY_LABEL_NAME.test(s);
}

/** Prometheus 3.x (UTF-8 validation scheme): any non-empty valid UTF-8 string. */
export function isValidMetricName(s: string): boolean {
  return s.length > 0 && isWellFormedUTF16(s);
}

export function isValidLabelName(s: string): boolean {
  return s.length > 0 && isWellFormedUTF16(s);
}

/** JS strings cannot hold invalid UTF-8, but they can hold lone surrogates, which do not encode. */
export function isWellFormedUTF16(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}
