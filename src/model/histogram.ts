// Native histograms: the integer Histogram (bucket counts as deltas, what
// instrumented code exposes and histogram chunks store) and the FloatHistogram
// (absolute float counts, what PromQL computes with), with the behaviour of
// Prometheus 3.x's model/histogram: validation with its error texts, bucket
// iteration with exact bounds, compaction, schema reduction, arithmetic, counter
// reset detection and the two text forms (String() and the promqltest notation).
// Imports only gofmt/.
//
// Values are immutable: constructors copy what they are given, spans are
// frozen, bucket arrays are typed arrays that no method writes after
// construction (they cannot be frozen: callers treat them as read-only), and
// every operation returns a new histogram. So histograms share each other's
// arrays and spans, and operations hand the arrays they build to the result
// without a copy (ownedFloatHistogram does that for PromQL's kernels). Integer counts are JS numbers, exact up to
// 2^53 (Prometheus uses uint64/int64; larger counts lose precision here).
import { formatG } from '../gofmt/float.js';

export const EXPONENTIAL_SCHEMA_MAX = 8;
export const EXPONENTIAL_SCHEMA_MAX_RESERVED = 52;
export const EXPONENTIAL_SCHEMA_MIN = -4;
export const EXPONENTIAL_SCHEMA_MIN_RESERVED = -9;
export const CUSTOM_BUCKETS_SCHEMA = -53;

/** What a sample says about counter resets (Prometheus's CounterResetHint, same numbers). */
export const enum CounterResetHint {
  Unknown = 0,
  CounterReset = 1,
  NotCounterReset = 2,
  Gauge = 3,
}

/** A run of `length` consecutive buckets, `offset` after the previous span (or at index `offset` for the first). */
export interface Span {
  readonly offset: number;
  readonly length: number;
}

/** Which of Prometheus's histogram errors this is (each has its fixed text, wrapped with context). */
export type HistogramErrorKind =
  | 'count_not_big_enough'
  | 'count_mismatch'
  | 'negative_count'
  | 'negative_bucket_count'
  | 'span_negative_offset'
  | 'spans_buckets_mismatch'
  | 'custom_buckets_mismatch'
  | 'custom_buckets_invalid'
  | 'custom_buckets_infinite'
  | 'custom_buckets_nan'
  | 'incompatible_schema'
  | 'custom_buckets_zero_count'
  | 'custom_buckets_zero_threshold'
  | 'custom_buckets_negative_spans'
  | 'custom_buckets_negative_buckets'
  | 'exponential_schema_custom_bounds'
  | 'invalid_schema'
  | 'unknown_schema'
  | 'bucket_limit'
  | 'bad_operation';

const ERROR_TEXT: Record<HistogramErrorKind, string> = {
  count_not_big_enough:
    "histogram's observation count should be at least the number of observations found in the buckets",
  count_mismatch:
    "histogram's observation count should equal the number of observations found in the buckets (in absence of NaN)",
  negative_count: "histogram's observation count is negative",
  negative_bucket_count: 'histogram has a bucket whose observation count is negative',
  span_negative_offset: 'histogram has a span whose offset is negative',
  spans_buckets_mismatch: 'histogram spans specify different number of buckets than provided',
  custom_buckets_mismatch: 'histogram custom bounds are too few',
  custom_buckets_invalid: 'histogram custom bounds must be in strictly increasing order',
  custom_buckets_infinite: 'histogram custom bounds must be finite',
  custom_buckets_nan: 'histogram custom bounds must not be NaN',
  incompatible_schema:
    'cannot apply this operation on histograms with a mix of exponential and custom bucket schemas',
  custom_buckets_zero_count: 'custom buckets: must have zero count of 0',
  custom_buckets_zero_threshold: 'custom buckets: must have zero threshold of 0',
  custom_buckets_negative_spans: 'custom buckets: must not have negative spans',
  custom_buckets_negative_buckets: 'custom buckets: must not have negative buckets',
  exponential_schema_custom_bounds: 'histogram with exponential schema must not have custom bounds',
  invalid_schema: `histogram has an invalid schema, which must be between ${EXPONENTIAL_SCHEMA_MIN} and ${EXPONENTIAL_SCHEMA_MAX} for exponential buckets, or ${CUSTOM_BUCKETS_SCHEMA} for custom buckets`,
  unknown_schema: `histogram has an unknown schema, which must be between ${EXPONENTIAL_SCHEMA_MIN_RESERVED} and ${EXPONENTIAL_SCHEMA_MAX_RESERVED} for exponential buckets, or ${CUSTOM_BUCKETS_SCHEMA} for custom buckets`,
  bucket_limit: 'histogram bucket limit exceeded',
  bad_operation: 'invalid histogram operation',
};

/** A histogram error; `message` is Prometheus's full text (context, then the fixed text of `kind`). */
export class HistogramError extends Error {
  override readonly name = 'HistogramError';
  constructor(
    readonly kind: HistogramErrorKind,
    context = '',
    detail?: string,
  ) {
    const base = detail ?? ERROR_TEXT[kind];
    super(context === '' ? base : `${context}: ${base}`);
  }
}

export function isCustomBucketsSchema(s: number): boolean {
  return s === CUSTOM_BUCKETS_SCHEMA;
}
export function isExponentialSchema(s: number): boolean {
  return s >= EXPONENTIAL_SCHEMA_MIN && s <= EXPONENTIAL_SCHEMA_MAX;
}
export function isValidSchema(s: number): boolean {
  return isCustomBucketsSchema(s) || isExponentialSchema(s);
}
/** Schemas a reader accepts and reduces to 8 (-9..52 or custom). */
export function isKnownSchema(s: number): boolean {
  return isCustomBucketsSchema(s) || (s >= EXPONENTIAL_SCHEMA_MIN_RESERVED && s <= EXPONENTIAL_SCHEMA_MAX_RESERVED);
}
export function invalidSchemaError(s: number): HistogramError {
  return new HistogramError('invalid_schema', '', `${ERROR_TEXT.invalid_schema}, got schema ${s}`);
}
export function unknownSchemaError(s: number): HistogramError {
  return new HistogramError('unknown_schema', '', `${ERROR_TEXT.unknown_schema}, got schema ${s}`);
}

export function customBoundsMatch(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---- bucket bounds ----

/**
 * Prometheus's bucket bounds come from a fixed table of the 256 schema-8
 * fractions 2^(k/256 - 1) in [0.5, 1) (every lower schema uses a subset). Its
 * values are not all correctly rounded: they deviate by -4..+1 units in the
 * last place. We compute the correctly rounded value (Math.pow as a candidate,
 * then BigInt arithmetic on the rounding midpoints picks the right neighbour)
 * and apply the recorded deviation, digit k being 4 + ulps for fraction k, so
 * bounds equal Prometheus's bit for bit.
 */
const PROMETHEUS_ULP_DEVIATION =
  '4444433434433544443334323443443243444344333334233333453444434423' +
  '4445443334323323344355334543353443434454442334344333343334323432' +
  '3334333244333432332223332322222243433345332243322323343422123232' +
  '3321333223221212131122111111211033333213231224233211342311111311';

let schema8Fracs: Float64Array | null = null;

/** The 256 schema-8 fractions, computed on first use. */
function fracTable(): Float64Array {
  if (schema8Fracs !== null) return schema8Fracs;
  const t = new Float64Array(256);
  const two52 = 2 ** 52;
  const pow256 = (v: bigint): bigint => {
    let r = v;
    for (let i = 0; i < 8; i++) r *= r;
    return r;
  };
  for (let k = 0; k < 256; k++) {
    // x = 2^(k/256) in [1, 2) is M / 2^52 with a 53-bit integer M.
    let m = Math.round(Math.pow(2, k / 256) * two52);
    // Correctly rounded when (2M-1)/2^53 < 2^(k/256) < (2M+1)/2^53, i.e. comparing (2M±1)^256 with 2^(k + 53*256).
    const target = 1n << BigInt(k + 53 * 256);
    for (;;) {
      if (pow256(BigInt(2 * m + 1)) < target) m++;
      else if (pow256(BigInt(2 * m - 1)) > target) m--;
      else break;
    }
    // The fractions in [0.5, 1) share one exponent, so an ulp is one step of M.
    m += PROMETHEUS_ULP_DEVIATION.charCodeAt(k) - 0x30 - 4;
    t[k] = m / two52 / 2;
  }
  schema8Fracs = t;
  return t;
}

/** Go's math.Ldexp for the exponents bucket bounds need (results are exact powers-of-two scalings). */
function ldexp(frac: number, exp: number): number {
  // Split the scaling so that neither factor overflows or underflows on its own.
  if (exp > 1000) return frac * 2 ** 1000 * 2 ** (exp - 1000);
  if (exp < -1000) return frac * 2 ** -1000 * 2 ** (exp + 1000);
  return frac * 2 ** exp;
}

/** Upper bound of exponential bucket `idx` in `schema` (Prometheus's getBoundExponential, exact). */
export function exponentialBound(idx: number, schema: number): number {
  if (schema < 0) {
    const exp = idx * 2 ** -schema;
    // The bucket just below the ±Inf bucket ends at the largest float, not at 2^1024.
    if (exp === 1024) return Number.MAX_VALUE;
    return ldexp(1, exp);
  }
  const per = 1 << schema;
  const fracIdx = ((idx % per) + per) % per;
  const frac = fracTable()[fracIdx << (8 - schema)]!;
  const exp = Math.floor(idx / per) + 1;
  if (frac === 0.5 && exp === 1025) return Number.MAX_VALUE;
  return ldexp(frac, exp);
}

/** Upper bound of bucket `idx` (Prometheus's getBound): custom bounds, ±Inf at the ends, or exponential. */
export function bucketBound(idx: number, schema: number, customValues: ArrayLike<number>): number {
  if (isCustomBucketsSchema(schema)) {
    const n = customValues.length;
    if (idx > n || idx < -1) throw new HistogramError('bad_operation', '', `index ${idx} out of bounds for custom bounds of length ${n}`);
    if (idx === n) return Infinity;
    if (idx === -1) return -Infinity;
    return customValues[idx]!;
  }
  return exponentialBound(idx, schema);
}

/** The bucket index in `targetSchema` that bucket `idx` of `originSchema` falls into (target <= origin). */
export function targetIndex(idx: number, originSchema: number, targetSchema: number): number {
  return Math.floor((idx - 1) / 2 ** (originSchema - targetSchema)) + 1;
}

// ---- buckets ----

/** One bucket with its bounds; `count` is absolute. */
export interface Bucket {
  readonly lower: number;
  readonly upper: number;
  readonly lowerInclusive: boolean;
  readonly upperInclusive: boolean;
  readonly count: number;
  /** Index within the schema (irrelevant for the zero bucket). */
  readonly index: number;
}

/** `[lower,upper]:count` with '(' / ')' for open ends, as Prometheus prints buckets. */
export function bucketString(b: Bucket): string {
  return `${b.lowerInclusive ? '[' : '('}${formatG(b.lower)},${formatG(b.upper)}${b.upperInclusive ? ']' : ')'}:${formatG(b.count)}`;
}

function makeBucket(idx: number, count: number, schema: number, positive: boolean, custom: ArrayLike<number>): Bucket {
  let lower: number;
  let upper: number;
  if (positive) {
    upper = bucketBound(idx, schema, custom);
    lower = bucketBound(idx - 1, schema, custom);
  } else {
    lower = -bucketBound(idx, schema, custom);
    upper = -bucketBound(idx - 1, schema, custom);
  }
  const custom_ = isCustomBucketsSchema(schema);
  return {
    lower,
    upper,
    lowerInclusive: custom_ ? idx === 0 : lower < 0,
    upperInclusive: custom_ ? true : upper > 0,
    count,
    index: idx,
  };
}

/** Absolute bucket indexes of spans, in order (the spans are assumed to match the bucket count). */
function spanIndexes(spans: readonly Span[], n: number): Int32Array {
  const out = new Int32Array(n);
  let idx = 0;
  let k = 0;
  for (const s of spans) {
    idx += s.offset;
    for (let j = 0; j < s.length && k < n; j++) out[k++] = idx++;
  }
  return out;
}

/** Spans for strictly increasing indexes, one span per run of consecutive indexes. */
function spansFor(indexes: ArrayLike<number>): Span[] {
  const spans: Span[] = [];
  let last = 0;
  let start = 0;
  let len = 0;
  for (let i = 0; i < indexes.length; i++) {
    const idx = indexes[i]!;
    if (len > 0 && idx === last + 1) {
      len++;
    } else {
      if (len > 0) spans.push({ offset: start, length: len });
      start = spans.length === 0 && len === 0 ? idx : idx - last - 1;
      len = 1;
    }
    last = idx;
  }
  if (len > 0) spans.push({ offset: start, length: len });
  return spans;
}

function freezeSpans(spans: readonly Span[] | undefined): readonly Span[] {
  if (spans === undefined || spans.length === 0) return EMPTY_SPANS;
  // Another histogram's spans (frozen all through) are shared rather than copied.
  if (Object.isFrozen(spans) && spans.every((s) => Object.isFrozen(s))) return spans;
  return Object.freeze(spans.map((s) => Object.freeze({ offset: s.offset, length: s.length })));
}

/** A copy of counts as a Float64Array (a plain memory copy when they are one already). */
function copyCounts(counts: ArrayLike<number> | undefined): Float64Array {
  if (counts === undefined || counts.length === 0) return EMPTY;
  return counts instanceof Float64Array ? counts.slice() : Float64Array.from(counts);
}
const EMPTY_SPANS: readonly Span[] = Object.freeze([]);
const EMPTY = new Float64Array(0);

/** Prometheus's spansMatch: equal after skipping zero-length spans (their offsets carry over). */
export function spansMatch(a: readonly Span[], b: readonly Span[]): boolean {
  const norm = (s: readonly Span[]): Span[] => {
    const out: Span[] = [];
    let carry = 0;
    for (const x of s) {
      if (x.length === 0) {
        carry += x.offset;
        continue;
      }
      out.push({ offset: x.offset + carry, length: x.length });
      carry = 0;
    }
    return out;
  };
  const x = norm(a);
  const y = norm(b);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i]!.offset !== y[i]!.offset || x[i]!.length !== y[i]!.length) return false;
  return true;
}

function checkSpans(spans: readonly Span[], numBuckets: number, side: string): void {
  let n = 0;
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    if (i > 0 && s.offset < 0) {
      throw new HistogramError('span_negative_offset', `${side}span number ${i + 1} with offset ${s.offset}`);
    }
    n += s.length;
  }
  if (n !== numBuckets) throw new HistogramError('spans_buckets_mismatch', `${side}spans need ${n} buckets, have ${numBuckets} buckets`);
}

/** Sum of absolute counts; throws on a negative one. */
function checkBuckets(buckets: ArrayLike<number>, deltas: boolean, side: string): number {
  let last = 0;
  let sum = 0;
  for (let i = 0; i < buckets.length; i++) {
    const c = deltas ? last + buckets[i]! : buckets[i]!;
    if (c < 0) {
      throw new HistogramError('negative_bucket_count', `${side}bucket number ${i + 1} has observation count of ${formatG(c)}`);
    }
    last = c;
    sum += c;
  }
  return sum;
}

/** Go's %f (six decimals, ±Inf spelled as Go does). */
function goF(x: number): string {
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (x !== x) return 'NaN';
  return x.toFixed(6);
}

function checkCustomBounds(bounds: ArrayLike<number>, spans: readonly Span[], numBuckets: number): void {
  const ctx = 'custom buckets: ';
  let prev = -Infinity;
  for (let i = 0; i < bounds.length; i++) {
    const cur = bounds[i]!;
    if (cur !== cur) throw new HistogramError('custom_buckets_nan', 'custom buckets');
    if (i > 0 && cur <= prev) {
      throw new HistogramError('custom_buckets_invalid', `${ctx}previous bound is ${goF(prev)} and current is ${goF(cur)}`);
    }
    prev = cur;
  }
  if (prev === Infinity) throw new HistogramError('custom_buckets_infinite', `${ctx}last +Inf bound must not be explicitly defined`);
  let n = 0;
  let total = 0;
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    if (s.offset < 0) throw new HistogramError('span_negative_offset', `${ctx}span number ${i + 1} with offset ${s.offset}`);
    n += s.length;
    total += s.length + s.offset;
  }
  if (n !== numBuckets) throw new HistogramError('spans_buckets_mismatch', `${ctx}spans need ${n} buckets, have ${numBuckets} buckets`);
  if (bounds.length + 1 < total) {
    throw new HistogramError(
      'custom_buckets_mismatch',
      `${ctx}only ${bounds.length} custom bounds defined which is insufficient to cover total span length of ${total}`,
    );
  }
}

// ---- layout operations shared by both kinds (on absolute counts) ----

/** A side of a histogram as absolute counts keyed by index (increasing). */
interface Side {
  idx: Int32Array | number[];
  cnt: Float64Array | number[];
}

/** The side over the histogram's own counts (read, never written). */
function sideOf(spans: readonly Span[], counts: Float64Array): Side {
  return { idx: spanIndexes(spans, counts.length), cnt: counts };
}

/**
 * compactSide for one side given as spans and absolute counts. Invalid layouts
 * come out as Prometheus leaves them: nothing when every span is empty, and
 * buckets beyond what the spans describe kept unchanged at the end.
 */
function compactLayout(spans: readonly Span[], abs: ArrayLike<number>, maxEmpty: number): { spans: Span[]; counts: number[] } {
  let covered = 0;
  for (const s of spans) covered += s.length;
  if (spans.length > 0 && covered === 0) return { spans: [], counts: [] };
  const n = Math.min(covered, abs.length);
  const all = Array.from(abs);
  const side = compactSide({ idx: Array.from(spanIndexes(spans, n)), cnt: all.slice(0, n) }, maxEmpty);
  return { spans: spansFor(side.idx), counts: [...side.cnt, ...all.slice(n)] };
}

/**
 * Removes empty buckets: always at the edges of spans, within a span only in
 * runs longer than maxEmpty; spans closer than maxEmpty+1 merge (the gap filled
 * with zeros). This is the layout Prometheus's Compact produces.
 */
function compactSide(side: Side, maxEmpty: number): Side {
  const idx: number[] = [];
  const cnt: number[] = [];
  for (let i = 0; i < side.idx.length; i++) {
    const c = side.cnt[i]!;
    if (c === 0) continue;
    const x = side.idx[i]!;
    if (idx.length > 0) {
      const gap = x - idx[idx.length - 1]! - 1;
      if (gap > 0 && gap <= maxEmpty) {
        for (let g = idx[idx.length - 1]! + 1; g < x; g++) {
          idx.push(g);
          cnt.push(0);
        }
      }
    }
    idx.push(x);
    cnt.push(c);
  }
  return { idx, cnt };
}

function reduceSide(side: Side, from: number, to: number): Side {
  const idx: number[] = [];
  const cnt: number[] = [];
  for (let i = 0; i < side.idx.length; i++) {
    const t = targetIndex(side.idx[i]!, from, to);
    if (idx.length > 0 && idx[idx.length - 1] === t) cnt[cnt.length - 1]! += side.cnt[i]!;
    else {
      idx.push(t);
      cnt.push(side.cnt[i]!);
    }
  }
  return { idx, cnt };
}

/** Union of both sides' indexes, counts a + sign*b (b's buckets at or below `skipUpTo` are left out, as they went to the zero bucket). */
function mergeSides(a: Side, b: Side, sign: number, skipUpTo: number, schema: number): Side {
  const idx: number[] = [];
  const cnt: number[] = [];
  let i = 0;
  let j = 0;
  const exp = isExponentialSchema(schema);
  while (j < b.idx.length && exp && exponentialBound(b.idx[j]!, schema) <= skipUpTo) j++;
  while (i < a.idx.length || j < b.idx.length) {
    if (j >= b.idx.length || (i < a.idx.length && a.idx[i]! < b.idx[j]!)) {
      idx.push(a.idx[i]!);
      cnt.push(a.cnt[i++]!);
    } else if (i >= a.idx.length || b.idx[j]! < a.idx[i]!) {
      idx.push(b.idx[j]!);
      cnt.push(sign * b.cnt[j++]!);
    } else {
      idx.push(a.idx[i]!);
      cnt.push(a.cnt[i++]! + sign * b.cnt[j++]!);
    }
  }
  return { idx, cnt };
}

function toDeltas(abs: ArrayLike<number>): Float64Array {
  const out = new Float64Array(abs.length);
  let prev = 0;
  for (let i = 0; i < abs.length; i++) {
    out[i] = abs[i]! - prev;
    prev = abs[i]!;
  }
  return out;
}

function toAbsolute(deltas: ArrayLike<number>): Float64Array {
  const out = new Float64Array(deltas.length);
  let cur = 0;
  for (let i = 0; i < deltas.length; i++) {
    cur += deltas[i]!;
    out[i] = cur;
  }
  return out;
}

/** Go's Float64bits equality: -0 differs from 0, NaNs are equal only with the same payload (the staleness marker is one). */
function sameBits(a: number, b: number): boolean {
  if (a !== a || b !== b) return a !== a && b !== b && floatBitsEqual(a, b);
  return Object.is(a, b);
}
const f64a = new Float64Array(2);
const u32a = new Uint32Array(f64a.buffer);
function floatBitsEqual(a: number, b: number): boolean {
  f64a[0] = a;
  f64a[1] = b;
  return u32a[0] === u32a[2] && u32a[1] === u32a[3];
}

function arraysSameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameBits(a[i]!, b[i]!)) return false;
  return true;
}

// ---- the two histogram types ----

/**
 * Set only while ownedFloatHistogram constructs: the constructor then keeps
 * the Float64Arrays it is given instead of copying them.
 */
let adopting = false;

function adopted(counts: ArrayLike<number> | undefined): Float64Array {
  if (counts === undefined || counts.length === 0) return EMPTY;
  return counts instanceof Float64Array ? counts : Float64Array.from(counts);
}

/**
 * A FloatHistogram that takes over the Float64Arrays in init without copying
 * them (other array types and spans are copied as usual). For code that builds
 * a result in fresh arrays, such as PromQL's rate: the caller must never
 * write to those arrays afterwards, as the histogram is immutable.
 */
export function ownedFloatHistogram(init: HistogramInit): FloatHistogram {
  return adopt(() => new FloatHistogram(init));
}

function adopt<T>(make: () => T): T {
  adopting = true;
  try {
    return make();
  } finally {
    adopting = false;
  }
}

/** changes with copies of the count arrays it holds (what a histogram is built from otherwise is its own). */
function copiedCounts(changes: HistogramInit): HistogramInit {
  const out = { ...changes };
  if (changes.positiveBuckets !== undefined) out.positiveBuckets = copyCounts(changes.positiveBuckets);
  if (changes.negativeBuckets !== undefined) out.negativeBuckets = copyCounts(changes.negativeBuckets);
  if (changes.customValues !== undefined) out.customValues = copyCounts(changes.customValues);
  return out;
}

/** Fields both constructors take; missing ones are zero / empty / Unknown. */
export interface HistogramInit {
  counterResetHint?: CounterResetHint;
  schema?: number;
  zeroThreshold?: number;
  zeroCount?: number;
  count?: number;
  sum?: number;
  positiveSpans?: readonly Span[];
  negativeSpans?: readonly Span[];
  /** Histogram: deltas between consecutive buckets (the first is absolute); FloatHistogram: absolute counts. */
  positiveBuckets?: ArrayLike<number>;
  negativeBuckets?: ArrayLike<number>;
  /** Upper bounds of custom buckets (schema -53), +Inf implied. */
  customValues?: ArrayLike<number>;
}

abstract class HistogramBase {
  readonly counterResetHint: CounterResetHint;
  readonly schema: number;
  readonly zeroThreshold: number;
  readonly zeroCount: number;
  readonly count: number;
  readonly sum: number;
  readonly positiveSpans: readonly Span[];
  readonly negativeSpans: readonly Span[];
  readonly positiveBuckets: Float64Array;
  readonly negativeBuckets: Float64Array;
  readonly customValues: Float64Array;

  constructor(init: HistogramInit) {
    this.counterResetHint = init.counterResetHint ?? CounterResetHint.Unknown;
    this.schema = init.schema ?? 0;
    this.zeroThreshold = init.zeroThreshold ?? 0;
    this.zeroCount = init.zeroCount ?? 0;
    this.count = init.count ?? 0;
    this.sum = init.sum ?? 0;
    this.positiveSpans = freezeSpans(init.positiveSpans);
    this.negativeSpans = freezeSpans(init.negativeSpans);
    if (adopting) {
      this.positiveBuckets = adopted(init.positiveBuckets);
      this.negativeBuckets = adopted(init.negativeBuckets);
      this.customValues = adopted(init.customValues);
    } else {
      this.positiveBuckets = copyCounts(init.positiveBuckets);
      this.negativeBuckets = copyCounts(init.negativeBuckets);
      this.customValues = copyCounts(init.customValues);
    }
  }

  usesCustomBuckets(): boolean {
    return isCustomBucketsSchema(this.schema);
  }

  /** All fields as an init object (arrays shared: pass it to a constructor, which copies). */
  protected fields(): Required<HistogramInit> {
    return {
      counterResetHint: this.counterResetHint,
      schema: this.schema,
      zeroThreshold: this.zeroThreshold,
      zeroCount: this.zeroCount,
      count: this.count,
      sum: this.sum,
      positiveSpans: this.positiveSpans,
      negativeSpans: this.negativeSpans,
      positiveBuckets: this.positiveBuckets,
      negativeBuckets: this.negativeBuckets,
      customValues: this.customValues,
    };
  }

  /** Absolute counts of one side. */
  protected abstract absolute(positive: boolean): ArrayLike<number>;

  /** The zero bucket (`[-threshold,threshold]:count`); custom-bucket histograms have none. */
  zeroBucket(): Bucket {
    if (this.usesCustomBuckets()) throw new HistogramError('bad_operation', '', 'histograms with custom buckets have no zero bucket');
    return { lower: -this.zeroThreshold, upper: this.zeroThreshold, lowerInclusive: true, upperInclusive: true, count: this.zeroCount, index: 0 };
  }

  /** Positive buckets from the lowest up (absolute counts). */
  *positiveBucketIterator(): Generator<Bucket> {
    yield* this.sideBuckets(true);
  }

  /** Negative buckets from the one nearest zero outwards (absolute counts). */
  *negativeBucketIterator(): Generator<Bucket> {
    yield* this.sideBuckets(false);
  }

  private *sideBuckets(positive: boolean): Generator<Bucket> {
    const spans = positive ? this.positiveSpans : this.negativeSpans;
    const counts = this.absolute(positive);
    // Buckets the spans do not describe (invalid input) are ignored, as Prometheus's iterators ignore them.
    let described = 0;
    for (const s of spans) described += s.length;
    const ix = spanIndexes(spans, Math.min(described, counts.length));
    for (let i = 0; i < ix.length; i++) yield makeBucket(ix[i]!, counts[i]!, this.schema, positive, this.customValues);
  }

  /**
   * Every bucket from the lowest to the highest value: negative buckets, the
   * zero bucket when populated, positive buckets; bucket bounds that reach into
   * the zero bucket are clipped to its threshold (Prometheus's AllBucketIterator).
   */
  *allBucketIterator(): Generator<Bucket> {
    const neg = [...this.negativeBucketIterator()].reverse();
    const z = this.zeroThreshold;
    for (const b of neg) yield clipToZero(b, z);
    if (this.zeroCount > 0) yield this.zeroBucket();
    for (const b of this.positiveBucketIterator()) yield clipToZero(b, z);
  }

  /** Every bucket from the highest value down (the reverse of allBucketIterator). */
  *allReverseBucketIterator(): Generator<Bucket> {
    yield* [...this.allBucketIterator()].reverse();
  }

  protected bucketsString(countText: string): string {
    let s = `{count:${countText}, sum:${formatG(this.sum)}`;
    const neg = [...this.negativeBucketIterator()].filter((b) => b.count !== 0).reverse();
    for (const b of neg) s += `, ${bucketString(b)}`;
    if (this.zeroCount !== 0) s += `, ${bucketString(this.zeroBucket())}`;
    for (const b of this.positiveBucketIterator()) if (b.count !== 0) s += `, ${bucketString(b)}`;
    return s + '}';
  }

  protected validateLayout(deltas: boolean): number {
    let n = 0;
    if (isCustomBucketsSchema(this.schema)) {
      checkCustomBounds(this.customValues, this.positiveSpans, this.positiveBuckets.length);
      if (this.zeroCount !== 0) throw new HistogramError('custom_buckets_zero_count');
      if (this.zeroThreshold !== 0) throw new HistogramError('custom_buckets_zero_threshold');
      if (this.negativeSpans.length > 0) throw new HistogramError('custom_buckets_negative_spans');
      if (this.negativeBuckets.length > 0) throw new HistogramError('custom_buckets_negative_buckets');
    } else if (isExponentialSchema(this.schema)) {
      checkSpans(this.positiveSpans, this.positiveBuckets.length, 'positive side: ');
      checkSpans(this.negativeSpans, this.negativeBuckets.length, 'negative side: ');
      n += checkBuckets(this.negativeBuckets, deltas, 'negative side: ');
      if (!deltas && this.zeroCount < 0) {
        throw new HistogramError('negative_bucket_count', `zero bucket has observation count of ${formatG(this.zeroCount)}`);
      }
      if (this.customValues.length > 0) throw new HistogramError('exponential_schema_custom_bounds');
    } else {
      throw invalidSchemaError(this.schema);
    }
    return n;
  }
}

function clipToZero(b: Bucket, z: number): Bucket {
  if (b.upper < 0 && b.upper > -z) return { ...b, upper: -z };
  if (b.lower > 0 && b.lower < z) return { ...b, lower: z };
  return b;
}

/** Result of add/sub: the sum plus what Prometheus reports as annotations. */
export interface ArithmeticResult {
  readonly histogram: FloatHistogram;
  /** One operand said counter reset, the other not: the result's hint became Unknown. */
  readonly counterResetCollision: boolean;
  /** Custom bounds differed and were reduced to the bounds both have. */
  readonly nhcbBoundsReconciled: boolean;
}

/** An integer histogram: counts are integers, buckets hold deltas (the first of each side is absolute). */
export class Histogram extends HistogramBase {
  constructor(init: HistogramInit = {}) {
    super(init);
  }

  protected absolute(positive: boolean): Float64Array {
    return toAbsolute(positive ? this.positiveBuckets : this.negativeBuckets);
  }

  /** Prometheus's Validate: throws HistogramError with its text. */
  validate(): void {
    let n = this.validateLayout(true);
    n += checkBuckets(this.positiveBuckets, true, 'positive side: ');
    const inBuckets = n + this.zeroCount;
    if (this.sum !== this.sum) {
      if (inBuckets > this.count) {
        throw new HistogramError('count_not_big_enough', `${inBuckets} observations found in buckets, but the Count field is ${this.count}`);
      }
    } else if (inBuckets !== this.count) {
      throw new HistogramError('count_mismatch', `${inBuckets} observations found in buckets, but the Count field is ${this.count}`);
    }
  }

  with(changes: HistogramInit): Histogram {
    const init = { ...this.fields(), ...copiedCounts(changes) };
    return adopt(() => new Histogram(init));
  }

  toFloat(): FloatHistogram {
    const custom = this.usesCustomBuckets();
    return ownedFloatHistogram({
      ...this.fields(),
      zeroThreshold: custom ? 0 : this.zeroThreshold,
      zeroCount: custom ? 0 : this.zeroCount,
      negativeSpans: custom ? EMPTY_SPANS : this.negativeSpans,
      positiveBuckets: toAbsolute(this.positiveBuckets),
      negativeBuckets: custom ? EMPTY : toAbsolute(this.negativeBuckets),
      customValues: custom ? this.customValues : EMPTY,
    });
  }

  /** Removes empty buckets (see FloatHistogram.compact). */
  compact(maxEmptyBuckets: number): Histogram {
    const p = compactLayout(this.positiveSpans, toAbsolute(this.positiveBuckets), maxEmptyBuckets);
    const n = compactLayout(this.negativeSpans, toAbsolute(this.negativeBuckets), maxEmptyBuckets);
    return this.with({
      positiveSpans: p.spans,
      positiveBuckets: toDeltas(p.counts),
      negativeSpans: n.spans,
      negativeBuckets: toDeltas(n.counts),
    });
  }

  /** Merges buckets down to a lower exponential schema. */
  reduceResolution(targetSchema: number): Histogram {
    checkReduce(this.schema, targetSchema);
    checkReduceLayout(this.positiveSpans, this.positiveBuckets.length);
    checkReduceLayout(this.negativeSpans, this.negativeBuckets.length);
    const p = reduceSide(sideOf(this.positiveSpans, toAbsolute(this.positiveBuckets)), this.schema, targetSchema);
    const n = reduceSide(sideOf(this.negativeSpans, toAbsolute(this.negativeBuckets)), this.schema, targetSchema);
    return this.with({
      schema: targetSchema,
      positiveSpans: spansFor(p.idx),
      positiveBuckets: toDeltas(p.cnt),
      negativeSpans: spansFor(n.idx),
      negativeBuckets: toDeltas(n.cnt),
    });
  }

  /** Prometheus's Equals (ignores the counter reset hint; spans compared modulo empty spans). */
  equals(o: Histogram): boolean {
    return (
      this.schema === o.schema &&
      this.count === o.count &&
      sameBits(this.sum, o.sum) &&
      (!this.usesCustomBuckets() || customBoundsMatch(this.customValues, o.customValues)) &&
      this.zeroThreshold === o.zeroThreshold &&
      this.zeroCount === o.zeroCount &&
      spansMatch(this.negativeSpans, o.negativeSpans) &&
      arraysSameBits(this.negativeBuckets, o.negativeBuckets) &&
      spansMatch(this.positiveSpans, o.positiveSpans) &&
      arraysSameBits(this.positiveBuckets, o.positiveBuckets)
    );
  }

  /** `{count:N, sum:S, [a,b):c, ...}` as Prometheus's Histogram.String. */
  override toString(): string {
    return this.bucketsString(String(this.count));
  }

  /** The promqltest notation of this histogram (via its float form). */
  testExpression(): string {
    return this.toFloat().testExpression();
  }
}

/** The layout checks Prometheus's reduceResolution makes, with its texts. */
function checkReduceLayout(spans: readonly Span[], numBuckets: number): void {
  let used = 0;
  for (let n = 0; n < spans.length; n++) {
    const s = spans[n]!;
    if (n > 0 && s.offset < 0) throw new HistogramError('span_negative_offset', `span number ${n + 1} with offset ${s.offset}`);
    used += s.length;
    if (used > numBuckets) throw new HistogramError('spans_buckets_mismatch', `have ${numBuckets} buckets but spans need more`);
  }
  if (used !== numBuckets) throw new HistogramError('spans_buckets_mismatch', `spans need ${used} buckets, have ${numBuckets} buckets`);
}

function checkReduce(schema: number, target: number): void {
  if (isCustomBucketsSchema(schema)) throw new HistogramError('bad_operation', '', 'cannot reduce resolution when there are custom buckets');
  if (isCustomBucketsSchema(target)) throw new HistogramError('bad_operation', '', 'cannot reduce resolution to custom buckets schema');
  if (target >= schema) throw new HistogramError('bad_operation', '', `cannot reduce resolution from schema ${schema} to ${target}`);
}

/** A float histogram: absolute float counts per bucket. */
export class FloatHistogram extends HistogramBase {
  constructor(init: HistogramInit = {}) {
    super(init);
  }

  protected absolute(positive: boolean): Float64Array {
    return positive ? this.positiveBuckets : this.negativeBuckets;
  }

  with(changes: HistogramInit): FloatHistogram {
    return ownedFloatHistogram({ ...this.fields(), ...copiedCounts(changes) });
  }

  /** with() for changes holding only arrays just built for the result (nothing to copy). */
  private derive(changes: HistogramInit): FloatHistogram {
    return ownedFloatHistogram({ ...this.fields(), ...changes });
  }

  /** Prometheus's FloatHistogram.Validate (no count-vs-buckets check: floats may not add up exactly). */
  validate(): void {
    this.validateLayout(false);
    if (this.count < 0) throw new HistogramError('negative_count', `observation count is  ${formatG(this.count)}`);
    checkBuckets(this.positiveBuckets, false, 'positive side: ');
  }

  /** Scales every count and the sum; a negative factor makes it a gauge histogram. */
  mul(factor: number): FloatHistogram {
    return this.derive({
      zeroCount: this.zeroCount * factor,
      count: this.count * factor,
      sum: this.sum * factor,
      positiveBuckets: this.positiveBuckets.map((v) => v * factor),
      negativeBuckets: this.negativeBuckets.map((v) => v * factor),
      counterResetHint: factor < 0 ? CounterResetHint.Gauge : this.counterResetHint,
    });
  }

  /** Divides every count and the sum; dividing by 0 leaves no buckets (count, sum and zero count become ±Inf/NaN). */
  div(scalar: number): FloatHistogram {
    if (scalar === 0) {
      return this.derive({
        zeroCount: this.zeroCount / scalar,
        count: this.count / scalar,
        sum: this.sum / scalar,
        positiveSpans: EMPTY_SPANS,
        negativeSpans: EMPTY_SPANS,
        positiveBuckets: EMPTY,
        negativeBuckets: EMPTY,
      });
    }
    return this.derive({
      zeroCount: this.zeroCount / scalar,
      count: this.count / scalar,
      sum: this.sum / scalar,
      positiveBuckets: this.positiveBuckets.map((v) => v / scalar),
      negativeBuckets: this.negativeBuckets.map((v) => v / scalar),
      counterResetHint: scalar < 0 ? CounterResetHint.Gauge : this.counterResetHint,
    });
  }

  /** this + other, reconciling zero thresholds and schemas (down to the lower one) as Prometheus does. */
  add(other: FloatHistogram): ArithmeticResult {
    return this.addSub(other, 1);
  }

  /** this - other (same reconciliation as add). */
  sub(other: FloatHistogram): ArithmeticResult {
    return this.addSub(other, -1);
  }

  private addSub(other: FloatHistogram, sign: number): ArithmeticResult {
    if (this.usesCustomBuckets() !== other.usesCustomBuckets()) throw new HistogramError('incompatible_schema');
    const { hint, collision } = combineHints(this.counterResetHint, other.counterResetHint);
    const count = this.count + sign * other.count;
    const sum = this.sum + sign * other.sum;
    if (canonicalSpans(this.positiveSpans) && canonicalSpans(this.negativeSpans) && this.sameLayout(other)) {
      // Bucket for bucket the same layout: the general merge below would give these spans and counts.
      const custom = this.usesCustomBuckets();
      return {
        histogram: this.derive({
          counterResetHint: hint,
          count,
          sum,
          zeroCount: custom ? this.zeroCount : this.zeroCount + sign * other.zeroCount,
          positiveBuckets: combined(this.positiveBuckets, other.positiveBuckets, sign),
          negativeBuckets: custom ? this.negativeBuckets : combined(this.negativeBuckets, other.negativeBuckets, sign),
        }),
        counterResetCollision: collision,
        nhcbBoundsReconciled: false,
      };
    }
    if (this.usesCustomBuckets()) {
      const a = sideOf(this.positiveSpans, this.positiveBuckets);
      const b = sideOf(other.positiveSpans, other.positiveBuckets);
      if (customBoundsMatch(this.customValues, other.customValues)) {
        const m = mergeSides(a, b, sign, -Infinity, this.schema);
        return {
          histogram: this.derive({ counterResetHint: hint, count, sum, positiveSpans: spansFor(m.idx), positiveBuckets: m.cnt }),
          counterResetCollision: collision,
          nhcbBoundsReconciled: false,
        };
      }
      const bounds = intersectBounds(this.customValues, other.customValues);
      const target = new Float64Array(bounds.length + 1);
      mapToBounds(a, this.customValues, bounds, target, 1);
      mapToBounds(b, other.customValues, bounds, target, sign);
      const idx: number[] = [];
      const cnt: number[] = [];
      target.forEach((v, i) => {
        if (v !== 0) {
          idx.push(i);
          cnt.push(v);
        }
      });
      return {
        histogram: this.derive({ counterResetHint: hint, count, sum, positiveSpans: spansFor(idx), positiveBuckets: cnt, customValues: bounds }),
        counterResetCollision: collision,
        nhcbBoundsReconciled: true,
      };
    }

    // Zero buckets: the narrower one widens to the other's threshold (and beyond, to a bucket bound) until both agree.
    let h: FloatHistogram = this;
    let oZeroCount = other.zeroCount;
    let oThreshold = other.zeroThreshold;
    while (oThreshold !== h.zeroThreshold) {
      if (h.zeroThreshold > oThreshold) {
        const r = other.zeroCountForLargerThreshold(h.zeroThreshold);
        oZeroCount = r.zeroCount;
        oThreshold = r.threshold;
      }
      if (oThreshold > h.zeroThreshold) h = h.widenZeroBucket(oThreshold);
    }

    const schema = Math.min(h.schema, other.schema);
    let ap = sideOf(h.positiveSpans, h.positiveBuckets);
    let an = sideOf(h.negativeSpans, h.negativeBuckets);
    let bp = sideOf(other.positiveSpans, other.positiveBuckets);
    let bn = sideOf(other.negativeSpans, other.negativeBuckets);
    if (h.schema > schema) {
      ap = reduceSide(ap, h.schema, schema);
      an = reduceSide(an, h.schema, schema);
    }
    if (other.schema > schema) {
      bp = reduceSide(bp, other.schema, schema);
      bn = reduceSide(bn, other.schema, schema);
    }
    const p = mergeSides(ap, bp, sign, h.zeroThreshold, schema);
    const n = mergeSides(an, bn, sign, h.zeroThreshold, schema);
    return {
      histogram: h.derive({
        counterResetHint: hint,
        schema,
        count,
        sum,
        zeroCount: h.zeroCount + sign * oZeroCount,
        positiveSpans: spansFor(p.idx),
        positiveBuckets: p.cnt,
        negativeSpans: spansFor(n.idx),
        negativeBuckets: n.cnt,
      }),
      counterResetCollision: collision,
      nhcbBoundsReconciled: false,
    };
  }

  /**
   * The zero count this histogram would have with a threshold of at least
   * `larger`: buckets reaching into the new zero bucket join it; a populated
   * bucket that straddles the threshold widens it to the bucket's bound.
   */
  zeroCountForLargerThreshold(larger: number): { zeroCount: number; threshold: number } {
    if (larger === this.zeroThreshold) return { zeroCount: this.zeroCount, threshold: larger };
    if (larger < this.zeroThreshold) {
      throw new HistogramError('bad_operation', '', `new threshold ${goF(larger)} is less than old threshold ${goF(this.zeroThreshold)}`);
    }
    for (;;) {
      let zc = this.zeroCount;
      let restart = false;
      for (const b of this.positiveBucketIterator()) {
        if (b.lower >= larger) break;
        zc += b.count;
        if (b.upper > larger) {
          if (b.count !== 0) larger = b.upper;
          break;
        }
      }
      for (const b of this.negativeBucketIterator()) {
        if (b.upper <= -larger) break;
        zc += b.count;
        if (b.lower < -larger) {
          if (b.count !== 0) {
            larger = -b.lower;
            restart = true;
          }
          break;
        }
      }
      if (!restart) return { zeroCount: zc, threshold: larger };
    }
  }

  /** This histogram with its zero bucket widened to `threshold` (at least), covered buckets emptied and the layout compacted. */
  private widenZeroBucket(threshold: number): FloatHistogram {
    const r = this.zeroCountForLargerThreshold(threshold);
    const pos = Float64Array.from(this.positiveBuckets);
    const neg = Float64Array.from(this.negativeBuckets);
    let i = 0;
    for (const b of this.positiveBucketIterator()) {
      if (b.lower >= r.threshold) break;
      pos[i++] = 0;
    }
    i = 0;
    for (const b of this.negativeBucketIterator()) {
      if (b.upper <= -r.threshold) break;
      neg[i++] = 0;
    }
    return this.derive({ zeroCount: r.zeroCount, zeroThreshold: r.threshold, positiveBuckets: pos, negativeBuckets: neg }).compact(0);
  }

  /**
   * Removes empty buckets at the edges of spans and runs of more than
   * maxEmptyBuckets inside them; merges spans closer than that. The result's
   * spans are canonical (no empty or adjacent spans).
   */
  compact(maxEmptyBuckets: number): FloatHistogram {
    const p = compactLayout(this.positiveSpans, this.positiveBuckets, maxEmptyBuckets);
    const n = compactLayout(this.negativeSpans, this.negativeBuckets, maxEmptyBuckets);
    return this.derive({ positiveSpans: p.spans, positiveBuckets: p.counts, negativeSpans: n.spans, negativeBuckets: n.counts });
  }

  /** Merges buckets down to a lower exponential schema (what a bucket limit needs). */
  reduceResolution(targetSchema: number): FloatHistogram {
    checkReduce(this.schema, targetSchema);
    checkReduceLayout(this.positiveSpans, this.positiveBuckets.length);
    checkReduceLayout(this.negativeSpans, this.negativeBuckets.length);
    const p = reduceSide(sideOf(this.positiveSpans, this.positiveBuckets), this.schema, targetSchema);
    const n = reduceSide(sideOf(this.negativeSpans, this.negativeBuckets), this.schema, targetSchema);
    return this.derive({ schema: targetSchema, positiveSpans: spansFor(p.idx), positiveBuckets: p.cnt, negativeSpans: spansFor(n.idx), negativeBuckets: n.cnt });
  }

  /** Prometheus's Equals: floats compared by bit pattern, the hint ignored. */
  equals(o: FloatHistogram): boolean {
    return (
      this.schema === o.schema &&
      sameBits(this.count, o.count) &&
      sameBits(this.sum, o.sum) &&
      (!this.usesCustomBuckets() || customBoundsMatch(this.customValues, o.customValues)) &&
      this.zeroThreshold === o.zeroThreshold &&
      sameBits(this.zeroCount, o.zeroCount) &&
      spansMatch(this.negativeSpans, o.negativeSpans) &&
      arraysSameBits(this.negativeBuckets, o.negativeBuckets) &&
      spansMatch(this.positiveSpans, o.positiveSpans) &&
      arraysSameBits(this.positiveBuckets, o.positiveBuckets)
    );
  }

  /**
   * Whether this histogram follows `previous` only after a counter reset
   * (Prometheus's DetectReset): an explicit hint decides; otherwise any count,
   * zero count or bucket that went down, a finer schema, a narrower zero bucket
   * or changed custom bounds that lose counts.
   */
  detectReset(previous: FloatHistogram): boolean {
    if (this.counterResetHint === CounterResetHint.CounterReset) return true;
    if (this.counterResetHint === CounterResetHint.NotCounterReset) return false;
    if (this.count < previous.count) return true;
    if (this.usesCustomBuckets()) {
      if (!previous.usesCustomBuckets()) return true;
      if (!customBoundsMatch(this.customValues, previous.customValues)) return this.resetWithMismatchedBounds(previous);
    }
    if (this.schema > previous.schema) return true;
    if (this.zeroThreshold < previous.zeroThreshold) return true;
    if (this.sameLayout(previous)) {
      // The usual case (bucket for bucket the same layout): compare the counts in place.
      if (this.zeroCount < previous.zeroCount) return true;
      return countsDecreased(this.positiveBuckets, previous.positiveBuckets) || countsDecreased(this.negativeBuckets, previous.negativeBuckets);
    }
    const prevZero = previous.zeroCountForLargerThreshold(this.zeroThreshold);
    if (prevZero.threshold !== this.zeroThreshold) return true;
    if (this.zeroCount < prevZero.zeroCount) return true;
    for (const positive of [true, false]) {
      const cur = this.mergedSide(positive, this.zeroThreshold, this.schema);
      const prev = previous.mergedSide(positive, this.zeroThreshold, this.schema);
      if (sideDecreased(cur, prev)) return true;
    }
    return false;
  }

  /**
   * Whether both have the same schema, zero threshold and spans with exactly
   * the buckets they describe (and custom bounds), and no bucket reaches into
   * the zero bucket: then their counts line up index for index.
   */
  sameLayout(o: FloatHistogram): boolean {
    if (this.schema !== o.schema || this.zeroThreshold !== o.zeroThreshold) return false;
    if (this.usesCustomBuckets() && this.customValues !== o.customValues && !customBoundsMatch(this.customValues, o.customValues)) return false;
    if (!sameSpans(this.positiveSpans, o.positiveSpans, this.positiveBuckets.length, o.positiveBuckets.length)) return false;
    if (!sameSpans(this.negativeSpans, o.negativeSpans, this.negativeBuckets.length, o.negativeBuckets.length)) return false;
    if (this.zeroThreshold === 0 || !isExponentialSchema(this.schema)) return true;
    const p = this.positiveSpans[0];
    const n = this.negativeSpans[0];
    return (p === undefined || exponentialBound(p.offset, this.schema) > this.zeroThreshold) && (n === undefined || exponentialBound(n.offset, this.schema) > this.zeroThreshold);
  }

  /** One side's buckets in targetSchema (<= schema), leaving out those whose upper bound is at or below startValue. */
  private mergedSide(positive: boolean, startValue: number, targetSchema: number): Side {
    let s = sideOf(positive ? this.positiveSpans : this.negativeSpans, positive ? this.positiveBuckets : this.negativeBuckets);
    if (targetSchema !== this.schema) s = reduceSide(s, this.schema, targetSchema);
    if (startValue !== 0 && isExponentialSchema(targetSchema)) {
      let k = 0;
      while (k < s.idx.length && exponentialBound(s.idx[k]!, targetSchema) <= startValue) k++;
      if (k > 0) s = { idx: s.idx.slice(k), cnt: s.cnt.slice(k) };
    }
    return s;
  }

  /** Reset detection across different custom bounds: compares counts summed up to each bound both have. */
  private resetWithMismatchedBounds(previous: FloatHistogram): boolean {
    const cur = [...this.positiveBucketIterator()];
    const prev = [...previous.positiveBucketIterator()];
    const common = intersectBounds(this.customValues, previous.customValues);
    let ci = 0;
    let pi = 0;
    for (const bound of [...common, Infinity]) {
      let cs = 0;
      while (ci < cur.length && cur[ci]!.upper <= bound) cs += cur[ci++]!.count;
      let ps = 0;
      while (pi < prev.length && prev[pi]!.upper <= bound) ps += prev[pi++]!.count;
      if (cs < ps) return true;
    }
    return false;
  }

  /** `{count:C, sum:S, [a,b):c, ...}` as Prometheus's FloatHistogram.String. */
  override toString(): string {
    return this.bucketsString(formatG(this.count));
  }

  /** The promqltest notation (`{{schema:1 count:3 sum:2 buckets:[1 2]}}`), compacted to one span per side. */
  testExpression(): string {
    const m = this.compact(Number.MAX_SAFE_INTEGER);
    const res: string[] = [];
    if (m.schema !== 0) res.push(`schema:${m.schema}`);
    if (m.count !== 0) res.push(`count:${formatG(m.count)}`);
    if (m.sum !== 0) res.push(`sum:${formatG(m.sum)}`);
    if (m.zeroCount !== 0) res.push(`z_bucket:${formatG(m.zeroCount)}`);
    if (m.zeroThreshold !== 0) res.push(`z_bucket_w:${formatG(m.zeroThreshold)}`);
    if (m.usesCustomBuckets()) res.push(`custom_values:[${Array.from(m.customValues, (v) => formatG(v)).join(' ')}]`);
    switch (m.counterResetHint) {
      case CounterResetHint.CounterReset:
        res.push('counter_reset_hint:reset');
        break;
      case CounterResetHint.NotCounterReset:
        res.push('counter_reset_hint:not_reset');
        break;
      case CounterResetHint.Gauge:
        res.push('counter_reset_hint:gauge');
        break;
      default:
        break;
    }
    const side = (bucketsKey: string, offsetKey: string, buckets: Float64Array, spans: readonly Span[]): void => {
      const s = spans[0];
      if (s !== undefined && s.offset !== 0) res.push(`${offsetKey}:${s.offset}`);
      if (buckets.length > 0) res.push(`${bucketsKey}:[${Array.from(buckets, (v) => formatG(v)).join(' ')}]`);
    };
    side('buckets', 'offset', m.positiveBuckets, m.positiveSpans);
    side('n_buckets', 'n_offset', m.negativeBuckets, m.negativeSpans);
    return `{{${res.join(' ')}}}`;
  }
}

/** Prometheus's adjustCounterReset: gauge wins, unknown wins next, reset vs not-reset collides to unknown. */
function combineHints(a: CounterResetHint, b: CounterResetHint): { hint: CounterResetHint; collision: boolean } {
  if (a === b || a === CounterResetHint.Gauge || a === CounterResetHint.Unknown) return { hint: a, collision: false };
  if (b === CounterResetHint.Gauge) return { hint: CounterResetHint.Gauge, collision: false };
  if (b === CounterResetHint.Unknown) return { hint: CounterResetHint.Unknown, collision: false };
  return { hint: CounterResetHint.Unknown, collision: true };
}

/** Bounds present in both (both lists strictly increasing). */
function intersectBounds(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push(a[i]!);
      i++;
      j++;
    } else if (a[i]! < b[j]!) i++;
    else j++;
  }
  return out;
}

/** Adds a custom-bucket side into `target` (one slot per common bound plus +Inf): each bucket goes to the first common bound at or above its own. */
function mapToBounds(side: Side, bounds: ArrayLike<number>, common: number[], target: Float64Array, sign: number): void {
  let k = 0;
  for (let i = 0; i < side.idx.length; i++) {
    const src = side.idx[i]!;
    let t = target.length - 1;
    if (src < bounds.length) {
      const b = bounds[src]!;
      while (k < common.length) {
        if (common[k]! >= b) {
          t = k;
          break;
        }
        k++;
      }
    }
    target[t]! += sign * side.cnt[i]!;
  }
}

/** True when a bucket of prev has more than the same bucket of cur (a missing bucket counts as 0). */
/** No empty spans and none adjacent to the one before: the spans spansFor gives. */
function canonicalSpans(spans: readonly Span[]): boolean {
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    if (s.length === 0 || (i > 0 && s.offset <= 0)) return false;
  }
  return true;
}

/** a + sign * b, bucket by bucket. */
function combined(a: Float64Array, b: Float64Array, sign: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! + sign * b[i]!;
  return out;
}

/** Spans equal one by one, each describing exactly its bucket count. */
function sameSpans(a: readonly Span[], b: readonly Span[], na: number, nb: number): boolean {
  if (na !== nb) return false;
  if (a === b) return spansLength(a) === na;
  if (a.length !== b.length) return false;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.offset !== y.offset || x.length !== y.length) return false;
    n += x.length;
  }
  return n === na;
}

function spansLength(spans: readonly Span[]): number {
  let n = 0;
  for (let i = 0; i < spans.length; i++) n += spans[i]!.length;
  return n;
}

/** A count in cur lower than the one at the same position in prev (same layout). */
function countsDecreased(cur: Float64Array, prev: Float64Array): boolean {
  for (let i = 0; i < prev.length; i++) if (cur[i]! < prev[i]!) return true;
  return false;
}

function sideDecreased(cur: Side, prev: Side): boolean {
  let i = 0;
  for (let j = 0; j < prev.idx.length; j++) {
    const pIdx = prev.idx[j]!;
    while (i < cur.idx.length && cur.idx[i]! < pIdx) i++;
    const c = i < cur.idx.length && cur.idx[i] === pIdx ? cur.cnt[i]! : 0;
    if (c < prev.cnt[j]!) return true;
  }
  return false;
}

// ---- scrape-time resolution limits ----

/**
 * The highest schema whose buckets grow by at least `factor` from one to the
 * next (native_histogram_min_bucket_factor; 0 or anything up to 1 means
 * no limit, i.e. schema 8).
 */
export function schemaForBucketFactor(factor: number): number {
  const f = factor <= 1 ? 1.00271 : factor;
  const floor = Math.floor(-Math.log2(Math.log2(f)));
  if (floor >= EXPONENTIAL_SCHEMA_MAX) return EXPONENTIAL_SCHEMA_MAX;
  if (floor <= EXPONENTIAL_SCHEMA_MIN) return EXPONENTIAL_SCHEMA_MIN;
  // | 0 turns a -0 from Math.floor into 0.
  return floor | 0;
}

/** An exponential histogram (reserved schemas 9..52 included) above maxSchema, reduced to it; others unchanged. */
export function capSchema(h: Histogram, maxSchema: number): Histogram;
export function capSchema(h: FloatHistogram, maxSchema: number): FloatHistogram;
export function capSchema(h: Histogram | FloatHistogram, maxSchema: number): Histogram | FloatHistogram {
  if (h.schema < EXPONENTIAL_SCHEMA_MIN_RESERVED || h.schema > EXPONENTIAL_SCHEMA_MAX_RESERVED || h.schema <= maxSchema) return h;
  return h.reduceResolution(maxSchema);
}

/**
 * At most `limit` buckets (native_histogram_bucket_limit): the schema is
 * lowered one step at a time until the buckets fit. Throws HistogramError
 * 'bucket_limit' ("histogram bucket limit exceeded") when schema -4 does not
 * get there, or for custom buckets, which cannot be merged.
 */
export function limitBuckets(h: Histogram, limit: number): Histogram;
export function limitBuckets(h: FloatHistogram, limit: number): FloatHistogram;
export function limitBuckets(h: Histogram | FloatHistogram, limit: number): Histogram | FloatHistogram {
  const n = (x: Histogram | FloatHistogram): number => x.positiveBuckets.length + x.negativeBuckets.length;
  if (n(h) > limit && !isExponentialSchema(h.schema)) throw new HistogramError('bucket_limit');
  let cur = h;
  while (n(cur) > limit) {
    if (cur.schema <= EXPONENTIAL_SCHEMA_MIN) throw new HistogramError('bucket_limit');
    cur = cur.reduceResolution(cur.schema - 1);
  }
  return cur;
}
