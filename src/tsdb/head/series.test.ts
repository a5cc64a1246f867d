import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Labels } from '../../model/labels.js';
import { SeriesTable } from './series.js';

test('property: slotByRef finds live refs and aliases, never a removed or reused slot, across growth', () => {
  // Refs from a small range and refs 1024 and 2^32 apart, so hint positions collide.
  const ref = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }).map((r) => r + 1024), fc.integer({ min: 1, max: 40 }).map((r) => r + 2 ** 32));
  const op = fc.oneof(
    fc.record({ kind: fc.constant('create' as const), ref }),
    fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant('alias' as const), ref, pick: fc.nat() }),
    fc.record({ kind: fc.constant('lookup' as const), ref }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 400 }), fc.integer({ min: 0, max: 8 }), (ops, initial) => {
      const t = new SeriesTable(initial);
      const model = new Map<number, number>();
      let n = 0;
      for (const o of ops) {
        const live = [...new Set(model.values())];
        if (o.kind === 'create') {
          if (o.ref === 0 || model.has(o.ref)) continue;
          const slot = t.create(Labels.fromPairs('__name__', 's', 'n', String(n++)), o.ref);
          model.set(o.ref, slot);
        } else if (o.kind === 'remove') {
          if (live.length === 0) continue;
          const s = live[o.pick % live.length]!;
          t.remove(s);
          t.freeSlot(s);
          for (const [r, v] of model) if (v === s) model.delete(r);
        } else if (o.kind === 'alias') {
          if (o.ref === 0 || model.has(o.ref) || live.length === 0) continue;
          const s = live[o.pick % live.length]!;
          t.addAlias(o.ref, s);
          model.set(o.ref, s);
        } else {
          assert.equal(t.slotByRef(o.ref), model.get(o.ref) ?? -1, `ref ${o.ref}`);
        }
      }
      for (const [r, s] of model) assert.equal(t.slotByRef(r), s);
      assert.equal(t.slotByRef(0), -1);
    }),
    { numRuns: 300 },
  );
});

test('a table made with no slots grows on its first series', () => {
  // Doubling a capacity of 0 left it at 0, and the first series was written past the arrays' end.
  const t = new SeriesTable(0);
  const s = t.create(Labels.fromPairs('__name__', 's', 'n', '0'), 23);
  assert.equal(t.slotByRef(23), s);
  t.remove(s);
  t.freeSlot(s);
  assert.equal(t.slotByRef(23), -1);
});

test('slotByRef across a grown table, with slots freed and reused under new refs', () => {
  const t = new SeriesTable(4);
  const slots: number[] = [];
  for (let r = 1; r <= 3000; r++) slots.push(t.create(Labels.fromPairs('__name__', 'a', 'i', String(r)), r));
  for (let r = 1; r <= 3000; r += 3) {
    t.remove(slots[r - 1]!);
    t.freeSlot(slots[r - 1]!);
  }
  // New refs take the freed slots.
  const reused = new Map<number, number>();
  for (let r = 5001; r <= 6000; r++) reused.set(r, t.create(Labels.fromPairs('__name__', 'b', 'i', String(r)), r));
  for (let r = 1; r <= 3000; r++) assert.equal(t.slotByRef(r), r % 3 === 1 ? -1 : slots[r - 1]!, `ref ${r}`);
  for (const [r, s] of reused) assert.equal(t.slotByRef(r), s);
});
