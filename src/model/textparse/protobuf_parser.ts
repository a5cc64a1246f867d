// The protobuf exposition format: a stream of MetricFamily messages, each
// preceded by its length as a uvarint (`encoding=delimited`), decoded by
// protobuf_decode.ts into the generated code's message types (gen/, from
// proto/prometheus/metrics.proto; the hand-written decoder is faster than
// @bufbuild/protobuf's fromBinary and tested against it). Produces the entries the text
// parsers produce (Help, Type, Unit, Series with the _count/_sum/_bucket and
// quantile series of summaries and classic histograms) plus Entry.Histogram
// for native histograms, with exemplars and created timestamps, in the order
// Prometheus's protobuf parser yields them.
import { formatOpenMetricsFloat } from '../../gofmt/float.js';
import { goQuote } from '../../gofmt/quote.js';
import {
  capSchema,
  CounterResetHint,
  EXPONENTIAL_SCHEMA_MAX,
  FloatHistogram,
  Histogram,
  HistogramError,
  type Span,
} from '../histogram.js';
import { Labels, METRIC_NAME } from '../labels.js';
import {
  MetricType as PbType,
  type Exemplar as PbExemplar,
  type Histogram as PbHistogram,
  type Metric,
  type MetricFamily,
} from './gen/metrics_pb.js';
import { Entry, type Exemplar, type MetricType, type SymbolTable, type TextParser } from './interface.js';
import { ProtobufDecodeError, decodeMetricFamily } from './protobuf_decode.js';

/** Malformed protobuf input; `offset` is the byte where the bad message starts. */
export class ProtobufParseError extends Error {
  override readonly name = 'ProtobufParseError';
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`protobuf parsing failed at byte ${offset}: ${reason}`);
  }
}

export interface ProtobufParserOptions {
  symbols?: SymbolTable;
  /** Also yield the classic series of histograms that carry native buckets (always_scrape_classic_histograms). */
  parseClassicHistograms?: boolean;
  /** Treat every histogram as classic (native histograms not enabled). */
  ignoreNativeHistograms?: boolean;
}

/** A family message is never larger than this; a bigger length prefix is corrupt input, not a huge family. */
const MAX_MESSAGE_BYTES = 64 << 20;

/** One thing next() returns, prepared per family. */
interface Item {
  entry: Entry;
  name: string;
  /** Extra label (quantile or le) after the metric's own labels. */
  magic: [string, string] | null;
  metric: Metric | null;
  value: number;
  exemplar: PbExemplar | null;
  startMs: number;
}

const TYPE_NAMES: Record<number, MetricType> = {
  [PbType.COUNTER]: 'counter',
  [PbType.GAUGE]: 'gauge',
  [PbType.SUMMARY]: 'summary',
  [PbType.UNTYPED]: 'unknown',
  [PbType.HISTOGRAM]: 'histogram',
  [PbType.GAUGE_HISTOGRAM]: 'gaugehistogram',
};

function tsMs(t: { seconds: bigint; nanos: number } | undefined): number {
  if (t === undefined) return 0;
  return Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6);
}

/** Spans must describe as many buckets as the message has; else the whole body is refused (Prometheus's check, its text). */
function checkSpans(name: string, h: PbHistogram, offset: number): void {
  const isFloat = h.sampleCountFloat > 0 || h.zeroCountFloat > 0;
  const sides: [string, { length: number }[], number][] = [
    ['positive', h.positiveSpan, isFloat ? h.positiveCount.length : h.positiveDelta.length],
    ['negative', h.negativeSpan, isFloat ? h.negativeCount.length : h.negativeDelta.length],
  ];
  for (const [side, spans, n] of sides) {
    let total = 0;
    for (const s of spans) total += s.length;
    if (total !== n) throw new ProtobufParseError(`histogram ${goQuote(name)}: ${side} side: spans require ${total} buckets, have ${n}`, offset);
  }
}

/** Prometheus's test for native buckets: any span, a zero threshold or a zero count. */
export function isNativeHistogram(h: PbHistogram): boolean {
  return h.positiveSpan.length > 0 || h.negativeSpan.length > 0 || h.zeroThreshold > 0 || h.zeroCount > 0n || h.zeroCountFloat > 0;
}

export class ProtobufParser implements TextParser {
  private pos = 0;
  private family: MetricFamily | null = null;
  private items: Item[] = [];
  private cur: Item | null = null;
  private readonly opts: ProtobufParserOptions;

  constructor(
    private readonly body: Uint8Array,
    opts: ProtobufParserOptions = {},
  ) {
    this.opts = opts;
  }

  next(): Entry {
    while (this.items.length === 0) {
      if (this.pos >= this.body.length) {
        this.cur = null;
        return Entry.EOF;
      }
      this.readFamily();
    }
    this.cur = this.items.shift()!;
    return this.cur.entry;
  }

  private readFamily(): void {
    const start = this.pos;
    let len = 0;
    let shift = 1;
    let p = this.pos;
    for (;;) {
      if (p >= this.body.length) throw new ProtobufParseError('truncated length prefix', start);
      const b = this.body[p++]!;
      len += (b & 0x7f) * shift;
      if (b < 0x80) break;
      shift *= 128;
      if (shift > 2 ** 35) throw new ProtobufParseError('length prefix too long', start);
    }
    if (len > MAX_MESSAGE_BYTES) throw new ProtobufParseError(`message length ${len} exceeds ${MAX_MESSAGE_BYTES}`, start);
    if (p + len > this.body.length) throw new ProtobufParseError(`message of ${len} bytes runs past the end of the body`, start);
    let mf: MetricFamily;
    try {
      mf = decodeMetricFamily(this.body, p, p + len);
    } catch (e) {
      if (e instanceof ProtobufDecodeError) throw new ProtobufParseError(`invalid MetricFamily: ${e.message}`, start);
      throw e;
    }
    this.pos = p + len;
    // A family without metrics yields nothing, not even its metadata (as in Prometheus).
    if (mf.metric.length === 0) return;
    if (mf.name === '') throw new ProtobufParseError('invalid metric name: ', start);
    if (TYPE_NAMES[mf.type] === undefined) throw new ProtobufParseError(`unknown metric type for metric ${goQuote(mf.name)}: ${mf.type}`, start);
    this.family = mf;
    this.items = this.itemsOf(mf, start);
  }

  private itemsOf(mf: MetricFamily, offset: number): Item[] {
    const out: Item[] = [];
    const meta = (entry: Entry): Item => ({ entry, name: mf.name, magic: null, metric: null, value: 0, exemplar: null, startMs: 0 });
    out.push(meta(Entry.Help));
    if (mf.unit !== '') out.push(meta(Entry.Unit));
    out.push(meta(Entry.Type));
    for (const m of mf.metric) {
      const series = (name: string, value: number, magic: [string, string] | null, exemplar: PbExemplar | null, startMs: number): void => {
        out.push({ entry: Entry.Series, name, magic, metric: m, value, exemplar, startMs });
      };
      switch (mf.type) {
        case PbType.COUNTER:
          series(mf.name, m.counter?.value ?? 0, null, m.counter?.exemplar ?? null, tsMs(m.counter?.createdTimestamp));
          break;
        case PbType.GAUGE:
          series(mf.name, m.gauge?.value ?? 0, null, null, 0);
          break;
        case PbType.UNTYPED:
          series(mf.name, m.untyped?.value ?? 0, null, null, 0);
          break;
        case PbType.SUMMARY: {
          const s = m.summary;
          const st = tsMs(s?.createdTimestamp);
          series(`${mf.name}_count`, Number(s?.sampleCount ?? 0n), null, null, st);
          series(`${mf.name}_sum`, s?.sampleSum ?? 0, null, null, st);
          for (const q of s?.quantile ?? []) series(mf.name, q.value, ['quantile', formatOpenMetricsFloat(q.quantile)], null, st);
          break;
        }
        case PbType.HISTOGRAM:
        case PbType.GAUGE_HISTOGRAM: {
          const h = m.histogram;
          const st = tsMs(h?.createdTimestamp);
          const native = h !== undefined && !this.opts.ignoreNativeHistograms && isNativeHistogram(h);
          if (native) {
            checkSpans(mf.name, h, offset);
            out.push({ entry: Entry.Histogram, name: mf.name, magic: null, metric: m, value: 0, exemplar: null, startMs: st });
            if (!this.opts.parseClassicHistograms || h.bucket.length === 0) break;
          }
          const count = h === undefined ? 0 : h.sampleCountFloat > 0 ? h.sampleCountFloat : Number(h.sampleCount);
          series(`${mf.name}_count`, count, null, null, st);
          series(`${mf.name}_sum`, h?.sampleSum ?? 0, null, null, st);
          let sawInf = false;
          for (const b of h?.bucket ?? []) {
            const v = b.cumulativeCountFloat > 0 ? b.cumulativeCountFloat : Number(b.cumulativeCount);
            series(`${mf.name}_bucket`, v, ['le', formatOpenMetricsFloat(b.upperBound)], b.exemplar ?? null, st);
            if (b.upperBound === Infinity) {
              sawInf = true;
              break;
            }
          }
          if (!sawInf) series(`${mf.name}_bucket`, count, ['le', '+Inf'], null, st);
          break;
        }
        default:
          break;
      }
    }
    return out;
  }

  private item(): Item {
    if (this.cur === null) throw new Error('BUG: ProtobufParser accessor called without a current entry');
    return this.cur;
  }

  seriesKey(): string {
    const it = this.item();
    let k = it.name;
    for (const l of it.metric?.label ?? []) k += `\xff${l.name}\xfe${l.value}`;
    if (it.magic !== null) k += `\xff${it.magic[0]}\xfe${it.magic[1]}`;
    return k;
  }

  seriesHash(): number {
    const k = this.seriesKey();
    let h = 0x811c9dc5;
    for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193);
    return (h >>> 0) & 0x3fffffff;
  }

  seriesIs(key: string): boolean {
    return this.seriesKey() === key;
  }

  metricName(): string {
    return this.item().name;
  }

  labels(): Labels {
    const it = this.item();
    const intern = (s: string): string => this.opts.symbols?.intern(s) ?? s;
    const pairs: string[] = [METRIC_NAME, intern(it.name)];
    for (const l of it.metric?.label ?? []) pairs.push(intern(l.name), intern(l.value));
    if (it.magic !== null) pairs.push(it.magic[0], intern(it.magic[1]));
    return Labels.fromPairs(...pairs);
  }

  value(): number {
    return this.item().value;
  }

  timestamp(): number | null {
    const ms = this.item().metric?.timestampMs ?? 0n;
    return ms === 0n ? null : Number(ms);
  }

  exemplar(): Exemplar | null {
    const ex = this.item().exemplar;
    return ex === null ? null : this.exemplarOf(ex);
  }

  /** Exemplars of a native histogram: its own list, else those of its classic buckets; only those with a timestamp (as Prometheus requires). */
  exemplars(): Exemplar[] {
    const h = this.item().metric?.histogram;
    if (h === undefined) return [];
    const list = h.exemplars.length > 0 ? h.exemplars : h.bucket.flatMap((b) => (b.exemplar === undefined ? [] : [b.exemplar]));
    return list.filter((e) => e.timestamp !== undefined).map((e) => this.exemplarOf(e));
  }

  private exemplarOf(ex: PbExemplar): Exemplar {
    const pairs: string[] = [];
    for (const l of ex.label) pairs.push(l.name, l.value);
    return { labels: Labels.fromPairs(...pairs), value: ex.value, timestamp: ex.timestamp === undefined ? null : tsMs(ex.timestamp) };
  }

  startTimestamp(): number {
    return this.item().startMs;
  }

  currentType(): MetricType {
    return TYPE_NAMES[this.family?.type ?? PbType.UNTYPED] ?? 'unknown';
  }

  metaName(): string {
    return this.family?.name ?? '';
  }

  helpText(): string {
    return this.family?.help ?? '';
  }

  metricType(): MetricType {
    return this.currentType();
  }

  unitText(): string {
    return this.family?.unit ?? '';
  }

  commentText(): string {
    return '';
  }

  /**
   * The native histogram of an Entry.Histogram: an integer Histogram, or a
   * FloatHistogram when the message carries float counts; compacted and
   * validated. Throws HistogramError (Prometheus's texts) for negative counts, a
   * bad schema, a count that does not add up and the like, so the caller can
   * reject this one sample (as Prometheus rejects it on append). Spans that do
   * not match the bucket counts already made next() refuse the whole body.
   */
  histogram(): Histogram | FloatHistogram {
    const it = this.item();
    const h = it.metric?.histogram;
    if (it.entry !== Entry.Histogram || h === undefined) throw new Error('BUG: histogram() called on a non-histogram entry');
    const spans = (list: { offset: number; length: number }[]): Span[] => list.map((s) => ({ offset: s.offset, length: s.length }));
    const hint = this.family?.type === PbType.GAUGE_HISTOGRAM ? CounterResetHint.Gauge : CounterResetHint.Unknown;
    const unsafe = (v: bigint): number => {
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new HistogramError('bad_operation', `histogram ${it.name}`, `count ${v} beyond 2^53 is not supported`);
      }
      return Number(v);
    };
    let out: Histogram | FloatHistogram;
    if (h.sampleCountFloat > 0 || h.zeroCountFloat > 0) {
      out = new FloatHistogram({
        counterResetHint: hint,
        count: h.sampleCountFloat,
        sum: h.sampleSum,
        zeroThreshold: h.zeroThreshold,
        zeroCount: h.zeroCountFloat,
        schema: h.schema,
        positiveSpans: spans(h.positiveSpan),
        positiveBuckets: h.positiveCount,
        negativeSpans: spans(h.negativeSpan),
        negativeBuckets: h.negativeCount,
      });
    } else {
      out = new Histogram({
        counterResetHint: hint,
        count: unsafe(h.sampleCount),
        sum: h.sampleSum,
        zeroThreshold: h.zeroThreshold,
        zeroCount: unsafe(h.zeroCount),
        schema: h.schema,
        positiveSpans: spans(h.positiveSpan),
        positiveBuckets: h.positiveDelta.map(unsafe),
        negativeSpans: spans(h.negativeSpan),
        negativeBuckets: h.negativeDelta.map(unsafe),
      });
    }
    try {
      // Schemas 9..52 are finer than Prometheus stores: reduced to 8 (a later min-bucket-factor cap composes with this).
      out = out instanceof Histogram ? capSchema(out, EXPONENTIAL_SCHEMA_MAX) : capSchema(out, EXPONENTIAL_SCHEMA_MAX);
      out.validate();
    } catch (e) {
      if (e instanceof HistogramError) throw new HistogramError(e.kind, `histogram ${it.name}`, e.message);
      throw e;
    }
    return out.compact(0);
  }
}
