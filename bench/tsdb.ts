// TSDB benchmark: `npm run bench -- tsdb [--series N] [--memory-series N]`.
//
// Standard shape: 10,000 series x 2h at 15s (480 samples each) scraped from
// 100 targets, a mix of counters, gauges and classic histograms; and 100,000
// series for memory. Prints a table and, last, one JSON line of figures.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Labels } from '../src/model/labels.js';
import { Matcher, MatchType } from '../src/model/matcher.js';
import { ValueType } from '../src/storage/interface.js';
import { readBlockMeta } from '../src/tsdb/db.js';
import { openDB } from '../src/tsdb/db.js';
import { headSource, writeBlock } from '../src/tsdb/compact.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const SERIES = arg('series', 10_000);
const MEMORY_SERIES = arg('memory-series', 100_000);
const TARGETS = 100;
const STEP = 15_000;
const SPAN = 2 * 3_600_000;
const START = 1_700_000_000_000 - (1_700_000_000_000 % SPAN);
const gc = (globalThis as { gc?: () => void }).gc;

// ---------------------------------------------------------------------------
// Data shape
// ---------------------------------------------------------------------------

/** Reproducible PRNG (xorshift32) so every run appends the same data. */
let seed = 0x9e3779b9;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}

const enum Kind {
  Constant,
  Counter,
  Bucket,
  HistSum,
  Gauge,
}

interface Shape {
  labels: Labels[];
  kind: Uint8Array;
  /** Per-series rate or scale parameter. */
  param: Float64Array;
  /** Per-series current value. */
  value: Float64Array;
  /** For buckets: probability that an observation falls at or below this bucket. */
  share: Float64Array;
}

const BUCKETS = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '+Inf'];

/**
 * Per target (100 targets): 20% constant series (up, info, build and
 * config gauges, error counters that never move), 30% counters with
 * per-scrape increments of Poisson-like size, 35% classic histogram series
 * (cumulative buckets, _sum, _count), 15% gauges moving in coarse steps
 * (bytes in pages, counts). This follows what node and service exporters
 * expose; the fractions are printed with the results.
 */
function buildShape(n: number): Shape {
  const labels: Labels[] = [];
  const kind = new Uint8Array(n);
  const param = new Float64Array(n);
  const value = new Float64Array(n);
  const share = new Float64Array(n);
  const perTarget = Math.ceil(n / TARGETS);
  let i = 0;
  for (let tgt = 0; tgt < TARGETS && i < n; tgt++) {
    const instance = `10.${(tgt >> 8) & 255}.${tgt & 255}.${(tgt * 7) % 250}:9100`;
    const job = `job-${tgt % 5}`;
    for (let k = 0; k < perTarget && i < n; k++, i++) {
      const r = k / perTarget;
      const common = ['job', job, 'instance', instance];
      if (r < 0.2) {
        kind[i] = Kind.Constant;
        value[i] = k % 3 === 0 ? 1 : k % 3 === 1 ? 0 : Math.floor(rnd() * 1e6);
        labels.push(Labels.fromPairs('__name__', `app_config_setting_${k % 40}`, 'component', `c${k}`, ...common));
      } else if (r < 0.5) {
        kind[i] = Kind.Counter;
        param[i] = rnd() < 0.3 ? rnd() * 0.5 : rnd() * 40;
        value[i] = Math.floor(rnd() * 1e5);
        labels.push(Labels.fromPairs('__name__', 'http_requests_total', 'handler', `/api/v1/h${k}`, 'method', k % 2 ? 'GET' : 'POST', 'code', k % 7 ? '200' : '500', ...common));
      } else if (r < 0.85) {
        // Histograms: 11 buckets + _sum + _count per histogram.
        const h = Math.floor(k / 13);
        const b = k % 13;
        const name = `rpc_duration_seconds`;
        const base = ['rpc', `Method${h}`, ...common];
        if (b < 11) {
          kind[i] = Kind.Bucket;
          share[i] = Math.min(1, 0.05 + (b / 10) ** 0.7);
          labels.push(Labels.fromPairs('__name__', `${name}_bucket`, 'le', BUCKETS[b]!, ...base));
        } else if (b === 11) {
          kind[i] = Kind.HistSum;
          labels.push(Labels.fromPairs('__name__', `${name}_sum`, ...base));
        } else {
          kind[i] = Kind.Bucket;
          share[i] = 1;
          labels.push(Labels.fromPairs('__name__', `${name}_count`, ...base));
        }
        param[i] = 5 + (h % 7) * 3;
      } else {
        kind[i] = Kind.Gauge;
        param[i] = k % 2 ? 4096 : 1;
        value[i] = Math.floor(rnd() * 1e6) * param[i]!;
        labels.push(Labels.fromPairs('__name__', k % 2 ? 'process_resident_memory_bytes' : 'worker_queue_length', 'queue', `q${k}`, ...common));
      }
    }
  }
  return { labels, kind, param, value, share };
}

/** Advances every series by one scrape. Histogram buckets of one histogram share the observation count. */
function step(s: Shape, obs: Float64Array): void {
  const n = s.kind.length;
  for (let i = 0; i < n; i++) {
    switch (s.kind[i]) {
      case Kind.Counter: {
        const p = s.param[i]!;
        s.value[i] = s.value[i]! + (p < 1 ? (rnd() < p ? 1 : 0) : Math.floor(p * (0.5 + rnd())));
        break;
      }
      case Kind.Bucket: {
        const o = obs[i]!;
        s.value[i] = s.value[i]! + Math.floor(o * s.share[i]! + rnd() * 0.999);
        break;
      }
      case Kind.HistSum:
        s.value[i] = s.value[i]! + Math.round(obs[i]! * 0.08 * 1000) / 1000;
        break;
      case Kind.Gauge:
        if (rnd() < 0.3) s.value[i] = Math.max(0, s.value[i]! + Math.round((rnd() - 0.5) * 20) * s.param[i]!);
        break;
      default:
        break;
    }
  }
}

function observations(s: Shape, obs: Float64Array): void {
  for (let i = 0; i < s.kind.length; i++) obs[i] = s.kind[i] === Kind.Bucket || s.kind[i] === Kind.HistSum ? Math.floor(s.param[i]! * (0.5 + rnd())) : 0;
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

const rows: [string, string][] = [];
function row(name: string, value: string): void {
  rows.push([name, value]);
  process.stdout.write(`  ${name.padEnd(44)} ${value}\n`);
}

function readAll(db: Awaited<ReturnType<typeof openDB>>, mint: number, maxt: number): number {
  const q = db.querier(mint, maxt);
  let n = 0;
  let sum = 0;
  const ss = q.select(false, null, Matcher.create(MatchType.Regexp, '__name__', '.+'));
  while (ss.next()) {
    const it = ss.at().iterator();
    while (it.next() !== ValueType.None) {
      n++;
      sum += it.t() & 1;
    }
  }
  q.close();
  if (sum < 0) throw new Error('unreachable');
  return n;
}

/**
 * Wall-clock and CPU time of this process. Rates use CPU time (user + system):
 * the benchmark machine is shared, and CPU time measures our cost rather
 * than the neighbours' load. Both are printed.
 */
class Timer {
  private readonly wall = performance.now();
  private readonly cpu = process.cpuUsage();
  /** Seconds of CPU time since start. */
  cpuSec(): number {
    const d = process.cpuUsage(this.cpu);
    return (d.user + d.system) / 1e6;
  }
  wallSec(): number {
    return (performance.now() - this.wall) / 1000;
  }
  describe(n: number, unit: string): string {
    return `${fmt(n / this.cpuSec())} ${unit}/s (CPU ${fmt(this.cpuSec(), 2)} s, wall ${fmt(this.wallSec(), 2)} s)`;
  }
}

function mem(): number {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

// ---------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdb-bench-'));
  try {
    process.stdout.write(`tsdb benchmark: ${fmt(SERIES)} series x 2h at 15s (${TARGETS} targets), memory at ${fmt(MEMORY_SERIES)} series\n\n`);
    const shape = buildShape(SERIES);
    const counts = [0, 0, 0, 0, 0];
    for (const k of shape.kind) counts[k]!++;
    row('series mix (const/counter/hist/gauge)', `${counts[Kind.Constant]}/${counts[Kind.Counter]}/${counts[Kind.Bucket]! + counts[Kind.HistSum]!}/${counts[Kind.Gauge]}`);

    // --- append (with WAL), one commit per target scrape ---
    const dataDir = path.join(tmp, 'data');
    let db = await openDB(dataDir, { maintenanceIntervalMs: 0, compactOnCommit: false });
    const refs = new Float64Array(SERIES);
    const obs = new Float64Array(SERIES);
    const perTarget = Math.ceil(SERIES / TARGETS);
    let samples = 0;
    const appendTimer = new Timer();
    for (let t = START; t < START + SPAN; t += STEP) {
      observations(shape, obs);
      step(shape, obs);
      for (let tgt = 0; tgt < TARGETS; tgt++) {
        const a = db.appender();
        const end = Math.min(SERIES, (tgt + 1) * perTarget);
        for (let i = tgt * perTarget; i < end; i++) refs[i] = a.append(refs[i]!, shape.labels[i]!, t, shape.value[i]!);
        a.commit();
        samples += end - tgt * perTarget;
      }
    }
    const appendRate = samples / appendTimer.cpuSec();
    row('appended samples', fmt(samples));
    row('append throughput (WAL on)', appendTimer.describe(samples, 'samples'));

    // --- select + decode from the head ---
    let timer = new Timer();
    const readHead = readAll(db, START, START + SPAN);
    const headReadRate = readHead / timer.cpuSec();
    row('select+decode, head', timer.describe(readHead, 'samples'));

    // --- compacted block size ---
    const blockDir = path.join(tmp, 'blocks');
    fs.mkdirSync(blockDir);
    timer = new Timer();
    const res = await writeBlock({ dir: blockDir, sources: [await headSource(db.head, START, START + SPAN - 1)], mint: START, maxt: START + SPAN, level: 1, sourceULIDs: [] });
    const compactSec = timer.cpuSec();
    const meta = readBlockMeta(path.join(blockDir, res!.ulid));
    const chunkBytes = fs.readdirSync(path.join(blockDir, res!.ulid, 'chunks')).reduce((n, f) => n + fs.statSync(path.join(blockDir, res!.ulid, 'chunks', f)).size, 0);
    const indexBytes = fs.statSync(path.join(blockDir, res!.ulid, 'index')).size;
    const bytesPerSample = meta.size / meta.stats.numSamples;
    row('block write (2h, from head)', `CPU ${fmt(compactSec, 2)} s, wall ${fmt(timer.wallSec(), 2)} s`);
    row('block size (chunks + index + meta)', `${fmt(meta.size)} bytes (chunks ${fmt(chunkBytes)}, index ${fmt(indexBytes)})`);
    row('bytes per sample, whole block', fmt(bytesPerSample, 3));
    row('bytes per sample, chunks only', fmt(chunkBytes / meta.stats.numSamples, 3));

    // --- select + decode from the block (through a database that has only the block) ---
    const blockDB = path.join(tmp, 'blockdb');
    fs.mkdirSync(blockDB);
    fs.renameSync(path.join(blockDir, res!.ulid), path.join(blockDB, res!.ulid));
    const bdb = await openDB(blockDB, { maintenanceIntervalMs: 0, retentionTimeMs: 1000 * SPAN });
    timer = new Timer();
    const readBlock = readAll(bdb, START, START + SPAN);
    const blockReadRate = readBlock / timer.cpuSec();
    row('select+decode, block', timer.describe(readBlock, 'samples'));
    await bdb.close();

    // --- WAL replay ---
    await db.close();
    const walBytes = fs.readdirSync(path.join(dataDir, 'wal')).reduce((n, f) => n + fs.statSync(path.join(dataDir, 'wal', f)).size, 0);
    row('WAL size', `${fmt(walBytes)} bytes (${fmt(walBytes / samples, 2)} per sample)`);
    gc?.();
    timer = new Timer();
    db = await openDB(dataDir, { maintenanceIntervalMs: 0, compactOnCommit: false });
    const replaySec = timer.cpuSec();
    const replayRate = samples / replaySec;
    row('WAL replay', timer.describe(samples, 'samples'));
    if (readAll(db, START, START + SPAN) !== samples) throw new Error('BUG: replay lost samples');
    await db.close();

    // --- memory at 100k series: labels + index + metadata + one open chunk (120 samples) each ---
    const memDir = path.join(tmp, 'mem');
    const memSamples = 120;
    const baseline = mem();
    const mdb = await openDB(memDir, { maintenanceIntervalMs: 0, compactOnCommit: false });
    {
      // Label sets live only in this block, as in a scraper that drops a target's cache; afterwards
      // only what the head keeps remains reachable.
      const mshape = buildShape(MEMORY_SERIES);
      const mrefs = new Float64Array(MEMORY_SERIES);
      const mobs = new Float64Array(MEMORY_SERIES);
      for (let k = 0; k < memSamples; k++) {
        observations(mshape, mobs);
        step(mshape, mobs);
        const a = mdb.appender();
        const t = START + k * STEP;
        for (let i = 0; i < MEMORY_SERIES; i++) mrefs[i] = a.append(mrefs[i]!, mshape.labels[i]!, t, mshape.value[i]!);
        a.commit();
      }
    }
    const head = mdb.head;
    const perSeries = (mem() - baseline) / MEMORY_SERIES;
    const chunkPerSeries = head.chunks.usedBytes / MEMORY_SERIES;
    const pageSlackPerSeries = (head.chunks.reservedBytes() - head.chunks.usedBytes) / MEMORY_SERIES;
    row('head series', fmt(head.numSeries));
    row('head bytes per series, all included', `${fmt(perSeries)} (chunk data ${fmt(chunkPerSeries)}, page slack ${fmt(pageSlackPerSeries)})`);
    row('  of which typed-array metadata + index maps', fmt(head.metadataBytes() / MEMORY_SERIES));
    await mdb.close();

    const figures = {
      series: SERIES,
      samples,
      append_samples_per_s: Math.round(appendRate),
      bytes_per_sample: Number(bytesPerSample.toFixed(3)),
      chunk_bytes_per_sample: Number((chunkBytes / meta.stats.numSamples).toFixed(3)),
      head_bytes_per_series: Math.round(perSeries),
      head_chunk_bytes_per_series: Math.round(chunkPerSeries),
      memory_series: MEMORY_SERIES,
      wal_replay_seconds: Number(replaySec.toFixed(3)),
      wal_replay_samples_per_s: Math.round(replayRate),
      select_decode_head_samples_per_s: Math.round(headReadRate),
      select_decode_block_samples_per_s: Math.round(blockReadRate),
      block_write_seconds: Number(compactSec.toFixed(3)),
      timing: 'cpu',
    };
    process.stdout.write('\n' + JSON.stringify(figures) + '\n');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
