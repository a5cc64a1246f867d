// A worker thread of remote write's decode pool (ingest_pool.ts): snappy and
// the compact 1.0 decode (hashing label bytes) off the main thread. The
// decoded body and arrays go back to the main thread in the job's arena, or
// transferred (moved, not copied) when they did not fit in it.
import { serveJobs } from '../workers/serve.js';
import { compactBuffers, decodeCompactV1 } from './ingest_decode.js';
import { snappyDecode, SnappyError } from './snappy.js';
import { arenaDecodedOffset, arenaScratch, type IngestJob, type IngestReply } from './ingest_pool.js';

serveJobs<IngestJob, IngestReply>((job) => {
  const body = job.body;
  // A body in an arena (ingest_pool.ts) is decoded into the rest of it.
  const arena = body.buffer instanceof SharedArrayBuffer ? body.buffer : null;
  let raw: Buffer;
  try {
    raw = snappyDecode(body, job.maxDecodedBytes, arena !== null ? new Uint8Array(arena, arenaDecodedOffset(body.length)) : undefined);
  } catch (e) {
    if (e instanceof SnappyError) return { value: { kind: 'snappy_error', message: e.message } };
    throw e;
  }
  const inArena = arena !== null && raw.buffer === arena;
  const c = decodeCompactV1(raw, inArena ? arenaScratch(arena, raw.byteOffset + raw.length) : undefined);
  if (c === null) {
    // The full decoder on the main thread may keep parts of the body: it gets a copy of its own, not the arena.
    if (inArena) {
      const own = Buffer.allocUnsafeSlow(raw.length);
      raw.copy(own);
      raw = own;
    }
    // snappyDecode's output owns its whole ArrayBuffer, so moving it takes nothing else with it.
    return { value: { kind: 'raw', raw }, transfer: [raw.buffer as ArrayBuffer] };
  }
  return { value: { kind: 'compact', c }, transfer: compactBuffers(c) };
});
