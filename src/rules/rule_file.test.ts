import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findDuplicateRules, lintRuleFile, loadRuleFile, loadRuleFiles, parseRuleFile } from './rule_file.js';

function errs(text: string): string[] {
  return parseRuleFile(text, 'r.yml').errors.map((e) => e.message);
}

describe('parseRuleFile', () => {
  it('decodes groups and rules', () => {
    const { groups, errors } = parseRuleFile(
      `groups:
- name: g
  interval: 30s
  query_offset: 1m
  limit: 10
  labels: {team: a}
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
    labels: {x: "1", drop: ""}
  - alert: Down
    expr: up == 0
    for: 5m
    keep_firing_for: 1m
    annotations:
      summary: down
- name: h
  rules: []
`,
      'r.yml',
    );
    assert.deepEqual(errors, []);
    assert.equal(groups.length, 2);
    const g = groups[0]!;
    assert.equal(g.name, 'g');
    assert.equal(g.file, 'r.yml');
    assert.equal(g.intervalMs, 30_000);
    assert.equal(g.queryOffsetMs, 60_000);
    assert.equal(g.limit, 10);
    assert.equal(g.labels.get('team'), 'a');
    assert.equal(g.rules[0]!.record, 'job:up:sum');
    assert.equal(g.rules[0]!.labels.get('x'), '1');
    assert.deepEqual(g.rules[0]!.removedLabels, ['drop']);
    assert.equal(g.rules[0]!.line, 8);
    assert.equal(g.rules[1]!.alert, 'Down');
    assert.equal(g.rules[1]!.forMs, 300_000);
    assert.equal(g.rules[1]!.keepFiringForMs, 60_000);
    assert.equal(g.rules[1]!.annotations.get('summary'), 'down');
    assert.equal(groups[1]!.queryOffsetMs, null);
    assert.equal(groups[1]!.intervalMs, 0);
  });

  it('follows anchors, aliases and merge keys', () => {
    const { groups, errors } = parseRuleFile(
      `groups:
- name: g
  rules:
  - &a
    alert: A
    expr: &e up == 0
    labels: {severity: &s critical}
  - record: r
    expr: *e
  - <<: *a
    alert: B
`,
      'r.yml',
    );
    assert.deepEqual(errors, []);
    const rules = groups[0]!.rules;
    assert.equal(rules[1]!.expr, 'up == 0');
    assert.equal(rules[2]!.alert, 'B');
    assert.equal(rules[2]!.labels.get('severity'), 'critical');
  });

  it('accepts an empty file', () => {
    assert.deepEqual(parseRuleFile('', 'r.yml'), { groups: [], errors: [] });
    assert.deepEqual(parseRuleFile('# nothing\n', 'r.yml'), { groups: [], errors: [] });
  });

  it('reports unknown fields as yaml.v3 does', () => {
    assert.deepEqual(
      errs(`groups:
- name: g1
  rules:
  - record: foo
    expr: up
    foo: 1
  bar: 2
baz: 3
`),
      [
        'r.yml: yaml: unmarshal errors:\n  line 6: field foo not found in type rulefmt.Rule\n  line 7: field bar not found in type rulefmt.RuleGroup\n  line 8: field baz not found in type rulefmt.RuleGroups',
      ],
    );
    assert.deepEqual(parseRuleFile('groups:\n- name: g\n  foo: 1\n  rules: []\n', 'r.yml', { ignoreUnknownFields: true }).errors, []);
  });

  it('reports type errors and bad durations', () => {
    assert.deepEqual(errs('groups:\n- name: g\n  limit: abc\n  rules: []\n'), ['r.yml: yaml: unmarshal errors:\n  line 3: cannot unmarshal !!str `abc` into int']);
    assert.deepEqual(errs('groups:\n- name: g\n  interval: 5x\n  rules: []\n'), ['r.yml: unknown unit "x" in duration "5x"']);
    assert.deepEqual(errs('groups:\n- name: g\n  rules: {a: b}\n'), ['r.yml: yaml: unmarshal errors:\n  line 3: cannot unmarshal !!map into []rulefmt.Rule']);
    assert.deepEqual(errs('groups:\n- name: g\n  name: h\n  rules: []\n'), ['r.yml: yaml: unmarshal errors:\n  line 3: mapping key "name" already defined at line 2']);
    assert.match(errs('groups:\n- name: [\n')[0]!, /^r\.yml: yaml: line \d+: /);
  });

  it('reports group errors with positions', () => {
    assert.deepEqual(errs('groups:\n- name: g1\n  rules: []\n- name: g1\n  rules: []\n- name: ""\n  rules: []\n'), [
      'r.yml: 4:3: groupname: "g1" is repeated in the same file',
      'r.yml: 6:3: Groupname must not be empty',
    ]);
    assert.deepEqual(errs('groups:\n- name: g\n  labels: {__name__: x}\n  rules: []\n'), ['r.yml: invalid label name: __name__']);
  });

  it('reports rule errors as Prometheus 3 does', () => {
    assert.deepEqual(
      errs(`groups:
- name: g1
  rules:
  - record: foo{a="b"}
    expr: up ==== 1
    for: 5m
    keep_firing_for: 1m
    labels:
      __name__: x
    annotations:
      a: b
  - expr: up
  - record: r
    alert: A
    expr: up
  - alert: B
`),
      [
        'r.yml: 5:11: group "g1", rule 1, "foo{a=\\"b\\"}": could not parse expression: 1:6: parse error: unexpected <op:==>',
        `r.yml: 4:13: group "g1", rule 1, "foo{a=\\"b\\"}": invalid field 'annotations' in recording rule`,
        `r.yml: 4:13: group "g1", rule 1, "foo{a=\\"b\\"}": invalid field 'for' in recording rule`,
        `r.yml: 4:13: group "g1", rule 1, "foo{a=\\"b\\"}": invalid field 'keep_firing_for' in recording rule`,
        'r.yml: 4:13: group "g1", rule 1, "foo{a=\\"b\\"}": braces present in the recording rule name; should it be in expr?: foo{a="b"}',
        'r.yml: group "g1", rule 1, "foo{a=\\"b\\"}": invalid label name: __name__',
        `r.yml: 0:0: 0:0: group "g1", rule 2, "": one of 'record' or 'alert' must be set`,
        `r.yml: 13:13: 14:12: group "g1", rule 3, "A": only one of 'record' and 'alert' must be set`,
        `r.yml: 0:0: group "g1", rule 4, "B": field 'expr' must be set in rule`,
      ],
    );
  });

  it('accepts UTF-8 names (Prometheus 3 validation)', () => {
    assert.deepEqual(errs('groups:\n- name: g\n  rules:\n  - record: "1a.b"\n    expr: up\n    labels: {"a-b": c}\n'), []);
  });

  it('checks alert templates under the name __alert_<alert>', () => {
    const e = errs(`groups:
- name: g
  rules:
  - alert: A
    expr: up
    labels: {sev: "{{ .Foo"}
    annotations: {summary: "{{ $label.instance }}", plain: "no template"}
`);
    assert.equal(e.length, 2);
    assert.match(e[0]!, /^r\.yml: group "g", rule 1, "A": label "sev": template: __alert_A:1: /);
    assert.match(e[1]!, /^r\.yml: group "g", rule 1, "A": annotation "summary": template: __alert_A:1: undefined variable "\$label"/);
  });
});

describe('loading files', () => {
  it('reads files, expands globs and reports read errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-'));
    writeFileSync(join(dir, 'a.yml'), 'groups:\n- name: a\n  rules:\n  - record: r\n    expr: up\n');
    writeFileSync(join(dir, 'b.yml'), 'groups:\n- name: b\n  rules: []\n');
    writeFileSync(join(dir, 'c.txt'), 'not: [yaml');
    const r = loadRuleFiles([join(dir, '*.yml'), join(dir, 'missing.yml')]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(
      r.groups.map((g) => [g.file, g.name]),
      [
        [join(dir, 'a.yml'), 'a'],
        [join(dir, 'b.yml'), 'b'],
      ],
    );
    const missing = join(dir, 'missing.yml');
    assert.deepEqual(
      loadRuleFile(missing).errors.map((e) => e.message),
      [`${missing}: open ${missing}: no such file or directory`],
    );
    assert.equal(loadRuleFiles([join(dir, '[')]).errors[0]!.message, `${join(dir, '[')}: syntax error in pattern`);
    writeFileSync(join(dir, 'bad.yml'), 'groups:\n- name: ""\n');
    assert.equal(loadRuleFiles([join(dir, '*.yml')]).groups.length, 0);
  });
});

describe('lint', () => {
  it('finds rules with the same name and labels', () => {
    const { groups } = parseRuleFile(
      `groups:
- name: a
  labels: {team: t}
  rules:
  - alert: X
    expr: up
  - alert: X
    expr: up == 0
  - alert: X
    expr: up
  - record: r
    expr: up
    labels: {a: b}
  - record: r
    expr: up
    labels: {a: c}
`,
      'r.yml',
    );
    const dups = findDuplicateRules(groups);
    assert.equal(dups.length, 1);
    assert.equal(dups[0]!.metric, 'X');
    assert.deepEqual(lintRuleFile(groups), ['lint error 1 duplicate rule(s) found.\nMetric: X\nLabel(s):\n\tteam: t\nMight cause inconsistency while recording expressions']);
    assert.deepEqual(lintRuleFile([]), []);
  });
});
