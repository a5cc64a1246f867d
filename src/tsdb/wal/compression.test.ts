import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { compressSync } from 'snappy';
import { Labels } from '../../model/labels.js';
import { CorruptionError } from '../encoding/encoding.js';
import { crc32c } from '../encoding/crc32c.js';
import { TSDBMetrics, type TSDBGaugeState } from '../metrics.js';
import { RecordEncoder, decodeRecord } from '../record/record.js';
import { collector, type Collected } from '../record/test_util.test.js';
import { checkpointSegments, createCheckpoint, lastCheckpoint } from './checkpoint.js';
import { FRAME_HEADER, FRAME_LENGTH_MASK, FRAME_SNAPPY, FRAME_ZSTD, FramePayload, SegmentReader, WAL, listSegments, repairSegments, segmentName, type WALCompression } from './wal.js';

const dirs: string[] = [];
function tmpdir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdb-walc-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const noState = new Proxy({}, { get: () => () => 0 }) as unknown as TSDBGaugeState;
const metrics = (): TSDBMetrics => new TSDBMetrics(new Registry(), { ...noState, walReplayStatus: () => ({ min: 0, max: 0, current: 0 }) });

/** A batch of n new series (refs from first) and one sample each: large and compressible. */
function bigBatch(first: number, n: number, t: number): Buffer {
  const e = new RecordEncoder(1024, 1 << 20);
  e.startBatch(n);
  for (let i = 0; i < n; i++) e.series(first + i, Labels.fromPairs('__name__', 'http_requests_total', 'instance', `host-${i % 10}:9100`, 'job', 'api'));
  e.samples(n);
  for (let i = 0; i < n; i++) e.sample(first + i, t + i, 0x40590000, 0);
  return Buffer.from(e.bytes());
}

function smallBatch(ref: number, t: number): Buffer {
  const e = new RecordEncoder(64, 64);
  e.startBatch(0);
  e.samples(1);
  e.sample(ref, t, 0x3ff00000, 0);
  return Buffer.from(e.bytes());
}

function readFile(file: string): { r: SegmentReader; c: Collected } {
  const { h, c } = collector();
  const r = new SegmentReader(fs.readFileSync(file), file);
  while (r.next()) {
    decodeRecord(r.buf, r.start, r.end, h, file);
    r.accept();
  }
  return { r, c };
}

/** Frame starts and length words of a segment file. */
function frames(file: string): { off: number; word: number }[] {
  const b = fs.readFileSync(file);
  const out: { off: number; word: number }[] = [];
  for (let off = 0; off + FRAME_HEADER <= b.length; ) {
    const word = b.readUInt32LE(off);
    out.push({ off, word });
    off += FRAME_HEADER + (word & FRAME_LENGTH_MASK);
  }
  return out;
}

function writeWAL(dir: string, compression: WALCompression, records: Buffer[]): void {
  const w = new WAL(dir, { metrics: metrics(), compression });
  w.startWriting();
  for (const r of records) w.log(r);
  w.close();
}

/** Everything every record decodes to, for comparing a compressed WAL with a raw one. */
function decodeAll(records: Buffer[]): Collected {
  const { h, c } = collector();
  for (const b of records) decodeRecord(b, 0, b.length, h);
  return c;
}

describe('frame payloads', () => {
  test('a compressed frame decompresses to its record; a raw frame is its own bytes', () => {
    const p = new FramePayload();
    for (const x of [Buffer.from('a'), Buffer.alloc(100_000, 7), bigBatch(1, 500, 1000)]) {
      const c = Buffer.concat([Buffer.from('pad'), compressSync(x)]);
      p.load(c, 3, c.length, FRAME_SNAPPY | (c.length - 3));
      assert.ok(p.buf.subarray(p.start, p.end).equals(x));
      p.load(x, 0, x.length, x.length);
      assert.equal(p.buf, x);
    }
    p.release();
    assert.equal(p.buf.length, 0);
  });

  test('damaged blocks are CorruptionErrors', () => {
    const p = new FramePayload();
    const c = compressSync(bigBatch(1, 50, 1000));
    for (let cut = 0; cut < c.length; cut++) assert.throws(() => p.load(c, 0, cut, FRAME_SNAPPY | cut), CorruptionError, `cut at ${cut}`);
    // Declares 5 bytes, holds 1; declares none; a copy reaching before the start.
    for (const bad of [[5, 0x00, 0x61], [0], [5, 0x00, 0x61, 0x05, 0x02], [0x80, 0x80]]) {
      assert.throws(() => p.load(Buffer.from(bad), 0, bad.length, FRAME_SNAPPY | bad.length), CorruptionError, JSON.stringify(bad));
    }
  });
});

describe('compressed WAL records', () => {
  test('large records are stored snappy-compressed and read back; tiny ones stay raw', () => {
    const dir = tmpdir();
    const records = [bigBatch(1, 1000, 1000), smallBatch(1, 2000), bigBatch(1001, 1000, 3000)];
    writeWAL(dir, 'snappy', records);
    const file = path.join(dir, segmentName(0));
    const fr = frames(file);
    assert.deepEqual(
      fr.map((f) => (f.word & FRAME_SNAPPY) !== 0),
      [true, false, true],
    );
    const raw = records.reduce((n, r) => n + FRAME_HEADER + r.length, 0);
    assert.ok(fs.statSync(file).size < raw / 2, `compressed ${fs.statSync(file).size} of ${raw}`);
    const { r, c } = readFile(file);
    assert.equal(r.error, null);
    assert.equal(r.records, 3);
    assert.deepEqual(c, decodeAll(records));
  });

  test('a WAL written raw (as before compression existed) and one mixing both read the same', () => {
    const dir = tmpdir();
    const records = [bigBatch(1, 300, 1000), smallBatch(2, 2000)];
    writeWAL(dir, 'none', records);
    assert.ok(frames(path.join(dir, segmentName(0))).every((f) => (f.word & FRAME_SNAPPY) === 0));
    // Restarted with compression on: a new segment after the raw one.
    const more = [bigBatch(301, 300, 3000)];
    writeWAL(dir, 'snappy', more);
    assert.deepEqual(listSegments(dir), [0, 1]);
    const { h, c } = collector();
    for (const s of listSegments(dir)) {
      const r = new SegmentReader(fs.readFileSync(path.join(dir, segmentName(s))), '');
      while (r.next()) {
        decodeRecord(r.buf, r.start, r.end, h);
        r.accept();
      }
      assert.equal(r.error, null);
    }
    assert.deepEqual(c, decodeAll([...records, ...more]));
  });

  test('a torn compressed record ends the readable log; repair keeps what precedes it', () => {
    const dir = tmpdir();
    const records = [bigBatch(1, 500, 1000), bigBatch(501, 500, 2000), bigBatch(1001, 500, 3000)];
    writeWAL(dir, 'snappy', records);
    const file = path.join(dir, segmentName(0));
    const fr = frames(file);
    const third = fr[2]!.off;
    const size = fs.statSync(file).size;
    fs.truncateSync(file, third + FRAME_HEADER + 10);
    let { r, c } = readFile(file);
    assert.equal(r.records, 2);
    assert.equal(r.validEnd, third);
    assert.match(r.error!.message, /runs past the end/);
    assert.deepEqual(c, decodeAll(records.slice(0, 2)));
    assert.equal(repairSegments(dir, 0, r.validEnd), FRAME_HEADER + 10);
    assert.equal(fs.statSync(file).size, third);
    ({ r } = readFile(file));
    assert.equal(r.error, null);
    assert.equal(r.records, 2);
    assert.ok(size > third);
  });

  test('a compressed record with a good checksum but a broken block, or zstd, is refused as corruption', () => {
    const good = smallBatch(1, 1000);
    const frame = (word: number, body: Buffer): Buffer => {
      const h = Buffer.alloc(FRAME_HEADER);
      h.writeUInt32LE(word >>> 0, 0);
      h.writeUInt32LE(crc32c(body), 4);
      return Buffer.concat([h, body]);
    };
    const goodFrame = frame(good.length, good);
    // Declares 50 bytes, holds one literal byte.
    const broken = Buffer.from([50, 0x00, 0x01]);
    for (const [word, body, re] of [
      [FRAME_SNAPPY | broken.length, broken, /^undecodable record: snappy: corrupt input/],
      [FRAME_ZSTD | good.length, good, /zstd/],
    ] as const) {
      const seg = Buffer.concat([goodFrame, frame(word, body), goodFrame]);
      const r = new SegmentReader(seg, 'seg');
      const { h } = collector();
      let n = 0;
      while (r.next()) {
        decodeRecord(r.buf, r.start, r.end, h);
        r.accept();
        n++;
      }
      assert.equal(n, 1);
      assert.equal(r.validEnd, goodFrame.length);
      assert.match(r.error!.message, re);
    }
  });

  test('after a sample-only batch did not shrink, the next ones are stored raw untried for a while; series batches are always tried', () => {
    let seed = 7;
    const samples = (n: number, random: boolean): Buffer => {
      const e = new RecordEncoder(64, 1 << 20);
      e.startBatch(0);
      e.samples(n);
      for (let i = 0; i < n; i++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        // Random raw bits do not compress; a repeated value does.
        e.sample(1 + i, 1000, random ? seed & 0x3fffffff : 0x40590000, random ? Math.imul(seed, 7) >>> 0 : 0);
      }
      return Buffer.from(e.bytes());
    };
    const R = samples(100, true);
    const C = samples(300, false);
    const S = bigBatch(1, 200, 1000);
    const dir = tmpdir();
    // R fails (skip 1), C skipped, C tried and compressed (backoff reset), R fails, S tried regardless, C skipped,
    // C tried; then R, R (skipped), R fails (skip 2 more), C, C skipped, C compressed.
    const records = [R, C, C, R, S, C, C, R, R, R, C, C, C];
    writeWAL(dir, 'snappy', records);
    assert.deepEqual(
      frames(path.join(dir, segmentName(0))).map((f) => (f.word & FRAME_SNAPPY) !== 0),
      [false, false, true, false, true, false, true, false, false, false, false, false, true],
    );
    const { r, c } = readFile(path.join(dir, segmentName(0)));
    assert.equal(r.error, null);
    assert.deepEqual(c, decodeAll(records));
  });

  test('checkpoints are written compressed and fold in compressed segments', async () => {
    const dir = tmpdir();
    const w = new WAL(dir, { metrics: metrics(), segmentSize: 1 << 20 });
    w.startWriting();
    const a = bigBatch(1, 400, 1000);
    const b = bigBatch(401, 400, 2000);
    w.log(a);
    w.nextSegment();
    w.log(b);
    w.nextSegment();
    const st = await createCheckpoint(dir, 0, 1, (ref) => ref % 2 === 0, 0, 1 << 20, 'snappy');
    w.close();
    assert.equal(st.seriesKept, 400);
    assert.equal(st.samplesKept, 400);
    const file = checkpointSegments(lastCheckpoint(dir)!.dir)[0]!;
    assert.ok(frames(file).every((f) => (f.word & FRAME_SNAPPY) !== 0));
    const { r, c } = readFile(file);
    assert.equal(r.error, null);
    const want = decodeAll([a, b]);
    assert.deepEqual(c.series, want.series.filter(([ref]) => ref % 2 === 0));
    assert.deepEqual(c.samples, want.samples.filter(([ref]) => ref % 2 === 0));

    // Without compression, the same checkpoint is raw and reads the same.
    const st2 = await createCheckpoint(dir, 2, 2, () => true, 0, 1 << 20, 'none');
    assert.equal(st2.samplesKept, 400);
    const file2 = checkpointSegments(lastCheckpoint(dir)!.dir)[0]!;
    assert.ok(frames(file2).every((f) => (f.word & FRAME_SNAPPY) === 0));
    assert.deepEqual(readFile(file2).c, c);
  });
});
