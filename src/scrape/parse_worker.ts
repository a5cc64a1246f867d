// The scrape parse worker: runs on a WorkerPool thread (see manager.ts) and turns
// one exposition body into a ParseBatch (parse_batch.ts) for the scrape loop.
import { serveJobs } from '../workers/serve.js';
import { batchTransfer, parseBatch, type ParseBatch, type ParseJob } from './parse_batch.js';

serveJobs<ParseJob, ParseBatch>((job) => {
  const batch = parseBatch(Buffer.from(job.body, 0, job.length), job.prev);
  return { value: batch, transfer: batchTransfer(batch) };
});
