import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compressSync } from 'snappy';
import { Registry } from 'prom-client';
import { snappyDecode, SnappyError } from './snappy.js';
import { decodeWriteRequest, ProtobufError } from './write_request.js';
import { RemoteWriteHandler } from './write_handler.js';
import { MemoryStorage } from '../storage/memory.js';
import { Labels } from '../model/labels.js';
import { Matcher, MatchType } from '../model/matcher.js';
import { HeadSeriesLimitError, InvalidSeriesError, ValueType, type Appendable } from '../storage/interface.js';
import { isStaleNaN } from '../model/value.js';
import { encodeWriteRequest, writeRequestBody, type TestHistogram } from '../../test/remote_write_proto.js';
import type { FloatHistogram, Histogram } from '../model/histogram.js';

const NOW = 1_700_000_000_000;

/** Status and body of an answer (headers are checked where they matter). */
function sb(res: { status: number; body: string }): { status: number; body: string } {
  return { status: res.status, body: res.body };
}

/** Whether every sample of the series is a staleness marker (checked on the iterator: JS arrays may canonicalise NaN bits). */
function allStale(db: MemoryStorage, name: string): boolean {
  const q = db.querier(0, Number.MAX_SAFE_INTEGER);
  const set = q.select(true, null, Matcher.create(MatchType.Equal, '__name__', name));
  let n = 0;
  let stale = 0;
  while (set.next()) {
    const it = set.at().iterator();
    while (it.next() !== ValueType.None) {
      n++;
      if (isStaleNaN(it.v())) stale++;
    }
  }
  q.close();
  return n > 0 && n === stale;
}

function samples(db: MemoryStorage, name: string): Array<[number, number]> {
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

/** The storage with a head-series limit as the TSDB head enforces it: new series past `max` are refused. */
function limited(db: MemoryStorage, max: number): Appendable {
  return {
    appender: () => {
      const app = db.appender();
      // The head creates series at append time; the memory store at commit.
      const fresh = new Set<string>();
      return {
        append: (ref: number, ls: Labels, t: number, v: number) => {
          if (db.lookup(ls) === undefined && !fresh.has(ls.key())) {
            if (db.numSeries() + fresh.size >= max) throw new HeadSeriesLimitError(max);
            fresh.add(ls.key());
          }
          return app.append(ref, ls, t, v);
        },
        commit: () => app.commit(),
        rollback: () => app.rollback(),
      };
    },
  };
}

describe('snappy', () => {
  test('decodes what the reference implementation encodes', () => {
    const inputs = [Buffer.alloc(0), Buffer.from('hello hello hello hello'), Buffer.alloc(100_000, 7), Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 251))];
    for (const input of inputs) assert.deepEqual(snappyDecode(compressSync(input), 1 << 20), input);
  });
  test('rejects corrupt input and oversized claims', () => {
    const good = compressSync(Buffer.from('some data some data some data'));
    assert.throws(() => snappyDecode(good.subarray(0, good.length - 3), 1 << 20), SnappyError);
    assert.throws(() => snappyDecode(Buffer.from([0xff, 0xff, 0xff, 0x7f]), 1 << 20), /^SnappyError: decoded size exceeds the 1048576 bytes limit$/);
    assert.throws(() => snappyDecode(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x1f]), 1 << 20), /snappy: corrupt input/);
    assert.throws(() => snappyDecode(Buffer.from([5, 0x01, 0x00]), 1 << 20), SnappyError);
    assert.throws(() => snappyDecode(Buffer.from([]), 1 << 20), SnappyError);
  });
});

describe('WriteRequest decoding', () => {
  test('labels, samples, negative and large timestamps', () => {
    const buf = encodeWriteRequest([
      { labels: { __name__: 'a', job: 'x' }, samples: [[1, 1.5], [-5, -2], [2 ** 52, Infinity]] },
      { labels: [['b', '1'], ['__name__', 'z']], samples: [] },
    ]);
    const d = decodeWriteRequest(buf);
    assert.equal(d.series.length, 2);
    assert.deepEqual(d.series[0]!.labels, ['__name__', 'a', 'job', 'x']);
    assert.deepEqual([...d.timestamps.subarray(0, 3)], [1, -5, 2 ** 52]);
    assert.deepEqual([...d.values.subarray(0, 3)], [1.5, -2, Infinity]);
    assert.equal(d.series[1]!.start, d.series[1]!.end);
  });
  test('malformed messages are errors', () => {
    const buf = encodeWriteRequest([{ labels: { __name__: 'a' }, samples: [[1, 1]] }]);
    assert.throws(() => decodeWriteRequest(buf.subarray(0, buf.length - 2)), ProtobufError);
    assert.throws(() => decodeWriteRequest(Buffer.from([0x0f])), ProtobufError);
    assert.throws(() => decodeWriteRequest(Buffer.from([0x08, 0xff])), ProtobufError);
  });
});

describe('RemoteWriteHandler', () => {
  const mk = () => {
    const db = new MemoryStorage();
    return { db, h: new RemoteWriteHandler({ storage: db, now: () => NOW }) };
  };

  test('appends samples and answers 204', () => {
    const { db, h } = mk();
    const res = h.handle({ 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' }, writeRequestBody([
      { labels: { job: 'j', __name__: 'm' }, samples: [[NOW - 2000, 1], [NOW - 1000, 2]] },
      { labels: { __name__: 'stale' }, samples: [[NOW - 1000, 'stale']] },
    ]));
    assert.deepEqual(sb(res), { status: 204, body: '' });
    assert.deepEqual(samples(db, 'm'), [[NOW - 2000, 1], [NOW - 1000, 2]]);
    assert.ok(allStale(db, 'stale'));
    assert.equal(db.lookup(Labels.fromPairs('__name__', 'm', 'job', 'j')) !== undefined, true);
  });

  test('malformed bodies are 400 and change nothing', () => {
    const { db, h } = mk();
    const good = encodeWriteRequest([{ labels: { __name__: 'm' }, samples: [[NOW, 1]] }]);
    for (const body of [Buffer.from('not snappy at all'), compressSync(good.subarray(0, good.length - 1)), compressSync(Buffer.from([0xff]))]) {
      const res = h.handle({}, body);
      assert.equal(res.status, 400, res.body);
    }
    assert.equal(db.numSeries(), 0);
  });

  test('a rejected sample rolls the whole request back', () => {
    const { db, h } = mk();
    assert.equal(h.handle({}, writeRequestBody([{ labels: { __name__: 'm' }, samples: [[NOW, 1]] }])).status, 204);
    const res = h.handle({}, writeRequestBody([
      { labels: { __name__: 'other' }, samples: [[NOW, 5]] },
      { labels: { __name__: 'm' }, samples: [[NOW - 60_000, 2]] },
    ]));
    assert.equal(res.status, 400);
    assert.match(res.body, /out of order sample/);
    assert.deepEqual(samples(db, 'other'), []);
    const future = h.handle({}, writeRequestBody([{ labels: { __name__: 'f' }, samples: [[NOW + 11 * 60_000, 1]] }]));
    assert.deepEqual(sb(future), { status: 400, body: 'out of bounds: timestamp is too far in the future\n' });
  });

  test('series with invalid labels are refused with a 400 naming each; the rest is written; one count per series', async () => {
    const db = new MemoryStorage();
    const registry = new Registry();
    const h = new RemoteWriteHandler({ storage: db, now: () => NOW, registry });
    const res = h.handle({}, writeRequestBody([
      { labels: { job: 'no name' }, samples: [[NOW - 1000, 1], [NOW, 1]] },
      { labels: [['__name__', 'dup'], ['a', '1'], ['a', '2']], samples: [[NOW, 1]] },
      { labels: { __name__: 'ok' }, samples: [[NOW, 3]] },
      { labels: [['__name__', 'e'], ['', 'v']], samples: [[NOW, 1]] },
      { labels: [], samples: [[NOW, 1]] },
      { labels: [['z', '1'], ['__name__', 'unsorted'], ['b', '2']], samples: [[NOW, 4]] },
    ]));
    assert.deepEqual(sb(res), {
      status: 400,
      body:
        'invalid metric name or labels, got {job="no name"}\n' +
        'invalid labels for series, labels {__name__="dup", a="1", a="2"}, duplicated label a\n' +
        'invalid metric name or labels, got {""="v", __name__="e"}\n' +
        'invalid metric name or labels, got {}\n',
    });
    assert.equal(db.numSeries(), 2);
    assert.deepEqual(samples(db, 'ok'), [[NOW, 3]]);
    // Unsorted labels are fine: Prometheus sorts them too.
    assert.deepEqual(samples(db, 'unsorted'), [[NOW, 4]]);
    const m = await registry.getSingleMetric('prometheus_api_remote_write_invalid_labels_samples_total')!.get();
    assert.equal(m.values[0]!.value, 4);
  });

  test('native histograms are stored (integer and float, schemas above 8 reduced); a storage without them refuses them by series', async () => {
    const db = new MemoryStorage();
    const registry = new Registry();
    const h = new RemoteWriteHandler({ storage: db, now: () => NOW, registry });
    const res = h.handle({}, writeRequestBody([
      { labels: { __name__: 'h' }, samples: [[NOW - 2000, 1]], histograms: [NOW - 1000, { t: NOW, count: 3, sum: 2, schema: 9, positiveSpans: [[0, 2]], positiveBuckets: [1, 1] }] },
      { labels: { __name__: 'f' }, samples: [], histograms: [{ t: NOW, float: true, count: 2.5, sum: 1, zeroCount: 0.5, zeroThreshold: 0.001, negativeSpans: [[-2, 1]], negativeBuckets: [2] }] },
      { labels: { __name__: 'c' }, samples: [], histograms: [{ t: NOW, count: 5, sum: 7, schema: -53, positiveSpans: [[0, 2]], positiveBuckets: [2, 1], customValues: [0.5] }] },
    ]));
    assert.deepEqual(sb(res), { status: 204, body: '' });
    const got = readHistograms(db, 'h').filter((r) => r.h !== null);
    assert.equal(got.length, 2);
    assert.equal(got[0]!.h!.count, 1);
    assert.equal(got[1]!.h!.schema, 8);
    assert.equal(got[1]!.h!.count, 3);
    const f = readHistograms(db, 'f')[0]!.h!;
    assert.ok(f.constructor.name === 'FloatHistogram' && f.count === 2.5 && f.zeroThreshold === 0.001);
    assert.deepEqual([...readHistograms(db, 'c')[0]!.h!.customValues], [0.5]);
    assert.equal(await counter(registry, 'tsprom_remote_write_received_histograms_total'), 4);

    // A float-only storage (as an agent without histogram support would be).
    const floats = new MemoryStorage();
    const reg2 = new Registry();
    const floatOnly: Appendable = {
      appender: () => {
        const a = floats.appender();
        return { append: (r, l, t, v) => a.append(r, l, t, v), commit: () => a.commit(), rollback: () => a.rollback() };
      },
    };
    const h2 = new RemoteWriteHandler({ storage: floatOnly, now: () => NOW, registry: reg2 });
    const res2 = h2.handle({}, writeRequestBody([{ labels: { __name__: 'h' }, samples: [[NOW, 1]], histograms: [NOW - 1000, NOW] }]));
    assert.deepEqual(sb(res2), { status: 400, body: 'native histograms are not supported by this storage: 2 histogram samples refused for series {__name__="h"}\n' });
    assert.deepEqual(samples(floats, 'h'), [[NOW, 1]]);
    assert.equal(await counter(reg2, 'tsprom_remote_write_histograms_dropped_total'), 2);
  });

  test('an invalid native histogram rejects the 1.0 request with a 400 and stores nothing of it, as Prometheus', async () => {
    const cases: [string, TestHistogram][] = [
      ['negative bucket', { t: NOW, count: 1, sum: 1, positiveSpans: [[0, 2]], positiveBuckets: [2, -3] }],
      ['spans not matching buckets', { t: NOW, count: 1, sum: 1, positiveSpans: [[0, 3]], positiveBuckets: [1] }],
      ['count mismatch', { t: NOW, count: 9, sum: 1, positiveSpans: [[0, 1]], positiveBuckets: [1] }],
      ['schema out of range', { t: NOW, count: 1, sum: 1, schema: 60, positiveSpans: [[0, 1]], positiveBuckets: [1] }],
      ['a span claiming 2^32-1 buckets', { t: NOW, count: 1, sum: 1, positiveSpans: [[0, 2 ** 32 - 1]], positiveBuckets: [1] }],
      ['custom bounds not increasing', { t: NOW, count: 1, sum: 1, schema: -53, positiveSpans: [[0, 1]], positiveBuckets: [1], customValues: [2, 1] }],
    ];
    for (const [what, hist] of cases) {
      const db = new MemoryStorage();
      const registry = new Registry();
      const h = new RemoteWriteHandler({ storage: db, now: () => NOW, registry });
      const res = h.handle({}, writeRequestBody([{ labels: { __name__: 'ok' }, samples: [[NOW, 1]] }, { labels: { __name__: 'bad' }, samples: [], histograms: [hist] }]));
      assert.equal(res.status, 400, what);
      assert.match(res.body, /histogram/, what);
      assert.equal(db.numSeries(), 0, what);
      assert.equal(await counter(registry, 'tsprom_remote_write_histograms_invalid_total'), 1, what);
    }
  });

  test('the head series limit refuses new series by name; existing series and the rest of the request are written', () => {
    const db = new MemoryStorage();
    const h = new RemoteWriteHandler({ storage: limited(db, 2), now: () => NOW });
    assert.equal(h.handle({}, writeRequestBody([{ labels: { __name__: 'a' }, samples: [[NOW - 2000, 1]] }])).status, 204);
    const res = h.handle({}, writeRequestBody([
      { labels: { __name__: 'b' }, samples: [[NOW - 1000, 2]] },
      { labels: { __name__: 'c', job: 'x' }, samples: [[NOW - 1000, 3], [NOW, 3]] },
      { labels: { __name__: 'a' }, samples: [[NOW - 1000, 4]] },
    ]));
    assert.deepEqual(sb(res), { status: 400, body: 'head series limit of 2 reached for series {__name__="c", job="x"}\n' });
    assert.deepEqual(samples(db, 'a'), [[NOW - 2000, 1], [NOW - 1000, 4]]);
    assert.deepEqual(samples(db, 'b'), [[NOW - 1000, 2]]);
    assert.deepEqual(samples(db, 'c'), []);
  });

  test('content type and encoding are checked', () => {
    const { h } = mk();
    const body = writeRequestBody([{ labels: { __name__: 'm' }, samples: [[NOW, 1]] }]);
    assert.equal(h.handle({ 'content-type': 'application/json' }, body).status, 415);
    assert.equal(h.handle({ 'content-encoding': 'gzip' }, body).status, 415);
    assert.equal(h.handle({ 'content-type': 'application/x-protobuf;proto=prometheus.WriteRequest' }, body).status, 204);
  });

  test('only the accepted messages are taken; 1.0 answers carry no written-counts headers', () => {
    const db = new MemoryStorage();
    const h = new RemoteWriteHandler({ storage: db, now: () => NOW, acceptedMessages: ['prometheus.WriteRequest'] });
    const body = writeRequestBody([{ labels: { __name__: 'm' }, samples: [[NOW, 1]] }]);
    assert.deepEqual(h.handle({ 'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request' }, body), {
      status: 415,
      body: 'io.prometheus.write.v2.Request protobuf message is not accepted by this server; only accepts prometheus.WriteRequest\n',
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' },
    });
    assert.deepEqual(h.handle({}, body), { status: 204, body: '', headers: {} });
  });

  test('a duplicate sample is refused with its timestamp and both values, as Prometheus words it', () => {
    const { h } = mk();
    assert.equal(h.handle({}, writeRequestBody([{ labels: { __name__: 'm' }, samples: [[NOW, 0.5]] }])).status, 204);
    const res = h.handle({}, writeRequestBody([{ labels: { __name__: 'm' }, samples: [[NOW, 1234567]] }]));
    assert.deepEqual(sb(res), { status: 400, body: `duplicate sample for timestamp ${NOW}; overrides not allowed: existing 0.5, new value 1.234567e+06\n` });
    // At timestamp 0 Prometheus's error has no details.
    assert.equal(h.handle({}, writeRequestBody([{ labels: { __name__: 'z' }, samples: [[0, 1]] }])).status, 204);
    assert.deepEqual(sb(h.handle({}, writeRequestBody([{ labels: { __name__: 'z' }, samples: [[0, 2]] }]))), { status: 400, body: 'duplicate sample for timestamp\n' });
  });

  test('a series with a huge label set does not overflow the stack', () => {
    const { db, h } = mk();
    const many: Array<[string, string]> = Array.from({ length: 150_000 }, (_, i): [string, string] => [`l${i}`, 'v']);
    assert.equal(h.handle({}, writeRequestBody([{ labels: [['__name__', 'wide'], ...many], samples: [[NOW, 1]] }])).status, 204);
    assert.equal(db.numSeries(), 1);
  });

  test('decoded size is limited', () => {
    const db = new MemoryStorage();
    const h = new RemoteWriteHandler({ storage: db, now: () => NOW, maxDecodedBytes: 100 });
    const res = h.handle({}, writeRequestBody([{ labels: { __name__: 'x'.repeat(200) }, samples: [[NOW, 1]] }]));
    assert.equal(res.status, 400);
    assert.equal(res.body, 'decoded size exceeds the 100 bytes limit\n');
  });

  test('samples behind an earlier sample of the same request are dropped, as Prometheus drops them at commit', () => {
    const { db, h } = mk();
    const res = h.handle({}, writeRequestBody([
      { labels: { __name__: 'm' }, samples: [[NOW - 1000, 3], [NOW - 3000, 1], [NOW - 2000, 2], [NOW - 1000, 9]] },
      { labels: { __name__: 'm' }, samples: [[NOW - 1500, 4], [NOW, 5]] },
    ]));
    assert.deepEqual(sb(res), { status: 204, body: '' });
    assert.deepEqual(samples(db, 'm'), [[NOW - 1000, 3], [NOW, 5]]);
  });

  test('within a request, a sample behind committed data still fails the whole request', () => {
    const { db, h } = mk();
    assert.equal(h.handle({}, writeRequestBody([{ labels: { __name__: 'm' }, samples: [[NOW - 1000, 1]] }])).status, 204);
    const res = h.handle({}, writeRequestBody([
      { labels: { __name__: 'fresh' }, samples: [[NOW, 1]] },
      { labels: { __name__: 'm' }, samples: [[NOW, 2], [NOW - 2000, 3]] },
    ]));
    assert.deepEqual(sb(res), { status: 400, body: 'out of order sample\n' });
    assert.deepEqual(samples(db, 'fresh'), []);
    assert.deepEqual(samples(db, 'm'), [[NOW - 1000, 1]]);
    // The same timestamp as committed data with another value is a duplicate; with the same value it is accepted.
    assert.equal(h.handle({}, writeRequestBody([{ labels: { __name__: 'm' }, samples: [[NOW, 7], [NOW - 1000, 2]] }])).status, 400);
    assert.equal(h.handle({}, writeRequestBody([{ labels: { __name__: 'm' }, samples: [[NOW, 7], [NOW - 1000, 1]] }])).status, 204);
    assert.deepEqual(samples(db, 'm'), [[NOW - 1000, 1], [NOW, 7]]);
  });

  test('empty label values are dropped; an empty metric name makes the series invalid', () => {
    const { db, h } = mk();
    const res = h.handle({}, writeRequestBody([
      { labels: { __name__: 'm', empty: '', job: 'j' }, samples: [[NOW, 1]] },
      { labels: { __name__: '', job: 'k' }, samples: [[NOW, 1]] },
      { labels: { '': 'v', __name__: 'n' }, samples: [[NOW, 1]] },
    ]));
    assert.deepEqual(sb(res), {
      status: 400,
      body: 'invalid metric name or labels, got {__name__="", job="k"}\ninvalid metric name or labels, got {""="v", __name__="n"}\n',
    });
    assert.equal(db.numSeries(), 1);
    assert.ok(db.lookup(Labels.fromPairs('__name__', 'm', 'job', 'j')) !== undefined);
  });

  test("checks run in Prometheus's order, with its wording", () => {
    const { h } = mk();
    const body = writeRequestBody([{ labels: { __name__: 'm' }, samples: [[NOW, 1]] }]);
    // Encoding first, then snappy, then the content type.
    assert.deepEqual(sb(h.handle({ 'content-encoding': 'gzip', 'content-type': 'text/plain' }, body)), {
      status: 415,
      body: 'gzip encoding (compression) is not accepted by this server; only snappy is acceptable\n',
    });
    assert.equal(h.handle({ 'content-type': 'text/plain' }, Buffer.from('junk')).status, 400);
    assert.deepEqual(sb(h.handle({ 'content-type': 'text/plain' }, body)), {
      status: 415,
      body: 'expected application/x-protobuf as the first (media) part, got text/plain content-type\n',
    });
    assert.deepEqual(sb(h.handle({ 'content-type': 'application/x-protobuf;proto=foo' }, body)), {
      status: 415,
      body: 'got application/x-protobuf;proto=foo content type; unknown type for remote write protobuf message foo, supported: prometheus.WriteRequest, io.prometheus.write.v2.Request\n',
    });
    assert.equal(h.handle({ 'content-type': 'application/x-protobuf; proto=prometheus.WriteRequest' }, body).status, 204);
    assert.deepEqual(sb(h.handle({}, compressSync(Buffer.from([0x00])))), { status: 400, body: 'proto: WriteRequest: illegal tag 0 (wire type 0)\n' });
    assert.deepEqual(sb(h.handle({}, compressSync(Buffer.from([0x0a, 0x02, 0x10, 0x01])))), { status: 400, body: 'proto: wrong wireType = 0 for field Samples\n' });
  });

  test('a series the storage finds invalid is refused by name', () => {
    const storage = {
      appender: () => ({
        append: () => {
          throw new InvalidSeriesError('too many labels (70000): invalid sample');
        },
        commit: () => undefined,
        rollback: () => undefined,
      }),
    };
    const h = new RemoteWriteHandler({ storage, now: () => NOW });
    const res = h.handle({}, writeRequestBody([{ labels: { __name__: 'm' }, samples: [[NOW, 1]] }]));
    assert.deepEqual(sb(res), { status: 400, body: 'too many labels (70000): invalid sample for series {__name__="m"}\n' });
  });

  test('storage failures other than rejected samples are 500s and roll back', () => {
    let rolledBack = false;
    const storage = {
      appender: () => ({
        append: () => {
          throw new Error('ENOSPC: no space left on device');
        },
        commit: () => undefined,
        rollback: () => {
          rolledBack = true;
        },
      }),
    };
    const h = new RemoteWriteHandler({ storage, now: () => NOW });
    const res = h.handle({}, writeRequestBody([{ labels: { __name__: 'm' }, samples: [[NOW, 1]] }]));
    assert.deepEqual(sb(res), { status: 500, body: 'ENOSPC: no space left on device\n' });
    assert.ok(rolledBack);
  });
});

function readHistograms(db: MemoryStorage, name: string): Array<{ t: number; h: Histogram | FloatHistogram | null }> {
  const q = db.querier(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const set = q.select(true, null, Matcher.create(MatchType.Equal, '__name__', name));
  const out: Array<{ t: number; h: Histogram | FloatHistogram | null }> = [];
  while (set.next()) {
    const it = set.at().iterator();
    for (let vt = it.next(); vt !== ValueType.None; vt = it.next()) {
      out.push({ t: it.t(), h: vt === ValueType.Histogram ? it.atHistogram!() : vt === ValueType.FloatHistogram ? it.atFloatHistogram!() : null });
    }
  }
  q.close();
  return out;
}

async function counter(registry: Registry, name: string): Promise<number> {
  return (await registry.getSingleMetric(name)!.get()).values[0]?.value ?? 0;
}
