// Snappy block-format decoding (what remote write bodies use), with the
// decoded size checked against a limit before anything is allocated, so a
// small hostile body cannot claim gigabytes.

/**
 * Copies shorter than this go byte by byte: a native copy's call (and, for
 * literals, the subarray it needs) costs more than the loop for the short
 * literals and back-references remote write bodies are made of.
 */
const SHORT_COPY = 32;

export class SnappyError extends Error {
  override name = 'SnappyError';
}

/** Decodes a snappy block; throws SnappyError when corrupt or when it would exceed maxBytes. */
export function snappyDecode(src: Uint8Array, maxBytes: number): Buffer {
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
  const dst = Buffer.allocUnsafeSlow(declared);
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
      if (len < SHORT_COPY) {
        // pos + len <= n and d + len <= declared were checked.
        for (let i = 0; i < len; i++) dst[d + i] = src[pos + i]!;
      } else {
        dst.set(src.subarray(pos, pos + len), d);
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
    // Copies may overlap their own output (run-length style), so go byte by byte when they do.
    if (offset >= len && len >= SHORT_COPY) {
      dst.copyWithin(d, d - offset, d - offset + len);
      d += len;
    } else {
      // 0 < offset <= d: d - offset is an already written byte.
      for (let i = 0; i < len; i++, d++) dst[d] = dst[d - offset]!;
    }
  }
  if (d !== declared) throw new SnappyError('snappy: corrupt input');
  return dst;
}
