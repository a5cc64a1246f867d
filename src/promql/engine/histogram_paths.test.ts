import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FloatHistogram } from '../../model/histogram.js';
import { Labels } from '../../model/labels.js';
import { MemoryStorage } from '../../storage/memory.js';
import { parseExpr } from '../parser/parser.js';
import type { VectorSelector } from '../parser/ast.js';
import { children } from './preprocess.js';
import { HistogramsUnsupportedError } from './errors.js';
import { histogramSelectors } from './histogram_paths.js';
import { engine, instant, range } from './test_util.test.js';

function selectorNames(q: string): string[] {
  const e = parseExpr(q, { features: new Set(['promql-experimental-functions']) });
  const ok = histogramSelectors(e);
  const out: string[] = [];
  const walk = (x: typeof e): void => {
    if (x.type === 'VectorSelector' && ok.has(x as VectorSelector)) out.push(x.name);
    for (const c of children(x)) walk(c);
  };
  walk(e);
  return out.sort();
}

test('histograms may reach only operators that handle them', () => {
  assert.deepEqual(selectorNames('h'), ['h']);
  assert.deepEqual(selectorNames('histogram_quantile(0.9, sum by (le) (rate(h[5m])))'), ['h']);
  assert.deepEqual(selectorNames('count(h) + histogram_count(g)'), ['g', 'h']);
  assert.deepEqual(selectorNames('a * on() group_left b'), ['a', 'b']);
  // Not (yet) histogram-aware: info() reads its arguments as floats.
  assert.deepEqual(selectorNames('info(a)'), []);
  assert.deepEqual(selectorNames('deriv(a[5m]) * b'), ['a', 'b']);
  assert.deepEqual(selectorNames('-info(a)'), []);
});

function histogramStore(): MemoryStorage {
  const db = new MemoryStorage();
  const app = db.appender();
  for (let i = 0; i < 5; i++) {
    const h = new FloatHistogram({ count: 10 * i, sum: 20 * i, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [4 * i, 6 * i] });
    app.appendHistogram!(0, Labels.fromPairs('__name__', 'h'), i * 60_000, null, h);
  }
  app.commit();
  return db;
}

test('a selector gives its histograms; range functions and histogram functions read them', async () => {
  const db = histogramStore();
  const sel = await instant(db, 'h', 240_000);
  assert.equal(sel.value.type, 'vector');
  if (sel.value.type !== 'vector') return;
  assert.equal(sel.value.samples[0]!.h?.count, 40);
  const count = await instant(db, 'histogram_count(rate(h[4m]))', 240_000);
  assert.equal(count.value.type === 'vector' ? count.value.samples[0]!.f : NaN, 40 / 240);
  const m = await range(db, 'h', 0, 240_000, 60_000);
  assert.equal(m.value.type === 'matrix' ? m.value.series[0]!.hs?.length : 0, 5);
});

test('an operator without histogram support fails the query instead of reading a histogram as a float', async () => {
  const db = histogramStore();
  await assert.rejects(instant(db, 'info(h)', 240_000, { features: new Set(['promql-experimental-functions']) }), HistogramsUnsupportedError);
});

test('statistics count a histogram sample by its size, as Prometheus does', async () => {
  const db = histogramStore();
  // One span and two buckets: (168 + 3 * 8 + 8) / 16 = 12 samples.
  const q = engine().newInstantQuery(db, 'h', 240_000);
  await q.exec();
  assert.equal(q.stats().samples.totalQueryableSamples, 12);
  const r = engine().newInstantQuery(db, 'count_over_time(h[5m])', 240_000);
  await r.exec();
  assert.equal(r.stats().samples.totalQueryableSamples, 5 * 12);
});
