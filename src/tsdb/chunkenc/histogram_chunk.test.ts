import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CounterResetHint, FloatHistogram, Histogram, type Span } from '../../model/histogram.js';
import { STALE_NAN, isStaleNaN } from '../../model/value.js';
import {
  ChunkAppendError,
  CounterResetHeader,
  FloatHistogramChunk,
  HistogramChunk,
  decodeFloatHistogramChunk,
  decodeHistogramChunk,
} from './histogram_chunk.js';

/** Bits written out from the spec, MSB first, into bytes (zero padded). */
function bitsToBytes(bits: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8).padEnd(8, '0'), 2));
  return out;
}
const f64bits = (v: number): string => {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, v);
  return b.getBigUint64(0).toString(2).padStart(64, '0');
};
const bin = (v: number, n: number): string => (v >>> 0).toString(2).padStart(n, '0').slice(-n);

describe('histogram chunk golden bytes (computed by hand from chunks.md)', () => {
  test('two integer samples', () => {
    const h1 = new Histogram({ count: 3, sum: 1.5, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1, 1] });
    const h2 = new Histogram({ count: 5, sum: 2.5, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [2, 1] });
    const c = new HistogramChunk();
    c.append(1000, h1);
    const r = c.append(2000, h2);
    assert.equal(r.chunk, c);
    const layout =
      bin(0, 8) + // zero threshold 0
      '0' + // schema 0
      '10' + bin(1, 3) + // one positive span
      '10' + bin(2, 3) + '0' + // length 2, offset 0
      '0'; // no negative spans
    const s0 =
      '11110' + bin(1000, 12) + // t
      '10' + bin(3, 3) + // count
      '0' + // zero count
      f64bits(1.5) +
      '10' + bin(1, 3) + // bucket deltas 1, 1
      '10' + bin(1, 3);
    // 1.5 ^ 2.5 = 0x7ffc000000000000: 1 leading zero, 50 trailing, 13 significant bits.
    const s1 =
      '11110' + bin(1000, 12) + // t delta-of-delta (the first delta)
      '10' + bin(2, 3) + // count delta 2
      '0' + // zero count
      '1' + '1' + bin(1, 5) + bin(13, 6) + '1'.repeat(13) + // sum XOR with a new window
      '10' + bin(1, 3) + // bucket 0 delta 1
      '0'; // bucket 1 unchanged
    const expected = [0, 2, 0, ...bitsToBytes(layout + s0 + s1)];
    assert.deepEqual(Array.from(c.bytes()), expected);
  });

  test('float chunk: absolute floats, then XOR per field; zero threshold and custom bound encodings', () => {
    const h = new FloatHistogram({
      schema: -53,
      count: 2,
      sum: 3,
      customValues: [0.5, 2.25],
      positiveSpans: [{ offset: 1, length: 1 }],
      positiveBuckets: [2],
    });
    const c = new FloatHistogramChunk();
    c.append(5, h);
    c.append(6, h);
    // Schema -53 is in the 9-bit varbit class (-255..256): prefix 1110, then 2^9 - 53.
    const schemaBits = '1110' + bin(512 - 53, 9);
    // Custom bounds: 0.5 -> 501 (9-bit class), 2.25 -> 2251 (12-bit class).
    const lay =
      bin(0, 8) +
      schemaBits +
      '10' + bin(1, 3) + '10' + bin(1, 3) + '10' + bin(1, 3) + // one span: length 1, offset 1
      '0' + // no negative spans
      '10' + bin(2, 3) + // two custom bounds
      '1110' + bin(501, 9) +
      '11110' + bin(2251, 12);
    const s0 = '110' + bin(5, 6) + f64bits(2) + f64bits(0) + f64bits(3) + f64bits(2);
    // t 5 is above 4, the 3-bit class's top: 6-bit class. Second sample: t delta 1, then four unchanged XOR fields.
    const s1 = '10' + bin(1, 3) + '0000';
    assert.deepEqual(Array.from(c.bytes()), [0, 2, 0, ...bitsToBytes(lay + s0 + s1)]);
    const got = [...decodeFloatHistogramChunk(c.bytes())];
    assert.equal(got.length, 2);
    assert.deepEqual(Array.from(got[1]!.h.customValues), [0.5, 2.25]);
  });

  test('zero thresholds: powers of two take one byte, others nine', () => {
    const one = new HistogramChunk();
    one.append(0, new Histogram({ zeroThreshold: 2 ** -128 }));
    assert.equal(one.bytes()[3], -128 + 1 + 243);
    const nine = new HistogramChunk();
    nine.append(0, new Histogram({ zeroThreshold: 0.001 }));
    assert.equal(nine.bytes()[3], 0xff);
    assert.equal([...decodeHistogramChunk(nine.bytes())][0]!.h.zeroThreshold, 0.001);
    assert.equal([...decodeHistogramChunk(one.bytes())][0]!.h.zeroThreshold, 2 ** -128);
  });
});

describe('appender rules', () => {
  const base = new Histogram({ count: 3, sum: 1, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1, 1] });

  test('a new bucket recodes the chunk; earlier samples get a zero there', () => {
    const c = new HistogramChunk();
    c.append(1, base);
    const wider = new Histogram({
      count: 4,
      sum: 2,
      positiveSpans: [
        { offset: 0, length: 2 },
        { offset: 1, length: 1 },
      ],
      positiveBuckets: [1, 1, -1],
    });
    const r = c.append(2, wider);
    assert.equal(r.recoded, true);
    assert.equal(r.newChunk, false);
    const got = [...r.chunk.iterator()];
    assert.equal(got.length, 2);
    assert.deepEqual(got[0]!.h.positiveSpans, wider.positiveSpans);
    assert.deepEqual(Array.from(got[0]!.h.toFloat().positiveBuckets), [1, 2, 0]);
    assert.deepEqual(Array.from(got[1]!.h.toFloat().positiveBuckets), [1, 2, 1]);
    assert.equal(got[1]!.h.counterResetHint, CounterResetHint.NotCounterReset);
  });

  test('a vanished empty bucket is filled in; a vanished populated one is a reset', () => {
    const withEmpty = new Histogram({ count: 3, sum: 1, positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [1, 1, -2] });
    const c = new HistogramChunk();
    c.append(1, withEmpty);
    const r = c.append(2, base);
    assert.equal(r.chunk, c);
    assert.deepEqual([...c.iterator()][1]!.h.positiveSpans, withEmpty.positiveSpans);
    const reset = c.append(3, new Histogram({ count: 3, sum: 1, positiveSpans: [{ offset: 1, length: 1 }], positiveBuckets: [3] }));
    assert.equal(reset.newChunk, true);
    assert.equal(reset.chunk.counterResetHeader(), CounterResetHeader.CounterReset);
  });

  test('schema change cuts a chunk with unknown header; counter reset with reset header; appendOnly refuses', () => {
    const c = new HistogramChunk();
    c.append(1, base);
    const s = c.append(2, base.with({ schema: 1, count: 4, positiveBuckets: [2, 0] }));
    assert.equal(s.newChunk, true);
    assert.equal(s.chunk.counterResetHeader(), CounterResetHeader.Unknown);
    const d = c.append(3, base.with({ count: 2, positiveBuckets: [1, 0] }));
    assert.equal(d.chunk.counterResetHeader(), CounterResetHeader.CounterReset);
    assert.throws(() => c.append(4, base.with({ count: 1 }), null, true), (e: unknown) => e instanceof ChunkAppendError && e.message === 'histogram counter reset');
    // The fresh chunk's header comes from the previous chunk.
    const next = new HistogramChunk();
    next.append(10, base.with({ count: 5, positiveBuckets: [2, 1] }), c);
    assert.equal(next.counterResetHeader(), CounterResetHeader.NotCounterReset);
  });

  test('gauge histograms go down freely and merge layouts both ways', () => {
    const g = base.with({ counterResetHint: CounterResetHint.Gauge });
    const c = new FloatHistogramChunk();
    c.append(1, g.toFloat());
    assert.equal(c.counterResetHeader(), CounterResetHeader.Gauge);
    const down = new FloatHistogram({ counterResetHint: CounterResetHint.Gauge, count: 1, sum: 0, positiveSpans: [{ offset: 3, length: 1 }], positiveBuckets: [1] });
    const r = c.append(2, down);
    assert.equal(r.recoded, true);
    const got = [...r.chunk.iterator()];
    assert.deepEqual(got[1]!.h.positiveSpans, [
      { offset: 0, length: 2 },
      { offset: 1, length: 1 },
    ]);
    assert.deepEqual(Array.from(got[1]!.h.positiveBuckets), [0, 0, 1]);
    assert.equal(got[1]!.h.counterResetHint, CounterResetHint.Gauge);
    // A counter histogram after gauges cuts a new chunk.
    assert.equal(r.chunk.append(3, base.toFloat()).newChunk, true);
  });

  test('gauge: a bucket vanishing on one side keeps the other side\'s layout (found by the property test)', () => {
    const g = (pos: boolean, neg: boolean, sum: number): Histogram =>
      new Histogram({
        counterResetHint: CounterResetHint.Gauge,
        zeroThreshold: 0.001,
        sum,
        positiveSpans: pos ? [{ offset: 4, length: 1 }] : [],
        positiveBuckets: pos ? [0] : [],
        negativeSpans: neg ? [{ offset: 0, length: 1 }] : [],
        negativeBuckets: neg ? [0] : [],
      });
    const c = new HistogramChunk();
    c.append(1000, g(true, true, 0));
    c.append(2000, g(true, false, 0));
    c.append(3000, g(false, false, 5e-324));
    const got = [...c.iterator()];
    assert.equal(got.length, 3);
    assert.equal(got[2]!.h.sum, 5e-324);
    assert.deepEqual(got[2]!.h.positiveSpans, [{ offset: 4, length: 1 }]);
  });

  test('staleness markers are stored and end the chunk for anything but more markers', () => {
    const c = new HistogramChunk();
    c.append(1, base);
    c.append(2, new Histogram({ sum: STALE_NAN }));
    const got = [...c.iterator()];
    assert.ok(isStaleNaN(got[1]!.h.sum));
    assert.equal(c.append(3, base).newChunk, true);
    const f = new FloatHistogramChunk();
    f.append(1, base.toFloat());
    f.append(2, new FloatHistogram({ sum: STALE_NAN }));
    assert.ok(isStaleNaN([...f.iterator()][1]!.h.sum));
  });

  test('fromBytes continues a chunk exactly where it left off', () => {
    const c = new HistogramChunk();
    c.append(1000, base);
    c.append(2000, base.with({ count: 5, positiveBuckets: [2, 1] }));
    const d = HistogramChunk.fromBytes(c.bytes().slice());
    c.append(3000, base.with({ count: 6, positiveBuckets: [2, 2] }));
    d.append(3000, base.with({ count: 6, positiveBuckets: [2, 2] }));
    assert.deepEqual(Array.from(d.bytes()), Array.from(c.bytes()));
  });

  test('corrupt bytes fail with a typed error', () => {
    const c = new HistogramChunk();
    c.append(1000, base);
    c.append(2000, base.with({ count: 5, positiveBuckets: [2, 1] }));
    const cut = c.bytes().slice(0, c.bytes().length - 3);
    assert.throws(() => [...decodeHistogramChunk(cut)], /unexpected end of histogram chunk/);
    const bad = c.bytes().slice();
    bad[4] = 0b1111_1110; // schema now in the 56-bit class with garbage: an unknown schema or a truncated read
    assert.throws(() => [...decodeHistogramChunk(bad)]);
  });
});

/** A counter series: observations land in random buckets; sometimes the counter resets. */
const arbSeries = fc.record({
  schema: fc.integer({ min: -4, max: 8 }),
  steps: fc.array(
    fc.record({
      reset: fc.integer({ min: 0, max: 9 }).map((x) => x < 2),
      zero: fc.integer({ min: 0, max: 3 }),
      pos: fc.array(fc.tuple(fc.integer({ min: -6, max: 6 }), fc.integer({ min: 1, max: 1000 })), { maxLength: 4 }),
      neg: fc.array(fc.tuple(fc.integer({ min: -6, max: 6 }), fc.integer({ min: 1, max: 1000 })), { maxLength: 3 }),
      sum: fc.double({ noNaN: true, min: -1e6, max: 1e6 }),
      dt: fc.integer({ min: 1, max: 60_000 }),
    }),
    { minLength: 1, maxLength: 40 },
  ),
});

function layoutOf(counts: Map<number, number>): { spans: Span[]; abs: number[] } {
  const idx = [...counts.keys()].sort((a, b) => a - b);
  const spans: Span[] = [];
  let last = 0;
  for (const i of idx) {
    const top = spans[spans.length - 1];
    if (top !== undefined && i === last + 1) spans[spans.length - 1] = { offset: top.offset, length: top.length + 1 };
    else spans.push({ offset: spans.length === 0 ? i : i - last - 1, length: 1 });
    last = i;
  }
  return { spans, abs: idx.map((i) => counts.get(i)!) };
}

interface SeriesSpec {
  schema: number;
  steps: { reset: boolean; zero: number; pos: [number, number][]; neg: [number, number][]; sum: number; dt: number }[];
}

function seriesOf(s: SeriesSpec): { t: number; h: Histogram }[] {
  const pos = new Map<number, number>();
  const neg = new Map<number, number>();
  let zero = 0;
  let t = 0;
  return s.steps.map((st) => {
    if (st.reset) {
      pos.clear();
      neg.clear();
      zero = 0;
    }
    zero += st.zero;
    for (const [i, n] of st.pos) pos.set(i, (pos.get(i) ?? 0) + n);
    for (const [i, n] of st.neg) neg.set(i, (neg.get(i) ?? 0) + n);
    const p = layoutOf(pos);
    const n = layoutOf(neg);
    const count = zero + p.abs.reduce((a, b) => a + b, 0) + n.abs.reduce((a, b) => a + b, 0);
    t += st.dt;
    const delta = (a: number[]): number[] => a.map((v, i) => v - (i > 0 ? a[i - 1]! : 0));
    return {
      t,
      h: new Histogram({
        schema: s.schema,
        zeroThreshold: 2 ** -128,
        zeroCount: zero,
        count,
        sum: st.sum,
        positiveSpans: p.spans,
        positiveBuckets: delta(p.abs),
        negativeSpans: n.spans,
        negativeBuckets: delta(n.abs),
      }),
    };
  });
}

describe('round trips (property)', () => {
  test('integer chunks give back every sample, across recodes and cuts', () => {
    fc.assert(
      fc.property(arbSeries, (s) => {
        const samples = seriesOf(s);
        const done: HistogramChunk[] = [];
        let c = new HistogramChunk();
        for (const { t, h } of samples) {
          const prev = done[done.length - 1] ?? null;
          const r = c.append(t, h, c.numSamples() === 0 ? prev : null);
          if (r.newChunk) done.push(c);
          c = r.chunk;
        }
        done.push(c);
        const got = done.flatMap((ch) => [...decodeHistogramChunk(HistogramChunk.fromBytes(ch.bytes().slice()).bytes())]);
        assert.equal(got.length, samples.length);
        got.forEach((g, i) => {
          assert.equal(g.t, samples[i]!.t);
          g.h.validate();
          assert.ok(g.h.toFloat().compact(0).equals(samples[i]!.h.toFloat().compact(0)), `sample ${i}`);
        });
      }),
      { numRuns: 150 },
    );
  });

  test('float chunks give back every sample bit for bit', () => {
    fc.assert(
      fc.property(arbSeries, fc.double({ min: 0.001, max: 7, noNaN: true }), (s, scale) => {
        const samples = seriesOf(s).map(({ t, h }) => ({ t, h: h.toFloat().mul(scale) }));
        const done: FloatHistogramChunk[] = [];
        let c = new FloatHistogramChunk();
        for (const { t, h } of samples) {
          const r = c.append(t, h);
          if (r.newChunk) done.push(c);
          c = r.chunk;
        }
        done.push(c);
        const got = done.flatMap((ch) => [...ch.iterator()]);
        assert.equal(got.length, samples.length);
        got.forEach((g, i) => {
          assert.equal(g.t, samples[i]!.t);
          assert.ok(g.h.compact(0).equals(samples[i]!.h.compact(0)), `sample ${i}`);
        });
      }),
      { numRuns: 150 },
    );
  });
  test('gauge histograms with any layout changes and staleness markers, in both chunk kinds', () => {
    const bucketMap = fc.array(fc.tuple(fc.integer({ min: -8, max: 8 }), fc.integer({ min: 0, max: 50 })), { maxLength: 6 });
    const step = fc.oneof(
      { weight: 1, arbitrary: fc.constant(null) },
      { weight: 6, arbitrary: fc.record({ pos: bucketMap, neg: bucketMap, zero: fc.integer({ min: 0, max: 9 }), sum: fc.double({ noNaN: true, min: -1e3, max: 1e3 }) }) },
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), fc.integer({ min: -2, max: 4 }), (steps, schema) => {
        const samples = steps.map((st, i) => {
          const t = 1000 * (i + 1);
          if (st === null) return { t, h: new Histogram({ sum: STALE_NAN }) };
          const pos = layoutOf(new Map(st.pos));
          const neg = layoutOf(new Map(st.neg));
          const delta = (a: number[]): number[] => a.map((v, k) => v - (k > 0 ? a[k - 1]! : 0));
          const count = st.zero + pos.abs.reduce((a, b) => a + b, 0) + neg.abs.reduce((a, b) => a + b, 0);
          return {
            t,
            h: new Histogram({
              counterResetHint: CounterResetHint.Gauge,
              schema,
              zeroThreshold: 0.001,
              zeroCount: st.zero,
              count,
              sum: st.sum,
              positiveSpans: pos.spans,
              positiveBuckets: delta(pos.abs),
              negativeSpans: neg.spans,
              negativeBuckets: delta(neg.abs),
            }),
          };
        });
        const check = (got: { t: number; h: Histogram | FloatHistogram }[]): void => {
          assert.equal(got.length, samples.length);
          got.forEach((g, i) => {
            const want = samples[i]!;
            assert.equal(g.t, want.t);
            if (isStaleNaN(want.h.sum)) {
              assert.ok(isStaleNaN(g.h.sum), `sample ${i} is a staleness marker`);
              return;
            }
            assert.equal(g.h.counterResetHint, CounterResetHint.Gauge);
            const a = g.h instanceof Histogram ? g.h.toFloat() : g.h;
            assert.ok(a.compact(0).equals(want.h.toFloat().compact(0)), `sample ${i}`);
          });
        };
        const ints: HistogramChunk[] = [];
        let c = new HistogramChunk();
        for (const { t, h } of samples) {
          const r = c.append(t, h);
          if (r.newChunk) ints.push(c);
          c = r.chunk;
        }
        ints.push(c);
        check(ints.flatMap((ch) => [...ch.iterator()]));
        const floats: FloatHistogramChunk[] = [];
        let f = new FloatHistogramChunk();
        for (const { t, h } of samples) {
          const r = f.append(t, h.toFloat());
          if (r.newChunk) floats.push(f);
          f = r.chunk;
        }
        floats.push(f);
        check(floats.flatMap((ch) => [...ch.iterator()]));
      }),
      { numRuns: 300 },
    );
  });
});
