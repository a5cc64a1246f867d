import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { create, fromBinary, toBinary, toJsonString, type MessageInitShape } from '@bufbuild/protobuf';
import { MemoryStorage } from '../../storage/memory.js';
import { Matcher, MatchType } from '../../model/matcher.js';
import { Labels } from '../../model/labels.js';
import { isStaleNaN } from '../../model/value.js';
import { HeadSeriesLimitError, ValueType, type Appendable } from '../../storage/interface.js';
import { DEFAULT_OTLP_CONFIG } from '../../config/types.js';
import { AggregationTemporality, MetricSchema } from './gen/metrics_pb.js';
import { ExportMetricsServiceRequestSchema, ExportMetricsServiceResponseSchema } from './gen/metrics_service_pb.js';
import { OtlpReceiver } from './handler.js';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

const NOW = 1_700_000_000_000;
const T = BigInt(NOW) * 1_000_000n;
const PB = { 'content-type': 'application/x-protobuf' };
const JSON_CT = { 'content-type': 'application/json' };

type Init = MessageInitShape<typeof ExportMetricsServiceRequestSchema>;
type MetricInit = MessageInitShape<typeof MetricSchema>;

function gauge(name: string, v: number, t = T): MetricInit {
  return { name, data: { case: 'gauge', value: { dataPoints: [{ timeUnixNano: t, value: { case: 'asDouble', value: v } }] } } };
}

function gaugeRequest(name: string, v: number, t = T, more: MetricInit[] = []): Init {
  return {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { value: { case: 'stringValue', value: 'svc' } } }] },
        scopeMetrics: [{ metrics: [gauge(name, v, t), ...more] }],
      },
    ],
  };
}

function pb(init: Init): Buffer {
  return Buffer.from(toBinary(ExportMetricsServiceRequestSchema, create(ExportMetricsServiceRequestSchema, init)));
}

function setup(storage: Appendable & { querier?: unknown } = new MemoryStorage(), maxDecodedBytes?: number) {
  const registry = new Registry();
  const r = new OtlpReceiver({ storage, config: () => DEFAULT_OTLP_CONFIG, lookbackDeltaMs: 300_000, registry, now: () => NOW, maxDecodedBytes });
  return { r, registry };
}

function values(db: MemoryStorage, name: string): Array<[number, number]> {
  const q = db.querier(0, Number.MAX_SAFE_INTEGER);
  const set = q.select(true, null, Matcher.create(MatchType.Equal, '__name__', name));
  const out: Array<[number, number]> = [];
  while (set.next()) {
    const it = set.at().iterator();
    while (it.next() !== ValueType.None) out.push([it.t(), it.v()]);
  }
  q.close();
  return out;
}

test('protobuf in, samples stored, an empty ExportMetricsServiceResponse out', () => {
  const db = new MemoryStorage();
  const { r } = setup(db);
  const res = r.handle(PB, pb(gaugeRequest('temp', 21.5)));
  assert.equal(res.status, 200);
  assert.equal(res.headers['Content-Type'], 'application/x-protobuf');
  assert.equal((res.body as Buffer).length, 0, 'an empty message encodes to no bytes');
  assert.deepEqual(values(db, 'temp'), [[NOW, 21.5]]);
});

test('JSON (lowerCamelCase, int64 as strings, enums as numbers, hex trace ids) and gzip', () => {
  const db = new MemoryStorage();
  const { r } = setup(db);
  const body = JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'hits',
                unit: '1',
                sum: {
                  aggregationTemporality: 2,
                  isMonotonic: true,
                  dataPoints: [
                    {
                      timeUnixNano: String(T),
                      asInt: '3',
                      exemplars: [{ timeUnixNano: String(T), asDouble: 1, traceId: '0102030405060708090a0b0c0d0e0f10', spanId: 'a0a1a2a3a4a5a6a7' }],
                    },
                  ],
                },
                unknownField: true,
              },
            ],
          },
        ],
      },
    ],
  });
  const res = r.handle({ ...JSON_CT, 'content-encoding': 'gzip' }, gzipSync(body));
  assert.equal(res.status, 200, String(res.body));
  assert.equal(res.headers['Content-Type'], 'application/json');
  assert.equal(res.body, '{}');
  assert.deepEqual(values(db, 'hits_total'), [[NOW, 3]]);
});

test('bad input: Prometheus-style errors, nothing stored', () => {
  const db = new MemoryStorage();
  const { r, registry } = setup(db, 1024);
  const cases: Array<[Record<string, string>, Buffer, number, RegExp]> = [
    [{ 'content-type': 'text/plain' }, pb(gaugeRequest('a', 1)), 415, /^unsupported content type: text\/plain, supported: \[application\/json, application\/x-protobuf\]\n$/],
    [{}, pb(gaugeRequest('a', 1)), 415, /unsupported content type: , supported/],
    [{ ...PB, 'content-encoding': 'snappy' }, pb(gaugeRequest('a', 1)), 415, /^unsupported compression: snappy\. Only "gzip" or no compression supported\n$/],
    [PB, Buffer.from([0x0a, 0xff, 0xff, 0xff]), 400, /^proto: cannot parse OTLP metrics request: /],
    [JSON_CT, Buffer.from('{"resourceMetrics": ['), 400, /^cannot parse OTLP metrics request as JSON: /],
    [JSON_CT, Buffer.from('{"resourceMetrics": 5}'), 400, /^cannot parse OTLP metrics request as JSON: /],
    [{ ...PB, 'content-encoding': 'gzip' }, Buffer.from('not gzip'), 400, /^gzip: /],
    [PB, Buffer.alloc(2048), 413, /^decompressed body exceeds the 1024 bytes limit\n$/],
    // A gzip bomb: 64 MiB of zeros in about 64 KiB, stopped at the limit.
    [{ ...PB, 'content-encoding': 'gzip' }, gzipSync(Buffer.alloc(64 * 1024 * 1024)), 413, /^decompressed body exceeds the 1024 bytes limit\n$/],
  ];
  for (const [headers, body, status, text] of cases) {
    const res = r.handle(headers, body);
    assert.equal(res.status, status, `${JSON.stringify(headers)}: ${String(res.body)}`);
    assert.match(String(res.body), text);
    assert.equal(res.headers['Content-Type'], 'text/plain; charset=utf-8');
  }
  assert.equal(db.numSeries(), 0);
  return registry.getSingleMetricAsString('tsprom_otlp_requests_rejected_total').then((m) => assert.match(m, /code="413"\} 2/));
});

test('a malformed metric after good ones: a 400 and nothing stored (metrics are decoded one at a time)', () => {
  const db = new MemoryStorage();
  const { r } = setup(db);
  const good = toBinary(MetricSchema, create(MetricSchema, gauge('good', 1)));
  const frame = (no: number, b: Uint8Array) => new BinaryWriter().tag(no, WireType.LengthDelimited).bytes(b).finish();
  // A Metric whose name says 5 bytes and has 1.
  const bad = Uint8Array.of(0x0a, 0x05, 0x61);
  const scope = Buffer.concat([frame(2, good), frame(2, bad)]);
  const body = Buffer.from(frame(1, frame(2, scope)));
  const res = r.handle(PB, body);
  assert.equal(res.status, 400);
  assert.match(String(res.body), /^proto: cannot parse OTLP metrics request: premature EOF/);
  assert.equal(db.numSeries(), 0);
});

test('a sample the storage rejects rolls the whole request back with a 400', () => {
  const db = new MemoryStorage();
  const { r } = setup(db);
  assert.equal(r.handle(PB, pb(gaugeRequest('x', 1, T + 1_000_000_000n))).status, 200);
  const res = r.handle(PB, pb(gaugeRequest('y', 1, T, [gauge('x', 2)])));
  assert.equal(res.status, 400);
  assert.equal(res.body, 'out of order sample\n');
  assert.deepEqual(values(db, 'y'), [], 'rolled back');
  const future = r.handle(PB, pb(gaugeRequest('z', 1, T + 11n * 60n * 1_000_000_000n)));
  assert.equal(future.status, 400);
  assert.equal(future.body, 'out of bounds: timestamp is too far in the future\n');
});

test('what cannot be stored is reported as a partial success; the rest is committed', async () => {
  const db = new MemoryStorage();
  // The head's series limit refuses one series.
  const limited: Appendable = {
    appender() {
      const app = db.appender();
      return {
        append(ref, ls: Labels, t, v) {
          if (ls.get('__name__') === 'refused') throw new HeadSeriesLimitError(10);
          return app.append(ref, ls, t, v);
        },
        commit: () => app.commit(),
        rollback: () => app.rollback(),
      };
    },
  };
  const { r, registry } = setup(limited);
  const req = gaugeRequest('kept', 1, T, [
    { name: 'delta', data: { case: 'sum', value: { isMonotonic: true, aggregationTemporality: AggregationTemporality.DELTA, dataPoints: [{ timeUnixNano: T }] } } },
    { name: 'expo', data: { case: 'exponentialHistogram', value: { aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [{ timeUnixNano: T }, { timeUnixNano: T }] } } },
    gauge('refused', 1),
  ]);
  const res = r.handle(PB, pb(req));
  assert.equal(res.status, 200);
  const out = fromBinary(ExportMetricsServiceResponseSchema, res.body as Buffer);
  assert.equal(out.partialSuccess?.rejectedDataPoints, 4n);
  assert.equal(
    out.partialSuccess?.errorMessage,
    [
      'invalid temporality and type combination for metric "delta"',
      'native histograms are not supported by this storage: 2 data points of exponential histograms refused for metric "expo"',
      `${new HeadSeriesLimitError(10).message} for series {__name__="refused", job="svc"}`,
    ].join('\n'),
  );
  assert.deepEqual(values(db, 'kept'), [[NOW, 1]]);
  assert.match(await registry.getSingleMetricAsString('tsprom_otlp_rejected_data_points_total'), / 4$/m);
  assert.match(await registry.getSingleMetricAsString('tsprom_otlp_histograms_dropped_total'), / 2$/m);
  const json = r.handle(JSON_CT, Buffer.from(toJsonString(ExportMetricsServiceRequestSchema, create(ExportMetricsServiceRequestSchema, req))));
  assert.equal(json.status, 200);
  assert.match(String(json.body), /^\{"partialSuccess":\{"rejectedDataPoints":"4","errorMessage":"invalid temporality/);
});

test('exponential histograms are stored as native histograms, a point without a recorded value as their stale marker', async () => {
  const db = new MemoryStorage();
  const { r, registry } = setup(db);
  const req = (t: bigint, flags: number): Init => ({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { value: { case: 'stringValue', value: 'svc' } } }] },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'latency',
                unit: 's',
                data: {
                  case: 'exponentialHistogram',
                  value: {
                    aggregationTemporality: AggregationTemporality.CUMULATIVE,
                    dataPoints: [{ timeUnixNano: t, flags, scale: 3, count: 4n, sum: 5, zeroCount: 1n, positive: { offset: 2, bucketCounts: [1n, 2n] } }],
                  },
                },
              },
            ],
          },
        ],
      },
    ],
  });
  const res = r.handle(PB, pb(req(T, 0)));
  assert.equal(res.status, 200);
  assert.equal(fromBinary(ExportMetricsServiceResponseSchema, res.body as Buffer).partialSuccess, undefined);
  assert.equal(r.handle(PB, pb(req(T + 15_000_000_000n, 1))).status, 200);
  const q = db.querier(0, Number.MAX_SAFE_INTEGER);
  const set = q.select(true, null, Matcher.create(MatchType.Equal, '__name__', 'latency_seconds'));
  assert.ok(set.next());
  assert.equal(set.at().labels.toString(), '{__name__="latency_seconds", job="svc"}');
  const it = set.at().iterator();
  assert.equal(it.next(), ValueType.Histogram);
  assert.equal(it.t(), NOW);
  const h = it.atHistogram!();
  assert.equal(h.schema, 3);
  assert.equal(h.count, 4);
  assert.equal(h.zeroCount, 1);
  assert.deepEqual(h.positiveSpans, [{ offset: 3, length: 2 }]);
  assert.equal(it.next(), ValueType.Histogram);
  assert.equal(it.t(), NOW + 15_000);
  assert.ok(isStaleNaN(it.atHistogram!().sum));
  assert.equal(it.next(), ValueType.None);
  q.close();
  assert.match(await registry.getSingleMetricAsString('tsprom_otlp_received_samples_total'), / 2$/m);
  assert.match(await registry.getSingleMetricAsString('tsprom_otlp_histograms_dropped_total'), / 0$/m);
});
