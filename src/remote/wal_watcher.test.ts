import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { FloatHistogram, Histogram } from '../model/histogram.js';
import { Labels } from '../model/labels.js';
import { TSDBMetrics } from '../tsdb/metrics.js';
import { RecordEncoder } from '../tsdb/record/record.js';
import { createCheckpoint } from '../tsdb/wal/checkpoint.js';
import { FRAME_LENGTH_MASK, FRAME_SNAPPY, WAL } from '../tsdb/wal/wal.js';
import { WalWatcher, walEnd, type SampleRecord, type WalPosition, type WatcherSink } from './wal_watcher.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function newWAL(): WAL {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-watcher-'));
  dirs.push(d);
  const m = new TSDBMetrics(new Registry(), {
    headSeries: () => 0,
    headChunks: () => 0,
    headMinTime: () => 0,
    headMaxTime: () => 0,
    headChunkBytes: () => 0,
    symbolTableBytes: () => 0,
    activeAppenders: () => 0,
    blocksLoaded: () => 0,
    blocksBytes: () => 0,
    lowestTimestamp: () => 0,
    walSegmentCurrent: () => 0,
    walStorageBytes: () => 0,
    retentionLimitBytes: () => 0,
    headSeriesLimit: () => 0,
    walReplayStatus: () => ({ min: 0, max: 0, current: 0 }),
  });
  const w = new WAL(path.join(d, 'wal'), { metrics: m });
  w.startWriting();
  return w;
}

const enc = new RecordEncoder(1024, 1024);
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** One batch record: the given new series, then one sample per ref at t. */
function batch(w: WAL, series: [number, string][], refs: number[], t: number): void {
  enc.startBatch(series.length);
  for (const [ref, name] of series) enc.series(ref, Labels.fromPairs('__name__', name));
  enc.samples(refs.length);
  for (const r of refs) {
    f64[0] = r + t / 1000;
    enc.sample(r, t, u32[1]!, u32[0]!);
  }
  w.log(enc.bytes());
}

class Sink implements WatcherSink {
  labels = new Map<number, string>();
  got: string[] = [];
  lostRanges: [number, number][] = [];
  resets: number[] = [];
  caught: WalPosition | null = null;
  series(ref: number, labels: Labels): void {
    this.labels.set(ref, labels.get('__name__'));
  }
  samples(rec: SampleRecord): void {
    for (let i = 0; i < rec.n; i++) this.got.push(`${this.labels.get(rec.refs[i]!) ?? '?'}@${rec.ts[i]}=${rec.vs[i]}`);
    for (let i = 0; i < rec.hN; i++) this.got.push(`${this.labels.get(rec.hRefs[i]!) ?? '?'}@${rec.hTs[i]}=${rec.hs[i]!.toString()}`);
  }
  caughtUp(pos: WalPosition): void {
    this.caught = pos;
  }
  seriesReset(index: number): void {
    this.resets.push(index);
  }
  lost(from: number, to: number): void {
    this.lostRanges.push([from, to]);
  }
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('sends samples from the start position on, with labels from earlier records and the tail as it grows', async () => {
  const w = newWAL();
  batch(w, [[1, 'a'], [2, 'b']], [1, 2], 1000);
  const start = walEnd(w.dir);
  batch(w, [], [1, 2], 2000);
  // A tombstones record (and any type the watcher does not know) is skipped.
  enc.startTombstones(1);
  enc.tombstone(1, 0, 10);
  w.log(enc.bytes());
  w.log(Buffer.from([0x7f, 1, 2, 3]));
  w.nextSegment();
  // A batch that also carries (here no) histograms gives its float samples.
  enc.startBatch(1, true);
  enc.series(3, Labels.fromPairs('__name__', 'c'));
  enc.histograms(0);
  enc.samples(1);
  f64[0] = 6;
  enc.sample(3, 3000, u32[1]!, u32[0]!);
  w.log(enc.bytes());
  const sink = new Sink();
  const watcher = new WalWatcher({ dir: w.dir, start, sink, pollIntervalMs: 5 });
  watcher.start();
  try {
    await until(() => sink.got.length === 3, 'the samples after the start');
    assert.deepEqual(sink.got, ['a@2000=3', 'b@2000=4', 'c@3000=6']);
    batch(w, [], [1], 4000);
    watcher.notify();
    await until(() => sink.got.length === 4, 'the tailed sample');
    assert.equal(sink.got[3], 'a@4000=5');
    await until(() => sink.caught !== null && sink.caught.segment === 1, 'caught up');
  } finally {
    await watcher.stop();
    w.close();
  }
});

test('labels come from the checkpoint; segments deleted before they were read are reported lost', async () => {
  const w = newWAL();
  batch(w, [[1, 'a']], [1], 1000);
  w.nextSegment();
  batch(w, [[2, 'b']], [2], 2000);
  w.nextSegment();
  batch(w, [], [1, 2], 3000);
  await createCheckpoint(w.dir, 0, 1, () => true, 0, 1 << 20);
  w.truncate(2);
  const sink = new Sink();
  const watcher = new WalWatcher({ dir: w.dir, start: { segment: 0, offset: 0 }, sink, pollIntervalMs: 5 });
  watcher.start();
  try {
    await until(() => sink.got.length === 2, 'the samples of segment 2');
    assert.deepEqual(sink.lostRanges, [[0, 2]]);
    assert.deepEqual(sink.got, ['a@3000=4', 'b@3000=5']);
  } finally {
    await watcher.stop();
    w.close();
  }
});

test('native histograms are handed over with `histograms`, after the float samples of their record; otherwise skipped', async () => {
  const w = newWAL();
  const h = new Histogram({ count: 2, sum: 3, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [2] });
  const fh = new FloatHistogram({ count: 1.5, sum: 1, zeroCount: 1.5 });
  enc.startBatch(3, true);
  enc.series(1, Labels.fromPairs('__name__', 'a'));
  enc.series(2, Labels.fromPairs('__name__', 'h'));
  enc.series(3, Labels.fromPairs('__name__', 'fh'));
  enc.histograms(2);
  enc.histogram(2, 1000, h, null, 0);
  enc.histogram(3, 1000, null, fh, 1);
  enc.samples(1);
  f64[0] = 7;
  enc.sample(1, 1000, u32[1]!, u32[0]!);
  w.log(enc.bytes());
  const reads: string[] = [];
  const metrics = { recordRead: (t: string) => reads.push(t), currentSegment: () => {} };
  try {
    for (const histograms of [true, false]) {
      const sink = new Sink();
      reads.length = 0;
      const watcher = new WalWatcher({ dir: w.dir, start: { segment: 0, offset: 0 }, sink, pollIntervalMs: 5, histograms, metrics });
      watcher.start();
      await until(() => sink.caught !== null, 'caught up');
      await watcher.stop();
      if (histograms) {
        assert.deepEqual(sink.got, ['a@1000=7', `h@1000=${h.toString()}`, `fh@1000=${fh.toString()}`]);
        assert.deepEqual(reads, ['series', 'samples', 'histogram_samples', 'float_histogram_samples']);
      } else {
        assert.deepEqual(sink.got, ['a@1000=7']);
        assert.deepEqual(reads, ['series', 'samples']);
      }
    }
  } finally {
    w.close();
  }
});

test('compressed records: samples, labels from a compressed checkpoint, and positions at the frames in the file', async () => {
  const w = newWAL();
  assert.equal(w.compression, 'snappy');
  const many = (from: number): [number, string][] => Array.from({ length: 200 }, (_, i) => [from + i, `m${from + i}`]);
  const refs = (from: number): number[] => Array.from({ length: 200 }, (_, i) => from + i);
  batch(w, many(1), refs(1), 1000);
  w.nextSegment();
  batch(w, many(201), refs(201), 2000);
  await createCheckpoint(w.dir, 0, 0, () => true, 0, 1 << 20);
  w.truncate(1);
  const start = walEnd(w.dir);
  // Records with series compress; a small one sits between them.
  batch(w, many(401), refs(401), 3000);
  batch(w, [], [5], 4000);
  batch(w, many(601), refs(601), 5000);
  const file = path.join(w.dir, '00000001');
  const seg = fs.readFileSync(file);
  // Frame offsets and whether each is compressed, read straight from the file.
  const offs: number[] = [];
  const flags: boolean[] = [];
  for (let off = 0; off < seg.length; off += 8 + (seg.readUInt32LE(off) & FRAME_LENGTH_MASK)) {
    offs.push(off);
    flags.push((seg.readUInt32LE(off) & FRAME_SNAPPY) !== 0);
  }
  assert.deepEqual(flags, [true, true, false, true]);
  assert.deepEqual(start, { segment: 1, offset: offs[1] });

  const positions: [number, number, number][] = [];
  const sink = new (class extends Sink {
    override samples(rec: SampleRecord, s?: WalPosition, e?: WalPosition): void {
      super.samples(rec);
      positions.push([s!.offset, e!.offset, rec.n]);
    }
  })();
  const watcher = new WalWatcher({ dir: w.dir, start, sink, pollIntervalMs: 5 });
  watcher.start();
  try {
    await until(() => sink.got.length === 401, 'the samples after the start');
    assert.deepEqual(positions, [
      [offs[1], offs[2], 200],
      [offs[2], offs[3], 1],
      [offs[3], seg.length, 200],
    ]);
    assert.equal(sink.got[0], 'm401@3000=404');
    assert.equal(sink.got[200], 'm5@4000=9');
    assert.equal(sink.got[201], 'm601@5000=606');
    assert.equal(sink.got[400], 'm800@5000=805');
  } finally {
    await watcher.stop();
    w.close();
  }
});
