import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTime, parseDurationParam, parseTimeParam, parseLimitParam } from './params.js';
import { ApiError } from '../types.js';

test('parseTime accepts Unix seconds and RFC 3339', () => {
  assert.equal(parseTime('1435781451.781'), 1435781451781);
  assert.equal(parseTime('1435781451'), 1435781451000);
  assert.equal(parseTime('1.0006'), 1001);
  assert.equal(parseTime('-1.5'), -1500);
  assert.equal(parseTime('1e3'), 1_000_000);
  assert.equal(parseTime('2015-07-01T20:10:51.781Z'), 1435781451781);
  assert.equal(parseTime('2015-07-01T20:10:51Z'), 1435781451000);
  assert.equal(parseTime('2015-07-01T22:10:51.7819+02:00'), 1435781451781);
  assert.throws(() => parseTime('yesterday'), /cannot parse "yesterday" to a valid timestamp/);
  assert.throws(() => parseTime(''), /cannot parse "" to a valid timestamp/);
  assert.throws(() => parseTime('2015-02-30T00:00:00Z'), /cannot parse/);
  assert.throws(() => parseTime('NaN'), /cannot parse/);
});

test('parseDurationParam accepts float seconds and duration notation', () => {
  assert.equal(parseDurationParam('15'), 15_000);
  assert.equal(parseDurationParam('0.5'), 500);
  assert.equal(parseDurationParam('1m30s'), 90_000);
  assert.equal(parseDurationParam('0.0001'), 0);
  assert.throws(() => parseDurationParam('abc'), /cannot parse "abc" to a valid duration/);
  assert.throws(() => parseDurationParam('1e300'), /overflows int64/);
});

test('time and limit parameters name themselves in errors', () => {
  const p = new URLSearchParams('start=x&limit=-1');
  assert.equal(parseTimeParam(p, 'end', 42), 42);
  assert.throws(
    () => parseTimeParam(p, 'start', 0),
    (e: unknown) =>
      e instanceof ApiError &&
      e.errorType === 'bad_data' &&
      e.message === `invalid parameter "start": invalid time value for 'start': cannot parse "x" to a valid timestamp`,
  );
  assert.throws(() => parseLimitParam(p), /invalid parameter "limit": limit must be non-negative/);
  assert.equal(parseLimitParam(new URLSearchParams('limit=5')), 5);
  assert.throws(() => parseLimitParam(new URLSearchParams('limit=x')), /invalid parameter "limit": strconv.Atoi: parsing "x": invalid syntax/);
});
