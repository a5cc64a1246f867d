import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTimestamp, parseUnitTestFile, UnitTestFileError } from './unittest_file.js';

test('a full unit-test file decodes with defaults for what is left out', () => {
  const f = parseUnitTestFile(`
rule_files: [a.yml, "rules/*.yml"]
evaluation_interval: 30s
group_eval_order: [g2, g1]
fuzzy_compare: yes
tests:
  - name: t1
    interval: 15s
    external_labels: {env: prod}
    external_url: http://x
    start_timestamp: 1700000000
    input_series:
      - series: 'up{job="a"}'
        values: 1 2 3
    alert_rule_test:
      - eval_time: 5m
        alertname: Down
        exp_alerts:
          - exp_labels: {severity: page}
            exp_annotations: {summary: s}
          - {}
    promql_expr_test:
      - expr: up
        eval_time: 1m
        exp_samples:
          - labels: 'up{job="a"}'
            value: 1e-7
          - labels: '{}'
            value: .inf
  - input_series: []
`);
  assert.deepEqual(f.ruleFiles, ['a.yml', 'rules/*.yml']);
  assert.equal(f.evaluationIntervalMs, 30_000);
  assert.deepEqual(f.groupEvalOrder, ['g2', 'g1']);
  assert.equal(f.fuzzyCompare, true);
  assert.equal(f.tests.length, 2);
  const t = f.tests[0]!;
  assert.equal(t.name, 't1');
  assert.equal(t.intervalMs, 15_000);
  assert.equal(t.externalLabels.toString(), '{env="prod"}');
  assert.equal(t.externalUrl, 'http://x');
  assert.equal(t.startTimestampMs, 1_700_000_000_000);
  assert.deepEqual(t.inputSeries, [{ series: 'up{job="a"}', values: '1 2 3' }]);
  assert.equal(t.alertRuleTests[0]!.evalTimeMs, 300_000);
  assert.equal(t.alertRuleTests[0]!.alertname, 'Down');
  assert.deepEqual([...t.alertRuleTests[0]!.expAlerts[0]!.expLabels], [['severity', 'page']]);
  assert.equal(t.alertRuleTests[0]!.expAlerts[1]!.expAnnotations.size, 0);
  assert.deepEqual(t.promqlExprTests[0]!.expSamples.map((s) => s.value), [1e-7, Infinity]);
  const u = f.tests[1]!;
  assert.equal(u.intervalMs, 0);
  assert.equal(u.name, '');
  assert.equal(u.startTimestampMs, null);
});

test('unknown fields and wrong types are reported together, by line, as promtool words them', () => {
  assert.throws(
    () => parseUnitTestFile('tests:\n  - interval: 1m\n    input_series:\n      - series: up\n        extra: x\n    bogus: 1\n'),
    (e: unknown) => {
      assert.ok(e instanceof UnitTestFileError);
      assert.equal(
        e.message,
        'yaml: unmarshal errors:\n  line 5: field extra not found in type main.series\n  line 6: field bogus not found in type main.testGroup',
      );
      return true;
    },
  );
  assert.throws(
    () => parseUnitTestFile('tests:\n  - promql_expr_test:\n      - exp_samples:\n          - value: "1"\n'),
    /line 4: cannot unmarshal !!str `1` into float64/,
  );
  assert.throws(() => parseUnitTestFile('rule_files: a.yml\n'), /line 1: cannot unmarshal !!str `a.yml` into \[\]string/);
  assert.throws(() => parseUnitTestFile('fuzzy_compare: 3\n'), /cannot unmarshal !!int `3` into bool/);
});

test('a bad duration stops decoding with its own message', () => {
  assert.throws(() => parseUnitTestFile('evaluation_interval: 1x\n'), { message: 'unknown unit "x" in duration "1x"' });
  assert.throws(() => parseUnitTestFile('tests:\n  - interval: abc\n'), { message: 'not a valid duration string: "abc"' });
});

test('YAML syntax errors name the line', () => {
  assert.throws(() => parseUnitTestFile('tests: [\n'), /^UnitTestFileError: yaml: line \d+: /);
});

test('start timestamps: Unix seconds or RFC 3339', () => {
  assert.equal(parseTimestamp('1.5'), 1500);
  assert.equal(parseTimestamp('2024-01-02T03:04:05Z'), Date.UTC(2024, 0, 2, 3, 4, 5));
  assert.equal(parseTimestamp('2024-01-02T03:04:05+01:00'), Date.UTC(2024, 0, 2, 2, 4, 5));
  assert.equal(parseTimestamp('yesterday'), null);
});
