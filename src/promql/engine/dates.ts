// PromQL's date functions (year(), day_of_week(), days_in_month(), ...):
// the UTC calendar date of Unix seconds as Go's time package computes it.
// Imports nothing.

const SECONDS_PER_DAY = 86400;
const DAYS_PER_400_YEARS = 146097;

/**
 * The calendar fields of one instant in UTC. The date functions fill one
 * object, made once per evaluation, for every sample.
 */
export class CivilDate {
  year = 0;
  /** 1-12 */
  month = 0;
  /** 1-31 */
  day = 0;
  /** 1-366 */
  yearDay = 0;
  /** 0 = Sunday */
  weekday = 0;
  secondOfDay = 0;
  daysInMonth = 0;
}

/** Seconds from Go's absolute epoch (March 1st of year -292277022400) to 1970. */
const GO_UNIX_TO_ABSOLUTE = 9223372028741760000n;
const TWO_64 = 1n << 64n;

/** Fills `d` (except secondOfDay) from a day count since 1970-01-01 (proleptic Gregorian). */
function civilFromDays(days: number, d: CivilDate): void {
  // 1970-01-01 was a Thursday.
  d.weekday = (((days + 4) % 7) + 7) % 7;
  // Count from 0000-03-01 so that leap days fall at the end of each year.
  const z = days + 719468;
  const era = Math.floor(z / DAYS_PER_400_YEARS);
  const doe = z - era * DAYS_PER_400_YEARS;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  d.day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  d.month = mp < 10 ? mp + 3 : mp - 9;
  d.year = yoe + era * 400 + (d.month <= 2 ? 1 : 0);
  const leap = d.year % 4 === 0 && (d.year % 100 !== 0 || d.year % 400 === 0);
  // doy counts from March 1st (306 days before January 1st).
  d.yearDay = d.month <= 2 ? doy - 305 : doy + 60 + (leap ? 1 : 0);
  d.daysInMonth = daysIn(d.month, d.year);
}

function floorDaysBig(sec: bigint): number {
  let sod = sec % 86400n;
  if (sod < 0n) sod += 86400n;
  return Number((sec - sod) / 86400n);
}

/**
 * Fills `d` with the UTC calendar date of whole seconds since the epoch as
 * Go's time.Unix(int64(f), 0).UTC() gives it to Prometheus: the proleptic
 * Gregorian calendar, except that Go counts seconds from its absolute epoch
 * in wrapping unsigned 64-bit arithmetic, which shows at the ends of the
 * int64 range. Returns d.
 */
function civilDate(tSec: number, d: CivilDate): CivilDate {
  if (Math.abs(tSec) <= Number.MAX_SAFE_INTEGER) {
    d.secondOfDay = ((tSec % SECONDS_PER_DAY) + SECONDS_PER_DAY) % SECONDS_PER_DAY;
    civilFromDays((tSec - d.secondOfDay) / SECONDS_PER_DAY, d);
    return d;
  }
  let big = BigInt(tSec);
  // The earliest int64 seconds lie before Go's absolute epoch and wrap to 2^64 seconds later.
  if (big + GO_UNIX_TO_ABSOLUTE < 0n) big += TWO_64;
  let sod = big % 86400n;
  if (sod < 0n) sod += 86400n;
  d.secondOfDay = Number(sod);
  civilFromDays(Number((big - sod) / 86400n), d);
  // days_in_month asks Go for day 32 of the month; past 2^64 seconds from
  // the absolute epoch that date wraps to near the epoch.
  const day32 = big - sod + GO_UNIX_TO_ABSOLUTE + BigInt(32 - d.day) * 86400n;
  if (day32 >= TWO_64) {
    // Only for instants beyond ±2^53 seconds: one more object there is nothing.
    const wrapped = new CivilDate();
    civilFromDays(floorDaysBig(day32 - TWO_64 - GO_UNIX_TO_ABSOLUTE), wrapped);
    d.daysInMonth = 32 - wrapped.day;
  }
  return d;
}

/** Go converts float64 to int64 by truncation; out-of-range values and NaN become math.MinInt64 on amd64. */
const MIN_INT64 = -9223372036854775808;
function goInt64(x: number): number {
  if (x !== x || x >= 9223372036854775808 || x < MIN_INT64) return MIN_INT64;
  return Math.trunc(x);
}

function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The date functions by name: each reads Unix seconds and fills `d` (one per evaluation) on the way. */
export const DATE_FUNCTIONS: Readonly<Record<string, (tSec: number, d: CivilDate) => number>> = Object.freeze({
  day_of_month: (t: number, d: CivilDate) => civilDate(goInt64(t), d).day,
  day_of_week: (t: number, d: CivilDate) => civilDate(goInt64(t), d).weekday,
  day_of_year: (t: number, d: CivilDate) => civilDate(goInt64(t), d).yearDay,
  days_in_month: (t: number, d: CivilDate) => civilDate(goInt64(t), d).daysInMonth,
  hour: (t: number, d: CivilDate) => Math.floor(civilDate(goInt64(t), d).secondOfDay / 3600),
  minute: (t: number, d: CivilDate) => Math.floor((civilDate(goInt64(t), d).secondOfDay % 3600) / 60),
  month: (t: number, d: CivilDate) => civilDate(goInt64(t), d).month,
  year: (t: number, d: CivilDate) => civilDate(goInt64(t), d).year,
});
