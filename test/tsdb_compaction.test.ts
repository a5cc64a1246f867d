// Compaction and retention while appends and queries keep running: query
// results over settled data stay the same before, during and after.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Labels } from '../src/model/labels.js';
import { Matcher, MatchType } from '../src/model/matcher.js';
import { ValueType, type Querier } from '../src/storage/interface.js';
import { openDB, type DB } from '../src/tsdb/db.js';

const H = 3_600_000;
const STEP = 60_000;
const SERIES = 40;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmpdir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdb-compact-'));
  dirs.push(d);
  return d;
}

const labels = Array.from({ length: SERIES }, (_, i) => Labels.fromPairs('__name__', i % 2 ? 'gauge' : 'counter', 'i', String(i)));
const value = (i: number, t: number): number => (i % 2 ? Math.sin(t / STEP + i) * 100 : i + t / STEP);

function appendAt(db: DB, t: number): void {
  const a = db.appender();
  for (let i = 0; i < SERIES; i++) a.append(0, labels[i]!, t, value(i, t));
  a.commit();
}

function read(q: Querier, mint: number, maxt: number): string {
  const ss = q.select(true, { start: mint, end: maxt }, Matcher.create(MatchType.Regexp, '__name__', 'gauge|counter'));
  const parts: string[] = [];
  while (ss.next()) {
    const it = ss.at().iterator();
    let s = ss.at().labels.toString();
    while (it.next() !== ValueType.None) s += ` ${it.t()}=${it.v()}`;
    assert.equal(it.err(), null);
    parts.push(s);
  }
  assert.equal(ss.err(), null);
  return parts.join('\n');
}

function query(db: DB, mint: number, maxt: number): string {
  const q = db.querier(mint, maxt);
  try {
    return read(q, mint, maxt);
  } finally {
    q.close();
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('queries return the same data before, during and after compactions under concurrent appends', { timeout: 60_000 }, async () => {
  const db = await openDB(tmpdir(), { maintenanceIntervalMs: 0, compactOnCommit: false, retentionTimeMs: 1000 * H });
  try {
    let t = 0;
    for (; t < 5 * H; t += STEP) appendAt(db, t);
    const settled = 4 * H;
    const expected = query(db, 0, settled);
    assert.ok(expected.length > 0);
    // A querier opened before compaction keeps answering the same afterwards.
    const early = db.querier(0, settled);

    let stop = false;
    let queries = 0;
    const appender = (async () => {
      while (!stop) {
        appendAt(db, t);
        t += STEP;
        await tick();
      }
    })();
    const reader = (async () => {
      while (!stop) {
        assert.equal(query(db, 0, settled), expected, `query ${queries} changed`);
        queries++;
        await tick();
      }
    })();
    // Several rounds: head compactions first, then block compactions as blocks accumulate.
    for (let round = 0; round < 4; round++) {
      while (t < (5 + 3 * (round + 1)) * H) await tick();
      await db.compact();
    }
    stop = true;
    await Promise.all([appender, reader]);

    assert.ok(queries > 5, `queries ran concurrently (${queries})`);
    assert.ok(db.blocks().length >= 2);
    assert.ok(
      db.blocks().some((b) => b.compaction.level > 1),
      'blocks were compacted together',
    );
    assert.equal(read(early, 0, settled), expected);
    early.close();
    assert.equal(query(db, 0, settled), expected);
    // Everything appended during the run is there, once.
    const all = query(db, 0, t);
    const perSeries = (all.split('\n')[0]!.match(/ -?\d+=/g) ?? []).length;
    assert.equal(perSeries, t / STEP);
  } finally {
    await db.close();
  }
});

test('retention deletes old blocks while a querier still reads them', { timeout: 60_000 }, async () => {
  const db = await openDB(tmpdir(), { maintenanceIntervalMs: 0, compactOnCommit: false, retentionTimeMs: 4 * H, maxBlockDurationMs: 2 * H });
  try {
    let t = 0;
    for (; t < 5 * H; t += STEP) appendAt(db, t);
    await db.compact();
    assert.deepEqual(
      db.blocks().map((b) => [b.minTime, b.maxTime]),
      [[0, 2 * H]],
    );
    const old = query(db, 0, 2 * H - 1);
    assert.ok(old.length > 0);
    const q = db.querier(0, 2 * H - 1);
    // Appends continue; the next compactions push the first block out of retention.
    for (; t < 9 * H; t += STEP) appendAt(db, t);
    await db.compact();
    assert.ok(
      db.blocks().every((b) => b.minTime >= 2 * H),
      JSON.stringify(db.blocks().map((b) => [b.minTime / H, b.maxTime / H])),
    );
    assert.equal(query(db, 0, 2 * H - 1), '', 'expired data is gone for new queries');
    // The querier opened before retention ran still reads the deleted block.
    assert.equal(read(q, 0, 2 * H - 1), old);
    q.close();
  } finally {
    await db.close();
  }
});
