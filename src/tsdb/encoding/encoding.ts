// Room tsdb/encoding (byte codecs, CRC-32C): a leaf, imports nothing of the project.
//
// Byte-level encoding helpers shared by the WAL, index, chunk and tombstone
// files: a growable writer and a bounds-checked reader. Integers up to 2^53
// (JS's exact range) are supported by the varint codecs; timestamps and
// references never come near that.

/** A file or record whose bytes do not decode; carries where it happened. */
export class CorruptionError extends Error {
  override name = 'CorruptionError';
  constructor(
    message: string,
    /** File (or WAL segment) in which the damage was found, when known. */
    readonly file = '',
    /** Byte offset of the damage inside that file, when known. */
    readonly offset = -1,
  ) {
    super(message);
  }
}

const TWO32 = 0x1_0000_0000;

/** Growable byte writer. Reuse one per writer with reset() to avoid garbage. */
export class Encbuf {
  buf: Buffer;
  len = 0;

  constructor(initial = 4096) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  reset(): void {
    this.len = 0;
  }

  /** The written bytes (a view: valid until the next write). */
  get(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  /** Replaces a buffer grown past `max` bytes by a fresh one of `max` (the written bytes are discarded). */
  shrinkTo(max: number): void {
    if (this.buf.length <= max) return;
    this.buf = Buffer.allocUnsafe(max);
    this.len = 0;
  }

  ensure(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const b = Buffer.allocUnsafe(cap);
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
  }

  putByte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  putBytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.ensure(n);
    this.buf.set(src.subarray(start, end), this.len);
    this.len += n;
  }

  putU32LE(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.len);
    this.len += 4;
  }

  /** A non-negative integer below 2^53 as 8 little-endian bytes. */
  putU64LE(v: number): void {
    this.putU32LE(v % TWO32);
    this.putU32LE(Math.floor(v / TWO32));
  }

  /** A float64 given as its raw bit pattern (high and low words). */
  putF64Bits(hi: number, lo: number): void {
    this.putU32LE(lo);
    this.putU32LE(hi);
  }

  putUvarint(v: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.len;
    if (v < 0x1000_0000) {
      while (v >= 0x80) {
        b[p++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      b[p++] = v;
    } else {
      while (v >= 0x80) {
        b[p++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      b[p++] = v;
    }
    this.len = p;
  }

  /** Zigzag-encoded signed varint (|v| < 2^52). */
  putVarint(v: number): void {
    this.putUvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  /** Uvarint length followed by UTF-8 bytes. */
  putString(s: string): void {
    // ASCII under 128 characters (most label names and values) is copied here, without the two
    // native calls (length, write) below; a non-ASCII character falls through and is written over.
    const len = s.length;
    if (len < 0x80) {
      this.ensure(len + 1);
      const b = this.buf;
      const p = this.len + 1;
      let k = 0;
      // p + k < this.len + len + 1, ensured.
      while (k < len) {
        const c = s.charCodeAt(k);
        if (c >= 0x80) break;
        b[p + k++] = c;
      }
      if (k === len) {
        b[p - 1] = len;
        this.len = p + len;
        return;
      }
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.putUvarint(n);
    this.ensure(n);
    this.buf.write(s, this.len, n, 'utf8');
    this.len += n;
  }
}

/** Bounds-checked reader over a byte range; throws CorruptionError on overrun. */
export class Decbuf {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
    public end = buf.length,
    /** Names the file in errors. */
    readonly file = '',
  ) {
    this.pos = start;
  }

  private fail(what: string): never {
    throw new CorruptionError(`${what} at offset ${this.pos}`, this.file, this.pos);
  }

  byte(): number {
    if (this.pos >= this.end) this.fail('unexpected end of data reading a byte');
    // pos < end <= buf.length, checked above.
    return this.buf[this.pos++]!;
  }

  u32LE(): number {
    if (this.pos + 4 > this.end) this.fail('unexpected end of data reading u32');
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  u64LE(): number {
    const lo = this.u32LE();
    const hi = this.u32LE();
    return hi * TWO32 + lo;
  }

  uvarint(): number {
    const b = this.buf;
    let p = this.pos;
    const end = this.end;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (p >= end) {
        this.pos = p;
        this.fail('unexpected end of data reading a varint');
      }
      // p < end <= buf.length, checked above.
      const c = b[p++]!;
      result += (c & 0x7f) * mul;
      if (c < 0x80) {
        this.pos = p;
        return result;
      }
      mul *= 0x80;
    }
    this.pos = p;
    return this.fail('varint too long');
  }

  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  string(): string {
    const n = this.uvarint();
    if (this.pos + n > this.end) this.fail(`string of ${n} bytes runs past the end`);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}

/** Number of bytes putUvarint writes for v. */
export function uvarintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}
