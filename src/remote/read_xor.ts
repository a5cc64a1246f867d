// Prometheus's XOR chunk encoding, the one remote read's STREAMED_XOR_CHUNKS
// carries. tsprom stores its own chunk format (tsdb/chunkenc: decimal mode,
// different value bits), so streamed responses re-encode samples in this one.
//
//   u16be(#samples)
//   first  : varint(t) 64 bits of v
//   second : uvarint(t - t0) <value>
//   others : <dod> <value>
//   <dod>   = 0 | 10 +14 bits | 110 +17 | 1110 +20 | 1111 +64   (two's complement)
//   <value> = 0 (same bits) | 10 <bits in the previous window>
//           | 11 <5: leading zeros> <6: significant bits, 64 as 0> <bits>
import { BitReader, BitWriter } from '../tsdb/chunkenc/bstream.js';
import { bitsHi, bitsLo, joinFloat, splitFloat } from '../tsdb/chunkenc/float_bits.js';

/** Prometheus's chunk encoding number for XOR (prompb Chunk.Encoding). */
export const PROM_ENC_XOR = 1;
/** Prometheus cuts head chunks at 120 samples; streamed chunks follow suit. */
export const SAMPLES_PER_CHUNK = 120;
/** Worst case per appended sample: 4+64 bits of dod plus 2+5+6+64 bits of value, rounded up. */
const MAX_SAMPLE_BYTES = 19;
/** Header plus a 10-byte varint timestamp and 8 value bytes for the first sample. */
const FIRST_SAMPLE_BYTES = 2 + 10 + 8;
const TWO32 = 0x1_0000_0000;
const NO_LEADING = 0xff;

export class XorChunkError extends Error {
  override name = 'XorChunkError';
}

function clz64(hi: number, lo: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

function ctz64(hi: number, lo: number): number {
  return lo !== 0 ? ctz32(lo) : 32 + ctz32(hi);
}

/** Builds one chunk at a time into a reused buffer sized for SAMPLES_PER_CHUNK samples. */
export class PromXorEncoder {
  private readonly w = new BitWriter();
  private readonly buf = new Uint8Array(FIRST_SAMPLE_BYTES + MAX_SAMPLE_BYTES * SAMPLES_PER_CHUNK);
  num = 0;
  minT = 0;
  maxT = 0;
  private tDelta = 0;
  private vhi = 0;
  private vlo = 0;
  private leading = NO_LEADING;
  private trailing = 0;

  constructor() {
    this.reset();
  }

  reset(): void {
    this.buf.fill(0);
    this.w.buf = this.buf;
    this.w.base = 0;
    this.w.bit = 16;
    this.num = 0;
    this.tDelta = 0;
    this.leading = NO_LEADING;
    this.trailing = 0;
  }

  /** True when the chunk holds SAMPLES_PER_CHUNK samples and must be cut. */
  full(): boolean {
    return this.num >= SAMPLES_PER_CHUNK;
  }

  append(t: number, v: number): void {
    if (this.full()) throw new Error('BUG: appending to a full XOR chunk');
    const w = this.w;
    splitFloat(v);
    const hi = bitsHi();
    const lo = bitsLo();
    if (this.num === 0) {
      this.writeUvarint(t >= 0 ? 2 * t : -2 * t - 1);
      w.writeBits(hi, 32);
      w.writeBits(lo, 32);
      this.minT = t;
    } else {
      const delta = t - this.maxT;
      if (this.num === 1) {
        if (delta < 0) throw new XorChunkError('out of order sample in XOR chunk');
        this.writeUvarint(delta);
      } else {
        this.writeDod(delta - this.tDelta);
      }
      this.tDelta = delta;
      this.writeValue(hi, lo);
    }
    this.vhi = hi;
    this.vlo = lo;
    this.maxT = t;
    this.num++;
    this.buf[0] = this.num >>> 8;
    this.buf[1] = this.num & 0xff;
  }

  /** A copy of the chunk's bytes. */
  bytes(): Uint8Array {
    return this.buf.slice(0, (this.w.bit + 7) >>> 3);
  }

  private writeUvarint(x: number): void {
    // Bytes are whole here: the first two samples come before any sub-byte write.
    while (x >= 0x80) {
      this.w.writeBits((x % 128) | 0x80, 8);
      x = Math.floor(x / 128);
    }
    this.w.writeBits(x, 8);
  }

  private writeDod(dod: number): void {
    const w = this.w;
    if (dod === 0) {
      w.writeBit(0);
    } else if (dod >= -8191 && dod <= 8192) {
      w.writeBits(0b10, 2);
      w.writeBits(dod & 0x3fff, 14);
    } else if (dod >= -65535 && dod <= 65536) {
      w.writeBits(0b110, 3);
      w.writeBits(dod & 0x1ffff, 17);
    } else if (dod >= -524287 && dod <= 524288) {
      w.writeBits(0b1110, 4);
      w.writeBits(dod & 0xfffff, 20);
    } else {
      w.writeBits(0b1111, 4);
      const h = Math.floor(dod / TWO32);
      w.writeBits(h >>> 0, 32);
      w.writeBits((dod - h * TWO32) >>> 0, 32);
    }
  }

  private writeValue(hi: number, lo: number): void {
    const w = this.w;
    const dhi = (hi ^ this.vhi) >>> 0;
    const dlo = (lo ^ this.vlo) >>> 0;
    if (dhi === 0 && dlo === 0) {
      w.writeBit(0);
      return;
    }
    w.writeBit(1);
    let leading = clz64(dhi, dlo);
    const trailing = ctz64(dhi, dlo);
    // Five bits hold the leading count.
    if (leading >= 32) leading = 31;
    if (this.leading !== NO_LEADING && leading >= this.leading && trailing >= this.trailing) {
      w.writeBit(0);
      writeShifted(w, dhi, dlo, this.trailing, 64 - this.leading - this.trailing);
      return;
    }
    this.leading = leading;
    this.trailing = trailing;
    const sig = 64 - leading - trailing;
    w.writeBit(1);
    w.writeBits(leading, 5);
    w.writeBits(sig & 63, 6);
    writeShifted(w, dhi, dlo, trailing, sig);
  }
}

/** Writes the n bits of (hi:lo) >> shift. */
function writeShifted(w: BitWriter, hi: number, lo: number, shift: number, n: number): void {
  let shi: number;
  let slo: number;
  if (shift === 0) {
    shi = hi;
    slo = lo;
  } else if (shift >= 32) {
    shi = 0;
    slo = hi >>> (shift - 32);
  } else {
    slo = ((lo >>> shift) | (hi << (32 - shift))) >>> 0;
    shi = hi >>> shift;
  }
  if (n > 32) {
    w.writeBits(shi, n - 32);
    w.writeBits(slo, 32);
  } else {
    w.writeBits(slo, n);
  }
}

/** Decodes a whole Prometheus XOR chunk, calling fn per sample; throws XorChunkError when corrupt. */
export function decodePromXor(data: Uint8Array, fn: (t: number, v: number) => void): void {
  if (data.length < 2) throw new XorChunkError('XOR chunk too short');
  const num = (data[0]! << 8) | data[1]!;
  const r = new BitReader();
  r.reset(data, 2, data.length);
  let t = 0;
  let tDelta = 0;
  let vhi = 0;
  let vlo = 0;
  let leading = 0;
  let trailing = 0;
  const need = (x: number): number => {
    if (x < 0) throw new XorChunkError('XOR chunk ends early');
    return x;
  };
  const uvarint = (): number => {
    let x = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = need(r.readBits(8));
      x += (b & 0x7f) * mul;
      if (b < 0x80) return x;
      mul *= 128;
    }
    throw new XorChunkError('XOR chunk: varint overflow');
  };
  const readValue = (): void => {
    if (need(r.readBit()) === 0) return;
    if (need(r.readBit()) === 1) {
      leading = need(r.readBits(5));
      let sig = need(r.readBits(6));
      if (sig === 0) sig = 64;
      trailing = 64 - leading - sig;
    }
    const sig = 64 - leading - trailing;
    let bhi = 0;
    let blo: number;
    if (sig > 32) {
      bhi = need(r.readBits(sig - 32));
      blo = need(r.readBits(32));
    } else {
      blo = need(r.readBits(sig));
    }
    // Shift (bhi:blo) left by trailing.
    let shi: number;
    let slo: number;
    if (trailing === 0) {
      shi = bhi;
      slo = blo;
    } else if (trailing >= 32) {
      shi = blo << (trailing - 32);
      slo = 0;
    } else {
      shi = (bhi << trailing) | (blo >>> (32 - trailing));
      slo = blo << trailing;
    }
    vhi = (vhi ^ shi) >>> 0;
    vlo = (vlo ^ slo) >>> 0;
  };
  for (let i = 0; i < num; i++) {
    if (i === 0) {
      const z = uvarint();
      t = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      vhi = need(r.readBits(32));
      vlo = need(r.readBits(32));
    } else if (i === 1) {
      tDelta = uvarint();
      t += tDelta;
      readValue();
    } else {
      let ones = 0;
      while (ones < 4 && need(r.readBit()) === 1) ones++;
      let dod = 0;
      if (ones === 4) {
        const h = need(r.readBits(32));
        const l = need(r.readBits(32));
        dod = (h | 0) * TWO32 + l;
      } else if (ones > 0) {
        const sz = ones === 1 ? 14 : ones === 2 ? 17 : 20;
        dod = need(r.readBits(sz));
        if (dod > 2 ** (sz - 1)) dod -= 2 ** sz;
      }
      tDelta += dod;
      t += tDelta;
      readValue();
    }
    fn(t, joinFloat(vhi, vlo));
  }
}
