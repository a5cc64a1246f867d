// Byte-level scanning shared by the text and OpenMetrics parsers: token and
// lexer-state numbers, character classes, float parsing straight from bytes,
// quoting input into error messages and undoing label-value escapes.
import { goQuoteBytes } from '../../gofmt/quote.js';

// Tokens, named in errors exactly as Prometheus names them.
export const enum Tok {
  INVALID = -1,
  EOF = 0,
  LINEBREAK = 1,
  WHITESPACE = 2,
  HELP = 3,
  TYPE = 4,
  UNIT = 5,
  EOFWORD = 6,
  TEXT = 7,
  COMMENT = 8,
  MNAME = 9,
  QSTRING = 10,
  BRACE_OPEN = 11,
  BRACE_CLOSE = 12,
  LNAME = 13,
  LVALUE = 14,
  COMMA = 15,
  EQUAL = 16,
  TIMESTAMP = 17,
  VALUE = 18,
}

export const TOKEN_NAMES: Record<number, string> = {
  [Tok.INVALID]: 'INVALID',
  [Tok.EOF]: 'EOF',
  [Tok.LINEBREAK]: 'LINEBREAK',
  [Tok.WHITESPACE]: 'WHITESPACE',
  [Tok.HELP]: 'HELP',
  [Tok.TYPE]: 'TYPE',
  [Tok.UNIT]: 'UNIT',
  [Tok.EOFWORD]: 'EOFWORD',
  [Tok.TEXT]: 'TEXT',
  [Tok.COMMENT]: 'COMMENT',
  [Tok.MNAME]: 'MNAME',
  [Tok.QSTRING]: 'QSTRING',
  [Tok.BRACE_OPEN]: 'BOPEN',
  [Tok.BRACE_CLOSE]: 'BCLOSE',
  [Tok.LNAME]: 'LNAME',
  [Tok.LVALUE]: 'LVALUE',
  [Tok.COMMA]: 'COMMA',
  [Tok.EQUAL]: 'EQUAL',
  [Tok.TIMESTAMP]: 'TIMESTAMP',
  [Tok.VALUE]: 'VALUE',
};

// Lexer states.
export const enum St {
  INIT = 0,
  COMMENT = 1,
  META1 = 2,
  META2 = 3,
  LABELS = 4,
  LVALUE = 5,
  VALUE = 6,
  TIMESTAMP = 7,
  EXEMPLAR = 8,
  EVALUE = 9,
  ETIMESTAMP = 10,
}

// Bytes the lexers look for.
export const enum Ch {
  NL = 0x0a,
  SP = 0x20,
  TAB = 0x09,
  HASH = 0x23,
  QUOTE = 0x22,
  BACKSLASH = 0x5c,
  LBRACE = 0x7b,
  RBRACE = 0x7d,
  COMMA = 0x2c,
  EQUAL = 0x3d,
}

// Character classes as lookup tables (index 0 is never a member: 0 also stands for end of input).
export const M_START = new Uint8Array(256); // [a-zA-Z_:]
export const M_CONT = new Uint8Array(256); // [a-zA-Z0-9_:]
export const L_START = new Uint8Array(256); // [a-zA-Z_]
export const L_CONT = new Uint8Array(256); // [a-zA-Z0-9_]
export const DIGIT = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const alpha = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
  const digit = c >= 0x30 && c <= 0x39;
  M_START[c] = alpha || c === 0x3a ? 1 : 0;
  M_CONT[c] = alpha || digit || c === 0x3a ? 1 : 0;
  L_START[c] = alpha ? 1 : 0;
  L_CONT[c] = alpha || digit ? 1 : 0;
  DIGIT[c] = digit ? 1 : 0;
}

// Per-string flags recorded while lexing quoted strings, so decoding knows what work is needed.
export const enum Flag {
  QUOTED = 1,
  ESCAPE = 2,
  HIGH = 4,
}

/** Growth step of the offsets array; a line with more labels than this grows it (bounded by the body). */
export const INITIAL_LABEL_SLOTS = 32;

/** Message of the last failed float parse (null on success); avoids allocating result objects. */
export let floatError: string | null = null;

/** Exact powers of ten representable as doubles, for the fast decimal path. */
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/**
 * Parses b[s:e] as Go's strconv.ParseFloat would after Prometheus's extra rule (no `p`,
 * `P` or `_`). On failure returns NaN and sets floatError to Go's message.
 */
export function parseFloatBytes(b: Uint8Array, s: number, e: number): number {
  floatError = null;
  // Callers pass s <= e <= b.length, and every read below checks i < e first.
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c === 0x70 || c === 0x50 || c === 0x5f) {
      floatError = 'unsupported character in float';
      return NaN;
    }
  }
  let i = s;
  let neg = false;
  if (i < e && (b[i] === 0x2b || b[i] === 0x2d)) {
    neg = b[i] === 0x2d;
    i++;
  }
  if (i < e && (b[i]! | 0x20) === 0x69) {
    // inf or infinity, any case, optionally signed.
    const rest = e - i;
    if ((rest === 3 || rest === 8) && matchesFold(b, i, e, 'infinity')) return neg ? -Infinity : Infinity;
    return syntaxError(b, s, e);
  }
  if (i === s && i < e && (b[i]! | 0x20) === 0x6e) {
    if (e - i === 3 && matchesFold(b, i, e, 'nan')) return NaN;
    return syntaxError(b, s, e);
  }
  let mant = 0;
  let digits = 0;
  let sigDigits = 0;
  let exp10 = 0;
  let sawDot = false;
  let exact = true;
  for (; i < e; i++) {
    const c = b[i]!;
    if (c >= 0x30 && c <= 0x39) {
      digits++;
      if (mant === 0 && c === 0x30) {
        if (sawDot) exp10--;
        continue;
      }
      sigDigits++;
      if (sigDigits <= 15) {
        mant = mant * 10 + (c - 0x30);
        if (sawDot) exp10--;
      } else {
        exact = false;
        if (!sawDot) exp10++;
      }
    } else if (c === 0x2e && !sawDot) {
      sawDot = true;
    } else break;
  }
  if (digits === 0) return syntaxError(b, s, e);
  if (i < e) {
    const c = b[i]!;
    if (c !== 0x65 && c !== 0x45) return syntaxError(b, s, e);
    i++;
    let eneg = false;
    if (i < e && (b[i] === 0x2b || b[i] === 0x2d)) {
      eneg = b[i] === 0x2d;
      i++;
    }
    if (i >= e) return syntaxError(b, s, e);
    let ev = 0;
    for (; i < e; i++) {
      const d = b[i]!;
      if (d < 0x30 || d > 0x39) return syntaxError(b, s, e);
      if (ev < 100000) ev = ev * 10 + (d - 0x30);
    }
    exp10 += eneg ? -ev : ev;
  }
  let v: number;
  if (exact && mant === 0) v = 0;
  else if (exact && exp10 >= -22 && exp10 <= 22) {
    // Both operands are exact doubles, so one multiplication or division rounds correctly.
    v = exp10 >= 0 ? mant * POW10[exp10]! : mant / POW10[-exp10]!; // |exp10| <= 22 < POW10.length
  } else {
    v = Number(latin1(b, neg ? s + 1 : s, e));
    if (!Number.isFinite(v)) {
      floatError = `strconv.ParseFloat: parsing ${quoteCtx(b, s, e)}: value out of range`;
      return NaN;
    }
  }
  return neg ? -v : v;
}

function syntaxError(b: Uint8Array, s: number, e: number): number {
  floatError = `strconv.ParseFloat: parsing ${quoteCtx(b, s, e)}: invalid syntax`;
  return NaN;
}

function matchesFold(b: Uint8Array, s: number, e: number, word: string): boolean {
  // s <= i < e <= b.length.
  for (let i = s; i < e; i++) if ((b[i]! | 0x20) !== word.charCodeAt(i - s)) return false;
  return true;
}

/** FNV-1a over b[s:e], folded to 30 bits so it stays a small integer (a cheap Map key): a series' seriesHash(). */
export function bytesHash(b: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  // Callers pass s <= e <= b.length: every b[i] is in range.
  for (let i = s; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return (h ^ (h >>> 30)) & 0x3fffffff;
}

/** True when b[s:e] equals key, a latin1 string of such bytes (a seriesKey()). */
export function bytesAre(b: Uint8Array, s: number, e: number, key: string): boolean {
  const n = e - s;
  if (key.length !== n) return false;
  for (let i = 0; i < n; i++) if (key.charCodeAt(i) !== b[s + i]) return false;
  return true;
}

export function latin1(b: Uint8Array, s: number, e: number): string {
  return Buffer.prototype.latin1Slice.call(b, s, e);
}

export function utf8(b: Uint8Array, s: number, e: number): string {
  return Buffer.prototype.utf8Slice.call(b, s, e);
}

/**
 * Bytes of input quoted into an error message. Prometheus quotes the whole entry; a
 * hostile line can be megabytes long, so only its last MAX_ERROR_CONTEXT bytes (where
 * parsing stopped) are kept, after a "...".
 */
const MAX_ERROR_CONTEXT = 512;

export function quoteCtx(b: Uint8Array, s: number, e: number): string {
  if (e - s <= MAX_ERROR_CONTEXT) return goQuoteBytes(b, s, e);
  let from = e - MAX_ERROR_CONTEXT;
  // Start on a character boundary so the excerpt does not begin with a broken sequence.
  while (from < e && (b[from]! & 0xc0) === 0x80) from++; // from < e <= b.length
  return '...' + goQuoteBytes(b, from, e);
}

/** Undoes the escapes Prometheus's label-value replacer knows: \\ \" \n (others stay as written). */
export function unescape(s: string, withQuote: boolean): string {
  if (s.indexOf('\\') < 0) return s;
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length - 1; i++) {
    if (s.charCodeAt(i) !== Ch.BACKSLASH) continue;
    const n = s.charCodeAt(i + 1);
    let rep: string | null = null;
    if (n === Ch.BACKSLASH) rep = '\\';
    else if (n === 0x6e) rep = '\n';
    else if (n === Ch.QUOTE && withQuote) rep = '"';
    if (rep === null) continue;
    out += s.slice(last, i) + rep;
    i++;
    last = i + 1;
  }
  return out + s.slice(last);
}
