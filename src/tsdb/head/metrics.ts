// What the head counts about itself; the TSDB's metrics (tsdb/metrics.ts)
// provide these, so the head does not import the root.
import type { Counter, Summary } from 'prom-client';

export interface HeadMetrics {
  readonly headSeriesCreated: Counter;
  readonly headSeriesRemoved: Counter;
  /** Samples refused because their new series would pass the head's series limit. */
  readonly headSeriesLimitRejected: Counter;
  readonly samplesAppended: Counter<'type'>;
  readonly outOfOrderSamples: Counter<'type'>;
  readonly outOfBoundSamples: Counter<'type'>;
  readonly duplicateSamples: Counter<'type'>;
  readonly chunksCreated: Counter;
  readonly chunksRemoved: Counter;
  readonly headTruncations: Counter;
  readonly headGCDuration: Summary;
}
