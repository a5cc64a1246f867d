// The remote-write sender's metrics, with Prometheus's names. Per-queue
// series carry remote_name and url (Prometheus's const labels); a stopped
// queue's series are removed so a reload does not leave stale ones.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const NS = 'prometheus_remote_storage_';
const Q = ['remote_name', 'url'] as const;

/** Reasons samples are dropped, as Prometheus labels them (wal_retention_exceeded is tsprom's own). */
export type DropReason = 'too_old' | 'dropped_series' | 'unintentionally_dropped_series' | 'wal_retention_exceeded';
/** Histograms have one more: custom-bucket ones cannot go over remote write 1.0. */
export type HistogramDropReason = DropReason | 'nhcb_in_rw1_not_supported';

export class RemoteWriteMetrics {
  readonly samplesIn: Counter;
  readonly highestTimestampIn: Gauge;
  readonly samples: Counter<'remote_name' | 'url'>;
  readonly failed: Counter<'remote_name' | 'url'>;
  readonly retried: Counter<'remote_name' | 'url'>;
  readonly dropped: Counter<'remote_name' | 'url' | 'reason'>;
  readonly enqueueRetries: Counter<'remote_name' | 'url'>;
  readonly sentBatchDuration: Histogram<'remote_name' | 'url'>;
  readonly highestTimestamp: Gauge<'remote_name' | 'url'>;
  readonly highestSentTimestamp: Gauge<'remote_name' | 'url'>;
  readonly pending: Gauge<'remote_name' | 'url'>;
  readonly shardCapacity: Gauge<'remote_name' | 'url'>;
  readonly shards: Gauge<'remote_name' | 'url'>;
  readonly shardsMax: Gauge<'remote_name' | 'url'>;
  readonly shardsMin: Gauge<'remote_name' | 'url'>;
  readonly shardsDesired: Gauge<'remote_name' | 'url'>;
  readonly bytes: Counter<'remote_name' | 'url'>;
  readonly maxSamplesPerSend: Gauge<'remote_name' | 'url'>;
  readonly exemplarsIn: Counter;
  readonly exemplars: Counter<'remote_name' | 'url'>;
  readonly exemplarsFailed: Counter<'remote_name' | 'url'>;
  readonly exemplarsRetried: Counter<'remote_name' | 'url'>;
  readonly exemplarsDropped: Counter<'remote_name' | 'url' | 'reason'>;
  readonly exemplarsPending: Gauge<'remote_name' | 'url'>;
  readonly histogramsIn: Counter;
  readonly histograms: Counter<'remote_name' | 'url'>;
  readonly histogramsFailed: Counter<'remote_name' | 'url'>;
  readonly histogramsRetried: Counter<'remote_name' | 'url'>;
  readonly histogramsDropped: Counter<'remote_name' | 'url' | 'reason'>;
  readonly histogramsPending: Gauge<'remote_name' | 'url'>;
  readonly metadata: Counter<'remote_name' | 'url'>;
  readonly metadataFailed: Counter<'remote_name' | 'url'>;
  readonly metadataRetried: Counter<'remote_name' | 'url'>;
  readonly metadataBytes: Counter<'remote_name' | 'url'>;
  readonly watcherRecords: Counter<'consumer' | 'type'>;
  readonly watcherSegment: Gauge<'consumer'>;

  constructor(reg: Registry) {
    const registers = [reg];
    const counter = (name: string, help: string) => new Counter({ name: NS + name, help, labelNames: Q, registers });
    const gauge = (name: string, help: string) => new Gauge({ name: NS + name, help, labelNames: Q, registers });
    this.samplesIn = new Counter({ name: NS + 'samples_in_total', help: 'Samples read from the WAL for remote storage (each record counted once over all queues).', registers });
    this.highestTimestampIn = new Gauge({
      name: NS + 'highest_timestamp_in_seconds',
      help: 'Highest sample timestamp read from the WAL for remote storage, in seconds since epoch.',
      registers,
    });
    this.samples = counter('samples_total', 'Total number of samples sent to remote storage.');
    this.failed = counter('samples_failed_total', 'Total number of samples which failed on send to remote storage, non-recoverable errors.');
    this.retried = counter('samples_retried_total', 'Total number of samples which failed on send to remote storage but were retried because the send error was recoverable.');
    this.dropped = new Counter({
      name: NS + 'samples_dropped_total',
      help: 'Total number of samples which were dropped after being read from the WAL before being sent via remote write (relabelling, too old, unknown series, WAL retention cap).',
      labelNames: [...Q, 'reason'],
      registers,
    });
    this.enqueueRetries = counter('enqueue_retries_total', "Total number of times enqueue has failed because a shard's queue was full.");
    this.sentBatchDuration = new Histogram({
      name: NS + 'sent_batch_duration_seconds',
      help: 'Duration of send calls to the remote storage.',
      labelNames: Q,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60, 120, 300],
      registers,
    });
    this.highestTimestamp = gauge('queue_highest_timestamp_seconds', 'Highest timestamp that was enqueued, in seconds since epoch. Initialized to 0 when no data has been received yet.');
    this.highestSentTimestamp = gauge(
      'queue_highest_sent_timestamp_seconds',
      'Highest timestamp successfully sent by this queue, in seconds since epoch. Initialized to 0 when no data has been sent yet.',
    );
    this.pending = gauge('samples_pending', "The number of samples pending in the queue's shards to be sent to the remote storage.");
    this.shardCapacity = gauge('shard_capacity', 'The capacity of each shard of the queue used for parallel sending to the remote storage.');
    this.shards = gauge('shards', 'The number of shards used for parallel sending to the remote storage.');
    this.shardsMax = gauge('shards_max', 'The maximum number of shards that the queue is allowed to run.');
    this.shardsMin = gauge('shards_min', 'The minimum number of shards that the queue is allowed to run.');
    this.shardsDesired = gauge('shards_desired', "The number of shards that the queue's shard calculation wants to run based on the rate of samples in vs. samples out.");
    this.bytes = counter('bytes_total', 'The total number of bytes of data sent by the queue after compression.');
    this.maxSamplesPerSend = gauge('max_samples_per_send', 'The maximum number of samples to be sent, in a single request, to the remote storage.');
    this.exemplarsIn = new Counter({ name: NS + 'exemplars_in_total', help: 'Exemplars read from the WAL for remote storage (each record counted once over all queues).', registers });
    this.exemplars = counter('exemplars_total', 'Total number of exemplars sent to remote storage.');
    this.exemplarsFailed = counter('exemplars_failed_total', 'Total number of exemplars which failed on send to remote storage, non-recoverable errors.');
    this.exemplarsRetried = counter(
      'exemplars_retried_total',
      'Total number of exemplars which failed on send to remote storage but were retried because the send error was recoverable.',
    );
    this.exemplarsDropped = new Counter({
      name: NS + 'exemplars_dropped_total',
      help: 'Total number of exemplars which were dropped after being read from the WAL before being sent via remote write (relabelling, too old, unknown series, WAL retention cap).',
      labelNames: [...Q, 'reason'],
      registers,
    });
    this.exemplarsPending = gauge('exemplars_pending', "The number of exemplars pending in the queue's shards to be sent to the remote storage.");
    this.histogramsIn = new Counter({
      name: NS + 'histograms_in_total',
      help: 'Native histograms read from the WAL for remote storage (each record counted once over all queues; only while some queue sends them).',
      registers,
    });
    this.histograms = counter('histograms_total', 'Total number of histograms sent to remote storage.');
    this.histogramsFailed = counter('histograms_failed_total', 'Total number of histograms which failed on send to remote storage, non-recoverable errors.');
    this.histogramsRetried = counter(
      'histograms_retried_total',
      'Total number of histograms which failed on send to remote storage but were retried because the send error was recoverable.',
    );
    this.histogramsDropped = new Counter({
      name: NS + 'histograms_dropped_total',
      help: 'Total number of histograms which were dropped after being read from the WAL before being sent via remote write (relabelling, too old, unknown series, WAL retention cap, custom buckets over 1.0).',
      labelNames: [...Q, 'reason'],
      registers,
    });
    this.histogramsPending = gauge('histograms_pending', "The number of histograms pending in the queue's shards to be sent to the remote storage.");
    this.metadata = counter('metadata_total', 'Total number of metadata entries sent to remote storage.');
    this.metadataFailed = counter('metadata_failed_total', 'Total number of metadata entries which failed on send to remote storage, non-recoverable errors.');
    this.metadataRetried = counter(
      'metadata_retried_total',
      'Total number of metadata entries which failed on send to remote storage but were retried because the send error was recoverable.',
    );
    this.metadataBytes = counter('metadata_bytes_total', 'The total number of bytes of metadata sent by the queue after compression.');
    this.watcherRecords = new Counter({
      name: 'prometheus_wal_watcher_records_read_total',
      help: 'Number of records read by the WAL watcher from the WAL.',
      labelNames: ['consumer', 'type'],
      registers,
    });
    this.watcherSegment = new Gauge({
      name: 'prometheus_wal_watcher_current_segment',
      help: 'Current segment the WAL watcher is reading records from.',
      labelNames: ['consumer'],
      registers,
    });
  }

  /** Removes a stopped queue's series. */
  remove(name: string, url: string): void {
    const l = { remote_name: name, url };
    for (const m of [
      this.samples,
      this.failed,
      this.retried,
      this.enqueueRetries,
      this.sentBatchDuration,
      this.highestTimestamp,
      this.highestSentTimestamp,
      this.pending,
      this.shardCapacity,
      this.shards,
      this.shardsMax,
      this.shardsMin,
      this.shardsDesired,
      this.bytes,
      this.maxSamplesPerSend,
      this.exemplars,
      this.exemplarsFailed,
      this.exemplarsRetried,
      this.exemplarsPending,
      this.histograms,
      this.histogramsFailed,
      this.histogramsRetried,
      this.histogramsPending,
      this.metadata,
      this.metadataFailed,
      this.metadataRetried,
      this.metadataBytes,
    ]) {
      m.remove(l);
    }
    for (const reason of ['too_old', 'dropped_series', 'unintentionally_dropped_series', 'wal_retention_exceeded']) {
      this.dropped.remove({ ...l, reason });
      this.exemplarsDropped.remove({ ...l, reason });
      this.histogramsDropped.remove({ ...l, reason });
    }
    this.histogramsDropped.remove({ ...l, reason: 'nhcb_in_rw1_not_supported' });
    for (const type of ['series', 'samples', 'exemplars', 'histogram_samples', 'float_histogram_samples', 'other']) this.watcherRecords.remove({ consumer: name, type });
    this.watcherSegment.remove({ consumer: name });
  }
}
