// A ring of the newest lines, kept as bytes in one fixed buffer: at most `maxEntries` lines and
// `maxBytes` bytes, the oldest overwritten first. Holding bytes rather than strings means a line kept
// here is not a long-lived JS object, so a busy log does not churn the old generation of the heap;
// entries become text (and, in the API, objects) only when someone reads them.

export class LineRing {
  private readonly buf: Buffer;
  /** Start offset and byte length of each entry, indexed circularly from `oldest`. */
  private readonly starts: Uint32Array;
  private readonly lens: Uint32Array;
  private oldest = 0;
  private count = 0;
  /** Where the next entry goes. */
  private head = 0;

  constructor(
    readonly maxEntries: number,
    maxBytes: number,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new RangeError(`ring size must be a non-negative integer, got ${maxEntries}`);
    if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new RangeError(`ring bytes must be a non-negative integer, got ${maxBytes}`);
    this.buf = Buffer.alloc(maxEntries === 0 ? 0 : maxBytes);
    this.starts = new Uint32Array(maxEntries);
    this.lens = new Uint32Array(maxEntries);
  }

  get size(): number {
    return this.count;
  }

  /** Keeps a copy of the line in `src` from `start` to `end`; a line larger than the whole ring is not kept. */
  push(src: Buffer, start: number, end: number): void {
    if (this.maxEntries === 0) return;
    const cap = this.buf.length;
    const n = end - start;
    if (n > cap) return;
    if (this.head + n > cap) {
      // Wrap: entries between head and the end are the oldest; they go first. (count > 0, so
      // oldest < maxEntries = starts.length.)
      while (this.count > 0 && this.starts[this.oldest]! >= this.head) this.evict();
      this.head = 0;
    }
    const to = this.head + n;
    while (this.count > 0 && (this.count === this.maxEntries || this.overlapsOldest(this.head, to))) this.evict();
    src.copy(this.buf, this.head, start, end);
    const slot = (this.oldest + this.count) % this.maxEntries;
    this.starts[slot] = this.head;
    this.lens[slot] = n;
    this.count++;
    this.head = to;
  }

  /** Up to `limit` entries, newest first. */
  newest(limit: number): string[] {
    const n = Math.min(limit, this.count);
    const out = new Array<string>(n);
    // i < n <= count, so maxEntries > 0 and slot < maxEntries = starts.length = lens.length.
    for (let i = 0; i < n; i++) {
      const slot = (this.oldest + this.count - 1 - i) % this.maxEntries;
      const s = this.starts[slot]!;
      out[i] = this.buf.toString('utf8', s, s + this.lens[slot]!);
    }
    return out;
  }

  /** Called only while count > 0, so oldest < maxEntries indexes a held entry. */
  private overlapsOldest(from: number, to: number): boolean {
    const s = this.starts[this.oldest]!;
    return s < to && from < s + this.lens[this.oldest]!;
  }

  private evict(): void {
    this.oldest = (this.oldest + 1) % this.maxEntries;
    this.count--;
  }
}
