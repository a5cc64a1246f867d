// The receiver's fast path (compact decode, series cache, append by ref, decode workers)
// against its full path, on the TSDB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { compressSync } from 'snappy';
import { Matcher, MatchType } from '../model/matcher.js';
import { ValueType, type Appendable, type Appender, type Queryable } from '../storage/interface.js';
import { openDB, type DB } from '../tsdb/db.js';
import { RemoteWriteHandler } from './write_handler.js';
import { encodeWriteRequest, writeRequestBody, writeV2RequestBody, V2_CONTENT_TYPE, type TestSeries } from '../../test/remote_write_proto.js';

const NOW = 1_700_000_000_000;
const V1 = { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' };
const V2 = { 'content-type': V2_CONTENT_TYPE, 'content-encoding': 'snappy' };

async function withDB(fn: (db: DB) => Promise<void>, maxHeadSeries = 0): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsprom-rw-ingest-'));
  const db = await openDB(dir, { maintenanceIntervalMs: 0, compactOnCommit: false, maxHeadSeries });
  try {
    await fn(db);
  } finally {
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The storage's appenders without appendByRef: the receiver takes its full path. */
function labelsOnly(s: Appendable): Appendable {
  return {
    appender: (): Appender => {
      const a = s.appender();
      return {
        append: (ref, ls, t, v) => a.append(ref, ls, t, v),
        commit: () => a.commit(),
        rollback: () => a.rollback(),
      };
    },
  };
}

/** Every sample stored, as `{labels} t v` lines in order. */
function dump(q: Queryable): string[] {
  const qr = q.querier(-Infinity, Infinity);
  const set = qr.select(true, null, Matcher.create(MatchType.Regexp, '__name__', '.+'));
  const out: string[] = [];
  while (set.next()) {
    const s = set.at();
    const it = s.iterator();
    while (it.next() !== ValueType.None) out.push(`${s.labels.toString()} ${it.t()} ${it.v()}`);
  }
  qr.close();
  return out;
}

const sb = (r: { status: number; body: string }): { status: number; body: string } => ({ status: r.status, body: r.body });

/** Requests covering the checks: invalid and duplicate labels, out of order, repeats in a request, label order, too far ahead. */
const REQUESTS: TestSeries[][] = [
  [
    { labels: { __name__: 'a', job: 'x' }, samples: [[NOW, 1], [NOW + 1000, 2]] },
    { labels: { __name__: 'b', job: 'x' }, samples: [[NOW, 3]] },
    { labels: { job: 'no name' }, samples: [[NOW, 4]] },
    { labels: [['__name__', 'c'], ['l', '1'], ['l', '2']], samples: [[NOW, 5]] },
    { labels: { '__name__': 'd', '0bad': 'x' }, samples: [[NOW, 5]] },
  ],
  [
    // Known series; a repeat of `a` in the same request (dropped, as Prometheus drops it); `b` under another label order.
    { labels: { __name__: 'a', job: 'x' }, samples: [[NOW + 2000, 6]] },
    { labels: { __name__: 'a', job: 'x' }, samples: [[NOW + 1500, 7]] },
    { labels: [['job', 'x'], ['__name__', 'b']], samples: [[NOW + 1000, 8]] },
    { labels: { __name__: 'b', job: 'x' }, samples: [[NOW + 500, 9]] },
    { labels: { __name__: 'e', empty: '' }, samples: [[NOW, 10]] },
  ],
  // Out of order against committed data: the whole request is refused.
  [
    { labels: { __name__: 'a', job: 'x' }, samples: [[NOW + 3000, 11]] },
    { labels: { __name__: 'b', job: 'x' }, samples: [[NOW - 1000, 12]] },
  ],
  // Too far ahead.
  [{ labels: { __name__: 'a', job: 'x' }, samples: [[NOW + 3_600_000, 13]] }],
  // A duplicate timestamp with another value.
  [{ labels: { __name__: 'a', job: 'x' }, samples: [[NOW + 2000, 14]] }],
  // Fine again.
  [
    { labels: { __name__: 'a', job: 'x' }, samples: [[NOW + 4000, 15]] },
    { labels: { __name__: 'e', empty: '' }, samples: [[NOW + 4000, 16]] },
  ],
];

test('the fast path answers and stores exactly what the full path does', async () => {
  await withDB(async (fast) => {
    await withDB(async (full) => {
      const hf = new RemoteWriteHandler({ storage: fast, registry: new Registry(), now: () => NOW });
      const hs = new RemoteWriteHandler({ storage: labelsOnly(full), registry: new Registry(), now: () => NOW });
      for (const [i, req] of REQUESTS.entries()) {
        const body = writeRequestBody(req);
        assert.deepEqual(sb(hf.handle(V1, body)), sb(hs.handle(V1, body)), `request ${i}`);
      }
      assert.deepEqual(dump(fast), dump(full));
      assert.ok(dump(fast).length > 5);
    });
  });
});

test('the series limit refuses new series on the fast path as on the full path', async () => {
  await withDB(async (fast) => {
    await withDB(async (full) => {
      const hf = new RemoteWriteHandler({ storage: fast, registry: new Registry(), now: () => NOW });
      const hs = new RemoteWriteHandler({ storage: labelsOnly(full), registry: new Registry(), now: () => NOW });
      const body = writeRequestBody([1, 2, 3].map((i) => ({ labels: { __name__: `m${i}` }, samples: [[NOW, i]] })));
      const r = hf.handle(V1, body);
      assert.equal(r.status, 400);
      assert.deepEqual(sb(r), sb(hs.handle(V1, body)));
      assert.deepEqual(dump(fast), dump(full));
    }, 2);
  }, 2);
});

test('a cached ref that went stale falls back to the labels and caches the new ref', async () => {
  await withDB(async (db) => {
    const dead = new Set<number>();
    const byRefCalls: number[] = [];
    const storage: Appendable = {
      appender: () => {
        const a = db.appender();
        return {
          append: (ref, ls, t, v) => a.append(ref, ls, t, v),
          appendByRef: (ref, t, v) => {
            byRefCalls.push(ref);
            return dead.has(ref) ? 0 : a.appendByRef!(ref, t, v);
          },
          commit: () => a.commit(),
          rollback: () => a.rollback(),
        };
      },
    };
    const h = new RemoteWriteHandler({ storage, registry: new Registry(), now: () => NOW });
    const send = (t: number): number => h.handle(V1, writeRequestBody([{ labels: { __name__: 'up', job: 'a' }, samples: [[t, t]] }])).status;
    assert.equal(send(NOW), 204);
    assert.deepEqual(byRefCalls, [], 'a new series is appended by labels');
    assert.equal(send(NOW + 1), 204);
    assert.equal(byRefCalls.length, 1);
    const ref = byRefCalls[0]!;
    dead.add(ref);
    assert.equal(send(NOW + 2), 204);
    assert.equal(send(NOW + 3), 204);
    // The stale ref was tried once; the labels path gave the series' ref again (the head still has it), cached anew.
    assert.deepEqual(byRefCalls, [ref, ref, ref]);
    assert.equal(dump(db).length, 4);
  });
});

/** A body above the inline threshold (4 KiB compressed), so it goes to a worker. */
function bigBody(offset: number, t: number): Buffer {
  const ss: TestSeries[] = [];
  for (let i = 0; i < 400; i++) ss.push({ labels: { __name__: 'big', series: String(offset + i), pad: `${'p'.repeat(i % 7)}${(i * 7919) % 1000}` }, samples: [[t, i + offset]] });
  const body = writeRequestBody(ss);
  assert.ok(body.length > 4096);
  return body;
}

test('decode workers: answers as inline, including malformed bodies', async () => {
  await withDB(async (db) => {
    await withDB(async (db2) => {
      const hw = new RemoteWriteHandler({ storage: db, registry: new Registry(), now: () => NOW, decodeWorkers: 1 });
      const hi = new RemoteWriteHandler({ storage: db2, registry: new Registry(), now: () => NOW });
      try {
        const good = bigBody(0, NOW);
        const garbage = compressSync(Buffer.concat([encodeWriteRequest([{ labels: { __name__: 'x' }, samples: [[NOW, 1]] }]), Buffer.alloc(5000, 0xff)]));
        const notSnappy = Buffer.alloc(5000, 0xff);
        const withExemplars = writeRequestBody(
          Array.from({ length: 200 }, (_, i) => ({ labels: { __name__: 'ex', i: String(i), pad: 'q'.repeat(20) }, samples: [[NOW, i]] as Array<[number, number]>, exemplars: [{ labels: { trace_id: `t${i}` }, value: i, t: NOW }] })),
        );
        for (const body of [good, garbage, notSnappy, withExemplars, bigBody(0, NOW + 1000)]) {
          assert.deepEqual(sb(await hw.handleAsync(V1, body)), sb(hi.handle(V1, body)));
        }
        assert.deepEqual(dump(db), dump(db2));
      } finally {
        await hw.close();
      }
    });
  });
});

test('decode workers: bodies share reused arenas while they last, later ones allocate; answers and data as inline', async () => {
  await withDB(async (db) => {
    await withDB(async (db2) => {
      const registry = new Registry();
      // One worker: 4 arenas, so 6 bodies at once take both paths.
      const hw = new RemoteWriteHandler({ storage: db, registry, now: () => NOW, decodeWorkers: 1 });
      const hi = new RemoteWriteHandler({ storage: db2, registry: new Registry(), now: () => NOW });
      const arenaBytes = async (): Promise<number> => (await registry.getSingleMetric('tsprom_remote_write_decode_arena_bytes')!.get()).values[0]!.value;
      try {
        let held = 0;
        for (let round = 0; round < 3; round++) {
          const bodies = [0, 1000, 2000, 3000, 4000, 5000].map((off) => bigBody(off, NOW + round * 1000));
          const answers = await Promise.all(bodies.map((b) => hw.handleAsync(V1, b)));
          for (let i = 0; i < bodies.length; i++) assert.deepEqual(sb(answers[i]!), sb(hi.handle(V1, bodies[i]!)));
          if (round === 0) held = await arenaBytes();
          else assert.equal(await arenaBytes(), held, 'arenas are reused, not added');
        }
        assert.equal(held, 4 << 20);
        assert.deepEqual(dump(db), dump(db2));
      } finally {
        await hw.close();
      }
    });
  });
});

test('decode workers: a full queue answers 503 with Retry-After; nothing of that request is stored', async () => {
  await withDB(async (db) => {
    // One worker holds two bodies at a time and nothing may wait: the third request is refused.
    const h = new RemoteWriteHandler({ storage: db, registry: new Registry(), now: () => NOW, decodeWorkers: 1, decodeQueue: 0 });
    try {
      const answers = await Promise.all([0, 1000, 2000].map((off) => h.handleAsync(V1, bigBody(off, NOW))));
      assert.deepEqual(answers.map((a) => a.status), [204, 204, 503]);
      assert.equal(answers[2]!.headers['Retry-After'], '1');
      assert.match(answers[2]!.body, /too many requests waiting/);
      assert.equal(dump(db).length, 800);
      // The refused request succeeds when sent again.
      assert.equal((await h.handleAsync(V1, bigBody(2000, NOW))).status, 204);
      assert.equal(dump(db).length, 1200);
    } finally {
      await h.close();
    }
  });
});

test('2.0: series the cache knows answer and store exactly what the full path does', async () => {
  await withDB(async (fast) => {
    await withDB(async (full) => {
      const hf = new RemoteWriteHandler({ storage: fast, registry: new Registry(), now: () => NOW });
      const hs = new RemoteWriteHandler({ storage: labelsOnly(full), registry: new Registry(), now: () => NOW });
      for (const [i, req] of REQUESTS.entries()) {
        const body = writeV2RequestBody(req);
        const a = hf.handle(V2, body);
        const b = hs.handle(V2, body);
        assert.deepEqual({ ...sb(a), h: a.headers }, { ...sb(b), h: b.headers }, `request ${i}`);
      }
      assert.deepEqual(dump(fast), dump(full));
    });
  });
});
