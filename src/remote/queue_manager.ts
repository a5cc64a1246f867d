// One remote_write queue: a WAL watcher feeds it, shards send batches
// concurrently, and it reports how far the WAL is safely sent.
//
// Series labels get the external labels and write_relabel_configs once, when
// their series record is read. A sample goes to shard ref % shards, so one
// series' samples stay in order. Exemplars and native histograms (with
// send_exemplars / send_native_histograms) share the shards: an entry is one
// of the three, and max_samples_per_send and capacity count them all, as
// Prometheus's shards do. A shard holds at most `capacity` samples
// and sends `max_samples_per_send` at a time (or what it has when
// batch_send_deadline passes); while a batch is out it is copied out of the
// queue, so memory is bounded by shards x (capacity + max_samples_per_send)
// samples. A full shard holds the watcher (it stops reading the WAL).
//
// Progress: every record whose samples were queued stays tracked until each
// of its samples was sent, refused (4xx) or dropped. The committed position
// is the start of the oldest such record, or where the watcher read up to
// when none is open; resuming there sends nothing twice except the rest of
// that record.
import { snappyCompress } from './snappy_compress.js';
import type { RemoteWriteConfig } from '../config/types.js';
import { CUSTOM_BUCKETS_SCHEMA, type FloatHistogram, type Histogram } from '../model/histogram.js';
import { LabelsBuilder, type Labels } from '../model/labels.js';
import type { Logger } from '../logging/types.js';
import { nopLogger } from '../logging/types.js';
import { LabelMap, processBuilder } from '../relabel/relabel.js';
import { RequestEncoder, encodeMetadataV1, labelBytesV1, type EncodableSeries, type MetadataEntry } from './write_encode.js';
import type { DropReason, HistogramDropReason, RemoteWriteMetrics } from './write_metrics.js';
import { WalWatcher, walEnd, type SampleRecord, type WalPosition, type WatcherSink } from './wal_watcher.js';

/** What a send attempt returned. */
export interface SendResponse {
  status: number;
  /** The Retry-After header, if any. */
  retryAfter?: string;
  /** Start of the response body, for the log. */
  body: string;
}

/** Posts one compressed request; rejects on network errors and timeouts. */
export type SendFn = (body: Buffer, headers: Record<string, string>, signal: AbortSignal) => Promise<SendResponse>;

export interface QueueManagerOptions {
  cfg: RemoteWriteConfig;
  externalLabels: Labels;
  walDir: string;
  /** Where to resume; null starts after what the WAL holds now. */
  start: WalPosition | null;
  send: SendFn;
  metrics: RemoteWriteMetrics;
  logger?: Logger;
  userAgent?: string;
  /** Wall clock (ms) for sample_age_limit and rates; injectable for tests. */
  now?: () => number;
  /** Waits for backoff; injectable for tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Called whenever the committed position moves. */
  onProgress?: (pos: WalPosition) => void;
  /** The scraped targets' metric metadata, sent every metadata_config.send_interval (1.0 only). */
  metadata?: () => readonly MetadataEntry[];
  /** Counts samples read from the WAL (the storage's samples_in). */
  onRead?: (start: WalPosition, rec: SampleRecord) => void;
  pollIntervalMs?: number;
  /** How often the shard count is recomputed (Prometheus: 10s); 0 turns resharding off. */
  shardUpdateIntervalMs?: number;
}

/**
 * A series as the queue keeps it: final labels, 1.0 label bytes, the segment it was last
 * declared in. Series that relabeling dropped are kept too (dropped = true), so their
 * samples count as dropped, not as unknown.
 */
class QueuedSeries implements EncodableSeries {
  constructor(
    readonly labels: Labels,
    readonly v1: Buffer | null,
    public seg: number,
    readonly dropped: boolean,
  ) {}
}

/** Past the table's end by more than this, a ref goes to the overflow map instead of growing the array. */
const MAX_REF_GAP = 1 << 20;

/**
 * The queue's series by WAL ref. The head hands out refs from a counter, so the
 * live ones are a dense run: an array from the lowest live ref looks them up
 * for every sample far cheaper than a Map. Refs far outside the run (never from
 * our head) go to a Map, so memory stays bounded by the refs' spread.
 */
class SeriesTable {
  private slots: (QueuedSeries | undefined)[] = [];
  private base = 0;
  private readonly far = new Map<number, QueuedSeries>();

  get(ref: number): QueuedSeries | undefined {
    const i = ref - this.base;
    if (i >= 0 && i < this.slots.length) return this.slots[i];
    return this.far.size === 0 ? undefined : this.far.get(ref);
  }

  set(ref: number, s: QueuedSeries): void {
    if (this.slots.length === 0) this.base = ref;
    let i = ref - this.base;
    if (i < 0 && -i <= MAX_REF_GAP) {
      this.slots = new Array<QueuedSeries | undefined>(-i).fill(undefined).concat(this.slots);
      this.base = ref;
      i = 0;
    }
    if (i < 0 || i > this.slots.length + MAX_REF_GAP) {
      this.far.set(ref, s);
      return;
    }
    // Filled, not left as holes: V8 keeps a hole-free array in its fast form.
    while (this.slots.length < i) this.slots.push(undefined);
    this.slots[i] = s;
  }

  /** Forgets the series last seen in segments before index, and shrinks the array from the front. */
  dropBefore(index: number): void {
    const sl = this.slots;
    let first = -1;
    for (let i = 0; i < sl.length; i++) {
      const s = sl[i];
      if (s === undefined) continue;
      if (s.seg < index) sl[i] = undefined;
      else if (first < 0) first = i;
    }
    if (first < 0) this.slots = [];
    else if (first > 0) {
      this.slots = sl.slice(first);
      this.base += first;
    }
    for (const [ref, s] of this.far) if (s.seg < index) this.far.delete(ref);
  }
}

const EWMA_WEIGHT = 0.2;
const SHARD_TOLERANCE = 0.3;
/** Prometheus's limit on the error text it logs from a response body. */
const MAX_ERR_MSG = 1024;

/** An exponentially weighted per-second rate, ticked every interval (Prometheus's ewmaRate). */
class EwmaRate {
  private events = 0;
  private last = 0;
  private init = false;
  constructor(private readonly intervalS: number) {}
  incr(n: number): void {
    this.events += n;
  }
  tick(): void {
    const instant = this.events / this.intervalS;
    this.events = 0;
    if (this.init) this.last += EWMA_WEIGHT * (instant - this.last);
    else if (instant > 0) {
      this.init = true;
      this.last = instant;
    }
  }
  rate(): number {
    return this.last;
  }
}

type AnyHistogram = Histogram | FloatHistogram;

/**
 * One shard's bounded queue (a ring) and its sender loop. An entry is a sample,
 * an exemplar where ex holds its labels, or a native histogram where h holds it.
 */
class Shard {
  readonly series: (QueuedSeries | undefined)[];
  readonly ex: (Labels | undefined)[];
  readonly h: (AnyHistogram | undefined)[];
  readonly ts: Float64Array;
  readonly vs: Float64Array;
  readonly rec: Float64Array;
  head = 0;
  len = 0;
  /** Exemplars and histograms among the queued entries. */
  exN = 0;
  hN = 0;
  /** Set to make the loop send what it has and leave once empty. */
  draining = false;
  private wakeLoop: (() => void) | null = null;
  loop: Promise<void> = Promise.resolve();

  constructor(readonly capacity: number) {
    this.series = new Array<QueuedSeries | undefined>(capacity);
    this.ex = new Array<Labels | undefined>(capacity);
    this.h = new Array<AnyHistogram | undefined>(capacity);
    this.ts = new Float64Array(capacity);
    this.vs = new Float64Array(capacity);
    this.rec = new Float64Array(capacity);
  }

  push(s: QueuedSeries, t: number, v: number, rec: number, ex: Labels | undefined, h?: AnyHistogram): void {
    let i = this.head + this.len;
    if (i >= this.capacity) i -= this.capacity;
    this.series[i] = s;
    // ex and h slots stay undefined but for the entries that are exemplars or histograms (counted, so take() skips them when none).
    if (ex !== undefined) {
      this.ex[i] = ex;
      this.exN++;
    }
    if (h !== undefined) {
      this.h[i] = h;
      this.hN++;
    }
    this.ts[i] = t;
    this.vs[i] = v;
    this.rec[i] = rec;
    this.len++;
  }

  wake(): void {
    const w = this.wakeLoop;
    this.wakeLoop = null;
    w?.();
  }

  /** Resolves on wake() or after ms. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wakeLoop = null;
        resolve();
      }, ms);
      this.wakeLoop = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

/** A batch taken out of a shard; exCount of its n entries are exemplars, hCount histograms. */
class Batch {
  n = 0;
  exCount = 0;
  hCount = 0;
  readonly series: QueuedSeries[] = [];
  readonly ex: (Labels | undefined)[] = [];
  readonly h: (AnyHistogram | undefined)[] = [];
  readonly ts: Float64Array;
  readonly vs: Float64Array;
  readonly rec: Float64Array;
  constructor(size: number) {
    this.ts = new Float64Array(size);
    this.vs = new Float64Array(size);
    this.rec = new Float64Array(size);
  }
}

export class QueueManager implements WatcherSink {
  readonly cfg: RemoteWriteConfig;
  readonly name: string;
  private readonly logger: Logger;
  private readonly m: RemoteWriteMetrics;
  private readonly l: { remote_name: string; url: string };
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly watcher: WalWatcher;
  private readonly seriesMap = new SeriesTable();
  private readonly externalLabels: Labels;
  private readonly headers: Record<string, string>;
  private shards: Shard[] = [];
  private numShards: number;
  /** Waiters for room in the shards (the watcher, when a shard is full). */
  private spaceWaiters: (() => void)[] = [];
  private resharding = false;
  private stopping = false;
  /** Aborts requests and backoff waits on a hard stop. */
  private readonly abort = new AbortController();
  private reshardTimer: NodeJS.Timeout | null = null;
  private metadataLoop: Promise<void> = Promise.resolve();

  // Open records, oldest first: ids recBase .. recBase + recSeg.length - 1.
  private recBase = 0;
  private recHead = 0;
  private readonly recSeg: number[] = [];
  private readonly recOff: number[] = [];
  private readonly recOpen: number[] = [];
  private readonly recComplete: boolean[] = [];
  /** Where the watcher has read up to (the position after the last record handed over). */
  private readEnd: WalPosition;
  private committed: WalPosition;

  /** Samples below this segment are dropped (the WAL retention cap passed them). */
  dropBelowSegment = -1;

  private readonly dataIn: EwmaRate;
  private readonly dataOut: EwmaRate;
  private readonly dataDropped: EwmaRate;
  private readonly dataOutDuration: EwmaRate;
  private highestRecv = 0;
  private highestSent = 0;
  private lastSendMs = 0;
  private reshardDisabledUntil = 0;
  /** Entries queued (samples, exemplars, histograms), and the exemplars and histograms among them. */
  private pendingSamples = 0;
  private pendingExemplars = 0;
  private pendingHistograms = 0;

  constructor(private readonly opts: QueueManagerOptions) {
    this.cfg = opts.cfg;
    this.name = opts.cfg.name;
    this.logger = (opts.logger ?? nopLogger).with({ component: 'remote', remote_name: this.name, url: opts.cfg.url });
    this.m = opts.metrics;
    this.l = { remote_name: this.name, url: opts.cfg.url };
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? abortableSleep;
    this.externalLabels = opts.externalLabels;
    const q = opts.cfg.queueConfig;
    this.numShards = q.minShards;
    const intervalS = (opts.shardUpdateIntervalMs ?? 10_000) / 1000 || 10;
    this.dataIn = new EwmaRate(intervalS);
    this.dataOut = new EwmaRate(intervalS);
    this.dataDropped = new EwmaRate(intervalS);
    this.dataOutDuration = new EwmaRate(intervalS);
    const v2 = opts.cfg.protobufMessage === 'io.prometheus.write.v2.Request';
    this.headers = {
      ...opts.cfg.headers,
      'content-encoding': 'snappy',
      'content-type': v2 ? 'application/x-protobuf;proto=io.prometheus.write.v2.Request' : 'application/x-protobuf',
      'x-prometheus-remote-write-version': v2 ? '2.0.0' : '0.1.0',
      'user-agent': opts.userAgent ?? 'tsprom',
    };
    this.readEnd = opts.start ?? walEnd(opts.walDir);
    this.committed = this.readEnd;
    this.watcher = new WalWatcher({
      dir: opts.walDir,
      start: this.readEnd,
      exemplars: opts.cfg.sendExemplars,
      histograms: opts.cfg.sendNativeHistograms,
      sink: this,
      pollIntervalMs: opts.pollIntervalMs,
      logger: this.logger,
      metrics: {
        recordRead: (type) => this.m.watcherRecords.inc({ consumer: this.name, type }),
        currentSegment: (seg) => this.m.watcherSegment.set({ consumer: this.name }, seg),
      },
    });
    this.m.shardCapacity.set(this.l, q.capacity);
    this.m.shardsMax.set(this.l, q.maxShards);
    this.m.shardsMin.set(this.l, q.minShards);
    this.m.maxSamplesPerSend.set(this.l, q.maxSamplesPerSend);
    this.m.shardsDesired.set(this.l, q.minShards);
    this.m.pending.set(this.l, 0);
    this.m.highestTimestamp.set(this.l, 0);
    this.m.highestSentTimestamp.set(this.l, 0);
    for (const reason of ['too_old', 'dropped_series', 'unintentionally_dropped_series'] as const) this.m.dropped.inc({ ...this.l, reason }, 0);
    for (const c of [this.m.samples, this.m.failed, this.m.retried, this.m.bytes, this.m.enqueueRetries]) c.inc(this.l, 0);
    if (this.sendsMetadata()) for (const c of [this.m.metadata, this.m.metadataFailed, this.m.metadataRetried, this.m.metadataBytes]) c.inc(this.l, 0);
    // Prometheus shows every queue's exemplar and histogram series, sent or not.
    for (const c of [this.m.exemplars, this.m.exemplarsFailed, this.m.exemplarsRetried, this.m.histograms, this.m.histogramsFailed, this.m.histogramsRetried]) {
      c.inc(this.l, 0);
    }
    this.m.exemplarsPending.set(this.l, 0);
    this.m.histogramsPending.set(this.l, 0);
  }

  start(): void {
    this.startShards(this.numShards);
    this.watcher.start();
    if (this.sendsMetadata()) this.metadataLoop = this.runMetadata();
    const every = this.opts.shardUpdateIntervalMs ?? 10_000;
    if (every > 0) {
      this.reshardTimer = setInterval(() => this.updateShards(), every);
      this.reshardTimer.unref();
    }
  }

  /** The position a restart should resume from. */
  position(): WalPosition {
    return this.committed;
  }

  /** Samples, exemplars and histograms queued in the shards now (bounded by shards x capacity). */
  pending(): number {
    return this.pendingSamples;
  }

  shardCount(): number {
    return this.numShards;
  }

  /** Checks the WAL for new records now. */
  notify(): void {
    this.watcher.notify();
  }

  // ---------------------------------------------------------------------
  // WatcherSink
  // ---------------------------------------------------------------------

  series(ref: number, labels: Labels, segment: number): void {
    const old = this.seriesMap.get(ref);
    if (old !== undefined) {
      old.seg = segment;
      return;
    }
    const final = this.relabel(labels);
    if (final === null) {
      this.seriesMap.set(ref, new QueuedSeries(labels, null, segment, true));
      return;
    }
    const v1 = this.cfg.protobufMessage === 'prometheus.WriteRequest' ? labelBytesV1(final) : null;
    this.seriesMap.set(ref, new QueuedSeries(final, v1, segment, false));
  }

  seriesReset(index: number): void {
    this.seriesMap.dropBefore(index);
  }

  lost(from: number, to: number): void {
    this.logger.warn('Samples in deleted WAL segments were not sent', { fromSegment: from, toSegment: to });
  }

  caughtUp(pos: WalPosition): void {
    this.readEnd = pos;
    this.advance();
  }

  samples(rec: SampleRecord, start: WalPosition, end: WalPosition): void | Promise<void> {
    this.opts.onRead?.(start, rec);
    const exemplars = rec.exN > 0;
    const id = this.recBase + this.recSeg.length - this.recHead;
    this.recSeg.push(start.segment);
    this.recOff.push(start.offset);
    this.recOpen.push(0);
    this.recComplete.push(false);
    this.readEnd = end;
    const n = exemplars ? rec.exN : rec.n + rec.hN;
    const i = exemplars ? this.enqueueExemplars(rec, 0, id, start.segment) : this.enqueue(rec, 0, id, start.segment);
    if (i === n) {
      this.completeRecord(id);
      return;
    }
    return this.enqueueSlow(rec, i, id, start.segment, exemplars);
  }

  private async enqueueSlow(rec: SampleRecord, i: number, id: number, seg: number, exemplars: boolean): Promise<void> {
    const n = exemplars ? rec.exN : rec.n + rec.hN;
    while (i < n) {
      this.m.enqueueRetries.inc(this.l);
      await new Promise<void>((r) => this.spaceWaiters.push(r));
      // Stopping: the record stays open, so the committed position stays before it.
      if (this.stopping) return;
      i = exemplars ? this.enqueueExemplars(rec, i, id, seg) : this.enqueue(rec, i, id, seg);
    }
    this.completeRecord(id);
  }

  /** As enqueue(), for an exemplar record (exemplars are few: no fast path). */
  private enqueueExemplars(rec: SampleRecord, i: number, id: number, seg: number): number {
    if (this.resharding || this.stopping) return i;
    const ageLimit = this.cfg.queueConfig.sampleAgeLimitMs;
    const minT = ageLimit > 0 ? this.now() - ageLimit : -Infinity;
    const dropAll = seg < this.dropBelowSegment;
    const ns = this.shards.length;
    let queued = 0;
    for (; i < rec.exN; i++) {
      const ref = rec.exRefs[i]!;
      const t = rec.exTs[i]!;
      const s = this.seriesMap.get(ref);
      if (dropAll || s === undefined || s.dropped || t < minT) {
        const reason: DropReason = dropAll ? 'wal_retention_exceeded' : s === undefined ? 'unintentionally_dropped_series' : s.dropped ? 'dropped_series' : 'too_old';
        this.m.exemplarsDropped.inc({ ...this.l, reason });
        continue;
      }
      // ns > 0 while not resharding; ref % ns < ns.
      const sh = this.shards[ref % ns]!;
      if (sh.len >= sh.capacity) break;
      sh.push(s, t, rec.exVs[i]!, id, rec.exLabels[i]!);
      if (sh.len === this.cfg.queueConfig.maxSamplesPerSend) sh.wake();
      queued++;
    }
    this.recOpen[id - this.recBase + this.recHead] = (this.recOpen[id - this.recBase + this.recHead] ?? 0) + queued;
    this.pendingSamples += queued;
    this.pendingExemplars += queued;
    this.dataIn.incr(queued);
    this.m.exemplarsPending.set(this.l, this.pendingExemplars);
    return i;
  }

  /**
   * Queues rec's samples from index i on, then its histograms (index rec.n + j is
   * histogram j); returns where it stopped (rec.n + rec.hN when all went).
   */
  private enqueue(rec: SampleRecord, i: number, id: number, seg: number): number {
    if (this.resharding || this.stopping) return i;
    if (i >= rec.n) return this.enqueueHistograms(rec, i, id, seg);
    const n = rec.n;
    const ageLimit = this.cfg.queueConfig.sampleAgeLimitMs;
    const minT = ageLimit > 0 ? this.now() - ageLimit : -Infinity;
    const dropAll = seg < this.dropBelowSegment;
    const shards = this.shards;
    const ns = shards.length;
    const perSend = this.cfg.queueConfig.maxSamplesPerSend;
    let queued = 0;
    let maxT = this.highestRecv;
    // Drops are counted per call, not per sample: labelled counter updates are not cheap.
    let capped = 0;
    let unknown = 0;
    let relabeled = 0;
    let old = 0;
    for (; i < n; i++) {
      // i < n = rec.n <= the arrays' length.
      const ref = rec.refs[i]!;
      const t = rec.ts[i]!;
      const s = this.seriesMap.get(ref);
      if (dropAll || s === undefined || s.dropped || t < minT) {
        if (dropAll) capped++;
        else if (s === undefined) unknown++;
        else if (s.dropped) relabeled++;
        else old++;
        continue;
      }
      // ns > 0 while not resharding; ref % ns < ns.
      const sh = shards[ref % ns]!;
      if (sh.len >= sh.capacity) break;
      sh.push(s, t, rec.vs[i]!, id, undefined);
      if (sh.len === perSend) sh.wake();
      queued++;
      if (t > maxT) maxT = t;
    }
    this.countDropped('wal_retention_exceeded', capped);
    this.countDropped('unintentionally_dropped_series', unknown);
    this.countDropped('dropped_series', relabeled);
    this.countDropped('too_old', old);
    this.recOpen[id - this.recBase + this.recHead] = (this.recOpen[id - this.recBase + this.recHead] ?? 0) + queued;
    this.pendingSamples += queued;
    this.dataIn.incr(queued);
    if (maxT > this.highestRecv) {
      this.highestRecv = maxT;
      this.m.highestTimestamp.set(this.l, maxT / 1000);
    }
    this.m.pending.set(this.l, this.pendingSamples - this.pendingExemplars - this.pendingHistograms);
    return i === n && rec.hN > 0 ? this.enqueueHistograms(rec, i, id, seg) : i;
  }

  /** As enqueue(), for the histograms (rec.n + j is histogram j; histograms are few: no fast path). */
  private enqueueHistograms(rec: SampleRecord, i: number, id: number, seg: number): number {
    const ageLimit = this.cfg.queueConfig.sampleAgeLimitMs;
    const minT = ageLimit > 0 ? this.now() - ageLimit : -Infinity;
    const dropAll = seg < this.dropBelowSegment;
    const v1 = this.cfg.protobufMessage === 'prometheus.WriteRequest';
    const ns = this.shards.length;
    const end = rec.n + rec.hN;
    let queued = 0;
    let maxT = this.highestRecv;
    for (; i < end; i++) {
      const j = i - rec.n;
      const ref = rec.hRefs[j]!;
      const t = rec.hTs[j]!;
      const h = rec.hs[j]!;
      const s = this.seriesMap.get(ref);
      let reason: HistogramDropReason | null = null;
      if (dropAll) reason = 'wal_retention_exceeded';
      else if (t < minT) reason = 'too_old';
      else if (v1 && h.schema === CUSTOM_BUCKETS_SCHEMA) reason = 'nhcb_in_rw1_not_supported';
      else if (s === undefined) reason = 'unintentionally_dropped_series';
      else if (s.dropped) reason = 'dropped_series';
      if (reason !== null || s === undefined) {
        if (reason === 'nhcb_in_rw1_not_supported') this.logger.warn('Dropped native histogram with custom buckets (NHCB): remote write 1.0 cannot carry it', { ref });
        this.m.histogramsDropped.inc({ ...this.l, reason: reason ?? 'unintentionally_dropped_series' });
        this.dataDropped.incr(1);
        continue;
      }
      // ns > 0 while not resharding; ref % ns < ns.
      const sh = this.shards[ref % ns]!;
      if (sh.len >= sh.capacity) break;
      sh.push(s, t, 0, id, undefined, h);
      if (sh.len === this.cfg.queueConfig.maxSamplesPerSend) sh.wake();
      queued++;
      if (t > maxT) maxT = t;
    }
    this.recOpen[id - this.recBase + this.recHead] = (this.recOpen[id - this.recBase + this.recHead] ?? 0) + queued;
    this.pendingSamples += queued;
    this.pendingHistograms += queued;
    this.dataIn.incr(queued);
    if (maxT > this.highestRecv) {
      this.highestRecv = maxT;
      this.m.highestTimestamp.set(this.l, maxT / 1000);
    }
    this.m.histogramsPending.set(this.l, this.pendingHistograms);
    return i;
  }

  private countDropped(reason: DropReason, n: number): void {
    if (n === 0) return;
    this.m.dropped.inc({ ...this.l, reason }, n);
    this.dataDropped.incr(n);
  }

  private completeRecord(id: number): void {
    this.recComplete[id - this.recBase + this.recHead] = true;
    this.advance();
  }

  /** Entries of these records are done (sent, refused or dropped); exCount of the n were exemplars, hCount histograms. */
  private release(recs: Float64Array, n: number, exCount: number, hCount: number): void {
    for (let k = 0; k < n; k++) {
      const idx = recs[k]! - this.recBase + this.recHead;
      this.recOpen[idx] = this.recOpen[idx]! - 1;
    }
    this.pendingSamples -= n;
    this.pendingExemplars -= exCount;
    this.pendingHistograms -= hCount;
    this.m.pending.set(this.l, this.pendingSamples - this.pendingExemplars - this.pendingHistograms);
    if (exCount > 0) this.m.exemplarsPending.set(this.l, this.pendingExemplars);
    if (hCount > 0) this.m.histogramsPending.set(this.l, this.pendingHistograms);
    this.advance();
  }

  /** Moves the committed position past finished records. */
  private advance(): void {
    const before = this.committed;
    while (this.recHead < this.recSeg.length && this.recComplete[this.recHead] === true && this.recOpen[this.recHead] === 0) {
      this.recHead++;
      this.recBase++;
    }
    if (this.recHead < this.recSeg.length) {
      this.committed = { segment: this.recSeg[this.recHead]!, offset: this.recOff[this.recHead]! };
    } else {
      this.committed = this.readEnd;
    }
    // Drop finished entries from the front now and then (amortised O(1)).
    if (this.recHead > 1024 && this.recHead * 2 > this.recSeg.length) {
      for (const a of [this.recSeg, this.recOff, this.recOpen]) a.splice(0, this.recHead);
      this.recComplete.splice(0, this.recHead);
      this.recHead = 0;
    }
    if (this.committed.segment !== before.segment || this.committed.offset !== before.offset) this.opts.onProgress?.(this.committed);
  }

  // ---------------------------------------------------------------------
  // relabeling
  // ---------------------------------------------------------------------

  private relabel(labels: Labels): Labels | null {
    let ls = labels;
    if (!this.externalLabels.isEmpty()) {
      const b = new LabelsBuilder(labels);
      // External labels never override a label the series has.
      this.externalLabels.forEach((n, v) => {
        if (!labels.has(n)) b.set(n, v);
      });
      ls = b.labels();
    }
    const rules = this.cfg.writeRelabelConfigs;
    if (rules.length === 0) return ls;
    const lm = new LabelMap(ls);
    if (!processBuilder(lm, rules)) return null;
    const out = lm.labels();
    return out.isEmpty() ? null : out;
  }

  // ---------------------------------------------------------------------
  // shards
  // ---------------------------------------------------------------------

  private startShards(n: number): void {
    const q = this.cfg.queueConfig;
    this.shards = [];
    for (let i = 0; i < n; i++) {
      const sh = new Shard(q.capacity);
      this.shards.push(sh);
      sh.loop = this.runShard(sh);
    }
    this.numShards = n;
    this.m.shards.set(this.l, n);
    this.wakeEnqueuers();
  }

  private wakeEnqueuers(): void {
    const ws = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const w of ws) w();
  }

  private async runShard(sh: Shard): Promise<void> {
    const q = this.cfg.queueConfig;
    const batch = new Batch(q.maxSamplesPerSend);
    const encoder = new RequestEncoder(this.cfg.protobufMessage === 'io.prometheus.write.v2.Request' ? 2 : 1);
    let deadline = performance.now() + q.batchSendDeadlineMs;
    for (;;) {
      if (this.abort.signal.aborted) return;
      const full = sh.len >= q.maxSamplesPerSend;
      const due = performance.now() >= deadline;
      if (sh.len > 0 && (full || due || sh.draining)) {
        this.take(sh, batch, q.maxSamplesPerSend);
        await this.sendBatch(batch, encoder);
        deadline = performance.now() + q.batchSendDeadlineMs;
        continue;
      }
      if (sh.len === 0 && sh.draining) return;
      if (sh.len === 0) deadline = Math.max(deadline, performance.now() + q.batchSendDeadlineMs);
      await sh.wait(Math.max(1, deadline - performance.now()));
    }
  }

  /** Moves up to max samples from the shard into the batch and wakes a waiting watcher. */
  private take(sh: Shard, b: Batch, max: number): void {
    const n = Math.min(sh.len, max);
    // The ring's entries [head, head + n) in at most two runs: numbers by block copies, objects by loops.
    const first = Math.min(n, sh.capacity - sh.head);
    const runs: [number, number, number][] = [[sh.head, first, 0]];
    if (first < n) runs.push([0, n - first, first]);
    const objects = sh.exN > 0 || sh.hN > 0;
    b.series.length = n;
    // Without exemplars and histograms the batch's ex and h stay empty (the encoder's fast path).
    b.ex.length = objects ? n : 0;
    b.h.length = objects ? n : 0;
    let exCount = 0;
    let hCount = 0;
    for (const [from, len, to] of runs) {
      b.ts.set(sh.ts.subarray(from, from + len), to);
      b.vs.set(sh.vs.subarray(from, from + len), to);
      b.rec.set(sh.rec.subarray(from, from + len), to);
      // Series slots are overwritten later, not cleared: the series map holds them anyway.
      for (let k = 0; k < len; k++) b.series[to + k] = sh.series[from + k]!;
      if (!objects) continue;
      for (let k = 0; k < len; k++) {
        const i = from + k;
        const e = sh.ex[i];
        if (e !== undefined) {
          exCount++;
          sh.ex[i] = undefined;
        }
        b.ex[to + k] = e;
        const h = sh.h[i];
        if (h !== undefined) {
          hCount++;
          sh.h[i] = undefined;
        }
        b.h[to + k] = h;
      }
    }
    b.n = n;
    b.exCount = exCount;
    b.hCount = hCount;
    sh.exN -= exCount;
    sh.hN -= hCount;
    sh.head = (sh.head + n) % sh.capacity;
    sh.len -= n;
    this.wakeEnqueuers();
  }

  /** Drops samples older than sample_age_limit from the batch (before each attempt, as Prometheus filters retries). */
  private filterOld(b: Batch, dropped: Batch): boolean {
    const limit = this.cfg.queueConfig.sampleAgeLimitMs;
    if (limit <= 0) return false;
    const minT = this.now() - limit;
    let w = 0;
    dropped.n = 0;
    dropped.exCount = 0;
    dropped.hCount = 0;
    for (let k = 0; k < b.n; k++) {
      if (b.ts[k]! < minT) {
        dropped.rec[dropped.n++] = b.rec[k]!;
        if (b.ex[k] !== undefined) dropped.exCount++;
        if (b.h[k] !== undefined) dropped.hCount++;
        continue;
      }
      b.series[w] = b.series[k]!;
      if (b.ex.length > 0) b.ex[w] = b.ex[k];
      if (b.h.length > 0) b.h[w] = b.h[k];
      b.ts[w] = b.ts[k]!;
      b.vs[w] = b.vs[k]!;
      b.rec[w] = b.rec[k]!;
      w++;
    }
    if (dropped.n === 0) return false;
    b.n = w;
    b.series.length = w;
    if (b.ex.length > 0) b.ex.length = w;
    if (b.h.length > 0) b.h.length = w;
    b.exCount -= dropped.exCount;
    b.hCount -= dropped.hCount;
    this.countDropped('too_old', dropped.n - dropped.exCount - dropped.hCount);
    if (dropped.exCount > 0) this.m.exemplarsDropped.inc({ ...this.l, reason: 'too_old' }, dropped.exCount);
    if (dropped.hCount > 0) this.m.histogramsDropped.inc({ ...this.l, reason: 'too_old' }, dropped.hCount);
    this.release(dropped.rec, dropped.n, dropped.exCount, dropped.hCount);
    return true;
  }

  private async sendBatch(b: Batch, encoder: RequestEncoder): Promise<void> {
    const dropped = new Batch(this.cfg.queueConfig.sampleAgeLimitMs > 0 ? b.n : 0);
    this.filterOld(b, dropped);
    if (b.n === 0) return;
    let body = snappyCompress(encoder.encode(b.series, b.ts, b.vs, b.n, b.ex, b.h));
    let backoff = this.cfg.queueConfig.minBackoffMs;
    for (let attempt = 0; ; attempt++) {
      if (this.abort.signal.aborted) return;
      if (attempt > 0 && this.filterOld(b, dropped)) {
        if (b.n === 0) return;
        body = snappyCompress(encoder.encode(b.series, b.ts, b.vs, b.n, b.ex, b.h));
      }
      const t0 = this.now();
      let res: SendResponse | null = null;
      let err: string | null = null;
      try {
        res = await this.opts.send(body, this.headers, this.abort.signal);
      } catch (e) {
        err = e instanceof Error ? e.message : String(e);
      }
      const secs = (this.now() - t0) / 1000;
      this.m.sentBatchDuration.observe(this.l, secs);
      if (this.abort.signal.aborted) return;
      const samples = b.n - b.exCount - b.hCount;
      if (res !== null && res.status >= 200 && res.status < 300) {
        this.m.samples.inc(this.l, samples);
        if (b.exCount > 0) this.m.exemplars.inc(this.l, b.exCount);
        if (b.hCount > 0) this.m.histograms.inc(this.l, b.hCount);
        this.m.bytes.inc(this.l, body.length);
        this.dataOut.incr(b.n);
        this.dataOutDuration.incr(secs);
        let maxT = 0;
        for (let k = 0; k < b.n; k++) if (b.ts[k]! > maxT) maxT = b.ts[k]!;
        if (maxT > this.highestSent) {
          this.highestSent = maxT;
          this.m.highestSentTimestamp.set(this.l, maxT / 1000);
        }
        this.lastSendMs = this.now();
        this.release(b.rec, b.n, b.exCount, b.hCount);
        return;
      }
      const status = res?.status ?? 0;
      const recoverable = res === null || status >= 500 || (status === 429 && this.cfg.queueConfig.retryOnHttp429);
      const msg = err ?? `server returned HTTP status ${status}: ${firstLine(res?.body ?? '')}`;
      if (!recoverable) {
        this.m.failed.inc(this.l, samples);
        if (b.exCount > 0) this.m.exemplarsFailed.inc(this.l, b.exCount);
        if (b.hCount > 0) this.m.histogramsFailed.inc(this.l, b.hCount);
        this.logger.error('non-recoverable error', { count: b.n, err: msg });
        this.release(b.rec, b.n, b.exCount, b.hCount);
        return;
      }
      this.m.retried.inc(this.l, samples);
      if (b.exCount > 0) this.m.exemplarsRetried.inc(this.l, b.exCount);
      if (b.hCount > 0) this.m.histogramsRetried.inc(this.l, b.hCount);
      const retryAfterMs = res?.retryAfter !== undefined ? parseRetryAfter(res.retryAfter, this.now()) : 0;
      const wait = retryAfterMs > 0 ? retryAfterMs : backoff;
      if (retryAfterMs > 0) this.reshardDisabledUntil = this.now() + retryAfterMs;
      this.logger.warn('Failed to send batch, retrying', { err: msg, retryInMs: wait });
      await this.sleep(wait, this.abort.signal);
      backoff = Math.min(backoff * 2, this.cfg.queueConfig.maxBackoffMs);
    }
  }

  // ---------------------------------------------------------------------
  // metadata
  // ---------------------------------------------------------------------

  /** Remote write 2.0 carries metadata per series, from the WAL, which holds none: only 1.0 sends it. */
  sendsMetadata(): boolean {
    return this.cfg.metadataConfig.send && this.cfg.protobufMessage === 'prometheus.WriteRequest' && this.opts.metadata !== undefined;
  }

  private async runMetadata(): Promise<void> {
    const mc = this.cfg.metadataConfig;
    for (;;) {
      await abortableSleep(mc.sendIntervalMs, this.abort.signal);
      if (this.stopping || this.abort.signal.aborted) return;
      const all = this.opts.metadata?.() ?? [];
      for (let i = 0; i < all.length; i += mc.maxSamplesPerSend) {
        await this.sendMetadata(all.slice(i, i + mc.maxSamplesPerSend));
        if (this.abort.signal.aborted) return;
      }
    }
  }

  /** Sends one metadata request with the samples' retry rules. */
  private async sendMetadata(entries: readonly MetadataEntry[]): Promise<void> {
    const body = snappyCompress(encodeMetadataV1(entries));
    const n = entries.length;
    let backoff = this.cfg.queueConfig.minBackoffMs;
    for (;;) {
      let res: SendResponse | null = null;
      let err: string | null = null;
      try {
        res = await this.opts.send(body, this.headers, this.abort.signal);
      } catch (e) {
        err = e instanceof Error ? e.message : String(e);
      }
      if (this.abort.signal.aborted) return;
      if (res !== null && res.status >= 200 && res.status < 300) {
        this.m.metadata.inc(this.l, n);
        this.m.metadataBytes.inc(this.l, body.length);
        return;
      }
      const status = res?.status ?? 0;
      const msg = err ?? `server returned HTTP status ${status}: ${firstLine(res?.body ?? '')}`;
      if (!(res === null || status >= 500 || (status === 429 && this.cfg.queueConfig.retryOnHttp429))) {
        this.m.metadataFailed.inc(this.l, n);
        this.logger.error('non-recoverable error while sending metadata', { count: n, err: msg });
        return;
      }
      this.m.metadataRetried.inc(this.l, n);
      const retryAfterMs = res?.retryAfter !== undefined ? parseRetryAfter(res.retryAfter, this.now()) : 0;
      await this.sleep(retryAfterMs > 0 ? retryAfterMs : backoff, this.abort.signal);
      backoff = Math.min(backoff * 2, this.cfg.queueConfig.maxBackoffMs);
    }
  }

  // ---------------------------------------------------------------------
  // resharding (Prometheus's calculateDesiredShards)
  // ---------------------------------------------------------------------

  /** Recomputes the shard count from the observed rates; reshards when it changed enough. Public for tests. */
  updateShards(): void {
    if (this.resharding || this.stopping) return;
    const desired = this.desiredShards();
    if (desired === this.numShards) return;
    const intervalMs = this.opts.shardUpdateIntervalMs ?? 10_000;
    if (this.lastSendMs < this.now() - intervalMs) {
      this.logger.warn('Skipping resharding, last successful send was beyond threshold', { lastSendMs: this.lastSendMs });
      return;
    }
    if (this.now() < this.reshardDisabledUntil) return;
    this.logger.info('Remote storage resharding', { from: this.numShards, to: desired });
    void this.reshard(desired);
  }

  private desiredShards(): number {
    this.dataIn.tick();
    this.dataOut.tick();
    this.dataDropped.tick();
    this.dataOutDuration.tick();
    const inRate = this.dataIn.rate();
    const outRate = this.dataOut.rate();
    if (outRate <= 0) return this.numShards;
    const keptRatio = outRate / (this.dataDropped.rate() + outRate);
    const outDuration = this.dataOutDuration.rate();
    const delay = (this.highestRecv - this.highestSent) / 1000;
    const pending = delay * inRate * keptRatio;
    const timePerSample = outDuration / outRate;
    let desired = timePerSample * (inRate * keptRatio + 0.05 * pending);
    this.m.shardsDesired.set(this.l, desired);
    const lower = this.numShards * (1 - SHARD_TOLERANCE);
    const upper = this.numShards * (1 + SHARD_TOLERANCE);
    desired = Math.ceil(desired);
    if (lower <= desired && desired <= upper) return this.numShards;
    let n = desired;
    // Not downsharding while more than ten seconds behind.
    if (n < this.numShards && delay > 10) return this.numShards;
    const q = this.cfg.queueConfig;
    if (n > q.maxShards) n = q.maxShards;
    if (n < q.minShards) n = q.minShards;
    return n;
  }

  /** Lets the current shards send what they hold, then starts n new ones (a series' samples stay in order). */
  private async reshard(n: number): Promise<void> {
    this.resharding = true;
    const old = this.shards;
    for (const sh of old) {
      sh.draining = true;
      sh.wake();
    }
    await Promise.all(old.map((s) => s.loop));
    this.resharding = false;
    // A stop that came meanwhile has already waited for the old shards: start none.
    if (this.stopping) return;
    this.startShards(n);
  }

  // ---------------------------------------------------------------------
  // stopping
  // ---------------------------------------------------------------------

  /**
   * Stops reading the WAL, sends what the shards hold for up to flushDeadlineMs,
   * then abandons the rest (it stays in the WAL: the committed position is before it).
   */
  async stop(flushDeadlineMs: number): Promise<void> {
    if (this.reshardTimer !== null) clearInterval(this.reshardTimer);
    this.stopping = true;
    this.wakeEnqueuers();
    await this.watcher.stop();
    for (const sh of this.shards) {
      sh.draining = true;
      sh.wake();
    }
    const flushed = Promise.all(this.shards.map((s) => s.loop));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((r) => (timer = setTimeout(r, flushDeadlineMs)));
    await Promise.race([flushed, timedOut]);
    clearTimeout(timer);
    this.abort.abort();
    for (const sh of this.shards) sh.wake();
    await flushed;
    await this.metadataLoop;
    this.m.remove(this.name, this.cfg.url);
  }
}

function firstLine(s: string): string {
  const line = s.split('\n', 1)[0] ?? '';
  return line.length > MAX_ERR_MSG ? line.slice(0, MAX_ERR_MSG) : line;
}

/** Retry-After as seconds or an HTTP date; 0 when absent or unreadable. */
export function parseRetryAfter(v: string, nowMs: number): number {
  const s = v.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const d = Date.parse(s);
  return Number.isNaN(d) ? 0 : Math.max(0, d - nowMs);
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
