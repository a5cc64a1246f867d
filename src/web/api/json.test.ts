import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatF } from '../../gofmt/float.js';
import {
  formatSampleValue,
  formatUnixSeconds,
  goJSONString,
  jsonString,
  labelString,
  labelsJSON,
  encodeJSON,
  JsonWriter,
  RawJSON,
  writeQueryResult,
  CHUNK_BYTES,
} from './json.js';
import { LabelSetsData, encodeApiSuccess, isBodyStream } from './response.js';
import { FloatHistogram } from '../../model/histogram.js';
import { Labels } from '../../model/labels.js';
import { STALE_NAN } from '../../model/value.js';
import type { QueryValue } from '../../promql/engine/types.js';

/** A sample timestamp (ms) as jsonutil.MarshalTimestamp writes it: "1.5 s" is "1.500", whole seconds have no point. */
function formatTimestamp(ms: number): string {
  const neg = ms < 0;
  const abs = neg ? -ms : ms;
  const frac = abs % 1000;
  const sec = (abs - frac) / 1000;
  let s = neg ? `-${sec}` : String(sec);
  if (frac !== 0) s += frac < 10 ? `.00${frac}` : frac < 100 ? `.0${frac}` : `.${frac}`;
  return s;
}

/** `resultType` and `result` of a query answer as strings (small results). */
function queryValueJSON(v: QueryValue): { resultType: string; result: string } {
  const w = new JsonWriter();
  const chunks: Buffer[] = [];
  for (const _ of writeQueryResult(w, v)) chunks.push(...w.takeChunks());
  chunks.push(...w.finish());
  return { resultType: v.type, result: Buffer.concat(chunks).toString('utf8') };
}

/** A double from its IEEE-754 bits, as the vectors below give them. */
function fromBits(hex: string): number {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(`0x${hex}`));
  return b.readDoubleBE(0);
}

// [bits, strconv.FormatFloat(f,'f',-1,64), Prometheus jsonutil.MarshalFloat, encoding/json float64], produced by Go.
const GO_VECTORS: Array<[string, string, string, string]> = [
  ['4d65822107fcfd52', '70784065695346820000000000000000000000000000000000000000000000000', '7.078406569534682e+64', '7.078406569534682e+64'],
  ['419495c70d647bce', '86340035.34812853', '86340035.34812853', '86340035.34812853'],
  ['bef9411332449cbc', '-0.000024084281123351535', '-0.000024084281123351535', '-0.000024084281123351535'],
  ['c4342f84485551cb', '-372358822622181100000', '-372358822622181100000', '-372358822622181100000'],
  ['44a5c1504717d02d', '51367851182458875000000', '5.1367851182458875e+22', '5.1367851182458875e+22'],
  ['4074d27ae147ae14', '333.155', '333.155', '333.155'],
  ['444c33532ffe8f3c', '1040414373106480000000', '1.04041437310648e+21', '1.04041437310648e+21'],
  ['be61d51452eb3dce', '-0.000000033215324148784455', '-3.3215324148784455e-08', '-3.3215324148784455e-8'],
  ['3bc5f7e8f45fa9f6', '0.00000000000000000000930397860249074', '9.30397860249074e-21', '9.30397860249074e-21'],
  ['30b418785ab341cf', '0.00000000000000000000000000000000000000000000000000000000000000000000000004442851120366232', '4.442851120366232e-74', '4.442851120366232e-74'],
  ['4335bdef54790a94', '6119810122975892', '6119810122975892', '6119810122975892'],
  ['c35cc0ab2e793e89', '-32372563198147108', '-32372563198147108', '-32372563198147108'],
  ['442d0e6ac9dd1870', '267997221376537130000', '267997221376537130000', '267997221376537130000'],
  ['3e71100010832fc1', '0.00000006356276938400627', '6.356276938400627e-08', '6.356276938400627e-8'],
  ['408ef10000000000', '990.125', '990.125', '990.125'],
];

test('float formats match Go on vectors produced by Go', () => {
  for (const [bits, f, sample, std] of GO_VECTORS) {
    const x = fromBits(bits);
    assert.equal(formatF(x), f, bits);
    assert.equal(formatSampleValue(x), sample, bits);
    assert.equal(String(x), std, bits);
  }
});

test('formatF is strconv.FormatFloat(f, f, -1, 64): never an exponent', () => {
  const cases: Array<[number, string]> = [
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [-2.5, '-2.5'],
    [1 / 3, '0.3333333333333333'],
    [1e21, '1000000000000000000000'],
    [1e-7, '0.0000001'],
    [5e-324, `0.${'0'.repeat(323)}5`],
    [1.7976931348623157e308, `17976931348623157${'0'.repeat(292)}`],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
    [STALE_NAN, 'NaN'],
  ];
  for (const [f, want] of cases) assert.equal(formatF(f), want, String(f));
});

test('sample values use the exponent form below 1e-6 and from 1e21, with two exponent digits', () => {
  const cases: Array<[number, string]> = [
    [1e-7, '1e-07'],
    [-1.5e-7, '-1.5e-07'],
    [1e-6, '0.000001'],
    [9.99e-7, '9.99e-07'],
    [1e21, '1e+21'],
    [9.99e20, '999000000000000000000'],
    [1.2345678e-67, '1.2345678e-67'],
    [1e100, '1e+100'],
    [5e-324, '5e-324'],
    [-0, '-0'],
    [Infinity, '+Inf'],
    [NaN, 'NaN'],
    [1234567.8, '1234567.8'],
    [1.2345678e-6, '0.0000012345678'],
  ];
  for (const [f, want] of cases) assert.equal(formatSampleValue(f), want, String(f));
});

test('the point writer formats every double as formatSampleValue does', () => {
  fc.assert(
    fc.property(fc.double(), fc.integer({ min: -1e13, max: 1e13 }), (f, t) => {
      const w = new JsonWriter();
      w.point(t, f);
      assert.equal(Buffer.concat(w.finish()).toString(), `[${formatTimestamp(t)},"${formatSampleValue(f)}"]`);
    }),
    { numRuns: 20_000 },
  );
});

test('the string-free shortest-digits path agrees with JS (and so Go) across its whole range', () => {
  // Full 52-bit mantissas, both signs, 1e-6 <= |f| < 1e15: the 15-, 16- and 17-digit cases and power-of-two edges.
  const bits = new Float64Array(1);
  const words = new BigUint64Array(bits.buffer);
  fc.assert(
    fc.property(fc.integer({ min: 1003, max: 1073 }), fc.bigInt({ min: 0n, max: 2n ** 52n - 1n }), fc.boolean(), (exp, mant, neg) => {
      words[0] = (BigInt(exp) << 52n) | mant | (neg ? 1n << 63n : 0n);
      const f = bits[0]!;
      const w = new JsonWriter();
      w.point(0, f);
      assert.equal(Buffer.concat(w.finish()).toString(), `[0,"${formatSampleValue(f)}"]`);
    }),
    { numRuns: 50_000, examples: [[1023, 0n, false], [1023, 1n, false], [1022, 2n ** 52n - 1n, true]] },
  );
});

test('short decimals (the fast path) print as formatSampleValue prints them', () => {
  fc.assert(
    fc.property(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), fc.integer({ min: 0, max: 9 }), (n, k) => {
      for (const f of [n / 10 ** k, n / 10 ** k + 1e-9, (n % 1e6) / 10 ** k]) {
        const w = new JsonWriter();
        w.point(1_700_000_000_123, f);
        assert.equal(Buffer.concat(w.finish()).toString(), `[1700000000.123,"${formatSampleValue(f)}"]`, String(f));
      }
    }),
    { numRuns: 50_000, examples: [[1, 6], [-1, 6], [999_999_999_999_999, 1], [100_000_000_000_001, 6], [5, 2], [-12_345, 3]] },
  );
});

test('integers at digit-count and 32-bit boundaries', () => {
  const ints = [0, 1, 9, 10, 99, 100, 101, 999, 1000, 99_999_999, 100_000_000, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, 1e15, 2 ** 53 - 1];
  for (const n of ints) {
    for (const v of [n, -n]) {
      const w = new JsonWriter();
      w.point(n, v);
      assert.equal(Buffer.concat(w.finish()).toString(), `[${formatTimestamp(n)},"${formatSampleValue(v)}"]`, String(v));
    }
  }
});

test('sample timestamps keep three decimals as Prometheus writes them', () => {
  const cases: Array<[number, string]> = [
    [0, '0'],
    [1, '0.001'],
    [10, '0.010'],
    [100, '0.100'],
    [1001, '1.001'],
    [1010, '1.010'],
    [1100, '1.100'],
    [1500, '1.500'],
    [1234567812345655, '1234567812345.655'],
    [-1, '-0.001'],
    [-1500, '-1.500'],
    [1435781451000, '1435781451'],
  ];
  for (const [ms, want] of cases) {
    const w = new JsonWriter();
    w.point(ms, 0);
    assert.equal(Buffer.concat(w.finish()).toString(), `[${want},"0"]`, String(ms));
  }
  assert.equal(formatUnixSeconds(1500), '1.5');
  assert.equal(formatUnixSeconds(1435781451781), '1435781451.781');
});

test('three string escapings, each where Prometheus uses it', () => {
  const s = 'a<b>&"c"\\\n\t\b\f\u0001\u2028é';
  assert.equal(labelString(s), '"a<b>&\\"c\\"\\\\\\n\\t\\u0008\\u000c\\u0001\u2028é"');
  assert.equal(jsonString(s), '"a\\u003cb\\u003e\\u0026\\"c\\"\\\\\\n\\t\\u0008\\u000c\\u0001\\u2028é"');
  assert.equal(goJSONString(s), '"a\\u003cb\\u003e\\u0026\\"c\\"\\\\\\n\\t\\b\\f\\u0001\\u2028é"');
  assert.equal(jsonString('plain'), '"plain"');
  assert.equal(labelsJSON(Labels.fromPairs('__name__', 'up', 'job', 'a<b')), '{"__name__":"up","job":"a<b"}');
});

test('label sets written by the byte writer read back exactly', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.string({ minLength: 1, unit: 'binary' }), fc.string({ minLength: 1, unit: 'binary' })), { maxLength: 6 }), (pairs) => {
      const ls = Labels.fromPairs(...pairs.flat());
      const w = new JsonWriter();
      w.ascii('x');
      w.labels(ls);
      const text = Buffer.concat(w.finish()).toString('utf8');
      assert.equal(text, `x${labelsJSON(ls)}`);
      const want = new Map(Array.from({ length: ls.length }, (_, i) => [ls.nameAt(i), ls.valueAt(i)]));
      assert.deepEqual(new Map(Object.entries(JSON.parse(text.slice(1)) as object)), want);
    }),
    { numRuns: 2000 },
  );
  const w = new JsonWriter();
  w.labelString('ab"cd\\e');
  w.labelString('x'.repeat(3 * CHUNK_BYTES));
  const text = Buffer.concat(w.finish()).toString('utf8');
  assert.equal(text, `"ab\\"cd\\\\e""${'x'.repeat(3 * CHUNK_BYTES)}"`);
});

test('repeated values reuse their text, also across chunk boundaries', () => {
  const w = new JsonWriter();
  const vals = [0.1, 0.1, 1 / 3, 1 / 3, 1 / 3, 2, NaN, NaN, -0.25, 1e-7, 1e-7];
  let want = '';
  for (let i = 0; i < 20_000; i++) {
    const f = vals[i % vals.length]!;
    w.point(i, f);
    want += `[${formatTimestamp(i)},"${formatSampleValue(f)}"]`;
  }
  assert.equal(Buffer.concat(w.finish()).toString(), want);
});

test('query values encode as Prometheus encodes them', () => {
  const m = Labels.fromPairs('__name__', 'up', 'job', 'a<b', 'note', 'é"\n');
  assert.deepEqual(queryValueJSON({ type: 'vector', samples: [{ metric: m, t: 1500, f: 1e-7 }] }), {
    resultType: 'vector',
    result: '[{"metric":{"__name__":"up","job":"a<b","note":"é\\"\\n"},"value":[1.500,"1e-07"]}]',
  });
  assert.deepEqual(queryValueJSON({ type: 'scalar', t: 1500, v: 1e-7 }), { resultType: 'scalar', result: '[1.5,"0.0000001"]' });
  assert.deepEqual(queryValueJSON({ type: 'string', t: 2000, v: 'x<y' }), { resultType: 'string', result: '[2,"x\\u003cy"]' });
  assert.deepEqual(
    queryValueJSON({ type: 'matrix', series: [{ metric: Labels.EMPTY, ts: Float64Array.of(1000, 2010), fs: Float64Array.of(Infinity, -0.5) }] }),
    { resultType: 'matrix', result: '[{"metric":{},"values":[[1,"+Inf"],[2.010,"-0.5"]]}]' },
  );
  // A series without float points has no "values" member.
  assert.equal(queryValueJSON({ type: 'matrix', series: [{ metric: Labels.EMPTY, ts: new Float64Array(0), fs: new Float64Array(0) }] }).result, '[{"metric":{}}]');
  assert.equal(queryValueJSON({ type: 'vector', samples: [] }).result, '[]');
  assert.equal(queryValueJSON({ type: 'matrix', series: [] }).result, '[]');
});

test('big results are cut into chunks that join into valid JSON', () => {
  const n = 20_000;
  const ts = new Float64Array(n).map((_, i) => 1_700_000_000_000 + i * 15_000);
  const fs = new Float64Array(n).map((_, i) => i / 7);
  const series = [0, 1, 2].map((i) => ({ metric: Labels.fromPairs('__name__', 'x', 'i', String(i)), ts, fs }));
  const { result } = queryValueJSON({ type: 'matrix', series });
  assert.ok(result.length > 3 * CHUNK_BYTES);
  const parsed = JSON.parse(result) as Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;
  assert.equal(parsed.length, 3);
  assert.deepEqual(parsed[2]!.metric, { __name__: 'x', i: '2' });
  assert.deepEqual(parsed[1]!.values[7], [1_700_000_105, '1']);
  assert.equal(parsed[0]!.values.length, n);
});

test('encodeJSON embeds raw JSON and labels, drops undefined members', () => {
  assert.equal(
    encodeJSON({ a: 1, b: undefined, c: [true, null], d: new RawJSON('[1]'), e: Labels.fromPairs('x', 'y<'), f: 'y<', g: 0.1 }),
    '{"a":1,"c":[true,null],"d":[1],"e":{"x":"y<"},"f":"y\\u003c","g":0.1}',
  );
});

test('a column-wise vector leaves out the metadata labels of the samples flagged for it, and only theirs', () => {
  const a = Labels.fromPairs('__name__', 'up', '__type__', 'gauge', 'job', 'a');
  const b = Labels.fromPairs('__name__', 'up', 'job', 'b');
  const columns = { t: 1500, n: 2, metrics: [a, b], drop: Uint8Array.of(1, 0), vs: Float64Array.of(1, 2.5) };
  assert.deepEqual(queryValueJSON({ type: 'vector', samples: [], columns }), {
    resultType: 'vector',
    result: '[{"metric":{"job":"a"},"value":[1.500,"1"]},{"metric":{"__name__":"up","job":"b"},"value":[1.500,"2.5"]}]',
  });
});

test('native histograms: "histogram" in vectors and "histograms" in matrices, buckets with their boundary rule', () => {
  const h = new FloatHistogram({
    count: 5,
    sum: 10.5,
    zeroThreshold: 0.001,
    zeroCount: 1,
    positiveSpans: [{ offset: 0, length: 3 }],
    positiveBuckets: [2, 0, 2],
    negativeSpans: [{ offset: 0, length: 1 }],
    negativeBuckets: [1e-7],
  });
  const hj =
    '{"count":"5","sum":"10.5","buckets":[[1,"-1","-0.5","1e-07"],[3,"-0.001","0.001","1"],[0,"0.5","1","2"],[0,"2","4","2"]]}';
  const m = Labels.fromPairs('__name__', 'h');
  assert.equal(
    queryValueJSON({ type: 'vector', samples: [{ metric: m, t: 1500, f: NaN, h }] }).result,
    `[{"metric":{"__name__":"h"},"histogram":[1.500,${hj}]}]`,
  );
  assert.equal(
    queryValueJSON({
      type: 'matrix',
      series: [{ metric: m, ts: Float64Array.of(1000), fs: Float64Array.of(2), hts: Float64Array.of(2000, 3000), hs: [h, new FloatHistogram({ count: 0, sum: 0 })] }],
    }).result,
    `[{"metric":{"__name__":"h"},"values":[[1,"2"]],"histograms":[[2,${hj}],[3,{"count":"0","sum":"0"}]]}]`,
  );
  const cb = new FloatHistogram({ schema: -53, count: 3, sum: 1, customValues: [1, 5], positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [1, 1, 1] });
  assert.equal(
    queryValueJSON({ type: 'vector', samples: [{ metric: m, t: 0, f: NaN, h: cb }] }).result,
    '[{"metric":{"__name__":"h"},"histogram":[0,{"count":"3","sum":"1","buckets":[[3,"-Inf","1","1"],[0,"1","5","1"],[0,"5","+Inf","1"]]}]}]',
  );
});

test('series lists written from the label sets equal encodeJSON of the list, streamed when big', async () => {
  const collect = async (b: Buffer | AsyncIterable<Buffer>): Promise<string> => {
    if (!isBodyStream(b)) return b.toString('utf8');
    const parts: Buffer[] = [];
    for await (const c of b) parts.push(c);
    return Buffer.concat(parts).toString('utf8');
  };
  const name = fc.string({ minLength: 1, maxLength: 6, unit: 'binary' });
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(fc.tuple(name, name), { maxLength: 4 }), { maxLength: 8 }), async (rows) => {
      const sets = rows.map((r) => Labels.fromPairs(...r.flat()));
      const got = await collect(encodeApiSuccess({ data: new LabelSetsData(sets) }));
      assert.equal(got, `{"status":"success","data":${encodeJSON(sets)}}`);
    }),
    { numRuns: 500 },
  );
  const many = Array.from({ length: 30_000 }, (_, i) => Labels.fromPairs('__name__', 'node_cpu_seconds_total', 'instance', `host-${i}:9100`, 'mode', 'a"b'));
  const body = encodeApiSuccess({ data: new LabelSetsData(many), warnings: ['w'] });
  assert.ok(isBodyStream(body));
  assert.equal(await collect(body), `{"status":"success","data":${encodeJSON(many)},"warnings":["w"]}`);
});
