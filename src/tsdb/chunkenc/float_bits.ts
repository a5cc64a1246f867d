// Float64 <-> raw bit pattern conversion through one shared scratch buffer.
// Values are stored and compared as bit patterns so that the staleness
// marker's NaN payload survives exactly (arithmetic on NaN may not keep it).

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  // The on-disk formats write host-order typed arrays directly.
  throw new Error('BUG: tsdb requires a little-endian host');
}

/** Splits v into its bit pattern; read the halves with bitsHi()/bitsLo() right after. */
export function splitFloat(v: number): void {
  f64[0] = v;
}

// u32 views the 8 bytes of f64: indexes 0 and 1 exist.
export function bitsHi(): number {
  return u32[1]!;
}

export function bitsLo(): number {
  return u32[0]!;
}

/** The float with the given bit pattern. */
export function joinFloat(hi: number, lo: number): number {
  u32[1] = hi;
  u32[0] = lo;
  return f64[0]!;
}
