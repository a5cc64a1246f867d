// Writes JSON text straight into a byte buffer: no intermediate strings, so encoding a log line
// leaves no garbage behind (the query log encodes one line per query).

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HEX = Buffer.from('0123456789abcdef');
/** "00" ... "99" as little-endian 16-bit words: numbers are written two digits per division. */
const DIGIT_PAIRS = new Uint16Array(100);
for (let i = 0; i < 100; i++) DIGIT_PAIRS[i] = (0x30 + ((i / 10) | 0)) | ((0x30 + (i % 10)) << 8);

/**
 * A fixed piece of text (a key with its punctuation), pre-split into 32-bit little-endian words.
 * Written with DataView stores, which the JIT turns into plain moves, it costs less than a call to
 * Uint8Array.prototype.set, whose fixed cost dominates for the 10-60 bytes of a key.
 */
export interface Literal {
  readonly words: Uint32Array;
  readonly tail: Uint8Array;
  readonly length: number;
}

export function literal(text: string): Literal {
  const b = Buffer.from(text);
  const n = b.length >> 2;
  const words = new Uint32Array(n);
  for (let i = 0; i < n; i++) words[i] = b.readUInt32LE(4 * i);
  return { words, tail: new Uint8Array(b.subarray(4 * n)), length: b.length };
}

/** The letter after the backslash for characters JSON.stringify escapes by name; 0 = written as \u00XX. */
const SHORT_ESCAPE = new Uint8Array(0x80);
SHORT_ESCAPE[QUOTE] = QUOTE;
SHORT_ESCAPE[BACKSLASH] = BACKSLASH;
SHORT_ESCAPE[0x08] = 0x62; // b
SHORT_ESCAPE[0x09] = 0x74; // t
SHORT_ESCAPE[0x0a] = 0x6e; // n
SHORT_ESCAPE[0x0c] = 0x66; // f
SHORT_ESCAPE[0x0d] = 0x72; // r

/** `uXXXX` (after a backslash the caller wrote), lowercase hex as JSON.stringify writes it; returns the new offset. */
function hexEscape(b: Buffer, p: number, c: number): number {
  b[p++] = 0x75;
  // Each index is masked to 0-15, within the 16 hex digits.
  b[p++] = HEX[(c >> 12) & 15]!;
  b[p++] = HEX[(c >> 8) & 15]!;
  b[p++] = HEX[(c >> 4) & 15]!;
  b[p++] = HEX[c & 15]!;
  return p;
}

export class ByteWriter {
  private buf_: Buffer;
  /** The same bytes as buf, for multi-byte stores. */
  private view: DataView;
  pos = 0;

  constructor(buf: Buffer) {
    this.buf_ = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  }

  get buf(): Buffer {
    return this.buf_;
  }

  /** Restarts at offset `at` of `buf`. */
  reset(buf: Buffer, at = 0): void {
    if (buf !== this.buf_) this.use(buf);
    this.pos = at;
  }

  /** Makes sure `n` more bytes fit, moving what is written so far to a larger buffer if needed. */
  ensure(n: number): void {
    if (this.buf_.length - this.pos >= n) return;
    const bigger = Buffer.allocUnsafe(this.pos + n);
    this.buf_.copy(bigger, 0, 0, this.pos);
    this.use(bigger);
  }

  private use(buf: Buffer): void {
    this.buf_ = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  }

  lit(l: Literal): void {
    const v = this.view;
    const words = l.words;
    let p = this.pos;
    // Both loops index below their array's length.
    for (let k = 0; k < words.length; k++, p += 4) v.setUint32(p, words[k]!, true);
    const tail = l.tail;
    const b = this.buf_;
    for (let k = 0; k < tail.length; k++) b[p++] = tail[k]!;
    this.pos = p;
  }

  /** Pre-encoded bytes (the fixed parts of a line): one memcpy. */
  bytes(b: Uint8Array): void {
    this.buf_.set(b, this.pos);
    this.pos += b.length;
  }

  byte(c: number): void {
    this.buf_[this.pos++] = c;
  }

  /** Text known to be ASCII (keys, punctuation, formatted numbers). */
  ascii(s: string): void {
    const b = this.buf_;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /**
   * A JSON string literal with its quotes, byte for byte what JSON.stringify writes (UTF-8): printable
   * ASCII is copied in a tight loop; escapes, multi-byte characters and lone surrogates go to jsonRest.
   * The caller provides room for 6 bytes per UTF-16 unit plus the quotes.
   */
  jsonString(s: string): void {
    const b = this.buf_;
    let p = this.pos;
    b[p++] = QUOTE;
    const n = s.length;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c === QUOTE || c === BACKSLASH || c >= 0x80) break;
      b[p++] = c;
    }
    this.pos = p;
    if (i < n) this.jsonRest(s, i);
    this.buf_[this.pos++] = QUOTE;
  }

  /** The rest of a JSON string from index `i` (the first unit the fast loop could not copy). */
  private jsonRest(s: string, i: number): void {
    const b = this.buf_;
    let p = this.pos;
    for (const n = s.length; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        if (c >= 0x20 && c !== QUOTE && c !== BACKSLASH) {
          b[p++] = c;
          continue;
        }
        b[p++] = BACKSLASH;
        // c < 0x80 = SHORT_ESCAPE.length.
        const short = SHORT_ESCAPE[c]!;
        if (short !== 0) b[p++] = short;
        else p = hexEscape(b, p, c);
      } else if (c < 0x800) {
        b[p++] = 0xc0 | (c >> 6);
        b[p++] = 0x80 | (c & 0x3f);
      } else if (c < 0xd800 || c > 0xdfff) {
        b[p++] = 0xe0 | (c >> 12);
        b[p++] = 0x80 | ((c >> 6) & 0x3f);
        b[p++] = 0x80 | (c & 0x3f);
      } else {
        const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          b[p++] = 0xf0 | (cp >> 18);
          b[p++] = 0x80 | ((cp >> 12) & 0x3f);
          b[p++] = 0x80 | ((cp >> 6) & 0x3f);
          b[p++] = 0x80 | (cp & 0x3f);
          i++;
        } else {
          // A lone surrogate cannot be UTF-8; JSON.stringify writes it as an escape.
          b[p++] = BACKSLASH;
          p = hexEscape(b, p, c);
        }
      }
    }
    this.pos = p;
  }

  /** A non-negative integer below 2^53. */
  uint(n: number): void {
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    this.padded(n, digits);
  }

  /** Exactly `width` digits, zero-padded, of a non-negative integer below 2^53. */
  padded(n: number, width: number): void {
    const b = this.buf_;
    let p = this.pos + width;
    this.pos = p;
    let i = 0;
    // Big values first shed digits with float division; the rest use int32 arithmetic, much cheaper.
    for (; n > 0x7fffffff && i < width; i++, n = Math.floor(n / 10)) b[--p] = 0x30 + (n % 10);
    let x = n | 0;
    for (; i < width; i++) {
      const q = (x / 10) | 0;
      b[--p] = 0x30 + x - q * 10;
      x = q;
    }
  }

  /** Any finite number as JSON.stringify writes it (the rare case: not a small non-negative integer). */
  number(n: number): void {
    if (Number.isSafeInteger(n) && n >= 0) this.uint(n);
    else this.ascii(Number.isFinite(n) ? String(n) : '0');
  }

  /**
   * Seconds rounded to whole nanoseconds, as Go's durations are, so lines carry no float noise. The
   * digits come from the integer count of nanoseconds; the text equals the shortest form of the
   * rounded double, which is what Go's JSON encoder (and JSON.stringify) writes.
   */
  seconds(n: number): void {
    const ns = Math.round(n * 1e9);
    // Not positive, or less than half a nanosecond.
    if (!(ns > 0 && ns !== Infinity)) {
      this.buf_[this.pos++] = 0x30;
      return;
    }
    if (ns < 1000) {
      this.subMicroSeconds(ns);
      return;
    }
    // Past 2^53 ns (104 days) integers lose precision.
    if (ns > Number.MAX_SAFE_INTEGER) {
      this.ascii(String(ns / 1e9));
      return;
    }
    const whole = Math.floor(ns / 1e9);
    // Below 1e9, so int32 arithmetic is exact.
    let x = (ns - whole * 1e9) | 0;
    if (whole < 10) this.buf_[this.pos++] = 0x30 + whole;
    else this.uint(whole);
    if (x === 0) return;
    // All nine decimals, two per division, then the trailing zeros taken back.
    const b = this.buf_;
    const v = this.view;
    let p = this.pos;
    b[p] = 0x2e;
    // x - y * 100 is x % 100: within the 100 digit pairs.
    for (let q = p + 8; q > p + 1; q -= 2) {
      const y = (x / 100) | 0;
      v.setUint16(q, DIGIT_PAIRS[x - y * 100]!, true);
      x = y;
    }
    b[p + 1] = 0x30 + x;
    p += 10;
    while (b[p - 1] === 0x30) p--;
    this.pos = p;
  }

  /** 1 to 999 ns as seconds: below 1e-6 Go and JS write an exponent (`2.5e-7`). */
  private subMicroSeconds(ns: number): void {
    let exp = 9;
    let x = ns;
    while (x % 10 === 0) {
      x /= 10;
      exp--;
    }
    const b = this.buf_;
    let p = this.pos;
    if (x < 10) {
      b[p++] = 0x30 + x;
    } else if (x < 100) {
      b[p++] = 0x30 + ((x / 10) | 0);
      b[p++] = 0x2e;
      b[p++] = 0x30 + (x % 10);
      exp--;
    } else {
      b[p++] = 0x30 + ((x / 100) | 0);
      b[p++] = 0x2e;
      b[p++] = 0x30 + (((x / 10) | 0) % 10);
      b[p++] = 0x30 + (x % 10);
      exp -= 2;
    }
    b[p++] = 0x65; // e
    b[p++] = 0x2d; // -
    b[p++] = 0x30 + exp;
    this.pos = p;
  }
}
