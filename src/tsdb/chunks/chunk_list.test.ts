import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ValueType } from '../../storage/interface.js';
import { XORChunk } from '../chunkenc/xor.js';
import { bitsHi, bitsLo, splitFloat } from '../chunkenc/float_bits.js';
import { ChunkList, ChunkSeriesIterator } from './chunk_list.js';

/** Chunks of increasing timestamps packed into one array (as the head's pages hold them), each `per` samples. */
function build(ts: number[], per: number): ChunkList {
  const bytes: Uint8Array[] = [];
  const bounds: Array<[number, number]> = [];
  for (let i = 0; i < ts.length; i += per) {
    const c = new XORChunk();
    const part = ts.slice(i, i + per);
    for (const t of part) {
      splitFloat(t / 1000 + 0.25);
      c.append(t, bitsHi(), bitsLo());
    }
    bytes.push(c.bytes().slice());
    bounds.push([part[0]!, part[part.length - 1]!]);
  }
  const page = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0) + 7);
  const cl = new ChunkList();
  let off = 7;
  bytes.forEach((b, i) => {
    page.set(b, off);
    cl.push(page, off, off + b.length, -1, bounds[i]![0], bounds[i]![1]);
    off += b.length;
  });
  return cl;
}

test('seek lands on the first sample at or after the target within the range, and next goes on from it', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 300 }),
      fc.integer({ min: 1, max: 50 }),
      fc.array(fc.integer({ min: -1000, max: 800_000 }), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: -1000, max: 400_000 }),
      fc.integer({ min: 0, max: 800_000 }),
      (gaps, per, targets, mint, span) => {
        const ts: number[] = [];
        let t = 0;
        for (const g of gaps) ts.push((t += g));
        const maxt = mint + span;
        const it = new ChunkSeriesIterator(build(ts, per), mint, maxt, null);
        let at = -Infinity;
        for (const target of targets.sort((a, b) => a - b)) {
          // A seek never goes backwards: the reference starts from the current sample.
          const want = ts.find((x) => x >= Math.max(target, mint, at) && x <= maxt);
          const got = it.seek(target);
          if (want === undefined) {
            assert.equal(got, ValueType.None);
            return;
          }
          assert.equal(got, ValueType.Float);
          assert.equal(it.t(), want);
          assert.equal(it.v(), want / 1000 + 0.25);
          at = want;
        }
        const rest: number[] = [];
        while (it.next() === ValueType.Float) rest.push(it.t());
        assert.deepEqual(rest, ts.filter((x) => x > at && x >= mint && x <= maxt));
        assert.equal(it.err(), null);
      },
    ),
    { numRuns: 500 },
  );
});

test('readFloats appends what next() would give, stops past `to` and at a full run, and a restarted iterator reads anew', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 200 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 0, max: 300_000 }),
      fc.integer({ min: 0, max: 600_000 }),
      fc.integer({ min: 1, max: 64 }),
      fc.boolean(),
      (gaps, per, from, to, room, reuse) => {
        const ts: number[] = [];
        let t = 0;
        for (const g of gaps) ts.push((t += g));
        const want = ts.filter((x) => x >= from && x <= to);
        let it = new ChunkSeriesIterator(build(ts, per), 0, 1e9, null);
        if (reuse) {
          // Used on other samples first, then refilled and restarted.
          while (it.next() !== ValueType.None);
          const fresh = build(ts, per);
          it.chunks.clear();
          for (let i = 0; i < fresh.n; i++) it.chunks.push(fresh.bufs[i]!, fresh.start(i), fresh.end(i), fresh.count(i), fresh.mint(i), fresh.maxt(i));
          it.restart(0, 1e9, null);
        }
        const run = { t: new Float64Array(room), v: new Float64Array(room), n: 0 };
        const got: number[] = [];
        let vt = it.seek(from);
        while (vt === ValueType.Float) {
          vt = it.readFloats(to, true, run);
          for (let i = 0; i < run.n; i++) {
            got.push(run.t[i]!);
            assert.equal(run.v[i], run.t[i]! / 1000 + 0.25);
          }
          if (vt !== ValueType.Float || it.t() > to) break;
          // Full: the current sample is the next one to keep.
          assert.equal(run.n, room);
          run.n = 0;
        }
        assert.deepEqual(got, want);
        if (vt === ValueType.Float) assert.equal(it.t(), ts.find((x) => x >= from && x > to));
        else assert.equal(vt, ValueType.None);
        it = new ChunkSeriesIterator(new ChunkList(), 0, 1, null);
        assert.equal(it.seek(0), ValueType.None);
      },
    ),
    { numRuns: 300 },
  );
});
