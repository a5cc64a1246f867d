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
  for (let i = 0; i < UNIT_MS.length; i++) {
    const part = m[i + 1];
    if (part !== undefined) ms += Number(part) * UNIT_MS[i]!;
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
  for (let i = 0; i < UNIT_MS.length; i++) {
    const unit = UNIT_MS[i]!;
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

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KB: 2 ** 10,
  KiB: 2 ** 10,
  MB: 2 ** 20,
  MiB: 2 ** 20,
  GB: 2 ** 30,
  GiB: 2 ** 30,
  TB: 2 ** 40,
  TiB: 2 ** 40,
  PB: 2 ** 50,
  PiB: 2 ** 50,
  EB: 2 ** 60,
  EiB: 2 ** 60,
};
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
    const unit = m === null ? undefined : SIZE_UNITS[m[2]!];
    if (m === null || unit === undefined) throw new UnitParseError(`invalid size ${JSON.stringify(s)}: want a number with a unit (B, KB, MB, GB, TB, PB, EB)`);
    total += Number(m[1]) * unit;
    pos = SIZE_PART_RE.lastIndex;
  }
  return Math.floor(total);
}

/** Formats bytes as Prometheus prints base-2 sizes ("512MiB", "1GiB512MiB", "0B"). */
export function formatSize(bytes: number): string {
  if (bytes === 0) return '0B';
  const units = ['EiB', 'PiB', 'TiB', 'GiB', 'MiB', 'KiB'];
  let rest = bytes;
  let out = '';
  for (const u of units) {
    const size = SIZE_UNITS[u]!;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${u}`;
      rest -= n * size;
    }
  }
  if (rest > 0) out += `${rest}B`;
  return out;
}
