import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../../model/labels.js';
import { DUPLICATE_LABELSET, LabelSetIndex, StepCollector, containsSameLabelset, mergeSameLabelset } from './collector.js';
import { Series } from './value.js';

const A = Labels.fromPairs('a', '1');
const B = Labels.fromPairs('a', '2');

test('range collection merges equal label sets and rejects two samples at one time', () => {
  const c = new StepCollector(false, true, 4);
  c.emit(A, false, 0, 1);
  c.emit(B, false, 0, 2);
  c.emit(A, false, 10, 3);
  assert.equal(c.takeEmitted(), 3);
  const out = c.result();
  assert.equal(out.length, 2);
  assert.deepEqual([...out[0]!.vsView()], [1, 3]);
  assert.throws(() => c.emit(A, false, 10, 4), { message: DUPLICATE_LABELSET });
});

test('instant collection keeps order and rejects duplicates only when asked', () => {
  const strict = new StepCollector(true, true, 1);
  strict.emit(B, false, 0, 2);
  strict.emit(A, false, 0, 1);
  assert.deepEqual(strict.result().map((s) => s.metric.get('a')), ['2', '1']);
  assert.throws(() => strict.emit(A, false, 0, 5), { message: DUPLICATE_LABELSET });
  const lax = new StepCollector(true, false, 1);
  lax.emit(A, true, 0, 1);
  lax.emit(A, true, 0, 2);
  assert.equal(lax.result().length, 2);
});

test('mergeSameLabelset joins disjoint series and fails on overlap', () => {
  const s1 = new Series(A);
  s1.push(0, 1);
  s1.push(20, 3);
  const s2 = new Series(A);
  s2.push(10, 2);
  const s3 = new Series(B);
  s3.push(0, 9);
  assert.ok(containsSameLabelset([s1, s2, s3]));
  const merged = mergeSameLabelset([s1, s2, s3]);
  assert.equal(merged.length, 2);
  assert.deepEqual([...merged[0]!.tsView()], [0, 10, 20]);
  const s4 = new Series(A);
  s4.push(10, 7);
  assert.throws(() => mergeSameLabelset([s1, s2, s4]), { message: DUPLICATE_LABELSET });
  assert.equal(mergeSameLabelset([s3]).length, 1);
});

test('the label-set index tells apart different sets whose hashes collide', () => {
  class Fake {
    constructor(readonly id: string) {}
    hash(): number {
      return 42;
    }
    equals(o: Fake): boolean {
      return o.id === this.id;
    }
  }
  const idx = new LabelSetIndex<Fake>();
  assert.equal(idx.add(new Fake('a')), true);
  assert.equal(idx.add(new Fake('b')), true);
  assert.equal(idx.add(new Fake('c')), true);
  assert.equal(idx.add(new Fake('b')), false);
  assert.equal(idx.add(new Fake('a')), false);
});
