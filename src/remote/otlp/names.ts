// OTLP names to Prometheus names, as Prometheus 3.x's otlptranslator builds
// them: metric names with unit and type suffixes, escaped or kept as sent;
// label names escaped to [a-zA-Z0-9_] or kept; attribute values as strings.

import { goQuote } from '../../gofmt/quote.js';

/** What a metric is, for its suffixes (otlptranslator's MetricType). */
export const enum MetricKind {
  Unknown,
  NonMonotonicCounter,
  MonotonicCounter,
  Gauge,
  Histogram,
  ExponentialHistogram,
  Summary,
}

/** A name that cannot be made valid; the metric or attribute carrying it is refused. */
export class NameError extends Error {
  override name = 'NameError';
}

/** OTLP (UCS) units to the words Prometheus's naming uses. */
const UNITS: ReadonlyMap<string, string> = new Map([
  ['d', 'days'],
  ['h', 'hours'],
  ['min', 'minutes'],
  ['s', 'seconds'],
  ['ms', 'milliseconds'],
  ['us', 'microseconds'],
  ['ns', 'nanoseconds'],
  ['By', 'bytes'],
  ['KiBy', 'kibibytes'],
  ['MiBy', 'mebibytes'],
  ['GiBy', 'gibibytes'],
  ['TiBy', 'tibibytes'],
  ['KBy', 'kilobytes'],
  ['MBy', 'megabytes'],
  ['GBy', 'gigabytes'],
  ['TBy', 'terabytes'],
  ['m', 'meters'],
  ['V', 'volts'],
  ['A', 'amperes'],
  ['J', 'joules'],
  ['W', 'watts'],
  ['g', 'grams'],
  ['Cel', 'celsius'],
  ['Hz', 'hertz'],
  ['1', ''],
  ['%', 'percent'],
]);

/** The unit after '/' in "x/s", singular. */
const PER_UNITS: ReadonlyMap<string, string> = new Map([
  ['s', 'second'],
  ['m', 'minute'],
  ['h', 'hour'],
  ['d', 'day'],
  ['w', 'week'],
  ['mo', 'month'],
  ['y', 'year'],
]);

/** Runs of characters outside Prometheus's legacy metric name set; '_' counts as outside, so runs of it collapse. */
const NOT_METRIC_CHARS = /[^a-zA-Z0-9:]+/;
/** The same, keeping '_' (the no-suffix strategy keeps underscores as sent). */
const NOT_METRIC_CHARS_OR_UNDERSCORE = /[^a-zA-Z0-9:_]+/;

function isAsciiDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function tokens(s: string, sep: RegExp): string[] {
  return s.split(sep).filter((t) => t !== '');
}

/** The main unit's word and the "per_<unit>" suffix of an OTLP unit; annotations in braces give none. */
function unitSuffixes(unit: string): [main: string, per: string] {
  const slash = unit.indexOf('/');
  const mainPart = (slash < 0 ? unit : unit.slice(0, slash)).trim();
  let main = '';
  if (mainPart !== '' && !/[{}]/.test(mainPart)) main = UNITS.get(mainPart) ?? mainPart;
  let per = '';
  if (slash >= 0 && slash + 1 < unit.length) {
    const perPart = unit.slice(slash + 1).trim();
    if (perPart !== '' && !/[{}]/.test(perPart)) per = PER_UNITS.get(perPart) ?? perPart;
    if (per !== '') per = `per_${per}`;
  }
  return [main, per];
}

/** A unit word reduced to metric name characters, runs of '_' collapsed, no leading '_'. */
function cleanUnit(u: string): string {
  return u.replace(/[^a-zA-Z0-9:_]/g, '_').replace(/_{2,}/g, '_').replace(/^_/, '');
}

function withoutToken(list: string[], t: string): string[] {
  return list.filter((x) => x !== t);
}

/** Escaped name with suffixes (UnderscoreEscapingWithSuffixes). */
function escapedWithSuffixes(name: string, unit: string, kind: MetricKind): string {
  let parts = tokens(name, NOT_METRIC_CHARS);
  const [main0, per0] = unitSuffixes(unit);
  let main = cleanUnit(main0);
  let per = cleanUnit(per0);
  if (parts.includes(main)) main = '';
  if (per === 'per_') per = '';
  else {
    per = per.replace(/_$/, '');
    if (parts.includes(per)) per = '';
  }
  if (per !== '') main = main.replace(/_$/, '');
  if (main !== '') parts.push(main);
  if (per !== '') parts.push(per);
  if (kind === MetricKind.MonotonicCounter) parts = [...withoutToken(parts, 'total'), 'total'];
  if (unit === '1' && kind === MetricKind.Gauge) parts = [...withoutToken(parts, 'ratio'), 'ratio'];
  const out = parts.join('_');
  return out !== '' && isAsciiDigit(out.charCodeAt(0)) ? `_${out}` : out;
}

/** Escaped name without suffixes (UnderscoreEscapingWithoutSuffixes): underscores as sent. */
function escapedWithoutSuffixes(name: string): string {
  const out = tokens(name, NOT_METRIC_CHARS_OR_UNDERSCORE).join('_');
  return out !== '' && isAsciiDigit(out.charCodeAt(0)) ? `_${out}` : out;
}

/** Drops `suffix` and the one character before it, when something is left in front. */
function trimSuffix(name: string, suffix: string): string {
  return name.endsWith(suffix) && name.length > suffix.length + 1 ? name.slice(0, name.length - suffix.length - 1) : name;
}

/** The name as sent with suffixes (NoUTF8EscapingWithSuffixes): unit, then per-unit, _total, _ratio. */
function utf8WithSuffixes(name: string, unit: string, kind: MetricKind): string {
  let out = name;
  const ratio = unit === '1' && kind === MetricKind.Gauge;
  if (ratio) out = trimSuffix(out, 'ratio');
  const total = kind === MetricKind.MonotonicCounter;
  if (total) out = trimSuffix(out, 'total');
  const [main, per] = unitSuffixes(unit);
  if (per !== '') out = trimSuffix(out, per);
  if (main !== '' && !out.endsWith(main)) out = `${out}_${main}`;
  if (per !== '') out = `${out}_${per}`;
  if (total) out = `${out}_total`;
  if (ratio) out = `${out}_ratio`;
  return out;
}

export interface NamingOptions {
  /** Escape names to Prometheus's legacy character sets. */
  readonly escape: boolean;
  /** Add unit and type suffixes. */
  readonly suffixes: boolean;
}

/** The Prometheus metric name of an OTLP metric. Throws NameError when escaping leaves nothing usable. */
export function metricName(name: string, unit: string, kind: MetricKind, opts: NamingOptions): string {
  if (!opts.escape) return opts.suffixes ? utf8WithSuffixes(name, unit, kind) : name;
  const out = opts.suffixes ? escapedWithSuffixes(name, unit, kind) : escapedWithoutSuffixes(name);
  if (out === '') throw new NameError(`normalization for metric ${goQuote(name)} resulted in empty name`);
  if (out !== name && /^_+$/.test(out)) throw new NameError(`normalization for metric ${goQuote(name)} resulted in invalid name ${goQuote(out)}`);
  return out;
}

export interface LabelNamingOptions {
  readonly escape: boolean;
  /** Prefix "key" to names starting with a single '_' (label_name_underscore_sanitization). */
  readonly underscoreSanitization: boolean;
  /** Keep runs of '_' (label_name_preserve_multiple_underscores). */
  readonly preserveMultipleUnderscores: boolean;
}

function isLabelChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);
}

/** Each character outside [a-zA-Z0-9] becomes '_' (runs collapsed unless kept); `__x__` keeps its wrapping. */
function sanitizeLabel(name: string, preserve: boolean): string {
  let out = '';
  if (preserve) {
    for (const ch of name) out += ch.length === 1 && isLabelChar(ch.charCodeAt(0)) ? ch : '_';
    return out;
  }
  const reserved = name.length >= 4 && name.startsWith('__') && name.endsWith('__');
  const inner = reserved ? name.slice(2, -2) : name;
  let prevUnderscore = false;
  for (const ch of inner) {
    if (ch.length === 1 && isLabelChar(ch.charCodeAt(0))) {
      out += ch;
      prevUnderscore = false;
    } else if (!prevUnderscore) {
      out += '_';
      prevUnderscore = true;
    }
  }
  return reserved ? `__${out}__` : out;
}

/** The Prometheus label name of an OTLP attribute key. Throws NameError for an empty or all-underscore result. */
export function labelName(key: string, opts: LabelNamingOptions): string {
  if (key === '') throw new NameError('label name is empty');
  if (!opts.escape) {
    if (/^_+$/.test(key)) throw new NameError(`label name ${goQuote(key)} contains only underscores`);
    return key;
  }
  let out = sanitizeLabel(key, opts.preserveMultipleUnderscores);
  if (isAsciiDigit(out.charCodeAt(0))) out = `key_${out}`;
  else if (opts.underscoreSanitization && out.startsWith('_') && !out.startsWith('__')) out = `key${out}`;
  if (/^_+$/.test(out)) throw new NameError(`normalization for label name ${goQuote(key)} resulted in invalid name ${goQuote(out)}`);
  return out;
}

/**
 * Label names of one request, each escaped once: attribute keys repeat on
 * every data point. Bounded, since a hostile request may send a new key on
 * every point.
 */
export class LabelNameCache {
  /** Distinct keys remembered per request; real senders use tens. */
  private static readonly MAX = 4096;
  private readonly names = new Map<string, string>();
  constructor(readonly opts: LabelNamingOptions) {}
  get(key: string): string {
    let n = this.names.get(key);
    if (n === undefined) {
      n = labelName(key, this.opts);
      if (this.names.size < LabelNameCache.MAX) this.names.set(key, n);
    }
    return n;
  }
}
