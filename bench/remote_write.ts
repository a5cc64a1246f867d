// `npm run bench -- remote_write [--series N] [--requests N]`: how fast the
// remote-write receiver takes requests, 1.0 against 2.0.
//
// Each request holds one sample for each of N series (default 2,000, a
// sender's default batch) with 8 labels, as Prometheus batches a scrape's
// worth of samples. Reported per protocol: decoding alone (snappy + protobuf)
// and the whole handler into memory storage (decode, label checks, append,
// commit), in samples per second of wall time, best of a few runs.
import { Labels } from '../src/model/labels.js';
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
/** Timed repetitions per case; the best is reported (the machine is shared, the minimum is the least disturbed). */
const REPEATS = 3;
const T0 = 1_700_000_000_000;
const STEP = 15_000;

function labelsFor(s: number): Record<string, string> {
  const l = Labels.fromPairs(
    '__name__', `node_metric_${s % 50}_total`,
    'instance', `host-${s % 40}.example.com:9100`,
    'job', 'node',
    'cpu', String(s % 16),
    'mode', ['idle', 'user', 'system', 'iowait'][s % 4]!,
    'env', 'prod',
    'region', 'eu-west-1',
    'device', `sd${String.fromCharCode(97 + (s % 8))}`,
  );
  return l.toObject();
}

function batch(r: number): TestSeries[] {
  const out: TestSeries[] = [];
  for (let s = 0; s < SERIES; s++) out.push({ labels: labelsFor(s), samples: [[T0 + r * STEP, s * 1.5 + r]] });
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

const MAX = 32 * 1024 * 1024;
const samples = SERIES * REQUESTS;
const rate = (ms: number): number => Math.round(samples / (ms / 1000));

const decodeV1 = best(() => {
  for (const b of v1Bodies) decodeWriteRequest(snappyDecode(b, MAX));
});
const decodeV2 = best(() => {
  for (const b of v2Bodies) decodeWriteV2Request(snappyDecode(b, MAX));
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
const ingestV1 = ingest(v1Bodies, { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' });
const ingestV2 = ingest(v2Bodies, { 'content-type': V2_CONTENT_TYPE, 'content-encoding': 'snappy' });

const avg = (bs: Buffer[]): number => Math.round(bs.reduce((n, b) => n + b.length, 0) / bs.length);
console.log(`remote write: ${REQUESTS} requests x ${SERIES} series x 1 sample, 8 labels each`);
console.log('');
console.log('protocol  body (snappy)  decode (samples/s)  handler into memory (samples/s)');
console.log(`1.0       ${String(avg(v1Bodies)).padStart(9)} B  ${String(rate(decodeV1)).padStart(18)}  ${String(rate(ingestV1)).padStart(31)}`);
console.log(`2.0       ${String(avg(v2Bodies)).padStart(9)} B  ${String(rate(decodeV2)).padStart(18)}  ${String(rate(ingestV2)).padStart(31)}`);
console.log(
  JSON.stringify({
    v1_body_bytes: avg(v1Bodies),
    v2_body_bytes: avg(v2Bodies),
    v1_decode_samples_per_s: rate(decodeV1),
    v2_decode_samples_per_s: rate(decodeV2),
    v1_ingest_samples_per_s: rate(ingestV1),
    v2_ingest_samples_per_s: rate(ingestV2),
  }),
);
