// Writes JSON text straight into a byte buffer: no intermediate strings, so encoding a log line
// leaves no garbage behind (the query log encodes one line per query).

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HEX = Buffer.from('0123456789abcdef');

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
  b[p++] = HEX[(c >> 12) & 15]!;
  b[p++] = HEX[(c >> 8) & 15]!;
  b[p++] = HEX[(c >> 4) & 15]!;
  b[p++] = HEX[c & 15]!;
  return p;
}

export class ByteWriter {
  buf: Buffer;
  pos = 0;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  /** Restarts at offset 0 of `buf`. */
  reset(buf: Buffer): void {
    this.buf = buf;
    this.pos = 0;
  }

  /** Pre-encoded bytes (the fixed parts of a line): one memcpy. */
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  byte(c: number): void {
    this.buf[this.pos++] = c;
  }

  /** Text known to be ASCII (keys, punctuation, formatted numbers). */
  ascii(s: string): void {
    const b = this.buf;
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
    const b = this.buf;
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
    this.buf[this.pos++] = QUOTE;
  }

  /** The rest of a JSON string from index `i` (the first unit the fast loop could not copy). */
  private jsonRest(s: string, i: number): void {
    const b = this.buf;
    let p = this.pos;
    for (const n = s.length; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        if (c >= 0x20 && c !== QUOTE && c !== BACKSLASH) {
          b[p++] = c;
          continue;
        }
        b[p++] = BACKSLASH;
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
    const b = this.buf;
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
   * rounded double, which is what Go's JSON encoder writes.
   */
  seconds(n: number): void {
    if (!Number.isFinite(n) || n <= 0) {
      this.buf[this.pos++] = 0x30;
      return;
    }
    const ns = Math.round(n * 1e9);
    // Below 1µs Go (and JS) use exponent form; past 2^53 ns (104 days) integers lose precision.
    if (ns < 1000 || ns > Number.MAX_SAFE_INTEGER) {
      this.ascii(String(ns / 1e9));
      return;
    }
    const whole = Math.floor(ns / 1e9);
    // Below 1e9, so int32 arithmetic is exact.
    let frac = (ns - whole * 1e9) | 0;
    if (whole < 10) this.buf[this.pos++] = 0x30 + whole;
    else this.uint(whole);
    if (frac === 0) return;
    let width = 9;
    for (let q = (frac / 10) | 0; frac === q * 10; q = (frac / 10) | 0) {
      frac = q;
      width--;
    }
    this.buf[this.pos++] = 0x2e;
    this.padded(frac, width);
  }
}
