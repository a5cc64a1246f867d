// The hand-written Histogram encoder against the generated code (gen/, from
// proto/prometheus_remote): random histograms encode to bytes the generated
// decoder reads back as the same histogram; whole 1.0 and 2.0 requests carry
// them in the right TimeSeries field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromBinary } from '@bufbuild/protobuf';
import { CounterResetHint, FloatHistogram, Histogram, type Span } from '../model/histogram.js';
import { Labels } from '../model/labels.js';
import { HistogramSchema } from './gen/types_pb.js';
import { RequestEncoder, encodeHistogramMessage, labelBytesV1, type EncodableSeries } from './write_encode.js';
import { decodeWriteRequest } from './write_request.js';
import { decodeWriteV2Request } from './write_request_v2.js';

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random histograms, not necessarily valid: the encoder writes what it is given. */
function randomHistogram(r: () => number): Histogram | FloatHistogram {
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const spans = (): Span[] => Array.from({ length: int(0, 4) }, () => ({ offset: int(-1000, 1000), length: int(0, 5) }));
  const n = (s: Span[]): number => s.reduce((a, x) => a + x.length, 0);
  const pos = spans();
  const neg = spans();
  const custom = r() < 0.3;
  const init = {
    counterResetHint: int(0, 3) as CounterResetHint,
    schema: custom ? -53 : int(-4, 8),
    zeroThreshold: r() < 0.5 ? 0 : r(),
    sum: r() < 0.1 ? 0 : (r() - 0.5) * 1e9,
    positiveSpans: pos,
    negativeSpans: neg,
    customValues: custom ? Array.from({ length: int(1, 5) }, (_, i) => i * 2.5 - 1) : [],
  };
  if (r() < 0.5) {
    return new FloatHistogram({
      ...init,
      count: r() * 1e6,
      zeroCount: r() < 0.3 ? 0 : r() * 10,
      positiveBuckets: Array.from({ length: n(pos) }, () => r() * 100),
      negativeBuckets: Array.from({ length: n(neg) }, () => r() * 100),
    });
  }
  return new Histogram({
    ...init,
    count: int(0, 2 ** 48),
    zeroCount: int(0, 1000),
    positiveBuckets: Array.from({ length: n(pos) }, () => int(-(2 ** 40), 2 ** 40)),
    negativeBuckets: Array.from({ length: n(neg) }, () => int(-(2 ** 40), 2 ** 40)),
  });
}

/** Spans as the generated code reads them (absent fields are 0). */
const spanList = (s: readonly { offset: number; length: number }[]) => s.map((x) => `${x.offset}:${x.length}`);

test('random histograms: the generated decoder reads back what the encoder was given', () => {
  const r = rng(18);
  for (let i = 0; i < 2000; i++) {
    const h = randomHistogram(r);
    const t = Math.floor((r() - 0.5) * 2 ** 50);
    const m = fromBinary(HistogramSchema, encodeHistogramMessage(h, t));
    const float = h instanceof FloatHistogram;
    const at = `histogram ${i}`;
    assert.equal(m.count.case, float ? 'countFloat' : 'countInt', at);
    assert.equal(Number(m.count.value), h.count, at);
    assert.equal(m.zeroCount.case, float ? 'zeroCountFloat' : 'zeroCountInt', at);
    assert.equal(Number(m.zeroCount.value), h.zeroCount, at);
    assert.equal(m.sum, h.sum, at);
    assert.equal(m.schema, h.schema, at);
    assert.equal(m.zeroThreshold, h.zeroThreshold, at);
    assert.equal(m.resetHint as number, h.counterResetHint, at);
    assert.equal(Number(m.timestamp), t, at);
    assert.deepEqual(spanList(m.positiveSpans), spanList(h.positiveSpans), at);
    assert.deepEqual(spanList(m.negativeSpans), spanList(h.negativeSpans), at);
    if (float) {
      assert.deepEqual(m.positiveCounts, [...h.positiveBuckets], at);
      assert.deepEqual(m.negativeCounts, [...h.negativeBuckets], at);
      assert.equal(m.positiveDeltas.length + m.negativeDeltas.length, 0, at);
    } else {
      assert.deepEqual(m.positiveDeltas.map(Number), [...h.positiveBuckets], at);
      assert.deepEqual(m.negativeDeltas.map(Number), [...h.negativeBuckets], at);
      assert.equal(m.positiveCounts.length + m.negativeCounts.length, 0, at);
    }
    assert.deepEqual(m.customValues, [...h.customValues], at);
  }
});

test('a NaN sum and a -0 sum survive; the count oneof is written even when zero', () => {
  const m = fromBinary(HistogramSchema, encodeHistogramMessage(new FloatHistogram({ sum: NaN }), 5));
  assert.ok(Number.isNaN(m.sum));
  assert.equal(m.count.case, 'countFloat');
  assert.ok(Object.is(fromBinary(HistogramSchema, encodeHistogramMessage(new Histogram({ sum: -0 }), 0)).sum, -0));
  assert.equal(fromBinary(HistogramSchema, encodeHistogramMessage(new Histogram({}), 0)).count.case, 'countInt');
});

const a = Labels.fromPairs('__name__', 'lat', 'job', 'j');
const up = Labels.fromPairs('__name__', 'up', 'job', 'j');
const ih = new Histogram({
  schema: 1,
  count: 5,
  sum: 12.5,
  zeroCount: 1,
  zeroThreshold: 0.001,
  positiveSpans: [{ offset: -1, length: 2 }],
  positiveBuckets: [3, -2],
  counterResetHint: CounterResetHint.NotCounterReset,
});
const fh = new FloatHistogram({ schema: -53, count: 4, sum: 3, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1, 3], customValues: [1] });

function mixed(version: 1 | 2): EncodableSeries[] {
  const v1 = (l: Labels) => (version === 1 ? labelBytesV1(l) : null);
  return [
    { labels: a, v1: v1(a) },
    { labels: up, v1: v1(up) },
    { labels: a, v1: v1(a) },
  ];
}
const ts = new Float64Array([1000, 2000, -3000]);
const vs = new Float64Array([0, 1, 0]);

test('1.0: a histogram is a TimeSeries of its own (field 4), beside samples', () => {
  const req = decodeWriteRequest(Buffer.from(new RequestEncoder(1).encode(mixed(1), ts, vs, 3, [], [ih, undefined, fh])));
  assert.equal(req.series.length, 3);
  assert.equal(req.samples, 1);
  assert.equal(req.histograms.length, 2);
  const s0 = req.series[0]!;
  assert.deepEqual(s0.labels, ['__name__', 'lat', 'job', 'j']);
  assert.equal(s0.hEnd - s0.hStart, 1);
  assert.equal(s0.end - s0.start, 0);
  const h0 = req.histograms[s0.hStart]!;
  assert.equal(h0.t, 1000);
  assert.ok(h0.h !== null && h0.h.equals(ih));
  const h1 = req.histograms[req.series[2]!.hStart]!;
  assert.equal(h1.t, -3000);
  assert.ok(h1.fh !== null && h1.fh.equals(fh));
  assert.deepEqual(req.series[1]!.labels, ['__name__', 'up', 'job', 'j']);
});

test('2.0: a histogram is a TimeSeries of its own (field 3), labels by symbol', () => {
  const req = decodeWriteV2Request(Buffer.from(new RequestEncoder(2).encode(mixed(2), ts, vs, 3, [], [ih, undefined, fh])));
  const sym = (i: number) => req.buf.subarray(req.symStart[i]!, req.symEnd[i]!).toString('utf8');
  assert.equal(req.series.length, 3);
  assert.equal(req.histograms.length, 2);
  const s2 = req.series[2]!;
  assert.deepEqual([...req.refs.subarray(s2.refStart, s2.refEnd)].map(sym), ['__name__', 'lat', 'job', 'j']);
  assert.equal(s2.end - s2.start, 0);
  const got = req.histograms[s2.hStart]!;
  assert.equal(got.t, -3000);
  assert.ok(got.fh !== null && got.fh.equals(fh));
  assert.ok(req.histograms[req.series[0]!.hStart]!.h!.equals(ih));
  assert.equal(req.series[1]!.end - req.series[1]!.start, 1);
});
