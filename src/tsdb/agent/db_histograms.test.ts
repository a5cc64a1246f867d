// Native histograms in the agent store: validation, order and duplicate
// checks, the WAL records, replay and a checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FloatHistogram, Histogram } from '../../model/histogram.js';
import { Labels } from '../../model/labels.js';
import { DuplicateSampleError, OutOfOrderSampleError } from '../../storage/interface.js';
import { InvalidHistogramError } from '../head/appender.js';
import { decodeRecord } from '../record/record.js';
import { checkpointSegments, lastCheckpoint } from '../wal/checkpoint.js';
import { SegmentReader, listSegments, segmentName } from '../wal/wal.js';
import { openAgentDB, type AgentOptions } from './db.js';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tsprom-agent-h-'));
}

function opts(dir: string, extra: Partial<AgentOptions> = {}): AgentOptions {
  return { dir, truncateFrequencyMs: 0, minWalTimeMs: 0, maxWalTimeMs: 1e12, ...extra };
}

/** Every sample of the WAL in record order: "ref t value" for floats, "ref t int|float count" for histograms. */
function walSamples(walDir: string): { series: Map<number, string>; samples: string[] } {
  const series = new Map<number, string>();
  const samples: string[] = [];
  const f64 = new Float64Array(1);
  const u32 = new Uint32Array(f64.buffer);
  const h = {
    series: (ref: number, l: Labels) => void series.set(ref, l.toString()),
    sample: (ref: number, t: number, hi: number, lo: number) => {
      u32[1] = hi;
      u32[0] = lo;
      samples.push(`${ref} ${t} ${f64[0]!}`);
    },
    histogram: (ref: number, t: number, x: Histogram) => void samples.push(`${ref} ${t} int ${x.count}`),
    floatHistogram: (ref: number, t: number, x: FloatHistogram) => void samples.push(`${ref} ${t} float ${x.count}`),
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

const a = Labels.fromPairs('__name__', 'lat', 'job', 'a');
const b = Labels.fromPairs('__name__', 'lat', 'job', 'b');

function ih(n: number): Histogram {
  return new Histogram({ schema: 0, count: 2 * n, sum: n, zeroCount: n, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [n] });
}

function fh(n: number): FloatHistogram {
  return ih(n).toFloat();
}

test('agent histograms: logged in order with the floats of the same commit', async () => {
  const dir = tmp();
  const db = await openAgentDB(opts(dir));
  try {
    const app = db.appender();
    const ra = app.append(0, a, 1000, 1);
    app.appendHistogram!(ra, a, 2000, ih(1), null);
    app.append(ra, a, 3000, 3);
    const rb = app.appendHistogram!(0, b, 1000, null, fh(2));
    app.commit();
    const w = walSamples(db.walDir);
    assert.deepEqual([...w.series.values()].sort(), [a.toString(), b.toString()]);
    assert.deepEqual(w.samples, [`${ra} 1000 1`, `${ra} 2000 int 2`, `${ra} 3000 3`, `${rb} 1000 float 4`]);
  } finally {
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('agent histograms: invalid ones refused as the head refuses them; out-of-order and duplicate checks against floats and histograms', async () => {
  const dir = tmp();
  const db = await openAgentDB(opts(dir));
  try {
    let app = db.appender();
    const bad = new Histogram({ count: 1, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [3] });
    assert.throws(() => app.appendHistogram!(0, a, 1000, bad, null), (e: unknown) => e instanceof InvalidHistogramError && /observations found in buckets/.test(e.message));
    app.appendHistogram!(0, a, 2000, ih(1), null);
    app.append(0, b, 2000, 1);
    app.commit();
    app = db.appender();
    assert.throws(() => app.appendHistogram!(0, a, 1000, ih(1), null), OutOfOrderSampleError);
    assert.throws(() => app.appendHistogram!(0, a, 2000, ih(2), null), DuplicateSampleError);
    assert.throws(() => app.appendHistogram!(0, a, 2000, null, fh(1)), DuplicateSampleError, 'a float histogram is not the integer one');
    assert.throws(() => app.append(0, a, 2000, 1), DuplicateSampleError, 'a float where a histogram is');
    assert.throws(() => app.appendHistogram!(0, b, 2000, ih(1), null), DuplicateSampleError, 'a histogram where a float is');
    // The same histogram again is dropped.
    app.appendHistogram!(0, a, 2000, ih(1), null);
    app.appendHistogram!(0, a, 3000, ih(2), null);
    assert.throws(() => app.append(0, a, 3000, 1), DuplicateSampleError, 'a repeat within the appender');
    app.commit();
    assert.equal(walSamples(db.walDir).samples.length, 3);
  } finally {
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('agent histograms: a restart replays them, so order and duplicate checks carry over', async () => {
  const dir = tmp();
  let db = await openAgentDB(opts(dir, { segmentSize: 64 * 1024 }));
  let app = db.appender();
  const ra = app.appendHistogram!(0, a, 5000, ih(1), null);
  app.commit();
  await db.close();
  db = await openAgentDB(opts(dir, { segmentSize: 64 * 1024 }));
  try {
    app = db.appender();
    assert.throws(() => app.appendHistogram!(0, a, 4000, ih(1), null), OutOfOrderSampleError);
    assert.throws(() => app.appendHistogram!(0, a, 5000, ih(3), null), DuplicateSampleError);
    assert.equal(app.appendHistogram!(0, a, 5000, ih(1), null), ra, 'the replayed histogram is the same one: dropped');
    assert.equal(app.appendHistogram!(0, a, 6000, ih(2), null), ra);
    app.commit();
    assert.deepEqual(walSamples(db.walDir).samples, [`${ra} 5000 int 2`, `${ra} 6000 int 4`]);
  } finally {
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
