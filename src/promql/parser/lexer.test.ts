import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeToken, Lexer, T, type Token } from './lexer.js';

const NAMES = new Map<number, string>(Object.entries(T).map(([k, v]) => [v, k]));

/** All tokens as `TYPE:text` (ERROR as `ERROR:message`), up to and including EOF or ERROR. */
function lex(input: string): string[] {
  const l = new Lexer(input);
  const out: string[] = [];
  for (;;) {
    const t = l.next();
    const name = NAMES.get(t.type)!;
    out.push(t.type === T.ERROR ? `ERROR:${t.msg}` : `${name}:${input.slice(t.pos, t.end)}`);
    if (t.type === T.EOF || t.type === T.ERROR) return out;
  }
}

describe('lexer', () => {
  test('operators and punctuation', () => {
    assert.deepEqual(lex('+ - * / % ^ == != <= < >= > </ >/ @ , ( )'), [
      'ADD:+',
      'SUB:-',
      'MUL:*',
      'DIV:/',
      'MOD:%',
      'POW:^',
      'EQLC:==',
      'NEQ:!=',
      'LTE:<=',
      'LSS:<',
      'GTE:>=',
      'GTR:>',
      'TRIM_UPPER:</',
      'TRIM_LOWER:>/',
      'AT:@',
      'COMMA:,',
      'LEFT_PAREN:(',
      'RIGHT_PAREN:)',
      'EOF:',
    ]);
  });

  test('keywords are case-insensitive; identifiers with colons are metric identifiers', () => {
    assert.deepEqual(lex('SUM by Offset and foo foo:bar inf NaN'), [
      'SUM:SUM',
      'BY:by',
      'OFFSET:Offset',
      'LAND:and',
      'IDENTIFIER:foo',
      'METRIC_IDENTIFIER:foo:bar',
      'NUMBER:inf',
      'NUMBER:NaN',
      'EOF:',
    ]);
  });

  test('fill keywords only before a parenthesis', () => {
    assert.deepEqual(lex('fill fill_left (1)'), ['IDENTIFIER:fill', 'FILL_LEFT:fill_left', 'LEFT_PAREN:(', 'NUMBER:1', 'RIGHT_PAREN:)', 'EOF:']);
  });

  test('inside braces keywords are plain identifiers', () => {
    assert.deepEqual(lex('{by="a", sum!~"b", "c"=~`d`}'), [
      'LEFT_BRACE:{',
      'IDENTIFIER:by',
      'EQL:=',
      'STRING:"a"',
      'COMMA:,',
      'IDENTIFIER:sum',
      'NEQ_REGEX:!~',
      'STRING:"b"',
      'COMMA:,',
      'STRING:"c"',
      'EQL_REGEX:=~',
      'STRING:`d`',
      'RIGHT_BRACE:}',
      'EOF:',
    ]);
  });

  test('numbers and durations', () => {
    assert.deepEqual(lex('1 1.5 .5 5. 1e3 1E-3 0x1F 1_000 5m 1h30m 250ms 2y'), [
      'NUMBER:1',
      'NUMBER:1.5',
      'NUMBER:.5',
      'NUMBER:5.',
      'NUMBER:1e3',
      'NUMBER:1E-3',
      'NUMBER:0x1F',
      'NUMBER:1_000',
      'DURATION:5m',
      'DURATION:1h30m',
      'DURATION:250ms',
      'DURATION:2y',
      'EOF:',
    ]);
    assert.deepEqual(lex('1.2.3'), ['ERROR:bad number or duration syntax: "1.2."']);
    assert.deepEqual(lex('0x1.5'), ['ERROR:bad number or duration syntax: "0x1."']);
    assert.deepEqual(lex('5mx'), ['ERROR:bad number or duration syntax: "5mx"']);
  });

  test('ranges switch to the duration mode', () => {
    assert.deepEqual(lex('x[ 5m:step() ]'), [
      'IDENTIFIER:x',
      'LEFT_BRACKET:[',
      'DURATION:5m',
      'COLON::',
      'STEP:step',
      'LEFT_PAREN:(',
      'RIGHT_PAREN:)',
      'RIGHT_BRACKET:]',
      'EOF:',
    ]);
    assert.deepEqual(lex('x[min_of(1,2)*-3]'), [
      'IDENTIFIER:x',
      'LEFT_BRACKET:[',
      'MIN_OF:min_of',
      'LEFT_PAREN:(',
      'NUMBER:1',
      'COMMA:,',
      'NUMBER:2',
      'RIGHT_PAREN:)',
      'MUL:*',
      'SUB:-',
      'NUMBER:3',
      'RIGHT_BRACKET:]',
      'EOF:',
    ]);
    assert.deepEqual(lex('x[foo]'), ['IDENTIFIER:x', 'LEFT_BRACKET:[', "ERROR:unexpected character in duration expression: 'f'"]);
    assert.deepEqual(lex('x[:5m]').at(-1), 'ERROR:unexpected colon before duration in duration expression');
  });

  test('comments', () => {
    assert.deepEqual(lex('a # x\n+ b'), ['IDENTIFIER:a', 'COMMENT:# x', 'ADD:+', 'IDENTIFIER:b', 'EOF:']);
  });

  test('unbalanced brackets and strange characters', () => {
    assert.deepEqual(lex('(a'), ['LEFT_PAREN:(', 'IDENTIFIER:a', 'ERROR:unclosed left parenthesis']);
    assert.deepEqual(lex('a)'), ['IDENTIFIER:a', "ERROR:unexpected right parenthesis ')'"]);
    assert.deepEqual(lex('a]'), ['IDENTIFIER:a', "ERROR:unexpected right bracket ']'"]);
    assert.deepEqual(lex('a ☺'), ['IDENTIFIER:a', "ERROR:unexpected character: '☺'"]);
    assert.deepEqual(lex('a \u0007'), ['IDENTIFIER:a', "ERROR:unexpected character: '\\a'"]);
    assert.deepEqual(lex('a 😀'), ['IDENTIFIER:a', "ERROR:unexpected character: '😀'"]);
  });

  test('errors span from their start to the end of the input', () => {
    const l = new Lexer('a "unterminated');
    l.next();
    const t = l.next();
    assert.equal(t.type, T.ERROR);
    assert.deepEqual([t.pos, t.end], [2, 15]);
    assert.equal(l.next().type, T.EOF);
  });

  test('token descriptions', () => {
    const d = (type: number, text: string): string => describeToken({ type, pos: 0, end: text.length } as Token, text);
    assert.equal(d(T.IDENTIFIER, 'foo'), 'identifier "foo"');
    assert.equal(d(T.METRIC_IDENTIFIER, 'a:b'), 'metric identifier "a:b"');
    assert.equal(d(T.NUMBER, '1.5'), 'number "1.5"');
    assert.equal(d(T.DURATION, '5m'), 'duration "5m"');
    assert.equal(d(T.STRING, '"abc"'), 'string "\\"abc\\""');
    assert.equal(d(T.STRING, '"0123456789abc"'), 'string "\\"012345678"...');
    assert.equal(d(T.SUM, 'Sum'), '<aggr:Sum>');
    assert.equal(d(T.BY, 'by'), '<by>');
    assert.equal(d(T.LAND, 'and'), '<op:and>');
    assert.equal(d(T.COMMA, ','), '","');
    assert.equal(d(T.START, 'start'), '"start"');
    assert.equal(d(T.EOF, ''), 'end of input');
  });
});
