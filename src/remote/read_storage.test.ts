// The fanout of local data and remote_read endpoints, against remote read
// servers in this process (RemoteReadHandler over in-memory stores).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../config/load.js';
import { Labels } from '../model/labels.js';
import { MatchType, Matcher } from '../model/matcher.js';
import { nopLogger } from '../logging/types.js';
import { MemoryStorage } from '../storage/memory.js';
import { ValueType, type Querier, type Queryable } from '../storage/interface.js';
import { compressSync, uncompressSync } from 'snappy';
import { RemoteReadHandler } from './read_handler.js';
import { decodeReadRequest, encodeReadRequest } from './read_request.js';
import { RemoteReadStorage, addExternalLabels, requiredMatchersMet, type LocalQueryable } from './read_storage.js';

interface Remote {
  url: string;
  store: MemoryStorage;
  /** [mint, maxt] of every querier the remote opened. */
  ranges: Array<[number, number]>;
  server: http.Server;
}

/** A remote read server over an in-memory store; samplesOnly plays an old server that answers SAMPLES whatever is asked. */
async function startRemote(samplesOnly = false): Promise<Remote> {
  const store = new MemoryStorage();
  const ranges: Array<[number, number]> = [];
  const recording: Queryable = {
    querier: (mint, maxt) => {
      ranges.push([mint, maxt]);
      return store.querier(mint, maxt);
    },
  };
  const h = new RemoteReadHandler({ queryable: recording, externalLabels: () => Labels.EMPTY, sampleLimit: 0, concurrencyLimit: 0, maxBytesInFrame: 1 << 20, logger: nopLogger });
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      let body: Buffer = Buffer.concat(parts);
      if (samplesOnly) body = compressSync(encodeReadRequest({ ...decodeReadRequest(uncompressSync(body) as Buffer), acceptedResponseTypes: [] }));
      void h.handle(body).then(async (r) => {
        res.writeHead(r.status, r.headers);
        if (Buffer.isBuffer(r.body)) res.end(r.body);
        else {
          for await (const part of r.body) res.write(part);
          res.end();
        }
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/read`, store, ranges, server };
}

function put(s: MemoryStorage, labels: Labels, samples: Array<[number, number]>): void {
  const app = s.appender();
  for (const [t, v] of samples) app.append(0, labels, t, v);
  app.commit();
}

/** Selects, awaits the remotes, and reads every series' samples. */
async function select(q: Querier, ...ms: Matcher[]): Promise<{ series: Record<string, Array<[number, number]>>; warnings: readonly string[] }> {
  const set = q.select(false, { start: 0, end: 1e9 }, ...ms);
  await q.ready?.();
  const series: Record<string, Array<[number, number]>> = {};
  while (set.next()) {
    const s = set.at();
    const it = s.iterator();
    const out: Array<[number, number]> = [];
    while (it.next() !== ValueType.None) out.push([it.t(), it.v()]);
    series[s.labels.toString()] = out;
  }
  assert.equal(set.err(), null);
  q.close();
  return { series, warnings: set.warnings() };
}

let remote: Remote;
const up = Labels.fromPairs('__name__', 'up', 'job', 'a');
const name = Matcher.create(MatchType.Equal, '__name__', 'up');

before(async () => {
  remote = await startRemote();
  put(remote.store, up, [
    [1000, 1],
    [2000, 2],
    [3000, 3],
  ]);
  put(remote.store, Labels.fromPairs('__name__', 'up', 'job', 'b', 'site', 'e1'), [[1000, 10]]);
});

after(() => {
  remote.server.close();
});

function fanout(yaml: string, local: LocalQueryable): { rs: RemoteReadStorage; q: Queryable } {
  const rs = new RemoteReadStorage({ logger: nopLogger, maxSamples: 1000 });
  rs.applyConfig(loadConfig(yaml));
  return { rs, q: rs.queryable(local) };
}

test('read_recent: remote and local series merged, the local sample winning at equal timestamps (streamed and SAMPLES answers)', async () => {
  const local = new MemoryStorage();
  put(local, up, [
    [3000, 30],
    [4000, 40],
  ]);
  const old = await startRemote(true);
  put(old.store, up, [
    [1000, 1],
    [2000, 2],
    [3000, 3],
  ]);
  try {
    for (const url of [remote.url, old.url]) {
      const { rs, q } = fanout(`remote_read:\n  - url: ${url}\n    read_recent: true\n`, local);
      const got = await select(q.querier(0, 10_000), name);
      assert.deepEqual(got.series[up.toString()], [
        [1000, 1],
        [2000, 2],
        [3000, 30],
        [4000, 40],
      ]);
      assert.equal(Object.keys(got.series).length, url === remote.url ? 2 : 1);
      assert.deepEqual(got.warnings, []);
      rs.close();
    }
  } finally {
    old.server.close();
  }
});

test('streamed answers hold whole chunks: samples outside the asked range are dropped', async () => {
  const local = new MemoryStorage();
  put(local, up, [[2500, 25]]);
  const { rs, q } = fanout(`remote_read:\n  - url: ${remote.url}\n    read_recent: true\n`, local);
  const got = await select(q.querier(1500, 2600), name);
  assert.deepEqual(got.series[up.toString()], [
    [2000, 2],
    [2500, 25],
  ]);
  rs.close();
});

test('without read_recent the remote is asked only up to the local start, and not at all after it', async () => {
  const local = new MemoryStorage();
  put(local, up, [[2500, 25]]);
  const { rs, q } = fanout(`remote_read:\n  - url: ${remote.url}\n`, local);
  remote.ranges.length = 0;
  const got = await select(q.querier(0, 10_000), name);
  assert.deepEqual(remote.ranges, [[0, 2500]]);
  assert.deepEqual(got.series[up.toString()], [
    [1000, 1],
    [2000, 2],
    [2500, 25],
  ]);
  const later = await select(q.querier(3000, 10_000), name);
  assert.deepEqual(remote.ranges, [[0, 2500]]);
  assert.deepEqual(later.series, {});
  rs.close();
});

test('required_matchers, and external labels sent as matchers then removed (unless filter_external_labels is false)', async () => {
  const local = new MemoryStorage();
  const yaml = (filter: boolean): string =>
    `global:\n  external_labels:\n    site: e1\nremote_read:\n  - url: ${remote.url}\n    read_recent: true\n    filter_external_labels: ${filter}\n    required_matchers:\n      job: b\n`;
  let { rs, q } = fanout(yaml(true), local);
  assert.deepEqual((await select(q.querier(0, 10_000), name)).series, {});
  const hit = await select(q.querier(0, 10_000), name, Matcher.create(MatchType.Equal, 'job', 'b'));
  assert.deepEqual(Object.keys(hit.series), ['{__name__="up", job="b"}']);
  rs.close();
  ({ rs, q } = fanout(yaml(false), local));
  const raw = await select(q.querier(0, 10_000), name, Matcher.create(MatchType.Equal, 'job', 'b'));
  assert.deepEqual(Object.keys(raw.series), ['{__name__="up", job="b", site="e1"}']);
  rs.close();
  assert.equal(requiredMatchersMet({ job: 'b' }, [Matcher.create(MatchType.Regexp, 'job', 'b')]), false);
  assert.deepEqual(addExternalLabels([Matcher.create(MatchType.NotEqual, 'site', 'x')], Labels.fromPairs('site', 'e1', 'z', '1')).added, ['z']);
});

test('a failing remote, or one answering more samples than allowed, is a warning and contributes nothing', async () => {
  const local = new MemoryStorage();
  put(local, up, [[5000, 5]]);
  const { rs, q } = fanout(`remote_read:\n  - url: http://127.0.0.1:1/api/v1/read\n    read_recent: true\n`, local);
  const got = await select(q.querier(0, 10_000), name);
  assert.deepEqual(got.series, { [up.toString()]: [[5000, 5]] });
  assert.equal(got.warnings.length, 1);
  assert.match(got.warnings[0]!, /^remote_read: /);
  rs.close();
  const small = new RemoteReadStorage({ logger: nopLogger, maxSamples: 2 });
  small.applyConfig(loadConfig(`remote_read:\n  - url: ${remote.url}\n    read_recent: true\n`));
  const capped = await select(small.queryable(local).querier(0, 10_000), name);
  assert.match(capped.warnings[0]!, /more than the 2 samples a query may load/);
  small.close();
});

test('without remote_read the local querier is used as it is', () => {
  const local = new MemoryStorage();
  const rs = new RemoteReadStorage({ logger: nopLogger, maxSamples: 0 });
  rs.applyConfig(loadConfig(''));
  assert.equal(rs.queryable(local).querier(0, 1).ready, undefined);
  rs.applyConfig(loadConfig(`remote_read:\n  - url: ${remote.url}\n`));
  assert.notEqual(rs.queryable(local).querier(0, 1).ready, undefined);
  rs.close();
});
