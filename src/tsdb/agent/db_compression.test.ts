import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Labels } from '../../model/labels.js';
import { OutOfOrderSampleError } from '../../storage/interface.js';
import { checkpointSegments, lastCheckpoint } from '../wal/checkpoint.js';
import { FRAME_HEADER, FRAME_LENGTH_MASK, FRAME_SNAPPY, listSegments, segmentName } from '../wal/wal.js';
import { openAgentDB, type AgentDB, type AgentOptions } from './db.js';

const SERIES = 300;
const labels = Array.from({ length: SERIES }, (_, i) => Labels.fromPairs('__name__', 'node_cpu_seconds_total', 'cpu', String(i), 'instance', 'host-1:9100'));

/** Whether each frame of a WAL file is snappy-compressed. */
function compressedFrames(file: string): boolean[] {
  const b = fs.readFileSync(file);
  const out: boolean[] = [];
  for (let off = 0; off < b.length; off += FRAME_HEADER + (b.readUInt32LE(off) & FRAME_LENGTH_MASK)) out.push((b.readUInt32LE(off) & FRAME_SNAPPY) !== 0);
  return out;
}

function commitAll(db: AgentDB, t: number): void {
  const app = db.appender();
  for (const l of labels) app.append(0, l, t, t / 1000);
  app.commit();
}

test('agent: the WAL is compressed unless turned off, and a restart replays compressed, raw and mixed segments', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsprom-agent-c-'));
  const opts = (walCompression: 'none' | 'snappy'): AgentOptions => ({ dir, walCompression, truncateFrequencyMs: 0, minWalTimeMs: 0, maxWalTimeMs: 1e12 });
  try {
    let db = await openAgentDB(opts('snappy'));
    commitAll(db, 1000);
    await db.close();
    db = await openAgentDB(opts('none'));
    assert.equal(db.numSeries(), SERIES);
    commitAll(db, 2000);
    await db.close();
    const segs = listSegments(path.join(dir, 'wal'));
    assert.deepEqual(
      segs.map((s) => compressedFrames(path.join(dir, 'wal', segmentName(s)))),
      [[true], [false]],
    );
    db = await openAgentDB(opts('snappy'));
    try {
      assert.equal(db.numSeries(), SERIES);
      // The replayed newest timestamps (2000) refuse older samples.
      const app = db.appender();
      assert.throws(() => app.append(0, labels[7]!, 1500, 1), OutOfOrderSampleError);
      app.rollback();
      // Truncation folds both kinds into a compressed checkpoint, which a restart reads.
      commitAll(db, 3000);
      await db.truncate();
      const cp = lastCheckpoint(path.join(dir, 'wal'));
      assert.notEqual(cp, null);
      for (const f of checkpointSegments(cp!.dir)) assert.ok(compressedFrames(f).every((c) => c));
    } finally {
      await db.close();
    }
    db = await openAgentDB(opts('snappy'));
    assert.equal(db.numSeries(), SERIES);
    await db.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
