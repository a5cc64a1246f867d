import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TemplateError } from './errors.js';
import { Lexer, Tok } from './lexer.js';
import { nodeString, parseTemplate, type Tree } from './parse.js';

function lex(text: string): string[] {
  const l = new Lexer(text, true, true);
  const out: string[] = [];
  for (;;) {
    const t = l.nextItem();
    out.push(`${Tok[t.typ]}:${t.val}`);
    if (t.typ === Tok.EOF || t.typ === Tok.Error) return out;
  }
}

const FUNCS = new Set(['printf', 'len', 'humanize', 'eq']);

function parse(text: string): Map<string, Tree> {
  const trees = new Map<string, Tree>();
  parseTemplate('t', text, (n) => FUNCS.has(n), trees);
  return trees;
}

function parseError(text: string): string {
  try {
    parse(text);
  } catch (e) {
    assert.ok(e instanceof TemplateError);
    assert.equal(e.kind, 'parse');
    return e.message;
  }
  assert.fail(`parsed: ${text}`);
}

describe('lexer', () => {
  test('text, actions, operands', () => {
    assert.deepEqual(lex('a{{ .X.Y $v | printf "%d" 1.5e3 }}b'), [
      'Text:a',
      'LeftDelim:{{',
      'Space: ',
      'Field:.X',
      'Field:.Y',
      'Space: ',
      'Variable:$v',
      'Space: ',
      'Pipe:|',
      'Space: ',
      'Identifier:printf',
      'Space: ',
      'String:"%d"',
      'Space: ',
      'Number:1.5e3',
      'Space: ',
      'RightDelim:}}',
      'Text:b',
      'EOF:',
    ]);
  });

  test('keywords, bools, nil, chars, raw strings, numbers', () => {
    assert.deepEqual(lex("{{if true}}{{else}}{{end}}{{nil}}{{'a'}}{{`r`}}{{-1}}{{0x1F}}{{+2}}"), [
      'LeftDelim:{{',
      'If:if',
      'Space: ',
      'Bool:true',
      'RightDelim:}}',
      'LeftDelim:{{',
      'Else:else',
      'RightDelim:}}',
      'LeftDelim:{{',
      'End:end',
      'RightDelim:}}',
      'LeftDelim:{{',
      'Nil:nil',
      'RightDelim:}}',
      'LeftDelim:{{',
      "CharConstant:'a'",
      'RightDelim:}}',
      'LeftDelim:{{',
      'RawString:`r`',
      'RightDelim:}}',
      'LeftDelim:{{',
      'Number:-1',
      'RightDelim:}}',
      'LeftDelim:{{',
      'Number:0x1F',
      'RightDelim:}}',
      'LeftDelim:{{',
      'Number:+2',
      'RightDelim:}}',
      'EOF:',
    ]);
  });

  test('trim markers eat the spaces beside them; comments vanish', () => {
    assert.deepEqual(lex('a  {{- 1 -}}  b {{/* c */}}d\n {{- /* e */ -}} \nf'), [
      'Text:a',
      'LeftDelim:{{',
      'Number:1',
      'RightDelim:}}',
      'Text:b ',
      'Text:d',
      'Text:f',
      'EOF:',
    ]);
  });

  test('lexical errors', () => {
    assert.deepEqual(lex('{{ "abc }}').at(-1), 'Error:unterminated quoted string');
    assert.deepEqual(lex('{{ `abc').at(-1), 'Error:unterminated raw quoted string');
    assert.deepEqual(lex("{{ 'a").at(-1), 'Error:unterminated character constant');
    assert.deepEqual(lex('{{ 3x }}').at(-1), 'Error:bad number syntax: "3x"');
    assert.ok(lex('{{ @ }}').includes('Char:@'));
    assert.deepEqual(lex('{{ § }}').at(-1), "Error:unrecognized character in action: U+00A7 '§'");
    assert.deepEqual(lex('{{ .a# }}').at(-1), "Error:bad character U+0023 '#'");
    assert.deepEqual(lex('{{ (1 }}').at(-1), 'Error:unclosed left paren');
    assert.deepEqual(lex('{{ 1) }}').at(-1), 'Error:unexpected right paren');
    assert.deepEqual(lex('{{/* x').at(-1), 'Error:unclosed comment');
    assert.deepEqual(lex('{{/* x */ }}').at(-1), 'Error:comment ends before closing delimiter');
    assert.deepEqual(lex('{{ x : }}').at(-1), 'Error:expected :=');
  });
});

describe('parser', () => {
  test('builds the tree and prints it back as Go does', () => {
    const t = parse('a{{ $x := .A.B | printf "%d" }}{{ if eq $x 1 }}one{{ else if $x }}x{{ else }}no{{ end }}{{ range $i, $e := . }}{{ $e }}{{ end }}{{ with (len .) }}{{ . }}{{ end }}');
    assert.deepEqual([...t.keys()], ['t']);
    assert.equal(
      nodeString(t.get('t')!.root),
      'a{{$x := .A.B | printf "%d"}}{{if eq $x 1}}one{{else}}{{if $x}}x{{else}}no{{end}}{{end}}{{range $i, $e := .}}{{$e}}{{end}}{{with (len .)}}{{.}}{{end}}',
    );
  });

  test('define, block and template', () => {
    const t = parse('{{ define "a" }}A{{ . }}{{ end }}{{ template "a" 1 }}{{ block "b" . }}B{{ end }}');
    assert.deepEqual([...t.keys()].sort(), ['a', 'b', 't']);
    assert.equal(nodeString(t.get('t')!.root), '{{template "a" 1}}{{template "b" .}}');
    assert.equal(nodeString(t.get('b')!.root), 'B');
  });

  test('a definition that is only space may be redefined', () => {
    const t = parse('{{ define "a" }} {{ end }}{{ define "a" }}x{{ end }}');
    assert.equal(nodeString(t.get('a')!.root), 'x');
  });

  test("errors in Go's words, with the line", () => {
    const cases: Array<[string, string]> = [
      ['{{ foo }}', 'function "foo" not defined'],
      ['{{ }', 'unexpected "}" in command'],
      ['{{ .x', 'unclosed action'],
      ['{{ if 1 }}x', 'unexpected EOF'],
      ['{{ end }}', 'unexpected {{end}}'],
      ['{{ else }}', 'unexpected {{else}}'],
      ['{{ $x }}', 'undefined variable "$x"'],
      ['{{ 1 | 2 }}', 'non executable command in pipeline stage 2'],
      ['{{ range $a, $b, $c := . }}{{ end }}', 'too many declarations in range'],
      ['{{ $a, $b := 1 }}', 'too many declarations in command'],
      ['{{ break }}', '{{break}} outside {{range}}'],
      ['{{ continue }}', '{{continue}} outside {{range}}'],
      ['{{ template }}', 'unexpected "}}" in template clause'],
      ['{{ define "x" }}a{{ end }}{{ define "x" }}b{{ end }}', 'template: multiple definition of template "x"'],
      ['{{ $x := 1 }}{{ $x = }}', 'missing value for command'],
      ['{{ with }}', 'missing value for with'],
      ["{{ 'ab' }}", "malformed character constant: 'ab'"],
      ['{{ 99999999999999999999 }}', 'integer overflow: "99999999999999999999"'],
      ['{{ 1.a }}', 'bad number syntax: "1.a"'],
      ['{{ "a" | printf }}{{ "x".y }}', 'unexpected . after term "\\"x\\""'],
      ['{{ @ }}', 'unexpected "@" in command'],
      ['{{ 1) }}', 'unexpected right paren'],
      ['{{ (1 }}', 'unclosed left paren'],
      ['{{ "\\q" }}', 'invalid syntax'],
      ['{{ range . }}{{ else }}{{ else }}{{ end }}', 'expected end; found {{else}}'],
      ['{{ define "a" }}{{ else }}', 'unexpected {{else}} in define clause'],
      ['{{ aVeryLongIdentifierName2 := 1 }}', 'function "aVeryLongIdentifierName2" not defined'],
    ];
    for (const [text, msg] of cases) assert.equal(parseError(text), `template: t:1: ${msg}`, text);
    assert.equal(parseError('a\n{{ if\n1 }}'), 'template: t:3: unexpected EOF');
    assert.equal(parseError('a\n\n{{ nope }}'), 'template: t:3: function "nope" not defined');
    assert.equal(parseError('{{ 1 \n'), 'template: t:2: unclosed action started at t:1');
    assert.equal(parseError('{{ "a\n" }}'), 'template: t:1: unterminated quoted string');
  });

  test('bounded nesting', () => {
    assert.equal(parseError('{{ ' + '('.repeat(2000) + '1' + ')'.repeat(2000) + ' }}'), 'template: t:1: max expression depth exceeded');
    assert.equal(parseError('{{ if 1 }}'.repeat(5000) + '{{ end }}'.repeat(5000)), 'template: t:1: max expression depth exceeded');
  });
});
