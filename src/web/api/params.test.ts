import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBoolParam, parseDurationNs, parseDurationParam, parseIntParam, parseLimitParam, parseTime, parseTimeParam } from './params.js';
import { ApiError } from './types.js';

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

test('RFC 3339 as Go reads it: strict form, plus what its general parser takes', () => {
  assert.equal(parseTime('2015-07-01T20:10:51.123456789123Z'), 1435781451123);
  assert.equal(parseTime('2015-07-01T20:10:51,5Z'), 1435781451500);
  assert.equal(parseTime('2015-07-01T2:10:51Z'), 1435716651000);
  assert.equal(parseTime('2015-07-01T20:10:51+24:00'), 1435695051000);
  assert.equal(parseTime('2015-07-01T20:10:51+01:60'), 1435774251000);
  assert.equal(parseTime('0000-01-01T00:00:00Z'), -62167219200000);
  for (const bad of ['2015-07-01t20:10:51Z', '2015-07-01T20:10:51z', '2015-07-01T20:10:51.Z', '2015-07-01T20:10:60Z', '2015-07-01T24:00:00Z', '2015-07-01 20:10:51Z', '2015-07-01T20:10:51+0100', '2015-7-01T20:10:51Z']) {
    assert.throws(() => parseTime(bad), /cannot parse/, bad);
  }
});

test("Prometheus's MinTime and MaxTime texts are accepted", () => {
  assert.equal(parseTime('-292273086-05-16T16:47:06Z'), Number.MIN_SAFE_INTEGER);
  assert.equal(parseTime('292277025-08-18T07:12:54.999999999Z'), Number.MAX_SAFE_INTEGER);
});

test('durations in nanoseconds, with Go float parsing of special values', () => {
  assert.equal(parseDurationNs('0.0005'), 500_000);
  assert.equal(parseDurationNs('1m'), 60e9);
  assert.throws(() => parseDurationNs('Inf'), /cannot parse "Inf" to a valid duration. It overflows int64/);
  assert.throws(() => parseDurationNs('-infinity'), /overflows int64/);
  // A NaN converts to the most negative int64, as on amd64.
  assert.ok(parseDurationNs('NaN') < 0);
  assert.throws(() => parseDurationNs('+nan'), /cannot parse "\+nan" to a valid duration$/);
});

test('limit is a Go int', () => {
  assert.equal(parseLimitParam(new URLSearchParams('limit=%2B7')), 7);
  assert.throws(() => parseLimitParam(new URLSearchParams('limit=99999999999999999999')), /strconv.Atoi: parsing "99999999999999999999": value out of range/);
  assert.throws(() => parseLimitParam(new URLSearchParams('limit=5.0')), /invalid syntax/);
});

test('integer and boolean parameters', () => {
  const p = new URLSearchParams('limit=3&neg=-2&bad=x&yes=T&no=0&junk=yes&empty=');
  assert.equal(parseIntParam(p, 'limit'), 3);
  assert.equal(parseIntParam(p, 'neg'), -2);
  assert.equal(parseIntParam(p, 'missing'), -1);
  assert.equal(parseIntParam(p, 'empty'), -1);
  assert.throws(() => parseIntParam(p, 'bad'), { message: 'bad must be a number' });
  assert.equal(parseBoolParam(p, 'yes'), true);
  assert.equal(parseBoolParam(p, 'no'), false);
  assert.equal(parseBoolParam(p, 'missing'), false);
  assert.equal(parseBoolParam(p, 'empty'), false);
  assert.throws(() => parseBoolParam(p, 'junk'), {
    message: 'invalid parameter "junk": unable to parse boolean: strconv.ParseBool: parsing "yes": invalid syntax',
  });
});
