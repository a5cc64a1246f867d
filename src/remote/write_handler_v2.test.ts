import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compressSync } from 'snappy';
import { Registry } from 'prom-client';
import { decodeWriteV2Request } from './write_request_v2.js';
import { ProtobufError } from './write_request.js';
import { RemoteWriteHandler } from './write_handler.js';
import { MemoryStorage } from '../storage/memory.js';
import { Labels } from '../model/labels.js';
import { Matcher, MatchType } from '../model/matcher.js';
import { HeadSeriesLimitError, InvalidSeriesError, ValueType } from '../storage/interface.js';
import { isStaleNaN } from '../model/value.js';
import { encodeWriteV2Request, writeV2RequestBody, V2_CONTENT_TYPE, type TestV2Series } from '../../test/remote_write_proto.js';

const NOW = 1_700_000_000_000;
const V2 = { 'content-type': V2_CONTENT_TYPE, 'content-encoding': 'snappy' };
const ERR_HEADERS = { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' };

function written(samples: number, histograms: number, exemplars: number): Record<string, string> {
  return {
    'X-Prometheus-Remote-Write-Samples-Written': String(samples),
    'X-Prometheus-Remote-Write-Histograms-Written': String(histograms),
    'X-Prometheus-Remote-Write-Exemplars-Written': String(exemplars),
  };
}

function samples(db: MemoryStorage, name: string): Array<[number, number]> {
  const q = db.querier(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const set = q.select(true, null, Matcher.create(MatchType.Equal, '__name__', name));
  const out: Array<[number, number]> = [];
  while (set.next()) {
    const it = set.at().iterator();
    while (it.next() !== ValueType.None) out.push([it.t(), it.v()]);
  }
  q.close();
  return out;
}

/** Checked on the iterator itself: copying into JS arrays may canonicalise the NaN's bits. */
function firstIsStale(db: MemoryStorage, name: string): boolean {
  const q = db.querier(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const set = q.select(true, null, Matcher.create(MatchType.Equal, '__name__', name));
  let stale = false;
  if (set.next()) {
    const it = set.at().iterator();
    stale = it.next() !== ValueType.None && isStaleNaN(it.v());
  }
  q.close();
  return stale;
}

async function counter(registry: Registry, name: string): Promise<number> {
  return (await registry.getSingleMetric(name)!.get()).values[0]?.value ?? 0;
}

function mk(): { db: MemoryStorage; h: RemoteWriteHandler; registry: Registry; send: (s: TestV2Series[]) => ReturnType<RemoteWriteHandler['handle']> } {
  const db = new MemoryStorage();
  const registry = new Registry();
  const h = new RemoteWriteHandler({ storage: db, now: () => NOW, registry });
  return { db, h, registry, send: (s) => h.handle(V2, writeV2RequestBody(s)) };
}

describe('2.0 Request decoding', () => {
  test('symbols, packed and unpacked references, samples, histograms, exemplars, merged metadata', () => {
    const buf = encodeWriteV2Request([
      {
        labels: { __name__: 'a', job: 'x' },
        samples: [[1, 1.5], [-5, -2], [2 ** 52, Infinity]],
        histograms: [7, 8],
        exemplars: [{ labels: { trace_id: 'abc' }, value: 1, t: 3 }],
        metadata: { type: 1, help: 'help text', unit: 'seconds' },
      },
      { labels: { __name__: 'b' }, unpacked: true, samples: [[9, 0]] },
    ]);
    const d = decodeWriteV2Request(buf);
    const sym = (i: number): string => buf.subarray(d.symStart[i]!, d.symEnd[i]!).toString();
    assert.deepEqual(Array.from({ length: d.symbolCount }, (_, i) => sym(i)), ['', '__name__', 'a', 'job', 'x', 'trace_id', 'abc', 'help text', 'seconds', 'b']);
    assert.equal(d.series.length, 2);
    const [a, b] = d.series as [NonNullable<(typeof d.series)[0]>, NonNullable<(typeof d.series)[0]>];
    assert.deepEqual([...d.refs.subarray(a.refStart, a.refEnd)], [1, 2, 3, 4]);
    assert.deepEqual([...d.timestamps.subarray(a.start, a.end)], [1, -5, 2 ** 52]);
    assert.deepEqual([...d.values.subarray(a.start, a.end)], [1.5, -2, Infinity]);
    assert.deepEqual(d.histograms.slice(a.hStart, a.hEnd).map((h) => [h.t, h.h?.count]), [[7, 1], [8, 1]]);
    assert.equal(a.exEnd - a.exStart, 1);
    assert.deepEqual([...d.exRefs.subarray(d.exRefStart[a.exStart]!, d.exRefEnd[a.exStart]!)], [5, 6]);
    assert.equal(d.exTs[a.exStart], 3);
    assert.deepEqual([sym(a.helpRef), sym(a.unitRef)], ['help text', 'seconds']);
    assert.deepEqual([...d.refs.subarray(b.refStart, b.refEnd)], [1, 9]);
    assert.deepEqual([...d.timestamps.subarray(b.start, b.end)], [9]);
    assert.equal(b.helpRef, 0);
  });

  test('a reference keeps the low 32 bits of a longer varint, as Go decodes a uint32', () => {
    // TimeSeries{labels_refs: 2^32 + 1 (unpacked)}.
    const ts = [0x08, 0x81, 0x80, 0x80, 0x80, 0x10];
    const d = decodeWriteV2Request(Buffer.from([0x2a, ts.length, ...ts]));
    assert.deepEqual([...d.refs.subarray(0, 1)], [1]);
  });

  test('malformed messages are errors with gogo-protobuf texts', () => {
    const buf = encodeWriteV2Request([{ labels: { __name__: 'a' }, samples: [[1, 1]] }]);
    const err = (b: number[] | Buffer): string => {
      try {
        decodeWriteV2Request(Buffer.from(b));
      } catch (e) {
        assert.ok(e instanceof ProtobufError);
        return e.message;
      }
      return 'decoded';
    };
    assert.equal(err(buf.subarray(0, buf.length - 2)), 'unexpected EOF');
    assert.equal(err([0x20, 0x01]), 'proto: wrong wireType = 0 for field Symbols');
    assert.equal(err([0x2a, 0x02, 0x10, 0x01]), 'proto: wrong wireType = 0 for field Samples');
    assert.equal(err([0x2a, 0x01, 0x0d]), 'proto: wrong wireType = 5 for field LabelsRefs');
    assert.equal(err([0x2a, 0x02, 0x04, 0x00]), 'proto: TimeSeries: wiretype end group for non-group');
    assert.equal(err([0x00]), 'proto: Request: illegal tag 0 (wire type 0)');
    assert.equal(err([0x2a, 0x03, 0x12, 0x01, 0x08]), 'proto: wrong wireType = 0 for field Value');
    assert.equal(err([0x2a, 0x04, 0x1a, 0x02, 0x18, 0x01]), 'proto: wrong wireType = 0 for field Sum');
    assert.equal(err([0x2a, 0x04, 0x2a, 0x02, 0x1a, 0x00]), 'proto: wrong wireType = 2 for field HelpRef');
    assert.equal(err([0x2a, 0x04, 0x22, 0x02, 0x11, 0x00]), 'unexpected EOF');
    assert.equal(err([0x08, ...Array(10).fill(0xff), 0x01]), 'proto: integer overflow');
    // Reserved fields 1 to 3 and unknown fields are skipped.
    assert.equal(err([0x08, 0x01, 0x12, 0x00, 0x7a, 0x00]), 'decoded');
  });
});

describe('RemoteWriteHandler, remote write 2.0', () => {
  test('appends samples and answers 204 with the written counts', () => {
    const { db, send } = mk();
    const res = send([
      { labels: { job: 'j', __name__: 'm' }, samples: [[NOW - 2000, 1], [NOW - 1000, 2]], metadata: { type: 2, help: 'a gauge', unit: '' } },
      { labels: { __name__: 'stale' }, samples: [[NOW - 1000, 'stale']] },
    ]);
    assert.deepEqual(res, { status: 204, body: '', headers: written(3, 0, 0) });
    assert.deepEqual(samples(db, 'm'), [[NOW - 2000, 1], [NOW - 1000, 2]]);
    assert.ok(firstIsStale(db, 'stale'));
    assert.ok(db.lookup(Labels.fromPairs('__name__', 'm', 'job', 'j')) !== undefined);
  });

  test('a refused sample refuses only itself: the rest is written, the 400 names the series', () => {
    const { db, send } = mk();
    assert.equal(send([{ labels: { __name__: 'm', a: 'x' }, samples: [[NOW, 1]] }]).status, 204);
    const res = send([
      { labels: { __name__: 'other' }, samples: [[NOW, 5]] },
      { labels: { a: 'x', __name__: 'm' }, samples: [[NOW - 60_000, 2], [NOW, 3], [NOW + 1000, 4]] },
      { labels: { __name__: 'f' }, samples: [[NOW + 11 * 60_000, 1], [NOW, 1]] },
    ]);
    assert.deepEqual(res, {
      status: 400,
      body:
        'out of order sample for series {__name__="m", a="x"}\n' +
        `duplicate sample for timestamp ${NOW}; overrides not allowed: existing 1, new value 3 for series {__name__="m", a="x"}\n` +
        'out of bounds: timestamp is too far in the future for series {__name__="f"}\n',
      headers: { ...written(3, 0, 0), ...ERR_HEADERS },
    });
    assert.deepEqual(samples(db, 'other'), [[NOW, 5]]);
    assert.deepEqual(samples(db, 'm'), [[NOW, 1], [NOW + 1000, 4]]);
    assert.deepEqual(samples(db, 'f'), [[NOW, 1]]);
  });

  test('the answer to a partly refused request is bounded: past 4 MiB, the rest are counted', () => {
    const { send } = mk();
    const labels = { __name__: 'm', long: 'x'.repeat(1000) };
    assert.equal(send([{ labels, samples: [[NOW, 1]] }]).status, 204);
    const n = 4100;
    const res = send([{ labels, samples: Array.from({ length: n }, (_, i): [number, number] => [NOW - 1 - i, 1]) }]);
    const lines = res.body.split('\n');
    assert.equal(lines[0], `out of order sample for series {__name__="m", long="${'x'.repeat(1000)}"}`);
    const omitted = /^(\d+) more errors omitted$/.exec(lines[lines.length - 2]!);
    assert.ok(omitted !== null, lines[lines.length - 2]);
    assert.equal(lines.length - 2 + Number(omitted[1]), n);
    assert.ok(res.body.length <= 4 * 1024 * 1024 + 100);
    assert.equal(res.headers['X-Prometheus-Remote-Write-Samples-Written'], '0');
  });

  test('huge label sets neither overflow the stack nor the error texts', () => {
    const { db, send } = mk();
    const many: Array<[string, string]> = Array.from({ length: 150_000 }, (_, i): [string, string] => [`l${i}`, 'v']);
    assert.equal(send([{ labels: [['__name__', 'wide'], ...many], samples: [[NOW, 1]] }]).status, 204);
    assert.equal(db.lookup(Labels.fromList([{ name: '__name__', value: 'wide' }, ...many.map(([name, value]) => ({ name, value }))]))?.labels.length, 150_001);
    const res = send([{ labels: many, samples: [[NOW, 1]] }]);
    assert.match(res.body, /^invalid metric name or labels, got \{l0="v", l1="v", l10="v", .*, \.\.\. \(149000 more labels\)\}\n$/);
  });

  test('samples behind an earlier one of the same request are dropped at commit and still counted, as Prometheus counts them', () => {
    const { db, send } = mk();
    const res = send([
      { labels: { __name__: 'm' }, samples: [[NOW - 1000, 3], [NOW - 3000, 1], [NOW - 1000, 9]] },
      { labels: { __name__: 'm' }, samples: [[NOW - 1500, 4], [NOW, 5]] },
    ]);
    assert.deepEqual(res, { status: 204, body: '', headers: written(5, 0, 0) });
    assert.deepEqual(samples(db, 'm'), [[NOW - 1000, 3], [NOW, 5]]);
  });

  test('series Prometheus refuses: bad references, bad metadata, invalid or duplicate labels, no samples', async () => {
    const { db, send, registry } = mk();
    const res = send([
      { labels: {}, refs: [1, 2, 3], samples: [[NOW, 1]] },
      { labels: {}, refs: [1, 200], samples: [[NOW, 1], [NOW + 1, 1]], histograms: [NOW] },
      { labels: { __name__: 'meta' }, metadata: { type: 1, help: 'h', unit: 'u' }, samples: [[NOW, 1]] },
      { labels: { job: 'no name' }, samples: [[NOW, 1]] },
      { labels: { __name__: '', job: 'empty name' }, samples: [[NOW, 1]] },
      { labels: [['__name__', 'dup'], ['b', '2'], ['b', '1']], samples: [[NOW, 1]] },
      { labels: { __name__: 'bad name', 'a-b': 'v\t"q"' }, samples: [[NOW, 1]] },
      { labels: { __name__: 'nothing' } },
      { labels: { __name__: 'ok', empty: '' }, samples: [[NOW, 2]] },
    ]);
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.split('\n'), [
      'parsing labels for series [1 2 3]: invalid labelRefs length 3',
      'parsing labels for series [1 200]: labelRefs 1 (name) = 200 (value) outside of symbols table (size 18)',
      'invalid metric name or labels, got {job="no name"}',
      'invalid metric name or labels, got {__name__="", job="empty name"}',
      'invalid labels for series, labels {__name__="dup", b="2", b="1"}, duplicated label b',
      'TimeSeries must contain at least one sample or histogram for series {__name__="nothing"}',
      '',
    ]);
    assert.deepEqual(res.headers, { ...written(3, 0, 0), ...ERR_HEADERS });
    // Metric names and label values may be any UTF-8 in Prometheus 3; empty values are dropped.
    assert.deepEqual(samples(db, 'bad name'), [[NOW, 1]]);
    assert.deepEqual(samples(db, 'meta'), [[NOW, 1]]);
    assert.ok(db.lookup(Labels.fromPairs('__name__', 'ok')) !== undefined);
    // Samples and histograms of the refused series, counted per sample.
    assert.equal(await counter(registry, 'prometheus_api_remote_write_invalid_labels_samples_total'), 7);
  });

  test('metadata references outside the symbols table refuse the series (unit checked first)', () => {
    const { h } = mk();
    // Symbols "", "__name__", "m"; TimeSeries{refs [1 2], sample, metadata{help_ref 9, unit_ref 8}}.
    const sample = [0x09, ...Buffer.alloc(8), 0x10, 0x01];
    const ts = [0x0a, 0x02, 0x01, 0x02, 0x12, sample.length, ...sample, 0x2a, 0x04, 0x18, 0x09, 0x20, 0x08];
    const req = [0x22, 0x00, 0x22, 0x08, ...Buffer.from('__name__'), 0x22, 0x01, 0x6d, 0x2a, ts.length, ...ts];
    const res = h.handle(V2, compressSync(Buffer.from(req)));
    assert.equal(res.body, 'parsing metadata for series [1 2]: metadata unit_ref 8 outside of symbols table (size 3)\n');
  });

  test('label texts quote names that need it and show invalid UTF-8 as Go does', () => {
    const { h } = mk();
    // Symbols "", "__name__", "a-b", "\xff"; series {__name__="\xff", "a-b"="\xff"}.
    const sample = [0x09, ...Buffer.alloc(8), 0x10, 0x01];
    const ts = [0x0a, 0x04, 0x01, 0x03, 0x02, 0x03, 0x12, sample.length, ...sample];
    const req = [0x22, 0x00, 0x22, 0x08, ...Buffer.from('__name__'), 0x22, 0x03, ...Buffer.from('a-b'), 0x22, 0x01, 0xff, 0x2a, ts.length, ...ts];
    const res = h.handle(V2, compressSync(Buffer.from(req)));
    assert.equal(res.body, 'invalid metric name or labels, got {__name__="\\xff", "a-b"="\\xff"}\n');
  });

  test('native histograms are written and counted; invalid or too new ones are lines of the 400, the rest is committed', async () => {
    const { db, send, registry } = mk();
    const res = send([
      {
        labels: { __name__: 'h' },
        histograms: [NOW - 1000, NOW + 11 * 60_000, { t: NOW, count: 1, sum: 1, positiveSpans: [[0, 2]], positiveBuckets: [2, -3] }],
        exemplars: [
          { labels: { trace_id: 'a' }, value: 1, t: NOW },
          { labels: { trace_id: 'b' }, value: 1, t: NOW + 11 * 60_000 },
        ],
      },
      { labels: { __name__: 'm' }, samples: [[NOW, 1]], exemplars: [{ labels: {}, value: 2, t: 0 }] },
    ]);
    assert.equal(res.status, 400);
    const lines = res.body.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.equal(lines[0], 'out of bounds: timestamp is too far in the future for series {__name__="h"}');
    assert.match(lines[1]!, /histogram has a bucket whose observation count is negative for series \{__name__="h"\}$/);
    assert.deepEqual(res.headers, { ...written(1, 1, 2), ...ERR_HEADERS });
    assert.equal(db.numSeries(), 2);
    assert.equal(await counter(registry, 'tsprom_remote_write_received_histograms_total'), 1);
    assert.equal(await counter(registry, 'tsprom_remote_write_histograms_invalid_total'), 1);
  });

  test('exemplars with bad references are refused with their series named', () => {
    const { send } = mk();
    const res = send([{ labels: { __name__: 'm' }, samples: [[NOW, 1]], exemplars: [{ labels: { a: 'b' }, value: 1, t: NOW }] }]);
    assert.equal(res.status, 204);
    // Exemplar{labels_refs [1]} appended to a valid series by hand.
    const sample = [0x09, ...Buffer.alloc(8), 0x10, 0x01];
    const ex = [0x0a, 0x01, 0x01];
    const ts = [0x0a, 0x02, 0x01, 0x02, 0x12, sample.length, ...sample, 0x22, ex.length, ...ex];
    const req = [0x22, 0x00, 0x22, 0x08, ...Buffer.from('__name__'), 0x22, 0x01, 0x6e, 0x2a, ts.length, ...ts];
    const bad = mk().h.handle(V2, compressSync(Buffer.from(req)));
    assert.deepEqual(bad, {
      status: 400,
      body: 'parsing exemplar for series {__name__="n"}: invalid labelRefs length 1\n',
      headers: { ...written(1, 0, 0), ...ERR_HEADERS },
    });
  });

  test('a malformed body is a 400 with zero counts and changes nothing', () => {
    const { db, h } = mk();
    const good = encodeWriteV2Request([{ labels: { __name__: 'm' }, samples: [[NOW, 1]] }]);
    const res = h.handle(V2, compressSync(good.subarray(0, good.length - 1)));
    assert.deepEqual(res, { status: 400, body: 'unexpected EOF\n', headers: { ...written(0, 0, 0), ...ERR_HEADERS } });
    assert.equal(db.numSeries(), 0);
    // Snappy and content-type failures come before the message is known: no counts.
    assert.deepEqual(h.handle(V2, Buffer.from('not snappy')).headers, ERR_HEADERS);
  });

  test('series the storage refuses as a whole (series limit, invalid) get one line each; the rest is written', () => {
    const db = new MemoryStorage();
    const storage = {
      appender: () => {
        const app = db.appender();
        return {
          append: (ref: number, ls: Labels, t: number, v: number) => {
            const name = ls.get('__name__');
            if (name === 'new') throw new HeadSeriesLimitError(10);
            if (name === 'wide') throw new InvalidSeriesError('too many labels (70000): invalid sample');
            return app.append(ref, ls, t, v);
          },
          commit: () => app.commit(),
          rollback: () => app.rollback(),
        };
      },
    };
    const h = new RemoteWriteHandler({ storage, now: () => NOW });
    const res = h.handle(
      V2,
      writeV2RequestBody([
        { labels: { __name__: 'new', job: 'j' }, samples: [[NOW - 2, 1], [NOW - 1, 2], [NOW, 3]] },
        { labels: { __name__: 'wide' }, samples: [[NOW, 1]] },
        { labels: { __name__: 'old' }, samples: [[NOW, 4]] },
      ]),
    );
    assert.deepEqual(res, {
      status: 400,
      body: 'head series limit of 10 reached for series {__name__="new", job="j"}\ntoo many labels (70000): invalid sample for series {__name__="wide"}\n',
      headers: { ...written(1, 0, 0), ...ERR_HEADERS },
    });
    assert.deepEqual(samples(db, 'old'), [[NOW, 4]]);
  });

  test('other storage failures roll everything back with a 500 and zero counts', () => {
    let rolledBack = false;
    let committed = false;
    let calls = 0;
    const storage = {
      appender: () => ({
        append: () => {
          if (++calls === 2) throw new Error('disk on fire');
          return 1;
        },
        commit: () => {
          committed = true;
        },
        rollback: () => {
          rolledBack = true;
        },
      }),
    };
    const h = new RemoteWriteHandler({ storage, now: () => NOW });
    const res = h.handle(V2, writeV2RequestBody([{ labels: { __name__: 'm' }, samples: [[NOW - 1, 1], [NOW, 1]] }]));
    assert.deepEqual(res, { status: 500, body: 'disk on fire\n', headers: { ...written(0, 0, 0), ...ERR_HEADERS } });
    assert.ok(rolledBack);
    assert.ok(!committed);
  });
});
