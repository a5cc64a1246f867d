import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../model/labels.js';
import { alertMismatch, exprError, exprMismatch, formatAlertList, formatFloatE, formatSamples, indentLines } from './unittest_format.js';

const L = (o: Record<string, string>): Labels => Labels.fromObject(o);

test('floats print as Go %E with the shortest digits', () => {
  assert.equal(formatFloatE(1), '1E+00');
  assert.equal(formatFloatE(-3), '-3E+00');
  assert.equal(formatFloatE(1e-7), '1E-07');
  assert.equal(formatFloatE(2250), '2.25E+03');
  assert.equal(formatFloatE(NaN), 'NaN');
  assert.equal(formatFloatE(Infinity), '+Inf');
  assert.equal(formatFloatE(-Infinity), '-Inf');
});

test('sample lists: nil when empty, else comma separated', () => {
  assert.equal(formatSamples([]), 'nil');
  assert.equal(
    formatSamples([
      { labels: L({ __name__: 'up', job: 'a' }), value: 0 },
      { labels: Labels.EMPTY, value: 1.5 },
    ]),
    '{__name__="up", job="a"} 0E+00, {} 1.5E+00',
  );
});

test('indentLines indents all lines but the first', () => {
  assert.equal(indentLines('a\nb\nc', '  '), 'a\n  b\n  c');
  assert.equal(indentLines('a', '  '), 'a');
});

test('alert lists and the alert failure message as promtool lays them out', () => {
  assert.equal(formatAlertList([]), '[]');
  const a = { labels: L({ alertname: 'X', instance: 'a' }), annotations: Labels.EMPTY };
  const b = { labels: L({ alertname: 'X', instance: 'b' }), annotations: L({ summary: 's' }) };
  assert.equal(formatAlertList([a, b]), '[\n0:\n  Labels:{alertname="X", instance="a"}\n  Annotations:{},\n1:\n  Labels:{alertname="X", instance="b"}\n  Annotations:{summary="s"}\n]');
  assert.equal(
    alertMismatch('my test', 'X', 120_000, [a], []),
    [
      '    name: my test,',
      '    alertname: X, time: 2m, ',
      '        exp:[',
      '            0:',
      '              Labels:{alertname="X", instance="a"}',
      '              Annotations:{}',
      '            ], ',
      '        got:[]',
    ].join('\n'),
  );
  assert.ok(alertMismatch('', 'X', 0, [], []).startsWith('    alertname: X, time: 0s, \n'));
});

test('expression failure messages', () => {
  assert.equal(
    exprMismatch('sum(up)', 90_000, [], [{ labels: Labels.EMPTY, value: 0 }]),
    '    expr: "sum(up)", time: 1m30s,\n        exp: nil\n        got: {} 0E+00',
  );
  assert.equal(exprError('sum(up', 0, '1:7: parse error: unclosed left parenthesis'), '    expr: "sum(up", time: 0s, err: 1:7: parse error: unclosed left parenthesis');
});
