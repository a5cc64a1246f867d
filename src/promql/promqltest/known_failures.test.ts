import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRatchet, failureKind, parseKnownFailures, updateKnownFailures } from './known_failures.js';
import type { CaseResult, FileResult } from './runner.js';

const c = (file: string, line: number, status: CaseResult['status'], message?: string): CaseResult => ({
  id: `${file}:${line}`, file, line, query: 'q', status, ...(message !== undefined ? { message } : {}),
});

test('the list ignores comments and blank lines', () => {
  assert.deepEqual([...parseKnownFailures('# head\n\na.test:1  # why\n  b.test:2\n')], ['a.test:1', 'b.test:2']);
});

test('ratchet: new failures, fixed cases and stale entries', () => {
  const results: FileResult[] = [{ file: 'a.test', cases: [c('a.test', 1, 'failed'), c('a.test', 2, 'passed'), c('a.test', 3, 'failed'), c('a.test', 4, 'skipped')] }];
  const rep = checkRatchet(results, new Set(['a.test:1', 'a.test:2', 'a.test:4', 'a.test:9', 'b.test:1']));
  assert.deepEqual(rep.newFailures.map((x) => x.id), ['a.test:3']);
  assert.deepEqual(rep.fixed.map((x) => x.id), ['a.test:2']);
  assert.deepEqual(rep.stale, ['a.test:9']);
});

test('update rewrites the files that ran and keeps the others', () => {
  const dir = mkdtempSync(join(tmpdir(), 'promqltest-'));
  try {
    const path = join(dir, 'known_failures.txt');
    writeFileSync(path, 'a.test:1\nb.test:7\n');
    const n = updateKnownFailures([{ file: 'a.test', cases: [c('a.test', 5, 'failed', 'unexpected error: boom'), c('a.test', 1, 'passed')] }], path);
    assert.equal(n, 2);
    const text = readFileSync(path, 'utf8');
    assert.deepEqual([...parseKnownFailures(text)].sort(), ['a.test:5', 'b.test:7']);
    assert.match(text, /# a\.test: errors where a result was expected\na\.test:5 {2}# unexpected error: boom/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('failure kinds', () => {
  assert.equal(failureKind('[range mode, 0..1 step 1m] expected 1'), 'instant and range evaluation disagree');
  assert.equal(failureKind('engine crashed: TypeError: x'), 'engine crashes (JavaScript exceptions)');
  assert.equal(failureKind('expected 1 for {} but got 2'), 'wrong result values or series');
});
