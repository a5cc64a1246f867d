// The query log: one JSON line per query, in the shape Prometheus 3.x writes to query_log_file.
//
// Each line is built from scratch from the query's record, so nothing carries over from one query to
// the next (the Prometheus 3.0.0 leak came from fields accumulating on a shared logger).
import type { QueryLogRecord } from '../promql/engine/types.js';
import { JsonLogFiles, type JsonLogFileOptions } from './jsonlog.js';
import { LineRing } from './ring.js';
import { formatJSONTime, formatUTCDate } from './timefmt.js';
import { Counter, Registry } from 'prom-client';

export interface QueryLogConfig {
  /** Path of the log; null or '' turns the log off (and closes the file). */
  file: string | null;
  /** Rotate before the file would pass this many bytes; 0 = never (default; logrotate users keep this). */
  maxSizeBytes?: number;
  /** Rotated files kept as file.1 ... file.N; 0 = the full file is removed on rotation. */
  maxFiles?: number;
  /** Log only queries whose execTotalTime is at least this (ms); failed queries are always logged. 0 = all. */
  minDurationMs?: number;
}

export interface QueryLogOptions extends JsonLogFileOptions {
  /** Entries kept in memory for recent(). Default 1,000. */
  ringSize?: number;
  /** Bytes kept in memory for recent(); when lines are long, fewer than ringSize entries fit. Default 4 MiB. */
  ringBytes?: number;
}

/** 1,000 lines of ~500 bytes is ~500 KB: enough for the API to show a busy minute, small next to the head. */
export const DEFAULT_RING_SIZE = 1000;
/** Room for 1,000 entries averaging 4 KB, so only unusually long queries reduce the count kept. */
export const DEFAULT_RING_BYTES = 4 * 1024 * 1024;

/** JSON object of string values with keys sorted, as Go encodes a map[string]string. */
function stringMap(m: unknown): string {
  if (typeof m !== 'object' || m === null) return JSON.stringify(String(m));
  const obj = m as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    out += (i === 0 ? '' : ',') + JSON.stringify(k) + ':' + JSON.stringify(String(obj[k]));
  }
  return out + '}';
}

function num(n: number): string {
  return Number.isFinite(n) ? String(n) : '0';
}

const NS_DIGITS = ['', '0', '00', '000', '0000', '00000', '000000', '0000000', '00000000'];

/**
 * Seconds rounded to whole nanoseconds, as Go's durations are, so lines carry no float noise. Printed
 * from the integer count of nanoseconds (much cheaper than printing a fraction); the text equals the
 * shortest form of the rounded double, which is what Go's encoder writes.
 */
function secs(n: number): string {
  if (!Number.isFinite(n)) return '0';
  const ns = Math.round(n * 1e9);
  // Below 1µs Go (and JS) switch to exponent form; above ~1e6 s the integer path loses nothing but is rare.
  if (ns < 1000 || ns >= 1e15) return String(ns / 1e9);
  const whole = Math.floor(ns / 1e9);
  let frac = ns - whole * 1e9;
  if (frac === 0) return String(whole);
  let zeros = 0;
  while (frac % 10 === 0) {
    frac /= 10;
    zeros++;
  }
  const digits = String(frac);
  return String(whole) + '.' + NS_DIGITS[9 - zeros - digits.length] + digits;
}

/**
 * The log line for one query (with its newline): time, level, msg, params {end, query, start, step},
 * error when it failed, stats {timings, samples}, then its origin (httpRequest or ruleGroup).
 * Key order and formats follow Prometheus 3.x: start/end in UTC with milliseconds, step in whole seconds.
 */
export function formatQueryLogLine(rec: QueryLogRecord, nowMs: number): string {
  const p = rec.params;
  const t = rec.stats.timings;
  const s = rec.stats.samples;
  let line =
    '{"time":"' + formatJSONTime(nowMs) + '","level":"INFO","msg":"promql query logged","params":{"end":"' +
    formatUTCDate(p.end) + '","query":' + JSON.stringify(p.query) + ',"start":"' + formatUTCDate(p.start) +
    '","step":' + Math.trunc(p.step / 1000) + '}';
  if (rec.error !== undefined) line += ',"error":' + JSON.stringify(rec.error);
  line +=
    ',"stats":{"timings":{"evalTotalTime":' + secs(t.evalTotalTime) + ',"resultSortTime":' + secs(t.resultSortTime) +
    ',"queryPreparationTime":' + secs(t.queryPreparationTime) + ',"innerEvalTime":' + secs(t.innerEvalTime) +
    ',"execQueueTime":' + secs(t.execQueueTime) + ',"execTotalTime":' + secs(t.execTotalTime) + '},"samples":{';
  const perStep = s.totalQueryableSamplesPerStep;
  if (perStep !== undefined && perStep.length > 0) {
    line += '"totalQueryableSamplesPerStep":[';
    for (let i = 0; i < perStep.length; i++) {
      const [ts, v] = perStep[i]!;
      line += (i === 0 ? '' : ',') + '[' + num(ts) + ',' + num(v) + ']';
    }
    line += '],';
  }
  line += '"totalQueryableSamples":' + num(s.totalQueryableSamples) + ',"peakSamples":' + num(s.peakSamples) + '}}';
  const origin = rec.origin as Record<string, unknown>;
  if ('httpRequest' in rec.origin) {
    const h = rec.origin.httpRequest;
    line += ',"httpRequest":{"clientIP":' + JSON.stringify(h.clientIP) + ',"method":' + JSON.stringify(h.method) + ',"path":' + JSON.stringify(h.path) + '}';
  } else if ('ruleGroup' in rec.origin) {
    const g = rec.origin.ruleGroup;
    line += ',"ruleGroup":{"file":' + JSON.stringify(g.file) + ',"name":' + JSON.stringify(g.name) + '}';
  } else {
    for (const k in origin) line += ',' + JSON.stringify(k) + ':' + stringMap(origin[k]);
  }
  return line + '}\n';
}

/** Lines are encoded here once and copied to the file buffer and the ring; longer ones get their own buffer. */
const SCRATCH_BYTES = 64 * 1024;

export class QueryLog {
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  private readonly files: JsonLogFiles;
  private readonly ring: LineRing;
  private readonly now: () => number;
  private readonly filtered: Counter;
  private path: string | null = null;
  private minDurationMs = 0;

  constructor(opts: QueryLogOptions = {}) {
    const registry = opts.registry ?? new Registry();
    this.files = new JsonLogFiles(
      {
        what: 'query log',
        enabled: 'prometheus_engine_query_log_enabled',
        failures: 'prometheus_engine_query_log_failures_total',
        bytesWritten: 'tsprom_query_log_bytes_written_total',
        dropped: 'tsprom_query_log_dropped_total',
        buffered: 'tsprom_query_log_buffered_bytes',
      },
      { ...opts, registry },
    );
    this.filtered = new Counter({
      name: 'tsprom_query_log_filtered_total',
      help: 'Successful queries not logged because they ran for less than query_log_min_duration.',
      registers: [registry],
    });
    this.ring = new LineRing(opts.ringSize ?? DEFAULT_RING_SIZE, opts.ringBytes ?? DEFAULT_RING_BYTES);
    this.now = opts.now ?? Date.now;
  }

  /** The file being written, or null when the log is off. */
  get file(): string | null {
    return this.path;
  }

  /**
   * Applies a configuration: opens a new file, reopens the same one (config reload), or closes it when
   * the setting is gone. Throws LogFileOpenError when the file cannot be opened; the old file stays on.
   */
  configure(cfg: QueryLogConfig): void {
    const file = cfg.file === null || cfg.file === '' ? null : cfg.file;
    const wanted = new Map<string, { maxSizeBytes: number; maxFiles: number }>();
    if (file !== null) wanted.set(file, { maxSizeBytes: cfg.maxSizeBytes ?? 0, maxFiles: cfg.maxFiles ?? 0 });
    this.files.configure(wanted);
    this.path = file;
    this.minDurationMs = cfg.minDurationMs ?? 0;
  }

  /** Records one finished query; the engine's onQueryDone. Never throws, never waits for the disk. */
  readonly log = (rec: QueryLogRecord): void => {
    const path = this.path;
    if (path === null) return;
    if (rec.error === undefined && this.minDurationMs > 0 && rec.stats.timings.execTotalTime * 1000 < this.minDurationMs) {
      this.filtered.inc();
      return;
    }
    let line: string;
    try {
      line = formatQueryLogLine(rec, this.now());
    } catch {
      // A malformed record (a bug upstream) must not fail the query that produced it.
      return;
    }
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const bytes = line.length * 3 <= SCRATCH_BYTES ? this.scratch.subarray(0, this.scratch.write(line, 0)) : Buffer.from(line);
    this.ring.push(bytes);
    this.files.get(path)?.push(bytes);
  };

  /** Reopens the file by name (SIGHUP after logrotate moved it). */
  reopen(): void {
    this.files.reopen();
  }

  /** The newest logged entries, newest first; `limit` 0 means all that are kept. */
  recent(limit: number): object[] {
    const lines = this.ring.newest(limit > 0 ? limit : this.ring.maxEntries);
    return lines.map((l) => JSON.parse(l) as object);
  }

  /** Resolves once everything logged so far has been written (or dropped). */
  idle(): Promise<void> {
    return this.files.idle();
  }

  /** Writes what is queued and closes the file; the log is off afterwards. */
  async close(): Promise<void> {
    this.path = null;
    await this.files.close();
  }
}
