// Corruption tests: damaged WAL segments, checkpoints and blocks. The
// database must open, keep everything before the damage, and report it (log
// line + prometheus_tsdb_wal_corruptions_total).
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import type { LogFields, Logger } from '../src/logging/types.js';
import { Labels } from '../src/model/labels.js';
import { Matcher, MatchType } from '../src/model/matcher.js';
import { ValueType } from '../src/storage/interface.js';
import { openDB, type DB, type DBOptions } from '../src/tsdb/db.js';
import { checkpointSegments, lastCheckpoint } from '../src/tsdb/wal/checkpoint.js';
import { FRAME_LENGTH_MASK, listSegments, segmentName } from '../src/tsdb/wal/wal.js';

const H = 3_600_000;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmpdir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdb-corrupt-'));
  dirs.push(d);
  return d;
}

class CaptureLogger implements Logger {
  constructor(readonly lines: { level: string; msg: string; fields: LogFields }[] = []) {}
  debug(msg: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'debug', msg, fields });
  }
  info(msg: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'info', msg, fields });
  }
  warn(msg: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'warn', msg, fields });
  }
  error(msg: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'error', msg, fields });
  }
  with(): Logger {
    return this;
  }
}

const base: DBOptions = { maintenanceIntervalMs: 0, compactOnCommit: false };

/** One commit per timestamp for `n` series; returns the timestamps written. */
function writeBatches(db: DB, n: number, from: number, count: number, step: number): number[] {
  const ts: number[] = [];
  for (let k = 0; k < count; k++) {
    const t = from + k * step;
    const a = db.appender();
    for (let i = 0; i < n; i++) a.append(0, Labels.fromPairs('__name__', 'c', 'i', String(i)), t, t + i);
    a.commit();
    ts.push(t);
  }
  return ts;
}

/** Timestamps present per series. */
function timestamps(db: DB): Map<string, number[]> {
  const q = db.querier(-Infinity, Infinity);
  const out = new Map<string, number[]>();
  const ss = q.select(true, null, Matcher.create(MatchType.Equal, '__name__', 'c'));
  while (ss.next()) {
    const it = ss.at().iterator();
    const ts: number[] = [];
    while (it.next() !== ValueType.None) ts.push(it.t());
    out.set(ss.at().labels.get('i'), ts);
  }
  q.close();
  return out;
}

async function corruptions(reg: Registry): Promise<number> {
  const m = (await reg.getMetricsAsJSON()).find((x) => x.name === 'prometheus_tsdb_wal_corruptions_total');
  return m?.values[0]?.value ?? 0;
}

test('a last segment cut mid-record opens with every record before the cut', async () => {
  const dir = tmpdir();
  const db = await openDB(dir, base);
  const written = writeBatches(db, 5, 0, 50, 1000);
  await db.close();
  const wal = path.join(dir, 'wal');
  const last = listSegments(wal).filter((s) => fs.statSync(path.join(wal, segmentName(s))).size > 0).pop()!;
  const file = path.join(wal, segmentName(last));
  fs.truncateSync(file, fs.statSync(file).size - 7);

  const reg = new Registry();
  const log = new CaptureLogger();
  const db2 = await openDB(dir, { ...base, registry: reg, logger: log });
  const got = timestamps(db2);
  assert.equal(got.size, 5);
  for (const ts of got.values()) assert.deepEqual(ts, written.slice(0, -1));
  assert.equal(await corruptions(reg), 1);
  const line = log.lines.find((l) => l.msg.startsWith('WAL corruption'));
  assert.ok(line, 'the corruption is logged');
  assert.equal(line.fields.file, file);
  assert.ok(Number(line.fields.bytesDropped) > 0);
  // The repaired WAL takes new writes and reopens cleanly.
  writeBatches(db2, 5, 100_000, 1, 1000);
  await db2.close();
  const reg3 = new Registry();
  const db3 = await openDB(dir, { ...base, registry: reg3 });
  assert.equal(timestamps(db3).get('0')!.length, written.length);
  assert.equal(await corruptions(reg3), 0);
  await db3.close();
});

test('a flipped byte in a middle segment keeps the records before it and drops the rest', async () => {
  const dir = tmpdir();
  const db = await openDB(dir, { ...base, walSegmentSizeBytes: 1024 });
  const written = writeBatches(db, 5, 0, 200, 1000);
  await db.close();
  const wal = path.join(dir, 'wal');
  const segs = listSegments(wal);
  assert.ok(segs.length >= 4, `segments: ${segs}`);
  const victim = segs[1]!;
  const file = path.join(wal, segmentName(victim));
  const b = fs.readFileSync(file);
  // Somewhere inside the third record's payload (each record is well over 16 bytes).
  let off = 0;
  for (let r = 0; r < 2; r++) off += 8 + (b.readUInt32LE(off) & FRAME_LENGTH_MASK);
  b[off + 12]! ^= 0x5a;
  fs.writeFileSync(file, b);

  const reg = new Registry();
  const log = new CaptureLogger();
  const db2 = await openDB(dir, { ...base, registry: reg, logger: log, walSegmentSizeBytes: 1024 });
  const got = timestamps(db2).get('0')!;
  // Everything before the damage: the first segment plus two records of the second.
  assert.ok(got.length > 0 && got.length < written.length);
  assert.deepEqual(got, written.slice(0, got.length), 'a prefix of what was written');
  assert.equal(await corruptions(reg), 1);
  assert.ok(log.lines.some((l) => l.level === 'error' && /checksum/.test(String(l.fields.err))));
  // Later segments were removed; the only newer one is the fresh segment opened for writing.
  assert.ok(listSegments(wal).every((s) => s <= victim + 1));
  await db2.close();
});

test('a checkpoint with a missing tail opens with what it holds plus later segments', async () => {
  const dir = tmpdir();
  const opts: DBOptions = { ...base, walSegmentSizeBytes: 2048 };
  const db = await openDB(dir, opts);
  // Many series so the checkpoint holds several records; 5h so head compaction truncates the WAL.
  for (let t = 0; t < 5 * H; t += 5 * 60_000) {
    const a = db.appender();
    for (let i = 0; i < 40; i++) a.append(0, Labels.fromPairs('__name__', 'c', 'i', String(i)), t, i);
    a.commit();
  }
  await db.compact();
  const head = db.head.minTime;
  await db.close();
  const cp = lastCheckpoint(path.join(dir, 'wal'));
  assert.ok(cp, 'a checkpoint exists');
  const files = checkpointSegments(cp.dir);
  const last = files[files.length - 1]!;
  const size = fs.statSync(last).size;
  fs.truncateSync(last, Math.floor(size / 2));

  const reg = new Registry();
  const log = new CaptureLogger();
  const db2 = await openDB(dir, { ...opts, registry: reg, logger: log });
  assert.equal(await corruptions(reg), 1);
  assert.ok(log.lines.some((l) => l.msg.startsWith('WAL corruption') && String(l.fields.file).includes('checkpoint')));
  // Blocks are untouched; the head keeps the series whose records survived.
  const got = timestamps(db2);
  assert.ok(got.size > 0);
  for (const ts of got.values()) {
    assert.ok(ts.length > 0);
    for (let k = 1; k < ts.length; k++) assert.ok(ts[k]! > ts[k - 1]!);
    assert.ok(ts[0]! < head, 'block data is still there');
  }
  await db2.close();
  // The checkpoint was repaired: the next open sees no corruption.
  const reg3 = new Registry();
  const db3 = await openDB(dir, { ...opts, registry: reg3 });
  assert.equal(await corruptions(reg3), 0);
  await db3.close();
});

test('a corrupt block is left out and reported; the rest of the database opens', async () => {
  const dir = tmpdir();
  const db = await openDB(dir, base);
  for (let t = 0; t < 7 * H; t += 10 * 60_000) {
    const a = db.appender();
    a.append(0, Labels.fromPairs('__name__', 'c', 'i', '0'), t, 1);
    a.commit();
  }
  await db.compact();
  const blocks = db.blocks();
  assert.ok(blocks.length >= 2);
  await db.close();
  const index = path.join(dir, blocks[0]!.ulid, 'index');
  const b = fs.readFileSync(index);
  b[20]! ^= 0xff;
  fs.writeFileSync(index, b);
  const log = new CaptureLogger();
  const db2 = await openDB(dir, { ...base, logger: log });
  assert.equal(db2.blocks().length, blocks.length - 1);
  assert.ok(log.lines.some((l) => l.msg.startsWith('cannot open block') && /checksum/.test(String(l.fields.err))));
  await db2.close();
});
