// A persisted block: an immutable directory <ULID>/ with meta.json, index,
// chunks/ and tombstones. Only the tombstones file ever changes (deletes).
import { sortStrings } from '../gofmt/order.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Labels } from '../model/labels.js';
import type { Matcher } from '../model/matcher.js';
import type { LabelHints, Querier, SampleIterator, SelectHints, Series, SeriesSet } from '../storage/interface.js';
import { ChunkReader, type ChunkLocation } from './chunks/chunks.js';
import { CorruptionError } from './encoding/encoding.js';
import { IndexReader, type ChunkMeta } from './index/index.js';
import { ChunkList, ChunkSeriesIterator, EmptyIterator, ListSeriesSet, isCovered } from './chunks/chunk_list.js';
import { addInterval, countIntervals, readTombstones, writeTombstones, type Tombstones } from './tombstones/tombstones.js';
import { fsyncDir } from './fileutil/fileutil.js';
import { LazySeriesSet } from '../storage/lazy.js';

const META_FILE = 'meta.json';
export const INDEX_FILE = 'index';
export const CHUNKS_DIR = 'chunks';

export interface BlockStats {
  numSamples: number;
  numSeries: number;
  numChunks: number;
  numTombstones: number;
}

export interface BlockDesc {
  ulid: string;
  minTime: number;
  maxTime: number;
}

/** meta.json, in Prometheus's shape. maxTime is exclusive. */
export interface BlockMetaFile {
  ulid: string;
  minTime: number;
  maxTime: number;
  stats: BlockStats;
  compaction: {
    level: number;
    sources: string[];
    parents?: BlockDesc[];
    failed?: boolean;
  };
  version: number;
}

/** What DB.blocks() reports per block. */
export interface BlockMeta extends BlockMetaFile {
  /** Bytes of all the block's files. */
  size: number;
}

export function readMeta(dir: string): BlockMetaFile {
  const file = path.join(dir, META_FILE);
  let m: BlockMetaFile;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as BlockMetaFile;
  } catch (e) {
    throw new CorruptionError(`cannot read block meta: ${e instanceof Error ? e.message : String(e)}`, file, 0);
  }
  if (m.version !== 1 || typeof m.ulid !== 'string' || typeof m.minTime !== 'number' || typeof m.maxTime !== 'number') {
    throw new CorruptionError('invalid block meta', file, 0);
  }
  return m;
}

export function writeMeta(dir: string, meta: BlockMetaFile): void {
  const file = path.join(dir, META_FILE);
  const tmp = file + '.tmp';
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, JSON.stringify(meta, null, '\t') + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(dir);
}

function dirSize(p: string): number {
  let n = 0;
  for (const e of fs.readdirSync(p, { withFileTypes: true })) {
    const q = path.join(p, e.name);
    n += e.isDirectory() ? dirSize(q) : fs.statSync(q).size;
  }
  return n;
}

export class Block {
  meta: BlockMetaFile;
  readonly index: IndexReader;
  readonly chunks: ChunkReader;
  tombstones: Tombstones;
  private numReaders = 0;
  private closed = false;
  private closeWaiters: (() => void)[] = [];
  private sizeBytes: number;

  private constructor(
    readonly dir: string,
    meta: BlockMetaFile,
    index: IndexReader,
    chunks: ChunkReader,
    tombstones: Tombstones,
  ) {
    this.meta = meta;
    this.index = index;
    this.chunks = chunks;
    this.tombstones = tombstones;
    this.sizeBytes = dirSize(dir);
  }

  static open(dir: string): Block {
    const meta = readMeta(dir);
    const index = new IndexReader(path.join(dir, INDEX_FILE));
    const chunks = new ChunkReader(path.join(dir, CHUNKS_DIR));
    try {
      return new Block(dir, meta, index, chunks, readTombstones(dir));
    } catch (e) {
      chunks.close();
      throw e;
    }
  }

  get ulid(): string {
    return this.meta.ulid;
  }
  get minTime(): number {
    return this.meta.minTime;
  }
  get maxTime(): number {
    return this.meta.maxTime;
  }

  size(): number {
    return this.sizeBytes;
  }

  describe(): BlockMeta {
    return { ...this.meta, size: this.sizeBytes };
  }

  /** Overlaps the inclusive range [mint, maxt] (block ranges are [minTime, maxTime)). */
  overlaps(mint: number, maxt: number): boolean {
    return this.meta.minTime <= maxt && mint < this.meta.maxTime;
  }

  acquire(): void {
    if (this.closed) throw new Error(`BUG: block ${this.ulid} used after close`);
    this.numReaders++;
  }

  release(): void {
    this.numReaders--;
    if (this.numReaders === 0 && this.closeWaiters.length > 0) {
      for (const w of this.closeWaiters) w();
      this.closeWaiters = [];
    }
  }

  /**
   * Closes the files once no querier reads the block any more; with `force`
   * at once (database shutdown: a leaked querier must not hang it).
   */
  async close(force = false): Promise<void> {
    if (this.numReaders > 0 && !force) await new Promise<void>((r) => this.closeWaiters.push(r));
    if (this.closed) return;
    this.closed = true;
    this.chunks.close();
  }

  querier(mint: number, maxt: number): Querier {
    return new BlockQuerier(this, mint, maxt);
  }

  /** Adds tombstones for series matching the matchers; returns how many series were affected. */
  delete(mint: number, maxt: number, matchers: readonly Matcher[]): number {
    const ids = this.index.postingsForMatchers(matchers);
    const next: Tombstones = new Map(this.tombstones);
    let n = 0;
    const metas: ChunkMeta[] = [];
    for (const id of ids) {
      metas.length = 0;
      this.index.series(id, metas);
      if (!metas.some((m) => m.mint <= maxt && m.maxt >= mint)) continue;
      next.set(id, addInterval(next.get(id), mint, maxt));
      n++;
    }
    if (n === 0) return 0;
    writeTombstones(this.dir, next);
    this.tombstones = next;
    this.meta = { ...this.meta, stats: { ...this.meta.stats, numTombstones: countIntervals(next) } };
    writeMeta(this.dir, this.meta);
    this.sizeBytes = dirSize(this.dir);
    return n;
  }

  /** Label set and chunks of series id, with chunk bytes read from disk. */
  readSeries(id: number): { labels: Labels; metas: ChunkMeta[]; buf: Buffer; locs: ChunkLocation[] } {
    const metas: ChunkMeta[] = [];
    const labels = this.index.series(id, metas);
    const locs: ChunkLocation[] = [];
    const buf = this.chunks.readSeries(metas, locs);
    return { labels, metas, buf, locs };
  }
}

class BlockSeries implements Series {
  constructor(
    private readonly block: Block,
    readonly labels: Labels,
    private readonly metas: ChunkMeta[],
    private readonly mint: number,
    private readonly maxt: number,
    private readonly del: Float64Array | null,
    private readonly skipChunks: boolean,
  ) {}

  iterator(reuse?: SampleIterator): SampleIterator {
    if (this.skipChunks) return new EmptyIterator();
    const inRange = this.metas.filter((m) => m.maxt >= this.mint && m.mint <= this.maxt);
    const locs: ChunkLocation[] = [];
    const reused = reuse instanceof ChunkSeriesIterator ? reuse : null;
    const cl = reused?.chunks ?? new ChunkList();
    cl.clear();
    try {
      const buf = this.block.chunks.readSeries(inRange, locs);
      // readSeries fills one location per meta: i < inRange.length = locs.length.
      for (let i = 0; i < inRange.length; i++) cl.push(buf, locs[i]!.start, locs[i]!.end, -1, inRange[i]!.mint, inRange[i]!.maxt, locs[i]!.enc);
    } catch (e) {
      return new ErrorIterator(e instanceof Error ? e : new Error(String(e)));
    }
    if (reused === null) return new ChunkSeriesIterator(cl, this.mint, this.maxt, this.del);
    reused.restart(this.mint, this.maxt, this.del);
    return reused;
  }
}

class ErrorIterator extends EmptyIterator {
  constructor(private readonly error: Error) {
    super();
  }
  override err(): Error | null {
    return this.error;
  }
}

/** The selected series of a block, read from its index when the reader reaches them; index order is label order. */
class BlockSeriesSet extends LazySeriesSet {
  private i = 0;

  constructor(
    private readonly block: Block,
    /** As they were at select(): a later delete does not change what this set returns. */
    private readonly tombstones: Tombstones,
    private readonly ids: Uint32Array,
    private readonly mint: number,
    private readonly maxt: number,
    private readonly skipChunks: boolean,
  ) {
    super();
  }

  protected produce(): Series | null {
    const { mint, maxt } = this;
    // i < ids.length when read.
    while (this.i < this.ids.length) {
      const id = this.ids[this.i++]!;
      const metas: ChunkMeta[] = [];
      let labels: Labels;
      try {
        labels = this.block.index.series(id, metas);
      } catch (e) {
        this.error = e instanceof Error ? e : new Error(String(e));
        return null;
      }
      const del = this.tombstones.get(id) ?? null;
      const visible = (m: ChunkMeta): boolean => m.maxt >= mint && m.mint <= maxt && !isCovered(del, Math.max(mint, m.mint), Math.min(maxt, m.maxt));
      if (metas.some(visible)) return new BlockSeries(this.block, labels, metas, mint, maxt, del, this.skipChunks);
    }
    return null;
  }
}

class BlockQuerier implements Querier {
  private closed = false;

  constructor(
    private readonly block: Block,
    private readonly mint: number,
    private readonly maxt: number,
  ) {
    block.acquire();
  }

  select(_sortSeries: boolean, hints: SelectHints | null, ...matchers: Matcher[]): SeriesSet {
    const b = this.block;
    const mint = Math.max(this.mint, hints?.start ?? -Infinity);
    const maxt = Math.min(this.maxt, hints?.end ?? Infinity);
    const skip = hints?.func === 'series';
    let ids: Uint32Array;
    try {
      ids = b.index.postingsForMatchers(matchers);
    } catch (e) {
      return new ListSeriesSet([], [], e instanceof Error ? e : new Error(String(e)));
    }
    return new BlockSeriesSet(b, b.tombstones, ids, mint, maxt, skip);
  }

  labelValues(name: string, hints: LabelHints | null, ...matchers: Matcher[]): string[] {
    const ix = this.block.index;
    let out: string[];
    if (matchers.length === 0) {
      out = [...ix.labelValuesOf(name)];
    } else {
      const sym = ix.symbolId(name);
      if (sym < 0) return [];
      const set = new Set<string>();
      for (const id of ix.postingsForMatchers(matchers)) {
        const v = ix.labelValueOf(id, sym);
        if (v !== '') set.add(v);
      }
      out = sortStrings([...set]);
    }
    return hints?.limit && out.length > hints.limit ? out.slice(0, hints.limit) : out;
  }

  labelNames(hints: LabelHints | null, ...matchers: Matcher[]): string[] {
    const ix = this.block.index;
    let out: string[];
    if (matchers.length === 0) {
      out = ix.labelNamesAll();
    } else {
      const syms = new Set<number>();
      for (const id of ix.postingsForMatchers(matchers)) ix.labelNameSyms(id, syms);
      // labelNameSyms adds symbol ids of the block's own symbol table.
      out = sortStrings([...syms].map((s) => ix.symbols[s]!));
    }
    return hints?.limit && out.length > hints.limit ? out.slice(0, hints.limit) : out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.block.release();
  }
}
