// Ordinals for the grouping and join signatures of label sets: the labels an
// aggregation groups by (by/without) or a binary operator matches on
// (on/ignoring). Each label string is turned into a small integer through
// one Map per query (V8 keeps a string's hash in the string, so a string met
// again costs one lookup), a signature becomes a short tuple of those
// integers, and tuples get ordinals through a hash of the integers checked
// against the stored tuple. No key string and no label set is built per
// series.
import type { Labels } from '../../model/labels.js';

/** Entries of the first tuple store; it doubles as signatures are added. */
const INITIAL_TUPLE_WORDS = 256;

export class SignatureIndex {
  /** Label strings (names and values) by id; 0 means "not set". */
  private readonly ids = new Map<string, number>();
  /** First ordinal of each tuple hash; further ordinals with the same hash follow through `chain`. */
  private readonly byHash = new Map<number, number>();
  private chain = new Int32Array(64);
  /** Tuples of all ordinals, back to back: ordinal o has words [start[o], start[o + 1]). */
  private words = new Int32Array(INITIAL_TUPLE_WORDS);
  private start = new Int32Array(65);
  private count = 0;
  /** The tuple of the label set being looked up. */
  private scratch = new Int32Array(32);

  /**
   * @param names the label names of by(...)/on(...), or of without(...)/ignoring(...)
   * @param include true for by/on (the signature is those labels), false for without/ignoring
   *   (all labels but those and __name__)
   */
  constructor(
    private readonly names: readonly string[],
    private readonly include: boolean,
  ) {}

  /** Number of distinct signatures seen. */
  get size(): number {
    return this.count;
  }

  private idOf(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.ids.size + 1;
      this.ids.set(s, id);
    }
    return id;
  }

  /** The ordinal of the signature of `ls`: equal signatures share one, ordinals count up from 0. */
  ordinal(ls: Labels): number {
    const len = this.fill(ls);
    const tuple = this.scratch;
    let h = 0x9e3779b9 ^ len;
    // j < len <= scratch.length (fill grew it).
    for (let j = 0; j < len; j++) {
      h = Math.imul(h ^ tuple[j]!, 0x01000193);
      h ^= h >>> 13;
    }
    h = Math.imul(h, 0x5bd1e995) ^ (h >>> 15);
    const head = this.byHash.get(h);
    if (head === undefined) {
      const added = this.add(len);
      this.byHash.set(h, added);
      return added;
    }
    let o = head;
    // o < count <= chain.length; the chain ends with -1.
    for (;;) {
      if (this.equalsStored(o, len)) return o;
      const next: number = this.chain[o]!;
      if (next < 0) break;
      o = next;
    }
    const added = this.add(len);
    this.chain[o] = added;
    return added;
  }

  /** Writes the tuple of `ls` into scratch and returns its length. */
  private fill(ls: Labels): number {
    const pairs = ls.toPairs();
    const names = this.names;
    const need = this.include ? names.length : pairs.length;
    if (this.scratch.length < need) this.scratch = new Int32Array(need * 2);
    const tuple = this.scratch;
    if (this.include) {
      // One word per name (its value's id, 0 when unset): the position tells which name it is.
      // j < names.length <= tuple.length.
      for (let j = 0; j < names.length; j++) {
        const v = ls.get(names[j]!);
        tuple[j] = v === '' ? 0 : this.idOf(v);
      }
      return names.length;
    }
    let len = 0;
    // Name/value pairs: i + 1 < pairs.length; len <= i, so len + 1 < pairs.length <= tuple.length.
    for (let i = 0; i < pairs.length; i += 2) {
      const n = pairs[i]!;
      if (n === '__name__' || names.includes(n)) continue;
      tuple[len++] = this.idOf(n);
      tuple[len++] = this.idOf(pairs[i + 1]!);
    }
    return len;
  }

  private equalsStored(o: number, len: number): boolean {
    // o < count: start[o + 1] exists; the stored words lie inside words.
    const s = this.start[o]!;
    if (this.start[o + 1]! - s !== len) return false;
    const w = this.words;
    const t = this.scratch;
    for (let j = 0; j < len; j++) if (w[s + j] !== t[j]) return false;
    return true;
  }

  /** Stores scratch[0..len) as a new ordinal. */
  private add(len: number): number {
    const o = this.count++;
    if (this.count >= this.chain.length) {
      const chain = new Int32Array(this.chain.length * 2);
      chain.set(this.chain);
      this.chain = chain;
      const start = new Int32Array(chain.length + 1);
      start.set(this.start);
      this.start = start;
    }
    // o + 1 < start.length (grown above); the words fit after the growth below.
    const s = this.start[o]!;
    if (s + len > this.words.length) {
      const words = new Int32Array(Math.max(this.words.length * 2, s + len));
      words.set(this.words);
      this.words = words;
    }
    this.words.set(this.scratch.subarray(0, len), s);
    this.start[o + 1] = s + len;
    this.chain[o] = -1;
    return o;
  }
}
