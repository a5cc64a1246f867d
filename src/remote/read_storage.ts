// Queries over local data plus every `remote_read` endpoint, with
// Prometheus's fanout semantics: local data is primary and the remotes are
// secondary (a failing remote becomes a query warning, never an error);
// without read_recent a remote is asked only for the time before the local
// storage's oldest sample; a remote with required_matchers is asked only by
// selectors holding all of them as equality matchers; with
// filter_external_labels (the default) the external labels are sent as
// equality matchers and removed from the answer. Series present on both sides
// are merged, the local sample winning at equal timestamps. Native histograms
// come back as histogram samples (validated as Prometheus's client does).
//
// Remote fetches start in select() and the caller awaits Querier.ready()
// before reading, so the storage interface stays synchronous.
import type { Registry } from 'prom-client';
import type { Config, RemoteReadConfig } from '../config/types.js';
import type { Logger } from '../logging/types.js';
import {
  EXPONENTIAL_SCHEMA_MAX,
  capSchema,
  isKnownSchema,
  unknownSchemaError,
  type FloatHistogram,
  type Histogram,
} from '../model/histogram.js';
import { Labels, LabelsBuilder } from '../model/labels.js';
import { MatchType, Matcher } from '../model/matcher.js';
import {
  ValueType,
  type LabelHints,
  type Querier,
  type Queryable,
  type SampleIterator,
  type SelectHints,
  type Series,
  type SeriesSet,
} from '../storage/interface.js';
import { MergeSeriesSet } from '../tsdb/querier.js';
import { ReadClient, ReadClientMetrics } from './read_client.js';
import type { ReadHints, ReadSeries } from './read_request.js';

/** The local side: queryable, and where its data starts (Infinity when empty). */
export interface LocalQueryable extends Queryable {
  startTime(): number;
}

export interface RemoteReadStorageOptions {
  registry?: Registry;
  logger: Logger;
  /** Samples one remote answer may hold (--query.max-samples); 0 = no limit. */
  maxSamples: number;
}

interface Remote {
  readonly key: string;
  readonly client: ReadClient;
  readonly cfg: RemoteReadConfig;
}

/** The remote_read endpoints of the current config; reload keeps the clients whose config did not change. */
export class RemoteReadStorage {
  private remotes: Remote[] = [];
  private externalLabels = Labels.EMPTY;
  private readonly metrics: ReadClientMetrics;

  constructor(private readonly opts: RemoteReadStorageOptions) {
    this.metrics = new ReadClientMetrics(opts.registry);
  }

  applyConfig(cfg: Config): void {
    const old = new Map(this.remotes.map((r) => [r.key, r]));
    const next: Remote[] = [];
    for (const c of cfg.remoteRead) {
      const key = JSON.stringify(c);
      const kept = old.get(key);
      if (kept !== undefined) {
        old.delete(key);
        next.push(kept);
      } else {
        // enable_http2 (true by default) changes nothing: requests use HTTP/1.1.
        next.push({ key, cfg: c, client: new ReadClient(c, this.metrics, this.opts.maxSamples) });
      }
    }
    for (const r of old.values()) r.client.close();
    this.remotes = next;
    this.externalLabels = cfg.global.externalLabels;
  }

  close(): void {
    for (const r of this.remotes) r.client.close();
    this.remotes = [];
  }

  /** Local data merged with the remotes' (just the local queryable when none is configured). */
  queryable(local: LocalQueryable): Queryable {
    return {
      querier: (mint, maxt) => {
        const q = local.querier(mint, maxt);
        const remotes = this.remotes;
        if (remotes.length === 0) return q;
        const ranges: RemoteRange[] = [];
        let start: number | null = null;
        for (const r of remotes) {
          let rmaxt = maxt;
          if (!r.cfg.readRecent) {
            start ??= local.startTime();
            // Local data answers from its oldest sample on: ask the remote only for what is older.
            if (mint > start) continue;
            if (maxt > start) rmaxt = start;
          }
          ranges.push({ remote: r, mint, maxt: rmaxt, ext: r.cfg.filterExternalLabels ? this.externalLabels : Labels.EMPTY });
        }
        return ranges.length === 0 ? q : new FanoutQuerier(q, ranges);
      },
    };
  }
}

interface RemoteRange {
  readonly remote: Remote;
  readonly mint: number;
  readonly maxt: number;
  readonly ext: Labels;
}

/** True when every required matcher appears among the selector's matchers as the same equality matcher. */
export function requiredMatchersMet(required: Readonly<Record<string, string>>, ms: readonly Matcher[]): boolean {
  for (const [name, value] of Object.entries(required)) {
    if (!ms.some((m) => m.type === MatchType.Equal && m.name === name && m.value === value)) return false;
  }
  return true;
}

/**
 * The selector's matchers plus an equality matcher per external label the
 * selector does not name; returns the names added (removed from the answer).
 */
export function addExternalLabels(ms: readonly Matcher[], ext: Labels): { matchers: Matcher[]; added: string[] } {
  const matchers = [...ms];
  const added: string[] = [];
  ext.forEach((name, value) => {
    if (ms.some((m) => m.name === name)) return;
    matchers.push(Matcher.create(MatchType.Equal, name, value));
    added.push(name);
  });
  return { matchers, added };
}

function toReadHints(h: SelectHints | null): ReadHints | null {
  if (h === null) return null;
  return { stepMs: h.step ?? 0, func: h.func ?? '', startMs: h.start, endMs: h.end, grouping: h.grouping ?? [], by: h.by ?? false, rangeMs: h.range ?? 0 };
}

class FanoutQuerier implements Querier {
  private readonly pending: Promise<void>[] = [];

  constructor(
    private readonly local: Querier,
    private readonly remotes: readonly RemoteRange[],
  ) {}

  select(sortSeries: boolean, hints: SelectHints | null, ...matchers: Matcher[]): SeriesSet {
    const active = this.remotes.filter((r) => requiredMatchersMet(r.remote.cfg.requiredMatchers, matchers));
    if (active.length === 0) return this.local.select(sortSeries, hints, ...matchers);
    const sets: SeriesSet[] = [this.local.select(true, hints, ...matchers)];
    for (const r of active) {
      const { matchers: ms, added } = addExternalLabels(matchers, r.ext);
      const set = new RemoteSeriesSet(added);
      const fetch = r.remote.client.read({ startMs: r.mint, endMs: r.maxt, matchers: ms, hints: toReadHints(hints) }).then(
        (series) => set.resolve(series),
        (e: unknown) => set.fail(`remote_read: ${e instanceof Error ? e.message : String(e)}`),
      );
      this.pending.push(fetch);
      sets.push(set);
    }
    return new MergeSeriesSet(sets);
  }

  ready(): Promise<void> {
    const all = Promise.all(this.pending).then(() => undefined);
    this.pending.length = 0;
    return all;
  }

  labelValues(name: string, hints: LabelHints | null, ...matchers: Matcher[]): string[] {
    // Remote read has no label queries (Prometheus's remote querier answers "not implemented" there too).
    return this.local.labelValues(name, hints, ...matchers);
  }

  labelNames(hints: LabelHints | null, ...matchers: Matcher[]): string[] {
    return this.local.labelNames(hints, ...matchers);
  }

  close(): void {
    this.local.close();
  }
}

/** One remote's answer to a select; empty with a warning when the remote failed. */
class RemoteSeriesSet implements SeriesSet {
  private series: readonly ReadSeries[] | null = null;
  private warning: string | null = null;
  private i = -1;
  private cur: Series | null = null;

  constructor(private readonly drop: readonly string[]) {}

  resolve(series: readonly ReadSeries[]): void {
    if (this.drop.length === 0) {
      this.series = series;
      return;
    }
    // Dropping labels can reorder series: sort again for the merge.
    const out = series.map((s) => ({ ...s, labels: new LabelsBuilder(s.labels).del(...this.drop).labels() }));
    this.series = out.sort((a, b) => Labels.compare(a.labels, b.labels));
  }

  fail(msg: string): void {
    this.warning = msg;
  }

  next(): boolean {
    if (this.series === null) {
      // Selected without awaiting Querier.ready(): the answer is not there to read.
      this.warning ??= 'remote_read: the remote answer was read before it arrived';
      return false;
    }
    this.i++;
    const s = this.series[this.i];
    if (s === undefined) return false;
    this.cur = { labels: s.labels, iterator: () => new ReadSeriesIterator(s) };
    return true;
  }

  at(): Series {
    return this.cur!;
  }

  err(): Error | null {
    return null;
  }

  warnings(): readonly string[] {
    return this.warning === null ? [] : [this.warning];
  }
}

/**
 * One remote series' floats and histograms in time order; at a timestamp
 * both have, the float wins (Prometheus's concreteSeriesIterator). A
 * histogram of an unknown schema or an invalid one ends iteration with an
 * error; finer exponential schemas are reduced to 8 first.
 */
export class ReadSeriesIterator implements SampleIterator {
  private fi = -1;
  private hi = -1;
  private cur = ValueType.None;
  private h: Histogram | null = null;
  private fh: FloatHistogram | null = null;
  private error: Error | null = null;

  constructor(private readonly s: ReadSeries) {}

  next(): ValueType {
    if (this.error !== null) return ValueType.None;
    const s = this.s;
    const ft = this.fi + 1 < s.timestamps.length ? s.timestamps[this.fi + 1]! : Infinity;
    const ht = this.hi + 1 < s.histograms.length ? s.histograms[this.hi + 1]!.t : Infinity;
    if (ft === Infinity && ht === Infinity) {
      this.fi = s.timestamps.length;
      this.hi = s.histograms.length;
      this.cur = ValueType.None;
      return this.cur;
    }
    if (ft <= ht) {
      this.fi++;
      // The histogram at the same time is passed over.
      if (ft === ht) this.hi++;
      this.cur = ValueType.Float;
      return this.cur;
    }
    this.hi++;
    return this.loadHistogram();
  }

  seek(t: number): ValueType {
    if (this.error !== null) return ValueType.None;
    if (this.cur !== ValueType.None && this.t() >= t) return this.cur;
    const s = this.s;
    let f = Math.max(this.fi, 0);
    while (f < s.timestamps.length && s.timestamps[f]! < t) f++;
    let h = Math.max(this.hi, 0);
    while (h < s.histograms.length && s.histograms[h]!.t < t) h++;
    // Step back one on each side so that next() picks the earlier of the two.
    this.fi = f - 1;
    this.hi = h - 1;
    return this.next();
  }

  private loadHistogram(): ValueType {
    const x = this.s.histograms[this.hi]!;
    try {
      if (x.h !== null) {
        const schema = x.h.schema;
        if (!isKnownSchema(schema)) throw unknownSchemaError(schema);
        const h = capSchema(x.h, EXPONENTIAL_SCHEMA_MAX);
        h.validate();
        this.h = h;
        this.fh = null;
        this.cur = ValueType.Histogram;
      } else {
        const schema = x.fh!.schema;
        if (!isKnownSchema(schema)) throw unknownSchemaError(schema);
        const fh = capSchema(x.fh!, EXPONENTIAL_SCHEMA_MAX);
        fh.validate();
        this.h = null;
        this.fh = fh;
        this.cur = ValueType.FloatHistogram;
      }
    } catch (e) {
      this.error = e instanceof Error ? e : new Error(String(e));
      this.cur = ValueType.None;
    }
    return this.cur;
  }

  t(): number {
    return this.cur === ValueType.Float ? this.s.timestamps[this.fi]! : this.s.histograms[this.hi]!.t;
  }

  v(): number {
    return this.s.values[this.fi]!;
  }

  atHistogram(): Histogram {
    if (this.h === null) throw new Error('BUG: atHistogram() on a sample that is no integer histogram');
    return this.h;
  }

  atFloatHistogram(): FloatHistogram {
    if (this.cur === ValueType.Histogram) return this.h!.toFloat();
    if (this.fh === null) throw new Error('BUG: atFloatHistogram() on a sample that is no histogram');
    return this.fh;
  }

  err(): Error | null {
    return this.error;
  }
}
