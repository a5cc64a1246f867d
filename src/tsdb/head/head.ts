// The head: the in-memory block that receives appends. It composes the
// series table (identity, labels, postings), the chunk table (chunk pages
// and per-series writing state), reader epochs (memory reuse and truncation
// wait for older queriers), the appending state with its WAL writer, and the
// head's tombstones. Per-series state lives in typed arrays indexed by a slot
// number (struct of arrays); no JS object exists per series or per sample.
//
// Room tsdb/head: may import gofmt/, model/, logging/, storage/ and the tsdb rooms
// chunkenc, chunks, encoding, fileutil, index, record and tombstones.
import { Labels } from '../../model/labels.js';
import type { Matcher } from '../../model/matcher.js';
import type { Logger } from '../../logging/types.js';
import { nopLogger } from '../../logging/types.js';
import { HeadSeriesLimitError, type Querier } from '../../storage/interface.js';
import { Pacer, sortAsync } from '../fileutil/pacer.js';
import { addInterval } from '../tombstones/tombstones.js';
import { AppendState, ExemplarAppender, HeadAppender, type AppendTarget, type WalWriter } from './appender.js';
import { ChunkPool } from './chunk_pool.js';
import { ChunkTable, type HeadChunk } from './chunk_table.js';
import type { CircularExemplarStorage } from './exemplars.js';
import type { HeadMetrics } from './metrics.js';
import { HeadQuerier, type QueryTarget } from './querier.js';
import { FREE_CHUNK_BYTES, FREE_CHUNK_ENTRY, FREE_SLOT, ReaderEpochs, type Freer } from './readers.js';
import { SeriesTable, validateLabels, type Stat } from './series.js';

export { rangeForTimestamp, type HeadChunk } from './chunk_table.js';
export type { WalWriter } from './appender.js';
export { DuplicateHistogramToFloatError, InvalidHistogramError } from './appender.js';
export type { Stat } from './series.js';

/** Prometheus's default target of samples per chunk. */
const DEFAULT_SAMPLES_PER_CHUNK = 120;
const INITIAL_SLOTS = 1024;
const INITIAL_CHUNKS = 1024;

export interface HeadOptions {
  /** Width (ms) of the aligned ranges chunks never cross: the minimum block duration. */
  chunkRange: number;
  samplesPerChunk?: number;
  metrics: HeadMetrics;
  logger?: Logger;
  /** Where commits and deletions are logged; none (backfill) when absent. */
  wal?: WalWriter | null;
  /** Called after every commit that added samples. */
  onCommit?: () => void;
  /**
   * Most series appenders may create (--storage.tsdb.max-head-series); 0 or
   * absent = no limit. WAL replay is not limited, so lowering the limit never
   * keeps a data directory from opening.
   */
  maxSeries?: number;
  /** Exemplar storage (--enable-feature=exemplar-storage); none when absent. */
  exemplars?: CircularExemplarStorage | null;
}

export interface HeadStatsData {
  numSeries: number;
  numLabelPairs: number;
  chunkCount: number;
  minTime: number;
  maxTime: number;
}

/** The head-series limit and how close the head is to it. */
export interface HeadSeriesLimitStatus {
  /** 0 = no limit. */
  maxSeries: number;
  numSeries: number;
  /** numSeries / maxSeries; 0 without a limit. */
  ratio: number;
}

export interface TSDBStatus {
  headStats: HeadStatsData;
  /** tsprom's addition to Prometheus's answer. */
  headSeriesLimit: HeadSeriesLimitStatus;
  seriesCountByMetricName: Stat[];
  labelValueCountByLabelName: Stat[];
  memoryInBytesByLabelName: Stat[];
  seriesCountByLabelValuePair: Stat[];
}

export class Head implements AppendTarget, QueryTarget, Freer {
  readonly chunkRange: number;
  readonly samplesPerChunk: number;
  readonly metrics: HeadMetrics;
  readonly logger: Logger;

  readonly series: SeriesTable;
  readonly chunks = new ChunkPool();
  readonly chunkTable: ChunkTable;
  readonly readers: ReaderEpochs;
  readonly appends: AppendState;
  /** Deleted intervals of head series, by slot. */
  readonly tombstones = new Map<number, Float64Array>();
  /** No sample older than this is accepted (the end of the newest block). */
  minValidTime = -Infinity;
  /** 0 = no limit. */
  readonly maxSeries: number;
  readonly exemplars: CircularExemplarStorage | null;

  constructor(opts: HeadOptions) {
    this.chunkRange = opts.chunkRange;
    this.samplesPerChunk = opts.samplesPerChunk ?? DEFAULT_SAMPLES_PER_CHUNK;
    this.maxSeries = opts.maxSeries ?? 0;
    this.exemplars = opts.exemplars ?? null;
    this.metrics = opts.metrics;
    this.logger = opts.logger ?? nopLogger;
    this.readers = new ReaderEpochs(this, this.logger);
    this.series = new SeriesTable(INITIAL_SLOTS);
    this.chunkTable = new ChunkTable(this.chunkRange, this.samplesPerChunk, this.chunks, this.readers, this.metrics, INITIAL_SLOTS, INITIAL_CHUNKS);
    this.appends = new AppendState(opts.wal ?? null, opts.onCommit ?? null, INITIAL_SLOTS);
  }

  get numSeries(): number {
    return this.series.numSeries;
  }
  get numChunks(): number {
    return this.chunkTable.numChunks;
  }
  get minTime(): number {
    return this.chunkTable.minTime;
  }
  get maxTime(): number {
    return this.chunkTable.maxTime;
  }
  get openAppenders(): ReadonlySet<number> {
    return this.appends.open;
  }

  // =====================================================================
  // series
  // =====================================================================

  /**
   * Finds or creates the series for an appender; `ref` 0 assigns a fresh ref.
   * Returns the slot. Throws HeadSeriesLimitError when the series is new and
   * the head is at its series limit.
   */
  getOrCreate(ls: Labels, ref = 0): number {
    const found = this.series.slotByLabels(ls);
    if (found >= 0) return found;
    if (this.maxSeries > 0 && this.series.numSeries >= this.maxSeries) {
      this.metrics.headSeriesLimitRejected.inc();
      throw new HeadSeriesLimitError(this.maxSeries);
    }
    return this.newSeries(ls, ref === 0 ? this.series.newRef() : ref);
  }

  /** Validates and stores a series not in the head yet under ref; returns its slot. */
  newSeries(ls: Labels, ref: number): number {
    validateLabels(ls);
    const series = this.series;
    const slot = series.create(ls, ref);
    // The series table grew: grow the other per-slot tables to match.
    if (series.cap !== this.chunkTable.slotCap) {
      this.chunkTable.growSlots(series.cap);
      this.appends.growSlots(series.cap);
    }
    this.chunkTable.initSlot(slot);
    this.appends.initSlot(slot);
    this.metrics.headSeriesCreated.inc();
    return slot;
  }

  /** True while a series with this ref (or alias) is in the head (WAL checkpoints keep its records). */
  hasRef(ref: number): boolean {
    return this.series.slotByRef(ref) >= 0;
  }

  // =====================================================================
  // appending
  // =====================================================================

  /** The oldest timestamp an appender may write now. */
  appendableMinValidTime(): number {
    const maxTime = this.chunkTable.maxTime;
    const cw = maxTime === -Infinity ? -Infinity : maxTime - this.chunkRange / 2;
    return Math.max(cw, this.minValidTime);
  }

  appender(): HeadAppender {
    return this.exemplars !== null ? new ExemplarAppender(this) : new HeadAppender(this);
  }

  // =====================================================================
  // reading
  // =====================================================================

  acquireReader(): number {
    return this.readers.acquire();
  }

  releaseReader(id: number): void {
    this.readers.release(id);
    this.runDeferred();
  }

  /** Forgets readers open for too long so memory can be reused and truncation proceed. */
  expireReaders(now = Date.now()): void {
    this.readers.expire(now);
    this.runDeferred();
  }

  /** Releases deferred frees and runs a deferred truncation once the readers that blocked them are gone. */
  private runDeferred(): void {
    const mint = this.readers.drain();
    if (mint > -Infinity) this.gc(mint);
  }

  /** @internal performs a free the reader epochs released. */
  freeNow(kind: number, a: number, b: number): void {
    if (kind === FREE_CHUNK_BYTES) this.chunks.release(a, b);
    else if (kind === FREE_CHUNK_ENTRY) this.chunkTable.freeEntry(a);
    else if (kind === FREE_SLOT) this.series.freeSlot(a);
    else throw new Error(`BUG: unknown deferred free kind ${kind}`);
  }

  /** True when the series has a chunk overlapping [mint, maxt]. */
  hasChunksIn(slot: number, mint: number, maxt: number): boolean {
    return this.chunkTable.hasChunksIn(slot, mint, maxt);
  }

  /** Copies of the series' chunk bytes in [mint, maxt] (for block writing). */
  chunksForBlock(slot: number, mint: number, maxt: number): HeadChunk[] {
    return this.chunkTable.chunksForBlock(slot, mint, maxt);
  }

  postingsForMatchers(matchers: readonly Matcher[]): Uint32Array {
    return this.series.postingsForMatchers(matchers);
  }

  /** A querier over [mint, maxt]; data before the head's minimum time (already in blocks) is left out. */
  querier(mint: number, maxt: number): Querier {
    return new HeadQuerier(this, Math.max(mint, this.minTime), maxt);
  }

  /** Live slots with data in [mint, maxt], sorted by their label sets (yields while it works). */
  async sortedSeriesIn(mint: number, maxt: number): Promise<{ slot: number; labels: Labels }[]> {
    const pacer = new Pacer();
    const series = this.series;
    const out: { slot: number; labels: Labels; ref: number }[] = [];
    for (let s = 0; s < series.numSlots; s++) {
      // Read refOf afresh after each yield: the array is replaced when the table grows.
      const ref = series.refOf[s]!;
      if (ref !== 0 && this.chunkTable.hasChunksIn(s, mint, maxt)) out.push({ slot: s, labels: series.labelsOf(s), ref });
      if ((s & 1023) === 0) await pacer.maybeYield();
    }
    const sorted = await sortAsync(out, (a, b) => Labels.compare(a.labels, b.labels), pacer);
    // Series collected before a yield may have been collected (garbage) since.
    return sorted.filter((x) => series.refOf[x.slot] === x.ref);
  }

  // =====================================================================
  // deletion, truncation and garbage collection
  // =====================================================================

  /** Marks [mint, maxt] deleted for the given slots and logs the tombstones to the WAL (throws when that fails). */
  deleteRange(slots: Uint32Array, mint: number, maxt: number): void {
    if (slots.length === 0) return;
    for (const s of slots) this.tombstones.set(s, addInterval(this.tombstones.get(s), mint, maxt));
    const wal = this.appends.wal;
    if (wal === null) return;
    const rec = this.appends.records;
    const refOf = this.series.refOf;
    rec.startTombstones(slots.length);
    // Postings hold live slots, below the table's capacity.
    for (const s of slots) rec.tombstone(refOf[s]!, mint, maxt);
    try {
      wal.log(rec.bytes());
    } finally {
      rec.release();
    }
  }

  /** True when the head spans enough time to cut a block out of it (1.5 chunk ranges). */
  compactable(): boolean {
    const { minTime, maxTime } = this.chunkTable;
    return Number.isFinite(minTime) && Number.isFinite(maxTime) && maxTime - minTime > (this.chunkRange / 2) * 3;
  }

  /**
   * Drops all data older than mint. New samples and queries stop seeing that
   * range at once; the memory is reclaimed (gc) when the queriers that were
   * open at this moment have closed, so they keep reading what they saw, as
   * Prometheus waits for pending readers before truncating.
   */
  truncate(mint: number): void {
    this.metrics.headTruncations.inc();
    if (mint > this.minValidTime) this.minValidTime = mint;
    if (this.chunkTable.minTime < mint) this.chunkTable.minTime = mint;
    this.readers.deferTruncation(mint);
    this.expireReaders();
  }

  /**
   * Garbage collection: frees chunks that end before mint, then series left
   * without chunks (unless an open appender holds them), their postings and
   * unused symbols.
   */
  private gc(mint: number): void {
    const start = performance.now();
    const series = this.series;
    const ct = this.chunkTable;
    const n = series.numSlots;
    const dead = new Uint8Array(n);
    let removedSeries = 0;
    let removedChunks = 0;
    for (let s = 0; s < n; s++) {
      if (series.refOf[s] === 0) continue;
      removedChunks += ct.dropBefore(s, mint);
      const tomb = this.tombstones.get(s);
      if (tomb !== undefined) {
        const kept: number[] = [];
        // i + 1 < tomb.length: intervals are stored as pairs.
        for (let i = 0; i < tomb.length; i += 2) if (tomb[i + 1]! >= mint) kept.push(tomb[i]!, tomb[i + 1]!);
        if (kept.length === 0) this.tombstones.delete(s);
        else if (kept.length !== tomb.length) this.tombstones.set(s, Float64Array.from(kept));
      }
      if (ct.isEmpty(s) && !this.appends.isPending(s)) {
        this.removeSeries(s);
        dead[s] = 1;
        removedSeries++;
      }
    }
    if (removedSeries > 0) series.prunePostings(dead);
    this.metrics.chunksRemoved.inc(removedChunks);
    this.metrics.headSeriesRemoved.inc(removedSeries);
    if (series.numSeries === 0) {
      ct.minTime = Infinity;
      ct.maxTime = -Infinity;
    }
    this.metrics.headGCDuration.observe((performance.now() - start) / 1000);
  }

  private removeSeries(s: number): void {
    this.series.remove(s);
    this.chunkTable.lastT[s] = -Infinity;
    this.tombstones.delete(s);
    this.readers.free(FREE_SLOT, s, 0);
  }

  // =====================================================================
  // statistics
  // =====================================================================

  stats(limit: number): TSDBStatus {
    const ls = this.series.labelStats(limit);
    const { minTime, maxTime } = this.chunkTable;
    return {
      headStats: {
        numSeries: this.series.numSeries,
        numLabelPairs: ls.numLabelPairs,
        chunkCount: this.chunkTable.numChunks,
        minTime: Number.isFinite(minTime) ? minTime : 0,
        maxTime: Number.isFinite(maxTime) ? maxTime : 0,
      },
      headSeriesLimit: {
        maxSeries: this.maxSeries,
        numSeries: this.series.numSeries,
        ratio: this.maxSeries > 0 ? this.series.numSeries / this.maxSeries : 0,
      },
      seriesCountByMetricName: ls.seriesCountByMetricName,
      labelValueCountByLabelName: ls.labelValueCountByLabelName,
      memoryInBytesByLabelName: ls.memoryInBytesByLabelName,
      seriesCountByLabelValuePair: ls.seriesCountByLabelValuePair,
    };
  }

  /** Bytes of typed-array bookkeeping (not chunk data), for diagnostics. */
  metadataBytes(): number {
    const a = this.appends;
    return this.series.metadataBytes() + this.chunkTable.metadataBytes() + a.pendMark.byteLength + a.pendIdx.byteLength + a.logged.byteLength;
  }
}
