import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { LineRing } from './ring.js';

/** Pushes `s` from the middle of a larger buffer, as the query log hands over lines from its scratch buffer. */
function put(r: LineRing, s: string): void {
  const b = Buffer.from('<<' + s + '>>');
  r.push(b, 2, b.length - 2);
}

describe('LineRing', () => {
  test('keeps the newest entries, newest first, bounded in entries', () => {
    const r = new LineRing(3, 1000);
    assert.deepEqual(r.newest(5), []);
    for (const s of ['a', 'b', 'c', 'd']) put(r, s);
    assert.equal(r.size, 3);
    assert.deepEqual(r.newest(5), ['d', 'c', 'b']);
    assert.deepEqual(r.newest(1), ['d']);
    const z = new LineRing(0, 100);
    put(z, 'a');
    assert.deepEqual(z.newest(1), []);
    assert.throws(() => new LineRing(-1, 1), RangeError);
  });

  test('bounded in bytes: wrapping evicts the oldest, multi-byte text survives', () => {
    const r = new LineRing(100, 10);
    put(r, 'aaaa');
    put(r, 'bbbb');
    put(r, 'ccc');
    assert.deepEqual(r.newest(10), ['ccc', 'bbbb']);
    put(r, 'ddddd');
    assert.deepEqual(r.newest(10), ['ddddd', 'ccc']);
    // 5 bytes: wraps to the start, overlapping both older entries.
    put(r, 'é€');
    assert.deepEqual(r.newest(10), ['é€']);
    put(r, 'ff');
    put(r, 'x'.repeat(11));
    assert.deepEqual(r.newest(10), ['ff', 'é€']);
    for (let i = 0; i < 1000; i++) put(r, String(i % 7).repeat((i % 4) + 1));
    const got = r.newest(100);
    assert.equal(got[0], '5555');
    assert.ok(got.join('').length <= 10);
  });
});
