// The newest timestamp per series ref within one remote-write request: an
// open-addressing table reused from request to request. A Map per request
// rebuilt its table as it grew, ~100 KB of garbage per 2,000 series.

/** Slots of a fresh table (a power of two). */
const MIN_SLOTS = 1024;
/** A table grown past this many slots (a request of over 32Ki series) is dropped at clear(), so one huge request does not pin it. */
const MAX_KEPT_SLOTS = 1 << 16;

export class RefTimes {
  private refs = new Float64Array(MIN_SLOTS);
  private times = new Float64Array(MIN_SLOTS);
  /** A slot holds an entry when its mark is the current one: clear() only moves the mark. */
  private marks = new Uint32Array(MIN_SLOTS);
  private mark = 1;
  private size = 0;
  private shift = 32 - Math.log2(MIN_SLOTS);

  /** Forgets every entry. */
  clear(): void {
    this.size = 0;
    if (this.refs.length > MAX_KEPT_SLOTS) {
      this.alloc(MIN_SLOTS);
    } else if (++this.mark === 0x100000000) {
      this.marks.fill(0);
      this.mark = 1;
    }
  }

  /** The time set for ref (a positive integer below 2^53), or undefined. */
  get(ref: number): number | undefined {
    const mask = this.refs.length - 1;
    // The table is at most half full, so the probe meets a free slot.
    for (let i = this.slot(ref); ; i = (i + 1) & mask) {
      if (this.marks[i] !== this.mark) return undefined;
      if (this.refs[i] === ref) return this.times[i];
    }
  }

  set(ref: number, t: number): void {
    const mask = this.refs.length - 1;
    for (let i = this.slot(ref); ; i = (i + 1) & mask) {
      if (this.marks[i] !== this.mark) {
        this.marks[i] = this.mark;
        this.refs[i] = ref;
        this.times[i] = t;
        if (2 * ++this.size > this.refs.length) this.grow();
        return;
      }
      if (this.refs[i] === ref) {
        this.times[i] = t;
        return;
      }
    }
  }

  /** Fibonacci hashing of the ref's low 32 bits: consecutive refs spread over the table. */
  private slot(ref: number): number {
    return Math.imul(ref | 0, 0x9e3779b1) >>> this.shift;
  }

  private alloc(slots: number): void {
    this.refs = new Float64Array(slots);
    this.times = new Float64Array(slots);
    this.marks = new Uint32Array(slots);
    this.mark = 1;
    this.shift = 32 - Math.log2(slots);
  }

  private grow(): void {
    const { refs, times, marks, mark } = this;
    this.alloc(refs.length * 2);
    this.size = 0;
    for (let i = 0; i < refs.length; i++) if (marks[i] === mark) this.set(refs[i]!, times[i]!);
  }
}
