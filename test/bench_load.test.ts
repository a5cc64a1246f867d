// The ingest and queries benches' request bodies: the patched templates are the messages the
// test encoders (an independent implementation) and the server's 2.0 decoder agree on, and the
// workload keeps histogram buckets cumulative and counters monotonic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uncompressSync } from 'snappy';
import { bodyFor, templateV1, templateV2 } from '../bench/load_proto.js';
import { BUCKET_BOUNDS, buildWorkload, SERIES_PER_HOST, valueAt } from '../bench/load_workload.js';
import { decodeWriteV2Request } from '../src/remote/write_request_v2.js';
import { encodeWriteRequest } from './remote_write_proto.js';

const T = 1_765_000_000_000;

test('a patched 1.0 template is the WriteRequest the test encoder writes', () => {
  const wl = buildWorkload(3000);
  const ids = [0, 5, 1014, 1015, 2999];
  const t = templateV1(wl, ids);
  for (const round of [0, 7]) {
    const got = Buffer.from(uncompressSync(bodyFor(t, wl, round, T + round * 15_000)) as Buffer);
    const want = encodeWriteRequest(ids.map((i) => ({ labels: wl.labels[i]!.map(([n, v]): [string, string] => [n, v]), samples: [[T + round * 15_000, valueAt(wl, i, round)]] })));
    assert.deepEqual(got, want);
  }
});

test('a patched 2.0 template decodes to the series, samples and symbols it was built from', () => {
  const wl = buildWorkload(2030);
  const ids = [3, 400, 1100, 2029];
  const body = Buffer.from(uncompressSync(bodyFor(templateV2(wl, ids), wl, 4, T)) as Buffer);
  const d = decodeWriteV2Request(body);
  assert.equal(d.series.length, ids.length);
  const sym = (r: number): string => body.toString('utf8', d.symStart[r]!, d.symEnd[r]!);
  assert.equal(sym(0), '');
  d.series.forEach((s, k) => {
    const pairs: string[] = [];
    for (let j = s.refStart; j < s.refEnd; j++) pairs.push(sym(d.refs[j]!));
    assert.deepEqual(pairs, wl.labels[ids[k]!]!.flat());
    assert.equal(s.end - s.start, 1);
    assert.equal(d.timestamps[s.start], T);
    assert.equal(d.values[s.start], valueAt(wl, ids[k]!, 4));
  });
});

test('every timestamp a template holds must fit its fixed-width varint', () => {
  const wl = buildWorkload(10);
  assert.throws(() => bodyFor(templateV1(wl, [0]), wl, 0, 2 ** 42), /does not fit/);
});

test('hosts have 1,015 series of 8 to 12 sorted labels; buckets are cumulative, counters never fall', () => {
  const wl = buildWorkload(2 * SERIES_PER_HOST);
  assert.equal(wl.labels.length, 2 * SERIES_PER_HOST);
  const seen = new Set<string>();
  for (const ls of wl.labels) {
    assert.ok(ls.length >= 8 && ls.length <= 12, `${ls.length} labels`);
    const names = ls.map(([n]) => n);
    assert.deepEqual(names, [...names].sort());
    const key = JSON.stringify(ls);
    assert.ok(!seen.has(key), `duplicate series ${key}`);
    seen.add(key);
  }
  const bucketsOf = (handler: string, host: string): number[] =>
    BUCKET_BOUNDS.map((le) =>
      wl.labels.findIndex((ls) => ls.some(([n, v]) => n === '__name__' && v === 'http_request_duration_seconds_bucket') && ls.some(([n, v]) => n === 'handler' && v === handler) && ls.some(([n, v]) => n === 'le' && v === le) && ls.some(([n, v]) => n === 'instance' && v === host)),
    );
  const idx = bucketsOf('/metrics', 'node-001.dc2.example.net:9100');
  assert.ok(idx.every((i) => i >= 0));
  for (const r of [0, 3, 40]) {
    const v = idx.map((i) => valueAt(wl, i, r));
    assert.deepEqual(v, [...v].sort((a, b) => a - b), `round ${r}: ${v.join(' ')}`);
  }
  for (let i = 0; i < wl.labels.length; i++) {
    if (!wl.labels[i]!.some(([n, v]) => n === '__name__' && v.endsWith('_total'))) continue;
    assert.ok(valueAt(wl, i, 5) >= valueAt(wl, i, 4));
  }
});
