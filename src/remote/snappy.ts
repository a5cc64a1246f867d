// Snappy block-format decoding (what remote write bodies use), with the
// decoded size checked against a limit before anything is allocated, so a
// small hostile body cannot claim gigabytes.

/**
 * Copies at least this long go through a native copy (copyWithin, set): below
 * it the call costs more than copying four bytes a step in JS. Remote write
 * bodies are mostly back-references of 8 to 64 bytes.
 */
const LONG_COPY = 64;

export class SnappyError extends Error {
  override name = 'SnappyError';
}

/** The decoded length a snappy block declares in its header, or -1 when the header is corrupt. */
export function snappyDeclaredLength(src: Uint8Array): number {
  let declared = 0;
  // Indices are checked against src.length; a block never claims 2^32 bytes or more.
  for (let pos = 0, shift = 0; pos < src.length && shift <= 28; shift += 7) {
    const b = src[pos++]!;
    declared += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return declared > 0xffffffff ? -1 : declared;
  }
  return -1;
}

/**
 * Decodes a snappy block; throws SnappyError when corrupt or when it would
 * exceed maxBytes. With `into`, the output is its first bytes when they are
 * enough (a reused buffer: no allocation), else a new buffer as without it.
 */
export function snappyDecode(src: Uint8Array, maxBytes: number, into?: Uint8Array): Buffer {
  // Every src[...]! below reads at an index checked against src.length just before it.
  let pos = 0;
  // Header: uncompressed length as a varint.
  let declared = 0;
  let shift = 0;
  for (;;) {
    if (pos >= src.length || shift > 28) throw new SnappyError('snappy: corrupt input');
    const b = src[pos++]!;
    declared += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
    shift += 7;
  }
  // A block never claims more than 2^32 - 1 bytes.
  if (declared > 0xffffffff) throw new SnappyError('snappy: corrupt input');
  // Worded as Prometheus's receiver (client_golang's remote API) words it.
  if (declared > maxBytes) throw new SnappyError(`decoded size exceeds the ${maxBytes} bytes limit`);
  // Not from Node's shared pool: the decode workers move this buffer to the main thread.
  const dst = into !== undefined && into.length >= declared ? Buffer.from(into.buffer, into.byteOffset, declared) : Buffer.allocUnsafeSlow(declared);
  // Four-byte loads and stores; DataView checks every index against its view's bounds.
  const dv = new DataView(dst.buffer, dst.byteOffset, declared);
  const sv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  let d = 0;
  const n = src.length;
  while (pos < n) {
    const tag = src[pos++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const extra = len - 59;
        if (pos + extra > n) throw new SnappyError('snappy: corrupt input');
        len = 0;
        for (let i = 0; i < extra; i++) len += src[pos + i]! * 2 ** (8 * i);
        pos += extra;
      }
      len += 1;
      if (pos + len > n || d + len > declared) throw new SnappyError('snappy: corrupt input');
      if (len >= LONG_COPY) {
        dst.set(src.subarray(pos, pos + len), d);
      } else if (n - pos >= len + 3 && declared - d >= len + 3) {
        // Whole words, reading and writing up to 3 bytes past the literal: in
        // bounds (checked), and the bytes written past it are written again by
        // the next element before anything reads them.
        for (let i = 0; i < len; i += 4) dv.setInt32(d + i, sv.getInt32(pos + i, true), true);
      } else {
        // pos + len <= n and d + len <= declared were checked.
        for (let i = 0; i < len; i++) dst[d + i] = src[pos + i]!;
      }
      pos += len;
      d += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (pos >= n) throw new SnappyError('snappy: corrupt input');
      len = 4 + ((tag >>> 2) & 7);
      offset = ((tag >>> 5) << 8) | src[pos++]!;
    } else if (kind === 2) {
      if (pos + 2 > n) throw new SnappyError('snappy: corrupt input');
      len = 1 + (tag >>> 2);
      offset = src[pos]! | (src[pos + 1]! << 8);
      pos += 2;
    } else {
      if (pos + 4 > n) throw new SnappyError('snappy: corrupt input');
      len = 1 + (tag >>> 2);
      offset = (src[pos]! | (src[pos + 1]! << 8) | (src[pos + 2]! << 16)) + src[pos + 3]! * 2 ** 24;
      pos += 4;
    }
    if (offset === 0 || offset > d || d + len > declared) throw new SnappyError('snappy: corrupt input');
    // A copy may overlap its own output (offset < len, run-length style).
    // Word by word forwards is right when offset >= 4: each word read was
    // written before. Bytes written past the copy are as with literals.
    if (offset >= len && len >= LONG_COPY) {
      dst.copyWithin(d, d - offset, d - offset + len);
      d += len;
    } else if (offset >= 4 && declared - d >= len + 3) {
      const from = d - offset;
      for (let i = 0; i < len; i += 4) dv.setInt32(d + i, dv.getInt32(from + i, true), true);
      d += len;
    } else {
      // 0 < offset <= d: d - offset is an already written byte.
      for (let i = 0; i < len; i++, d++) dst[d] = dst[d - offset]!;
    }
  }
  if (d !== declared) throw new SnappyError('snappy: corrupt input');
  return dst;
}
