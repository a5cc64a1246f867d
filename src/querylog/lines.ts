// Query-log lines in Prometheus 3.x's shape, and the batch of records waiting to become lines.
//
// The query log does not encode a line while the query that produced it is finishing: it copies the
// record's numbers into a typed array and keeps its strings by reference (QueryRecords.add, a few dozen
// nanoseconds), then encodes the whole batch in one go. Encoding a batch back to back keeps the
// encoder's code and tables in the CPU caches, which query evaluation in between would evict, so a line
// costs markedly less than one encoded on its own between two queries. Each line is still built from
// its own record alone.
import type { QueryLogRecord } from '../promql/engine/types.js';
import { ByteWriter, literal } from '../logging/byte_writer.js';
import { localSecond, utcDayText } from '../logging/time_fmt.js';

/** JSON object of string values with keys sorted, as Go encodes a map[string]string. */
function stringMap(m: unknown): string {
  if (typeof m !== 'object' || m === null) return JSON.stringify(String(m));
  const obj = m as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '';
  for (const k of keys) out += (out === '' ? '' : ',') + JSON.stringify(k) + ':' + JSON.stringify(String(obj[k]));
  return '{' + out + '}';
}

/** Origins other than the two the server produces, already as JSON members (`,"k":{...}`). */
function otherOrigin(origin: object): string {
  let out = '';
  for (const [k, v] of Object.entries(origin)) out += ',' + JSON.stringify(k) + ':' + stringMap(v);
  return out;
}

const QUOTE = 0x22;

/** Seconds whose text UtcMillisText keeps. */
const UTC_SECONDS_KEPT = 4;

/**
 * `"2006-01-02T15:04:05.000Z"`: UTC with milliseconds, as Prometheus writes a query's start and end.
 * The text up to the milliseconds is kept for the last few seconds seen: rule groups and dashboards
 * evaluate many queries at the same instants (a range query's start and end, an instant query's time),
 * so most values only need their last digits.
 */
class UtcMillisText {
  private readonly secs = new Float64Array(UTC_SECONDS_KEPT).fill(NaN);
  /** `"YYYY-MM-DDTHH:MM:SS.` of each of `secs`. */
  private readonly prefixes: Buffer[] = Array.from({ length: UTC_SECONDS_KEPT }, () => Buffer.alloc(21));
  /** The slot the next new second replaces. */
  private next = 0;
  private readonly prefixWriter = new ByteWriter(Buffer.alloc(21));

  write(w: ByteWriter, ms: number): void {
    if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
      w.jsonString(String(ms));
      return;
    }
    const t = Math.floor(ms);
    const sec = Math.floor(t / 1000);
    const secs = this.secs;
    let i = 0;
    while (i < UTC_SECONDS_KEPT && secs[i] !== sec) i++;
    if (i === UTC_SECONDS_KEPT) i = this.keep(sec);
    // i < UTC_SECONDS_KEPT = prefixes.length (found above, or the slot keep() filled).
    w.bytes(this.prefixes[i]!);
    w.padded(t - sec * 1000, 3);
    w.byte(0x5a); // Z
    w.byte(QUOTE);
  }

  /** Encodes the text of `sec` into the oldest slot; returns the slot. */
  private keep(sec: number): number {
    const i = this.next;
    this.next = (i + 1) % UTC_SECONDS_KEPT;
    const w = this.prefixWriter;
    // next is kept below UTC_SECONDS_KEPT = prefixes.length.
    w.reset(this.prefixes[i]!);
    const days = Math.floor(sec / 86_400);
    w.byte(QUOTE);
    w.ascii(utcDayText(days));
    let r = sec - days * 86_400;
    const h = Math.floor(r / 3600);
    r -= h * 3600;
    const mi = Math.floor(r / 60);
    w.byte(0x54); // T
    w.padded(h, 2);
    w.byte(0x3a);
    w.padded(mi, 2);
    w.byte(0x3a);
    w.padded(r - mi * 60, 2);
    w.byte(0x2e);
    this.secs[i] = sec;
    return i;
  }
}

const utcMillis = new UtcMillisText();

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
const K_TIME = literal('{"time":');
const K_END = literal(',"level":"INFO","msg":"promql query logged","params":{"end":');
const K_QUERY = literal(',"query":');
const K_START = literal(',"start":');
const K_STEP = literal(',"step":');
const K_ERROR = literal('},"error":');
const K_EVAL = literal(',"stats":{"timings":{"evalTotalTime":');
const K_EVAL_AFTER_PARAMS = literal('},"stats":{"timings":{"evalTotalTime":');
const K_SORT = literal(',"resultSortTime":');
const K_PREP = literal(',"queryPreparationTime":');
const K_INNER = literal(',"innerEvalTime":');
const K_QUEUE = literal(',"execQueueTime":');
const K_EXEC = literal(',"execTotalTime":');
/** Keys of the six timings in the order of their number slots (N_EVAL ... N_EXEC); the first goes out with what precedes it. */
const TIMING_KEYS = [K_EVAL, K_SORT, K_PREP, K_INNER, K_QUEUE, K_EXEC];
const K_SAMPLES = literal('},"samples":{');
const K_PER_STEP = literal('"totalQueryableSamplesPerStep":[');
const K_TOTAL = literal('"totalQueryableSamples":');
const K_PEAK = literal(',"peakSamples":');
const K_HTTP = literal('}},"httpRequest":{"clientIP":');
const K_METHOD = literal(',"method":');
const K_PATH = literal(',"path":');
const K_RULE = literal('}},"ruleGroup":{"file":');
const K_NAME = literal(',"name":');
const K_END_ORIGIN = literal('}}\n');
const K_END_STATS = literal('}}');
const K_END_LINE = literal('}\n');

// Slots of one record's numbers: the line's time, params, the six timings, then the two sample counts.
const N_NOW = 0;
const N_START = 1;
const N_END = 2;
const N_STEP = 3;
const N_EVAL = 4;
const N_SORT = 5;
const N_PREP = 6;
const N_INNER = 7;
const N_QUEUE = 8;
const N_EXEC = 9;
const N_TOTAL = 10;
const N_PEAK = 11;
const NUMS = 12;
// Slots of one record's strings: query, error (undefined when it succeeded), up to three of its origin.
const S_QUERY = 0;
const S_ERROR = 1;
const S_ORIGIN = 2;
const STRS = 5;
// What the origin slots hold.
const NO_ORIGIN = 0;
const HTTP_ORIGIN = 1; // clientIP, method, path
const RULE_ORIGIN = 2; // file, name
const OTHER_ORIGIN = 3; // the members as JSON text

type PerStep = ReadonlyArray<readonly [number, number]>;

/**
 * Records as they cross to the query log's worker thread: the numbers and origin kinds in typed arrays
 * (transferred, not copied), and each distinct string once, since a batch mostly repeats the same few
 * queries and origins.
 */
export interface RecordBatch {
  count: number;
  nums: Float64Array;
  /** Index into `strings` of each string slot; -1 where the slot is empty. */
  strIds: Int32Array;
  strings: string[];
  /** Bytes the batch takes in memory, about (strings as UTF-16): what bounds batches in flight. */
  bytes: number;
  origins: Uint8Array;
  /** Per-step statistics by record, only where there are any. */
  perStep: Array<[number, PerStep]>;
}

/** Finished queries waiting to be encoded: at most `capacity`, in the order they were added. */
export class QueryRecords {
  private count_ = 0;
  private readonly nums: Float64Array;
  private readonly strs: Array<string | undefined>;
  private readonly origins: Uint8Array;
  private readonly perStep: Array<PerStep | undefined>;

  constructor(readonly capacity: number) {
    this.nums = new Float64Array(capacity * NUMS);
    this.strs = new Array<string | undefined>(capacity * STRS).fill(undefined);
    this.origins = new Uint8Array(capacity);
    this.perStep = new Array<PerStep | undefined>(capacity).fill(undefined);
  }

  /** The records as a transferable batch (see RecordBatch); this set is cleared. */
  takeBatch(): RecordBatch {
    const n = this.count_;
    const ids = new Int32Array(n * STRS);
    const strings: string[] = [];
    let chars = 0;
    const index = new Map<string, number>();
    const st = this.strs;
    for (let x = 0; x < n * STRS; x++) {
      const v = st[x];
      if (v === undefined) {
        ids[x] = -1;
        continue;
      }
      let id = index.get(v);
      if (id === undefined) {
        id = strings.length;
        strings.push(v);
        index.set(v, id);
        chars += v.length;
      }
      ids[x] = id;
    }
    const perStep: Array<[number, PerStep]> = [];
    for (let k = 0; k < n; k++) {
      const p = this.perStep[k];
      if (p !== undefined) perStep.push([k, p]);
    }
    const batch: RecordBatch = {
      count: n,
      nums: this.nums.slice(0, n * NUMS),
      strIds: ids,
      strings,
      bytes: n * (NUMS * 8 + STRS * 4 + 1) + 2 * chars,
      origins: this.origins.slice(0, n),
      perStep,
    };
    this.clear();
    return batch;
  }

  /** Records rebuilt from a batch made by takeBatch(), ready to encode. */
  static fromBatch(b: RecordBatch): QueryRecords {
    const r = new QueryRecords(b.count);
    r.nums.set(b.nums.subarray(0, b.count * NUMS));
    r.origins.set(b.origins.subarray(0, b.count));
    // strIds holds count * STRS entries (takeBatch).
    for (let x = 0; x < b.count * STRS; x++) {
      const id = b.strIds[x]!;
      r.strs[x] = id < 0 ? undefined : b.strings[id];
    }
    for (const [k, p] of b.perStep) r.perStep[k] = p;
    r.count_ = b.count;
    return r;
  }

  get count(): number {
    return this.count_;
  }

  get full(): boolean {
    return this.count_ === this.capacity;
  }

  /** Copies what the line of `rec` needs; the caller checks `full` first. Throws on a malformed record. */
  add(rec: QueryLogRecord, nowMs: number): void {
    const k = this.count_;
    const p = rec.params;
    const t = rec.stats.timings;
    const s = rec.stats.samples;
    const n = this.nums;
    const i = k * NUMS;
    n[i + N_NOW] = nowMs;
    n[i + N_START] = p.start;
    n[i + N_END] = p.end;
    n[i + N_STEP] = p.step;
    n[i + N_EVAL] = t.evalTotalTime;
    n[i + N_SORT] = t.resultSortTime;
    n[i + N_PREP] = t.queryPreparationTime;
    n[i + N_INNER] = t.innerEvalTime;
    n[i + N_QUEUE] = t.execQueueTime;
    n[i + N_EXEC] = t.execTotalTime;
    n[i + N_TOTAL] = s.totalQueryableSamples;
    n[i + N_PEAK] = s.peakSamples;
    const j = k * STRS;
    const st = this.strs;
    st[j + S_QUERY] = p.query;
    st[j + S_ERROR] = rec.error;
    const o = rec.origin;
    if ('httpRequest' in o) {
      const h = o.httpRequest;
      this.origins[k] = HTTP_ORIGIN;
      st[j + S_ORIGIN] = h.clientIP;
      st[j + S_ORIGIN + 1] = h.method;
      st[j + S_ORIGIN + 2] = h.path;
    } else if ('ruleGroup' in o) {
      const r = o.ruleGroup;
      this.origins[k] = RULE_ORIGIN;
      st[j + S_ORIGIN] = r.file;
      st[j + S_ORIGIN + 1] = r.name;
    } else {
      const other = otherOrigin(o);
      this.origins[k] = other === '' ? NO_ORIGIN : OTHER_ORIGIN;
      st[j + S_ORIGIN] = other;
    }
    const perStep = s.totalQueryableSamplesPerStep;
    this.perStep[k] = perStep !== undefined && perStep.length > 0 ? perStep : undefined;
    this.count_ = k + 1;
  }

  /** Forgets every record, letting go of their strings. */
  clear(): void {
    this.strs.fill(undefined, 0, this.count_ * STRS);
    this.perStep.fill(undefined, 0, this.count_);
    this.count_ = 0;
  }

  /** An upper bound on the bytes of record `k`'s line. */
  maxLineBytes(k: number): number {
    const st = this.strs;
    const j = k * STRS;
    let chars = 0;
    for (let x = j; x < j + STRS; x++) chars += st[x]?.length ?? 0;
    return FIXED_LINE_BYTES + MAX_BYTES_PER_CHAR * chars + PER_STEP_BYTES * (this.perStep[k]?.length ?? 0);
  }

  /**
   * Encodes the line of record `k` (with its newline) into `w`, growing it when the line could not
   * fit: time, level, msg, params {end, query, start, step}, error when it failed, stats {timings,
   * samples}, then its origin (httpRequest or ruleGroup). Key order and formats follow Prometheus 3.x:
   * start/end in UTC with milliseconds, step in whole seconds, timings in seconds to the nanosecond.
   * Fixed parts are copied pre-encoded and values written digit by digit, so nothing is allocated.
   */
  encode(k: number, w: ByteWriter): void {
    // k < count: every slot of record k read below is in range, add() set its query, and an HTTP or
    // rule origin has its strings.
    const n = this.nums;
    const i = k * NUMS;
    const st = this.strs;
    const j = k * STRS;
    const query = st[j + S_QUERY]!;
    const error = st[j + S_ERROR];
    const origin = this.origins[k]!;
    const o0 = st[j + S_ORIGIN];
    const o1 = st[j + S_ORIGIN + 1];
    const o2 = st[j + S_ORIGIN + 2];
    const perStep = this.perStep[k];
    // A line too long for the buffer is rare (a huge query); it gets a buffer of its own.
    w.ensure(this.maxLineBytes(k));
    w.lit(K_TIME);
    lineTime(w, n[i + N_NOW]!);
    w.lit(K_END);
    utcMillis.write(w, n[i + N_END]!);
    w.lit(K_QUERY);
    w.jsonString(query);
    w.lit(K_START);
    utcMillis.write(w, n[i + N_START]!);
    w.lit(K_STEP);
    w.number(Math.trunc(n[i + N_STEP]! / 1000));
    if (error !== undefined) {
      w.lit(K_ERROR);
      w.jsonString(error);
      w.lit(K_EVAL);
    } else {
      w.lit(K_EVAL_AFTER_PARAMS);
    }
    w.seconds(n[i + N_EVAL]!);
    // A loop, not six copies: the JIT inlines one call site of each writer, not twelve. t stays
    // below TIMING_KEYS.length, the six timing slots of the record.
    for (let t = 1; t < TIMING_KEYS.length; t++) {
      w.lit(TIMING_KEYS[t]!);
      w.seconds(n[i + N_EVAL + t]!);
    }
    w.lit(K_SAMPLES);
    if (perStep !== undefined) {
      w.lit(K_PER_STEP);
      // x < perStep.length.
      for (let x = 0; x < perStep.length; x++) {
        const [ts, v] = perStep[x]!;
        if (x > 0) w.byte(0x2c);
        w.byte(0x5b);
        w.number(ts);
        w.byte(0x2c);
        w.number(v);
        w.byte(0x5d);
      }
      w.byte(0x5d);
      w.byte(0x2c);
    }
    w.lit(K_TOTAL);
    w.number(n[i + N_TOTAL]!);
    w.lit(K_PEAK);
    w.number(n[i + N_PEAK]!);
    if (origin === HTTP_ORIGIN) {
      w.lit(K_HTTP);
      w.jsonString(o0!);
      w.lit(K_METHOD);
      w.jsonString(o1!);
      w.lit(K_PATH);
      w.jsonString(o2!);
      w.lit(K_END_ORIGIN);
    } else if (origin === RULE_ORIGIN) {
      w.lit(K_RULE);
      w.jsonString(o0!);
      w.lit(K_NAME);
      w.jsonString(o1!);
      w.lit(K_END_ORIGIN);
    } else {
      w.lit(K_END_STATS);
      if (origin === OTHER_ORIGIN) w.pos += w.buf.write(o0!, w.pos);
      w.lit(K_END_LINE);
    }
  }
}

/** For the one-off encoders below. */
const single = new QueryRecords(1);

/** Encodes the log line for one query (with its newline) into `w`, as the query log writes it. */
export function encodeQueryLogLine(rec: QueryLogRecord, nowMs: number, w: ByteWriter): void {
  single.add(rec, nowMs);
  try {
    single.encode(0, w);
  } finally {
    single.clear();
  }
}
