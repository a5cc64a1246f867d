import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, formatGoDurationNs, InvalidDurationError, parseDuration } from './duration.js';

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

describe('formatGoDurationNs (time.Duration.String)', () => {
  const NS = 1;
  const US = 1e3;
  const MS = 1e6;
  const S = 1e9;
  const M = 60 * S;
  const H = 60 * M;
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [1 * NS, '1ns'],
    [999 * NS, '999ns'],
    [1 * US, '1µs'],
    [1500 * NS, '1.5µs'],
    [1 * MS, '1ms'],
    [1 * MS + 1 * NS, '1.000001ms'],
    [300 * MS, '300ms'],
    [1 * S, '1s'],
    [1500 * MS, '1.5s'],
    [15 * S, '15s'],
    [60 * S, '1m0s'],
    [90 * S, '1m30s'],
    [2 * M, '2m0s'],
    [1 * H, '1h0m0s'],
    [2 * H, '2h0m0s'],
    [2 * H - 1 * MS, '1h59m59.999s'],
    // The examples in Go's documentation of Duration.String and Duration.Round.
    [1 * H + 2 * M + 300 * MS, '1h2m0.3s'],
    [1 * H + 15 * M + 30 * S + 918273645 * NS, '1h15m30.918273645s'],
    [100 * H, '100h0m0s'],
    [-1 * NS, '-1ns'],
    [-1500 * MS, '-1.5s'],
    [-2 * M, '-2m0s'],
    [-500 * MS, '-500ms'],
    [-(1 * H + 1 * S), '-1h0m1s'],
  ];
  for (const [ns, want] of cases) test(`${ns} ns -> ${want}`, () => assert.equal(formatGoDurationNs(ns), want));
});
