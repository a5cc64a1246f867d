// Cursors the evaluator and the operator files share: the samples of a step
// (StepVector) and storage series read one at a time (SeriesCursor).
import type { FloatHistogram } from '../../model/histogram.js';
import type { Series as StorageSeries } from '../../storage/interface.js';
import type { Matrix } from './value.js';

/**
 * The samples present at one step in one argument: idx[0..n) are indices into
 * its matrix m and v[0..n) their values. n <= m.length <= idx.length, so for
 * j < n, idx[j], v[j] and m[idx[j]] exist.
 */
export class StepVector {
  n = 0;
  readonly idx: Int32Array;
  readonly v: Float64Array;
  /** Histogram samples by position j < n, once an argument series with histograms was met (else null). */
  h: Array<FloatHistogram | undefined> | null = null;
  constructor(readonly m: Matrix) {
    this.idx = new Int32Array(Math.max(1, m.length));
    this.v = new Float64Array(Math.max(1, m.length));
  }
}

/** Series read one at a time; null after the last. */
export interface SeriesCursor {
  next(): StorageSeries | null;
}

export function listCursor(list: readonly StorageSeries[]): SeriesCursor {
  let i = 0;
  return { next: () => (i < list.length ? (list[i++] ?? null) : null) };
}
