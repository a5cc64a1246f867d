// Room tsdb/tombstones: may import tsdb/encoding and tsdb/fileutil.
//
// Block tombstones: deleted time intervals per series of a block.
//
//   "TSPT" u8(version=1) 3 zero bytes
//   uvarint(#series) (uvarint(series id) uvarint(#intervals) (varint(mint) varint(maxt))*)*
//   u32le(CRC-32C of everything after the header)
//
// The file is replaced atomically (write to .tmp, fsync, rename).
import * as fs from 'node:fs';
import { crc32c } from '../encoding/crc32c.js';
import { CorruptionError, Decbuf, Encbuf } from '../encoding/encoding.js';
import { fsyncDir } from '../fileutil/fileutil.js';
import * as path from 'node:path';

const MAGIC = 0x54505354; // "TSPT" read as little-endian u32
const VERSION = 1;
const HEADER = 8;
const TOMBSTONES_FILE = 'tombstones';

export type Tombstones = Map<number, Float64Array>;

export function readTombstones(dir: string): Tombstones {
  const file = path.join(dir, TOMBSTONES_FILE);
  const out: Tombstones = new Map();
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return out;
  }
  if (buf.length < HEADER + 4 || buf.readUInt32LE(0) !== MAGIC) throw new CorruptionError('bad tombstones header', file, 0);
  if (buf[4] !== VERSION) throw new CorruptionError(`unsupported tombstones version ${buf[4]}`, file, 4);
  const end = buf.length - 4;
  if (crc32c(buf, HEADER, end) !== buf.readUInt32LE(end)) throw new CorruptionError('tombstones checksum mismatch', file, end);
  const d = new Decbuf(buf, HEADER, end, file);
  const n = d.uvarint();
  for (let i = 0; i < n; i++) {
    const id = d.uvarint();
    const k = d.uvarint();
    const iv = new Float64Array(2 * k);
    for (let j = 0; j < 2 * k; j++) iv[j] = d.varint();
    out.set(id, iv);
  }
  return out;
}

/** Writes the tombstones file atomically; returns its size. */
export function writeTombstones(dir: string, ts: Tombstones): number {
  const e = new Encbuf(4096);
  e.putU32LE(MAGIC);
  e.putByte(VERSION);
  e.putByte(0);
  e.putByte(0);
  e.putByte(0);
  const ids = [...ts.keys()].sort((a, b) => a - b);
  e.putUvarint(ids.length);
  for (const id of ids) {
    const iv = ts.get(id)!;
    e.putUvarint(id);
    e.putUvarint(iv.length / 2);
    for (const x of iv) e.putVarint(x);
  }
  const crc = crc32c(e.buf, HEADER, e.len);
  e.putU32LE(crc);
  const file = path.join(dir, TOMBSTONES_FILE);
  const tmp = file + '.tmp';
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, e.get());
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(dir);
  return e.len;
}

/** Number of intervals over all series. */
export function countIntervals(ts: Tombstones): number {
  let n = 0;
  for (const iv of ts.values()) n += iv.length / 2;
  return n;
}

/** Merges [mint, maxt] into sorted disjoint intervals. */
export function addInterval(iv: Float64Array | null | undefined, mint: number, maxt: number): Float64Array {
  const pairs: [number, number][] = [];
  // i + 1 < iv.length: intervals are stored as pairs.
  if (iv) for (let i = 0; i < iv.length; i += 2) pairs.push([iv[i]!, iv[i + 1]!]);
  pairs.push([mint, maxt]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [a, b] of pairs) {
    const n = out.length;
    // n > 0: out[n - 1] exists.
    if (n > 0 && a <= out[n - 1]! + 1) out[n - 1] = Math.max(out[n - 1]!, b);
    else out.push(a, b);
  }
  return Float64Array.from(out);
}
