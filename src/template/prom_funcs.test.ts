import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../model/labels.js';
import { formatGoTime } from './prom_funcs.js';
import { compileAlertTemplate, type ExpandOptions, type QueryResultSample } from './template.js';

const UP: QueryResultSample[] = [
  { labels: Labels.fromPairs('__name__', 'up', 'instance', 'h:9090', 'job', 'p'), value: 1 },
  { labels: Labels.fromPairs('__name__', 'up', 'instance', 'h2:9100', 'job', 'n', '__value__', 'v'), value: 0 },
];

const DATA = {
  labels: Labels.fromPairs('__name__', 'up', 'instance', 'h:9090', 'job', 'p'),
  externalLabels: Labels.fromPairs('region', 'eu'),
  externalUrl: 'http://example.com/prom',
  value: 1,
};

function opts(queries: string[] = []): ExpandOptions {
  return {
    timestampMs: 60_000,
    externalUrl: 'http://example.com/prom',
    queryFunc: async (q: string, ts: number) => {
      assert.equal(ts, 60_000);
      queries.push(q);
      if (q === 'up') return UP.map((s) => ({ ...s }));
      if (q === 'nothing') return [];
      throw new Error('1:5: parse error: unclosed left parenthesis');
    },
  };
}

async function expand(text: string, value = 1): Promise<string> {
  return compileAlertTemplate(text, '__alert_A').expand({ ...DATA, value }, opts());
}

/** The part of an expansion error after Go's location and context. */
async function expandError(text: string): Promise<string> {
  try {
    await expand(text);
  } catch (e) {
    return (e as Error).message.replace(/^error executing template __alert_A: template: __alert_A:1:\d+: executing "__alert_A" at <[^>]*>: /, '');
  }
  assert.fail(`no error: ${text}`);
}

describe('Prometheus template functions', () => {
  test('humanize family (outputs taken from Prometheus)', async () => {
    assert.equal(
      await expand('{{ humanize 1234567 }}|{{ humanize1024 1048576 }}|{{ humanizeDuration 90061 }}|{{ humanizeTimestamp 1.5 }}|{{ humanizePercentage 0.1234 }}|{{ humanizeDuration 0.0123 }}'),
      '1.235M|1Mi|1d 1h 1m 1s|1970-01-01 00:00:01.5 +0000 UTC|12.34%|12.3ms',
    );
    assert.equal(
      await expand('{{ humanize 0 }}|{{ humanize 0.000123 }}|{{ humanize 1e30 }}|{{ humanize -1234 }}|{{ humanize "1e3" }}|{{ humanize1024 1023 }}|{{ humanize1024 1e20 }}|{{ humanizePercentage 0.5 }}|{{ humanizeDuration 0.5 }}|{{ humanizeDuration -3700 }}|{{ humanizeDuration 59.5 }}'),
      '0|123u|1e+06Y|-1.234k|1k|1023|86.74Ei|50%|500ms|-1h 1m 40s|59.5s',
    );
    assert.equal(await expand('{{ humanize 1234.5 }}|{{ $value | humanize }}|{{ humanizeTimestamp 1700000000.123 }}', 1.5e9), '1.234k|1.5G|2023-11-14 22:13:20.122 +0000 UTC');
    assert.equal(await expand('{{ humanize $value }}|{{ humanizeDuration $value }}|{{ humanizeTimestamp $value }}', NaN), 'NaN|NaN|NaN');
    assert.equal(await expand('{{ humanize $value }}|{{ humanize1024 $value }}', -Infinity), '-Inf|-Inf');
    assert.equal(await expand('{{ humanizeDuration 0 }}|{{ humanize (len "abc") }}'), '0s|3');
  });

  test('humanize errors: ConvertToFloat wording', async () => {
    assert.equal(await expandError('{{ humanize "a" }}'), 'error calling humanize: strconv.ParseFloat: parsing "a": invalid syntax');
    assert.equal(await expandError('{{ humanize true }}'), "error calling humanize: can't convert bool to float");
    assert.equal(await expandError('{{ humanizeTimestamp 1e300 }}'), 'error calling humanizeTimestamp: 1e+300 cannot be represented as a nanoseconds timestamp since it overflows int64');
    assert.equal(await expandError('{{ toTime "abc" }}'), 'error calling toTime: strconv.ParseFloat: parsing "abc": invalid syntax');
  });

  test('query, first, label, value, strvalue, sortByLabel', async () => {
    assert.equal(await expand('{{ range query "up" }}{{ .Labels.job }}={{ .Value }} {{ end }}'), 'p=1 n=0 ');
    assert.equal(await expand('{{ with query "up" }}{{ . | first | value }}{{ end }}|{{ first (query "up") }}'), '1|{map[__name__:up instance:h:9090 job:p] 1}');
    assert.equal(await expand('{{ query "up" | first | label "job" }}|{{ (query "up" | first).Value }}|{{ sortByLabel "job" (query "up") | first | value }}'), 'p|1|0');
    assert.equal(await expand('[{{ strvalue (first (query "up")) }}]|{{ range query "up" }}{{ strvalue . }}{{ end }}|{{ len (query "up") }}'), '[]|v|2');
    assert.equal(await expand('{{ range query "nothing" }}x{{ else }}empty{{ end }}'), 'empty');
    assert.match(await expand('{{ query "up" }}'), /^\[0x[0-9a-f]+ 0x[0-9a-f]+\]$/);
    assert.equal(await expandError('{{ first (query "nothing") }}'), 'error calling first: first() called on vector with no elements');
    assert.equal(await expandError('{{ query "bad(" }}'), 'error calling query: 1:5: parse error: unclosed left parenthesis');
  });

  test('strings: title, toUpper, toLower, match, reReplaceAll, safeHtml', async () => {
    assert.equal(await expand('{{ title "hello world foo-bar foo_bar 1st x.y élan ǆx ßa" }}'), 'Hello World Foo-Bar Foo_bar 1st X.Y Élan ǅx ßa');
    assert.equal(await expand('{{ toUpper "héllo ß" }}|{{ toLower "ÀB İ" }}'), 'HÉLLO ß|àb i');
    assert.equal(await expand('{{ reReplaceAll "(?P<w>[a-z]+)-(\\\\d+)" "${2}_$w" "abc-12 de-3" }}|{{ reReplaceAll "a" "$1x" "banana" }}|{{ match "^a.c$" "abc" }}'), '12_abc 3_de|bnn|true');
    assert.equal(await expand('{{ reReplaceAll "a*" "-" "baaac" }}|{{ reReplaceAll "x*" "-" "abc" }}|{{ reReplaceAll "(a)" "$$1" "a" }}'), '-b-c-|-a-b-c-|$1');
    assert.equal(await expand('{{ safeHtml "<b>" }}'), '<b>');
    assert.equal(await expandError('{{ reReplaceAll "(" "x" "y" }}'), 'error calling reReplaceAll: regexp: Compile(`(`): error parsing regexp: missing closing ): `(`');
    assert.equal(await expandError('{{ match "a**" "x" }}'), 'error calling match: error parsing regexp: invalid nested repetition operator: `**`');
    assert.equal(await expandError('{{ toUpper 1.5 }}'), 'expected string; found 1.5');
    assert.equal(await expandError('{{ safeHtml "x" | toUpper }}'), 'wrong type for value; expected string; got template.HTML');
  });

  test('hosts, URLs, links', async () => {
    assert.equal(
      await expand('{{ $labels.instance | stripPort }}|{{ "[::1]:80" | stripPort }}|{{ "host" | stripPort }}|{{ "10.0.0.1:90" | stripDomain }}|{{ "a.b.c" | stripDomain }}|{{ "foo.bar.com:80" | stripDomain }}|{{ "[::1]:80" | stripDomain }}'),
      'h|::1|host|10.0.0.1:90|a|foo:80|[::1]:80',
    );
    assert.equal(await expand('{{ pathPrefix }}|{{ externalURL }}|{{ $externalURL }}|{{ graphLink "up{a=\\"b\\"}" }}|{{ tableLink "x y" }}|{{ urlQueryEscape "a/b" }}'), '/prom|http://example.com/prom|http://example.com/prom|/graph?g0.expr=up%7Ba%3D%22b%22%7D&g0.tab=0|/graph?g0.expr=x+y&g0.tab=1|a%2Fb');
  });

  test('times and durations', async () => {
    assert.equal(await expand('{{ toTime 1.5 }}|{{ (toTime 90).Unix }}|{{ (toTime 1.5).UnixMilli }}|{{ now }}|{{ toDuration 90.5 }}|{{ (toDuration 90).Minutes }}'), '1970-01-01 00:00:01.5 +0000 UTC|90|1500|60|1m30.5s|1.5');
    assert.equal(await expand('{{ parseDuration "1h30m" }}|{{ parseDuration "-1m30s" }}|{{ parseDuration "1ms" }}'), '5400|-90|0.001');
    assert.equal(await expandError('{{ parseDuration "x" }}'), 'error calling parseDuration: not a valid duration string: "x"');
    await assert.rejects(expand('{{ toTime $value }}', NaN), { message: /: error calling toTime: value is NaN or Inf$/ });
    assert.equal(formatGoTime(Date.UTC(2026, 11, 6, 12)), '2026-12-06 12:00:00 +0000 UTC');
  });

  test('Go types, %T, %#v and time internals (outputs taken from Prometheus)', async () => {
    assert.equal(
      await expand('{{ title "hello.world o\'neil x1y ÉCOLE _a a-b c_d\\tz 3d" }}|{{ printf "%T|%T|%T|%T|%T" (query "up") (first (query "up")) (safeHtml "x") (toTime 1) $labels }}'),
      "Hello.World O'Neil X1y ÉCOLE _a A-B C_d\tZ 3d|template.queryResult|*template.sample|template.HTML|*time.Time|map[string]string",
    );
    assert.equal(
      await expand('{{ printf "%v|%s|%q" (toTime 1) (toTime 1) $labels }}|{{ (toTime 1).Unix }}|{{ index (query "up") 0 }}|{{ (index (query "up") 0).Labels.job }}|{{ slice (query "up") 1 | len }}'),
      '1970-01-01 00:00:01 +0000 UTC|1970-01-01 00:00:01 +0000 UTC|map["__name__":"up" "instance":"h:9090" "job":"p"]|1|{map[__name__:up instance:h:9090 job:p] 1}|p|1',
    );
    assert.equal(await expand('{{ printf "%d" (toTime 1) }}'), '&{0 62135596801 0}');
    assert.equal(
      await expand('{{ humanizeDuration -0.5 }}|{{ humanize 999.99999 }}|{{ humanize 0.0009999 }}|{{ humanize1024 -2047.9 }}|{{ humanizePercentage -0.000012345 }}|{{ humanizeDuration 86400 }}|{{ humanizeDuration 3599.99 }}'),
      '-500ms|1000|999.9u|-2ki|-0.001234%|1d 0h 0m 0s|59m 59s',
    );
    assert.equal(
      await expand('{{ printf "%6.3v|%.3v|%10v|%-10v|%x|%X|% X" 3.14159 "abcdef" 1.5 true "héllo" 3.0 "ab" }}|{{ printf "%c|%q|%U" 0x10FFFF 0x7F 0x1F600 }}|{{ printf "%.3q|%#q|%+q" "abcdef" "a`b" "é" }}'),
      '  3.14|abc|       1.5|true      |68c3a96c6c6f|0X1.8P+01|61 62|\u{10ffff}|\'\\x7f\'|U+1F600|"abc"|"a`b"|"\\u00e9"',
    );
    assert.equal(await expand('{{ printf "%e|%.0e|%#.0e|%#g|%#v" 0.0 5.5 5.5 1.0 "x" }}'), '0.000000e+00|6e+00|6.e+00|1.00000|"x"');
    assert.equal(await expand('{{ printf "%08.3e|%-+8.2f|%+08d|% 08d|%x" -1.5 2.5 -3 4 -1.5 }}'), '-1.500e+00|+2.50   |-0000003| 0000004|-0x1.8p+00');
    assert.equal(await expandError('{{ (toTime 1).wall }}'), 'wall is an unexported field of struct type *time.Time');
    assert.equal(
      await expand('{{ printf "%#v|%#v|%#v|%#v|%#v|%#v|%#v" 1e6 1.0 1e21 $labels (first (query "up")) (query "up" | len) (safeHtml "x") }}|{{ printf "%#v" (args 1 nil) }}'),
      '1e+06|1|1e+21|map[string]string{"__name__":"up", "instance":"h:9090", "job":"p"}|&template.sample{Labels:map[string]string{"__name__":"up", "instance":"h:9090", "job":"p"}, Value:1}|2|"x"|map[string]interface {}{"arg0":1, "arg1":interface {}(nil)}',
    );
  });

  test('args builds a map of arg0, arg1, ...', async () => {
    assert.equal(await expand('{{ args 1 "a" }}|{{ (args 1).arg0 }}|{{ (args 1).arg5 }}'), 'map[arg0:1 arg1:a]|1|<no value>');
  });
});
