import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../../model/labels.js';
import { parseDuration } from '../../gofmt/duration.js';
import { parseGoNumber, parseScript, type EvalCmd, type LoadCmd } from './script.js';

const evals = (src: string): EvalCmd[] => parseScript(src).commands.filter((c): c is EvalCmd => c.kind === 'eval');

describe('script commands', () => {
  test('load, clear and eval with line numbers', () => {
    const s = parseScript(`# header
load 5m
  a{x="1"} 0+10x2
  b 1 _ 3

eval instant at 10m a
  a{x="1"} 20

clear
eval range from 0 to 10m step 5m b
  b 1 _ 3
`);
    assert.deepEqual(s.errors, []);
    assert.deepEqual(s.commands.map((c) => [c.kind, c.line]), [['load', 2], ['eval', 6], ['clear', 9], ['eval', 10]]);
    const load = s.commands[0] as LoadCmd;
    assert.equal(load.intervalMs, 300000);
    assert.equal(load.series.length, 2);
    assert.deepEqual(load.series[0]!.values.map((v) => v.value), [0, 10, 20]);
    const inst = s.commands[1] as EvalCmd;
    assert.equal(inst.isRange, false);
    assert.equal(inst.evalTime, 600000);
    assert.ok(inst.expected[0]!.labels.equals(Labels.fromPairs('__name__', 'a', 'x', '1')));
    const range = s.commands[3] as EvalCmd;
    assert.deepEqual([range.isRange, range.start, range.end, range.step], [true, 0, 600000, 300000]);
    assert.deepEqual(range.expected[0]!.values.map((v) => v.omitted), [false, true, false]);
  });

  test('a comment line ends a block', () => {
    const s = parseScript('load 1m\n  a 1\n# note\n  b 2\n');
    assert.equal((s.commands[0] as LoadCmd).series.length, 1);
    assert.equal(s.errors.length, 1);
    assert.equal(s.errors[0]!.line, 4);
  });

  test('load_with_nhcb and start-timestamp lines', () => {
    const s = parseScript('load_with_nhcb 1m\n  m{x="a"}@st _ -1mx2\n  m{x="a"} _ 1x2\n  n 1\n');
    assert.deepEqual(s.errors, []);
    const load = s.commands[0] as LoadCmd;
    assert.equal(load.withNhcb, true);
    assert.deepEqual(load.series.map((d) => d.startTimestamps), [[null, -60_000, -60_000, -60_000], null]);
    const steps = parseScript('load 1m\n  m@st -30s-1mx2 0 +1m -0ms\n  m 1 2 3 4 5 6\n');
    assert.deepEqual((steps.commands[0] as LoadCmd).series[0]!.startTimestamps, [-30_000, -90_000, -150_000, 0, 60_000, 0]);
    const bad = parseScript('load 1m\n  m@st 1m 2m\n  m 1\n');
    assert.match(bad.errors[0]!.message, /@st line has 2 values but sample line has 1/);
  });

  test('bad commands are reported and parsing resumes', () => {
    const s = parseScript('frobnicate\n  x\n\nload xyz\n  a 1\n\neval instant at 1m a\n  a 1 2\n\neval instant at 0 b\n  b 1\n');
    assert.deepEqual(s.errors.map((e) => e.line), [1, 4, 7]);
    assert.match(s.errors[2]!.message, /expecting multiple values in instant evaluation not allowed/);
    assert.equal(evals('eval instant at 0 b\n  b 1\n').length, 1);
    assert.equal(s.commands.length, 1);
  });
});

describe('eval expectations', () => {
  test('expect forms', () => {
    const s = parseScript('eval instant at 1m x\n  expect warn\n  expect no_warn\n');
    assert.match(s.errors[0]!.message, /warn and no_warn cannot be used together/);
    const t = parseScript('eval instant at 1m x\n  expect info msg: a\n  expect no_info\n');
    assert.match(t.errors[0]!.message, /info and no_info cannot be used together/);
    const [g] = evals(`eval instant at 1m x
  expect fail msg: something bad
  expect warn msg:  the warning
  expect info regex: might not be .* counter
  expect ordered
`);
    assert.ok(g !== undefined);
    assert.equal(g.fail, true);
    assert.deepEqual(g.failMatch, [{ kind: 'exact', text: 'something bad' }]);
    assert.deepEqual(g.warn, [{ kind: 'exact', text: 'the warning' }]);
    assert.equal(g.info[0]!.kind, 'regex');
    assert.equal(g.ordered, true);
    assert.match(parseScript('eval instant at 0 x\n  expect fail\n  expect fail\n').errors[0]!.message, /multiple expect fail/);
    assert.match(parseScript('eval instant at 0 x\n  expect bogus\n').errors[0]!.message, /invalid expect statement/);
  });

  test('older eval_* spellings', () => {
    const [a, b, c, d] = evals(`eval_fail instant at 0 x
  expected_fail_message boom

eval_fail range from 0 to 1m step 1m x
  expected_fail_regexp bo+m

eval_warn instant at 0 x

eval_ordered instant at 0 x
  x{a="2"} 1
  x{a="1"} 2
`);
    assert.deepEqual([a!.fail, a!.failMatch], [true, [{ kind: 'exact', text: 'boom' }]]);
    assert.equal(b!.failMatch[0]!.kind, 'regex');
    assert.equal(c!.warnRequired, true);
    assert.equal(d!.ordered, true);
    assert.deepEqual(d!.expected.map((x) => x.pos), [1, 2]);
    assert.equal(evals('eval_info instant at 0 x\n')[0]!.infoRequired, true);
  });

  test('scalars, strings and range vectors', () => {
    const [a, b, c, d] = evals(`eval instant at 0 1.5
  1.5

eval instant at 0 "x"
  expect string "a\\"b"

eval instant at 1m foo[1m]
  expect range vector from 10s to 1m step 10s
  foo 1 2 3 4 5 6

eval instant at 0 -Inf
  -Inf
`);
    assert.equal(a!.expectScalar, 1.5);
    assert.equal(b!.expectString, 'a"b');
    assert.equal(b!.excludeFromRangeQuery, true);
    assert.deepEqual([c!.rangeVector, c!.start, c!.end, c!.step, c!.evalTime], [true, 10000, 60000, 10000, 60000]);
    assert.equal(c!.expected[0]!.values.length, 6);
    assert.equal(d!.expectScalar, -Infinity);
  });

  test('expected histograms are flagged', () => {
    const [e] = evals('eval instant at 0 h\n  h {{count:1 sum:2}}\n');
    assert.equal(e!.expectsHistograms, true);
  });
});

test('durations and numbers use Go semantics', () => {
  assert.equal(parseDuration('1h30m'), 5400000);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('1d2ms'), 86400002);
  assert.throws(() => parseDuration('1.5m'));
  assert.throws(() => parseDuration('-1m'));
  assert.throws(() => parseDuration(''));
  assert.equal(parseGoNumber('0x10'), 16);
  assert.equal(parseGoNumber('010'), 8);
  assert.equal(parseGoNumber('-1e3'), -1000);
  assert.equal(parseGoNumber('+Inf'), Infinity);
  assert.ok(Number.isNaN(parseGoNumber('NaN')!));
  assert.equal(parseGoNumber('{} 1'), null);
  assert.equal(parseGoNumber('foo'), null);
});
