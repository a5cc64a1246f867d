import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { Labels } from '../model/labels.js';
import { Matcher, MatchType } from '../model/matcher.js';
import { ValueType } from '../storage/interface.js';
import { openDB, type DB, type DBOptions } from './db.js';
import { FRAME_HEADER, FRAME_LENGTH_MASK, FRAME_SNAPPY, listSegments, segmentName } from './wal/wal.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tmpdir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdb-walc-db-'));
  dirs.push(d);
  return d;
}

const open = (dir: string, opts: DBOptions): Promise<DB> => openDB(dir, { maintenanceIntervalMs: 0, compactOnCommit: false, ...opts });
const labels = Array.from({ length: 100 }, (_, i) => Labels.fromPairs('__name__', 'm', 'i', String(i), 'job', 'api'));

/** One commit per timestamp in [from, to) of every series. */
function fill(db: DB, from: number, to: number): void {
  for (let t = from; t < to; t += 1000) {
    const a = db.appender();
    for (let i = 0; i < labels.length; i++) a.append(0, labels[i]!, t, i + t / 1000);
    a.commit();
  }
}

function dump(db: DB): string[] {
  const q = db.querier(0, Number.MAX_SAFE_INTEGER);
  const out: string[] = [];
  try {
    const ss = q.select(true, null, Matcher.create(MatchType.Equal, '__name__', 'm'));
    while (ss.next()) {
      const it = ss.at().iterator();
      const parts: string[] = [];
      while (it.next() !== ValueType.None) parts.push(`${it.t()}:${it.v()}`);
      out.push(`${ss.at().labels.toString()} ${parts.join(',')}`);
    }
  } finally {
    q.close();
  }
  return out;
}

/** Frame offsets and compression of a WAL segment. */
function frames(file: string): { off: number; compressed: boolean }[] {
  const b = fs.readFileSync(file);
  const out: { off: number; compressed: boolean }[] = [];
  for (let off = 0; off < b.length; off += FRAME_HEADER + (b.readUInt32LE(off) & FRAME_LENGTH_MASK)) out.push({ off, compressed: (b.readUInt32LE(off) & FRAME_SNAPPY) !== 0 });
  return out;
}

test('replay reads a WAL written compressed, then raw, whatever the setting now', async () => {
  const dir = tmpdir();
  let db = await open(dir, {});
  fill(db, 1000, 11_000);
  await db.close();
  db = await open(dir, { walCompression: 'none' });
  fill(db, 11_000, 21_000);
  const want = dump(db);
  await db.close();
  const wal = path.join(dir, 'wal');
  // The first commit (series records) compresses well; commits of 100 compact samples may not shrink and stay raw.
  const kinds = listSegments(wal).map((s) => frames(path.join(wal, segmentName(s))).map((f) => f.compressed));
  assert.equal(kinds.length, 2);
  assert.equal(kinds[0]![0], true);
  assert.ok(kinds[1]!.every((c) => !c));
  for (const walCompression of ['snappy', 'none'] as const) {
    db = await open(dir, { walCompression });
    assert.deepEqual(dump(db), want);
    assert.equal(want.length, 100);
    assert.ok(want.every((s) => s.split(' ').at(-1)!.split(',').length === 20));
    await db.close();
  }
});

test('a torn compressed commit at the end is dropped whole on replay; the commits before it stay', async () => {
  const dir = tmpdir();
  let db = await open(dir, {});
  fill(db, 1000, 10_000);
  const before = dump(db);
  // The last commit brings new series: a record that compresses.
  const a = db.appender();
  for (let i = 0; i < 100; i++) a.append(0, Labels.fromPairs('__name__', 'n', 'i', String(i), 'job', 'api'), 10_000, i);
  a.commit();
  await db.close();
  const file = path.join(dir, 'wal', segmentName(0));
  const fr = frames(file);
  const last = fr.at(-1)!;
  assert.ok(last.compressed);
  fs.truncateSync(file, last.off + FRAME_HEADER + 5);
  const registry = new Registry();
  db = await open(dir, { registry });
  try {
    assert.deepEqual(dump(db), before);
    const m = await registry.getSingleMetric('prometheus_tsdb_wal_corruptions_total')!.get();
    assert.equal(m.values[0]!.value, 1);
    assert.equal(fs.statSync(file).size, last.off);
  } finally {
    await db.close();
  }
});
