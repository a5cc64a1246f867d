// Room tsdb/index (block index; postings and their algebra in postings.ts): may
// import gofmt/, model/ and tsdb/encoding, tsdb/fileutil.
//
// Block index: symbol table, series (label symbol ids + chunk metas),
// postings lists and a postings table, followed by a table of contents.
// Layout (all integers little-endian; see docs/storage-format.md):
//
//   header   "TSPI" u8(version=1) 3 zero bytes
//   symbols  u32(count) (uvarint(len) bytes)*            sorted strings
//   series   per series: uvarint(#labels) (uvarint(nameSym) uvarint(valueSym))*
//            uvarint(#chunks) chunk metas (see encodeChunkMetas)
//   offsets  4-aligned u32 per series: file offset of its entry
//   postings 4-aligned, per list: u32(count) u32 ids*
//   ptable   u32(count) (uvarint(nameSym) uvarint(valueSym) uvarint(offset))*  sorted by name, value
//   toc      u64 symbols, series, offsets, numSeries, postings, ptable; u32 CRC-32C of all bytes before the TOC
//
// Series are numbered in label order, so postings order is label order.
import * as fs from 'node:fs';
import { compareStrings, compareUTF16, sortStrings, utf16OrderIsGoOrder } from '../../gofmt/order.js';
import { Labels } from '../../model/labels.js';
import type { Matcher } from '../../model/matcher.js';
import { crc32c, crc32cUpdate } from '../encoding/crc32c.js';
import { CorruptionError, Decbuf, Encbuf } from '../encoding/encoding.js';
import { EMPTY_POSTINGS, postingsForMatchers, type PostingsIndex } from './postings.js';
import { Pacer, sortAsync } from '../fileutil/pacer.js';

const MAGIC = 0x49505354; // "TSPI" read as little-endian u32
const VERSION = 1;
const HEADER_SIZE = 8;
const TOC_SIZE = 6 * 8 + 4;
const TWO32 = 0x1_0000_0000;
/** Flush the write buffer to the file at this size. */
const WRITE_CHUNK = 1 << 20;

/** Where a chunk lives in the block's chunk files, and its time range. */
export interface ChunkMeta {
  mint: number;
  maxt: number;
  /** file sequence * 2^32 + offset */
  ref: number;
  /** Bytes of the chunk record in the file (length prefix, encoding, data, CRC). */
  len: number;
}

export class IndexWriter {
  private readonly labels: Labels[] = [];
  /** Flat chunk metas: mint, maxt, ref, len per chunk. */
  private readonly metas: number[] = [];
  private readonly metaStart: number[] = [];

  constructor(private readonly file: string) {}

  /** Adds the next series; series must come in label order. */
  addSeries(ls: Labels, chunks: readonly ChunkMeta[]): void {
    const prev = this.labels[this.labels.length - 1];
    if (prev !== undefined && Labels.compare(prev, ls) >= 0) {
      throw new Error(`BUG: index series out of order: ${ls.toString()} after ${prev.toString()}`);
    }
    this.labels.push(ls);
    this.metaStart.push(this.metas.length);
    for (const c of chunks) this.metas.push(c.mint, c.maxt, c.ref, c.len);
  }

  /** Writes the whole index file and fsyncs it, yielding to the event loop as it goes. Returns its size. */
  async finish(pacer = new Pacer()): Promise<number> {
    // Symbols: every name and value, sorted.
    const symSet = new Set<string>();
    // i < labels.length: every index read below is in range.
    for (let i = 0; i < this.labels.length; i++) {
      for (const s of this.labels[i]!.toPairs()) symSet.add(s);
      if ((i & 1023) === 0) await pacer.maybeYield();
    }
    const unsorted = [...symSet];
    const symbols = await sortAsync(unsorted, utf16OrderIsGoOrder(unsorted) ? compareUTF16 : compareStrings, pacer);
    const symIdx = new Map<string, number>();
    // i < symbols.length.
    for (let i = 0; i < symbols.length; i++) {
      symIdx.set(symbols[i]!, i);
      if ((i & 4095) === 0) await pacer.maybeYield();
    }

    const fd = fs.openSync(this.file, 'w');
    const e = new Encbuf(WRITE_CHUNK * 2);
    let written = 0;
    let crc = 0;
    const flush = (force: boolean): void => {
      if (e.len === 0 || (!force && e.len < WRITE_CHUNK)) return;
      const b = e.get();
      crc = crc32cUpdate(crc, b);
      fs.writeSync(fd, b);
      written += b.length;
      e.reset();
    };
    const pos = (): number => written + e.len;
    const align4 = (): void => {
      while (pos() % 4 !== 0) e.putByte(0);
    };
    try {
      e.putU32LE(MAGIC);
      e.putByte(VERSION);
      e.putByte(0);
      e.putByte(0);
      e.putByte(0);

      const symbolsOff = pos();
      e.putU32LE(symbols.length);
      for (const s of symbols) {
        e.putString(s);
        flush(false);
      }
      await pacer.maybeYield();

      const seriesOff = pos();
      const offsets = new Uint32Array(this.labels.length);
      const postings = new Map<number, Map<number, number[]>>();
      // i < labels.length = offsets.length = metaStart.length; pairs come in twos and every label string is in symIdx.
      for (let i = 0; i < this.labels.length; i++) {
        const p = pos();
        if (p >= TWO32) throw new Error('index file exceeds 4 GiB');
        offsets[i] = p;
        const pairs = this.labels[i]!.toPairs();
        e.putUvarint(pairs.length / 2);
        for (let j = 0; j < pairs.length; j += 2) {
          const n = symIdx.get(pairs[j]!)!;
          const v = symIdx.get(pairs[j + 1]!)!;
          e.putUvarint(n);
          e.putUvarint(v);
          let byV = postings.get(n);
          if (byV === undefined) postings.set(n, (byV = new Map()));
          let l = byV.get(v);
          if (l === undefined) byV.set(v, (l = []));
          l.push(i);
        }
        const from = this.metaStart[i]!;
        const to = i + 1 < this.metaStart.length ? this.metaStart[i + 1]! : this.metas.length;
        encodeChunkMetas(e, this.metas, from, to);
        flush(false);
        if ((i & 255) === 0) await pacer.maybeYield();
      }

      align4();
      const offsetsOff = pos();
      // i < offsets.length.
      for (let i = 0; i < offsets.length; i++) {
        e.putU32LE(offsets[i]!);
        flush(false);
      }

      // Postings in (name, value) string order; symbol ids sort the same way.
      const table: [number, number, number][] = [];
      const postingsOff = pos();
      const names = [...postings.keys()].sort((a, b) => a - b);
      for (const n of names) {
        const byV = postings.get(n)!;
        const values = [...byV.keys()].sort((a, b) => a - b);
        for (const v of values) {
          const ids = byV.get(v)!;
          table.push([n, v, pos()]);
          e.putU32LE(ids.length);
          for (const id of ids) e.putU32LE(id);
          flush(false);
        }
        await pacer.maybeYield();
      }
      const tableOff = pos();
      e.putU32LE(table.length);
      for (const [n, v, off] of table) {
        e.putUvarint(n);
        e.putUvarint(v);
        e.putUvarint(off);
      }
      flush(true);

      const toc = new Encbuf(TOC_SIZE);
      toc.putU64LE(symbolsOff);
      toc.putU64LE(seriesOff);
      toc.putU64LE(offsetsOff);
      toc.putU64LE(this.labels.length);
      toc.putU64LE(postingsOff);
      toc.putU64LE(tableOff);
      toc.putU32LE(crc);
      fs.writeSync(fd, toc.get());
      written += TOC_SIZE;
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    return written;
  }
}

/**
 * Chunk metas of one series: uvarint(#chunks), then per chunk
 * varint(mint - previous maxt, or mint itself for the first), uvarint(maxt - mint),
 * uvarint(ref - end of the previous chunk, or ref itself for the first; chunks of
 * a series are usually adjacent, so this is mostly 0), uvarint(len).
 */
function encodeChunkMetas(e: Encbuf, metas: readonly number[], from: number, to: number): void {
  e.putUvarint((to - from) / 4);
  let prevMaxt = 0;
  let prevEnd = 0;
  // metas holds 4 numbers per chunk and to <= metas.length: k + 3 is in range.
  for (let k = from; k < to; k += 4) {
    const mint = metas[k]!;
    const maxt = metas[k + 1]!;
    const ref = metas[k + 2]!;
    e.putVarint(k === from ? mint : mint - prevMaxt);
    e.putUvarint(maxt - mint);
    e.putUvarint(k === from ? ref : ref - prevEnd);
    e.putUvarint(metas[k + 3]!);
    prevMaxt = maxt;
    prevEnd = ref + metas[k + 3]!;
  }
}

/** Reads a whole file into a fresh, 8-byte aligned buffer (postings are viewed as Uint32Array in place). */
function readFileAligned(file: string): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.from(new ArrayBuffer(size));
    let off = 0;
    while (off < size) {
      const n = fs.readSync(fd, buf, off, size - off, off);
      if (n === 0) throw new CorruptionError(`file shrank while reading (${off} of ${size} bytes)`, file, off);
      off += n;
    }
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

interface NameEntry {
  /** Sorted values. */
  values: string[];
  offsets: number[];
}

export class IndexReader implements PostingsIndex {
  readonly symbols: string[];
  readonly numSeries: number;
  private readonly buf: Buffer;
  private readonly offsets: Uint32Array;
  private readonly names = new Map<string, NameEntry>();
  private all: Uint32Array | null = null;
  readonly size: number;

  constructor(readonly file: string) {
    const buf = readFileAligned(file);
    this.buf = buf;
    this.size = buf.length;
    if (buf.length < HEADER_SIZE + TOC_SIZE) throw new CorruptionError(`index too short (${buf.length} bytes)`, file, 0);
    if (buf.readUInt32LE(0) !== MAGIC) throw new CorruptionError('bad index magic number', file, 0);
    if (buf[4] !== VERSION) throw new CorruptionError(`unsupported index version ${buf[4]}`, file, 4);
    const tocAt = buf.length - TOC_SIZE;
    const toc = new Decbuf(buf, tocAt, buf.length, file);
    const symbolsOff = toc.u64LE();
    const seriesOff = toc.u64LE();
    const offsetsOff = toc.u64LE();
    const numSeries = toc.u64LE();
    toc.u64LE(); // postings section start (lists are reached through the table)
    const tableOff = toc.u64LE();
    const crc = toc.u32LE();
    if (crc32c(buf, 0, tocAt) !== crc) throw new CorruptionError('index checksum mismatch', file, tocAt);
    if (seriesOff > tocAt || offsetsOff + numSeries * 4 > tocAt || tableOff > tocAt) {
      throw new CorruptionError('index table of contents points outside the file', file, tocAt);
    }

    const d = new Decbuf(buf, symbolsOff, seriesOff, file);
    const n = d.u32LE();
    this.symbols = new Array<string>(n);
    for (let i = 0; i < n; i++) this.symbols[i] = d.string();
    this.numSeries = numSeries;
    this.offsets = new Uint32Array(buf.buffer, buf.byteOffset + offsetsOff, numSeries);

    const t = new Decbuf(buf, tableOff, tocAt, file);
    const entries = t.u32LE();
    for (let i = 0; i < entries; i++) {
      const name = this.sym(t.uvarint());
      const value = this.sym(t.uvarint());
      const off = t.uvarint();
      let e = this.names.get(name);
      if (e === undefined) this.names.set(name, (e = { values: [], offsets: [] }));
      e.values.push(value);
      e.offsets.push(off);
    }
  }

  private sym(i: number): string {
    const s = this.symbols[i];
    if (s === undefined) throw new CorruptionError(`symbol ${i} out of range`, this.file, -1);
    return s;
  }

  allPostings(): Uint32Array {
    if (this.all === null) {
      this.all = new Uint32Array(this.numSeries);
      for (let i = 0; i < this.numSeries; i++) this.all[i] = i;
    }
    return this.all;
  }

  postings(name: string, value: string): Uint32Array {
    const e = this.names.get(name);
    if (e === undefined) return EMPTY_POSTINGS;
    let lo = 0;
    let hi = e.values.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      // lo <= mid < hi <= values.length (binary search); offsets parallels values.
      if (compareStrings(e.values[mid]!, value) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= e.values.length || e.values[lo] !== value) return EMPTY_POSTINGS;
    const off = e.offsets[lo]!;
    const count = this.buf.readUInt32LE(off);
    return new Uint32Array(this.buf.buffer, this.buf.byteOffset + off + 4, count);
  }

  labelValuesOf(name: string): readonly string[] {
    return this.names.get(name)?.values ?? [];
  }

  labelNamesAll(): string[] {
    return sortStrings([...this.names.keys()]);
  }

  postingsForMatchers(ms: readonly Matcher[]): Uint32Array {
    return ms.length === 0 ? this.allPostings() : postingsForMatchers(this, ms);
  }

  /** Where series i's entry starts; a series id from damaged postings may be out of range. */
  private seriesStart(i: number): number {
    const off = this.offsets[i];
    if (off === undefined) throw new CorruptionError(`series id ${i} out of range (${this.offsets.length} series)`, this.file);
    return off;
  }

  /** Decodes series i: its labels, and its chunk metas appended to `out` when given. */
  series(i: number, out: ChunkMeta[] | null): Labels {
    const d = new Decbuf(this.buf, this.seriesStart(i), this.buf.length - TOC_SIZE, this.file);
    const nl = d.uvarint();
    const pairs: string[] = new Array(2 * nl);
    for (let j = 0; j < 2 * nl; j++) pairs[j] = this.sym(d.uvarint());
    if (out !== null) {
      const nc = d.uvarint();
      let prevMaxt = 0;
      let prevEnd = 0;
      for (let k = 0; k < nc; k++) {
        const mint = k === 0 ? d.varint() : prevMaxt + d.varint();
        const maxt = mint + d.uvarint();
        const ref = k === 0 ? d.uvarint() : prevEnd + d.uvarint();
        const len = d.uvarint();
        out.push({ mint, maxt, ref, len });
        prevMaxt = maxt;
        prevEnd = ref + len;
      }
    }
    return Labels.fromSortedPairs(pairs);
  }

  /** Value of label `name` in series i, or '' (cheaper than decoding all labels as strings). */
  labelValueOf(i: number, nameSym: number): string {
    const d = new Decbuf(this.buf, this.seriesStart(i), this.buf.length - TOC_SIZE, this.file);
    const nl = d.uvarint();
    for (let j = 0; j < nl; j++) {
      const n = d.uvarint();
      const v = d.uvarint();
      if (n === nameSym) return this.sym(v);
    }
    return '';
  }

  /** Label names of series i as symbol ids. */
  labelNameSyms(i: number, into: Set<number>): void {
    const d = new Decbuf(this.buf, this.seriesStart(i), this.buf.length - TOC_SIZE, this.file);
    const nl = d.uvarint();
    for (let j = 0; j < nl; j++) {
      into.add(d.uvarint());
      d.uvarint();
    }
  }

  /** Symbol id of a string, or -1 (binary search: symbols are sorted). */
  symbolId(s: string): number {
    let lo = 0;
    let hi = this.symbols.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      // lo <= mid < hi <= symbols.length (binary search).
      if (compareStrings(this.symbols[mid]!, s) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.symbols.length && this.symbols[lo] === s ? lo : -1;
  }

  /** Bytes held for symbols (for the symbol table size gauge). */
  symbolBytes(): number {
    let n = 0;
    for (const s of this.symbols) n += s.length;
    return n;
  }
}
