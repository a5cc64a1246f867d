import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandFlags, runCheckCommand, UsageError, type CommandIO } from './check.js';

function collect(stdin = ''): CommandIO & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout(s: string) {
      io.out += s;
    },
    stderr(s: string) {
      io.err += s;
    },
    readStdin: () => stdin,
  };
  return io;
}

const dir = mkdtempSync(join(tmpdir(), 'tsprom-check-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const GOOD = file('good.yml', 'groups:\n  - name: g\n    rules:\n      - record: a:b\n        expr: sum(up)\n      - record: a:c\n        expr: up\n');
const DUP = file('dup.yml', 'groups:\n  - name: g\n    rules:\n      - record: a:b\n        expr: sum(up)\n      - record: a:b\n        expr: up\n');
const BAD = file('bad.yml', 'groups:\n  - name: g\n    rules:\n      - record: a:b\n        expr: sum(up\n');

test('flags: both forms, booleans, --no-, unknown flags', () => {
  const p = parseCommandFlags(['--lint=none', 'a', '--lint', 'all', '--lint-fatal', '--no-syntax-only', '--', '--x'], new Set(['lint']), new Set(['lint-fatal', 'syntax-only']));
  assert.deepEqual(p.flags.get('lint'), ['none', 'all']);
  assert.deepEqual(p.flags.get('lint-fatal'), ['true']);
  assert.deepEqual(p.flags.get('syntax-only'), ['false']);
  assert.deepEqual(p.args, ['a', '--x']);
  assert.throws(() => parseCommandFlags(['--nope'], new Set(), new Set()), UsageError);
  assert.throws(() => parseCommandFlags(['--lint'], new Set(['lint']), new Set()), UsageError);
});

test('check rules: success, lint and errors with promtool exit codes', async () => {
  let io = collect();
  assert.equal(await runCheckCommand(['rules', GOOD], io), 0);
  assert.equal(io.out, `Checking ${GOOD}\n  SUCCESS: 2 rules found\n\n`);
  assert.equal(io.err, '');

  io = collect();
  assert.equal(await runCheckCommand(['rules', DUP], io), 0);
  assert.equal(io.out, `Checking ${DUP}\n\n`);
  assert.equal(io.err, '  FAILED:\nlint error 1 duplicate rule(s) found.\nMetric: a:b\nLabel(s):\nMight cause inconsistency while recording expressions\n');

  io = collect();
  assert.equal(await runCheckCommand(['rules', '--lint-fatal', DUP], io), 3);
  io = collect();
  assert.equal(await runCheckCommand(['rules', '--lint=none', '--lint-fatal', DUP], io), 0);
  assert.match(io.out, /SUCCESS: 2 rules found/);

  io = collect();
  assert.equal(await runCheckCommand(['rules', BAD, GOOD], io), 1);
  assert.equal(io.out, `Checking ${BAD}\nChecking ${GOOD}\n  SUCCESS: 2 rules found\n\n`);
  assert.match(io.err, /^ {2}FAILED:\n.*bad\.yml: 5:15: group "g", rule 1, "a:b": could not parse expression: 1:7: parse error: unclosed left parenthesis\n$/);
});

test('check rules reads standard input without files; errors carry no file name', async () => {
  const io = collect('groups:\n  - name: g\n    rules:\n      - record: a:b\n        expr: sum(up\n');
  assert.equal(await runCheckCommand(['rules'], io), 1);
  assert.equal(io.out, 'Checking standard input\n');
  assert.match(io.err, /^ {2}FAILED:\n5:15: group "g"/);
});

test('check config: rule files found, checked, and missing ones', async () => {
  const cfg = file('prom.yml', 'rule_files:\n  - good.yml\n  - "d*.yml"\n');
  let io = collect();
  assert.equal(await runCheckCommand(['config', cfg], io), 0);
  assert.equal(
    io.out,
    `Checking ${cfg}\n  SUCCESS: 2 rule files found\n SUCCESS: ${cfg} is valid prometheus config file syntax\n\n` +
      `Checking ${GOOD}\n  SUCCESS: 2 rules found\n\nChecking ${DUP}\n\n`,
  );
  io = collect();
  assert.equal(await runCheckCommand(['config', '--lint-fatal', cfg], io), 3);

  const missing = file('missing.yml', 'rule_files:\n  - nope.yml\n');
  io = collect();
  assert.equal(await runCheckCommand(['config', missing], io), 1);
  assert.equal(io.err, `  FAILED: "${join(dir, 'nope.yml')}" does not point to an existing file\n`);
  io = collect();
  assert.equal(await runCheckCommand(['config', '--syntax-only', missing], io), 0);
  assert.equal(io.out, `Checking ${missing}\n SUCCESS: ${missing} is valid prometheus config file syntax\n\n`);

  const invalid = file('invalid.yml', 'global:\n  scrape_interval: 15x\n');
  io = collect();
  assert.equal(await runCheckCommand(['config', invalid], io), 1);
  assert.match(io.err, /^ {2}FAILED: .*unknown unit "x" in duration "15x"\n$/);
});

test('check config: credentials and TLS files must exist, file_sd files are read', async () => {
  file('targets.json', '[{"targets": ["a:1"]}]');
  file('bad_targets.json', '{"targets": []}');
  const cfg = file('sd.yml', 'scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - files: [targets.json, "none*.json"]\n');
  let io = collect();
  assert.equal(await runCheckCommand(['config', cfg], io), 0);
  assert.match(io.out, /\n {2}WARNING: file ".*none\*\.json" for file_sd in scrape job "a" does not exist\n/);
  const bad = file('sd_bad.yml', 'scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - files: [bad_targets.json]\n');
  io = collect();
  assert.equal(await runCheckCommand(['config', bad], io), 1);
  assert.match(io.err, /^ {2}FAILED: checking SD file ".*bad_targets\.json": /);
  const tls = file('tls.yml', 'scrape_configs:\n  - job_name: a\n    tls_config:\n      cert_file: c.pem\n      key_file: k.pem\n');
  io = collect();
  assert.equal(await runCheckCommand(['config', tls], io), 1);
  assert.equal(io.err, `  FAILED: error checking client cert file "${join(dir, 'c.pem')}": stat ${join(dir, 'c.pem')}: no such file or directory\n`);
  io = collect();
  assert.equal(await runCheckCommand(['config', '--syntax-only', tls], io), 0);
});

test('check config lints too long scrape intervals when asked', async () => {
  const cfg = file('slow.yml', 'scrape_configs:\n  - job_name: slow\n    scrape_interval: 10m\n    scrape_timeout: 10s\n');
  let io = collect();
  assert.equal(await runCheckCommand(['config', cfg], io), 0);
  assert.equal(io.err, '');
  io = collect();
  assert.equal(await runCheckCommand(['config', '--lint=all', '--lint-fatal', cfg], io), 3);
  assert.equal(io.err, '  FAILED: too long scrape interval found, data point will be marked as stale - job: slow, interval: 10m\n');
});

test('--enable-feature lets rule expressions use experimental functions', async () => {
  const f = file('exp.yml', 'groups:\n  - name: g\n    rules:\n      - record: a:b\n        expr: mad_over_time(up[5m])\n');
  let io = collect();
  assert.equal(await runCheckCommand(['rules', f], io), 1);
  assert.match(io.err, /function "mad_over_time" is not enabled/);
  io = collect();
  assert.equal(await runCheckCommand(['rules', '--enable-feature=promql-experimental-functions', f], io), 0);
});

test('missing files and unknown commands are usage errors', async () => {
  let io = collect();
  assert.equal(await runCheckCommand(['rules', join(dir, 'nope.yml')], io), 1);
  assert.equal(io.err, `tsprom: error: path '${join(dir, 'nope.yml')}' does not exist, try --help\n`);
  io = collect();
  assert.equal(await runCheckCommand(['bogus'], io), 1);
  assert.match(io.err, /expected command/);
});
