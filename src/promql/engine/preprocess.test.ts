import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Expr, VectorSelector } from '../parser/ast.js';
import { parseExpr } from '../parser/parser.js';
import { EvalError } from './errors.js';
import { preprocess, selectorTimeRange, selectors, setOffsetForAtModifier, subqueryTimes } from './preprocess.js';

const FEATURES = new Set(['promql-experimental-functions', 'promql-duration-expr']);

function prep(q: string, start = 0, end = 0, step = 0): Expr {
  return preprocess(parseExpr(q, { features: FEATURES }), start, end, step);
}

/** A compact rendering of where StepInvariantExpr wrappers ended up. */
function shape(e: Expr): string {
  switch (e.type) {
    case 'StepInvariantExpr':
      return `INV(${shape(e.expr)})`;
    case 'VectorSelector':
      return e.name || 'sel';
    case 'MatrixSelector':
      return `${shape(e.vectorSelector)}[]`;
    case 'NumberLiteral':
      return String(e.val);
    case 'Call':
      return `${e.func.name}(${e.args.map(shape).join(',')})`;
    case 'BinaryExpr':
      return `(${shape(e.lhs)}${e.op}${shape(e.rhs)})`;
    case 'AggregateExpr':
      return `${e.op}(${shape(e.expr)})`;
    case 'SubqueryExpr':
      return `${shape(e.expr)}[:]`;
    case 'ParenExpr':
      return `(${shape(e.expr)})`;
    case 'UnaryExpr':
      return `${e.op}${shape(e.expr)}`;
    case 'StringLiteral':
      return JSON.stringify(e.val);
  }
}

test('step-invariant parts are wrapped at their highest point', () => {
  assert.equal(shape(prep('foo @ 10')), 'INV(foo)');
  assert.equal(shape(prep('rate(foo[5m] @ 10)')), 'INV(rate(foo[]))');
  assert.equal(shape(prep('foo @ 10 + bar')), '(INV(foo)+bar)');
  assert.equal(shape(prep('sum(foo @ 10) / bar')), '(INV(sum(foo))/bar)');
  assert.equal(shape(prep('1 + 2')), 'INV((1+2))');
  assert.equal(shape(prep('foo + 2')), '(foo+2)');
  // time() depends on the evaluation time, so it stays per step even with an invariant argument.
  assert.equal(shape(prep('predict_linear(foo[5m] @ 10, 60)')), 'predict_linear(foo[],60)');
  assert.equal(shape(prep('timestamp(foo @ 10)')), 'INV(timestamp(foo))');
  assert.equal(shape(prep('timestamp(abs(foo @ 10))')), 'timestamp(INV(abs(foo)))');
  assert.equal(shape(prep('max_over_time((foo @ 10)[5m:1m])')), 'max_over_time(INV((foo))[:])');
});

test('@ start() and @ end() resolve to the query range', () => {
  const e = prep('foo @ start() + bar @ end() + baz', 10_000, 70_000, 10_000);
  assert.equal(shape(e), '(INV((foo+bar))+baz)');
  if (e.type !== 'BinaryExpr' || e.lhs.type !== 'StepInvariantExpr' || e.lhs.expr.type !== 'BinaryExpr') throw new Error('shape');
  assert.equal((e.lhs.expr.lhs as VectorSelector).timestamp, 10_000);
  assert.equal((e.lhs.expr.rhs as VectorSelector).timestamp, 70_000);
});

test('start(), end(), range() and step() fold to numbers', () => {
  const e = prep('end() - start() + range() + step()', 10_000, 70_000, 5_000);
  assert.equal(shape(e), 'INV((((70-10)+60)+5))');
  assert.equal(shape(prep('foo * step()', 10_000, 10_000, 0)), '(foo*0)');
});

test('duration expressions resolve to milliseconds and reject bad values', () => {
  const e = prep('foo[2 * 30s] offset -(1m)', 0, 0, 0);
  const ms = e.type === 'MatrixSelector' ? e : null;
  assert.ok(ms !== null);
  assert.equal(ms.range, 60_000);
  assert.equal(ms.vectorSelector.originalOffset, -60_000);
  const sq = prep('foo[10m:step()]', 0, 600_000, 30_000);
  assert.ok(sq.type === 'SubqueryExpr' && sq.step === 30_000);
  assert.throws(() => prep('foo[step()]', 0, 0, 0), (err: unknown) => err instanceof EvalError && /duration must be greater than 0/.test(err.message));
});

test('selector time ranges include lookback, ranges, offsets and subqueries', () => {
  const e = parseExpr('max_over_time(rate(foo[5m] offset 1m)[10m:1m]) + bar');
  const vs = selectors(e);
  assert.equal(vs.length, 2);
  const foo = vs[0]!;
  const r = selectorTimeRange(1_000_000, 2_000_000, 300_000, foo.vs, foo.path, foo.rangeMs);
  // start - subquery range - range + 1ms - offset; end - offset.
  assert.deepEqual(r, { start: 1_000_000 - 600_000 - 300_000 + 1 - 60_000, end: 2_000_000 - 60_000 });
  const bar = vs[1]!;
  assert.deepEqual(selectorTimeRange(1_000_000, 2_000_000, 300_000, bar.vs, bar.path, 0), { start: 700_001, end: 2_000_000 });
  assert.deepEqual(subqueryTimes(foo.path), { offset: 0, range: 600_000, ts: null });
});

test('@ becomes an offset relative to the evaluation start', () => {
  const e = parseExpr('foo @ 100 offset 10s');
  setOffsetForAtModifier(1_000_000, e);
  const vs = e as VectorSelector;
  assert.equal(vs.offset, 10_000 + 1_000_000 - 100_000);
});
