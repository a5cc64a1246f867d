// Appending to the head: appenders collect samples (struct of arrays, pooled
// buffers) and exemplars, and a commit re-checks them, writes one WAL record
// through the head's WalWriter (and one for the exemplars), then appends to
// the chunk table and the exemplar storage.
import type { Labels } from '../../model/labels.js';
import {
  DuplicateSampleError,
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
    return this.open.has(this.pendMark[slot]!);
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
    if (t <= lastT) {
      if (t < lastT) {
        head.metrics.outOfOrderSamples.inc({ type: 'float' });
        throw new OutOfOrderSampleError();
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

  commit(): void {
    if (this.done) throw new Error('BUG: appender used after commit or rollback');
    this.done = true;
    const head = this.head;
    const st = head.appends;
    try {
      if (this.n === 0 && this.exemplars.length === 0) return;
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
      // i < n <= the buffers' length, and each slot held a live series when appended.
      for (let i = 0; i < this.n; i++) {
        const s = slots[i]!;
        if (refOf[s] !== refs[i]) continue;
        const t = ts[i]!;
        if (t < minValid) {
          oob++;
          continue;
        }
        const prev = pendMark[s] === mark ? ts[pendIdx[s]!]! : lastTs[s]!;
        if (t <= prev) {
          if (t < prev) ooo++;
          continue;
        }
        pendMark[s] = mark;
        pendIdx[s] = i;
        keep[i] = 1;
        kept++;
      }
      if (ooo > 0) head.metrics.outOfOrderSamples.inc({ type: 'float' }, ooo);
      if (oob > 0) head.metrics.outOfBoundSamples.inc({ type: 'float' }, oob);
      // Exemplars of series collected since they were appended are dropped, as their samples are.
      const exemplars = this.exemplars.filter((x) => refOf[x.slot] === x.ref);
      if (st.wal !== null) this.log(st.wal, kept, exemplars);
      const ct = head.chunkTable;
      // i < n: as above.
      for (let i = 0; i < this.n; i++) {
        if (keep[i] === 1) ct.appendSample(slots[i]!, ts[i]!, his[i]!, los[i]!);
      }
      if (kept > 0) {
        head.metrics.samplesAppended.inc({ type: 'float' }, kept);
        st.onCommit?.();
      }
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
      st.returnBuffers(this.b);
    }
  }

  /**
   * Writes one WAL record with the new series (those of the exemplars too)
   * and the kept samples; throws when the write fails.
   */
  private log(wal: WalWriter, kept: number, exemplars: readonly PendingExemplar[]): void {
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
    // The filter in commit() kept only live slots.
    for (const x of exemplars) {
      if (logged[x.slot] !== 1) {
        logged[x.slot] = 1;
        fresh.push(x.slot);
      }
    }
    if (fresh.length === 0 && kept === 0) return;
    const rec = st.records;
    rec.startBatch(fresh.length);
    for (const s of fresh) series.encodeSeries(rec, s);
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
