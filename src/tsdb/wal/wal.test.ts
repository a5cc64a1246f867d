import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { Labels } from '../../model/labels.js';
import { TSDBMetrics, type TSDBGaugeState } from '../metrics.js';
import { createCheckpoint, deleteCheckpoints, lastCheckpoint, checkpointSegments } from './checkpoint.js';
import { RecordEncoder, decodeRecord} from '../record/record.js';
import { FRAME_HEADER, SegmentReader, WAL, listSegments, repairSegments, segmentName } from './wal.js';
import { collector, type Collected } from '../record/test_util.test.js';

const dirs: string[] = [];
function tmpdir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdb-wal-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const noState = new Proxy({}, { get: () => () => 0 }) as unknown as TSDBGaugeState;
const metrics = (): TSDBMetrics => new TSDBMetrics(new Registry(), { ...noState, walReplayStatus: () => ({ min: 0, max: 0, current: 0 }) });


function batch(refs: number[], ts: number[], series: { ref: number; labels: Labels }[] = []): Buffer {
  const e = new RecordEncoder(64, 64);
  e.startBatch(series.length);
  for (const s of series) e.series(s.ref, s.labels);
  e.samples(refs.length);
  refs.forEach((ref, i) => e.sample(ref, ts[i]!, 0x3ff00000, i));
  return Buffer.from(e.bytes());
}

function tombstones(refs: number[], mints: number[], maxts: number[]): Buffer {
  const e = new RecordEncoder(64, 64);
  e.startTombstones(refs.length);
  refs.forEach((ref, i) => e.tombstone(ref, mints[i]!, maxts[i]!));
  return Buffer.from(e.bytes());
}

function readAll(file: string): { r: SegmentReader; c: Collected } {
  const { h, c } = collector();
  const r = new SegmentReader(fs.readFileSync(file), file);
  while (r.next()) {
    decodeRecord(r.buf, r.start, r.end, h, file);
    r.accept();
  }
  return { r, c };
}

describe('WAL segments', () => {
  test('records are written at once, read back, and segments are cut at the size limit', () => {
    const dir = tmpdir();
    const wal = new WAL(dir, { segmentSize: 200, metrics: metrics() });
    wal.startWriting();
    for (let i = 0; i < 20; i++) wal.log(batch([i + 1], [i * 1000]));
    // Visible to a reader before close: written synchronously.
    const segs = listSegments(dir);
    assert.ok(segs.length > 1, `segments ${segs}`);
    let n = 0;
    for (const s of segs) n += readAll(path.join(dir, segmentName(s))).c.samples.length;
    assert.equal(n, 20);
    for (const s of segs) assert.ok(fs.statSync(path.join(dir, segmentName(s))).size <= 200);
    wal.close();
  });

  test('a torn tail and a flipped byte stop reading at the last good record', () => {
    const dir = tmpdir();
    const wal = new WAL(dir, { metrics: metrics() });
    wal.startWriting();
    const sizes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const b = batch([1], [i]);
      sizes.push(FRAME_HEADER + b.length);
      wal.log(b);
    }
    wal.close();
    const file = path.join(dir, segmentName(0));
    const full = fs.readFileSync(file);
    const good4 = sizes.slice(0, 4).reduce((a, b) => a + b, 0);

    fs.writeFileSync(file, full.subarray(0, full.length - 3));
    let { r, c } = readAll(file);
    assert.equal(c.samples.length, 4);
    assert.equal(r.validEnd, good4);
    assert.match(r.error!.message, /runs past the end/);

    const flipped = Buffer.from(full);
    flipped[sizes[0]! + sizes[1]! + FRAME_HEADER + 2]! ^= 0xff;
    fs.writeFileSync(file, flipped);
    ({ r, c } = readAll(file));
    assert.equal(c.samples.length, 2);
    assert.match(r.error!.message, /checksum/);
  });

  test('repair truncates the damaged segment and removes later ones', () => {
    const dir = tmpdir();
    for (let i = 0; i < 3; i++) fs.writeFileSync(path.join(dir, segmentName(i)), Buffer.alloc(100, 1));
    const dropped = repairSegments(dir, 1, 40);
    assert.equal(dropped, 60 + 100);
    assert.deepEqual(listSegments(dir), [0, 1]);
    assert.equal(fs.statSync(path.join(dir, segmentName(1))).size, 40);
  });

  test('startWriting continues after existing segments and reuses an empty last one', () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, segmentName(3)), Buffer.alloc(10));
    const w = new WAL(dir, { metrics: metrics() });
    w.startWriting();
    assert.equal(w.currentSegment(), 4);
    w.close();
    const w2 = new WAL(dir, { metrics: metrics() });
    w2.startWriting();
    assert.equal(w2.currentSegment(), 4);
    w2.close();
  });
});

describe('checkpoints', () => {
  test('keep live series, recent samples and tombstones; drop the rest', async () => {
    const dir = tmpdir();
    const wal = new WAL(dir, { segmentSize: 1 << 20, metrics: metrics() });
    wal.startWriting();
    const A = { ref: 1, labels: Labels.fromPairs('s', 'a') };
    const B = { ref: 2, labels: Labels.fromPairs('s', 'b') };
    wal.log(batch([1, 2], [100, 100], [A, B]));
    wal.nextSegment();
    wal.log(batch([1, 2], [200, 200]));
    wal.log(tombstones([1, 2, 1], [50, 50, 150], [60, 300, 400]));
    wal.nextSegment();
    wal.log(batch([1], [300]));
    const st = await createCheckpoint(dir, 0, 1, (ref) => ref === 1, 150, 1 << 20);
    assert.equal(st.seriesKept, 1);
    assert.equal(st.samplesKept, 1);
    assert.equal(st.tombstonesKept, 1);
    const cp = lastCheckpoint(dir)!;
    assert.equal(cp.index, 1);
    const { c } = readAll(checkpointSegments(cp.dir)[0]!);
    assert.deepEqual(c.series, [[1, '{s="a"}']]);
    assert.deepEqual(
      c.samples.map((s) => [s[0], s[1]]),
      [[1, 200]],
    );
    assert.deepEqual(c.tombstones, [[1, 150, 400]]);

    // A second checkpoint folds in the first.
    wal.nextSegment();
    const st2 = await createCheckpoint(dir, 2, 2, () => true, 0, 1 << 20);
    assert.equal(st2.samplesKept, 2);
    assert.equal(deleteCheckpoints(dir, 2), 1);
    assert.equal(lastCheckpoint(dir)!.index, 2);
    wal.close();
  });
});
