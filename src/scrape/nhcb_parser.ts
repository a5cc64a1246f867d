// convert_classic_histograms_to_nhcb: a TextParser wrapper that collects the
// `_bucket`/`_count`/`_sum` series of each classic histogram and yields them as
// one native histogram with custom buckets (Entry.Histogram) once the
// histogram's series end, as Prometheus's NHCB parser does. The classic series
// themselves are passed on only with always_scrape_classic_histograms. A
// native histogram of the same metric (protobuf) inhibits the conversion of its
// classic series.
import { parseGoFloat } from '../gofmt/float.js';
import { FloatHistogram, Histogram, HistogramError } from '../model/histogram.js';
import { ClassicHistogramBuilder, classicHistogramSeries, NhcbConversionError } from '../model/histogram_nhcb.js';
import { Labels, METRIC_NAME } from '../model/labels.js';
import { Entry, type Exemplar, type MetricType, type TextParser } from '../model/textparse/interface.js';

/** A parser whose Entry.Histogram entries can be read (ProtobufParser, NhcbParser). */
export interface HistogramParser extends TextParser {
  /** The current Entry.Histogram's histogram; throws HistogramError or NhcbConversionError for one that cannot be stored. */
  histogram(): Histogram | FloatHistogram;
  /** The current Entry.Histogram's exemplars (only those with a timestamp). */
  exemplars(): Exemplar[];
}

const LE = 'le';

/** Identity of a histogram across its series: the labels without the name and `le`. */
function groupKey(ls: Labels): string {
  return ls.without(METRIC_NAME, LE).key();
}

type State = 'start' | 'collecting' | 'inhibiting' | 'emitting';

interface Collected {
  readonly key: string;
  readonly labels: Labels;
  readonly builder: ClassicHistogramBuilder;
  readonly exemplars: Exemplar[];
  timestamp: number | null;
  startMs: number;
}

export class NhcbParser implements HistogramParser {
  private state: State = 'start';
  /** The inner entry held back while the converted histogram before it is yielded. */
  private pending: Entry | null = null;
  /** The current inner entry (valid while state is not 'emitting'). */
  private entry: Entry = Entry.EOF;
  private familyName = '';
  private familyType: MetricType = 'unknown';
  /** Name and group of the histogram being collected or inhibited. */
  private lastName = '';
  private lastGroup = '';
  private cur: Collected | null = null;
  /** The converted histogram being yielded. */
  private out: Collected | null = null;

  constructor(
    private readonly inner: TextParser,
    private readonly keepClassic: boolean,
  ) {}

  next(): Entry {
    for (;;) {
      if (this.state === 'emitting') {
        this.state = 'start';
        this.out = null;
        const e = this.pending!;
        this.pending = null;
        this.entry = e;
        if (e === Entry.Series && this.collect() && !this.keepClassic) continue;
        if (e === Entry.Histogram) this.inhibit();
        return e;
      }
      const e = this.inner.next();
      this.entry = e;
      if (e === Entry.EOF) {
        if (this.flush(e)) return Entry.Histogram;
        return e;
      }
      if (e === Entry.Type) {
        this.familyName = this.inner.metaName();
        this.familyType = this.inner.metricType();
        // The previous family's histogram (complete by now) is yielded before this one's metadata.
        if (this.flush(e)) return Entry.Histogram;
        return e;
      }
      if (e === Entry.Series) {
        if (this.state === 'collecting' && this.differentMetric() && this.flush(e)) return Entry.Histogram;
        if (this.state === 'inhibiting') {
          if (!this.differentMetric()) return e;
          this.state = 'start';
        }
        if (this.collect() && !this.keepClassic) continue;
        return e;
      }
      if (e === Entry.Histogram) {
        if (this.flush(e)) return Entry.Histogram;
        this.inhibit();
        return e;
      }
      if (this.flush(e)) return Entry.Histogram;
      return e;
    }
  }

  /** Ends a collected histogram: it is yielded next, `e` after it. */
  private flush(e: Entry): boolean {
    if (this.state !== 'collecting' || this.cur === null) return false;
    this.out = this.cur;
    this.cur = null;
    this.pending = e;
    this.state = 'emitting';
    return true;
  }

  private inhibit(): void {
    this.state = 'inhibiting';
    const ls = this.inner.labels();
    this.lastName = ls.get(METRIC_NAME);
    this.lastGroup = groupKey(ls);
  }

  private differentMetric(): boolean {
    if (this.familyType !== 'histogram') return true;
    const ls = this.inner.labels();
    if (classicHistogramSeries(ls.get(METRIC_NAME)).base !== this.lastName) return true;
    return groupKey(ls) !== this.lastGroup;
  }

  /** Adds the current inner series to the histogram being collected; false when it is not part of a classic histogram. */
  private collect(): boolean {
    if (this.familyType !== 'histogram') return false;
    const ls = this.inner.labels();
    const { suffix, base } = classicHistogramSeries(ls.get(METRIC_NAME));
    if (suffix === null || base !== this.familyName) return false;
    let le = 0;
    if (suffix === 'bucket') {
      if (!ls.has(LE)) return false;
      try {
        le = parseGoFloat(ls.get(LE));
      } catch {
        return false;
      }
      if (Number.isNaN(le)) return false;
    }
    if (this.state !== 'collecting' || this.cur === null) {
      const group = groupKey(ls);
      this.lastName = base;
      this.lastGroup = group;
      this.state = 'collecting';
      this.cur = {
        key: `\xfenhcb\xff${base}\xff${group}`,
        labels: ls.builder().del(LE).set(METRIC_NAME, base).labels(),
        builder: new ClassicHistogramBuilder(),
        exemplars: [],
        timestamp: null,
        startMs: this.inner.startTimestamp(),
      };
    }
    const c = this.cur;
    const ex = this.inner.exemplar();
    if (ex !== null) c.exemplars.push(ex);
    c.timestamp = this.inner.timestamp();
    const v = this.inner.value();
    // A bad value is kept in the builder's error and reported by histogram().
    try {
      if (suffix === 'bucket') c.builder.setBucketCount(le, v);
      else if (suffix === 'count') c.builder.setCount(v);
      else c.builder.setSum(v);
    } catch (err) {
      if (!(err instanceof NhcbConversionError)) throw err;
    }
    return true;
  }

  private emitted(): Collected {
    if (this.state !== 'emitting' || this.out === null) throw new Error('BUG: NhcbParser histogram accessor outside a converted histogram');
    return this.out;
  }

  histogram(): Histogram | FloatHistogram {
    if (this.state !== 'emitting') return (this.inner as HistogramParser).histogram();
    const h = this.emitted().builder.convert();
    try {
      h.validate();
    } catch (e) {
      if (e instanceof HistogramError) throw new HistogramError(e.kind, `histogram ${this.emitted().labels.get(METRIC_NAME)}`, e.message);
      throw e;
    }
    return h;
  }

  exemplars(): Exemplar[] {
    if (this.state !== 'emitting') return (this.inner as HistogramParser).exemplars();
    return this.emitted().exemplars.filter((e) => e.timestamp !== null);
  }

  seriesKey(): string {
    return this.state === 'emitting' ? this.emitted().key : this.inner.seriesKey();
  }

  seriesHash(): number {
    if (this.state !== 'emitting') return this.inner.seriesHash();
    const k = this.emitted().key;
    let h = 0x811c9dc5;
    for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193);
    return (h >>> 0) & 0x3fffffff;
  }

  seriesIs(key: string): boolean {
    return this.state === 'emitting' ? this.emitted().key === key : this.inner.seriesIs(key);
  }

  metricName(): string {
    return this.state === 'emitting' ? this.emitted().labels.get(METRIC_NAME) : this.inner.metricName();
  }

  labels(): Labels {
    return this.state === 'emitting' ? this.emitted().labels : this.inner.labels();
  }

  value(): number {
    return this.state === 'emitting' ? 0 : this.inner.value();
  }

  timestamp(): number | null {
    return this.state === 'emitting' ? this.emitted().timestamp : this.inner.timestamp();
  }

  exemplar(): Exemplar | null {
    return this.state === 'emitting' ? null : this.inner.exemplar();
  }

  startTimestamp(): number {
    return this.state === 'emitting' ? this.emitted().startMs : this.inner.startTimestamp();
  }

  currentType(): MetricType {
    return this.state === 'emitting' ? 'histogram' : this.inner.currentType();
  }

  metaName(): string {
    return this.inner.metaName();
  }

  helpText(): string {
    return this.inner.helpText();
  }

  metricType(): MetricType {
    return this.inner.metricType();
  }

  unitText(): string {
    return this.inner.unitText();
  }

  commentText(): string {
    return this.inner.commentText();
  }
}
