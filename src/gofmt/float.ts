// Part of gofmt (see quote.ts): numbers parsed and printed with Go's strconv
// rules (ParseInt with base prefixes, ParseFloat, FormatFloat 'g' and 'f') and
// Prometheus's OpenMetrics float format.
import { goQuote } from './quote.js';

/** Go's strconv.NumError: `strconv.ParseFloat: parsing "x": invalid syntax`. */
export class NumError extends Error {
  override readonly name = 'NumError';
  constructor(
    readonly func: string,
    readonly num: string,
    readonly reason: 'invalid syntax' | 'value out of range',
  ) {
    super(`strconv.${func}: parsing ${goQuote(num)}: ${reason}`);
  }
}

const MAX_INT64 = (1n << 63n) - 1n;

function lower(c: number): number {
  return c | 0x20;
}

/** Go's underscoreOK: underscores only between digits, or between a base prefix and a digit. */
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0') {
    const p = lower(s.charCodeAt(1));
    if (p === 0x62 || p === 0x6f || p === 0x78) {
      i = 2;
      saw = '0';
      hex = p === 0x78;
    }
  }
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const lc = lower(c);
    if ((c >= 0x30 && c <= 0x39) || (hex && lc >= 0x61 && lc <= 0x66)) {
      saw = '0';
      continue;
    }
    if (c === 0x5f) {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** Go's strconv.ParseInt(s, 0, 64): the value, or null when Go returns an error (callers then try ParseFloat). */
export function parseGoInt(s: string): number | null {
  // Plain decimal integers below 2^53 need no BigInt: the common case.
  if (s.length <= 15 && /^(?:0|[1-9][0-9]*)$/.test(s)) return Number(s);
  let body = s;
  let neg = false;
  if (body[0] === '+' || body[0] === '-') {
    neg = body[0] === '-';
    body = body.slice(1);
  }
  if (body === '') return null;
  let base = 10;
  let digits = body;
  if (body[0] === '0') {
    const p = body.length > 1 ? lower(body.charCodeAt(1)) : 0;
    if (p === 0x78) {
      base = 16;
      digits = body.slice(2);
    } else if (p === 0x62) {
      base = 2;
      digits = body.slice(2);
    } else if (p === 0x6f) {
      base = 8;
      digits = body.slice(2);
    } else if (body.length > 1) {
      base = 8;
      digits = body.slice(1);
    }
  }
  if (body.includes('_')) {
    if (!underscoreOK(body)) return null;
    digits = digits.replaceAll('_', '');
  }
  if (digits === '') return null;
  let v = 0n;
  const b = BigInt(base);
  for (let i = 0; i < digits.length; i++) {
    const c = lower(digits.charCodeAt(i));
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x7a ? c - 0x61 + 10 : 99;
    if (d >= base) return null;
    v = v * b + BigInt(d);
  }
  if (neg ? v > MAX_INT64 + 1n : v > MAX_INT64) return null;
  return Number(neg ? -v : v);
}

const DECIMAL_FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const HEX_FLOAT = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/;
// A sign is allowed before "inf" and "infinity" but not before "nan", as in Go.
const INF = /^[+-]?inf(?:inity)?$/i;
const NAN = /^nan$/i;

/**
 * Go's strconv.ParseFloat(s, 64): decimal and hexadecimal (`0x1p-2`) literals,
 * underscores between digits, "inf"/"infinity" (signed) and "nan" in any case.
 * Throws NumError with Go's message where Go returns an error.
 */
export function parseGoFloat(s: string): number {
  let t = s;
  if (t.includes('_')) {
    if (!underscoreOK(t)) throw new NumError('ParseFloat', s, 'invalid syntax');
    t = t.replaceAll('_', '');
  }
  let v: number;
  if (DECIMAL_FLOAT.test(t)) {
    v = Number(t);
  } else if (INF.test(s)) {
    return s.charCodeAt(0) === 0x2d ? -Infinity : Infinity;
  } else if (NAN.test(s)) {
    return NaN;
  } else {
    const h = HEX_FLOAT.exec(t);
    const intPart = h?.[2] ?? '';
    const fracPart = h?.[3] ?? '';
    if (h === null || intPart + fracPart === '') throw new NumError('ParseFloat', s, 'invalid syntax');
    let mant = 0;
    for (const c of intPart + fracPart) mant = mant * 16 + parseInt(c, 16);
    v = mant * Math.pow(2, Number(h[4]) - 4 * fracPart.length);
    if (h[1] === '-') v = -v;
  }
  if (!Number.isFinite(v)) throw new NumError('ParseFloat', s, 'value out of range');
  return v;
}

/** Go's math.Round: halves round away from zero (JS's Math.round rounds them up). */
export function goRound(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

function special(x: number): string | null {
  if (x !== x) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  return null;
}

/** Decimal digits of |x| (without trailing zeros) and the decimal point position: |x| = 0.d × 10^dp. */
interface Digits {
  d: string;
  dp: number;
}

/** Shortest digits that read back exactly, or sig significant digits. */
function digitsOf(absX: number, sig?: number): Digits {
  if (absX === 0) return { d: '0', dp: 1 };
  const e = sig === undefined ? absX.toExponential() : absX.toExponential(sig - 1);
  const at = e.indexOf('e');
  const mant = e.slice(0, at).replace('.', '');
  return { d: mant.replace(/0+$/, '') || '0', dp: Number(e.slice(at + 1)) + 1 };
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
    for (let i = 1; i <= prec; i++) s += g.d[g.dp + i - 1] ?? '0';
  }
  return s;
}

/**
 * Go's strconv.FormatFloat(x, 'g', prec, 64), which is also fmt's %v and %g;
 * prec -1 means the shortest digits that read back exactly. Infinities print
 * as "+Inf" and "-Inf", as Prometheus prints them.
 */
export function formatG(x: number, prec = -1): string {
  const sp = special(x);
  if (sp !== null) return sp;
  if (prec < 0) {
    if (x === 0) return Object.is(x, -0) ? '-0' : '0';
    const a = x < 0 ? -x : x;
    // Shortest 'g' uses an exponent below 1e-4 and from 1e6 on (exponent < -4 or >= 6);
    // in between JS prints the same shortest digits without one.
    if (a >= 1e-4 && a < 1e6) return String(x);
    const e = x.toExponential();
    const at = e.indexOf('e');
    const exp = e.slice(at + 2);
    return `${e.slice(0, at + 2)}${exp.length < 2 ? '0' : ''}${exp}`;
  }
  const neg = x < 0 || Object.is(x, -0);
  let p = prec === 0 ? 1 : prec;
  const g = digitsOf(Math.abs(x), p);
  let eprec = p;
  if (eprec > g.d.length && g.d.length >= g.dp) eprec = g.d.length;
  const exp = g.dp - 1;
  if (exp < -4 || exp >= eprec) {
    if (p > g.d.length) p = g.d.length;
    return fmtE(neg, g, p - 1);
  }
  if (p > g.dp) p = g.d.length;
  return fmtF(neg, g, Math.max(p - g.dp, 0));
}

/** Go's strconv.FormatFloat(x, 'e', prec, 64); prec -1 means the shortest digits that read back exactly. */
export function formatE(x: number, prec = -1): string {
  const sp = special(x);
  if (sp !== null) return sp;
  const neg = x < 0 || Object.is(x, -0);
  const g = digitsOf(Math.abs(x), prec < 0 ? undefined : prec + 1);
  return fmtE(neg, g, prec < 0 ? g.d.length - 1 : prec);
}

/**
 * Go's strconv.FormatFloat(x, 'f', prec, 64): never an exponent. prec -1 means
 * the shortest digits that read back exactly; prec 6 is fmt's %f.
 */
export function formatF(x: number, prec = -1): string {
  const sp = special(x);
  if (sp !== null) return sp;
  if (prec >= 0) {
    if (Math.abs(x) < 1e21) return x.toFixed(prec);
    // toFixed switches to an exponent from 1e21 on; such values are integers.
    return `${x < 0 ? '-' : ''}${BigInt(Math.abs(x)).toString()}${prec > 0 ? '.' + '0'.repeat(prec) : ''}`;
  }
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const s = String(x);
  // JS prints the same shortest digits, but with an exponent below 1e-6 and from 1e21.
  if (!s.includes('e')) return s;
  const g = digitsOf(Math.abs(x));
  return fmtF(x < 0, g, Math.max(g.d.length - g.dp, 0));
}

/** Prometheus's FormatOpenMetricsFloat (used for `le` and `quantile` values): shortest 'g', with ".0" added to integers. */
export function formatOpenMetricsFloat(x: number): string {
  if (x === 1) return '1.0';
  if (x === 0) return '0.0';
  if (x === -1) return '-1.0';
  const s = formatG(x);
  if (x !== x || x === Infinity || x === -Infinity || s.includes('.') || s.includes('e')) return s;
  return s + '.0';
}
