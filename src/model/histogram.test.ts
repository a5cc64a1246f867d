import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { STALE_NAN as STALE } from './value.js';
import {
  bucketString,
  capSchema,
  CounterResetHint,
  exponentialBound,
  FloatHistogram,
  Histogram,
  HistogramError,
  limitBuckets,
  ownedFloatHistogram,
  schemaForBucketFactor,
  type Span,
} from './histogram.js';

const exampleInt = (): Histogram =>
  new Histogram({
    schema: 0,
    count: 19,
    sum: 2.7,
    zeroThreshold: 0.001,
    zeroCount: 4,
    positiveSpans: [
      { offset: 0, length: 4 },
      { offset: 0, length: 0 },
      { offset: 0, length: 3 },
    ],
    positiveBuckets: [1, 2, -2, 1, -1, 0, 0],
    negativeSpans: [
      { offset: 0, length: 5 },
      { offset: 1, length: 0 },
      { offset: 0, length: 1 },
    ],
    negativeBuckets: [1, 2, -2, 1, -1, 0],
  });

describe('bucket bounds', () => {
  test('exponential bounds are Prometheus\'s, including the table values that are not correctly rounded', () => {
    assert.equal(exponentialBound(0, 0), 1);
    assert.equal(exponentialBound(1, 0), 2);
    assert.equal(exponentialBound(-1, 0), 0.5);
    assert.equal(exponentialBound(1, 1), 1.414213562373095);
    assert.equal(exponentialBound(1, 2), 1.189207115002721);
    assert.equal(exponentialBound(3, 2), 1.6817928305074288);
    assert.equal(exponentialBound(1, -2), 16);
    assert.equal(exponentialBound(-1, -4), 2 ** -16);
    // The last bucket below the ±Inf one ends at the largest float.
    assert.equal(exponentialBound(1024, 0), Number.MAX_VALUE);
    assert.equal(exponentialBound(256, -2), Number.MAX_VALUE);
    assert.equal(exponentialBound(1025, 0), Infinity);
  });

  test('bounds increase strictly across schemas and indexes', () => {
    for (let s = -4; s <= 8; s++) {
      let prev = 0;
      for (let i = -60; i < 60; i++) {
        const b = exponentialBound(i, s);
        assert.ok(b > prev, `schema ${s} index ${i}`);
        prev = b;
      }
    }
  });
});

describe('validation', () => {
  test('a valid histogram passes, float form too', () => {
    const h = new Histogram({
      count: 12,
      zeroCount: 2,
      zeroThreshold: 0.001,
      sum: 19.4,
      schema: 1,
      positiveSpans: [
        { offset: 0, length: 2 },
        { offset: 1, length: 2 },
      ],
      positiveBuckets: [1, 1, -1, 0],
      negativeSpans: [
        { offset: 0, length: 2 },
        { offset: 1, length: 2 },
      ],
      negativeBuckets: [1, 1, -1, 0],
    });
    h.validate();
    h.toFloat().validate();
  });

  const cases: [string, Histogram, string][] = [
    [
      'spans vs buckets',
      new Histogram({ count: 2, positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [1, 0] }),
      'positive side: spans need 3 buckets, have 2 buckets: histogram spans specify different number of buckets than provided',
    ],
    [
      'negative offset',
      new Histogram({
        count: 2,
        negativeSpans: [
          { offset: 0, length: 1 },
          { offset: -1, length: 1 },
        ],
        negativeBuckets: [1, 0],
      }),
      'negative side: span number 2 with offset -1: histogram has a span whose offset is negative',
    ],
    [
      'negative bucket count',
      new Histogram({ count: 0, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1, -2] }),
      'positive side: bucket number 2 has observation count of -1: histogram has a bucket whose observation count is negative',
    ],
    [
      'count mismatch',
      new Histogram({ count: 5, zeroCount: 1, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1, 0], sum: 1 }),
      "3 observations found in buckets, but the Count field is 5: histogram's observation count should equal the number of observations found in the buckets (in absence of NaN)",
    ],
    [
      'count too small with NaN sum',
      new Histogram({ count: 1, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1, 0], sum: NaN }),
      "2 observations found in buckets, but the Count field is 1: histogram's observation count should be at least the number of observations found in the buckets",
    ],
    [
      'schema out of range',
      new Histogram({ schema: 9 }),
      'histogram has an invalid schema, which must be between -4 and 8 for exponential buckets, or -53 for custom buckets, got schema 9',
    ],
    [
      'custom bounds not increasing',
      new Histogram({ schema: -53, count: 1, customValues: [1, 1], positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [1] }),
      'custom buckets: previous bound is 1.000000 and current is 1.000000: histogram custom bounds must be in strictly increasing order',
    ],
    [
      'custom +Inf bound',
      new Histogram({ schema: -53, customValues: [1, Infinity] }),
      'custom buckets: last +Inf bound must not be explicitly defined: histogram custom bounds must be finite',
    ],
    [
      'custom bounds too few',
      new Histogram({ schema: -53, count: 1, customValues: [1], positiveSpans: [{ offset: 2, length: 1 }], positiveBuckets: [1] }),
      'custom buckets: only 1 custom bounds defined which is insufficient to cover total span length of 3: histogram custom bounds are too few',
    ],
    [
      'custom with zero count',
      new Histogram({ schema: -53, count: 1, zeroCount: 1, customValues: [1] }),
      'custom buckets: must have zero count of 0',
    ],
    ['exponential with custom bounds', new Histogram({ schema: 0, customValues: [1] }), 'histogram with exponential schema must not have custom bounds'],
  ];
  for (const [name, h, msg] of cases) {
    test(name, () => {
      assert.throws(
        () => h.validate(),
        (e: unknown) => e instanceof HistogramError && e.message === msg,
      );
    });
  }

  test('float: negative count and negative zero count', () => {
    assert.throws(() => new FloatHistogram({ count: -1 }).validate(), /observation count is  -1: histogram's observation count is negative/);
    assert.throws(() => new FloatHistogram({ zeroCount: -1 }).validate(), /zero bucket has observation count of -1/);
  });
});

describe('layout operations', () => {
  test('compact removes empty buckets and merges spans (integer deltas kept right)', () => {
    const h = new Histogram({
      count: 6,
      positiveSpans: [
        { offset: -2, length: 5 },
        { offset: 2, length: 2 },
      ],
      // absolute 0 1 0 0 2 | 3 0
      positiveBuckets: [0, 1, -1, 0, 2, 1, -3],
    });
    const c0 = h.compact(0);
    assert.deepEqual(c0.positiveSpans, [
      { offset: -1, length: 1 },
      { offset: 2, length: 1 },
      { offset: 2, length: 1 },
    ]);
    assert.deepEqual(Array.from(c0.positiveBuckets), [1, 1, 1]);
    const c2 = h.compact(2);
    assert.deepEqual(c2.positiveSpans, [{ offset: -1, length: 7 }]);
    assert.deepEqual(Array.from(c2.toFloat().positiveBuckets), [1, 0, 0, 2, 0, 0, 3]);
    // The original is untouched.
    assert.equal(h.positiveSpans.length, 2);
  });

  test('reduceResolution merges buckets into the lower schema', () => {
    const h = new FloatHistogram({
      schema: 1,
      count: 10,
      positiveSpans: [
        { offset: -1, length: 4 },
        { offset: 1, length: 1 },
      ],
      positiveBuckets: [1, 2, 3, 1, 3],
      negativeSpans: [{ offset: 0, length: 2 }],
      negativeBuckets: [5, 6],
    });
    // indexes -1,0,1,2 and 4 at schema 1 -> 0,0,1,1 and 2 at schema 0.
    const r = h.reduceResolution(0);
    assert.equal(r.schema, 0);
    assert.deepEqual(r.positiveSpans, [{ offset: 0, length: 3 }]);
    assert.deepEqual(Array.from(r.positiveBuckets), [3, 4, 3]);
    assert.deepEqual(r.negativeSpans, [{ offset: 0, length: 2 }]);
    assert.deepEqual(Array.from(r.negativeBuckets), [5, 6]);
    const ri = new Histogram({ schema: 1, count: 10, positiveSpans: h.positiveSpans, positiveBuckets: [1, 1, 1, -2, 2] }).reduceResolution(0);
    assert.deepEqual(Array.from(ri.positiveBuckets), [3, 1, -1]);
    assert.throws(() => h.reduceResolution(2), /cannot reduce resolution from schema 1 to 2/);
  });

  test('compaction keeps every count and the reduced histogram agrees with the original', () => {
    fc.assert(
      fc.property(arbFloatHistogram(), fc.integer({ min: 0, max: 4 }), (h, max) => {
        const c = h.compact(max);
        assert.equal(sumOf(c.positiveBuckets), sumOf(h.positiveBuckets));
        for (const b of c.positiveBucketIterator()) assert.ok(Number.isFinite(b.upper) || b.upper === Infinity);
        if (h.schema > -4) {
          const r = h.reduceResolution(h.schema - 1);
          assert.equal(sumOf(r.positiveBuckets), sumOf(h.positiveBuckets));
          r.validate();
        }
      }),
    );
  });
});

describe('arithmetic', () => {
  test('add with different schemas and zero thresholds', () => {
    const a = new FloatHistogram({
      schema: 0,
      zeroThreshold: 0.01,
      zeroCount: 11,
      count: 30,
      sum: 2.345,
      positiveSpans: [
        { offset: -2, length: 2 },
        { offset: 1, length: 3 },
      ],
      positiveBuckets: [1, 0, 3, 4, 7],
      negativeSpans: [
        { offset: 3, length: 2 },
        { offset: 3, length: 2 },
      ],
      negativeBuckets: [3, 1, 5, 6],
    });
    const b = new FloatHistogram({
      schema: 1,
      zeroThreshold: 0.01,
      zeroCount: 8,
      count: 21,
      sum: 1.234,
      positiveSpans: [
        { offset: -1, length: 4 },
        { offset: 0, length: 3 },
      ],
      positiveBuckets: [0, 2, 3, 4, 0, 2, 5],
      negativeSpans: [{ offset: 4, length: 3 }],
      negativeBuckets: [1, 1, 1],
    });
    const r = a.add(b);
    const h = r.histogram.compact(0);
    assert.equal(h.schema, 0);
    assert.equal(h.count, 51);
    assert.equal(h.zeroCount, 19);
    assert.equal(h.sum, 2.345 + 1.234);
    // b's schema-1 indexes -1,0 | 1,2 | 3,4 | 5 fall into schema-0 buckets 0 | 1 | 2 | 3; a's empty bucket -1 is compacted away.
    assert.deepEqual(h.positiveSpans, [
      { offset: -2, length: 1 },
      { offset: 1, length: 4 },
    ]);
    assert.deepEqual(Array.from(h.positiveBuckets), [1, 2, 10, 6, 12]);
    // Negative: a's 3,4 and 8,9 with b's 4,5,6, which fall into 2,3,3 at schema 0.
    assert.deepEqual(Array.from(h.negativeBuckets), [1, 5, 1, 5, 6]);
    assert.equal(r.counterResetCollision, false);
    // The operands are unchanged.
    assert.equal(a.count, 30);
  });

  test('sub, mul and div', () => {
    const a = new FloatHistogram({ count: 5, sum: 10, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [2, 3] });
    const d = a.sub(a).histogram;
    assert.equal(d.count, 0);
    assert.deepEqual(Array.from(d.positiveBuckets), [0, 0]);
    assert.deepEqual(Array.from(a.mul(2).positiveBuckets), [4, 6]);
    assert.equal(a.mul(-1).counterResetHint, CounterResetHint.Gauge);
    const z = a.div(0);
    assert.equal(z.count, Infinity);
    assert.equal(z.positiveBuckets.length, 0);
  });

  test('counter reset hints combine as in Prometheus', () => {
    const mk = (hint: CounterResetHint): FloatHistogram => new FloatHistogram({ counterResetHint: hint });
    const r = mk(CounterResetHint.CounterReset).add(mk(CounterResetHint.NotCounterReset));
    assert.equal(r.counterResetCollision, true);
    assert.equal(r.histogram.counterResetHint, CounterResetHint.Unknown);
    assert.equal(mk(CounterResetHint.NotCounterReset).add(mk(CounterResetHint.Gauge)).histogram.counterResetHint, CounterResetHint.Gauge);
    assert.equal(mk(CounterResetHint.CounterReset).add(mk(CounterResetHint.Unknown)).histogram.counterResetHint, CounterResetHint.Unknown);
  });

  test('custom buckets: mixing with exponential fails, differing bounds reconcile to the common ones', () => {
    const nhcb = new FloatHistogram({ schema: -53, count: 3, customValues: [1, 2, 4], positiveSpans: [{ offset: 0, length: 4 }], positiveBuckets: [1, 1, 0, 1] });
    assert.throws(() => nhcb.add(new FloatHistogram({})), (e: unknown) => e instanceof HistogramError && e.kind === 'incompatible_schema');
    const other = new FloatHistogram({ schema: -53, count: 2, customValues: [2, 3, 4], positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [1, 1, 0] });
    const r = nhcb.add(other);
    assert.equal(r.nhcbBoundsReconciled, true);
    assert.deepEqual(Array.from(r.histogram.customValues), [2, 4]);
    // Buckets (..1],(1,2] -> (..2]; (2,4] -> (2,4]; +Inf stays; other's (2,3],(3,4] -> (2,4].
    assert.deepEqual(Array.from(r.histogram.positiveBuckets), [3, 1, 1]);
    assert.deepEqual(r.histogram.positiveSpans, [{ offset: 0, length: 3 }]);
  });
});

describe('arithmetic properties', () => {
  test('a + b = b + a, (a + b) - b = a at the common schema, and a + b never looks like a reset after a', () => {
    fc.assert(
      fc.property(arbFloatHistogram(), arbFloatHistogram(), (a, b) => {
        const s = a.add(b).histogram;
        assert.ok(s.compact(0).equals(b.add(a).histogram.compact(0)), 'commutative');
        assert.equal(s.schema, Math.min(a.schema, b.schema));
        const aAtS = a.schema > s.schema ? a.reduceResolution(s.schema) : a;
        assert.ok(s.sub(b).histogram.compact(0).equals(aAtS.compact(0)), '(a + b) - b');
        assert.equal(s.detectReset(a), false);
        assert.equal(s.count, a.count + b.count);
        s.validate();
      }),
      { numRuns: 300 },
    );
  });

  test('different zero thresholds: every observation is kept, the wider threshold (or a bucket bound above it) wins', () => {
    const thresholds = fc.constantFrom(0, 1e-128, 0.001, 0.3, 1, 1.5, 40);
    const total = (h: FloatHistogram): number => h.zeroCount + sumOf(h.positiveBuckets) + sumOf(h.negativeBuckets);
    fc.assert(
      fc.property(arbFloatHistogram(), arbFloatHistogram(), thresholds, thresholds, (a0, b0, ta, tb) => {
        // One schema for both: Prometheus's Add widens zero buckets before it lowers the finer schema, so a
        // threshold widened to a bound of the finer schema can count a coarser bucket twice; we follow it.
        // Adding an empty histogram widens the zero bucket consistently (no bucket left inside it).
        const widen = (h: FloatHistogram, t: number): FloatHistogram => h.add(new FloatHistogram({ schema: h.schema, zeroThreshold: t })).histogram;
        const a = widen(a0, ta);
        const b = widen(b0.with({ schema: a0.schema }), tb);
        assert.equal(total(a), total(a0));
        const s = a.add(b).histogram;
        assert.equal(total(s), total(a) + total(b));
        assert.ok(s.zeroThreshold >= Math.max(a.zeroThreshold, b.zeroThreshold));
        assert.ok(s.compact(0).equals(b.add(a).histogram.compact(0)));
        for (const bk of s.positiveBucketIterator()) assert.ok(bk.lower >= s.zeroThreshold || bk.upper <= s.zeroThreshold || bk.count === 0, 'no bucket straddles the zero bucket');
      }),
      { numRuns: 300 },
    );
  });
});

describe('counter reset detection', () => {
  const base = new FloatHistogram({ count: 10, zeroCount: 2, sum: 5, positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [2, 3, 3] });
  test('growth is no reset, any decrease is', () => {
    assert.equal(base.with({ count: 11, positiveBuckets: [3, 3, 3] }).detectReset(base), false);
    assert.equal(base.with({ count: 11, positiveBuckets: [1, 5, 3] }).detectReset(base), true);
    assert.equal(base.with({ count: 9 }).detectReset(base), true);
    assert.equal(base.with({ zeroCount: 1 }).detectReset(base), true);
    // A missing bucket that had observations is a reset; a new bucket is not.
    assert.equal(base.with({ positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [2, 3] }).detectReset(base), true);
    assert.equal(base.with({ positiveSpans: [{ offset: 0, length: 4 }], positiveBuckets: [2, 3, 3, 1] }).detectReset(base), false);
  });
  test('hints decide, finer schema is a reset, lower schema is compared after reduction', () => {
    assert.equal(base.with({ count: 0, counterResetHint: CounterResetHint.NotCounterReset }).detectReset(base), false);
    assert.equal(base.with({ counterResetHint: CounterResetHint.CounterReset }).detectReset(base), true);
    assert.equal(base.with({ schema: 1 }).detectReset(base), true);
    const lower = base.reduceResolution(-1);
    assert.equal(lower.detectReset(base), false);
  });
});

const canonical = (spans: readonly Span[]): boolean => spans.every((s, i) => s.length > 0 && (i === 0 || s.offset > 0));

describe('same layout and ownership', () => {
  const base = new FloatHistogram({ count: 10, zeroCount: 2, zeroThreshold: 0.5, sum: 5, positiveSpans: [{ offset: 1, length: 3 }], positiveBuckets: [2, 3, 3] });
  test('same spans, schema and zero threshold line up; other spellings of the spans do not', () => {
    assert.equal(base.with({ positiveBuckets: [5, 0, 1] }).sameLayout(base), true);
    assert.equal(base.with({ positiveSpans: [{ offset: 1, length: 1 }, { offset: 0, length: 2 }] }).sameLayout(base), false);
    assert.equal(base.with({ schema: 1 }).sameLayout(base), false);
    assert.equal(base.with({ zeroThreshold: 0.25 }).sameLayout(base), false);
    // A bucket inside the zero bucket (upper bound 1 at index 0 <= threshold 1): left to the general rules.
    const inside = base.with({ zeroThreshold: 1, positiveSpans: [{ offset: 0, length: 3 }] });
    assert.equal(inside.sameLayout(inside), false);
    const nhcb = new FloatHistogram({ schema: -53, count: 3, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1, 2], customValues: [1, 2] });
    assert.equal(nhcb.with({ customValues: [1, 3] }).sameLayout(nhcb), false);
  });
  test('reset detection in place agrees with the general comparison', () => {
    fc.assert(
      fc.property(arbFloatHistogram(), fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 40, maxLength: 40 }), fc.integer({ min: -2, max: 2 }), (prev, deltas, dz) => {
        const bump = (b: Float64Array, off: number): number[] => Array.from(b, (v, i) => Math.max(0, v + deltas[(i + off) % 40]!));
        const cur = prev.with({ positiveBuckets: bump(prev.positiveBuckets, 0), negativeBuckets: bump(prev.negativeBuckets, 20), zeroCount: Math.max(0, prev.zeroCount + dz) });
        assert.equal(cur.sameLayout(prev), true);
        // The same histogram with its first positive span split off by an empty span goes the general way.
        const p0 = cur.positiveSpans[0];
        const respelled = p0 === undefined ? cur : cur.with({ positiveSpans: [{ offset: p0.offset, length: 0 }, { offset: 0, length: p0.length }, ...cur.positiveSpans.slice(1)] });
        if (p0 !== undefined) assert.equal(respelled.sameLayout(prev), false);
        assert.equal(cur.detectReset(prev), respelled.detectReset(prev));
      }),
    );
  });
  test('add and sub of the same layout equal the general merge', () => {
    fc.assert(
      fc.property(arbFloatHistogram(), fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 40, maxLength: 40 }), (a, deltas) => {
        const bump = (x: Float64Array, off: number): number[] => Array.from(x, (v, i) => v + deltas[(i + off) % 40]!);
        const b = a.with({ positiveBuckets: bump(a.positiveBuckets, 0), negativeBuckets: bump(a.negativeBuckets, 20), zeroCount: a.zeroCount + 1, count: a.count + 2 });
        const p0 = b.positiveSpans[0];
        const respelled = p0 === undefined ? b : b.with({ positiveSpans: [{ offset: p0.offset, length: 0 }, { offset: 0, length: p0.length }, ...b.positiveSpans.slice(1)] });
        for (const [fast, general] of [
          [a.add(b), a.add(respelled)],
          [a.sub(b), a.sub(respelled)],
        ] as const) {
          assert.ok(fast.histogram.equals(general.histogram), `${fast.histogram.toString()} != ${general.histogram.toString()}`);
          if (canonical(a.positiveSpans) && canonical(a.negativeSpans)) {
            assert.deepEqual(fast.histogram.positiveSpans, general.histogram.positiveSpans);
            assert.deepEqual(Array.from(fast.histogram.positiveBuckets), Array.from(general.histogram.positiveBuckets));
            assert.deepEqual(Array.from(fast.histogram.negativeBuckets), Array.from(general.histogram.negativeBuckets));
          }
        }
      }),
    );
  });
  test('constructors copy what they are given; ownedFloatHistogram keeps its Float64Arrays', () => {
    const counts = new Float64Array([1, 2]);
    const spans: Span[] = [{ offset: 0, length: 2 }];
    const copied = new FloatHistogram({ count: 3, positiveSpans: spans, positiveBuckets: counts });
    counts[0] = 9;
    spans[0] = { offset: 5, length: 2 };
    assert.equal(copied.positiveBuckets[0], 1);
    assert.equal(copied.positiveSpans[0]!.offset, 0);
    assert.ok(Object.isFrozen(copied.positiveSpans));
    const owned = ownedFloatHistogram({ count: 3, positiveSpans: copied.positiveSpans, positiveBuckets: counts });
    assert.equal(owned.positiveBuckets, counts);
    // Frozen spans of another histogram are shared, not copied.
    assert.equal(owned.positiveSpans, copied.positiveSpans);
    // with() shares what it keeps and copies what it is given.
    assert.equal(copied.with({ count: 4 }).positiveSpans, copied.positiveSpans);
    assert.equal(copied.with({ count: 4 }).positiveBuckets, copied.positiveBuckets);
    const given = new Float64Array([3, 4]);
    const changed = copied.with({ positiveBuckets: given });
    given[0] = 9;
    assert.equal(changed.positiveBuckets[0], 3);
  });
});

describe('text forms', () => {
  test('String() as Prometheus prints it', () => {
    assert.equal(
      exampleInt().toString(),
      '{count:19, sum:2.7, [-64,-32):1, [-16,-8):1, [-8,-4):2, [-4,-2):1, [-2,-1):3, [-1,-0.5):1, [-0.001,0.001]:4, (0.5,1]:1, (1,2]:3, (2,4]:1, (4,8]:2, (8,16]:1, (16,32]:1, (32,64]:1}',
    );
    const nhcb = new FloatHistogram({ schema: -53, count: 3, sum: 1, customValues: [1, 2], positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [1, 0, 2] });
    assert.equal(nhcb.toString(), '{count:3, sum:1, [-Inf,1]:1, (2,+Inf]:2}');
  });

  test('promqltest notation', () => {
    assert.equal(
      exampleInt().testExpression(),
      '{{count:19 sum:2.7 z_bucket:4 z_bucket_w:0.001 buckets:[1 3 1 2 1 1 1] n_buckets:[1 3 1 2 1 0 1]}}',
    );
    const h = new FloatHistogram({
      schema: 1,
      count: 3,
      sum: -2,
      counterResetHint: CounterResetHint.Gauge,
      positiveSpans: [{ offset: 2, length: 2 }],
      positiveBuckets: [1, 2],
    });
    assert.equal(h.testExpression(), '{{schema:1 count:3 sum:-2 counter_reset_hint:gauge offset:2 buckets:[1 2]}}');
    assert.equal(new FloatHistogram({ schema: -53, customValues: [1, 2] }).testExpression(), '{{schema:-53 custom_values:[1 2]}}');
  });

  test('bucket iterators: bounds, inclusiveness, the zero bucket in the middle', () => {
    const all = [...exampleInt().allBucketIterator()].map(bucketString);
    assert.equal(all[0], '[-64,-32):1');
    assert.ok(all.includes('[-0.001,0.001]:4'));
    assert.equal(all[all.length - 1], '(32,64]:1');
    const rev = [...exampleInt().allReverseBucketIterator()].map(bucketString);
    assert.deepEqual(rev, [...all].reverse());
  });

  test('custom buckets: the first is closed at -Inf, the rest open below, the last reaches +Inf; negative bounds are fine', () => {
    const h = new FloatHistogram({
      schema: -53,
      count: 622,
      positiveSpans: [
        { offset: 0, length: 2 },
        { offset: 1, length: 1 },
        { offset: 1, length: 1 },
      ],
      positiveBuckets: [100, 344, 123, 55],
      customValues: [-10, -5, 0, 10, 25],
    });
    assert.deepEqual([...h.allBucketIterator()].map(bucketString), ['[-Inf,-10]:100', '(-10,-5]:344', '(0,10]:123', '(25,+Inf]:55']);
    assert.deepEqual(
      [...h.allBucketIterator()].map((b) => b.index),
      [0, 1, 3, 5],
    );
    assert.deepEqual([...h.allReverseBucketIterator()].map((b) => b.index), [5, 3, 1, 0]);
  });

  test('equals ignores empty spans and compares floats by bits', () => {
    const a = exampleInt();
    const b = a.compact(0).compact(0);
    assert.ok(a.with({}).equals(a));
    assert.ok(!a.equals(a.with({ sum: 2.8 })));
    assert.ok(b.toFloat().equals(a.toFloat().compact(0)));
  });
});

describe('edge cases checked against Prometheus\'s behaviour', () => {
  test('equals: zero-length spans anywhere do not matter, NaN sums compare by bits, custom fields only count for custom schemas', () => {
    const h = new Histogram({
      schema: 3,
      count: 62,
      sum: 2.7,
      zeroThreshold: 0.1,
      zeroCount: 42,
      positiveSpans: [
        { offset: 0, length: 4 },
        { offset: 10, length: 3 },
      ],
      positiveBuckets: [1, 2, -2, 1, -1, 0, 0],
    });
    const padded = h.with({
      positiveSpans: [
        { offset: 0, length: 4 },
        { offset: 1, length: 0 },
        { offset: 3, length: 0 },
        { offset: 6, length: 3 },
        { offset: 5, length: 0 },
      ],
    });
    assert.ok(h.equals(padded) && padded.equals(h));
    assert.ok(h.toFloat().equals(padded.toFloat()));
    const stale = h.with({ sum: STALE });
    const nan = h.with({ sum: NaN });
    assert.ok(stale.equals(stale) && nan.equals(nan));
    assert.ok(!stale.equals(nan) && !h.equals(nan));
    assert.ok(h.equals(h.with({ customValues: [1, 2, 3] })));
    const c = new Histogram({ schema: -53, count: 1, customValues: [1], positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [1] });
    const withJunk = c.with({ zeroThreshold: 0.1, zeroCount: 10, negativeSpans: [{ offset: 0, length: 1 }], negativeBuckets: [1] });
    assert.ok(!c.equals(withJunk));
    assert.ok(c.toFloat().equals(withJunk.toFloat()));
  });

  test('invalid layouts: iterators ignore undescribed buckets, compact keeps them, reduceResolution refuses', () => {
    const h = new Histogram({ negativeSpans: [{ offset: 0, length: 2 }], negativeBuckets: [1, 2, 3] });
    assert.deepEqual([...h.negativeBucketIterator()].map((b) => b.count), [1, 3]);
    assert.deepEqual(Array.from(h.compact(0).negativeBuckets), [1, 2, 3]);
    assert.equal(new FloatHistogram({ positiveSpans: [{ offset: 3, length: 0 }], positiveBuckets: [1, 2] }).compact(0).positiveBuckets.length, 0);
    assert.throws(() => h.reduceResolution(-1), /^HistogramError: spans need 2 buckets, have 3 buckets: histogram spans specify/);
    assert.throws(
      () => new FloatHistogram({ positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [1, 2] }).reduceResolution(-1),
      (e: unknown) => e instanceof HistogramError && e.message === 'have 2 buckets but spans need more: histogram spans specify different number of buckets than provided',
    );
    assert.throws(
      () =>
        new FloatHistogram({
          positiveSpans: [
            { offset: 0, length: 1 },
            { offset: -1, length: 1 },
          ],
          positiveBuckets: [1, 2],
        }).reduceResolution(-1),
      /span number 2 with offset -1: histogram has a span whose offset is negative/,
    );
  });

  test('add: a wider zero bucket swallows the other side\'s small buckets (and grows to a bucket bound it cuts)', () => {
    const narrow = new FloatHistogram({
      zeroThreshold: 0.001,
      zeroCount: 1,
      count: 6,
      positiveSpans: [{ offset: -1, length: 3 }],
      positiveBuckets: [1, 2, 2],
    });
    // Buckets (0.25,0.5]:1 (0.5,1]:2 (1,2]:2; the other threshold, 0.6, falls inside the populated (0.5,1].
    const wide = new FloatHistogram({ zeroThreshold: 0.6, zeroCount: 3, count: 3 });
    const r = narrow.add(wide).histogram;
    // The zero bucket widens to 1, the upper bound of the populated bucket the threshold fell into.
    assert.equal(r.zeroThreshold, 1);
    assert.equal(r.zeroCount, 1 + 1 + 2 + 3);
    assert.deepEqual(r.positiveSpans, [{ offset: 1, length: 1 }]);
    assert.deepEqual(Array.from(r.positiveBuckets), [2]);
    assert.equal(r.count, 9);
    // The same the other way round.
    assert.ok(wide.add(narrow).histogram.compact(0).equals(r.compact(0)));
  });
});

describe('scrape-time resolution limits', () => {
  test('bucket factor to schema as Prometheus picks it', () => {
    assert.equal(schemaForBucketFactor(0), 8);
    assert.equal(schemaForBucketFactor(1.1), 2);
    assert.equal(schemaForBucketFactor(2), 0);
    assert.equal(schemaForBucketFactor(4), -1);
    assert.equal(schemaForBucketFactor(1e100), -4);
  });

  test('limitBuckets lowers the schema step by step, then gives up', () => {
    const h = new Histogram({ schema: 2, count: 8, positiveSpans: [{ offset: 0, length: 8 }], positiveBuckets: [1, 0, 0, 0, 0, 0, 0, 0] });
    const r = limitBuckets(h, 5);
    assert.equal(r.schema, 1);
    assert.deepEqual(Array.from(r.toFloat().positiveBuckets), [1, 2, 2, 2, 1]);
    assert.equal(limitBuckets(h, 8), h);
    // Schema 1 still has 5 buckets: one more step.
    assert.deepEqual(Array.from(limitBuckets(h, 4).toFloat().positiveBuckets), [1, 4, 3]);
    assert.equal(limitBuckets(h, 2).schema, -1);
    // Bucket 0 (up to 1) and the buckets above 1 never merge: one bucket is out of reach.
    assert.throws(() => limitBuckets(h, 1), /bucket limit exceeded/);
    const wide = new FloatHistogram({ schema: -4, positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [1, 1, 1] });
    assert.throws(() => limitBuckets(wide, 2), (e: unknown) => e instanceof HistogramError && e.message === 'histogram bucket limit exceeded');
    const nhcb = new FloatHistogram({ schema: -53, customValues: [1, 2], positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [1, 1, 1] });
    assert.throws(() => limitBuckets(nhcb, 2), /bucket limit exceeded/);
  });

  test('capSchema reduces reserved and high schemas only', () => {
    const h = new Histogram({ schema: 12, count: 2, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1, 0] });
    assert.equal(capSchema(h, 8).schema, 8);
    assert.equal(capSchema(h.with({ schema: 3 }), 8).schema, 3);
    assert.equal(capSchema(h.with({ schema: -53, customValues: [1, 2] }), 0).schema, -53);
  });
});

function sumOf(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** Random valid float histograms with integral counts (sums stay exact). */
export function arbFloatHistogram(): fc.Arbitrary<FloatHistogram> {
  const side = fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 5 })), {
    maxLength: 3,
  });
  return fc
    .record({ schema: fc.integer({ min: -4, max: 8 }), start: fc.integer({ min: -20, max: 20 }), pos: side, neg: side, zc: fc.integer({ min: 0, max: 5 }) })
    .map(({ schema, start, pos, neg, zc }) => {
      const build = (parts: [number, number[]][]): { spans: Span[]; buckets: number[] } => {
        const spans: Span[] = [];
        const buckets: number[] = [];
        parts.forEach(([gap, counts], i) => {
          spans.push({ offset: i === 0 ? start + gap : gap, length: counts.length });
          buckets.push(...counts);
        });
        return { spans, buckets };
      };
      const p = build(pos);
      const n = build(neg);
      return new FloatHistogram({
        schema,
        zeroThreshold: 1e-128,
        zeroCount: zc,
        count: zc + sumOf(p.buckets) + sumOf(n.buckets),
        sum: 42,
        positiveSpans: p.spans,
        positiveBuckets: p.buckets,
        negativeSpans: n.spans,
        negativeBuckets: n.buckets,
      });
    });
}
