// The conformance ratchet: evaluates every shared PromQL .test file and fails
// when a case fails that is not in src/promql/promqltest/known_failures.txt,
// or when a listed case passes (so the list only shrinks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { tspromDeps } from '../src/promql/promqltest/deps.js';
import { checkRatchet, readKnownFailures } from '../src/promql/promqltest/known_failures.js';
import { formatTally, runFiles, tally } from '../src/promql/promqltest/suite.js';
import { listTestFiles, testdataDir, testdataExists } from '../src/promql/promqltest/testdata.js';

const dir = testdataDir();

if (!testdataExists(dir)) {
  test('PromQL conformance files', (t) => {
    t.skip(`test files not found at ${dir} (set PROMQL_TESTDATA); conformance cases skipped`);
  });
} else {
  const known = readKnownFailures();
  for (const path of listTestFiles(dir)) {
    test(`promqltest ${basename(path)}`, async (t) => {
      const [result] = await runFiles([path], 'eval', tspromDeps);
      t.diagnostic(`${result!.file}: ${formatTally(tally(result!.cases))}`);
      const rep = checkRatchet([result!], known);
      const problems = [
        ...rep.newFailures.map((c) => `new failure ${c.id}: ${c.query}\n    ${c.message ?? ''}`),
        ...rep.fixed.map((c) => `now passes, remove from known_failures.txt: ${c.id}: ${c.query}`),
        ...rep.stale.map((id) => `known_failures.txt entry names no case: ${id}`),
      ];
      assert.equal(problems.length, 0, `\n${problems.join('\n')}\n(regenerate the list with: npm run promqltest -- --update-known-failures)`);
    });
  }
}
