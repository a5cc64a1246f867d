import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { VectorSelector } from './ast.js';
import { parseExpr } from './parser.js';
import { exprToString, prettify } from './printer.js';
import { Matcher, MatchType } from '../../model/matcher.js';

const ALL = new Set([
  'promql-experimental-functions',
  'promql-duration-expr',
  'promql-extended-range-selectors',
  'promql-binop-fill-modifiers',
]);

const canonical = (q: string): string => exprToString(parseExpr(q, { features: ALL }));

describe('exprToString', () => {
  const cases: Array<[string, string]> = [
    // Aggregations: the modifier goes first, empty `by` disappears.
    ['sum(x) without(a,b)', 'sum without (a, b) (x)'],
    ['SUM BY(a)(x)', 'sum by (a) (x)'],
    ['topk(5,x)', 'topk(5, x)'],
    ['count_values("v",x) by ("a-b")', 'count_values by ("a-b") ("v", x)'],
    // Binary operators and matching.
    ['a+b', 'a + b'],
    ['a>bool b', 'a > bool b'],
    ['a * on(x) group_left(y) b', 'a * on (x) group_left (y) b'],
    ['a * on(x) group_left b', 'a * on (x) group_left () b'],
    ['a * ignoring() group_right b', 'a * ignoring () group_right () b'],
    ['a OR b AND c UNLESS d', 'a or b and c unless d'],
    ['a atan2 b', 'a atan2 b'],
    ['a >/ 0.5', 'a >/ 0.5'],
    // Selectors: matchers sorted, name matcher folded into the name.
    ['foo{z="1", a="2"}', 'foo{a="2",z="1"}'],
    ['{__name__="foo"}', '{__name__="foo"}'],
    ['{__name__="foo", a="b"}', '{__name__="foo",a="b"}'],
    ['foo{a=~"x|y", b!~`\\d+`}', 'foo{a=~"x|y",b!~"\\\\d+"}'],
    ['{"label with space"="v", x="a\\nb"}', '{"label with space"="v",x="a\\nb"}'],
    ['foo[1h30m]', 'foo[1h30m]'],
    ['foo[90s]', 'foo[1m30s]'],
    ['foo[7d]', 'foo[1w]'],
    ['foo[8d]', 'foo[8d]'],
    ['foo[365d]', 'foo[1y]'],
    ['foo[1500ms]', 'foo[1s500ms]'],
    ['foo[0.5]', 'foo[500ms]'],
    ['foo offset 0s', 'foo'],
    ['foo @ 1', 'foo @ 1.000'],
    ['foo @ -1.0005', 'foo @ -1.001'],
    ['foo offset -1h @ end()', 'foo @ end() offset -1h'],
    ['foo[5m] offset 1m @ start()', 'foo[5m] @ start() offset 1m'],
    ['(foo)[5m:]', '(foo)[5m:]'],
    ['foo[5m:10s] @ 3 offset 2m', 'foo[5m:10s] @ 3.000 offset 2m'],
    // Literals.
    ['1e21', '1000000000000000000000'],
    ['1e-7', '0.0000001'],
    ['0.1 + 0.2', '0.1 + 0.2'],
    ['-0', '-0'],
    ['+5', '5'],
    ['-(5)', '-(5)'],
    ['inf', '+Inf'],
    ['-Inf', '-Inf'],
    ['nan', 'NaN'],
    // Before ^, +Inf prints as Inf: `+Inf ^ 2` would parse back as +(Inf ^ 2).
    ['Inf ^ 2', 'Inf ^ 2'],
    ['-Inf ^ 2', '-Inf ^ 2'],
    ['2 ^ Inf', '2 ^ +Inf'],
    ['5m', '5m'],
    ['-5m', '-5m'],
    ["'sïngle \"q\"'", '"sïngle \\"q\\""'],
    ['"\\u00a0\\x7f\\x00"', '"\\u00a0\\x7f\\x00"'],
    ['`\\`', '"\\\\"'],
    // Functions and parentheses.
    ['rate( x [5m] )', 'rate(x[5m])'],
    ['((a))', '((a))'],
    ['label_replace(up, "a", "$1", "b", "(.*)")', 'label_replace(up, "a", "$1", "b", "(.*)")'],
    // Duration expressions.
    ['foo[(1m+2m)*3]', 'foo[(1m + 2m) * 3]'],
    ['foo[1h:(30s)]', 'foo[1h:(30s)]'],
    ['foo offset -(2m)', 'foo offset -(2m)'],
  ];
  for (const [q, want] of cases) {
    test(q, () => {
      const out = canonical(q);
      assert.equal(out, want);
      // The canonical form is a fixed point.
      assert.equal(canonical(out), out);
    });
  }

  test('a selector built by hand prints like Prometheus', () => {
    const vs: VectorSelector = {
      type: 'VectorSelector',
      name: '',
      matchers: [Matcher.create(MatchType.Equal, '__name__', ''), Matcher.create(MatchType.Equal, 'a', 'x')],
      originalOffset: 0,
      offset: 0,
      timestamp: null,
      startOrEnd: null,
      posRange: { start: 0, end: 0 },
    };
    assert.equal(exprToString(vs), '{__name__="",a="x"}');
  });
});

describe('prettify', () => {
  test('short expressions stay on one line', () => {
    const q = 'sum by (job) (rate(http_requests_total[5m]))';
    assert.equal(prettify(parseExpr(q)), q);
  });

  test('long expressions split at the widest nodes, two spaces per level', () => {
    const q =
      'sum by (job, instance) (rate(http_requests_total{job="api-server", handler="/api/v1/query"}[5m])) / on (job) group_left sum by (job) (up{job="api-server"})';
    assert.equal(
      prettify(parseExpr(q)),
      [
        '  sum by (job, instance) (rate(http_requests_total{handler="/api/v1/query",job="api-server"}[5m]))',
        '/ on (job) group_left ()',
        '  sum by (job) (up{job="api-server"})',
      ].join('\n'),
    );
    const h =
      'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="api-server", code=~"2.."}[5m])))';
    assert.equal(
      prettify(parseExpr(h)),
      [
        'histogram_quantile(',
        '  0.99,',
        '  sum by (le) (rate(http_request_duration_seconds_bucket{code=~"2..",job="api-server"}[5m]))',
        ')',
      ].join('\n'),
    );
  });

  test('narrow widths split every level', () => {
    assert.equal(
      prettify(parseExpr('sum without (a) (rate(foo[5m]) + bar)'), 10),
      ['sum without (a) (', '    rate(', '      foo[5m]', '    )', '  +', '    bar', ')'].join('\n'),
    );
    assert.equal(prettify(parseExpr('topk(3, -foo_bar_baz)'), 10), ['topk(', '  3,', '  -foo_bar_baz', ')'].join('\n'));
    assert.equal(
      prettify(parseExpr('(foo_bar + baz_qux)[5m:]'), 10),
      ['(', '    foo_bar', '  +', '    baz_qux', ')[5m:]'].join('\n'),
    );
  });

  test('the prettified form parses back to the same canonical form', () => {
    const q = 'sum by (job) (rate(http_requests_total{job="api-server", handler="/api/v1/query"}[5m])) > on (job) 10 * avg(up)';
    const pretty = prettify(parseExpr(q), 20);
    assert.ok(pretty.includes('\n'));
    assert.equal(exprToString(parseExpr(pretty)), exprToString(parseExpr(q)));
  });
});
