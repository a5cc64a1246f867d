import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../../model/labels.js';
import { groupingKey } from './aggregations.js';
import { SignatureIndex } from './signature_index.js';

/** Label sets over a few names and values, some without some names, with and without a metric name. */
function labelSets(n: number): Labels[] {
  const out: Labels[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      Labels.fromPairs(
        '__name__', i % 3 === 0 ? 'a' : 'b',
        'job', `j${i % 7}`,
        'instance', i % 5 === 0 ? '' : `h${i % 11}`,
        'cpu', `${i % 13}`,
        'mode', i % 4 === 0 ? '' : `m${i % 3}`,
      ),
    );
  }
  return out;
}

describe('SignatureIndex', () => {
  for (const [names, include] of [
    [['instance', 'job'], true],
    [['mode'], true],
    [['__name__', 'cpu'], true],
    [[], true],
    [['cpu', 'mode'], false],
    [[], false],
  ] as const) {
    test(`ordinals agree with string keys (${include ? 'by' : 'without'} ${names.join(',')})`, () => {
      const index = new SignatureIndex(names, include);
      const byKey = new Map<string, number>();
      for (const ls of labelSets(3000)) {
        const key = groupingKey(ls, names, !include);
        const o = index.ordinal(ls);
        const prev = byKey.get(key);
        if (prev === undefined) {
          assert.equal(o, byKey.size, 'a new signature gets the next ordinal');
          byKey.set(key, o);
        } else {
          assert.equal(o, prev);
        }
      }
      assert.equal(index.size, byKey.size);
    });
  }

  test('a label that is missing differs from one set to another name with the same value', () => {
    const index = new SignatureIndex(['a', 'b'], true);
    const x = index.ordinal(Labels.fromPairs('a', 'v'));
    const y = index.ordinal(Labels.fromPairs('b', 'v'));
    const z = index.ordinal(Labels.fromPairs('a', 'v', 'c', 'w'));
    assert.notEqual(x, y);
    assert.equal(x, z);
  });

  test('without ignores the metric name and tells names apart from values', () => {
    const index = new SignatureIndex(['i'], false);
    assert.equal(index.ordinal(Labels.fromPairs('__name__', 'a', 'x', 'y', 'i', '1')), index.ordinal(Labels.fromPairs('__name__', 'b', 'x', 'y', 'i', '2')));
    assert.notEqual(index.ordinal(Labels.fromPairs('x', 'y')), index.ordinal(Labels.fromPairs('y', 'x')));
  });
});
