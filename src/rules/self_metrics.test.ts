import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Labels } from '../model/labels.js';
import { isStaleNaN } from '../model/value.js';
import { parseMetricSelector } from '../promql/parser/parser.js';
import { ValueType, type Queryable } from '../storage/interface.js';
import { MemoryStorage } from '../storage/memory.js';
import { ProcessMetrics, routedQueryable } from './self_metrics.js';

const S = 1000;

function points(q: Queryable, selector: string, mint = -Infinity, maxt = Infinity): Array<[string, Array<[number, number | 'stale']>]> {
  const querier = q.querier(mint, maxt);
  const set = querier.select(true, null, ...parseMetricSelector(selector));
  const out: Array<[string, Array<[number, number | 'stale']>]> = [];
  while (set.next()) {
    const it = set.at().iterator();
    const pts: Array<[number, number | 'stale']> = [];
    while (it.next() !== ValueType.None) pts.push([it.t(), isStaleNaN(it.v()) ? 'stale' : it.v()]);
    out.push([set.at().labels.toString(), pts]);
  }
  querier.close();
  return out;
}

function history(registry: Registry, names: string[], o: { retentionMs?: number; minSpacingMs?: number; maxSeries?: number; metricsRegistry?: Registry } = {}): ProcessMetrics {
  return new ProcessMetrics({
    registry,
    names,
    retentionMs: o.retentionMs ?? 60 * S,
    minSpacingMs: o.minSpacingMs ?? 10 * S,
    maxSeries: o.maxSeries ?? 100,
    metricsRegistry: o.metricsRegistry ?? null,
  });
}

describe('ProcessMetrics', () => {
  it('records the named series of the registry at each sample time', async () => {
    const reg = new Registry();
    const g = new Gauge({ name: 'g', help: 'h', labelNames: ['path'], registers: [reg] });
    new Gauge({ name: 'other', help: 'h', registers: [reg] }).set(5);
    const h = history(reg, ['g']);
    g.set({ path: '/a' }, 1);
    await h.sample(10 * S);
    g.set({ path: '/a' }, 2);
    await h.sample(20 * S);
    // A time not after the last sample records nothing.
    g.set({ path: '/a' }, 3);
    await h.sample(20 * S);
    assert.deepEqual(points(h, 'g'), [['{__name__="g", path="/a"}', [[10 * S, 1], [20 * S, 2]]]]);
    assert.deepEqual(points(h, 'other'), []);
    assert.deepEqual(points(h, 'g', 15 * S, 25 * S), [['{__name__="g", path="/a"}', [[20 * S, 2]]]]);
    assert.equal(h.has('g'), true);
    assert.equal(h.has('other'), false);
  });

  it('marks a series stale once it is gone from the registry, and forgets it after the retention', async () => {
    const reg = new Registry();
    const g = new Gauge({ name: 'g', help: 'h', labelNames: ['x'], registers: [reg] });
    const h = history(reg, ['g'], { retentionMs: 30 * S });
    g.set({ x: 'a' }, 1);
    g.set({ x: 'b' }, 1);
    await h.sample(10 * S);
    g.remove({ x: 'b' });
    await h.sample(20 * S);
    await h.sample(30 * S);
    assert.deepEqual(points(h, 'g{x="b"}'), [['{__name__="g", x="b"}', [[10 * S, 1], [20 * S, 'stale']]]]);
    for (let t = 40; t <= 70; t += 10) await h.sample(t * S);
    assert.deepEqual(points(h, 'g{x="b"}'), []);
    assert.equal(h.numSeries(), 1);
  });

  it('starts a counter first seen above 0 with a 0 just before, so that its increase shows', async () => {
    const reg = new Registry();
    const c = new Counter({ name: 'c_total', help: 'h', labelNames: ['k'], registers: [reg] });
    const gauge = new Gauge({ name: 'g', help: 'h', registers: [reg] });
    c.inc({ k: 'early' }, 2);
    gauge.set(7);
    const h = history(reg, ['c_total', 'g']);
    await h.sample(10 * S);
    c.inc({ k: 'late' });
    await h.sample(20 * S);
    assert.deepEqual(points(h, '{__name__=~"c_total|g"}'), [
      // The 0 is closer than the spacing to the first value, so the newest value replaces that one.
      ['{__name__="c_total", k="early"}', [[10 * S - 1, 0], [20 * S, 2]]],
      // Created between the samples: 0 at the previous one.
      ['{__name__="c_total", k="late"}', [[10 * S, 0], [20 * S, 1]]],
      ['{__name__="g"}', [[10 * S, 7], [20 * S, 7]]],
    ]);
  });

  it('keeps histogram series by their exported names', async () => {
    const reg = new Registry();
    const hist = new Histogram({ name: 'lat_seconds', help: 'h', buckets: [1], registers: [reg] });
    hist.observe(0.5);
    const h = history(reg, ['lat_seconds_count']);
    await h.sample(10 * S);
    assert.deepEqual(points(h, 'lat_seconds_count'), [['{__name__="lat_seconds_count"}', [[10 * S - 1, 0], [10 * S, 1]]]]);
  });

  it('holds at most retention / spacing points per series however often it samples, the newest always', async () => {
    const reg = new Registry();
    const g = new Gauge({ name: 'g', help: 'h', registers: [reg] });
    const h = history(reg, ['g'], { retentionMs: 60 * S, minSpacingMs: 10 * S });
    for (let t = 1; t <= 300; t++) {
      g.set(t);
      await h.sample(t * S);
    }
    const [[, pts]] = points(h, 'g') as [[string, Array<[number, number]>]];
    assert.ok(pts.length <= 60 / 10 + 2, `${pts.length} points`);
    assert.deepEqual(pts[pts.length - 1], [300 * S, 300]);
    assert.ok(pts[0]![0] >= 300 * S - 70 * S, `oldest ${pts[0]![0]}`);
    for (let i = 1; i < pts.length - 1; i++) assert.ok(pts[i]![0] - pts[i - 1]![0] >= 10 * S);
  });

  it('keeps at most maxSeries series and counts the others', async () => {
    const reg = new Registry();
    const own = new Registry();
    const g = new Gauge({ name: 'g', help: 'h', labelNames: ['i'], registers: [reg] });
    for (let i = 0; i < 5; i++) g.set({ i: String(i) }, i);
    const h = history(reg, ['g'], { maxSeries: 3, metricsRegistry: own });
    await h.sample(10 * S);
    assert.equal(points(h, 'g').length, 3);
    const text = await own.metrics();
    assert.match(text, /tsprom_self_monitoring_series_dropped_total 2\n/);
    assert.match(text, /tsprom_self_monitoring_series 3\n/);
  });

  it('routes selections of its names to the process and everything else to the base storage', async () => {
    const reg = new Registry();
    new Gauge({ name: 'g', help: 'h', registers: [reg] }).set(1);
    const h = history(reg, ['g']);
    await h.sample(10 * S);
    const db = new MemoryStorage();
    const app = db.appender();
    app.append(0, Labels.fromPairs('__name__', 'up', 'job', 'a'), 10 * S, 0);
    // A scraped copy of the same metric (tsprom scraping itself or another instance) is not read.
    app.append(0, Labels.fromPairs('__name__', 'g', 'job', 'tsprom'), 10 * S, 9);
    app.commit();
    const q = routedQueryable(h, db);
    assert.deepEqual(points(q, 'g'), [['{__name__="g"}', [[10 * S, 1]]]]);
    assert.deepEqual(points(q, 'up'), [['{__name__="up", job="a"}', [[10 * S, 0]]]]);
    const querier = q.querier(0, 20 * S);
    assert.deepEqual(querier.labelNames(null, ...parseMetricSelector('g')), ['__name__']);
    assert.deepEqual(querier.labelValues('job', null, ...parseMetricSelector('up')), ['a']);
    querier.close();
  });
});
