// Prometheus's duration and byte-size notations, shared by the config file, the CLI flags and the API.

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];
const UNIT_NAMES = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];

/** Thrown for a malformed duration or size; callers add where it came from. */
export class UnitParseError extends Error {
  override name = 'UnitParseError';
}

/**
 * Parses Prometheus's duration notation ("1h30m", "15s", "0", units y w d h m s ms
 * in that order, each at most once) into milliseconds.
 */
export function parseDuration(s: string): number {
  if (s === '') throw new UnitParseError('empty duration string');
  if (s === '0') return 0;
  const m = DURATION_RE.exec(s);
  if (m === null) throw new UnitParseError(`not a valid duration string: ${JSON.stringify(s)}`);
  let ms = 0;
  for (const [i, unit] of UNIT_MS.entries()) {
    const part = m[i + 1];
    if (part !== undefined) ms += Number(part) * unit;
  }
  // Go's time.Duration is int64 nanoseconds; Prometheus rejects what does not fit.
  if (ms > 9_223_372_036_854) throw new UnitParseError(`duration out of range: ${JSON.stringify(s)}`);
  return ms;
}

/** Formats milliseconds as Prometheus prints durations ("1h30m", "0s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.abs(ms);
  let out = ms < 0 ? '-' : '';
  for (const [i, unit] of UNIT_MS.entries()) {
    // Years and weeks only when they divide exactly ("90d" reads better than "12w6d").
    if (i <= 1 && rest % unit !== 0) continue;
    const n = Math.floor(rest / unit);
    if (n > 0) {
      out += `${n}${UNIT_NAMES[i]}`;
      rest -= n * unit;
    }
  }
  return out;
}

/** The units formatSize prints, largest first. */
const BASE2_UNITS: readonly (readonly [string, number])[] = [
  ['EiB', 2 ** 60],
  ['PiB', 2 ** 50],
  ['TiB', 2 ** 40],
  ['GiB', 2 ** 30],
  ['MiB', 2 ** 20],
  ['KiB', 2 ** 10],
];
// Every unit parseSize accepts; "KB" means KiB as in Prometheus. A Map, so that "constructor" is no unit.
const SIZE_UNITS = new Map<string, number>([['B', 1], ...BASE2_UNITS, ...BASE2_UNITS.map(([u, n]) => [u.replace('i', ''), n] as const)]);
const SIZE_PART_RE = /(\d+(?:\.\d+)?)([A-Za-z]+)/y;

/** Parses a base-2 byte size ("512MB", "1GiB", "1GB512MB", "0") into bytes, as Prometheus's size settings. */
export function parseSize(s: string): number {
  if (s === '0') return 0;
  if (s === '') throw new UnitParseError('empty size string');
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    SIZE_PART_RE.lastIndex = pos;
    const m = SIZE_PART_RE.exec(s);
    const num = m?.[1];
    const unit = m?.[2] === undefined ? undefined : SIZE_UNITS.get(m[2]);
    if (num === undefined || unit === undefined) throw new UnitParseError(`invalid size ${JSON.stringify(s)}: want a number with a unit (B, KB, MB, GB, TB, PB, EB)`);
    total += Number(num) * unit;
    pos = SIZE_PART_RE.lastIndex;
  }
  return Math.floor(total);
}

/** Formats bytes as Prometheus prints base-2 sizes ("512MiB", "1GiB512MiB", "0B"). */
export function formatSize(bytes: number): string {
  if (bytes === 0) return '0B';
  let rest = bytes;
  let out = '';
  for (const [u, size] of BASE2_UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${u}`;
      rest -= n * size;
    }
  }
  if (rest > 0) out += `${rest}B`;
  return out;
}
