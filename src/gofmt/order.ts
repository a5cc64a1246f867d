// Part of gofmt (see quote.ts): the one string order for label names, label
// values and symbols.

/**
 * Go's string order, which Prometheus uses for label names, values and index
 * symbols: by UTF-8 bytes, which is code point order. UTF-16 code-unit order
 * agrees except where a surrogate (part of a code point above U+FFFF) meets a
 * unit in U+E000..U+FFFF, so only that case is fixed up and ASCII costs one
 * comparison per unit. Returns -1, 0 or 1.
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length < b.length ? -1 : 1;
  const x = a.charCodeAt(i);
  const y = b.charCodeAt(i);
  if (x >= 0xd800 && y >= 0xd800) {
    const xs = x < 0xe000;
    if (xs !== y < 0xe000) return xs ? 1 : -1;
  }
  return x < y ? -1 : 1;
}

/** JS's own string order (UTF-16 code units): Go's order for strings without a unit of U+D800 or above. */
export function compareUTF16(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const HIGH_UNIT = /[\uD800-\uFFFF]/;

/**
 * True when UTF-16 order is exactly Go's order for these strings (no string holds a
 * unit of U+D800 or above), so a sort may use the engine's native comparison: one
 * linear pass instead of a JS loop in every one of the sort's n log n comparisons.
 */
export function utf16OrderIsGoOrder(list: Iterable<string>): boolean {
  for (const s of list) if (HIGH_UNIT.test(s)) return false;
  return true;
}

/** Sorts in place in Go's string order (compareStrings), natively when that is the same. */
export function sortStrings(list: string[]): string[] {
  return list.sort(utf16OrderIsGoOrder(list) ? compareUTF16 : compareStrings);
}
