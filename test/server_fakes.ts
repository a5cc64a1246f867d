// Small stand-ins for the parser and engine, so the HTTP layer can be tested
// in-process on its own: they understand number literals, string literals and
// plain series selectors, plus two magic queries (`slow` waits until
// canceled, `fail` fails during evaluation).
import { Labels } from '../src/model/labels.js';
import { Matcher, MatchType } from '../src/model/matcher.js';
import type { Expr, VectorSelector } from '../src/promql/parser/ast.js';
import { ParseError } from '../src/promql/parser/errors.js';
import { EvalError, QueryCanceledError } from '../src/promql/engine/errors.js';
import type { EngineOptions, ExecContext, InstantSample, Query, QueryEngine, QueryResult, QueryStats, QueryValue, RangeSeries } from '../src/promql/engine/types.js';
import { ValueType, type Queryable } from '../src/storage/interface.js';
import { isStaleNaN } from '../src/model/value.js';
import type { PromQLParser } from '../src/web/api/v1.js';

const SELECTOR = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?(?:\{(.*)\})?$/;
const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"\s*$/;

function fail(q: string, msg: string): never {
  throw new ParseError(msg, { start: 0, end: q.length }, q);
}

function parseSelector(q: string): VectorSelector {
  const m = SELECTOR.exec(q.trim());
  if (m === null || (m[1] === undefined && m[2] === undefined)) fail(q, `unexpected character: ${JSON.stringify(q[0] ?? '')}`);
  const matchers: Matcher[] = [];
  if (m[1] !== undefined) matchers.push(Matcher.create(MatchType.Equal, '__name__', m[1]));
  if (m[2] !== undefined && m[2].trim() !== '') {
    for (const part of m[2].split(',')) {
      const mm = MATCHER.exec(part);
      if (mm === null) fail(q, 'unexpected character inside braces');
      matchers.push(Matcher.create(mm[2] as MatchType, mm[1]!, mm[3]!));
    }
  }
  return {
    type: 'VectorSelector',
    name: m[1] ?? '',
    matchers,
    originalOffset: 0,
    offset: 0,
    timestamp: null,
    startOrEnd: null,
    posRange: { start: 0, end: q.length },
  };
}

export const fakeParser: PromQLParser = {
  parseExpr(q: string): Expr {
    const s = q.trim();
    if (s === '') fail(q, 'no expression found in input');
    if (/^[+-]?\d+(\.\d+)?$/.test(s)) return { type: 'NumberLiteral', val: Number(s), posRange: { start: 0, end: q.length } };
    if (/^"[^"]*"$/.test(s)) return { type: 'StringLiteral', val: s.slice(1, -1), posRange: { start: 0, end: q.length } };
    return parseSelector(s);
  },
  parseMetricSelector(q: string): Matcher[] {
    return parseSelector(q).matchers;
  },
  prettify(e: Expr): string {
    if (e.type === 'VectorSelector') {
      const rest = e.matchers.filter((m) => m.name !== '__name__');
      return `${e.name}${rest.length ? `{${rest.map((m) => m.toString()).join(', ')}}` : ''}`;
    }
    if (e.type === 'NumberLiteral') return String(e.val);
    if (e.type === 'StringLiteral') return JSON.stringify(e.val);
    return '';
  },
};

const ZERO_STATS: QueryStats = {
  timings: { evalTotalTime: 0, resultSortTime: 0, queryPreparationTime: 0, innerEvalTime: 0, execQueueTime: 0, execTotalTime: 0 },
  samples: { totalQueryableSamples: 0, peakSamples: 0 },
};

function latest(q: Queryable, sel: VectorSelector, t: number, lookback: number): InstantSample[] {
  const querier = q.querier(t - lookback + 1, t);
  const out: InstantSample[] = [];
  try {
    const set = querier.select(true, { start: t - lookback + 1, end: t }, ...sel.matchers);
    while (set.next()) {
      const s = set.at();
      const it = s.iterator();
      let v = NaN;
      let found = false;
      while (it.next() !== ValueType.None) {
        if (it.t() > t) break;
        if (it.t() <= t - lookback) continue;
        v = it.v();
        found = true;
      }
      if (found && !isStaleNaN(v)) out.push({ metric: s.labels, t, f: v });
    }
  } finally {
    querier.close();
  }
  return out;
}

/** Waits until the signal aborts (the `slow` query). */
function untilAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    const stop = (): void => reject(new QueryCanceledError('query execution'));
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', stop, { once: true });
  });
}

export function fakeEngine(opts: EngineOptions = {}): QueryEngine {
  const lookbackDefault = opts.lookbackDeltaMs ?? 300_000;
  const make = (q: Queryable, qs: string, start: number, end: number, step: number, lookback: number): Query => {
    const magic = qs === 'slow' || qs === 'fail';
    const expr = magic ? null : fakeParser.parseExpr(qs);
    const eval1 = (t: number): QueryValue => {
      if (expr!.type === 'NumberLiteral') return { type: 'scalar', t, v: expr!.val };
      if (expr!.type === 'StringLiteral') return { type: 'string', t, v: expr!.val };
      return { type: 'vector', samples: latest(q, expr as VectorSelector, t, lookback) };
    };
    const run = async (ctx: ExecContext): Promise<QueryResult> => {
      if (qs === 'slow') return untilAborted(ctx.signal);
      if (qs === 'fail') throw new EvalError('evaluation failed on purpose');
      if (step === 0) return { value: eval1(start), warnings: [], infos: [] };
      const bySeries = new Map<string, { metric: Labels; ts: number[]; fs: number[] }>();
      for (let t = start; t <= end; t += step) {
        const v = eval1(t);
        const samples = v.type === 'vector' ? v.samples : v.type === 'scalar' ? [{ metric: Labels.EMPTY, t, f: v.v }] : [];
        for (const s of samples) {
          const k = s.metric.key();
          let e = bySeries.get(k);
          if (e === undefined) bySeries.set(k, (e = { metric: s.metric, ts: [], fs: [] }));
          e.ts.push(t);
          e.fs.push(s.f);
        }
      }
      const series: RangeSeries[] = [...bySeries.values()].map((e) => ({ metric: e.metric, ts: Float64Array.from(e.ts), fs: Float64Array.from(e.fs) }));
      return { value: { type: 'matrix', series }, warnings: [], infos: [] };
    };
    return {
      statement: expr ?? { type: 'NumberLiteral', val: 0, posRange: { start: 0, end: 0 } },
      queryString: qs,
      stats: () => ZERO_STATS,
      async exec(ctx: ExecContext = {}): Promise<QueryResult> {
        let error: string | undefined;
        try {
          return await run(ctx);
        } catch (e) {
          error = (e as Error).message;
          throw e;
        } finally {
          opts.onQueryDone?.({ params: { query: qs, start, end, step }, stats: ZERO_STATS, error, origin: ctx.origin ?? {} });
        }
      },
    };
  };
  return {
    newInstantQuery: (q, qs, ts, o) => make(q, qs, ts, ts, 0, o?.lookbackDeltaMs ?? lookbackDefault),
    newRangeQuery: (q, qs, start, end, step, o) => make(q, qs, start, end, step, o?.lookbackDeltaMs ?? lookbackDefault),
  };
}
