import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../../model/labels.js';
import { STALE_NAN } from '../../model/value.js';
import { almostEqual, checkAnnotations, compareResult, instantFromRange } from './compare.js';
import { parseScript, type EvalCmd } from './script.js';

const cmdOf = (src: string): EvalCmd => parseScript(src).commands[0] as EvalCmd;
const l = (...nv: string[]): Labels => Labels.fromPairs(...nv);

describe('almostEqual', () => {
  test('tolerance, NaN and staleness', () => {
    assert.ok(almostEqual(1, 1 + 1e-7));
    assert.ok(!almostEqual(1, 1 + 1e-5));
    assert.ok(almostEqual(NaN, NaN));
    assert.ok(!almostEqual(NaN, 1));
    assert.ok(almostEqual(STALE_NAN, STALE_NAN));
    assert.ok(!almostEqual(STALE_NAN, NaN));
    assert.ok(almostEqual(Infinity, Infinity));
    assert.ok(!almostEqual(Infinity, -Infinity));
    assert.ok(almostEqual(0, 0));
    assert.ok(!almostEqual(0, 1e-300));
    assert.ok(almostEqual(1e308, 1.0000001e308));
  });
});

describe('compareResult', () => {
  test('vectors compare as sets unless ordered', () => {
    const cmd = cmdOf('eval instant at 0 x\n  x{a="1"} 1\n  x{a="2"} 2\n');
    const v = { type: 'vector' as const, samples: [{ metric: l('__name__', 'x', 'a', '2'), t: 0, f: 2 }, { metric: l('__name__', 'x', 'a', '1'), t: 0, f: 1 }] };
    assert.equal(compareResult(cmd, v), null);
    const ordered = cmdOf('eval_ordered instant at 0 x\n  x{a="1"} 1\n  x{a="2"} 2\n');
    assert.match(compareResult(ordered, v)!, /at position 2 but was at 1/);
    assert.match(compareResult(cmd, { type: 'vector', samples: [] })!, /not found/);
    assert.match(compareResult(cmd, { type: 'scalar', t: 0, v: 1 })!, /expected vector or matrix result/);
  });

  test('matrices check timestamps, values and sorting', () => {
    const cmd = cmdOf('eval range from 0 to 2m step 1m x\n  x 1 _ 3\n');
    const good = { metric: l('__name__', 'x'), ts: Float64Array.from([0, 120000]), fs: Float64Array.from([1, 3]) };
    assert.equal(compareResult(cmd, { type: 'matrix', series: [good] }), null);
    const shifted = { ...good, ts: Float64Array.from([0, 60000]) };
    assert.match(compareResult(cmd, { type: 'matrix', series: [shifted] })!, /to have timestamp 120000, but it had timestamp 60000/);
    const wrong = { ...good, fs: Float64Array.from([1, 4]) };
    assert.match(compareResult(cmd, { type: 'matrix', series: [wrong] })!, /to be 3, but got 4/);
    const two = cmdOf('eval range from 0 to 0 step 1m x\n  x{a="1"} 1\n  x{a="2"} 1\n');
    const a = { metric: l('__name__', 'x', 'a', '1'), ts: Float64Array.from([0]), fs: Float64Array.from([1]) };
    const b = { metric: l('__name__', 'x', 'a', '2'), ts: Float64Array.from([0]), fs: Float64Array.from([1]) };
    assert.match(compareResult(two, { type: 'matrix', series: [b, a] })!, /sorted/);
    const tooMany = cmdOf('eval range from 0 to 1m step 1m x\n  x 1 2 3\n');
    assert.match(compareResult(tooMany, { type: 'matrix', series: [good] })!, /cannot return this many points/);
  });

  test('scalars and strings', () => {
    assert.equal(compareResult(cmdOf('eval instant at 0 1\n  1\n'), { type: 'scalar', t: 0, v: 1 }), null);
    assert.match(compareResult(cmdOf('eval instant at 0 1\n  1\n'), { type: 'vector', samples: [] })!, /expected scalar result/);
    assert.equal(compareResult(cmdOf('eval instant at 0 "a"\n  expect string "a"\n'), { type: 'string', t: 0, v: 'a' }), null);
    assert.match(compareResult(cmdOf('eval instant at 0 "a"\n  expect string "b"\n'), { type: 'string', t: 0, v: 'a' })!, /expected string "b"/);
  });

  test('range results read back as instant results at t', () => {
    const m = { type: 'matrix' as const, series: [{ metric: Labels.EMPTY, ts: Float64Array.from([0, 60000]), fs: Float64Array.from([5, 6]) }] };
    assert.deepEqual(instantFromRange(m, 60000, true), { type: 'scalar', t: 60000, v: 6 });
    assert.deepEqual(instantFromRange(m, 120000, false), { type: 'vector', samples: [] });
    assert.match(instantFromRange(m, 120000, true) as string, /no point/);
  });
});

describe('checkAnnotations', () => {
  test('expected, unexpected and forbidden annotations', () => {
    const w = cmdOf('eval instant at 0 x\n  expect warn msg: W1\n');
    assert.equal(checkAnnotations(w, ['W1'], []), null);
    assert.match(checkAnnotations(w, [], [])!, /none were found/);
    assert.match(checkAnnotations(w, ['W1', 'W2'], [])!, /unexpected warn annotation "W2"/);
    const i = cmdOf('eval instant at 0 x\n  expect info\n  expect no_warn\n');
    assert.equal(checkAnnotations(i, [], ['anything']), null);
    assert.match(checkAnnotations(i, ['w'], ['anything'])!, /unexpected warning annotations/);
    assert.equal(checkAnnotations(cmdOf('eval instant at 0 x\n'), ['w'], ['i']), null);
    assert.match(checkAnnotations(cmdOf('eval_warn instant at 0 x\n'), [], [])!, /expected warnings/);
  });

  test('an annotation matches in its plain form or with its position in the query', () => {
    const positioned = cmdOf('eval instant at 0 x\n  expect warn msg: W1 (1:5)\n');
    assert.equal(checkAnnotations(positioned, ['W1'], [], ['W1 (1:5)'], []), null);
    assert.match(checkAnnotations(positioned, ['W1'], [], ['W1 (1:6)'], [])!, /no matching annotation/);
    const plain = cmdOf('eval instant at 0 x\n  expect info msg: I1\n');
    assert.equal(checkAnnotations(plain, [], ['I1'], [], ['I1 (1:1)']), null);
  });
});
