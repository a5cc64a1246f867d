// Part of template (see template.ts): Go's fmt package for template values:
// Sprint, Sprintln, Sprintf (verbs, flags, width, precision, Go's `%!d(...)`
// error forms) and %v printing of maps, slices, structs and pointers.
import { compareStrings } from '../gofmt/order.js';
import { goQuote, goQuoteRune } from '../gofmt/quote.js';
import { indirect, Value, type GoVal } from './values.js';

/** Go's fmt flags for one verb. */
interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  wid: number;
  widPresent: boolean;
  prec: number;
  precPresent: boolean;
}

function noFlags(): Flags {
  return { plus: false, minus: false, sharp: false, space: false, zero: false, wid: 0, widPresent: false, prec: 0, precPresent: false };
}

const NO_FLAGS: Readonly<Flags> = noFlags();

/** Fake but stable addresses: Go prints a pointer nested in a slice as its address. */
const addresses = new WeakMap<object, string>();
let nextAddress = 0xc000010000;

function addressOf(o: object): string {
  let a = addresses.get(o);
  if (a === undefined) {
    a = '0x' + nextAddress.toString(16);
    nextAddress += 0x10;
    addresses.set(o, a);
  }
  return a;
}

function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

class Printer {
  out = '';
  f: Flags = noFlags();

  private padding(n: number, zero: boolean): string {
    return n > 0 ? (zero ? '0' : ' ').repeat(n) : '';
  }

  pad(s: string): void {
    const f = this.f;
    if (!f.widPresent || f.wid === 0) {
      this.out += s;
      return;
    }
    const w = f.wid - runeCount(s);
    if (f.minus) this.out += s + this.padding(w, false);
    else this.out += this.padding(w, f.zero) + s;
  }

  /** Go's printArg for one value at the top level. */
  printArg(v: GoVal, verb: string): void {
    if (v === null) {
      if (verb === 'T' || verb === 'v') this.pad('<nil>');
      else this.badVerb(verb, null);
      return;
    }
    if (verb === 'T') {
      this.fmtString(v.type.name, 's');
      return;
    }
    if (verb === 'p') {
      this.fmtPointer(v, 'p');
      return;
    }
    this.printValue(v, verb, 0);
  }

  private handleMethods(v: Value, verb: string): boolean {
    if (verb !== 'v' && verb !== 's' && verb !== 'x' && verb !== 'X' && verb !== 'q') return false;
    let t = v.type;
    let target: GoVal = v;
    if (t.stringer === undefined && t.kind === 'ptr' && t.elem?.stringer !== undefined) {
      // A pointer's method set includes its element's String.
      if (v.v === null) {
        this.pad('<nil>');
        return true;
      }
      target = v.v as Value;
      t = t.elem;
    }
    if (t.stringer === undefined) return false;
    this.fmtString(t.stringer(target), verb);
    return true;
  }

  printValue(v: GoVal, verb: string, depth: number): void {
    if (v === null) {
      if (depth === 0) this.out += '<invalid reflect.Value>';
      else if (verb === 'v') this.out += '<nil>';
      else this.badVerb(verb, null);
      return;
    }
    if (this.sharpV) {
      this.goSyntax(v, depth);
      return;
    }
    if (this.handleMethods(v, verb)) return;
    const t = v.type;
    switch (t.kind) {
      case 'bool':
        if (verb === 't' || verb === 'v') this.pad(v.v ? 'true' : 'false');
        else this.badVerb(verb, v);
        return;
      case 'int':
      case 'uint':
        this.fmtInteger(v.v as number, verb, v);
        return;
      case 'float':
        this.fmtFloat(v.v as number, verb, v);
        return;
      case 'complex':
        this.fmtComplex(v.v as [number, number], verb, v);
        return;
      case 'string':
        if (!this.fmtString(v.v as string, verb)) this.badVerb(verb, v);
        return;
      case 'map': {
        this.out += 'map[';
        const m = v.v as Map<string, GoVal>;
        const keys = [...m.keys()].sort(compareStrings);
        keys.forEach((k, i) => {
          if (i > 0) this.out += ' ';
          this.fmtStringOrBad(k, verb);
          this.out += ':';
          this.printValue(m.get(k) ?? null, verb, depth + 1);
        });
        this.out += ']';
        return;
      }
      case 'slice': {
        this.out += '[';
        (v.v as Value[]).forEach((e, i) => {
          if (i > 0) this.out += ' ';
          this.printValue(e, verb, depth + 1);
        });
        this.out += ']';
        return;
      }
      case 'struct': {
        this.out += '{';
        (t.rawFields?.(v) ?? (v.v as GoVal[])).forEach((e, i) => {
          if (i > 0) this.out += ' ';
          if (this.plusV) this.out += `${t.fields?.[i]?.name ?? ''}:`;
          this.printValue(e, verb, depth + 1);
        });
        this.out += '}';
        return;
      }
      case 'ptr': {
        const inner = v.v as Value | null;
        if (depth === 0 && inner !== null && ['slice', 'struct', 'map'].includes(inner.type.kind)) {
          this.out += '&';
          this.printValue(inner, verb, depth + 1);
          return;
        }
        this.fmtPointer(v, verb);
        return;
      }
      default:
        this.badVerb(verb, v);
    }
  }

  /** %+v prints struct field names. */
  plusV = false;
  /** %#v prints Go syntax. */
  sharpV = false;

  /** %#v: the value as a Go literal (`map[string]string{"a":"b"}`, `&T{X:1}`). */
  private goSyntax(v: GoVal, depth: number): void {
    if (v === null) {
      this.out += depth === 0 ? '<nil>' : 'interface {}(nil)';
      return;
    }
    const t = v.type;
    switch (t.kind) {
      case 'bool':
        this.out += v.v ? 'true' : 'false';
        return;
      case 'int':
        this.out += String(v.v);
        return;
      case 'uint':
        this.out += '0x' + (v.v as number).toString(16);
        return;
      case 'float':
        this.out += formatFloat(v.v as number, 'g', -1);
        return;
      case 'complex':
        this.fmtComplex(v.v as [number, number], 'g', v);
        return;
      case 'string':
        this.out += goQuote(v.v as string);
        return;
      case 'map': {
        this.out += t.name + '{';
        const m = v.v as Map<string, GoVal>;
        [...m.keys()].sort(compareStrings).forEach((k, i) => {
          if (i > 0) this.out += ', ';
          this.out += goQuote(k) + ':';
          this.goSyntax(m.get(k) ?? null, depth + 1);
        });
        this.out += '}';
        return;
      }
      case 'slice':
        this.out += t.name + '{';
        (v.v as Value[]).forEach((e, i) => {
          if (i > 0) this.out += ', ';
          this.goSyntax(e, depth + 1);
        });
        this.out += '}';
        return;
      case 'struct': {
        this.out += t.name + '{';
        const fields = t.rawFields?.(v) ?? (v.v as GoVal[]);
        fields.forEach((e, i) => {
          if (i > 0) this.out += ', ';
          this.out += `${t.fields?.[i]?.name ?? `f${i}`}:`;
          this.goSyntax(e, depth + 1);
        });
        this.out += '}';
        return;
      }
      case 'ptr': {
        const inner = v.v as Value | null;
        if (depth === 0 && inner !== null && ['slice', 'struct', 'map'].includes(inner.type.kind)) {
          this.out += '&';
          this.goSyntax(inner, depth + 1);
          return;
        }
        this.out += `(${t.name})(${inner === null ? 'nil' : addressOf(inner)})`;
        return;
      }
      default:
        this.out += t.name;
    }
  }

  private fmtStringOrBad(s: string, verb: string): void {
    if (!this.fmtString(s, verb)) this.badVerb(verb, new Value({ kind: 'string', name: 'string' }, s));
  }

  private fmtPointer(v: Value, verb: string): void {
    const p = v.v === null ? null : addressOf(v.v as object);
    switch (verb) {
      case 'v':
        this.pad(p === null ? '<nil>' : p);
        return;
      case 'p':
        this.pad(p === null ? '0x0' : p);
        return;
      case 'b':
      case 'o':
      case 'd':
      case 'x':
      case 'X': {
        // Go prints the address as an integer; %x and %X with a 0x prefix.
        const sharp = this.f.sharp;
        if (verb === 'x' || verb === 'X') this.f.sharp = true;
        this.fmtInteger(p === null ? 0 : parseInt(p, 16), verb, v);
        this.f.sharp = sharp;
        return;
      }
      default:
        this.badVerb(verb, v);
    }
  }

  badVerb(verb: string, v: GoVal): void {
    this.out += '%!' + verb + '(';
    if (v === null) this.out += '<nil>';
    else {
      this.out += v.type.name + '=';
      this.printValue(v, 'v', 0);
    }
    this.out += ')';
  }

  fmtString(s: string, verb: string): boolean {
    const f = this.f;
    switch (verb) {
      case 'v':
      case 's': {
        if (f.precPresent) s = Array.from(s).slice(0, f.prec).join('');
        this.pad(s);
        return true;
      }
      case 'q': {
        if (f.precPresent) s = Array.from(s).slice(0, f.prec).join('');
        if (f.sharp && canBackquote(s)) this.pad('`' + s + '`');
        else this.pad(f.plus ? asciiQuote(goQuote(s)) : goQuote(s));
        return true;
      }
      case 'x':
      case 'X': {
        let bytes = Buffer.from(s, 'utf8');
        if (f.precPresent && f.prec < bytes.length) bytes = bytes.subarray(0, f.prec);
        const digits = verb === 'x' ? '0123456789abcdef' : '0123456789ABCDEF';
        let out = '';
        bytes.forEach((b, i) => {
          if (f.space && i > 0) out += ' ';
          if (f.sharp && (f.space || i === 0)) out += verb === 'x' ? '0x' : '0X';
          out += digits[b >> 4]! + digits[b & 15]!;
        });
        this.pad(out);
        return true;
      }
      default:
        return false;
    }
  }

  private fmtInteger(n: number, verb: string, v: Value): void {
    const unsigned = v.type.kind === 'uint';
    switch (verb) {
      case 'v':
      case 'd':
        return this.fmtIntBase(n, 10, verb, '0123456789abcdef');
      case 'b':
        return this.fmtIntBase(n, 2, verb, '0123456789abcdef');
      case 'o':
      case 'O':
        return this.fmtIntBase(n, 8, verb, '0123456789abcdef');
      case 'x':
        return this.fmtIntBase(n, 16, verb, '0123456789abcdefx');
      case 'X':
        return this.fmtIntBase(n, 16, verb, '0123456789ABCDEFX');
      case 'c':
        this.pad(validRune(n) ? String.fromCodePoint(n) : '\ufffd');
        return;
      case 'q':
        this.pad(goQuoteRune(validRune(n) ? n : 0xfffd));
        return;
      case 'U': {
        let s = 'U+' + (n < 0 && !unsigned ? BigInt.asUintN(64, BigInt(n)) : BigInt(n)).toString(16).toUpperCase().padStart(4, '0');
        if (this.f.sharp && validRune(n) && n >= 0x20) s += ` '${String.fromCodePoint(n)}'`;
        this.pad(s);
        return;
      }
      default:
        this.badVerb(verb, v);
    }
  }

  private fmtIntBase(n: number, base: number, verb: string, digits: string): void {
    const f = this.f;
    const negative = n < 0;
    let mag = negative ? -BigInt(Math.trunc(n)) : BigInt(Math.trunc(n));
    let prec = 0;
    if (f.precPresent) {
      prec = f.prec;
      if (prec === 0 && mag === 0n) {
        this.out += this.padding(f.wid, false);
        return;
      }
    } else if (f.zero && !f.minus && f.widPresent) {
      prec = f.wid;
      if (negative || f.plus || f.space) prec--;
    }
    let s = mag.toString(base);
    if (digits[10] === 'A') s = s.toUpperCase();
    mag = 0n;
    if (s.length < prec) s = '0'.repeat(prec - s.length) + s;
    if (f.sharp) {
      if (base === 2) s = '0b' + s;
      else if (base === 8 && s[0] !== '0') s = '0' + s;
      else if (base === 16) s = '0' + digits[16] + s;
    }
    if (verb === 'O') s = '0o' + s;
    if (negative) s = '-' + s;
    else if (f.plus) s = '+' + s;
    else if (f.space) s = ' ' + s;
    const zero = f.zero;
    f.zero = false;
    this.pad(s);
    f.zero = zero;
  }

  private fmtFloat(x: number, verb: string, v: Value | null): void {
    const f = this.f;
    let fmtVerb = verb;
    let prec = -1;
    switch (verb) {
      case 'v':
        fmtVerb = 'g';
        break;
      case 'b':
      case 'g':
      case 'G':
      case 'x':
      case 'X':
        break;
      case 'f':
      case 'F':
      case 'e':
      case 'E':
        prec = 6;
        break;
      default:
        if (v !== null) this.badVerb(verb, v);
        return;
    }
    if (f.precPresent) prec = f.prec;
    let num = formatFloat(x, fmtVerb, prec);
    if (f.sharp && fmtVerb !== 'b') num = sharpFloat(num, fmtVerb, prec);
    num = num[0] === '-' || num[0] === '+' ? num : '+' + num;
    if (f.space && num[0] === '+' && !f.plus) num = ' ' + num.slice(1);
    if (num[1] === 'I' || num[1] === 'N') {
      const zero = f.zero;
      f.zero = false;
      if (num[1] === 'N' && !f.space && !f.plus) num = num.slice(1);
      this.pad(num);
      f.zero = zero;
      return;
    }
    if (f.plus || num[0] !== '+') {
      if (f.zero && !f.minus && f.widPresent && f.wid > num.length) {
        this.out += num[0]! + '0'.repeat(f.wid - num.length) + num.slice(1);
        return;
      }
      this.pad(num);
      return;
    }
    if (f.zero && !f.minus && f.widPresent && f.wid > num.length - 1) {
      this.out += '0'.repeat(f.wid - (num.length - 1)) + num.slice(1);
      return;
    }
    this.pad(num.slice(1));
  }

  private fmtComplex(c: [number, number], verb: string, v: Value): void {
    if (!'vbgGxXfFeE'.includes(verb)) {
      this.badVerb(verb, v);
      return;
    }
    const oldPlus = this.f.plus;
    const wid = this.f.wid;
    const widPresent = this.f.widPresent;
    this.out += '(';
    this.fmtFloat(c[0], verb, null);
    this.f.plus = true;
    this.fmtFloat(c[1], verb, null);
    this.out += 'i)';
    this.f.plus = oldPlus;
    this.f.wid = wid;
    this.f.widPresent = widPresent;
  }
}

function validRune(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0x10ffff && (n < 0xd800 || n > 0xdfff);
}

function canBackquote(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '`' || c === 0xfffd) return false;
    if (c < 0x20 && c !== 0x09) return false;
    if (c === 0x7f) return false;
  }
  return true;
}

/** %+q: non-ASCII escaped as \u / \U. */
function asciiQuote(q: string): string {
  let out = '';
  for (const ch of q) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) out += ch;
    else if (c <= 0xffff) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += '\\U' + c.toString(16).padStart(8, '0');
  }
  return out;
}

// ---- Floats: strconv.FormatFloat with Go's exact (round-half-even) rounding.

/** Decimal digits of a > 0 rounded to `sig` significant digits: a ≈ 0.d × 10^dp. */
function roundedDigits(a: number, sig: number, shortest: Digits): Digits {
  if (a === 0) return { d: '0', dp: 1 };
  // A double's shortest digits, when they fit in 15, are also its correct rounding to more digits.
  if (shortest.d.length <= sig && sig <= 15) return shortest;
  // JS rounds exact ties away from zero, Go to even: those keep the even digit below.
  const sd = shortest.d;
  if (sd.length === sig + 1 && sd.endsWith('5') && (sd.charCodeAt(sig - 1) - 0x30) % 2 === 0 && isExactDecimal(a, sd, shortest.dp - 1)) {
    return { d: sd.slice(0, sig), dp: shortest.dp };
  }
  const e = a.toExponential(Math.min(Math.max(sig - 1, 0), 100));
  const at = e.indexOf('e');
  return { d: e.slice(0, at).replace('.', ''), dp: Number(e.slice(at + 1)) + 1 };
}

/** Whether a equals d[0].d[1..] × 10^exp exactly. */
function isExactDecimal(a: number, d: string, exp: number): boolean {
  return compareExact(a, BigInt(d), exp - d.length + 1) === 0;
}

/** The sign of a - D × 10^p10, computed exactly. */
function compareExact(a: number, D: bigint, p10: number): number {
  const { mant, exp: k } = floatBits(a);
  // Compare mant × 2^k with D × 10^p10 after scaling both to integers.
  let lhs = mant;
  let rhs = D;
  if (k >= 0) lhs <<= BigInt(k);
  else rhs <<= BigInt(-k);
  if (p10 >= 0) rhs *= 10n ** BigInt(p10);
  else lhs *= 10n ** BigInt(-p10);
  return lhs === rhs ? 0 : lhs > rhs ? 1 : -1;
}

function expString(exp: number, letter: string): string {
  const a = Math.abs(exp);
  return `${letter}${exp < 0 ? '-' : '+'}${a < 10 ? '0' : ''}${a}`;
}

function fmtE(neg: boolean, g: Digits, prec: number, letter: string): string {
  let s = (neg ? '-' : '') + (g.d[0] ?? '0');
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) s += g.d[i] ?? '0';
  }
  return s + expString(g.d === '0' ? 0 : g.dp - 1, letter);
}

function fmtF(neg: boolean, g: Digits, prec: number): string {
  let s = neg ? '-' : '';
  if (g.dp > 0) {
    for (let i = 0; i < g.dp; i++) s += g.d[i] ?? '0';
  } else s += '0';
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) {
      const j = g.dp + i - 1;
      s += j >= 0 ? (g.d[j] ?? '0') : '0';
    }
  }
  return s;
}

interface Digits {
  readonly d: string;
  readonly dp: number;
}

/** Shortest digits that read back exactly. */
function shortestDigits(a: number): Digits {
  if (a === 0) return { d: '0', dp: 1 };
  const e = a.toExponential();
  const at = e.indexOf('e');
  return { d: e.slice(0, at).replace('.', ''), dp: Number(e.slice(at + 1)) + 1 };
}

/** strconv.FormatFloat(x, verb, prec, 64) for verbs e E f F g G x X b. */
export function formatFloat(x: number, verb: string, prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  switch (verb) {
    case 'e':
    case 'E': {
      const sh = shortestDigits(a);
      const g = prec < 0 ? sh : roundedDigits(a, prec + 1, sh);
      return fmtE(neg, g, prec < 0 ? g.d.length - 1 : prec, verb);
    }
    case 'f':
    case 'F': {
      const sh = shortestDigits(a);
      if (prec < 0) return fmtF(neg, sh, Math.max(sh.d.length - sh.dp, 0));
      const sig = sh.dp + prec;
      if (sig <= 0) {
        // Rounds to zero or to one unit in the last place; an exact half goes to the even 0.
        const up = compareExact(a, 5n, -(prec + 1)) > 0;
        return fmtF(neg, up ? { d: '1', dp: 1 - prec } : { d: '0', dp: 1 }, prec);
      }
      return fmtF(neg, roundedDigits(a, sig, sh), prec);
    }
    case 'g':
    case 'G': {
      const letter = verb === 'g' ? 'e' : 'E';
      let eprec = prec;
      let g: Digits;
      if (prec < 0) {
        g = shortestDigits(a);
        eprec = 6;
      } else {
        if (prec === 0) prec = 1;
        g = roundedDigits(a, prec, shortestDigits(a));
        g = { d: g.d.replace(/0+$/, '') || '0', dp: g.dp };
        if (eprec > g.d.length && g.d.length >= g.dp) eprec = g.d.length;
      }
      const exp = g.dp - 1;
      if (g.d !== '0' && (exp < -4 || exp >= eprec)) {
        const p = prec < 0 ? g.d.length : Math.min(prec, g.d.length);
        return fmtE(neg, g, p - 1, letter);
      }
      const p = prec < 0 ? g.d.length : Math.min(prec, g.d.length);
      return fmtF(neg, g, Math.max(p - g.dp, 0));
    }
    case 'x':
    case 'X':
      return hexFloat(x, prec, verb);
    case 'b':
      return binaryFloat(x);
    default:
      return '%' + verb;
  }
}

function floatBits(a: number): { mant: bigint; exp: number } {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, a);
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const bexp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp = bexp - 1075;
  if (bexp === 0) exp = -1074;
  else mant |= 1n << 52n;
  return { mant, exp };
}

/** %b: decimal mantissa and binary exponent, `4503599627370496p-52`. */
function binaryFloat(x: number): string {
  const { mant, exp } = floatBits(Math.abs(x));
  return `${x < 0 || Object.is(x, -0) ? '-' : ''}${mant}p${exp >= 0 ? '+' : ''}${exp}`;
}

/** %x: hexadecimal mantissa and binary exponent, `0x1.cp+01`. */
function hexFloat(x: number, prec: number, verb: string): string {
  const neg = x < 0 || Object.is(x, -0);
  let { mant, exp } = floatBits(Math.abs(x));
  if (mant === 0n) exp = 0;
  else {
    // Normalise so bit 60 is the leading 1, as strconv does.
    while (mant < 1n << 52n) {
      mant <<= 1n;
      exp--;
    }
    exp += 52;
  }
  mant <<= 8n; // 1 hex digit before the point, 15 after (60 bits).
  if (prec >= 0 && prec < 15) {
    const shift = BigInt(60 - 4 * prec);
    const extra = mant & ((1n << shift) - 1n);
    mant >>= shift;
    const half = 1n << (shift - 1n);
    if (extra > half || (extra === half && (mant & 1n) === 1n)) mant++;
    mant <<= shift;
    if (mant >> 61n !== 0n) {
      mant >>= 1n;
      exp++;
    }
  }
  let hex = mant.toString(16).padStart(16, '0');
  const lead = hex.slice(0, hex.length - 15);
  let frac = hex.slice(hex.length - 15);
  frac = prec < 0 ? frac.replace(/0+$/, '') : frac.slice(0, prec).padEnd(prec, '0');
  hex = `${neg ? '-' : ''}0x${lead}${frac === '' ? '' : '.' + frac}p${exp >= 0 ? '+' : '-'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return verb === 'X' ? hex.toUpperCase() : hex;
}

/** The # flag: keep the decimal point and trailing zeros. */
function sharpFloat(num: string, verb: string, prec: number): string {
  if (num === 'NaN' || num.endsWith('Inf')) return num;
  const at = num.search(/[eEpP]/);
  let body = at < 0 ? num : num.slice(0, at);
  const tail = at < 0 ? '' : num.slice(at);
  if (!body.includes('.')) body += '.';
  if (verb === 'g' || verb === 'G') {
    const digits = body.replace(/^[-+]?0*\.?0*/, '').replace('.', '').length;
    const want = prec < 0 ? 6 : prec === 0 ? 1 : prec;
    if (digits < want) body += '0'.repeat(want - digits);
  }
  return body + tail;
}

// ---- Entry points.

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: readonly GoVal[]): string {
  const p = new Printer();
  let prevString = false;
  args.forEach((a, i) => {
    const isString = a !== null && a.type.kind === 'string';
    if (i > 0 && !isString && !prevString) p.out += ' ';
    p.printArg(a, 'v');
    prevString = isString;
  });
  return p.out;
}

/** fmt.Sprintln: operands always separated by spaces, and a newline. */
export function sprintln(args: readonly GoVal[]): string {
  const p = new Printer();
  args.forEach((a, i) => {
    if (i > 0) p.out += ' ';
    p.printArg(a, 'v');
  });
  return p.out + '\n';
}

/** fmt.Sprint of one value: what `{{ x }}` prints (after the template indirects pointers). */
export function formatValue(v: GoVal): string {
  const p = new Printer();
  p.printArg(v, 'v');
  return p.out;
}

function parseNum(s: string, i: number): { n: number; ok: boolean; next: number } {
  let n = 0;
  let j = i;
  while (j < s.length && s.charCodeAt(j) >= 0x30 && s.charCodeAt(j) <= 0x39) {
    n = n * 10 + (s.charCodeAt(j) - 0x30);
    if (n > 1e6) return { n: 0, ok: false, next: s.length };
    j++;
  }
  return { n, ok: j > i, next: j };
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: readonly GoVal[]): string {
  const p = new Printer();
  let argNum = 0;
  let reordered = false;
  const end = format.length;
  let i = 0;
  while (i < end) {
    const lasti = i;
    while (i < end && format[i] !== '%') i++;
    if (i > lasti) p.out += format.slice(lasti, i);
    if (i >= end) break;
    i++; // skip %
    const f = noFlags();
    p.f = f;
    p.plusV = false;
    p.sharpV = false;
    flags: for (; i < end; i++) {
      switch (format[i]) {
        case '#':
          f.sharp = true;
          break;
        case '0':
          f.zero = !f.minus;
          break;
        case '+':
          f.plus = true;
          break;
        case '-':
          f.minus = true;
          f.zero = false;
          break;
        case ' ':
          f.space = true;
          break;
        default:
          break flags;
      }
    }
    // Argument index [n].
    const argIndex = (): boolean => {
      if (format[i] !== '[') return true;
      reordered = true;
      const close = format.indexOf(']', i);
      const num = close < 0 ? null : parseNum(format, i + 1);
      if (close < 0 || num === null || !num.ok || num.next !== close || num.n < 1 || num.n > args.length) {
        i = close < 0 ? end : close + 1;
        return false;
      }
      argNum = num.n - 1;
      i = close + 1;
      return true;
    };
    let goodArgNum = argIndex();
    if (i < end && format[i] === '*') {
      i++;
      const a = args[argNum];
      if (argNum < args.length && a !== undefined && a !== null && (a.type.kind === 'int' || a.type.kind === 'uint')) {
        f.wid = a.v as number;
        f.widPresent = true;
        if (f.wid < 0) {
          f.minus = true;
          f.zero = false;
          f.wid = -f.wid;
        }
        if (f.wid > 1e6) {
          f.widPresent = false;
          p.out += '%!(BADWIDTH)';
        }
      } else p.out += '%!(BADWIDTH)';
      argNum++;
      reordered = false;
    } else {
      const w = parseNum(format, i);
      if (w.ok) {
        f.wid = w.n;
        f.widPresent = true;
        i = w.next;
      }
    }
    if (i + 1 <= end && format[i] === '.') {
      i++;
      if (reordered) goodArgNum = argIndex() && goodArgNum;
      if (i < end && format[i] === '*') {
        i++;
        const a = args[argNum];
        if (a !== undefined && a !== null && (a.type.kind === 'int' || a.type.kind === 'uint') && (a.v as number) >= 0) {
          f.prec = a.v as number;
          f.precPresent = true;
        } else p.out += '%!(BADPREC)';
        argNum++;
        reordered = false;
      } else {
        const pr = parseNum(format, i);
        f.prec = pr.ok ? pr.n : 0;
        f.precPresent = true;
        i = pr.next;
      }
    }
    if (!reordered || format[i] === '[') goodArgNum = argIndex() && goodArgNum;
    if (i >= end) {
      p.out += '%!(NOVERB)';
      break;
    }
    const cp = format.codePointAt(i)!;
    const verb = String.fromCodePoint(cp);
    i += verb.length;
    if (verb === '%') {
      p.out += '%';
      continue;
    }
    if (!goodArgNum) {
      p.out += `%!${verb}(BADINDEX)`;
      continue;
    }
    if (argNum >= args.length) {
      p.out += `%!${verb}(MISSING)`;
      continue;
    }
    if (verb === 'w') {
      p.badVerb(verb, args[argNum] ?? null);
      argNum++;
      continue;
    }
    if (verb === 'v') {
      if (f.sharp) {
        f.sharp = false;
        p.sharpV = true;
      }
      if (f.plus) {
        f.plus = false;
        p.plusV = true;
      }
    }
    p.printArg(args[argNum] ?? null, verb);
    argNum++;
  }
  if (!reordered && argNum < args.length) {
    p.f = { ...NO_FLAGS };
    p.plusV = false;
    p.sharpV = false;
    p.out += '%!(EXTRA ';
    for (let k = argNum; k < args.length; k++) {
      if (k > argNum) p.out += ', ';
      const a = args[k] ?? null;
      if (a === null) p.out += '<nil>';
      else {
        p.out += a.type.name + '=';
        p.printArg(a, 'v');
      }
    }
    p.out += ')';
  }
  return p.out;
}

/** Go's fmt for a value whose pointers the template already followed (printableValue). */
export function printable(v: GoVal): string {
  if (v !== null && v.type.kind === 'ptr') v = indirect(v).v;
  if (v === null) return '<no value>';
  return formatValue(v);
}
