// Runs the CLI as a child process over a small test folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled, this runs from dist/ next to cli.js; under tsx it runs beside cli.ts.
const fromSource = import.meta.url.endsWith('.ts');
const cli = fileURLToPath(new URL(fromSource ? './cli.ts' : './cli.js', import.meta.url));

function run(args: string[], testdata: string): { code: number | null; lines: string[] } {
  const r = spawnSync(process.execPath, [...(fromSource ? ['--import', 'tsx'] : []), cli, ...args], {
    env: { ...process.env, PROMQL_TESTDATA: testdata },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, lines: r.stdout.trimEnd().split('\n') };
}

const SCRIPT = `load 1m
  a 1 2 3
  h {{schema:0 sum:1 count:1}}

eval instant at 1m a
  a 2

eval instant at 1m a
  a 7

eval instant at 1m h
  h {{schema:0 sum:1 count:1}}

eval instant at 0 sum(
  expect fail
`;

test('CLI: a line per file, failures in verbose mode, the total last', () => {
  const dir = mkdtempSync(join(tmpdir(), 'promqltest-cli-'));
  try {
    writeFileSync(join(dir, 'cli_probe.test'), SCRIPT);
    const ev = run(['--verbose'], dir);
    assert.equal(ev.code, 1, 'a failure not on the known list fails the run');
    assert.equal(ev.lines[0], 'cli_probe.test: 3 passed, 1 failed, 0 skipped (0 of the failures known)');
    assert.ok(ev.lines.includes('  FAIL cli_probe.test:8: a'));
    assert.ok(ev.lines.some((l) => /expected 7 for \{__name__="a"\} but got 2/.test(l)));
    assert.equal(ev.lines.at(-1), 'promqltest: 3 passed, 1 failed, 0 skipped');

    const po = run(['--parse-only', 'cli_probe.test'], dir);
    assert.equal(po.code, 0);
    assert.deepEqual(po.lines, ['cli_probe.test: 4 passed, 0 failed, 0 skipped', 'promqltest: 4 passed, 0 failed, 0 skipped']);

    const missing = run([], join(dir, 'absent'));
    assert.equal(missing.code, 0);
    assert.match(missing.lines[0]!, /test files not found.*all cases skipped/);
    assert.equal(missing.lines.at(-1), 'promqltest: 0 passed, 0 failed, 0 skipped');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
