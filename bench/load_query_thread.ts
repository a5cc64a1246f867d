// A worker thread that runs one range query back to back, at least once, until `seconds` have
// passed, and reports how many runs it took. The ingest bench's latency phase runs its query
// here so that reading and parsing the large answers happens on this thread's event loop, not
// on the one whose paced remote-write sender is timing requests.
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { runQuery, type QueryParams } from './load_client.js';

export interface QueryLoopInput {
  base: string;
  params: QueryParams;
  seconds: number;
}

/** What the thread posts when it ends: runs done, or the first failure's text. */
export type QueryLoopOutput = { runs: number } | { error: string };

const input = workerData as QueryLoopInput;
const agent = new http.Agent({ keepAlive: true });
const t0 = performance.now();
let out: QueryLoopOutput;
let runs = 0;
try {
  for (;;) {
    runs++;
    const r = await runQuery(agent, input.base, input.params);
    if (r.status !== 200) {
      out = { error: `the latency query failed (${r.status}): ${r.error ?? ''}` };
      break;
    }
    if (performance.now() - t0 >= input.seconds * 1000) {
      out = { runs };
      break;
    }
  }
} catch (e) {
  out = { error: e instanceof Error ? e.message : String(e) };
} finally {
  agent.destroy();
}
parentPort!.postMessage(out!);
