// Room tsdb/chunkenc (sample compression): imports only model/ (the histogram
// types histogram_chunk.ts encodes).
//
// Gorilla-style chunks for float samples (our own format; Prometheus's XOR
// chunks were the model). A chunk is a 2-byte big-endian sample count, the
// first sample as a zigzag varint timestamp and the raw 64-bit value, the
// second as a uvarint timestamp delta and a <value>, and then per sample:
//
//   0                              same interval, same value
//   10 <changed>                   same interval (delta-of-delta 0), new value
//   110 <14 bits dod> <value>      delta-of-delta in [-8191, 8192]
//   1110 <17 bits dod> <value>     [-65535, 65536]
//   11110 <20 bits dod> <value>    [-524287, 524288]
//   11111 <64 bits dod> <value>
//
//   <value>   = 0 (unchanged) | 1 <changed>
//   <changed> = 0 <delta>                      N(v) - N(previous) at the current decimal scale
//             | 10 <bits>                      XOR, reusing the previous leading/trailing window
//             | 110 <5:lead> <6:sig> <bits>    XOR with a new window (sig 0 means 64)
//             | 111 <3:k> <delta>              switch to decimal scale k, then as 0 <delta>
//   <delta>   = 0+5 bits | 10+8 | 110+13 | 1110+22 | 11110+32 (two's complement)
//             | 11111 + sign + 53-bit magnitude
//
// Decimal mode: counters, histogram buckets and most gauges hold integers or
// short decimals whose small differences XOR poorly. A series carries a
// decimal scale k (0..7, starting at 0); at scale k a finite value v is
// representable when v = N / 10^k exactly for an integer |N| < 2^53. The
// decoder computes N(previous) = round(previous * 10^k) and the value as
// (N(previous) + delta) / 10^k; the encoder uses the form only when that
// gives back the value bit for bit (never for -0, NaN or infinities) and
// picks whichever form is shortest. The joint first bit makes a regular,
// unchanged sample cost one bit. 64-bit quantities are handled as pairs of
// uint32 halves (hi, lo) because JS bit operators work on 32 bits. See
// docs/storage-format.md.
import { BitWriter } from './bstream.js';
import { bitsHi, bitsLo, joinFloat, splitFloat } from './float_bits.js';

/** Bytes before the first sample: the big-endian sample count. */
export const CHUNK_HEADER_SIZE = 2;
/** Encoding byte written in block chunk files; distinct from Prometheus's XOR (1) since values differ. */
export const ENC_XOR = 0x81;
/**
 * Upper bound of bytes one append can add: a 64-bit delta-of-delta (5+64
 * bits) plus a value with new leading/trailing counts (1+3+5+6+64 bits) is
 * 148 bits; the first sample is at most a 10-byte varint plus 8 bytes.
 */
export const MAX_APPEND_BYTES = 20;
/** Initial leading-zero count, meaning "no previous XOR window". */
const NO_LEADING = 0xff;

const TWO32 = 0x1_0000_0000;
const TWO53 = 2 ** 53;
/** 2^i for the sign fix-ups of decoded deltas: `2 ** n` with a variable n is a slow call in V8, a table read is not. */
const POW2 = Float64Array.from({ length: 65 }, (_, i) => 2 ** i);
/** Largest decimal scale: 3 bits. */
const MAX_SCALE = 7;
const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000];

/** Bits of an encoded delta (without the value control bits). */
function deltaBits(d: number): number {
  if (d >= -16 && d < 16) return 1 + 5;
  if (d >= -128 && d < 128) return 2 + 8;
  if (d >= -4096 && d < 4096) return 3 + 13;
  if (d >= -2097152 && d < 2097152) return 4 + 22;
  if (d >= -2147483648 && d < 2147483648) return 5 + 32;
  return 5 + 1 + 53;
}

/** N with v = N / 10^k exactly, or NaN when v is not representable at scale k. */
function scaled(v: number, k: number): number {
  // k is a decimal scale, below POW10.length.
  const p = POW10[k]!;
  const n = Math.round(v * p);
  return Math.abs(n) < TWO53 && n / p === v ? n : NaN;
}

/**
 * Smallest scale at which v is representable, or -1. A value representable
 * at some scale k <= 7 is also representable at 7 (when |N| stays below
 * 2^53), so one check at 7 turns away arbitrary floats cheaply.
 */
function minScale(v: number): number {
  if (Number.isInteger(v)) return Math.abs(v) < TWO53 ? 0 : -1;
  const n7 = scaled(v, MAX_SCALE);
  if (n7 !== n7) return -1;
  for (let k = 1; k < MAX_SCALE; k++) if (scaled(v, k) === scaled(v, k)) return k;
  return MAX_SCALE;
}
/** Payload bits of the delta-of-delta buckets, indexed by the one bits after the leading 11. */
const DOD_BITS = [14, 17, 20];

function clz64(hi: number, lo: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

function ctz64(hi: number, lo: number): number {
  return lo !== 0 ? ctz32(lo) : 32 + ctz32(hi);
}

/**
 * Appends samples to a chunk held in someone else's bytes. The head keeps one
 * encoder and loads each series' state into it (flyweight), so no object
 * exists per series. The caller guarantees MAX_APPEND_BYTES of zeroed space
 * after the current end.
 */
export class XorEncoder {
  readonly w = new BitWriter();
  num = 0;
  t = 0;
  tDelta = 0;
  vhi = 0;
  vlo = 0;
  leading = NO_LEADING;
  trailing = 0;
  scale = 0;

  /** Starts an empty chunk at buf[base]. */
  start(buf: Uint8Array, base: number): void {
    this.w.buf = buf;
    this.w.base = base;
    this.w.bit = CHUNK_HEADER_SIZE * 8;
    this.num = 0;
    this.t = 0;
    this.tDelta = 0;
    this.vhi = 0;
    this.vlo = 0;
    this.leading = NO_LEADING;
    this.trailing = 0;
    this.scale = 0;
    buf[base] = 0;
    buf[base + 1] = 0;
  }

  /** Bytes used so far (header included). */
  byteLength(): number {
    return (this.w.bit + 7) >>> 3;
  }

  /** Appends a sample with t strictly greater than the previous one. */
  append(t: number, hi: number, lo: number): void {
    const w = this.w;
    const num = this.num;
    if (num === 0) {
      writeVarintBits(w, t);
      w.writeBits(hi, 32);
      w.writeBits(lo, 32);
    } else if (num === 1) {
      const d = t - this.t;
      writeUvarintBits(w, d);
      this.tDelta = d;
      this.writeValue(hi, lo);
    } else {
      const d = t - this.t;
      const dod = d - this.tDelta;
      if (dod === 0) {
        if (hi === this.vhi && lo === this.vlo) {
          w.writeBit(0);
        } else {
          w.writeBits(0b10, 2);
          this.writeChanged(hi, lo);
        }
      } else {
        if (dod >= -8191 && dod <= 8192) {
          w.writeBits(0b110, 3);
          w.writeBits(dod & 0x3fff, 14);
        } else if (dod >= -65535 && dod <= 65536) {
          w.writeBits(0b1110, 4);
          w.writeBits(dod & 0x1ffff, 17);
        } else if (dod >= -524287 && dod <= 524288) {
          w.writeBits(0b11110, 5);
          w.writeBits(dod & 0xfffff, 20);
        } else {
          w.writeBits(0b11111, 5);
          w.writeBits(Math.floor(dod / TWO32) >>> 0, 32);
          w.writeBits(dod >>> 0, 32);
        }
        this.tDelta = d;
        this.writeValue(hi, lo);
      }
    }
    this.t = t;
    this.vhi = hi;
    this.vlo = lo;
    this.num = num + 1;
    const b = w.buf;
    b[w.base] = (num + 1) >>> 8;
    b[w.base + 1] = (num + 1) & 0xff;
  }

  /** <value>: one bit for "unchanged", else 1 and <changed>. */
  private writeValue(hi: number, lo: number): void {
    if (hi === this.vhi && lo === this.vlo) {
      this.w.writeBit(0);
    } else {
      this.w.writeBit(1);
      this.writeChanged(hi, lo);
    }
  }

  /** <changed>: the shortest of the decimal and XOR forms of a value that differs from the previous one. */
  private writeChanged(hi: number, lo: number): void {
    const w = this.w;
    let dh = (hi ^ this.vhi) >>> 0;
    let dl = (lo ^ this.vlo) >>> 0;
    let lead = clz64(dh, dl);
    const trail = ctz64(dh, dl);
    // Five bits hold the leading count, so cap it at 31.
    if (lead >= 32) lead = 31;
    const reuse = this.leading !== NO_LEADING && lead >= this.leading && trail >= this.trailing;
    const xorBits = reuse ? 2 + 64 - this.leading - this.trailing : 3 + 11 + 64 - lead - trail;

    // Decimal form. -0 (hi 0x80000000, lo 0) would come back as +0, so it always goes XOR.
    const cur = joinFloat(hi, lo);
    if (Number.isFinite(cur) && !(hi === 0x80000000 && lo === 0)) {
      const prev = joinFloat(this.vhi, this.vlo);
      const k = this.scale;
      const n = scaled(cur, k);
      const p = scaled(prev, k);
      let best = xorBits;
      let mode = 0;
      let delta = 0;
      // n === n: not NaN, i.e. representable.
      if (n === n && p === p && Math.abs(n - p) < TWO53) {
        delta = n - p;
        const c = 1 + deltaBits(delta);
        if (c <= best) {
          best = c;
          mode = 1;
        }
      }
      // A cheaper scale: needed when the current one fails, worth trying when it is not 0.
      if (k !== 0 || mode === 0) {
        const k2 = minScale(cur);
        if (k2 >= 0 && k2 !== k) {
          const n2 = scaled(cur, k2);
          const p2 = scaled(prev, k2);
          if (p2 === p2 && Math.abs(n2 - p2) < TWO53 && 6 + deltaBits(n2 - p2) < best) {
            mode = 2;
            this.scale = k2;
            delta = n2 - p2;
          }
        }
      }
      if (mode === 1) {
        w.writeBit(0);
        writeDelta(w, delta);
        return;
      }
      if (mode === 2) {
        w.writeBits(0b111, 3);
        w.writeBits(this.scale, 3);
        writeDelta(w, delta);
        return;
      }
    }

    let sig: number;
    let shift: number;
    if (reuse) {
      w.writeBits(0b10, 2);
      shift = this.trailing;
      sig = 64 - this.leading - this.trailing;
    } else {
      this.leading = lead;
      this.trailing = trail;
      w.writeBits(0b110, 3);
      w.writeBits(lead, 5);
      sig = 64 - lead - trail;
      // 64 significant bits do not fit in 6 bits; 0 stands for 64 (0 itself never occurs).
      w.writeBits(sig & 63, 6);
      shift = trail;
    }
    if (shift >= 32) {
      dl = dh >>> (shift - 32);
      dh = 0;
    } else if (shift > 0) {
      dl = ((dl >>> shift) | (dh << (32 - shift))) >>> 0;
      dh = dh >>> shift;
    }
    if (sig > 32) {
      w.writeBits(dh, sig - 32);
      w.writeBits(dl, 32);
    } else {
      w.writeBits(dl, sig);
    }
  }
}

function writeDelta(w: BitWriter, d: number): void {
  if (d >= -16 && d < 16) {
    w.writeBit(0);
    w.writeBits(d & 0x1f, 5);
  } else if (d >= -128 && d < 128) {
    w.writeBits(0b10, 2);
    w.writeBits(d & 0xff, 8);
  } else if (d >= -4096 && d < 4096) {
    w.writeBits(0b110, 3);
    w.writeBits(d & 0x1fff, 13);
  } else if (d >= -2097152 && d < 2097152) {
    w.writeBits(0b1110, 4);
    w.writeBits(d & 0x3fffff, 22);
  } else if (d >= -2147483648 && d < 2147483648) {
    w.writeBits(0b11110, 5);
    w.writeBits(d >>> 0, 32);
  } else {
    w.writeBits(0b11111, 5);
    const m = Math.abs(d);
    w.writeBit(d < 0 ? 1 : 0);
    w.writeBits(Math.floor(m / TWO32), 21);
    w.writeBits(m >>> 0, 32);
  }
}

/** Payload bits of the value delta buckets, indexed by the number of leading one bits. */
const DELTA_BITS = [5, 8, 13, 22, 32];

function writeUvarintBits(w: BitWriter, v: number): void {
  while (v >= 0x80) {
    w.writeBits((v % 0x80) | 0x80, 8);
    v = Math.floor(v / 0x80);
  }
  w.writeBits(v, 8);
}

function writeVarintBits(w: BitWriter, v: number): void {
  writeUvarintBits(w, v >= 0 ? v * 2 : -v * 2 - 1);
}

/** A standalone chunk with its own growable buffer (compaction, backfill, tests). */
export class XORChunk {
  private buf = new Uint8Array(128);
  private readonly enc = new XorEncoder();

  constructor() {
    this.enc.start(this.buf, 0);
  }

  numSamples(): number {
    return this.enc.num;
  }


  append(t: number, hi: number, lo: number): void {
    const need = this.enc.byteLength() + MAX_APPEND_BYTES;
    if (need > this.buf.length) {
      const nb = new Uint8Array(Math.max(need, this.buf.length * 2));
      nb.set(this.buf);
      this.buf = nb;
      this.enc.w.buf = nb;
    }
    this.enc.append(t, hi, lo);
  }

  /** The encoded bytes (a view that stays valid until the next append). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.enc.byteLength());
  }
}

/**
 * Bytes the decoder may read past a chunk's last byte: the widest sample
 * (MAX_APPEND_BYTES) plus its 4-byte read window. A chunk closer than this to
 * the end of its array is copied into the iterator's own padded buffer, so
 * reads never leave the array; bits past the end are read but never used
 * (each sample checks that it ended within the chunk).
 */
const READ_PAD = 32;
/** The initial buffer of every iterator (one shared array: iterators are made per series and query). */
const NO_BYTES = new Uint8Array(0);

/**
 * Decodes a chunk without allocating per sample: next() advances, t()/v()
 * read the current sample, vhi/vlo hold the raw value bits. Bits are read
 * through a 32-bit window (four bytes at once), so a control prefix and the
 * payload behind it cost one read instead of one per bit.
 */
export class XorIterator {
  private buf: Uint8Array = NO_BYTES;
  /** Absolute bit position in buf, and the end of the chunk's bits. */
  private pos = 0;
  private endBit = 0;
  /** Padded copy of a chunk that ends too near the end of its array. */
  private scratch: Uint8Array = NO_BYTES;
  private numTotal = 0;
  private numRead = 0;
  private tDelta = 0;
  private leading = 0;
  private trailing = 0;
  private scale = 0;
  ts = 0;
  // The current value is held as bits (hi, lo) and/or as a number: decimal
  // samples produce a number, XOR samples bits; each is derived from the
  // other only when needed. NaNs only ever travel as bits, so their payload
  // (the staleness marker) is kept exactly.
  private hi = 0;
  private lo = 0;
  private val = 0;
  private bitsOk = true;
  private numOk = false;
  /** round(val * 10^scale), known after a decimal sample at the current scale (saves the multiplication and rounding). */
  private scaledVal = 0;
  private scaledOk = false;
  error: Error | null = null;

  /** Iterates the chunk in buf[start, end); `count` limits the samples read (-1: use the header). */
  reset(buf: Uint8Array, start: number, end: number, count = -1): void {
    // The header's two bytes exist when end - start >= CHUNK_HEADER_SIZE.
    const hdr = end - start >= CHUNK_HEADER_SIZE ? (buf[start]! << 8) | buf[start + 1]! : 0;
    this.numTotal = count < 0 || count > hdr ? hdr : count;
    if (end + READ_PAD > buf.length && this.numTotal > 0) {
      const len = end - start;
      if (this.scratch.length < len + READ_PAD) this.scratch = new Uint8Array(len + READ_PAD);
      this.scratch.set(buf.subarray(start, end));
      this.scratch.fill(0, len, len + READ_PAD);
      buf = this.scratch;
      end = len;
      start = 0;
    }
    this.buf = buf;
    this.pos = (start + CHUNK_HEADER_SIZE) * 8;
    this.endBit = end * 8;
    this.numRead = 0;
    this.ts = 0;
    this.tDelta = 0;
    this.hi = 0;
    this.lo = 0;
    this.bitsOk = true;
    this.numOk = false;
    this.scaledOk = false;
    this.leading = 0;
    this.trailing = 0;
    this.scale = 0;
    this.error = null;
  }

  /** Makes (t, bits hi:lo) the current sample, known without decoding, and the chunk's last (next() then ends). */
  placeAt(t: number, hi: number, lo: number): void {
    this.numTotal = 0;
    this.numRead = 0;
    this.ts = t;
    this.hi = hi;
    this.lo = lo;
    this.bitsOk = true;
    this.numOk = false;
    this.scaledOk = false;
    this.error = null;
  }

  /** High word of the current value's bit pattern. */
  valueHi(): number {
    this.syncBits();
    return this.hi;
  }

  /** Low word of the current value's bit pattern. */
  valueLo(): number {
    this.syncBits();
    return this.lo;
  }

  private syncBits(): void {
    if (!this.bitsOk) {
      splitFloat(this.val);
      this.hi = bitsHi();
      this.lo = bitsLo();
      this.bitsOk = true;
    }
  }

  v(): number {
    return this.numOk ? this.val : joinFloat(this.hi, this.lo);
  }

  /** Advances to the first sample at or after t; false when the chunk ends first (or on a decoding error). */
  seekTo(t: number): boolean {
    while (this.next()) if (this.ts >= t) return true;
    return false;
  }

  /**
   * The 32 bits from bit p on, as an int32 (the first at the top); the last
   * p & 7 are zeros, so at least 25 are real. Bytes i..i+3 are in the array:
   * p stays within a sample's reach of the chunk's end, READ_PAD covers it.
   */
  private window(p: number): number {
    const b = this.buf;
    const i = p >>> 3;
    return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) << (p & 7);
  }

  /** The next n bits (1 <= n <= 25) as an unsigned number. */
  private take(n: number): number {
    const v = this.window(this.pos) >>> (32 - n);
    this.pos += n;
    return v;
  }

  /** The next n bits (1 <= n <= 32) as an unsigned number. */
  private takeWide(n: number): number {
    if (n <= 25) return this.take(n);
    const hi = this.take(n - 16);
    return hi * 0x10000 + this.take(16);
  }

  private corrupt(): boolean {
    this.error = new Error(`corrupt XOR chunk: truncated after ${this.numRead} of ${this.numTotal} samples`);
    this.numTotal = this.numRead;
    return false;
  }

  /** Counts a sample that was decoded, or reports corruption when it ran past the chunk's end. */
  private done(): boolean {
    if (this.pos > this.endBit) return this.corrupt();
    this.numRead++;
    return true;
  }

  /** Advances; false at the end or on a decoding error (see error). */
  next(): boolean {
    if (this.numRead >= this.numTotal) return false;
    if (this.numRead < 2) return this.nextHead();
    const p = this.pos;
    const w = this.window(p);
    if (w >= 0) {
      // 0: same interval, same value.
      this.pos = p + 1;
      this.ts += this.tDelta;
      return this.done();
    }
    if ((w & 0x4000_0000) === 0) {
      // 10: same interval, new value; 10 0 <delta> in the decimal form, usually decoded from this window.
      this.ts += this.tDelta;
      if ((w & 0x2000_0000) === 0) {
        const r = this.shortDelta(w, p, 3);
        if (r >= 0) return r === 1;
      }
      this.pos = p + 2;
      return this.readChanged();
    }
    // 11 then 0, 10, 110 or 111 select the delta-of-delta bucket.
    const ones = Math.clz32(~(w << 2));
    let dod: number;
    if (ones >= 3) {
      this.pos = p + 5;
      const hi = this.takeWide(32);
      const lo = this.takeWide(32);
      dod = (hi | 0) * TWO32 + lo;
    } else {
      // ones < DOD_BITS.length in this branch.
      const n = DOD_BITS[ones]!;
      this.pos = p + 3 + ones;
      dod = this.take(n);
      // Negative values come back as large unsigned numbers; fold them back.
      if (dod > POW2[n - 1]!) dod -= POW2[n]!;
    }
    this.tDelta += dod;
    this.ts += this.tDelta;
    return this.readValue();
  }

  /** The first sample (varint time, raw value) and the second (uvarint delta, value). */
  private nextHead(): boolean {
    if (this.numRead === 0) {
      const u = this.readUvarint();
      if (u < 0) return this.corrupt();
      this.ts = u % 2 === 0 ? u / 2 : -(u + 1) / 2;
      this.hi = this.takeWide(32);
      this.lo = this.takeWide(32);
      this.bitsOk = true;
      this.numOk = false;
      return this.done();
    }
    const d = this.readUvarint();
    if (d < 0) return this.corrupt();
    this.tDelta = d;
    this.ts += d;
    return this.readValue();
  }

  private readUvarint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos + 8 > this.endBit) return -1;
      const c = this.take(8);
      result += (c & 0x7f) * mul;
      if (c < 0x80) return result;
      mul *= 0x80;
    }
    return -1;
  }

  /** <value>. */
  private readValue(): boolean {
    const p = this.pos;
    const w = this.window(p);
    this.pos = p + 1;
    if (w >= 0) return this.done();
    // 1 0 <delta>: the decimal form, usually short enough to decode from this window.
    if ((w & 0x4000_0000) === 0) {
      const r = this.shortDelta(w, p, 2);
      if (r >= 0) return r === 1;
    }
    return this.readChanged();
  }

  /** <changed>. */
  private readChanged(): boolean {
    const p = this.pos;
    const w = this.window(p);
    if (w >= 0) {
      this.pos = p + 1;
      return this.readDelta();
    }
    let sig: number;
    if ((w & 0x4000_0000) === 0) {
      // 10: the previous leading/trailing window.
      this.pos = p + 2;
      sig = 64 - this.leading - this.trailing;
    } else if ((w & 0x2000_0000) !== 0) {
      // 111: a new decimal scale, then a delta.
      this.scale = (w >>> 26) & 7;
      this.scaledOk = false;
      this.pos = p + 6;
      return this.readDelta();
    } else {
      // 110 <5:lead> <6:sig>.
      const lead = (w >>> 24) & 31;
      let s = (w >>> 18) & 63;
      if (s === 0) s = 64;
      this.pos = p + 14;
      this.leading = lead;
      this.trailing = 64 - lead - s;
      sig = s;
    }
    if (sig <= 0) return this.corrupt();
    let dh: number;
    let dl: number;
    if (sig > 32) {
      dh = this.takeWide(sig - 32);
      dl = this.takeWide(32);
    } else {
      dh = 0;
      dl = this.takeWide(sig);
    }
    const sh = this.trailing;
    if (sh >= 32) {
      dh = dl << (sh - 32);
      dl = 0;
    } else if (sh > 0) {
      dh = (dh << sh) | (dl >>> (32 - sh));
      dl = dl << sh;
    }
    this.syncBits();
    this.hi = (this.hi ^ dh) >>> 0;
    this.lo = (this.lo ^ dl) >>> 0;
    this.numOk = false;
    this.scaledOk = false;
    return this.done();
  }

  private readDelta(): boolean {
    const p = this.pos;
    const ones = Math.clz32(~this.window(p));
    let d: number;
    if (ones < 5) {
      // ones < 5 = DELTA_BITS.length.
      const n = DELTA_BITS[ones]!;
      this.pos = p + ones + 1;
      d = this.takeWide(n);
      if (d >= POW2[n - 1]!) d -= POW2[n]!;
    } else {
      this.pos = p + 5;
      const neg = this.take(1);
      const hi = this.take(21);
      const lo = this.takeWide(32);
      d = hi * TWO32 + lo;
      if (neg === 1) d = -d;
    }
    return this.addDelta(d);
  }

  /**
   * A decimal delta of at most 13 bits whose prefix starts `at` bits into the
   * window w read at bit p (the common case of counters and gauges), decoded
   * from w without further reads. Returns 1 for a decoded sample, 0 for a
   * corrupt chunk, -1 when the delta is longer (the caller reads it).
   */
  private shortDelta(w: number, p: number, at: number): number {
    const ones = Math.clz32(~(w << at));
    // ones < 3 < DELTA_BITS.length; at + ones + 1 + 13 <= 25 bits, all within the window.
    if (ones >= 3) return -1;
    const n = DELTA_BITS[ones]!;
    const skip = at + ones + 1;
    let d = (w << skip) >>> (32 - n);
    if (d >= POW2[n - 1]!) d -= POW2[n]!;
    this.pos = p + skip + n;
    return this.addDelta(d) ? 1 : 0;
  }

  /** Applies a decimal delta to the value at the current scale. */
  private addDelta(d: number): boolean {
    // scale is a decimal scale, below POW10.length.
    const k = POW10[this.scale]!;
    let n: number;
    if (this.scaledOk) {
      n = this.scaledVal;
    } else {
      // The previous value is finite here (the encoder never uses this form after NaN or infinities).
      n = Math.round((this.numOk ? this.val : joinFloat(this.hi, this.lo)) * k);
    }
    // The encoder checked that (n + d) / 10^k reads back as the value, so round(value * 10^k) is n + d.
    n += d;
    this.scaledVal = n;
    this.scaledOk = true;
    this.val = n / k;
    this.numOk = true;
    this.bitsOk = false;
    return this.done();
  }
}
