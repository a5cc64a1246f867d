// Debian's promtool (2.42) as the oracle of `tsprom check` and `tsprom test rules`:
// both run on the same fixture files (test/fixtures/rules) and must agree on exit
// codes and on the output lines where promtool 2.42 and 3.x print the same.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const PROMTOOL = '/usr/bin/promtool';
const TSPROM = resolve('dist/src/cli/main.js');
const FIXTURES = resolve('test/fixtures/rules');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exec(cmd: string, args: readonly string[], stdin = ''): Promise<Run> {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { cwd: FIXTURES, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.on('error', rej);
    p.on('close', (code) => res({ code, stdout, stderr }));
    p.stdin.end(stdin);
  });
}

/** Runs the same arguments through promtool and tsprom. */
async function both(...args: string[]): Promise<{ prom: Run; ours: Run }> {
  const [prom, ours] = await Promise.all([exec(PROMTOOL, args), exec(process.execPath, [TSPROM, ...args])]);
  return { prom, ours };
}

function assertSameCode(r: { prom: Run; ours: Run }, code: number): void {
  assert.equal(r.prom.code, code, `promtool exit code; stderr: ${r.prom.stderr}`);
  assert.equal(r.ours.code, code, `tsprom exit code; stdout: ${r.ours.stdout} stderr: ${r.ours.stderr}`);
}

/** Lines both outputs have in common must include these. */
function assertBothHaveLines(prom: string, ours: string, lines: readonly string[]): void {
  for (const l of lines) {
    assert.ok(prom.split('\n').includes(l), `promtool lacks line ${JSON.stringify(l)} in:\n${prom}`);
    assert.ok(ours.split('\n').includes(l), `tsprom lacks line ${JSON.stringify(l)} in:\n${ours}`);
  }
}

describe('tsprom check and test rules against promtool', () => {
  before(() => {
    assert.ok(existsSync(PROMTOOL), 'promtool is missing: install the Debian package prometheus');
    assert.ok(existsSync(TSPROM), 'build first: npx tsc -p tsconfig.json');
  });

  test('check rules: a valid file', async () => {
    const r = await both('check', 'rules', 'rules_good.yml');
    assertSameCode(r, 0);
    assert.equal(r.ours.stdout, r.prom.stdout);
    assert.equal(r.ours.stderr, '');
  });

  test('check rules: duplicate rules are a lint problem (exit 3 with --lint-fatal, silent with --lint=none)', async () => {
    let r = await both('check', 'rules', 'rules_dup.yml');
    assertSameCode(r, 0);
    assert.equal(r.ours.stderr, r.prom.stderr);
    r = await both('check', 'rules', '--lint-fatal', 'rules_dup.yml');
    assertSameCode(r, 3);
    assert.equal(r.ours.stderr, r.prom.stderr);
    r = await both('check', 'rules', '--lint=none', 'rules_dup.yml');
    assertSameCode(r, 0);
    assert.equal(r.ours.stdout, r.prom.stdout);
  });

  test('check rules: invalid files fail with Prometheus messages', async () => {
    const r = await both('check', 'rules', 'rules_good.yml', 'rules_bad.yml');
    assertSameCode(r, 1);
    assertBothHaveLines(r.prom.stderr, r.ours.stderr, [
      '  FAILED:',
      'rules_bad.yml: 5:15: group "broken", rule 1, "job:bad": could not parse expression: 1:16: parse error: unclosed left parenthesis',
      'rules_bad.yml: 12:5: groupname: "broken" is repeated in the same file',
      'rules_bad.yml: group "broken", rule 1, "Tmpl": annotation "summary": template: __alert_Tmpl:1: unclosed action',
    ]);
    assertBothHaveLines(r.prom.stdout, r.ours.stdout, ['Checking rules_good.yml', '  SUCCESS: 3 rules found', 'Checking rules_bad.yml']);
    const y = await both('check', 'rules', 'rules_yaml_error.yml');
    assertSameCode(y, 1);
    // 2.42 names the type rulefmt.RuleNode, 3.x rulefmt.Rule.
    for (const out of [y.prom.stderr, y.ours.stderr]) assert.match(out, /rules_yaml_error\.yml: yaml: unmarshal errors:\n {2}line 6: field bogus not found in type rulefmt\.Rule/);
  });

  test('check rules: a missing file is a usage error', async () => {
    const r = await both('check', 'rules', 'nonexistent.yml');
    assertSameCode(r, 1);
    for (const out of [r.prom.stderr, r.ours.stderr]) assert.match(out, /error: path 'nonexistent\.yml' does not exist, try --help/);
  });

  test('check config: the config and the rule files it names', async () => {
    const r = await both('check', 'config', 'prometheus.yml');
    assertSameCode(r, 0);
    assertBothHaveLines(r.prom.stdout, r.ours.stdout, [
      'Checking prometheus.yml',
      '  SUCCESS: 2 rule files found',
      ' SUCCESS: prometheus.yml is valid prometheus config file syntax',
      'Checking rules_good.yml',
      '  SUCCESS: 3 rules found',
      'Checking rules_dup.yml',
    ]);
    assertBothHaveLines(r.prom.stderr, r.ours.stderr, ['  FAILED:', 'Metric: job:up:sum', 'Might cause inconsistency while recording expressions']);
    assertSameCode(await both('check', 'config', '--lint-fatal', 'prometheus.yml'), 3);
    assertSameCode(await both('check', 'config', '--lint=none', '--lint-fatal', 'prometheus.yml'), 0);
  });

  test('check config: bad rule files, missing rule files, invalid configs', async () => {
    const bad = await both('check', 'config', 'prometheus_bad_rules.yml');
    assertSameCode(bad, 1);
    assert.match(bad.ours.stderr, /rules_bad\.yml: 5:15: group "broken", rule 1, "job:bad": could not parse expression/);
    const missing = await both('check', 'config', 'prometheus_missing_rules.yml');
    assertSameCode(missing, 1);
    assert.equal(missing.ours.stderr, missing.prom.stderr);
    assert.equal(missing.ours.stdout, missing.prom.stdout);
    const syntax = await both('check', 'config', '--syntax-only', 'prometheus_missing_rules.yml');
    assertSameCode(syntax, 0);
    assert.equal(syntax.ours.stdout, syntax.prom.stdout);
    const invalid = await both('check', 'config', 'prometheus_invalid.yml');
    assertSameCode(invalid, 1);
    for (const out of [invalid.prom.stderr, invalid.ours.stderr]) assert.match(out, /^ {2}FAILED: .*"15x"/);
    // file_sd files are read (missing ones are a warning), credentials files must exist.
    const files = await both('check', 'config', 'prometheus_files.yml');
    assertSameCode(files, 1);
    assert.equal(files.ours.stdout, files.prom.stdout);
    assert.equal(files.ours.stderr, files.prom.stderr);
  });

  test('test rules: passing files print the same report', async () => {
    for (const f of ['unittest_pass.yml', 'unittest_order.yml']) {
      const r = await both('test', 'rules', f);
      assertSameCode(r, 0);
      assert.equal(r.ours.stdout, r.prom.stdout);
      assert.equal(r.ours.stderr, '');
    }
  });

  test('test rules: failing tests print promtool failure messages', async () => {
    const r = await both('test', 'rules', 'unittest_fail.yml');
    assertSameCode(r, 1);
    assert.equal(r.ours.stderr, r.prom.stderr);
    assert.equal(r.ours.stdout, r.prom.stdout);
    // Rule files relative to a test file in another directory; its second test fails on purpose.
    const s = await both('test', 'rules', 'sub/unittest_sub.yml');
    assertSameCode(s, 1);
    assert.equal(s.ours.stderr, s.prom.stderr);
  });

  test('test rules: bad input files fail with exit code 1', async () => {
    const exact = ['unittest_bad_field.yml', 'unittest_no_alertname.yml', 'unittest_order_repeat.yml', 'unittest_bad_labels.yml'];
    for (const f of exact) {
      const r = await both('test', 'rules', f);
      assertSameCode(r, 1);
      assert.equal(r.ours.stderr, r.prom.stderr, f);
      assert.equal(r.ours.stdout, r.prom.stdout, f);
    }
    const series = await both('test', 'rules', 'unittest_bad_series.yml');
    assertSameCode(series, 1);
    for (const out of [series.prom.stderr, series.ours.stderr]) assert.match(out, /^ {2}FAILED:\n1:17: parse error: /);
    const rules = await both('test', 'rules', 'unittest_bad_rules.yml');
    assertSameCode(rules, 1);
    assertBothHaveLines(rules.prom.stderr, rules.ours.stderr, [
      'rules_bad.yml: 5:15: group "broken", rule 1, "job:bad": could not parse expression: 1:16: parse error: unclosed left parenthesis',
    ]);
    const evalErr = await both('test', 'rules', 'unittest_eval_error.yml');
    assertSameCode(evalErr, 1);
    for (const out of [evalErr.prom.stderr, evalErr.ours.stderr]) assert.match(out, /^ {2}FAILED:\n {4}rule: dup, time: 0s, err: /);
  });

  test('test rules: a rule file pattern matching nothing is a warning', async () => {
    const r = await both('test', 'rules', 'unittest_missing_rules.yml');
    assertSameCode(r, 0);
    assert.equal(r.ours.stderr, r.prom.stderr);
    assert.equal(r.ours.stdout, r.prom.stdout);
  });

  test('test rules: several files, one failing, exit 1 and a report per file', async () => {
    const r = await both('test', 'rules', 'unittest_pass.yml', 'unittest_fail.yml', 'unittest_order.yml');
    assertSameCode(r, 1);
    assert.equal(r.ours.stdout, r.prom.stdout);
    assert.equal(r.ours.stderr, r.prom.stderr);
  });

  test('test rules --run selects test groups by name; fuzzy_compare (3.x only)', async () => {
    const run = await exec(process.execPath, [TSPROM, 'test', 'rules', '--run=^pass', 'sub/unittest_sub.yml']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'Unit Testing:  sub/unittest_sub.yml\n  SUCCESS\n\n');
    const none = await exec(process.execPath, [TSPROM, 'test', 'rules', '--run', 'nomatch', '--run', 'fails', 'sub/unittest_sub.yml']);
    assert.equal(none.code, 1);
    const fuzzy = await exec(process.execPath, [TSPROM, 'test', 'rules', 'unittest_fuzzy.yml']);
    assert.equal(fuzzy.code, 0, fuzzy.stderr);
  });

  test('the shipped examples: the self-monitoring rules check, the worked example of docs/rules.md passes', async () => {
    const examples = resolve('examples');
    const checked = await both('check', 'rules', `${examples}/tsprom_self.rules.yml`, `${examples}/rules/api.yml`);
    assertSameCode(checked, 0);
    assert.equal(checked.ours.stdout, checked.prom.stdout);
    const tested = await both('test', 'rules', `${examples}/rules/api_test.yml`);
    assertSameCode(tested, 0);
    assert.equal(tested.ours.stdout, tested.prom.stdout);
  });
});
