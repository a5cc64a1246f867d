// Room tsdb/chunks (block chunk files; a series' chunk list and its iterator in
// chunk_list.ts): may import model/, storage/ and tsdb/chunkenc, tsdb/encoding, tsdb/index.
//
// Block chunk files: chunks/000001, 000002, ... Each starts with an 8-byte
// header ("TSPC", version, 3 zero bytes) followed by chunk records:
//
//   uvarint(data length) u8(encoding) data u32le(CRC-32C of encoding byte and data)
//
// Encodings: 0x81 XOR floats, 2 integer histograms, 3 float histograms.
//
// A chunk reference is file number * 2^32 + offset of the record.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32c } from '../encoding/crc32c.js';
import { CorruptionError, Encbuf } from '../encoding/encoding.js';
import { ENC_FLOAT_HISTOGRAM, ENC_HISTOGRAM } from '../chunkenc/histogram_chunk.js';
import { ENC_XOR } from '../chunkenc/xor.js';
import type { ChunkMeta } from '../index/index.js';

const MAGIC = 0x43505354; // "TSPC" read as little-endian u32
const VERSION = 1;
const CHUNK_FILE_HEADER = 8;
const TWO32 = 0x1_0000_0000;
/** Prometheus's segment size for block chunk files. */
const MAX_CHUNK_FILE_SIZE = 512 * 1024 * 1024;
/** Buffered output is flushed at this size. */
const WRITE_CHUNK = 1 << 20;

function chunkFileName(seq: number): string {
  return String(seq).padStart(6, '0');
}

export class ChunkWriter {
  private fd = -1;
  private seq = 0;
  private fileBytes = 0;
  private readonly buf = new Encbuf(WRITE_CHUNK * 2);
  private readonly crcScratch = Buffer.alloc(4);
  /** Total bytes written over all files. */
  totalBytes = 0;

  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  private cut(): void {
    this.closeFile();
    this.seq++;
    this.fd = fs.openSync(path.join(this.dir, chunkFileName(this.seq)), 'w');
    this.buf.reset();
    this.buf.putU32LE(MAGIC);
    this.buf.putByte(VERSION);
    this.buf.putByte(0);
    this.buf.putByte(0);
    this.buf.putByte(0);
    this.fileBytes = CHUNK_FILE_HEADER;
  }

  private flush(): void {
    if (this.buf.len > 0) {
      fs.writeSync(this.fd, this.buf.get());
      this.buf.reset();
    }
  }

  private closeFile(): void {
    if (this.fd < 0) return;
    this.flush();
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  /** Writes one chunk of the given encoding; returns its meta. */
  write(mint: number, maxt: number, data: Uint8Array, enc = ENC_XOR): ChunkMeta {
    const rec = uvarintLen(data.length) + 1 + data.length + 4;
    if (this.fd < 0 || (this.fileBytes + rec > MAX_CHUNK_FILE_SIZE && this.fileBytes > CHUNK_FILE_HEADER)) this.cut();
    const ref = this.seq * TWO32 + this.fileBytes;
    const b = this.buf;
    b.putUvarint(data.length);
    const encAt = b.len;
    b.putByte(enc);
    b.putBytes(data);
    const crc = crc32c(b.buf, encAt, b.len);
    this.crcScratch.writeUInt32LE(crc, 0);
    b.putBytes(this.crcScratch);
    this.fileBytes += rec;
    this.totalBytes += rec;
    if (b.len >= WRITE_CHUNK) this.flush();
    return { mint, maxt, ref, len: rec };
  }

  close(): void {
    this.closeFile();
  }
}

function uvarintLen(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

/** Where a chunk's data lies inside a buffer returned by readSeries. */
export interface ChunkLocation {
  start: number;
  end: number;
  /** The chunk's encoding byte. */
  enc: number;
}

export class ChunkReader {
  private readonly fds = new Map<number, number>();
  private readonly sizes = new Map<number, number>();
  readonly size: number;

  constructor(private readonly dir: string) {
    let total = 0;
    for (const name of fs.readdirSync(dir)) {
      if (!/^\d{6}$/.test(name)) continue;
      const seq = Number(name);
      const fd = fs.openSync(path.join(dir, name), 'r');
      const sz = fs.fstatSync(fd).size;
      const hdr = Buffer.alloc(CHUNK_FILE_HEADER);
      fs.readSync(fd, hdr, 0, CHUNK_FILE_HEADER, 0);
      if (sz < CHUNK_FILE_HEADER || hdr.readUInt32LE(0) !== MAGIC) {
        fs.closeSync(fd);
        for (const f of this.fds.values()) fs.closeSync(f);
        throw new CorruptionError('bad chunk file header', path.join(dir, name), 0);
      }
      this.fds.set(seq, fd);
      this.sizes.set(seq, sz);
      total += sz;
    }
    this.size = total;
  }

  /**
   * Reads the chunks of one series (contiguous per file) with one read per
   * file, verifying each chunk's checksum. Returns the bytes and the data
   * range of every chunk in `locs` (same order as metas).
   */
  readSeries(metas: readonly ChunkMeta[], locs: ChunkLocation[]): Buffer {
    if (metas.length === 0) return Buffer.alloc(0);
    let total = 0;
    for (const m of metas) total += m.len;
    const out = Buffer.allocUnsafe(total);
    let i = 0;
    let w = 0;
    // i <= j <= metas.length and i < k < j below: every metas read is in range.
    while (i < metas.length) {
      // A run of chunks adjacent in the same file is read at once.
      const seq = Math.floor(metas[i]!.ref / TWO32);
      const off = metas[i]!.ref % TWO32;
      let j = i;
      let len = 0;
      while (j < metas.length && metas[j]!.ref === seq * TWO32 + off + len) {
        len += metas[j]!.len;
        j++;
      }
      const fd = this.fds.get(seq);
      const file = path.join(this.dir, chunkFileName(seq));
      if (fd === undefined || off + len > this.sizes.get(seq)!) {
        throw new CorruptionError(`chunk reference ${metas[i]!.ref} outside the chunk files`, file, off);
      }
      let got = 0;
      while (got < len) {
        const n = fs.readSync(fd, out, w + got, len - got, off + got);
        if (n === 0) throw new CorruptionError('unexpected end of chunk file', file, off + got);
        got += n;
      }
      for (let k = i; k < j; k++) {
        const recStart = w;
        let p = w;
        let dataLen = 0;
        let mul = 1;
        for (;;) {
          const c = out[p++];
          if (c === undefined) throw new CorruptionError('chunk record runs past the bytes read', file, off);
          dataLen += (c & 0x7f) * mul;
          if (c < 0x80) break;
          mul *= 0x80;
        }
        const encAt = p;
        const end = encAt + 1 + dataLen;
        if (end + 4 !== recStart + metas[k]!.len) throw new CorruptionError('chunk length mismatch', file, off + (recStart - w));
        // encAt < end: the length check above holds the record within the bytes read.
        const enc = out[encAt]!;
        if (enc !== ENC_XOR && enc !== ENC_HISTOGRAM && enc !== ENC_FLOAT_HISTOGRAM) throw new CorruptionError(`unknown chunk encoding ${enc}`, file, off);
        if (crc32c(out, encAt, end) !== out.readUInt32LE(end)) throw new CorruptionError('chunk checksum mismatch', file, off);
        locs.push({ start: encAt + 1, end, enc });
        w = recStart + metas[k]!.len;
      }
      i = j;
    }
    return out;
  }

  close(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
  }
}
