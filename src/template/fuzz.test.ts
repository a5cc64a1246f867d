// Property test: whatever the text, parsing and expanding either succeed or
// fail with a TemplateError; nothing else escapes and nothing runs unbounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Labels } from '../model/labels.js';
import { TemplateError } from './errors.js';
import { compileAlertTemplate, type AlertTemplate } from './template.js';

const TOKENS = [
  '{{', '}}', '{{- ', ' -}}', '{{/*', '*/}}', ' ', '\n', '|', '(', ')', ',', ':=', '=', '.', '$', '$x', '$labels',
  '$value', '.Labels', '.Value', '.job', 'if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break',
  'continue', 'nil', 'true', '1', '-2.5', '0x1F', "'a'", '"s"', '`r`', '"%d %s %v %.2f %x"', 'printf', 'print', 'len',
  'index', 'slice', 'eq', 'lt', 'and', 'or', 'not', 'html', 'js', 'humanize', 'humanizeDuration', 'humanizeTimestamp',
  'query', '"up"', 'first', 'label', 'value', 'args', 'reReplaceAll', 'match', '"(a*)"', 'title', 'toUpper', 'toTime',
  'toDuration', 'parseDuration', 'stripPort', 'sortByLabel', 'x',
];

const DATA = {
  labels: Labels.fromPairs('instance', 'h:1', 'job', 'p'),
  externalLabels: Labels.EMPTY,
  externalUrl: 'http://x/y',
  value: 3.5,
};

test('random templates fail only with TemplateError', async () => {
  const texts = fc.sample(fc.array(fc.constantFrom(...TOKENS), { maxLength: 30 }).map((t) => t.join('')), { numRuns: 3000, seed: 42 });
  let parsed = 0;
  for (const text of texts) {
    let t: AlertTemplate;
    try {
      t = compileAlertTemplate(text, '__alert_F');
    } catch (e) {
      assert.ok(e instanceof TemplateError, `parse of ${JSON.stringify(text)}: ${String(e)}`);
      continue;
    }
    parsed++;
    try {
      await t.expand(DATA, {
        timestampMs: 0,
        externalUrl: '',
        queryFunc: async () => [{ labels: Labels.fromPairs('job', 'q'), value: 1 }],
      });
    } catch (e) {
      assert.ok(e instanceof TemplateError, `expansion of ${JSON.stringify(text)}: ${String(e)}`);
    }
  }
  assert.ok(parsed > 100, `only ${parsed} of the random texts parsed`);
});
