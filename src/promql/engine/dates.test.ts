import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CivilDate, DATE_FUNCTIONS } from './dates.js';

describe('date functions', () => {
  const D = DATE_FUNCTIONS;
  const d = new CivilDate();
  const all = (t: number) =>
    ['year', 'month', 'day_of_month', 'hour', 'minute', 'day_of_week', 'day_of_year', 'days_in_month'].map((n) => D[n]!(t, d));

  test('calendar fields in UTC', () => {
    // 2006-01-02 22:04:05, a Monday.
    assert.deepEqual(all(1136239445), [2006, 1, 2, 22, 4, 1, 2, 31]);
    assert.deepEqual(all(0), [1970, 1, 1, 0, 0, 4, 1, 31]);
    // 2016-02-29 23:59:59 and 2016-03-01.
    assert.deepEqual(all(1456790399), [2016, 2, 29, 23, 59, 1, 60, 29]);
    assert.deepEqual(all(1456790400), [2016, 3, 1, 0, 0, 2, 61, 31]);
    assert.equal(D.day_of_year!(1483191420, d), 366);
    assert.equal(D.day_of_year!(1672493820, d), 365);
    assert.equal(D.days_in_month!(1485907200, d), 28);
    // Fractions are truncated towards zero, so -0.5 is the epoch and -1 the second before.
    assert.deepEqual(all(-0.5), all(0));
    assert.deepEqual(all(-1), [1969, 12, 31, 23, 59, 3, 365, 31]);
  });

  test('far past and future as Go computes them', () => {
    assert.deepEqual(all(-62135596801), [0, 12, 31, 23, 59, 0, 366, 31]);
    assert.deepEqual(all(1e12), [33658, 9, 27, 1, 46, 5, 270, 30]);
    assert.deepEqual(all(9.2e18), [291536396232, 8, 31, 11, 33, 5, 244, 31]);
  });

  test('NaN, infinities and out-of-range values become Go math.MinInt64 seconds', () => {
    const minInt64 = [292277026596, 12, 4, 15, 30, 0, 339, 31];
    assert.deepEqual(all(NaN), minInt64);
    assert.deepEqual(all(Infinity), minInt64);
    assert.deepEqual(all(-Infinity), minInt64);
    assert.deepEqual(all(1e300), minInt64);
  });
});
