// JSON encoding that reproduces Prometheus's API output byte for byte where it
// matters: sample values as Go's strconv.FormatFloat(f, 'f', -1, 64) strings,
// timestamps as seconds with at most three decimals, and strings escaped as
// Go's encoding/json escapes them (HTML-safe).
import { Labels } from '../../model/labels.js';
import type { InstantSample, QueryValue, RangeSeries } from '../../promql/engine/types.js';

/** Already-encoded JSON, embedded verbatim by encodeJSON. */
export class RawJSON {
  constructor(readonly json: string) {}
}

/** Go's strconv.FormatFloat(f, 'f', -1, 64): the shortest digits that read back exactly, never an exponent. */
export function formatFloat(f: number): string {
  if (f !== f) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const s = String(f);
  // JS prints the same shortest digits as Go, but switches to exponent form
  // below 1e-6 and from 1e21; spell those out as Go's 'f' format does.
  const e = s.indexOf('e');
  if (e < 0) return s;
  const neg = s.charCodeAt(0) === 45;
  const mant = s.slice(neg ? 1 : 0, e).replace('.', '');
  const exp = Number(s.slice(e + 1));
  const intDigits = (s.indexOf('.') >= 0 && s.indexOf('.') < e ? s.indexOf('.') - (neg ? 1 : 0) : e - (neg ? 1 : 0)) + exp;
  let out: string;
  if (intDigits <= 0) out = `0.${'0'.repeat(-intDigits)}${mant}`;
  else if (intDigits >= mant.length) out = mant + '0'.repeat(intDigits - mant.length);
  else out = `${mant.slice(0, intDigits)}.${mant.slice(intDigits)}`;
  return neg ? `-${out}` : out;
}

/** Milliseconds as Prometheus writes timestamps in JSON: seconds, up to three decimals, no trailing zeros. */
export function formatTimestamp(ms: number): string {
  // Below 1e15 ms the seconds value has at most 15 significant digits, so the
  // shortest decimal JS prints for ms / 1000 is exactly the three-decimal form.
  if (Number.isInteger(ms) && Math.abs(ms) < 1e15) return String(ms / 1000);
  const neg = ms < 0;
  const abs = Math.round(neg ? -ms : ms);
  const sec = Math.floor(abs / 1000);
  const frac = abs - sec * 1000;
  let s = (neg ? '-' : '') + String(sec);
  if (frac !== 0) s += `.${String(frac).padStart(3, '0').replace(/0+$/, '')}`;
  return s;
}

// Characters Go's encoding/json escapes besides JSON's own: HTML-significant ones and the JS line separators.
const NEEDS_GO_ESCAPE = /[<>&\u2028\u2029]/;
const GO_ESCAPE_ALL = /[<>&\u2028\u2029]/g;
const GO_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** A JSON string literal escaped as Go's encoding/json writes it. */
export function jsonString(s: string): string {
  const q = JSON.stringify(s);
  return NEEDS_GO_ESCAPE.test(q) ? q.replace(GO_ESCAPE_ALL, (c) => GO_ESCAPES[c]!) : q;
}

/** A label set as a JSON object, in label order. */
export function labelsJSON(ls: Labels): string {
  let out = '{';
  let first = true;
  ls.forEach((name, value) => {
    out += `${first ? '' : ','}${jsonString(name)}:${jsonString(value)}`;
    first = false;
  });
  return `${out}}`;
}

function pointJSON(t: number, f: number): string {
  return `[${formatTimestamp(t)},"${formatFloat(f)}"]`;
}

function vectorJSON(samples: readonly InstantSample[]): string {
  const parts = new Array<string>(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    parts[i] = `{"metric":${labelsJSON(s.metric)},"value":${pointJSON(s.t, s.f)}}`;
  }
  return `[${parts.join(',')}]`;
}

function seriesJSON(s: RangeSeries): string {
  const n = s.ts.length;
  const pts = new Array<string>(n);
  for (let i = 0; i < n; i++) pts[i] = pointJSON(s.ts[i]!, s.fs[i]!);
  return `{"metric":${labelsJSON(s.metric)},"values":[${pts.join(',')}]}`;
}

/** `resultType` and `result` of a query answer, as Prometheus encodes them. */
export function queryValueJSON(v: QueryValue): { resultType: string; result: string } {
  switch (v.type) {
    case 'scalar':
      return { resultType: 'scalar', result: pointJSON(v.t, v.v) };
    case 'string':
      return { resultType: 'string', result: `[${formatTimestamp(v.t)},${jsonString(v.v)}]` };
    case 'vector':
      return { resultType: 'vector', result: vectorJSON(v.samples) };
    case 'matrix':
      return { resultType: 'matrix', result: `[${v.series.map(seriesJSON).join(',')}]` };
  }
}

/**
 * Encodes plain data (objects, arrays, strings, numbers, booleans, null,
 * RawJSON, Labels, values with toJSON) with Go's string escaping. Object keys keep
 * insertion order; undefined members are left out as encoding/json's omitempty does.
 */
export function encodeJSON(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'string':
      return jsonString(v);
    case 'number':
      return Number.isFinite(v) ? JSON.stringify(v) : 'null';
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
