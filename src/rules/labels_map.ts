// A map and a set keyed by label sets through their hash, with a collision
// check, so that tens of thousands of entries keep no key string each.
import type { Labels } from '../model/labels.js';

/** The low 30 bits of the label hash: small integers are the fastest Map keys; equal ones are told apart by equals(). */
function slot(ls: Labels): number {
  return ls.hash() % 0x40000000;
}

interface Entry<V> {
  readonly labels: Labels;
  value: V;
}

export class LabelsMap<V> {
  /** One entry per hash, or a list in the rare case of a collision. */
  private readonly m = new Map<number, Entry<V> | Array<Entry<V>>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(ls: Labels): V | undefined {
    const e = this.m.get(slot(ls));
    if (e === undefined) return undefined;
    if (!Array.isArray(e)) return e.labels.equals(ls) ? e.value : undefined;
    for (const x of e) if (x.labels.equals(ls)) return x.value;
    return undefined;
  }

  has(ls: Labels): boolean {
    return this.get(ls) !== undefined;
  }

  /** Sets the value; returns false when the key was already present (and leaves it unchanged). */
  add(ls: Labels, value: V): boolean {
    const h = slot(ls);
    const e = this.m.get(h);
    if (e === undefined) {
      this.m.set(h, { labels: ls, value });
    } else if (!Array.isArray(e)) {
      if (e.labels.equals(ls)) return false;
      this.m.set(h, [e, { labels: ls, value }]);
    } else {
      for (const x of e) if (x.labels.equals(ls)) return false;
      e.push({ labels: ls, value });
    }
    this.count++;
    return true;
  }

  set(ls: Labels, value: V): void {
    if (this.add(ls, value)) return;
    const e = this.m.get(slot(ls))!; // add found the key
    if (!Array.isArray(e)) e.value = value;
    else for (const x of e) if (x.labels.equals(ls)) x.value = value;
  }

  delete(ls: Labels): void {
    const h = slot(ls);
    const e = this.m.get(h);
    if (e === undefined) return;
    if (!Array.isArray(e)) {
      if (!e.labels.equals(ls)) return;
      this.m.delete(h);
      this.count--;
      return;
    }
    const i = e.findIndex((x) => x.labels.equals(ls));
    if (i < 0) return;
    e.splice(i, 1);
    this.count--;
    if (e.length === 1) this.m.set(h, e[0]!);
  }

  clear(): void {
    this.m.clear();
    this.count = 0;
  }

  *entries(): IterableIterator<[Labels, V]> {
    for (const e of this.m.values()) {
      if (!Array.isArray(e)) yield [e.labels, e.value];
      else for (const x of e) yield [x.labels, x.value];
    }
  }

  forEach(fn: (value: V, labels: Labels) => void): void {
    for (const e of this.m.values()) {
      if (!Array.isArray(e)) fn(e.value, e.labels);
      else for (const x of e) fn(x.value, x.labels);
    }
  }
}

/** A set of label sets: one Labels per slot, or a list in the rare case of a collision. */
export class LabelsSet {
  private readonly m = new Map<number, Labels | Labels[]>();

  /** Adds ls; false when it was already there. */
  add(ls: Labels): boolean {
    const h = slot(ls);
    const e = this.m.get(h);
    if (e === undefined) {
      this.m.set(h, ls);
      return true;
    }
    if (!Array.isArray(e)) {
      if (e.equals(ls)) return false;
      this.m.set(h, [e, ls]);
      return true;
    }
    for (const x of e) if (x.equals(ls)) return false;
    e.push(ls);
    return true;
  }

  has(ls: Labels): boolean {
    const e = this.m.get(slot(ls));
    if (e === undefined) return false;
    if (!Array.isArray(e)) return e.equals(ls);
    for (const x of e) if (x.equals(ls)) return true;
    return false;
  }

  forEach(fn: (ls: Labels) => void): void {
    for (const e of this.m.values()) {
      if (!Array.isArray(e)) fn(e);
      else for (const x of e) fn(x);
    }
  }
}
