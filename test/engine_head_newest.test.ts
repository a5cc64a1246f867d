// Instant selectors over the head take a series' newest sample without decoding its open chunk
// (newestFloatAtOrBefore), and range selectors read float runs in bulk (readFloats); the same
// queries over a MemoryStorage holding the same samples decode every sample one by one. Both must
// answer alike at every query time around the newest samples and over ranges.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Labels } from '../src/model/labels.js';
import { STALE_NAN } from '../src/model/value.js';
import { MemoryStorage } from '../src/storage/memory.js';
import type { Storage } from '../src/storage/interface.js';
import { openDB } from '../src/tsdb/db.js';
import { Engine } from '../src/promql/engine/engine.js';
import type { QueryValue } from '../src/promql/engine/types.js';

const S = 15_000;
const LOOKBACK = 5 * 60_000;
const END = 200 * S;

/** name -> [t, v] samples, ascending; v null is a staleness marker (a NaN's payload does not survive a JS array). */
function samples(): Map<string, Array<[number, number | null]>> {
  const m = new Map<string, Array<[number, number | null]>>();
  const every = (f: (i: number) => number, n = 200): Array<[number, number]> => Array.from({ length: n + 1 }, (_, i): [number, number] => [i * S, f(i)]);
  // Decimal counter over two chunks.
  m.set('counter', every((i) => 1000 + 7 * i));
  // Values the XOR form encodes; the newest is -0.
  m.set('gauge', every((i) => (i === 200 ? -0 : Math.sin(i) * 1e6)));
  m.set('stale', [...every((i) => i, 199), [200 * S, null]]);
  m.set('nan', every((i) => (i % 2 === 0 ? NaN : i)));
  // Ends a lookback and a bit before END.
  m.set('old', every((i) => i, 175));
  return m;
}

async function fill(db: Storage): Promise<void> {
  for (const [name, pts] of samples()) {
    const ls = Labels.fromPairs('__name__', name, 'job', 'j');
    let ref = 0;
    for (const [t, v] of pts) {
      const app = db.appender();
      ref = app.append(ref, ls, t, v ?? STALE_NAN);
      await app.commit();
    }
  }
}

function lines(v: QueryValue): string[] {
  switch (v.type) {
    case 'vector':
      return v.samples.map((s) => `${s.metric.toString()} ${s.t} ${Object.is(s.f, -0) ? '-0' : String(s.f)}`).sort();
    case 'matrix':
      return v.series.map((s) => `${s.metric.toString()} ${s.ts.join(',')} ${Array.from(s.fs, (f) => (Object.is(f, -0) ? '-0' : String(f))).join(',')}`).sort();
    case 'scalar':
      return [`scalar ${v.t} ${v.v}`];
    default:
      return [String(v.type)];
  }
}

describe('instant selectors over the head (newest sample without decoding)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsprom-newest-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const engine = new Engine();
  const mem = new MemoryStorage();

  test('answer as a storage that decodes every sample', async () => {
    const db = await openDB(dir, { maintenanceIntervalMs: 0, compactOnCommit: false });
    try {
      await fill(db);
      await fill(mem);
      const queries = [
        '{job="j"}',
        'counter + 1',
        'count({job="j"})',
        'absent(stale)',
        'gauge offset 30s',
        'counter @ 3000',
        'timestamp(gauge)',
      ];
      const times = [END, END + 1, END - 1, END - S, END + LOOKBACK - 1, END + LOOKBACK, END + LOOKBACK + 1, 176 * S + LOOKBACK - 1, 176 * S + LOOKBACK, 100 * S, 0];
      for (const q of queries) {
        for (const t of times) {
          const a = await engine.newInstantQuery(db, q, t).exec();
          const b = await engine.newInstantQuery(mem, q, t).exec();
          assert.deepEqual(lines(a.value), lines(b.value), `${q} @ ${t}`);
        }
        // One step whose end lies after its start: the step is at start.
        const a = await engine.newRangeQuery(db, q, END - 1, END + S - 2, S).exec();
        const b = await engine.newRangeQuery(mem, q, END - 1, END + S - 2, S).exec();
        assert.deepEqual(lines(a.value), lines(b.value), `${q} one step`);
      }
      // Range queries read the head's chunks in bulk (readFloats) with one iterator reused across series.
      const ranges: Array<[string, number, number, number]> = [
        ['{job="j"}', 0, END + LOOKBACK + S, S],
        ['{job="j"}', S / 2, END, 7 * S],
        ['count_over_time(counter[5m]) + sum_over_time(stale[2m])', 0, END, 3 * S],
        ['rate(counter[1m]) + on() group_left sum(gauge)', 0, END, 2 * S],
        ['{job="j"} offset 1m', 60 * S, END + LOOKBACK, 11 * S],
      ];
      for (const [q, start, end, step] of ranges) {
        const a = await engine.newRangeQuery(db, q, start, end, step).exec();
        const b = await engine.newRangeQuery(mem, q, start, end, step).exec();
        assert.deepEqual(lines(a.value), lines(b.value), `${q} over [${start}, ${end}] step ${step}`);
      }
      // The newest samples as stored: -0 stays -0, the marker hides the series.
      const v = (await engine.newInstantQuery(db, '{job="j"}', END).exec()).value;
      assert.deepEqual(lines(v), [
        `{__name__="counter", job="j"} ${END} 2400`,
        `{__name__="gauge", job="j"} ${END} -0`,
        `{__name__="nan", job="j"} ${END} NaN`,
      ]);
    } finally {
      await db.close();
    }
  });
});
