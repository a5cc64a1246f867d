import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { FloatHistogram, Histogram, HistogramError } from '../histogram.js';
import { HistogramSchema, MetricFamilySchema, MetricType } from './gen/metrics_pb.js';
import { Entry } from './interface.js';
import { ProtobufParseError, ProtobufParser } from './protobuf_parser.js';

type FamilyInit = MessageInitShape<typeof MetricFamilySchema>;
type HistogramInit = MessageInitShape<typeof HistogramSchema>;

function delimited(...families: FamilyInit[]): Uint8Array {
  const parts: number[] = [];
  for (const f of families) {
    const b = toBinary(MetricFamilySchema, create(MetricFamilySchema, f));
    let n = b.length;
    while (n >= 0x80) {
      parts.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    parts.push(n, ...b);
  }
  return Uint8Array.from(parts);
}

/** Everything the parser yields, one line per entry. */
function dump(p: ProtobufParser): string[] {
  const out: string[] = [];
  for (let e = p.next(); e !== Entry.EOF; e = p.next()) {
    if (e === Entry.Help) out.push(`help ${p.metaName()} ${p.helpText()}`);
    else if (e === Entry.Type) out.push(`type ${p.metaName()} ${p.metricType()}`);
    else if (e === Entry.Unit) out.push(`unit ${p.metaName()} ${p.unitText()}`);
    else if (e === Entry.Series) {
      const ex = p.exemplar();
      out.push(`${p.labels().toString()} ${p.value()}${p.timestamp() === null ? '' : ` @${p.timestamp()}`}${ex ? ` # ${ex.labels.toString()} ${ex.value}` : ''}${p.startTimestamp() ? ` st=${p.startTimestamp()}` : ''}`);
    } else if (e === Entry.Histogram) out.push(`${p.labels().toString()} ${p.histogram().toString()}`);
  }
  return out;
}

const nativeFamily = (h: HistogramInit, type = MetricType.HISTOGRAM): FamilyInit => ({
  name: 'rpc_seconds',
  help: 'RPC latency.',
  type,
  metric: [{ label: [{ name: 'svc', value: 'a' }], histogram: h, timestampMs: 1234n }],
});

describe('ProtobufParser', () => {
  test('counters, gauges, summaries and classic histograms become the text parsers\' series', () => {
    const body = delimited(
      {
        name: 'reqs_total',
        help: 'Requests.',
        type: MetricType.COUNTER,
        metric: [
          {
            label: [{ name: 'code', value: '200' }],
            counter: { value: 7, createdTimestamp: timestampFromMs(1000), exemplar: { label: [{ name: 'trace_id', value: 'x' }], value: 1 } },
          },
        ],
      },
      { name: 'temp', type: MetricType.GAUGE, unit: 'celsius', metric: [{ gauge: { value: -1.5 } }] },
      { name: 'lat', type: MetricType.SUMMARY, metric: [{ summary: { sampleCount: 3n, sampleSum: 1.5, quantile: [{ quantile: 0.5, value: 0.4 }] } }] },
      {
        name: 'size',
        type: MetricType.HISTOGRAM,
        metric: [{ histogram: { sampleCount: 4n, sampleSum: 10, bucket: [{ upperBound: 1, cumulativeCount: 1n }, { upperBound: 5, cumulativeCount: 3n }] } }],
      },
    );
    assert.deepEqual(dump(new ProtobufParser(body)), [
      'help reqs_total Requests.',
      'type reqs_total counter',
      '{__name__="reqs_total", code="200"} 7 # {trace_id="x"} 1 st=1000',
      'help temp ',
      'unit temp celsius',
      'type temp gauge',
      '{__name__="temp"} -1.5',
      'help lat ',
      'type lat summary',
      '{__name__="lat_count"} 3',
      '{__name__="lat_sum"} 1.5',
      '{__name__="lat", quantile="0.5"} 0.4',
      'help size ',
      'type size histogram',
      '{__name__="size_count"} 4',
      '{__name__="size_sum"} 10',
      '{__name__="size_bucket", le="1.0"} 1',
      '{__name__="size_bucket", le="5.0"} 3',
      '{__name__="size_bucket", le="+Inf"} 4',
    ]);
  });

  test('native histograms: integer and float, gauge hint, classic series only when asked', () => {
    const h = {
      sampleCount: 5n,
      sampleSum: 12,
      schema: 1,
      zeroThreshold: 0.001,
      zeroCount: 1n,
      positiveSpan: [{ offset: 0, length: 2 }],
      positiveDelta: [1n, 1n],
      negativeSpan: [{ offset: 1, length: 1 }],
      negativeDelta: [1n],
      bucket: [{ upperBound: 1, cumulativeCount: 2n }],
      exemplars: [{ label: [{ name: 't', value: '1' }], value: 0.7, timestamp: timestampFromMs(99) }],
    };
    const p = new ProtobufParser(delimited(nativeFamily(h)));
    assert.equal(p.next(), Entry.Help);
    assert.equal(p.next(), Entry.Type);
    assert.equal(p.next(), Entry.Histogram);
    const got = p.histogram();
    assert.ok(got instanceof Histogram);
    assert.equal(got.count, 5);
    assert.equal(p.timestamp(), 1234);
    assert.deepEqual(p.exemplars().map((e) => [e.value, e.timestamp]), [[0.7, 99]]);
    assert.equal(p.next(), Entry.EOF);

    const withClassic = dump(new ProtobufParser(delimited(nativeFamily(h)), { parseClassicHistograms: true }));
    assert.equal(withClassic.length, 2 + 1 + 4);
    assert.equal(withClassic[3], '{__name__="rpc_seconds_count", svc="a"} 5 @1234');

    const fp = new ProtobufParser(
      delimited(
        nativeFamily(
          { sampleCountFloat: 2.5, sampleSum: 1, schema: 0, zeroThreshold: 0.001, zeroCountFloat: 0.5, positiveSpan: [{ offset: 0, length: 1 }], positiveCount: [2] },
          MetricType.GAUGE_HISTOGRAM,
        ),
      ),
    );
    fp.next();
    fp.next();
    assert.equal(fp.next(), Entry.Histogram);
    const fh = fp.histogram();
    assert.ok(fh instanceof FloatHistogram);
    assert.equal(fh.toString(), '{count:2.5, sum:1, [-0.001,0.001]:0.5, (0.5,1]:2}');
    assert.equal(fp.currentType(), 'gaugehistogram');
  });

  test('spans that do not match the buckets refuse the body; other bad histograms fail when read, with Prometheus\'s texts', () => {
    assert.throws(
      () => dump(new ProtobufParser(delimited(nativeFamily({ sampleCount: 2n, zeroThreshold: 0.001, positiveSpan: [{ offset: 0, length: 3 }], positiveDelta: [1n, 1n] })))),
      (e: unknown) =>
        e instanceof ProtobufParseError && e.message === 'protobuf parsing failed at byte 0: histogram "rpc_seconds": positive side: spans require 3 buckets, have 2',
    );
    const read = (h: HistogramInit): (() => unknown) => () => {
      const p = new ProtobufParser(delimited(nativeFamily(h)));
      p.next();
      p.next();
      assert.equal(p.next(), Entry.Histogram);
      return p.histogram();
    };
    assert.throws(
      read({ sampleCount: 0n, zeroThreshold: 0.001, positiveSpan: [{ offset: 0, length: 2 }], positiveDelta: [1n, -2n] }),
      (e: unknown) =>
        e instanceof HistogramError &&
        e.message === 'histogram rpc_seconds: positive side: bucket number 2 has observation count of -1: histogram has a bucket whose observation count is negative',
    );
    assert.throws(read({ sampleCount: 0n, schema: 53, positiveSpan: [{ offset: 0, length: 0 }] }), /invalid schema.*got schema 53/);
    // Schemas 9..52 are reduced to 8: buckets 1 and 2 of schema 10 are bucket 1 of schema 8.
    const fine = read({ sampleCount: 2n, schema: 10, positiveSpan: [{ offset: 1, length: 2 }], positiveDelta: [1n, 0n] })() as Histogram;
    assert.equal(fine.schema, 8);
    assert.deepEqual(Array.from(fine.positiveBuckets), [2]);
    assert.throws(read({ sampleCount: 5n, zeroThreshold: 0.001, zeroCount: 1n }), /count should equal the number of observations/);
  });

  test('families without metrics yield nothing; unknown types and empty names are refused', () => {
    assert.deepEqual(dump(new ProtobufParser(delimited({ name: 'empty', help: 'h', type: MetricType.GAUGE }))), []);
    assert.throws(() => dump(new ProtobufParser(delimited({ name: 'x', type: 42 as MetricType, metric: [{}] }))), /unknown metric type for metric "x": 42/);
    assert.throws(() => dump(new ProtobufParser(delimited({ type: MetricType.GAUGE, metric: [{ gauge: { value: 1 } }] }))), /invalid metric name: $/);
  });

  test('malformed input: truncated messages, bad lengths, garbage', () => {
    const good = delimited({ name: 'a', type: MetricType.GAUGE, metric: [{ gauge: { value: 1 } }] });
    assert.throws(() => dump(new ProtobufParser(good.subarray(0, good.length - 2))), (e: unknown) => e instanceof ProtobufParseError && /runs past the end/.test(e.message));
    assert.throws(() => dump(new ProtobufParser(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))), ProtobufParseError);
    assert.throws(() => dump(new ProtobufParser(Uint8Array.from([3, 0xff, 0xff, 0xff]))), (e: unknown) => e instanceof ProtobufParseError && /invalid MetricFamily/.test(e.message));
  });
});
