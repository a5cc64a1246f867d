// Property test: random well-typed PromQL queries over a small in-memory
// dataset, run as instant and range queries, must either succeed or fail with
// one of the engine's typed errors. Anything else is a bug: a TypeError
// escaping, an "unexpected error" the engine had to wrap, a result of the
// wrong type, or a range query whose steps disagree with instant queries at
// the same times. A second property asks subqueries pinned with @ at many
// times: their result may not depend on the query time at all.
//
// The run is deterministic; PROP_RUNS=50000 PROP_SEED=<n> widen the search.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Labels } from '../src/model/labels.js';
import { STALE_NAN } from '../src/model/value.js';
import { MemoryStorage } from '../src/storage/memory.js';
import { Engine } from '../src/promql/engine/engine.js';
import { EvalError, QueryCanceledError, QueryQueueFullError } from '../src/promql/engine/errors.js';
import type { QueryResult, QueryValue } from '../src/promql/engine/types.js';
import { ParseError } from '../src/promql/parser/errors.js';
import { FUNCTIONS } from '../src/promql/parser/functions.js';
import type { FunctionDef, ValueKind } from '../src/promql/parser/ast.js';
import type { LogFields, Logger } from '../src/logging/types.js';

// ---------------------------------------------------------------------------
// Dataset: 30 minutes at 15s of counters, gauges with special values and
// gaps, and a classic histogram. Small enough that every query is fast.

const STEP_MS = 15_000;
const SAMPLES = 121; // 0 .. 30m inclusive

function buildStorage(): MemoryStorage {
  const db = new MemoryStorage();
  const app = db.appender();
  const add = (labels: Record<string, string>, value: (i: number) => number | null): void => {
    const ls = Labels.fromObject(labels);
    for (let i = 0; i < SAMPLES; i++) {
      const v = value(i);
      if (v !== null) app.append(0, ls, i * STEP_MS, v);
    }
  };
  for (const job of ['api', 'db']) {
    for (const instance of ['0', '1']) {
      const seed = (job === 'api' ? 3 : 7) + Number(instance);
      add({ __name__: 'requests_total', job, instance }, (i) => (i % (40 + seed) === 39 ? 0 : ((i * seed) % 97) + i * seed));
      add({ __name__: 'temperature', job, instance, unit: 'c' }, (i) => Math.sin(i / (5 + seed)) * 20 + seed);
    }
  }
  add({ __name__: 'requests_total', job: 'api', instance: '2' }, (i) => (i < 30 || i > 90 ? null : i * 2));
  add({ __name__: 'odd', kind: 'special' }, (i) => [NaN, Infinity, -Infinity, 0, -0, 1e308, -1e308, 5e-324][i % 8]!);
  add({ __name__: 'odd', kind: 'stale' }, (i) => (i % 10 === 5 ? STALE_NAN : i % 10));
  add({ __name__: 'odd', kind: 'sparse' }, (i) => (i % 17 === 0 ? i : null));
  for (const le of ['0.1', '0.5', '1', '5', '+Inf']) {
    const bound = Number(le === '+Inf' ? Infinity : le);
    for (const job of ['api', 'db']) {
      add({ __name__: 'latency_bucket', job, le }, (i) => Math.floor(i * Math.min(10, bound * 3 + 1) * (job === 'api' ? 1 : 0.5)));
    }
  }
  // A non-monotonic histogram, as produced by racy exports.
  ['0.1', '1', '+Inf'].forEach((le, k) => add({ __name__: 'latency_bucket', job: 'broken', le }, (i) => (k === 1 ? i : 2 * i)));
  app.commit();
  return db;
}

// ---------------------------------------------------------------------------
// Query generator. Every generated query is well typed; runtime errors
// (bad regex, invalid smoothing factor, duplicate series) are still allowed.

type Gen = fc.Arbitrary<string>;

const METRICS = ['requests_total', 'temperature', 'odd', 'latency_bucket', 'missing_metric'];
const LABELS = ['job', 'instance', 'le', 'kind', 'unit', '__name__'];
const VALUES = ['api', 'db', '0', '1', 'special', '+Inf', 'x'];

const REGEXES = ['a.*|d.*', '.+', '[0-9]', '\\\\+Inf|0\\\\.1', 'api', ''];
const matcher: Gen = fc.oneof(
  fc.tuple(fc.constantFrom('job', 'instance', 'le', 'kind'), fc.constantFrom('=', '!='), fc.constantFrom(...VALUES, '')).map(([l, op, v]) => `${l}${op}"${v}"`),
  fc.tuple(fc.constantFrom('job', 'instance', 'le', 'kind'), fc.constantFrom('=~', '!~'), fc.constantFrom(...REGEXES)).map(([l, op, v]) => `${l}${op}"${v}"`),
);

const selectorBase: Gen = fc.oneof(
  fc.tuple(fc.constantFrom(...METRICS), fc.array(matcher, { maxLength: 2 })).map(([m, ms]) => (ms.length > 0 ? `${m}{${ms.join(',')}}` : m)),
  fc.constantFrom('{__name__=~"req.*|odd"}', '{job="api"}', '{__name__="temperature",job!="db"}'),
);

const offsetAt: Gen = fc
  .tuple(
    fc.option(fc.constantFrom('offset 1m', 'offset 5m', 'offset -2m', 'offset 30s'), { freq: 4 }),
    fc.option(fc.constantFrom('@ 600', '@ 1200.5', '@ start()', '@ end()', '@ 0'), { freq: 5 }),
  )
  .map(([o, a]) => [a, o].filter((x) => x !== null).join(' '));

/** An optional word or modifier, present once in `oneIn` cases. */
const rarely = (oneIn: number, ...words: string[]): Gen =>
  fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom(...words) });

/** Instant selectors are sometimes `smoothed` (feature promql-extended-range-selectors). */
const instantSelector: Gen = fc
  .tuple(selectorBase, rarely(10, 'smoothed'), offsetAt)
  .map(([s, sm, m]) => [s, sm, m].filter((x) => x !== '').join(' '));

// Durations, some written as expressions (feature promql-duration-expr).
const range: Gen = fc.constantFrom('1m', '2m', '5m', '90s', '10m', '31s', '2m+30s', '1m*3', '(10m-1s)');
/** Range selector modifiers (feature promql-extended-range-selectors); most functions reject them. */
const rangeModifier: Gen = rarely(8, 'anchored', 'smoothed');
const subqueryStep: Gen = fc.constantFrom('', '30s', '1m', '2m', '45s');

const number: Gen = fc.constantFrom('0', '1', '-1', '0.5', '2', '100', '0.25', '0.99', '1e308', 'NaN', 'Inf', '-Inf', '3.7', '0x10', '-0.5');
const labelList: Gen = fc.array(fc.constantFrom(...LABELS), { maxLength: 3 }).map((ls) => [...new Set(ls)].join(', '));

const AGG_SIMPLE = ['sum', 'avg', 'min', 'max', 'count', 'group', 'stddev', 'stdvar'];
const AGG_PARAM = ['topk', 'bottomk', 'limitk', 'quantile', 'limit_ratio'];
const ARITH = ['+', '-', '*', '/', '%', '^', 'atan2'];
const COMPARE = ['==', '!=', '>', '<', '>=', '<='];
const SET = ['and', 'or', 'unless'];

/** Functions whose string arguments need meaningful values, or that need special forms. */
const SPECIAL = new Set(['label_replace', 'label_join', 'sort_by_label', 'sort_by_label_desc', 'histogram_quantiles', 'info']);

function argCount(def: FunctionDef, extra: number): number {
  const n = def.argTypes.length;
  if (def.variadic === 0) return n;
  const min = n - 1;
  const max = def.variadic < 0 ? n + 1 : n - 1 + def.variadic;
  return Math.min(max, min + extra);
}

function argType(def: FunctionDef, i: number): ValueKind {
  return def.argTypes[Math.min(i, def.argTypes.length - 1)]!;
}

const byReturn = (kind: ValueKind): FunctionDef[] => [...FUNCTIONS.values()].filter((d) => d.returnType === kind && !SPECIAL.has(d.name));

interface Gens {
  vector: Gen;
  scalar: Gen;
  matrix: Gen;
}

function generators(depth: number): Gens {
  const leafScalar: Gen = fc.oneof(number, fc.constantFrom('time()', 'pi()', 'start()', 'end()', 'step()', 'range()'));
  const leafMatrix: Gen = fc
    .tuple(selectorBase, range, rangeModifier, offsetAt)
    .map(([s, r, x, m]) => [`${s}[${r}]`, x, m].filter((p) => p !== '').join(' '));
  if (depth <= 0) return { vector: instantSelector, scalar: leafScalar, matrix: leafMatrix };

  const sub = generators(depth - 1);
  const forKind = (k: ValueKind): Gen => {
    switch (k) {
      case 'vector':
        return sub.vector;
      case 'scalar':
        return sub.scalar;
      case 'matrix':
        return sub.matrix;
      default:
        return fc.constantFrom('"job"', '"x"', '""');
    }
  };
  const call = (defs: FunctionDef[]): Gen =>
    fc.tuple(fc.constantFrom(...defs), fc.nat(3)).chain(([def, extra]) => {
      const n = argCount(def, extra);
      const args = Array.from({ length: n }, (_, i) => forKind(argType(def, i)));
      return (args.length === 0 ? fc.constant([] as string[]) : fc.tuple(...args)).map((as) => `${def.name}(${as.join(', ')})`);
    });

  const special: Gen = fc.oneof(
    fc.tuple(sub.vector, fc.constantFrom('"job"', '"new"', '"__name__"'), fc.constantFrom('"$1"', '"x-$1"', '"$2"'), fc.constantFrom('"instance"', '"le"', '"__name__"'), fc.constantFrom('"(.*)"', '"([0-9])"', '"(["', '".*(e).*"')).map(
      ([v, dst, repl, src, re]) => `label_replace(${v}, ${dst}, ${repl}, ${src}, ${re})`,
    ),
    fc.tuple(sub.vector, fc.constantFrom('"job"', '"new"'), fc.array(fc.constantFrom('"job"', '"instance"', '"le"'), { maxLength: 3 })).map(
      ([v, dst, srcs]) => `label_join(${[v, dst, '"-"', ...srcs].join(', ')})`,
    ),
    fc.tuple(fc.constantFrom('sort_by_label', 'sort_by_label_desc'), sub.vector, fc.array(fc.constantFrom('"job"', '"instance"', '"le"'), { minLength: 1, maxLength: 2 })).map(
      ([f, v, ls]) => `${f}(${[v, ...ls].join(', ')})`,
    ),
    fc.tuple(sub.vector, fc.array(sub.scalar, { minLength: 1, maxLength: 3 })).map(([v, qs]) => `histogram_quantiles(${v}, "q", ${qs.join(', ')})`),
    fc.tuple(sub.vector, fc.option(fc.constantFrom('{job=~".+"}', '{unit="c"}'))).map(([v, d]) => (d ? `info(${v}, ${d})` : `info(${v})`)),
  );

  const grouping: Gen = fc
    .tuple(fc.constantFrom('', 'by', 'without'), labelList)
    .map(([kw, ls]) => (kw === '' ? '' : ` ${kw} (${ls})`));
  const aggregation: Gen = fc.oneof(
    fc.tuple(fc.constantFrom(...AGG_SIMPLE), grouping, sub.vector).map(([op, g, v]) => `${op}${g} (${v})`),
    fc.tuple(fc.constantFrom(...AGG_PARAM), grouping, sub.scalar, sub.vector).map(([op, g, p, v]) => `${op}${g} (${p}, ${v})`),
    fc.tuple(grouping, fc.constantFrom('"value"', '"job"', '"v"'), sub.vector).map(([g, l, v]) => `count_values${g} (${l}, ${v})`),
  );

  const matching: Gen = fc
    .tuple(fc.constantFrom('', 'on', 'ignoring'), labelList, fc.constantFrom('', 'group_left', 'group_right'), labelList)
    .map(([m, ls, g, gl]) => {
      if (m === '') return '';
      // A label may not appear both in on(...) and in the group modifier.
      const own = new Set(ls.split(', '));
      const extra = gl
        .split(', ')
        .filter((l) => l !== '' && !(m === 'on' && own.has(l)))
        .join(', ');
      return ` ${m} (${ls})${g ? ` ${g} (${extra})` : ''}`;
    });
  /** Fill modifiers for missing series (feature promql-binop-fill-modifiers). */
  const fill: Gen = rarely(6, ' fill(0)', ' fill_left(1)', ' fill_right(-1)', ' fill(NaN)', ' fill_left(0) fill_right(2)');
  const vectorBinary: Gen = fc.oneof(
    fc.tuple(sub.vector, fc.constantFrom(...ARITH), matching, fill, sub.vector).map(([a, op, m, f, b]) => `${a} ${op}${m}${f} ${b}`),
    fc
      .tuple(sub.vector, fc.constantFrom(...COMPARE), fc.boolean(), matching, fill, sub.vector)
      .map(([a, op, bool, m, f, b]) => `${a} ${op}${bool ? ' bool' : ''}${m}${f} ${b}`),
    fc.tuple(sub.vector, fc.constantFrom(...SET), fc.constantFrom('', ' on (job)', ' ignoring (instance)', ' on ()'), sub.vector).map(([a, op, m, b]) => `${a} ${op}${m} ${b}`),
    fc.tuple(sub.vector, fc.constantFrom(...ARITH, ...COMPARE), fc.boolean(), sub.scalar, fc.boolean()).map(([v, op, bool, s, flip]) => {
      const o = COMPARE.includes(op) && bool ? `${op} bool` : op;
      return flip ? `${s} ${o} ${v}` : `${v} ${o} ${s}`;
    }),
  );

  const vector: Gen = fc.oneof(
    { weight: 3, arbitrary: instantSelector },
    { weight: 4, arbitrary: call(byReturn('vector')) },
    { weight: 1, arbitrary: special },
    { weight: 3, arbitrary: aggregation },
    { weight: 3, arbitrary: vectorBinary },
    { weight: 1, arbitrary: sub.vector.map((v) => `-(${v})`) },
    { weight: 1, arbitrary: sub.vector.map((v) => `(${v})`) },
  );

  const scalar: Gen = fc.oneof(
    { weight: 4, arbitrary: leafScalar },
    { weight: 2, arbitrary: call(byReturn('scalar')) },
    {
      weight: 2,
      arbitrary: fc.tuple(sub.scalar, fc.constantFrom(...ARITH, ...COMPARE), sub.scalar).map(([a, op, b]) => `${a} ${COMPARE.includes(op) ? `${op} bool` : op} ${b}`),
    },
    { weight: 1, arbitrary: sub.scalar.map((s) => `-(${s})`) },
  );

  const subquery: Gen = fc
    .tuple(sub.vector, range, subqueryStep, offsetAt)
    .map(([v, r, s, m]) => `(${v})[${r}:${s}]${m ? ` ${m}` : ''}`);
  const matrix: Gen = fc.oneof({ weight: 3, arbitrary: leafMatrix }, { weight: 1, arbitrary: subquery });

  return { vector, scalar, matrix };
}

const QUERY_DEPTH = 3;
const G = generators(QUERY_DEPTH);
const query: fc.Arbitrary<{ q: string; kind: ValueKind }> = fc.oneof(
  { weight: 8, arbitrary: G.vector.map((q) => ({ q, kind: 'vector' as ValueKind })) },
  { weight: 2, arbitrary: G.scalar.map((q) => ({ q, kind: 'scalar' as ValueKind })) },
  { weight: 2, arbitrary: G.matrix.map((q) => ({ q, kind: 'matrix' as ValueKind })) },
  { weight: 1, arbitrary: fc.constantFrom('"hello"', '"x"').map((q) => ({ q, kind: 'string' as ValueKind })) },
);

// ---------------------------------------------------------------------------
// Running

class RecordingLogger implements Logger {
  readonly errors: string[] = [];
  debug(): void {}
  info(): void {}
  warn(): void {}
  error(msg: string, fields?: LogFields): void {
    this.errors.push(`${msg}: ${String(fields?.err ?? '')}\n${String(fields?.stack ?? '')}`);
  }
  with(): Logger {
    return this;
  }
}

const FEATURES = ['promql-experimental-functions', 'promql-duration-expr', 'promql-extended-range-selectors', 'promql-binop-fill-modifiers'];
/**
 * With delayed name removal, Prometheus merges a range query's series that
 * differ only in whether their name is dropped later, so its steps may differ
 * from instant queries; runs with it only check for crashes.
 */
const DELAYED_NAME_REMOVAL = 'promql-delayed-name-removal';

/** Typed failures a query may end with; QueryTimeoutError is excluded on purpose: on this data nothing may take that long. */
function isTypedError(e: unknown): boolean {
  if (e instanceof EvalError && e.message.startsWith('unexpected error')) return false;
  return e instanceof ParseError || e instanceof EvalError || e instanceof QueryCanceledError || e instanceof QueryQueueFullError;
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
}

interface Outcome {
  result?: QueryResult;
  error?: unknown;
}

async function run(make: () => { exec(): Promise<QueryResult> }): Promise<Outcome> {
  try {
    return { result: await make().exec() };
  } catch (error) {
    return { error };
  }
}

/** Values of a result keyed by label set, for comparing an instant query with its one-step range query. */
function valuesOf(v: QueryValue): Map<string, number> {
  const m = new Map<string, number>();
  switch (v.type) {
    case 'scalar':
      m.set('{}', v.v);
      break;
    case 'vector':
      for (const s of v.samples) m.set(s.metric.toString(), s.f);
      break;
    case 'matrix':
      for (const s of v.series) if (s.fs.length > 0) m.set(s.metric.toString(), s.fs[0]!);
      break;
    case 'string':
      break;
  }
  return m;
}

/** Values of a range query's result at time t, keyed by label set. */
function valuesAt(v: QueryValue, t: number): Map<string, number> {
  const m = new Map<string, number>();
  if (v.type !== 'matrix') return m;
  for (const s of v.series) {
    const i = s.ts.indexOf(t);
    if (i >= 0) m.set(s.metric.toString(), s.fs[i]!);
  }
  return m;
}

/** Differences between two results keyed by label set. */
function diff(what: string, a: Map<string, number>, b: Map<string, number>): string[] {
  const failures: string[] = [];
  for (const [k, v] of a) {
    if (!b.has(k)) failures.push(`${what}: instant result ${k} ${v} missing from the range result`);
    else if (!sameValue(v, b.get(k)!)) failures.push(`${what}: instant ${k} = ${v} but the range query gives ${b.get(k)}`);
  }
  for (const k of b.keys()) if (!a.has(k)) failures.push(`${what}: range result ${k} missing from the instant result`);
  return failures;
}

function sameValue(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

/** Differences between an instant query's result and the one-step range query at the same time. */
async function compareWithOneStep(q: string, t: number, step: number, instant: Outcome, engine: Engine, db: MemoryStorage): Promise<string[]> {
  const one = await run(() => engine.newRangeQuery(db, q, t, t, step));
  if (instant.result !== undefined && one.result !== undefined) {
    return diff(`one-step range at ${t}`, valuesOf(instant.result.value), valuesOf(one.result.value));
  }
  if ((instant.error === undefined) !== (one.error === undefined)) {
    const what = (o: Outcome): string => (o.error === undefined ? 'succeeded' : `failed (${describeError(o.error)})`);
    return [`instant query ${what(instant)} but one-step range query ${what(one)}`];
  }
  return [];
}

/**
 * Queries whose results legitimately differ between a range query's steps and
 * instant queries at the same times: start(), end(), range() and step()
 * depend on the query itself; Prometheus evaluates an aggregation over an
 * @-fixed expression once per range query even when its parameter (e.g.
 * topk's k) varies per step; and topk/bottomk pick among equal values by
 * input order, which Prometheus does not define.
 */
const STEPS_DIFFER = [/\b(start|end|range|step)\(\)/, /\b(topk|bottomk|limitk|limit_ratio|quantile)\b/];

/** Differences between a range query's later steps and instant queries at those times. */
async function compareSteps(q: string, ranged: QueryResult, times: number[], engine: Engine, db: MemoryStorage): Promise<string[]> {
  const failures: string[] = [];
  for (const t of times) {
    const instant = await run(() => engine.newInstantQuery(db, q, t));
    if (instant.result === undefined) continue;
    failures.push(...diff(`step at ${t}`, valuesOf(instant.result.value), valuesAt(ranged.value, t)));
  }
  return failures;
}

describe('engine property: random well-typed queries', () => {
  const db = buildStorage();
  const logger = new RecordingLogger();
  const engines = [false, true].map(
    (delayed) => new Engine({ features: new Set(delayed ? [...FEATURES, DELAYED_NAME_REMOVAL] : FEATURES), timeoutMs: 60_000, logger }),
  );
  const stats = { ok: 0, parseErrors: 0, evalErrors: 0 };

  test('never fail with anything but typed errors', { timeout: 240_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        query,
        fc.integer({ min: -2, max: 42 }).map((m) => m * 60_000),
        fc.constantFrom(15_000, 30_000, 60_000, 90_000),
        fc.integer({ min: 1, max: 30 }),
        fc.boolean(),
        async ({ q, kind }, t, step, steps, delayedNameRemoval) => {
          const engine = engines[delayedNameRemoval ? 1 : 0]!;
          const compare = !delayedNameRemoval;
          const failures: string[] = [];
          logger.errors.length = 0;

          const instant = await run(() => engine.newInstantQuery(db, q, t));
          if (instant.error !== undefined) {
            if (!isTypedError(instant.error)) failures.push(`instant query at ${t}: ${describeError(instant.error)}`);
            else if (instant.error instanceof ParseError) stats.parseErrors++;
            else stats.evalErrors++;
          } else {
            stats.ok++;
            const got = instant.result!.value.type;
            if (got !== kind) failures.push(`instant query at ${t} returned ${got}, expected ${kind}`);
          }

          if (kind === 'vector' || kind === 'scalar') {
            const ranged = await run(() => engine.newRangeQuery(db, q, t, t + (steps - 1) * step, step));
            if (ranged.error !== undefined) {
              if (!isTypedError(ranged.error)) failures.push(`range query from ${t} step ${step}: ${describeError(ranged.error)}`);
            } else if (ranged.result!.value.type !== 'matrix') {
              failures.push(`range query returned ${ranged.result!.value.type}`);
            } else if (compare && steps > 1 && !STEPS_DIFFER.some((re) => re.test(q))) {
              // Every step of a range query is the instant query at that time.
              const mid = t + Math.floor(steps / 2) * step;
              failures.push(...(await compareSteps(q, ranged.result!, [mid, t + (steps - 1) * step], engine, db)));
            }
            // An instant query and the one-step range query at the same time must
            // agree, except for step(), which is 0 for an instant query.
            if (compare && !q.includes('step()') && !/\b(topk|bottomk)\b/.test(q)) failures.push(...(await compareWithOneStep(q, t, step, instant, engine, db)));
          }
          failures.push(...logger.errors.map((e) => `engine logged an error: ${e}`));
          assert.deepEqual(failures, [], `query: ${q}\n${failures.join('\n')}`);
        },
      ),
      {
        numRuns: Number(process.env.PROP_RUNS ?? 1500),
        seed: Number(process.env.PROP_SEED ?? 20261125),
        endOnFailure: true,
        includeErrorInReport: true,
      },
    );
  });

  test('generated queries are mostly accepted by the parser', (t) => {
    t.diagnostic(`succeeded ${stats.ok}, parse errors ${stats.parseErrors}, evaluation errors ${stats.evalErrors}`);
    // A generator drifting into invalid syntax would make the property above vacuous.
    const total = stats.ok + stats.parseErrors + stats.evalErrors;
    assert.ok(total > 0);
    assert.ok(stats.parseErrors <= total * 0.2, `parse errors ${stats.parseErrors} of ${total}`);
  });
});

/** Anything whose value depends on the query's own time or range: calls without arguments (time(), hour(), ...) and @ start()/end(). */
const TIME_DEPENDENT = /\b(?!pi\()[a-z_]+\(\)/;

/**
 * Range functions whose result is a plain function of the points in the
 * window, so a pinned window gives one answer at every query time (the
 * extrapolating ones also use the window's bounds, which are pinned too).
 */
const PINNED_FUNCTIONS = ['min_over_time', 'max_over_time', 'count_over_time', 'last_over_time', 'sum_over_time', 'rate', 'changes', 'ts_of_max_over_time'];

describe('engine property: a subquery pinned with @ is the same at every query time', () => {
  // A subquery with @ evaluates its inside on a grid fixed by the @ time and
  // its offset, so `f((expr)[r:s] @ t offset o)` may not depend on when it is
  // asked, whatever @ and offsets the inside has. Found: the inner @ offsets
  // were taken relative to the wrong time when the subquery's first step
  // coincided with the query time.
  const db = buildStorage();
  const logger = new RecordingLogger();
  const engine = new Engine({ features: new Set(FEATURES), timeoutMs: 60_000, logger });
  const pinned: fc.Arbitrary<string> = fc
    .tuple(
      fc.constantFrom(...PINNED_FUNCTIONS),
      generators(2).vector,
      range,
      subqueryStep,
      fc.constantFrom('@ 600', '@ 1200.5', '@ 0', '@ 1170', '@ 480'),
      fc.constantFrom('', ' offset 1m', ' offset -30s', ' offset 5m'),
    )
    .filter(([, v]) => !TIME_DEPENDENT.test(v))
    .map(([f, v, r, s, at, off]) => `${f}((${v})[${r}:${s}] ${at}${off})`);

  test('instant queries at different times and range query steps agree', { timeout: 240_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        pinned,
        fc.array(fc.integer({ min: -4, max: 84 }).map((h) => h * 30_000), { minLength: 2, maxLength: 4 }),
        fc.constantFrom(30_000, 60_000, 90_000),
        async (q, times, step) => {
          logger.errors.length = 0;
          const failures: string[] = [];
          const results: Array<{ t: number; values: Map<string, number> }> = [];
          for (const t of times) {
            const o = await run(() => engine.newInstantQuery(db, q, t));
            if (o.error !== undefined) {
              if (!isTypedError(o.error)) failures.push(`instant query at ${t}: ${describeError(o.error)}`);
              continue;
            }
            results.push({ t, values: valuesOf(o.result!.value) });
          }
          for (const r of results.slice(1)) failures.push(...diff(`at ${r.t} vs ${results[0]!.t}`, results[0]!.values, r.values));
          if (results.length > 0) {
            const start = times[0]!;
            const ranged = await run(() => engine.newRangeQuery(db, q, start, start + 5 * step, step));
            if (ranged.error !== undefined) {
              if (!isTypedError(ranged.error)) failures.push(`range query: ${describeError(ranged.error)}`);
            } else {
              for (let t = start; t <= start + 5 * step; t += step) failures.push(...diff(`range step ${t}`, results[0]!.values, valuesAt(ranged.result!.value, t)));
            }
          }
          failures.push(...logger.errors.map((e) => `engine logged an error: ${e}`));
          assert.deepEqual(failures, [], `query: ${q}\n${failures.join('\n')}`);
        },
      ),
      {
        numRuns: Number(process.env.PROP_RUNS ?? 1000),
        seed: Number(process.env.PROP_SEED ?? 20261126),
        endOnFailure: true,
        includeErrorInReport: true,
      },
    );
  });
});
