// The hand-written decoder of remote write's Histogram message against the
// generated code (gen/, from proto/prometheus_remote): random messages decode
// to the same fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { HistogramSchema } from './gen/types_pb.js';
import { decodeHistogram, ProtobufError } from './write_request.js';

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

function randomHistogram(r: () => number): MessageInitShape<typeof HistogramSchema> {
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const float = r() < 0.5;
  const spans = () => Array.from({ length: int(0, 4) }, () => ({ offset: int(-1000, 1000), length: int(0, 5) }));
  const list = <T>(n: number, f: () => T): T[] => Array.from({ length: n }, f);
  const big = (): bigint => BigInt(int(-(2 ** 40), 2 ** 40));
  return {
    count: float ? { case: 'countFloat', value: r() * 1e6 } : { case: 'countInt', value: BigInt(int(0, 2 ** 48)) },
    sum: (r() - 0.5) * 1e9,
    schema: int(-60, 60),
    zeroThreshold: r() < 0.5 ? 0 : r(),
    zeroCount: float ? { case: 'zeroCountFloat', value: r() * 10 } : { case: 'zeroCountInt', value: BigInt(int(0, 1000)) },
    negativeSpans: spans(),
    negativeDeltas: float ? [] : list(int(0, 6), big),
    negativeCounts: float ? list(int(0, 6), () => r() * 100) : [],
    positiveSpans: spans(),
    positiveDeltas: float ? [] : list(int(0, 6), big),
    positiveCounts: float ? list(int(0, 6), () => r() * 100) : [],
    resetHint: int(0, 3),
    timestamp: BigInt(int(-(2 ** 50), 2 ** 50)),
    customValues: r() < 0.3 ? list(int(1, 5), () => (r() - 0.5) * 100) : [],
  };
}

test('random Histogram messages decode as the generated code decodes them', () => {
  const r = rng(16);
  for (let i = 0; i < 2000; i++) {
    const bytes = Buffer.from(toBinary(HistogramSchema, create(HistogramSchema, randomHistogram(r))));
    const want = fromBinary(HistogramSchema, bytes);
    const got = decodeHistogram(bytes, 0, bytes.length);
    const isFloat = want.count.case === 'countFloat';
    const h = isFloat ? got.fh! : got.h!;
    assert.ok(h !== null && (isFloat ? got.h === null : got.fh === null), `message ${i}: integer or float as its count`);
    assert.equal(got.t, Number(want.timestamp));
    assert.equal(h.count, isFloat ? want.count.value : Number(want.count.value));
    assert.equal(h.zeroCount, Number(want.zeroCount.value ?? 0));
    assert.equal(h.sum, want.sum);
    assert.equal(h.schema, want.schema);
    assert.equal(h.zeroThreshold, want.zeroThreshold);
    assert.equal(h.counterResetHint, want.resetHint);
    assert.deepEqual(h.positiveSpans, want.positiveSpans.map((s) => ({ offset: s.offset, length: s.length })));
    assert.deepEqual(h.negativeSpans, want.negativeSpans.map((s) => ({ offset: s.offset, length: s.length })));
    assert.deepEqual([...h.positiveBuckets], isFloat ? want.positiveCounts : want.positiveDeltas.map(Number));
    assert.deepEqual([...h.negativeBuckets], isFloat ? want.negativeCounts : want.negativeDeltas.map(Number));
    assert.deepEqual([...h.customValues], want.customValues);
  }
});

test('truncated Histogram messages are decode errors', () => {
  const r = rng(7);
  for (let i = 0; i < 200; i++) {
    const bytes = Buffer.from(toBinary(HistogramSchema, create(HistogramSchema, randomHistogram(r))));
    if (bytes.length < 2) continue;
    const cut = bytes.subarray(0, 1 + Math.floor(r() * (bytes.length - 1)));
    let generated: unknown = null;
    try {
      fromBinary(HistogramSchema, cut);
    } catch (e) {
      generated = e;
    }
    let ours: unknown = null;
    try {
      decodeHistogram(cut, 0, cut.length);
    } catch (e) {
      ours = e;
    }
    // A cut at a field boundary is a valid shorter message for both.
    assert.equal(ours === null, generated === null, `cut ${cut.length}/${bytes.length}`);
    if (ours !== null) assert.ok(ours instanceof ProtobufError);
  }
});
