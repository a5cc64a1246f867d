// The scrape parse worker: runs on a WorkerPool thread (see manager.ts) and turns
// one exposition body (gzip-compressed or not) into a ParseBatch (parse_batch.ts)
// for the scrape loop.
import zlib from 'node:zlib';
import { serveJobs, type HandlerResult } from '../workers/serve.js';
import { batchTransfer, bodySize, parseBatch, type ParseJob, type ParseReply } from './parse_batch.js';

serveJobs<ParseJob, ParseReply>((job): HandlerResult<ParseReply> => {
  let body = Buffer.from(job.body, 0, job.length);
  let inflated: ParseReply['inflated'] = null;
  if (job.inflate > 0) {
    let out: Buffer;
    try {
      out = zlib.gunzipSync(body, { maxOutputLength: job.inflate });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return { value: { batch: null, inflated: null, inflateError: { code: err.code, message: err.message } } };
    }
    // Shared, so the main thread replays from (and the scrape cache may keep) these very bytes.
    const sab = new SharedArrayBuffer(bodySize(out.length));
    body = Buffer.from(sab, 0, out.length);
    body.set(out);
    inflated = { body: sab, length: out.length };
  }
  if (!job.parse) return { value: { batch: null, inflated, inflateError: null } };
  const batch = parseBatch(body, job.prev, job.format);
  return { value: { batch, inflated, inflateError: null }, transfer: batchTransfer(batch) };
});
