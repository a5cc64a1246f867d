import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { Labels } from '../model/labels.js';
import { Matcher, MatchType } from '../model/matcher.js';
import { HeadSeriesLimitError, ValueType } from '../storage/interface.js';
import type { Block } from './block.js';
import { openDB, type DB, type DBOptions } from './db.js';
import type { ChunkMeta } from './index/index.js';
import { DBLockedError } from './fileutil/lock.js';
import { lastCheckpoint } from './wal/checkpoint.js';
import { listSegments } from './wal/wal.js';

const H = 3_600_000;
const dirs: string[] = [];
const dbs: DB[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tmpdir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdb-db-'));
  dirs.push(d);
  return d;
}

async function open(dir: string, opts: DBOptions = {}): Promise<DB> {
  const db = await openDB(dir, { maintenanceIntervalMs: 0, compactOnCommit: false, ...opts });
  dbs.push(db);
  return db;
}

async function closeDB(db: DB): Promise<void> {
  dbs.splice(dbs.indexOf(db), 1);
  await db.close();
}


/** Appends `n` series, one sample per `step` in [from, to), one commit per timestamp. */
function fill(db: DB, n: number, from: number, to: number, step: number, name = 'm'): number {
  const refs = new Array<number>(n).fill(0);
  const labels = Array.from({ length: n }, (_, i) => Labels.fromPairs('__name__', name, 'i', String(i), 'job', `j${i % 3}`));
  let count = 0;
  for (let t = from; t < to; t += step) {
    const a = db.appender();
    for (let i = 0; i < n; i++) refs[i] = a.append(refs[i]!, labels[i]!, t, i * 1000 + t / step);
    a.commit();
    count += n;
  }
  return count;
}

/** Everything a query returns, as a comparable string per series. */
function dump(db: DB, mint: number, maxt: number, ...ms: Matcher[]): Map<string, string> {
  const q = db.querier(mint, maxt);
  const out = new Map<string, string>();
  try {
    const ss = q.select(true, null, ...(ms.length ? ms : [Matcher.create(MatchType.Regexp, '__name__', '.+')]));
    while (ss.next()) {
      const it = ss.at().iterator();
      const parts: string[] = [];
      while (it.next() !== ValueType.None) parts.push(`${it.t()}:${it.v()}`);
      assert.equal(it.err(), null);
      out.set(ss.at().labels.toString(), parts.join(','));
    }
    assert.equal(ss.err(), null);
  } finally {
    q.close();
  }
  return out;
}

function countSamples(m: Map<string, string>): number {
  let n = 0;
  for (const v of m.values()) n += v === '' ? 0 : v.split(',').length;
  return n;
}

describe('DB', () => {
  test('appends survive a restart through WAL replay', async () => {
    const dir = tmpdir();
    let progress = 0;
    let db = await open(dir);
    const n = fill(db, 20, 0, 300_000, 15_000);
    const before = dump(db, 0, Infinity);
    assert.equal(countSamples(before), n);
    await closeDB(db);
    db = await open(dir, { onReplayProgress: () => progress++ });
    assert.deepEqual(dump(db, 0, Infinity), before);
    assert.ok(progress > 0);
    const st = db.walReplayStatus();
    assert.equal(st.current, st.max);
    // New appends continue the old series (refs and order kept).
    const a = db.appender();
    a.append(0, Labels.fromPairs('__name__', 'm', 'i', '0', 'job', 'j0'), 300_000, 42);
    a.commit();
    assert.equal(countSamples(dump(db, 0, Infinity)), n + 1);
  });

  test('WAL replay keeps every series even past a newly lowered series limit; only new series are refused', async () => {
    const dir = tmpdir();
    let db = await open(dir);
    fill(db, 20, 0, 60_000, 15_000);
    await closeDB(db);
    db = await open(dir, { maxHeadSeries: 5 });
    assert.equal(db.head.numSeries, 20);
    assert.deepEqual(db.headStats(1).headSeriesLimit, { maxSeries: 5, numSeries: 20, ratio: 4 });
    const a = db.appender();
    a.append(0, Labels.fromPairs('__name__', 'm', 'i', '0', 'job', 'j0'), 60_000, 1);
    assert.throws(() => a.append(0, Labels.fromPairs('__name__', 'new'), 60_000, 1), HeadSeriesLimitError);
    a.commit();
    assert.equal(db.head.numSeries, 20);
  });

  test('an appender committing after close fails, and nothing reaches the closed WAL', async () => {
    const dir = tmpdir();
    const db = await open(dir);
    const app = db.appender();
    app.append(0, Labels.fromPairs('__name__', 'late'), 1000, 1);
    await closeDB(db);
    assert.throws(() => app.commit(), /tsdb: database is closed/);
    assert.throws(() => db.appender(), /tsdb: database is closed/);
    const again = await open(dir);
    assert.equal(again.head.numSeries, 0);
  });

  test('a second open of the same directory fails with a clear error', async () => {
    const dir = tmpdir();
    await open(dir);
    await assert.rejects(openDB(dir), (e: Error) => e instanceof DBLockedError && /already open/.test(e.message));
  });

  test('a lock file left by a dead process is taken over', async () => {
    const dir = tmpdir();
    // PID 2^22+1 is above Linux's default pid_max; no process has it.
    fs.writeFileSync(path.join(dir, 'lock'), `${2 ** 22 + 1}\n`);
    const db = await open(dir);
    assert.equal(fs.readFileSync(path.join(dir, 'lock'), 'utf8'), `${process.pid}\n`);
    await closeDB(db);
    assert.equal(fs.existsSync(path.join(dir, 'lock')), false);
  });

  test('head compaction writes blocks, truncates head and WAL, and queries do not change', async () => {
    const dir = tmpdir();
    const registry = new Registry();
    let db = await open(dir, { walSegmentSizeBytes: 32 * 1024, registry });
    fill(db, 30, 0, 9 * H, 60_000);
    const before = dump(db, 0, Infinity);
    const segsBefore = listSegments(path.join(dir, 'wal')).length;
    await db.compact();
    const blocks = db.blocks();
    assert.ok(blocks.length >= 2, `blocks: ${blocks.length}`);
    for (const b of blocks) {
      assert.ok(b.maxTime - b.minTime <= 6 * H);
      assert.ok(b.stats.numSamples > 0 && b.size > 0);
    }
    assert.ok(db.head.minTime >= 6 * H);
    assert.deepEqual(dump(db, 0, Infinity), before);
    assert.ok(lastCheckpoint(path.join(dir, 'wal')) !== null, 'a checkpoint was written');
    assert.ok(listSegments(path.join(dir, 'wal')).length < segsBefore + 1);
    const text = await registry.metrics();
    assert.match(text, /prometheus_tsdb_compactions_total \d+/);
    assert.match(text, /prometheus_tsdb_blocks_loaded \d+/);
    assert.match(text, /prometheus_tsdb_head_series 30/);
    assert.match(text, /prometheus_tsdb_checkpoint_creations_total [1-9]/);
    // Restart: blocks + checkpoint + remaining segments give the same data.
    await closeDB(db);
    db = await open(dir, { walSegmentSizeBytes: 32 * 1024, registry });
    assert.deepEqual(dump(db, 0, Infinity), before);
    // Samples in the range now covered by blocks are rejected.
    const a = db.appender();
    assert.throws(() => a.append(0, Labels.fromPairs('__name__', 'm', 'i', '0', 'job', 'j0'), H, 1), /out of bounds/);
    a.rollback();
  });

  test('a block reads the selected series from its index one at a time; an index error ends the set through err()', async () => {
    const db = await open(tmpdir());
    fill(db, 30, 0, 9 * H, 60_000);
    await db.compact();
    const index = (db as unknown as { loaded: Block[] }).loaded[0]!.index;
    const series = index.series;
    let reads = 0;
    index.series = function (this: typeof index, id: number, out: ChunkMeta[] | null) {
      reads++;
      if (reads === 3) throw new Error('unreadable series entry');
      return series.call(this, id, out);
    };
    try {
      const q = db.querier(0, H);
      const ss = q.select(false, null, Matcher.create(MatchType.Equal, '__name__', 'm'));
      assert.equal(reads, 0, 'select itself reads no series');
      assert.ok(ss.next());
      assert.equal(reads, 1);
      assert.equal(ss.at().labels.get('__name__'), 'm');
      assert.ok(ss.next());
      assert.equal(ss.next(), false);
      assert.equal(ss.err()?.message, 'unreadable series entry');
      q.close();
    } finally {
      index.series = series;
    }
  });

  test('blocks are compacted into larger ranges', async () => {
    const dir = tmpdir();
    const db = await open(dir);
    fill(db, 5, 0, 16 * H, 5 * 60_000);
    const before = dump(db, 0, Infinity);
    await db.compact();
    const bs = db.blocks();
    assert.ok(
      bs.some((b) => b.compaction.level > 1 && b.maxTime - b.minTime === 6 * H),
      JSON.stringify(bs.map((b) => [b.minTime / H, b.maxTime / H, b.compaction.level])),
    );
    // No overlap remains and nothing got lost.
    for (let i = 1; i < bs.length; i++) assert.ok(bs[i]!.minTime >= bs[i - 1]!.maxTime);
    assert.deepEqual(dump(db, 0, Infinity), before);
    assert.equal(fs.readdirSync(dir).filter((n) => n.includes('tmp')).length, 0);
  });

  test('time retention deletes the oldest blocks', async () => {
    const dir = tmpdir();
    const db = await open(dir, { retentionTimeMs: 6 * H, maxBlockDurationMs: 2 * H });
    fill(db, 3, 0, 20 * H, 10 * 60_000);
    await db.compact();
    const bs = db.blocks();
    const newest = Math.max(...bs.map((b) => b.maxTime));
    for (const b of bs) assert.ok(newest - b.maxTime < 6 * H, `kept block ending at ${b.maxTime / H}h`);
    assert.ok(db.startTime() >= newest - 8 * H);
    assert.equal(dump(db, 0, 2 * H).size, 0);
  });

  test('size retention keeps the total under the limit', async () => {
    const dir = tmpdir();
    const probe = await open(dir, { maxBlockDurationMs: 2 * H });
    fill(probe, 20, 0, 12 * H, 60_000);
    await probe.compact();
    const sizes = probe.blocks().map((b) => b.size);
    await closeDB(probe);
    const limit = Math.floor(sizes.reduce((a, b) => a + b, 0) * 0.6);
    const db = await open(dir, { maxBlockDurationMs: 2 * H, retentionSizeBytes: limit });
    await db.compact();
    const total = db.blocks().reduce((n, b) => n + b.size, 0);
    assert.ok(total <= limit, `${total} > ${limit}`);
    assert.ok(db.blocks().length < sizes.length);
  });

  test('deleteSeries hides data in head and blocks, survives restart, and cleanTombstones rewrites blocks', async () => {
    const dir = tmpdir();
    let db = await open(dir);
    fill(db, 4, 0, 6 * H, 10 * 60_000);
    await db.compact();
    assert.ok(db.blocks().length > 0);
    const i1 = Matcher.create(MatchType.Equal, 'i', '1');
    db.deleteSeries(0, 10 * H, [i1]);
    db.deleteSeries(H, 5 * H, [Matcher.create(MatchType.Equal, 'i', '2')]);
    const after = dump(db, 0, Infinity);
    assert.equal([...after.keys()].some((k) => k.includes('i="1"')), false);
    const i2 = [...after.entries()].find(([k]) => k.includes('i="2"'))![1].split(',');
    for (const s of i2) {
      const t = Number(s.split(':')[0]);
      assert.ok(t < H || t > 5 * H);
    }
    await closeDB(db);
    db = await open(dir);
    assert.deepEqual(dump(db, 0, Infinity), after);
    const ulidsBefore = db.blocks().map((b) => b.ulid);
    await db.cleanTombstones();
    assert.ok(db.blocks().every((b) => b.stats.numTombstones === 0));
    assert.notDeepEqual(
      db.blocks().map((b) => b.ulid),
      ulidsBefore,
    );
    assert.deepEqual(dump(db, 0, Infinity), after);
  });

  test('snapshot copies blocks and the head into a directory that opens as a database', async () => {
    const dir = tmpdir();
    const db = await open(dir);
    fill(db, 5, 0, 5 * H, 10 * 60_000);
    await db.compact();
    const before = dump(db, 0, Infinity);
    const snap = path.join(tmpdir(), 'snap');
    await db.snapshot(snap, true);
    const copy = await open(snap);
    assert.deepEqual(dump(copy, 0, Infinity), before);
  });

  test('headStats and blocks describe the contents', async () => {
    const db = await open(tmpdir());
    fill(db, 6, 0, 60_000, 15_000);
    const st = db.headStats(10);
    assert.equal(st.headStats.numSeries, 6);
    assert.equal(st.headStats.maxTime, 45_000);
    assert.deepEqual(st.seriesCountByMetricName, [{ name: 'm', value: 6 }]);
    assert.deepEqual(db.blocks(), []);
    assert.equal(db.startTime(), 0);
  });

  test('background compaction runs when the head becomes compactable', async () => {
    const dir = tmpdir();
    const db = await open(dir, { compactOnCommit: true });
    fill(db, 2, 0, 4 * H, 60_000);
    for (let i = 0; i < 50 && db.blocks().length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(db.blocks().length > 0);
  });
});
