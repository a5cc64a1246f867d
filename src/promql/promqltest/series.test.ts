import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../../model/labels.js';
import { isStaleNaN } from '../../model/value.js';
import { goUnquote } from '../../gofmt/quote.js';
import { parseSeriesDesc, SeriesSyntaxError, type SequenceValue } from './series.js';

const vals = (vs: SequenceValue[]): Array<number | '_'> => vs.map((v) => (v.omitted ? '_' : v.value));

describe('series values', () => {
  test('expansion forms', () => {
    assert.deepEqual(vals(parseSeriesDesc('m 1+2x3').values), [1, 3, 5, 7]);
    assert.deepEqual(vals(parseSeriesDesc('m 10-2x3').values), [10, 8, 6, 4]);
    assert.deepEqual(vals(parseSeriesDesc('m 1x3').values), [1, 1, 1, 1]);
    assert.deepEqual(vals(parseSeriesDesc('m _ _x3 5').values), ['_', '_', '_', '_', 5]);
    assert.deepEqual(vals(parseSeriesDesc('m -1 +2 -2x1').values), [-1, 2, -2, -2]);
    assert.deepEqual(vals(parseSeriesDesc('m 0+0.5x2').values), [0, 0.5, 1]);
    assert.deepEqual(vals(parseSeriesDesc('m -5+1x2').values), [-5, -4, -3]);
  });

  test('numbers: exponents are greedy, Inf and NaN, underscores', () => {
    assert.deepEqual(vals(parseSeriesDesc('m 1e+2x1 9.5E-1 .5').values), [100, 100, 0.95, 0.5]);
    const v = parseSeriesDesc('m Inf -Inf +Inf NaN nan 1_000').values;
    assert.deepEqual(v.slice(0, 3).map((x) => x.value), [Infinity, -Infinity, Infinity]);
    assert.ok(Number.isNaN(v[3]!.value) && Number.isNaN(v[4]!.value));
    assert.equal(v[5]!.value, 1000);
  });

  test('stale is the staleness marker', () => {
    const v = parseSeriesDesc('m 1 stale 2').values;
    assert.ok(isStaleNaN(v[1]!.value));
    assert.equal(v.length, 3);
  });

  test('native histograms are kept as text with their repetitions', () => {
    const v = parseSeriesDesc('m {{schema:0 sum:1 count:2 buckets:[1 1]}}x2 {{sum:1}}+{{sum:2}}x1').values;
    assert.equal(v.length, 5);
    assert.equal(v[0]!.histogram, '{{schema:0 sum:1 count:2 buckets:[1 1]}}');
    assert.equal(v[4]!.histogram, '{{sum:1}}+{{sum:2}}');
  });

  test('rejects hex, garbage and missing counts', () => {
    for (const bad of ['m 0x1f', 'm 1+2', 'm foo', 'm 1x', 'm 1m', 'm _xa', 'm 1..2']) {
      assert.throws(() => parseSeriesDesc(bad), SeriesSyntaxError, bad);
    }
  });
});

describe('series metric', () => {
  test('name, labels, quoted names and escapes', () => {
    assert.ok(parseSeriesDesc('up 1').labels.equals(Labels.fromPairs('__name__', 'up')));
    assert.ok(parseSeriesDesc('{} 1').labels.isEmpty());
    const l = parseSeriesDesc(`foo:bar{a="x y}", b='q', c=\`r\\n\`, } 1`).labels;
    assert.ok(l.equals(Labels.fromPairs('__name__', 'foo:bar', 'a', 'x y}', 'b', 'q', 'c', 'r\\n')));
    const u = parseSeriesDesc('{"my.metric", "label.x"="v\\u00e9\\n"} 2').labels;
    assert.ok(u.equals(Labels.fromPairs('__name__', 'my.metric', 'label.x', 'vé\n')));
    assert.ok(parseSeriesDesc('{__name__="m", le="+Inf"} 1').labels.equals(Labels.fromPairs('__name__', 'm', 'le', '+Inf')));
  });

  test('rejects bad label sets', () => {
    for (const bad of ['m{a=~"b"} 1', 'm{a="b" 1', 'm{a=b} 1', 'm{a="b",a="c"} 1', '1 2']) {
      assert.throws(() => parseSeriesDesc(bad), SeriesSyntaxError, bad);
    }
  });

  test('goUnquote follows strconv.Unquote', () => {
    assert.equal(goUnquote('"a\\tb\\x41\\101"'), 'a\tbAA');
    assert.equal(goUnquote('`raw\\n`'), 'raw\\n');
    assert.equal(goUnquote("'x'"), 'x');
    assert.throws(() => goUnquote("'xy'"));
    assert.throws(() => goUnquote('"open'));
    assert.throws(() => goUnquote('Foo'));
  });
});
