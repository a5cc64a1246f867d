import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../model/labels.js';
import { RequestEncoder, encodeMetadataV1, labelBytesV1, type EncodableSeries } from './write_encode.js';
import { decodeWriteRequest } from './write_request.js';
import { decodeWriteV2Request } from './write_request_v2.js';

const a = Labels.fromPairs('__name__', 'up', 'job', 'näme');
const b = Labels.fromPairs('__name__', 'up', 'job', 'x'.repeat(300));
const ts = new Float64Array([1000, -5, 2 ** 45]);
const vs = new Float64Array([1, NaN, -0.5]);

function batch(version: 1 | 2): EncodableSeries[] {
  const v1 = (l: Labels) => (version === 1 ? labelBytesV1(l) : null);
  return [
    { labels: a, v1: v1(a) },
    { labels: b, v1: v1(b) },
    { labels: a, v1: v1(a) },
  ];
}

test('1.0 requests decode as sent: one series per sample, negative and large timestamps, NaN', () => {
  const req = decodeWriteRequest(Buffer.from(new RequestEncoder(1).encode(batch(1), ts, vs, 3, [])));
  assert.equal(req.series.length, 3);
  assert.deepEqual(req.series[0]!.labels, ['__name__', 'up', 'job', 'näme']);
  assert.deepEqual(req.series[1]!.labels, ['__name__', 'up', 'job', 'x'.repeat(300)]);
  assert.deepEqual([...req.timestamps.subarray(0, 3)], [1000, -5, 2 ** 45]);
  assert.ok(Number.isNaN(req.values[1]!));
  assert.equal(req.values[2], -0.5);
});

test('2.0 requests decode as sent, symbols shared and "" first', () => {
  const req = decodeWriteV2Request(Buffer.from(new RequestEncoder(2).encode(batch(2), ts, vs, 3, [])));
  const sym = (i: number) => req.buf.subarray(req.symStart[i]!, req.symEnd[i]!).toString('utf8');
  assert.equal(sym(0), '');
  assert.equal(req.symbolCount, 6);
  assert.equal(req.series.length, 3);
  const labels = req.series.map((s) => [...req.refs.subarray(s.refStart, s.refEnd)].map(sym));
  assert.deepEqual(labels[0], ['__name__', 'up', 'job', 'näme']);
  assert.deepEqual(labels[2], labels[0]);
  assert.deepEqual([...req.timestamps.subarray(0, 3)], [1000, -5, 2 ** 45]);
});

test('exemplars go as a TimeSeries with the series labels and one exemplar, in 1.0 and 2.0', () => {
  const trace = Labels.fromPairs('trace_id', 'abc');
  const ex = [undefined, trace, undefined];
  const v1 = decodeWriteRequest(Buffer.from(new RequestEncoder(1).encode(batch(1), ts, vs, 3, ex)));
  assert.equal(v1.series.length, 3);
  assert.equal(v1.series[1]!.end - v1.series[1]!.start, 0);
  assert.equal(v1.exemplars.length, 1);
  assert.deepEqual(v1.exemplars[0]!.labels, ['trace_id', 'abc']);
  assert.equal(v1.exemplars[0]!.t, -5);
  assert.ok(Number.isNaN(v1.exemplars[0]!.value));
  assert.deepEqual(v1.series[1]!.labels, ['__name__', 'up', 'job', 'x'.repeat(300)]);

  const v2 = decodeWriteV2Request(Buffer.from(new RequestEncoder(2).encode(batch(2), ts, vs, 3, ex)));
  const sym = (i: number) => v2.buf.subarray(v2.symStart[i]!, v2.symEnd[i]!).toString('utf8');
  const s1 = v2.series[1]!;
  assert.equal(s1.end - s1.start, 0);
  assert.equal(s1.exEnd - s1.exStart, 1);
  const e = s1.exStart;
  assert.deepEqual([...v2.exRefs.subarray(v2.exRefStart[e]!, v2.exRefEnd[e]!)].map(sym), ['trace_id', 'abc']);
  assert.equal(v2.exTs[e], -5);
  assert.deepEqual([...v2.refs.subarray(s1.refStart, s1.refEnd)].map(sym), ['__name__', 'up', 'job', 'x'.repeat(300)]);
});

test('metadata: MetricMetadata messages in WriteRequest field 3, empty fields left out', () => {
  const b = encodeMetadataV1([
    { metricFamily: 'm', type: 'counter', help: 'h', unit: '' },
    { metricFamily: 'u', type: 'unknown', help: '', unit: 's' },
  ]);
  assert.equal(b.toString('hex'), '1a08' + '0801' + '12016d' + '220168' + '1a06' + '120175' + '2a0173');
  assert.equal(decodeWriteRequest(Buffer.from(b)).metadata, 2);
});
