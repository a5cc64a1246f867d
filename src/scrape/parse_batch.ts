// Exposition parsing off the main thread: a worker parses a scrape body into a
// compact batch (typed arrays of entry kinds, series byte ranges, values and
// timestamps; strings only for metadata), and the main thread replays it through
// the TextParser interface, so the scrape loop treats it exactly as the parser it
// replaces. A known series then costs the main thread one byte comparison with its
// cache key; only series the cache does not know are parsed again (labels()).
//
// Prometheus's text format only: it is what large targets serve, and its entries
// carry nothing but a series, a value and a timestamp. OpenMetrics (exemplars,
// `_created` lookahead) and protobuf (histograms) are parsed inline.
import { Entry, TextParseError, type Exemplar, type MetricType, type SymbolTable, type TextParser } from '../model/textparse/interface.js';
import type { Labels } from '../model/labels.js';
import { PromParser } from '../model/textparse/prom_parser.js';
import { bytesAre, bytesHash, latin1 } from '../model/textparse/scan.js';

/** A parse job: the body in shared memory, so both threads read the same bytes without a copy back. */
export interface ParseJob {
  readonly body: SharedArrayBuffer;
  readonly length: number;
}

/**
 * The entries of one body, in order. Entry i: kinds[i] is its Entry (| HAS_TS when a
 * series carries a timestamp); types[i] the metric type in force (index in MTYPES);
 * ints[2i], ints[2i+1] the series' byte range in the body, or for metadata the index
 * of its first string in strs; floats[2i], floats[2i+1] the value and timestamp.
 * `err` is the parse error after the last entry, thrown when the replay reaches it.
 */
export interface ParseBatch {
  readonly n: number;
  readonly kinds: Uint8Array;
  readonly types: Uint8Array;
  readonly ints: Int32Array;
  readonly floats: Float64Array;
  readonly strs: string[];
  readonly err: { readonly reason: string; readonly line: number } | null;
}

const MTYPES: readonly MetricType[] = ['counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset', 'unknown'];
const HAS_TS = 0x80;

function typeCode(t: MetricType): number {
  return MTYPES.indexOf(t);
}

/** Parses a Prometheus text body into a batch (on a worker thread; plain function, so tests call it directly). */
export function parseBatch(body: Buffer): ParseBatch {
  const p = new PromParser(body);
  // Series lines are rarely shorter than 32 bytes; the arrays double when they are.
  let cap = Math.max(64, body.length >> 5);
  let kinds = new Uint8Array(cap);
  let types = new Uint8Array(cap);
  let ints = new Int32Array(2 * cap);
  let floats = new Float64Array(2 * cap);
  const strs: string[] = [];
  let n = 0;
  let err: ParseBatch['err'] = null;
  try {
    for (let e = p.next(); e !== Entry.EOF; e = p.next()) {
      if (n === cap) {
        cap *= 2;
        kinds = grow(kinds, new Uint8Array(cap));
        types = grow(types, new Uint8Array(cap));
        ints = grow(ints, new Int32Array(2 * cap));
        floats = grow(floats, new Float64Array(2 * cap));
      }
      // n < cap and the arrays hold cap (or 2 * cap) elements: the writes below are in range.
      kinds[n] = e;
      if (e === Entry.Series) {
        types[n] = typeCode(p.currentType());
        ints[2 * n] = p.seriesStart();
        ints[2 * n + 1] = p.seriesStop();
        floats[2 * n] = p.value();
        const ts = p.timestamp();
        if (ts !== null) {
          kinds[n] = e | HAS_TS;
          floats[2 * n + 1] = ts;
        }
      } else {
        ints[2 * n] = strs.length;
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
  return { n, kinds, types, ints, floats, strs, err };
}

function grow<T extends Uint8Array | Int32Array | Float64Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}

/** The buffers of a batch, to move (not copy) between threads. */
export function batchTransfer(b: ParseBatch): ArrayBuffer[] {
  return [b.kinds.buffer as ArrayBuffer, b.types.buffer as ArrayBuffer, b.ints.buffer as ArrayBuffer, b.floats.buffer as ArrayBuffer];
}

/** Replays a batch over the body it was parsed from, as the PromParser that parsed it would have answered. */
export class BatchParser implements TextParser {
  private i = -1;
  /** Parses entries again for labels(), positioned at entry `at`. */
  private again: PromParser | null = null;
  private at = -1;

  constructor(
    private readonly b: Buffer,
    private readonly batch: ParseBatch,
    private readonly symbols: SymbolTable | undefined,
  ) {}

  next(): Entry {
    const bt = this.batch;
    if (this.i + 1 >= bt.n) {
      this.i = bt.n;
      if (bt.err !== null) throw new TextParseError(bt.err.reason, bt.err.line);
      return Entry.EOF;
    }
    // i + 1 < n <= kinds.length.
    return (this.batch.kinds[++this.i]! & ~HAS_TS) as Entry;
  }

  seriesKey(): string {
    const o = 2 * this.i;
    return latin1(this.b, this.batch.ints[o]!, this.batch.ints[o + 1]!);
  }

  seriesHash(): number {
    const o = 2 * this.i;
    return bytesHash(this.b, this.batch.ints[o]!, this.batch.ints[o + 1]!);
  }

  seriesIs(key: string): boolean {
    const o = 2 * this.i;
    return bytesAre(this.b, this.batch.ints[o]!, this.batch.ints[o + 1]!, key);
  }

  metricName(): string {
    return this.reparsed().metricName();
  }

  labels(): Labels {
    return this.reparsed().labels();
  }

  value(): number {
    return this.batch.floats[2 * this.i]!;
  }

  timestamp(): number | null {
    return (this.batch.kinds[this.i]! & HAS_TS) !== 0 ? this.batch.floats[2 * this.i + 1]! : null;
  }

  exemplar(): Exemplar | null {
    return null;
  }

  startTimestamp(): number {
    return 0;
  }

  currentType(): MetricType {
    return MTYPES[this.batch.types[this.i]!]!;
  }

  metaName(): string {
    return this.batch.strs[this.batch.ints[2 * this.i]!]!;
  }

  helpText(): string {
    return this.batch.strs[this.batch.ints[2 * this.i]! + 1]!;
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
  private reparsed(): PromParser {
    if (this.again === null) this.again = new PromParser(this.b, { symbols: this.symbols });
    if (this.at !== this.i) {
      this.again.seekEntry(this.batch.ints[2 * this.i]!, this.currentType());
      this.again.next();
      this.at = this.i;
    }
    return this.again;
  }
}
