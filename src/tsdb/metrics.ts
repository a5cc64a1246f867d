// The TSDB's own metrics, named as Prometheus names them. Counters are bumped
// once per commit/record batch (never per sample); gauges read live state
// through the `state` callbacks when scraped.
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';

/** Live values the gauges read at collection time. */
export interface TSDBGaugeState {
  headSeries(): number;
  headChunks(): number;
  headMinTime(): number;
  headMaxTime(): number;
  headChunkBytes(): number;
  symbolTableBytes(): number;
  activeAppenders(): number;
  blocksLoaded(): number;
  blocksBytes(): number;
  lowestTimestamp(): number;
  walSegmentCurrent(): number;
  walStorageBytes(): number;
  retentionLimitBytes(): number;
  /** --storage.tsdb.max-head-series; 0 = no limit. */
  headSeriesLimit(): number;
  walReplayStatus(): { min: number; max: number; current: number };
}

function finite(v: number): number {
  return Number.isFinite(v) ? v : 0;
}

export class TSDBMetrics {
  readonly headSeriesCreated: Counter;
  readonly headSeriesRemoved: Counter;
  readonly headSeriesLimitRejected: Counter;
  readonly samplesAppended: Counter<'type'>;
  readonly outOfOrderSamples: Counter<'type'>;
  readonly outOfBoundSamples: Counter<'type'>;
  readonly duplicateSamples: Counter<'type'>;
  readonly chunksCreated: Counter;
  readonly chunksRemoved: Counter;
  readonly headTruncations: Counter;
  readonly headTruncationsFailed: Counter;
  readonly headGCDuration: Summary;
  readonly walCorruptions: Counter;
  readonly walWritesFailed: Counter;
  readonly walRecordsWritten: Counter;
  readonly walRecordBytesWritten: Counter;
  readonly walFsyncDuration: Summary;
  readonly walTruncations: Counter;
  readonly walTruncationsFailed: Counter;
  readonly checkpointCreations: Counter;
  readonly checkpointCreationsFailed: Counter;
  readonly checkpointDeletions: Counter;
  readonly checkpointDeletionsFailed: Counter;
  readonly dataReplayDuration: Gauge;
  readonly unknownSeriesRefsReplay: Counter<'type'>;
  readonly compactionsTotal: Counter;
  readonly compactionsFailed: Counter;
  readonly compactionsTriggered: Counter;
  readonly compactionDuration: Histogram;
  readonly reloads: Counter;
  readonly reloadsFailed: Counter;
  readonly timeRetentions: Counter;
  readonly sizeRetentions: Counter;
  readonly tombstoneCleanupSeconds: Histogram;
  private readonly all: (Counter<string> | Gauge<string> | Histogram<string> | Summary<string>)[] = [];

  constructor(
    private readonly registry: Registry,
    state: TSDBGaugeState,
  ) {
    const counter = <L extends string = never>(name: string, help: string, labelNames: L[] = []): Counter<L> => {
      const c = new Counter<L>({ name, help, labelNames, registers: [registry] });
      this.all.push(c as Counter<string>);
      return c;
    };
    const gauge = (name: string, help: string, read: () => number): Gauge => {
      const g = new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(finite(read()));
        },
      });
      this.all.push(g);
      return g;
    };
    this.headSeriesCreated = counter('prometheus_tsdb_head_series_created_total', 'Total number of series created in the head');
    this.headSeriesRemoved = counter('prometheus_tsdb_head_series_removed_total', 'Total number of series removed in the head');
    this.headSeriesLimitRejected = counter(
      'tsprom_tsdb_head_series_limit_rejected_total',
      'Samples rejected because their series was new and the head already held --storage.tsdb.max-head-series series.',
    );
    this.samplesAppended = counter('prometheus_tsdb_head_samples_appended_total', 'Total number of appended samples.', ['type']);
    this.outOfOrderSamples = counter('prometheus_tsdb_out_of_order_samples_total', 'Total number of out of order samples ingestion failed attempts due to out of order being disabled.', ['type']);
    this.outOfBoundSamples = counter('prometheus_tsdb_out_of_bound_samples_total', 'Total number of out of bound samples ingestion failed attempts with out of order support disabled.', ['type']);
    this.duplicateSamples = counter('prometheus_tsdb_duplicate_sample_for_timestamp_total', 'Total number of samples rejected because another sample with the same timestamp and a different value exists.', ['type']);
    this.chunksCreated = counter('prometheus_tsdb_head_chunks_created_total', 'Total number of chunks created in the head');
    this.chunksRemoved = counter('prometheus_tsdb_head_chunks_removed_total', 'Total number of chunks removed in the head');
    this.headTruncations = counter('prometheus_tsdb_head_truncations_total', 'Total number of head truncations attempted.');
    this.headTruncationsFailed = counter('prometheus_tsdb_head_truncations_failed_total', 'Total number of head truncations that failed.');
    this.headGCDuration = new Summary({ name: 'prometheus_tsdb_head_gc_duration_seconds', help: 'Runtime of garbage collection in the head block.', registers: [registry] });
    this.all.push(this.headGCDuration);
    this.walCorruptions = counter('prometheus_tsdb_wal_corruptions_total', 'Total number of WAL corruptions.');
    this.walWritesFailed = counter('prometheus_tsdb_wal_writes_failed_total', 'Total number of write log writes that failed.');
    this.walRecordsWritten = counter('prometheus_tsdb_wal_record_part_writes_total', 'Total number of record parts written to the write log.');
    this.walRecordBytesWritten = counter('prometheus_tsdb_wal_record_parts_bytes_written_total', 'Total number of record part bytes written to the write log.');
    this.walFsyncDuration = new Summary({ name: 'prometheus_tsdb_wal_fsync_duration_seconds', help: 'Duration of write log fsync.', registers: [registry] });
    this.all.push(this.walFsyncDuration);
    this.walTruncations = counter('prometheus_tsdb_wal_truncations_total', 'Total number of write log truncations attempted.');
    this.walTruncationsFailed = counter('prometheus_tsdb_wal_truncations_failed_total', 'Total number of write log truncations that failed.');
    this.checkpointCreations = counter('prometheus_tsdb_checkpoint_creations_total', 'Total number of checkpoint creations attempted.');
    this.checkpointCreationsFailed = counter('prometheus_tsdb_checkpoint_creations_failed_total', 'Total number of checkpoint creations that failed.');
    this.checkpointDeletions = counter('prometheus_tsdb_checkpoint_deletions_total', 'Total number of checkpoint deletions attempted.');
    this.checkpointDeletionsFailed = counter('prometheus_tsdb_checkpoint_deletions_failed_total', 'Total number of checkpoint deletions that failed.');
    this.dataReplayDuration = new Gauge({ name: 'prometheus_tsdb_data_replay_duration_seconds', help: 'Time taken to replay the data on disk.', registers: [registry] });
    this.all.push(this.dataReplayDuration);
    this.unknownSeriesRefsReplay = counter('prometheus_tsdb_wal_replay_unknown_refs_total', 'Total number of unknown series references encountered during WAL replay.', ['type']);
    this.compactionsTotal = counter('prometheus_tsdb_compactions_total', 'Total number of compactions that were executed for the partition.');
    this.compactionsFailed = counter('prometheus_tsdb_compactions_failed_total', 'Total number of compactions that failed for the partition.');
    this.compactionsTriggered = counter('prometheus_tsdb_compactions_triggered_total', 'Total number of triggered compactions for the partition.');
    this.compactionDuration = new Histogram({
      name: 'prometheus_tsdb_compaction_duration_seconds',
      help: 'Duration of compaction runs',
      // Prometheus's exponential buckets starting at 1s.
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192],
      registers: [registry],
    });
    this.all.push(this.compactionDuration);
    this.reloads = counter('prometheus_tsdb_reloads_total', 'Number of times the database reloaded block data from disk.');
    this.reloadsFailed = counter('prometheus_tsdb_reloads_failures_total', 'Number of times the database failed to reloadBlocks block data from disk.');
    this.timeRetentions = counter('prometheus_tsdb_time_retentions_total', 'The number of times that blocks were deleted because the maximum time limit was exceeded.');
    this.sizeRetentions = counter('prometheus_tsdb_size_retentions_total', 'The number of times that blocks were deleted because the maximum number of bytes was exceeded.');
    this.tombstoneCleanupSeconds = new Histogram({
      name: 'prometheus_tsdb_tombstone_cleanup_seconds',
      help: 'The time taken to recompact blocks to remove tombstones.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.all.push(this.tombstoneCleanupSeconds);

    gauge('prometheus_tsdb_head_series', 'Total number of series in the head block.', () => state.headSeries());
    gauge('prometheus_tsdb_head_chunks', 'Total number of chunks in the head block.', () => state.headChunks());
    gauge('prometheus_tsdb_head_min_time', 'Minimum time bound of the head block.', () => state.headMinTime());
    gauge('prometheus_tsdb_head_max_time', 'Maximum timestamp of the head block.', () => state.headMaxTime());
    gauge('prometheus_tsdb_head_min_time_seconds', 'Minimum time bound of the head block.', () => state.headMinTime() / 1000);
    gauge('prometheus_tsdb_head_max_time_seconds', 'Maximum timestamp of the head block.', () => state.headMaxTime() / 1000);
    gauge('prometheus_tsdb_head_chunks_storage_size_bytes', 'Size of the chunks in the head block.', () => state.headChunkBytes());
    gauge('prometheus_tsdb_head_active_appenders', 'Number of currently active appender transactions', () => state.activeAppenders());
    gauge('prometheus_tsdb_symbol_table_size_bytes', 'Size of symbol table in memory for loaded blocks', () => state.symbolTableBytes());
    gauge('prometheus_tsdb_blocks_loaded', 'Number of currently loaded data blocks', () => state.blocksLoaded());
    gauge('prometheus_tsdb_storage_blocks_bytes', 'The number of bytes that are currently used for local storage by all blocks.', () => state.blocksBytes());
    gauge('prometheus_tsdb_lowest_timestamp', 'Lowest timestamp value stored in the database. The unit is decided by the library consumer.', () => state.lowestTimestamp());
    gauge('prometheus_tsdb_lowest_timestamp_seconds', 'Lowest timestamp value stored in the database.', () => state.lowestTimestamp() / 1000);
    gauge('prometheus_tsdb_wal_segment_current', 'Write log segment index that TSDB is currently writing to.', () => state.walSegmentCurrent());
    gauge('prometheus_tsdb_wal_storage_size_bytes', 'Size of the write log directory.', () => state.walStorageBytes());
    gauge('prometheus_tsdb_retention_limit_bytes', 'Max number of bytes to be retained in the tsdb blocks, configured 0 means disabled', () => state.retentionLimitBytes());
    gauge('tsprom_tsdb_head_series_limit', 'Maximum number of series in the head block (--storage.tsdb.max-head-series); 0 means no limit.', () => state.headSeriesLimit());
    gauge('prometheus_tsdb_data_replay_segments_current', 'Write log segment being replayed (as in the walreplay status).', () => state.walReplayStatus().current);
  }

  /** Removes every metric from the registry (so a reopened DB can register again). */
  unregister(): void {
    for (const m of this.all) this.registry.removeSingleMetric((m as unknown as { name: string }).name);
  }
}
