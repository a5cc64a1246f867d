// The ingest and queries benches' request bodies: the messages the test encoder (an independent
// implementation) writes and the server's 2.0 decoder reads back, batching over rounds, and the
// workload keeps histogram buckets cumulative and counters monotonic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uncompressSync } from 'snappy';
import { batches, BodyEncoder } from '../bench/load_proto.js';
import { BUCKET_BOUNDS, buildWorkload, SERIES_PER_HOST, valueAt } from '../bench/load_workload.js';
import { decodeWriteV2Request } from '../src/remote/write_request_v2.js';
import { encodeWriteRequest } from './remote_write_proto.js';

const T = 1_765_000_000_000;

test("batches cut a share's stream over rounds into requests, never two samples of one series while the share is larger", () => {
  const bs = batches([10, 11, 12], 4, 3, 2);
  assert.deepEqual(
    bs.map((b) => [...b.series].map((s, k) => `${s}@${b.rounds[k]}`)),
    [['10@4', '11@4'], ['12@4', '10@5'], ['11@5', '12@5'], ['10@6', '11@6'], ['12@6']],
  );
});

test('a 1.0 body is the WriteRequest the test encoder writes, across a round boundary', () => {
  const wl = buildWorkload(3000);
  const enc = new BodyEncoder(wl, '1.0', T);
  const b = { series: Int32Array.from([1014, 1015, 2999, 0, 5]), rounds: Int32Array.from([6, 6, 6, 7, 7]) };
  const got = Buffer.from(uncompressSync(enc.body(b)) as Buffer);
  const want = encodeWriteRequest(
    [...b.series].map((i, k) => ({ labels: wl.labels[i]!.map(([n, v]): [string, string] => [n, v]), samples: [[T + b.rounds[k]! * 15_000, valueAt(wl, i, b.rounds[k]!)]] })),
  );
  assert.deepEqual(got, want);
});

test('a 2.0 body decodes to its series, samples and a symbols table of only the symbols it uses', () => {
  const wl = buildWorkload(2030);
  const enc = new BodyEncoder(wl, '2.0', T);
  for (const ids of [[3, 400, 1100, 2029], [1015]]) {
    const body = Buffer.from(uncompressSync(enc.body({ series: Int32Array.from(ids), rounds: Int32Array.from(ids, () => 4) })) as Buffer);
    const d = decodeWriteV2Request(body);
    assert.equal(d.series.length, ids.length);
    const sym = (r: number): string => body.toString('utf8', d.symStart[r]!, d.symEnd[r]!);
    assert.equal(sym(0), '');
    const symbols = Array.from({ length: d.symbolCount }, (_, r) => sym(r));
    assert.deepEqual(new Set(symbols), new Set(['', ...ids.flatMap((i) => wl.labels[i]!.flat())]));
    assert.equal(new Set(symbols).size, symbols.length);
    d.series.forEach((s, k) => {
      const pairs: string[] = [];
      for (let j = s.refStart; j < s.refEnd; j++) pairs.push(sym(d.refs[j]!));
      assert.deepEqual(pairs, wl.labels[ids[k]!]!.flat());
      assert.equal(s.end - s.start, 1);
      assert.equal(d.timestamps[s.start], T + 4 * 15_000);
      assert.equal(d.values[s.start], valueAt(wl, ids[k]!, 4));
    });
  }
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
