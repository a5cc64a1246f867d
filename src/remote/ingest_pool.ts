// Remote write's decode pool: a WorkerPool (workers/) running ingest_worker.ts.
// The messages it exchanges, and the pool's construction.
import { WorkerPool } from '../workers/pool.js';
import type { CompactV1 } from './ingest_decode.js';

/** One request body to decompress and decode. */
export interface IngestJob {
  /** The snappy-compressed body (a copy moved to the worker: bodies are small next to their decoded size). */
  readonly body: Uint8Array;
  readonly maxDecodedBytes: number;
}

/** What a worker made of a body. */
export type IngestReply =
  | { readonly kind: 'snappy_error'; readonly message: string }
  /** Decoded compactly: a 1.0 body of common shapes. */
  | { readonly kind: 'compact'; readonly c: CompactV1 }
  /** Decompressed only: the main thread decodes it fully (exemplars, histograms, malformed bodies). */
  | { readonly kind: 'raw'; readonly raw: Uint8Array };

export type IngestPool = WorkerPool<IngestJob, IngestReply>;

const WORKER_URL = new URL('./ingest_worker.js', import.meta.url);

/**
 * Bodies waiting for a decoder per worker beyond which requests are refused
 * with a 503: four senders' shards in flight each, at ~50 KiB compressed a
 * body, hold a few MiB while waiting, and a deeper queue only adds latency.
 */
export const DEFAULT_QUEUE_PER_WORKER = 16;

export function newIngestPool(size: number, maxQueued = size * DEFAULT_QUEUE_PER_WORKER): IngestPool {
  return new WorkerPool<IngestJob, IngestReply>({ module: WORKER_URL, size, maxQueued, name: 'remote write decode' });
}
