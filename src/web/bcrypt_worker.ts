// A worker thread of BcryptPool (bcrypt.ts): checks one password against one
// bcrypt hash per message, so the server's event loop never runs bcrypt.
import { parentPort } from 'node:worker_threads';
import bcrypt from 'bcryptjs';

export interface BcryptJob {
  readonly id: number;
  readonly password: string;
  readonly hash: string;
}

export interface BcryptResult {
  readonly id: number;
  readonly ok: boolean;
}

parentPort?.on('message', (job: BcryptJob) => {
  let ok = false;
  try {
    ok = bcrypt.compareSync(job.password, job.hash);
  } catch {
    // A hash bcryptjs cannot read matches nothing.
  }
  parentPort?.postMessage({ id: job.id, ok } satisfies BcryptResult);
});
