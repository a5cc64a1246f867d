// Native histograms through the whole TSDB: SIGKILL after acknowledged
// commits, a damaged histogram WAL record, head compaction into blocks and
// back, merging overlapping blocks, and `tsdb analyze --extended`.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { runTsdbCommand } from '../src/cli/tsdb.js';
import { FloatHistogram, Histogram } from '../src/model/histogram.js';
import { Labels } from '../src/model/labels.js';
import { Matcher, MatchType } from '../src/model/matcher.js';
import { ValueType, type Queryable } from '../src/storage/interface.js';
import { Block } from '../src/tsdb/block.js';
import { blockSource, writeBlock } from '../src/tsdb/compact.js';
import { openDB, type DBOptions } from '../src/tsdb/db.js';
import { listSegments, segmentName } from '../src/tsdb/wal/wal.js';
import { HIST_SERIES, HIST_STEP_MS, histogramAt, mixedIsFloat } from './fixtures/tsdb_histogram_shared.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmpdir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdb-hist-'));
  dirs.push(d);
  return d;
}

type Sample = { t: number; f?: number; h?: Histogram; fh?: FloatHistogram };

/** Every sample of the series matching __name__=name, by label set. */
function readSeries(db: Queryable, name: string): Map<string, Sample[]> {
  const q = db.querier(-Infinity, Infinity);
  const out = new Map<string, Sample[]>();
  const ss = q.select(true, null, Matcher.create(MatchType.Equal, '__name__', name));
  while (ss.next()) {
    const it = ss.at().iterator();
    const got: Sample[] = [];
    for (let ty = it.next(); ty !== ValueType.None; ty = it.next()) {
      if (ty === ValueType.Float) got.push({ t: it.t(), f: it.v() });
      else if (ty === ValueType.Histogram) got.push({ t: it.t(), h: it.atHistogram!() });
      else got.push({ t: it.t(), fh: it.atFloatHistogram!() });
    }
    assert.equal(it.err(), null);
    out.set(ss.at().labels.toString(), got);
  }
  assert.equal(ss.err(), null);
  q.close();
  return out;
}

/**
 * Same observations in the same buckets: chunks store a sample with the
 * layout of its chunk (a recoded chunk adds empty buckets), so compare
 * without empty buckets.
 */
function same(a: Histogram | FloatHistogram | undefined, b: Histogram | FloatHistogram): boolean {
  if (a === undefined) return false;
  if (a instanceof Histogram && b instanceof Histogram) return a.compact(0).equals(b.compact(0));
  if (a instanceof FloatHistogram && b instanceof FloatHistogram) return a.compact(0).equals(b.compact(0));
  return false;
}

/** Checks one sample of the crash test's series against what the child wrote. */
function checkSample(series: string, s: Sample): void {
  const m = /series="(\d+)"/.exec(series);
  if (m === null) {
    if (mixedIsFloat(s.t)) assert.equal(s.f, s.t, `${series} at ${s.t}`);
    else assert.ok(same(s.h, histogramAt(0, s.t)), `${series} at ${s.t}`);
    return;
  }
  const i = Number(m[1]);
  const want = histogramAt(i, s.t);
  if (i % 2 === 0) assert.ok(same(s.h, want), `${series} at ${s.t}: ${String(s.h)} != ${String(want)}`);
  else assert.ok(same(s.fh, want.toFloat()), `${series} at ${s.t}`);
}

function childCommand(): { cmd: string; args: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ts = here.endsWith('.ts');
  const child = path.join(path.dirname(here), 'fixtures', ts ? 'tsdb_histogram_crash_child.ts' : 'tsdb_histogram_crash_child.js');
  return { cmd: process.execPath, args: ts ? ['--import', 'tsx', child] : [child] };
}

/** Runs the child until it acknowledged `commits` batches (plus a moment), kills it, returns its lines. */
async function runAndKill(dir: string, first: number, commits: number, extraMs: number): Promise<string[]> {
  const { cmd, args } = childCommand();
  const proc: ChildProcess = spawn(cmd, [...args, dir, String(first)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (d: string) => {
      buf += d;
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines.push(...parts);
      if (lines.filter((l) => l.startsWith('C ')).length >= commits) resolve();
    });
    proc.on('exit', () => reject(new Error(`child exited early: ${stderr}`)));
  });
  await new Promise((r) => setTimeout(r, extraMs));
  proc.kill('SIGKILL');
  if (proc.exitCode === null && proc.signalCode === null) await new Promise((r) => proc.once('exit', r));
  return lines;
}

test('acknowledged histogram commits survive SIGKILL, whole and exact', { timeout: 120_000 }, async () => {
  const dir = tmpdir();
  const committed = new Set<number>();
  const inFlight = new Set<number>();
  let next = 5_000_000;
  for (let round = 0; round < 6; round++) {
    const lines = await runAndKill(dir, next, 40 + round * 37, round * 7);
    let last = -1;
    let open: number | null = null;
    for (const l of lines) {
      const [kind, ts] = l.split(' ');
      if (kind === 'B') open = last = Number(ts);
      else if (kind === 'C') {
        committed.add(Number(ts));
        open = null;
      }
    }
    if (open !== null) inFlight.add(open);
    next = last + HIST_STEP_MS;
    const db = await openDB(dir, { minBlockDurationMs: 60 * HIST_STEP_MS, maintenanceIntervalMs: 0, compactOnCommit: false });
    try {
      const data = new Map([...readSeries(db, 'hist_crash'), ...readSeries(db, 'hist_crash_mixed')]);
      assert.equal(data.size, HIST_SERIES + 1);
      const seen = new Map<number, number>();
      for (const [series, samples] of data) {
        for (let k = 0; k < samples.length; k++) {
          const s = samples[k]!;
          if (k > 0) assert.ok(s.t > samples[k - 1]!.t, `${series}: timestamps not increasing at ${s.t}`);
          checkSample(series, s);
          seen.set(s.t, (seen.get(s.t) ?? 0) + 1);
        }
      }
      for (const t of committed) assert.equal(seen.get(t), HIST_SERIES + 1, `round ${round}: committed batch ${t} has ${seen.get(t) ?? 0} samples`);
      for (const [t, n] of seen) {
        assert.ok(committed.has(t) || inFlight.has(t), `batch ${t} was never committed`);
        assert.equal(n, HIST_SERIES + 1, `batch ${t} is partial`);
      }
    } finally {
      await db.close();
    }
  }
  assert.ok(fs.readdirSync(dir).some((n) => /^[0-9A-Z]{26}$/.test(n)), 'head compaction wrote blocks with histograms during the run');
});

const base: DBOptions = { maintenanceIntervalMs: 0, compactOnCommit: false };

async function corruptions(reg: Registry): Promise<number> {
  const m = (await reg.getMetricsAsJSON()).find((x) => x.name === 'prometheus_tsdb_wal_corruptions_total');
  return m?.values[0]?.value ?? 0;
}

test('a damaged histogram WAL record is handled like other corruption: the records before it stay', async () => {
  const dir = tmpdir();
  const ls = Labels.fromPairs('__name__', 'h');
  let db = await openDB(dir, base);
  for (let k = 0; k < 10; k++) {
    const a = db.appender();
    a.appendHistogram!(0, ls, k * 1000, histogramAt(1, k * 1000), null);
    a.commit();
  }
  await db.close();
  // Flip a byte inside the last record (the segment ends with it).
  const wal = path.join(dir, 'wal');
  const seg = path.join(wal, segmentName(listSegments(wal).at(-1)!));
  const b = fs.readFileSync(seg);
  b[b.length - 20]! ^= 0xff;
  fs.writeFileSync(seg, b);
  const reg = new Registry();
  db = await openDB(dir, { ...base, registry: reg });
  try {
    const got = readSeries(db, 'h').get(ls.toString()) ?? [];
    assert.deepEqual(got.map((s) => s.t), [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000]);
    for (const s of got) assert.ok(same(s.h, histogramAt(1, s.t)));
    assert.equal(await corruptions(reg), 1);
    // Appends go on after the repair.
    const a = db.appender();
    a.appendHistogram!(0, ls, 9000, histogramAt(1, 9000), null);
    a.commit();
  } finally {
    await db.close();
  }
});

test('histograms round-trip through head compaction into a block, and overlapping blocks merge', async () => {
  const dir = tmpdir();
  const H = 3_600_000;
  const step = 15_000;
  let db = await openDB(dir, { ...base, minBlockDurationMs: 2 * H });
  const ls = Labels.fromPairs('__name__', 'h', 'kind', 'int');
  const lf = Labels.fromPairs('__name__', 'h', 'kind', 'float');
  const lm = Labels.fromPairs('__name__', 'h', 'kind', 'mixed');
  // 4h of samples: the first 2h go into a block.
  for (let t = 0; t < 4 * H; t += step) {
    const a = db.appender();
    a.appendHistogram!(0, ls, t, histogramAt(2, t), null);
    a.appendHistogram!(0, lf, t, null, histogramAt(3, t).toFloat());
    if (mixedIsFloat(t / 15)) a.append(0, lm, t, t);
    else a.appendHistogram!(0, lm, t, histogramAt(4, t), null);
    a.commit();
  }
  const before = readSeries(db, 'h');
  await db.compact();
  assert.ok(db.blocks().length >= 1, 'a block was written');
  assert.equal(db.blocks()[0]!.stats.numSamples, (3 * 2 * H) / step);
  assert.deepEqual(readSeries(db, 'h'), before);
  await db.close();
  db = await openDB(dir, { ...base, minBlockDurationMs: 2 * H });
  assert.deepEqual(readSeries(db, 'h'), before);
  const blockDir = path.join(dir, db.blocks()[0]!.ulid);
  await db.close();

  // Two copies of the block merge into one (the re-encoding path): same samples, no duplicates.
  const a = Block.open(blockDir);
  const b = Block.open(blockDir);
  const out = tmpdir();
  try {
    const res = await writeBlock({ dir: out, sources: [blockSource(a), blockSource(b)], mint: 0, maxt: 2 * H, level: 2, sourceULIDs: [] });
    assert.ok(res !== null);
    const merged = Block.open(path.join(out, res.ulid));
    try {
      const got = readSeries(merged, 'h');
      for (const [k, v] of before) assert.deepEqual(got.get(k), v.filter((s) => s.t < 2 * H), k);
      assert.equal(res.meta.stats.numSamples, (3 * 2 * H) / step);
    } finally {
      await merged.close(true);
    }
  } finally {
    await a.close(true);
    await b.close(true);
  }
});

test('tsdb analyze --extended counts histogram chunks apart from float chunks', async () => {
  const dir = tmpdir();
  const H = 3_600_000;
  const db = await openDB(dir, { ...base, minBlockDurationMs: 2 * H });
  for (let t = 0; t < 4 * H; t += 60_000) {
    const a = db.appender();
    a.appendHistogram!(0, Labels.fromPairs('__name__', 'h'), t, histogramAt(1, t), null);
    a.append(0, Labels.fromPairs('__name__', 'f'), t, t);
    a.commit();
  }
  await db.compact();
  await db.close();
  let text = '';
  const stdout = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  const code = await runTsdbCommand(['analyze', '--extended', dir], { stdout, stderr: stdout });
  assert.equal(code, 0, text);
  assert.match(text, /\nCompaction analysis:\n\nsamples per float chunk \(min\/avg\/max\): 120\/120\/120\n/);
  assert.match(text, /\nsamples per histogram chunk \(min\/avg\/max\): \d+\/\d+\/\d+\n/);
  assert.match(text, /\nbytes per histogram chunk \(min\/avg\/max\): /);
  assert.match(text, /\nbuckets per histogram chunk \(min\/avg\/max\): /);
});
