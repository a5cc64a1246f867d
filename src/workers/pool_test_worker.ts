// A worker module for pool.test.ts: echoes, doubles typed arrays (moved both
// ways), throws, crashes, or blocks until the test releases a shared flag.
import { serveJobs } from './serve.js';

export type TestJob =
  | { op: 'echo'; x: number }
  | { op: 'double'; a: Float64Array }
  | { op: 'throw' }
  | { op: 'crash' }
  | { op: 'block'; flag: Int32Array; x: number };

serveJobs<TestJob, unknown>((job) => {
  switch (job.op) {
    case 'echo':
      return { value: job.x };
    case 'double': {
      for (let i = 0; i < job.a.length; i++) job.a[i] = job.a[i]! * 2;
      return { value: job.a, transfer: [job.a.buffer as ArrayBuffer] };
    }
    case 'throw':
      throw new RangeError('bad job');
    case 'crash':
      process.exit(3);
    case 'block':
      // Waits (without a timeout) until the test stores 1 and notifies.
      Atomics.wait(job.flag, 0, 0);
      return { value: job.x };
  }
});
