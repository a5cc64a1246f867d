// `npm run bench -- otlp [--series N] [--requests N]`: OTLP/HTTP protobuf
// ingest next to remote write 1.0 carrying the same samples.
//
// Each request holds one sample for each of N series (default 2,000) with 8
// labels once translated: 40 resources (job and instance from service.name and
// service.instance.id), 50 cumulative counters each, data points with 5
// attributes. The remote-write bodies are built from the samples the OTLP
// translation yields, so both store exactly the same series and values.
// Reported: decoding alone and the whole handler into memory storage, in
// samples per second, and CPU time per sample (process.cpuUsage, one thread),
// best of a few runs; gzipped protobuf and JSON bodies for comparison.
import { create, fromBinary, toBinary, toJsonString, type MessageInitShape } from '@bufbuild/protobuf';
import { gzipSync } from 'node:zlib';
import type { Labels } from '../src/model/labels.js';
import { MemoryStorage } from '../src/storage/memory.js';
import { RemoteWriteHandler } from '../src/remote/write_handler.js';
import { OtlpReceiver } from '../src/remote/otlp/handler.js';
import { Translator } from '../src/remote/otlp/translate.js';
import { AggregationTemporality, MetricSchema, ResourceMetricsSchema } from '../src/remote/otlp/gen/metrics_pb.js';
import { ExportMetricsServiceRequestSchema } from '../src/remote/otlp/gen/metrics_service_pb.js';
import { DEFAULT_OTLP_CONFIG } from '../src/config/types.js';
import { snappyDecode } from '../src/remote/snappy.js';
import { decodeWriteRequest } from '../src/remote/write_request.js';
import { writeRequestBody, type TestSeries } from '../test/remote_write_proto.js';

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
/**
 * Timed repetitions per case, the cases taking turns; the best of each is
 * reported (the machine is shared: the minimum is the least disturbed run,
 * and taking turns spreads a busy spell over all cases).
 */
const REPEATS = 7;
const T0 = 1_700_000_000_000;
const STEP = 15_000;
const RESOURCES = 40;
const METRICS = 50;

type Init = MessageInitShape<typeof ExportMetricsServiceRequestSchema>;

function str(key: string, value: string) {
  return { key, value: { value: { case: 'stringValue' as const, value } } };
}

/** Request r: every series once, at T0 + r * STEP. */
function otlpRequest(r: number): Init {
  const ns = BigInt(T0 + r * STEP) * 1_000_000n;
  const resources: Array<MessageInitShape<typeof ResourceMetricsSchema>> = [];
  for (let i = 0; i < RESOURCES; i++) {
    const metrics: Array<MessageInitShape<typeof MetricSchema>> = [];
    for (let k = 0; k < METRICS; k++) {
      const points = [];
      for (let s = 0; s < SERIES; s++) {
        if (s % RESOURCES !== i || s % METRICS !== k) continue;
        points.push({
          attributes: [
            str('cpu', String(s % 16)),
            str('mode', ['idle', 'user', 'system', 'iowait'][s % 4]!),
            str('env', 'prod'),
            str('region', 'eu-west-1'),
            // The other labels repeat every 400 series; this makes each series distinct.
            str('device', `sd${Math.floor(s / 400)}${String.fromCharCode(97 + (s % 8))}`),
          ],
          startTimeUnixNano: BigInt(T0) * 1_000_000n,
          timeUnixNano: ns,
          value: { case: 'asDouble' as const, value: s * 1.5 + r },
        });
      }
      if (points.length === 0) continue;
      metrics.push({ name: `node.metric.${k}`, unit: '1', data: { case: 'sum' as const, value: { isMonotonic: true, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: points } } });
    }
    resources.push({
      resource: { attributes: [str('service.name', 'node'), str('service.instance.id', `host-${i}.example.com:9100`)] },
      scopeMetrics: [{ scope: { name: 'node-exporter', version: '1.0' }, metrics }],
    });
  }
  return { resourceMetrics: resources };
}

const otlpBodies: Buffer[] = [];
const rwBodies: Buffer[] = [];
for (let r = 0; r < REQUESTS; r++) {
  const msg = create(ExportMetricsServiceRequestSchema, otlpRequest(r));
  otlpBodies.push(Buffer.from(toBinary(ExportMetricsServiceRequestSchema, msg)));
  // The same samples as remote write 1.0: what the translation makes of the request.
  const series: TestSeries[] = [];
  new Translator(
    {
      wantsExemplars: false,
      sample(ls: Labels, t: number, v: number) {
        series.push({ labels: ls.toObject(), samples: [[t, v]] });
        return true;
      },
    },
    { config: DEFAULT_OTLP_CONFIG, lookbackDeltaMs: 300_000 },
  ).translate(msg);
  if (series.length !== SERIES) throw new Error(`BUG: ${series.length} series translated, want ${SERIES}`);
  rwBodies.push(writeRequestBody(series));
}
const otlpGzip = otlpBodies.map((b) => gzipSync(b, { level: 1 }));
const otlpJson = otlpBodies.map((b) => Buffer.from(toJsonString(ExportMetricsServiceRequestSchema, fromBinary(ExportMetricsServiceRequestSchema, b))));

interface Run {
  wallMs: number;
  cpuMs: number;
}

/** Runs each case REPEATS times, taking turns; the best wall and CPU time of each. */
function best(...fns: Array<() => void>): Run[] {
  const runs = fns.map(() => ({ wallMs: Infinity, cpuMs: Infinity }));
  for (let i = 0; i < REPEATS; i++) {
    fns.forEach((fn, j) => {
      globalThis.gc?.();
      const c = process.cpuUsage();
      const t = performance.now();
      fn();
      const run = runs[j]!;
      run.wallMs = Math.min(run.wallMs, performance.now() - t);
      const d = process.cpuUsage(c);
      run.cpuMs = Math.min(run.cpuMs, (d.user + d.system) / 1000);
    });
  }
  return runs;
}

const MAX = 32 * 1024 * 1024;
const samples = SERIES * REQUESTS;
const rate = (ms: number): number => Math.round(samples / (ms / 1000));
const nsPerSample = (ms: number): number => Math.round((ms * 1e6) / samples);

const [decodeOtlp, decodeRw] = best(
  () => {
    for (const b of otlpBodies) fromBinary(ExportMetricsServiceRequestSchema, b);
  },
  () => {
    for (const b of rwBodies) decodeWriteRequest(snappyDecode(b, MAX));
  },
) as [Run, Run];

const NOW = () => T0 + REQUESTS * STEP;
function otlpIngest(bodies: Buffer[], headers: Record<string, string>): () => void {
  return () => {
    const h = new OtlpReceiver({ storage: new MemoryStorage(), config: () => DEFAULT_OTLP_CONFIG, lookbackDeltaMs: 300_000, now: NOW });
    for (const b of bodies) {
      const res = h.handle(headers, b);
      if (res.status !== 200 || (res.body !== '{}' && (res.body as Buffer).length !== 0)) throw new Error(`bench request failed: ${res.status} ${String(res.body)}`);
    }
  };
}
const [ingestOtlp, ingestOtlpGzip, ingestOtlpJson, ingestRw] = best(
  otlpIngest(otlpBodies, { 'content-type': 'application/x-protobuf' }),
  otlpIngest(otlpGzip, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }),
  otlpIngest(otlpJson, { 'content-type': 'application/json' }),
  () => {
    const h = new RemoteWriteHandler({ storage: new MemoryStorage(), now: NOW });
    for (const b of rwBodies) {
      const res = h.handle({ 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' }, b);
      if (res.status !== 204) throw new Error(`bench request failed: ${res.status} ${res.body}`);
    }
  },
) as [Run, Run, Run, Run];

const avg = (bs: Buffer[]): number => Math.round(bs.reduce((n, b) => n + b.length, 0) / bs.length);
const ratio = Math.round((ingestOtlp.cpuMs / ingestRw.cpuMs) * 100) / 100;
console.log(`OTLP vs remote write 1.0: ${REQUESTS} requests x ${SERIES} series x 1 sample, 8 labels each`);
console.log('');
console.log('path                   body        decode (samples/s)  handler into memory (samples/s)  CPU per sample');
const row = (name: string, body: number, dec: Run | null, ing: Run): string =>
  `${name.padEnd(21)}  ${String(body).padStart(8)} B  ${String(dec === null ? '-' : rate(dec.wallMs)).padStart(18)}  ${String(rate(ing.wallMs)).padStart(31)}  ${String(nsPerSample(ing.cpuMs)).padStart(11)} ns`;
console.log(row('OTLP protobuf', avg(otlpBodies), decodeOtlp, ingestOtlp));
console.log(row('OTLP protobuf + gzip', avg(otlpGzip), null, ingestOtlpGzip));
console.log(row('OTLP JSON', avg(otlpJson), null, ingestOtlpJson));
console.log(row('remote write 1.0', avg(rwBodies), decodeRw, ingestRw));
console.log(`OTLP CPU per sample: ${ratio}x remote write 1.0's (target: at most 1.5x)`);
console.log(
  JSON.stringify({
    otlp_body_bytes: avg(otlpBodies),
    otlp_gzip_body_bytes: avg(otlpGzip),
    remote_write_body_bytes: avg(rwBodies),
    otlp_decode_samples_per_s: rate(decodeOtlp.wallMs),
    remote_write_decode_samples_per_s: rate(decodeRw.wallMs),
    otlp_samples_per_s: rate(ingestOtlp.wallMs),
    otlp_gzip_samples_per_s: rate(ingestOtlpGzip.wallMs),
    otlp_json_samples_per_s: rate(ingestOtlpJson.wallMs),
    remote_write_samples_per_s: rate(ingestRw.wallMs),
    otlp_cpu_ns_per_sample: nsPerSample(ingestOtlp.cpuMs),
    remote_write_cpu_ns_per_sample: nsPerSample(ingestRw.cpuMs),
    otlp_cpu_ratio_vs_remote_write: ratio,
  }),
);
