// Part of template (see template.ts): Prometheus's template functions
// (prometheus/template/template.go and prometheus/common's helpers/templates):
// query, first, label, value, humanize*, toTime, title, reReplaceAll, links ...
// with their Go types, outputs and error texts.
import { isIP } from 'node:net';
import { formatGoDurationNs, InvalidDurationError, parseDuration } from '../gofmt/duration.js';
import { compareStrings } from '../gofmt/order.js';
import { formatG, NumError, parseGoFloat } from '../gofmt/float.js';
import type { Labels } from '../model/labels.js';
import { sprintf } from './fmt.js';
import { queryEscape } from './funcs.js';
import { compileGoRegexp, matchString, regexpQuote, RegexpSyntaxError, replaceAllString } from './go_regexp.js';
import {
  boolV,
  floatV,
  GoError,
  intV,
  stringV,
  T_ANY,
  T_ANY_MAP,
  T_FLOAT64,
  T_INT64,
  T_STRING,
  T_STRING_MAP,
  Value,
  type GoFunc,
  type GoType,
  type GoVal,
} from './values.js';

/** One sample a query returned, as templates see it (`.Labels`, `.Value`). */
export interface TemplateSample {
  readonly labels: Labels;
  readonly value: number;
}

/** Per-expansion inputs of the Prometheus functions. */
export interface PromFuncState {
  /** Evaluation time in ms: `query` runs at it, `now` returns it. */
  readonly timestampMs: number;
  /** --web.external-url (`externalURL`, `pathPrefix`). */
  readonly externalUrl: string;
  /** The result of a query by its text; a query not yet run throws QueryNeeded. */
  readonly queryResult: (query: string) => TemplateSample[];
}

/** Thrown by `query` for a query whose result the expansion does not have yet (see template.ts). */
export class QueryNeeded {
  constructor(readonly query: string) {}
}

const T_HTML: GoType = { kind: 'string', name: 'template.HTML' };

const SAMPLE: GoType = {
  kind: 'struct',
  name: 'template.sample',
  fields: [
    { name: 'Labels', type: T_STRING_MAP },
    { name: 'Value', type: T_ANY },
  ],
};
const T_SAMPLE_PTR: GoType = { kind: 'ptr', name: '*template.sample', elem: SAMPLE };
const T_QUERY_RESULT: GoType = { kind: 'slice', name: 'template.queryResult', elem: T_SAMPLE_PTR };

function method(params: readonly GoType[], call: (recv: Value, args: GoVal[]) => GoVal): GoFunc {
  return { params, variadic: null, call: ([recv, ...args]) => call(recv!, args) };
}

// ---- time.Time (ms since the epoch: Prometheus's conversions keep ms) and time.Duration (ns).

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

/** Go's time.Time.String for a UTC time: `2026-12-06 12:00:00.5 +0000 UTC`. */
export function formatGoTime(ms: number): string {
  const d = new Date(ms);
  const frac = ((ms % 1000) + 1000) % 1000;
  const y = d.getUTCFullYear();
  const year = y < 0 ? '-' + pad(-y, 4) : pad(y, 4);
  let s = `${year}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  if (frac !== 0) s += '.' + pad(frac, 3).replace(/0+$/, '');
  return s + ' +0000 UTC';
}

const T_LOCATION_PTR: GoType = { kind: 'ptr', name: '*time.Location', elem: { kind: 'struct', name: 'time.Location', fields: [] } };
const T_UINT64: GoType = { kind: 'uint', name: 'uint64' };
/** Seconds from Go's zero time (January 1, year 1) to the Unix epoch. */
const UNIX_TO_INTERNAL = 62135596800;

const T_TIME: GoType = {
  kind: 'struct',
  name: 'time.Time',
  fields: [
    { name: 'wall', type: T_UINT64 },
    { name: 'ext', type: T_INT64 },
    { name: 'loc', type: T_LOCATION_PTR },
  ],
  stringer: (v) => formatGoTime(v.v as number),
  // Go's own layout of a UTC time without a monotonic reading: nanoseconds, seconds since year 1, no location.
  rawFields: (v) => {
    const ms = v.v as number;
    const sec = Math.floor(ms / 1000);
    return [new Value(T_UINT64, (ms - sec * 1000) * 1e6), new Value(T_INT64, sec + UNIX_TO_INTERNAL), new Value(T_LOCATION_PTR, null)];
  },
  methods: new Map<string, GoFunc>([
    ['Unix', method([], (t) => new Value(T_INT64, Math.floor((t.v as number) / 1000)))],
    ['UnixMilli', method([], (t) => new Value(T_INT64, t.v as number))],
    ['UnixNano', method([], (t) => new Value(T_INT64, (t.v as number) * 1e6))],
    ['Year', method([], (t) => intV(new Date(t.v as number).getUTCFullYear()))],
    ['Day', method([], (t) => intV(new Date(t.v as number).getUTCDate()))],
    ['Hour', method([], (t) => intV(new Date(t.v as number).getUTCHours()))],
    ['Minute', method([], (t) => intV(new Date(t.v as number).getUTCMinutes()))],
    ['Second', method([], (t) => intV(new Date(t.v as number).getUTCSeconds()))],
    ['String', method([], (t) => stringV(formatGoTime(t.v as number)))],
  ]),
};
const T_TIME_PTR: GoType = { kind: 'ptr', name: '*time.Time', elem: T_TIME };

const T_DURATION: GoType = {
  kind: 'int',
  name: 'time.Duration',
  stringer: (v) => formatGoDurationNs(v.v as number),
  methods: new Map<string, GoFunc>([
    ['Seconds', method([], (d) => floatV((d.v as number) / 1e9))],
    ['Minutes', method([], (d) => floatV((d.v as number) / 6e10))],
    ['Hours', method([], (d) => floatV((d.v as number) / 3.6e12))],
    ['Milliseconds', method([], (d) => new Value(T_INT64, Math.trunc((d.v as number) / 1e6)))],
    ['String', method([], (d) => stringV(formatGoDurationNs(d.v as number)))],
  ]),
};
const T_DURATION_PTR: GoType = { kind: 'ptr', name: '*time.Duration', elem: T_DURATION };

// ---- Conversions.

/** prometheus/common's ConvertToFloat: numbers, numeric strings and durations. */
function convertToFloat(v: GoVal): number {
  if (v === null) throw new GoError("can't convert <nil> to float");
  switch (v.type.name) {
    case 'float64':
    case 'int':
    case 'uint':
    case 'int64':
    case 'uint64':
      return v.v as number;
    case 'string':
      try {
        return parseGoFloat(v.v as string);
      } catch (e) {
        if (e instanceof NumError) throw new GoError(e.message);
        throw e;
      }
    case 'time.Duration':
      return (v.v as number) / 1e9;
    default:
      throw new GoError(`can't convert ${v.type.name} to float`);
  }
}

function g4(v: number, suffix = ''): GoVal {
  return stringV(sprintf('%.4g', [floatV(v)]) + suffix);
}

function humanize(v: number): GoVal {
  if (v === 0 || !Number.isFinite(v)) return g4(v);
  if (Math.abs(v) >= 1) {
    let prefix = '';
    for (const p of ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return g4(v, prefix);
  }
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return g4(v, prefix);
}

function humanize1024(v: number): GoVal {
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return g4(v);
  let prefix = '';
  for (const p of ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi']) {
    if (Math.abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return g4(v, prefix);
}

function humanizeDuration(v: number): GoVal {
  if (!Number.isFinite(v)) return g4(v);
  if (v === 0) return g4(v, 's');
  if (Math.abs(v) >= 1) {
    let sign = '';
    if (v < 0) {
      sign = '-';
      v = -v;
    }
    const d = Math.trunc(v);
    const seconds = d % 60;
    const minutes = Math.trunc(d / 60) % 60;
    const hours = Math.trunc(d / 3600) % 24;
    const days = Math.trunc(d / 86400);
    if (days !== 0) return stringV(`${sign}${days}d ${hours}h ${minutes}m ${seconds}s`);
    if (hours !== 0) return stringV(`${sign}${hours}h ${minutes}m ${seconds}s`);
    if (minutes !== 0) return stringV(`${sign}${minutes}m ${seconds}s`);
    return stringV(sign + sprintf('%.4g', [floatV(v)]) + 's');
  }
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return g4(v, prefix + 's');
}

const MAX_INT64_F = 9223372036854775807;

class NaNOrInf extends GoError {}

/** common's FloatToTime: seconds to a UTC time, kept to the millisecond as model.Time does. */
function floatToTimeMs(v: number): number {
  if (!Number.isFinite(v)) throw new NaNOrInf('value is NaN or Inf');
  const ns = v * 1e9;
  if (ns > MAX_INT64_F || ns < -MAX_INT64_F) {
    throw new GoError(`${formatG(v)} cannot be represented as a nanoseconds timestamp since it overflows int64`);
  }
  return Number(BigInt(Math.trunc(ns)) / 1_000_000n);
}

function humanizeTimestamp(v: number): GoVal {
  let ms: number;
  try {
    ms = floatToTimeMs(v);
  } catch (e) {
    if (e instanceof NaNOrInf) return g4(v);
    throw e;
  }
  return stringV(formatGoTime(ms));
}

// ---- Strings.

/** Go's strings.ToUpper/ToLower map rune by rune; JS may turn one character into several. */
function mapRunes(s: string, f: (c: string) => string, keepMulti: boolean): string {
  let out = '';
  for (const c of s) {
    const m = f(c);
    if (m.length === c.length || Array.from(m).length === 1) out += m;
    else out += keepMulti ? c : String.fromCodePoint(m.codePointAt(0)!);
  }
  return out;
}

const WORD_CHAR = /[\p{L}\p{M}\p{Nd}_]/u;

/** The letters whose title case differs from their upper case (digraphs such as ǅ). */
const TITLE_CASE: ReadonlyMap<string, string> = new Map([
  ['\u01c4', '\u01c5'],
  ['\u01c5', '\u01c5'],
  ['\u01c6', '\u01c5'],
  ['\u01c7', '\u01c8'],
  ['\u01c8', '\u01c8'],
  ['\u01c9', '\u01c8'],
  ['\u01ca', '\u01cb'],
  ['\u01cb', '\u01cb'],
  ['\u01cc', '\u01cb'],
  ['\u01f1', '\u01f2'],
  ['\u01f2', '\u01f2'],
  ['\u01f3', '\u01f2'],
]);

/** x/text cases.Title with NoLower: the first letter of each word upper-cased, the rest kept. */
function title(s: string): string {
  let out = '';
  let inWord = false;
  for (const c of s) {
    const word = WORD_CHAR.test(c);
    if (word && !inWord && /\p{L}/u.test(c)) out += TITLE_CASE.get(c) ?? mapRunes(c, (x) => x.toUpperCase(), true);
    else out += c;
    inWord = word;
  }
  return out;
}

/** Go's net.SplitHostPort; null where Go returns an error. */
function splitHostPort(hp: string): { host: string; port: string } | null {
  const i = hp.lastIndexOf(':');
  if (i < 0) return null;
  let host: string;
  let j = 0;
  let k = 0;
  if (hp[0] === '[') {
    const end = hp.indexOf(']');
    if (end < 0 || end + 1 !== i) return null;
    host = hp.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = hp.slice(0, i);
    if (host.includes(':')) return null;
  }
  if (hp.indexOf('[', j) >= 0 || hp.indexOf(']', k) >= 0) return null;
  return { host, port: hp.slice(i + 1) };
}

function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function stripDomain(hp: string): string {
  const sp = splitHostPort(hp);
  let host = sp === null ? hp : sp.host;
  const port = sp === null ? '' : sp.port;
  if (isIP(host) !== 0) return hp;
  host = host.split('.')[0]!;
  return port !== '' ? joinHostPort(host, port) : host;
}

/** The path of a URL as Go's url.URL.Path has it (decoded; '' when there is none). */
function urlPath(u: string): string {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/.exec(u);
  const raw = m === null ? '' : m[1]!;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function compileOrPanic(pattern: string): ReturnType<typeof compileGoRegexp> {
  try {
    return compileGoRegexp(pattern);
  } catch (e) {
    if (e instanceof RegexpSyntaxError) throw new GoError(`regexp: Compile(${regexpQuote(pattern)}): ${e.message}`);
    throw e;
  }
}

// ---- Queries.

function sampleValue(s: TemplateSample): Value {
  const labels = new Map<string, Value>();
  s.labels.forEach((n, v) => labels.set(n, stringV(v)));
  return new Value(T_SAMPLE_PTR, new Value(SAMPLE, [new Value(T_STRING_MAP, labels), floatV(s.value)]));
}

function sampleFields(v: GoVal): GoVal[] {
  if (v === null || v.v === null) throw new GoError('runtime error: invalid memory address or nil pointer dereference');
  return (v.v as Value).v as GoVal[];
}

function labelOf(v: GoVal, name: string): string {
  const labels = sampleFields(v)[0];
  const m = labels?.v as Map<string, Value> | undefined;
  return (m?.get(name)?.v as string | undefined) ?? '';
}

/** Without a state (a plain Template.execute), `query` fails and the rest see an empty URL at time 0. */
const NO_STATE: PromFuncState = {
  timestampMs: 0,
  externalUrl: '',
  queryResult: () => {
    throw new GoError('no query function available');
  },
};

function state(ctx: { readonly funcState: unknown }): PromFuncState {
  return (ctx.funcState as PromFuncState | null) ?? NO_STATE;
}

function f(params: readonly GoType[], call: GoFunc['call'], variadic: GoType | null = null): GoFunc {
  return { params, variadic, call };
}

const str = (v: GoVal | undefined): string => (v?.v as string | undefined) ?? '';

/** Prometheus's template functions, by name (3.x's set, without the HTML-only `tmpl`). */
export const PROM_FUNCS: ReadonlyMap<string, GoFunc> = new Map<string, GoFunc>([
  [
    'query',
    f([T_STRING], ([q], ctx) => new Value(T_QUERY_RESULT, state(ctx).queryResult(str(q)).map(sampleValue))),
  ],
  [
    'first',
    f([T_QUERY_RESULT], ([v]) => {
      const elems = (v?.v as Value[] | undefined) ?? [];
      if (elems.length === 0) throw new GoError('first() called on vector with no elements');
      return elems[0]!;
    }),
  ],
  ['label', f([T_STRING, T_SAMPLE_PTR], ([l, s]) => stringV(labelOf(s ?? null, str(l))))],
  ['value', f([T_SAMPLE_PTR], ([s]) => sampleFields(s ?? null)[1] ?? null)],
  ['strvalue', f([T_SAMPLE_PTR], ([s]) => stringV(labelOf(s ?? null, '__value__')))],
  [
    'args',
    f(
      [],
      (args) => {
        const m = new Map<string, GoVal>();
        args.forEach((a, i) => m.set(`arg${i}`, a));
        return new Value(T_ANY_MAP, m);
      },
      T_ANY,
    ),
  ],
  ['reReplaceAll', f([T_STRING, T_STRING, T_STRING], ([p, r, t]) => stringV(replaceAllString(compileOrPanic(str(p)), str(t), str(r))))],
  ['safeHtml', f([T_STRING], ([t]) => new Value(T_HTML, str(t)))],
  [
    'match',
    f([T_STRING, T_STRING], ([p, s]) => {
      try {
        return boolV(matchString(compileGoRegexp(str(p)), str(s)));
      } catch (e) {
        if (e instanceof RegexpSyntaxError) throw new GoError(e.message);
        throw e;
      }
    }),
  ],
  ['title', f([T_STRING], ([s]) => stringV(title(str(s))))],
  ['toUpper', f([T_STRING], ([s]) => stringV(mapRunes(str(s), (c) => c.toUpperCase(), true)))],
  ['toLower', f([T_STRING], ([s]) => stringV(mapRunes(str(s), (c) => c.toLowerCase(), false)))],
  ['graphLink', f([T_STRING], ([e]) => stringV(`/graph?g0.expr=${queryEscape(str(e))}&g0.tab=0`))],
  ['tableLink', f([T_STRING], ([e]) => stringV(`/graph?g0.expr=${queryEscape(str(e))}&g0.tab=1`))],
  [
    'sortByLabel',
    f([T_STRING, T_QUERY_RESULT], ([l, v]) => {
      const label = str(l);
      // Go sorts the slice it was given in place (sort.Stable on v[:]); so do we.
      const elems = (v?.v as Value[] | undefined) ?? [];
      elems.sort((a, b) => compareStrings(labelOf(a, label), labelOf(b, label)));
      return v ?? new Value(T_QUERY_RESULT, []);
    }),
  ],
  [
    'stripPort',
    f([T_STRING], ([h]) => {
      const sp = splitHostPort(str(h));
      return stringV(sp === null ? str(h) : sp.host);
    }),
  ],
  ['stripDomain', f([T_STRING], ([h]) => stringV(stripDomain(str(h))))],
  ['humanize', f([T_ANY], ([v]) => humanize(convertToFloat(v ?? null)))],
  ['humanize1024', f([T_ANY], ([v]) => humanize1024(convertToFloat(v ?? null)))],
  ['humanizeDuration', f([T_ANY], ([v]) => humanizeDuration(convertToFloat(v ?? null)))],
  ['humanizePercentage', f([T_ANY], ([v]) => g4(convertToFloat(v ?? null) * 100, '%'))],
  ['humanizeTimestamp', f([T_ANY], ([v]) => humanizeTimestamp(convertToFloat(v ?? null)))],
  ['toTime', f([T_ANY], ([v]) => new Value(T_TIME_PTR, new Value(T_TIME, floatToTimeMs(convertToFloat(v ?? null)))))],
  [
    'toDuration',
    f([T_ANY], ([v]) => {
      const ns = convertToFloat(v ?? null) * 1e9;
      // Go's float-to-int64 conversion gives MinInt64 out of range (amd64).
      const d = Number.isFinite(ns) && Math.abs(ns) < MAX_INT64_F ? Math.trunc(ns) : -MAX_INT64_F - 1;
      return new Value(T_DURATION_PTR, new Value(T_DURATION, d));
    }),
  ],
  ['now', f([], (_a, ctx) => floatV(state(ctx).timestampMs / 1000))],
  ['pathPrefix', f([], (_a, ctx) => stringV(urlPath(state(ctx).externalUrl)))],
  ['externalURL', f([], (_a, ctx) => stringV(state(ctx).externalUrl))],
  [
    'parseDuration',
    f([T_STRING], ([d]) => {
      const s = str(d);
      const neg = s.startsWith('-');
      try {
        const ms = parseDuration(neg ? s.slice(1) : s);
        return new Value(T_FLOAT64, (neg ? -ms : ms) / 1000);
      } catch (e) {
        if (e instanceof InvalidDurationError) throw new GoError(e.message);
        throw e;
      }
    }),
  ],
  ['urlQueryEscape', f([T_STRING], ([s]) => stringV(queryEscape(str(s))))],
]);

