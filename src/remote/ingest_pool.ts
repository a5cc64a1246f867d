// Remote write's decode pool: a WorkerPool (workers/) running ingest_worker.ts.
// The messages it exchanges, and the pool's construction.
//
// Arenas: a body travels in shared memory of its own (an arena) when one is
// free, and the worker decodes into the rest of it, so a request allocates
// no buffers on either thread. Allocating them (about 1.5x the decoded body,
// ~0.7 MB for 2,000 samples) made V8 count that much external memory per
// request and start a full collection every ~60 requests.
//
// Layout of an arena: the compressed body at 0, the decoded body at the next
// multiple of 8, then ts, vs (float64) and lblStart, lblEnd, hash,
// sampleStart (32-bit) of equal capacity. What does not fit is allocated as
// without an arena. The main thread takes an arena per job and gives it back
// once it has read the reply (synchronously, before the next job can get it).
import { WorkerPool } from '../workers/pool.js';
import { sampleGuess, type CompactScratch, type CompactV1 } from './ingest_decode.js';

/** One request body to decompress and decode. */
export interface IngestJob {
  /**
   * The snappy-compressed body: the start of an arena (a view of a
   * SharedArrayBuffer), or a copy moved to the worker.
   */
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

/** Arena capacities are powers of two from this size (a 2,000-sample request with ~200-byte label sets needs ~0.7 MB). */
const MIN_ARENA_BYTES = 1 << 20;
/** Bodies that need more (in decoded size about 5 MB) take the allocating path: an arena is kept for reuse. */
const MAX_ARENA_BYTES = 8 << 20;
/** Bytes per capacity unit past the decoded body: two float64 and four 32-bit arrays, sampleStart one longer. */
const ARRAY_BYTES = 2 * 8 + 4 * 4;

const align8 = (n: number): number => (n + 7) & ~7;

/** Where the decoded body starts in an arena holding a compressed body of this length. */
export function arenaDecodedOffset(bodyBytes: number): number {
  return align8(bodyBytes);
}

/** The decoder's arrays in the arena after a decoded body ending at `end`, or undefined when none fit. */
export function arenaScratch(arena: SharedArrayBuffer, end: number): CompactScratch | undefined {
  const off = align8(end);
  const cap = Math.floor((arena.byteLength - off - 4) / ARRAY_BYTES);
  if (cap < 1) return undefined;
  const ts = new Float64Array(arena, off, cap);
  const vs = new Float64Array(arena, off + 8 * cap, cap);
  const at32 = off + 16 * cap;
  return {
    ts,
    vs,
    lblStart: new Uint32Array(arena, at32, cap),
    lblEnd: new Uint32Array(arena, at32 + 4 * cap, cap),
    hash: new Int32Array(arena, at32 + 8 * cap, cap),
    sampleStart: new Uint32Array(arena, at32 + 12 * cap, cap + 1),
  };
}

/**
 * The main thread's arenas: at most `max` in use (jobs past them take the
 * allocating path), each kept for reuse once given back.
 */
export class IngestArenas {
  private readonly free: SharedArrayBuffer[] = [];
  private inUse = 0;
  private held = 0;

  constructor(private readonly max: number) {}

  /** Bytes of arenas held (in use or free). */
  get bytes(): number {
    return this.held;
  }

  /**
   * An arena holding a copy of `body` at its start (the view returned), with
   * room for its decoded form of `declared` bytes and arrays; null when all
   * are in use or the body needs more than an arena holds.
   */
  take(body: Uint8Array, declared: number): Uint8Array | null {
    if (declared < 0 || this.inUse >= this.max) return null;
    const need = arenaDecodedOffset(body.length) + align8(declared) + ARRAY_BYTES * sampleGuess(declared) + 8;
    if (need > MAX_ARENA_BYTES) return null;
    let arena = this.free.pop();
    if (arena === undefined || arena.byteLength < need) {
      if (arena !== undefined) this.held -= arena.byteLength;
      let size = MIN_ARENA_BYTES;
      while (size < need) size *= 2;
      arena = new SharedArrayBuffer(size);
      this.held += size;
    }
    this.inUse++;
    const view = new Uint8Array(arena, 0, body.length);
    view.set(body);
    return view;
  }

  /** Gives back an arena from take() once nothing reads it any more. */
  give(view: Uint8Array): void {
    this.inUse--;
    this.free.push(view.buffer as SharedArrayBuffer);
  }
}
