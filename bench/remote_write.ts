// `npm run bench -- remote_write [--series N] [--requests N]`: how fast the
// remote-write receiver takes requests, 1.0 against 2.0.
//
// Each request holds one sample for each of N distinct series (default
// 2,000, a sender's default batch) with 8 labels, as Prometheus batches a scrape's
// worth of samples. Reported per protocol: decoding alone (snappy + protobuf,
// 1.0 with the compact decoder the handler uses, and with the full one),
// also in MB/s of decoded protobuf; the whole handler into memory storage
// (decode, label checks, append, commit); and 1.0 into a TSDB with its WAL
// (series known after a first pass, so the series cache hits), on the
// calling thread and with decode workers (4 requests in flight), in samples
// per second of wall time, best of a few runs. Decoding is timed in a steady
// state: after untimed warm-up runs, best and median of more.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Labels } from '../src/model/labels.js';
import { openDB } from '../src/tsdb/db.js';
import { decodeCompactV1 } from '../src/remote/ingest_decode.js';
import { MemoryStorage } from '../src/storage/memory.js';
import { RemoteWriteHandler } from '../src/remote/write_handler.js';
import { snappyDecode } from '../src/remote/snappy.js';
import { decodeWriteRequest } from '../src/remote/write_request.js';
import { decodeWriteV2Request } from '../src/remote/write_request_v2.js';
import { writeRequestBody, writeV2RequestBody, V2_CONTENT_TYPE, type TestSeries } from '../test/remote_write_proto.js';

function flag(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v <= 0) {
    console.error(`--${name} needs a positive integer`);
    process.exit(2);
  }
  return v;
}

const SERIES = flag('series', 2000);
const REQUESTS = flag('requests', 50);
/** Timed repetitions of the handler and TSDB cases; the best is reported (the machine is shared, the minimum is the least disturbed). */
const REPEATS = 3;
/** Decoding alone is quick: more repetitions, after untimed warm-up passes, for a steady-state figure. */
const DECODE_WARMUPS = 2;
const DECODE_REPEATS = 15;
/** The full decoders are ~10x slower and only compared against: fewer repetitions. */
const FULL_DECODE_REPEATS = 5;
const T0 = 1_700_000_000_000;
const STEP = 15_000;

function labelsFor(s: number): Record<string, string> {
  const l = Labels.fromPairs(
    '__name__', `node_metric_${s % 50}_total`,
    'shard', String(Math.floor(s / SERIES)),
    'instance', `host-${Math.floor(s / 16)}.example.com:9100`,
    'job', 'node',
    'cpu', String(s % 16),
    'mode', ['idle', 'user', 'system', 'iowait'][s % 4]!,
    'env', 'prod',
    'region', 'eu-west-1',
    'device', `sd${String.fromCharCode(97 + (s % 8))}`,
  );
  return l.toObject();
}

/** Request r: one sample per series; `offset` shifts the series ids (a client's own series). */
function batch(r: number, offset = 0): TestSeries[] {
  const out: TestSeries[] = [];
  for (let s = 0; s < SERIES; s++) out.push({ labels: labelsFor(s + offset), samples: [[T0 + r * STEP, s * 1.5 + r]] });
  return out;
}

const v1Bodies = Array.from({ length: REQUESTS }, (_, r) => writeRequestBody(batch(r)));
const v2Bodies = Array.from({ length: REQUESTS }, (_, r) => writeV2RequestBody(batch(r)));

function best(fn: () => void): number {
  let min = Infinity;
  for (let i = 0; i < REPEATS; i++) {
    globalThis.gc?.();
    const t = performance.now();
    fn();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

/** Best and median time of `repeats` runs after DECODE_WARMUPS untimed ones (so the code is optimized). */
function steady(fn: () => void, repeats = DECODE_REPEATS): { best: number; median: number } {
  for (let i = 0; i < DECODE_WARMUPS; i++) fn();
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    globalThis.gc?.();
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { best: ms[0]!, median: ms[ms.length >> 1]! };
}

const MAX = 32 * 1024 * 1024;
const samples = SERIES * REQUESTS;
const rate = (ms: number): number => Math.round(samples / (ms / 1000));

const decodedBytes = (bs: Buffer[]): number => bs.reduce((n, b) => n + snappyDecode(b, MAX).length, 0);
const v1Decoded = decodedBytes(v1Bodies);
const v2Decoded = decodedBytes(v2Bodies);
const mbPerS = (bytes: number, ms: number): number => Math.round(bytes / 1e6 / (ms / 1000));

const v1Raw = v1Bodies.map((b) => snappyDecode(b, MAX));
const decodeV1 = steady(() => {
  for (const b of v1Bodies) if (decodeCompactV1(snappyDecode(b, MAX)) === null) throw new Error('bench body not taken by the compact decoder');
});
const compactV1 = steady(() => {
  for (const b of v1Raw) decodeCompactV1(b);
});
const decodeV1Full = steady(() => {
  for (const b of v1Bodies) decodeWriteRequest(snappyDecode(b, MAX));
}, FULL_DECODE_REPEATS);
const decodeV2 = steady(() => {
  for (const b of v2Bodies) decodeWriteV2Request(snappyDecode(b, MAX));
}, FULL_DECODE_REPEATS);
const snappyV1 = steady(() => {
  for (const b of v1Bodies) snappyDecode(b, MAX);
});

function ingest(bodies: Buffer[], headers: Record<string, string>): number {
  return best(() => {
    const h = new RemoteWriteHandler({ storage: new MemoryStorage(), now: () => T0 + REQUESTS * STEP });
    for (const b of bodies) {
      const res = h.handle(headers, b);
      if (res.status !== 204) throw new Error(`bench request failed: ${res.status} ${res.body}`);
    }
  });
}
const V1_HEADERS = { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' };
const ingestV1 = ingest(v1Bodies, V1_HEADERS);
const ingestV2 = ingest(v2Bodies, { 'content-type': V2_CONTENT_TYPE, 'content-encoding': 'snappy' });

/** Rounds of all requests into one TSDB: the first creates the series, the others are timed. */
const HEAD_ROUNDS = 1 + REPEATS;

/** Decode workers, as the server's default: one per core but one. */
const DECODE_WORKERS = Math.max(1, os.availableParallelism() - 1);

/** Clients sending at once with workers, each with its own series (as senders' shards), one request in flight each. */
const CLIENTS = 4;

/**
 * 1.0 into a TSDB with its WAL: best round after the first. With `workers`
 * > 0, request r goes through decode workers from client r % CLIENTS, whose
 * series are its own.
 */
async function ingestHead(workers: number): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsprom-bench-rw-'));
  const db = await openDB(dir, { maintenanceIntervalMs: 0, compactOnCommit: false });
  const h = new RemoteWriteHandler({ storage: db, now: () => T0 + HEAD_ROUNDS * REQUESTS * STEP, decodeWorkers: workers });
  let min = Infinity;
  try {
    for (let round = 0; round < HEAD_ROUNDS; round++) {
      // Later rounds move every timestamp on by REQUESTS steps, so each sample is new.
      const offset = (r: number): number => (workers > 0 ? (r % CLIENTS) * SERIES : 0);
      const bodies = Array.from({ length: REQUESTS }, (_, r) => writeRequestBody(batch(round * REQUESTS + r, offset(r))));
      globalThis.gc?.();
      const t = performance.now();
      const check = (res: { status: number; body: string }): void => {
        if (res.status !== 204) throw new Error(`bench request failed: ${res.status} ${res.body}`);
      };
      if (workers === 0) {
        for (const b of bodies) check(h.handle(V1_HEADERS, b));
      } else {
        const client = async (k: number): Promise<void> => {
          for (let r = k; r < bodies.length; r += CLIENTS) check(await h.handleAsync(V1_HEADERS, bodies[r]!));
        };
        await Promise.all(Array.from({ length: CLIENTS }, (_, k) => client(k)));
      }
      if (round > 0) min = Math.min(min, performance.now() - t);
    }
  } finally {
    await h.close();
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return min;
}
const headInline = await ingestHead(0);
const headWorkers = await ingestHead(DECODE_WORKERS);

const avg = (bs: Buffer[]): number => Math.round(bs.reduce((n, b) => n + b.length, 0) / bs.length);
console.log(`remote write: ${REQUESTS} requests x ${SERIES} series x 1 sample, 8 labels each`);
console.log('');
console.log(
  `decoding: best of ${DECODE_REPEATS} runs (full 1.0 and 2.0: ${FULL_DECODE_REPEATS}) after ${DECODE_WARMUPS} untimed ones, median in brackets; MB/s of decoded protobuf`,
);
const dec = (x: { best: number; median: number }): string => `${String(rate(x.best)).padStart(9)} (${rate(x.median)})`;
const mb = (bytes: number, x: { best: number; median: number }): string => `${String(mbPerS(bytes, x.best)).padStart(5)} (${mbPerS(bytes, x.median)})`;
console.log('protocol  body (snappy)  decode (samples/s)  decode (MB/s)  handler into memory (samples/s)');
console.log(`1.0       ${String(avg(v1Bodies)).padStart(9)} B  ${dec(decodeV1).padEnd(18)}  ${mb(v1Decoded, decodeV1).padEnd(13)}  ${String(rate(ingestV1)).padStart(31)}`);
console.log(`1.0 full  ${String(avg(v1Bodies)).padStart(9)} B  ${dec(decodeV1Full).padEnd(18)}  ${mb(v1Decoded, decodeV1Full).padEnd(13)}`);
console.log(`2.0       ${String(avg(v2Bodies)).padStart(9)} B  ${dec(decodeV2).padEnd(18)}  ${mb(v2Decoded, decodeV2).padEnd(13)}  ${String(rate(ingestV2)).padStart(31)}`);
console.log(`snappy alone (1.0 bodies): ${mb(v1Decoded, snappyV1)} MB/s of output; compact 1.0 decoder alone: ${mb(v1Decoded, compactV1)} MB/s`);
console.log(`1.0 into a TSDB (WAL on, series known): main thread ${rate(headInline)} samples/s, with ${DECODE_WORKERS} decode workers and 4 in flight ${rate(headWorkers)} samples/s`);
console.log(
  JSON.stringify({
    v1_body_bytes: avg(v1Bodies),
    v2_body_bytes: avg(v2Bodies),
    v1_decode_samples_per_s: rate(decodeV1.best),
    v2_decode_samples_per_s: rate(decodeV2.best),
    v1_ingest_samples_per_s: rate(ingestV1),
    v2_ingest_samples_per_s: rate(ingestV2),
    v1_full_decode_samples_per_s: rate(decodeV1Full.best),
    decode_mb_per_s_v1: mbPerS(v1Decoded, decodeV1.best),
    decode_mb_per_s_v1_median: mbPerS(v1Decoded, decodeV1.median),
    decode_mb_per_s_v2: mbPerS(v2Decoded, decodeV2.best),
    snappy_mb_per_s: mbPerS(v1Decoded, snappyV1.best),
    compact_decode_mb_per_s_v1: mbPerS(v1Decoded, compactV1.best),
    v1_ingest_tsdb_samples_per_s: rate(headInline),
    v1_ingest_tsdb_workers_samples_per_s: rate(headWorkers),
  }),
);
