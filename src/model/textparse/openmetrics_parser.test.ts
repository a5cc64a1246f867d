import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Entry } from './interface.js';
import { OpenMetricsParser } from './openmetrics_parser.js';
import { errorOf } from './test_util.test.js';

describe('OpenMetricsParser', () => {
  test('parses metadata, exemplars and created series', () => {
    const body = [
      '# HELP foo_seconds Help with \\"quotes\\".',
      '# TYPE foo_seconds counter',
      '# UNIT foo_seconds seconds',
      'foo_seconds_total{a="b"} 17.0 1520879607.789 # {trace_id="KOO5S4vxi0o"} 0.67 1520879606.5',
      'foo_seconds_created{a="b"} 1520430000.123',
      '# TYPE hh histogram',
      'hh_bucket{le="1"} 1 # {id="x"} 0.5',
      'hh_bucket{le="+Inf"} 2',
      'hh_count 2',
      'hh_sum 3',
      '# EOF',
      '',
    ].join('\n');
    const p = new OpenMetricsParser(Buffer.from(body));
    assert.equal(p.next(), Entry.Help);
    assert.equal(p.helpText(), 'Help with "quotes".');
    assert.equal(p.next(), Entry.Type);
    assert.equal(p.metricType(), 'counter');
    assert.equal(p.next(), Entry.Unit);
    assert.equal(p.unitText(), 'seconds');
    assert.equal(p.next(), Entry.Series);
    assert.equal(p.value(), 17);
    assert.equal(p.timestamp(), 1520879607789);
    const ex = p.exemplar()!;
    assert.equal(ex.labels.toString(), '{trace_id="KOO5S4vxi0o"}');
    assert.equal(ex.value, 0.67);
    assert.equal(ex.timestamp, 1520879606500);
    assert.equal(p.startTimestamp(), 1520430000123);
    // Peeking did not move the parser.
    assert.equal(p.labels().toString(), '{__name__="foo_seconds_total", a="b"}');
    assert.equal(p.next(), Entry.Series);
    assert.equal(p.metricName(), 'foo_seconds_created');
    assert.equal(p.next(), Entry.Type);
    assert.equal(p.next(), Entry.Series);
    assert.equal(p.labels().get('le'), '1.0');
    assert.equal(p.exemplar()!.timestamp, null);
    assert.equal(p.next(), Entry.Series);
    assert.equal(p.exemplar(), null);
    assert.equal(p.next(), Entry.Series);
    assert.equal(p.next(), Entry.Series);
    assert.equal(p.next(), Entry.EOF);
  });

  test('_created series can be skipped and used as start timestamps only', () => {
    const body = '# TYPE foo counter\nfoo_total 17.0\nfoo_created 1520430000.123\n# TYPE g gauge\ng_created 5\n# EOF\n';
    const p = new OpenMetricsParser(Buffer.from(body), { skipCreatedSeries: true });
    const names: string[] = [];
    for (let e = p.next(); e !== Entry.EOF; e = p.next()) {
      if (e !== Entry.Series) continue;
      names.push(p.metricName());
      if (p.metricName() === 'foo_total') assert.equal(p.startTimestamp(), 1520430000123);
    }
    // A gauge's _created is an ordinary series.
    assert.deepEqual(names, ['foo_total', 'g_created']);
  });

  test('UTF-8 names', () => {
    const p = new OpenMetricsParser(Buffer.from('# TYPE "a.b" gauge\n{"a.b","c.d"="e"} 1\n# EOF\n'));
    assert.equal(p.next(), Entry.Type);
    assert.equal(p.metaName(), 'a.b');
    assert.equal(p.next(), Entry.Series);
    assert.equal(p.labels().toString(), '{__name__="a.b", "c.d"="e"}');
  });

  const errors: [string, string][] = [
    ['', 'data does not end with # EOF'],
    ['metric 1\n', 'data does not end with # EOF'],
    ['metric', 'expected value after metric, got "metric" ("EOF") while parsing: "metric"'],
    ['# TYPE u untyped\n# EOF\n', 'invalid metric type "untyped"'],
    ['# UNIT m suffix\n# EOF\n', 'unit "suffix" not a suffix of metric "m"'],
    ['# TYPE m\n# EOF\n', 'expected text in TYPE'],
    ['# EOF\na 1', 'unexpected data after # EOF'],
    ['a 1 2 #\n# EOF\n', 'expected next entry after timestamp, got " #\\n" ("TIMESTAMP") while parsing: "a 1 2 #\\n"'],
    ['a{b="c"d="e"} 1\n# EOF\n', 'expected comma or brace close, got "d=" ("LNAME") while parsing: "a{b=\\"c\\"d="'],
    ['custom_metric_total 1 # {aa="bb"}\n# EOF\n', 'expected value after exemplar labels, got "\\n" ("INVALID") while parsing: "custom_metric_total 1 # {aa=\\"bb\\"}\\n"'],
    ['custom_metric_total 1 # {bb, a="dd"}', 'expected equal, got ", " ("COMMA") while parsing: "custom_metric_total 1 # {bb, "'],
    ['a 1 NaN', 'invalid timestamp NaN'],
    ['# TYPE hhh histogram\nhhh_bucket{le="+Inf"} 1 # {aa="bb"} 4 -Inf', 'invalid exemplar timestamp -Inf'],
    ['# A comment\n# EOF\n', 'expected a valid start token, got "# A" ("INVALID") while parsing: "# A"'],
  ];
  for (const [input, reason] of errors) {
    test(`error: ${JSON.stringify(input)}`, () => {
      assert.equal(errorOf(new OpenMetricsParser(Buffer.from(input, 'latin1'))).reason, reason);
    });
  }
});
