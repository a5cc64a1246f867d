// Formatting shared by the pages: label sets, durations, times, numbers.

export type Metric = Record<string, string>;

/** `name{a="1", b="2"}`, as Prometheus prints a series. */
export function formatSeries(m: Metric): string {
  const name = m['__name__'] ?? '';
  const labels = Object.entries(m)
    .filter(([k]) => k !== '__name__')
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return labels.length === 0 && name !== '' ? name : `${name}{${labels.join(', ')}}`;
}

/** Seconds as a short human duration: 1.234s, 12ms, 3m 20s, 2h 5m, 4d 3h. */
export function humanSeconds(s: number): string {
  if (!Number.isFinite(s)) return String(s);
  const a = Math.abs(s);
  if (a < 1e-3) return `${(s * 1e6).toFixed(0)}µs`;
  if (a < 1) return `${(s * 1e3).toFixed(a < 0.01 ? 2 : a < 0.1 ? 1 : 0)}ms`;
  if (a < 60) return `${s.toFixed(3).replace(/\.?0+$/, '')}s`;
  const parts: string[] = [];
  let rest = Math.round(a);
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return (s < 0 ? '-' : '') + parts.slice(0, 2).join(' ');
}

/** "3m 20s ago" for a time in the past (ms since epoch). */
export function ago(ms: number, now = Date.now()): string {
  const d = (now - ms) / 1000;
  if (d < 0) return `in ${humanSeconds(-d)}`;
  return `${humanSeconds(d)} ago`;
}

/** RFC 3339 / Go zero time → ms, or null for Go's zero time (never). */
export function parseTime(s: string | undefined | null): number | null {
  if (s === undefined || s === null || s === '' || s.startsWith('0001-01-01')) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

/** UTC "YYYY-MM-DD HH:MM:SS", the format the query page's time inputs take. */
export function formatUtc(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}

/** Parses formatUtc's output (or any Date.parse-able text, read as UTC); null when not a time. */
export function parseUtc(s: string): number | null {
  const t = s.trim();
  if (t === '') return null;
  const ms = Date.parse(/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(t) ? `${t.replace(' ', 'T')}Z` : t);
  return Number.isNaN(ms) ? null : ms;
}

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [365 * 86400e3, 7 * 86400e3, 86400e3, 3600e3, 60e3, 1e3, 1];

/** Prometheus duration text (1h30m, 5m, 2d) → ms; null when invalid or zero. */
export function parseDuration(s: string): number | null {
  const m = DURATION_RE.exec(s.trim());
  if (m === null || s.trim() === '') return null;
  let ms = 0;
  for (let i = 0; i < UNIT_MS.length; i++) if (m[i + 1] !== undefined) ms += Number(m[i + 1]) * UNIT_MS[i]!;
  return ms > 0 ? ms : null;
}

/** ms → the shortest Prometheus duration text (90m → 1h30m). */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const units = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];
  let out = '';
  let rest = ms;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const n = Math.floor(rest / UNIT_MS[i]!);
    if (n > 0) out += `${n}${units[i]}`;
    rest -= n * UNIT_MS[i]!;
  }
  return out;
}

/** A sample value as the API sends it ("1.5", "NaN", "+Inf"), shortened for display. */
export function formatValue(v: string): string {
  const n = Number(v);
  if (!Number.isFinite(n) || (v.length <= 12 && !/e/i.test(v))) return v;
  return String(Number(n.toPrecision(10)));
}

/** Bytes as KiB/MiB/GiB. */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let x = n;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${i === 0 ? x : x.toFixed(1)} ${units[i]}`;
}
