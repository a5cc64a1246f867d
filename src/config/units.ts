// Prometheus's byte-size notation, shared by the config file and the CLI flags
// (durations are gofmt/duration.ts).

/** Thrown for a malformed size; callers add where it came from. */
export class UnitParseError extends Error {
  override name = 'UnitParseError';
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
    const unit = m === null ? undefined : SIZE_UNITS[m[2]!]; // group 2 is not optional: set on a match
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
    const size = SIZE_UNITS[u]!; // every name in units is a key of SIZE_UNITS
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${u}`;
      rest -= n * size;
    }
  }
  if (rest > 0) out += `${rest}B`;
  return out;
}
