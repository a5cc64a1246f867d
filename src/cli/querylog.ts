// `tsprom querylog top <file> [--by duration|count|samples] [--limit N]`: summarises a query log.
//
// The file is streamed in fixed-size chunks and every structure is bounded, so memory stays at a few
// tens of MB whatever the file size:
// - the slowest and the most sample-hungry executions are kept in top-N heaps (exact);
// - counts per distinct query and per origin live in maps with a fixed capacity. When a map is full,
//   the half with the lowest counts is forgotten. A query first seen after that may therefore be
//   under-counted by at most the largest count forgotten so far, which the report prints as the
//   error bound. Queries seen more often than that bound are always reported.
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';

export interface QuerylogIO {
  stdout: Writable;
  stderr: Writable;
}

type RankBy = 'duration' | 'count' | 'samples';

/** Read size: large enough for few syscalls on a 10 GB file, small next to the memory budget. */
const CHUNK_BYTES = 1 << 20;
/** Longer lines are skipped and counted; a query log line is normally under 2 KB. */
const MAX_LINE_BYTES = 1 << 20;
/** Distinct queries counted exactly until this many; ~1 KB per entry keeps the map near 10-15 MB. */
const MAX_DISTINCT_QUERIES = 10_000;
/** Distinct origins (API paths, rule groups): far more than a real server has. */
const MAX_DISTINCT_ORIGINS = 1_000;
/** Queries longer than this are keyed by their start and a hash of the whole, bounding each map key. */
const MAX_QUERY_KEY_CHARS = 1_000;
/** Upper bound of --limit, so the top-N heaps stay small. */
const MAX_LIMIT = 1_000;
/** Ten rows per table keep the whole report on one terminal screen. */
const DEFAULT_LIMIT = 10;

const USAGE = `usage: tsprom querylog top <file> [--by duration|count|samples] [--limit N]

Summarises a query log file (global.query_log_file):
  --by duration   the slowest single executions (default)
  --by samples    the executions that loaded the most samples
  --by count      the most frequent queries, with their average and maximum duration
  --limit N       rows per table (1-${MAX_LIMIT}, default ${DEFAULT_LIMIT})
`;

class UsageError extends Error {
  override name = 'UsageError';
}

/** One execution worth listing. */
interface Execution {
  duration: number;
  samples: number;
  time: string;
  origin: string;
  query: string;
  failed: boolean;
}

/**
 * Keeps the `cap` largest items by `score` (a min-heap: the root is the smallest kept).
 * h[0] is read only when the heap holds cap >= 1 items; up and down index below h.length.
 */
class TopN<T> {
  private readonly heap: T[] = [];
  constructor(
    private readonly cap: number,
    private readonly score: (t: T) => number,
  ) {
    if (cap < 1) throw new Error(`BUG: TopN needs a capacity of at least 1, got ${cap}`);
  }

  /** Whether an item with this score would be kept; lets callers skip building it. */
  wants(s: number): boolean {
    return this.heap.length < this.cap || s > this.score(this.heap[0]!);
  }

  add(item: T): void {
    const h = this.heap;
    if (h.length < this.cap) {
      h.push(item);
      this.up(h.length - 1);
    } else if (this.score(item) > this.score(h[0]!)) {
      h[0] = item;
      this.down(0);
    }
  }

  /** Largest first. */
  sorted(): T[] {
    return [...this.heap].sort((a, b) => this.score(b) - this.score(a));
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.score(h[p]!) <= this.score(h[i]!)) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.score(h[l]!) < this.score(h[m]!)) m = l;
      if (r < h.length && this.score(h[r]!) < this.score(h[m]!)) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }
}

interface Tally {
  count: number;
  failed: number;
  totalDuration: number;
  maxDuration: number;
  totalSamples: number;
  /** Shown text (the query, or its start when it was too long to key). */
  label: string;
}

/** Counts per key in a map of fixed capacity (see the file comment for the eviction rule). */
class BoundedTally {
  private readonly m = new Map<string, Tally>();
  /** Largest count forgotten so far: counts of entries may be low by up to this much. */
  errorBound = 0;
  evicted = 0;

  constructor(private readonly cap: number) {}

  add(key: string, label: string, duration: number, samples: number, failed: boolean): void {
    let t = this.m.get(key);
    if (t === undefined) {
      if (this.m.size >= this.cap) this.evictHalf();
      t = { count: 0, failed: 0, totalDuration: 0, maxDuration: 0, totalSamples: 0, label };
      this.m.set(key, t);
    }
    t.count++;
    if (failed) t.failed++;
    t.totalDuration += duration;
    if (duration > t.maxDuration) t.maxDuration = duration;
    t.totalSamples += samples;
  }

  top(n: number): Tally[] {
    return [...this.m.values()].sort((a, b) => b.count - a.count || b.totalDuration - a.totalDuration).slice(0, n);
  }

  private evictHalf(): void {
    const entries = [...this.m.entries()].sort((a, b) => a[1].count - b[1].count);
    const drop = entries.length >> 1;
    for (const [k, t] of entries.slice(0, drop)) {
      if (t.count > this.errorBound) this.errorBound = t.count;
      this.m.delete(k);
    }
    this.evicted += drop;
  }
}

function queryKey(q: string): string {
  if (q.length <= MAX_QUERY_KEY_CHARS) return q;
  return q.slice(0, MAX_QUERY_KEY_CHARS) + '… sha256:' + createHash('sha256').update(q).digest('hex').slice(0, 16);
}

function originOf(o: Record<string, unknown>): string {
  const h = o.httpRequest as Record<string, unknown> | undefined;
  if (h && typeof h === 'object') return `http ${String(h.method ?? '')} ${String(h.path ?? '')}`.trimEnd();
  const r = o.ruleGroup as Record<string, unknown> | undefined;
  if (r && typeof r === 'object') return `rule group ${String(r.name ?? '')} (${String(r.file ?? '')})`;
  return 'unknown';
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

class Summary {
  lines = 0;
  queries = 0;
  failed = 0;
  unparsable = 0;
  tooLong = 0;
  firstTime = '';
  lastTime = '';
  readonly slowest: TopN<Execution>;
  readonly hungriest: TopN<Execution>;
  readonly byQuery = new BoundedTally(MAX_DISTINCT_QUERIES);
  readonly byOrigin = new BoundedTally(MAX_DISTINCT_ORIGINS);

  constructor(limit: number) {
    this.slowest = new TopN(limit, (e) => e.duration);
    this.hungriest = new TopN(limit, (e) => e.samples);
  }

  line(text: string): void {
    if (text.trim() === '') return;
    this.lines++;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(text) as Record<string, unknown>;
    } catch {
      this.unparsable++;
      return;
    }
    const params = o.params as Record<string, unknown> | undefined;
    if (typeof o !== 'object' || o === null || typeof params !== 'object' || params === null || typeof params.query !== 'string') {
      this.unparsable++;
      return;
    }
    const stats = (o.stats ?? {}) as { timings?: Record<string, unknown>; samples?: Record<string, unknown> };
    const duration = num(stats.timings?.execTotalTime);
    const samples = num(stats.samples?.totalQueryableSamples);
    const failed = o.error !== undefined;
    const time = typeof o.time === 'string' ? o.time : '';
    const query = params.query;
    const origin = originOf(o);
    this.queries++;
    if (failed) this.failed++;
    if (this.firstTime === '') this.firstTime = time;
    if (time !== '') this.lastTime = time;
    if (this.slowest.wants(duration)) this.slowest.add({ duration, samples, time, origin, query, failed });
    if (this.hungriest.wants(samples)) this.hungriest.add({ duration, samples, time, origin, query, failed });
    const key = queryKey(query);
    this.byQuery.add(key, key, duration, samples, failed);
    this.byOrigin.add(origin, origin, duration, samples, failed);
  }
}

/** Feeds `file` to `onLine` one line at a time, reading fixed-size chunks; over-long lines are skipped. */
async function streamLines(file: string, onLine: (s: string) => void, onTooLong: () => void): Promise<void> {
  let carry: Buffer[] = [];
  let carryLen = 0;
  let skipping = false;
  for await (const chunk of createReadStream(file, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      if (!skipping) {
        const piece = chunk.subarray(start, nl);
        if (carryLen + piece.length > MAX_LINE_BYTES) onTooLong();
        else onLine(carryLen === 0 ? piece.toString('utf8') : Buffer.concat([...carry, piece]).toString('utf8'));
      }
      carry = [];
      carryLen = 0;
      skipping = false;
      start = nl + 1;
    }
    if (start < chunk.length && !skipping) {
      const rest = chunk.subarray(start);
      if (carryLen + rest.length > MAX_LINE_BYTES) {
        onTooLong();
        skipping = true;
        carry = [];
        carryLen = 0;
      } else {
        // Copy: the stream may reuse its chunk.
        carry.push(Buffer.from(rest));
        carryLen += rest.length;
      }
    }
  }
  if (carryLen > 0) onLine(Buffer.concat(carry).toString('utf8'));
}

function fmtDuration(s: number): string {
  if (s >= 1) return s.toFixed(3) + 's';
  if (s >= 0.001) return (s * 1000).toFixed(3) + 'ms';
  return (s * 1e6).toFixed(1) + 'µs';
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Plain aligned columns; the last column is left unpadded (it holds the query). */
function table(head: string[], rows: string[][]): string {
  const all = [head, ...rows];
  // Every row has head's columns, so widths[c] is defined.
  const widths = head.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  return all
    .map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd())
    .join('\n');
}

/** One line per query in the tables: newlines inside a query would break the columns. */
function oneLine(q: string): string {
  return q.replace(/\s*\n\s*/g, ' ');
}

function report(file: string, s: Summary, by: RankBy, limit: number): string {
  const out: string[] = [];
  out.push(`query log ${file}: ${fmtInt(s.queries)} queries, ${fmtInt(s.failed)} failed` + (s.firstTime ? `, ${s.firstTime} to ${s.lastTime}` : ''));
  if (s.unparsable > 0 || s.tooLong > 0) out.push(`skipped lines: ${fmtInt(s.unparsable)} not query-log JSON, ${fmtInt(s.tooLong)} longer than ${MAX_LINE_BYTES} bytes`);
  out.push('');
  if (by === 'duration' || by === 'samples') {
    const rows = (by === 'duration' ? s.slowest : s.hungriest).sorted();
    out.push(by === 'duration' ? `Slowest executions (execTotalTime), top ${limit}:` : `Executions loading the most samples (totalQueryableSamples), top ${limit}:`);
    out.push(
      table(
        ['DURATION', 'SAMPLES', 'TIME', 'ORIGIN', 'QUERY'],
        rows.map((e) => [fmtDuration(e.duration), fmtInt(e.samples), e.time, e.origin, (e.failed ? '[failed] ' : '') + oneLine(e.query)]),
      ),
    );
  } else {
    out.push(`Most frequent queries, top ${limit}:`);
    out.push(
      table(
        ['COUNT', 'FAILED', 'AVG', 'MAX', 'TOTAL', 'AVG SAMPLES', 'QUERY'],
        s.byQuery.top(limit).map((t) => [
          fmtInt(t.count), fmtInt(t.failed), fmtDuration(t.totalDuration / t.count), fmtDuration(t.maxDuration),
          fmtDuration(t.totalDuration), fmtInt(t.totalSamples / t.count), oneLine(t.label),
        ]),
      ),
    );
    if (s.byQuery.evicted > 0) {
      out.push(
        `(more than ${fmtInt(MAX_DISTINCT_QUERIES)} distinct queries: ${fmtInt(s.byQuery.evicted)} rarely seen ones were forgotten; ` +
          `counts may be low by up to ${fmtInt(s.byQuery.errorBound)})`,
      );
    }
  }
  out.push('');
  out.push('By origin:');
  out.push(
    table(
      ['COUNT', 'FAILED', 'AVG', 'MAX', 'TOTAL', 'ORIGIN'],
      s.byOrigin.top(limit).map((t) => [
        fmtInt(t.count), fmtInt(t.failed), fmtDuration(t.totalDuration / t.count), fmtDuration(t.maxDuration), fmtDuration(t.totalDuration), t.label,
      ]),
    ),
  );
  if (s.byOrigin.evicted > 0) out.push(`(origin counts may be low by up to ${fmtInt(s.byOrigin.errorBound)})`);
  return out.join('\n') + '\n';
}

interface TopArgs {
  file: string;
  by: RankBy;
  limit: number;
}

function parseTopArgs(args: string[]): TopArgs {
  let file: string | undefined;
  let by: RankBy = 'duration';
  let limit = DEFAULT_LIMIT;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value`);
      return v;
    };
    if (name === '--by') {
      const v = value();
      if (v !== 'duration' && v !== 'count' && v !== 'samples') throw new UsageError(`--by must be duration, count or samples, not ${JSON.stringify(v)}`);
      by = v;
    } else if (name === '--limit') {
      const v = value();
      if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > MAX_LIMIT) throw new UsageError(`--limit must be an integer from 1 to ${MAX_LIMIT}, not ${JSON.stringify(v)}`);
      limit = Number(v);
    } else if (a.startsWith('-') && a !== '-') {
      throw new UsageError(`unknown flag ${a}`);
    } else if (file === undefined) {
      file = a;
    } else {
      throw new UsageError(`unexpected argument ${JSON.stringify(a)}`);
    }
  }
  if (file === undefined) throw new UsageError('missing <file>');
  return { file, by, limit };
}

/** Runs `tsprom querylog ...` (argv after "querylog"); resolves with the exit code. */
export async function runQuerylogCommand(argv: string[], io: QuerylogIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help' || rest.includes('--help') || rest.includes('-h')) {
    (sub === undefined ? io.stderr : io.stdout).write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'top') {
    io.stderr.write(`tsprom querylog: unknown command ${JSON.stringify(sub)}\n\n${USAGE}`);
    return 2;
  }
  let args: TopArgs;
  try {
    args = parseTopArgs(rest);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr.write(`tsprom querylog top: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  const summary = new Summary(args.limit);
  try {
    await streamLines(args.file, (l) => summary.line(l), () => summary.tooLong++);
  } catch (e) {
    io.stderr.write(`tsprom querylog top: cannot read ${args.file}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  io.stdout.write(report(args.file, summary, args.by, args.limit));
  return 0;
}
