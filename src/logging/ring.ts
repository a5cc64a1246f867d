// A fixed-capacity ring of strings: the newest `capacity` entries, oldest overwritten first.

export class StringRing {
  private readonly slots: Array<string | undefined>;
  /** Index the next entry goes to. */
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`ring capacity must be a non-negative integer, got ${capacity}`);
    this.slots = new Array<string | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(s: string): void {
    if (this.capacity === 0) return;
    this.slots[this.next] = s;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** Up to `limit` entries, newest first. */
  newest(limit: number): string[] {
    const n = Math.min(limit, this.count);
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = this.slots[(this.next - 1 - i + 2 * this.capacity) % this.capacity]!;
    return out;
  }
}
