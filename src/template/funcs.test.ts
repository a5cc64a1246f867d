import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { htmlEscape, jsEscape, queryEscape } from './funcs.js';
import { Template } from './template.js';
import { floatV, intV, stringMap, stringV, T_ANY, Value, type GoVal } from './values.js';

const LIST = new Value({ kind: 'slice', name: '[]interface {}', elem: T_ANY }, [stringV('a'), intV(2), floatV(1.5)]);
const MAP = stringMap([
  ['job', 'p'],
  ['x', ''],
]);
const DOT = new Value(
  {
    kind: 'struct',
    name: 'D',
    fields: [
      { name: 'L', type: LIST.type },
      { name: 'M', type: MAP.type },
    ],
  },
  [LIST, MAP],
);

function run(text: string, dot: GoVal = DOT): string {
  return new Template('t').parse(text).execute(dot);
}

function err(text: string): string {
  try {
    run(text);
  } catch (e) {
    return (e as Error).message.replace(/^template: t:1:\d+: executing "t" at <[^>]*>: /, '');
  }
  assert.fail(`no error: ${text}`);
}

describe('builtins', () => {
  test('and, or, not: Go truth, short-circuit, the deciding operand returned', () => {
    assert.equal(run('{{ and 1 0 }}|{{ and 1 "x" }}|{{ or 0 "" "x" }}|{{ or 0 "" }}|{{ not 0 }}|{{ not .L }}'), '0|x|x||true|false');
    // The second operand is never evaluated: it would fail.
    assert.equal(run('{{ and 0 (index .L 10) }}|{{ or 1 (index .L 10) }}'), '0|1');
    assert.equal(run('{{ 0 | and 1 }}|{{ 0 | or 1 }}'), '0|1');
    assert.equal(err('{{ and }}'), 'wrong number of args for and: want at least 1 got 0');
  });

  test('len, index, slice', () => {
    assert.equal(run('{{ len .L }}|{{ len .M }}|{{ len "héllo" }}'), '3|2|6');
    assert.equal(run('{{ index .L 1 }}|{{ index .M "job" }}|[{{ index .M "nope" }}]|{{ index "abc" 0 }}'), '2|p|[]|97');
    assert.equal(run('{{ slice "hello" 1 }}|{{ slice "hello" 1 3 }}|{{ slice .L 1 }}|{{ slice .L }}'), 'ello|el|[2 1.5]|[a 2 1.5]');
    assert.equal(err('{{ len 3 }}'), 'error calling len: len of type int');
    assert.equal(err('{{ index .L 3 }}'), 'error calling index: reflect: slice index out of range');
    assert.equal(err('{{ index .L 4 }}'), 'error calling index: index out of range: 4');
    assert.equal(err('{{ index "abc" 3 }}'), 'error calling index: reflect: string index out of range');
    assert.equal(err('{{ index .L "a" }}'), 'error calling index: cannot index slice/array with type string');
    assert.equal(err('{{ index .M 1 }}'), 'error calling index: value has type int; should be string');
    assert.equal(err('{{ index 1 1 }}'), "error calling index: can't index item of type int");
    assert.equal(err('{{ index nil 1 }}'), 'error calling index: index of untyped nil');
    assert.equal(err('{{ slice "abc" 2 1 }}'), 'error calling slice: invalid slice index: 2 > 1');
    assert.equal(err('{{ slice "abc" 1 2 3 }}'), 'error calling slice: cannot 3-index slice a string');
    assert.equal(err('{{ slice 1 }}'), "error calling slice: can't slice item of type int");
  });

  test('eq (several operands), ne, lt, le, gt, ge with Go comparison rules', () => {
    assert.equal(run('{{ eq 1 1 }}|{{ eq "a" "b" "a" }}|{{ eq .M.job "p" }}|{{ ne 1 2 }}|{{ lt 1.5 2.5 }}|{{ ge "b" "a" }}|{{ le 2 2 }}|{{ gt 3 2 }}'), 'true|true|true|true|true|true|true|true');
    assert.equal(run('{{ eq .M.nope nil }}|{{ eq (index .L 0) "a" }}|{{ lt "Z" "a" }}|{{ lt "é" "z" }}'), 'true|true|true|false');
    assert.equal(err('{{ eq 1 1.0 }}'), 'error calling eq: incompatible types for comparison');
    assert.equal(err('{{ lt "a" 1 }}'), 'error calling lt: incompatible types for comparison');
    assert.equal(err('{{ lt true false }}'), 'error calling lt: invalid type for comparison');
    assert.equal(err('{{ lt .L .L }}'), 'error calling lt: invalid type for comparison');
    assert.equal(err('{{ eq 1 }}'), 'error calling eq: missing argument for comparison');
    assert.equal(err('{{ eq .M .M }}'), 'error calling eq: non-comparable type map[job:p x:]: map[string]string');
  });

  test('print, printf, println', () => {
    assert.equal(run('{{ print 1 2 "a" "b" 3 }}|{{ printf "%d-%s" 1 "x" }}|{{ println 1 "a" }}'), '1 2ab3|1-x|1 a\n');
    assert.equal(run('{{ print nil }}|{{ print }}|{{ println }}'), '<nil>||\n');
  });

  test('html, js, urlquery', () => {
    assert.equal(run(`{{ html "<a&'\\">" }}|{{ html 1 2 }}|{{ js "<a'=\\"\\\\x>" }}|{{ js "é\\n" }}|{{ urlquery "a b&c" "é/?" }}`), '&lt;a&amp;&#39;&#34;&gt;|1 2|\\u003Ca\\\'\\u003D\\"\\\\x\\u003E|é\\u000A|a+b%26c%C3%A9%2F%3F');
    assert.equal(htmlEscape('plain'), 'plain');
    assert.equal(htmlEscape('\0'), '\ufffd');
    assert.equal(jsEscape('\u2028'), '\\u2028');
    assert.equal(queryEscape('~-_.'), '~-_.');
  });
});
