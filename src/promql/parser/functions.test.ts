import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FUNCTIONS } from './functions.js';

test('the function table', () => {
  assert.equal(FUNCTIONS.size, 90);
  assert.deepEqual(FUNCTIONS.get('rate'), { name: 'rate', argTypes: ['matrix'], variadic: 0, returnType: 'vector', experimental: false });
  assert.deepEqual(FUNCTIONS.get('label_join')!.variadic, -1);
  assert.deepEqual(FUNCTIONS.get('histogram_quantiles'), {
    name: 'histogram_quantiles',
    argTypes: ['vector', 'string', 'scalar', 'scalar'],
    variadic: 9,
    returnType: 'vector',
    experimental: true,
  });
  assert.equal(FUNCTIONS.get('info')!.experimental, true);
  assert.equal(FUNCTIONS.get('pi')!.returnType, 'scalar');
  const experimental = [...FUNCTIONS.values()].filter((f) => f.experimental).map((f) => f.name).sort();
  assert.deepEqual(experimental, [
    'double_exponential_smoothing', 'end', 'histogram_quantiles', 'info', 'mad_over_time', 'max_of', 'min_of',
    'range', 'sort_by_label', 'sort_by_label_desc', 'start', 'start_timestamp', 'step',
    'ts_of_first_over_time', 'ts_of_last_over_time', 'ts_of_max_over_time', 'ts_of_min_over_time',
  ]);
  for (const [name, f] of FUNCTIONS) {
    assert.equal(f.name, name);
    assert.ok(Object.isFrozen(f), name);
  }
});
