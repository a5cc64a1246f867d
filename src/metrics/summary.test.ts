import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { QuantileStream, WindowedSummary } from './summary.js';

const TARGETS = [
  { q: 0.5, eps: 0.05 },
  { q: 0.9, eps: 0.01 },
  { q: 0.99, eps: 0.001 },
];

/** A deterministic pseudo-random sequence (xorshift). */
function randoms(n: number, seed: number): number[] {
  let x = seed;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.push((x >>> 0) / 2 ** 32);
  }
  return out;
}

test('CKMS quantiles stay within their rank error over many values', () => {
  for (const [n, seed] of [
    [20_000, 7],
    [1_234, 99],
  ] as const) {
    const s = new QuantileStream(TARGETS);
    const xs = randoms(n, seed).map((u) => Math.exp(u * 10));
    for (const x of xs) s.insert(x);
    const sorted = [...xs].sort((a, b) => a - b);
    for (const { q, eps } of TARGETS) {
      const got = s.query(q);
      const rank = sorted.indexOf(got);
      assert.ok(rank >= 0, 'the answer is one of the values');
      // The query rounds its target rank up twice: up to two ranks past the bound.
      assert.ok(Math.abs(rank + 1 - q * n) <= eps * n + 2, `q=${q} n=${n}: rank ${rank + 1}, want ${q * n} ± ${eps * n}`);
    }
  }
});

test('few values are answered exactly; none is NaN', () => {
  const s = new QuantileStream(TARGETS);
  assert.ok(Number.isNaN(s.query(0.5)));
  for (const x of [3, 1, 2]) s.insert(x);
  assert.equal(s.query(0.5), 2);
  assert.equal(s.query(0.9), 3);
  assert.equal(s.query(0.99), 3);
  s.reset();
  assert.ok(Number.isNaN(s.query(0.5)));
});

test('the window forgets values after max age, bucket by bucket, while sum and count go on', async () => {
  let now = 1_000_000;
  const registry = new Registry();
  const m = new WindowedSummary({ name: 'w', help: 'h', labelNames: ['slice'], maxAgeSeconds: 600, ageBuckets: 5, registers: [registry], now: () => now });
  m.observe({ slice: 'a' }, 10);
  now += 150_000;
  m.observe({ slice: 'a' }, 20);
  const median = async (): Promise<number> => {
    const v = (await m.get()).values.find((x) => (x.labels as Record<string, unknown>)['quantile'] === 0.5);
    return v!.value;
  };
  assert.equal(await median(), 10);
  // 10 min after the first value the bucket that saw it from the start is gone; the second value is still in the window.
  now = 1_000_000 + 600_000;
  assert.equal(await median(), 20);
  now += 600_000;
  assert.ok(Number.isNaN(await median()));
  const text = await registry.metrics();
  assert.match(text, /^# TYPE w summary$/m);
  // prom-client writes NaN as "Nan", which parsers read case-insensitively (as Go's ParseFloat does).
  assert.match(text, /^w\{quantile="0.99",slice="a"\} nan$/im);
  assert.match(text, /^w_sum\{slice="a"\} 30$/m);
  assert.match(text, /^w_count\{slice="a"\} 2$/m);
});

test('a collect hook runs before the values are read', async () => {
  const registry = new Registry();
  const m: WindowedSummary = new WindowedSummary({
    name: 'c',
    help: 'h',
    registers: [registry],
    collect: () => {
      m.observe(5);
    },
  });
  assert.match(await registry.metrics(), /^c\{quantile="0.5"\} 5$/m);
});

test('after a jump past the whole window only new values count', async () => {
  let now = 0;
  const m = new WindowedSummary({ name: 'j', help: 'h', maxAgeSeconds: 600, ageBuckets: 5, now: () => now });
  m.observe(1);
  now += 86_400_000;
  const q = async (): Promise<number> => (await m.get()).values.find((x) => (x.labels as Record<string, unknown>)['quantile'] === 0.99)!.value;
  assert.ok(Number.isNaN(await q()));
  m.observe(7);
  assert.equal(await q(), 7);
  now += 119_000;
  m.observe(9);
  assert.equal(await q(), 9);
});
