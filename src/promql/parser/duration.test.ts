import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, InvalidDurationError, parseDuration } from './duration.js';

describe('parseDuration', () => {
  const ok: Array<[string, number]> = [
    ['0', 0],
    ['0s', 0],
    ['1ms', 1],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1y2w3d4h5m6s7ms', 31_536_000_000 + 1_209_600_000 + 259_200_000 + 14_400_000 + 300_000 + 6_000 + 7],
    ['90s', 90_000],
    ['106751d', 106_751 * 86_400_000],
  ];
  for (const [s, ms] of ok) test(s, () => assert.equal(parseDuration(s), ms));

  test('errors carry Prometheus wording', () => {
    const bad: Array<[string, string]> = [
      ['', 'empty duration string'],
      ['5', 'not a valid duration string: "5"'],
      ['m', 'not a valid duration string: "m"'],
      ['-5m', 'not a valid duration string: "-5m"'],
      ['1.5h', 'unknown unit "." in duration "1.5h"'],
      ['5x', 'unknown unit "x" in duration "5x"'],
      ['5m1h', 'not a valid duration string: "5m1h"'],
      ['1s1s', 'not a valid duration string: "1s1s"'],
      ['300y', 'duration out of range'],
      ['106752d', 'duration out of range'],
      ['99999999999999999999s', 'not a valid duration string: "99999999999999999999s"'],
      ['5µs', 'unknown unit "µs" in duration "5µs"'],
    ];
    for (const [s, msg] of bad) {
      assert.throws(() => parseDuration(s), (e: unknown) => e instanceof InvalidDurationError && e.message === msg, s);
    }
  });
});

describe('formatDuration', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [1, '1ms'],
    [1_500, '1s500ms'],
    [90_000, '1m30s'],
    [5_400_000, '1h30m'],
    [86_400_000, '1d'],
    [7 * 86_400_000, '1w'],
    [8 * 86_400_000, '8d'],
    [14 * 86_400_000 + 1, '14d1ms'],
    [365 * 86_400_000, '1y'],
    [366 * 86_400_000, '366d'],
    [-300_000, '-5m'],
    [0.9, '0s'],
  ];
  for (const [ms, s] of cases) test(`${ms} ms`, () => assert.equal(formatDuration(ms), s));

  test('round-trips through parseDuration', () => {
    for (const ms of [1, 999, 60_000, 3_723_004, 31_536_000_000 * 3, 9_223_372_036_854]) {
      assert.equal(parseDuration(formatDuration(ms)), ms);
    }
  });
});
