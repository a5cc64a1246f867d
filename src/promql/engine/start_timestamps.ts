// Range-function kernels that read samples' start timestamps (STs), as
// Prometheus's experimental use-start-timestamps feature does: an ST change
// marks a counter reset, and an ST inside the window replaces extrapolation to
// the left by an assumed zero sample at the ST. An ST of 0 means "none".
import { clampStart, extrapolate } from './kernels.js';

/** Whether the current sample's ST says the counter restarted since the previous sample. */
export function isStartTimestampReset(prevST: number, prevT: number, curST: number, curT: number): boolean {
  // No ST, an invalid one (after the sample), or OTel's "unknown start" (ST = T).
  if (curST === 0 || curST >= curT) return false;
  // An ST before the previous sample: overlapping data, not a restart.
  if (curST < prevT) return false;
  if (curST > prevT) return true;
  // curST = prevT: a delta sample (reset) unless the previous one was a
  // cumulative with unknown start (no or an invalid ST, or ST = T).
  if (prevST > prevT) return false;
  return prevST !== 0 && prevST !== prevT;
}

/** Whether the current sample's ST reaches back before the previous sample without naming the same start. */
export function startTimeOverlaps(prevST: number, prevT: number, curST: number): boolean {
  return curST !== 0 && curST < prevT && curST !== prevST;
}

/**
 * rate/increase/delta of floats in [lo, hi) with their STs. `overlap` is
 * called once when an ST overlaps the previous sample. Null when the window
 * cannot give a value.
 */
export function extrapolatedRateST(
  ts: Float64Array,
  vs: Float64Array,
  sts: Float64Array,
  lo: number,
  hi: number,
  rangeStartMs: number,
  rangeEndMs: number,
  isCounter: boolean,
  isRate: boolean,
  overlap: () => void,
): number | null {
  const n = hi - lo;
  if (n < 1) return null;
  const firstT = ts[lo]!;
  const lastT = ts[hi - 1]!;
  const firstV = vs[lo]!;
  let result = vs[hi - 1]! - firstV;
  if (isCounter) {
    let overlapped = false;
    // lo < i < hi: inside the window.
    for (let i = lo + 1; i < hi; i++) {
      const prevT = ts[i - 1]!;
      const prevST = sts[i - 1]!;
      const curST = sts[i]!;
      if (!overlapped && startTimeOverlaps(prevST, prevT, curST)) {
        overlap();
        overlapped = true;
      }
      const prev = vs[i - 1]!;
      if (vs[i]! < prev || isStartTimestampReset(prevST, prevT, curST, ts[i]!)) result += prev;
    }
  }

  let durationToStart = (firstT - rangeStartMs) / 1000;
  let durationToEnd = (rangeEndMs - lastT) / 1000;
  let sampledInterval = (lastT - firstT) / 1000;
  const averageInterval = n > 1 ? sampledInterval / (n - 1) : 0;
  const extrapolationThreshold = averageInterval * 1.1;
  const firstST = sts[lo]!;
  if (isCounter && firstST !== 0 && firstST > rangeStartMs && firstST < firstT) {
    // The series (re)started inside the window: count from a zero at its ST
    // instead of extrapolating to the left.
    durationToStart = 0;
    sampledInterval = (lastT - firstST) / 1000;
    result += firstV;
  } else if (n === 1) {
    return null;
  } else {
    durationToStart = clampStart(durationToStart, extrapolationThreshold, averageInterval, sampledInterval, result, firstV, isCounter);
  }
  return extrapolate(result, durationToStart, durationToEnd, sampledInterval, averageInterval, isRate, rangeEndMs - rangeStartMs);
}

/** irate of floats with STs: an ST reset, like a value drop, makes the later value the increase. */
export function instantRateST(ts: Float64Array, vs: Float64Array, sts: Float64Array, lo: number, hi: number): number | null {
  if (hi - lo < 2) return null;
  // hi - 2 >= lo: both samples lie in the window.
  const t0 = ts[hi - 2]!;
  const t1 = ts[hi - 1]!;
  const interval = t1 - t0;
  if (interval === 0) return null;
  const v0 = vs[hi - 2]!;
  const v1 = vs[hi - 1]!;
  let result = v1;
  if (!(v1 < v0 || isStartTimestampReset(sts[hi - 2]!, t0, sts[hi - 1]!, t1))) result = v1 - v0;
  return result / (interval / 1000);
}

/** resets() of floats with STs: value drops and ST resets. */
export function resetsST(ts: Float64Array, vs: Float64Array, sts: Float64Array, lo: number, hi: number): number {
  if (hi <= lo) return NaN;
  let count = 0;
  // lo < i < hi: inside the window.
  for (let i = lo + 1; i < hi; i++) {
    if (vs[i]! < vs[i - 1]! || isStartTimestampReset(sts[i - 1]!, ts[i - 1]!, sts[i]!, ts[i]!)) count++;
  }
  return count;
}
