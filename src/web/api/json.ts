// JSON encoding that reproduces Prometheus's API output byte for byte.
//
// Prometheus encodes responses with json-iterator in its standard-library
// compatible mode, plus hand-written encoders for query results
// (web/api/v1/json_codec.go, util/jsonutil). That makes four number formats
// and three string escapings, each used in a definite place:
//
//   sample values (vector, matrix)   strconv 'f', or 'e' below 1e-6 and from 1e21  formatSampleValue
//   sample timestamps                integer seconds, '.', three digits ("1.500")  JsonWriter.point
//   scalar values                    strconv 'f' always                            formatF (gofmt)
//   scalar/string timestamps, stats  encoding/json float64 of ms/1000              formatUnixSeconds
//
//   label names and values           json-iterator WriteString: no HTML escaping   labelString
//   strings inside a string result   encoding/json: HTML-safe, \b and \f short     goJSONString
//   every other string               json-iterator HTML-safe: \b and \f as \u00XX  jsonString
//
// Query results go through JsonWriter, which writes bytes straight into
// fixed-size Buffer chunks: no string or object per point.
import { formatF } from '../../gofmt/float.js';
import type { FloatHistogram } from '../../model/histogram.js';
import { Labels } from '../../model/labels.js';
import type { InstantSample, QueryValue, RangeSeries, VectorColumns } from '../../promql/engine/types.js';

/** Already-encoded JSON, embedded verbatim by encodeJSON. */
export class RawJSON {
  constructor(readonly json: string) {}
}

// ---------------------------------------------------------------------------
// numbers

/**
 * A sample value as Prometheus's jsonutil.MarshalFloat writes it: strconv 'f'
 * format, but 'e' format (two-digit exponent at least, "1e-07") below 1e-6
 * and from 1e21.
 */
export function formatSampleValue(f: number): string {
  if (f !== f) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const s = String(f);
  // JS uses exponent form at exactly Go's cut-offs; it only writes one exponent digit where Go writes two.
  const e = s.indexOf('e');
  if (e < 0 || s.length - e !== 3) return s;
  return `${s.slice(0, e + 2)}0${s.slice(e + 2)}`;
}

/** encoding/json's float64 form of ms/1000 (scalar and string results, per-step stats): "1.5", "0.001". */
export function formatUnixSeconds(ms: number): string {
  // JS's shortest form equals Go's for every finite double, exponent cut-offs included.
  return String(ms / 1000);
}

/** A JSON number as encoding/json writes a float64 or int; non-finite values (which Go refuses) as null. */
export function formatJSONNumber(x: number): string {
  return Number.isFinite(x) ? String(x) : 'null';
}

// ---------------------------------------------------------------------------
// strings

const HEX = '0123456789abcdef';

function uEscape(c: number): string {
  return `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
}

/** Escape tables for the characters below 0x80; undefined = written as is. */
function asciiTable(html: boolean, shortBF: boolean): Array<string | undefined> {
  const t: Array<string | undefined> = new Array(128).fill(undefined);
  for (let c = 0; c < 0x20; c++) t[c] = uEscape(c);
  t[0x0a] = '\\n';
  t[0x0d] = '\\r';
  t[0x09] = '\\t';
  if (shortBF) {
    t[0x08] = '\\b';
    t[0x0c] = '\\f';
  }
  t[0x22] = '\\"';
  t[0x5c] = '\\\\';
  if (html) {
    t[0x3c] = '\\u003c';
    t[0x3e] = '\\u003e';
    t[0x26] = '\\u0026';
  }
  return t;
}

const LABEL_ESC = asciiTable(false, false);
const ITER_HTML_ESC = asciiTable(true, false);
const GO_STD_ESC = asciiTable(true, true);

function escapeWith(s: string, table: Array<string | undefined>, lineSeps: boolean): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if (c < 0x80) rep = table[c];
    else if (lineSeps && (c === 0x2028 || c === 0x2029)) rep = c === 0x2028 ? '\\u2028' : '\\u2029';
    if (rep === undefined) continue;
    out += s.slice(start, i) + rep;
    start = i + 1;
  }
  return `${out}${s.slice(start)}"`;
}

/** json-iterator's plain WriteString, as used for label names and values: only quotes, backslashes and control characters are escaped. */
export function labelString(s: string): string {
  return escapeWith(s, LABEL_ESC, false);
}

/** json-iterator's HTML-safe string (Prometheus's default for strings): also <, >, &, U+2028 and U+2029; \b and \f as \u0008 and \u000c. */
export function jsonString(s: string): string {
  return escapeWith(s, ITER_HTML_ESC, true);
}

/** Go's encoding/json string (inside a string result's MarshalJSON): HTML-safe, with \b and \f. */
export function goJSONString(s: string): string {
  return escapeWith(s, GO_STD_ESC, true);
}

/** A label set as a JSON object, in label order. */
export function labelsJSON(ls: Labels): string {
  let out = '{';
  for (let i = 0; i < ls.length; i++) {
    if (i > 0) out += ',';
    out += `${labelString(ls.nameAt(i))}:${labelString(ls.valueAt(i))}`;
  }
  return `${out}}`;
}

// ---------------------------------------------------------------------------
// byte writer

/**
 * Output is cut into chunks of this size: big enough that per-chunk costs
 * (a Buffer, a socket or gzip write) vanish next to encoding, small enough
 * that a streamed answer starts flowing quickly and stays cheap to hold.
 */
export const CHUNK_BYTES = 64 * 1024;

/** Longest text one point can produce: "[" timestamp "," quoted value "]" plus separators, with room to spare. */
const MAX_POINT_BYTES = 96;

/**
 * The first chunk of one writer at a time. Most answers are a few hundred
 * bytes, and a fresh 64 KiB Buffer for each cost more than encoding them; a
 * chunk sealed from it is copied out, which frees it for the next writer.
 */
const SCRATCH = Buffer.allocUnsafe(CHUNK_BYTES);
let scratchFree = true;
const EMPTY = Buffer.alloc(0);

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/** Appends JSON text to a list of Buffer chunks without building intermediate strings. */
export class JsonWriter {
  private buf: Buffer;
  private pos = 0;
  private readonly done: Buffer[] = [];
  private doneBytes = 0;
  /** The last non-integer value written, and where its text sits (chunks are never rewritten). */
  private lastValue = NaN;
  private lastBuf: Buffer = Buffer.alloc(0);
  private lastStart = 0;
  private lastEnd = 0;

  constructor() {
    if (scratchFree) {
      scratchFree = false;
      this.buf = SCRATCH;
    } else {
      this.buf = Buffer.allocUnsafe(CHUNK_BYTES);
    }
  }

  /** Makes room for n more bytes, sealing the current chunk when it is full. */
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.seal();
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, n));
  }

  /** Moves what the current chunk holds to the sealed chunks (out of the scratch buffer, which is then free). */
  private seal(): void {
    const b = this.buf;
    if (this.pos > 0) {
      let chunk = b.subarray(0, this.pos);
      if (b === SCRATCH) {
        chunk = Buffer.allocUnsafe(this.pos);
        b.copy(chunk, 0, 0, this.pos);
        if (this.lastBuf === b) this.lastBuf = chunk;
      }
      this.done.push(chunk);
      this.doneBytes += this.pos;
      this.pos = 0;
    }
    if (b === SCRATCH) {
      this.buf = EMPTY;
      scratchFree = true;
    }
  }

  /** Bytes sealed into chunks and not yet taken. */
  get pendingBytes(): number {
    return this.doneBytes;
  }

  /** Takes the sealed chunks (the one being filled stays). */
  takeChunks(): Buffer[] {
    const out = this.done.splice(0);
    this.doneBytes = 0;
    return out;
  }

  /** Seals and takes everything written. */
  finish(): Buffer[] {
    this.seal();
    this.buf = EMPTY;
    return this.takeChunks();
  }

  /** ASCII text as is (punctuation, keys known to need no escaping, formatted numbers). */
  ascii(s: string): void {
    const n = s.length;
    this.room(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  byte(c: number): void {
    this.room(1);
    this.buf[this.pos++] = c;
  }

  /** Already-encoded JSON (any Unicode). */
  raw(s: string): void {
    this.room(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** A label name or value, escaped as json-iterator's WriteString does. */
  labelString(s: string): void {
    const n = s.length;
    this.room(n + 2);
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) {
        // Rare: escapes or non-ASCII; drop what was copied and take the general path.
        this.raw(labelString(s));
        return;
      }
      b[p++] = c;
    }
    b[p++] = 0x22;
    this.pos = p;
  }

  labels(ls: Labels): void {
    this.byte(0x7b);
    for (let i = 0; i < ls.length; i++) {
      if (i > 0) this.byte(0x2c);
      this.labelString(ls.nameAt(i));
      this.byte(0x3a);
      this.labelString(ls.valueAt(i));
    }
    this.byte(0x7d);
  }

  /** A label set less __name__, __type__ and __unit__ (a sample whose name was removed). */
  labelsWithoutMetadata(ls: Labels): void {
    this.byte(0x7b);
    let first = true;
    for (let i = 0; i < ls.length; i++) {
      const name = ls.nameAt(i);
      if (name === '__name__' || name === '__type__' || name === '__unit__') continue;
      if (!first) this.byte(0x2c);
      first = false;
      this.labelString(name);
      this.byte(0x3a);
      this.labelString(ls.valueAt(i));
    }
    this.byte(0x7d);
  }

  /** `[timestamp,{"count":..,"sum":..,"buckets":[..]}]` as Prometheus writes a histogram point. */
  histogramPoint(t: number, h: FloatHistogram): void {
    this.room(MAX_POINT_BYTES);
    this.buf[this.pos++] = 0x5b;
    this.pos = writeTimestamp(this.buf, this.pos, t);
    this.buf[this.pos++] = 0x2c;
    this.ascii(histogramJSON(h));
    this.byte(0x5d);
  }

  /** `[timestamp,"value"]` as Prometheus writes a float point. */
  point(t: number, f: number): void {
    this.room(MAX_POINT_BYTES);
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x5b;
    p = writeTimestamp(b, p, t);
    b[p++] = 0x2c;
    b[p++] = 0x22;
    if (Number.isInteger(f) && f < INT_FAST_LIMIT && f > -INT_FAST_LIMIT) {
      p = writeInteger(b, p, f);
    } else if (f === this.lastValue) {
      // Steps finer than the scrape interval repeat each reading: copy its text.
      const src = this.lastBuf;
      // lastStart..lastEnd is the span of src that the last fraction was written to.
      for (let i = this.lastStart; i < this.lastEnd; i++) b[p++] = src[i]!;
    } else {
      this.lastBuf = b;
      this.lastStart = p;
      p = writeFraction(b, p, f);
      this.lastEnd = p;
      this.lastValue = f;
    }
    b[p++] = 0x22;
    b[p++] = 0x5d;
    this.pos = p;
  }
}

/** "00".."99" as bytes, to write two digits per division. */
const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 48 + (i & 1 ? (i >> 1) % 10 : ((i >> 1) / 10) | 0));

/** Writes a non-negative integer below 2^53 (so at most 16 digits); returns the new position. */
function writeUint(b: Buffer, p: number, n: number): number {
  // Indices below: len < 16 = POW10.length; r + 1 = 2 * (a two-digit number) + 1 < 200 = DIGIT_PAIRS.length.
  // Epoch seconds, the most frequent number here, have 10 digits: start there.
  let len = n >= 1e9 ? 10 : 1;
  while (len < 16 && n >= POW10[len]!) len++;
  let end = p + len;
  const stop = end;
  let x = n;
  // Above 2^31, peel off the low 8 digits with double arithmetic first (exact below 2^53).
  if (x >= 0x80000000) {
    const hi = Math.floor(x / 1e8);
    let lo = (x - hi * 1e8) | 0;
    for (let i = 0; i < 4; i++) {
      const q = (lo / 100) | 0;
      const r = (lo - q * 100) << 1;
      b[--end] = DIGIT_PAIRS[r + 1]!;
      b[--end] = DIGIT_PAIRS[r]!;
      lo = q;
    }
    x = hi;
  }
  let y = x | 0;
  while (y >= 100) {
    const q = (y / 100) | 0;
    const r = (y - q * 100) << 1;
    b[--end] = DIGIT_PAIRS[r + 1]!;
    b[--end] = DIGIT_PAIRS[r]!;
    y = q;
  }
  if (y >= 10) {
    b[--end] = DIGIT_PAIRS[(y << 1) + 1]!;
    b[--end] = DIGIT_PAIRS[y << 1]!;
  } else if (end > p) {
    b[--end] = 48 + y;
  }
  return stop;
}

function writeTimestamp(b: Buffer, p: number, t: number): number {
  if (t < 0) {
    b[p++] = 0x2d;
    t = -t;
  }
  const sec = Math.floor(t / 1000);
  const frac = t - sec * 1000;
  p = writeUint(b, p, sec);
  if (frac !== 0) {
    // frac < 1000, so r + 1 < 200 = DIGIT_PAIRS.length.
    const h = (frac / 100) | 0;
    const r = (frac - h * 100) << 1;
    b[p++] = 0x2e;
    b[p++] = 48 + h;
    b[p++] = DIGIT_PAIRS[r]!;
    b[p++] = DIGIT_PAIRS[r + 1]!;
  }
  return p;
}

// Below this magnitude every integer is exact and prints without an exponent.
const INT_FAST_LIMIT = 2 ** 53;

/** An integer-valued double below 2^53 in magnitude, "-0" included. */
function writeInteger(b: Buffer, p: number, f: number): number {
  if (f < 0) {
    b[p++] = 0x2d;
    return writeUint(b, p, -f);
  }
  if (f === 0 && Object.is(f, -0)) b[p++] = 0x2d;
  return writeUint(b, p, f);
}

/** Any value that is not an integer below 2^53: NaN, infinities, fractions, huge values. */
function writeFraction(b: Buffer, p: number, f: number): number {
  const q = writeShortest(b, p, f);
  if (q >= 0) return q;
  const s = formatSampleValue(f);
  for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
  return p;
}

/**
 * Writes a non-integer with 1e-6 <= |f| < 1e15 as its shortest round-trip
 * decimal (what Go and JS print) without going through a string; returns -1
 * for the rare cases it leaves to String().
 *
 * The shortest form has 15 digits or fewer, 16, or 17; each is tried in turn.
 * - At most 15 digits: such decimals lie further apart than a double's
 *   rounding interval is wide, so at most one reads back as f, and rounding
 *   f * 10^k finds it (error below 0.25); `m / 10^k === f` tests it exactly
 *   (m and 10^k are exact, the division correctly rounded). Dropping its
 *   trailing zeros gives the shortest form: a shorter one would be another
 *   such decimal.
 * - 16 digits: f * 10^k is formed exactly as two doubles. A candidate m reads
 *   back as f when its distance to that product is below half an ulp of f,
 *   scaled (exact too: a power of two times 10^k), or a quarter of an ulp
 *   below a power of two, where the spacing of doubles halves. The nearest
 *   candidate that passes is the answer; if the nearest fails, the interval
 *   lies on the other side, where only the next candidate can pass.
 * - 17 digits: some 17-digit decimal always reads back, and the shortest form
 *   is then the one nearest to f: the exact product rounded.
 * Candidates at an exact tie or at the very edge of the interval, decided by
 * round-half-even, go to String().
 */
function writeShortest(b: Buffer, p: number, f: number): number {
  const a = f < 0 ? -f : f;
  if (!(a >= 1e-6 && a < 1e15)) return -1;
  // Short decimals (most gauges and counters) first: the fewest decimals k at
  // which round(a * 10^k) / 10^k reads back as a. With at most 15 digits no
  // other decimal of that length reads back, so it is the shortest form (what
  // the 15-digit case below finds, for less work). A value with up to 6
  // decimals reads back at 6 too, so one test at 6 turns the others away.
  const m6 = Math.round(a * 1e6);
  // From 1e9 on, a * 10^6 passes 15 digits but fewer decimals may still fit.
  if (m6 >= 1e15 || m6 / 1e6 === a) {
    for (let k = 1; k <= MAX_SHORT_DECIMALS; k++) {
      const s = POW10[k]!;
      const m = Math.round(a * s);
      if (m >= 1e15) break;
      if (m / s === a) return writeDecimal(b, p, f < 0, m, k);
    }
  }
  // Indices below: e stays in -6..14, so e + 1 <= 14 < POW10.length, -e <= 5 < NEG_POW10.length and
  // 14 - e .. 16 - e lie in 0..22 (POW10_UP_TO_22); HI_WORD < 2 = BITS_U32.length; the exponent is masked below 2048.
  // e = floor(log10(a)), by comparisons (each power here is exact or the least double above it),
  // searching up from 1 since most readings are small.
  let e = 0;
  if (a >= 1) {
    while (e < 14 && a >= POW10[e + 1]!) e++;
  } else {
    e = -1;
    while (e > -6 && a < NEG_POW10[-e]!) e--;
  }
  const s15 = POW10_UP_TO_22[14 - e]!;
  const m15 = Math.round(a * s15);
  if (m15 / s15 === a && m15 < 1e15) {
    writeDigits(m15, 0, 1e8, 15);
    return emitDigits(b, p, f < 0, e, 15);
  }

  const s16 = POW10_UP_TO_22[15 - e]!;
  const hi = twoProduct(a, s16);
  const lo = productError;
  // The nearest integer to hi + lo, as r + adj (above 2^53, r + 1 would not be a double).
  const r = Math.round(hi);
  const frac = hi - r + lo; // hi - r is exact (Sterbenz)
  const adj = frac > 0.5 ? 1 : frac < -0.5 ? -1 : 0;
  const dist = frac - adj; // exact product minus the candidate
  BITS_F64[0] = a;
  const half = HALF_ULP[(BITS_U32[HI_WORD]! >>> 20) & 0x7ff]! * s16;
  // Below a power of two (mantissa bits all zero) the next double down is half as far.
  const halfBelow = (BITS_U32[HI_WORD]! & 0xfffff) === 0 && BITS_U32[LO_WORD] === 0 ? half / 2 : half;
  const fit = readsBack(dist, half, halfBelow);
  if (fit < 0) return -1;
  if (fit === 1) return writeDigits(r, adj, 1e8, 16) ? emitDigits(b, p, f < 0, e, 16) : -1;
  const other = dist > 0 ? adj + 1 : adj - 1;
  const fitOther = readsBack(frac - other, half, halfBelow);
  if (fitOther < 0) return -1;
  if (fitOther === 1) return writeDigits(r, other, 1e8, 16) ? emitDigits(b, p, f < 0, e, 16) : -1;

  const s17 = POW10_UP_TO_22[16 - e]!;
  const h = twoProduct(a, s17);
  const l = productError;
  // h >= 1e16 > 2^53 is an integer, so the nearest integer is h + round(l).
  const rl = Math.round(l);
  if (Math.abs(Math.abs(l - rl) - 0.5) < TIE_SLACK) return -1;
  if (!writeDigits(h, rl, 1e9, 17)) return -1;
  return emitDigits(b, p, f < 0, e, 17);
}

/** Decimals the short path of writeShortest covers before the general one. */
const MAX_SHORT_DECIMALS = 6;

/** Writes m / 10^k (m < 1e15, 1 <= k <= MAX_SHORT_DECIMALS, m not a multiple of 10) in fixed notation. */
function writeDecimal(b: Buffer, p: number, neg: boolean, m: number, k: number): number {
  // k indexes POW10 below 16. The quotient's floor is exact: m < 1e15 leaves the
  // doubles near it far closer together than the fraction's distance to the next integer.
  const s = POW10[k]!;
  const ip = Math.floor(m / s);
  let fr = m - ip * s;
  if (neg) b[p++] = 0x2d;
  p = writeUint(b, p, ip);
  b[p++] = 0x2e;
  // fr < 10^6 fits an int32; its k digits go right to left, leading zeros included.
  for (let i = p + k - 1; i >= p; i--) {
    const d = (fr / 10) | 0;
    b[i] = 48 + fr - d * 10;
    fr = d;
  }
  return p + k;
}

/** 1 when a candidate at `dist` below the exact product reads back, 0 when not, -1 when too close to the edge to say. */
function readsBack(dist: number, half: number, halfBelow: number): number {
  // dist > 0: the candidate lies below f.
  const margin = (dist > 0 ? halfBelow : half) - Math.abs(dist);
  if (Math.abs(margin) < TIE_SLACK) return -1;
  return margin > 0 ? 1 : 0;
}

/**
 * Puts the digits of the integer r + adj (r a double below 2^57, adj small)
 * at DIGITS[1..n], split exactly at `low` (1e8 or 1e9: the low part's width).
 * False when r + adj does not have exactly n digits.
 */
function writeDigits(r: number, adj: number, low: number, n: number): boolean {
  let q = Math.floor(r / low);
  // q * low formed exactly as two doubles; r minus it is exact (Sterbenz), and all terms are integers.
  const qp = twoProduct(q, low);
  let rest = r - qp - productError + adj;
  while (rest < 0) {
    rest += low;
    q--;
  }
  while (rest >= low) {
    rest -= low;
    q++;
  }
  const lowDigits = low === 1e8 ? 8 : 9;
  // n is 15..17, so both POW10 indices lie in 5..9.
  if (!(q >= POW10[n - lowDigits - 1]! && q < POW10[n - lowDigits]!)) return false;
  let lo32 = rest | 0;
  let hi32 = q | 0;
  for (let i = n; i > n - lowDigits; i--) {
    const d = (lo32 / 10) | 0;
    DIGITS[i] = 48 + lo32 - d * 10;
    lo32 = d;
  }
  for (let i = n - lowDigits; i > 0; i--) {
    const d = (hi32 / 10) | 0;
    DIGITS[i] = 48 + hi32 - d * 10;
    hi32 = d;
  }
  return true;
}

/** Distances this close to an edge are left undecided: far beyond the error of the sums forming them, far below any real gap. */
const TIE_SLACK = 1e-9;

/** Half an ulp of a double, by its biased exponent. */
const HALF_ULP = Float64Array.from({ length: 2048 }, (_, be) => 2 ** (Math.max(be, 1) - 1076));
const BITS_F64 = new Float64Array(1);
const BITS_U32 = new Uint32Array(BITS_F64.buffer);
// Little-endian hosts keep the low word first.
const LO_WORD = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1 ? 0 : 1;
const HI_WORD = 1 - LO_WORD;

/** Veltkamp's splitter for doubles: 2^27 + 1. */
const SPLITTER = 134217729;
/** The rounding error of the last twoProduct (module-level so the hot path allocates nothing). */
let productError = 0;

/** Dekker's exact product: returns fl(x * y) and leaves x * y - fl(x * y) in productError. */
function twoProduct(x: number, y: number): number {
  const prod = x * y;
  let t = SPLITTER * x;
  const xh = t - (t - x);
  const xl = x - xh;
  t = SPLITTER * y;
  const yh = t - (t - y);
  const yl = y - yh;
  productError = xh * yh - prod + xh * yl + xl * yh + xl * yl;
  return prod;
}

/** Writes DIGITS[1..n] (d1.d2... x 10^e) in fixed notation without trailing fraction zeros. */
function emitDigits(b: Buffer, p: number, neg: boolean, e: number, n: number): number {
  // Digits 1..intEnd-1 are the integer part (none when e < 0).
  const intEnd = e >= 0 ? e + 2 : 1;
  let last = n;
  while (last >= intEnd && DIGITS[last] === 48) last--;
  if (neg) b[p++] = 0x2d;
  // Both DIGITS loops stay in 1..n, n <= 17 < DIGITS.length.
  if (e >= 0) {
    for (let i = 1; i < intEnd; i++) b[p++] = DIGITS[i]!;
  } else {
    b[p++] = 48;
  }
  b[p++] = 0x2e;
  for (let i = e; i < -1; i++) b[p++] = 48;
  for (let i = intEnd; i <= last; i++) b[p++] = DIGITS[i]!;
  return p;
}

/** Scratch for writeShortest: the digits of a scaled value at indices 1..17. */
const DIGITS = new Uint8Array(18);
const NEG_POW10 = [1, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5];
// 10^k is exact in a double up to 10^22.
const POW10_UP_TO_22 = [
  1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

// ---------------------------------------------------------------------------
// query results

/**
 * Encodes a query result's `result` member into w, handing control back
 * (yield) whenever at least a chunk is ready, so that callers can stream big
 * answers and keep the event loop responsive.
 */
export function* writeQueryResult(w: JsonWriter, v: QueryValue): Generator<void, void, undefined> {
  switch (v.type) {
    case 'scalar':
      w.ascii(`[${formatUnixSeconds(v.t)},"${formatF(v.v)}"]`);
      return;
    case 'string':
      w.raw(`[${formatUnixSeconds(v.t)},${goJSONString(v.v)}]`);
      return;
    case 'vector':
      if (v.columns !== undefined) yield* writeVectorColumns(w, v.columns);
      else yield* writeVector(w, v.samples);
      return;
    case 'matrix':
      yield* writeMatrix(w, v.series);
      return;
  }
}

/**
 * A histogram as Prometheus's jsonutil writes it: count and sum as strings,
 * then its non-empty buckets from the lowest, each [boundary rule, lower,
 * upper, count] where the rule is 0 for (a,b], 1 for [a,b), 2 for (a,b) and
 * 3 for [a,b].
 */
export function histogramJSON(h: FloatHistogram): string {
  let s = `{"count":"${formatSampleValue(h.count)}","sum":"${formatSampleValue(h.sum)}"`;
  let first = true;
  for (const b of h.allBucketIterator()) {
    if (b.count === 0) continue;
    s += first ? ',"buckets":[' : ',';
    first = false;
    const rule = b.lowerInclusive ? (b.upperInclusive ? 3 : 1) : b.upperInclusive ? 0 : 2;
    s += `[${rule},"${formatSampleValue(b.lower)}","${formatSampleValue(b.upper)}","${formatSampleValue(b.count)}"]`;
  }
  if (!first) s += ']';
  return `${s}}`;
}

function* writeVector(w: JsonWriter, samples: readonly InstantSample[]): Generator<void, void, undefined> {
  w.byte(0x5b);
  // i < samples.length.
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    w.ascii(i === 0 ? '{"metric":' : ',{"metric":');
    w.labels(s.metric);
    if (s.h !== undefined) {
      w.ascii(',"histogram":');
      w.histogramPoint(s.t, s.h);
    } else {
      w.ascii(',"value":');
      w.point(s.t, s.f);
    }
    w.byte(0x7d);
    if (w.pendingBytes > 0) yield;
  }
  w.byte(0x5d);
}

function* writeVectorColumns(w: JsonWriter, c: VectorColumns): Generator<void, void, undefined> {
  w.byte(0x5b);
  // i < c.n, which never exceeds the lengths of c.metrics and c.vs.
  for (let i = 0; i < c.n; i++) {
    w.ascii(i === 0 ? '{"metric":' : ',{"metric":');
    if (c.drop[i] === 1) w.labelsWithoutMetadata(c.metrics[i]!);
    else w.labels(c.metrics[i]!);
    const h = c.hs?.[i];
    if (h !== undefined) {
      w.ascii(',"histogram":');
      w.histogramPoint(c.t, h);
    } else {
      w.ascii(',"value":');
      w.point(c.t, c.vs[i]!);
    }
    w.byte(0x7d);
    if (w.pendingBytes > 0) yield;
  }
  w.byte(0x5d);
}

function* writeMatrix(w: JsonWriter, series: readonly RangeSeries[]): Generator<void, void, undefined> {
  w.byte(0x5b);
  // i < series.length; j < n = ts.length = fs.length.
  for (let i = 0; i < series.length; i++) {
    const s = series[i]!;
    w.ascii(i === 0 ? '{"metric":' : ',{"metric":');
    w.labels(s.metric);
    const ts = s.ts;
    const fs = s.fs;
    const n = ts.length;
    // A series without float points has no "values" member at all, as in Prometheus.
    if (n > 0) {
      w.ascii(',"values":[');
      for (let j = 0; j < n; j++) {
        if (j > 0) w.byte(0x2c);
        w.point(ts[j]!, fs[j]!);
        if (w.pendingBytes > 0) yield;
      }
      w.byte(0x5d);
    }
    const hs = s.hs;
    const hts = s.hts;
    if (hs !== undefined && hts !== undefined && hs.length > 0) {
      w.ascii(',"histograms":[');
      // j < hs.length = hts.length.
      for (let j = 0; j < hs.length; j++) {
        if (j > 0) w.byte(0x2c);
        w.histogramPoint(hts[j]!, hs[j]!);
        if (w.pendingBytes > 0) yield;
      }
      w.byte(0x5d);
    }
    w.byte(0x7d);
  }
  w.byte(0x5d);
}

/** A JSON array of label sets, yielding whenever a chunk is ready. */
export function* writeLabelSets(w: JsonWriter, sets: readonly Labels[]): Generator<void, void, undefined> {
  w.byte(0x5b);
  // i < sets.length.
  for (let i = 0; i < sets.length; i++) {
    if (i > 0) w.byte(0x2c);
    w.labels(sets[i]!);
    if (w.pendingBytes > 0) yield;
  }
  w.byte(0x5d);
}

// ---------------------------------------------------------------------------
// everything else

/**
 * Encodes plain data (objects, arrays, strings, numbers, booleans, null,
 * RawJSON, Labels, values with toJSON) as json-iterator's standard-library
 * mode does. Object keys keep insertion order; undefined members are left
 * out as encoding/json's omitempty does.
 */
export function encodeJSON(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'string':
      return jsonString(v);
    case 'number':
      return formatJSONNumber(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'object': {
      if (v instanceof RawJSON) return v.json;
      if (v instanceof Labels) return labelsJSON(v);
      if (Array.isArray(v)) return `[${v.map(encodeJSON).join(',')}]`;
      const withToJSON = v as { toJSON?: () => unknown };
      if (typeof withToJSON.toJSON === 'function') return encodeJSON(withToJSON.toJSON());
      const parts: string[] = [];
      for (const [k, val] of Object.entries(v)) {
        if (val === undefined) continue;
        parts.push(`${jsonString(k)}:${encodeJSON(val)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      return 'null';
  }
}
