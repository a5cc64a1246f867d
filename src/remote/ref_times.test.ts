import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RefTimes } from './ref_times.js';

test('property: answers as a Map cleared at the same points', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), ref: fc.oneof(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 2 ** 53 - 1 })), t: fc.integer() }),
    fc.record({ kind: fc.constant('get' as const), ref: fc.integer({ min: 1, max: 3000 }) }),
    fc.record({ kind: fc.constant('clear' as const) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 3000 }), (ops) => {
      const rt = new RefTimes();
      const m = new Map<number, number>();
      for (const o of ops) {
        if (o.kind === 'set') {
          rt.set(o.ref, o.t);
          m.set(o.ref, o.t);
        } else if (o.kind === 'get') {
          assert.equal(rt.get(o.ref), m.get(o.ref));
        } else {
          rt.clear();
          m.clear();
        }
      }
      for (const k of m.keys()) assert.equal(rt.get(k), m.get(k));
    }),
    { numRuns: 100 },
  );
});

test('a table grown past what is kept is dropped at clear and works on; refs equal modulo 2^32 stay apart', () => {
  const rt = new RefTimes();
  for (let round = 0; round < 3; round++) {
    for (let r = 1; r <= 70_000; r++) rt.set(r, r * 2 + round);
    for (let r = 1; r <= 70_000; r++) assert.equal(rt.get(r), r * 2 + round);
    rt.clear();
    assert.equal(rt.get(5), undefined);
  }
  rt.set(7, 1);
  rt.set(7 + 2 ** 32, 2);
  assert.equal(rt.get(7), 1);
  assert.equal(rt.get(7 + 2 ** 32), 2);
});
