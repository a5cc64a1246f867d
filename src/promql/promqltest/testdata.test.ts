import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { featuresFor, repoRoot, testdataDir } from './testdata.js';

test('feature flags per file use Prometheus names', () => {
  assert.ok(featuresFor('functions.test').has('promql-experimental-functions'));
  assert.ok(!featuresFor('functions.test').has('promql-duration-expr'));
  assert.ok(featuresFor('duration_expression.test').has('promql-duration-expr'));
  assert.ok(featuresFor('extended_vectors.test').has('promql-extended-range-selectors'));
  assert.ok(featuresFor('fill-modifier.test').has('promql-binop-fill-modifiers'));
  assert.ok(featuresFor('type_and_unit.test').has('type-and-unit-labels'));
});

test('the repository root holds package.json and the default testdata dir sits beside it', () => {
  const root = repoRoot();
  assert.ok(existsSync(join(root, 'package.json')));
  const saved = process.env.PROMQL_TESTDATA;
  try {
    delete process.env.PROMQL_TESTDATA;
    assert.equal(testdataDir(), join(root, '..', 'shared', 'promql-testdata'));
    process.env.PROMQL_TESTDATA = '/somewhere/else';
    assert.equal(testdataDir(), '/somewhere/else');
  } finally {
    if (saved === undefined) delete process.env.PROMQL_TESTDATA;
    else process.env.PROMQL_TESTDATA = saved;
  }
});
