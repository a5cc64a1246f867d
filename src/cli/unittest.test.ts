import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nextAfter, parseTestMetric, runTestCommand, sameFloat } from './unittest.js';
import type { CommandIO } from './check.js';

function collect(): CommandIO & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout(s: string) {
      io.out += s;
    },
    stderr(s: string) {
      io.err += s;
    },
    readStdin: () => '',
  };
  return io;
}

const dir = mkdtempSync(join(tmpdir(), 'tsprom-unittest-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

// Rules without labels or annotations: no templates involved.
file(
  'rules.yml',
  `groups:
  - name: second
    rules:
      - record: step2
        expr: step1 * 10
  - name: first
    rules:
      - record: step1
        expr: input + 1
  - name: alerts
    rules:
      - alert: High
        expr: input > 3
        for: 2m
`,
);

async function runFile(text: string, ...flags: string[]): Promise<{ code: number; out: string; err: string }> {
  const f = file(`t${Math.random().toString(36).slice(2)}.yml`, text);
  const io = collect();
  const code = await runTestCommand(['rules', ...flags, f], io);
  return { code, out: io.out.replace(f, '<f>'), err: io.err };
}

const HEAD = 'rule_files: [rules.yml]\ngroup_eval_order: [first, second]\ntests:\n';

test('passing alert and expression tests: exit 0 and promtool report', async () => {
  const r = await runFile(
    HEAD +
      `  - interval: 1m
    input_series:
      - series: input
        values: '1+1x5 stale'
    alert_rule_test:
      - eval_time: 4m
        alertname: High
      - eval_time: 5m30s
        alertname: High
        exp_alerts: [{}]
    promql_expr_test:
      - expr: step2
        eval_time: 2m
        exp_samples: [{labels: step2, value: 40}]
      - expr: input
        eval_time: 6m
        exp_samples: []
      - expr: ALERTS
        eval_time: 5m
        exp_samples: [{labels: 'ALERTS{alertname="High", alertstate="firing"}', value: 1}]
`,
  );
  assert.equal(r.err, '');
  assert.equal(r.out, 'Unit Testing:  <f>\n  SUCCESS\n\n');
  assert.equal(r.code, 0);
});

test('failures: one stderr message and one blank stdout line each, exit 1', async () => {
  const r = await runFile(
    HEAD +
      `  - name: t
    interval: 1m
    input_series:
      - series: input
        values: '5x5'
    alert_rule_test:
      - eval_time: 1m
        alertname: High
        exp_alerts: [{exp_labels: {a: b}}]
    promql_expr_test:
      - expr: step1
        eval_time: 1m
        exp_samples: [{labels: step1, value: 5}]
`,
  );
  assert.equal(r.code, 1);
  assert.equal(r.out, 'Unit Testing:  <f>\n\n\n\n');
  assert.equal(
    r.err,
    [
      '  FAILED:',
      '    name: t,',
      '    alertname: High, time: 1m, ',
      '        exp:[',
      '            0:',
      '              Labels:{a="b", alertname="High"}',
      '              Annotations:{}',
      '            ], ',
      '        got:[]',
      '    expr: "step1", time: 1m,',
      '        exp: {__name__="step1"} 5E+00',
      '        got: {__name__="step1"} 6E+00',
      '',
    ].join('\n'),
  );
});

test('without group_eval_order a group reads what an earlier group wrote one step before', async () => {
  const r = await runFile(
    `rule_files: [rules.yml]
tests:
  - interval: 1m
    input_series:
      - series: input
        values: '1 2 3'
    promql_expr_test:
      - expr: step2
        eval_time: 2m
        exp_samples: [{labels: step2, value: 30}]
`,
  );
  assert.equal(r.err, '');
  assert.equal(r.code, 0);
});

test('start_timestamp moves the series and the eval times (3.x)', async () => {
  const r = await runFile(
    HEAD +
      `  - interval: 1m
    start_timestamp: 3600
    input_series: [{series: input, values: '1 2 3'}]
    promql_expr_test:
      - {expr: input, eval_time: 1m, exp_samples: [{labels: input, value: 2}]}
      - {expr: time(), eval_time: 1m, exp_samples: [{labels: '{}', value: 3660}]}
      - {expr: step1, eval_time: 2m, exp_samples: [{labels: step1, value: 4}]}
`,
  );
  assert.equal(r.err, '');
  assert.equal(r.code, 0);
});

test('--run selects test groups by name', async () => {
  const text =
    HEAD +
    `  - name: good one
    input_series: [{series: input, values: '1'}]
    promql_expr_test: [{expr: input, eval_time: 0m, exp_samples: [{labels: input, value: 1}]}]
  - name: bad one
    input_series: [{series: input, values: '1'}]
    promql_expr_test: [{expr: input, eval_time: 0m, exp_samples: []}]
`;
  assert.equal((await runFile(text)).code, 1);
  assert.equal((await runFile(text, '--run=^good')).code, 0);
  assert.equal((await runFile(text, '--run', 'nothing', '--run', 'bad')).code, 1);
  assert.equal((await runFile(text, '--run=(')).code, 1);
});

test('bad input: series, eval errors, missing alertname, missing rule files', async () => {
  let r = await runFile(HEAD + "  - input_series: [{series: 'up', values: '1 x'}]\n");
  assert.equal(r.code, 1);
  assert.match(r.err, /^ {2}FAILED:\n1:6: parse error: /);

  r = await runFile(HEAD + "  - input_series: [{series: 'up', values: '1'}]\n    alert_rule_test: [{eval_time: 1m}]\n");
  assert.equal(r.err, '  FAILED:\nan item under alert_rule_test misses required attribute alertname at eval_time 1m\n');

  file('errs.yml', 'groups:\n  - name: e\n    rules:\n      - record: dup\n        expr: label_replace(up, "job", "x", "", "")\n');
  r = await runFile("rule_files: [errs.yml]\ntests:\n  - input_series: [{series: 'up{job=\"a\"}', values: '1'}, {series: 'up{job=\"b\"}', values: '1'}]\n    promql_expr_test: [{expr: up, eval_time: 2m}]\n");
  assert.equal(r.code, 1);
  assert.match(r.err, /^ {2}FAILED:\n {4}rule: dup, time: 0s, err: /);

  r = await runFile("rule_files: [nothing*.yml]\ntests:\n  - input_series: [{series: 'up', values: '1'}]\n");
  assert.equal(r.code, 0);
  assert.equal(r.err, `  WARNING: no file match pattern ${join(dir, 'nothing*.yml')}\n`);
});

test('rule files are relative to the test file', async () => {
  mkdirSync(join(dir, 'sub'), { recursive: true });
  const f = file('sub/t.yml', "rule_files: [../rules.yml]\ntests:\n  - input_series: [{series: input, values: '1'}]\n    promql_expr_test: [{expr: step1, eval_time: 0m, exp_samples: [{labels: step1, value: 2}]}]\n");
  const io = collect();
  assert.equal(await runTestCommand(['rules', f], io), 0, io.err);
});

test('usage errors: no files, missing files', async () => {
  let io = collect();
  assert.equal(await runTestCommand(['rules'], io), 1);
  assert.match(io.err, /required argument/);
  io = collect();
  assert.equal(await runTestCommand(['rules', join(dir, 'missing.yml')], io), 1);
  assert.match(io.err, /does not exist/);
});

test('--junit writes one suite per file and one case per test group', async () => {
  const f = file(
    'junit.yml',
    HEAD + "  - name: a\n    input_series: [{series: input, values: '1'}]\n  - input_series: [{series: input, values: '1'}]\n    promql_expr_test: [{expr: input, eval_time: 0m}]\n",
  );
  const out = join(dir, 'junit.xml');
  const io = collect();
  assert.equal(await runTestCommand(['--junit', out, 'rules', f], io), 1);
  const xml = readFileSync(out, 'utf8');
  assert.match(xml, /^<testsuites><testsuite name="[^"]*junit\.yml" tests="2" failures="1" errors="0" skipped="0" timestamp="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d">/);
  assert.match(xml, /<testcase name="a"><\/testcase><testcase name="unnamed#1"><failure>    expr: &#34;input&#34;, time: 0s,&#xA;/);
});

test('--enable-feature reaches the rules and the test queries', async () => {
  file('exp.yml', 'groups:\n  - name: e\n    rules:\n      - record: x\n        expr: mad_over_time(up[5m])\n');
  const text = "rule_files: [exp.yml]\ntests:\n  - input_series: [{series: up, values: '1 2 3 4'}]\n    promql_expr_test: [{expr: 'x', eval_time: 3m, exp_samples: [{labels: x, value: 1}]}]\n";
  assert.equal((await runFile(text)).code, 1);
  const r = await runFile(text, '--enable-feature=promql-experimental-functions');
  assert.equal(r.err, '');
  assert.equal(r.code, 0);
});

test('--debug dumps every series of a test group to stderr', async () => {
  const r = await runFile(HEAD + "  - name: dbg\n    interval: 1m\n    input_series: [{series: input, values: '1 2'}]\n    promql_expr_test: [{expr: input, eval_time: 1m, exp_samples: [{labels: input, value: 2}]}]\n", '--debug');
  assert.equal(r.code, 0);
  assert.equal(r.out, 'Unit Testing:  <f>\n  SUCCESS\n\n');
  assert.match(r.err, /^DEBUG: Starting test dbg\nDEBUG: Dump of all data \(input_series and rules\) at 1m1s:\n/);
  // The range is left-open, as in Prometheus 3.x: the samples at 0 are not in it.
  assert.ok(r.err.includes('{__name__="input"} =>\n2 @[60000]\n{__name__="step1"} =>\n3 @[60000]\n'), r.err);
  assert.match(r.err, /DEBUG: Test dbg finished, took \S+\n$/);
});

test('fuzzy comparison allows one ulp', () => {
  assert.equal(sameFloat(0.1 + 0.2, 0.3, false), false);
  assert.equal(sameFloat(0.1 + 0.2, 0.3, true), true);
  assert.equal(sameFloat(NaN, NaN, true), false);
  assert.equal(nextAfter(1, 2), 1 + Number.EPSILON);
  assert.equal(nextAfter(0, -1), -Number.MIN_VALUE);
  assert.equal(nextAfter(-1, 0), -1 + Number.EPSILON / 2);
});

test('expected sample labels parse as one metric', () => {
  assert.equal(parseTestMetric('up{job="a"}').toString(), '{__name__="up", job="a"}');
  assert.equal(parseTestMetric('{}').toString(), '{}');
  assert.throws(() => parseTestMetric('up{a='));
  assert.throws(() => parseTestMetric('up x'));
});
