// Snappy block compression of outgoing remote-write bodies, by the native
// `snappy` package (the decoder beside it is ours, for its size limit).
import { compressSync } from 'snappy';

export function snappyCompress(b: Uint8Array): Buffer {
  return compressSync(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
