// OTLP histogram points as native histograms, as Prometheus 3.x's OTLP
// translator builds them: exponential histograms keep their scale as the
// schema (scales above 8 merged down to 8, below -4 refused), explicit-bucket
// histograms become custom-bucket ones (otlp.convert_histograms_to_nhcb).
// Both are integer histograms with an unknown counter reset hint; OTLP's
// min and max have no place and are dropped.
import { CUSTOM_BUCKETS_SCHEMA, EXPONENTIAL_SCHEMA_MAX, EXPONENTIAL_SCHEMA_MIN, Histogram, type Span } from '../../model/histogram.js';
import { STALE_NAN } from '../../model/value.js';
import type { ExponentialHistogramDataPoint, HistogramDataPoint } from './gen/metrics_pb.js';

/** OTLP's flag for a point without a recorded value: stored as a stale marker. */
const FLAG_NO_RECORDED_VALUE = 1;
/** OTLP's zero_threshold is not used yet by Prometheus: every point gets this one. */
const OTLP_ZERO_THRESHOLD = 1e-128;
/** A run of more empty buckets than this starts a new span (client_golang's choice, kept by Prometheus). */
const MAX_FILLED_GAP = 2;

/** A point that cannot be a native histogram; the message is Prometheus's. */
export class HistogramConversionError extends Error {
  override readonly name = 'HistogramConversionError';
}

/** A converted point, and Prometheus's warning when its count is zero but its sum is not. */
export interface Converted {
  readonly h: Histogram;
  readonly warning: string | null;
}

/**
 * Dense OTLP bucket counts starting at bucket `offset` to sparse spans and
 * deltas. With `exponential`, 2^scaleDown neighbours merge into one bucket and
 * indices move up by one: OTLP's bucket i covers (base^i, base^(i+1)],
 * Prometheus's bucket i covers (base^(i-1), base^i]. Buckets that stay empty
 * at the ends of a merged run are kept, as Prometheus keeps them.
 */
export function bucketLayout(
  counts: readonly bigint[],
  offset: number,
  scaleDown: number,
  exponential: boolean,
): { spans: Span[]; deltas: number[] } {
  const spans: Span[] = [];
  const deltas: number[] = [];
  if (counts.length === 0) return { spans, deltas };
  const target = (i: number): number => (exponential ? ((i + offset) >> scaleDown) + 1 : i + offset);
  let spanOffset = exponential ? (offset >> scaleDown) + 1 : offset;
  let spanLength = 0;
  let prev = 0;
  const push = (c: number): void => {
    spanLength++;
    deltas.push(c - prev);
    prev = c;
  };
  const closeSpan = (gap: number): void => {
    spans.push({ offset: spanOffset, length: spanLength });
    spanOffset = gap;
    spanLength = 0;
  };
  // idx is one past the last written bucket; sum is the count of the run being read (a zero run is
  // carried into the next bucket's count, so gaps of zeros become fillers or a new span).
  let idx = target(0);
  let sum = 0;
  // Writes the run just read, which sits at next - 1.
  const flush = (next: number): void => {
    const gap = next - idx - 1;
    if (gap > MAX_FILLED_GAP) closeSpan(gap);
    else for (let g = 0; g < gap; g++) push(0);
    push(sum);
  };
  for (let i = 0; i < counts.length; i++) {
    const c = Number(counts[i]!);
    const next = target(i);
    if (next === idx) {
      sum += c;
      continue;
    }
    if (sum === 0) {
      sum = c;
      continue;
    }
    flush(next);
    sum = c;
    idx = next;
  }
  // As if a bucket followed the last one, so the last run is written too.
  flush(target(counts.length - 1) + 1);
  spans.push({ offset: spanOffset, length: spanLength });
  return { spans, deltas };
}

function zeroCountWarning(kind: string, count: number, sum: number): string | null {
  return count === 0 && sum !== 0 ? `${kind} data point has zero count, but non-zero sum: ${sum.toFixed(6)}` : null;
}

/** An exponential histogram point as Prometheus's integer native histogram. */
export function exponentialToNative(p: ExponentialHistogramDataPoint): Converted {
  let scale = p.scale;
  if (scale < EXPONENTIAL_SCHEMA_MIN) {
    throw new HistogramConversionError(`cannot convert exponential to native histogram. Scale must be >= ${EXPONENTIAL_SCHEMA_MIN}, was ${scale}`);
  }
  let scaleDown = 0;
  if (scale > EXPONENTIAL_SCHEMA_MAX) {
    scaleDown = scale - EXPONENTIAL_SCHEMA_MAX;
    scale = EXPONENTIAL_SCHEMA_MAX;
  }
  const pos = bucketLayout(p.positive?.bucketCounts ?? [], p.positive?.offset ?? 0, scaleDown, true);
  const neg = bucketLayout(p.negative?.bucketCounts ?? [], p.negative?.offset ?? 0, scaleDown, true);
  const layout = {
    schema: scale,
    zeroThreshold: OTLP_ZERO_THRESHOLD,
    zeroCount: Number(p.zeroCount),
    positiveSpans: pos.spans,
    positiveBuckets: pos.deltas,
    negativeSpans: neg.spans,
    negativeBuckets: neg.deltas,
  };
  if (p.flags & FLAG_NO_RECORDED_VALUE) return { h: staleMarker(scale, null), warning: null };
  const sum = p.sum ?? 0;
  const count = Number(p.count);
  return { h: new Histogram({ ...layout, sum, count }), warning: zeroCountWarning('exponential histogram', count, sum) };
}

/** An explicit-bucket histogram point as a native histogram with custom buckets (its bounds as the custom values). */
export function explicitToCustomBuckets(p: HistogramDataPoint): Converted {
  if (p.flags & FLAG_NO_RECORDED_VALUE) return { h: staleMarker(CUSTOM_BUCKETS_SCHEMA, p.explicitBounds), warning: null };
  let first = 0;
  while (first < p.bucketCounts.length && p.bucketCounts[first] === 0n) first++;
  const pos = bucketLayout(p.bucketCounts.slice(first), first, 0, false);
  const sum = p.sum ?? 0;
  const count = Number(p.count);
  const h = new Histogram({
    schema: CUSTOM_BUCKETS_SCHEMA,
    positiveSpans: pos.spans,
    positiveBuckets: pos.deltas,
    customValues: p.explicitBounds,
    sum,
    count,
  });
  return { h, warning: zeroCountWarning('histogram', count, sum) };
}

/**
 * The stale marker of a histogram series: a StaleNaN sum and no buckets (the
 * head's own form of it), in the point's schema so its chunk is not cut.
 */
function staleMarker(schema: number, customValues: readonly number[] | null): Histogram {
  return new Histogram({
    schema,
    zeroThreshold: customValues === null ? OTLP_ZERO_THRESHOLD : 0,
    sum: STALE_NAN,
    ...(customValues === null ? {} : { customValues }),
  });
}
