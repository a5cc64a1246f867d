// Timestamp formats used by Prometheus 3.x logs (Go's log/slog handlers and promql.formatDate).

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

function pad3(n: number): string {
  return n < 10 ? '00' + n : n < 100 ? '0' + n : String(n);
}

function pad4(n: number): string {
  return n < 10 ? '000' + n : n < 100 ? '00' + n : n < 1000 ? '0' + n : String(n);
}

/** "Z" or "+hh:mm" / "-hh:mm" for an offset in minutes east of UTC, as Go's Z07:00 layout. */
function zone(offsetEastMin: number): string {
  if (offsetEastMin === 0) return 'Z';
  const sign = offsetEastMin > 0 ? '+' : '-';
  const a = Math.abs(offsetEastMin);
  return sign + pad2(Math.floor(a / 60)) + ':' + pad2(a % 60);
}

/** Local wall-clock fields and zone of an instant. */
function local(ms: number): { d: Date; z: string } {
  const d = new Date(ms);
  return { d, z: zone(-d.getTimezoneOffset()) };
}

function localDateTime(d: Date): string {
  return (
    pad4(d.getFullYear()) + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) +
    'T' + pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds())
  );
}

/**
 * The local date-time and zone of the last whole second formatted. Every line of a busy log falls in
 * the same second as the one before, and zone changes happen on whole seconds, so this is exact.
 */
let cachedSec = NaN;
let cachedDateTime = '';
let cachedZone = '';

function secondParts(ms: number): number {
  const sec = Math.floor(ms / 1000);
  if (sec !== cachedSec) {
    const { d, z } = local(sec * 1000);
    cachedSec = sec;
    cachedDateTime = localDateTime(d);
    cachedZone = z;
  }
  return ms - sec * 1000;
}

/** Local "YYYY-MM-DDTHH:MM:SS" and zone ("Z" or "+hh:mm") of a whole second since the epoch. */
export function localSecond(sec: number): { dateTime: string; zone: string } {
  secondParts(sec * 1000);
  return { dateTime: cachedDateTime, zone: cachedZone };
}

/** Local time with exactly three decimals, as slog's text (logfmt) handler writes `time`. */
export function formatLogfmtTime(ms: number): string {
  const frac = Math.floor(secondParts(ms));
  return cachedDateTime + '.' + pad3(frac) + cachedZone;
}

/** Local time as RFC 3339 with trailing zeros of the fraction trimmed, as slog's JSON handler writes `time`. */
export function formatJSONTime(ms: number): string {
  const frac = Math.floor(secondParts(ms));
  let f = '';
  if (frac !== 0) {
    f = '.' + pad3(frac);
    while (f.endsWith('0')) f = f.slice(0, -1);
  }
  return cachedDateTime + f + cachedZone;
}

/** The "YYYY-MM-DD" of the last UTC day formatted: a query's start and end mostly fall on the same day. */
let cachedDay = NaN;
let cachedDayText = '';

/** "YYYY-MM-DD" of a day number since the epoch (proleptic Gregorian, H. Hinnant's civil_from_days). */
function civilDate(days: number): string {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return pad4(y) + '-' + pad2(m) + '-' + pad2(d);
}

/** "YYYY-MM-DD" of a UTC day number since the epoch. */
export function utcDayText(days: number): string {
  if (days !== cachedDay) {
    cachedDay = days;
    cachedDayText = civilDate(days);
  }
  return cachedDayText;
}
