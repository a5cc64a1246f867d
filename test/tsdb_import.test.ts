// `tsprom tsdb import openmetrics` backfills blocks that the database and the
// PromQL engine then read; `list` and `analyze` describe them.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { runTsdbCommand } from '../src/cli/tsdb.js';
import { Engine } from '../src/promql/engine/engine.js';
import { openDB } from '../src/tsdb/db.js';

const H = 3_600_000;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmpdir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdb-import-'));
  dirs.push(d);
  return d;
}

function sink(): { w: Writable; text: () => string } {
  let s = '';
  return {
    w: new Writable({
      write(chunk: Buffer, _enc, cb) {
        s += chunk.toString();
        cb();
      },
    }),
    text: () => s,
  };
}

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = sink();
  const err = sink();
  const code = await runTsdbCommand(argv, { stdout: out.w, stderr: err.w });
  return { code, out: out.text(), err: err.text() };
}

/** 5 hours of samples every minute, starting at 1h: a counter with two series and a gauge. */
function openMetricsFile(dir: string): string {
  const lines: string[] = ['# HELP http_requests Requests.', '# TYPE http_requests counter'];
  for (const code of ['200', '500']) {
    for (let t = H; t < 6 * H; t += 60_000) lines.push(`http_requests_total{code="${code}"} ${(t / 60_000) * (code === '200' ? 10 : 1)} ${t / 1000}`);
  }
  lines.push('# TYPE temperature gauge');
  for (let t = H; t < 6 * H; t += 60_000) lines.push(`temperature{room="a"} ${20 + (t / 60_000) % 7} ${t / 1000}`);
  lines.push('# EOF');
  const file = path.join(dir, 'data.om');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

test('import openmetrics writes 2h blocks that list, analyze and the engine read back', async () => {
  const work = tmpdir();
  const data = path.join(work, 'data');
  const file = openMetricsFile(work);

  const imp = await run('import', 'openmetrics', file, data);
  assert.equal(imp.code, 0, imp.err);
  assert.match(imp.out, /^BLOCK ULID\s+MIN TIME\s+MAX TIME\s+DURATION\s+NUM SAMPLES\s+NUM CHUNKS\s+NUM SERIES\s+SIZE\n/);
  // Data spans [1h, 6h): aligned 2h ranges [0,2h), [2h,4h), [4h,6h); each block ends 1ms after its last sample.
  assert.equal(imp.out.trim().split('\n').length, 1 + 3);

  const list = await run('list', data);
  assert.equal(list.code, 0);
  const rows = list.out.trim().split('\n').slice(1);
  assert.equal(rows.length, 3);
  const first = rows[0]!.split(/\s+/);
  assert.equal(first[1], String(H));
  assert.equal(first[2], String(2 * H - 60_000 + 1));
  assert.equal(first[3], '59m0.001s');
  assert.equal(first[4], String(3 * 60));
  assert.equal(first[6], '3');
  const human = await run('list', '-r', data);
  assert.match(human.out, /1970-01-01 01:00:00 \+0000 UTC/);

  const an = await run('analyze', data, '--limit', '2');
  assert.equal(an.code, 0, an.err);
  assert.match(an.out, /^Block ID: [0-9A-Z]{26}\nDuration: 1h59m0\.001s\nTotal Series: 3\nLabel names: 3\n/);
  assert.match(an.out, /Highest cardinality metric names:\n2 http_requests_total\n1 temperature\n/);
  assert.match(an.out, /Most common label pairs:\n2 __name__=http_requests_total\n/);

  const db = await openDB(data, { maintenanceIntervalMs: 0 });
  try {
    assert.equal(db.blocks().length, 3);
    const engine = new Engine();
    const at = 3 * H + 30 * 60_000;
    const r = await engine.newInstantQuery(db, 'http_requests_total', at).exec();
    assert.equal(r.value.type, 'vector');
    const got = r.value.type === 'vector' ? r.value.samples.map((s) => [s.metric.get('code'), s.f]).sort() : [];
    assert.deepEqual(got, [
      ['200', (at / 60_000) * 10],
      ['500', at / 60_000],
    ]);
    const rate = await engine.newInstantQuery(db, 'rate(http_requests_total{code="200"}[10m])', 5 * H).exec();
    assert.ok(rate.value.type === 'vector' && Math.abs(rate.value.samples[0]!.f - 10 / 60) < 1e-9);
    const range = await engine.newRangeQuery(db, 'temperature', H, 6 * H - 60_000, 60_000).exec();
    assert.ok(range.value.type === 'matrix');
    assert.equal(range.value.series[0]!.ts.length, 300);
  } finally {
    await db.close();
  }
});

test('import into a directory with data merges overlapping blocks on compaction', async () => {
  const work = tmpdir();
  const data = path.join(work, 'data');
  const db = await openDB(data, { maintenanceIntervalMs: 0, compactOnCommit: false });
  try {
    // The server already has some samples for the same series in its head.
    const file = openMetricsFile(work);
    assert.equal((await run('import', 'openmetrics', '-q', file, data)).code, 0);
    await db.compact();
    assert.equal(db.blocks().length, 3);
    const q = db.querier(0, 10 * H);
    const ss = q.select(true, null);
    let n = 0;
    while (ss.next()) n++;
    q.close();
    assert.equal(n, 3);
    // Importing the same file again overlaps every block; compaction merges them without duplicates.
    assert.equal((await run('import', 'openmetrics', '-q', file, data)).code, 0);
    await db.compact();
    const bs = db.blocks();
    for (let i = 1; i < bs.length; i++) assert.ok(bs[i]!.minTime >= bs[i - 1]!.maxTime, 'no overlaps left');
    assert.equal(
      bs.reduce((s, b) => s + b.stats.numSamples, 0),
      3 * 300,
    );
  } finally {
    await db.close();
  }
});

test('import reports bad input and bad usage', async () => {
  const work = tmpdir();
  const bad = path.join(work, 'bad.om');
  fs.writeFileSync(bad, 'x 1\n# EOF\n');
  const r = await run('import', 'openmetrics', bad, path.join(work, 'd'));
  assert.equal(r.code, 1);
  assert.match(r.err, /expected timestamp for series \{__name__="x"\}, got none/);
  const ooo = path.join(work, 'ooo.om');
  fs.writeFileSync(ooo, 'x 1 20\nx 2 10\n# EOF\n');
  assert.match((await run('import', 'openmetrics', ooo, path.join(work, 'd'))).err, /parse: |out of order/);
  assert.equal((await run('frobnicate')).code, 2);
  assert.equal((await run('import', 'csv', 'a', 'b')).code, 2);
  assert.match((await run('analyze', path.join(work, 'empty'))).err, /does not exist|no blocks/);
});
