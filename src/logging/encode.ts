// Field encoders for logfmt and JSON lines, in the shape Go's log/slog handlers give Prometheus 3.x.
import { goQuote } from '../gofmt/quote.js';
import type { LogFields } from './types.js';

/** Keys the line header owns; a field using one is renamed `logged_<key>`, as promslog does. */
const RESERVED = new Set(['time', 'level', 'source']);

function fieldKey(key: string): string {
  return RESERVED.has(key) ? 'logged_' + key : key;
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** JSON text of a number; non-finite values become Prometheus's spellings as strings. */
function jsonNumber(n: number): string {
  if (Number.isFinite(n)) return JSON.stringify(n);
  return n > 0 ? '"+Inf"' : n < 0 ? '"-Inf"' : '"NaN"';
}

/** Turns values JSON.stringify would mangle (errors, bigints, NaN) into their logged form. */
function jsonReplacer(_k: string, v: unknown): unknown {
  if (v instanceof Error) return v.message;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && !Number.isFinite(v)) return v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';
  return v;
}

function jsonValue(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return jsonNumber(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return '"' + v.toString() + '"';
    case 'undefined':
    case 'function':
    case 'symbol':
      return 'null';
    default:
      if (v === null) return 'null';
      if (v instanceof Error) return JSON.stringify(v.message);
      try {
        return JSON.stringify(v, jsonReplacer) ?? 'null';
      } catch (e) {
        // Circular or throwing toJSON: the line must still be written.
        return JSON.stringify('!ERROR:' + (e instanceof Error ? e.message : String(e)));
      }
  }
}

/** `,"k":v` for each defined field, ready to append inside a JSON object. */
export function jsonFields(fields: LogFields | undefined): string {
  if (!fields) return '';
  let out = '';
  for (const k of Object.keys(fields)) {
    const v = fields[k];
    if (v === undefined) continue;
    out += ',' + JSON.stringify(fieldKey(k)) + ':' + jsonValue(v);
  }
  return out;
}

/** Whether slog's text handler would quote this string. */
function needsQuoting(s: string): boolean {
  if (s.length === 0) return true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x22 || c === 0x3d || c === 0x7f) return true;
    if (c >= 0x80 && /[\s\p{C}]/u.test(s.charAt(i))) return true;
  }
  return false;
}

export function logfmtString(s: string): string {
  // slog's text handler quotes with strconv.Quote.
  return needsQuoting(s) ? goQuote(s) : s;
}

function logfmtScalar(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return logfmtString(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    default:
      if (v === null || v === undefined) return '<nil>';
      if (v instanceof Error) return logfmtString(v.message);
      if (v instanceof Date) return logfmtString(v.toISOString());
      return logfmtString(jsonValue(v));
  }
}

/** Deeper nesting is written as one JSON value; this also stops a self-referencing object. */
const MAX_GROUP_DEPTH = 4;

/** ` k=v` for each defined field; plain objects become dotted groups (`a.b=v`), as slog.Group does. */
export function logfmtFields(fields: LogFields | undefined, prefix = '', depth = 0): string {
  if (!fields) return '';
  let out = '';
  for (const k of Object.keys(fields)) {
    const v = fields[k];
    if (v === undefined) continue;
    const key = prefix === '' ? fieldKey(k) : prefix + k;
    if (depth < MAX_GROUP_DEPTH && typeof v === 'object' && v !== null && !Array.isArray(v) && isPlainObject(v)) {
      out += logfmtFields(v as LogFields, key + '.', depth + 1);
    } else {
      out += ' ' + logfmtString(key) + '=' + logfmtScalar(v);
    }
  }
  return out;
}
