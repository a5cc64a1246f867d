// The tsprom command line: help, version, bad flags, subcommand dispatch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { MAIN_JS } from './api_process.js';

const run = promisify(execFile);

async function tsprom(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN_JS, ...args], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

test('--help and --version', async () => {
  const h = await tsprom('--help');
  assert.equal(h.code, 0);
  assert.match(h.stdout, /^usage: tsprom \[<flags>\]/);
  assert.match(h.stdout, /--\[no-\]web.enable-remote-write-receiver/);
  const v = await tsprom('--version');
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^tsprom, version \d+\.\d+\.\d+ \(branch: .*, revision: .*\)\n/);
});

test('bad flags exit 1 with a clear message', async () => {
  const r = await tsprom('--web.listen-adress=:1');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "tsprom: error: unknown long flag '--web.listen-adress', try --help\n");
  const d = await tsprom('--query.timeout', 'x');
  assert.equal(d.code, 1);
  assert.match(d.stderr, /invalid value "x" for flag --query.timeout/);
});

test('subcommands dispatch to their modules', async () => {
  for (const cmd of ['querylog', 'tsdb']) {
    const r = await tsprom(cmd);
    assert.match(r.stderr + r.stdout, new RegExp(`usage: tsprom ${cmd}`), cmd);
  }
});
