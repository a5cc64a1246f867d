import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FloatHistogram } from '../../model/histogram.js';
import { Labels } from '../../model/labels.js';
import { MemoryStorage } from '../../storage/memory.js';
import { extrapolatedRateST, instantRateST, isStartTimestampReset, resetsST, startTimeOverlaps } from './start_timestamps.js';
import { instant, vectorLines } from './test_util.test.js';

const M = 60_000;
const f = (xs: number[]): Float64Array => Float64Array.from(xs);

describe('isStartTimestampReset', () => {
  test('an ST after the previous sample is a restart; none, invalid or unknown ones are not', () => {
    assert.equal(isStartTimestampReset(0, M, 90_000, 2 * M), true);
    assert.equal(isStartTimestampReset(0, M, 0, 2 * M), false);
    assert.equal(isStartTimestampReset(0, M, 2 * M, 2 * M), false);
    assert.equal(isStartTimestampReset(0, M, 3 * M, 2 * M), false);
    // Before the previous sample: the same cumulative run (or an overlap), not a restart.
    assert.equal(isStartTimestampReset(30_000, M, 30_000, 2 * M), false);
  });

  test('an ST at the previous sample: a delta unless the previous start was unknown', () => {
    assert.equal(isStartTimestampReset(1, M, M, 2 * M), true);
    // The previous sample had no or an unknown start (ST = T): a cumulative with unknown start.
    assert.equal(isStartTimestampReset(0, M, M, 2 * M), false);
    assert.equal(isStartTimestampReset(M, M, M, 2 * M), false);
    assert.equal(isStartTimestampReset(2 * M, M, M, 2 * M), false);
  });

  test('overlaps: an ST before the previous sample that names another start', () => {
    assert.equal(startTimeOverlaps(0, 2 * M, M), true);
    assert.equal(startTimeOverlaps(M, 2 * M, M), false);
    assert.equal(startTimeOverlaps(0, 2 * M, 0), false);
    assert.equal(startTimeOverlaps(0, 2 * M, 2 * M), false);
  });
});

describe('kernels', () => {
  test('deltas (ST = previous sample) add up', () => {
    const ts = f([2 * M, 3 * M, 4 * M]);
    const vs = f([60, 60, 60]);
    const sts = f([M, 2 * M, 3 * M]);
    let overlaps = 0;
    // 120 over the 2m sampled, extrapolated by 1m to the (exclusive) start at the first ST.
    assert.equal(extrapolatedRateST(ts, vs, sts, 0, 3, M, 4 * M, true, false, () => overlaps++), 180);
    assert.equal(overlaps, 0);
    assert.equal(instantRateST(ts, vs, sts, 0, 3), 1);
    assert.equal(resetsST(ts, vs, sts, 0, 3), 2);
  });

  test('a first ST inside the window replaces extrapolation to the left; one sample is then enough', () => {
    assert.equal(extrapolatedRateST(f([2 * M]), f([6]), f([M]), 0, 1, 0, 3 * M, true, false, () => {}), 6);
    assert.equal(extrapolatedRateST(f([2 * M]), f([6]), f([0]), 0, 1, 0, 3 * M, true, false, () => {}), null);
  });

  test('an overlapping ST is reported once per window', () => {
    let overlaps = 0;
    extrapolatedRateST(f([2 * M, 3 * M, 4 * M]), f([1, 2, 3]), f([0, M, 2 * M]), 0, 3, M, 4 * M, true, true, () => overlaps++);
    assert.equal(overlaps, 1);
  });
});

describe('use-start-timestamps', () => {
  const db = new MemoryStorage();
  const app = db.appender();
  const ls = Labels.fromPairs('__name__', 'd_total');
  for (let i = 1; i <= 5; i++) {
    app.setStartTimestamp!((i - 1) * M);
    app.append(0, ls, i * M, 60);
  }
  app.commit();
  const on = { features: new Set(['use-start-timestamps', 'promql-experimental-functions']) };

  test('rate, increase, irate and resets read STs only with the feature', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'increase(d_total[3m])', 5 * M)).value), ['{} 0']);
    assert.deepEqual(vectorLines((await instant(db, 'increase(d_total[3m])', 5 * M, on)).value), ['{} 180']);
    assert.deepEqual(vectorLines((await instant(db, 'irate(d_total[3m])', 5 * M, on)).value), ['{} 1']);
    assert.deepEqual(vectorLines((await instant(db, 'resets(d_total[3m])', 5 * M, on)).value), ['{} 2']);
  });

  test('subqueries drop STs; start_timestamp() gives them for selectors only', async () => {
    assert.deepEqual(vectorLines((await instant(db, 'increase(d_total[3m:1m])', 5 * M, on)).value), ['{} 0']);
    assert.deepEqual(vectorLines((await instant(db, 'start_timestamp(d_total)', 5 * M, on)).value), ['{} 240']);
    assert.deepEqual(vectorLines((await instant(db, 'start_timestamp(d_total)', 5 * M, { features: new Set(['promql-experimental-functions']) })).value), []);
    assert.deepEqual(vectorLines((await instant(db, 'start_timestamp(d_total * 1)', 5 * M, on)).value), []);
  });
});

describe('use-start-timestamps on native histograms', () => {
  const db = new MemoryStorage();
  const app = db.appender();
  const ls = Labels.fromPairs('__name__', 'dh');
  const h = new FloatHistogram({ schema: 0, count: 60, sum: 60 });
  for (let i = 1; i <= 5; i++) {
    app.setStartTimestamp!((i - 1) * M);
    app.appendHistogram!(0, ls, i * M, null, h);
  }
  app.setStartTimestamp!(150_000);
  app.appendHistogram!(0, Labels.fromPairs('__name__', 'one'), 3 * M, null, h);
  app.commit();
  const on = { features: new Set(['use-start-timestamps']) };
  const countOf = (v: Awaited<ReturnType<typeof instant>>['value']): number[] => {
    assert.equal(v.type, 'vector');
    return v.type === 'vector' ? v.samples.map((s) => s.h?.count ?? NaN) : [];
  };

  test('ST resets count in increase, irate and resets; only with the feature', async () => {
    assert.deepEqual(countOf((await instant(db, 'increase(dh[3m])', 5 * M)).value), [0]);
    assert.deepEqual(countOf((await instant(db, 'increase(dh[3m])', 5 * M, on)).value), [180]);
    assert.deepEqual(countOf((await instant(db, 'irate(dh[3m])', 5 * M, on)).value), [1]);
    assert.deepEqual(vectorLines((await instant(db, 'resets(dh[3m])', 5 * M, on)).value), ['{} 2']);
  });

  test('one sample whose ST lies in the window counts from zero at its ST', async () => {
    // Window (160s, 180s]: the ST (150s) lies before it, so one sample gives no value.
    assert.deepEqual(countOf((await instant(db, 'increase(one[20s])', 3 * M, on)).value), []);
    // Window (120s, 180s]: 60 since the ST, not extrapolated.
    assert.deepEqual(countOf((await instant(db, 'increase(one[1m])', 3 * M, on)).value), [60]);
    assert.deepEqual(countOf((await instant(db, 'increase(one[1m])', 3 * M)).value), []);
  });
});
