// The query log: one JSON line per query, in the shape Prometheus 3.x writes to query_log_file.
//
// Each line is built from scratch from the query's record, so nothing carries over from one query to
// the next (the Prometheus 3.0.0 leak came from fields accumulating on a shared logger).
import type { QueryLogRecord } from '../promql/engine/types.js';
import { JsonLogFiles, type JsonLogFileOptions } from './jsonlog.js';
import { LineRing } from './ring.js';
import { DAY_MS, localSecond, utcDayText } from './timefmt.js';
import { ByteWriter } from './bytewriter.js';
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

/** Origins other than the two the server produces, already as JSON members (`,"k":{...}`). */
function otherOrigin(origin: object): string {
  let out = '';
  for (const [k, v] of Object.entries(origin)) out += ',' + JSON.stringify(k) + ':' + stringMap(v);
  return out;
}

/** `"2006-01-02T15:04:05.000Z"`: UTC with milliseconds, as Prometheus writes a query's start and end. */
function utcDate(w: ByteWriter, ms: number): void {
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
    w.jsonString(String(ms));
    return;
  }
  const t = Math.floor(ms);
  const days = Math.floor(t / DAY_MS);
  w.byte(0x22);
  w.ascii(utcDayText(days));
  let r = t - days * DAY_MS;
  const h = Math.floor(r / 3_600_000);
  r -= h * 3_600_000;
  const mi = Math.floor(r / 60_000);
  r -= mi * 60_000;
  const sec = Math.floor(r / 1000);
  w.byte(0x54); // T
  w.padded(h, 2);
  w.byte(0x3a);
  w.padded(mi, 2);
  w.byte(0x3a);
  w.padded(sec, 2);
  w.byte(0x2e);
  w.padded(r - sec * 1000, 3);
  w.byte(0x5a); // Z
  w.byte(0x22);
}

/** The encoded local date-time and zone of the last second a line was written in. */
let timeSec = NaN;
let timeDateTime: Uint8Array = new Uint8Array(0);
let timeZone: Uint8Array = new Uint8Array(0);

/** `"time":` value as slog's JSON handler writes it: local RFC 3339, fraction without trailing zeros. */
function lineTime(w: ByteWriter, ms: number): void {
  const sec = Math.floor(ms / 1000);
  if (sec !== timeSec) {
    const { dateTime, zone } = localSecond(sec);
    timeSec = sec;
    timeDateTime = Buffer.from('"' + dateTime);
    timeZone = Buffer.from(zone + '"');
  }
  w.bytes(timeDateTime);
  let frac = Math.floor(ms - sec * 1000);
  if (frac !== 0) {
    let width = 3;
    while (frac % 10 === 0) {
      frac /= 10;
      width--;
    }
    w.byte(0x2e);
    w.padded(frac, width);
  }
  w.bytes(timeZone);
}

/** Bytes for everything in a line but its strings and per-step stats: keys, punctuation, numbers. */
const FIXED_LINE_BYTES = 1024;
/** A JSON-escaped UTF-16 unit takes at most 6 bytes (\u001f). */
const MAX_BYTES_PER_CHAR = 6;
/** One `[t,count],` pair of per-step stats: two numbers of at most 24 characters each. */
const PER_STEP_BYTES = 52;

// The fixed parts of a line, encoded once.
const K_TIME = Buffer.from('{"time":');
const K_END = Buffer.from(',"level":"INFO","msg":"promql query logged","params":{"end":');
const K_QUERY = Buffer.from(',"query":');
const K_START = Buffer.from(',"start":');
const K_STEP = Buffer.from(',"step":');
const K_ERROR = Buffer.from('},"error":');
const K_EVAL = Buffer.from(',"stats":{"timings":{"evalTotalTime":');
const K_EVAL_AFTER_PARAMS = Buffer.from('},"stats":{"timings":{"evalTotalTime":');
const K_SORT = Buffer.from(',"resultSortTime":');
const K_PREP = Buffer.from(',"queryPreparationTime":');
const K_INNER = Buffer.from(',"innerEvalTime":');
const K_QUEUE = Buffer.from(',"execQueueTime":');
const K_EXEC = Buffer.from(',"execTotalTime":');
const K_SAMPLES = Buffer.from('},"samples":{');
const K_PER_STEP = Buffer.from('"totalQueryableSamplesPerStep":[');
const K_TOTAL = Buffer.from('"totalQueryableSamples":');
const K_PEAK = Buffer.from(',"peakSamples":');
const K_HTTP = Buffer.from('}},"httpRequest":{"clientIP":');
const K_METHOD = Buffer.from(',"method":');
const K_PATH = Buffer.from(',"path":');
const K_RULE = Buffer.from('}},"ruleGroup":{"file":');
const K_NAME = Buffer.from(',"name":');
const K_END_ORIGIN = Buffer.from('}}\n');
const K_END_STATS = Buffer.from('}}');
const K_END_LINE = Buffer.from('}\n');

/**
 * Encodes the log line for one query (with its newline) into `w`, growing it when the line could not
 * fit: time, level, msg, params {end, query, start, step}, error when it failed, stats {timings,
 * samples}, then its origin (httpRequest or ruleGroup). Key order and formats follow Prometheus 3.x:
 * start/end in UTC with milliseconds, step in whole seconds, timings in seconds to the nanosecond.
 * Fixed parts are copied pre-encoded and values written digit by digit, so nothing is allocated.
 */
export function encodeQueryLogLine(rec: QueryLogRecord, nowMs: number, w: ByteWriter): void {
  const p = rec.params;
  const t = rec.stats.timings;
  const s = rec.stats.samples;
  const perStep = s.totalQueryableSamplesPerStep;
  const o = rec.origin;
  const http = 'httpRequest' in o ? o.httpRequest : undefined;
  const rule = 'ruleGroup' in o ? o.ruleGroup : undefined;
  const other = http === undefined && rule === undefined ? otherOrigin(o) : '';
  const chars =
    p.query.length + (rec.error?.length ?? 0) + other.length +
    (http !== undefined ? http.clientIP.length + http.method.length + http.path.length : 0) +
    (rule !== undefined ? rule.file.length + rule.name.length : 0);
  const need = FIXED_LINE_BYTES + MAX_BYTES_PER_CHAR * chars + PER_STEP_BYTES * (perStep?.length ?? 0);
  if (w.buf.length - w.pos < need) {
    // A line this long is rare (a huge query); it gets a buffer of its own.
    const bigger = Buffer.allocUnsafe(w.pos + need);
    w.buf.copy(bigger, 0, 0, w.pos);
    w.buf = bigger;
  }
  w.bytes(K_TIME);
  lineTime(w, nowMs);
  w.bytes(K_END);
  utcDate(w, p.end);
  w.bytes(K_QUERY);
  w.jsonString(p.query);
  w.bytes(K_START);
  utcDate(w, p.start);
  w.bytes(K_STEP);
  w.number(Math.trunc(p.step / 1000));
  if (rec.error !== undefined) {
    w.bytes(K_ERROR);
    w.jsonString(rec.error);
    w.bytes(K_EVAL);
  } else {
    w.bytes(K_EVAL_AFTER_PARAMS);
  }
  w.seconds(t.evalTotalTime);
  w.bytes(K_SORT);
  w.seconds(t.resultSortTime);
  w.bytes(K_PREP);
  w.seconds(t.queryPreparationTime);
  w.bytes(K_INNER);
  w.seconds(t.innerEvalTime);
  w.bytes(K_QUEUE);
  w.seconds(t.execQueueTime);
  w.bytes(K_EXEC);
  w.seconds(t.execTotalTime);
  w.bytes(K_SAMPLES);
  if (perStep !== undefined && perStep.length > 0) {
    w.bytes(K_PER_STEP);
    for (let i = 0; i < perStep.length; i++) {
      const [ts, v] = perStep[i]!;
      if (i > 0) w.byte(0x2c);
      w.byte(0x5b);
      w.number(ts);
      w.byte(0x2c);
      w.number(v);
      w.byte(0x5d);
    }
    w.byte(0x5d);
    w.byte(0x2c);
  }
  w.bytes(K_TOTAL);
  w.number(s.totalQueryableSamples);
  w.bytes(K_PEAK);
  w.number(s.peakSamples);
  if (http !== undefined) {
    w.bytes(K_HTTP);
    w.jsonString(http.clientIP);
    w.bytes(K_METHOD);
    w.jsonString(http.method);
    w.bytes(K_PATH);
    w.jsonString(http.path);
    w.bytes(K_END_ORIGIN);
  } else if (rule !== undefined) {
    w.bytes(K_RULE);
    w.jsonString(rule.file);
    w.bytes(K_NAME);
    w.jsonString(rule.name);
    w.bytes(K_END_ORIGIN);
  } else {
    w.bytes(K_END_STATS);
    if (other !== '') w.pos += w.buf.write(other, w.pos);
    w.bytes(K_END_LINE);
  }
}

/** The log line for one query as text (with its newline); see encodeQueryLogLine. */
export function formatQueryLogLine(rec: QueryLogRecord, nowMs: number): string {
  const w = new ByteWriter(Buffer.allocUnsafe(FIXED_LINE_BYTES));
  encodeQueryLogLine(rec, nowMs, w);
  return w.buf.toString('utf8', 0, w.pos);
}

/** Lines are encoded here and copied to the file buffer and the ring; a longer one gets its own buffer. */
const SCRATCH_BYTES = 64 * 1024;

export class QueryLog {
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  private readonly writer = new ByteWriter(this.scratch);
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
    const w = this.writer;
    w.reset(this.scratch);
    try {
      encodeQueryLogLine(rec, this.now(), w);
    } catch {
      // A malformed record (a bug upstream) must not fail the query that produced it.
      return;
    }
    const bytes = w.buf.subarray(0, w.pos);
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
