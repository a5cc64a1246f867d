import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { Labels } from '../model/labels.js';
import { Matcher, MatchType } from '../model/matcher.js';
import { ExemplarLabelLengthError, OutOfOrderExemplarError, UnknownSeriesError, type Exemplar } from '../storage/interface.js';
import { openDB, type DB, type DBOptions } from './db.js';
import { checkpointSegments, lastCheckpoint } from './wal/checkpoint.js';
import { decodeRecord, type RecordHandler } from './record/record.js';
import { SegmentReader } from './wal/wal.js';

const H = 3_600_000;
const dirs: string[] = [];
const dbs: DB[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tmpdir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdb-ex-'));
  dirs.push(d);
  return d;
}

async function open(dir: string, opts: DBOptions = {}): Promise<DB> {
  const db = await openDB(dir, { maintenanceIntervalMs: 0, compactOnCommit: false, maxExemplars: 100, ...opts });
  dbs.push(db);
  return db;
}

async function closeDB(db: DB): Promise<void> {
  dbs.splice(dbs.indexOf(db), 1);
  await db.close();
}

const ALL = [[Matcher.create(MatchType.Regexp, '__name__', '.+')]];
const M = Labels.fromPairs('__name__', 'm', 'job', 'a');

function ex(ts: number, value: number, trace = 'abc'): Exemplar {
  return { labels: Labels.fromPairs('trace_id', trace), value, ts, hasTs: true };
}

/** series -> [ts, value, trace_id] of every exemplar. */
function dump(db: DB, start = -Infinity, end = Infinity): Record<string, [number, number, string][]> {
  const out: Record<string, [number, number, string][]> = {};
  for (const r of db.exemplarQuerier().select(start, end, ALL)) {
    out[r.seriesLabels.toString()] = r.exemplars.map((e) => [e.ts, e.value, e.labels.get('trace_id')]);
  }
  return out;
}

describe('TSDB exemplars', () => {
  test('exemplars become visible on commit, not before, and not after a rollback', async () => {
    const db = await open(tmpdir());
    const a = db.appender();
    const ref = a.append(0, M, 1000, 1);
    assert.equal(a.appendExemplar!(ref, M, ex(1000, 1)), ref);
    assert.deepEqual(dump(db), {});
    a.commit();
    assert.deepEqual(dump(db), { '{__name__="m", job="a"}': [[1000, 1, 'abc']] });
    const b = db.appender();
    b.append(ref, M, 2000, 2);
    b.appendExemplar!(ref, M, ex(2000, 2));
    b.rollback();
    assert.equal(Object.values(dump(db))[0]!.length, 1);
  });

  test('appendExemplar refuses unknown series, too long labels and out-of-order exemplars; repeats return 0', async () => {
    const db = await open(tmpdir());
    const a = db.appender();
    assert.throws(() => a.appendExemplar!(0, Labels.fromPairs('__name__', 'nope'), ex(1, 1)), UnknownSeriesError);
    const ref = a.append(0, M, 1000, 1);
    // Found by labels when the ref is 0.
    assert.equal(a.appendExemplar!(0, M, ex(1000, 1)), ref);
    assert.throws(() => a.appendExemplar!(ref, M, { ...ex(1000, 1), labels: Labels.fromPairs('trace_id', 'x'.repeat(200)) }), ExemplarLabelLengthError);
    a.commit();
    const b = db.appender();
    assert.equal(b.appendExemplar!(ref, M, ex(1000, 1)), 0);
    assert.throws(() => b.appendExemplar!(ref, M, ex(999, 1)), OutOfOrderExemplarError);
    b.rollback();
  });

  test('with exemplar storage off, appenders have no appendExemplar and the querier is empty', async () => {
    const db = await open(tmpdir(), { maxExemplars: undefined });
    const a = db.appender();
    a.append(0, M, 1000, 1);
    assert.equal(a.appendExemplar, undefined);
    a.commit();
    assert.deepEqual(db.exemplarQuerier().select(0, 5000, ALL), []);
  });

  test('exemplars survive a restart through the WAL, also for a series whose only news was an exemplar', async () => {
    const dir = tmpdir();
    let db = await open(dir);
    const a = db.appender();
    const ref = a.append(0, M, 1000, 1);
    a.appendExemplar!(ref, M, ex(1000, 1, 'one'));
    a.commit();
    const b = db.appender();
    // The sample repeats (dropped as a duplicate); the exemplar is new.
    b.append(ref, M, 1000, 1);
    b.appendExemplar!(ref, M, ex(1500, 7, 'two'));
    b.commit();
    const before = dump(db);
    assert.equal(before['{__name__="m", job="a"}']!.length, 2);
    await closeDB(db);
    db = await open(dir);
    assert.deepEqual(dump(db), before);
    // Replayed without a timestamp flag, the same exemplar is still recognised as a repeat.
    const c = db.appender();
    assert.equal(c.appendExemplar!(ref, M, ex(1500, 7, 'two')), 0);
    c.rollback();
    // Opened with storage off, the records are skipped.
    await closeDB(db);
    db = await open(dir, { maxExemplars: undefined });
    assert.deepEqual(dump(db), {});
    await closeDB(db);
    // Opened smaller, the newest fit.
    db = await open(dir, { maxExemplars: 1 });
    assert.deepEqual(dump(db), { '{__name__="m", job="a"}': [[1500, 7, 'two']] });
  });

  test('resizeExemplars keeps the newest; the metrics follow', async () => {
    const registry = new Registry();
    const db = await open(tmpdir(), { maxExemplars: 10, registry });
    for (let t = 1; t <= 8; t++) {
      const a = db.appender();
      const ref = a.append(0, M, t * 1000, t);
      a.appendExemplar!(ref, M, ex(t * 1000, t));
      a.commit();
    }
    db.resizeExemplars(3);
    assert.deepEqual(
      dump(db)['{__name__="m", job="a"}']!.map((x) => x[0]),
      [6000, 7000, 8000],
    );
    const text = await registry.metrics();
    assert.match(text, /prometheus_tsdb_exemplar_max_exemplars 3/);
    assert.match(text, /prometheus_tsdb_exemplar_exemplars_in_storage 3/);
    assert.match(text, /prometheus_tsdb_exemplar_exemplars_appended_total 8/);
    assert.match(text, /prometheus_tsdb_exemplar_series_with_exemplars_in_storage 1/);
    assert.match(text, /prometheus_tsdb_exemplar_last_exemplars_timestamp_seconds 6/);
  });

  test('checkpoints keep the exemplars of live series at or after the truncation time', async () => {
    const dir = tmpdir();
    let db = await open(dir, { walSegmentSizeBytes: 16 * 1024 });
    const gone = Labels.fromPairs('__name__', 'gone');
    // 9 hours of one sample a minute with an exemplar every 10 minutes; "gone" stops after the first hour.
    for (let t = 0; t < 9 * H; t += 60_000) {
      const a = db.appender();
      const ref = a.append(0, M, t, t);
      if (t % 600_000 === 0) a.appendExemplar!(ref, M, ex(t, t));
      if (t < H) {
        const g = a.append(0, gone, t, 1);
        if (t % 600_000 === 0) a.appendExemplar!(g, gone, ex(t, 1));
      }
      a.commit();
    }
    await db.compact();
    const cp = lastCheckpoint(path.join(dir, 'wal'));
    assert.ok(cp !== null, 'a checkpoint was written');
    const inCheckpoint: [number, number][] = [];
    const h: RecordHandler = { series: () => undefined, sample: () => undefined, tombstone: () => undefined, exemplar: (ref, t) => inCheckpoint.push([ref, t]) };
    for (const f of checkpointSegments(cp.dir)) {
      const r = new SegmentReader(fs.readFileSync(f), f);
      while (r.next()) {
        decodeRecord(r.buf, r.start, r.end, h);
        r.accept();
      }
    }
    assert.ok(inCheckpoint.length > 0, 'exemplars in the checkpoint');
    // Every truncation's time is at least the end of the first block.
    const firstEnd = Math.min(...db.blocks().map((b) => b.maxTime));
    const mint = db.head.minTime;
    const refM = db.head.series.refOf[db.head.series.slotByLabels(M)]!;
    for (const [ref, t] of inCheckpoint) {
      assert.equal(ref, refM, 'only the live series');
      assert.ok(t >= firstEnd, `t ${t} kept`);
    }
    // Exemplars are in memory regardless of compaction; after a restart those of live series come back from checkpoint + WAL.
    const live = dump(db, mint)['{__name__="m", job="a"}'];
    await closeDB(db);
    db = await open(dir, { walSegmentSizeBytes: 16 * 1024 });
    assert.deepEqual(dump(db, mint)['{__name__="m", job="a"}'], live);
    assert.equal(dump(db)['{__name__="gone"}'], undefined);
  });
});
