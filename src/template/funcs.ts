// Part of template (see template.ts): Go's builtin template functions (and,
// or, not, len, index, slice, print*, eq/ne/lt/le/gt/ge, html, js, urlquery),
// with Go's argument types and error texts.
import { printable, sprint, sprintf, sprintln } from './fmt.js';
import {
  boolV,
  GoError,
  indirect,
  intV,
  isTrue,
  stringV,
  T_ANY,
  T_REFLECT,
  T_STRING,
  T_UINT8,
  Value,
  zeroOf,
  type GoFunc,
  type GoVal,
} from './values.js';

function fn(params: GoFunc['params'], variadic: GoFunc['variadic'], call: GoFunc['call']): GoFunc {
  return { params, variadic, call };
}

/** and/or are evaluated lazily by the executor; their entries only carry the signature. */
function lazy(): GoVal {
  throw new GoError('unreachable');
}

function truth(v: GoVal): boolean {
  return isTrue(v).truth;
}

type BasicKind = 'bool' | 'complex' | 'int' | 'float' | 'string' | 'uint' | 'invalid';

function basicKind(v: GoVal): BasicKind {
  if (v === null) return 'invalid';
  switch (v.type.kind) {
    case 'bool':
    case 'complex':
    case 'int':
    case 'float':
    case 'string':
    case 'uint':
      return v.type.kind;
    default:
      return 'invalid';
  }
}

const errBadComparisonType = 'invalid type for comparison';
const errBadComparison = 'incompatible types for comparison';
const errNoComparison = 'missing argument for comparison';

function isNilValue(v: GoVal): boolean {
  if (v === null) return true;
  return v.type.kind === 'ptr' && v.v === null;
}

function eq(arg1: GoVal, rest: readonly GoVal[]): boolean {
  if (rest.length === 0) throw new GoError(errNoComparison);
  const k1 = basicKind(arg1);
  for (const arg of rest) {
    const k2 = basicKind(arg);
    let t = false;
    if (k1 !== k2) {
      if (k1 === 'int' && k2 === 'uint') t = (arg1!.v as number) >= 0 && arg1!.v === arg!.v;
      else if (k1 === 'uint' && k2 === 'int') t = (arg!.v as number) >= 0 && arg1!.v === arg!.v;
      else if (arg1 !== null && arg !== null) throw new GoError(errBadComparison);
    } else {
      switch (k1) {
        case 'complex': {
          const [a, b] = arg1!.v as [number, number];
          const [c, d] = arg!.v as [number, number];
          t = a === c && b === d;
          break;
        }
        case 'bool':
        case 'float':
        case 'int':
        case 'uint':
        case 'string':
          t = arg1!.v === arg!.v;
          break;
        default: {
          if (arg1 !== null && arg !== null && arg1.type.kind !== arg.type.kind) {
            throw new GoError(`non-comparable types ${printable(arg1)}: ${arg1.type.name}, ${arg.type.name}: ${printable(arg)}`);
          }
          if (isNilValue(arg1) || isNilValue(arg)) t = isNilValue(arg1) === isNilValue(arg);
          else if (arg!.type.kind === 'map' || arg!.type.kind === 'slice') {
            throw new GoError(`non-comparable type ${printable(arg)}: ${arg!.type.name}`);
          } else t = arg1!.type === arg!.type && arg1!.v === arg!.v;
        }
      }
    }
    if (t) return true;
  }
  return false;
}

function lt(arg1: GoVal, arg2: GoVal): boolean {
  const k1 = basicKind(arg1);
  if (k1 === 'invalid') throw new GoError(errBadComparisonType);
  const k2 = basicKind(arg2);
  if (k2 === 'invalid') throw new GoError(errBadComparisonType);
  const a = arg1!.v;
  const b = arg2!.v;
  if (k1 !== k2) {
    if (k1 === 'int' && k2 === 'uint') return (a as number) < 0 || (a as number) < (b as number);
    if (k1 === 'uint' && k2 === 'int') return (b as number) >= 0 && (a as number) < (b as number);
    throw new GoError(errBadComparison);
  }
  switch (k1) {
    case 'bool':
    case 'complex':
      throw new GoError(errBadComparisonType);
    case 'string':
      return compareBytes(a as string, b as string) < 0;
    default:
      return (a as number) < (b as number);
  }
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function le(a: GoVal, b: GoVal): boolean {
  return lt(a, b) || eq(a, [b]);
}

/** Go's indexArg: an integer index within [0, cap]. */
function indexArg(index: GoVal, cap: number): number {
  if (index === null) throw new GoError('cannot index slice/array with nil');
  if (index.type.kind !== 'int' && index.type.kind !== 'uint') throw new GoError(`cannot index slice/array with type ${index.type.name}`);
  const x = index.v as number;
  if (x < 0 || x > cap) throw new GoError(`index out of range: ${x}`);
  return x;
}

function utf8Bytes(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

function index(item: GoVal, indexes: readonly GoVal[]): GoVal {
  if (item === null) throw new GoError('index of untyped nil');
  for (const idx of indexes) {
    const r = indirect(item);
    if (r.isNil) throw new GoError('index of nil pointer');
    item = r.v!;
    switch (item.type.kind) {
      case 'slice': {
        const elems = item.v as Value[];
        const x = indexArg(idx, elems.length);
        if (x === elems.length) throw new GoError('reflect: slice index out of range');
        item = elems[x] ?? null;
        break;
      }
      case 'string': {
        const bytes = utf8Bytes(item.v as string);
        const x = indexArg(idx, bytes.length);
        if (x === bytes.length) throw new GoError('reflect: string index out of range');
        item = new Value(T_UINT8, bytes[x]);
        break;
      }
      case 'map': {
        const m = item.v as Map<string, GoVal>;
        if (idx === null) throw new GoError(`value is nil; should be of type string`);
        if (idx.type !== T_STRING) throw new GoError(`value has type ${idx.type.name}; should be string`);
        item = m.get(idx.v as string) ?? zeroOf(item.type.elem!);
        break;
      }
      default:
        throw new GoError(`can't index item of type ${item.type.name}`);
    }
  }
  return item;
}

function slice(item: GoVal, indexes: readonly GoVal[]): GoVal {
  if (item === null) throw new GoError('slice of untyped nil');
  if (indexes.length > 3) throw new GoError(`too many slice indexes: ${indexes.length}`);
  let len: number;
  let bytes: Buffer | null = null;
  switch (item.type.kind) {
    case 'string':
      if (indexes.length === 3) throw new GoError('cannot 3-index slice a string');
      bytes = utf8Bytes(item.v as string);
      len = bytes.length;
      break;
    case 'slice':
      len = (item.v as Value[]).length;
      break;
    default:
      throw new GoError(`can't slice item of type ${item.type.name}`);
  }
  const idx = [0, len, len];
  indexes.forEach((x, i) => (idx[i] = indexArg(x, len)));
  if (idx[0]! > idx[1]!) throw new GoError(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1]! > idx[2]!) throw new GoError(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (bytes !== null) return new Value(item.type, bytes.subarray(idx[0], idx[1]).toString('utf8'));
  return new Value(item.type, (item.v as Value[]).slice(idx[0], idx[1]));
}

function length(item: GoVal): GoVal {
  const r = indirect(item);
  if (r.isNil) throw new GoError('len of nil pointer');
  const v = r.v;
  if (v === null) throw new GoError('reflect: call of reflect.Value.Type on zero Value');
  switch (v.type.kind) {
    case 'string':
      return intV(utf8Bytes(v.v as string).length);
    case 'slice':
      return intV((v.v as Value[]).length);
    case 'map':
      return intV((v.v as Map<string, GoVal>).size);
    default:
      throw new GoError(`len of type ${v.type.name}`);
  }
}

/** Go's evalArgs: one string argument as is, otherwise fmt.Sprint with pointers followed. */
function evalArgs(args: readonly GoVal[]): string {
  if (args.length === 1 && args[0] !== null && args[0]!.type === T_STRING) return args[0]!.v as string;
  return sprint(args.map((a) => (a !== null && a.type.kind === 'ptr' ? indirect(a).v : a)));
}

export function htmlEscape(s: string): string {
  if (!/['"&<>\0]/.test(s)) return s;
  return s.replace(/['"&<>\0]/g, (c) => {
    switch (c) {
      case "'":
        return '&#39;';
      case '"':
        return '&#34;';
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      default:
        return '\ufffd';
    }
  });
}

const JS_SPECIAL: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  "'": "\\'",
  '"': '\\"',
  '<': '\\u003C',
  '>': '\\u003E',
  '&': '\\u0026',
  '=': '\\u003D',
};

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

export function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    const special = JS_SPECIAL[ch];
    if (special !== undefined) out += special;
    else if (c < 0x20) out += '\\u00' + c.toString(16).toUpperCase().padStart(2, '0');
    else if (c < 0x80 || PRINTABLE.test(ch)) out += ch;
    else out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
  }
  return out;
}

/** Go's url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = '';
  for (const b of utf8Bytes(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (b === 0x20) out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Go's text/template builtins (call is left out: templates here get no function values). */
export const BUILTINS: ReadonlyMap<string, GoFunc> = new Map<string, GoFunc>([
  ['and', fn([T_REFLECT], T_REFLECT, lazy)],
  ['or', fn([T_REFLECT], T_REFLECT, lazy)],
  ['not', fn([T_REFLECT], null, ([a]) => boolV(!truth(a ?? null)))],
  ['html', fn([], T_ANY, (args) => stringV(htmlEscape(evalArgs(args))))],
  ['js', fn([], T_ANY, (args) => stringV(jsEscape(evalArgs(args))))],
  ['urlquery', fn([], T_ANY, (args) => stringV(queryEscape(evalArgs(args))))],
  ['index', fn([T_REFLECT], T_REFLECT, ([item, ...idx]) => index(item ?? null, idx))],
  ['slice', fn([T_REFLECT], T_REFLECT, ([item, ...idx]) => slice(item ?? null, idx))],
  ['len', fn([T_REFLECT], null, ([a]) => length(a ?? null))],
  ['print', fn([], T_ANY, (args) => stringV(sprint(args)))],
  ['println', fn([], T_ANY, (args) => stringV(sprintln(args)))],
  ['printf', fn([T_STRING], T_ANY, ([f, ...args]) => stringV(sprintf((f?.v as string) ?? '', args)))],
  ['eq', fn([T_REFLECT], T_REFLECT, ([a, ...rest]) => boolV(eq(a ?? null, rest)))],
  ['ne', fn([T_REFLECT, T_REFLECT], null, ([a, b]) => boolV(!eq(a ?? null, [b ?? null])))],
  ['lt', fn([T_REFLECT, T_REFLECT], null, ([a, b]) => boolV(lt(a ?? null, b ?? null)))],
  ['le', fn([T_REFLECT, T_REFLECT], null, ([a, b]) => boolV(le(a ?? null, b ?? null)))],
  ['gt', fn([T_REFLECT, T_REFLECT], null, ([a, b]) => boolV(!le(a ?? null, b ?? null)))],
  ['ge', fn([T_REFLECT, T_REFLECT], null, ([a, b]) => boolV(!lt(a ?? null, b ?? null)))],
]);

