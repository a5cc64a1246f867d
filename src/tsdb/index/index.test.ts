import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Labels } from '../../model/labels.js';
import { Matcher, MatchType } from '../../model/matcher.js';
import { IndexReader, IndexWriter, type ChunkMeta } from './index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmpfile(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdb-index-'));
  dirs.push(d);
  return path.join(d, 'index');
}

async function build(file: string, n: number): Promise<Labels[]> {
  const all: Labels[] = [];
  for (let i = 0; i < n; i++) {
    all.push(Labels.fromPairs('__name__', i % 3 === 0 ? 'a' : 'b', 'i', String(i).padStart(4, '0'), 'job', `j${i % 5}`, 'unicode', 'ü✓'));
  }
  all.sort(Labels.compare);
  const w = new IndexWriter(file);
  all.forEach((ls, i) => {
    const metas: ChunkMeta[] = [
      { mint: -1000 + i, maxt: i, ref: 2 ** 32 + 8 + i * 100, len: 50 },
      { mint: i + 1, maxt: i + 5000, ref: 2 ** 32 + 58 + i * 100, len: 50 },
    ];
    w.addSeries(ls, metas);
  });
  await w.finish();
  return all;
}

test('index round-trips series, chunk metas, symbols and postings', async () => {
  const file = tmpfile();
  const all = await build(file, 200);
  const r = new IndexReader(file);
  assert.equal(r.numSeries, 200);
  for (let i = 0; i < 200; i += 17) {
    const metas: ChunkMeta[] = [];
    assert.ok(r.series(i, metas).equals(all[i]!));
    assert.equal(metas.length, 2);
    assert.equal(metas[0]!.ref, 2 ** 32 + 8 + i * 100);
    assert.equal(metas[1]!.maxt - metas[1]!.mint, 4999);
  }
  const a = r.postings('__name__', 'a');
  assert.equal(a.length, 67);
  for (const id of a) assert.equal(r.series(id, null).get('__name__'), 'a');
  assert.deepEqual([...r.labelValuesOf('job')], ['j0', 'j1', 'j2', 'j3', 'j4']);
  assert.deepEqual(r.labelNamesAll(), ['__name__', 'i', 'job', 'unicode']);
  const ids = r.postingsForMatchers([Matcher.create(MatchType.Regexp, 'job', 'j1|j2'), Matcher.create(MatchType.Equal, '__name__', 'b')]);
  assert.ok(ids.length > 0);
  for (const id of ids) {
    const ls = r.series(id, null);
    assert.ok(['j1', 'j2'].includes(ls.get('job')) && ls.get('__name__') === 'b');
  }
  assert.equal(r.postings('job', 'nope').length, 0);
  assert.equal(r.labelValueOf(0, r.symbolId('unicode')), 'ü✓');
});

test('a damaged index is refused with a checksum error', async () => {
  const file = tmpfile();
  await build(file, 20);
  const b = fs.readFileSync(file);
  b[40]! ^= 1;
  fs.writeFileSync(file, b);
  assert.throws(() => new IndexReader(file), /checksum/);
  fs.writeFileSync(file, b.subarray(0, 10));
  assert.throws(() => new IndexReader(file), /too short/);
});

test('series must be added in label order', () => {
  const w = new IndexWriter(tmpfile());
  w.addSeries(Labels.fromPairs('a', '2'), []);
  assert.throws(() => w.addSeries(Labels.fromPairs('a', '1'), []), /out of order/);
});
