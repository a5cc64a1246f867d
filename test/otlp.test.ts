// The OpenTelemetry JS SDK pushes metrics into a real tsprom process over
// OTLP/HTTP, as protobuf and as JSON (gzip too); queries find them under the
// names Prometheus 3.x gives them. Then hostile bodies: each gets its status
// and a clear error, nothing is stored, and the server's memory stays bounded.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createGzip } from 'node:zlib';
import type { Meter } from '@opentelemetry/api';
import { AggregationType, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter, type ViewOptions } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
// The exporters' own option type (a dependency of theirs; the SDK's docs import it from here).
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { startTsprom, api, type Tsprom } from './api_process.js';

const PATH = '/api/v1/otlp/v1/metrics';

type Vector = Array<{ metric: Record<string, string>; value: [number, string] }>;

async function instant(base: string, query: string): Promise<Vector> {
  const { body } = await api(`${base}/api/v1/query?${new URLSearchParams({ query })}`);
  if (body['status'] !== 'success') throw new Error(JSON.stringify(body));
  return (body['data'] as { result: Vector }).result;
}

/** Polls a query until it returns something (the SDK's export and the commit are asynchronous to the test). */
async function eventually(base: string, query: string): Promise<Vector> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await instant(base, query);
    if (r.length > 0 || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** A provider exporting through `exporter`; the test flushes it instead of waiting for the interval. */
function provider(exporter: PushMetricExporter, service: string, views: ViewOptions[] = []): { mp: MeterProvider; meter: Meter } {
  const mp = new MeterProvider({
    views,
    resource: resourceFromAttributes({ 'service.name': service, 'service.namespace': 'shop', 'service.instance.id': `${service}-1`, 'host.name': 'box' }),
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })],
  });
  return { mp, meter: mp.getMeter('otlp-test', '1.0.0') };
}

function record(meter: Meter): void {
  const requests = meter.createCounter('http.server.requests', { unit: '{request}' });
  requests.add(3, { 'http.method': 'GET' });
  requests.add(2, { 'http.method': 'POST' });
  meter.createUpDownCounter('queue.depth').add(-4);
  meter.createGauge('system.memory.usage', { unit: 'By' }).record(1024, { state: 'used' });
  const duration = meter.createHistogram('http.server.duration', { unit: 'ms' });
  for (const v of [3, 7, 30, 600]) duration.record(v, { 'http.route': '/api' });
}

describe('OTLP receiver with the OpenTelemetry JS SDK', () => {
  let ts: Tsprom;

  before(async () => {
    ts = await startTsprom({ args: ['--web.enable-otlp-receiver'] });
  });

  after(async () => {
    await ts?.stop();
  });

  test('protobuf: counters, up-down counters, gauges, histograms, target_info', async () => {
    const { mp, meter } = provider(new ProtoExporter({ url: `${ts.base}${PATH}` }), 'proto');
    record(meter);
    await mp.forceFlush();
    await mp.shutdown();
    const job = 'shop/proto';
    const counter = await eventually(ts.base, `http_server_requests_total{job="${job}"}`);
    assert.deepEqual(
      counter.map((s) => [s.metric['http_method'], s.metric['instance'], s.value[1]]).sort(),
      [
        ['GET', 'proto-1', '3'],
        ['POST', 'proto-1', '2'],
      ],
    );
    assert.equal((await instant(ts.base, `queue_depth{job="${job}"}`))[0]?.value[1], '-4');
    assert.equal((await instant(ts.base, `system_memory_usage_bytes{job="${job}",state="used"}`))[0]?.value[1], '1024');
    const buckets = await instant(ts.base, `http_server_duration_milliseconds_bucket{job="${job}",http_route="/api"}`);
    const byLe = Object.fromEntries(buckets.map((s) => [s.metric['le'], s.value[1]]));
    assert.equal(byLe['5'], '1');
    assert.equal(byLe['10'], '2');
    assert.equal(byLe['50'], '3');
    assert.equal(byLe['750'], '4');
    assert.equal(byLe['+Inf'], '4');
    assert.equal((await instant(ts.base, `http_server_duration_milliseconds_count{job="${job}"}`))[0]?.value[1], '4');
    assert.equal((await instant(ts.base, `http_server_duration_milliseconds_sum{job="${job}"}`))[0]?.value[1], '640');
    const q = await instant(ts.base, `histogram_quantile(0.5, http_server_duration_milliseconds_bucket{job="${job}"})`);
    assert.equal(q.length, 1);
    const info = await instant(ts.base, `target_info{job="${job}"}`);
    assert.equal(info.length, 1);
    assert.equal(info[0]!.metric['host_name'], 'box');
    assert.equal(info[0]!.metric['instance'], 'proto-1');
    assert.equal(info[0]!.metric['service_name'], undefined, 'identifying attributes are left off target_info');
  });

  test('JSON with gzip', async () => {
    const { mp, meter } = provider(new JsonExporter({ url: `${ts.base}${PATH}`, compression: CompressionAlgorithm.GZIP }), 'json');
    record(meter);
    await mp.forceFlush();
    await mp.shutdown();
    const counter = await eventually(ts.base, 'sum(http_server_requests_total{job="shop/json"})');
    assert.equal(counter[0]?.value[1], '5');
    assert.equal((await instant(ts.base, 'http_server_duration_milliseconds_bucket{job="shop/json",le="+Inf"}'))[0]?.value[1], '4');
    assert.equal((await instant(ts.base, 'target_info{job="shop/json"}')).length, 1);
  });

  test('hostile bodies: clear errors, nothing stored, bounded memory', async () => {
    const post = async (headers: Record<string, string>, body: Uint8Array | string) => {
      const res = await fetch(`${ts.base}${PATH}`, { method: 'POST', headers, body });
      return { status: res.status, text: await res.text() };
    };
    const seriesCount = async () => (await instant(ts.base, 'count({__name__=~".+"})'))[0]?.value[1];
    const before = await seriesCount();
    const rss = async () => Number(/^process_resident_memory_bytes (\S+)$/m.exec(await (await fetch(`${ts.base}/metrics`)).text())?.[1]);

    let r = await post({ 'content-type': 'application/x-protobuf' }, Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0x0f));
    assert.equal(r.status, 400);
    assert.match(r.text, /^proto: cannot parse OTLP metrics request: /);

    r = await post({ 'content-type': 'application/json' }, '{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": 5');
    assert.equal(r.status, 400);
    assert.match(r.text, /^cannot parse OTLP metrics request as JSON: /);

    r = await post({ 'content-type': 'application/json' }, '{"resourceMetrics": [{"scopeMetrics": "no"}]}');
    assert.equal(r.status, 400);

    r = await post({ 'content-type': 'text/plain' }, 'hello');
    assert.equal(r.status, 415);
    assert.equal(r.text, 'unsupported content type: text/plain, supported: [application/json, application/x-protobuf]\n');

    // Past the 32 MiB body limit.
    r = await post({ 'content-type': 'application/x-protobuf' }, new Uint8Array(33 * 1024 * 1024));
    assert.equal(r.status, 413);

    // A gzip bomb: 512 MiB of zeros in about half a megabyte; inflating stops at 32 MiB.
    const bomb = await gzipZeros(512);
    assert.ok(bomb.length < 1024 * 1024);
    const rssBefore = await rss();
    r = await post({ 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }, bomb);
    assert.equal(r.status, 413);
    assert.equal(r.text, `decompressed body exceeds the ${32 * 1024 * 1024} bytes limit\n`);
    const grown = (await rss()) - rssBefore;
    assert.ok(grown < 200 * 1024 * 1024, `RSS grew by ${grown} bytes inflating a bomb`);

    assert.equal(await seriesCount(), before, 'nothing stored');
    const own = await (await fetch(`${ts.base}/metrics`)).text();
    const rejected = [...own.matchAll(/^tsprom_otlp_requests_rejected_total\{code="(\d+)"\} (\S+)$/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(Object.fromEntries(rejected), { '400': '3', '413': '1', '415': '1' });
  });
});

interface HistogramJSON {
  count: string;
  sum: string;
  buckets?: Array<[number, string, string, string]>;
}

/** The native histogram samples of an instant query's vector (Prometheus's `histogram` field). */
async function histograms(base: string, query: string): Promise<Array<{ metric: Record<string, string>; h: HistogramJSON }>> {
  const { body } = await api(`${base}/api/v1/query?${new URLSearchParams({ query })}`);
  if (body['status'] !== 'success') throw new Error(JSON.stringify(body));
  const result = (body['data'] as { result: Array<{ metric: Record<string, string>; histogram?: [number, HistogramJSON] }> }).result;
  return result.map((s) => {
    assert.ok(s.histogram !== undefined, `a native histogram for ${query}: ${JSON.stringify(s)}`);
    return { metric: s.metric, h: s.histogram[1] };
  });
}

describe('OTLP histograms as native histograms', () => {
  let ts: Tsprom;

  before(async () => {
    ts = await startTsprom({ args: ['--web.enable-otlp-receiver'], config: 'global:\n  scrape_interval: 15s\notlp:\n  convert_histograms_to_nhcb: true\n' });
  });

  after(async () => {
    await ts?.stop();
  });

  test('exponential histograms (SDK view) and explicit-bucket ones (convert_histograms_to_nhcb), queried by PromQL', async () => {
    const views: ViewOptions[] = [
      { instrumentName: 'rpc.latency', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } },
      { instrumentName: 'job.runtime', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } },
    ];
    const { mp, meter } = provider(new ProtoExporter({ url: `${ts.base}${PATH}` }), 'native', views);
    const latency = meter.createHistogram('rpc.latency', { unit: 's' });
    for (const v of [0.003, 0.007, 0.03, 0.6]) latency.record(v, { method: 'get' });
    // One value: the SDK keeps its finest scale (20), merged down to schema 8.
    meter.createHistogram('job.runtime', { unit: 's' }).record(1.5);
    const size = meter.createHistogram('payload.size', { unit: 'By', advice: { explicitBucketBoundaries: [100, 1000, 10000] } });
    for (const v of [50, 500, 600, 20000]) size.record(v);
    await mp.forceFlush();
    await mp.shutdown();
    const job = 'shop/native';

    await eventually(ts.base, `histogram_count(rpc_latency_seconds{job="${job}"})`);
    const [lat] = await histograms(ts.base, `rpc_latency_seconds{job="${job}"}`);
    assert.deepEqual(lat?.metric, { __name__: 'rpc_latency_seconds', job, instance: 'native-1', method: 'get' });
    assert.equal(lat.h.count, '4');
    assert.equal(Number(lat.h.sum).toFixed(3), '0.640');
    // Each observation lies in one bucket of the exponential layout.
    const buckets = lat.h.buckets ?? [];
    assert.equal(buckets.reduce((n, b) => n + Number(b[3]), 0), 4);
    for (const v of [0.003, 0.007, 0.03, 0.6]) assert.ok(buckets.some((b) => Number(b[1]) < v && v <= Number(b[2])), `a bucket holds ${v}`);
    assert.equal((await instant(ts.base, `histogram_count(rpc_latency_seconds{job="${job}"})`))[0]?.value[1], '4');
    assert.equal(Number((await instant(ts.base, `histogram_sum(rpc_latency_seconds{job="${job}"})`))[0]?.value[1]).toFixed(3), '0.640');
    const median = Number((await instant(ts.base, `histogram_quantile(0.5, rpc_latency_seconds{job="${job}"})`))[0]?.value[1]);
    assert.ok(median > 0.006 && median < 0.031, `median ${median}`);
    assert.equal((await instant(ts.base, `count({__name__=~"rpc_latency_seconds.+", job="${job}"})`)).length, 0, 'no classic series');

    const [runtime] = await histograms(ts.base, `job_runtime_seconds{job="${job}"}`);
    const only = runtime?.h.buckets ?? [];
    assert.equal(only.length, 1);
    // A schema-8 bucket: its upper bound is 2^(1/256) times its lower one.
    assert.ok(Number(only[0]![1]) < 1.5 && 1.5 <= Number(only[0]![2]));
    assert.equal((Number(only[0]![2]) / Number(only[0]![1])).toFixed(6), (2 ** (1 / 256)).toFixed(6));

    const [payload] = await histograms(ts.base, `payload_size_bytes{job="${job}"}`);
    assert.equal(payload?.h.count, '4');
    // Custom bounds as Prometheus writes them (the boundary rule code aside); the empty (1000, 10000] left out.
    assert.deepEqual(
      payload.h.buckets?.map((x) => x.slice(1)),
      [
        ['-Inf', '100', '1'],
        ['100', '1000', '2'],
        ['10000', '+Inf', '1'],
      ],
    );
    assert.equal((await instant(ts.base, `histogram_count(payload_size_bytes{job="${job}"})`))[0]?.value[1], '4');
    assert.equal((await instant(ts.base, `count(payload_size_bytes_bucket{job="${job}"})`)).length, 0, 'no classic buckets');
  });
});

describe('OTLP exemplars into the exemplar storage', () => {
  test('sum and histogram-bucket exemplars, ids in hex, are queryable', async () => {
    const ts = await startTsprom({ args: ['--web.enable-otlp-receiver', '--enable-feature=exemplar-storage'] });
    try {
      const nowNs = String(BigInt(Date.now()) * 1_000_000n);
      const ex = (v: number, trace: string) => ({ timeUnixNano: nowNs, asDouble: v, traceId: trace, spanId: 'a0a1a2a3a4a5a6a7' });
      const body = {
        resourceMetrics: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'ex' } }] },
            scopeMetrics: [
              {
                metrics: [
                  { name: 'jobs', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ timeUnixNano: nowNs, asInt: '4', exemplars: [ex(1, '0102030405060708090a0b0c0d0e0f10')] }] } },
                  {
                    name: 'latency',
                    unit: 's',
                    histogram: {
                      aggregationTemporality: 2,
                      dataPoints: [{ timeUnixNano: nowNs, count: '2', sum: 3.5, bucketCounts: ['1', '1'], explicitBounds: [1], exemplars: [ex(0.5, '11'.repeat(16)), ex(3, '22'.repeat(16))] }],
                    },
                  },
                  {
                    name: 'rpc',
                    unit: 's',
                    exponentialHistogram: {
                      aggregationTemporality: 2,
                      dataPoints: [{ timeUnixNano: nowNs, count: '2', sum: 3.5, scale: 0, positive: { offset: -1, bucketCounts: ['1', '0', '1'] }, exemplars: [ex(0.5, '33'.repeat(16)), ex(3, '44'.repeat(16))] }],
                    },
                  },
                ],
              },
            ],
          },
        ],
      };
      const res = await fetch(`${ts.base}${PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(res.status, 200, await res.clone().text());
      const q = async (query: string) => {
        const r = await api(`${ts.base}/api/v1/query_exemplars?${new URLSearchParams({ query, start: '0', end: String(Date.now() / 1000 + 60) })}`);
        return (r.body['data'] as Array<{ seriesLabels: Record<string, string>; exemplars: Array<{ labels: Record<string, string>; value: string }> }>).map((d) => [
          d.seriesLabels['le'] ?? d.seriesLabels['__name__'],
          d.exemplars.map((e) => [e.labels['trace_id'], e.labels['span_id'], e.value]),
        ]);
      };
      assert.deepEqual(await q('jobs_total'), [['jobs_total', [['0102030405060708090a0b0c0d0e0f10', 'a0a1a2a3a4a5a6a7', '1']]]]);
      assert.deepEqual(await q('latency_seconds_bucket'), [
        ['+Inf', [['22'.repeat(16), 'a0a1a2a3a4a5a6a7', '3']]],
        ['1', [['11'.repeat(16), 'a0a1a2a3a4a5a6a7', '0.5']]],
      ]);
      // A native histogram's exemplars all go with its one series.
      assert.deepEqual(await q('rpc_seconds'), [
        [
          'rpc_seconds',
          [
            ['33'.repeat(16), 'a0a1a2a3a4a5a6a7', '0.5'],
            ['44'.repeat(16), 'a0a1a2a3a4a5a6a7', '3'],
          ],
        ],
      ]);
    } finally {
      await ts.stop();
    }
  });
});

describe('OTLP receiver switched off', () => {
  test("404 with Prometheus's text", async () => {
    const ts = await startTsprom();
    try {
      const res = await fetch(`${ts.base}${PATH}`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array() });
      assert.equal(res.status, 404);
      assert.equal(await res.text(), 'otlp write receiver needs to be enabled with --web.enable-otlp-receiver\n');
    } finally {
      await ts.stop();
    }
  });
});

/** `mib` MiB of zeros, gzipped as a stream (never held uncompressed). */
async function gzipZeros(mib: number): Promise<Buffer> {
  const gz = createGzip({ level: 9 });
  const chunks: Buffer[] = [];
  gz.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((res) => gz.on('end', res));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < mib; i++) {
    if (!gz.write(zeros)) await new Promise((res) => gz.once('drain', res));
  }
  gz.end();
  await done;
  return Buffer.concat(chunks);
}
