// Part of gofmt (see quote.ts): Prometheus durations (`1h30m`, `5m`, `90s`,
// `0`), parsed and printed as prometheus/common's model.ParseDuration and
// model.Duration.String do, and Go's time.Duration.String.
import { goQuote } from './quote.js';

/** A duration string that model.ParseDuration rejects; the message is Prometheus's. */
export class InvalidDurationError extends Error {
  override readonly name = 'InvalidDurationError';
}

const NS_PER_MS = 1_000_000n;
const MAX_INT64 = (1n << 63n) - 1n;

function unit(pos: number, ms: number): { pos: number; ms: number; ns: bigint } {
  return { pos, ms, ns: BigInt(ms) * NS_PER_MS };
}

/** Units in the order they must appear, with their length. */
const UNITS: ReadonlyMap<string, { pos: number; ms: number; ns: bigint }> = new Map([
  ['y', unit(1, 365 * 86_400_000)],
  ['w', unit(2, 7 * 86_400_000)],
  ['d', unit(3, 86_400_000)],
  ['h', unit(4, 3_600_000)],
  ['m', unit(5, 60_000)],
  ['s', unit(6, 1_000)],
  ['ms', unit(7, 1)],
]);

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Milliseconds of a single `<digits><unit>` duration such as `5m`, the common case; -1 when it is anything else. */
function parseSimpleMs(s: string): number {
  let i = 0;
  let v = 0;
  // At most 12 digits keep v * (one year in ms) below 2^53.
  while (i < s.length && i < 12 && isDigit(s.charCodeAt(i))) v = v * 10 + (s.charCodeAt(i++) - 0x30);
  if (i === 0 || i === s.length) return -1;
  const unit = s.slice(i);
  const u = UNITS.get(unit);
  if (u === undefined) return -1;
  const ms = v * u.ms;
  // Larger values may overflow int64 nanoseconds; the exact path checks them.
  return ms < 9_000_000_000_000 ? ms : -1;
}

/** The general case, in exact int64 nanosecond arithmetic as Go does it. */
function parseDurationExact(s: string): bigint {
  if (s === '0') return 0n;
  if (s === '') throw new InvalidDurationError('empty duration string');
  const invalid = (): InvalidDurationError => new InvalidDurationError(`not a valid duration string: ${goQuote(s)}`);
  let dur = 0n;
  let lastPos = 0;
  let i = 0;
  while (i < s.length) {
    if (!isDigit(s.charCodeAt(i))) throw invalid();
    let j = i;
    while (j < s.length && isDigit(s.charCodeAt(j))) j++;
    const v = BigInt(s.slice(i, j));
    // strconv.ParseUint rejects values above 2^64-1.
    if (v > 0xffff_ffff_ffff_ffffn) throw invalid();
    i = j;
    while (j < s.length && !isDigit(s.charCodeAt(j))) j++;
    if (j === i) throw invalid();
    const u = s.slice(i, j);
    i = j;
    const unit = UNITS.get(u);
    if (unit === undefined) throw new InvalidDurationError(`unknown unit ${goQuote(u)} in duration ${goQuote(s)}`);
    if (unit.pos <= lastPos) throw invalid();
    lastPos = unit.pos;
    if (v > (1n << 63n) / unit.ns) throw new InvalidDurationError('duration out of range');
    dur += v * unit.ns;
    if (dur > MAX_INT64) throw new InvalidDurationError('duration out of range');
  }
  return dur;
}

/** Parses a Prometheus duration (`1h30m`, `5m`, `0`) to milliseconds; throws InvalidDurationError. */
export function parseDuration(s: string): number {
  const simple = parseSimpleMs(s);
  return simple >= 0 ? simple : Number(parseDurationExact(s) / NS_PER_MS);
}

const MS_UNITS: ReadonlyArray<readonly [string, number, boolean]> = [
  // Years and weeks only when they divide exactly: 90d reads better than 12w6d.
  ['y', 365 * 24 * 3600 * 1000, true],
  ['w', 7 * 24 * 3600 * 1000, true],
  ['d', 24 * 3600 * 1000, false],
  ['h', 3600 * 1000, false],
  ['m', 60 * 1000, false],
  ['s', 1000, false],
  ['ms', 1, false],
];

/**
 * Formats milliseconds as model.Duration.String does (`1h30m`, `0s`); fractions
 * of a ms are dropped. A negative duration prints as `-` and its magnitude
 * (`-5m`), which is how Prometheus writes negative offsets.
 */
export function formatDuration(ms: number): string {
  let rest = Math.trunc(ms);
  if (rest === 0 || !Number.isFinite(rest)) return '0s';
  let sign = '';
  if (rest < 0) {
    sign = '-';
    rest = -rest;
  }
  let out = '';
  for (const [unit, mult, exact] of MS_UNITS) {
    if (exact && rest % mult !== 0) continue;
    const v = Math.floor(rest / mult);
    if (v > 0) {
      out += `${v}${unit}`;
      rest -= v * mult;
    }
  }
  return sign + out;
}

/** `${int}.${frac}` of v / 10^prec with the fraction's trailing zeros (and a bare '.') dropped. */
function decimal(v: number, prec: number): string {
  const p = 10 ** prec;
  const int = Math.floor(v / p);
  const frac = v - int * p;
  if (frac === 0) return String(int);
  return `${int}.${String(frac).padStart(prec, '0').replace(/0+$/, '')}`;
}

/**
 * Go's time.Duration.String for a count of nanoseconds (`1h0m0s`, `1m30s`,
 * `1.5s`, `500ms`, `1.5µs`, `-2m0s`, `0s`). Exact for integer counts below 2^53.
 */
export function formatGoDurationNs(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  const u = Math.abs(ns);
  if (u < 1e3) return `${sign}${u}ns`;
  if (u < 1e6) return `${sign}${decimal(u, 3)}µs`;
  if (u < 1e9) return `${sign}${decimal(u, 6)}ms`;
  const totalSec = Math.floor(u / 1e9);
  let out = `${decimal(u - (totalSec - (totalSec % 60)) * 1e9, 9)}s`;
  if (totalSec >= 60) out = `${Math.floor(totalSec / 60) % 60}m${out}`;
  if (totalSec >= 3600) out = `${Math.floor(totalSec / 3600)}h${out}`;
  return sign + out;
}
