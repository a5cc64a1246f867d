// Special float values and timestamp helpers shared across modules.

/** Prometheus's staleness marker: a NaN with bit pattern 0x7ff0000000000002. */
export const STALE_NAN_BITS_HI = 0x7ff00000;
export const STALE_NAN_BITS_LO = 0x00000002;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
// Little-endian hosts store the low word first; checked once at start-up.
const LO = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;
const HI = 1 - LO;

u32[HI] = STALE_NAN_BITS_HI;
u32[LO] = STALE_NAN_BITS_LO;
/** The staleness marker as a number. Arithmetic on it may lose the payload; store it, do not compute with it. */
export const STALE_NAN: number = f64[0]!; // f64 has one element

/** True only for the exact staleness-marker bit pattern (not for ordinary NaN). */
export function isStaleNaN(v: number): boolean {
  if (v === v) return false;
  f64[0] = v;
  return u32[HI] === STALE_NAN_BITS_HI && u32[LO] === STALE_NAN_BITS_LO;
}
