import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Labels } from '../../model/labels.js';
import { isStaleNaN } from '../../model/value.js';
import { goUnquote } from '../../gofmt/quote.js';
import { CounterResetHint, FloatHistogram } from '../../model/histogram.js';
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

  test('native histograms: every key, one span per side', () => {
    const v = parseSeriesDesc(
      'm {{schema:1 sum:-3.5 count:10 z_bucket:2 z_bucket_w:0.001 buckets:[1 2 3] offset:-1 n_buckets:[1 1] n_offset:2 counter_reset_hint:gauge}}',
    ).values;
    assert.equal(v.length, 1);
    const h = v[0]!.histogram!;
    assert.ok(h instanceof FloatHistogram);
    assert.ok(Number.isNaN(v[0]!.value));
    assert.equal(h.schema, 1);
    assert.equal(h.sum, -3.5);
    assert.equal(h.count, 10);
    assert.equal(h.zeroCount, 2);
    assert.equal(h.zeroThreshold, 0.001);
    assert.deepEqual(h.positiveSpans, [{ offset: -1, length: 3 }]);
    assert.deepEqual(Array.from(h.positiveBuckets), [1, 2, 3]);
    assert.deepEqual(h.negativeSpans, [{ offset: 2, length: 2 }]);
    assert.equal(h.counterResetHint, CounterResetHint.Gauge);
    assert.equal(v[0]!.counterResetHintSet, true);
    assert.equal(
      h.testExpression(),
      '{{schema:1 count:10 sum:-3.5 z_bucket:2 z_bucket_w:0.001 counter_reset_hint:gauge offset:-1 buckets:[1 2 3] n_offset:2 n_buckets:[1 1]}}',
    );
    const c = parseSeriesDesc('m {{schema:-53 sum:1 count:1 custom_values:[0.1 1 10] buckets:[0 1] }}').values[0]!.histogram!;
    assert.deepEqual(Array.from(c.customValues), [0.1, 1, 10]);
    assert.equal(parseSeriesDesc('m {{}} {{ }}').values.length, 2);
    assert.equal(parseSeriesDesc('m {{Schema:2 COUNT:1}}').values[0]!.histogram!.schema, 2);
  });

  test('histogram expansions: repeat, increase and decrease', () => {
    const v = parseSeriesDesc('m {{sum:1 count:2 buckets:[1 1]}}x2 _ {{sum:1}}+{{sum:2 counter_reset_hint:not_reset}}x2 stale').values;
    assert.equal(v.length, 3 + 1 + 3 + 1);
    assert.equal(v[0]!.histogram, v[2]!.histogram);
    assert.equal(v[3]!.omitted, true);
    assert.deepEqual(v.slice(4, 7).map((x) => x.histogram!.sum), [1, 3, 5]);
    assert.equal(v[4]!.counterResetHintSet, true);
    assert.equal(v[5]!.histogram!.counterResetHint, CounterResetHint.Unknown);
    assert.ok(isStaleNaN(v[7]!.value) && v[7]!.histogram === undefined);
    const d = parseSeriesDesc('m {{schema:0 count:10 buckets:[5 5]}}-{{schema:0 count:2 buckets:[1 1] offset:1}}x2').values;
    assert.equal(d[2]!.histogram!.testExpression(), '{{count:6 buckets:[5 3 -2]}}');
    // Schemas meet at the lower one; the step may not have a lower schema than the running value.
    const m = parseSeriesDesc('m {{schema:0 count:1 buckets:[1]}}+{{schema:1 count:1 buckets:[1]}}x1').values;
    assert.equal(m[1]!.histogram!.schema, 0);
    assert.throws(() => parseSeriesDesc('m {{schema:1 count:1}}+{{schema:0 count:1}}x1'), /cannot merge from schema 0 to 1/);
    assert.throws(() => parseSeriesDesc('m {{schema:-53 count:1}}+{{schema:0 count:1}}x1'), /mix of exponential and custom bucket schemas/);
  });

  test('testExpression() reads back as the same histogram (property)', () => {
    // -0 prints as 0 in the notation (as in Prometheus), so it cannot read back bit for bit.
    const noNegZero = (x: number): number => (x === 0 ? 0 : x);
    const counts = fc.array(fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.double({ min: 0, max: 1e6, noNaN: true }).map(noNegZero)), { maxLength: 6 });
    fc.assert(
      fc.property(
        fc.record({
          schema: fc.integer({ min: -4, max: 8 }),
          sum: fc.double({ noNaN: true }).map(noNegZero),
          count: fc.double({ min: 0, max: 1e9, noNaN: true }).map(noNegZero),
          zeroCount: fc.double({ min: 0, max: 1e3, noNaN: true }).map(noNegZero),
          zeroThreshold: fc.constantFrom(0, 1e-128, 0.001, 0.25),
          offset: fc.integer({ min: -50, max: 50 }),
          nOffset: fc.integer({ min: -50, max: 50 }),
          pos: counts,
          neg: counts,
          hint: fc.constantFrom(CounterResetHint.Unknown, CounterResetHint.CounterReset, CounterResetHint.NotCounterReset, CounterResetHint.Gauge),
        }),
        (r) => {
          const h = new FloatHistogram({
            schema: r.schema,
            sum: r.sum,
            count: r.count,
            zeroCount: r.zeroCount,
            zeroThreshold: r.zeroThreshold,
            counterResetHint: r.hint,
            positiveSpans: r.pos.length ? [{ offset: r.offset, length: r.pos.length }] : [],
            positiveBuckets: r.pos,
            negativeSpans: r.neg.length ? [{ offset: r.nOffset, length: r.neg.length }] : [],
            negativeBuckets: r.neg,
          });
          const back = parseSeriesDesc(`m ${h.testExpression()}`).values[0]!;
          assert.ok(back.histogram!.equals(h.compact(Number.MAX_SAFE_INTEGER)), h.testExpression());
          assert.equal(back.histogram!.counterResetHint, h.counterResetHint);
          assert.equal(back.counterResetHintSet, h.counterResetHint !== CounterResetHint.Unknown);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('bad histogram descriptions', () => {
    for (const [bad, msg] of [
      ['m {{foo:1}}', /bad histogram descriptor found: "foo"/],
      ['m {{sum 1}}', /missing `:`/],
      ['m {{sum:1 sum:2}}', /duplicate key "sum" in histogram/],
      ['m {{buckets:[1,2]}}', /invalid character in buckets description/],
      ['m {{counter_reset_hint:maybe}}', /counter_reset_hint/],
      ['m {{sum:1', /unterminated histogram description/],
      ['m {{sum:1}}+{{sum:1}}', /expected "x<count>"/],
      ['m {{sum:stale}}', /expected a number/],
    ] as const) {
      assert.throws(() => parseSeriesDesc(bad), (e: unknown) => e instanceof SeriesSyntaxError && msg.test(e.message), bad);
    }
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
