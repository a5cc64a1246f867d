import type { Series, SeriesSet } from './interface.js';

/**
 * A series set whose series are made one at a time as the reader advances:
 * a reader that goes through them once (the engine does) then holds only the
 * series it is reading, as Prometheus's lazy series sets do. Subclasses make
 * the next series in produce(), or return null at the end; one that fails
 * sets `error`, which ends the set.
 */
export abstract class LazySeriesSet implements SeriesSet {
  private cur: Series | null = null;
  protected error: Error | null = null;

  protected abstract produce(): Series | null;

  next(): boolean {
    this.cur = this.error === null ? this.produce() : null;
    return this.cur !== null;
  }

  at(): Series {
    return this.cur!;
  }

  err(): Error | null {
    return this.error;
  }

  warnings(): readonly string[] {
    return [];
  }
}
