// Go's orderings that the API's answers follow: strings by UTF-8 bytes, label
// sets as labels.Compare, map keys as json-iterator writes them.
import type { Labels } from '../../model/labels.js';

/** Go's strings sort (slices.Sort): by UTF-8 bytes, which is code point order, not UTF-16 unit order. */
export function compareUTF8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (code points above U+FFFF) belong after U+E000..U+FFFF.
    if (x >= 0xd800) x = x < 0xe000 ? x + 0x2000 : x - 0x800;
    if (y >= 0xd800) y = y < 0xe000 ? y + 0x2000 : y - 0x800;
    return x - y;
  }
  return a.length - b.length;
}

/** Prometheus's labels.Compare: pairwise by name, then value, as UTF-8 bytes; shorter first. */
export function compareLabelsUTF8(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareUTF8(a.nameAt(i), b.nameAt(i)) || compareUTF8(a.valueAt(i), b.valueAt(i));
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** A copy with keys in Go's sorted-map order (by bytes). */
export function sortedKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  // k is one of o's own keys, so o[k] is a T.
  for (const k of Object.keys(o).sort(compareUTF8)) out[k] = o[k] as T;
  return out;
}
