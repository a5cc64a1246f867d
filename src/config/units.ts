// Prometheus's byte-size notation, shared by the config file and the CLI flags
// (durations are gofmt/duration.ts).

/** Thrown for a malformed size; callers add where it came from. */
export class UnitParseError extends Error {
  override name = 'UnitParseError';
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
