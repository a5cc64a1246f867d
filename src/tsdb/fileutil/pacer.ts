// Cooperative scheduling for long background jobs (compaction, checkpoints,
// replay): they run on the event loop that also serves scrapes and queries,
// so they give it a turn every few milliseconds.

/** Work slices are kept this short (ms) so that no caller waits much longer than that. */
const SLICE_MS = 10;

const yieldLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Call maybeYield() often; it yields to the event loop once the slice is used up. */
export class Pacer {
  private last = performance.now();
  constructor(private readonly sliceMs = SLICE_MS) {}

  due(): boolean {
    return performance.now() - this.last > this.sliceMs;
  }

  async maybeYield(): Promise<void> {
    if (this.due()) {
      await yieldLoop();
      this.last = performance.now();
    }
  }
}

/** Elements sorted natively per run before runs are merged; a run sorts in a few milliseconds. */
const RUN = 4096;

/** A stable sort that yields between runs and merge passes. */
export async function sortAsync<T>(a: T[], cmp: (x: T, y: T) => number, pacer = new Pacer()): Promise<T[]> {
  const n = a.length;
  if (n <= RUN) return a.sort(cmp);
  for (let i = 0; i < n; i += RUN) {
    const run = a.slice(i, i + RUN).sort(cmp);
    // j < run.length.
    for (let j = 0; j < run.length; j++) a[i + j] = run[j]!;
    await pacer.maybeYield();
  }
  let src = a;
  let dst: T[] = new Array<T>(n);
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      // i < mid <= hi and j < hi <= src.length.
      while (i < mid && j < hi) dst[k++] = cmp(src[j]!, src[i]!) < 0 ? src[j++]! : src[i++]!;
      while (i < mid) dst[k++] = src[i++]!;
      while (j < hi) dst[k++] = src[j++]!;
      await pacer.maybeYield();
    }
    [src, dst] = [dst, src];
  }
  return src;
}
