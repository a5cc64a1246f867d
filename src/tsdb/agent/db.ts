// Room tsdb/agent (agent mode's WAL-only store): may import model/, logging/,
// storage/ and the tsdb rooms below it (encoding, fileutil, record, wal, head:
// for the head's histogram error).
//
// The store behind `--agent`: appended samples go to the WAL (the same
// segments, records and checkpoints as the TSDB's, so the remote-write queues
// tail `<path>/wal` the same way) and nowhere else; it answers no queries.
// Memory holds one entry per live series (labels, last timestamp and value,
// the last segment that mentions it). Native histograms are checked as the
// head checks them and logged in the batch-with-histograms record.
//
// Truncation (every truncateFrequencyMs, default 2 h as Prometheus's agent)
// folds the older two thirds of the segments into a checkpoint holding the
// live series and deletes them, but never a segment that:
//   - a remote-write queue still has to send (WalRetention), unless all its
//     samples are older than --storage.agent.retention.max-time;
//   - holds samples younger than --storage.agent.retention.min-time.
// Series whose last mention lies in the deleted segments are forgotten.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Counter, Gauge, Summary, type Registry } from 'prom-client';
import type { Logger } from '../../logging/types.js';
import { nopLogger } from '../../logging/types.js';
import { FloatHistogram, Histogram, HistogramError } from '../../model/histogram.js';
import type { Labels } from '../../model/labels.js';
import {
  DuplicateSampleError,
  InvalidSeriesError,
  OutOfOrderSampleError,
  StorageError,
  type Appender,
  type Querier,
  type SeriesRef,
  type Storage,
} from '../../storage/interface.js';
import { acquireLock, type DirLock } from '../fileutil/lock.js';
import { InvalidHistogramError } from '../head/appender.js';
import { Pacer } from '../fileutil/pacer.js';
import { RecordEncoder, decodeRecord, type RecordHandler } from '../record/record.js';
import { checkpointSegments, createCheckpoint, deleteCheckpoints, lastCheckpoint } from '../wal/checkpoint.js';
import type { WalRetention } from '../wal/retention.js';
import { DEFAULT_SEGMENT_SIZE, SegmentReader, WAL, listSegments, repairSegments, segmentName, type WALCompression, type WALMetrics } from '../wal/wal.js';

/** Prometheus's agent defaults. */
export const DEFAULT_TRUNCATE_FREQUENCY_MS = 2 * 3600_000;
export const DEFAULT_MIN_WAL_TIME_MS = 5 * 60_000;
export const DEFAULT_MAX_WAL_TIME_MS = 4 * 3600_000;

/** What the agent answers for queries, in Prometheus's words (tsdb/agent ErrUnsupported). */
export class UnsupportedOperationError extends StorageError {
  override name = 'UnsupportedOperationError';
  constructor() {
    super('unsupported operation with WAL-only storage');
  }
}

export interface AgentOptions {
  /** --storage.agent.path; the WAL is its `wal` subdirectory. */
  dir: string;
  /** 0 or absent: the WAL default (128 MiB). */
  segmentSize?: number;
  /** How WAL records are stored (--storage.agent.wal-compression); default snappy. */
  walCompression?: WALCompression;
  minWalTimeMs?: number;
  maxWalTimeMs?: number;
  truncateFrequencyMs?: number;
  noLockfile?: boolean;
  /** Remote-write queues tailing the WAL: truncation keeps what they still need. */
  walRetention?: WalRetention;
  registry?: Registry;
  logger?: Logger;
  now?: () => number;
}

interface MemSeries {
  readonly ref: number;
  readonly labels: Labels;
  lastT: number;
  lastHi: number;
  lastLo: number;
  /** The newest sample when it is a histogram, else null. */
  lastHist: Histogram | FloatHistogram | null;
  /** Highest WAL segment holding a record of this series. */
  lastSeg: number;
}

/** Replay yields to the event loop this often (ms), so /-/healthy and /metrics answer while a long WAL replays. */
const REPLAY_YIELD_MS = 50;
/** Initial and retained record buffer sizes: a scrape's commit fits without growing. */
const ENC_INITIAL_BYTES = 64 * 1024;
const ENC_RETAINED_BYTES = 1024 * 1024;

class AgentMetrics implements WALMetrics {
  readonly activeSeries: Gauge;
  readonly samplesAppended: Counter<'type'>;
  readonly outOfOrder: Counter;
  readonly corruptions: Counter;
  readonly truncateDuration: Summary;
  readonly replayDuration: Gauge;
  readonly checkpointCreations: Counter;
  readonly checkpointCreationsFailed: Counter;
  readonly checkpointDeletions: Counter;
  readonly checkpointDeletionsFailed: Counter;
  readonly walFsyncDuration: Summary;
  readonly walWritesFailed: Counter;
  readonly walRecordsWritten: Counter;
  readonly walRecordBytesWritten: Counter;
  readonly walTruncations: Counter;
  readonly walTruncationsFailed: Counter;

  constructor(registry: Registry | undefined) {
    const registers = registry !== undefined ? [registry] : [];
    const counter = (name: string, help: string): Counter => new Counter({ name, help, registers });
    this.activeSeries = new Gauge({ name: 'prometheus_agent_active_series', help: 'Number of active series being tracked by the WAL storage', registers });
    this.samplesAppended = new Counter({ name: 'prometheus_agent_samples_appended_total', help: 'Total number of samples appended to the storage', labelNames: ['type'], registers });
    this.outOfOrder = counter('prometheus_agent_out_of_order_samples_total', 'Total number of out of order samples ingestion failed attempts.');
    this.corruptions = counter('prometheus_agent_corruptions_total', 'Total number of WAL corruptions.');
    this.truncateDuration = new Summary({ name: 'prometheus_agent_truncate_duration_seconds', help: 'Duration of WAL truncation.', registers });
    this.replayDuration = new Gauge({ name: 'prometheus_agent_data_replay_duration_seconds', help: 'Time taken to replay the data on disk.', registers });
    this.checkpointCreations = counter('prometheus_agent_checkpoint_creations_total', 'Total number of checkpoint creations attempted.');
    this.checkpointCreationsFailed = counter('prometheus_agent_checkpoint_creations_failed_total', 'Total number of checkpoint creations that failed.');
    this.checkpointDeletions = counter('prometheus_agent_checkpoint_deletions_total', 'Total number of checkpoint deletions attempted.');
    this.checkpointDeletionsFailed = counter('prometheus_agent_checkpoint_deletions_failed_total', 'Total number of checkpoint deletions that failed.');
    // The WAL's own metrics keep the TSDB's names, as Prometheus's agent WAL does.
    this.walFsyncDuration = new Summary({ name: 'prometheus_tsdb_wal_fsync_duration_seconds', help: 'Duration of write log fsync.', registers });
    this.walWritesFailed = counter('prometheus_tsdb_wal_writes_failed_total', 'Total number of write log writes that failed.');
    this.walRecordsWritten = counter('prometheus_tsdb_wal_record_part_writes_total', 'Total number of record parts written to the write log.');
    this.walRecordBytesWritten = counter('prometheus_tsdb_wal_record_parts_bytes_written_total', 'Total number of record part bytes written to the write log.');
    this.walTruncations = counter('prometheus_tsdb_wal_truncations_total', 'Total number of write log truncations attempted.');
    this.walTruncationsFailed = counter('prometheus_tsdb_wal_truncations_failed_total', 'Total number of write log truncations that failed.');
  }
}

/** Opens (and replays) the agent's WAL, then starts writing after it. */
export async function openAgentDB(opts: AgentOptions): Promise<AgentDB> {
  fs.mkdirSync(opts.dir, { recursive: true });
  const lock = opts.noLockfile === true ? null : acquireLock(opts.dir);
  try {
    const db = new AgentDB(opts, lock);
    await db.replay();
    db.start();
    return db;
  } catch (e) {
    lock?.release();
    throw e;
  }
}

export class AgentDB implements Storage {
  readonly walDir: string;
  private readonly wal: WAL;
  private readonly logger: Logger;
  private readonly metrics: AgentMetrics;
  private readonly now: () => number;
  private readonly byKey = new Map<string, MemSeries>();
  private readonly byRef = new Map<number, MemSeries>();
  private nextRef = 1;
  /** Newest sample timestamp per segment (segments written or replayed by this process). */
  private readonly segMaxT = new Map<number, number>();
  private readonly enc = new RecordEncoder(ENC_INITIAL_BYTES, ENC_RETAINED_BYTES);
  private timer: NodeJS.Timeout | null = null;
  private truncating: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly opts: AgentOptions,
    private readonly lock: DirLock | null,
  ) {
    this.walDir = path.join(opts.dir, 'wal');
    this.logger = opts.logger ?? nopLogger;
    this.metrics = new AgentMetrics(opts.registry);
    this.now = opts.now ?? Date.now;
    const segmentSize = opts.segmentSize !== undefined && opts.segmentSize > 0 ? opts.segmentSize : DEFAULT_SEGMENT_SIZE;
    this.wal = new WAL(this.walDir, { segmentSize, compression: opts.walCompression, logger: this.logger, metrics: this.metrics });
  }

  /** @internal Rebuilds the series table from the last checkpoint and the segments after it, giving the event loop turns. */
  async replay(): Promise<void> {
    const t0 = performance.now();
    const pacer = new Pacer(REPLAY_YIELD_MS);
    const self = this;
    let seg = -1;
    const replayHistogram = (ref: number, t: number, x: Histogram | FloatHistogram): void => {
      const s = this.byRef.get(ref);
      if (s === undefined) return;
      if (t >= s.lastT) {
        s.lastT = t;
        s.lastHist = x;
      }
      s.lastSeg = Math.max(s.lastSeg, seg);
      if (seg >= 0) this.segMaxT.set(seg, Math.max(this.segMaxT.get(seg) ?? -Infinity, t));
    };
    const handler: RecordHandler = {
      series(ref, labels) {
        const key = labels.key();
        const old = self.byKey.get(key);
        // A series logged twice (two appenders raced to create it) keeps its first ref; the other ref maps to it.
        const s: MemSeries = old ?? { ref, labels, lastT: -Infinity, lastHi: 0, lastLo: 0, lastHist: null, lastSeg: seg };
        if (old === undefined) self.byKey.set(key, s);
        self.byRef.set(ref, s);
        s.lastSeg = Math.max(s.lastSeg, seg);
        if (ref >= self.nextRef) self.nextRef = ref + 1;
      },
      sample(ref, t, hi, lo) {
        const s = self.byRef.get(ref);
        if (s === undefined) return;
        if (t >= s.lastT) {
          s.lastT = t;
          s.lastHi = hi;
          s.lastLo = lo;
          s.lastHist = null;
        }
        s.lastSeg = Math.max(s.lastSeg, seg);
        if (seg >= 0) self.segMaxT.set(seg, Math.max(self.segMaxT.get(seg) ?? -Infinity, t));
      },
      histogram(ref, t, h) {
        replayHistogram(ref, t, h);
      },
      floatHistogram(ref, t, fh) {
        replayHistogram(ref, t, fh);
      },
      tombstone() {},
    };
    const cp = lastCheckpoint(this.walDir);
    if (cp !== null) {
      // Checkpoint series count as mentioned in the checkpoint's last segment.
      seg = cp.index;
      for (const file of checkpointSegments(cp.dir)) {
        const r = new SegmentReader(fs.readFileSync(file), file);
        await this.readAll(r, handler, pacer);
        if (r.error !== null) {
          this.metrics.corruptions.inc();
          this.logger.warn('Agent checkpoint is corrupt; keeping what precedes the damage', { file, err: r.error.message });
          fs.truncateSync(file, r.validEnd);
          break;
        }
      }
    }
    for (const s of listSegments(this.walDir)) {
      if (cp !== null && s <= cp.index) continue;
      seg = s;
      const file = path.join(this.walDir, segmentName(s));
      const r = new SegmentReader(fs.readFileSync(file), file);
      await this.readAll(r, handler, pacer);
      if (r.error !== null) {
        this.metrics.corruptions.inc();
        const dropped = repairSegments(this.walDir, s, r.validEnd);
        this.logger.warn('Agent WAL is corrupt; repaired by cutting it at the damage', { file, err: r.error.message, droppedBytes: dropped });
        break;
      }
    }
    // Series by labels: a ref that maps to an earlier ref of the same labels is no series of its own.
    this.metrics.activeSeries.set(this.byKey.size);
    this.metrics.replayDuration.set((performance.now() - t0) / 1000);
    this.logger.info('Agent WAL replay completed', { series: this.byKey.size, durationSeconds: (performance.now() - t0) / 1000 });
  }

  private async readAll(r: SegmentReader, h: RecordHandler, pacer: Pacer): Promise<void> {
    while (r.next()) {
      try {
        decodeRecord(r.buf, r.start, r.end, h, r.file);
      } catch (e) {
        r.reject((e as Error).message);
        return;
      }
      r.accept();
      await pacer.maybeYield();
    }
  }

  /** @internal Starts writing and the truncation timer. */
  start(): void {
    this.wal.startWriting();
    const every = this.opts.truncateFrequencyMs ?? DEFAULT_TRUNCATE_FREQUENCY_MS;
    if (every > 0) {
      this.timer = setInterval(() => {
        this.truncate().catch((e: unknown) => this.logger.error('Agent WAL truncation failed', { err: String(e) }));
      }, every);
      this.timer.unref();
    }
  }

  appender(): Appender {
    return new AgentAppender(this);
  }

  /** Agent mode answers no queries. */
  querier(): Querier {
    throw new UnsupportedOperationError();
  }

  /** Prometheus's agent reports no local data, so remote reads would ask for everything: nothing is older than "never". */
  startTime(): number {
    return Infinity;
  }

  /** Live series. */
  numSeries(): number {
    return this.byKey.size;
  }

  /** @internal */
  lookup(labels: Labels): MemSeries | undefined {
    return this.byKey.get(labels.key());
  }

  /** @internal */
  byReference(ref: number): MemSeries | undefined {
    return this.byRef.get(ref);
  }

  /** @internal */
  newRef(): number {
    return this.nextRef++;
  }

  /** @internal Logs one commit as one record and updates the series table. */
  commit(
    newSeries: readonly { ref: number; labels: Labels }[],
    refs: number[],
    ts: number[],
    his: number[],
    los: number[],
    hists: readonly PendingHistogram[] = [],
  ): void {
    if (this.closed) throw new Error('tsdb: database is closed');
    // A series another appender created meanwhile takes over: its ref is used instead.
    const remap = new Map<number, number>();
    const created: { ref: number; labels: Labels }[] = [];
    for (const s of newSeries) {
      const existing = this.byKey.get(s.labels.key());
      if (existing !== undefined) remap.set(s.ref, existing.ref);
      else created.push(s);
    }
    const n = refs.length;
    const nh = hists.length;
    const enc = this.enc;
    enc.startBatch(created.length, nh > 0);
    for (const s of created) enc.series(s.ref, s.labels);
    if (nh > 0) {
      enc.histograms(nh);
      for (const x of hists) {
        x.ref = remap.get(x.ref) ?? x.ref;
        enc.histogram(x.ref, x.t, x.h, x.fh, x.seq);
      }
    }
    enc.samples(n);
    for (let i = 0; i < n; i++) {
      const ref = remap.get(refs[i]!) ?? refs[i]!;
      refs[i] = ref;
      enc.sample(ref, ts[i]!, his[i]!, los[i]!);
    }
    if (created.length > 0 || n > 0 || nh > 0) this.wal.log(enc.bytes());
    enc.release();
    const seg = this.wal.currentSegment();
    for (const s of created) {
      const m: MemSeries = { ref: s.ref, labels: s.labels, lastT: -Infinity, lastHi: 0, lastLo: 0, lastHist: null, lastSeg: seg };
      this.byKey.set(s.labels.key(), m);
      this.byRef.set(s.ref, m);
    }
    let maxT = this.segMaxT.get(seg) ?? -Infinity;
    for (let i = 0; i < n; i++) {
      const s = this.byRef.get(refs[i]!)!;
      const t = ts[i]!;
      if (t >= s.lastT) {
        s.lastT = t;
        s.lastHi = his[i]!;
        s.lastLo = los[i]!;
        s.lastHist = null;
      }
      s.lastSeg = seg;
      if (t > maxT) maxT = t;
    }
    // A histogram after a float at the same time cannot be (the appender refuses it), so ">=" keeps the newest.
    for (const x of hists) {
      const s = this.byRef.get(x.ref)!;
      if (x.t >= s.lastT) {
        s.lastT = x.t;
        s.lastHist = x.h ?? x.fh;
      }
      s.lastSeg = seg;
      if (x.t > maxT) maxT = x.t;
    }
    if (n > 0 || nh > 0) this.segMaxT.set(seg, maxT);
    if (n > 0) this.metrics.samplesAppended.inc({ type: 'float' }, n);
    if (nh > 0) this.metrics.samplesAppended.inc({ type: 'histogram' }, nh);
    this.metrics.activeSeries.set(this.byKey.size);
  }

  /** @internal */
  countOutOfOrder(): void {
    this.metrics.outOfOrder.inc();
  }

  /** Truncates now (the timer calls this); runs one at a time. */
  truncate(): Promise<void> {
    this.truncating ??= this.doTruncate().finally(() => {
      this.truncating = null;
    });
    return this.truncating;
  }

  private async doTruncate(): Promise<void> {
    if (this.closed) return;
    const t0 = performance.now();
    const segs = listSegments(this.walDir);
    const first = segs[0];
    if (first === undefined) return;
    // A new segment, so that a quiet agent does not keep more WAL than needed.
    let last = this.wal.nextSegment() - 1;
    // The older two thirds hold mostly sent data; fewer than two segments are not worth a checkpoint.
    last = first + Math.floor(((last - first) * 2) / 3);
    const now = this.now();
    const minKeep = now - (this.opts.minWalTimeMs ?? DEFAULT_MIN_WAL_TIME_MS);
    const maxKeep = now - (this.opts.maxWalTimeMs ?? DEFAULT_MAX_WAL_TIME_MS);
    // Segments whose samples are all older than max-time go whatever the remotes still need.
    let forced = first - 1;
    while (forced < last && this.segmentOlderThan(forced + 1, maxKeep)) forced++;
    const needed = this.opts.walRetention?.lowestNeededSegment() ?? null;
    const allowed = needed === null ? last : Math.min(last, needed - 1);
    last = Math.max(allowed, forced);
    // Samples younger than min-time stay in any case.
    for (let s = first; s <= last; s++) {
      if (!this.segmentOlderThan(s, minKeep)) {
        last = s - 1;
        break;
      }
    }
    if (last <= first) return;
    for (const [key, s] of this.byKey) {
      if (s.lastSeg <= last) {
        this.byKey.delete(key);
        this.byRef.delete(s.ref);
      }
    }
    for (const [ref, s] of this.byRef) if (s.lastSeg <= last) this.byRef.delete(ref);
    this.metrics.activeSeries.set(this.byKey.size);
    this.metrics.checkpointCreations.inc();
    try {
      // Only series records are kept: the samples of deleted segments were sent (or are past max-time).
      const st = await createCheckpoint(this.walDir, first, last, (ref) => this.byRef.has(ref), Number.MAX_SAFE_INTEGER, this.wal.segmentSize, this.wal.compression);
      this.logger.info('Agent WAL checkpoint complete', { first, last, seriesKept: st.seriesKept, seriesDropped: st.seriesDropped });
    } catch (e) {
      this.metrics.checkpointCreationsFailed.inc();
      this.logger.error('Agent WAL checkpoint failed; keeping the segments', { err: String(e) });
      return;
    }
    this.wal.truncate(last + 1);
    for (const s of [...this.segMaxT.keys()]) if (s <= last) this.segMaxT.delete(s);
    this.metrics.checkpointDeletions.inc();
    try {
      deleteCheckpoints(this.walDir, last);
    } catch (e) {
      this.metrics.checkpointDeletionsFailed.inc();
      this.logger.warn('cannot delete old agent checkpoints', { err: String(e) });
    }
    this.metrics.truncateDuration.observe((performance.now() - t0) / 1000);
  }

  /** True when segment s holds no sample at or after t (unknown segments, from before a restart's replay, count as old). */
  private segmentOlderThan(s: number, t: number): boolean {
    const max = this.segMaxT.get(s);
    return max === undefined || max < t;
  }

  /** Segments present, for tests and status. */
  segments(): number[] {
    return listSegments(this.walDir);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer !== null) clearInterval(this.timer);
    await this.truncating;
    this.closed = true;
    this.wal.close();
    this.lock?.release();
  }
}

/** Bits of a float64, for the WAL and for duplicate checks. */
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** @internal A histogram sample of an open appender; seq = float samples appended before it. */
interface PendingHistogram {
  ref: number;
  readonly t: number;
  readonly h: Histogram | null;
  readonly fh: FloatHistogram | null;
  readonly seq: number;
}

class AgentAppender implements Appender {
  private readonly newSeries: { ref: number; labels: Labels }[] = [];
  /** New series of this appender by label key, so repeated appends reuse their ref. */
  private readonly pendingByKey = new Map<string, number>();
  /** Newest timestamp appended per ref in this appender (order checks before commit). */
  private readonly pendingLastT = new Map<number, number>();
  private readonly refs: number[] = [];
  private readonly ts: number[] = [];
  private readonly his: number[] = [];
  private readonly los: number[] = [];
  private readonly hists: PendingHistogram[] = [];
  private done = false;

  constructor(private readonly db: AgentDB) {}

  /** The series' ref (new ones are created pending) and its newest committed sample. */
  private resolve(ref: SeriesRef, labels: Labels): { r: number; s: MemSeries | undefined } {
    if (this.done) throw new Error('BUG: appender used after commit or rollback');
    const known = ref !== 0 ? this.db.byReference(ref) : undefined;
    const s = known ?? this.db.lookup(labels);
    if (s !== undefined) return { r: s.ref, s };
    if (ref !== 0 && this.pendingLastT.has(ref)) return { r: ref, s: undefined };
    if (labels.isEmpty()) throw new InvalidSeriesError('empty labelset');
    const key = labels.key();
    let r = this.pendingByKey.get(key) ?? 0;
    if (r === 0) {
      r = this.db.newRef();
      this.pendingByKey.set(key, r);
      this.newSeries.push({ ref: r, labels });
    }
    return { r, s: undefined };
  }

  append(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef {
    const { r, s } = this.resolve(ref, labels);
    let lastT = s?.lastT ?? -Infinity;
    let last: { hi: number; lo: number } | null = s !== undefined && s.lastHist === null ? { hi: s.lastHi, lo: s.lastLo } : null;
    const pending = this.pendingLastT.get(r);
    if (pending !== undefined && pending > lastT) {
      lastT = pending;
      last = null;
    }
    f64[0] = v;
    const hi = u32[1]!;
    const lo = u32[0]!;
    if (t < lastT) {
      this.db.countOutOfOrder();
      throw new OutOfOrderSampleError();
    }
    if (t === lastT) {
      // The same sample again is dropped; another value at the same time (a histogram there, or any repeat within this appender) is refused.
      if (last !== null && last.hi === hi && last.lo === lo) return r;
      throw new DuplicateSampleError();
    }
    this.pendingLastT.set(r, t);
    this.refs.push(r);
    this.ts.push(t);
    this.his.push(hi);
    this.los.push(lo);
    return r;
  }

  /** Validated as the head validates (InvalidHistogramError), ordered and deduplicated as floats are. */
  appendHistogram(ref: SeriesRef, labels: Labels, t: number, h: Histogram | null, fh: FloatHistogram | null): SeriesRef {
    if ((h === null) === (fh === null)) throw new Error('BUG: appendHistogram needs exactly one of h and fh');
    try {
      (h ?? fh)!.validate();
    } catch (e) {
      if (e instanceof HistogramError) throw new InvalidHistogramError(e);
      throw e;
    }
    const { r, s } = this.resolve(ref, labels);
    let lastT = s?.lastT ?? -Infinity;
    let last = s?.lastHist ?? null;
    const pending = this.pendingLastT.get(r);
    if (pending !== undefined && pending > lastT) {
      lastT = pending;
      last = null;
    }
    if (t < lastT) {
      this.db.countOutOfOrder();
      throw new OutOfOrderSampleError();
    }
    if (t === lastT) {
      if (h !== null && last instanceof Histogram && last.equals(h)) return r;
      if (fh !== null && last instanceof FloatHistogram && last.equals(fh)) return r;
      throw new DuplicateSampleError();
    }
    this.pendingLastT.set(r, t);
    this.hists.push({ ref: r, t, h, fh, seq: this.refs.length });
    return r;
  }

  commit(): void {
    if (this.done) return;
    this.done = true;
    this.db.commit(this.newSeries, this.refs, this.ts, this.his, this.los, this.hists);
  }

  rollback(): void {
    this.done = true;
  }
}
