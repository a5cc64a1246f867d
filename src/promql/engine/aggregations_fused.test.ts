// The fused path of aggregations over range functions (aggregations.ts,
// aggregateFused) against the unfused one: results bit for bit, annotations,
// statistics (per step included), errors and the max-samples limit.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FloatHistogram } from '../../model/histogram.js';
import { Labels } from '../../model/labels.js';
import { STALE_NAN } from '../../model/value.js';
import { MemoryStorage } from '../../storage/memory.js';
import { fusion } from './aggregations.js';
import { Engine } from './engine.js';
import type { QueryValue } from './types.js';

const S = 1000;
const M = 60 * S;
const PER_STEP = 'promql-per-step-stats';

interface Run {
  error: string | null;
  lines: string[];
  warnings: string[];
  infos: string[];
  stats: unknown;
}

/** The bits of a float: NaNs with different payloads, 0 and -0 differ. */
function bits(v: number): string {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, v);
  return b.getBigUint64(0).toString(16);
}

function lines(v: QueryValue): string[] {
  if (v.type !== 'matrix') throw new Error(`expected a matrix, got ${v.type}`);
  return v.series.map((s) => {
    const pts: string[] = [];
    for (let i = 0; i < s.ts.length; i++) pts.push(`${bits(s.fs[i]!)}@${s.ts[i]}`);
    for (let i = 0; i < (s.hs?.length ?? 0); i++) pts.push(`${s.hs![i]!.toString()}@${s.hts![i]}`);
    return `${s.metric.toString()} ${pts.join(' ')}`;
  });
}

interface Opts {
  maxSamples?: number;
  delayed?: boolean;
  typeAndUnit?: boolean;
}

async function run(db: MemoryStorage, q: string, start: number, end: number, step: number, fused: boolean, o: Opts = {}): Promise<Run> {
  const features = new Set([
    PER_STEP,
    'promql-experimental-functions',
    'promql-extended-range-selectors',
    ...(o.delayed === true ? ['promql-delayed-name-removal'] : []),
    ...(o.typeAndUnit === true ? ['type-and-unit-labels'] : []),
  ]);
  const engine = new Engine({ noStepSubqueryIntervalMs: M, features, ...(o.maxSamples !== undefined ? { maxSamples: o.maxSamples } : {}) });
  const query = engine.newRangeQuery(db, q, start, end, step, { perStepStats: true });
  const was = fusion.enabled;
  fusion.enabled = fused;
  try {
    const res = await query.exec();
    return { error: null, lines: lines(res.value), warnings: res.warnings, infos: res.infos, stats: query.stats().samples };
  } catch (err) {
    return { error: (err as Error).message, lines: [], warnings: [], infos: [], stats: query.stats().samples };
  } finally {
    fusion.enabled = was;
  }
}

async function same(db: MemoryStorage, q: string, start: number, end: number, step: number, o: Opts = {}): Promise<Run> {
  const a = await run(db, q, start, end, step, true, o);
  const b = await run(db, q, start, end, step, false, o);
  assert.deepEqual(a, b, `fused and unfused differ for ${q} over ${start}..${end} step ${step} ${JSON.stringify(o)}`);
  return a;
}

function add(db: MemoryStorage, ls: Labels, points: ReadonlyArray<readonly [number, number]>): void {
  const app = db.appender();
  for (const [t, v] of points) app.append(0, ls, t, v);
  app.commit();
}

const OPS = ['sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar'];
const FUNCS = [
  'rate',
  'increase',
  'irate',
  'delta',
  'idelta',
  'deriv',
  'changes',
  'resets',
  'avg_over_time',
  'sum_over_time',
  'min_over_time',
  'max_over_time',
  'count_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'last_over_time',
  'first_over_time',
  'present_over_time',
  'mad_over_time',
  'ts_of_max_over_time',
  'quantile_over_time(0.3, ',
  'predict_linear(',
];
const GROUPINGS = ['', 'by (job)', 'by (inst)', 'without (inst)', 'by (job, inst)', 'without ()', 'by (__name__)', 'without (job)', 'by (nope)', 'by (__type__, job)', 'without (__type__)'];
const SELECTORS = ['c_total', 'g', '{__name__=~"c_total|g"}', 'g{job="a"}', '{__name__=~".+"}'];

const value = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -50, max: 1000 }) },
  { weight: 2, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, -0, 1e308, -1e308, STALE_NAN) },
);

/** One series: labels and samples at increasing times over about 40 minutes. */
const seriesArb = fc.record({
  name: fc.constantFrom('c_total', 'g'),
  job: fc.constantFrom('a', 'b'),
  inst: fc.constantFrom('1', '2', '3', '4'),
  type: fc.constantFrom(null, null, 'counter', 'gauge'),
  gaps: fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 0, maxLength: 60 }),
  values: fc.array(value, { minLength: 60, maxLength: 60 }),
});

const queryArb = fc.record({
  op: fc.constantFrom(...OPS),
  fn: fc.constantFrom(...FUNCS),
  grouping: fc.constantFrom(...GROUPINGS),
  sel: fc.constantFrom(...SELECTORS),
  range: fc.constantFrom('30s', '1m', '2m', '5m'),
  offset: fc.constantFrom('', ' offset 1m', ' offset -30s'),
  modifier: fc.constantFrom('', '', '', ' anchored', ' smoothed'),
  subquery: fc.constantFrom('', '[3m:20s]', '[2m:]'),
  start: fc.integer({ min: 0, max: 30 }),
  steps: fc.integer({ min: 2, max: 120 }),
  step: fc.constantFrom(7, 15, 30, 60, 90, 400),
  delayed: fc.boolean(),
  typeAndUnit: fc.boolean(),
  parens: fc.boolean(),
});

describe('fused aggregation over a range function', () => {
  test('gives the unfused results, annotations, statistics and errors (property)', async () => {
    // Runs with a non-empty result: most must have one, or the property would compare little.
    let answered = 0;
    const runs = 300;
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(seriesArb, { minLength: 1, maxLength: 8, selector: (s) => `${s.name} ${s.job} ${s.inst}` }), queryArb, async (series, p) => {
        const db = new MemoryStorage();
        for (const s of series) {
          let t = 0;
          const pts: Array<[number, number]> = [];
          s.gaps.forEach((g, i) => {
            t += g * S;
            pts.push([t, s.values[i]!]);
          });
          const ls = Labels.fromPairs('__name__', s.name, 'inst', s.inst, 'job', s.job);
          add(db, s.type === null ? ls : ls.builder().set('__type__', s.type).labels(), pts);
        }
        const args = p.fn.includes('(') ? p.fn : `${p.fn}(`;
        const tail = p.fn === 'predict_linear(' ? ', 60)' : ')';
        const inner = p.subquery === '' ? `${p.sel}[${p.range}]${p.modifier}${p.offset}` : `(${p.sel}${p.offset})${p.subquery}`;
        const call = `${args}${inner}${tail}`;
        const q = `${p.op} ${p.grouping} (${p.parens ? `(${call})` : call})`;
        const start = p.start * 10 * S;
        const r = await same(db, q, start, start + (p.steps - 1) * p.step * S, p.step * S, { delayed: p.delayed, typeAndUnit: p.typeAndUnit });
        if (r.lines.length > 0) answered++;
      }),
      { numRuns: runs },
    );
    assert.ok(answered > runs / 2, `${answered} of ${runs} runs had a result`);
  });

  test('names and type labels: possible non-counter infos and delayed name removal', async () => {
    const db = new MemoryStorage();
    for (let i = 0; i < 6; i++) {
      const pts: Array<[number, number]> = [];
      for (let k = 0; k < 40; k++) pts.push([k * 15 * S, k * (i + 1)]);
      add(db, Labels.fromPairs('__name__', i % 2 === 0 ? 'bytes' : 'reqs_total', 'i', String(i), 'job', i < 3 ? 'a' : 'b'), pts);
    }
    for (const delayed of [false, true]) {
      const r = await same(db, 'sum by (job) (rate({__name__=~"bytes|reqs_total", i!="0"}[1m]))', 0, 9 * M, 15 * S, { delayed });
      assert.equal(r.error, null);
      assert.equal(r.infos.length, 1);
      const by = await same(db, 'max by (__name__) (last_over_time({__name__=~"bytes|reqs_total"}[1m]))', 0, 9 * M, 15 * S, { delayed });
      assert.equal(by.lines.length, 2);
    }
  });

  test('raises the duplicate labelset error exactly when the unfused path does', async () => {
    const db = new MemoryStorage();
    const pts: Array<[number, number]> = [];
    for (let k = 0; k < 40; k++) pts.push([k * 15 * S, k]);
    add(db, Labels.fromPairs('__name__', 'a_total', 'job', 'x'), pts);
    add(db, Labels.fromPairs('__name__', 'b_total', 'job', 'x'), pts);
    add(db, Labels.fromPairs('__name__', 'b_total', 'job', 'y'), pts);
    const q = 'sum by (job) (rate({__name__=~"a_total|b_total"}[1m]))';
    const r = await same(db, q, 0, 9 * M, 15 * S);
    assert.equal(r.error, 'vector cannot contain metrics with the same labelset');
    // With delayed name removal the names stay until the end, so nothing collides.
    assert.equal((await same(db, q, 0, 9 * M, 15 * S, { delayed: true })).error, null);
    // last_over_time keeps the name: no collision either.
    assert.equal((await same(db, 'sum by (job) (last_over_time({__name__=~"a_total|b_total"}[1m]))', 0, 9 * M, 15 * S)).error, null);
    // Inputs that share a name cannot collide: no check, no error.
    assert.equal((await same(db, 'sum by (job) (rate(b_total[1m]))', 0, 9 * M, 15 * S)).error, null);
  });

  test('fails on --query.max-samples at the same limit', async () => {
    const db = new MemoryStorage();
    for (let i = 0; i < 5; i++) {
      const pts: Array<[number, number]> = [];
      for (let k = 0; k < 80; k++) pts.push([k * 15 * S, k * i]);
      add(db, Labels.fromPairs('__name__', 'c_total', 'i', String(i), 'job', String(i % 2)), pts);
    }
    const q = 'sum by (job) (rate(c_total[2m]))';
    // The smallest limit the unfused query passes with.
    let lo = 1;
    let hi = 10_000;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if ((await run(db, q, 0, 19 * M, 15 * S, false, { maxSamples: mid })).error === null) hi = mid;
      else lo = mid + 1;
    }
    assert.ok(lo > 50, `limit ${lo}`);
    const ok = await same(db, q, 0, 19 * M, 15 * S, { maxSamples: lo });
    assert.equal(ok.error, null);
    const failed = await same(db, q, 0, 19 * M, 15 * S, { maxSamples: lo - 1 });
    assert.match(failed.error ?? '', /query processing would load too many samples into memory/);
  });

  test('falls back for native histograms, mixed with floats or not', async () => {
    const db = new MemoryStorage();
    const h = new FloatHistogram({ count: 8, sum: 20, positiveSpans: [{ offset: 0, length: 4 }], positiveBuckets: [2, 2, 2, 2] });
    for (let i = 0; i < 3; i++) {
      const pts: Array<[number, number]> = [];
      for (let k = 0; k < 40; k++) pts.push([k * 15 * S, k * (i + 1)]);
      add(db, Labels.fromPairs('__name__', 'x_total', 'i', String(i), 'job', 'a'), pts);
    }
    const app = db.appender();
    for (let k = 0; k < 40; k++) {
      app.appendHistogram!(0, Labels.fromPairs('__name__', 'x_total', 'i', '9', 'job', 'a'), k * 15 * S, null, h.mul(k + 1));
      // A series of histograms in a group of its own, after the floats.
      app.appendHistogram!(0, Labels.fromPairs('__name__', 'x_total', 'i', '8', 'job', 'b'), k * 15 * S, null, h.mul(2 * k + 1));
    }
    app.commit();
    for (const op of ['sum', 'avg', 'count', 'max', 'stddev']) {
      for (const g of ['by (job)', '', 'by (i)']) {
        const r = await same(db, `${op} ${g} (rate(x_total[1m]))`, 0, 9 * M, 15 * S);
        assert.equal(r.error, null);
        // Series are read in label order: the histograms come after three series of floats were folded.
        if (g === 'by (i)') assert.equal(r.lines.length, op === 'sum' || op === 'avg' || op === 'count' ? 5 : 3);
      }
    }
    const mixed = await same(db, 'sum by (job) (rate(x_total[1m]))', 0, 9 * M, 15 * S);
    assert.ok(mixed.warnings.some((w) => w.includes('mix of histograms and floats')), mixed.warnings.join());
    // Over a subquery as well, and with functions whose result is a float whatever the samples.
    await same(db, 'sum by (job) (rate(x_total[1m:15s]))', 0, 9 * M, 15 * S);
    await same(db, 'sum by (job) (count_over_time(x_total[1m]))', 0, 9 * M, 15 * S);
  });

  test('groups past the fused cells are folded the unfused way, in group order', async () => {
    const db = new MemoryStorage();
    // 5,000 steps leave room for 52 groups of cells; 70 groups take the rest of the way.
    for (let i = 0; i < 140; i++) {
      const pts: Array<[number, number]> = [];
      for (let k = 0; k < 60; k++) pts.push([k * 100 * S, k * i + (i % 3)]);
      add(db, Labels.fromPairs('__name__', 'c_total', 'g', String(i % 70), 'i', String(i)), pts);
    }
    for (const op of ['sum', 'avg', 'stddev']) {
      const r = await same(db, `${op} by (g) (rate(c_total[5m]))`, 0, 4999 * S, S);
      assert.equal(r.lines.length, 70);
    }
  });
});
