// Bit-level writer and reader over plain byte arrays, most significant bit
// first (the order Gorilla chunks use). Both work on a window of a larger
// array so that head chunks can live inside shared pages without copying.

/** Writes bits into buf starting at byte `base`; bytes must be zero before they are written. */
export class BitWriter {
  buf: Uint8Array = new Uint8Array(0);
  base = 0;
  /** Bits written so far, relative to base. */
  bit = 0;

  // The writer's buffer always has room for the bits appended (the head grows chunks before appending), and the reader stops at endBit: byte indexes below are in range.
  writeBit(b: number): void {
    const p = this.bit;
    if (b !== 0) this.buf[this.base + (p >>> 3)]! |= 0x80 >>> (p & 7);
    this.bit = p + 1;
  }

  /** Writes the low n bits of v (0 <= n <= 32; v treated as unsigned). */
  writeBits(v: number, n: number): void {
    let p = this.bit;
    const buf = this.buf;
    const base = this.base;
    while (n > 0) {
      const idx = base + (p >>> 3);
      const free = 8 - (p & 7);
      const take = free < n ? free : n;
      const part = (v >>> (n - take)) & ((1 << take) - 1);
      buf[idx]! |= part << (free - take);
      p += take;
      n -= take;
    }
    this.bit = p;
  }
}

/** Reads bits from buf[start, end). */
export class BitReader {
  buf: Uint8Array = new Uint8Array(0);
  /** Absolute bit position. */
  pos = 0;
  /** Absolute bit position of the end. */
  endBit = 0;

  reset(buf: Uint8Array, start: number, end: number): void {
    this.buf = buf;
    this.pos = start * 8;
    this.endBit = end * 8;
  }

  /** -1 when no bit is left. */
  readBit(): number {
    const p = this.pos;
    if (p >= this.endBit) return -1;
    this.pos = p + 1;
    return (this.buf[p >>> 3]! >>> (7 - (p & 7))) & 1;
  }

  /** n (<= 32) bits as an unsigned number, or -1 when fewer than n bits are left. */
  readBits(n: number): number {
    let p = this.pos;
    if (p + n > this.endBit) return -1;
    const buf = this.buf;
    let v = 0;
    while (n > 0) {
      const byte = buf[p >>> 3]!;
      const avail = 8 - (p & 7);
      const take = avail < n ? avail : n;
      v = v * (1 << take) + ((byte >>> (avail - take)) & ((1 << take) - 1));
      p += take;
      n -= take;
    }
    this.pos = p;
    return v;
  }
}
