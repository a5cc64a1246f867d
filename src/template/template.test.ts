import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../model/labels.js';
import { compileAlertTemplate, GoError, PROMETHEUS_FUNCS, Template, TemplateError, Value, type ExpandOptions, type GoFunc } from './template.js';
import { stringV, T_STRING } from './values.js';

const DATA = {
  labels: Labels.fromPairs('alertname', 'A', 'instance', 'h:9090', 'job', 'p'),
  externalLabels: Labels.fromPairs('region', 'eu'),
  externalUrl: 'http://example.com',
  value: 42.5,
};

function options(log: string[], results: (q: string) => Array<{ labels: Labels; value: number }> = () => []): ExpandOptions {
  return {
    timestampMs: 1_000,
    externalUrl: 'http://example.com',
    queryFunc: async (q) => {
      log.push(q);
      return results(q);
    },
  };
}

describe('compileAlertTemplate', () => {
  test('defines $labels, $externalLabels, $externalURL, $value; missing labels are empty', async () => {
    const t = compileAlertTemplate('{{ $labels.job }}/{{ $labels.instance }} {{ $externalLabels.region }} {{ $externalURL }} {{ $value }} [{{ $labels.nope }}] {{ .Value }}', '__alert_A');
    assert.equal(await t.expand(DATA, options([])), 'p/h:9090 eu http://example.com 42.5 [] 42.5');
    assert.equal(await compileAlertTemplate('plain text', '__alert_A').expand(DATA, options([])), 'plain text');
  });

  test("parse errors keep the user's line numbers and Go's wording", () => {
    assert.throws(() => compileAlertTemplate('{{ foo }}', '__alert_A'), (e) => e instanceof TemplateError && e.kind === 'parse' && e.message === 'template: __alert_A:1: function "foo" not defined');
    assert.throws(() => compileAlertTemplate('a\n\n{{ if 1 }}', '__alert_A'), { message: 'template: __alert_A:3: unexpected EOF' });
  });

  test("expansion errors carry Prometheus's prefix and columns counted with the prepended definitions", async () => {
    await assert.rejects(compileAlertTemplate('{{ humanize "a" }}', '__alert_A').expand(DATA, options([])), (e) => {
      assert.ok(e instanceof TemplateError);
      assert.equal(e.kind, 'exec');
      assert.equal(
        e.message,
        'error executing template __alert_A: template: __alert_A:1:115: executing "__alert_A" at <humanize "a">: error calling humanize: strconv.ParseFloat: parsing "a": invalid syntax',
      );
      return true;
    });
    await assert.rejects(compileAlertTemplate('{{ .Nope }}', '__alert_A').expand(DATA, options([])), {
      message: 'error executing template __alert_A: template: __alert_A:1:115: executing "__alert_A" at <.Nope>: can\'t evaluate field Nope in type struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }',
    });
  });

  test('queries run once each, in order, at the evaluation time, also when built inside a loop', async () => {
    const log: string[] = [];
    const results = (q: string): Array<{ labels: Labels; value: number }> =>
      q === 'up' ? [{ labels: Labels.fromPairs('instance', 'a'), value: 1 }, { labels: Labels.fromPairs('instance', 'b'), value: 0 }] : [{ labels: Labels.EMPTY, value: q.length }];
    const t = compileAlertTemplate('{{ range query "up" }}{{ .Labels.instance }}:{{ query (printf "x{i=%q}" .Labels.instance) | first | value }} {{ end }}{{ len (query "up") }}', '__alert_A');
    assert.equal(await t.expand(DATA, options(log, results)), 'a:8 b:8 2');
    assert.deepEqual(log, ['up', 'x{i="a"}', 'x{i="b"}']);
  });

  test('a failing query, and no query function', async () => {
    const failing: ExpandOptions = {
      timestampMs: 0,
      externalUrl: '',
      queryFunc: async () => {
        throw new Error('query timed out');
      },
    };
    await assert.rejects(compileAlertTemplate('{{ query "up" }}', '__alert_A').expand(DATA, failing), { message: /at <query "up">: error calling query: query timed out$/ });
    await assert.rejects(compileAlertTemplate('{{ query "up" }}', '__alert_A').expand(DATA, { ...failing, queryFunc: null }), { message: /error calling query: no query function available$/ });
  });

  test('distinct queries per expansion are bounded', async () => {
    const log: string[] = [];
    await assert.rejects(compileAlertTemplate('{{ range 1001 }}{{ query (printf "q%d" .) }}{{ end }}', '__alert_A').expand(DATA, options(log)), {
      message: 'error executing template __alert_A: template: __alert_A: more than 1000 queries in one expansion',
    });
    assert.equal(log.length, 1000);
  });

  test('one compiled template expands many alerts', async () => {
    const t = compileAlertTemplate('{{ $labels.instance }}={{ $value | printf "%.1f" }}', '__alert_A');
    const outs = await Promise.all([1, 2, 3].map((v) => t.expand({ ...DATA, labels: Labels.fromPairs('instance', `i${v}`), value: v }, options([]))));
    assert.deepEqual(outs, ['i1=1.0', 'i2=2.0', 'i3=3.0']);
  });
});

describe('Template', () => {
  test('parse adds definitions; execute runs a named template; functions can be added', () => {
    const shout: GoFunc = { params: [T_STRING], variadic: null, call: ([s]) => stringV(`${String(s?.v)}!`) };
    const t = new Template('page', { funcs: new Map([['shout', shout]]) });
    t.parse('{{ define "head" }}<{{ . | shout }}>{{ end }}{{ template "head" .Title }}');
    const dot = new Value({ kind: 'struct', name: 'P', fields: [{ name: 'Title', type: T_STRING }] }, [stringV('hi')]);
    assert.equal(t.execute(dot), '<hi!>');
    assert.equal(t.execute(stringV('x'), null, 'head'), '<x!>');
  });

  test('a function error stops execution with "error calling"', () => {
    const boom: GoFunc = {
      params: [],
      variadic: null,
      call: () => {
        throw new GoError('boom');
      },
    };
    const t = new Template('t', { funcs: new Map([['boom', boom]]) }).parse('a{{ boom }}');
    assert.throws(() => t.execute(null), { message: 'template: t:1:4: executing "t" at <boom>: error calling boom: boom' });
  });

  test("Prometheus's function set is exported for other templates", () => {
    for (const name of ['query', 'humanize', 'reReplaceAll', 'graphLink', 'toTime', 'parseDuration']) assert.ok(PROMETHEUS_FUNCS.has(name), name);
  });
});
