// The worker side of WorkerPool (pool.ts): a worker module calls serveJobs()
// once with its handler; every request message gets exactly one reply.
import { parentPort, workerData } from 'node:worker_threads';
import type { Transferable } from 'node:worker_threads';

/** A request as the pool posts it. */
export interface ToWorker {
  readonly id: number;
  readonly req: unknown;
}

/** What a pool gives its workers: the caller's workerData and the shared count of replies posted. */
export interface PoolWorkerData {
  readonly data: unknown;
  readonly posted: Int32Array;
}

/** A reply as the worker posts it. */
export type JobReply<Res> =
  | { readonly id: number; readonly ok: true; readonly value: Res }
  | { readonly id: number; readonly ok: false; readonly errorName: string; readonly message: string };

/** What a handler returns: the reply value and the buffers of it to move (not copy) to the main thread. */
export interface HandlerResult<Res> {
  value: Res;
  transfer?: readonly Transferable[];
}

/**
 * Serves the pool's jobs on this worker thread with `handle` (sync or async).
 * A thrown error becomes the job's WorkerJobError; the worker stays up.
 * `handle` receives the pool's workerData as its second argument.
 */
export function serveJobs<Req, Res>(handle: (req: Req, data: unknown) => HandlerResult<Res> | Promise<HandlerResult<Res>>): void {
  const port = parentPort;
  if (port === null) throw new Error('serveJobs must run on a worker thread');
  const { data, posted } = workerData as PoolWorkerData;
  port.on('message', (m: ToWorker) => {
    // Counted after the post: the main thread then finds the message when it looks.
    const reply = (r: HandlerResult<Res>): void => {
      port.postMessage({ id: m.id, ok: true, value: r.value } satisfies JobReply<Res>, r.transfer ?? []);
      Atomics.add(posted, 0, 1);
    };
    const failed = (e: unknown): void => {
      const err = e instanceof Error ? e : new Error(String(e));
      port.postMessage({ id: m.id, ok: false, errorName: err.name, message: err.message } satisfies JobReply<Res>);
      Atomics.add(posted, 0, 1);
    };
    try {
      const r = handle(m.req as Req, data);
      if (r instanceof Promise) r.then(reply, failed);
      else reply(r);
    } catch (e) {
      failed(e);
    }
  });
}
