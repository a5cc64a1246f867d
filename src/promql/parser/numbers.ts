// Number conversion and formatting with Go's strconv rules: PromQL number
// literals are converted as Prometheus converts them (ParseInt with base
// prefixes, then ParseFloat), and printed as Go prints float64s.
import { goQuote } from './quote.js';

/** A number literal Go's strconv rejects; the message is Go's. */
export class NumberSyntaxError extends Error {
  override readonly name = 'NumberSyntaxError';
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

/** Go's strconv.ParseInt(s, 0, 64): the value, or null when Go returns an error. */
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

/** Go's strconv.ParseFloat(s, 64) for the forms PromQL can lex; throws NumberSyntaxError with Go's message. */
export function parseGoFloat(s: string): number {
  const fail = (reason: string): NumberSyntaxError =>
    new NumberSyntaxError(`strconv.ParseFloat: parsing ${goQuote(s)}: ${reason}`);
  const l = s.toLowerCase();
  const unsigned = l[0] === '+' || l[0] === '-' ? l.slice(1) : l;
  const negative = l[0] === '-';
  if (unsigned === 'inf' || unsigned === 'infinity') return negative ? -Infinity : Infinity;
  if (unsigned === 'nan') return NaN;
  let t = s;
  if (t.includes('_')) {
    if (!underscoreOK(t)) throw fail('invalid syntax');
    t = t.replaceAll('_', '');
  }
  // Hexadecimal floats need a 'p' exponent, which the lexer never produces.
  if (!DECIMAL_FLOAT.test(t)) throw fail('invalid syntax');
  const v = Number(t);
  if (!Number.isFinite(v)) throw fail('value out of range');
  return v;
}

/** Go's math.Round: halves round away from zero. */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** The shortest decimal digits of a finite non-zero |x| and the decimal point position: |x| = 0.DIGITS x 10^dp. */
function shortestDigits(x: number): { digits: string; dp: number } {
  const e = Math.abs(x).toExponential();
  const [mant, exp] = e.split('e') as [string, string];
  return { digits: mant.replace('.', ''), dp: Number(exp) + 1 };
}

/** Go's strconv.FormatFloat(x, 'f', -1, 64). */
export function formatFloatF(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const s = String(x);
  if (!s.includes('e')) return s;
  const sign = x < 0 ? '-' : '';
  const { digits, dp } = shortestDigits(x);
  if (dp <= 0) return `${sign}0.${'0'.repeat(-dp)}${digits}`;
  if (dp >= digits.length) return sign + digits + '0'.repeat(dp - digits.length);
  return `${sign}${digits.slice(0, dp)}.${digits.slice(dp)}`;
}

/** Go's fmt %v for a float64 (strconv 'g' format, shortest digits). */
export function formatFloatG(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const sign = x < 0 ? '-' : '';
  const { digits, dp } = shortestDigits(x);
  const exp = dp - 1;
  // Shortest formatting switches to an exponent below 1e-4 and from 1e6 up, as Go's %v does.
  if (exp < -4 || exp >= 6) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const es = Math.abs(exp) < 10 ? `0${Math.abs(exp)}` : String(Math.abs(exp));
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${es}`;
  }
  return formatFloatF(x);
}

/** Go's fmt %f (six decimals), used in error messages. */
export function formatFloatFixed6(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (Math.abs(x) < 1e21) return x.toFixed(6);
  return `${BigInt(x).toString()}.000000`;
}
