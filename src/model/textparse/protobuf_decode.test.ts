import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { MetricFamilySchema, MetricType } from './gen/metrics_pb.js';
import { ProtobufDecodeError, decodeMetricFamily } from './protobuf_decode.js';

type FamilyInit = MessageInitShape<typeof MetricFamilySchema>;

const str = fc.string({ maxLength: 12, unit: 'grapheme' });
const dbl = fc.oneof(fc.double(), fc.constantFrom(0, -0, 1, Infinity, -Infinity, NaN));
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const s64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const ts = fc.option(fc.integer({ min: -1e12, max: 1e13 }).map((ms) => timestampFromMs(ms)), { nil: undefined });
const labels = fc.array(fc.record({ name: str, value: str }), { maxLength: 3 });
const exemplar = fc.option(fc.record({ label: labels, value: dbl, timestamp: ts }), { nil: undefined });
const span = fc.record({ offset: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), length: fc.integer({ min: 0, max: 2 ** 32 - 1 }) });

const histogram = fc.record({
  sampleCount: u64,
  sampleCountFloat: dbl,
  sampleSum: dbl,
  bucket: fc.array(fc.record({ cumulativeCount: u64, cumulativeCountFloat: dbl, upperBound: dbl, exemplar }), { maxLength: 3 }),
  createdTimestamp: ts,
  schema: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  zeroThreshold: dbl,
  zeroCount: u64,
  zeroCountFloat: dbl,
  negativeSpan: fc.array(span, { maxLength: 3 }),
  negativeDelta: fc.array(s64, { maxLength: 4 }),
  negativeCount: fc.array(dbl, { maxLength: 4 }),
  positiveSpan: fc.array(span, { maxLength: 3 }),
  positiveDelta: fc.array(s64, { maxLength: 4 }),
  positiveCount: fc.array(dbl, { maxLength: 4 }),
  exemplars: fc.array(fc.record({ label: labels, value: dbl, timestamp: ts }), { maxLength: 2 }),
});

const metric = fc.record({
  label: labels,
  gauge: fc.option(fc.record({ value: dbl }), { nil: undefined }),
  counter: fc.option(fc.record({ value: dbl, exemplar, createdTimestamp: ts }), { nil: undefined }),
  summary: fc.option(
    fc.record({ sampleCount: u64, sampleSum: dbl, quantile: fc.array(fc.record({ quantile: dbl, value: dbl }), { maxLength: 3 }), createdTimestamp: ts }),
    { nil: undefined },
  ),
  untyped: fc.option(fc.record({ value: dbl }), { nil: undefined }),
  histogram: fc.option(histogram, { nil: undefined }),
  timestampMs: s64,
});

const family: fc.Arbitrary<FamilyInit> = fc.record({
  name: str,
  help: str,
  type: fc.constantFrom(MetricType.COUNTER, MetricType.GAUGE, MetricType.SUMMARY, MetricType.UNTYPED, MetricType.HISTOGRAM, MetricType.GAUGE_HISTOGRAM, 42),
  metric: fc.array(metric, { maxLength: 3 }),
  unit: str,
});

describe('hand-written MetricFamily decoder', () => {
  test('decodes random messages exactly as the generated code does', () => {
    fc.assert(
      fc.property(family, (init) => {
        const bytes = toBinary(MetricFamilySchema, create(MetricFamilySchema, init));
        assert.deepStrictEqual(decodeMetricFamily(bytes, 0, bytes.length), fromBinary(MetricFamilySchema, bytes));
      }),
      { numRuns: 400 },
    );
  });

  test('unpacked repeated fields, unknown fields and a repeated singular message (merged) read as the generated code reads them', () => {
    // Metric{label{name:"a"}, counter{value:1}, field 99 varint 5, counter{exemplar{value:2}}} in a family with unpacked positive_delta.
    const hist = [0x68, 0x02, 0x68, 0x03]; // positive_delta (13) twice, unpacked: 1, -2 as zigzag 2, 3
    const metricBytes = [
      0x0a, 0x03, 0x0a, 0x01, 0x61, // label {name "a"}
      0x1a, 0x09, 0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, // counter {value 1.0}
      0x98, 0x06, 0x05, // field 99, varint 5
      0x1a, 0x0b, 0x12, 0x09, 0x11, 0, 0, 0, 0, 0, 0, 0, 0x40, // counter {exemplar {value 2.0}}
      0x3a, hist.length, ...hist, // histogram
    ];
    const bytes = Uint8Array.from([0x0a, 0x01, 0x6d, 0x22, metricBytes.length, ...metricBytes]);
    const want = fromBinary(MetricFamilySchema, bytes);
    const got = decodeMetricFamily(bytes, 0, bytes.length);
    // The generated code keeps unknown fields in $unknown; the decoder drops them.
    delete (want.metric[0] as { $unknown?: unknown }).$unknown;
    assert.deepStrictEqual(got, want);
    assert.equal(got.metric[0]!.counter!.value, 1);
    assert.equal(got.metric[0]!.counter!.exemplar!.value, 2);
    assert.deepEqual(got.metric[0]!.histogram!.positiveDelta, [1n, -2n]);
  });

  test('malformed bytes fail with a typed error', () => {
    const good = toBinary(MetricFamilySchema, create(MetricFamilySchema, { name: 'x', metric: [{ gauge: { value: 1 } }] }));
    // Every cut but the one right after the name field (3 bytes: a complete message) truncates a field.
    for (let cut = 1; cut < good.length; cut++) {
      if (cut === 3) continue;
      assert.throws(() => decodeMetricFamily(good, 0, cut), ProtobufDecodeError, `cut at ${cut}`);
    }
    assert.throws(() => decodeMetricFamily(Uint8Array.from([0x0a, 0x05, 0x61]), 0, 3), /runs past the end/);
    assert.throws(() => decodeMetricFamily(Uint8Array.from([0x4f]), 0, 1), /unsupported wire type 7/);
    assert.throws(() => decodeMetricFamily(Uint8Array.from([0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 0, 12), /longer than 10 bytes/);
    assert.throws(() => decodeMetricFamily(Uint8Array.from([0x0d, 0, 0, 0, 0]), 0, 5), /wire type 5, want 2/);
    // Invalid UTF-8 in a string, refused as the generated code refuses it.
    const badUtf8 = Uint8Array.from([0x0a, 0x03, 0x61, 0xff, 0x62]);
    assert.throws(() => fromBinary(MetricFamilySchema, badUtf8));
    assert.throws(() => decodeMetricFamily(badUtf8, 0, badUtf8.length), /not valid UTF-8/);
  });
});
