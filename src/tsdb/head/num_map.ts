// Open-addressing hash multimap from numeric keys (integers below 2^53) to
// non-negative int32 values, in typed arrays: no object per entry. Equal keys
// may appear several times (hash collisions of different label sets); the
// caller walks candidates with first()/nextOf() and checks each.

const EMPTY = -1;
/** Grow at 50% load: probe sequences stay short and the arrays stay small. */
const MAX_LOAD = 0.5;

function mix(key: number): number {
  const lo = key >>> 0;
  const hi = (key / 0x1_0000_0000) >>> 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class NumMultiMap {
  keys: Float64Array;
  vals: Int32Array;
  mask: number;
  size = 0;

  // Positions are masked with mask = capacity - 1, so every keys/vals index below is in range.
  constructor(initial = 1024) {
    let cap = 16;
    while (cap < initial) cap <<= 1;
    this.keys = new Float64Array(cap);
    this.vals = new Int32Array(cap).fill(EMPTY);
    this.mask = cap - 1;
  }

  add(key: number, val: number): void {
    if (this.size + 1 > (this.mask + 1) * MAX_LOAD) this.grow();
    let i = mix(key) & this.mask;
    while (this.vals[i] !== EMPTY) i = (i + 1) & this.mask;
    this.keys[i] = key;
    this.vals[i] = val;
    this.size++;
  }

  /** Position of the first entry with this key, or -1. */
  first(key: number): number {
    let i = mix(key) & this.mask;
    for (;;) {
      const v = this.vals[i]!;
      if (v === EMPTY) return -1;
      if (this.keys[i] === key) return i;
      i = (i + 1) & this.mask;
    }
  }

  /** Position of the next entry after position p with the same key, or -1. */
  nextOf(p: number): number {
    const key = this.keys[p]!;
    let i = (p + 1) & this.mask;
    for (;;) {
      const v = this.vals[i]!;
      if (v === EMPTY) return -1;
      if (this.keys[i] === key) return i;
      i = (i + 1) & this.mask;
    }
  }

  /** The value of the first entry with key, or -1 (for maps with unique keys). */
  get(key: number): number {
    const p = this.first(key);
    return p < 0 ? -1 : this.vals[p]!;
  }

  /** Removes the entry (key, val); returns whether it existed. */
  remove(key: number, val: number): boolean {
    let p = this.first(key);
    while (p >= 0 && this.vals[p] !== val) p = this.nextOf(p);
    if (p < 0) return false;
    this.deleteAt(p);
    return true;
  }

  /** Backward-shift deletion keeps probe sequences intact without tombstones. */
  private deleteAt(p: number): void {
    const mask = this.mask;
    let i = p;
    let j = p;
    for (;;) {
      j = (j + 1) & mask;
      if (this.vals[j] === EMPTY) break;
      const home = mix(this.keys[j]!) & mask;
      // Move entry j into hole i unless its home lies cyclically in (i, j].
      const inRange = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!inRange) {
        this.keys[i] = this.keys[j]!;
        this.vals[i] = this.vals[j]!;
        i = j;
      }
    }
    this.vals[i] = EMPTY;
    this.size--;
  }

  private grow(): void {
    const oldK = this.keys;
    const oldV = this.vals;
    const cap = (this.mask + 1) * 2;
    this.keys = new Float64Array(cap);
    this.vals = new Int32Array(cap).fill(EMPTY);
    this.mask = cap - 1;
    this.size = 0;
    for (let i = 0; i < oldV.length; i++) if (oldV[i] !== EMPTY) this.add(oldK[i]!, oldV[i]!);
  }

  bytes(): number {
    return this.keys.byteLength + this.vals.byteLength;
  }
}
