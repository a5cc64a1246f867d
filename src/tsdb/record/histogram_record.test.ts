import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { CounterResetHint, FloatHistogram, Histogram } from '../../model/histogram.js';
import { Labels } from '../../model/labels.js';
import { CorruptionError } from '../encoding/encoding.js';
import { TSDBMetrics, type TSDBGaugeState } from '../metrics.js';
import { checkpointSegments, createCheckpoint, lastCheckpoint } from '../wal/checkpoint.js';
import { SegmentReader, WAL } from '../wal/wal.js';
import { RecordEncoder, REC_BATCH_HISTOGRAMS, decodeRecord, type RecordHandler } from './record.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Everything a handler is given, in order. */
function recorder(): { h: RecordHandler; log: string[] } {
  const log: string[] = [];
  return {
    log,
    h: {
      series: (ref, ls) => log.push(`series ${ref} ${ls.toString()}`),
      sample: (ref, t) => log.push(`float ${ref} ${t}`),
      tombstone: () => log.push('tombstone'),
      histogram: (ref, t, h) => log.push(`histogram ${ref} ${t} ${h.toString()} hint=${h.counterResetHint}`),
      floatHistogram: (ref, t, fh) => log.push(`float histogram ${ref} ${t} ${fh.toString()} custom=${Array.from(fh.customValues).join(',')}`),
    },
  };
}

const H = new Histogram({
  counterResetHint: CounterResetHint.NotCounterReset,
  schema: -2,
  zeroThreshold: 0.25,
  zeroCount: 3,
  count: 2 ** 40 + 12,
  sum: -1.5,
  positiveSpans: [{ offset: -3, length: 2 }, { offset: 5, length: 1 }],
  positiveBuckets: [2 ** 40, -(2 ** 40) + 1, 4],
  negativeSpans: [{ offset: 0, length: 1 }],
  negativeBuckets: [4],
});
const FH = new FloatHistogram({ schema: -53, count: 3.5, sum: 7, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1.25, 2.25], customValues: [0.1, 0.5] });

function batchWithHistograms(): Buffer {
  const e = new RecordEncoder(16, 1 << 20);
  e.startBatch(1, true);
  e.series(4, Labels.fromPairs('__name__', 'x'));
  e.histograms(3);
  // One before any float, one after the first float, one after both.
  e.histogram(4, 1000, H, null, 0);
  e.histogram(9, 3000, null, FH, 1);
  e.histogram(4, 5000, H.with({ counterResetHint: CounterResetHint.Gauge }), null, 2);
  e.samples(2);
  e.sample(4, 2000, 0x3ff00000, 0);
  e.sample(4, 4000, 0x3ff00000, 0);
  return Buffer.from(e.bytes());
}

describe('WAL records with native histograms', () => {
  test('round-trip every field, in append order among the floats', () => {
    const b = batchWithHistograms();
    assert.equal(b[0], REC_BATCH_HISTOGRAMS);
    const { h, log } = recorder();
    decodeRecord(b, 0, b.length, h);
    assert.deepEqual(log, [
      'series 4 {__name__="x"}',
      `histogram 4 1000 ${H.toString()} hint=2`,
      'float 4 2000',
      `float histogram 9 3000 ${FH.toString()} custom=0.1,0.5`,
      'float 4 4000',
      `histogram 4 5000 ${H.toString()} hint=3`,
    ]);
    const got: Histogram[] = [];
    decodeRecord(b, 0, b.length, { series() {}, sample() {}, tombstone() {}, histogram: (_r, _t, x) => got.push(x) });
    assert.ok(got[0]!.equals(H));
    assert.deepEqual(got[0]!.negativeBuckets, H.negativeBuckets);
  });

  test('handlers without histogram methods get the series and floats', () => {
    const b = batchWithHistograms();
    const seen: string[] = [];
    decodeRecord(b, 0, b.length, { series: (r) => seen.push(`s${r}`), sample: (_r, t) => seen.push(`f${t}`), tombstone() {} });
    assert.deepEqual(seen, ['s4', 'f2000', 'f4000']);
  });

  test('damaged histogram entries are corruption, never a huge allocation', () => {
    const b = batchWithHistograms();
    const { h } = recorder();
    // Cut anywhere inside the record.
    for (let n = 1; n < b.length; n++) assert.throws(() => decodeRecord(b, 0, n, h), CorruptionError, `cut at ${n}`);
    // A bucket count far beyond the record's size.
    const e = new RecordEncoder(16, 1 << 20);
    e.startBatch(0, true);
    e.histograms(1);
    e.histogram(1, 0, new Histogram({ positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [1], count: 1 }), null, 0);
    e.samples(0);
    const ok = Buffer.from(e.bytes());
    decodeRecord(ok, 0, ok.length, h);
    const bad = Buffer.from(ok);
    // Layout: type, #series, #hist, base ref, base t, ref delta, t delta, seq, kind, hint, schema, zt(8), count, zcount, sum(8), #pspans...
    const kindAt = 8;
    bad[kindAt] = 7;
    assert.throws(() => decodeRecord(bad, 0, bad.length, h), /unknown histogram kind 7/);
    const huge = Buffer.from(ok);
    const pspansAt = 11 + 8 + 1 + 1 + 8;
    assert.equal(huge[pspansAt], 1);
    huge[pspansAt] = 0x7f;
    assert.throws(() => decodeRecord(huge, 0, huge.length, h), /exceeds the record/);
  });

  test('checkpoints keep the histograms of live series at or after mint', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdb-hrec-'));
    dirs.push(dir);
    const noState = new Proxy({}, { get: () => () => 0 }) as unknown as TSDBGaugeState;
    const metrics = new TSDBMetrics(new Registry(), { ...noState, walReplayStatus: () => ({ min: 0, max: 0, current: 0 }) });
    const wal = new WAL(dir, { segmentSize: 1 << 20, metrics });
    wal.startWriting();
    wal.log(batchWithHistograms());
    wal.nextSegment();
    const st = await createCheckpoint(dir, 0, 0, (ref) => ref === 4, 1500, 1 << 20);
    // Kept: floats 2000 and 4000, histogram 5000 of series 4; dropped: histogram 1000 (before mint), series 9's.
    assert.equal(st.samplesKept, 3);
    assert.equal(st.samplesDropped, 2);
    const { h, log } = recorder();
    for (const f of checkpointSegments(lastCheckpoint(dir)!.dir)) {
      const r = new SegmentReader(fs.readFileSync(f), f);
      while (r.next()) {
        decodeRecord(r.buf, r.start, r.end, h, f);
        r.accept();
      }
    }
    assert.deepEqual(log, ['series 4 {__name__="x"}', 'float 4 2000', 'float 4 4000', `histogram 4 5000 ${H.toString()} hint=3`]);
    wal.close();
  });
});
