// The process's own metrics as a Queryable, for the built-in self-monitoring
// rules: the registry is read at each evaluation of their group and the values
// kept in a short, bounded history, so that rate(), increase() and
// predict_linear() work whether or not tsprom scrapes itself. The metrics
// another instance exports (a scraped Prometheus, another tsprom) never reach
// these rules, which are about this process only.
import { Counter, Gauge, type Registry } from 'prom-client';
import { compareStrings } from '../gofmt/order.js';
import { Labels, METRIC_NAME, type Label } from '../model/labels.js';
import { MatchType, type Matcher } from '../model/matcher.js';
import { STALE_NAN, isStaleNaN } from '../model/value.js';
import { nopLogger, type Logger } from '../logging/types.js';
import { LazySeriesSet } from '../storage/lazy.js';
import { ValueType, type LabelHints, type Querier, type Queryable, type SampleIterator, type SelectHints, type Series, type SeriesSet } from '../storage/interface.js';

export interface ProcessMetricsOptions {
  /** The registry read at each sample. */
  registry: Registry;
  /** Metric names (as exported: `x_total`, `x_bucket`) whose series are kept. */
  names: Iterable<string>;
  /** How far back queries may read: the longest range the rules use. */
  retentionMs: number;
  /** Points of a series are kept at least this far apart (the newest is always kept), bounding a series to retentionMs / minSpacingMs points. */
  minSpacingMs: number;
  /** Series beyond this many are not kept (counted in tsprom_self_monitoring_series_dropped_total). */
  maxSeries: number;
  /** Where the history's own metrics go; null: nowhere. */
  metricsRegistry?: Registry | null;
  logger?: Logger;
}

/** One series' points, oldest first, at most `cap` of them. */
class History {
  readonly ts: Float64Array;
  readonly vs: Float64Array;
  n = 0;
  /** The sample round that last saw the series in the registry. */
  seen = 0;
  constructor(
    readonly labels: Labels,
    cap: number,
  ) {
    this.ts = new Float64Array(cap);
    this.vs = new Float64Array(cap);
  }

  lastT(): number {
    return this.n === 0 ? -Infinity : this.ts[this.n - 1]!;
  }

  lastV(): number {
    return this.n === 0 ? NaN : this.vs[this.n - 1]!;
  }

  /** Appends (t after the last point); the newest point is replaced instead while it is closer than minSpacing to the one before. */
  add(t: number, v: number, minSpacing: number): void {
    if (this.n >= 2 && this.ts[this.n - 1]! - this.ts[this.n - 2]! < minSpacing && !isStaleNaN(this.vs[this.n - 1]!)) {
      this.ts[this.n - 1] = t;
      this.vs[this.n - 1] = v;
      return;
    }
    if (this.n === this.ts.length) this.dropFirst(1);
    this.ts[this.n] = t;
    this.vs[this.n] = v;
    this.n++;
  }

  /** Drops the points before t. */
  trim(t: number): void {
    let k = 0;
    while (k < this.n && this.ts[k]! < t) k++;
    if (k > 0) this.dropFirst(k);
  }

  private dropFirst(k: number): void {
    this.ts.copyWithin(0, k, this.n);
    this.vs.copyWithin(0, k, this.n);
    this.n -= k;
  }
}

/** prom-client's JSON value of one series. */
interface RegistryValue {
  value: number;
  labels: Record<string, string | number | undefined>;
  metricName?: string;
}

/**
 * The history of the registry's series named in `names`. sample(ts) reads the
 * registry once and records every value at ts; querier() reads the history.
 * A series gone from the registry gets a staleness marker; a counter seen for
 * the first time above 0 gets a 0 just before (at the previous sample), since
 * in-process counters start at 0 and an increase that happened before the
 * first sample (a WAL corruption found at startup) must still show.
 */
export class ProcessMetrics implements Queryable {
  private readonly registry: Registry;
  private readonly names: ReadonlySet<string>;
  private readonly retentionMs: number;
  private readonly minSpacingMs: number;
  private readonly maxSeries: number;
  private readonly cap: number;
  private readonly logger: Logger;
  private readonly series = new Map<string, History>();
  private readonly dropped: Counter | null;
  private round = 0;
  private lastTs = -Infinity;
  private sampling: Promise<void> = Promise.resolve();

  constructor(o: ProcessMetricsOptions) {
    this.registry = o.registry;
    this.names = new Set(o.names);
    this.retentionMs = o.retentionMs;
    this.minSpacingMs = o.minSpacingMs;
    this.maxSeries = o.maxSeries;
    // Points closer than minSpacing collapse, and one newest point may be closer: two slots of slack.
    this.cap = Math.ceil(o.retentionMs / o.minSpacingMs) + 2;
    this.logger = o.logger ?? nopLogger;
    const reg = o.metricsRegistry ?? null;
    this.dropped =
      reg === null
        ? null
        : new Counter({
            name: 'tsprom_self_monitoring_series_dropped_total',
            help: 'Series of the own metrics not kept for the built-in self-monitoring rules because the limit of series was reached.',
            registers: [reg],
          });
    if (reg !== null) {
      const held = this.series;
      new Gauge({
        name: 'tsprom_self_monitoring_series',
        help: 'Series of the own metrics kept for the built-in self-monitoring rules.',
        registers: [reg],
        collect() {
          this.set(held.size);
        },
      });
    }
  }

  /** Whether queries for this metric name are answered from the process's own metrics. */
  has(name: string): boolean {
    return this.names.has(name);
  }

  /** Number of series held. */
  numSeries(): number {
    return this.series.size;
  }

  /** Records the registry's current values at ts (ms); a ts not after the last sample records nothing. Never rejects. */
  sample(ts: number): Promise<void> {
    const run = this.sampling.then(() => this.doSample(ts));
    this.sampling = run;
    return run;
  }

  private async doSample(ts: number): Promise<void> {
    if (ts <= this.lastTs) return;
    let metrics;
    try {
      // All metrics, not only the named ones: prom-client's default metrics set several values from one collect().
      metrics = await this.registry.getMetricsAsJSON();
    } catch (e) {
      this.logger.warn('Reading the own metrics for the self-monitoring rules failed', { err: e instanceof Error ? e.message : String(e) });
      return;
    }
    if (ts <= this.lastTs) return;
    const prevTs = this.lastTs;
    this.lastTs = ts;
    const round = ++this.round;
    for (const m of metrics) {
      // The typings say a numeric enum; prom-client sends the type's name.
      const type = m.type as unknown as string;
      const isCounter = type === 'counter' || type === 'histogram';
      for (const v of m.values as RegistryValue[]) {
        const name = v.metricName ?? m.name;
        if (!this.names.has(name)) continue;
        this.record(seriesLabels(name, v.labels), ts, v.value, isCounter, prevTs, round);
      }
    }
    const oldest = ts - this.retentionMs - this.minSpacingMs;
    for (const [key, h] of this.series) {
      if (h.seen !== round && h.n > 0 && !isStaleNaN(h.lastV())) h.add(ts, STALE_NAN, this.minSpacingMs);
      h.trim(oldest);
      if (h.n === 0) this.series.delete(key);
    }
  }

  private record(ls: Labels, ts: number, v: number, isCounter: boolean, prevTs: number, round: number): void {
    const key = ls.key();
    let h = this.series.get(key);
    if (h === undefined) {
      if (this.series.size >= this.maxSeries) {
        this.dropped?.inc();
        return;
      }
      h = new History(ls, this.cap);
      this.series.set(key, h);
      if (isCounter && v > 0) h.add(Number.isFinite(prevTs) ? prevTs : ts - 1, 0, this.minSpacingMs);
    }
    h.seen = round;
    if (ts > h.lastT()) h.add(ts, v, this.minSpacingMs);
  }

  querier(mint: number, maxt: number): Querier {
    return new HistoryQuerier([...this.series.values()], mint, maxt);
  }
}

function seriesLabels(name: string, labels: RegistryValue['labels']): Labels {
  const list: Label[] = [{ name: METRIC_NAME, value: name }];
  for (const [n, v] of Object.entries(labels)) if (v !== undefined && v !== '') list.push({ name: n, value: String(v) });
  list.sort((a, b) => compareStrings(a.name, b.name));
  return Labels.fromList(list);
}

function matchesAll(ls: Labels, matchers: readonly Matcher[]): boolean {
  for (const m of matchers) if (!m.matches(ls.get(m.name))) return false;
  return true;
}

/** i < end <= ts.length wherever t() and v() are read. */
class PointsIterator implements SampleIterator {
  private i = -1;
  constructor(
    private readonly ts: Float64Array,
    private readonly vs: Float64Array,
  ) {}
  next(): ValueType {
    if (this.i < this.ts.length) this.i++;
    return this.i < this.ts.length ? ValueType.Float : ValueType.None;
  }
  seek(t: number): ValueType {
    if (this.i < 0) this.i = 0;
    while (this.i < this.ts.length && this.ts[this.i]! < t) this.i++;
    return this.i < this.ts.length ? ValueType.Float : ValueType.None;
  }
  t(): number {
    return this.ts[this.i]!;
  }
  v(): number {
    return this.vs[this.i]!;
  }
  err(): Error | null {
    return null;
  }
}

/** A series' points within the querier's range, copied: a later sample may shift the history. */
class PointsSeries implements Series {
  constructor(
    readonly labels: Labels,
    private readonly ts: Float64Array,
    private readonly vs: Float64Array,
  ) {}
  iterator(): SampleIterator {
    return new PointsIterator(this.ts, this.vs);
  }
}

class HistorySet extends LazySeriesSet {
  private i = -1;
  constructor(
    private readonly list: readonly History[],
    private readonly matchers: readonly Matcher[],
    private readonly mint: number,
    private readonly maxt: number,
  ) {
    super();
  }
  protected produce(): Series | null {
    while (++this.i < this.list.length) {
      const h = this.list[this.i]!; // i < length
      if (!matchesAll(h.labels, this.matchers)) continue;
      let a = 0;
      while (a < h.n && h.ts[a]! < this.mint) a++;
      let b = a;
      while (b < h.n && h.ts[b]! <= this.maxt) b++;
      if (a === b) continue;
      return new PointsSeries(h.labels, h.ts.slice(a, b), h.vs.slice(a, b));
    }
    return null;
  }
}

class HistoryQuerier implements Querier {
  constructor(
    private readonly list: History[],
    private readonly mint: number,
    private readonly maxt: number,
  ) {}

  select(sortSeries: boolean, hints: SelectHints | null, ...matchers: Matcher[]): SeriesSet {
    const mint = Math.max(this.mint, hints?.start ?? -Infinity);
    const maxt = Math.min(this.maxt, hints?.end ?? Infinity);
    const list = sortSeries ? [...this.list].sort((a, b) => Labels.compare(a.labels, b.labels)) : this.list;
    return new HistorySet(list, matchers, mint, maxt);
  }

  labelValues(name: string, hints: LabelHints | null, ...matchers: Matcher[]): string[] {
    const set = new Set<string>();
    for (const h of this.list) {
      const v = h.labels.get(name);
      if (v !== '' && matchesAll(h.labels, matchers)) set.add(v);
    }
    return limit([...set].sort(compareStrings), hints);
  }

  labelNames(hints: LabelHints | null, ...matchers: Matcher[]): string[] {
    const set = new Set<string>();
    for (const h of this.list) if (matchesAll(h.labels, matchers)) h.labels.forEach((n) => set.add(n));
    return limit([...set].sort(compareStrings), hints);
  }

  close(): void {}
}

function limit(xs: string[], hints: LabelHints | null): string[] {
  return hints?.limit ? xs.slice(0, hints.limit) : xs;
}

/** The metric name a selection asks for, when one is given exactly. */
function selectedName(matchers: readonly Matcher[]): string | null {
  for (const m of matchers) if (m.name === METRIC_NAME && m.type === MatchType.Equal) return m.value;
  return null;
}

/**
 * A Queryable that answers selections of the process's own metrics from
 * `own` and every other one (`up`, ALERTS_FOR_STATE) from `base`, the TSDB.
 */
export function routedQueryable(own: ProcessMetrics, base: Queryable): Queryable {
  return {
    querier(mint: number, maxt: number): Querier {
      let ownQ: Querier | null = null;
      let baseQ: Querier | null = null;
      const pick = (matchers: readonly Matcher[]): Querier => {
        const name = selectedName(matchers);
        if (name !== null && own.has(name)) return (ownQ ??= own.querier(mint, maxt));
        return (baseQ ??= base.querier(mint, maxt));
      };
      return {
        select: (sortSeries, hints, ...matchers) => pick(matchers).select(sortSeries, hints, ...matchers),
        labelValues: (name, hints, ...matchers) => pick(matchers).labelValues(name, hints, ...matchers),
        labelNames: (hints, ...matchers) => pick(matchers).labelNames(hints, ...matchers),
        close: () => {
          ownQ?.close();
          baseQ?.close();
        },
      };
    },
  };
}
