import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { Labels } from '../../model/labels.js';
import { Matcher, MatchType } from '../../model/matcher.js';
import { TSDBMetrics } from '../metrics.js';
import { Head } from './head.js';

function newHead(): Head {
  const zero = (): number => 0;
  const state = {
    headSeries: zero,
    headChunks: zero,
    headMinTime: zero,
    headMaxTime: zero,
    headChunkBytes: zero,
    symbolTableBytes: zero,
    activeAppenders: zero,
    blocksLoaded: zero,
    blocksBytes: zero,
    lowestTimestamp: zero,
    walSegmentCurrent: zero,
    walStorageBytes: zero,
    retentionLimitBytes: zero,
    headSeriesLimit: zero,
    walReplayStatus: () => ({ min: 0, max: 0, current: 0 }),
  };
  return new Head({ chunkRange: 7_200_000, metrics: new TSDBMetrics(new Registry(), state), wal: null, maxSeries: 0 });
}

// Names and values from a small alphabet (so sets share symbols and prefixes), non-ASCII and astral characters included.
const str = fc.string({ minLength: 1, maxLength: 4, unit: fc.constantFrom('a', 'b', 'ab', 'é', '\u{1F600}', '\uFFFD', 'z') });

test('a sorted select lists the series in Labels.compare order, and only those with samples in range', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.array(fc.tuple(str, str), { maxLength: 4 }), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 40 }), (rows) => {
      const head = newHead();
      const a = head.appender();
      const seen = new Set<string>();
      const inRange: Labels[] = [];
      for (const [pairs, t] of rows) {
        const ls = Labels.fromPairs('job', 'x', ...pairs.flat());
        // One sample per series: a second one might be out of order.
        if (seen.has(ls.toString())) continue;
        seen.add(ls.toString());
        a.append(0, ls, t * 1000, 1);
        if (t >= 1) inRange.push(ls);
      }
      a.commit();
      const q = head.querier(0, 10_000);
      const got: string[] = [];
      const ss = q.select(true, { start: 1000, end: 10_000 }, Matcher.create(MatchType.Equal, 'job', 'x'));
      while (ss.next()) got.push(ss.at().labels.toString());
      q.close();
      const want = inRange.sort(Labels.compare).map((l) => l.toString());
      assert.deepEqual(got, want);
    }),
    { numRuns: 300 },
  );
});
