// `tsprom tsdb <command>`: offline tools on a data directory, like promtool's
// `tsdb` commands.
//
//   import openmetrics <file> <data-dir>   backfill an OpenMetrics text file into blocks
//   analyze <data-dir> [block-id]          cardinality and churn of a block (the newest by default);
//                                          --extended adds promtool's per-chunk analysis (floats and histograms)
//   list <data-dir>                        blocks with their time ranges and sizes
//
// Blocks are written next to whatever is in the directory (a running server
// picks them up at its next maintenance run and merges overlaps).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { Labels, LabelsBuilder, METRIC_NAME } from '../model/labels.js';
import { formatGoDurationNs, parseDuration } from '../gofmt/duration.js';
import { Entry, TextParseError } from '../model/textparse/interface.js';
import { OpenMetricsParser } from '../model/textparse/openmetrics_parser.js';
import { Block, type BlockMeta } from '../tsdb/block.js';
import { decodeFloatHistogramChunk, decodeHistogramChunk, ENC_FLOAT_HISTOGRAM, ENC_HISTOGRAM } from '../tsdb/chunkenc/histogram_chunk.js';
import { exponentialRanges, headSource, writeBlock } from '../tsdb/compact.js';
import { readBlockMeta } from '../tsdb/db.js';
import { Head } from '../tsdb/head/head.js';
import type { ChunkMeta } from '../tsdb/index/index.js';
import { TSDBMetrics, type TSDBGaugeState } from '../tsdb/metrics.js';
import { isULID } from '../tsdb/ulid.js';

export interface TsdbIO {
  stdout: Writable;
  stderr: Writable;
}

const USAGE = `usage: tsprom tsdb <command> [flags]

Commands:
  import openmetrics <file> <data-dir>   Import samples from an OpenMetrics text file into blocks.
      --max-block-duration=<duration>    Longest block to create (default 2h; rounded down to a block range).
      --label=<name>=<value>             Label added to every imported series (repeatable).
      -r, --human-readable               Print times and sizes for humans.
      -q, --quiet                        Do not print the created blocks.
  analyze <data-dir> [block-id]          Cardinality and churn of a block (default: the newest).
      --limit=<n>                        Entries per list (default 20).
      --extended                         Also samples, bytes and buckets per float and histogram chunk.
  list <data-dir>                        List blocks.
      -r, --human-readable               Print times and sizes for humans.
`;

/** Prometheus's default (and smallest) block duration. */
const DEFAULT_BLOCK_DURATION = 2 * 3_600_000;
/** promtool commits the backfill appender every 5000 samples. */
const SAMPLES_PER_COMMIT = 5000;
/** promtool's default --limit for `tsdb analyze`. */
const DEFAULT_ANALYZE_LIMIT = 20;

class UsageError extends Error {
  override name = 'UsageError';
}

interface Parsed {
  positional: string[];
  flags: Map<string, string[]>;
}

const BOOL_FLAGS = new Map([
  ['r', 'human-readable'],
  ['q', 'quiet'],
  ['human-readable', 'human-readable'],
  ['quiet', 'quiet'],
  ['extended', 'extended'],
]);

function parseFlags(argv: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  const add = (k: string, v: string): void => {
    const l = flags.get(k) ?? [];
    l.push(v);
    flags.set(k, l);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const bool = BOOL_FLAGS.get(name);
    if (bool !== undefined) {
      if (eq >= 0) throw new UsageError(`flag --${name} takes no value`);
      add(bool, 'true');
      continue;
    }
    if (!['max-block-duration', 'label', 'limit'].includes(name)) throw new UsageError(`unknown flag ${a}`);
    if (eq >= 0) add(name, body.slice(eq + 1));
    else if (i + 1 < argv.length) add(name, argv[++i]!);
    else throw new UsageError(`flag --${name} needs a value`);
  }
  return { positional, flags };
}

export async function runTsdbCommand(argv: string[], io: TsdbIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  try {
    const { positional, flags } = parseFlags(argv);
    const [cmd, ...rest] = positional;
    const human = flags.has('human-readable');
    switch (cmd) {
      case 'import': {
        if (rest[0] !== 'openmetrics') throw new UsageError(`unknown import format ${JSON.stringify(rest[0] ?? '')}; only "openmetrics" is supported`);
        if (rest.length !== 3) throw new UsageError('import openmetrics needs <file> <data-dir>');
        const mbd = flags.get('max-block-duration')?.at(-1);
        const custom: [string, string][] = [];
        for (const l of flags.get('label') ?? []) {
          const eq = l.indexOf('=');
          if (eq <= 0) throw new UsageError(`--label wants name=value, got ${JSON.stringify(l)}`);
          custom.push([l.slice(0, eq), l.slice(eq + 1)]);
        }
        await importOpenMetrics(rest[1]!, rest[2]!, {
          maxBlockDurationMs: mbd === undefined ? 0 : parseDuration(mbd),
          labels: custom,
          humanReadable: human,
          quiet: flags.has('quiet'),
          out: io.stdout,
        });
        return 0;
      }
      case 'analyze': {
        if (rest.length < 1 || rest.length > 2) throw new UsageError('analyze needs <data-dir> [block-id]');
        const lim = flags.get('limit')?.at(-1);
        const limit = lim === undefined ? DEFAULT_ANALYZE_LIMIT : Number(lim);
        if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive integer, got ${JSON.stringify(lim)}`);
        analyzeBlock(rest[0]!, rest[1] ?? '', limit, flags.has('extended'), io.stdout);
        return 0;
      }
      case 'list': {
        if (rest.length !== 1) throw new UsageError('list needs <data-dir>');
        const blocks = listBlocks(rest[0]!);
        io.stdout.write(formatBlockTable(blocks, true, human));
        return 0;
      }
      case undefined:
      case 'help':
        io.stdout.write(USAGE);
        return cmd === undefined ? 1 : 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`tsprom tsdb: error: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    io.stderr.write(`tsprom tsdb: error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

// =====================================================================
// import
// =====================================================================

interface ImportOptions {
  /** 0 = the default 2h. */
  maxBlockDurationMs: number;
  labels: [string, string][];
  humanReadable: boolean;
  quiet: boolean;
  out: Writable;
}

/** The largest block range (2h * 3^k) not above the requested maximum, as promtool picks it. */
function compatibleBlockDuration(maxBlockDurationMs: number): number {
  if (maxBlockDurationMs <= DEFAULT_BLOCK_DURATION) return DEFAULT_BLOCK_DURATION;
  // The ranges ascend from DEFAULT_BLOCK_DURATION.
  let best = DEFAULT_BLOCK_DURATION;
  for (const r of exponentialRanges(DEFAULT_BLOCK_DURATION, 10, 3)) {
    if (r > maxBlockDurationMs) break;
    best = r;
  }
  return best;
}

function silentMetrics(): TSDBMetrics {
  const zero = (): number => 0;
  const state: TSDBGaugeState = {
    headSeries: zero,
    headChunks: zero,
    headMinTime: zero,
    headMaxTime: zero,
    headChunkBytes: zero,
    symbolTableBytes: zero,
    activeAppenders: zero,
    blocksLoaded: zero,
    blocksBytes: zero,
    lowestTimestamp: zero,
    walSegmentCurrent: zero,
    walStorageBytes: zero,
    retentionLimitBytes: zero,
    headSeriesLimit: zero,
    walReplayStatus: () => ({ min: 0, max: 0, current: 0 }),
  };
  return new TSDBMetrics(new Registry(), state);
}

function parseError(e: unknown): Error {
  return e instanceof TextParseError ? new Error(`parse: ${e.message}`) : (e as Error);
}

/** Backfills an OpenMetrics file into blocks of one block duration each. Returns the blocks written. */
async function importOpenMetrics(file: string, dataDir: string, o: ImportOptions): Promise<BlockMeta[]> {
  const input = fs.readFileSync(file);
  let mint = Infinity;
  let maxt = -Infinity;
  try {
    const p = new OpenMetricsParser(input);
    for (let e = p.next(); e !== Entry.EOF; e = p.next()) {
      if (e !== Entry.Series) continue;
      const ts = p.timestamp();
      if (ts === null) throw new Error(`expected timestamp for series ${p.labels().toString()}, got none`);
      if (ts < mint) mint = ts;
      if (ts > maxt) maxt = ts;
    }
  } catch (e) {
    throw parseError(e);
  }
  const written: BlockMeta[] = [];
  if (mint === Infinity) return written;
  fs.mkdirSync(dataDir, { recursive: true });
  const bd = compatibleBlockDuration(o.maxBlockDurationMs);
  let header = true;
  let nextSampleTs = Infinity;
  for (let t = Math.trunc(mint / bd) * bd; t <= maxt; t += bd) {
    const upper = t + bd;
    // Skip ranges known to hold nothing.
    if (nextSampleTs !== Infinity && nextSampleTs >= upper) continue;
    nextSampleTs = Infinity;
    // Chunks may span two block ranges here, as in promtool's block writer: only one block's samples go in.
    const head = new Head({ chunkRange: 2 * bd, metrics: silentMetrics() });
    let app = head.appender();
    let n = 0;
    try {
      const p = new OpenMetricsParser(input);
      for (let e = p.next(); e !== Entry.EOF; e = p.next()) {
        if (e !== Entry.Series) continue;
        const ts = p.timestamp()!;
        if (ts < t) continue;
        if (ts >= upper) {
          if (ts < nextSampleTs) nextSampleTs = ts;
          continue;
        }
        let ls = p.labels();
        if (o.labels.length > 0) {
          const b = new LabelsBuilder(ls);
          for (const [k, v] of o.labels) b.set(k, v);
          ls = b.labels();
        }
        try {
          app.append(0, ls, ts, p.value());
        } catch (err) {
          throw new Error(`add sample: ${(err as Error).message} (series ${ls.toString()}, timestamp ${ts})`);
        }
        if (++n >= SAMPLES_PER_COMMIT) {
          app.commit();
          app = head.appender();
          n = 0;
        }
      }
    } catch (e) {
      app.rollback();
      throw parseError(e);
    }
    app.commit();
    if (head.numSeries === 0 || !Number.isFinite(head.minTime)) continue;
    const res = await writeBlock({
      dir: dataDir,
      sources: [await headSource(head, head.minTime, head.maxTime)],
      mint: head.minTime,
      maxt: head.maxTime + 1,
      level: 1,
      sourceULIDs: [],
    });
    if (res === null) continue;
    const meta = readBlockMeta(path.join(dataDir, res.ulid));
    written.push(meta);
    if (!o.quiet) {
      o.out.write(formatBlockTable([meta], header, o.humanReadable));
      header = false;
    }
  }
  return written;
}

// =====================================================================
// list
// =====================================================================

/** Persisted blocks of a data directory, oldest first. */
function listBlocks(dataDir: string): BlockMeta[] {
  if (!fs.existsSync(dataDir)) throw new Error(`data directory ${dataDir} does not exist`);
  const out: BlockMeta[] = [];
  for (const name of fs.readdirSync(dataDir)) {
    const d = path.join(dataDir, name);
    if (!isULID(name) || !fs.statSync(d).isDirectory()) continue;
    out.push(readBlockMeta(d));
  }
  return out.sort((a, b) => a.minTime - b.minTime);
}

function formatTime(ms: number, human: boolean): string {
  if (!human) return String(ms);
  // Go's time.Time.String() in UTC, at second precision as promtool prints it.
  const d = new Date(Math.floor(ms / 1000) * 1000);
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

function formatBytes(n: number, human: boolean): string {
  if (!human) return String(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n}B` : `${Number.isInteger(v) ? v : v.toFixed(1)}${units[u]}`;
}

/** Columns padded like Go's tabwriter with promtool's settings (minimum width 13, padding 2). */
function tabulate(rows: string[][]): string {
  const widths: number[] = [];
  // widths has an entry for every column of every row.
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length + 2, 13)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('') + '\n').join('');
}

function formatBlockTable(blocks: readonly BlockMeta[], header: boolean, human: boolean): string {
  const rows: string[][] = [];
  if (header) rows.push(['BLOCK ULID', 'MIN TIME', 'MAX TIME', 'DURATION', 'NUM SAMPLES', 'NUM CHUNKS', 'NUM SERIES', 'SIZE']);
  for (const b of blocks) {
    rows.push([
      b.ulid,
      formatTime(b.minTime, human),
      formatTime(b.maxTime, human),
      formatGoDurationNs((b.maxTime - b.minTime) * 1e6),
      String(b.stats.numSamples),
      String(b.stats.numChunks),
      String(b.stats.numSeries),
      formatBytes(b.size, human),
    ]);
  }
  return tabulate(rows);
}

// =====================================================================
// analyze
// =====================================================================

function analyzeBlock(dataDir: string, blockId: string, limit: number, extended: boolean, out: Writable): void {
  const blocks = listBlocks(dataDir);
  if (blocks.length === 0) throw new Error(`no blocks found in ${dataDir}`);
  const id = blockId === '' ? blocks[blocks.length - 1]!.ulid : blockId;
  if (!blocks.some((b) => b.ulid === id)) throw new Error(`block ${id} not found in ${dataDir}`);
  const block = Block.open(path.join(dataDir, id));
  try {
    const meta = block.meta;
    const ix = block.index;
    const span = meta.maxTime - meta.minTime;
    const w = (s: string): void => {
      out.write(s);
    };
    w(`Block ID: ${meta.ulid}\n`);
    w(`Duration: ${formatGoDurationNs(span * 1e6)}\n`);
    w(`Total Series: ${meta.stats.numSeries}\n`);
    const names = ix.labelNamesAll();
    w(`Label names: ${names.length}\n`);

    const labelsUncovered = new Map<string, number>();
    const pairsUncovered = new Map<string, number>();
    const pairsCount = new Map<string, number>();
    let entries = 0;
    const metas: ChunkMeta[] = [];
    const bump = (m: Map<string, number>, k: string, v: number): void => {
      m.set(k, (m.get(k) ?? 0) + v);
    };
    for (let i = 0; i < ix.numSeries; i++) {
      metas.length = 0;
      const ls: Labels = ix.series(i, metas);
      // Time of the block this series does not cover: a measure of churn.
      const uncovered = metas.length === 0 ? span : span - (metas[metas.length - 1]!.maxt - metas[0]!.mint);
      ls.forEach((n, v) => {
        const key = `${n}=${v}`;
        bump(labelsUncovered, n, uncovered);
        bump(pairsUncovered, key, uncovered);
        bump(pairsCount, key, 1);
        entries++;
      });
    }
    w(`Postings (unique label pairs): ${pairsUncovered.size}\n`);
    w(`Postings entries (total label pairs): ${entries}\n`);

    const print = (title: string, items: [string, number][]): void => {
      w(`\n${title}:\n`);
      items.sort((a, b) => b[1] - a[1]);
      for (const [k, v] of items.slice(0, limit)) w(`${v} ${k}\n`);
    };
    const perSpan = (m: Map<string, number>): [string, number][] => [...m].map(([k, v]) => [k, span > 0 ? Math.floor(v / span) : 0]);
    print('Label pairs most involved in churning', perSpan(pairsUncovered));
    print('Label names most involved in churning', perSpan(labelsUncovered));
    print('Most common label pairs', [...pairsCount]);
    print(
      'Label names with highest cumulative label value length',
      names.map((n) => [n, ix.labelValuesOf(n).reduce((s, v) => s + Buffer.byteLength(v), 0)]),
    );
    print(
      'Highest cardinality labels',
      names.map((n) => [n, ix.labelValuesOf(n).length]),
    );
    print(
      'Highest cardinality metric names',
      ix.labelValuesOf(METRIC_NAME).map((v) => [v, ix.postings(METRIC_NAME, v).length]),
    );
    if (extended) analyzeCompaction(block, w);
  } finally {
    void block.close(true);
  }
}

/** Prometheus's extended analysis: samples, bytes and buckets per chunk, floats and native histograms apart. */
function analyzeCompaction(block: Block, w: (s: string) => void): void {
  const floatSamples: number[] = [];
  const floatBytes: number[] = [];
  const histSamples: number[] = [];
  const histBytes: number[] = [];
  const histBuckets: number[] = [];
  let total = 0;
  for (let id = 0; id < block.index.numSeries; id++) {
    const s = block.readSeries(id);
    for (const loc of s.locs) {
      const data = s.buf.subarray(loc.start, loc.end);
      // Every chunk encoding starts with its sample count (uint16 big-endian).
      const n = ((data[0] ?? 0) << 8) | (data[1] ?? 0);
      if (loc.enc === ENC_HISTOGRAM || loc.enc === ENC_FLOAT_HISTOGRAM) {
        histSamples.push(n);
        histBytes.push(data.length);
        let buckets = 0;
        const samples = loc.enc === ENC_HISTOGRAM ? decodeHistogramChunk(data) : decodeFloatHistogramChunk(data);
        for (const x of samples) buckets += x.h.positiveBuckets.length + x.h.negativeBuckets.length;
        histBuckets.push(buckets);
      } else {
        floatSamples.push(n);
        floatBytes.push(data.length);
      }
      total++;
    }
  }
  w('\nCompaction analysis:\n\n');
  displayDistribution(w, 'samples per float chunk', floatSamples, total);
  displayDistribution(w, 'bytes per float chunk', floatBytes, total);
  displayDistribution(w, 'samples per histogram chunk', histSamples, total);
  displayDistribution(w, 'bytes per histogram chunk', histBytes, total);
  displayDistribution(w, 'buckets per histogram chunk', histBuckets, total);
}

/** min/avg/max and a text bar chart in buckets of a power of ten wide, as promtool prints them. */
function displayDistribution(w: (s: string) => void, what: string, data: number[], total: number): void {
  if (data.length === 0) {
    w(`${what}: N/A\n\n`);
    return;
  }
  data.sort((a, b) => a - b);
  const lo = data[0]!;
  const hi = data[data.length - 1]!;
  let step = 10;
  const spread = Math.trunc((hi - lo) / 10);
  while (step < spread && step <= 10000) step *= 10;
  const start = lo - (lo % step);
  const end = hi - (hi % step) + step;
  const counts = new Array<number>(Math.trunc((end - start) / step) + 1).fill(0);
  let sum = 0;
  for (const c of data) {
    sum += c;
    counts[Math.trunc((c - start) / step)]!++;
  }
  const maxCount = Math.max(...counts);
  w(`${what} (min/avg/max): ${lo}/${Math.trunc(sum / data.length)}/${hi}\n`);
  const lw = String(end).length;
  const rw = String(end + step).length;
  const cw = String(maxCount).length;
  counts.forEach((count, b) => {
    const pct = Math.trunc((100 * count) / total);
    w(`[${String(b * step + start + 1).padStart(lw)}, ${String((b + 1) * step + start).padStart(rw)}]: ${String(count).padStart(cw)} ${'#'.repeat(pct)}\n`);
  });
  w('\n');
}
