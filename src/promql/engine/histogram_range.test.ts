import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CounterResetHint, FloatHistogram, type Span } from '../../model/histogram.js';
import { Labels } from '../../model/labels.js';
import { MemoryStorage } from '../../storage/memory.js';
import { range } from './test_util.test.js';

// Counters with positive and negative buckets, a zero bucket, buckets that do
// not grow in some windows and a counter reset at sample 5.
const POS = [
  [1, 0, 2, 4],
  [2, 0, 2, 5],
  [4, 0, 3, 5],
  [4, 1, 3, 9],
  [6, 1, 3, 9],
  [1, 0, 1, 2],
  [3, 0, 1, 2],
  [3, 2, 2, 7],
];
const NEG = [[1], [1], [2], [2], [3], [0], [0], [1]];
const ZERO = [1, 1, 1, 2, 2, 0, 1, 1];

function counter(i: number, spans: Span[]): FloatHistogram {
  const p = POS[i]!;
  const n = NEG[i]!;
  const total = p.reduce((a, b) => a + b, 0) + n.reduce((a, b) => a + b, 0) + ZERO[i]!;
  return new FloatHistogram({
    schema: 1,
    zeroThreshold: 0.001,
    zeroCount: ZERO[i]!,
    count: total,
    sum: total * 0.7,
    positiveSpans: spans,
    positiveBuckets: p,
    negativeSpans: [{ offset: 2, length: 1 }],
    negativeBuckets: n,
  });
}

/**
 * Two series holding the same histograms: `same` in one layout throughout (the
 * bucket-wise fast path), `mixed` alternating between two spellings of it
 * (general arithmetic). Results must be equal bit for bit.
 */
function twinStore(hint?: CounterResetHint): MemoryStorage {
  const db = new MemoryStorage();
  const app = db.appender();
  const canonical: Span[] = [
    { offset: -1, length: 2 },
    { offset: 1, length: 2 },
  ];
  const split: Span[] = [
    { offset: -1, length: 1 },
    { offset: 0, length: 1 },
    { offset: 1, length: 2 },
  ];
  for (let i = 0; i < POS.length; i++) {
    const t = i * 15_000;
    const a = counter(i, canonical);
    const b = counter(i, i % 2 === 0 ? canonical : split);
    app.appendHistogram!(0, Labels.fromPairs('__name__', 'same'), t, null, hint === undefined ? a : a.with({ counterResetHint: hint }));
    app.appendHistogram!(0, Labels.fromPairs('__name__', 'mixed'), t, null, hint === undefined ? b : b.with({ counterResetHint: hint }));
  }
  app.commit();
  return db;
}

async function histogramsOf(db: MemoryStorage, q: string): Promise<{ hs: FloatHistogram[]; annotations: string[] }> {
  const res = await range(db, q, 30_000, 120_000, 5_000);
  assert.equal(res.value.type, 'matrix');
  if (res.value.type !== 'matrix') return { hs: [], annotations: [] };
  const hs = res.value.series[0]?.hs ?? [];
  const strip = (s: string): string => s.replace(/"(same|mixed)"/, '');
  return { hs: [...hs], annotations: [...res.warnings, ...res.infos].map(strip).sort() };
}

for (const fn of ['rate', 'increase', 'delta', 'irate', 'idelta']) {
  for (const hint of [undefined, CounterResetHint.Gauge, CounterResetHint.NotCounterReset]) {
    test(`${fn} over one bucket layout equals the general arithmetic (hint ${hint ?? 'none'})`, async () => {
      const db = twinStore(hint);
      for (const w of ['30s', '1m', '2m']) {
        const same = await histogramsOf(db, `${fn}(same[${w}])`);
        const mixed = await histogramsOf(db, `${fn}(mixed[${w}])`);
        assert.ok(same.hs.length > 0);
        assert.equal(same.hs.length, mixed.hs.length);
        for (let i = 0; i < same.hs.length; i++) {
          const a = same.hs[i]!;
          const b = mixed.hs[i]!;
          assert.ok(a.equals(b), `${fn}[${w}] point ${i}: ${a.toString()} != ${b.toString()}`);
          assert.deepEqual(a.positiveSpans, b.positiveSpans);
          assert.deepEqual(a.negativeSpans, b.negativeSpans);
          assert.equal(a.counterResetHint, CounterResetHint.Gauge);
        }
        assert.deepEqual(same.annotations, mixed.annotations);
      }
    });
  }
}
