// Exposition parsing off the main thread: a worker parses a scrape body into a
// compact batch (typed arrays of entry kinds, series byte ranges, values and
// timestamps; strings only for metadata), and the main thread replays it through
// the TextParser interface, so the scrape loop treats it exactly as the parser it
// replaces. A known series then costs the main thread one byte comparison with its
// cache key; only series the cache does not know are parsed again (labels()).
//
// Prometheus's text format and OpenMetrics (with exemplars and `_created` start
// timestamps carried in the batch); protobuf bodies (native histograms) are parsed inline.
import { Entry, TextParseError, type Exemplar, type MetricType, type SymbolTable, type TextParser } from '../model/textparse/interface.js';
import { Labels, type Label } from '../model/labels.js';
import { OpenMetricsParser } from '../model/textparse/openmetrics_parser.js';
import { PromParser } from '../model/textparse/prom_parser.js';
import { bytesAre, bytesHash, latin1 } from '../model/textparse/scan.js';

/**
 * A parse job: the body in shared memory (both threads read the same bytes without a
 * copy back), and the body of the target's last successful scrape with its series'
 * byte ranges, against which the worker compares each series at the same position.
 */
export interface ParseJob {
  readonly body: SharedArrayBuffer;
  readonly length: number;
  readonly prev: PreviousBody | null;
  /** Nonzero: the body is gzip-compressed, inflate it to at most this many bytes first. */
  readonly inflate: number;
  /** Parse the (inflated) body into a batch. */
  readonly parse: boolean;
  readonly format: TextFormat;
}

/** The text formats a worker parses, and their parser options. */
export interface TextFormat {
  readonly openMetrics: boolean;
  /** OpenMetrics: skip `_created` series and read each sample's start timestamp (created-timestamp-zero-ingestion). */
  readonly createdTimestamps: boolean;
}

export const PROM_TEXT: TextFormat = { openMetrics: false, createdTimestamps: false };

/** An exemplar of series j: label names and values in pairs. */
export interface BatchExemplar {
  readonly j: number;
  readonly pairs: readonly string[];
  readonly value: number;
  readonly ts: number | null;
}

/**
 * A job's answer: the batch (when asked for), the inflated body in shared memory (when
 * the job inflated one), or zlib's error code and message when inflating failed.
 */
export interface ParseReply {
  readonly batch: ParseBatch | null;
  readonly inflated: { readonly body: SharedArrayBuffer; readonly length: number } | null;
  readonly inflateError: { readonly code: string | undefined; readonly message: string } | null;
}

/** A body kept from a successful scrape, with the byte ranges of its series in order. */
export interface PreviousBody {
  readonly body: SharedArrayBuffer;
  readonly length: number;
  /** start, end of series j at 2j, 2j + 1 (a ParseBatch's `ranges`). */
  readonly ranges: Int32Array;
  readonly count: number;
}

/**
 * The entries of one body, in order. Entry i: kinds[i] is its Entry (| HAS_TS when a
 * series carries a timestamp), types[i] the metric type in force (index in MTYPES),
 * idx[i] its series number j, or for metadata the index of its first string in strs.
 * Series j: bytes ranges[2j]..ranges[2j+1] of the body (in shared memory, so the batch
 * can be handed back as the next job's PreviousBody), value floats[2j], timestamp
 * floats[2j+1], and same[j] = 1 when its bytes equal those of series j of the previous
 * body (null when there was none). `err` is the parse error after the last entry,
 * thrown when the replay reaches it.
 */
export interface ParseBatch {
  readonly format: TextFormat;
  readonly n: number;
  readonly count: number;
  readonly kinds: Uint8Array;
  readonly types: Uint8Array;
  readonly idx: Int32Array;
  readonly ranges: Int32Array;
  readonly floats: Float64Array;
  readonly same: Uint8Array | null;
  /** Start timestamps of the series (format.createdTimestamps only). */
  readonly sts: Float64Array | null;
  /** Exemplars in series order. */
  readonly exemplars: BatchExemplar[];
  readonly strs: string[];
  readonly err: { readonly reason: string; readonly line: number } | null;
}

const MTYPES: readonly MetricType[] = ['counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset', 'unknown'];
const HAS_TS = 0x80;

function typeCode(t: MetricType): number {
  return MTYPES.indexOf(t);
}

function sharedInts(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * n));
}

function newParser(body: Buffer, format: TextFormat, symbols?: SymbolTable): PromParser | OpenMetricsParser {
  const opts = { symbols, skipCreatedSeries: format.createdTimestamps };
  return format.openMetrics ? new OpenMetricsParser(body, opts) : new PromParser(body, opts);
}

/** Parses a text body into a batch (on a worker thread; plain function, so tests call it directly). */
export function parseBatch(body: Buffer, prev: PreviousBody | null = null, format: TextFormat = PROM_TEXT): ParseBatch {
  const p = newParser(body, format);
  // Series lines are rarely shorter than 32 bytes; the arrays double when they are.
  let cap = Math.max(64, body.length >> 5);
  let kinds = new Uint8Array(cap);
  let types = new Uint8Array(cap);
  let idx = new Int32Array(cap);
  let scap = cap;
  let ranges = sharedInts(2 * scap);
  let floats = new Float64Array(2 * scap);
  let sts = format.createdTimestamps ? new Float64Array(scap) : null;
  const exemplars: BatchExemplar[] = [];
  const strs: string[] = [];
  let n = 0;
  let count = 0;
  let err: ParseBatch['err'] = null;
  try {
    for (let e = p.next(); e !== Entry.EOF; e = p.next()) {
      if (n === cap) {
        cap *= 2;
        kinds = grow(kinds, new Uint8Array(cap));
        types = grow(types, new Uint8Array(cap));
        idx = grow(idx, new Int32Array(cap));
      }
      // n < cap and count < scap: the writes below are in range.
      kinds[n] = e;
      if (e === Entry.Series) {
        if (count === scap) {
          scap *= 2;
          ranges = grow(ranges, sharedInts(2 * scap));
          floats = grow(floats, new Float64Array(2 * scap));
          if (sts !== null) sts = grow(sts, new Float64Array(scap));
        }
        types[n] = typeCode(p.currentType());
        idx[n] = count;
        ranges[2 * count] = p.seriesStart();
        ranges[2 * count + 1] = p.seriesStop();
        floats[2 * count] = p.value();
        const ts = p.timestamp();
        if (ts !== null) {
          kinds[n] = e | HAS_TS;
          floats[2 * count + 1] = ts;
        }
        if (format.openMetrics) {
          const ex = p.exemplar();
          if (ex !== null) exemplars.push({ j: count, pairs: ex.labels.toPairs(), value: ex.value, ts: ex.timestamp });
          if (sts !== null) sts[count] = p.startTimestamp();
        }
        count++;
      } else {
        idx[n] = strs.length;
        if (e === Entry.Type) {
          types[n] = typeCode(p.metricType());
          strs.push(p.metaName());
        } else if (e === Entry.Help) strs.push(p.metaName(), p.helpText());
        else if (e === Entry.Unit) strs.push(p.metaName(), p.unitText());
        else strs.push(p.commentText());
      }
      n++;
    }
  } catch (e) {
    if (!(e instanceof TextParseError)) throw e;
    err = { reason: e.reason, line: e.line };
  }
  // Kept as the next job's PreviousBody: exactly as long as needed.
  if (ranges.length !== 2 * count) ranges = grow(ranges.subarray(0, 2 * count), sharedInts(2 * count));
  const same = prev === null ? null : compareWith(body, ranges, count, prev);
  return { format, n, count, kinds, types, idx, ranges, floats, same, sts, exemplars, strs, err };
}

/** same[j] = 1 when series j has the bytes of series j of the previous body. */
function compareWith(body: Uint8Array, ranges: Int32Array, count: number, prev: PreviousBody): Uint8Array {
  const same = new Uint8Array(count);
  const pb = new Uint8Array(prev.body, 0, prev.length);
  const pr = prev.ranges;
  const m = Math.min(count, prev.count);
  // j < m <= both counts: every range index below is in range, and ranges lie inside their bodies.
  for (let j = 0; j < m; j++) {
    const s = ranges[2 * j]!;
    const len = ranges[2 * j + 1]! - s;
    const ps = pr[2 * j]!;
    if (pr[2 * j + 1]! - ps !== len) continue;
    let k = 0;
    while (k < len && body[s + k] === pb[ps + k]) k++;
    if (k === len) same[j] = 1;
  }
  return same;
}

function grow<T extends Uint8Array | Int32Array | Float64Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}

/** The buffers of a batch to move (not copy) between threads; `ranges` is shared memory and travels as such. */
export function batchTransfer(b: ParseBatch): ArrayBuffer[] {
  const out = [b.kinds.buffer as ArrayBuffer, b.types.buffer as ArrayBuffer, b.idx.buffer as ArrayBuffer, b.floats.buffer as ArrayBuffer];
  if (b.same !== null) out.push(b.same.buffer as ArrayBuffer);
  if (b.sts !== null) out.push(b.sts.buffer as ArrayBuffer);
  return out;
}

/** n rounded up to a multiple of the largest power of two at most n/8 (at least 16 KiB): at most 12.5% more. */
export function bodySize(n: number): number {
  let step = 1 << 11;
  while (step * 16 <= n) step *= 2;
  return Math.max(1 << 14, Math.ceil(n / step) * step);
}

/**
 * Idle shared buffers for bodies on their way to a worker, reused because a fresh
 * SharedArrayBuffer per scrape (allocation, zeroing, the first post to a thread) costs
 * the main thread more than parsing a small body. Bounded in count and bytes; a buffer
 * is given back once no worker reads it.
 */
export class SharedBodies {
  private readonly idle: SharedArrayBuffer[] = [];
  private idleBytes = 0;

  constructor(
    private readonly maxIdle: number,
    private readonly maxIdleBytes: number,
  ) {}

  /**
   * A buffer of at least n bytes, bodySize(n) when new: a kept body
   * (the scrape cache holds one per target) wastes at most 12.5%, and a target's next
   * body, usually of about the same size, fits the buffer its last one left.
   */
  take(n: number): SharedArrayBuffer {
    let best = -1;
    for (let i = 0; i < this.idle.length; i++) {
      const len = this.idle[i]!.byteLength;
      if (len >= n && len <= n + (n >> 2) && (best < 0 || len < this.idle[best]!.byteLength)) best = i;
    }
    if (best >= 0) {
      const b = this.idle[best]!;
      this.idle[best] = this.idle[this.idle.length - 1]!;
      this.idle.pop();
      this.idleBytes -= b.byteLength;
      return b;
    }
    return new SharedArrayBuffer(bodySize(n));
  }

  give(b: SharedArrayBuffer): void {
    if (this.idle.length >= this.maxIdle || this.idleBytes + b.byteLength > this.maxIdleBytes) return;
    this.idle.push(b);
    this.idleBytes += b.byteLength;
  }

  get bytes(): number {
    return this.idleBytes;
  }
}

/** Replays a batch over the body it was parsed from, as the parser that parsed it would have answered. */
export class BatchParser implements TextParser {
  private i = -1;
  /** Series number of the current entry. */
  private j = -1;
  /** Parses entries again for labels(), positioned at entry `at`. */
  private again: PromParser | OpenMetricsParser | null = null;
  private at = -1;
  /** First exemplar not of an earlier series. */
  private ex = 0;

  constructor(
    private readonly b: Buffer,
    private readonly batch: ParseBatch,
    private readonly symbols: SymbolTable | undefined,
    /** The body as the worker read it, to be the next job's PreviousBody. */
    readonly body: PreviousBody,
    /** The previous body the worker compared with (sameAsPrevious() refers to it). */
    readonly comparedWith: PreviousBody | null,
  ) {}

  next(): Entry {
    const bt = this.batch;
    if (this.i + 1 >= bt.n) {
      this.i = bt.n;
      if (bt.err !== null) throw new TextParseError(bt.err.reason, bt.err.line);
      return Entry.EOF;
    }
    // i + 1 < n <= kinds.length = idx.length.
    const e = (bt.kinds[++this.i]! & ~HAS_TS) as Entry;
    if (e === Entry.Series) this.j = bt.idx[this.i]!;
    return e;
  }

  // j < count: the ranges and floats of series j exist.
  seriesKey(): string {
    return latin1(this.b, this.batch.ranges[2 * this.j]!, this.batch.ranges[2 * this.j + 1]!);
  }

  seriesHash(): number {
    return bytesHash(this.b, this.batch.ranges[2 * this.j]!, this.batch.ranges[2 * this.j + 1]!);
  }

  seriesIs(key: string): boolean {
    return bytesAre(this.b, this.batch.ranges[2 * this.j]!, this.batch.ranges[2 * this.j + 1]!, key);
  }

  /** Whether the current series has the bytes of the series at the same position in the previous body the worker compared with. */
  sameAsPrevious(): boolean {
    return this.batch.same !== null && this.batch.same[this.j] === 1;
  }

  metricName(): string {
    return this.reparsed().metricName();
  }

  labels(): Labels {
    return this.reparsed().labels();
  }

  value(): number {
    return this.batch.floats[2 * this.j]!;
  }

  timestamp(): number | null {
    return (this.batch.kinds[this.i]! & HAS_TS) !== 0 ? this.batch.floats[2 * this.j + 1]! : null;
  }

  exemplar(): Exemplar | null {
    const list = this.batch.exemplars;
    while (this.ex < list.length && list[this.ex]!.j < this.j) this.ex++;
    const e = list[this.ex];
    if (e === undefined || e.j !== this.j) return null;
    const ls: Label[] = [];
    // pairs holds whole name/value pairs.
    for (let k = 0; k < e.pairs.length; k += 2) ls.push({ name: this.symbols?.intern(e.pairs[k]!) ?? e.pairs[k]!, value: e.pairs[k + 1]! });
    return { labels: Labels.fromList(ls), value: e.value, timestamp: e.ts };
  }

  /** 0 unless the batch was parsed with format.createdTimestamps (the scrape loop reads it only then). */
  startTimestamp(): number {
    return this.batch.sts?.[this.j] ?? 0;
  }

  currentType(): MetricType {
    return MTYPES[this.batch.types[this.i]!]!;
  }

  metaName(): string {
    return this.batch.strs[this.batch.idx[this.i]!]!;
  }

  helpText(): string {
    return this.batch.strs[this.batch.idx[this.i]! + 1]!;
  }

  metricType(): MetricType {
    return this.currentType();
  }

  unitText(): string {
    return this.helpText();
  }

  commentText(): string {
    return this.metaName();
  }

  /** A parser standing on the current series (read again from its bytes). */
  private reparsed(): PromParser | OpenMetricsParser {
    if (this.again === null) this.again = newParser(this.b, this.batch.format, this.symbols);
    if (this.at !== this.i) {
      this.again.seekEntry(this.batch.ranges[2 * this.j]!, this.currentType());
      this.again.next();
      this.at = this.i;
    }
    return this.again;
  }
}
