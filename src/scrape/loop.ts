// One target's scrape loop: fetch on a fixed schedule, parse, relabel, append through
// the storage Appender, write staleness markers and the synthetic series.
//
// A scrape is all or nothing: when fetching or parsing fails, or a limit is hit,
// everything appended from that scrape is rolled back. The failed scrape then counts
// as an empty one (the previous scrape's series get staleness markers) and up=0 and
// the other synthetic series are still written.
//
// Large Prometheus-text and OpenMetrics bodies (gzip ones included) of targets scraped before are
// inflated and parsed on worker threads (parse_batch.ts, parse_worker.ts); the loop
// replays the batch through the same code, so the result is the same as parsing here.
import type { ScrapeConfig } from '../config/types.js';
import type { ScrapeFailure } from '../querylog/scrape_failure_log.js';
import type { Logger } from '../logging/types.js';
import { formatGoDurationNs } from '../gofmt/duration.js';
import { compareStrings } from '../gofmt/order.js';
import { CounterResetHint, FloatHistogram, Histogram, HistogramError, capSchema, limitBuckets, schemaForBucketFactor, EXPONENTIAL_SCHEMA_MAX } from '../model/histogram.js';
import { NhcbConversionError } from '../model/histogram_nhcb.js';
import { Labels, METRIC_NAME } from '../model/labels.js';
import { STALE_NAN, isStaleNaN } from '../model/value.js';
import { LabelMap, processBuilder } from '../relabel/relabel.js';
import {
  DuplicateSampleError,
  HeadSeriesLimitError,
  OutOfBoundsError,
  OutOfOrderExemplarError,
  OutOfOrderSampleError,
  StorageError,
  type Appendable,
  type Appender,
  type SeriesRef,
} from '../storage/interface.js';
import { BodySizeLimitError, gunzipBody, gunzipError, HttpRequestError, inflatedLimit, type HttpClient } from '../httpclient/httpclient.js';
import type { ScrapeMetrics } from './metrics.js';
import { NhcbParser, type HistogramParser } from './nhcb_parser.js';
import type { MetadataSource, MetricMetadata, Target } from './target.js';
import { Entry, type Exemplar as ParsedExemplar, type MetricType, type SymbolTable, type TextParser } from '../model/textparse/interface.js';
import { acceptHeader, ContentTypeError, MEDIA_TYPE_OPENMETRICS, MEDIA_TYPE_PROMTEXT, negotiateMediaType, parserForMediaType, protocolMediaType } from '../model/textparse/media_type.js';
import { PoolFullError, type WorkerPool } from '../workers/pool.js';
import { BatchParser, PROM_TEXT, type ParseJob, type ParseReply, type PreviousBody, type SharedBodies, type TextFormat } from './parse_batch.js';

/** Exposition text compresses about 8-20x with gzip: a compressed body this much smaller than minBytes is as much work. */
const GZIP_RATIO = 8;

/** Samples more than this far in the future are rejected as out of bounds (Prometheus's maxAheadTime). */
const MAX_AHEAD_MS = 10 * 60 * 1000;

/**
 * How close to its slot a scrape must start for its timestamp to be snapped to the
 * slot. Exactly regular timestamps compress best in the TSDB; Node timers on a busy
 * event loop fire a few ms late, so this is wider than Prometheus's 2ms (and capped at
 * 1% of the interval as Prometheus caps it).
 */
const TIMESTAMP_TOLERANCE_MS = 25;

/** Samples processed between yields to the event loop, so one huge scrape does not stall queries. */
const YIELD_EVERY_SAMPLES = 1 << 16;

/** Metadata of a family that stopped appearing is kept for this many scrapes (as Prometheus does). */
const METADATA_KEEP_SCRAPES = 10;

/** A scrape that failed after the response arrived (parse error, limit); the message is the target's lastError. */
class ScrapeError extends Error {
  override name = 'ScrapeError';
}

/** An entry found by the hash of a series' raw bytes, verified against the bytes themselves. */
interface Keyed {
  readonly key: string;
  readonly hash: number;
  /** True for series dropped by metric relabeling. */
  readonly dropped: boolean;
  /** Next entry with the same hash. */
  next: Keyed | null;
}

/**
 * A map from raw series text to entries, keyed by the parser's allocation-free hash
 * (with a byte comparison on every hit), so known series cost no string per sample.
 */
export class SeriesMap<E extends Keyed> {
  private readonly m = new Map<number, E>();
  private n = 0;

  get size(): number {
    return this.n;
  }

  /** The entry for the parser's current series. */
  find(p: TextParser, hash: number): E | undefined {
    let e: Keyed | null | undefined = this.m.get(hash);
    while (e !== undefined && e !== null) {
      if (p.seriesIs(e.key)) return e as E;
      e = e.next;
    }
    return undefined;
  }

  add(e: E): void {
    e.next = this.m.get(e.hash) ?? null;
    this.m.set(e.hash, e);
    this.n++;
  }

  remove(e: E): void {
    let head: Keyed | null = this.m.get(e.hash) ?? null;
    let prev: Keyed | null = null;
    for (let cur = head; cur !== null; prev = cur, cur = cur.next) {
      if (cur !== e) continue;
      if (prev === null) head = cur.next;
      else prev.next = cur.next;
      this.n--;
      break;
    }
    if (head === null) this.m.delete(e.hash);
    else this.m.set(e.hash, head as E);
  }

  /** Removes every entry for which drop() is true. */
  removeWhere(drop: (e: E) => boolean): void {
    for (const [h, first] of this.m) {
      let head: Keyed | null = null;
      let tail: Keyed | null = null;
      for (let cur: Keyed | null = first; cur !== null; ) {
        const nx: Keyed | null = cur.next;
        if (drop(cur as E)) this.n--;
        else {
          cur.next = null;
          if (tail === null) head = cur;
          else tail.next = cur;
          tail = cur;
        }
        cur = nx;
      }
      if (head === null) this.m.delete(h);
      else if (head !== first) this.m.set(h, head as E);
    }
  }

  clear(): void {
    this.m.clear();
    this.n = 0;
  }
}

interface DroppedEntry extends Keyed {
  lastIter: number;
}

interface CacheEntry extends Keyed {
  ref: SeriesRef;
  readonly labels: Labels;
  /** Scrape iteration that last saw this series. */
  lastIter: number;
  /** Iteration in which it was tracked for staleness (-1 when not). */
  trackedIter: number;
}

interface MetaEntry {
  type: MetricType;
  help: string;
  unit: string;
  lastIter: number;
}

/**
 * What a loop remembers between scrapes: label sets by raw series text (so known
 * series skip parsing labels and relabeling), series dropped by metric relabeling,
 * the series seen last time (for staleness) and metric metadata. Bounded: after each
 * successful scrape only what that scrape saw is kept, and failing scrapes that keep
 * adding series force a flush once the cache doubles.
 */
class ScrapeCache implements MetadataSource {
  iter = 0;
  readonly series = new SeriesMap<CacheEntry>();
  readonly dropped = new SeriesMap<DroppedEntry>();
  cur: CacheEntry[] = [];
  prev: CacheEntry[] = [];
  readonly metadata = new Map<string, MetaEntry>();
  /** Entries created during the current scrape, removed again if it is rolled back. */
  readonly created: CacheEntry[] = [];
  /**
   * The entry of each series line of the last successful scrape, in order, and of the
   * current one. Exporters print their series in the same order every time, so the entry
   * at the same position is tried first: one comparison instead of hashing and a lookup.
   */
  seq: (Keyed | null)[] = [];
  nextSeq: (Keyed | null)[] = [];
  /**
   * The body `seq` was built from, when that scrape was parsed on a worker: the next job
   * compares its series with it position by position, so a known series costs the main
   * thread no byte comparison. `pendingBody` is the current scrape's, adopted if it succeeds.
   */
  seqBody: PreviousBody | null = null;
  pendingBody: PreviousBody | null = null;
  /** Where bodies no longer needed go (the offload's buffer reuse). */
  freeBody: (b: SharedArrayBuffer) => void = () => {};
  private successfulCount = 0;
  /**
   * Distinct series and dropped entries seen by the current scrape. When a successful
   * scrape saw every entry, flushing has nothing to remove and skips the walk over the maps.
   */
  seenSeries = 0;
  seenDropped = 0;
  /** Entries of `prev` tracked again by the current scrape: when all are, no series went stale. */
  prevTracked = 0;

  track(ce: CacheEntry): void {
    if (ce.trackedIter === this.iter) return;
    // Exactly the entries of `prev` carry the previous iteration's number (a rollback resets them to -1).
    if (ce.trackedIter === this.iter - 1) this.prevTracked++;
    ce.trackedIter = this.iter;
    this.cur.push(ce);
  }

  /** Marks a series entry seen by the current scrape; returns false when this scrape saw it already. */
  see(ce: CacheEntry): boolean {
    if (ce.lastIter === this.iter) return false;
    ce.lastIter = this.iter;
    this.seenSeries++;
    return true;
  }

  seeDropped(d: DroppedEntry): void {
    if (d.lastIter === this.iter) return;
    d.lastIter = this.iter;
    this.seenDropped++;
  }

  /** Forgets every series and dropped entry (their label sets are built anew). */
  clearSeries(): void {
    this.series.clear();
    this.dropped.clear();
    this.seq.length = 0;
    this.setSeqBody(null);
    this.seenSeries = 0;
    this.seenDropped = 0;
  }

  /** Forgets what a rolled-back scrape added, so the failed scrape counts as empty. */
  rollback(): void {
    for (const ce of this.cur) ce.trackedIter = -1;
    this.cur.length = 0;
    this.prevTracked = 0;
    for (const e of this.created) this.series.remove(e);
    this.created.length = 0;
    this.nextSeq.length = 0;
  }

  /** Ends a scrape iteration; flush removes what this iteration did not see. */
  iterDone(flush: boolean, metrics: ScrapeMetrics): void {
    const count = this.series.size + this.dropped.size + this.metadata.size;
    // A successful scrape's counts are exact; a forced flush follows a rollback, which they do not follow.
    const counted = flush;
    if (flush) this.successfulCount = count;
    else if (count > this.successfulCount * 2 + 1000) {
      flush = true;
      metrics.cacheFlushForced.inc();
    }
    if (flush) {
      const iter = this.iter;
      if (!counted || this.seenSeries !== this.series.size) this.series.removeWhere((e) => e.lastIter !== iter);
      if (!counted || this.seenDropped !== this.dropped.size) this.dropped.removeWhere((e) => e.lastIter !== iter);
      // Only a successful scrape's order is worth remembering; it holds only entries it saw, so none were just removed.
      const s = this.seq;
      this.seq = this.nextSeq;
      s.length = 0;
      this.nextSeq = s;
      // After a forced flush seq is empty (the rollback emptied nextSeq): no body matches it.
      this.setSeqBody(counted ? this.pendingBody : null);
      if (!counted && this.pendingBody !== null) this.freeBody(this.pendingBody.body);
      for (const [k, m] of this.metadata) if (iter - m.lastIter > METADATA_KEEP_SCRAPES) this.metadata.delete(k);
    } else {
      this.nextSeq.length = 0;
      if (this.pendingBody !== null) this.freeBody(this.pendingBody.body);
    }
    this.pendingBody = null;
    const p = this.prev;
    this.prev = this.cur;
    p.length = 0;
    this.cur = p;
    this.created.length = 0;
    this.seenSeries = 0;
    this.seenDropped = 0;
    this.prevTracked = 0;
    this.iter++;
  }

  private setSeqBody(b: PreviousBody | null): void {
    if (this.seqBody !== null && this.seqBody !== b) this.freeBody(this.seqBody.body);
    this.seqBody = b;
  }

  setMeta(name: string, iter: number, f: (m: MetaEntry) => void): void {
    let m = this.metadata.get(name);
    if (m === undefined) {
      m = { type: 'unknown', help: '', unit: '', lastIter: iter };
      this.metadata.set(name, m);
    }
    m.lastIter = iter;
    f(m);
  }

  listMetadata(): MetricMetadata[] {
    const out: MetricMetadata[] = [];
    for (const [metricFamily, m] of this.metadata) out.push({ metricFamily, type: m.type, help: m.help, unit: m.unit });
    return out;
  }

  getMetadata(family: string): MetricMetadata | undefined {
    const m = this.metadata.get(family);
    return m === undefined ? undefined : { metricFamily: family, type: m.type, help: m.help, unit: m.unit };
  }
}

export interface ScrapeLoopDeps {
  readonly appendable: Appendable;
  readonly metrics: ScrapeMetrics;
  readonly symbols: SymbolTable;
  readonly logger: Logger;
  readonly onScrapeFailure?: (rec: ScrapeFailure) => void;
  readonly offsetSeed: number;
  readonly userAgent: string;
  /**
   * --enable-feature=created-timestamp-zero-ingestion: a sample with a created
   * (start) timestamp gets a zero sample at that time first, and OpenMetrics
   * `_created` series are read as start timestamps, not samples.
   */
  readonly createdTimestampZeroIngestion?: boolean;
  /** Parses bodies of at least minBytes on the pool's worker threads (Prometheus text format); absent: all inline. */
  readonly parseOffload?: ParseOffload;
}

export interface ParseOffload {
  readonly pool: WorkerPool<ParseJob, ParseReply>;
  /** Bodies of at least this many bytes are parsed on a worker; gzip bodies of at least minBytes / GZIP_RATIO. */
  readonly minBytes: number;
  readonly bodies: SharedBodies;
}

interface Counts {
  total: number;
  added: number;
  seriesAdded: number;
}

const REPORT_NAMES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added'] as const;

export class ScrapeLoop {
  readonly cache = new ScrapeCache();
  private cfg: ScrapeConfig;
  private client: HttpClient;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private forcedError: string | null = null;
  private aligned = -1;
  private lastStart = -1;
  private running: Promise<void> | null = null;
  private accept: string;
  private fallbackMediaType: string;
  /** Labels and refs of the synthetic series, built once per target. */
  private readonly reportLabels: Labels[];
  private readonly reportRefs: SeriesRef[] = [0, 0, 0, 0, 0];
  private lastScrapeTs = -1;
  private readonly log: Logger;

  constructor(
    readonly target: Target,
    cfg: ScrapeConfig,
    client: HttpClient,
    private readonly deps: ScrapeLoopDeps,
  ) {
    this.cfg = cfg;
    this.client = client;
    this.accept = acceptHeader(cfg.scrapeProtocols);
    this.fallbackMediaType = protocolMediaType(cfg.fallbackScrapeProtocol);
    this.reportLabels = REPORT_NAMES.map((n) => target.labelsPublic().builder().set(METRIC_NAME, n).labels());
    this.log = deps.logger.with({ scrape_pool: target.scrapePool, target: target.url });
    target.setMetadataSource(this.cache);
    const bodies = deps.parseOffload?.bodies;
    if (bodies !== undefined) this.cache.freeBody = (b) => bodies.give(b);
  }

  start(): void {
    const off = this.target.offset(this.target.intervalMs, this.deps.offsetSeed, Date.now());
    this.timer = setTimeout(() => this.tick(), off);
  }

  /**
   * Takes a new config without stopping: the next scrape uses it. When it changes how
   * sample labels are built, the label cache starts over (old series then go stale).
   */
  updateConfig(cfg: ScrapeConfig, client: HttpClient): void {
    const labelsChanged =
      cfg.honorLabels !== this.cfg.honorLabels || JSON.stringify(cfg.metricRelabelConfigs) !== JSON.stringify(this.cfg.metricRelabelConfigs);
    this.cfg = cfg;
    this.client = client;
    this.accept = acceptHeader(cfg.scrapeProtocols);
    this.fallbackMediaType = protocolMediaType(cfg.fallbackScrapeProtocol);
    if (labelsChanged) this.cache.clearSeries();
  }

  setForcedError(err: string | null): void {
    this.forcedError = err;
  }

  /**
   * Stops scraping. With staleness, waits as Prometheus does (two intervals plus 10%,
   * in case the target comes back) and then marks all its series stale; `abort` cancels
   * that wait (used at shutdown).
   */
  async stop(staleness: boolean, abort?: AbortSignal): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.running !== null) await this.running;
    this.target.setMetadataSource(null);
    if (!staleness || this.lastScrapeTs < 0) return;
    const interval = this.target.intervalMs;
    const staleTime = this.lastScrapeTs + interval;
    const waitMs = Math.max(0, this.lastScrapeTs + 2 * interval + interval / 10 - Date.now());
    const cancelled = await sleep(waitMs, abort);
    if (cancelled) return;
    const app = this.deps.appendable.appender();
    try {
      this.appendStaleMarkers(app, staleTime);
      for (let i = 0; i < this.reportLabels.length; i++) this.appendReport(app, i, staleTime, STALE_NAN);
      app.commit();
    } catch (e) {
      app.rollback();
      this.log.warn('Stale append failed', { err: errMessage(e) });
    }
  }

  private tick(): void {
    this.timer = null;
    if (this.stopped) return;
    const interval = this.target.intervalMs;
    const now = Date.now();
    if (this.aligned < 0) this.aligned = now;
    while (now - this.aligned >= interval) this.aligned += interval;
    const tolerance = Math.min(interval / 100, TIMESTAMP_TOLERANCE_MS);
    const ts = now - this.aligned <= tolerance ? this.aligned : now;
    if (this.lastStart >= 0) this.deps.metrics.intervalLength.observe({ interval: formatGoDurationNs(interval * 1e6) }, (now - this.lastStart) / 1000);
    this.lastStart = now;
    this.running = this.scrapeAndReport(ts).finally(() => {
      this.running = null;
      if (this.stopped) return;
      // Like a ticker: the next slot after now (slots missed while scraping are skipped).
      const iv = this.target.intervalMs;
      let next = this.aligned + iv;
      const t = Date.now();
      while (next <= t) next += iv;
      this.timer = setTimeout(() => this.tick(), next - t);
    });
  }

  /** One scrape: fetch, append, report. Never throws. */
  async scrapeAndReport(ts: number): Promise<void> {
    const start = performance.now();
    let scrapeErr: string | null = null;
    let body: Buffer | null = null;
    let contentType = '';
    let prepared: BatchParser | null = null;
    if (this.forcedError !== null) scrapeErr = this.forcedError;
    else {
      try {
        const res = await this.client.get(this.target.url, {
          headers: {
            accept: this.accept,
            'user-agent': this.deps.userAgent,
            'x-prometheus-scrape-timeout-seconds': String(this.target.timeoutMs / 1000),
          },
          timeoutMs: this.target.timeoutMs,
          bodySizeLimit: this.cfg.bodySizeLimit,
          acceptGzip: this.cfg.enableCompression,
          // With worker threads, large gzip bodies are inflated there (see inflate()).
          keepGzip: this.deps.parseOffload !== undefined,
        });
        if (res.status !== 200) scrapeErr = `server returned HTTP status ${res.statusLine}`;
        else {
          contentType = String(res.headers['content-type'] ?? '');
          if (res.gzipped === true) {
            const r = await this.inflate(res.body, contentType);
            body = r.body;
            prepared = r.parser;
          } else body = res.body;
        }
      } catch (e) {
        if (e instanceof BodySizeLimitError) this.deps.metrics.exceededBodySizeLimit.inc();
        scrapeErr = errMessage(e);
      }
    }

    const counts: Counts = { total: 0, added: 0, seriesAdded: 0 };
    let app = this.deps.appendable.appender();
    let appErr: string | null = null;
    try {
      if (body !== null && body.length > 0) {
        await this.appendBody(app, body, contentType, ts, counts, prepared);
      } else {
        this.appendEmpty(app, ts);
      }
    } catch (e) {
      appErr = errMessage(e);
      app.rollback();
      this.cache.rollback();
      this.log.debug('Append failed', { err: appErr });
      app = this.deps.appendable.appender();
      try {
        this.appendEmpty(app, ts);
      } catch (e2) {
        app.rollback();
        app = this.deps.appendable.appender();
        this.log.warn('Append failed', { err: errMessage(e2) });
      }
    }
    if (scrapeErr === null) scrapeErr = appErr;
    if (scrapeErr !== null) {
      this.log.debug('Scrape failed', { err: scrapeErr });
      this.deps.onScrapeFailure?.({ file: this.cfg.scrapeFailureLogFile, target: this.target.url, scrapePool: this.target.scrapePool, error: scrapeErr });
    }
    const durationS = (performance.now() - start) / 1000;
    try {
      this.appendReport(app, 0, ts, scrapeErr === null ? 1 : 0);
      this.appendReport(app, 1, ts, durationS);
      this.appendReport(app, 2, ts, counts.total);
      this.appendReport(app, 3, ts, counts.added);
      this.appendReport(app, 4, ts, counts.seriesAdded);
      app.commit();
    } catch (e) {
      app.rollback();
      this.log.warn('Appending scrape report failed', { err: errMessage(e) });
    }
    this.lastScrapeTs = ts;
    this.target.report(ts, durationS, scrapeErr);
    this.deps.metrics.scrapeDuration.observe((performance.now() - start) / 1000);
  }

  /** An empty scrape: the previous scrape's series go stale. */
  private appendEmpty(app: Appender, ts: number): void {
    try {
      this.appendStaleMarkers(app, ts);
    } finally {
      this.cache.iterDone(false, this.deps.metrics);
    }
  }

  /** Stale markers for the series the previous scrape had and the current one has not. */
  private appendStaleMarkers(app: Appender, ts: number): void {
    const iter = this.cache.iter;
    if (this.cache.prevTracked === this.cache.prev.length) return;
    for (const ce of this.cache.prev) {
      if (ce.trackedIter === iter) continue;
      try {
        app.append(ce.ref, ce.labels, ts, STALE_NAN);
      } catch (e) {
        // Expected when the series came back under a new loop in the meantime, or
        // was collected and the head is at its series limit (nothing to mark then).
        if (e instanceof OutOfOrderSampleError || e instanceof DuplicateSampleError || e instanceof OutOfBoundsError || e instanceof HeadSeriesLimitError) continue;
        throw e;
      }
    }
  }

  /** i < REPORT_NAMES.length, the length of reportLabels and reportRefs. */
  private appendReport(app: Appender, i: number, ts: number, v: number): void {
    try {
      this.reportRefs[i] = app.append(this.reportRefs[i]!, this.reportLabels[i]!, ts, v);
    } catch (e) {
      if (e instanceof OutOfOrderSampleError || e instanceof DuplicateSampleError) return;
      // A new target's report series past the head's series limit: dropped (the head counts it), the scrape's samples kept.
      if (e instanceof HeadSeriesLimitError) return;
      throw e;
    }
  }

  private async appendBody(app: Appender, body: Buffer, contentType: string, defTime: number, counts: Counts, prepared: BatchParser | null): Promise<void> {
    const cfg = this.cfg;
    const ctZero = this.deps.createdTimestampZeroIngestion === true;
    // A target's __scrape_native_histograms__ (and friends) label overrides its job's setting, as in Prometheus.
    const tl = this.target.labels;
    const nativeOn = boolLabel(tl, '__scrape_native_histograms__', cfg.scrapeNativeHistograms);
    const keepClassic = boolLabel(tl, '__always_scrape_classic_histograms__', cfg.alwaysScrapeClassicHistograms);
    const toNhcb = boolLabel(tl, '__convert_classic_histograms_to_nhcb__', cfg.convertClassicHistogramsToNhcb);
    let parser: TextParser | null = null;
    try {
      const { mediaType, warning } = negotiateMediaType(contentType, this.fallbackMediaType);
      if (warning !== null) this.log.debug(warning);
      const format = this.textFormat(mediaType);
      if (format !== null) parser = prepared ?? (await this.parseOffThread(body, format));
      parser ??= parserForMediaType(
        mediaType,
        body,
        { symbols: this.deps.symbols, skipCreatedSeries: ctZero },
        { ignoreNativeHistograms: !nativeOn, parseClassicHistograms: keepClassic },
      );
    } catch (e) {
      if (e instanceof ContentTypeError) throw new ScrapeError(e.message);
      throw e;
    }
    // With the NHCB wrapper the series order differs from what seq records, so its body
    // cannot serve as the next comparison; it is not freed for reuse either, since the
    // replay may still read it (an inflated body is the replay's only copy).
    if (parser instanceof BatchParser && !toNhcb) this.cache.pendingBody = parser.body;
    if (toNhcb) parser = new NhcbParser(parser, keepClassic);
    const maxSchema = schemaForBucketFactor(cfg.nativeHistogramMinBucketFactor);
    const bucketLimit = cfg.nativeHistogramBucketLimit;
    const cache = this.cache;
    const iter = cache.iter;
    // The worker compared this body with the one seq was built from: same[j] stands for seriesIs(seq[j].key).
    const replay = parser instanceof BatchParser && cache.seqBody !== null && parser.comparedWith === cache.seqBody ? parser : null;
    const honorTs = cfg.honorTimestamps;
    const trackTsStaleness = cfg.trackTimestampsStaleness;
    const sampleLimit = cfg.sampleLimit;
    const hasMetricRelabel = cfg.metricRelabelConfigs.length > 0;
    const maxT = Date.now() + MAX_AHEAD_MS;
    const metrics = this.deps.metrics;
    let appended = 0;
    let sampleLimitHit = false;
    let nOOO = 0;
    let nDup = 0;
    let nOOB = 0;
    let nSeriesLimit = 0;
    let nExemplarOOO = 0;
    let bucketLimitHit = false;
    let nHistInvalid = 0;
    let firstHistInvalid = '';
    let nHistUnsupported = 0;
    let sinceYield = 0;
    // Exemplars are read only for storages that keep them.
    const withExemplars = app.appendExemplar !== undefined;

    for (let e = parser.next(); e !== Entry.EOF; e = parser.next()) {
      if (e !== Entry.Series && e !== Entry.Histogram) {
        if (e === Entry.Type) {
          const t = parser.metricType();
          cache.setMeta(parser.metaName(), iter, (m) => (m.type = t));
        } else if (e === Entry.Help) {
          const h = parser.helpText();
          cache.setMeta(parser.metaName(), iter, (m) => (m.help = h));
        } else if (e === Entry.Unit) {
          const u = parser.unitText();
          cache.setMeta(parser.metaName(), iter, (m) => (m.unit = u));
        }
        continue;
      }
      counts.total++;
      if (++sinceYield >= YIELD_EVERY_SAMPLES) {
        sinceYield = 0;
        await yieldToEventLoop();
      }
      const pts = honorTs ? parser.timestamp() : null;
      const t = pts ?? defTime;
      const nextSeq = cache.nextSeq;
      const guess = cache.seq[nextSeq.length];
      let ce: CacheEntry | undefined;
      let hash = -1;
      if (guess !== undefined && guess !== null && (replay !== null ? replay.sameAsPrevious() : parser.seriesIs(guess.key))) {
        if (guess.dropped) {
          cache.seeDropped(guess as DroppedEntry);
          nextSeq.push(guess);
          continue;
        }
        ce = guess as CacheEntry;
      } else {
        hash = parser.seriesHash();
        if (cache.dropped.size > 0) {
          const d = cache.dropped.find(parser, hash);
          if (d !== undefined) {
            cache.seeDropped(d);
            nextSeq.push(d);
            continue;
          }
        }
        ce = cache.series.find(parser, hash);
      }
      nextSeq.push(ce ?? null);
      let labels: Labels;
      let alreadyScraped = false;
      if (ce !== undefined) {
        alreadyScraped = !cache.see(ce);
        labels = ce.labels;
      } else {
        if (sampleLimitHit && !hasMetricRelabel) {
          // The scrape fails anyway; only the post-relabeling count is still needed, and without rules it is every sample.
          counts.added++;
          continue;
        }
        const mutated = this.mutateSampleLabels(parser.labels(), cfg);
        if (mutated === null) {
          const d: DroppedEntry = { key: parser.seriesKey(), hash, dropped: true, next: null, lastIter: -1 };
          cache.seeDropped(d);
          cache.dropped.add(d);
          nextSeq[nextSeq.length - 1] = d;
          continue;
        }
        if (!mutated.has(METRIC_NAME)) throw new ScrapeError('missing metric name (__name__ label)');
        const limitErr = this.checkLabelLimits(mutated, cfg);
        if (limitErr !== null) {
          metrics.poolExceededLabelLimits.inc();
          throw new ScrapeError(limitErr);
        }
        labels = mutated;
      }
      const isHist = e === Entry.Histogram;
      const v = isHist ? 0 : parser.value();
      counts.added++;
      let hv: Histogram | FloatHistogram | null = null;
      if (isHist) {
        // Prometheus's appender order: schema cap, then the bucket limit, then the sample limit.
        try {
          hv = (parser as HistogramParser).histogram();
          if (maxSchema < EXPONENTIAL_SCHEMA_MAX) hv = hv instanceof Histogram ? capSchema(hv, maxSchema) : capSchema(hv, maxSchema);
          if (bucketLimit > 0) hv = hv instanceof Histogram ? limitBuckets(hv, bucketLimit) : limitBuckets(hv, bucketLimit);
        } catch (err) {
          if (err instanceof HistogramError && err.kind === 'bucket_limit') {
            bucketLimitHit = true;
            continue;
          }
          // Unlike Prometheus (which fails the scrape), only this sample is rejected.
          if (err instanceof HistogramError || err instanceof NhcbConversionError) {
            if (nHistInvalid++ === 0) firstHistInvalid = err.message;
            continue;
          }
          throw err;
        }
      }
      if (sampleLimit > 0 && (isHist || ce === undefined || ce.ref === 0 || !isStaleNaN(v)) && ++appended > sampleLimit) {
        sampleLimitHit = true;
        continue;
      }
      if (alreadyScraped && pts === null) {
        nDup++;
        continue;
      }
      if (t > maxT) {
        nOOB++;
        continue;
      }
      if (isHist && app.appendHistogram === undefined) {
        nHistUnsupported++;
        continue;
      }
      if (ctZero) this.appendCreatedZero(app, ce !== undefined ? ce.ref : 0, labels, t, parser.startTimestamp(), hv);
      let ref: SeriesRef;
      try {
        if (hv === null) ref = app.append(ce !== undefined ? ce.ref : 0, labels, t, v);
        else ref = app.appendHistogram!(ce !== undefined ? ce.ref : 0, labels, t, hv instanceof Histogram ? hv : null, hv instanceof FloatHistogram ? hv : null);
      } catch (err) {
        if (err instanceof HistogramError) {
          if (nHistInvalid++ === 0) firstHistInvalid = err.message;
          continue;
        }
        if (err instanceof OutOfOrderSampleError) nOOO++;
        else if (err instanceof DuplicateSampleError) nDup++;
        else if (err instanceof OutOfBoundsError) nOOB++;
        // Not cached: the next scrape tries again, and gets in once the head has room.
        else if (err instanceof HeadSeriesLimitError) nSeriesLimit++;
        else throw err;
        // As Prometheus: the sample's exemplar is still offered (a repeated sample may bring a new one).
        if (withExemplars && !(err instanceof HeadSeriesLimitError)) nExemplarOOO += this.appendExemplars(app, ce?.ref ?? 0, labels, parser, t, isHist);
        continue;
      }
      if (withExemplars) nExemplarOOO += this.appendExemplars(app, ref, labels, parser, t, isHist);
      const track = pts === null || trackTsStaleness;
      if (ce !== undefined) {
        if (ref !== 0) ce.ref = ref;
        if (track) cache.track(ce);
      } else {
        const ne: CacheEntry = { key: parser.seriesKey(), hash, dropped: false, next: null, ref, labels, lastIter: -1, trackedIter: -1 };
        cache.see(ne);
        cache.series.add(ne);
        cache.created.push(ne);
        cache.nextSeq[cache.nextSeq.length - 1] = ne;
        if (track) cache.track(ne);
        if (!sampleLimitHit) counts.seriesAdded++;
      }
    }
    if (nOOO > 0) {
      metrics.sampleOutOfOrder.inc(nOOO);
      this.log.warn('Error on ingesting out-of-order samples', { num_dropped: nOOO });
    }
    if (nDup > 0) {
      metrics.sampleDuplicate.inc(nDup);
      this.log.warn('Error on ingesting samples with different value but same timestamp', { num_dropped: nDup });
    }
    if (nOOB > 0) {
      metrics.sampleOutOfBounds.inc(nOOB);
      this.log.warn('Error on ingesting samples that are too old or are too far into the future', { num_dropped: nOOB });
    }
    if (nSeriesLimit > 0) {
      metrics.sampleHeadSeriesLimit.inc(nSeriesLimit);
      this.log.warn('Error on ingesting samples of new series past the head series limit', { num_dropped: nSeriesLimit });
    }
    if (nExemplarOOO > 0) {
      metrics.exemplarOutOfOrder.inc(nExemplarOOO);
      this.log.warn('Error on ingesting out-of-order exemplars', { num_dropped: nExemplarOOO });
    }
    if (nHistInvalid > 0) {
      metrics.histogramRejected.inc({ reason: 'invalid' }, nHistInvalid);
      this.log.warn('Error on ingesting invalid native histograms', { num_dropped: nHistInvalid, err: firstHistInvalid });
    }
    if (nHistUnsupported > 0) {
      metrics.histogramRejected.inc({ reason: 'unsupported' }, nHistUnsupported);
      this.log.warn('Error on ingesting native histograms: the storage does not support them yet', { num_dropped: nHistUnsupported });
    }
    if (sampleLimitHit) metrics.exceededSampleLimit.inc();
    if (bucketLimitHit) metrics.exceededNativeHistogramBucketLimit.inc();
    // The sample limit's error takes precedence, as in Prometheus.
    if (sampleLimitHit) throw new ScrapeError('sample limit exceeded');
    if (bucketLimitHit) throw new ScrapeError('histogram bucket limit exceeded');
    this.appendStaleMarkers(app, defTime);
    cache.iterDone(true, metrics);
  }

  /**
   * Inflates a gzip body within body_size_limit, with the errors the HTTP client gives.
   * A large text body of a target scraped before is inflated and parsed in one
   * worker job (the inflated bytes stay in shared memory for the replay); others, or when
   * the pool is full or fails, are inflated here.
   */
  private async inflate(gz: Buffer, contentType: string): Promise<{ body: Buffer; parser: BatchParser | null }> {
    const off = this.deps.parseOffload;
    let format: TextFormat | null = null;
    try {
      format = this.textFormat(negotiateMediaType(contentType, this.fallbackMediaType).mediaType);
    } catch {
      // appendBody reports the unusable Content-Type.
    }
    if (off !== undefined && format !== null && this.cache.seq.length > 0 && gz.length * GZIP_RATIO >= off.minBytes) {
      const metrics = this.deps.metrics;
      if (off.pool.full) metrics.parseInline.inc({ reason: 'pool_full' });
      else {
        const sab = off.bodies.take(gz.length);
        new Uint8Array(sab, 0, gz.length).set(gz);
        const prev = this.cache.seqBody;
        try {
          const r = await off.pool.run({ body: sab, length: gz.length, prev, inflate: inflatedLimit(this.cfg.bodySizeLimit), parse: true, format });
          if (r.inflateError !== null) throw gunzipError(r.inflateError.code, r.inflateError.message);
          // Both exist when a parse was asked for and the inflate succeeded.
          const inflated = r.inflated!;
          const batch = r.batch!;
          const body = Buffer.from(inflated.body, 0, inflated.length);
          metrics.parseOffloaded.inc();
          return { body, parser: new BatchParser(body, batch, this.deps.symbols, { body: inflated.body, length: inflated.length, ranges: batch.ranges, count: batch.count }, prev) };
        } catch (e) {
          if (e instanceof HttpRequestError) throw e;
          metrics.parseInline.inc({ reason: e instanceof PoolFullError ? 'pool_full' : 'worker_failed' });
          if (!(e instanceof PoolFullError)) this.log.warn('Inflating on a worker thread failed, inflating inline', { err: errMessage(e) });
        } finally {
          off.bodies.give(sab);
        }
      }
    }
    return { body: gunzipBody(gz, this.cfg.bodySizeLimit), parser: null };
  }

  /**
   * Parses a large text body on a worker thread and returns its replay, or
   * null to parse inline: small bodies (the round trip costs more than it saves), a full
   * pool queue (never wait without bound), a failed worker (inline gives the same result,
   * errors included).
   */
  /** How a worker parses bodies of a media type; null for formats parsed inline (protobuf). */
  private textFormat(mediaType: string): TextFormat | null {
    if (mediaType === MEDIA_TYPE_PROMTEXT) return PROM_TEXT;
    if (mediaType === MEDIA_TYPE_OPENMETRICS) return { openMetrics: true, createdTimestamps: this.deps.createdTimestampZeroIngestion === true };
    return null;
  }

  private async parseOffThread(body: Buffer, format: TextFormat): Promise<TextParser | null> {
    const off = this.deps.parseOffload;
    // A target's first scrape (or one after a failure that emptied the cache) stays inline:
    // every series is new, and the replay would parse each line a second time for its labels.
    if (off === undefined || body.length < off.minBytes || this.cache.seq.length === 0) return null;
    const metrics = this.deps.metrics;
    if (off.pool.full) {
      metrics.parseInline.inc({ reason: 'pool_full' });
      return null;
    }
    const sab = off.bodies.take(body.length);
    new Uint8Array(sab, 0, body.length).set(body);
    const prev = this.cache.seqBody;
    try {
      const r = await off.pool.run({ body: sab, length: body.length, prev, inflate: 0, parse: true, format });
      // A parse job without inflating always has a batch.
      const batch = r.batch!;
      metrics.parseOffloaded.inc();
      // The replay reads the unshared original: element reads from shared memory are slower.
      return new BatchParser(body, batch, this.deps.symbols, { body: sab, length: body.length, ranges: batch.ranges, count: batch.count }, prev);
    } catch (e) {
      off.bodies.give(sab);
      metrics.parseInline.inc({ reason: e instanceof PoolFullError ? 'pool_full' : 'worker_failed' });
      if (!(e instanceof PoolFullError)) this.log.warn('Parsing on a worker thread failed, parsing inline', { err: errMessage(e) });
      return null;
    }
  }

  /**
   * Appends the current sample's exemplars: a float sample's one (without a
   * timestamp it takes the sample's), a native histogram's list (only those
   * with timestamps, oldest first, as Prometheus keeps them). Returns how many
   * the storage refused as out of order, counted only when all were (else it
   * was a partial update of what the storage has); other refusals (labels too
   * long, counted by the storage) are logged at debug level and do not fail
   * the scrape, as in Prometheus.
   */
  private appendExemplars(app: Appender, ref: SeriesRef, labels: Labels, parser: TextParser, t: number, isHist: boolean): number {
    let list: ParsedExemplar[];
    if (isHist) {
      list = (parser as HistogramParser).exemplars();
      if (list.length > 1) list.sort((a, b) => a.timestamp! - b.timestamp! || a.value - b.value);
    } else {
      const pe = parser.exemplar();
      list = pe === null ? [] : [pe];
    }
    let ooo = 0;
    for (const pe of list) {
      try {
        app.appendExemplar!(ref, labels, { labels: pe.labels, value: pe.value, ts: pe.timestamp ?? t, hasTs: pe.timestamp !== null });
      } catch (err) {
        if (err instanceof OutOfOrderExemplarError) ooo++;
        else if (!(err instanceof StorageError)) throw err;
        else this.log.debug('Error while adding exemplar in AddExemplar', { exemplar: pe.labels.toString(), err: err.message });
      }
    }
    return ooo > 0 && ooo === list.length ? ooo : 0;
  }

  /**
   * created-timestamp-zero-ingestion: a zero sample (a counter reset) at the
   * start timestamp, before the sample itself. Refusals are expected (the zero
   * is older than what the series has after its first scrape) and ignored.
   */
  private appendCreatedZero(app: Appender, ref: SeriesRef, labels: Labels, t: number, st: number, hv: Histogram | FloatHistogram | null): void {
    if (st === 0 || st >= t) return;
    try {
      if (hv === null) app.append(ref, labels, st, 0);
      else {
        const zero = { counterResetHint: CounterResetHint.CounterReset, schema: hv.schema, zeroThreshold: hv.zeroThreshold, customValues: hv.customValues };
        if (hv instanceof Histogram) app.appendHistogram!(ref, labels, st, new Histogram(zero), null);
        else app.appendHistogram!(ref, labels, st, null, new FloatHistogram(zero));
      }
    } catch (err) {
      if (!(err instanceof StorageError) && !(err instanceof HistogramError)) throw err;
      this.log.debug('Error when appending created timestamp in scrape loop', { series: labels.toString(), ct: st, t, err: (err as Error).message });
    }
  }

  /** Adds the target's labels (honor_labels decides conflicts) and applies metric_relabel_configs; null = dropped. */
  private mutateSampleLabels(ls: Labels, cfg: ScrapeConfig): Labels | null {
    const targetLabels = this.target.labelsPublic();
    const rules = cfg.metricRelabelConfigs;
    if (targetLabels.isEmpty() && rules.length === 0) return ls;
    if (rules.length === 0) {
      const merged = mergeLabels(ls, targetLabels, cfg.honorLabels);
      if (merged !== null) return merged;
    }
    const lb = new LabelMap(ls);
    if (cfg.honorLabels) {
      targetLabels.forEach((n, v) => {
        if (!ls.has(n)) lb.set(n, v);
      });
    } else {
      const conflicts: [string, string][] = [];
      targetLabels.forEach((n, v) => {
        const exposed = ls.get(n);
        if (exposed !== '') conflicts.push([n, exposed]);
        lb.set(n, v);
      });
      // Shorter names first, so exported_a is taken before exported_exported_a.
      conflicts.sort((a, b) => a[0].length - b[0].length);
      for (const [n, v] of conflicts) {
        let name = n;
        for (;;) {
          name = 'exported_' + name;
          if (lb.get(name) === '') {
            lb.set(name, v);
            break;
          }
        }
      }
    }
    if (rules.length > 0 && !processBuilder(lb, rules)) return null;
    const out = lb.labels();
    return out.isEmpty() ? null : out;
  }

  /** label_limit, label_name_length_limit and label_value_length_limit, in Prometheus's words. */
  private checkLabelLimits(ls: Labels, cfg: ScrapeConfig): string | null {
    const { labelLimit, labelNameLengthLimit, labelValueLengthLimit } = cfg;
    const met = ls.get(METRIC_NAME);
    if (labelLimit > 0 && ls.length > labelLimit) {
      return `label_limit exceeded (metric: ${trunc(met)}, number of labels: ${ls.length}, limit: ${labelLimit})`;
    }
    if (labelNameLengthLimit === 0 && labelValueLengthLimit === 0) return null;
    for (let i = 0; i < ls.length; i++) {
      const n = ls.nameAt(i);
      const v = ls.valueAt(i);
      if (labelNameLengthLimit > 0) {
        const len = byteLength(n);
        if (len > labelNameLengthLimit) {
          return `label_name_length_limit exceeded (metric: ${trunc(met)}, label name: ${trunc(n)}, length: ${len}, limit: ${labelNameLengthLimit})`;
        }
      }
      if (labelValueLengthLimit > 0) {
        const len = byteLength(v);
        if (len > labelValueLengthLimit) {
          return `label_value_length_limit exceeded (metric: ${trunc(met)}, label name: ${trunc(n)}, value: ${JSON.stringify(trunc(v))}, length: ${len}, limit: ${labelValueLengthLimit})`;
        }
      }
    }
    return null;
  }
}

/**
 * Merges two sorted label sets in one pass (the common case of adding target labels).
 * On a shared name the exposed value wins with honor_labels; without it a shared name is
 * a conflict needing exported_ renaming, so null sends the caller to the general path.
 */
function mergeLabels(exposed: Labels, target: Labels, honor: boolean): Labels | null {
  const a = exposed.toPairs();
  const b = target.toPairs();
  const out: string[] = [];
  let i = 0;
  let j = 0;
  // Both hold whole name/value pairs, so i + 1 < a.length and j + 1 < b.length below.
  while (i < a.length && j < b.length) {
    const an = a[i]!;
    const bn = b[j]!;
    const c = compareStrings(an, bn);
    if (c < 0) {
      out.push(an, a[i + 1]!);
      i += 2;
    } else if (c > 0) {
      out.push(bn, b[j + 1]!);
      j += 2;
    } else {
      if (!honor) return null;
      out.push(an, a[i + 1]!);
      i += 2;
      j += 2;
    }
  }
  for (; i < a.length; i += 2) out.push(a[i]!, a[i + 1]!);
  for (; j < b.length; j += 2) out.push(b[j]!, b[j + 1]!);
  return Labels.fromSortedPairs(out);
}

/** A target label read as Go's strconv.ParseBool reads it; `def` when absent or not a boolean. */
function boolLabel(ls: Labels, name: string, def: boolean): boolean {
  const v = ls.get(name);
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return def;
}

/** Go's %.50s: the first 50 characters. */
function trunc(s: string): string {
  if (s.length <= 50) return s;
  return [...s].slice(0, 50).join('');
}

function byteLength(s: string): number {
  // ASCII strings (nearly all) have as many bytes as UTF-16 units; only others need counting.
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Resolves true when aborted before ms elapsed. */
function sleep(ms: number, abort?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (abort?.aborted) {
      resolve(true);
      return;
    }
    const t = setTimeout(() => {
      abort?.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(true);
    };
    abort?.addEventListener('abort', onAbort, { once: true });
  });
}
