// The `anchored` and `smoothed` range-selector modifiers (feature
// promql-extended-range-selectors). Anchored windows also use the last sample
// before the range start; smoothed ones interpolate values at both range
// boundaries from the samples around them.
//
// The functions read windows [lo, hi) of the caller's arrays (0 <= lo <= hi
// <= length), so indices shown to lie in the window are asserted with `!`.
import { durationSeconds } from './kernels.js';

/** Functions allowed with `anchored`, sorted as Prometheus lists them in its error. */
export const ANCHORED_SAFE: readonly string[] = ['changes', 'delta', 'increase', 'rate', 'resets'];
/** Functions allowed with `smoothed`. */
export const SMOOTHED_SAFE: readonly string[] = ['delta', 'increase', 'rate'];

/** First index in [lo, hi) whose timestamp satisfies `pred` (monotone), else hi. */
export function search(ts: Float64Array, lo: number, hi: number, pred: (t: number) => boolean): number {
  let a = lo;
  let b = hi;
  // lo <= a <= m < b <= hi.
  while (a < b) {
    const m = (a + b) >>> 1;
    if (pred(ts[m]!)) b = m;
    else a = m + 1;
  }
  return a;
}

/** Linear interpolation at t; a counter that went down is assumed to restart from 0. */
export function interpolate(t1: number, v1: number, t2: number, v2: number, t: number, isCounter: boolean): number {
  const y1 = isCounter && v2 < v1 ? 0 : v1;
  return y1 + ((v2 - y1) * (t - t1)) / (t2 - t1);
}

/**
 * rate/increase/delta over an anchored or smoothed window [lo, hi) for the
 * range (rangeStart, rangeEnd]: the difference between the values at the two
 * boundaries (picked or interpolated), plus counter-reset corrections.
 */
export function extendedRate(
  ts: Float64Array,
  vs: Float64Array,
  lo: number,
  hi: number,
  rangeStart: number,
  rangeEnd: number,
  isCounter: boolean,
  isRate: boolean,
  smoothed: boolean,
): number | null {
  if (hi <= lo) return null;
  let last = hi - 1;
  let first = Math.max(lo, search(ts, lo, last, (t) => t > rangeStart) - 1);
  if (smoothed) last = search(ts, lo, last, (t) => t >= rangeEnd);
  // lo <= first, last < hi; where first + 1 or last - 1 is read, ts[first] < rangeStart < ts[last] (so first < last)
  // or last > lo is checked.
  if (ts[last]! <= rangeStart) return null;
  if (smoothed && ts[first]! > rangeEnd) return null;
  const left =
    smoothed && ts[first]! < rangeStart
      ? interpolate(ts[first]!, vs[first]!, ts[first + 1]!, vs[first + 1]!, rangeStart, isCounter)
      : vs[first]!;
  const right =
    smoothed && last > lo && ts[last]! > rangeEnd
      ? interpolate(ts[last - 1]!, vs[last - 1]!, ts[last]!, vs[last]!, rangeEnd, isCounter)
      : vs[last]!;
  let result = right - left;
  if (isCounter) {
    if (ts[first]! <= rangeStart) first++;
    if (ts[last]! >= rangeEnd) last--;
    let prev = left;
    let correction = 0;
    // first <= i <= last < hi.
    for (let i = first; i <= last; i++) {
      const v = vs[i]!;
      if (v < prev) correction += prev;
      prev = v;
    }
    if (right < prev) correction += prev;
    result += correction;
  }
  if (isRate) result /= durationSeconds(rangeEnd - rangeStart);
  return result;
}

/**
 * Start of an anchored window for resets() and changes(): the last sample at
 * or before the range start, or the first sample when there is none; -1 when
 * no sample lies after the range start.
 */
export function anchoredFirst(ts: Float64Array, lo: number, hi: number, rangeStart: number): number {
  const lastLE = search(ts, lo, hi, (t) => t > rangeStart) - 1;
  if (lastLE + 1 >= hi) return -1;
  return lastLE >= lo ? lastLE : lo;
}

/**
 * The samples of an anchored or smoothed range (mint, maxt] as a bare range
 * vector shows them: the inner samples plus a point at each boundary carrying
 * the picked or interpolated value. Empty when no sample is after mint.
 */
export function extendPoints(
  ts: Float64Array,
  vs: Float64Array,
  n: number,
  mint: number,
  maxt: number,
  smoothed: boolean,
): { ts: Float64Array; vs: Float64Array; n: number } {
  const empty = { ts: new Float64Array(0), vs: new Float64Array(0), n: 0 };
  if (n === 0) return empty;
  let last = n - 1;
  let first = Math.max(0, search(ts, 0, last, (t) => t > mint) - 1);
  if (smoothed) last = search(ts, 0, last, (t) => t >= maxt);
  // 0 <= first, last < n, as in extendedRate.
  if (ts[last]! <= mint) return empty;
  const left =
    smoothed && ts[first]! < mint ? interpolate(ts[first]!, vs[first]!, ts[first + 1]!, vs[first + 1]!, mint, false) : vs[first]!;
  const right =
    smoothed && last > 0 && ts[last]! > maxt ? interpolate(ts[last - 1]!, vs[last - 1]!, ts[last]!, vs[last]!, maxt, false) : vs[last]!;
  if (ts[first]! <= mint) first++;
  if (ts[last]! >= maxt) last--;
  const inner = Math.max(last - first + 1, 0);
  const outT = new Float64Array(inner + 2);
  const outV = new Float64Array(inner + 2);
  outT[0] = mint;
  outV[0] = left;
  // first + i <= last < n.
  for (let i = 0; i < inner; i++) {
    outT[i + 1] = ts[first + i]!;
    outV[i + 1] = vs[first + i]!;
  }
  outT[inner + 1] = maxt;
  outV[inner + 1] = right;
  return { ts: outT, vs: outV, n: inner + 2 };
}

/**
 * Value of a smoothed instant selector at dataT from the samples in
 * (dataT - lookback, dataT + lookback]: exact, interpolated between the
 * neighbours, or carried forward from the last one; null before the first.
 */
export function smoothedValue(ts: Float64Array, vs: Float64Array, lo: number, hi: number, dataT: number): number | null {
  if (hi <= lo) return null;
  const i = search(ts, lo, hi, (t) => t >= dataT);
  // lo <= i <= hi: each read below follows a check of i < hi or i > lo.
  if (i < hi && ts[i] === dataT) return vs[i]!;
  if (i > lo && i < hi) return interpolate(ts[i - 1]!, vs[i - 1]!, ts[i]!, vs[i]!, dataT, false);
  if (i > lo) return vs[i - 1]!;
  return null;
}
