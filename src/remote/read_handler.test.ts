import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { compressSync, uncompressSync } from 'snappy';
import { Labels } from '../model/labels.js';
import { MatchType, Matcher } from '../model/matcher.js';
import { nopLogger } from '../logging/types.js';
import { MemoryStorage } from '../storage/memory.js';
import type { Queryable } from '../storage/interface.js';
import {
  RESPONSE_SAMPLES,
  RESPONSE_STREAMED_XOR_CHUNKS,
  decodeChunkedReadResponse,
  decodeReadResponse,
  encodeReadRequest,
  readFrames,
  type ReadQuery,
} from './read_request.js';
import { RemoteReadHandler, filterExternalLabelMatchers, withExternalLabels, type ReadHandlerOptions } from './read_handler.js';

function storage(): MemoryStorage {
  const s = new MemoryStorage();
  const app = s.appender();
  for (let i = 0; i < 300; i++) {
    app.append(0, Labels.fromPairs('__name__', 'm', 'job', 'a'), i * 1000, i);
    app.append(0, Labels.fromPairs('__name__', 'm', 'job', 'b', 'site', 'own'), i * 1000, -i);
  }
  app.commit();
  return s;
}

function handler(q: Queryable, extra: Partial<ReadHandlerOptions> = {}): RemoteReadHandler {
  return new RemoteReadHandler({
    queryable: q,
    externalLabels: () => Labels.fromPairs('site', 'edge', 'zone', 'z1'),
    sampleLimit: 0,
    concurrencyLimit: 0,
    maxBytesInFrame: 1 << 20,
    logger: nopLogger,
    ...extra,
  });
}

const byName: ReadQuery = { startMs: 0, endMs: 400_000, matchers: [Matcher.create(MatchType.Equal, '__name__', 'm')], hints: null };

function body(queries: ReadQuery[], types: number[]): Buffer {
  return compressSync(encodeReadRequest({ queries, acceptedResponseTypes: types }));
}

async function collect(b: Buffer | AsyncIterable<Buffer>): Promise<Buffer> {
  if (Buffer.isBuffer(b)) return b;
  const parts: Buffer[] = [];
  for await (const p of b) parts.push(p);
  return Buffer.concat(parts);
}

test('external labels: added unless the series has the label; an equality matcher on their value looks for series without them', () => {
  const ext = Labels.fromPairs('site', 'edge');
  assert.equal(withExternalLabels(Labels.fromPairs('a', '1'), ext).toString(), '{a="1", site="edge"}');
  assert.equal(withExternalLabels(Labels.fromPairs('site', 'own'), ext).toString(), '{site="own"}');
  const ms = filterExternalLabelMatchers(
    [Matcher.create(MatchType.Equal, 'site', 'edge'), Matcher.create(MatchType.Equal, 'site', 'other'), Matcher.create(MatchType.Regexp, 'site', 'edge')],
    ext,
  );
  assert.deepEqual(
    ms.map((m) => m.toString()),
    ['site=""', 'site="other"', 'site=~"edge"'],
  );
});

test('SAMPLES: every query answered in order, with the external labels', async () => {
  const h = handler(storage());
  const q2: ReadQuery = { startMs: 10_000, endMs: 12_000, matchers: [Matcher.create(MatchType.Equal, 'job', 'a')], hints: null };
  const r = await h.handle(body([byName, q2], []));
  assert.equal(r.status, 200);
  assert.equal(r.headers['Content-Encoding'], 'snappy');
  const res = decodeReadResponse(uncompressSync(await collect(r.body)) as Buffer);
  assert.equal(res.length, 2);
  assert.deepEqual(res[0]!.map((s) => s.labels.toString()).sort(), ['{__name__="m", job="a", site="edge", zone="z1"}', '{__name__="m", job="b", site="own", zone="z1"}']);
  assert.deepEqual([...res[1]![0]!.timestamps], [10_000, 11_000, 12_000]);
  // site="edge" is the external label's value: series without a site label match.
  const ext = await h.handle(body([{ ...byName, matchers: [Matcher.create(MatchType.Equal, 'site', 'edge')] }], [RESPONSE_SAMPLES]));
  const got = decodeReadResponse(uncompressSync(await collect(ext.body)) as Buffer);
  assert.deepEqual(
    got[0]!.map((s) => s.labels.get('job')),
    ['a'],
  );
});

test('SAMPLES: past the sample limit the answer is a 400', async () => {
  const r = await handler(storage(), { sampleLimit: 599 }).handle(body([byName], []));
  assert.equal(r.status, 400);
  assert.equal((await collect(r.body)).toString(), 'exceeded sample limit (599)\n');
  const ok = await handler(storage(), { sampleLimit: 600 }).handle(body([byName], []));
  assert.equal(ok.status, 200);
});

test('STREAMED_XOR_CHUNKS: series sorted, one per frame, with the query index', async () => {
  const r = await handler(storage()).handle(body([byName, { ...byName, matchers: [Matcher.create(MatchType.Equal, 'job', 'b')] }], [RESPONSE_STREAMED_XOR_CHUNKS]));
  assert.equal(r.status, 200);
  const msgs = [...readFrames(await collect(r.body), 1 << 20)].map(decodeChunkedReadResponse);
  assert.deepEqual(
    msgs.map((m) => [m.queryIndex, m.series[0]!.labels.get('job'), m.series[0]!.chunks.length]),
    [
      [0, 'a', 3],
      [0, 'b', 3],
      [1, 'b', 3],
    ],
  );
});

test('bad bodies and unsupported response types are 400s; storage errors 500s', async () => {
  const h = handler(storage());
  assert.equal((await h.handle(Buffer.from([0xff, 0xff]))).status, 400);
  // One query with {a=~"("}: a well-formed request whose matcher cannot compile fails the query.
  const badRegex = await h.handle(compressSync(Buffer.from([0x0a, 0x0a, 0x1a, 0x08, 0x08, 0x02, 0x12, 0x01, 0x61, 0x1a, 0x01, 0x28])));
  assert.equal(badRegex.status, 500);
  const t = await h.handle(body([byName], [5, 6]));
  assert.equal(t.status, 400);
  assert.match((await collect(t.body)).toString(), /requested response types: \[5 6\]/);
  const failing: Queryable = {
    querier: () => {
      throw new Error('boom');
    },
  };
  const f = await handler(failing).handle(body([byName], [RESPONSE_STREAMED_XOR_CHUNKS]));
  assert.equal(f.status, 500);
  assert.equal((await collect(f.body)).toString(), 'boom\n');
});

test('the concurrency limit queues requests; a stream holds its slot until it ends or is abandoned', async () => {
  const registry = new Registry();
  const h = handler(storage(), { concurrencyLimit: 1, registry });
  const gauge = async (): Promise<number> => (await registry.getSingleMetric('prometheus_remote_read_handler_queries')!.get()).values[0]!.value;
  const first = await h.handle(body([byName], [RESPONSE_STREAMED_XOR_CHUNKS]));
  let secondDone = false;
  const second = h.handle(body([byName], [RESPONSE_SAMPLES])).then((r) => {
    secondDone = true;
    return r;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(secondDone, false);
  assert.equal(await gauge(), 1);
  // The server gives up on the stream (client gone) without reading it.
  const it = (first.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  await it.return!();
  assert.equal((await second).status, 200);
  assert.equal(await gauge(), 0);
});
