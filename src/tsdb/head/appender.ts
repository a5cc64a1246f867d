// Appending to the head: appenders collect samples (struct of arrays, pooled
// buffers) and exemplars, and a commit re-checks them, writes one WAL record
// through the head's WalWriter (and one for the exemplars), then appends to
// the chunk table and the exemplar storage. Native histogram samples are few
// per scrape next to floats: they wait in a plain list and go into the same
// WAL record (a batch with histograms), after the floats of the commit.
import { formatG } from '../../gofmt/float.js';
import { FloatHistogram, Histogram, HistogramError } from '../../model/histogram.js';
import type { Labels } from '../../model/labels.js';
import { isStaleNaN, STALE_NAN } from '../../model/value.js';
import {
  DuplicateSampleError,
  StorageError,
  OutOfBoundsError,
  OutOfOrderExemplarError,
  OutOfOrderSampleError,
  UnknownSeriesError,
  type Appender,
  type Exemplar,
  type SeriesRef,
} from '../../storage/interface.js';
import { bitsHi, bitsLo, joinFloat, splitFloat } from '../chunkenc/float_bits.js';
import { RecordEncoder } from '../record/record.js';
import type { ChunkTable } from './chunk_table.js';
import { ExemplarCheck, type CircularExemplarStorage } from './exemplars.js';
import { NONE, growF64, growI32, growU32, growU8 } from './grow.js';
import type { HeadMetrics } from './metrics.js';
import type { SeriesTable } from './series.js';

/**
 * Where the head writes its WAL records. log() writes one record
 * synchronously: when it returns the record is durable as far as the WAL
 * promises; it throws when the write fails or the writer is closed, and the
 * commit then fails.
 */
export interface WalWriter {
  log(rec: Uint8Array): void;
}

/** A histogram sample the head refuses as invalid; the message is Prometheus's validation text. */
export class InvalidHistogramError extends StorageError {
  override name = 'InvalidHistogramError';
  constructor(readonly histogramError: HistogramError) {
    super(histogramError.message);
  }
}

/** A float at the time of the series' newest sample, which is a histogram (Prometheus's text). */
export class DuplicateHistogramToFloatError extends DuplicateSampleError {
  override name = 'DuplicateHistogramToFloatError';
  constructor(t: number, newValue: number) {
    super();
    this.message = `duplicate sample for timestamp ${t}; overrides not allowed: existing is a histogram, new value ${formatG(newValue)}`;
  }
}

/** WAL record buffer: 64 KiB holds a typical scrape's batch without regrowing. */
const REC_BUF_INITIAL = 1 << 16;
/**
 * The record buffer is cut back to this size after a larger record (a burst of
 * new series, a huge remote-write request), so one burst does not pin its size
 * for the life of the process. 4 MiB holds the largest pooled batch (64 Ki
 * samples) with room for its new series.
 */
const REC_BUF_RETAINED = 4 << 20;
/** Largest timestamp magnitude accepted: zigzag varints stay exact below 2^52. */
const MAX_ABS_TIMESTAMP = 2 ** 52;
/** Initial pending capacity; scrapes of a few hundred samples never regrow. */
const PENDING_INITIAL = 256;
/** Buffer sets kept for reuse: one per concurrently open appender in the common case. */
const MAX_POOLED_BUFFERS = 16;
/** Buffers larger than this (a huge batch) are not kept, so one burst does not pin memory. */
const MAX_POOLED_CAPACITY = 1 << 16;

/** An appender's pending samples, struct of arrays; pooled by the head to avoid garbage per commit. */
export class PendingBuffers {
  slots = new Uint32Array(PENDING_INITIAL);
  refs = new Float64Array(PENDING_INITIAL);
  ts = new Float64Array(PENDING_INITIAL);
  his = new Uint32Array(PENDING_INITIAL);
  los = new Uint32Array(PENDING_INITIAL);
  keep = new Uint8Array(PENDING_INITIAL);

  grow(): void {
    const n = this.slots.length * 2;
    this.slots = growU32(this.slots, n);
    this.refs = growF64(this.refs, n);
    this.ts = growF64(this.ts, n);
    this.his = growU32(this.his, n);
    this.los = growU32(this.los, n);
    this.keep = new Uint8Array(n);
  }
}

/**
 * The head's appending state: per-slot marks of pending samples and of
 * series already in the WAL, open appenders, pooled buffers, the WAL writer
 * and the one record encoder every head WAL record is written with.
 */
export class AppendState {
  /** Appender (or commit pass) that last touched the slot, and the index of its pending sample. */
  pendMark = new Uint32Array(0);
  pendIdx = new Int32Array(0);
  /** 1 once the series record is in the WAL. */
  logged = new Uint8Array(0);
  slotCap = 0;
  private nextMark = 1;
  readonly open = new Set<number>();
  /** Series with a histogram pending in an appender, and that appender (pendMark is for float samples). */
  readonly histHolds = new Map<number, number>();
  private readonly bufferPool: PendingBuffers[] = [];
  readonly records = new RecordEncoder(REC_BUF_INITIAL, REC_BUF_RETAINED);

  constructor(
    /** null when the head has no WAL (backfill). */
    readonly wal: WalWriter | null,
    /** Called after every commit that added samples. */
    readonly onCommit: (() => void) | null,
    initialSlots: number,
  ) {
    this.growSlots(initialSlots);
  }

  growSlots(n: number): void {
    this.pendMark = growU32(this.pendMark, n);
    this.pendIdx = growI32(this.pendIdx, n);
    this.logged = growU8(this.logged, n);
    this.slotCap = n;
  }

  initSlot(slot: number): void {
    this.pendMark[slot] = 0;
    this.logged[slot] = 0;
  }

  /** A fresh mark for an appender or a commit pass. */
  newMark(): number {
    return this.nextMark++;
  }

  takeBuffers(): PendingBuffers {
    return this.bufferPool.pop() ?? new PendingBuffers();
  }

  returnBuffers(b: PendingBuffers): void {
    if (this.bufferPool.length < MAX_POOLED_BUFFERS && b.slots.length <= MAX_POOLED_CAPACITY) this.bufferPool.push(b);
  }

  /** True while the appender that last touched the slot is open (its series must not be collected). */
  isPending(slot: number): boolean {
    if (this.open.has(this.pendMark[slot]!)) return true;
    const h = this.histHolds.get(slot);
    return h !== undefined && this.open.has(h);
  }

  /** Forgets the histogram holds of an appender that ended. */
  releaseHolds(id: number, slots: Iterable<number>): void {
    for (const s of slots) if (this.histHolds.get(s) === id) this.histHolds.delete(s);
  }
}

/** What an appender needs of the head (the Head provides it). */
export interface AppendTarget {
  readonly series: SeriesTable;
  readonly chunkTable: ChunkTable;
  readonly appends: AppendState;
  readonly metrics: HeadMetrics;
  /** Where exemplars go; null when exemplar storage is off. */
  readonly exemplars: CircularExemplarStorage | null;
  /** Finds or creates the series; returns its slot. */
  getOrCreate(ls: Labels): number;
  /** The oldest timestamp an appender may write now. */
  appendableMinValidTime(): number;
}

/** A histogram sample waiting for its appender's commit (exactly one of h and fh). */
interface PendingHistogram {
  readonly slot: number;
  readonly ref: number;
  readonly t: number;
  /** Float samples the appender held when this one came. */
  readonly seq: number;
  readonly h: Histogram | null;
  readonly fh: FloatHistogram | null;
}

const STALE_HISTOGRAM = new Histogram({ sum: STALE_NAN });
const STALE_FLOAT_HISTOGRAM = new FloatHistogram({ sum: STALE_NAN });

/** An exemplar waiting for its appender's commit; exemplars are few (one per sample at most), so one object each. */
interface PendingExemplar {
  readonly slot: number;
  readonly ref: number;
  readonly series: Labels;
  readonly e: Exemplar;
}

export class HeadAppender implements Appender {
  private b: PendingBuffers;
  private n = 0;
  /** Pending exemplars (only an ExemplarAppender adds any). */
  protected exemplars: PendingExemplar[] = [];
  /** Pending histogram samples, and the index of each series' newest one. */
  private hists: PendingHistogram[] = [];
  private readonly histBySlot = new Map<number, number>();
  protected done = false;
  private readonly minValid: number;
  private readonly id: number;

  constructor(protected readonly head: AppendTarget) {
    this.id = head.appends.newMark();
    head.appends.open.add(this.id);
    this.minValid = head.appendableMinValidTime();
    this.b = head.appends.takeBuffers();
  }

  append(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef {
    if (this.done) throw new Error('BUG: appender used after commit or rollback');
    const head = this.head;
    if (!(t >= this.minValid) || !Number.isInteger(t) || Math.abs(t) > MAX_ABS_TIMESTAMP) {
      head.metrics.outOfBoundSamples.inc({ type: 'float' });
      throw new OutOfBoundsError();
    }
    let slot = ref !== 0 ? head.series.slotByRef(ref) : NONE;
    if (slot < 0) slot = head.getOrCreate(labels);
    return this.appendAt(slot, t, v);
  }

  appendByRef(ref: SeriesRef, t: number, v: number): SeriesRef {
    if (this.done) throw new Error('BUG: appender used after commit or rollback');
    const head = this.head;
    if (!(t >= this.minValid) || !Number.isInteger(t) || Math.abs(t) > MAX_ABS_TIMESTAMP) {
      head.metrics.outOfBoundSamples.inc({ type: 'float' });
      throw new OutOfBoundsError();
    }
    const slot = ref !== 0 ? head.series.slotByRef(ref) : NONE;
    return slot < 0 ? 0 : this.appendAt(slot, t, v);
  }

  /** append() once the series' slot is known (bounds already checked). */
  private appendAt(slot: number, t: number, v: number): SeriesRef {
    const head = this.head;
    if (isStaleNaN(v)) {
      // A staleness marker for a histogram series is a histogram with a StaleNaN sum, as Prometheus writes it.
      const last = this.newestHistogram(slot);
      if (last !== null) return this.appendHistogramAt(slot, t, last instanceof Histogram ? STALE_HISTOGRAM : null, last instanceof FloatHistogram ? STALE_FLOAT_HISTOGRAM : null);
    }
    splitFloat(v);
    const hi = bitsHi();
    const lo = bitsLo();
    // The slot is live, so it is below the capacity of every per-slot array.
    const st = head.appends;
    const ct = head.chunkTable;
    let lastT: number;
    let lhi: number;
    let llo: number;
    if (st.pendMark[slot] === this.id) {
      const i = st.pendIdx[slot]!;
      lastT = this.b.ts[i]!;
      lhi = this.b.his[i]!;
      llo = this.b.los[i]!;
    } else {
      lastT = ct.lastT[slot]!;
      lhi = ct.vhi[slot]!;
      llo = ct.vlo[slot]!;
    }
    const sref = head.series.refOf[slot]!;
    // After a histogram, the float compares with the histogram's time (any value at that time is a duplicate).
    // Float-only appenders on float series skip the map lookup.
    const pendH = this.hists.length > 0 ? this.histBySlot.get(slot) : undefined;
    const histT = pendH !== undefined ? this.hists[pendH]!.t : ct.histogramIsNewest(slot) ? ct.lastT[slot]! : -Infinity;
    const afterHist = histT >= lastT;
    if (afterHist) lastT = histT;
    if (t <= lastT) {
      if (t < lastT) {
        head.metrics.outOfOrderSamples.inc({ type: 'float' });
        throw new OutOfOrderSampleError();
      }
      if (afterHist) {
        head.metrics.duplicateSamples.inc({ type: 'float' });
        throw new DuplicateHistogramToFloatError(t, v);
      }
      // Exact duplicates are accepted and dropped (federation sends them legitimately).
      if (hi === lhi && lo === llo) return sref;
      head.metrics.duplicateSamples.inc({ type: 'float' });
      throw new DuplicateSampleError({ timestamp: t, existing: joinFloat(lhi, llo), newValue: v });
    }
    const b = this.b;
    if (this.n === b.slots.length) b.grow();
    const i = this.n++;
    b.slots[i] = slot;
    b.refs[i] = sref;
    b.ts[i] = t;
    b.his[i] = hi;
    b.los[i] = lo;
    st.pendMark[slot] = this.id;
    st.pendIdx[slot] = i;
    return sref;
  }

  /** The series' newest sample when it is a histogram (pending in this appender or committed), else null. */
  private newestHistogram(slot: number): Histogram | FloatHistogram | null {
    const st = this.head.appends;
    const ct = this.head.chunkTable;
    const floatT = st.pendMark[slot] === this.id ? this.b.ts[st.pendIdx[slot]!]! : -Infinity;
    const pendH = this.histBySlot.get(slot);
    if (pendH !== undefined) {
      const p = this.hists[pendH]!;
      return p.t > floatT ? (p.h ?? p.fh) : null;
    }
    if (floatT > -Infinity) return null;
    return ct.lastHist.get(slot) ?? null;
  }

  appendHistogram(ref: SeriesRef, labels: Labels, t: number, h: Histogram | null, fh: FloatHistogram | null): SeriesRef {
    if (this.done) throw new Error('BUG: appender used after commit or rollback');
    if ((h === null) === (fh === null)) throw new Error('BUG: appendHistogram needs exactly one of h and fh');
    const head = this.head;
    if (!(t >= this.minValid) || !Number.isInteger(t) || Math.abs(t) > MAX_ABS_TIMESTAMP) {
      head.metrics.outOfBoundSamples.inc({ type: 'histogram' });
      throw new OutOfBoundsError();
    }
    try {
      (h ?? fh)!.validate();
    } catch (e) {
      if (e instanceof HistogramError) throw new InvalidHistogramError(e);
      throw e;
    }
    let slot = ref !== 0 ? head.series.slotByRef(ref) : NONE;
    if (slot < 0) slot = head.getOrCreate(labels);
    return this.appendHistogramAt(slot, t, h, fh);
  }

  /** Order and duplicate checks of a histogram sample against the series' newest sample, then queues it. */
  private appendHistogramAt(slot: number, t: number, h: Histogram | null, fh: FloatHistogram | null): SeriesRef {
    const head = this.head;
    const st = head.appends;
    const ct = head.chunkTable;
    const sref = head.series.refOf[slot]!;
    let lastT = ct.lastT[slot]!;
    let last: Histogram | FloatHistogram | null = ct.lastHist.get(slot) ?? null;
    if (st.pendMark[slot] === this.id) {
      const ft = this.b.ts[st.pendIdx[slot]!]!;
      if (ft >= lastT) {
        lastT = ft;
        last = null;
      }
    }
    const pendH = this.histBySlot.get(slot);
    if (pendH !== undefined) {
      const p = this.hists[pendH]!;
      if (p.t >= lastT) {
        lastT = p.t;
        last = p.h ?? p.fh;
      }
    }
    if (t <= lastT) {
      if (t < lastT) {
        head.metrics.outOfOrderSamples.inc({ type: 'histogram' });
        throw new OutOfOrderSampleError();
      }
      // An equal histogram at the same time is a harmless repeat, as for floats.
      if (h !== null && last instanceof Histogram && last.equals(h)) return sref;
      if (fh !== null && last instanceof FloatHistogram && last.equals(fh)) return sref;
      head.metrics.duplicateSamples.inc({ type: 'histogram' });
      throw new DuplicateSampleError();
    }
    this.histBySlot.set(slot, this.hists.length);
    this.hists.push({ slot, ref: sref, t, seq: this.n, h, fh });
    st.histHolds.set(slot, this.id);
    return sref;
  }

  commit(): void {
    if (this.done) throw new Error('BUG: appender used after commit or rollback');
    this.done = true;
    const head = this.head;
    const st = head.appends;
    try {
      if (this.n === 0 && this.exemplars.length === 0 && this.hists.length === 0) return;
      // Re-check order against what other appenders committed meanwhile, and
      // that the series still exists (garbage collection may have run).
      const { slots, refs, ts, his, los, keep } = this.b;
      keep.fill(0, 0, this.n);
      const mark = st.newMark();
      // The bound as of now: samples must not land in a range being compacted.
      const minValid = head.appendableMinValidTime();
      // No series is created below, so the per-slot arrays stay the same objects.
      const refOf = head.series.refOf;
      const lastTs = head.chunkTable.lastT;
      const pendMark = st.pendMark;
      const pendIdx = st.pendIdx;
      let kept = 0;
      let ooo = 0;
      let oob = 0;
      // Histograms are checked where they were appended among the floats (a
      // series may switch type inside one appender), against the newest kept
      // sample of either type; each kept one records how many kept floats precede it.
      const hs = this.hists;
      const keptHists: PendingHistogram[] = [];
      const keptSeq: number[] = [];
      const newestHist = new Map<number, number>();
      let hooo = 0;
      let hoob = 0;
      let hi = 0;
      const checkHist = (p: PendingHistogram): void => {
        const s = p.slot;
        if (refOf[s] !== p.ref) return;
        if (p.t < minValid) {
          hoob++;
          return;
        }
        let prev = pendMark[s] === mark ? ts[pendIdx[s]!]! : lastTs[s]!;
        const nh = newestHist.get(s);
        if (nh !== undefined && nh > prev) prev = nh;
        if (p.t <= prev) {
          if (p.t < prev) hooo++;
          return;
        }
        newestHist.set(s, p.t);
        keptHists.push(p);
        keptSeq.push(kept);
      };
      // i < n <= the buffers' length, and each slot held a live series when appended.
      for (let i = 0; i < this.n; i++) {
        // hi < hs.length.
        while (hi < hs.length && hs[hi]!.seq <= i) checkHist(hs[hi++]!);
        const s = slots[i]!;
        if (refOf[s] !== refs[i]) continue;
        const t = ts[i]!;
        if (t < minValid) {
          oob++;
          continue;
        }
        let prev = pendMark[s] === mark ? ts[pendIdx[s]!]! : lastTs[s]!;
        if (newestHist.size > 0) {
          const nh = newestHist.get(s);
          if (nh !== undefined && nh > prev) prev = nh;
        }
        if (t <= prev) {
          if (t < prev) ooo++;
          continue;
        }
        pendMark[s] = mark;
        pendIdx[s] = i;
        keep[i] = 1;
        kept++;
      }
      while (hi < hs.length) checkHist(hs[hi++]!);
      if (ooo > 0) head.metrics.outOfOrderSamples.inc({ type: 'float' }, ooo);
      if (oob > 0) head.metrics.outOfBoundSamples.inc({ type: 'float' }, oob);
      if (hooo > 0) head.metrics.outOfOrderSamples.inc({ type: 'histogram' }, hooo);
      if (hoob > 0) head.metrics.outOfBoundSamples.inc({ type: 'histogram' }, hoob);
      // Exemplars of series collected since they were appended are dropped, as their samples are.
      const exemplars = this.exemplars.filter((x) => refOf[x.slot] === x.ref);
      if (st.wal !== null) this.log(st.wal, kept, keptHists, keptSeq, exemplars);
      const ct = head.chunkTable;
      // i < n: as above; the kept histograms go in among the floats in append order.
      let k = 0;
      let hk = 0;
      for (let i = 0; i < this.n; i++) {
        if (keep[i] !== 1) continue;
        while (hk < keptHists.length && keptSeq[hk]! <= k) {
          const p = keptHists[hk++]!;
          ct.appendHistogram(p.slot, p.t, p.h, p.fh);
        }
        ct.appendSample(slots[i]!, ts[i]!, his[i]!, los[i]!);
        k++;
      }
      while (hk < keptHists.length) {
        const p = keptHists[hk++]!;
        ct.appendHistogram(p.slot, p.t, p.h, p.fh);
      }
      if (kept > 0) head.metrics.samplesAppended.inc({ type: 'float' }, kept);
      if (keptHists.length > 0) head.metrics.samplesAppended.inc({ type: 'histogram' }, keptHists.length);
      if (kept > 0 || keptHists.length > 0) st.onCommit?.();
      if (exemplars.length > 0 && st.wal !== null) this.logExemplars(st.wal, exemplars);
      const store = head.exemplars;
      if (store !== null) {
        for (const x of exemplars) {
          try {
            store.add(x.series, x.e);
          } catch (err) {
            // Another appender's commit got a newer one in meanwhile: counted by the storage, dropped here.
            if (!(err instanceof OutOfOrderExemplarError)) throw err;
          }
        }
      }
    } finally {
      st.open.delete(this.id);
      st.releaseHolds(this.id, this.histBySlot.keys());
      st.returnBuffers(this.b);
    }
  }

  /**
   * Writes one WAL record with the new series (those of the exemplars too)
   * and the kept samples; throws when the write fails.
   */
  private log(wal: WalWriter, kept: number, hists: readonly PendingHistogram[], seqs: readonly number[], exemplars: readonly PendingExemplar[]): void {
    const head = this.head;
    const st = head.appends;
    const series = head.series;
    const logged = st.logged;
    const refOf = series.refOf;
    const { slots, refs, ts, his, los, keep } = this.b;
    // Series first: every series this batch touches that the WAL has not seen.
    const fresh: number[] = [];
    // i < n: as in commit().
    for (let i = 0; i < this.n; i++) {
      const s = slots[i]!;
      if (refOf[s] === refs[i] && logged[s] !== 1) {
        logged[s] = 1;
        fresh.push(s);
      }
    }
    // The filters in commit() kept only live slots.
    for (const p of hists) {
      if (logged[p.slot] !== 1) {
        logged[p.slot] = 1;
        fresh.push(p.slot);
      }
    }
    for (const x of exemplars) {
      if (logged[x.slot] !== 1) {
        logged[x.slot] = 1;
        fresh.push(x.slot);
      }
    }
    if (fresh.length === 0 && kept === 0 && hists.length === 0) return;
    const rec = st.records;
    rec.startBatch(fresh.length, hists.length > 0);
    for (const s of fresh) series.encodeSeries(rec, s);
    if (hists.length > 0) {
      rec.histograms(hists.length);
      // seqs[j] pairs with hists[j].
      for (let j = 0; j < hists.length; j++) {
        const p = hists[j]!;
        rec.histogram(p.ref, p.t, p.h, p.fh, seqs[j]!);
      }
    }
    rec.samples(kept);
    for (let i = 0; i < this.n; i++) {
      if (keep[i] === 1) rec.sample(refs[i]!, ts[i]!, his[i]!, los[i]!);
    }
    try {
      wal.log(rec.bytes());
    } catch (err) {
      // The series were not logged after all.
      for (const s of fresh) if (refOf[s] !== 0) logged[s] = 0;
      throw err;
    } finally {
      // The WAL writes synchronously, so the bytes are no longer needed here.
      rec.release();
    }
  }

  /**
   * Writes the exemplar record after the batch record. When that fails the
   * samples are already durable and go in; the exemplars are dropped and the
   * commit fails, so a sender retries (its samples then repeat harmlessly).
   */
  private logExemplars(wal: WalWriter, exemplars: readonly PendingExemplar[]): void {
    const rec = this.head.appends.records;
    rec.startExemplars(exemplars.length);
    for (const x of exemplars) rec.exemplar(x.ref, x.e.ts, x.e.value, x.e.labels);
    try {
      wal.log(rec.bytes());
    } finally {
      rec.release();
    }
  }

  rollback(): void {
    if (this.done) return;
    this.done = true;
    this.n = 0;
    this.exemplars = [];
    this.head.appends.open.delete(this.id);
    this.head.appends.releaseHolds(this.id, this.histBySlot.keys());
    this.hists = [];
    this.head.appends.returnBuffers(this.b);
  }
}

/**
 * The appender of a head with exemplar storage. Heads without it hand out
 * plain HeadAppenders, which have no appendExemplar, so callers (the scrape
 * loop) skip reading exemplars at all.
 */
export class ExemplarAppender extends HeadAppender {
  /** The newest pending exemplar by slot. */
  private readonly pendingExemplar = new Map<number, PendingExemplar>();

  appendExemplar(ref: SeriesRef, labels: Labels, e: Exemplar): SeriesRef {
    if (this.done) throw new Error('BUG: appender used after commit or rollback');
    const head = this.head;
    // Set whenever this class is used (Head.appender()).
    const store = head.exemplars!;
    let slot = ref !== 0 ? head.series.slotByRef(ref) : NONE;
    if (slot < 0) slot = head.series.slotByLabels(labels);
    if (slot < 0) throw new UnknownSeriesError(`unknown HeadSeriesRef when trying to add exemplar: ${ref}`);
    // Checked against this appender's newest exemplar of the series too, so a request's own disorder is refused here.
    const pending = this.pendingExemplar.get(slot);
    const series = pending?.series ?? head.series.labelsOf(slot);
    // Throws for too long labels and out-of-order exemplars; repeats and a size-0 storage are ignored.
    if (store.validate(series, e, false, pending?.e ?? null) !== ExemplarCheck.Ok) return 0;
    // The slot is live, so within refOf.
    const sref = head.series.refOf[slot]!;
    const x = { slot, ref: sref, series, e };
    this.exemplars.push(x);
    this.pendingExemplar.set(slot, x);
    return sref;
  }
}
