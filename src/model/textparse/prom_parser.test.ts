import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Entry, TextParseError } from './interface.js';
import { PromParser } from './prom_parser.js';
import { collect, errorOf } from './test_util.test.js';
import { isStaleNaN } from '../value.js';

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
