// Room tsdb (the top of the TSDB: db, blocks, compaction, merged querying,
// metrics): may import gofmt/, model/, logging/, storage/ and every tsdb/* room below it.
//
// The database: a head with its WAL plus persisted blocks in one directory.
//
//   <dir>/lock                    owner PID (one process per directory)
//   <dir>/wal/00000000 ...        WAL segments, checkpoint.NNNNNNNN/
//   <dir>/<ULID>/                 blocks (meta.json, index, chunks/, tombstones)
//
// Background maintenance (head compaction, block compaction, retention) runs
// on a timer and when the head becomes compactable; it yields to the event
// loop while it works. Tests can run it directly with compact().
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import type { Matcher } from '../model/matcher.js';
import type { Logger } from '../logging/types.js';
import { nopLogger } from '../logging/types.js';
import type { Appender, ExemplarQuerier, Querier, Storage } from '../storage/interface.js';
import { Block, type BlockDesc, type BlockMeta, readMeta, writeMeta } from './block.js';
import {
  TMP_CREATION_SUFFIX,
  TMP_DELETION_SUFFIX,
  blockSource,
  exponentialRanges,
  headSource,
  planCompaction,
  writeBlock,
} from './compact.js';
import { Pacer } from './fileutil/pacer.js';
import { Head, rangeForTimestamp, type TSDBStatus } from './head/head.js';
import { HeadReplayer } from './head/replay.js';
import { CircularExemplarStorage, ExemplarMetrics } from './head/exemplars.js';
import { acquireLock, type DirLock } from './fileutil/lock.js';
import { TSDBMetrics } from './metrics.js';
import { MergeQuerier } from './querier.js';
import { isULID } from './ulid.js';
import { checkpointSegments, createCheckpoint, deleteCheckpoints, lastCheckpoint } from './wal/checkpoint.js';
import { decodeRecord, type RecordHandler } from './record/record.js';
import { DEFAULT_SEGMENT_SIZE, SegmentReader, WAL, listSegments, repairSegments, segmentName, type WALCompression } from './wal/wal.js';
import { lastTruncatableSegment, type WalRetention } from './wal/retention.js';

export type { TSDBStatus } from './head/head.js';
export type { BlockMeta } from './block.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Prometheus's defaults: retention, the head block's width, and the cap on compacted blocks (31d, a tenth of retention otherwise). */
const DEFAULT_RETENTION = 15 * DAY;
const DEFAULT_MIN_BLOCK = 2 * HOUR;
const MAX_BLOCK_CAP = 31 * DAY;
/** Prometheus runs its compaction/retention loop once a minute. */
const DEFAULT_MAINTENANCE_INTERVAL = 60_000;
/** Replay yields to the event loop after this long so the status endpoint can report progress. */
const REPLAY_YIELD_MS = 50;

export interface DBOptions {
  retentionTimeMs?: number;
  retentionSizeBytes?: number;
  minBlockDurationMs?: number;
  maxBlockDurationMs?: number;
  walSegmentSizeBytes?: number;
  /** How WAL records are stored (--storage.tsdb.wal-compression[-type]); default snappy. */
  walCompression?: WALCompression;
  registry?: Registry;
  logger?: Logger;
  onReplayProgress?: (s: { min: number; max: number; current: number }) => void;
  /** How often background maintenance runs (ms); 0 turns the timer off (tests call compact()). */
  maintenanceIntervalMs?: number;
  /** Compact as soon as the head becomes compactable after a commit (default true). */
  compactOnCommit?: boolean;
  /** Most series the head takes new samples for (--storage.tsdb.max-head-series); 0 = no limit. */
  maxHeadSeries?: number;
  /** Readers tailing the WAL (remote write): WAL truncation keeps the segments they still need. */
  walRetention?: WalRetention;
  /**
   * Exemplar storage (--enable-feature=exemplar-storage) with this many
   * exemplars (storage.exemplars.max_exemplars; 0 stores none until resized);
   * absent = off: exemplars are not stored and exemplar records not replayed.
   */
  maxExemplars?: number;
}

/** Serialises background jobs (compaction, retention, tombstone cleanup, snapshots). */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const res = this.tail.then(fn);
    this.tail = res.then(
      () => undefined,
      () => undefined,
    );
    return res;
  }
}

export async function openDB(dir: string, opts: DBOptions = {}): Promise<DB> {
  fs.mkdirSync(dir, { recursive: true });
  const lock = acquireLock(dir);
  try {
    const db = new DB(dir, opts, lock);
    await db.init();
    return db;
  } catch (e) {
    lock.release();
    throw e;
  }
}

export class DB implements Storage {
  readonly dir: string;
  readonly head: Head;
  readonly metrics: TSDBMetrics;
  private readonly logger: Logger;
  private readonly registry: Registry;
  private readonly retentionTime: number;
  private readonly retentionSize: number;
  private readonly minBlock: number;
  private readonly ranges: number[];
  private readonly segmentSize: number;
  private readonly wal: WAL;
  /** Size 0 and never appended to when exemplar storage is off (its metrics exist all the same, as in Prometheus). */
  private readonly exemplars: CircularExemplarStorage;
  private readonly exemplarMetrics: ExemplarMetrics;
  private loaded: Block[] = [];
  private readonly mutex = new Mutex();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private compactScheduled = false;
  private replay = { min: 0, max: 0, current: 0 };

  /** @internal use openDB */
  constructor(
    dir: string,
    private readonly opts: DBOptions,
    private readonly lock: DirLock,
  ) {
    this.dir = dir;
    this.logger = (opts.logger ?? nopLogger).with({ component: 'tsdb' });
    this.registry = opts.registry ?? new Registry();
    this.retentionTime = opts.retentionTimeMs ?? DEFAULT_RETENTION;
    this.retentionSize = opts.retentionSizeBytes ?? 0;
    this.minBlock = opts.minBlockDurationMs ?? DEFAULT_MIN_BLOCK;
    const maxBlock = Math.max(this.minBlock, opts.maxBlockDurationMs ?? Math.min(this.retentionTime / 10, MAX_BLOCK_CAP));
    // Prometheus: ranges grow 3x per level, up to the maximum block duration.
    this.ranges = exponentialRanges(this.minBlock, 10, 3).filter((r, i) => i === 0 || r <= maxBlock);
    this.segmentSize = opts.walSegmentSizeBytes ?? DEFAULT_SEGMENT_SIZE;
    this.metrics = new TSDBMetrics(this.registry, {
      headSeries: () => this.head.numSeries,
      headChunks: () => this.head.numChunks,
      headMinTime: () => this.head.minTime,
      headMaxTime: () => this.head.maxTime,
      headChunkBytes: () => this.head.chunks.usedBytes + this.head.chunkTable.histBytes,
      symbolTableBytes: () => this.loaded.reduce((n, b) => n + b.index.symbolBytes(), 0),
      activeAppenders: () => this.head.openAppenders.size,
      blocksLoaded: () => this.loaded.length,
      blocksBytes: () => this.blocksBytes(),
      lowestTimestamp: () => this.startTime(),
      // -1 until writing starts (after replay); the gauge shows 0 then.
      walSegmentCurrent: () => Math.max(this.wal.currentSegment(), 0),
      walStorageBytes: () => this.wal.sizeBytes(),
      retentionLimitBytes: () => this.retentionSize,
      headSeriesLimit: () => this.head.maxSeries,
      walReplayStatus: () => this.walReplayStatus(),
    });
    this.wal = new WAL(path.join(dir, 'wal'), { segmentSize: this.segmentSize, compression: opts.walCompression, logger: this.logger, metrics: this.metrics });
    this.exemplarMetrics = new ExemplarMetrics(this.registry, () => {
      const ex = this.exemplars;
      return { inStorage: ex.size, series: ex.numSeries, oldestTs: ex.oldestTs(), max: ex.capacity };
    });
    this.exemplars = new CircularExemplarStorage(opts.maxExemplars ?? 0, this.exemplarMetrics);
    this.head = new Head({
      chunkRange: this.minBlock,
      metrics: this.metrics,
      logger: this.logger,
      // Nothing is logged before init() has replayed the WAL and started writing: no appender exists yet.
      wal: this.wal,
      onCommit: opts.compactOnCommit !== false ? () => this.scheduleCompaction() : undefined,
      maxSeries: opts.maxHeadSeries ?? 0,
      exemplars: opts.maxExemplars !== undefined ? this.exemplars : null,
    });
  }

  // =====================================================================
  // opening
  // =====================================================================

  /** @internal */
  async init(): Promise<void> {
    this.removeTmpDirs();
    this.loadBlocksFromDisk();
    const newest = this.loaded.at(-1);
    if (newest !== undefined) this.head.minValidTime = newest.maxTime;
    const t0 = performance.now();
    await this.replayWAL(this.wal.dir);
    this.metrics.dataReplayDuration.set((performance.now() - t0) / 1000);
    this.wal.startWriting();
    await this.reload();
    const interval = this.opts.maintenanceIntervalMs ?? DEFAULT_MAINTENANCE_INTERVAL;
    if (interval > 0) {
      this.timer = setInterval(() => {
        this.compact().catch((e) => this.logger.error('background maintenance failed', { err: String(e) }));
      }, interval);
      this.timer.unref();
    }
  }

  private removeTmpDirs(): void {
    for (const name of fs.readdirSync(this.dir)) {
      if (name.endsWith(TMP_CREATION_SUFFIX) || name.endsWith(TMP_DELETION_SUFFIX)) {
        fs.rmSync(path.join(this.dir, name), { recursive: true, force: true });
      }
    }
  }

  private blockDirs(): string[] {
    return fs
      .readdirSync(this.dir)
      .filter((n) => isULID(n) && fs.statSync(path.join(this.dir, n)).isDirectory())
      .map((n) => path.join(this.dir, n));
  }

  private loadBlocksFromDisk(): void {
    for (const d of this.blockDirs()) {
      try {
        this.loaded.push(Block.open(d));
      } catch (e) {
        this.logger.error('cannot open block; leaving it out', { dir: d, err: String(e) });
      }
    }
    this.loaded.sort((a, b) => a.minTime - b.minTime);
  }

  private async replayWAL(walDir: string): Promise<void> {
    const head = this.head;
    const handler = new HeadReplayer(head);
    const pacer = new Pacer(REPLAY_YIELD_MS);
    const pace = (): Promise<void> => pacer.maybeYield();

    const cp = lastCheckpoint(walDir);
    if (cp !== null) {
      const files = checkpointSegments(cp.dir);
      for (const [i, file] of files.entries()) {
        const r = new SegmentReader(fs.readFileSync(file), file);
        await this.readRecords(r, handler, pace);
        if (r.error !== null) {
          // Keep what precedes the damage; later checkpoint files go too.
          fs.truncateSync(file, r.validEnd);
          let dropped = r.segment.length - r.validEnd;
          for (const f of files.slice(i + 1)) {
            dropped += fs.statSync(f).size;
            fs.rmSync(f, { force: true });
          }
          this.reportCorruption(file, r, dropped);
          break;
        }
      }
    }

    const segs = listSegments(walDir).filter((s) => cp === null || s > cp.index);
    const firstSeg = segs[0];
    const lastSeg = segs.at(-1);
    if (firstSeg !== undefined && lastSeg !== undefined) {
      this.replay = { min: firstSeg, max: lastSeg, current: firstSeg };
    }
    for (const s of segs) {
      this.replay.current = s;
      this.opts.onReplayProgress?.({ ...this.replay });
      const file = path.join(walDir, segmentName(s));
      const r = new SegmentReader(fs.readFileSync(file), file);
      await this.readRecords(r, handler, pace);
      if (r.error !== null) {
        const dropped = repairSegments(walDir, s, r.validEnd);
        this.reportCorruption(file, r, dropped);
        break;
      }
    }
    if (handler.unknown > 0) {
      this.metrics.unknownSeriesRefsReplay.inc({ type: 'series' }, handler.unknown);
      this.logger.warn('WAL replay met samples of unknown series; they were dropped', { samples: handler.unknown });
    }
    if (handler.unknownExemplars > 0) {
      this.metrics.unknownSeriesRefsReplay.inc({ type: 'exemplars' }, handler.unknownExemplars);
      this.logger.warn('WAL replay met exemplars of unknown series; they were dropped', { exemplars: handler.unknownExemplars });
    }
    this.logger.info('WAL replay completed', {
      samples: handler.samples,
      ...(this.opts.maxExemplars !== undefined ? { exemplars: handler.exemplars } : {}),
      series: head.numSeries,
      segments: segs.length,
      checkpoint: cp?.index ?? null,
    });
  }

  private async readRecords(r: SegmentReader, h: RecordHandler, pace: () => Promise<void>): Promise<void> {
    while (r.next()) {
      try {
        decodeRecord(r.buf, r.start, r.end, h, r.file);
      } catch (e) {
        r.reject(e instanceof Error ? e.message : String(e));
        return;
      }
      r.accept();
      await pace();
    }
  }

  private reportCorruption(file: string, r: SegmentReader, dropped: number): void {
    this.metrics.walCorruptions.inc();
    this.logger.error('WAL corruption: kept the records before it and dropped the rest', {
      file,
      offset: r.validEnd,
      recordsKept: r.records,
      bytesDropped: dropped,
      err: r.error?.message,
    });
  }

  // =====================================================================
  // Storage
  // =====================================================================

  appender(): Appender {
    if (this.closed) throw new Error('tsdb: database is closed');
    return this.head.appender();
  }

  querier(mint: number, maxt: number): Querier {
    if (this.closed) throw new Error('tsdb: database is closed');
    const qs: Querier[] = [];
    const blocks = this.loaded.filter((b) => b.overlaps(mint, maxt));
    for (const b of blocks) qs.push(b.querier(mint, maxt));
    const h = this.head;
    if (h.numSeries > 0 && maxt >= h.minTime && mint <= h.maxTime) qs.push(h.querier(mint, maxt));
    return new MergeQuerier(qs);
  }

  /** Exemplars by series (query_exemplars); always empty when exemplar storage is off. */
  exemplarQuerier(): ExemplarQuerier {
    if (this.closed) throw new Error('tsdb: database is closed');
    return this.exemplars;
  }

  /**
   * Resizes exemplar storage (storage.exemplars.max_exemplars on reload),
   * keeping the newest exemplars that fit; no-op when it is off.
   */
  resizeExemplars(maxExemplars: number): void {
    const ex = this.exemplars;
    if (this.opts.maxExemplars === undefined || ex.capacity === maxExemplars) return;
    const before = ex.capacity;
    const kept = ex.resize(maxExemplars);
    this.logger.info('Exemplar storage resized', { from: before, to: maxExemplars, migrated: kept });
  }

  startTime(): number {
    const b = this.loaded[0]?.minTime ?? Infinity;
    return Math.min(b, this.head.numSeries > 0 ? this.head.minTime : Infinity);
  }

  // =====================================================================
  // maintenance
  // =====================================================================

  private scheduleCompaction(): void {
    if (this.compactScheduled || this.closed || !this.head.compactable()) return;
    this.compactScheduled = true;
    setImmediate(() => {
      this.compactScheduled = false;
      if (this.closed) return;
      this.compact().catch((e) => this.logger.error('compaction failed', { err: String(e) }));
    });
  }

  /** Applies time and size retention now, without compacting (the disk guard calls it when space runs low). */
  applyRetention(): Promise<void> {
    return this.mutex.run(async () => {
      if (!this.closed) await this.reload();
    });
  }

  /** Runs head compaction, block compaction and retention now (what the background timer does). */
  compact(): Promise<void> {
    return this.mutex.run(async () => {
      if (this.closed) return;
      while (this.head.compactable() && !this.closed) {
        const mint = this.head.minTime;
        const maxt = rangeForTimestamp(mint, this.minBlock);
        await this.compactHead(mint, maxt);
      }
      // Pick up blocks written by others (backfill) before planning.
      await this.reload();
      for (;;) {
        if (this.closed) return;
        const plan = planCompaction(
          this.loaded.map((b) => b.meta),
          this.ranges,
        );
        if (plan.length === 0) break;
        const ok = await this.compactBlocks(plan);
        if (!ok) break;
      }
      await this.reload();
      this.head.expireReaders();
    });
  }

  /** Persists the head's [mint, maxt) as a block, then drops it from the head and truncates the WAL. */
  private async compactHead(mint: number, maxt: number): Promise<void> {
    const start = performance.now();
    this.metrics.compactionsTriggered.inc();
    try {
      const res = await writeBlock({ dir: this.dir, sources: [await headSource(this.head, mint, maxt - 1)], mint, maxt, level: 1, sourceULIDs: [] });
      if (res !== null) this.loaded = sortBlocks([...this.loaded, Block.open(path.join(this.dir, res.ulid))]);
      this.metrics.compactionsTotal.inc();
      this.metrics.compactionDuration.observe((performance.now() - start) / 1000);
      this.logger.info('head compacted', { mint, maxt, block: res?.ulid ?? null, durationMs: Math.round(performance.now() - start) });
    } catch (e) {
      this.metrics.compactionsFailed.inc();
      throw e;
    }
    try {
      this.head.truncate(maxt);
    } catch (e) {
      this.metrics.headTruncationsFailed.inc();
      throw e;
    }
    await this.truncateWAL(maxt);
  }

  /** Folds the older two thirds of the WAL into a checkpoint and deletes those segments. */
  private async truncateWAL(mint: number): Promise<void> {
    const wal = this.wal;
    const walDir = wal.dir;
    const first = listSegments(walDir)[0];
    if (first === undefined) return;
    // Start a new segment so that low-volume databases do not keep more WAL than needed.
    let last = wal.nextSegment() - 1;
    last = first + Math.floor(((last - first) * 2) / 3);
    // Segments a remote-write queue has not sent yet stay (replay skips their samples older than the head).
    last = lastTruncatableSegment(last, this.opts.walRetention);
    if (last <= first) return;
    this.metrics.checkpointCreations.inc();
    try {
      const head = this.head;
      const st = await createCheckpoint(walDir, first, last, (ref) => head.hasRef(ref), mint, this.segmentSize, this.wal.compression);
      this.logger.info('WAL checkpoint created', { ...st, from: first });
    } catch (e) {
      this.metrics.checkpointCreationsFailed.inc();
      this.logger.error('WAL checkpoint failed; keeping the segments', { err: String(e) });
      return;
    }
    wal.truncate(last + 1);
    this.metrics.checkpointDeletions.inc();
    try {
      deleteCheckpoints(walDir, last);
    } catch (e) {
      this.metrics.checkpointDeletionsFailed.inc();
      this.logger.warn('cannot delete old checkpoints', { err: String(e) });
    }
  }

  /** Merges the given blocks into one; returns false when the compaction failed. */
  private async compactBlocks(ulids: string[]): Promise<boolean> {
    const blocks = ulids.map((u) => this.loaded.find((b) => b.ulid === u)).filter((b): b is Block => b !== undefined);
    if (blocks.length === 0) return false;
    const start = performance.now();
    this.metrics.compactionsTriggered.inc();
    for (const b of blocks) b.acquire();
    try {
      const mint = Math.min(...blocks.map((b) => b.minTime));
      const maxt = Math.max(...blocks.map((b) => b.maxTime));
      const sources = new Set<string>();
      for (const b of blocks) for (const s of b.meta.compaction.sources) sources.add(s);
      const parents: BlockDesc[] = blocks.map((b) => ({ ulid: b.ulid, minTime: b.minTime, maxTime: b.maxTime }));
      const res = await writeBlock({
        dir: this.dir,
        sources: blocks.map(blockSource),
        mint,
        maxt,
        level: Math.max(...blocks.map((b) => b.meta.compaction.level)) + 1,
        sourceULIDs: [...sources],
        parents,
      });
      this.metrics.compactionsTotal.inc();
      this.metrics.compactionDuration.observe((performance.now() - start) / 1000);
      this.logger.info('blocks compacted', { sources: ulids, block: res?.ulid ?? null, durationMs: Math.round(performance.now() - start) });
      for (const b of blocks) b.release();
      if (res !== null) this.loaded = sortBlocks([...this.loaded, Block.open(path.join(this.dir, res.ulid))]);
      // Parents go now (when nothing survived there is no child to name them).
      await this.deleteBlocks(new Set(ulids));
      return true;
    } catch (e) {
      for (const b of blocks) b.release();
      this.metrics.compactionsFailed.inc();
      this.logger.error('block compaction failed; marking the blocks so they are not retried', { blocks: ulids, err: String(e) });
      for (const b of blocks) {
        try {
          b.meta = { ...b.meta, compaction: { ...b.meta.compaction, failed: true } };
          writeMeta(b.dir, b.meta);
        } catch (we) {
          this.logger.error('cannot mark block as failed', { block: b.ulid, err: String(we) });
        }
      }
      return false;
    }
  }

  private blocksBytes(): number {
    let n = 0;
    for (const b of this.loaded) n += b.size();
    return n;
  }

  /**
   * Loads new block directories (backfilled blocks appear this way) and
   * deletes compaction parents and blocks beyond time or size retention.
   */
  async reload(): Promise<void> {
    this.metrics.reloads.inc();
    try {
      const known = new Set(this.loaded.map((b) => b.dir));
      for (const d of this.blockDirs()) {
        if (known.has(d)) continue;
        try {
          this.loaded.push(Block.open(d));
        } catch (e) {
          this.logger.error('cannot open block; leaving it out', { dir: d, err: String(e) });
        }
      }
      this.loaded = sortBlocks(this.loaded);
      const deletable = new Set<string>();
      for (const b of this.loaded) for (const p of b.meta.compaction.parents ?? []) deletable.add(p.ulid);
      // Newest first, as Prometheus's retention checks walk them.
      const newestFirst = [...this.loaded].filter((b) => !deletable.has(b.ulid)).sort((a, b) => b.maxTime - a.maxTime);
      const top = newestFirst[0]?.maxTime;
      if (this.retentionTime > 0 && top !== undefined) {
        const i = newestFirst.findIndex((b, k) => k > 0 && top - b.maxTime >= this.retentionTime);
        if (i > 0) {
          for (const b of newestFirst.slice(i)) deletable.add(b.ulid);
          this.metrics.timeRetentions.inc();
        }
      }
      if (this.retentionSize > 0) {
        let total = this.wal.sizeBytes();
        for (const [i, b] of newestFirst.entries()) {
          total += b.size();
          if (total > this.retentionSize) {
            for (const b of newestFirst.slice(i)) deletable.add(b.ulid);
            this.metrics.sizeRetentions.inc();
            break;
          }
        }
      }
      await this.deleteBlocks(deletable);
    } catch (e) {
      this.metrics.reloadsFailed.inc();
      throw e;
    }
  }

  private async deleteBlocks(ulids: Set<string>): Promise<void> {
    if (ulids.size === 0) return;
    const gone = this.loaded.filter((b) => ulids.has(b.ulid));
    this.loaded = this.loaded.filter((b) => !ulids.has(b.ulid));
    for (const b of gone) {
      // Readers keep their file descriptors; on POSIX the data stays readable until they close.
      const tmp = b.dir + TMP_DELETION_SUFFIX;
      fs.renameSync(b.dir, tmp);
      fs.rmSync(tmp, { recursive: true, force: true });
      void b.close();
      this.logger.info('block deleted', { block: b.ulid });
    }
    // Parents named by a child but not loaded (already gone from the list) may still be on disk.
    for (const u of ulids) {
      const d = path.join(this.dir, u);
      if (!gone.some((b) => b.ulid === u) && fs.existsSync(d)) fs.rmSync(d, { recursive: true, force: true });
    }
  }

  // =====================================================================
  // deletion
  // =====================================================================

  /** Marks samples of matching series in [mint, maxt] deleted (tombstones in blocks and head). */
  deleteSeries(mint: number, maxt: number, matchers: Matcher[]): void {
    if (this.closed) throw new Error('tsdb: database is closed');
    for (const b of this.loaded) if (b.overlaps(mint, maxt)) b.delete(mint, maxt, matchers);
    const h = this.head;
    const slots = h.postingsForMatchers(matchers).filter((s) => h.hasChunksIn(s, mint, maxt));
    h.deleteRange(slots, mint, maxt);
  }

  /** Rewrites blocks that have tombstones without the deleted data. */
  cleanTombstones(): Promise<void> {
    return this.mutex.run(async () => {
      const start = performance.now();
      for (const b of [...this.loaded]) {
        if (b.tombstones.size === 0 || this.closed) continue;
        b.acquire();
        try {
          const res = await writeBlock({
            dir: this.dir,
            sources: [blockSource(b)],
            mint: b.minTime,
            maxt: b.maxTime,
            level: b.meta.compaction.level,
            sourceULIDs: b.meta.compaction.sources,
            parents: [{ ulid: b.ulid, minTime: b.minTime, maxTime: b.maxTime }],
          });
          if (res !== null) this.loaded = sortBlocks([...this.loaded, Block.open(path.join(this.dir, res.ulid))]);
        } finally {
          b.release();
        }
        await this.deleteBlocks(new Set([b.ulid]));
      }
      this.metrics.tombstoneCleanupSeconds.observe((performance.now() - start) / 1000);
    });
  }

  // =====================================================================
  // snapshots and status
  // =====================================================================

  /** Writes a copy of all blocks (hard links where possible) and, if asked, the head as a block into dir. */
  snapshot(dir: string, withHead: boolean): Promise<void> {
    return this.mutex.run(async () => {
      fs.mkdirSync(dir, { recursive: true });
      for (const b of this.loaded) copyTree(b.dir, path.join(dir, b.ulid));
      const h = this.head;
      if (withHead && h.numSeries > 0 && Number.isFinite(h.minTime)) {
        await writeBlock({ dir, sources: [await headSource(h, h.minTime, h.maxTime)], mint: h.minTime, maxt: h.maxTime + 1, level: 1, sourceULIDs: [] });
      }
    });
  }

  headStats(limit: number): TSDBStatus {
    return this.head.stats(limit);
  }

  walReplayStatus(): { min: number; max: number; current: number } {
    return { ...this.replay };
  }

  blocks(): BlockMeta[] {
    return this.loaded.map((b) => b.describe());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    // Wait for a running maintenance job to finish.
    await this.mutex.run(async () => {});
    // From here on the WAL refuses records, so late commits fail.
    this.wal.close();
    for (const b of this.loaded) await b.close(true);
    this.loaded = [];
    this.metrics.unregister();
    this.exemplarMetrics.unregister();
    this.lock.release();
  }
}

function sortBlocks(bs: Block[]): Block[] {
  return bs.sort((a, b) => a.minTime - b.minTime || a.maxTime - b.maxTime);
}

function copyTree(src: string, dst: string): void {
  fs.mkdirSync(dst, { recursive: true });
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    const s = path.join(src, e.name);
    const d = path.join(dst, e.name);
    if (e.isDirectory()) {
      copyTree(s, d);
    } else {
      try {
        fs.linkSync(s, d);
      } catch {
        fs.copyFileSync(s, d);
      }
    }
  }
}

/** Reads a block directory's meta (for tools that do not open a DB). */
export function readBlockMeta(dir: string): BlockMeta {
  const meta = readMeta(dir);
  let size = 0;
  const walk = (p: string): void => {
    for (const e of fs.readdirSync(p, { withFileTypes: true })) {
      const q = path.join(p, e.name);
      if (e.isDirectory()) walk(q);
      else size += fs.statSync(q).size;
    }
  };
  walk(dir);
  return { ...meta, size };
}
