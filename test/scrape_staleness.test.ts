// Staleness: series that disappear from a target, and targets that go away, get
// staleness markers so queries stop returning them; reloads keep unchanged loops running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryStorage } from '../src/storage/memory.js';
import { ScrapeManager } from '../src/scrape/manager.js';
import { Engine } from '../src/promql/engine/engine.js';
import { isStaleNaN } from '../src/model/value.js';
import { config, readSeries, relabelConfig, scrapeConfig, waitFor } from './fixtures/scrape/helpers.js';

async function serve(body: () => string): Promise<{ srv: http.Server; addr: string }> {
  const srv = http.createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(body());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { srv, addr: `127.0.0.1:${(srv.address() as AddressInfo).port}` };
}

function upCount(db: MemoryStorage, job: string): number {
  return readSeries(db, { job, __name__: 'up' })[0]?.ts.length ?? 0;
}

async function instant(engine: Engine, db: MemoryStorage, q: string, t: number): Promise<number> {
  const r = await engine.newInstantQuery(db, q, t).exec();
  assert.equal(r.value.type, 'vector');
  return r.value.type === 'vector' ? r.value.samples.length : -1;
}

test('a series that disappears is stale at the next scrape', { timeout: 60_000 }, async () => {
  let withB = true;
  const { srv, addr } = await serve(() => 'a 1\n' + (withB ? 'b{x="y"} 2\n' : ''));
  const db = new MemoryStorage();
  const m = new ScrapeManager({ appendable: db, discoveryUpdateIntervalMs: 20 });
  const engine = new Engine();
  try {
    m.applyConfig(config([scrapeConfig({ jobName: 'j', scrapeIntervalMs: 300, scrapeTimeoutMs: 200, staticConfigs: [{ targets: [addr], labels: {} }] })]));
    await waitFor(() => upCount(db, 'j') >= 2, 'two scrapes');
    withB = false;
    const n0 = upCount(db, 'j');
    // The scrape in flight may still have seen b; the one after it cannot.
    await waitFor(() => upCount(db, 'j') >= n0 + 2, 'two more scrapes');
    const b = readSeries(db, { __name__: 'b' })[0]!;
    const staleAt = b.vs.findIndex((v) => isStaleNaN(v));
    assert.ok(staleAt > 0, 'b got a staleness marker');
    assert.equal(staleAt, b.vs.length - 1, 'exactly one marker, and nothing after it');
    const tStale = b.ts[staleAt]!;
    const tLast = b.ts[staleAt - 1]!;
    const up = readSeries(db, { job: 'j', __name__: 'up' })[0]!;
    assert.ok(up.ts.includes(tStale), 'the marker carries the scrape timestamp');
    assert.equal(await instant(engine, db, 'b', tLast), 1);
    assert.equal(await instant(engine, db, 'b', tStale), 0);
    assert.equal(await instant(engine, db, 'a', tStale), 1);
  } finally {
    await m.stop();
    srv.close();
  }
});

test('a target that goes away gets staleness markers for all its series', { timeout: 60_000 }, async () => {
  const { srv, addr } = await serve(() => 'gone_metric 5\n');
  const db = new MemoryStorage();
  const m = new ScrapeManager({ appendable: db, discoveryUpdateIntervalMs: 20 });
  const engine = new Engine();
  try {
    const keep = scrapeConfig({ jobName: 'keep', scrapeIntervalMs: 300, scrapeTimeoutMs: 200, staticConfigs: [{ targets: [addr], labels: {} }] });
    const gone = scrapeConfig({ jobName: 'gone', scrapeIntervalMs: 200, scrapeTimeoutMs: 100, staticConfigs: [{ targets: [addr], labels: {} }] });
    m.applyConfig(config([keep, gone]));
    await waitFor(() => upCount(db, 'gone') >= 2, 'two scrapes');
    m.applyConfig(config([keep]));
    // Prometheus waits just over two intervals (in case the target comes back) before marking.
    await waitFor(() => {
      const up = readSeries(db, { job: 'gone', __name__: 'up' })[0]!;
      return isStaleNaN(up.vs[up.vs.length - 1]!);
    }, 'up marked stale');
    for (const s of readSeries(db, { job: 'gone' })) {
      assert.ok(isStaleNaN(s.vs[s.vs.length - 1]!), `${s.labels.toString()} is stale`);
    }
    const t = readSeries(db, { job: 'gone', __name__: 'up' })[0]!.ts.at(-1)!;
    assert.equal(await instant(engine, db, 'gone_metric{job="gone"}', t), 0);
    assert.equal(await instant(engine, db, 'up{job="gone"}', t), 0);
    assert.deepEqual(m.poolNames(), ['keep']);
  } finally {
    await m.stop();
    srv.close();
  }
});

test('reload keeps unchanged targets scraping and applies changes in place', { timeout: 60_000 }, async () => {
  const { srv, addr } = await serve(() => 'm{k="1"} 1\n');
  const db = new MemoryStorage();
  const m = new ScrapeManager({ appendable: db, discoveryUpdateIntervalMs: 20 });
  try {
    const x = scrapeConfig({ jobName: 'x', scrapeIntervalMs: 300, scrapeTimeoutMs: 200, staticConfigs: [{ targets: [addr], labels: {} }] });
    const y = scrapeConfig({ jobName: 'y', scrapeIntervalMs: 300, scrapeTimeoutMs: 200, staticConfigs: [{ targets: [addr], labels: {} }] });
    m.applyConfig(config([x, y]));
    await waitFor(() => upCount(db, 'x') >= 2 && upCount(db, 'y') >= 2, 'both scraped');
    const tx = m.activeTargets().get('x')![0]!;
    const ty = m.activeTargets().get('y')![0]!;
    const y2 = { ...y, metricRelabelConfigs: [relabelConfig({ targetLabel: 'relabeled', replacement: 'yes' })] };
    m.applyConfig(config([x, y2]));
    const n = upCount(db, 'y');
    await waitFor(() => upCount(db, 'y') >= n + 3 && upCount(db, 'x') >= n + 3, 'scrapes after reload');
    // Same target objects: their loops were not restarted.
    assert.equal(m.activeTargets().get('x')![0], tx);
    assert.equal(m.activeTargets().get('y')![0], ty);
    // No gap for the unchanged job: consecutive scrapes are one interval apart.
    const ts = readSeries(db, { job: 'x', __name__: 'up' })[0]!.ts;
    for (let i = 1; i < ts.length; i++) assert.ok(ts[i]! - ts[i - 1]! < 2 * 300, `gap between ${ts[i - 1]} and ${ts[i]}`);
    // The changed job's new rule applies, and its old series went stale.
    const ys = readSeries(db, { job: 'y', __name__: 'm' });
    const relabeled = ys.find((s) => s.labels.get('relabeled') === 'yes');
    const plain = ys.find((s) => s.labels.get('relabeled') === '');
    assert.ok(relabeled !== undefined && relabeled.vs.length >= 2);
    assert.ok(plain !== undefined && isStaleNaN(plain.vs.at(-1)!));

    // A new interval makes a new target with the same public labels: its series continue
    // under the new loop and the old loop does not mark them stale.
    m.applyConfig(config([{ ...x, scrapeIntervalMs: 200, scrapeTimeoutMs: 150 }, y2]));
    const k = upCount(db, 'x');
    assert.notEqual(m.activeTargets().get('x')![0], tx);
    // Long enough for the old loop's end-of-run markers (two old intervals) to have been due.
    await waitFor(() => upCount(db, 'x') >= k + 5, 'scrapes at the new interval');
    for (const s of readSeries(db, { job: 'x' })) {
      assert.ok(!s.vs.some((v) => isStaleNaN(v)), `${s.labels.toString()} has no staleness marker`);
    }
  } finally {
    await m.stop();
    srv.close();
  }
});
