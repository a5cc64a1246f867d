// Query annotations (warnings and infos) with Prometheus's exact wording.
//
// Each annotation keeps its text without a position (the form Prometheus's
// test files match and deduplicate on) and the position of the expression it
// is about, so the API can show "... (1:7)" as Prometheus's API does.
import { lineCol } from '../parser/errors.js';
import type { PosRange } from '../parser/ast.js';
import { formatG } from '../../gofmt/float.js';
import { goQuote } from '../../gofmt/quote.js';
import { formatRFC3339 } from './format.js';

export type Severity = 'warning' | 'info';

interface MonotonicityDetail {
  minTs: number;
  maxTs: number;
  minBucket: number;
  maxBucket: number;
  maxDiff: number;
  /** Number of merged occurrences beyond the first. */
  count: number;
}

export interface Annotation {
  readonly severity: Severity;
  /** The text without position, e.g. `PromQL warning: quantile value should be between 0 and 1, got 2`. */
  readonly message: string;
  readonly pos: PosRange | null;
  readonly monotonicity?: MonotonicityDetail;
}

const WARN = 'PromQL warning: ';
const INFO = 'PromQL info: ';

function warning(message: string, pos: PosRange | null): Annotation {
  return { severity: 'warning', message: WARN + message, pos };
}

function info(message: string, pos: PosRange | null): Annotation {
  return { severity: 'info', message: INFO + message, pos };
}

function forMetric(msg: string, metricName: string): string {
  return metricName === '' ? msg : `${msg} for metric name ${goQuote(metricName)}`;
}

export const annotations = {
  invalidQuantile(q: number, pos: PosRange | null): Annotation {
    return warning(`quantile value should be between 0 and 1, got ${formatG(q)}`, pos);
  },
  invalidRatio(r: number, to: number, pos: PosRange | null): Annotation {
    return warning(`ratio value should be between -1 and 1, got ${formatG(r)}, capping to ${formatG(to)}`, pos);
  },
  badBucketLabel(metricName: string, label: string, pos: PosRange | null): Annotation {
    return warning(
      forMetric(`bucket label "le" is missing or has a malformed value of ${goQuote(label)}`, metricName),
      pos,
    );
  },
  mixedClassicNativeHistograms(metricName: string, pos: PosRange | null): Annotation {
    return warning(forMetric('vector contains a mix of classic and native histograms', metricName), pos);
  },
  sortInRangeQuery(pos: PosRange | null): Annotation {
    return warning('sort is ineffective for range queries since results are always ordered by labels', pos);
  },
  startTimeOverlap(metricName: string, pos: PosRange | null): Annotation {
    return warning(`sample has start time that overlaps with previous sample timestamp for metric ${goQuote(metricName)}`, pos);
  },
  possibleNonCounter(metricName: string, pos: PosRange | null): Annotation {
    return info(
      `metric might not be a counter, name does not end in _total/_sum/_count/_bucket: ${goQuote(metricName)}`,
      pos,
    );
  },
  possibleNonCounterLabel(metricName: string, typeLabel: string, pos: PosRange | null): Annotation {
    return info(
      `metric might not be a counter, __type__ label is not set to "counter" or "histogram", got ${goQuote(typeLabel)}: ${goQuote(metricName)}`,
      pos,
    );
  },
  mixedFloatsHistograms(metricName: string, pos: PosRange | null): Annotation {
    return warning(`encountered a mix of histograms and floats for metric name ${goQuote(metricName)}`, pos);
  },
  mixedFloatsHistogramsAgg(pos: PosRange | null): Annotation {
    return warning('encountered a mix of histograms and floats for aggregation', pos);
  },
  nativeHistogramNotCounter(metricName: string, pos: PosRange | null): Annotation {
    return warning(`this native histogram metric is not a counter: ${goQuote(metricName)}`, pos);
  },
  nativeHistogramNotGauge(metricName: string, pos: PosRange | null): Annotation {
    return warning(`this native histogram metric is not a gauge: ${goQuote(metricName)}`, pos);
  },
  mixedExponentialCustomHistograms(metricName: string, pos: PosRange | null): Annotation {
    return warning(`vector contains a mix of histograms with exponential and custom buckets schemas for metric name ${goQuote(metricName)}`, pos);
  },
  incompatibleTypesInBinOp(op: string, lhsType: string, rhsType: string, pos: PosRange | null): Annotation {
    return info(`incompatible sample types encountered for binary operator ${goQuote(op)}: ${lhsType} ${op} ${rhsType}`, pos);
  },
  incompatibleBucketLayoutInBinOp(op: string, pos: PosRange | null): Annotation {
    return warning(`incompatible bucket layout encountered for binary operator ${op}`, pos);
  },
  histogramIgnoredInAggregation(aggregation: string, pos: PosRange | null): Annotation {
    return info(`ignored histogram in ${aggregation} aggregation`, pos);
  },
  histogramIgnoredInMixedRange(metricName: string, pos: PosRange | null): Annotation {
    return info(`ignored histograms in a range containing both floats and histograms for metric name ${goQuote(metricName)}`, pos);
  },
  nativeHistogramQuantileNaNResult(metricName: string, pos: PosRange | null): Annotation {
    return info(forMetric('input to histogram_quantile has NaN observations, result is NaN', metricName), pos);
  },
  nativeHistogramQuantileNaNSkew(metricName: string, pos: PosRange | null): Annotation {
    return info(forMetric('input to histogram_quantile has NaN observations, result is skewed higher', metricName), pos);
  },
  nativeHistogramFractionNaNs(metricName: string, pos: PosRange | null): Annotation {
    return info(forMetric('input to histogram_fraction has NaN observations, which are excluded from all fractions', metricName), pos);
  },
  /** `operation`: addition, subtraction or aggregation. */
  histogramCounterResetCollision(operation: string, pos: PosRange | null): Annotation {
    return warning(`conflicting counter resets during histogram ${operation}`, pos);
  },
  mismatchedCustomBuckets(operation: string, pos: PosRange | null): Annotation {
    return info(`mismatched custom buckets were reconciled during ${operation}`, pos);
  },
  histogramQuantileForcedMonotonicity(
    metricName: string,
    pos: PosRange | null,
    ts: number,
    minBucket: number,
    maxBucket: number,
    maxDiff: number,
  ): Annotation {
    return {
      severity: 'info',
      message:
        INFO +
        forMetric(
          'input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)',
          metricName,
        ),
      pos,
      monotonicity: { minTs: ts, maxTs: ts, minBucket, maxBucket, maxDiff, count: 0 },
    };
  },
};

/** Combines a repeated forced-monotonicity info into one that spans all occurrences. */
function mergeMonotonicity(prev: Annotation, next: Annotation): Annotation {
  const a = prev.monotonicity!;
  const b = next.monotonicity!;
  return {
    ...next,
    monotonicity: {
      minTs: Math.min(a.minTs, b.minTs),
      maxTs: Math.max(a.maxTs, b.maxTs),
      minBucket: Math.min(a.minBucket, b.minBucket),
      maxBucket: Math.max(a.maxBucket, b.maxBucket),
      maxDiff: Math.max(a.maxDiff, b.maxDiff),
      count: a.count + b.count + 1,
    },
  };
}

/** A set of annotations keyed by their text, as Prometheus deduplicates them. */
export class Annotations {
  private readonly byMessage = new Map<string, Annotation>();

  add(a: Annotation): void {
    const prev = this.byMessage.get(a.message);
    if (prev !== undefined && prev.monotonicity !== undefined && a.monotonicity !== undefined) {
      this.byMessage.set(a.message, mergeMonotonicity(prev, a));
      return;
    }
    this.byMessage.set(a.message, a);
  }

  get size(): number {
    return this.byMessage.size;
  }

  /** Texts without positions, split by severity. */
  strings(): { warnings: string[]; infos: string[] } {
    const warnings: string[] = [];
    const infos: string[] = [];
    for (const a of this.byMessage.values()) (a.severity === 'info' ? infos : warnings).push(a.message);
    return { warnings, infos };
  }

  /** Texts as Prometheus's HTTP API shows them, with the position in `query` appended. */
  stringsWithPosition(query: string): { warnings: string[]; infos: string[] } {
    const warnings: string[] = [];
    const infos: string[] = [];
    for (const a of this.byMessage.values()) {
      (a.severity === 'info' ? infos : warnings).push(formatWithPosition(a, query));
    }
    return { warnings, infos };
  }
}

function positionText(pos: PosRange, query: string): string {
  if (query === '') return 'unknown position';
  if (pos.start < 0 || pos.start > query.length) return 'invalid position';
  const { line, col } = lineCol(query, pos.start);
  return `${line}:${col}`;
}

export function formatWithPosition(a: Annotation, query: string): string {
  // Warnings from storage are plain errors in Prometheus and carry no position.
  if (a.pos === null) return a.message;
  const where = positionText(a.pos, query);
  const m = a.monotonicity;
  if (m !== undefined) {
    return (
      `${a.message}, from buckets ${formatG(m.minBucket)} to ${formatG(m.maxBucket)}, ` +
      `with a max diff of ${formatG(m.maxDiff, 2)}, over ${m.count + 1} samples ` +
      `from ${formatRFC3339(m.minTs)} to ${formatRFC3339(m.maxTs)} (${where})`
    );
  }
  return `${a.message} (${where})`;
}
