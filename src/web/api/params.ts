// Request parameter parsing with Prometheus's rules and error wording.
import { ApiError } from './types.js';
import type { Matcher } from '../../model/matcher.js';
import { ParseError } from '../../promql/parser/errors.js';
import type { PromQLParser } from './deps.js';
import { InvalidDurationError, parseDuration } from '../../gofmt/duration.js';
import { goRound, NumError, parseGoFloat } from '../../gofmt/float.js';
import { goQuote } from '../../gofmt/quote.js';

const INT64_MAX = 2n ** 63n - 1n;

/**
 * Defaults of optional time ranges (series, labels, admin). Prometheus uses
 * roughly ±292 million years; we stay within exactly representable integers
 * of milliseconds so storage arithmetic stays exact.
 */
export const MIN_TIME_MS = Number.MIN_SAFE_INTEGER;
export const MAX_TIME_MS = Number.MAX_SAFE_INTEGER;

// Go's strconv.ParseFloat accepts these decimal forms (hex floats are rare enough to leave out).
const FLOAT_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/**
 * What Go's time.Parse(time.RFC3339Nano, s) accepts: its strict fast path plus
 * the general layout parser it falls back to, which also takes a one-digit
 * hour, a comma before the fraction and zone offsets up to 24:60.
 */
const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;
/** Prometheus's MinTime and MaxTime in RFC 3339, which Go's parser cannot read back but Prometheus accepts as such. */
const MIN_TIME_TEXT = '-292273086-05-16T16:47:06Z';
const MAX_TIME_TEXT = '292277025-08-18T07:12:54.999999999Z';
/** Go's int64(x) of a NaN on amd64: the most negative int64. */
const GO_NAN_TO_INT64 = -9.223372036854776e18;

/** A malformed parameter value; the caller wraps it with the parameter's name. */
export class ParamError extends Error {
  override name = 'ParamError';
}

/** Prometheus's `invalid parameter "<name>": <reason>` bad_data error. */
export function invalidParam(name: string, err: unknown): ApiError {
  const msg = err instanceof Error ? err.message : String(err);
  return new ApiError('bad_data', `invalid parameter ${goQuote(name)}: ${msg}`);
}

/** Parses Unix seconds (with fractions, rounded to ms) or RFC 3339 into ms. */
export function parseTime(s: string): number {
  if (FLOAT_RE.test(s)) {
    const f = Number(s);
    if (Number.isFinite(f)) {
      const sec = Math.trunc(f);
      const ms = sec * 1000 + goRound((f - sec) * 1000);
      if (Number.isSafeInteger(ms)) return ms;
    }
  }
  if (s === MIN_TIME_TEXT) return MIN_TIME_MS;
  if (s === MAX_TIME_TEXT) return MAX_TIME_MS;
  const m = RFC3339_RE.exec(s);
  if (m !== null) {
    const [, y, mo, d, h, mi, sec, frac, z, sign, oh, om] = m;
    const month = Number(mo);
    const day = Number(d);
    const hour = Number(h);
    const minute = Number(mi);
    const second = Number(sec);
    const zoneOk = z !== undefined || (Number(oh) <= 24 && Number(om) <= 60);
    if (zoneOk && month >= 1 && month <= 12 && day >= 1 && day <= daysIn(Number(y), month) && hour < 24 && minute < 60 && second < 60) {
      let ms = Date.UTC(Number(y), month - 1, day, hour, minute, second);
      // Date.UTC maps years 0-99 to 1900-1999; RFC 3339 years are literal.
      if (Number(y) < 100) ms = new Date(ms).setUTCFullYear(Number(y));
      if (frac !== undefined) ms += Number(frac.slice(0, 3).padEnd(3, '0'));
      if (z === undefined) {
        const off = (Number(oh) * 60 + Number(om)) * 60_000;
        ms -= sign === '-' ? -off : off;
      }
      return ms;
    }
  }
  throw new ParamError(`cannot parse ${goQuote(s)} to a valid timestamp`);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  // Callers pass a month already checked to be 1..12.
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
}

/** An optional time parameter: the default when absent or empty; errors worded as Prometheus's parseTimeParam. */
export function parseTimeParam(params: URLSearchParams, name: string, def: number): number {
  const v = params.get(name);
  if (v === null || v === '') return def;
  try {
    return parseTime(v);
  } catch (e) {
    throw invalidParam(name, new ParamError(`invalid time value for '${name}': ${(e as Error).message}`));
  }
}

/**
 * Parses a duration given as float seconds or in Prometheus's notation ("5m")
 * into nanoseconds, as Prometheus's parseDuration yields a time.Duration.
 */
export function parseDurationNs(s: string): number {
  let seconds: number | null = null;
  try {
    seconds = parseGoFloat(s);
  } catch (e) {
    if (!(e instanceof NumError)) throw e;
  }
  if (seconds !== null) {
    const ns = seconds * 1e9;
    // NaN passes Go's range check and converts to the most negative int64.
    if (ns !== ns) return GO_NAN_TO_INT64;
    if (ns > 9.223372036854776e18 || ns < -9.223372036854776e18) {
      throw new ParamError(`cannot parse ${goQuote(s)} to a valid duration. It overflows int64`);
    }
    return Math.trunc(ns);
  }
  try {
    return parseDuration(s) * 1e6;
  } catch (e) {
    if (!(e instanceof InvalidDurationError)) throw e;
    throw new ParamError(`cannot parse ${goQuote(s)} to a valid duration`);
  }
}

/** parseDurationNs in whole ms, truncated as Prometheus's engine truncates durations. */
export function parseDurationParam(s: string): number {
  return Math.trunc(parseDurationNs(s) / 1e6);
}

/** `limit`: 0 (no limit) when absent; a non-negative integer otherwise. */
export function parseLimitParam(params: URLSearchParams): number {
  const s = params.get('limit');
  if (s === null || s === '') return 0;
  if (!/^[+-]?\d+$/.test(s)) throw invalidParam('limit', new ParamError(`strconv.Atoi: parsing ${goQuote(s)}: invalid syntax`));
  const n = Number(s);
  // Go's int is 64 bits wide.
  if (BigInt(s) > INT64_MAX || BigInt(s) < -INT64_MAX - 1n) {
    throw invalidParam('limit', new ParamError(`strconv.Atoi: parsing ${goQuote(s)}: value out of range`));
  }
  if (n < 0) throw invalidParam('limit', new ParamError('limit must be non-negative'));
  return n;
}

/** An optional integer parameter (metadata, targets): -1 when absent or empty. */
export function parseIntParam(params: URLSearchParams, name: string): number {
  const s = params.get(name);
  if (s === null || s === '') return -1;
  if (!/^[+-]?\d+$/.test(s)) throw new ApiError('bad_data', `${name} must be a number`);
  return Number(s);
}

const BOOL_TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const BOOL_FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

/** An optional boolean parameter as Go's strconv.ParseBool reads it; false when absent or empty. */
export function parseBoolParam(params: URLSearchParams, name: string): boolean {
  const s = params.get(name);
  if (s === null || s === '') return false;
  if (BOOL_TRUE.includes(s)) return true;
  if (BOOL_FALSE.includes(s)) return false;
  throw invalidParam(name, new ParamError(`unable to parse boolean: strconv.ParseBool: parsing ${goQuote(s)}: invalid syntax`));
}

/** Parses match[] values; `wrap` names the parameter in errors as series and admin endpoints do. */
export function parseMatcherSets(parser: PromQLParser, values: string[], wrap: boolean): Matcher[][] {
  const sets: Matcher[][] = [];
  for (const v of values) {
    try {
      sets.push(parser.parseMetricSelector(v));
    } catch (e) {
      if (e instanceof ParseError || e instanceof Error) throw wrap ? invalidParam('match[]', e) : new ApiError('bad_data', e.message);
      throw e;
    }
  }
  for (const set of sets) {
    if (!set.some((m) => !m.matches(''))) {
      const err = new ParamError('match[] must contain at least one non-empty matcher');
      throw wrap ? invalidParam('match[]', err) : new ApiError('bad_data', err.message);
    }
  }
  return sets;
}
