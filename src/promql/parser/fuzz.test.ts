// Property tests: whatever the input, the parser either returns a tree or
// throws a ParseError, and whatever it accepts prints to a fixed point.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ParseError } from './errors.js';
import { parseExpr } from './parser.js';
import { exprToString, prettify } from './printer.js';

const ALL = new Set([
  'promql-experimental-functions',
  'promql-duration-expr',
  'promql-extended-range-selectors',
  'promql-binop-fill-modifiers',
]);

/** Parses, and on success checks that printing is stable; any failure must be a ParseError. */
function check(input: string): void {
  let printed: string;
  try {
    printed = exprToString(parseExpr(input, { features: ALL }));
  } catch (e) {
    if (!(e instanceof ParseError)) throw new Error(`non-ParseError for ${JSON.stringify(input)}: ${String(e)}`);
    return;
  }
  const again = parseExpr(printed, { features: ALL });
  assert.equal(exprToString(again), printed, `printing ${JSON.stringify(input)} is not a fixed point`);
  assert.equal(exprToString(parseExpr(prettify(again, 30), { features: ALL })), printed);
}

const TOKENS = [
  'sum', 'rate', 'foo', 'bar:baz', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset',
  '@', 'start()', 'end()', 'step()', 'range()', 'min_of', 'anchored', 'smoothed', 'fill', 'fill_left(1)', 'topk',
  'count_values', 'quantile', 'label_replace', 'histogram_quantile', 'info', 'and', 'or', 'unless', 'atan2',
  '+', '-', '*', '/', '%', '^', '==', '!=', '<', '>', '<=', '>=', '</', '>/', '=', '=~', '!~', '(', ')', '{', '}',
  '[', ']', ',', ':', '1', '0.5', '1e3', '0x1f', 'Inf', 'NaN', '5m', '1h30m', '"a"', "'b'", '`c`', '"\\x"', '#',
  '\n', 'a="b"', '"x.y"', '[5m]', '[1h:1m]',
];

test('random input never throws anything but ParseError', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), check), { numRuns: 1000 });
});

test('random PromQL-ish characters never throw anything but ParseError', () => {
  const chars = fc.constantFrom(...'()[]{}+-*/%^=!~<>@,:"\'`#.\\_ \n0123456789eExsmhdwyabfo'.split(''));
  fc.assert(fc.property(fc.string({ unit: chars, maxLength: 120 }), check), { numRuns: 2000 });
});

test('token soup never throws anything but ParseError', () => {
  const soup = fc
    .array(fc.constantFrom(...TOKENS), { maxLength: 40 })
    .chain((toks) => fc.array(fc.constantFrom('', ' '), { minLength: toks.length, maxLength: toks.length }).map((seps) => toks.map((t, i) => t + seps[i]).join('')));
  fc.assert(fc.property(soup, check), { numRuns: 3000 });
});

test('inputs up to 1 KiB', () => {
  const soup = fc.array(fc.constantFrom(...TOKENS), { minLength: 100, maxLength: 300 }).map((t) => t.join(' ').slice(0, 1024));
  fc.assert(fc.property(soup, check), { numRuns: 200 });
});

/** Valid PromQL, built from a small grammar: instant vectors and scalars with correct types. */
const validQuery = fc.letrec<{ vec: string; scalar: string; sel: string; dur: string }>((tie) => ({
  dur: fc.constantFrom('5m', '1h30m', '90s', '1d', '250ms', '60'),
  sel: fc
    .tuple(
      fc.constantFrom('up', 'http_requests_total', 'job:rate5m', 'sum', 'by'),
      fc.array(fc.tuple(fc.constantFrom('job', 'instance', '"a.b"'), fc.constantFrom('=', '!=', '=~', '!~'), fc.constantFrom('"x"', "'y.*'", '`z|w`')), { maxLength: 3 }),
    )
    .map(([n, ms]) => (ms.length === 0 ? n : `${n}{${ms.map(([l, o, v]) => l + o + v).join(', ')}}`)),
  scalar: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('1', '0.5', '-2', '1e3', '0x10', 'Inf', '5m', 'time()', 'pi()'),
    fc.tuple(tie('scalar'), fc.constantFrom('+', '-', '*', '/', '%', '^', '== bool', 'atan2'), tie('scalar')).map(([a, o, b]) => `${a} ${o} ${b}`),
    tie('scalar').map((x) => `(${x})`),
    tie('scalar').map((x) => `-${x}`),
    tie('vec').map((x) => `scalar(${x})`),
  ),
  vec: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('sel'),
    fc.tuple(tie('sel'), tie('dur')).map(([s, d]) => `${s} offset -${d}`),
    fc.tuple(tie('sel'), fc.constantFrom('@ 100', '@ start()', '@ end()')).map(([s, a]) => `${s} ${a}`),
    fc.tuple(fc.constantFrom('rate', 'increase', 'max_over_time'), tie('sel'), tie('dur')).map(([f, s, d]) => `${f}(${s}[${d}])`),
    fc.tuple(fc.constantFrom('sum', 'avg', 'count'), fc.constantFrom('', ' by (job)', ' without (instance, "a.b")'), tie('vec')).map(([a, g, v]) => `${a}${g} (${v})`),
    fc.tuple(tie('scalar'), tie('vec')).map(([k, v]) => `topk(${k}, ${v})`),
    fc.tuple(tie('vec'), fc.constantFrom('+', '-', '/', '>', 'and', 'or', 'unless', '> bool'), tie('vec')).map(([a, o, b]) => `${a} ${o} ${b}`),
    // Operands of vector matching are parenthesised: precedence could otherwise pair a scalar with on().
    fc.tuple(tie('vec'), fc.constantFrom('+ on (job)', '* ignoring (a) group_left (b)', 'and on ()'), tie('vec')).map(([a, o, b]) => `(${a}) ${o} (${b})`),
    fc.tuple(tie('vec'), fc.constantFrom('*', '<', '^'), tie('scalar')).map(([a, o, b]) => `${a} ${o} ${b}`),
    tie('vec').map((x) => `(${x})`),
    tie('vec').map((x) => `-${x}`),
    fc.tuple(tie('vec'), tie('dur')).map(([v, d]) => `max_over_time((${v})[${d}:])`),
    fc.tuple(tie('vec'), tie('dur'), tie('dur')).map(([v, r, st]) => `avg_over_time((${v})[${r}:${st}] offset ${r})`),
    tie('vec').map((x) => `abs(${x})`),
  ),
})).vec;

test('valid queries parse, and print to a fixed point', () => {
  fc.assert(
    fc.property(validQuery, (q) => {
      const printed = exprToString(parseExpr(q));
      assert.equal(exprToString(parseExpr(printed)), printed, q);
      assert.equal(exprToString(parseExpr(prettify(parseExpr(q), 40))), printed, q);
    }),
    { numRuns: 1500 },
  );
});

test('10,000 nested parentheses give a clear ParseError', () => {
  for (const q of ['('.repeat(10_000) + 'x' + ')'.repeat(10_000), '('.repeat(10_000)]) {
    assert.throws(
      () => parseExpr(q),
      (e: unknown) => e instanceof ParseError && /nesting exceeds the maximum depth/.test(e.message),
    );
  }
});
