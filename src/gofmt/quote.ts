// gofmt: Go's and Prometheus's text conventions (strconv quoting, float and
// duration formats, string order), kept once so every message, label value and
// printed query reads exactly as Prometheus writes it. A leaf: it imports
// nothing from src/ (node built-ins only). This file: quoting, unquoting and
// string order.
//
// Raw bytes that do not form valid UTF-8 (which Go strings may hold, e.g. from
// a "\xff" escape) are kept as lone surrogates U+DC80..U+DCFF, the convention
// Python calls "surrogateescape". Such strings are not well-formed UTF-16, so
// label-name validation rejects them as Prometheus rejects invalid UTF-8, and
// goQuote prints them back as `\xff`.

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isGoPrintable(cp: number): boolean {
  if (cp < 0x7f) return cp >= 0x20;
  return PRINTABLE.test(String.fromCodePoint(cp));
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function escapeCodePoint(cp: number, quote: number, out: string[]): void {
  if (cp === quote || cp === 0x5c) {
    out.push('\\', String.fromCharCode(cp));
    return;
  }
  if (isGoPrintable(cp)) {
    out.push(String.fromCodePoint(cp));
    return;
  }
  switch (cp) {
    case 0x07:
      out.push('\\a');
      return;
    case 0x08:
      out.push('\\b');
      return;
    case 0x0c:
      out.push('\\f');
      return;
    case 0x0a:
      out.push('\\n');
      return;
    case 0x0d:
      out.push('\\r');
      return;
    case 0x09:
      out.push('\\t');
      return;
    case 0x0b:
      out.push('\\v');
      return;
  }
  if (cp < 0x20 || cp === 0x7f) out.push('\\x', hex(cp, 2));
  else if (cp < 0x10000) out.push('\\u', hex(cp, 4));
  else out.push('\\U', hex(cp, 8));
}

function quoteWith(s: string, quote: number): string {
  const out: string[] = [String.fromCharCode(quote)];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        escapeCodePoint(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000, quote, out);
        i++;
        continue;
      }
    }
    if (c >= 0xdc80 && c <= 0xdcff) {
      // An escaped raw byte (see the header comment).
      out.push('\\x', hex(c - 0xdc00, 2));
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // Any other lone surrogate: Go would see its three WTF-8 bytes, none valid UTF-8.
      out.push('\\x', hex(0xe0 | (c >> 12), 2), '\\x', hex(0x80 | ((c >> 6) & 0x3f), 2), '\\x', hex(0x80 | (c & 0x3f), 2));
    } else {
      escapeCodePoint(c, quote, out);
    }
  }
  out.push(String.fromCharCode(quote));
  return out.join('');
}

/** Go's strconv.Quote. */
export function goQuote(s: string): string {
  // Fast path: printable ASCII without quotes or backslashes needs no escaping.
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f || c === 0x22 || c === 0x5c) {
      plain = false;
      break;
    }
  }
  return plain ? `"${s}"` : quoteWith(s, 0x22);
}

/** Go's fmt `%.Nq`: the first n code points of s, quoted. */
export function goQuoteTruncated(s: string, n: number): string {
  return goQuote(Array.from(s).slice(0, n).join(''));
}

/** Go's strconv.QuoteRune; -1 (end of input) prints as the replacement character, as Go does. */
export function goQuoteRune(cp: number): string {
  if (cp < 0) cp = 0xfffd;
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
  const out: string[] = ["'"];
  escapeCodePoint(cp, 0x27, out);
  out.push("'");
  return out.join('');
}

/** Go's fmt `%#U`: `U+0063 'c'`, without the quoted character when it is not printable. */
export function goUnicodeVerbose(cp: number): string {
  if (cp < 0) cp = 0xfffd;
  const code = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return isGoPrintable(cp) ? `${code} '${String.fromCodePoint(cp)}'` : code;
}

/** Thrown by unquoteString for text the lexer would not have produced. */
export class UnquoteError extends Error {
  override readonly name = 'UnquoteError';
  constructor() {
    super('invalid syntax');
  }
}

function unhex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

function pushUtf8(cp: number, bytes: number[]): void {
  if (cp < 0x80) bytes.push(cp);
  else if (cp < 0x800) bytes.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  else if (cp < 0x10000) bytes.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  else bytes.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
}

/** Decodes b[start..end) as UTF-8, turning each byte of an invalid sequence into a lone surrogate (see header). */
function decodeBytes(b: ArrayLike<number>, start: number, end: number): string {
  let out = '';
  let i = start;
  // start <= i < end <= b.length, and i + need < end is checked before reading ahead:
  // every read below is in range.
  while (i < end) {
    const c = b[i]!;
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    }
    let need = 0;
    let cp = 0;
    let min = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      cp = c & 0x1f;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      cp = c & 0x0f;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      cp = c & 0x07;
      min = 0x10000;
    }
    let ok = need > 0 && i + need < end;
    for (let k = 1; ok && k <= need; k++) {
      const d = b[i + k]!;
      if ((d & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (d & 0x3f);
    }
    if (ok && cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) {
      out += String.fromCodePoint(cp);
      i += need + 1;
    } else {
      out += String.fromCharCode(0xdc00 + c);
      i++;
    }
  }
  return out;
}

/**
 * Go's strconv.Quote of the bytes b[start..end), e.g. a piece of a scraped body
 * or a remote-write symbol: invalid UTF-8 prints as `\xNN`, as Go prints it.
 */
export function goQuoteBytes(b: Uint8Array, start: number, end: number): string {
  return goQuote(decodeBytes(b, start, end));
}

/**
 * Unquotes a PromQL string literal as Prometheus's strutil.Unquote does: "..."
 * and '...' (any length) with Go escapes, `...` raw and kept as written.
 * `\x` and octal escapes produce bytes. Throws UnquoteError.
 */
export function unquote(s: string): string {
  return unquoteWith(s, false);
}

/**
 * Go's strconv.Unquote: like unquote, but a single-quoted literal holds exactly
 * one character and a raw string loses its carriage returns.
 */
export function goUnquote(s: string): string {
  return unquoteWith(s, true);
}

function unquoteWith(s: string, strconv: boolean): string {
  const n = s.length;
  if (n < 2) throw new UnquoteError();
  const quote = s.charCodeAt(0);
  if (quote !== s.charCodeAt(n - 1)) throw new UnquoteError();
  const body = s.slice(1, n - 1);
  if (quote === 0x60) {
    if (body.includes('`')) throw new UnquoteError();
    return strconv ? body.replaceAll('\r', '') : body;
  }
  if (quote !== 0x22 && quote !== 0x27) throw new UnquoteError();
  if (body.includes('\n')) throw new UnquoteError();
  const out = unescapeBody(body, quote);
  if (strconv && quote === 0x27 && Array.from(out).length !== 1) throw new UnquoteError();
  return out;
}

function unescapeBody(body: string, quote: number): string {
  if (!body.includes('\\') && !body.includes(String.fromCharCode(quote))) return body;
  const bytes: number[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body.charCodeAt(i);
    if (c === quote) throw new UnquoteError();
    if (c !== 0x5c) {
      // i < body.length: there is a code point at i.
      const cp = body.codePointAt(i)!;
      if (cp >= 0xdc80 && cp <= 0xdcff) bytes.push(cp - 0xdc00);
      else pushUtf8(cp, bytes);
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    if (i + 1 >= body.length) throw new UnquoteError();
    const e = body.charCodeAt(i + 1);
    i += 2;
    switch (e) {
      case 0x61: // a
        bytes.push(7);
        break;
      case 0x62: // b
        bytes.push(8);
        break;
      case 0x66: // f
        bytes.push(12);
        break;
      case 0x6e: // n
        bytes.push(10);
        break;
      case 0x72: // r
        bytes.push(13);
        break;
      case 0x74: // t
        bytes.push(9);
        break;
      case 0x76: // v
        bytes.push(11);
        break;
      case 0x5c:
        bytes.push(0x5c);
        break;
      case 0x27:
      case 0x22:
        if (e !== quote) throw new UnquoteError();
        bytes.push(e);
        break;
      case 0x78: // x
      case 0x75: // u
      case 0x55: {
        // U
        const len = e === 0x78 ? 2 : e === 0x75 ? 4 : 8;
        if (i + len > body.length) throw new UnquoteError();
        let v = 0;
        for (let j = 0; j < len; j++) {
          const d = unhex(body.charCodeAt(i + j));
          if (d < 0) throw new UnquoteError();
          v = v * 16 + d;
        }
        i += len;
        if (e === 0x78) bytes.push(v);
        else {
          if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw new UnquoteError();
          pushUtf8(v, bytes);
        }
        break;
      }
      default: {
        if (e < 0x30 || e > 0x37 || i + 2 > body.length) throw new UnquoteError();
        let v = e - 0x30;
        for (let j = 0; j < 2; j++) {
          const d = body.charCodeAt(i + j) - 0x30;
          if (d < 0 || d > 7) throw new UnquoteError();
          v = (v << 3) | d;
        }
        i += 2;
        if (v > 255) throw new UnquoteError();
        bytes.push(v);
      }
    }
  }
  return decodeBytes(bytes, 0, bytes.length);
}

/** Length of s in UTF-8 bytes (lone surrogates count as the raw byte or three bytes, as Go would see them). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else if (c >= 0xdc80 && c <= 0xdcff) n += 1;
    else n += 3;
  }
  return n;
}
