// Part of template (see template.ts): the Go values templates work on. Go's
// template package runs on reflection, so every value carries its Go type:
// the type decides which function arguments it may fill, how it compares
// and how it prints.

export type Kind =
  | 'bool'
  | 'int'
  | 'uint'
  | 'float'
  | 'complex'
  | 'string'
  | 'interface'
  | 'map'
  | 'slice'
  | 'ptr'
  | 'struct'
  | 'reflect';

export interface GoType {
  readonly kind: Kind;
  /** As Go's reflect.Type.String() prints it (`map[string]string`, `*template.sample`). */
  readonly name: string;
  readonly elem?: GoType;
  readonly fields?: readonly GoField[];
  /** Methods callable from templates (`.Unix` on a time). */
  readonly methods?: ReadonlyMap<string, GoFunc>;
  /** A String() method: fmt prints the value with it. */
  readonly stringer?: (v: Value) => string;
  /** For a struct kept in another JS form (time.Time): its Go fields, as fmt prints them without String(). */
  readonly rawFields?: (v: Value) => GoVal[];
}

export interface GoField {
  readonly name: string;
  readonly type: GoType;
}

/**
 * A Go value: a type and its JS representation. bool: boolean; integers and
 * floats: number; complex: [re, im]; string: string; map: Map<string, GoVal>
 * (string keys only; null for a nil interface element); slice: Value[]; ptr: Value or null (nil); struct:
 * Value[] in field order. Go's invalid reflect.Value (an untyped nil) is `null`.
 */
export class Value {
  constructor(
    readonly type: GoType,
    readonly v: unknown,
  ) {}
}

export type GoVal = Value | null;

/** An error a function returned: execution stops with `error calling <name>: <message>`. */
export class GoError extends Error {
  override readonly name = 'GoError';
}

/**
 * A function or method callable from a template, with Go's signature so the
 * executor can check and convert arguments as Go's reflection does.
 */
export interface GoFunc {
  readonly params: readonly GoType[];
  /** Element type of a trailing variadic parameter, or null. */
  readonly variadic: GoType | null;
  /** Throws GoError for an error result (or a panic, which Go recovers into the same error). */
  readonly call: (args: GoVal[], ctx: CallContext) => GoVal;
}

/** What a function may ask the executor: the per-expansion state that query and now need. */
export interface CallContext {
  readonly funcState: unknown;
}

function basic(kind: Kind, name: string): GoType {
  return { kind, name };
}

export const T_BOOL = basic('bool', 'bool');
export const T_INT = basic('int', 'int');
export const T_INT64 = basic('int', 'int64');
export const T_UINT8 = basic('uint', 'uint8');
export const T_FLOAT64 = basic('float', 'float64');
export const T_COMPLEX128 = basic('complex', 'complex128');
export const T_STRING = basic('string', 'string');
/** interface{}: any value is assignable; Go reads the value inside. */
export const T_ANY = basic('interface', 'interface {}');
/** reflect.Value parameters take anything, an untyped nil included. */
export const T_REFLECT = basic('reflect', 'reflect.Value');

export function mapOf(elem: GoType): GoType {
  return { kind: 'map', name: `map[string]${elem.name}`, elem };
}

export const T_STRING_MAP = mapOf(T_STRING);
export const T_ANY_MAP = mapOf(T_ANY);

export function boolV(b: boolean): Value {
  return new Value(T_BOOL, b);
}
export function intV(n: number): Value {
  return new Value(T_INT, n);
}
export function floatV(n: number): Value {
  return new Value(T_FLOAT64, n);
}
export function stringV(s: string): Value {
  return new Value(T_STRING, s);
}

/** Whether a value of type `from` may fill a `to` without conversion (Go's AssignableTo, for our types). */
export function assignable(from: GoType, to: GoType): boolean {
  return from === to || to.kind === 'interface' || to.kind === 'reflect';
}

/** Go's canBeNil: an untyped nil may become a zero value of this type. */
export function canBeNil(t: GoType): boolean {
  return t.kind === 'map' || t.kind === 'slice' || t.kind === 'ptr' || t.kind === 'interface' || t.kind === 'reflect';
}

/** reflect.Zero for the nillable types (what Go uses for a nil argument). */
export function zeroOf(t: GoType): GoVal {
  switch (t.kind) {
    case 'interface':
    case 'reflect':
      return null;
    case 'map':
      return new Value(t, new Map());
    case 'slice':
      return new Value(t, []);
    case 'ptr':
      return new Value(t, null);
    case 'string':
      return new Value(t, '');
    case 'bool':
      return new Value(t, false);
    case 'complex':
      return new Value(t, [0, 0]);
    case 'struct':
      return new Value(t, (t.fields ?? []).map((f) => zeroOf(f.type)));
    default:
      return new Value(t, 0);
  }
}

/** Go's indirect: follows pointers; isNil when it stopped at a nil one. */
export function indirect(v: GoVal): { v: GoVal; isNil: boolean } {
  while (v !== null && v.type.kind === 'ptr') {
    if (v.v === null) return { v, isNil: true };
    v = v.v as Value;
  }
  return { v, isNil: false };
}

/** Go's isTrue: the truth of a value in if/with/and/or/not; ok false when it has none. */
export function isTrue(v: GoVal): { truth: boolean; ok: boolean } {
  if (v === null) return { truth: false, ok: true };
  switch (v.type.kind) {
    case 'bool':
      return { truth: v.v as boolean, ok: true };
    case 'int':
    case 'uint':
    case 'float':
      return { truth: (v.v as number) !== 0, ok: true };
    case 'complex': {
      const [re, im] = v.v as [number, number];
      return { truth: re !== 0 || im !== 0, ok: true };
    }
    case 'string':
      return { truth: (v.v as string).length > 0, ok: true };
    case 'map':
      return { truth: (v.v as Map<string, Value>).size > 0, ok: true };
    case 'slice':
      return { truth: (v.v as Value[]).length > 0, ok: true };
    case 'ptr':
      return { truth: v.v !== null, ok: true };
    case 'struct':
      return { truth: true, ok: true };
    default:
      return { truth: false, ok: false };
  }
}

/** A map[string]string value from a JS map or label pairs. */
export function stringMap(entries: Iterable<readonly [string, string]>): Value {
  const m = new Map<string, Value>();
  for (const [k, v] of entries) m.set(k, stringV(v));
  return new Value(T_STRING_MAP, m);
}
