// Snappy block decoding into a caller's reused buffer, for compressed WAL
// records: replay reads hundreds of thousands of them, and the native
// package allocates a new buffer per call. Encoding uses the native package.
import { CorruptionError } from '../encoding/encoding.js';

/** The decoded length a block declares (its leading uvarint), and where its elements start. */
export function snappyDecodedLength(src: Uint8Array, start: number, end: number): { length: number; pos: number } {
  let length = 0;
  let pos = start;
  for (let shift = 0; ; shift += 7) {
    if (pos >= end || shift > 28) throw new CorruptionError('snappy: corrupt length header');
    // pos < end <= src.length.
    const b = src[pos++]!;
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  return { length, pos };
}

/**
 * Decodes the block src[pos, end) (pos after the length header) into
 * dst[0, length); throws CorruptionError unless it fills exactly that.
 */
export function snappyDecodeInto(src: Uint8Array, pos: number, end: number, dst: Uint8Array, length: number): void {
  if (length > dst.length) throw new CorruptionError('BUG: snappy destination too small');
  let d = 0;
  // Every src[...]! reads below `end`, checked just before; dst writes stay below `length`, checked likewise.
  while (pos < end) {
    const tag = src[pos++]!;
    let len: number;
    let off: number;
    switch (tag & 3) {
      case 0: {
        len = tag >>> 2;
        if (len >= 60) {
          const nb = len - 59;
          if (pos + nb > end) throw corrupt();
          len = 0;
          for (let i = 0; i < nb; i++) len += src[pos + i]! * 2 ** (8 * i);
          pos += nb;
        }
        len++;
        if (pos + len > end || d + len > length) throw corrupt();
        if (len < 16) for (let i = 0; i < len; i++) dst[d + i] = src[pos + i]!;
        else dst.set(src.subarray(pos, pos + len), d);
        pos += len;
        d += len;
        continue;
      }
      case 1:
        if (pos >= end) throw corrupt();
        len = 4 + ((tag >>> 2) & 7);
        off = ((tag >>> 5) << 8) | src[pos++]!;
        break;
      case 2:
        if (pos + 2 > end) throw corrupt();
        len = 1 + (tag >>> 2);
        off = src[pos]! | (src[pos + 1]! << 8);
        pos += 2;
        break;
      default:
        if (pos + 4 > end) throw corrupt();
        len = 1 + (tag >>> 2);
        off = (src[pos]! | (src[pos + 1]! << 8) | (src[pos + 2]! << 16)) + src[pos + 3]! * 0x1000000;
        pos += 4;
    }
    if (off === 0 || off > d || d + len > length) throw corrupt();
    if (off >= len) dst.copyWithin(d, d - off, d - off + len);
    // Overlapping copy: each byte may be one written by this same copy.
    else for (let i = 0; i < len; i++) dst[d + i] = dst[d - off + i]!;
    d += len;
  }
  if (d !== length) throw corrupt();
}

function corrupt(): CorruptionError {
  return new CorruptionError('snappy: corrupt input');
}
