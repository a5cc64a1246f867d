import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import type { Labels } from '../../model/labels.js';
import type { Histogram } from '../../model/histogram.js';
import { isStaleNaN } from '../../model/value.js';
import type { Exemplar } from '../../storage/interface.js';
import { DEFAULT_OTLP_CONFIG, type OTLPConfig } from '../../config/types.js';
import { AggregationTemporality } from './gen/metrics_pb.js';
import { ExportMetricsServiceRequestSchema } from './gen/metrics_service_pb.js';
import type { KeyValue } from './gen/common_pb.js';
import { Translator, anyValueString, type SampleSink, type TranslationReport } from './translate.js';

type RequestInit = MessageInitShape<typeof ExportMetricsServiceRequestSchema>;
type MetricInit = NonNullable<NonNullable<NonNullable<RequestInit['resourceMetrics']>[number]['scopeMetrics']>[number]['metrics']>[number];

interface Got {
  labels: string;
  t: number;
  v: number;
  exemplars: readonly Exemplar[] | null;
}

class Collect implements SampleSink {
  readonly got: Got[] = [];
  constructor(
    readonly wantsExemplars = false,
    private readonly refuse: (ls: Labels) => boolean = () => false,
  ) {}
  sample(ls: Labels, t: number, v: number, exemplars: readonly Exemplar[] | null): boolean {
    if (this.refuse(ls)) return false;
    this.got.push({ labels: ls.toString(), t, v, exemplars });
    return true;
  }
}

const T = 1_700_000_000_123n * 1_000_000n + 456_789n;
const MS = 1_700_000_000_123;

function attrs(o: Record<string, string>): Array<MessageInitShape<typeof import('./gen/common_pb.js').KeyValueSchema>> {
  return Object.entries(o).map(([key, v]) => ({ key, value: { value: { case: 'stringValue' as const, value: v } } }));
}

function request(metrics: MetricInit[], resource: Record<string, string> = { 'service.name': 'api', 'service.instance.id': 'i1' }): RequestInit {
  return { resourceMetrics: [{ resource: { attributes: attrs(resource) }, scopeMetrics: [{ scope: { name: 'lib', version: '1.2' }, metrics }] }] };
}

function run<S extends Collect = Collect>(init: RequestInit, config: Partial<OTLPConfig> = {}, sink: S = new Collect() as S): { sink: S; report: TranslationReport } {
  const report = new Translator(sink, { config: { ...DEFAULT_OTLP_CONFIG, ...config }, lookbackDeltaMs: 300_000 }).translate(create(ExportMetricsServiceRequestSchema, init));
  return { sink, report };
}

function gauge(name: string, unit: string, v: number, a: Record<string, string> = {}, flags = 0): MetricInit {
  return { name, unit, data: { case: 'gauge', value: { dataPoints: [{ attributes: attrs(a), timeUnixNano: T, value: { case: 'asDouble', value: v }, flags }] } } };
}

test('gauges and sums: names, job and instance, values, stale markers', () => {
  const { sink, report } = run(
    request([
      gauge('system.memory.usage', 'By', 42, { state: 'used' }),
      { name: 'http.requests', unit: '{request}', data: { case: 'sum', value: { isMonotonic: true, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [{ timeUnixNano: T, value: { case: 'asInt', value: 7n } }] } } },
      { name: 'queue.size', data: { case: 'sum', value: { isMonotonic: false, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [{ timeUnixNano: T, value: { case: 'asInt', value: -3n } }] } } },
      gauge('gone', '', 1, {}, 1),
    ]),
  );
  assert.equal(report.rejectedPoints, 0);
  const byName = new Map(sink.got.map((g) => [g.labels, g]));
  assert.equal(byName.get('{__name__="system_memory_usage_bytes", instance="i1", job="api", state="used"}')?.v, 42);
  assert.equal(byName.get('{__name__="http_requests_total", instance="i1", job="api"}')?.v, 7);
  assert.equal(byName.get('{__name__="queue_size", instance="i1", job="api"}')?.v, -3);
  const gone = byName.get('{__name__="gone", instance="i1", job="api"}');
  assert.ok(gone !== undefined && isStaleNaN(gone.v), 'no recorded value is a stale marker');
  assert.ok(sink.got.every((g) => g.t === MS || g.labels.startsWith('{__name__="target_info"')), 'ns truncated to ms');
  // Only identifying attributes: no target_info.
  assert.ok(!sink.got.some((g) => g.labels.includes('target_info')));
});

test('histograms: cumulative _bucket with le, _sum, _count; summaries with quantile', () => {
  const { sink } = run(
    request([
      {
        name: 'http.server.duration',
        unit: 'ms',
        data: {
          case: 'histogram',
          value: {
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPoints: [{ attributes: attrs({ 'http.method': 'GET' }), timeUnixNano: T, count: 6n, sum: 123.5, bucketCounts: [1n, 2n, 3n], explicitBounds: [10, 100.5] }],
          },
        },
      },
      { name: 'rpc.latency', unit: 's', data: { case: 'summary', value: { dataPoints: [{ timeUnixNano: T, count: 4n, sum: 2, quantileValues: [{ quantile: 0.5, value: 0.3 }, { quantile: 0.99, value: 1.5 }] }] } } },
    ]),
  );
  const got = Object.fromEntries(sink.got.map((g) => [g.labels, g.v]));
  const base = 'http_method="GET", instance="i1", job="api"';
  assert.deepEqual(got, {
    [`{__name__="http_server_duration_milliseconds_sum", ${base}}`]: 123.5,
    [`{__name__="http_server_duration_milliseconds_count", ${base}}`]: 6,
    [`{__name__="http_server_duration_milliseconds_bucket", ${base}, le="10"}`]: 1,
    [`{__name__="http_server_duration_milliseconds_bucket", ${base}, le="100.5"}`]: 3,
    [`{__name__="http_server_duration_milliseconds_bucket", ${base}, le="+Inf"}`]: 6,
    '{__name__="rpc_latency_seconds_sum", instance="i1", job="api"}': 2,
    '{__name__="rpc_latency_seconds_count", instance="i1", job="api"}': 4,
    '{__name__="rpc_latency_seconds", instance="i1", job="api", quantile="0.5"}': 0.3,
    '{__name__="rpc_latency_seconds", instance="i1", job="api", quantile="0.99"}': 1.5,
  });
});

test('series labels: le replaces an attribute of that name, names sort in Go order', () => {
  const { sink } = run(
    request([
      {
        name: 'h',
        data: {
          case: 'histogram',
          value: { aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [{ attributes: attrs({ A: 'x', zone: 'z', le: 'mine', quantile: 'q' }), timeUnixNano: T, count: 1n, bucketCounts: [1n], explicitBounds: [] }] },
        },
      },
    ]),
  );
  assert.deepEqual(
    sink.got.map((g) => g.labels),
    [
      '{A="x", __name__="h_count", instance="i1", job="api", le="mine", quantile="q", zone="z"}',
      '{A="x", __name__="h_bucket", instance="i1", job="api", le="+Inf", quantile="q", zone="z"}',
    ],
  );
});

test('target_info: non-identifying resource attributes, every half lookback delta', () => {
  const later = T + 400n * 1_000_000_000n;
  const { sink } = run(
    request(
      [
        gauge('a', '', 1),
        { name: 'b', data: { case: 'gauge', value: { dataPoints: [{ timeUnixNano: later, value: { case: 'asDouble', value: 2 } }] } } },
      ],
      { 'service.name': 'api', 'service.namespace': 'shop', 'service.instance.id': 'i1', 'host.name': 'h', 'k8s.pod.name': 'p' },
    ),
  );
  const info = sink.got.filter((g) => g.labels.startsWith('{__name__="target_info"'));
  assert.deepEqual(
    info.map((g) => [g.labels, g.t, g.v]),
    [
      ['{__name__="target_info", host_name="h", instance="i1", job="shop/api", k8s_pod_name="p"}', MS, 1],
      ['{__name__="target_info", host_name="h", instance="i1", job="shop/api", k8s_pod_name="p"}', MS + 150_000, 1],
      ['{__name__="target_info", host_name="h", instance="i1", job="shop/api", k8s_pod_name="p"}', MS + 300_000, 1],
      ['{__name__="target_info", host_name="h", instance="i1", job="shop/api", k8s_pod_name="p"}', MS + 400_000, 1],
    ],
  );
  const kept = run(request([gauge('a', '', 1)], { 'service.name': 'api', 'host.name': 'h' }), { keepIdentifyingResourceAttributes: true }).sink;
  assert.ok(kept.got.some((g) => g.labels === '{__name__="target_info", host_name="h", job="api", service_name="api"}'));
  const anonymous = run(request([gauge('a', '', 1)], { 'host.name': 'h' })).sink;
  assert.ok(!anonymous.got.some((g) => g.labels.includes('target_info')), 'without job or instance there is no target_info');
});

test('promoted resource attributes and scope metadata', () => {
  const res = { 'service.name': 'api', 'k8s.namespace.name': 'prod', 'cloud.region': 'eu' };
  const one = run(request([gauge('a', '', 1, { 'cloud.region': 'mine' })], res), { promoteResourceAttributes: ['k8s.namespace.name', 'cloud.region'] }).sink;
  assert.equal(one.got[0]!.labels, '{__name__="a", cloud_region="mine", job="api", k8s_namespace_name="prod"}', 'data point attributes win');
  const all = run(request([gauge('a', '', 1)], res), { promoteAllResourceAttributes: true, ignoreResourceAttributes: ['cloud.region'] }).sink;
  assert.equal(all.got[0]!.labels, '{__name__="a", job="api", k8s_namespace_name="prod", service_name="api"}');
  const scoped = run(request([gauge('a', '', 1)]), { promoteScopeMetadata: true }).sink;
  assert.equal(scoped.got[0]!.labels, '{__name__="a", instance="i1", job="api", otel_scope_name="lib", otel_scope_version="1.2"}');
});

test('attribute names that collide after escaping join their values', () => {
  const { sink, report } = run(request([gauge('a', '', 1, { 'a.b': 'x', a_b: 'y' })]));
  assert.equal(sink.got[0]!.labels, '{__name__="a", a_b="x;y", instance="i1", job="api"}');
  assert.equal(report.warnings.get('label_name_collision'), 1);
  const utf8 = run(request([gauge('a.b', 's', 1, { 'a.b': 'x' })]), { translationStrategy: 'NoUTF8EscapingWithSuffixes' }).sink;
  assert.equal(utf8.got[0]!.labels, '{__name__="a.b_seconds", "a.b"="x", instance="i1", job="api"}');
});

test('what cannot be stored is refused and counted, the rest goes through', () => {
  const delta: MetricInit = { name: 'd', data: { case: 'sum', value: { isMonotonic: true, aggregationTemporality: AggregationTemporality.DELTA, dataPoints: [{ timeUnixNano: T }, { timeUnixNano: T }] } } };
  const expo: MetricInit = { name: 'e', data: { case: 'exponentialHistogram', value: { aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [{ timeUnixNano: T }] } } };
  const badName: MetricInit = gauge('...', '', 1);
  const badAttr: MetricInit = gauge('ok2', '', 1, { '...': 'v' });
  const empty: MetricInit = { name: 'empty', data: { case: 'gauge', value: { dataPoints: [] } } };
  const { sink, report } = run(request([delta, expo, badName, badAttr, empty, gauge('ok', '', 5)]));
  assert.deepEqual(
    sink.got.map((g) => g.labels),
    ['{__name__="ok", instance="i1", job="api"}'],
  );
  assert.equal(report.rejectedPoints, 5);
  assert.equal(report.histogramPoints, 1);
  assert.deepEqual(report.problems, [
    'invalid temporality and type combination for metric "d"',
    'native histograms are not supported by this storage: 1 data points of exponential histograms refused for metric "e"',
    'normalization for metric "..." resulted in empty name',
    'normalization for label name "..." resulted in invalid name "_"',
  ]);
  assert.equal(report.warnings.get('empty_data_points'), 1);
  const nhcb = run(request([{ name: 'h', data: { case: 'histogram', value: { aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [{ timeUnixNano: T, count: 1n }] } } }]), { convertHistogramsToNHCB: true });
  assert.equal(nhcb.report.histogramPoints, 1);
  assert.match(nhcb.report.problems[0]!, /otlp\.convert_histograms_to_nhcb/);
  // A series the sink refuses counts its data point once.
  const refused = run(request([gauge('a', '', 1), gauge('b', '', 1)]), {}, new Collect(false, (ls) => ls.get('__name__') === 'a'));
  assert.equal(refused.report.rejectedPoints, 1);
});

test('exemplars: trace and span ids in hex, each in the first bucket that holds it', () => {
  const traceId = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
  const spanId = Uint8Array.from({ length: 8 }, (_, i) => 0xa0 + i);
  const ex = (v: number) => ({ timeUnixNano: T, value: { case: 'asDouble' as const, value: v }, traceId, spanId, filteredAttributes: attrs({ user: 'u1' }) });
  const { sink } = run(
    request([
      {
        name: 'lat',
        data: {
          case: 'histogram',
          value: {
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPoints: [{ timeUnixNano: T, count: 3n, bucketCounts: [1n, 1n, 1n], explicitBounds: [1, 2], exemplars: [ex(0.5), ex(5)] }],
          },
        },
      },
    ]),
    {},
    new Collect(true),
  );
  const byLe = new Map(sink.got.filter((g) => g.labels.includes('le=')).map((g) => [/le="([^"]*)"/.exec(g.labels)![1], g.exemplars]));
  const first = byLe.get('1');
  assert.equal(first?.length, 1);
  assert.deepEqual(first![0]!.labels.toObject(), { span_id: 'a0a1a2a3a4a5a6a7', trace_id: '0102030405060708090a0b0c0d0e0f10', user: 'u1' });
  assert.equal(first![0]!.ts, MS);
  assert.equal(byLe.get('2'), null);
  assert.equal(byLe.get('+Inf')?.[0]?.value, 5);
});

test('attribute values as Go writes them', () => {
  const kv = (value: MessageInitShape<typeof import('./gen/common_pb.js').AnyValueSchema>['value']): KeyValue['value'] =>
    create(ExportMetricsServiceRequestSchema, {
      resourceMetrics: [{ resource: { attributes: [{ key: 'k', value: { value } }] } }],
    }).resourceMetrics[0]!.resource!.attributes[0]!.value;
  assert.equal(anyValueString(kv({ case: 'boolValue', value: true })), 'true');
  assert.equal(anyValueString(kv({ case: 'intValue', value: -12n })), '-12');
  assert.equal(anyValueString(kv({ case: 'doubleValue', value: 1.5 })), '1.5');
  assert.equal(anyValueString(kv({ case: 'doubleValue', value: 1e21 })), '1e+21');
  assert.equal(anyValueString(kv({ case: 'doubleValue', value: 1e-7 })), '1e-7');
  assert.equal(anyValueString(kv({ case: 'doubleValue', value: Infinity })), 'json: unsupported value: +Inf');
  assert.equal(anyValueString(kv({ case: 'bytesValue', value: Uint8Array.of(1, 2, 3) })), 'AQID');
  assert.equal(
    anyValueString(kv({ case: 'arrayValue', value: { values: [{ value: { case: 'stringValue', value: '<a>' } }, { value: { case: 'intValue', value: 3n } }] } })),
    '["\\u003ca\\u003e",3]',
  );
  assert.equal(
    anyValueString(kv({ case: 'kvlistValue', value: { values: [{ key: 'z', value: { value: { case: 'boolValue', value: false } } }, { key: 'a' }] } })),
    '{"a":null,"z":false}',
  );
  assert.equal(anyValueString(undefined), '');
});

class CollectHistograms extends Collect {
  readonly hists: Array<{ labels: string; t: number; h: Histogram; exemplars: readonly Exemplar[] | null }> = [];
  histogram(ls: Labels, t: number, h: Histogram, exemplars: readonly Exemplar[] | null): boolean {
    this.hists.push({ labels: ls.toString(), t, h, exemplars });
    return true;
  }
}

test('native histograms: exponential ones under the base name with all exemplars, NHCB when configured, bad scales refused alone', () => {
  const traceId = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
  const point = (scale: number, exemplars = false) => ({
    timeUnixNano: T,
    scale,
    count: 3n,
    sum: 4,
    positive: { offset: 0, bucketCounts: [1n, 2n] },
    exemplars: exemplars ? [{ timeUnixNano: T, value: { case: 'asDouble' as const, value: 1.1 }, traceId }] : [],
  });
  const expoMetric: MetricInit = {
    name: 'rpc.duration',
    unit: 's',
    data: { case: 'exponentialHistogram', value: { aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [point(1, true), point(-5)] } },
  };
  const classic: MetricInit = {
    name: 'req.size',
    unit: 'By',
    data: { case: 'histogram', value: { aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [{ timeUnixNano: T, count: 2n, sum: 3, explicitBounds: [1, 2], bucketCounts: [0n, 2n, 0n] }] } },
  };
  const { sink, report } = run(request([expoMetric, classic]), { convertHistogramsToNHCB: true }, new CollectHistograms(true));
  assert.equal(report.rejectedPoints, 1);
  assert.equal(report.histogramPoints, 0);
  assert.deepEqual(report.problems, ['cannot convert exponential to native histogram. Scale must be >= -4, was -5']);
  assert.deepEqual(
    sink.hists.map((x) => [x.labels, x.t, x.h.schema, x.h.count]),
    [
      ['{__name__="rpc_duration_seconds", instance="i1", job="api"}', MS, 1, 3],
      ['{__name__="req_size_bytes", instance="i1", job="api"}', MS, -53, 2],
    ],
  );
  assert.deepEqual(sink.hists[0]!.exemplars?.map((e) => [e.value, e.labels.get('trace_id')]), [[1.1, '0102030405060708090a0b0c0d0e0f10']]);
  assert.ok(!sink.got.some((g) => g.labels.includes('_bucket')), 'no classic series');
  // Without the setting, explicit buckets stay classic series.
  const plain = run(request([classic]), {}, new CollectHistograms()).sink;
  assert.equal(plain.hists.length, 0);
  assert.ok(plain.got.some((g) => g.labels.startsWith('{__name__="req_size_bytes_bucket"')));
  // A malformed point (more observations in buckets than counted) is refused with the model's error.
  const bad: MetricInit = { name: 'bad', data: { case: 'exponentialHistogram', value: { aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [{ ...point(0), count: 1n }] } } };
  const refused = run(request([bad]), {}, new CollectHistograms());
  assert.equal(refused.sink.hists.length, 0);
  assert.match(refused.report.problems[0]!, /observation count should equal the number of observations found in the buckets/);
  // Delta temporality is still refused.
  const delta: MetricInit = { name: 'd', data: { case: 'exponentialHistogram', value: { aggregationTemporality: AggregationTemporality.DELTA, dataPoints: [point(0)] } } };
  assert.deepEqual(run(request([delta]), {}, new CollectHistograms()).report.problems, ['invalid temporality and type combination for metric "d"']);
});
