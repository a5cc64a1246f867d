import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TemplateError } from './errors.js';
import { MAX_EXEC_DEPTH, MAX_OUTPUT_CHARS, MAX_STEPS } from './exec.js';
import { Template, type MissingKey } from './template.js';
import { floatV, intV, stringMap, stringV, T_ANY, T_ANY_MAP, T_FLOAT64, T_STRING_MAP, Value, type GoType, type GoVal } from './values.js';

const DATA_TYPE: GoType = {
  kind: 'struct',
  name: 'struct { M map[string]string; L []interface {}; F float64; S string }',
  fields: [
    { name: 'M', type: T_STRING_MAP },
    { name: 'L', type: { kind: 'slice', name: '[]interface {}', elem: T_ANY } },
    { name: 'F', type: T_FLOAT64 },
    { name: 'S', type: { kind: 'string', name: 'string' } },
  ],
};

function data(): Value {
  const list = new Value(DATA_TYPE.fields![1]!.type, [stringV('a'), intV(2), floatV(1.5)]);
  return new Value(DATA_TYPE, [
    stringMap([
      ['b', 'B'],
      ['a', 'A'],
    ]),
    list,
    floatV(0.5),
    stringV('str'),
  ]);
}

function run(text: string, dot: GoVal = data(), missingKey: MissingKey = 'default'): string {
  return new Template('t', { missingKey }).parse(text).execute(dot);
}

function execError(text: string, dot: GoVal = data()): string {
  try {
    run(text, dot);
  } catch (e) {
    assert.ok(e instanceof TemplateError, String(e));
    assert.equal(e.kind, 'exec');
    return e.message;
  }
  assert.fail(`executed: ${text}`);
}

describe('actions', () => {
  test('text and output of fields, variables, literals', () => {
    assert.equal(run('x{{ .S }}|{{ .F }}|{{ .M.a }}|{{ $.S }}|{{ 1 }}|{{ 1.50 }}|{{ "q" }}|{{ `r` }}|{{ true }}|{{ \'a\' }}|{{ 0x10 }}'), 'xstr|0.5|A|str|1|1.5|q|r|true|97|16');
    assert.equal(run('{{ . }}', stringV('dot')), 'dot');
    assert.equal(run('{{ .M }}|{{ .L }}|{{ . }}'), 'map[a:A b:B]|[a 2 1.5]|{map[a:A b:B] [a 2 1.5] 0.5 str}');
  });

  test('variables: declare, assign, scope', () => {
    assert.equal(run('{{ $x := 1 }}{{ $x }}{{ $x = 2 }}{{ $x }}'), '12');
    assert.equal(run('{{ $x := 1 }}{{ if true }}{{ $x := 5 }}{{ $x }}{{ end }}{{ $x }}'), '51');
    assert.equal(run('{{ $x := 1 }}{{ if true }}{{ $x = 5 }}{{ end }}{{ $x }}'), '5');
    assert.equal(run('{{ with $x := .S }}{{ $x }}{{ end }}'), 'str');
  });

  test('if / else if / else; Go truthiness', () => {
    const truth = (v: string): string => run(`{{ if ${v} }}T{{ else }}F{{ end }}`);
    for (const v of ['true', '1', '0.1', '"x"', '.M', '.L', '.', '(slice .L 0 1)']) assert.equal(truth(v), 'T', v);
    for (const v of ['false', '0', '0.0', '""', '.M.nope', '(slice .L 0 0)']) assert.equal(truth(v), 'F', v);
    assert.equal(run('{{ if eq .S "x" }}1{{ else if eq .S "str" }}2{{ else }}3{{ end }}'), '2');
  });

  test('with / else with / else sets dot', () => {
    assert.equal(run('{{ with .M.a }}[{{ . }}]{{ end }}'), '[A]');
    assert.equal(run('{{ with .M.nope }}x{{ else with .S }}{{ . }}{{ else }}none{{ end }}'), 'str');
    assert.equal(run('{{ with "" }}x{{ else }}none{{ end }}'), 'none');
  });

  test('range over slices and maps (sorted keys), else, break, continue', () => {
    assert.equal(run('{{ range .L }}<{{ . }}>{{ end }}'), '<a><2><1.5>');
    assert.equal(run('{{ range $i, $e := .L }}{{ $i }}={{ $e }} {{ end }}'), '0=a 1=2 2=1.5 ');
    assert.equal(run('{{ range $k, $v := .M }}{{ $k }}={{ $v }} {{ end }}'), 'a=A b=B ');
    assert.equal(run('{{ range $v := .M }}{{ $v }}{{ end }}'), 'AB');
    assert.equal(run('{{ range .M.nope }}x{{ else }}empty{{ end }}'), 'empty');
    assert.equal(run('{{ range $i, $e := .L }}{{ if eq $i 1 }}{{ break }}{{ end }}{{ $e }}{{ end }}'), 'a');
    assert.equal(run('{{ range $i, $e := .L }}{{ if eq $i 1 }}{{ continue }}{{ end }}{{ $e }}{{ end }}'), 'a1.5');
    assert.equal(run('{{ range 3 }}{{ . }}{{ end }}'), '012');
    assert.equal(run('{{ $i := 0 }}{{ $e := 0 }}{{ range $i, $e = .L }}{{ end }}{{ $i }}{{ $e }}'), '21.5');
  });

  test('define, template, block; no dynamic scope', () => {
    assert.equal(run('{{ define "x" }}[{{ . }}]{{ end }}{{ template "x" .S }}{{ template "x" }}'), '[str][<no value>]');
    assert.equal(run('{{ $v := 1 }}{{ define "x" }}{{ $ }}{{ end }}{{ template "x" 2 }}'), '2');
    assert.equal(run('{{ block "b" .F }}B{{ . }}{{ end }}'), 'B0.5');
    assert.equal(new Template('t').parse('{{ block "b" . }}default{{ end }}').parse('{{ define "b" }}override{{ end }}').execute(null), 'override');
  });

  test('pipelines pass the value as the last argument', () => {
    assert.equal(run('{{ .S | printf "%s-%s" "a" }}'), 'a-str');
    assert.equal(run('{{ .L | len | printf "%03d" }}'), '003');
    assert.equal(run('{{ (len .L) }}{{ (index .L 0) | print }}'), '3a');
  });

  test('missingkey: default prints <no value>, zero gives the zero value, error fails', () => {
    assert.equal(run('{{ .M.nope }}'), '<no value>');
    assert.equal(run('[{{ .M.nope }}]', data(), 'zero'), '[]');
    const anyMap = new Value(T_ANY_MAP, new Map());
    assert.equal(run('{{ .nope }}', anyMap, 'zero'), '<no value>');
    assert.throws(() => run('{{ .M.nope }}', data(), 'error'), {
      message: 'template: t:1:5: executing "t" at <.M.nope>: map has no entry for key "nope"',
    });
  });

  test('trim markers and comments', () => {
    assert.equal(run('a  {{- .S -}}  b {{/* c */}}d\n {{- /* e */ -}} \nf'), 'astrb df');
  });
});

describe('execution errors', () => {
  test("Go's wording, with line:column of the node", () => {
    const cases: Array<[string, string]> = [
      ['{{ .Nope }}', `template: t:1:3: executing "t" at <.Nope>: can't evaluate field Nope in type ${DATA_TYPE.name}`],
      ['{{ .S.x }}', `template: t:1:5: executing "t" at <.S.x>: can't evaluate field x in type string`],
      ['{{ .M.a 1 }}', 'template: t:1:5: executing "t" at <.M.a>: a is not a method but has arguments'],
      ['{{ .S 1 }}', 'template: t:1:3: executing "t" at <.S>: S has arguments but cannot be invoked as function'],
      ['{{ "a" . }}', 'template: t:1:3: executing "t" at <"a">: can\'t give argument to non-function "a"'],
      ['{{ nil }}', 'template: t:1:3: executing "t" at <nil>: nil is not a command'],
      ['{{ range .F }}{{ end }}', 'template: t:1:9: executing "t" at <.F>: range can\'t iterate over 0.5'],
      ['{{ template "z" }}', 'template: t:1:12: executing "t" at <{{template "z"}}>: template "z" not defined'],
      ['{{ len 3 }}', 'template: t:1:3: executing "t" at <len 3>: error calling len: len of type int'],
      ['{{ printf 1 }}', 'template: t:1:10: executing "t" at <1>: expected string; found 1'],
      ['{{ printf }}', 'template: t:1:3: executing "t" at <printf>: wrong number of args for printf: want at least 1 got 0'],
      ['{{ not 1 2 }}', 'template: t:1:3: executing "t" at <not>: wrong number of args for not: want 1 got 2'],
      ['{{ .F | printf }}', 'template: t:1:8: executing "t" at <printf>: wrong type for value; expected string; got float64'],
      ['{{ 99999999999999999999.5 | len }}', 'template: t:1:28: executing "t" at <len>: error calling len: len of type float64'],
      ['\n\n  {{ .Nope }}', `template: t:3:5: executing "t" at <.Nope>: can't evaluate field Nope in type ${DATA_TYPE.name}`],
      ['é{{ .Nope }}', `template: t:1:5: executing "t" at <.Nope>: can't evaluate field Nope in type ${DATA_TYPE.name}`],
      ['{{ define "d" }}{{ .x }}{{ end }}{{ template "d" 1 }}', 'template: t:1:19: executing "d" at <.x>: can\'t evaluate field x in type int'],
    ];
    for (const [text, msg] of cases) assert.equal(execError(text), msg, text);
  });

  test('a nil pointer and an untyped nil', () => {
    const ptrType: GoType = { kind: 'ptr', name: '*T', elem: { kind: 'struct', name: 'T', fields: [{ name: 'X', type: T_FLOAT64 }] } };
    assert.equal(execError('{{ .X }}', new Value(ptrType, null)), 'template: t:1:3: executing "t" at <.X>: nil pointer evaluating *T.X');
    assert.equal(run('{{ .X }}', null), '<no value>');
    assert.equal(run('{{ . }}', new Value(ptrType, null)), '<nil>');
  });
});

describe('bounds', () => {
  test('template recursion', () => {
    const msg = execError('{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}');
    assert.match(msg, new RegExp(`exceeded maximum template depth \\(${MAX_EXEC_DEPTH}\\)$`));
  });

  test('work: exponential template calls stop', () => {
    const msg = execError('{{ define "r" }}{{ template "r" . }}{{ template "r" . }}{{ end }}{{ template "r" . }}');
    assert.ok(msg.endsWith(`execution exceeds ${MAX_STEPS} steps`) || msg.includes('exceeded maximum template depth'), msg);
    const nested = '{{ range $.L }}'.repeat(20) + 'x' + '{{ end }}'.repeat(20);
    assert.ok(execError(nested).endsWith(`execution exceeds ${MAX_STEPS} steps`));
  });

  test('output size', () => {
    const text = '{{ define "r" }}' + 'x'.repeat(10000) + '{{ end }}' + '{{ range $.L }}'.repeat(6) + '{{ template "r" }}' + '{{ end }}'.repeat(6);
    assert.ok(execError(text).endsWith(`output exceeds ${MAX_OUTPUT_CHARS} characters`));
  });
});
