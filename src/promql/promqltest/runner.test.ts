// Runner mechanics against a tiny stand-in engine that knows bare selectors
// (`name`, `name @ <seconds>`), number literals and `fail_<word>` (throws).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../../model/labels.js';
import { Matcher, MatchType } from '../../model/matcher.js';
import { isStaleNaN } from '../../model/value.js';
import { ValueType, type Queryable } from '../../storage/interface.js';
import type { Call, Expr, FunctionDef, MatrixSelector, SubqueryExpr, VectorSelector } from '../parser/ast.js';
import { ParseError } from '../parser/errors.js';
import { EvalError } from '../engine/errors.js';
import type { InstantSample, Query, QueryEngine, QueryResult, QueryValue, RangeSeries } from '../engine/types.js';
import { atModifierTimes, pinAtModifier, runTestFile, type RunnerDeps } from './runner.js';
import { tspromDeps } from './deps.js';

const LOOKBACK_MS = 300_000;

function fakeParse(q: string): Expr {
  const posRange = { start: 0, end: q.length };
  if (/^-?\d+(\.\d+)?$/.test(q)) return { type: 'NumberLiteral', val: Number(q), posRange };
  const m = /^([a-z_]+)(?: @ (-?[\d.]+))?$/.exec(q);
  if (m === null) throw new ParseError(`unexpected character: ${JSON.stringify(q[0])}`, { start: 0, end: 1 }, q);
  return {
    type: 'VectorSelector',
    name: m[1]!,
    matchers: [Matcher.create(MatchType.Equal, '__name__', m[1]!)],
    originalOffset: 0,
    offset: 0,
    timestamp: m[2] !== undefined ? Math.round(Number(m[2]) * 1000) : null,
    startOrEnd: null,
    posRange,
  };
}

function fakePrint(e: Expr): string {
  if (e.type === 'NumberLiteral') return String(e.val);
  const vs = e as VectorSelector;
  return vs.timestamp === null ? vs.name : `${vs.name} @ ${(vs.timestamp / 1000).toFixed(3)}`;
}

function evalAt(store: Queryable, e: Expr, t: number): QueryValue {
  if (e.type === 'NumberLiteral') return { type: 'scalar', t, v: e.val };
  const vs = e as VectorSelector;
  if (vs.name.startsWith('fail_')) throw new EvalError(`failed: ${vs.name.slice(5)}`);
  const at = vs.timestamp ?? t;
  const set = store.querier(at - LOOKBACK_MS + 1, at).select(true, null, ...vs.matchers);
  const samples: InstantSample[] = [];
  while (set.next()) {
    const s = set.at();
    const it = s.iterator();
    let v: number | null = null;
    while (it.next() !== ValueType.None) v = it.v();
    if (v !== null && !isStaleNaN(v)) samples.push({ metric: s.labels, t, f: v });
  }
  return { type: 'vector', samples };
}

function query(statement: Expr, qs: string, run: () => QueryValue): Query {
  return {
    statement,
    queryString: qs,
    async exec(): Promise<QueryResult> {
      const value = run();
      const warnings = qs.startsWith('warned') ? ['PromQL warning: something odd'] : [];
      return { value, warnings, infos: [] };
    },
    stats: () => ({
      timings: { evalTotalTime: 0, resultSortTime: 0, queryPreparationTime: 0, innerEvalTime: 0, execQueueTime: 0, execTotalTime: 0 },
      samples: { totalQueryableSamples: 0, peakSamples: 0 },
    }),
  };
}

function fakeEngine(log: string[]): QueryEngine {
  return {
    newInstantQuery(store, qs, ts) {
      log.push(`instant ${qs} @${ts}`);
      const e = fakeParse(qs);
      return query(e, qs, () => evalAt(store, e, ts));
    },
    newRangeQuery(store, qs, start, end, step) {
      log.push(`range ${qs} ${start}..${end}/${step}`);
      const e = fakeParse(qs);
      return query(e, qs, () => {
        const byKey = new Map<string, { s: RangeSeries; ts: number[]; fs: number[] }>();
        for (let t = start; t <= end; t += step) {
          const v = evalAt(store, e, t);
          const samples = v.type === 'scalar' ? [{ metric: Labels.EMPTY, t, f: v.v }] : v.type === 'vector' ? v.samples : [];
          for (const smp of samples) {
            let row = byKey.get(smp.metric.key());
            if (row === undefined) byKey.set(smp.metric.key(), (row = { s: { metric: smp.metric, ts: new Float64Array(), fs: new Float64Array() }, ts: [], fs: [] }));
            row.ts.push(t);
            row.fs.push(smp.f);
          }
        }
        const series = [...byKey.values()].map((r) => ({ metric: r.s.metric, ts: Float64Array.from(r.ts), fs: Float64Array.from(r.fs) }));
        series.sort((a, b) => Labels.compare(a.metric, b.metric));
        return { type: 'matrix', series };
      });
    },
  };
}


function deps(log: string[] = []): RunnerDeps {
  return { newEngine: () => fakeEngine(log), parseExpr: (q) => fakeParse(q), exprToString: fakePrint };
}

async function statuses(src: string, log: string[] = []): Promise<Array<[number, string, string | undefined]>> {
  const r = await runTestFile('t.test', src, deps(log), { mode: 'eval', features: new Set() });
  return r.cases.map((c) => [c.line, c.status, c.message]);
}

describe('runner', () => {
  test('passing and failing instant and range cases', async () => {
    const res = await statuses(`load 1m
  a{x="1"} 1+1x5
  a{x="2"} 10 stale

eval instant at 2m a
  a{x="1"} 3

eval instant at 2m a
  a{x="1"} 4

eval range from 0 to 2m step 1m a
  a{x="1"} 1 2 3
  a{x="2"} 10 _ _

eval instant at 0 a
  a{x="1"} 1
  a{x="2"} 10
  a{x="3"} 5
`);
    assert.equal(res[0]![1], 'passed');
    assert.equal(res[1]![1], 'failed');
    assert.match(res[1]![2]!, /expected 4 for \{__name__="a", x="1"\} but got 3/);
    assert.equal(res[2]![1], 'passed', res[2]![2]);
    assert.equal(res[3]![1], 'failed');
    assert.match(res[3]![2]!, /expected metric \{__name__="a", x="3"\} with 5 not found/);
  });

  test('instant cases also run @-pinned and in range mode', async () => {
    const log: string[] = [];
    await statuses('load 1m\n  a 1+1x5\n\neval instant at 2m a\n  a 3\n', log);
    assert.deepEqual(log, [
      'instant a @120000',
      'range a 60000..180000/60000',
      ...atModifierTimes(120000).flatMap((t) => [`instant a @ 120.000 @${t}`, `range a @ 120.000 ${t - 60000}..${t + 60000}/60000`]),
    ]);
  });

  test('expected failures, messages and unexpected errors', async () => {
    const res = await statuses(`eval instant at 0 fail_boom
  expect fail msg: failed: boom

eval instant at 0 fail_boom
  expect fail regex: bo+m$

eval_fail instant at 0 fail_boom
  expected_fail_message failed: bang

eval instant at 0 fail_boom

eval instant at 0 a
  expect fail

eval instant at 0 1 +
  expect fail msg: 1:1: parse error: unexpected character: "1"
`);
    assert.deepEqual(res.map((r) => r[1]), ['passed', 'passed', 'failed', 'failed', 'failed', 'passed']);
    assert.match(res[2]![2]!, /expected error matching message "failed: bang", but got: failed: boom/);
    assert.match(res[3]![2]!, /unexpected error: failed: boom/);
    assert.match(res[4]![2]!, /expected an error/);
  });

  test('scalars, ordered results and annotations', async () => {
    const res = await statuses(`load 1m
  warned 1

eval instant at 0 2
  2

eval instant at 0 2
  3

eval instant at 0 warned
  expect warn
  warned 1

eval instant at 0 warned
  expect no_warn
  warned 1

eval instant at 0 warned
  expect warn msg: PromQL warning: something else
  warned 1
`);
    assert.deepEqual(res.map((r) => r[1]), ['passed', 'failed', 'passed', 'failed', 'failed']);
    assert.match(res[1]![2]!, /expected scalar 3 but got 2/);
    assert.match(res[3]![2]!, /unexpected warning annotations/);
  });

  test('native histograms load and compare (load_with_nhcb builds custom-bucket ones); start timestamps load on histograms too', async () => {
    const src = `load 1m
  h {{schema:0 sum:1 count:1}}x3
  f 1 2 3
  st@st _ 1s
  st _ 1
  sth@st _ 1s
  sth _ {{schema:0 sum:1 count:1}}

eval instant at 1m h
  h {{schema:0 sum:1 count:1}}

eval instant at 1m h
  h {{schema:0 sum:1 count:2}}

eval instant at 1m f
  f 2

eval instant at 1m st
  st 1

eval instant at 1m rate(sth[1m])

eval range from 0 to 2m step 1m h
  h {{schema:0 sum:1 count:1}}x2

eval instant at 1m h
  h 1

clear
load_with_nhcb 1m
  m_bucket{le="1"} 1 2
  m_bucket{le="+Inf"} 2 3
  only_inf_bucket{le="+Inf"} 2 3
  bad_bucket{le="x"} 1

eval instant at 1m m_bucket

eval instant at 1m m
  m {{schema:-53 count:3 custom_values:[1] buckets:[2 1]}}

eval instant at 1m only_inf
  only_inf {{schema:-53 count:3 buckets:[3]}}

eval instant at 1m bad
`;
    const r = await runTestFile('t.test', src, tspromDeps, { mode: 'eval', features: new Set() });
    assert.deepEqual(
      r.cases.map((c) => [c.status, c.message?.slice(0, 30)]),
      [
        ['passed', undefined],
        ['failed', 'expected {{count:2 sum:1}} for'],
        ['passed', undefined],
        ['passed', undefined],
        ['passed', undefined],
        ['passed', undefined],
        ['failed', 'expected float value 1 for {__'],
        ['failed', 'unexpected metric {__name__="m'],
        ['passed', undefined],
        ['passed', undefined],
        ['passed', undefined],
      ],
    );
  });

  test('load failures fail the cases that follow until clear', async () => {
    const res = await statuses(`load 1m
  a 1 2

load 1m
  a 5

eval instant at 0 a

clear

eval instant at 0 a
`);
    assert.equal(res[0]![1], 'failed');
    assert.match(res[0]![2]!, /data could not be loaded \(load at line 4\)/);
    assert.equal(res[1]![1], 'passed');
  });

  test('parse-only mode', async () => {
    const r = await runTestFile(
      'p.test',
      'eval instant at 0 a\n\neval instant at 0 1 +\n\neval instant at 0 2 +\n  expect fail\n\nbogus\n',
      deps(),
      { mode: 'parse', features: new Set() },
    );
    assert.deepEqual(
      r.cases.map((c) => [c.id, c.status]),
      [['p.test:1', 'passed'], ['p.test:3', 'failed'], ['p.test:5', 'passed'], ['p.test:8', 'failed']],
    );
  });
});

describe('@ pinning', () => {
  test('pins selectors and keeps existing @', () => {
    const e = pinAtModifier(fakeParse('a'), 5000);
    assert.equal(fakePrint(e!), 'a @ 5.000');
    assert.equal(fakePrint(pinAtModifier(fakeParse('a @ 1'), 5000)!), 'a @ 1.000');
  });
  test('pins matrix selectors and subqueries but not selectors inside a pinned subquery', () => {
    const posRange = { start: 0, end: 0 };
    const fn = (name: string): FunctionDef => ({ name, argTypes: ['matrix'], variadic: 0, returnType: 'vector', experimental: false });
    const ms: MatrixSelector = { type: 'MatrixSelector', vectorSelector: fakeParse('a') as VectorSelector, range: 60000, posRange };
    const inner: Call = { type: 'Call', func: fn('rate'), args: [ms], posRange };
    const sq: SubqueryExpr = {
      type: 'SubqueryExpr', expr: inner, range: 300000, step: 0, originalOffset: 0, offset: 0, timestamp: null, startOrEnd: 'end', posRange,
    };
    const outer: Call = { type: 'Call', func: fn('max_over_time'), args: [sq], posRange };
    const pinned = pinAtModifier(outer, 7000) as Call;
    const psq = pinned.args[0] as SubqueryExpr;
    assert.deepEqual([psq.timestamp, psq.startOrEnd], [7000, null]);
    assert.equal(((psq.expr as Call).args[0] as MatrixSelector).vectorSelector.timestamp, null);
    assert.equal(sq.timestamp, null, 'the original tree is not changed');
    const top = pinAtModifier({ ...inner }, 7000) as Call;
    assert.equal((top.args[0] as MatrixSelector).vectorSelector.timestamp, 7000);
    assert.equal(ms.vectorSelector.timestamp, null);
    assert.equal(pinAtModifier({ type: 'Call', func: fn('time'), args: [], posRange }, 7000), null);
  });
  test('evaluation times', () => {
    assert.deepEqual(atModifierTimes(0), [-1000, 0, 1000]);
    assert.deepEqual(atModifierTimes(6001), [-60010, 0, 1200, 6001, 60010]);
  });
});
