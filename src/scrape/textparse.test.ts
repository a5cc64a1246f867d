import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  ContentTypeError,
  Entry,
  OpenMetricsParser,
  PromParser,
  SymbolTable,
  TextParseError,
  formatOpenMetricsFloat,
  negotiateMediaType,
  newTextParser,
  type TextParser,
} from './textparse.js';
import { isStaleNaN } from '../model/value.js';

interface Row {
  kind: string;
  name?: string;
  labels?: string;
  value?: number;
  ts?: number | null;
  text?: string;
}

function collect(p: TextParser): Row[] {
  const out: Row[] = [];
  for (let e = p.next(); e !== Entry.EOF; e = p.next()) {
    switch (e) {
      case Entry.Series:
        out.push({ kind: 'series', labels: p.labels().toString(), value: p.value(), ts: p.timestamp() });
        break;
      case Entry.Help:
        out.push({ kind: 'help', name: p.metaName(), text: p.helpText() });
        break;
      case Entry.Type:
        out.push({ kind: 'type', name: p.metaName(), text: p.metricType() });
        break;
      case Entry.Unit:
        out.push({ kind: 'unit', name: p.metaName(), text: p.unitText() });
        break;
      case Entry.Comment:
        out.push({ kind: 'comment', text: p.commentText() });
        break;
    }
  }
  return out;
}

function errorOf(p: TextParser): TextParseError {
  try {
    while (p.next() !== Entry.EOF);
  } catch (e) {
    assert.ok(e instanceof TextParseError, `expected TextParseError, got ${e}`);
    return e;
  }
  assert.fail('expected a parse error');
}

describe('PromParser', () => {
  test('parses metadata, labels, escapes, timestamps and special values', () => {
    const body = [
      '# HELP http_requests_total The total number of requests.\\nSecond line with \\\\ backslash.',
      '# TYPE http_requests_total counter',
      'http_requests_total{method="post",code="200"} 1027 1395066363000',
      'http_requests_total{method="post",code="400"}    3 1395066363000',
      '',
      '# A free comment',
      'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
      'metric_without_timestamp_and_labels 12.47',
      'something_weird{problem="division by zero"} +Inf 3982045',
      'neg_inf -Inf',
      'not_a_number NaN',
      'trailing_comma{a="b",} 1',
      'tabs\t{a="b"}\t2',
    ].join('\n');
    const rows = collect(new PromParser(Buffer.from(body)));
    assert.deepEqual(rows[0], { kind: 'help', name: 'http_requests_total', text: 'The total number of requests.\nSecond line with \\ backslash.' });
    assert.deepEqual(rows[1], { kind: 'type', name: 'http_requests_total', text: 'counter' });
    assert.deepEqual(rows[2], { kind: 'series', labels: '{__name__="http_requests_total", code="200", method="post"}', value: 1027, ts: 1395066363000 });
    assert.equal(rows[3]!.value, 3);
    assert.deepEqual(rows[4], { kind: 'comment', text: '# A free comment' });
    assert.equal(rows[5]!.labels, '{__name__="msdos_file_access_time_seconds", error="Cannot find file:\\n\\"FILE.TXT\\"", path="C:\\\\DIR\\\\FILE.TXT"}');
    assert.equal(rows[5]!.value, 1458255915);
    assert.deepEqual(rows[6], { kind: 'series', labels: '{__name__="metric_without_timestamp_and_labels"}', value: 12.47, ts: null });
    assert.equal(rows[7]!.value, Infinity);
    assert.equal(rows[7]!.ts, 3982045);
    assert.equal(rows[8]!.value, -Infinity);
    assert.ok(Number.isNaN(rows[9]!.value) && !isStaleNaN(rows[9]!.value!));
    assert.equal(rows[10]!.labels, '{__name__="trailing_comma", a="b"}');
    assert.equal(rows[11]!.labels, '{__name__="tabs", a="b"}');
    assert.equal(rows[11]!.value, 2);
  });

  test('negative timestamps are not part of the grammar', () => {
    const err = errorOf(new PromParser(Buffer.from('a 1 -5\n')));
    assert.equal(err.reason, 'expected timestamp or new record, got "-" ("INVALID") while parsing: "a 1 -"');
  });

  test('UTF-8 quoted metric and label names', () => {
    const p = new PromParser(Buffer.from('# HELP "my.metric" Dotted.\n{"my.metric", "a.b"="c", d="é"} 2 1000\n'));
    assert.equal(p.next(), Entry.Help);
    assert.equal(p.metaName(), 'my.metric');
    assert.equal(p.next(), Entry.Series);
    assert.equal(p.metricName(), 'my.metric');
    assert.equal(p.labels().get('a.b'), 'c');
    assert.equal(p.labels().get('d'), 'é');
    assert.equal(p.timestamp(), 1000);
    assert.equal(p.next(), Entry.EOF);
  });

  test('seriesKey is the raw name and labels, the same for the same series', () => {
    const p = new PromParser(Buffer.from('a{b="c"} 1\na{b="c"} 2 5\n'));
    p.next();
    const k1 = p.seriesKey();
    p.next();
    assert.equal(k1, 'a{b="c"}');
    assert.equal(p.seriesKey(), k1);
  });

  test('le and quantile are normalized for histograms and summaries only', () => {
    const body = '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="1e6"} 1\n# TYPE s summary\ns{quantile="0.5"} 1\n# TYPE g gauge\ng{le="1"} 1\n';
    const rows = collect(new PromParser(Buffer.from(body)));
    const series = rows.filter((r) => r.kind === 'series').map((r) => r.labels);
    assert.deepEqual(series, ['{__name__="h_bucket", le="1.0"}', '{__name__="h_bucket", le="1e+06"}', '{__name__="s", quantile="0.5"}', '{__name__="g", le="1"}']);
  });

  test('duplicate label names fail', () => {
    const p = new PromParser(Buffer.from('ok 1\na{b="1",b="2"} 1\n'));
    p.next();
    p.labels();
    p.next();
    assert.throws(() => p.labels(), (e: unknown) => e instanceof TextParseError && e.reason === 'label name "b" is not unique: invalid sample' && e.line === 2);
  });

  test('null bytes inside label values are kept; a null at line start ends the input', () => {
    const p = new PromParser(Buffer.from('a{b="x\x00y"} 1\n\x00garbage that is never read'));
    assert.equal(p.next(), Entry.Series);
    assert.equal(p.labels().get('b'), 'x\x00y');
    assert.equal(p.next(), Entry.EOF);
  });

  // Inputs and the exact messages Prometheus gives for them.
  const errors: [string, string][] = [
    ['a', 'expected value after metric, got "\\n" ("INVALID") while parsing: "a\\n"'],
    ["a{b='c'} 1\n", 'expected label value, got "\'" ("INVALID") while parsing: "a{b=\'"'],
    ['a{\xff="foo"} 1\n', 'expected label name, got "\\xff" ("INVALID") while parsing: "a{\\xff"'],
    ['a{b="\xff"} 1\n', 'invalid UTF-8 label value: "\\"\\xff\\""'],
    ['{"a", "b = "c"}', 'expected equal, got "c\\"" ("LNAME") while parsing: "{\\"a\\", \\"b = \\"c\\""'],
    ['a true\n', 'strconv.ParseFloat: parsing "true": invalid syntax while parsing: "a true"'],
    ['a 1e999\n', 'strconv.ParseFloat: parsing "1e999": value out of range while parsing: "a 1e999"'],
    ['something_weird{problem="', 'expected label value, got "\\"\\n" ("INVALID") while parsing: "something_weird{problem=\\"\\n"'],
    ['empty_label_name{=""} 0', 'expected label name, got "=\\"" ("EQUAL") while parsing: "empty_label_name{=\\""'],
    ['{A}0', 'expected equal, got "}0" ("BCLOSE") while parsing: "{A}0"'],
    ['foo 0x1p-3\n', 'unsupported character in float while parsing: "foo 0x1p-3"'],
    ['foo 0 1_2\n', 'expected next entry after timestamp, got "_" ("INVALID") while parsing: "foo 0 1_"'],
    ['{a="ok"} 1', 'metric name not set while parsing: "{a=\\"ok\\"} 1"'],
    ['# TYPE #\n', 'expected metric name after TYPE, got "#" ("INVALID") while parsing: "# TYPE #"'],
    ['# TYPE m gaugez\n', 'invalid metric type "gaugez"'],
    ['a 1 99999999999999999999\n', 'strconv.ParseInt: parsing "99999999999999999999": value out of range while parsing: "a 1 99999999999999999999"'],
    ['a{b\x00="x"} 1', 'expected equal, got "\\x00" ("INVALID") while parsing: "a{b\\x00"'],
  ];
  for (const [input, reason] of errors) {
    test(`error: ${JSON.stringify(input)}`, () => {
      assert.equal(errorOf(new PromParser(Buffer.from(input, 'latin1'))).reason, reason);
    });
  }

  test('errors name the line', () => {
    const err = errorOf(new PromParser(Buffer.from('# HELP a x\na 1\nb 2\nc{d=INVALID} 3\n')));
    assert.equal(err.line, 4);
    assert.equal(err.reason, 'expected label value, got "I" ("INVALID") while parsing: "c{d=I"');
    assert.equal(err.message, 'line 4: expected label value, got "I" ("INVALID") while parsing: "c{d=I"');
  });
});

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

describe('content types', () => {
  test('negotiation follows Prometheus', () => {
    assert.deepEqual(negotiateMediaType('text/plain; version=0.0.4; charset=utf-8', ''), { mediaType: 'text/plain', warning: null });
    assert.deepEqual(negotiateMediaType('application/openmetrics-text; version=1.0.0', ''), { mediaType: 'application/openmetrics-text', warning: null });
    assert.throws(() => negotiateMediaType('', ''), (e: unknown) => e instanceof ContentTypeError && /blank Content-Type/.test(e.message));
    assert.throws(() => negotiateMediaType('application/json', ''), /received unsupported Content-Type "application\/json" and no fallback_scrape_protocol/);
    const fb = negotiateMediaType('application/json', 'text/plain');
    assert.equal(fb.mediaType, 'text/plain');
    assert.match(fb.warning!, /using fallback_scrape_protocol "text\/plain"/);
    assert.throws(() => negotiateMediaType('text/', ''), /cannot parse Content-Type/);
  });

  test('newTextParser picks the parser', () => {
    const { parser } = newTextParser(Buffer.from('a 1\n# EOF\n'), 'application/openmetrics-text', '');
    assert.ok(parser instanceof OpenMetricsParser);
    assert.ok(newTextParser(Buffer.from('a 1\n'), 'text/plain', '').parser instanceof PromParser);
  });
});

test('formatOpenMetricsFloat matches Go', () => {
  assert.equal(formatOpenMetricsFloat(1), '1.0');
  assert.equal(formatOpenMetricsFloat(10), '10.0');
  assert.equal(formatOpenMetricsFloat(0.25), '0.25');
  assert.equal(formatOpenMetricsFloat(1e6), '1e+06');
  assert.equal(formatOpenMetricsFloat(123456), '123456.0');
  assert.equal(formatOpenMetricsFloat(1.5e-7), '1.5e-07');
  assert.equal(formatOpenMetricsFloat(Infinity), '+Inf');
});

test('SymbolTable interns and stays bounded', () => {
  const st = new SymbolTable(4);
  const a = st.intern(['x', 'y'].join(''));
  assert.equal(st.intern('xy'), a);
  for (let i = 0; i < 10; i++) st.intern(`s${i}`);
  assert.ok(st.size <= 4);
});

describe('fast path', () => {
  /** Everything observable from a parse: entries, labels, values (as bits) and the error, if any. */
  function trace(body: Buffer, noFastPath: boolean): string[] {
    const p = new PromParser(body, { noFastPath });
    const out: string[] = [];
    const f64 = new Float64Array(1);
    const u32 = new Uint32Array(f64.buffer);
    try {
      for (let e = p.next(); e !== Entry.EOF; e = p.next()) {
        if (e !== Entry.Series) {
          out.push(`entry ${e}`);
          continue;
        }
        f64[0] = p.value();
        let labels: string;
        try {
          labels = p.labels().toString();
        } catch (err) {
          labels = `labels error ${(err as Error).message}`;
        }
        out.push(`${p.seriesKey()}|${p.seriesHash()}|${labels}|${u32[0]},${u32[1]}|${p.timestamp()}`);
      }
    } catch (err) {
      out.push(`error ${(err as Error).message}`);
    }
    return out;
  }

  test('gives the same results and errors as the general lexer', async () => {
    const fc = (await import('fast-check')).default;
    const piece = fc.constantFrom(
      'a', 'metric_name', ':x', '_', '{', '}', '=', ',', '"', '\\', '\\"', '\\n', '\\\\', ' ', '\t', '\n', '\x00', '\xff', 'é',
      'b="c"', 'le="0.5"', '"q.name"', '1', '-1.5e3', 'NaN', '+Inf', '1_0', '0x1', '12345', '99999999999999999999', '#', '# HELP a x', '# TYPE a counter', 'x{y="z"} 3 1000',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 24 }), (pieces) => {
        const body = Buffer.from(pieces.join(''), 'latin1');
        assert.deepEqual(trace(body, false), trace(body, true));
      }),
      { numRuns: 3000 },
    );
  });

  test('common lines take the fast path and match', () => {
    const body = Buffer.from('a{b="c",d="e\\"f"} 1.5 1000\nm 2\nm{} 3\nm{a="b",} 4\nu{v="ü"} 5\n');
    assert.deepEqual(trace(body, false), trace(body, true));
    assert.equal(trace(body, false).length, 5);
  });
});

test('errors quote at most the end of a huge line', () => {
  const body = Buffer.from(`m{a="${'x'.repeat(1_000_000)}",b=oops} 1\n`);
  const err = errorOf(new PromParser(body));
  assert.ok(err.reason.length < 1500, `reason has ${err.reason.length} chars`);
  assert.match(err.reason, /^expected label value, got "o" \("INVALID"\) while parsing: \.\.\."x+\\",b=o"$/);
});
