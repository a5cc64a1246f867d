// Typed-array growth shared by the head's tables (struct of arrays).

/** "No chunk" / "no slot" in Int32Array links. */
export const NONE = -1;

/** Capacity growth: doubling while small, then 1.5x to limit slack at scale; an empty table gets room for one. */
export function nextCap(cur: number): number {
  if (cur < 1) return 1;
  return cur < 65536 ? cur * 2 : cur + (cur >>> 1);
}

export function growF64(a: Float64Array, n: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}
export function growU32(a: Uint32Array, n: number): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(n);
  b.set(a);
  return b;
}
/** New entries are NONE. */
export function growI32(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n).fill(NONE);
  b.set(a);
  return b;
}
export function growU16(a: Uint16Array, n: number): Uint16Array<ArrayBuffer> {
  const b = new Uint16Array(n);
  b.set(a);
  return b;
}
export function growU8(a: Uint8Array, n: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(n);
  b.set(a);
  return b;
}
