import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabelNameCache, MetricKind, NameError, labelName, metricName } from './names.js';

const escaped = { escape: true, suffixes: true };
const escapedNoSuffixes = { escape: true, suffixes: false };
const utf8 = { escape: false, suffixes: true };
const none = { escape: false, suffixes: false };

test('escaped names get unit and type suffixes as Prometheus 3.x adds them', () => {
  const cases: Array<[string, string, MetricKind, string]> = [
    ['http.server.duration', 'ms', MetricKind.Histogram, 'http_server_duration_milliseconds'],
    ['system.filesystem.usage', 'By', MetricKind.Gauge, 'system_filesystem_usage_bytes'],
    ['requests.count', '1', MetricKind.MonotonicCounter, 'requests_count_total'],
    ['cpu.utilization', '1', MetricKind.Gauge, 'cpu_utilization_ratio'],
    ['network.io', 'By/s', MetricKind.Gauge, 'network_io_bytes_per_second'],
    ['active.requests', '{request}', MetricKind.NonMonotonicCounter, 'active_requests'],
    ['foo_total', '', MetricKind.MonotonicCounter, 'foo_total'],
    ['total.foo', '', MetricKind.MonotonicCounter, 'foo_total'],
    ['latency_seconds', 's', MetricKind.Gauge, 'latency_seconds'],
    ['2xx.count', '', MetricKind.Gauge, '_2xx_count'],
    ['a__b..c', '', MetricKind.Gauge, 'a_b_c'],
    ['temp', 'Cel', MetricKind.Gauge, 'temp_celsius'],
    ['rate', '1/s', MetricKind.Gauge, 'rate_per_second'],
    ['things', 'foo.bar', MetricKind.Gauge, 'things_foo_bar'],
    ['ünïcode.name', 's', MetricKind.Summary, 'n_code_name_seconds'],
  ];
  for (const [name, unit, kind, want] of cases) assert.equal(metricName(name, unit, kind, escaped), want, `${name} ${unit}`);
});

test('the other strategies', () => {
  assert.equal(metricName('a..b__c', 's', MetricKind.Gauge, escapedNoSuffixes), 'a_b__c');
  assert.equal(metricName('http.server.duration', 's', MetricKind.Histogram, utf8), 'http.server.duration_seconds');
  assert.equal(metricName('foo.total', '', MetricKind.MonotonicCounter, utf8), 'foo_total');
  assert.equal(metricName('cpu.ratio', '1', MetricKind.Gauge, utf8), 'cpu_ratio');
  assert.equal(metricName('io', 'By/s', MetricKind.MonotonicCounter, utf8), 'io_bytes_per_second_total');
  assert.equal(metricName('http.server.duration', 's', MetricKind.Histogram, none), 'http.server.duration');
});

test('names escaping cannot save are refused', () => {
  assert.throws(() => metricName('...', '', MetricKind.Gauge, escaped), (e: unknown) => e instanceof NameError && /normalization for metric "\.\.\." resulted in empty name/.test(e.message));
  assert.throws(() => metricName('.._', '', MetricKind.Gauge, escapedNoSuffixes), /resulted in invalid name "_"/);
});

test('label names', () => {
  const o = { escape: true, underscoreSanitization: false, preserveMultipleUnderscores: false };
  assert.equal(labelName('http.method', o), 'http_method');
  assert.equal(labelName('0abc', o), 'key_0abc');
  assert.equal(labelName('__x.y__', o), '__x_y__');
  assert.equal(labelName('a..b', o), 'a_b');
  assert.equal(labelName('a..b', { ...o, preserveMultipleUnderscores: true }), 'a__b');
  assert.equal(labelName('_x', o), '_x');
  assert.equal(labelName('_x', { ...o, underscoreSanitization: true }), 'key_x');
  assert.equal(labelName('__x', { ...o, underscoreSanitization: true }), 'key_x', 'runs collapse first');
  assert.equal(labelName('ä😀b', o), '_b');
  assert.throws(() => labelName('...', o), /normalization for label name "\.\.\." resulted in invalid name "_"/);
  assert.throws(() => labelName('', o), /label name is empty/);
  const u = { ...o, escape: false };
  assert.equal(labelName('http.method', u), 'http.method');
  assert.throws(() => labelName('__', u), /label name "__" contains only underscores/);
  const cache = new LabelNameCache(o);
  assert.equal(cache.get('k8s.pod.name'), 'k8s_pod_name');
  assert.equal(cache.get('k8s.pod.name'), 'k8s_pod_name');
});
