import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeQueryLogLine } from './lines.js';
import { formatQueryLogLine } from '../../test/querylog_helpers.js';
import { ByteWriter } from '../logging/byte_writer.js';
import { formatJSONTime } from '../logging/time_fmt.js';
import type { QueryLogRecord, QueryOrigin } from '../promql/engine/types.js';

/** The line as JSON.stringify writes it: the byte encoder must produce exactly this text. */
function reference(rec: QueryLogRecord, now: number): string {
  const ns = (x: number) => (Number.isFinite(x) && x > 0 ? Math.round(x * 1e9) / 1e9 : 0);
  const t = rec.stats.timings;
  const s = rec.stats.samples;
  const o: Record<string, unknown> = {
    time: formatJSONTime(now),
    level: 'INFO',
    msg: 'promql query logged',
    params: {
      end: new Date(rec.params.end).toISOString(),
      query: rec.params.query,
      start: new Date(rec.params.start).toISOString(),
      step: Math.trunc(rec.params.step / 1000),
    },
  };
  if (rec.error !== undefined) o.error = rec.error;
  const samples: Record<string, unknown> = {};
  if (s.totalQueryableSamplesPerStep?.length) samples.totalQueryableSamplesPerStep = s.totalQueryableSamplesPerStep;
  samples.totalQueryableSamples = s.totalQueryableSamples;
  samples.peakSamples = s.peakSamples;
  o.stats = {
    timings: {
      evalTotalTime: ns(t.evalTotalTime),
      resultSortTime: ns(t.resultSortTime),
      queryPreparationTime: ns(t.queryPreparationTime),
      innerEvalTime: ns(t.innerEvalTime),
      execQueueTime: ns(t.execQueueTime),
      execTotalTime: ns(t.execTotalTime),
    },
    samples,
  };
  if ('httpRequest' in rec.origin) {
    const h = rec.origin.httpRequest;
    o.httpRequest = { clientIP: h.clientIP, method: h.method, path: h.path };
  } else if ('ruleGroup' in rec.origin) {
    o.ruleGroup = { file: rec.origin.ruleGroup.file, name: rec.origin.ruleGroup.name };
  }
  return JSON.stringify(o) + '\n';
}

const text = fc.string({ unit: 'binary', maxLength: 40 });
const secs = fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e5, noNaN: true }), fc.double({ min: 0, max: 1e-5, noNaN: true }));
const origin: fc.Arbitrary<QueryOrigin> = fc.oneof(
  fc.record({ httpRequest: fc.record({ clientIP: text, method: text, path: text }) }),
  fc.record({ ruleGroup: fc.record({ file: text, name: text }) }),
  fc.constant({}),
);
const record: fc.Arbitrary<QueryLogRecord> = fc
  .record({
    query: text,
    start: fc.integer({ min: -1e13, max: 1e13 }),
    end: fc.integer({ min: -1e13, max: 1e13 }),
    step: fc.integer({ min: 0, max: 1e9 }),
    error: fc.option(text, { nil: undefined }),
    timings: fc.tuple(secs, secs, secs, secs, secs, secs),
    total: fc.nat(),
    peak: fc.nat(),
    perStep: fc.option(fc.array(fc.tuple(fc.integer({ min: 0, max: 2e9 }), fc.nat()), { maxLength: 4 }), { nil: undefined }),
    origin,
  })
  .map((r) => {
    const [a, b, c, d, e, f] = r.timings;
    const rec: QueryLogRecord = {
      params: { query: r.query, start: r.start, end: r.end, step: r.step },
      stats: {
        timings: { evalTotalTime: a, resultSortTime: b, queryPreparationTime: c, innerEvalTime: d, execQueueTime: e, execTotalTime: f },
        samples: { totalQueryableSamples: r.total, peakSamples: r.peak, ...(r.perStep ? { totalQueryableSamplesPerStep: r.perStep } : {}) },
      },
      origin: r.origin,
    };
    if (r.error !== undefined) rec.error = r.error;
    return rec;
  });

test('the byte encoder writes exactly what JSON.stringify would', () => {
  fc.assert(
    fc.property(record, fc.integer({ min: 0, max: 4e12 }), (rec, now) => {
      assert.equal(formatQueryLogLine(rec, now), reference(rec, now));
    }),
    { numRuns: 2000 },
  );
});

test('a line longer than the scratch buffer gets a bigger one', () => {
  const query = 'x'.repeat(100_000) + '"é';
  const rec: QueryLogRecord = {
    params: { query, start: 0, end: 0, step: 0 },
    stats: {
      timings: { evalTotalTime: 1, resultSortTime: 0, queryPreparationTime: 0, innerEvalTime: 1, execQueueTime: 0, execTotalTime: 1 },
      samples: { totalQueryableSamples: 0, peakSamples: 0 },
    },
    origin: {},
  };
  const w = new ByteWriter(Buffer.alloc(16));
  encodeQueryLogLine(rec, 0, w);
  assert.equal(JSON.parse(w.buf.toString('utf8', 0, w.pos)).params.query, query);
});

test('start and end are UTC with three decimals', () => {
  const rec: QueryLogRecord = {
    params: { query: 'up', start: 0, end: Date.UTC(2024, 10, 14, 9, 51, 50, 620), step: 0 },
    stats: {
      timings: { evalTotalTime: 0, resultSortTime: 0, queryPreparationTime: 0, innerEvalTime: 0, execQueueTime: 0, execTotalTime: 0 },
      samples: { totalQueryableSamples: 0, peakSamples: 0 },
    },
    origin: {},
  };
  const { params } = JSON.parse(formatQueryLogLine(rec, 0)) as { params: { start: string; end: string } };
  assert.equal(params.end, '2024-11-14T09:51:50.620Z');
  assert.equal(params.start, '1970-01-01T00:00:00.000Z');
});
