import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Labels } from '../../model/labels.js';
import { DuplicateSampleError, OutOfOrderSampleError } from '../../storage/interface.js';
import { decodeRecord } from '../record/record.js';
import { checkpointSegments, lastCheckpoint } from '../wal/checkpoint.js';
import { SegmentReader, listSegments, segmentName } from '../wal/wal.js';
import { openAgentDB, UnsupportedOperationError, type AgentOptions } from './db.js';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tsprom-agent-'));
}

/** Every series and sample in the WAL (checkpoint first, then segments). */
function readWal(walDir: string): { series: Map<number, string>; samples: Array<[number, number, number]> } {
  const series = new Map<number, string>();
  const samples: Array<[number, number, number]> = [];
  const f64 = new Float64Array(1);
  const u32 = new Uint32Array(f64.buffer);
  const h = {
    series: (ref: number, l: Labels) => void series.set(ref, l.toString()),
    sample: (ref: number, t: number, hi: number, lo: number) => {
      u32[1] = hi;
      u32[0] = lo;
      samples.push([ref, t, f64[0]!]);
    },
    tombstone: () => {},
  };
  const cp = lastCheckpoint(walDir);
  const files = [...(cp !== null ? checkpointSegments(cp.dir) : [])];
  for (const s of listSegments(walDir)) if (cp === null || s > cp.index) files.push(path.join(walDir, segmentName(s)));
  for (const f of files) {
    const r = new SegmentReader(fs.readFileSync(f), f);
    while (r.next()) {
      decodeRecord(r.buf, r.start, r.end, h);
      r.accept();
    }
    assert.equal(r.error, null);
  }
  return { series, samples };
}

const a = Labels.fromPairs('__name__', 'up', 'job', 'a');
const b = Labels.fromPairs('__name__', 'up', 'job', 'b');

function opts(dir: string, extra: Partial<AgentOptions> = {}): AgentOptions {
  return { dir, truncateFrequencyMs: 0, minWalTimeMs: 0, maxWalTimeMs: 1e12, ...extra };
}

test('agent: commits land in the WAL as series and sample records; queries are refused', async () => {
  const dir = tmp();
  const db = await openAgentDB(opts(dir));
  try {
    const app = db.appender();
    const ra = app.append(0, a, 1000, 1);
    app.append(ra, a, 2000, 2);
    app.append(0, b, 1000, 5);
    app.commit();
    const w = readWal(db.walDir);
    assert.deepEqual([...w.series.values()].sort(), [a.toString(), b.toString()]);
    assert.deepEqual(
      w.samples.map(([, t, v]) => [t, v]),
      [
        [1000, 1],
        [2000, 2],
        [1000, 5],
      ],
    );
    assert.throws(() => db.querier(), UnsupportedOperationError);
    assert.equal(db.numSeries(), 2);
  } finally {
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('agent: out-of-order and duplicate samples are refused per series, the same sample again is dropped', async () => {
  const dir = tmp();
  const db = await openAgentDB(opts(dir));
  try {
    let app = db.appender();
    app.append(0, a, 2000, 1);
    app.commit();
    app = db.appender();
    assert.throws(() => app.append(0, a, 1000, 1), OutOfOrderSampleError);
    assert.throws(() => app.append(0, a, 2000, 7), DuplicateSampleError);
    app.append(0, a, 2000, 1);
    app.append(0, b, 500, 1);
    app.commit();
    assert.equal(readWal(db.walDir).samples.length, 2);
  } finally {
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('agent: a restart replays the series, so refs and order checks carry over', async () => {
  const dir = tmp();
  let db = await openAgentDB(opts(dir));
  let app = db.appender();
  const ra = app.append(0, a, 5000, 1);
  app.commit();
  await db.close();
  db = await openAgentDB(opts(dir));
  try {
    app = db.appender();
    assert.throws(() => app.append(0, a, 4000, 1), OutOfOrderSampleError);
    assert.equal(app.append(0, a, 6000, 2), ra);
    const rb = app.append(0, b, 6000, 2);
    assert.notEqual(rb, ra);
    app.commit();
  } finally {
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Appends n commits of series a (and b while `withB`), one sample each, 1 s apart from t0. */
function fill(db: Awaited<ReturnType<typeof openAgentDB>>, t0: number, n: number, withB: boolean): void {
  for (let i = 0; i < n; i++) {
    const app = db.appender();
    app.append(0, a, t0 + i * 1000, i);
    if (withB) app.append(0, b, t0 + i * 1000, i);
    app.commit();
  }
}

test('agent: truncation keeps what the remotes still need, checkpoints live series and forgets the rest', async () => {
  const dir = tmp();
  let needed: number | null = 0;
  const now = 1_000_000;
  const db = await openAgentDB(opts(dir, { segmentSize: 1024, walRetention: { lowestNeededSegment: () => needed }, now: () => now }));
  try {
    // Series b stops early; a goes on.
    fill(db, 0, 200, true);
    fill(db, 200_000, 400, false);
    const before = db.segments();
    assert.ok(before.length > 10);
    // A remote still needs everything: nothing goes.
    await db.truncate();
    assert.equal(db.segments()[0], before[0]);
    // It has sent all but the last few: the older two thirds go, b with them.
    needed = before.at(-3)!;
    await db.truncate();
    const after = db.segments();
    assert.ok(after[0]! > before[0]!);
    assert.equal(db.numSeries(), 1);
    const w = readWal(db.walDir);
    assert.deepEqual([...new Set(w.series.values())], [a.toString()]);
    // A restart knows a (from the checkpoint) and not b.
    await db.close();
    const again = await openAgentDB(opts(dir, { segmentSize: 1024, now: () => now }));
    assert.equal(again.numSeries(), 1);
    await again.close();
  } finally {
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('agent: retention.max-time drops data a remote never took; retention.min-time keeps young data', async () => {
  const dir = tmp();
  const now = 10_000_000;
  const db = await openAgentDB(
    opts(dir, { segmentSize: 1024, walRetention: { lowestNeededSegment: () => 0 }, maxWalTimeMs: 5_000_000, minWalTimeMs: 1_000_000, now: () => now }),
  );
  try {
    // Old data (older than max-time), then young data (younger than min-time).
    fill(db, 1_000_000, 300, false);
    fill(db, 9_500_000, 300, false);
    const before = db.segments();
    await db.truncate();
    const after = db.segments();
    assert.ok(after[0]! > before[0]!, 'old segments go although the remote needs them');
    // Every young sample is still there.
    const young = readWal(db.walDir).samples.filter(([, t]) => t >= 9_500_000);
    assert.equal(young.length, 300);
  } finally {
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
