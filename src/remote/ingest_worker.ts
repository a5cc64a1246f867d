// A worker thread of remote write's decode pool (ingest_pool.ts): snappy and
// the compact 1.0 decode (hashing label bytes) off the main thread. The
// decoded body and arrays move back to the main thread (transferred, not copied).
import { serveJobs } from '../workers/serve.js';
import { compactBuffers, decodeCompactV1 } from './ingest_decode.js';
import { snappyDecode, SnappyError } from './snappy.js';
import type { IngestJob, IngestReply } from './ingest_pool.js';

serveJobs<IngestJob, IngestReply>((job) => {
  let raw: Buffer;
  try {
    raw = snappyDecode(job.body, job.maxDecodedBytes);
  } catch (e) {
    if (e instanceof SnappyError) return { value: { kind: 'snappy_error', message: e.message } };
    throw e;
  }
  const c = decodeCompactV1(raw);
  // snappyDecode's output owns its whole ArrayBuffer, so moving it takes nothing else with it.
  if (c === null) return { value: { kind: 'raw', raw }, transfer: [raw.buffer as ArrayBuffer] };
  return { value: { kind: 'compact', c }, transfer: compactBuffers(c) };
});
