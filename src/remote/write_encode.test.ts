import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../model/labels.js';
import { RequestEncoder, labelBytesV1, type EncodableSeries } from './write_encode.js';
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
  const req = decodeWriteRequest(Buffer.from(new RequestEncoder(1).encode(batch(1), ts, vs, 3)));
  assert.equal(req.series.length, 3);
  assert.deepEqual(req.series[0]!.labels, ['__name__', 'up', 'job', 'näme']);
  assert.deepEqual(req.series[1]!.labels, ['__name__', 'up', 'job', 'x'.repeat(300)]);
  assert.deepEqual([...req.timestamps.subarray(0, 3)], [1000, -5, 2 ** 45]);
  assert.ok(Number.isNaN(req.values[1]!));
  assert.equal(req.values[2], -0.5);
});

test('2.0 requests decode as sent, symbols shared and "" first', () => {
  const req = decodeWriteV2Request(Buffer.from(new RequestEncoder(2).encode(batch(2), ts, vs, 3)));
  const sym = (i: number) => req.buf.subarray(req.symStart[i]!, req.symEnd[i]!).toString('utf8');
  assert.equal(sym(0), '');
  assert.equal(req.symbolCount, 6);
  assert.equal(req.series.length, 3);
  const labels = req.series.map((s) => [...req.refs.subarray(s.refStart, s.refEnd)].map(sym));
  assert.deepEqual(labels[0], ['__name__', 'up', 'job', 'näme']);
  assert.deepEqual(labels[2], labels[0]);
  assert.deepEqual([...req.timestamps.subarray(0, 3)], [1000, -5, 2 ** 45]);
});
