import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { RemoteWriteHandler } from './write_handler.js';
import { Matcher, MatchType } from '../model/matcher.js';
import { openDB, type DB } from '../tsdb/db.js';
import { writeRequestBody, writeV2RequestBody, V2_CONTENT_TYPE } from '../../test/remote_write_proto.js';

const NOW = 1_700_000_000_000;
const V1 = { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' };
const V2 = { 'content-type': V2_CONTENT_TYPE, 'content-encoding': 'snappy' };
const ALL = [[Matcher.create(MatchType.Regexp, '__name__', '.+')]];

const dbs: DB[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** maxExemplars null: exemplar storage off. */
async function setup(maxExemplars: number | null = 100): Promise<{ db: DB; h: RemoteWriteHandler; reg: Registry }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-ex-'));
  dirs.push(dir);
  const reg = new Registry();
  const db = await openDB(dir, { maintenanceIntervalMs: 0, compactOnCommit: false, maxExemplars: maxExemplars ?? undefined, registry: reg });
  dbs.push(db);
  return { db, h: new RemoteWriteHandler({ storage: db, registry: reg, now: () => NOW }), reg };
}

function stored(db: DB): Record<string, [number, number, string][]> {
  const out: Record<string, [number, number, string][]> = {};
  for (const r of db.exemplarQuerier().select(-Infinity, Infinity, ALL)) {
    out[r.seriesLabels.toString()] = r.exemplars.map((e) => [e.ts, e.value, e.labels.toString()]);
  }
  return out;
}

async function metric(reg: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await reg.getSingleMetric(name)!.get();
  const v = m.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

const LONG = 'x'.repeat(130);

describe('remote write exemplars', () => {
  test('1.0: exemplars are stored with their series; refused ones are counted and never fail the request', async () => {
    const { db, h, reg } = await setup();
    const res = h.handle(
      V1,
      writeRequestBody([
        {
          labels: [['__name__', 'req_total'], ['job', 'a']],
          samples: [[NOW - 2000, 1], [NOW - 1000, 2]],
          exemplars: [
            { labels: { trace_id: 'abc' }, value: 1, t: NOW - 2000 },
            { labels: { trace_id: 'def', span_id: '' }, value: 2, t: NOW - 1000 },
            // Older than the newest: out of order.
            { labels: { trace_id: 'old' }, value: 0.5, t: NOW - 1500 },
            { labels: { trace_id: LONG }, value: 3, t: NOW - 500 },
            { labels: { trace_id: 'future' }, value: 3, t: NOW + 3_600_000 },
          ],
        },
        // No samples, series unknown to the storage.
        { labels: [['__name__', 'nothing']], samples: [], exemplars: [{ labels: { trace_id: 'x' }, value: 1, t: NOW }] },
      ]),
    );
    assert.equal(res.status, 204, res.body);
    assert.deepEqual(stored(db), {
      '{__name__="req_total", job="a"}': [
        [NOW - 2000, 1, '{trace_id="abc"}'],
        [NOW - 1000, 2, '{trace_id="def"}'],
      ],
    });
    assert.equal(await metric(reg, 'tsprom_remote_write_received_exemplars_total'), 2);
    assert.equal(await metric(reg, 'tsprom_remote_write_exemplars_rejected_total', { reason: 'out_of_order' }), 1);
    assert.equal(await metric(reg, 'tsprom_remote_write_exemplars_rejected_total', { reason: 'label_length' }), 1);
    assert.equal(await metric(reg, 'tsprom_remote_write_exemplars_rejected_total', { reason: 'too_far_in_future' }), 1);
    assert.equal(await metric(reg, 'tsprom_remote_write_exemplars_rejected_total', { reason: 'unknown_series' }), 1);
    assert.equal(await metric(reg, 'tsprom_tsdb_exemplar_label_length_exceeded_total'), 1);
  });

  test('1.0: a request rolled back for a bad sample stores none of its exemplars', async () => {
    const { db, h } = await setup();
    h.handle(V1, writeRequestBody([{ labels: [['__name__', 'm']], samples: [[NOW - 1000, 1]] }]));
    const res = h.handle(
      V1,
      writeRequestBody([
        { labels: [['__name__', 'n']], samples: [[NOW - 1000, 1]], exemplars: [{ labels: { trace_id: 'a' }, value: 1, t: NOW - 1000 }] },
        // Out of order: the whole request goes back.
        { labels: [['__name__', 'm']], samples: [[NOW - 5000, 1]] },
      ]),
    );
    assert.equal(res.status, 400);
    assert.deepEqual(stored(db), {});
  });

  test('2.0: exemplars reference the symbols table; written counts them; out-of-order ones are a 400 line', async () => {
    const { db, h, reg } = await setup();
    const res = h.handle(
      V2,
      writeV2RequestBody([
        {
          labels: { __name__: 'lat_bucket', le: '0.5' },
          samples: [[NOW - 1000, 3]],
          exemplars: [
            { labels: { trace_id: 'abc', span_id: 's1' }, value: 0.3, t: NOW - 1000 },
            { labels: { trace_id: 'early' }, value: 0.1, t: NOW - 2000 },
            { labels: { trace_id: LONG }, value: 0.3, t: NOW - 900 },
          ],
        },
      ]),
    );
    assert.equal(res.status, 400);
    assert.equal(res.body, 'out of order exemplar for series {__name__="lat_bucket", le="0.5"}\n');
    assert.equal(res.headers['X-Prometheus-Remote-Write-Exemplars-Written'], '1');
    assert.equal(res.headers['X-Prometheus-Remote-Write-Samples-Written'], '1');
    assert.deepEqual(stored(db), { '{__name__="lat_bucket", le="0.5"}': [[NOW - 1000, 0.3, '{span_id="s1", trace_id="abc"}']] });
    assert.equal(await metric(reg, 'tsprom_remote_write_exemplars_rejected_total', { reason: 'label_length' }), 1);
    assert.equal(await metric(reg, 'tsprom_remote_write_received_exemplars_total'), 1);
    // The same again: a repeat of the newest is written (Prometheus counts it) and stored once.
    const again = h.handle(
      V2,
      writeV2RequestBody([{ labels: { __name__: 'lat_bucket', le: '0.5' }, samples: [[NOW - 1000, 3]], exemplars: [{ labels: { trace_id: 'abc', span_id: 's1' }, value: 0.3, t: NOW - 1000 }] }]),
    );
    assert.equal(again.status, 204, again.body);
    assert.equal(again.headers['X-Prometheus-Remote-Write-Exemplars-Written'], '1');
    assert.equal(Object.values(stored(db))[0]!.length, 1);
  });

  test('with exemplar storage off, exemplars are accepted and not stored', async () => {
    const { db, h } = await setup(null);
    const res = h.handle(V2, writeV2RequestBody([{ labels: { __name__: 'm' }, samples: [[NOW, 1]], exemplars: [{ labels: { trace_id: 'a' }, value: 1, t: NOW }] }]));
    assert.equal(res.status, 204, res.body);
    assert.equal(res.headers['X-Prometheus-Remote-Write-Exemplars-Written'], '1');
    assert.deepEqual(db.exemplarQuerier().select(-Infinity, Infinity, ALL), []);
  });
});
