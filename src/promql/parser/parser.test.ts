import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AggregateExpr, BinaryExpr, Call, Expr, MatrixSelector, NumberLiteral, SubqueryExpr, VectorSelector } from './ast.js';
import { ParseError } from './errors.js';
import {
  exprType,
  FEATURE_BINOP_FILL_MODIFIERS,
  FEATURE_DURATION_EXPR,
  FEATURE_EXPERIMENTAL_FUNCTIONS,
  FEATURE_EXTENDED_RANGE_SELECTORS,
  MAX_EXPR_DEPTH,
  parseExpr,
  parseMetricSelector,
} from './parser.js';
import { exprToString } from './printer.js';

const ALL = new Set([
  FEATURE_EXPERIMENTAL_FUNCTIONS,
  FEATURE_DURATION_EXPR,
  FEATURE_EXTENDED_RANGE_SELECTORS,
  FEATURE_BINOP_FILL_MODIFIERS,
]);

/** A compact tree form: binary and unary nodes as (op a b), everything else printed. */
function tree(e: Expr): string {
  switch (e.type) {
    case 'BinaryExpr':
      return `(${e.op}${e.returnBool ? ' bool' : ''} ${tree(e.lhs)} ${tree(e.rhs)})`;
    case 'UnaryExpr':
      return `(${e.op} ${tree(e.expr)})`;
    case 'ParenExpr':
      return `[${tree(e.expr)}]`;
    default:
      return exprToString(e);
  }
}

function parseAll(q: string): Expr {
  return parseExpr(q, { features: ALL });
}

function parseError(q: string, features: ReadonlySet<string> = ALL): ParseError {
  try {
    parseExpr(q, { features });
  } catch (e) {
    assert.ok(e instanceof ParseError, `expected a ParseError for ${q}, got ${String(e)}`);
    return e;
  }
  assert.fail(`expected ${JSON.stringify(q)} to fail`);
}

/** Asserts the error text and the span it points at, given as the text it covers. */
function assertError(q: string, detail: string, at?: string | [number, number], features: ReadonlySet<string> = ALL): void {
  const e = parseError(q, features);
  assert.equal(e.detail, detail, `message for ${q}`);
  if (Array.isArray(at)) assert.deepEqual([e.posRange.start, e.posRange.end], at, `span for ${q}`);
  else if (at !== undefined) assert.equal(q.slice(e.posRange.start, e.posRange.end), at, `span for ${q}`);
}

describe('precedence and associativity', () => {
  const cases: Array<[string, string]> = [
    ['1 + 2 * 3', '(+ 1 (* 2 3))'],
    ['1 * 2 + 3', '(+ (* 1 2) 3)'],
    ['1 - 2 - 3', '(- (- 1 2) 3)'],
    ['8 / 4 / 2', '(/ (/ 8 4) 2)'],
    ['2 ^ 3 ^ 2', '(^ 2 (^ 3 2))'],
    ['2 * 3 ^ 2', '(* 2 (^ 3 2))'],
    ['a % b atan2 c', '(atan2 (% a b) c)'],
    ['a + b > c', '(> (+ a b) c)'],
    ['a > b and c', '(and (> a b) c)'],
    ['a and b or c', '(or (and a b) c)'],
    ['a or b and c', '(or a (and b c))'],
    ['a unless b and c', '(and (unless a b) c)'],
    ['a or b or c', '(or (or a b) c)'],
    ['a == b != c', '(!= (== a b) c)'],
    ['a </ 2 + 1', '(</ a (+ 2 1))'],
    ['(1 + 2) * 3', '(* [(+ 1 2)] 3)'],
    // Unary minus binds tighter than * but looser than ^.
    ['-a * b', '(* (- a) b)'],
    ['-a ^ b', '(- (^ a b))'],
    ['a ^ -b', '(^ a (- b))'],
    ['a * -b + c', '(+ (* a (- b)) c)'],
    ['- - a', '(- (- a))'],
    ['+a', '(+ a)'],
    // Modifiers attach to the nearest selector.
    ['a + b offset 5m', '(+ a b offset 5m)'],
    ['-a offset 1m', '(- a offset 1m)'],
    ['a ^ b @ 10', '(^ a b @ 10.000)'],
    ['a * b offset 1m @ 10', '(* a b @ 10.000 offset 1m)'],
  ];
  for (const [q, want] of cases) {
    test(q, () => assert.equal(tree(parseAll(q)), want));
  }

  test('comparison with bool returns scalar between scalars', () => {
    const e = parseAll('1 < bool 2') as BinaryExpr;
    assert.equal(e.returnBool, true);
    assert.equal(exprType(e), 'scalar');
    assert.equal(e.matching, null);
  });
});

describe('number literals', () => {
  const cases: Array<[string, number]> = [
    ['1', 1],
    ['.5', 0.5],
    ['5.', 5],
    ['123.4567', 123.4567],
    ['5e-3', 0.005],
    ['1E3', 1000],
    ['0x1F', 31],
    ['0X_ff', 255],
    ['010', 8], // a leading zero means octal, as in Go
    ['09', 9], // not octal: falls back to a float
    ['1_000', 1000],
    ['1_000.5', 1000.5],
    ['-7', -7],
    ['--7', 7],
    ['+Inf', Infinity],
    ['-inf', -Infinity],
    ['INF', Infinity],
    ['99999999999999999999', 1e20],
  ];
  for (const [q, want] of cases) {
    test(q, () => {
      const e = parseAll(q) as NumberLiteral;
      assert.equal(e.type, 'NumberLiteral');
      assert.equal(e.val, want);
      assert.equal(e.duration, undefined);
    });
  }

  test('NaN', () => assert.ok(Number.isNaN((parseAll('NaN') as NumberLiteral).val)));

  test('a negative literal is one node spanning the sign', () => {
    const e = parseAll('  -1.5') as NumberLiteral;
    assert.deepEqual(e.posRange, { start: 2, end: 6 });
    assert.equal(e.val, -1.5);
  });

  test('durations are numbers of seconds that remember their form', () => {
    const e = parseAll('1h30m') as NumberLiteral;
    assert.equal(e.val, 5400);
    assert.equal(e.duration, true);
    assert.equal(exprToString(e), '1h30m');
    assert.equal(exprToString(parseAll('-90s')), '-1m30s');
    assert.equal((parseAll('250ms') as NumberLiteral).val, 0.25);
    assert.equal(tree(parseAll('rate(x[5m]) > 5m')), '(> rate(x[5m]) 5m)');
  });

  test('bad numbers', () => {
    assertError('2.5.', 'bad number or duration syntax: "2.5."', [0, 4]);
    assertError('0deadbeef', 'bad number or duration syntax: "0de"', [0, 9]);
    assertError('1e', 'bad number or duration syntax: "1e"', [0, 2]);
    assertError('5mm', 'bad number or duration syntax: "5mm"', [0, 3]);
    assertError('1__0', 'bad number or duration syntax: "1__"', [0, 4]);
    assertError('1e999', 'error parsing number: strconv.ParseFloat: parsing "1e999": value out of range', '1e999');
    assertError(
      '0xffffffffffffffffff',
      'error parsing number: strconv.ParseFloat: parsing "0xffffffffffffffffff": invalid syntax',
      '0xffffffffffffffffff',
    );
    assertError('.', "unexpected character: '.'", [0, 1]);
  });

  test('bad durations', () => {
    assertError('5m1h', 'not a valid duration string: "5m1h"', '5m1h');
    assertError('5y1hs', 'unknown unit "hs" in duration "5y1hs"', '5y1hs');
    assertError('1m1m', 'not a valid duration string: "1m1m"', '1m1m');
    assertError('300y', 'duration out of range', '300y');
  });
});

describe('string literals', () => {
  const cases: Array<[string, string]> = [
    ['"double"', 'double'],
    ["'single'", 'single'],
    ['`raw \\n "x"`', 'raw \\n "x"'],
    ['"esc \\" \\\\ \\n \\t"', 'esc " \\ \n \t'],
    ["'it\\'s'", "it's"],
    ['"\\x41\\101\\u00e9\\U0001F600"', 'AAé😀'],
    ['"\\xc3\\xa9"', 'é'],
    ['"ünïcödé ☺"', 'ünïcödé ☺'],
  ];
  for (const [q, want] of cases) {
    test(q, () => {
      const e = parseAll(q);
      assert.equal(e.type, 'StringLiteral');
      assert.equal(e.type === 'StringLiteral' && e.val, want);
    });
  }

  test('raw bytes that are not UTF-8 survive as escapes', () => {
    const e = parseAll('"a\\xffb"');
    assert.equal(exprToString(e), '"a\\xffb"');
  });

  test('string errors', () => {
    assertError('"abc', 'unterminated quoted string', [0, 4]);
    assertError('"a\nb"', 'unterminated quoted string', [0, 5]);
    assertError('`abc', 'unterminated raw string', [0, 4]);
    assertError('"\\', 'escape sequence not terminated', [0, 2]);
    assertError('"\\c"', "unknown escape sequence U+0063 'c'", [0, 4]);
    assertError('"\\x4g"', "illegal character U+0067 'g' in escape sequence", [0, 6]);
    assertError('"\\uD800"', 'escape sequence is an invalid Unicode code point', [0, 8]);
    assertError("'\\\"'", 'unknown escape sequence U+0022 \'"\'', [0, 4]);
    assertError('"a\uFFFDb"', 'invalid UTF-8 rune', [0, 5]);
  });
});

describe('vector selectors', () => {
  test('name and matchers', () => {
    const e = parseAll('foo{a="b", c!="d", e=~"f.*", g!~"h",}') as VectorSelector;
    assert.equal(e.name, 'foo');
    assert.deepEqual(
      e.matchers.map((m) => [m.name, m.type, m.value]),
      [
        ['a', '=', 'b'],
        ['c', '!=', 'd'],
        ['e', '=~', 'f.*'],
        ['g', '!~', 'h'],
        ['__name__', '=', 'foo'],
      ],
    );
    assert.deepEqual(e.posRange, { start: 0, end: 37 });
    assert.equal(exprToString(e), 'foo{a="b",c!="d",e=~"f.*",g!~"h"}');
  });

  test('metric names with colons, and keywords as metric names', () => {
    assert.equal((parseAll('job:rate5m:sum') as VectorSelector).name, 'job:rate5m:sum');
    for (const kw of ['by', 'offset', 'and', 'sum', 'start', 'step', 'anchored', 'without', 'Inf_x']) {
      assert.equal((parseAll(kw) as VectorSelector).name, kw, kw);
    }
    // After an operator, `on` starts vector matching rather than naming a metric.
    assertError('sum + on', 'unexpected end of input in grouping opts, expected "("', [8, 8]);
  });

  test('UTF-8 names in quotes', () => {
    const e = parseAll('{"my.metric", "label.x"="v", \'other\'=~"x"}') as VectorSelector;
    assert.equal(e.name, '');
    assert.deepEqual(
      e.matchers.map((m) => [m.name, m.type, m.value]),
      [
        ['__name__', '=', 'my.metric'],
        ['label.x', '=', 'v'],
        ['other', '=~', 'x'],
      ],
    );
    assert.equal(exprToString(e), '{"label.x"="v",__name__="my.metric",other=~"x"}');
    assert.equal(exprToString(parseAll('sum by ("a.b", c) ({"my.metric"})')), 'sum by ("a.b", c) ({__name__="my.metric"})');
    assert.equal(exprToString(parseAll('a / on("ä") group_left("ö") b')), 'a / on ("ä") group_left ("ö") b');
  });

  test('a quoted name cannot stand before the braces', () => {
    assertError('"my.metric"{a="b"}', 'unexpected "{"', '{');
  });

  test('comments are ignored, also inside braces', () => {
    assert.equal(exprToString(parseAll('foo{ # a comment\n a="b"} # trailing')), 'foo{a="b"}');
  });

  test('selector errors', () => {
    assertError('{}', 'vector selector must contain at least one non-empty matcher', '{}');
    assertError('{a=~".*", b!="x"}', 'vector selector must contain at least one non-empty matcher');
    assertError('foo{__name__="bar"}', 'metric name must not be set twice: "foo" or "bar"', 'foo{__name__="bar"}');
    assertError('foo{a=b}', 'unexpected identifier "b" in label matching, expected string', 'b');
    assertError('foo{a}', 'unexpected "}" in label matching, expected label matching operator', '}');
    assertError('foo{,}', 'unexpected "," in label matching, expected identifier or "}"', ',');
    assertError('foo{a="b" c="d"}', 'unexpected identifier "c" in label matching, expected "," or "}"', 'c');
    assertError('foo{"a"=}', 'unexpected "}" in label matching, expected string', '}');
    assertError('foo{a="1" "b"}', 'unexpected string "\\"b\\"" in label matching, expected "," or "}"', '"b"');
    assertError('foo{a:b="c"}', "unexpected character inside braces: ':'", [5, 12]);
    assertError('foo{a!b}', "unexpected character after '!' inside braces: 'b'", [5, 8]);
    assertError('foo{{', "unexpected left brace '{'", [4, 5]);
    assertError('foo{a="b"', 'unexpected end of input inside braces', [9, 9]);
    assertError('}', "unexpected character: '}'", [0, 1]);
  });

  test('an invalid regex is a parse error naming the regex', () => {
    const e = parseError('foo{a=~"(x"}');
    assert.match(e.detail, /"\(x"/);
    assert.equal(e.query.slice(e.posRange.start, e.posRange.end), 'a=~"(x"');
  });
});

describe('range selectors, subqueries and modifiers', () => {
  test('range selector', () => {
    const e = parseAll('foo[5m]') as MatrixSelector;
    assert.equal(e.type, 'MatrixSelector');
    assert.equal(e.range, 300_000);
    assert.equal(e.vectorSelector.name, 'foo');
    assert.equal(parseAll('foo[90]').type === 'MatrixSelector' && (parseAll('foo[90]') as MatrixSelector).range, 90_000);
  });

  test('offset, negative offset and @', () => {
    const a = parseAll('foo offset 1h30m') as VectorSelector;
    assert.equal(a.originalOffset, 5_400_000);
    assert.equal(a.offset, 5_400_000);
    const b = parseAll('foo[5m] offset -2m @ 1700000000.5') as MatrixSelector;
    assert.equal(b.vectorSelector.originalOffset, -120_000);
    assert.equal(b.vectorSelector.timestamp, 1_700_000_000_500);
    assert.equal(exprToString(b), 'foo[5m] @ 1700000000.500 offset -2m');
    const c = parseAll('foo @ start()') as VectorSelector;
    assert.equal(c.startOrEnd, 'start');
    assert.equal(exprToString(parseAll('foo @ end() offset 5s')), 'foo @ end() offset 5s');
    assert.equal((parseAll('foo @ 5m') as VectorSelector).timestamp, 300_000);
  });

  test('subqueries with and without step', () => {
    const a = parseAll('rate(foo[1m])[1h:5m] offset 10m') as SubqueryExpr;
    assert.equal(a.range, 3_600_000);
    assert.equal(a.step, 300_000);
    assert.equal(a.originalOffset, 600_000);
    const b = parseAll('max_over_time((a + b)[30m:])') as Call;
    const sq = b.args[0] as SubqueryExpr;
    assert.equal(sq.step, 0);
    assert.equal(exprToString(b), 'max_over_time((a + b)[30m:])');
    assert.equal(exprToString(parseAll('foo[1h:1m] @ 100')), 'foo[1h:1m] @ 100.000');
  });

  test('modifier errors', () => {
    assertError('1 offset 1d', 'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery', '1');
    assertError('foo offset 1s offset 2s', 'offset may not be set multiple times', 'foo offset 1s');
    assertError('foo offset 1m[5m]', 'no offset modifiers allowed before range', '[5m]');
    assertError('foo @ 1 [5m]', 'no @ modifiers allowed before range', '[5m]');
    assertError('(a + b)[5m]', 'ranges only allowed for vector selectors', '[5m]');
    assertError('foo @ 1 @ 2', '@ <timestamp> may not be set multiple times', 'foo @ 1');
    assertError('sum(foo) @ 1', '@ modifier must be preceded by an instant vector selector or range vector selector or a subquery', 'sum(foo)');
    assertError('foo @ Inf', 'timestamp out of bounds for @ modifier: +Inf', 'foo');
    assertError('foo @ 1e19', 'timestamp out of bounds for @ modifier: 10000000000000000000.000000', 'foo');
    assertError('foo offset', 'unexpected end of input in offset, expected number, duration, step(), or range()', [10, 10]);
    assertError('foo offset bar', 'unexpected identifier "bar" in offset, expected number, duration, step(), or range()', 'bar');
    assertError('foo @', 'unexpected end of input in @, expected timestamp', [5, 5]);
    assertError('foo @ start(1)', 'unexpected number "1" in @, expected timestamp', '1');
    assertError('foo[0s]', 'duration must be greater than 0', '0s');
    assertError('foo[-1m]', 'duration must be greater than 0', '-1m');
    assertError('foo[]', 'unexpected "]" in subquery or range selector, expected number, duration, step(), or range()', ']');
    assertError('foo[5m 1m]', 'unexpected duration "1m" in subquery or range, expected ":" or "]"', '1m');
    assertError('foo[5m:1m 2m]', 'unexpected duration "2m" in subquery selector, expected "]"', '2m');
    assertError('foo[5m x]', "unexpected character: 'x', expected ':'", [7, 9]);
    assertError('foo[5m:1m:]', "unexpected colon ':'", [9, 11]);
    // The lexer remembers any earlier duration, as Prometheus's does.
    assertError('a[1m] + foo[step():step():]', 'unexpected repeated colon in duration expression', [26, 27]);
    assertError('foo["5m"]', 'unexpected character in duration expression: \'"\'', [4, 9]);
    assertError('foo[5m', 'unclosed left bracket', [6, 6]);
    assertError('foo[', 'unexpected end of input in duration expression', [4, 4]);
    assertError('foo[5m [', "unexpected left bracket '['", [7, 8]);
    assertError('foo[5m][[', "unexpected character in duration expression: '['", [8, 9]);
    assertError('foo]', "unexpected right bracket ']'", [3, 4]);
    assertError('foo[9.5e10]', 'duration out of range', '9.5e10');
    assertError('test[5d] offset 10s [10m:5s]', 'subquery is only allowed on instant vector, got matrix instead');
  });
});

describe('binary operators and vector matching', () => {
  test('matching modifiers', () => {
    const e = parseAll('a * on (x, y) group_left (z) b') as BinaryExpr;
    assert.deepEqual(e.matching, { card: 'many-to-one', matchingLabels: ['x', 'y'], on: true, include: ['z'] });
    const f = parseAll('a / ignoring(x) group_right b') as BinaryExpr;
    assert.deepEqual(f.matching, { card: 'one-to-many', matchingLabels: ['x'], on: false, include: [] });
    assert.equal(exprToString(f), 'a / ignoring (x) group_right () b');
    const g = parseAll('a and b') as BinaryExpr;
    assert.equal(g.matching!.card, 'many-to-many');
    assert.equal((parseAll('a + 1') as BinaryExpr).matching, null);
    assert.equal(exprToString(parseAll('a > bool on() b')), 'a > bool on () b');
    assert.equal(exprToString(parseAll('a - ignoring() b')), 'a - b');
  });

  test('keywords may be grouping labels', () => {
    const e = parseAll('sum by (sum, offset, on, bool, start) (a)') as AggregateExpr;
    assert.deepEqual(e.grouping, ['sum', 'offset', 'on', 'bool', 'start']);
  });

  test('binary errors', () => {
    assertError('1 == 1', 'comparisons between scalars must use BOOL modifier', '=');
    assertError('a + bool b', 'bool modifier can only be used on comparison operators', [2, 7]);
    assertError('1 and 1', 'set operator "and" not allowed in binary scalar expression', '1 and 1');
    assertError('a or 1', 'set operator "or" not allowed in binary scalar expression', 'a or 1');
    assertError('a + on(b) 1', 'vector matching only allowed between instant vectors', 'a + on(b) 1');
    assertError('a and on(b) group_left(c) d', 'no grouping allowed for "and" operation');
    assertError('a + on(b) group_left(b) c', 'label "b" must not occur in ON and GROUP clause at once', [2, 22]);
    assertError('a + b[5m]', 'binary expression must contain only scalar and instant vector types', 'b[5m]');
    assertError('"x" + 1', 'binary expression must contain only scalar and instant vector types', '"x"');
    assertError('a + group_left(b) c', 'unexpected <group_left>', 'group_left');
    assertError('a - on(b) ignoring(c) d', 'unexpected <ignoring>', 'ignoring');
    assertError('a + on b', 'unexpected identifier "b" in grouping opts, expected "("', 'b');
    assertError('a + on(b c) d', 'unexpected identifier "c" in grouping opts, expected "," or ")"', 'c');
    assertError('1 +', 'unexpected end of input', [3, 3]);
    assertError('*1', 'unexpected <op:*>', '*');
    assertError('1 !~ 1', "unexpected character after '!': '~'", [2, 6]);
    assertError('1 =~ 1', "unexpected character after '=': '~'", [2, 6]);
    assertError('a !', "unexpected character after '!': '\uFFFD'", [2, 3]);
    assertError('-"s"', 'unary expression only allowed on expressions of type scalar or instant vector, got "string"', '-"s"');
    assertError('-a[1m]', 'unary expression only allowed on expressions of type scalar or instant vector, got "range vector"', '-a[1m]');
  });
});

describe('aggregations', () => {
  test('modifier before or after the arguments', () => {
    const a = parseAll('sum by (a, b) (x)') as AggregateExpr;
    const b = parseAll('sum(x) by (a, b)') as AggregateExpr;
    assert.equal(exprToString(a), 'sum by (a, b) (x)');
    assert.equal(exprToString(b), 'sum by (a, b) (x)');
    assert.deepEqual(b.posRange, { start: 0, end: 16 });
    const c = parseAll('count without (a) (x)') as AggregateExpr;
    assert.equal(c.without, true);
    assert.equal(exprToString(parseAll('sum by () (x)')), 'sum(x)');
    assert.equal(exprToString(parseAll('sum without () (x)')), 'sum without () (x)');
    assert.equal(exprToString(parseAll('sum by (a,) (x)')), 'sum by (a) (x)');
  });

  test('parameters', () => {
    for (const q of ['topk(3, x)', 'bottomk(3, x)', 'quantile(0.5, x)', 'count_values("v", x)', 'limitk(2, x)', 'limit_ratio(0.5, x)']) {
      const e = parseAll(q) as AggregateExpr;
      assert.notEqual(e.param, null, q);
      assert.equal(exprToString(e), q);
    }
    for (const q of ['sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar']) {
      assert.equal((parseAll(`${q}(x)`) as AggregateExpr).op, q);
    }
  });

  test('aggregation errors', () => {
    assertError('sum()', 'no arguments for aggregate expression provided', 'sum()');
    assertError('topk(x)', 'wrong number of arguments for aggregate expression provided, expected 2, got 1', 'topk(x)');
    assertError('sum(x, y)', 'wrong number of arguments for aggregate expression provided, expected 1, got 2');
    assertError('topk(x, y)', 'expected type scalar in aggregation parameter, got instant vector', 'x');
    assertError('count_values(1, y)', 'expected type string in aggregation parameter, got scalar', '1');
    assertError('sum(x[5m])', 'expected type instant vector in aggregation expression, got range vector', 'x[5m]');
    assertError('sum(x y)', 'unexpected identifier "y" in aggregation', 'y');
    assertError('sum(rate(x y))', 'unexpected identifier "y" in aggregation', 'y');
    assertError('sum by (a) x', 'unexpected identifier "x" in aggregation', 'x');
    assertError('sum x', 'unexpected identifier "x"', 'x');
    assertError('sum(x) by (a) by (b)', 'unexpected <by>', [14, 16]);
    assertError('sum(x) by y', 'unexpected identifier "y" in grouping opts, expected "("', 'y');
    assertError('sum without(==)(x)', 'unexpected <op:==> in grouping opts, expected label', '==');
    assertError('sum by (a,,b) (x)', 'unexpected "," in grouping opts, expected label', [10, 11]);
    assertError('sum by ("") (x)', 'invalid label name for grouping: ""', '""');
    assertError('sum(x,)', 'trailing commas not allowed in function call args', ',');
    assertError('limitk(1, x)', 'limitk() is experimental and must be enabled with --enable-feature=promql-experimental-functions', 'limitk(1, x)', new Set());
  });
});

describe('functions', () => {
  test('calls and their types', () => {
    const e = parseAll('label_join(x, "dst", ",", "a", "b", "c")') as Call;
    assert.equal(e.func.name, 'label_join');
    assert.equal(e.args.length, 6);
    assert.equal(exprType(parseAll('time()')), 'scalar');
    assert.equal(exprType(parseAll('vector(1)')), 'vector');
    assert.equal(exprType(parseAll('1 + 1')), 'scalar');
    assert.equal(exprType(parseAll('foo + 1')), 'vector');
    assert.equal(exprType(parseAll('foo[5m]')), 'matrix');
    assert.equal(exprType(parseAll('"x"')), 'string');
    assert.equal(exprToString(parseAll('round(x, 5)')), 'round(x, 5)');
    assert.equal(exprToString(parseAll('hour()')), 'hour()');
  });

  test('function errors', () => {
    assertError('rate(x)', 'expected type range vector in call to function "rate", got instant vector', 'x');
    assertError('floor(1)', 'expected type instant vector in call to function "floor", got scalar', '1');
    assertError('floor()', 'expected 1 argument(s) in call to "floor", got 0', 'floor()');
    assertError('time(x)', 'expected 0 argument(s) in call to "time", got 1', 'time(x)');
    assertError('hour(a, b)', 'expected at most 1 argument(s) in call to "hour", got 2', 'hour(a, b)');
    assertError('label_join(a, "b")', 'expected at least 3 argument(s) in call to "label_join", got 2');
    assertError('label_join(a, "b", "c", "d", 1)', 'expected type string in call to function "label_join", got scalar', '1');
    assertError('no_such_fn()', 'unknown function with name "no_such_fn"', 'no_such_fn');
    assertError('Rate(x[1m])', 'unknown function with name "Rate"', 'Rate');
    assertError('f(a,)', 'trailing commas not allowed in function call args', ',');
    assertError('abs(a b)', 'unexpected identifier "b"', 'b');
    assertError('sort_by_label(x, "a")', 'function "sort_by_label" is not enabled', 'sort_by_label', new Set());
  });

  test('info() takes label selectors as its second argument', () => {
    assert.equal(exprToString(parseAll('info(x, {__name__=~".+_info"})')), 'info(x, {__name__=~".+_info"})');
    // An all-matching selector is allowed there.
    assert.equal(exprToString(parseAll('info(x, {a=~".*"})')), 'info(x, {a=~".*"})');
    assertError('info(x, target_info{a="b"})', 'expected label selectors only, got vector selector instead', 'target_info{a="b"}');
    assertError('info(x, {a="b"} == 1)', 'expected label selectors only', '{a="b"} == 1');
    assertError('info(x, 1)', 'expected type instant vector in call to function "info", got scalar', 'info(x, 1)');
  });
});

describe('feature flags', () => {
  const none = new Set<string>();
  test('experimental functions', () => {
    assertError('mad_over_time(x[5m])', 'function "mad_over_time" is not enabled', 'mad_over_time', none);
    assert.equal(parseExpr('mad_over_time(x[5m])', { features: new Set([FEATURE_EXPERIMENTAL_FUNCTIONS]) }).type, 'Call');
  });

  test('duration expressions', () => {
    const dur = new Set([FEATURE_DURATION_EXPR]);
    assertError('foo[5m + 1m]', 'experimental duration expression is not enabled', '5m', none);
    assertError('foo[(5m)]', 'experimental duration expression is not enabled', '5m', none);
    assertError('foo[step()]', 'experimental duration expression is not enabled', 'step()', none);
    assertError('foo offset -step()', 'experimental duration expression is not enabled', '-step()', none);
    const e = parseExpr('foo[5m * 2]', { features: dur }) as MatrixSelector;
    assert.equal(e.range, 0);
    assert.equal(tree(e.rangeExpr!), '(* 5m 2)');
    assert.equal(exprToString(e), 'foo[5m * 2]');
    // Plain numbers are ranges in seconds even without the feature.
    assert.equal((parseExpr('foo[60]', { features: none }) as MatrixSelector).range, 60_000);
    assert.equal(exprToString(parseExpr('foo offset -(5m)', { features: none })), 'foo offset -(5m)');
  });

  test('duration expression forms', () => {
    const cases: Array<[string, string]> = [
      ['foo[2m*(10+5)]', 'foo[2m * (10 + 5)]'],
      ['foo[((1m))]', 'foo[(1m)]'],
      ['foo[-5m + 10m]', 'foo[-5m + 10m]'],
      ['foo[2^3s]', 'foo[2 ^ 3s]'],
      ['foo[1h:step()*2]', 'foo[1h:step() * 2]'],
      ['foo[min_of(step()+1,1h)]', 'foo[min_of(step() + 1, 1h)]'],
      ['foo offset range()', 'foo offset range()'],
      ['foo offset max_of(1m, 2m)', 'foo offset max_of(1m, 2m)'],
      ['foo offset (1m) + 1m', 'foo offset (1m) + 1m'],
      ['foo offset -(1m + 1s)', 'foo offset -(1m + 1s)'],
      ['foo offset +step()', 'foo offset step()'],
    ];
    for (const [q, want] of cases) assert.equal(exprToString(parseAll(q)), want, q);
    // A plain offset ends before a following operator; a parenthesised one extends over it.
    assert.equal(tree(parseAll('foo offset 5m + 1m')), '(+ foo offset 5m 1m)');
    assert.equal(tree(parseAll('foo offset step() * 2')), '(* foo offset step() 2)');
    assert.equal((parseAll('foo offset (1m) * 2') as VectorSelector).offsetExpr !== undefined, true);
    assertError('foo[step()/0d]', 'division by zero', '/');
    assertError('foo[5s%0]', 'modulo by zero', '%');
    assertError('foo offset (4d/0)', 'division by zero', '/');
    assertError('foo[5m + ]', 'unexpected "]" in subquery or range selector, expected number, duration, step(), or range()', ']');
    assertError('foo offset (1m', 'unclosed left parenthesis', [14, 14]);
    assertError('foo[step]', 'unexpected "]" in subquery or range selector, expected number, duration, step(), or range()', ']');
  });

  test('anchored and smoothed', () => {
    const none2 = new Set<string>();
    const ext = new Set([FEATURE_EXTENDED_RANGE_SELECTORS]);
    assertError('rate(foo[5m] anchored)', 'anchored modifier is experimental and not enabled', 'foo[5m]', none2);
    assertError('foo smoothed', 'smoothed modifier is experimental and not enabled', 'foo', none2);
    const e = parseExpr('increase(foo[5m] smoothed)', { features: ext }) as Call;
    assert.equal((e.args[0] as MatrixSelector).vectorSelector.smoothed, true);
    assert.equal(exprToString(parseExpr('foo[1m] anchored @ 10 offset 1m', { features: ext })), 'foo[1m] anchored @ 10.000 offset 1m');
    assert.equal(exprToString(parseExpr('foo anchored offset 1m', { features: ext })), 'foo anchored offset 1m');
    assertError('foo[5m] anchored smoothed', 'anchored and smoothed modifiers cannot be used together', 'foo[5m]', ext);
    assertError('foo[5m:] anchored', 'anchored modifier is not supported for subqueries', 'foo[5m:]', ext);
    assertError('(foo) smoothed', 'smoothed modifier not implemented', '(foo)', ext);
    assertError('1[5m] anchored', 'ranges only allowed for vector selectors', '[5m]', ext);
  });

  test('fill modifiers', () => {
    const fill = new Set([FEATURE_BINOP_FILL_MODIFIERS]);
    assertError('a + fill(0) b', 'binop fill modifiers are experimental and not enabled', 'a + fill(0) b', new Set());
    const e = parseExpr('a + on(x) fill_left(-1) fill_right(2) b', { features: fill }) as BinaryExpr;
    assert.deepEqual(e.matching!.fillValues, { lhs: -1, rhs: 2 });
    assert.equal(exprToString(e), 'a + on (x) fill_left (-1) fill_right (2) b');
    assert.equal(exprToString(parseExpr('a + fill(1e6) b', { features: fill })), 'a + fill (1e+06) b');
    assert.equal(exprToString(parseExpr('a + fill_right(1) fill_left(1) b', { features: fill })), 'a + fill (1) b');
    // Without a following parenthesis, fill is an ordinary metric name.
    assert.equal(tree(parseExpr('fill + fill_left', { features: new Set() })), '(+ fill fill_left)');
    assertError('a and fill(1) b', 'filling in missing series not allowed for set operators', undefined, fill);
    assertError('a + fill(1) 2', 'filling in missing series only allowed between instant vectors', undefined, fill);
  });
});

describe('syntax error positions', () => {
  test('line and column in the message', () => {
    assert.equal(parseError('sum(\n  rate(x)\n)').message, '2:8: parse error: expected type range vector in call to function "rate", got instant vector');
    assert.equal(parseError('').message, 'unknown position: parse error: no expression found in input');
    assert.equal(parseError('# only a comment\n').message, '1:1: parse error: no expression found in input');
    // Columns count UTF-8 bytes, as Prometheus's do.
    assert.equal(parseError('{a="ä"} + )').message, "1:13: parse error: unexpected right parenthesis ')'");
  });

  test('parentheses', () => {
    assertError('(1))', "unexpected right parenthesis ')'", [4, 4]);
    assertError('((1)', 'unclosed left parenthesis', [4, 4]);
    assertError('sum(rate(', 'unclosed left parenthesis', [9, 9]);
    assertError('()', 'unexpected ")"', ')');
    assertError('a b', 'unexpected identifier "b"', 'b');
    assertError('@@', 'unexpected <op:@>', [0, 1]);
    assertError('1 bool', 'unexpected <bool>', 'bool');
    assertError('a $', "unexpected character: '$'", [2, 3]);
    assertError('a + "01234567890123"', 'binary expression must contain only scalar and instant vector types');
    assertError('a "01234567890123"', 'unexpected string "\\"012345678"...', '"01234567890123"');
  });
});

describe('nesting depth', () => {
  test('deep nesting is a clear ParseError, not a stack overflow', () => {
    for (const q of [
      '('.repeat(10_000) + '1' + ')'.repeat(10_000),
      '-'.repeat(10_000) + '1',
      Array(20_000).fill('a').join(' + '),
      Array(10_000).fill('2').join(' ^ '),
      'abs('.repeat(10_000) + 'a' + ')'.repeat(10_000),
      'a' + '[1m:]'.repeat(2_000),
      'a[' + '('.repeat(10_000) + '1m' + ')'.repeat(10_000) + ']',
      '('.repeat(100_000),
    ]) {
      const e = parseError(q);
      assert.match(e.detail, /nesting exceeds the maximum depth/);
    }
  });

  test('nesting within the limit parses', () => {
    const depth = MAX_EXPR_DEPTH - 10;
    const e = parseAll('('.repeat(depth) + '1' + ')'.repeat(depth));
    assert.equal(exprType(e), 'scalar');
  });
});

describe('parseMetricSelector', () => {
  test('returns the matchers, name last', () => {
    const ms = parseMetricSelector('up{job="x", "a.b"=~"c"}');
    assert.deepEqual(
      ms.map((m) => [m.name, m.type, m.value]),
      [
        ['job', '=', 'x'],
        ['a.b', '=~', 'c'],
        ['__name__', '=', 'up'],
      ],
    );
    assert.deepEqual(
      parseMetricSelector('{"my.metric"}').map((m) => m.value),
      ['my.metric'],
    );
  });

  test('rejects anything but a selector', () => {
    assert.throws(() => parseMetricSelector('up[5m]'), /unexpected "\["/);
    assert.throws(() => parseMetricSelector('rate(up[5m])'), /unexpected "\("/);
    assert.throws(() => parseMetricSelector(''), /unexpected end of input/);
    assert.throws(() => parseMetricSelector('up{a=~"("}'), ParseError);
  });
});
