// Number and string formatting that reproduces Go's strconv/fmt output, so
// error messages, annotations and generated label values read exactly as
// Prometheus writes them.

interface Digits {
  /** Significant decimal digits without trailing zeros ("0" for zero). */
  d: string;
  /** Position of the decimal point relative to the first digit. */
  dp: number;
}

function digitsOf(absX: number, sig?: number): Digits {
  if (absX === 0) return { d: '0', dp: 1 };
  const e = sig === undefined ? absX.toExponential() : absX.toExponential(sig - 1);
  const at = e.indexOf('e');
  const mant = e.slice(0, at).replace('.', '');
  const exp = Number(e.slice(at + 1));
  return { d: mant.replace(/0+$/, '') || '0', dp: exp + 1 };
}

function special(x: number): string | null {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  return null;
}

function fmtE(neg: boolean, g: Digits, prec: number): string {
  let s = neg ? '-' : '';
  s += g.d[0] ?? '0';
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) s += g.d[i] ?? '0';
  }
  const exp = g.d === '0' ? 0 : g.dp - 1;
  const ae = Math.abs(exp);
  return `${s}e${exp < 0 ? '-' : '+'}${ae < 10 ? '0' : ''}${ae}`;
}

function fmtF(neg: boolean, g: Digits, prec: number): string {
  let s = neg ? '-' : '';
  if (g.dp > 0) {
    for (let i = 0; i < g.dp; i++) s += g.d[i] ?? '0';
  } else {
    s += '0';
  }
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) {
      const j = g.dp + i - 1;
      s += j >= 0 && j < g.d.length ? g.d[j] : '0';
    }
  }
  return s;
}

/** Go's strconv.FormatFloat(x, 'g', prec, 64); prec -1 means the shortest exact form (fmt's %v / %g). */
export function formatG(x: number, prec = -1): string {
  const sp = special(x);
  if (sp !== null) return sp;
  const neg = x < 0 || Object.is(x, -0);
  const shortest = prec < 0;
  let p = prec === 0 ? 1 : prec;
  const g = digitsOf(Math.abs(x), shortest ? undefined : p);
  if (shortest) p = g.d.length;
  let eprec = p;
  if (eprec > g.d.length && g.d.length >= g.dp) eprec = g.d.length;
  if (shortest) eprec = 6;
  const exp = g.dp - 1;
  if (exp < -4 || exp >= eprec) {
    if (p > g.d.length) p = g.d.length;
    return fmtE(neg, g, p - 1);
  }
  if (p > g.dp) p = g.d.length;
  return fmtF(neg, g, Math.max(p - g.dp, 0));
}

/** Go's strconv.FormatFloat(x, 'f', -1, 64): shortest digits, never an exponent. */
export function formatF(x: number): string {
  const sp = special(x);
  if (sp !== null) return sp;
  const neg = x < 0 || Object.is(x, -0);
  const g = digitsOf(Math.abs(x));
  return fmtF(neg, g, Math.max(g.d.length - g.dp, 0));
}

/** Go's strconv.Quote (the %q verb): double quotes with Go escapes. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (c < 0x20 || c === 0x7f) {
      out += '\\x' + c.toString(16).padStart(2, '0');
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // A lone surrogate cannot be encoded in UTF-8; Go shows the replacement character.
      out += '\\ufffd';
    } else if ((c >= 0x80 && c < 0xa0) || c === 0xad) {
      out += c <= 0xff ? '\\u00' + c.toString(16).padStart(2, '0') : ch;
    } else {
      out += ch;
    }
  }
  return out + '"';
}

/** Go's time.Time.Format(time.RFC3339) for a whole-second UTC timestamp in ms. */
export function formatRFC3339(ms: number): string {
  const d = new Date(Math.trunc(ms / 1000) * 1000);
  return d.toISOString().replace('.000Z', 'Z');
}

const DECIMAL_FLOAT = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const HEX_FLOAT = /^([+-]?)0[xX]((?:[0-9a-fA-F](?:_?[0-9a-fA-F])*)?)(?:\.([0-9a-fA-F](?:_?[0-9a-fA-F])*)?)?[pP]([+-]?\d+)$/;
const SPECIAL_FLOAT = /^([+-]?)(inf|infinity|nan)$/i;

/**
 * Go's strconv.ParseFloat(s, 64): decimal and hexadecimal literals with
 * optional underscores between digits, "inf"/"infinity"/"nan" in any case.
 * Null for what Go rejects, including values out of float64 range.
 */
export function parseGoFloat(s: string): number | null {
  const sp = SPECIAL_FLOAT.exec(s);
  if (sp !== null) {
    if (sp[2]!.toLowerCase() === 'nan') return NaN;
    return sp[1] === '-' ? -Infinity : Infinity;
  }
  let v: number;
  if (DECIMAL_FLOAT.test(s)) {
    v = Number(s.replace(/_/g, ''));
  } else {
    const h = HEX_FLOAT.exec(s);
    if (h === null) return null;
    const intPart = (h[2] ?? '').replace(/_/g, '');
    const fracPart = (h[3] ?? '').replace(/_/g, '');
    if (intPart === '' && fracPart === '') return null;
    let mant = 0;
    for (const c of intPart + fracPart) mant = mant * 16 + parseInt(c, 16);
    v = mant * Math.pow(2, Number(h[4]) - 4 * fracPart.length);
    if (h[1] === '-') v = -v;
  }
  if (!Number.isFinite(v)) return null;
  return v;
}
