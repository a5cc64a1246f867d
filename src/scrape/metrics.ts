// The scrape manager's own metrics, named as Prometheus names them.
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';

export class ScrapeMetrics {
  readonly poolsTotal: Counter;
  readonly poolReloads: Counter;
  readonly poolReloadsFailed: Counter;
  readonly poolTargets: Gauge<'scrape_job'>;
  readonly poolTargetLimit: Gauge<'scrape_job'>;
  readonly poolExceededTargetLimit: Counter;
  readonly poolExceededLabelLimits: Counter;
  readonly poolSymbolTableItems: Gauge<'scrape_job'>;
  readonly poolSyncTotal: Counter<'scrape_job'>;
  readonly syncLength: Summary<'scrape_job'>;
  readonly syncFailed: Counter<'scrape_job'>;
  readonly exceededBodySizeLimit: Counter;
  readonly exceededSampleLimit: Counter;
  readonly exceededNativeHistogramBucketLimit: Counter;
  readonly histogramRejected: Counter<'reason'>;
  readonly sampleDuplicate: Counter;
  readonly sampleOutOfOrder: Counter;
  readonly sampleOutOfBounds: Counter;
  readonly sampleHeadSeriesLimit: Counter;
  readonly exemplarOutOfOrder: Counter;
  readonly cacheFlushForced: Counter;
  readonly intervalLength: Summary<'interval'>;
  readonly scrapeDuration: Histogram;
  readonly seriesCacheEntries: Gauge<'scrape_job'>;
  readonly metadataCacheEntries: Gauge<'scrape_job'>;
  readonly parseOffloaded: Counter;
  readonly cacheBodyBytes: Gauge<'scrape_job'>;
  readonly parseInline: Counter<'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.poolsTotal = new Counter({ name: 'prometheus_target_scrape_pools_total', help: 'Total number of scrape pool creation attempts.', registers });
    this.poolReloads = new Counter({ name: 'prometheus_target_scrape_pool_reloads_total', help: 'Total number of scrape pool reloads.', registers });
    this.poolReloadsFailed = new Counter({ name: 'prometheus_target_scrape_pool_reloads_failed_total', help: 'Total number of failed scrape pool reloads.', registers });
    this.poolTargets = new Gauge({ name: 'prometheus_target_scrape_pool_targets', help: 'Current number of targets in this scrape pool.', labelNames: ['scrape_job'] as const, registers });
    this.poolTargetLimit = new Gauge({ name: 'prometheus_target_scrape_pool_target_limit', help: 'Maximum number of targets allowed in this scrape pool.', labelNames: ['scrape_job'] as const, registers });
    this.poolExceededTargetLimit = new Counter({
      name: 'prometheus_target_scrape_pool_exceeded_target_limit_total',
      help: 'Total number of times scrape pools hit the target limit, during sync or config reload.',
      registers,
    });
    this.poolExceededLabelLimits = new Counter({
      name: 'prometheus_target_scrape_pool_exceeded_label_limits_total',
      help: 'Total number of times scrape pools hit the label limits, during sync or config reload.',
      registers,
    });
    this.poolSymbolTableItems = new Gauge({ name: 'prometheus_target_scrape_pool_symboltable_items', help: 'Current number of symbols in table for this scrape pool.', labelNames: ['scrape_job'] as const, registers });
    this.poolSyncTotal = new Counter({ name: 'prometheus_target_scrape_pool_sync_total', help: 'Total number of syncs that were executed on a scrape pool.', labelNames: ['scrape_job'] as const, registers });
    this.syncLength = new Summary({ name: 'prometheus_target_sync_length_seconds', help: 'Actual interval to sync the scrape pool.', labelNames: ['scrape_job'] as const, percentiles: [0.01, 0.05, 0.5, 0.9, 0.99], registers });
    this.syncFailed = new Counter({ name: 'prometheus_target_sync_failed_total', help: 'Total number of target sync failures.', labelNames: ['scrape_job'] as const, registers });
    this.exceededBodySizeLimit = new Counter({ name: 'prometheus_target_scrapes_exceeded_body_size_limit_total', help: 'Total number of scrapes that hit the body size limit', registers });
    this.exceededSampleLimit = new Counter({ name: 'prometheus_target_scrapes_exceeded_sample_limit_total', help: 'Total number of scrapes that hit the sample limit and were rejected.', registers });
    this.exceededNativeHistogramBucketLimit = new Counter({
      name: 'prometheus_target_scrapes_exceeded_native_histogram_bucket_limit_total',
      help: 'Total number of scrapes that hit the native histogram bucket limit and were rejected.',
      registers,
    });
    this.histogramRejected = new Counter({
      name: 'tsprom_target_scrapes_histogram_rejected_total',
      help: 'Scraped native histogram samples rejected: reason="invalid" (fails validation: negative or inconsistent counts, bad schema, NHCB conversion error), "unsupported" (the storage cannot hold histograms).',
      labelNames: ['reason'] as const,
      registers,
    });
    this.sampleDuplicate = new Counter({ name: 'prometheus_target_scrapes_sample_duplicate_timestamp_total', help: 'Total number of samples rejected due to duplicate timestamps but different values.', registers });
    this.sampleOutOfOrder = new Counter({ name: 'prometheus_target_scrapes_sample_out_of_order_total', help: 'Total number of samples rejected due to not being out of the expected order.', registers });
    this.sampleOutOfBounds = new Counter({ name: 'prometheus_target_scrapes_sample_out_of_bounds_total', help: 'Total number of samples rejected due to timestamp falling outside of the time bounds.', registers });
    this.sampleHeadSeriesLimit = new Counter({
      name: 'tsprom_target_scrapes_sample_head_series_limit_total',
      help: 'Total number of scraped samples rejected because their series was new and the head already held --storage.tsdb.max-head-series series.',
      registers,
    });
    this.exemplarOutOfOrder = new Counter({
      name: 'prometheus_target_scrapes_exemplar_out_of_order_total',
      help: 'Total number of exemplar rejected due to not being out of the expected order.',
      registers,
    });
    this.cacheFlushForced = new Counter({ name: 'prometheus_target_scrapes_cache_flush_forced_total', help: 'How many times a scrape cache was flushed due to getting big while scrapes are failing.', registers });
    this.intervalLength = new Summary({ name: 'prometheus_target_interval_length_seconds', help: 'Actual intervals between scrapes.', labelNames: ['interval'] as const, percentiles: [0.01, 0.05, 0.5, 0.9, 0.99], registers });
    this.scrapeDuration = new Histogram({ name: 'prometheus_target_scrape_duration_seconds', help: 'Total duration of the scrape from start to commit completion in seconds.', registers });
    this.seriesCacheEntries = new Gauge({ name: 'tsprom_target_scrape_cache_series', help: 'Series held in the scrape caches of this scrape pool (bounded by the last successful scrapes).', labelNames: ['scrape_job'] as const, registers });
    this.parseOffloaded = new Counter({ name: 'tsprom_target_scrape_parses_offloaded_total', help: 'Scrape bodies parsed on a worker thread.', registers });
    this.cacheBodyBytes = new Gauge({
      name: 'tsprom_target_scrape_cache_body_bytes',
      help: 'Bytes of the last bodies kept by the scrape caches of this scrape pool to compare the next scrape with (one per target parsed on a worker thread).',
      labelNames: ['scrape_job'] as const,
      registers,
    });
    this.parseInline = new Counter({
      name: 'tsprom_target_scrape_parse_fallbacks_total',
      help: 'Scrape bodies large enough for a worker thread that were parsed on the main thread instead, by reason (pool full, worker failed).',
      labelNames: ['reason'] as const,
      registers,
    });
    this.metadataCacheEntries = new Gauge({ name: 'prometheus_target_metadata_cache_entries', help: 'Total number of metric metadata entries in the cache', labelNames: ['scrape_job'] as const, registers });
  }
}
