// remote: remote write receiving (1.0 and 2.0: protobuf decoding, snappy) and sending
// (write_storage.ts: queues tailing the WAL). May import the rooms below it (gofmt/, workers/,
// model/, logging/, config/, relabel/, storage/, tsdb/wal and tsdb/record, httpclient/);
// web/api mounts the receiver, cli/ runs the sender.
//
// The remote write receiver: snappy-compressed prometheus.WriteRequest (1.0)
// or io.prometheus.write.v2.Request (2.0) in, samples appended, Prometheus's
// status codes, texts and response headers out.
//
// 1.0: a sample the storage rejects (out of order, duplicate, too far in the
// future) rolls the whole request back with a 400 so the sender does not
// retry it, as Prometheus does. A series refused as a whole (invalid or
// duplicate label names, no metric name, the head's series limit, native
// histograms when the storage cannot hold them) is left out, the rest is committed,
// and the answer is a 400 naming each refused series: Prometheus 3.x answers
// 204 to invalid series and drops them without a word, which loses data the
// sender believes stored. 2.0 allows partial writes, as its spec and
// Prometheus do: every refused series or sample adds a line to the 400's text
// and the rest is committed; the X-Prometheus-Remote-Write-*-Written headers
// say how much was written. In both, a body that does not decode is a 400
// before anything is appended, and other storage failures roll everything
// back with a 500 (the sender retries). Nothing answered with 204 is dropped,
// except what Prometheus drops the same way: samples behind an earlier one of
// the same series in the request, and exemplars the storage refuses or does
// not keep (storage off). Refused exemplars never fail a 1.0 request; in 2.0
// an out-of-order one adds a line to the 400, as in Prometheus. Both count
// them by reason.
//
// Native histograms are appended as Prometheus appends them: schemas 9..52
// reduced to 8, then validated; an invalid one is a rejected sample (1.0: a
// 400 for the whole request; 2.0: a line of the 400).
//
// Checks run in the order of Prometheus's handler chain (client_golang's
// remote API): Content-Encoding, snappy, Content-Type, protobuf, samples.
//
// The fast path (same answers): 1.0 bodies of the common shapes are decoded
// compactly (ingest_decode.ts), on decode workers with handleAsync()
// (ingest_pool.ts); series already known are found by their label bytes in
// the series cache (ingest_series_cache.ts) and appended by ref; so are 2.0
// series with float samples only. Everything else takes the full decoders.
import { Counter, Gauge, Registry } from 'prom-client';
import { isUtf8 } from 'node:buffer';
import { EXPONENTIAL_SCHEMA_MAX, FloatHistogram, Histogram, HistogramError, capSchema } from '../model/histogram.js';
import { Labels, METRIC_NAME, isValidLabelName, isValidLegacyLabelName, type Label } from '../model/labels.js';
import {
  DuplicateSampleError,
  ExemplarLabelLengthError,
  HeadSeriesLimitError,
  InvalidSeriesError,
  OutOfBoundsError,
  OutOfOrderExemplarError,
  OutOfOrderSampleError,
  StorageError,
  UnknownSeriesError,
  type Appendable,
  type Appender,
  type Exemplar,
  type SeriesRef,
} from '../storage/interface.js';
import { nopLogger, type Logger } from '../logging/types.js';
import { formatG } from '../gofmt/float.js';
import { compareStrings } from '../gofmt/order.js';
import { goQuote, goQuoteBytes } from '../gofmt/quote.js';
import { PoolFullError } from '../workers/pool.js';
import { snappyDeclaredLength, snappyDecode, SnappyError } from './snappy.js';
import { decodeCompactV1, hashBytes, type CompactV1 } from './ingest_decode.js';
import { IngestArenas, newIngestPool, type IngestPool, type IngestReply } from './ingest_pool.js';
import { SeriesCache } from './ingest_series_cache.js';
import { RefTimes } from './ref_times.js';
import { decodeLabelFields, decodeWriteRequest, ProtobufError, type DecodedExemplar, type DecodedHistogram } from './write_request.js';
import { decodeWriteV2Request, type DecodedV2Request } from './write_request_v2.js';

/** Prometheus rejects samples more than this far ahead of its clock (storage/remote maxAheadTime). */
const MAX_AHEAD_MS = 10 * 60_000;

/**
 * Bound on a decompressed body: Prometheus's receiver refuses more than 32 MiB
 * (senders batch 2,000 samples per request by default, well under 1 MiB).
 */
const DEFAULT_MAX_DECODED_BYTES = 32 * 1024 * 1024;

const PROTO_CONTENT_TYPE = 'application/x-protobuf';
const WRITE_V1_MESSAGE = 'prometheus.WriteRequest';
const WRITE_V2_MESSAGE = 'io.prometheus.write.v2.Request';
/** The message types a Content-Type may name, as Prometheus lists them in errors. */
const KNOWN_MESSAGES = `${WRITE_V1_MESSAGE}, ${WRITE_V2_MESSAGE}`;

/** Response headers of a 2.0 request: how much of it was written. */
const SAMPLES_WRITTEN = 'X-Prometheus-Remote-Write-Samples-Written';
const HISTOGRAMS_WRITTEN = 'X-Prometheus-Remote-Write-Histograms-Written';
const EXEMPLARS_WRITTEN = 'X-Prometheus-Remote-Write-Exemplars-Written';

/** Prometheus's wording for a sample past MAX_AHEAD_MS. */
const TOO_FAR_IN_FUTURE = 'out of bounds: timestamp is too far in the future';

class TooFarInFutureError extends OutOfBoundsError {
  constructor() {
    super();
    this.message = TOO_FAR_IN_FUTURE;
  }
}

/**
 * Bound on the text of a partly refused 2.0 request's answer; lines past it
 * are counted instead. Prometheus writes one line per refused item without a
 * limit. A sender's batch (2,000 samples by default) of refused samples of
 * series with 30 labels makes about 2 MiB; a hostile 32 MiB body could
 * otherwise build hundreds of megabytes of text.
 */
const MAX_ERROR_BYTES = 4 * 1024 * 1024;

/**
 * Labels shown in one error line. Prometheus shows them all; a hostile body
 * can send a series with millions of labels, and no real series has a
 * thousand.
 */
const MAX_TEXT_LABELS = 1_000;

/** Errors that reject a sample with a 400 (no retry); any other storage error is a 500. */
function isRejection(e: unknown): e is OutOfOrderSampleError | OutOfBoundsError | DuplicateSampleError {
  return e instanceof OutOfOrderSampleError || e instanceof OutOfBoundsError || e instanceof DuplicateSampleError;
}

/** Storage errors that refuse a whole series (the head's limit, labels it cannot store): the series is left out. */
function isSeriesRefusal(e: unknown): e is HeadSeriesLimitError | InvalidSeriesError {
  return e instanceof HeadSeriesLimitError || e instanceof InvalidSeriesError;
}

/** The line for a series refused because it carries native histograms and the storage cannot hold them. */
function histogramsRefused(n: number, series: string): string {
  return `native histograms are not supported by this storage: ${n} histogram samples refused for series ${series}`;
}

/** A received histogram as it is appended: finer schemas reduced to 8, validated. Throws HistogramError. */
function prepareHistogram(d: DecodedHistogram): { h: Histogram | null; fh: FloatHistogram | null } {
  if (d.h !== null) {
    const h = capSchema(d.h, EXPONENTIAL_SCHEMA_MAX);
    h.validate();
    return { h, fh: null };
  }
  const fh = capSchema(d.fh!, EXPONENTIAL_SCHEMA_MAX);
  fh.validate();
  return { h: null, fh };
}

/** The lines of a partly refused request's 400, bounded by MAX_ERROR_BYTES (the rest are counted). */
class ErrorLines {
  readonly lines: string[] = [];
  private bytes = 0;
  private omitted = 0;
  add(line: string): void {
    this.bytes += line.length + 1;
    if (this.bytes <= MAX_ERROR_BYTES) this.lines.push(line);
    else this.omitted++;
  }
  get empty(): boolean {
    return this.lines.length === 0;
  }
  text(): string {
    return this.omitted > 0 ? `${this.lines.join('\n')}\n${this.omitted} more errors omitted` : this.lines.join('\n');
  }
}

/** A rejected sample's text as Prometheus's storage words it; a duplicate names its timestamp and both values (fmt's %g). */
function sampleErrorText(e: Error): string {
  if (e instanceof DuplicateSampleError && e.details !== undefined && e.details.timestamp !== 0) {
    const d = e.details;
    return `duplicate sample for timestamp ${d.timestamp}; overrides not allowed: existing ${formatG(d.existing)}, new value ${formatG(d.newValue)}`;
  }
  return e.message;
}

/**
 * Bodies smaller than this are decoded on the main thread even with workers:
 * posting one to a worker and back costs about as much as decoding it.
 */
const INLINE_MAX_BYTES = 4 * 1024;

/**
 * Series the series cache holds by default: the 1M-series heads this server
 * is sized for, at ~190 bytes each (label bytes as sent plus the entry).
 */
const DEFAULT_CACHE_ENTRIES = 1 << 20;
/** Label bytes the series cache holds at most: a bound against senders with huge label sets. */
const DEFAULT_CACHE_BYTES = 256 * 1024 * 1024;

/**
 * Arenas (ingest_pool.ts) per decode worker: the two jobs a worker holds and
 * two more waiting or being written; requests past them allocate their buffers.
 */
const ARENAS_PER_WORKER = 4;

/** Seconds a sender is asked to wait when the decode queue is full. */
const RETRY_AFTER_SECONDS = 1;

export interface RemoteWriteOptions {
  storage: Appendable;
  /**
   * Worker threads that decompress and decode bodies (0 or absent: the main
   * thread does, and handleAsync() is handle()). close() stops them.
   */
  decodeWorkers?: number;
  /** Bodies waiting for a decode worker beyond which requests get a 503 (default 16 per worker). */
  decodeQueue?: number;
  /** Bound of the series cache (entries; default 1Mi). */
  seriesCacheEntries?: number;
  logger?: Logger;
  registry?: Registry;
  maxDecodedBytes?: number;
  /**
   * Protobuf messages accepted (--web.remote-write-receiver.accepted-protobuf-messages);
   * default both, as Prometheus.
   */
  acceptedMessages?: readonly string[];
  /** Clock in ms; tests pin it. */
  now?: () => number;
}

export interface RemoteWriteResponse {
  status: number;
  /** Plain-text body ('' for 204). */
  body: string;
  /** Response headers: Go's http.Error ones for errors, the written counts for 2.0. */
  headers: Record<string, string>;
}

/** What a 2.0 request wrote, for the response headers. */
interface WriteStats {
  samples: number;
  histograms: number;
  exemplars: number;
}

const NO_STATS: Readonly<WriteStats> = Object.freeze({ samples: 0, histograms: 0, exemplars: 0 });

interface Outcome {
  status: number;
  body: string;
  /** Set for 2.0 requests that reached the storage step. */
  stats?: Readonly<WriteStats>;
}

export class RemoteWriteHandler {
  private readonly storage: Appendable;
  private readonly logger: Logger;
  private readonly maxDecodedBytes: number;
  private readonly accepted: readonly string[];
  private readonly now: () => number;
  private readonly invalidLabels: Counter;
  private readonly samplesIn: Counter;
  private readonly requestsRejected: Counter<'code'>;
  private readonly histogramsDropped: Counter;
  private readonly histogramsIn: Counter;
  private readonly histogramsInvalid: Counter;
  private readonly exemplarsIn: Counter;
  private readonly exemplarsRejected: Counter<'reason'>;
  private readonly cache: SeriesCache;
  private readonly pool: IngestPool | null;
  private readonly arenas: IngestArenas;
  /** False once the storage's appender proved to lack appendByRef: then the compact decode is skipped. */
  private byRef = true;
  /** writeV1Compact's newest timestamp per series ref in the request (requests are written one at a time). */
  private readonly newestByRef = new RefTimes();
  /** Scratch for a 2.0 series' cache key (v2Key); grows to the largest label set seen. */
  private keyBuf = Buffer.allocUnsafeSlow(1024);

  constructor(opts: RemoteWriteOptions) {
    this.cache = new SeriesCache({ maxEntries: opts.seriesCacheEntries ?? DEFAULT_CACHE_ENTRIES, maxBytes: DEFAULT_CACHE_BYTES });
    const workers = opts.decodeWorkers ?? 0;
    this.pool = workers > 0 ? newIngestPool(workers, opts.decodeQueue) : null;
    this.arenas = new IngestArenas(workers * ARENAS_PER_WORKER);
    this.storage = opts.storage;
    this.logger = opts.logger ?? nopLogger;
    this.maxDecodedBytes = opts.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES;
    this.accepted = opts.acceptedMessages ?? [WRITE_V1_MESSAGE, WRITE_V2_MESSAGE];
    this.now = opts.now ?? Date.now;
    const registers = [opts.registry ?? new Registry()];
    this.invalidLabels = new Counter({
      name: 'prometheus_api_remote_write_invalid_labels_samples_total',
      help: 'The total number of received remote write samples and histogram samples which were rejected due to invalid labels.',
      registers,
    });
    this.samplesIn = new Counter({
      name: 'tsprom_remote_write_received_samples_total',
      help: 'Samples appended to local storage from remote write requests.',
      registers,
    });
    this.histogramsDropped = new Counter({
      name: 'tsprom_remote_write_histograms_dropped_total',
      help: 'Native histogram samples received by remote write and refused with a 400 naming their series: the storage cannot hold them (an agent, a store without histogram support).',
      registers,
    });
    this.histogramsIn = new Counter({
      name: 'tsprom_remote_write_received_histograms_total',
      help: 'Native histogram samples appended to local storage from remote write requests.',
      registers,
    });
    this.histogramsInvalid = new Counter({
      name: 'tsprom_remote_write_histograms_invalid_total',
      help: 'Native histogram samples received by remote write and refused as invalid (negative or inconsistent counts, spans not matching buckets, bad schema).',
      registers,
    });
    this.exemplarsIn = new Counter({
      name: 'tsprom_remote_write_received_exemplars_total',
      help: 'Exemplars appended to local storage from remote write requests.',
      registers,
    });
    this.exemplarsRejected = new Counter({
      name: 'tsprom_remote_write_exemplars_rejected_total',
      help: 'Exemplars received by remote write and not stored, by reason (out_of_order, label_length, too_far_in_future, invalid_labels, unknown_series).',
      labelNames: ['reason'],
      registers,
    });
    this.requestsRejected = new Counter({
      name: 'tsprom_remote_write_requests_rejected_total',
      help: 'Remote write requests answered with an error, by HTTP status code.',
      labelNames: ['code'],
      registers,
    });
    const cache = this.cache;
    new Gauge({
      name: 'tsprom_remote_write_series_cache_entries',
      help: 'Series in the remote write receiver\'s cache of label bytes to series refs.',
      registers,
      collect() {
        this.set(cache.size);
      },
    });
    new Gauge({
      name: 'tsprom_remote_write_series_cache_bytes',
      help: 'Bytes of label pages held by the remote write receiver\'s series cache.',
      registers,
      collect() {
        this.set(cache.bytes);
      },
    });
    const arenas = this.arenas;
    new Gauge({
      name: 'tsprom_remote_write_decode_arena_bytes',
      help: 'Bytes of shared memory the remote write receiver holds for bodies being decoded (reused between requests).',
      registers,
      collect() {
        this.set(arenas.bytes);
      },
    });
    const pool = this.pool;
    if (pool !== null) {
      new Gauge({
        name: 'tsprom_remote_write_decode_queue_length',
        help: 'Remote write bodies waiting for a decode worker.',
        registers,
        collect() {
          this.set(pool.queued);
        },
      });
    }
  }

  /** Stops the decode workers once the bodies they hold are decoded. */
  async close(): Promise<void> {
    await this.pool?.close();
  }

  /**
   * handle() with the body decompressed and decoded on a worker thread when
   * the handler has workers and the body is a 1.0 request worth moving. A
   * full decode queue answers 503 with Retry-After. The samples are appended
   * and committed on the calling thread, so the answer still comes after the
   * WAL write.
   */
  async handleAsync(headers: Readonly<Record<string, string | string[] | undefined>>, body: Buffer): Promise<RemoteWriteResponse> {
    const pool = this.pool;
    // A store without appendByRef (the agent's) needs the full decode, which runs on this thread.
    if (pool === null || !this.byRef || body.length < INLINE_MAX_BYTES || !this.isAcceptedV1(headers)) return this.handle(headers, body);
    // The body goes in an arena when one is free; else a copy of its own moves to the worker: cheaper than
    // cloning, and the body may share its memory with other buffers.
    const arena = this.arenas.take(body, snappyDeclaredLength(body));
    try {
      return await this.decodeAndWrite(pool, arena ?? new Uint8Array(body), arena === null);
    } finally {
      // Nothing read from the arena outlives the request's synchronous writing.
      if (arena !== null) this.arenas.give(arena);
    }
  }

  /** handleAsync() past its checks: `job` is an arena's view or a copy to move to the worker. */
  private async decodeAndWrite(pool: IngestPool, job: Uint8Array, move: boolean): Promise<RemoteWriteResponse> {
    let reply: IngestReply;
    try {
      reply = await pool.run({ body: job, maxDecodedBytes: this.maxDecodedBytes }, move ? [job.buffer as ArrayBuffer] : []);
    } catch (e) {
      if (e instanceof PoolFullError) {
        const res = this.finish({ status: 503, body: 'remote write receiver busy: too many requests waiting to be decoded; retry later' });
        res.headers['Retry-After'] = String(RETRY_AFTER_SECONDS);
        return res;
      }
      // A worker died or failed on this body: a 500, which the sender retries.
      this.logger.error('Error decoding remote write request on a worker', { err: String(e) });
      return this.finish({ status: 500, body: e instanceof Error ? e.message : String(e) });
    }
    switch (reply.kind) {
      case 'snappy_error':
        return this.finish({ status: 400, body: reply.message });
      case 'raw':
        return this.finish(this.writeV1(asBuffer(reply.raw)));
      case 'compact':
        return this.finish(this.writeV1Compact(reply.c));
    }
  }

  /**
   * Writes a 2.0 series' cache key into keyBuf and returns its length: 0xff
   * (no 1.0 label run starts so, so the two protocols' keys never meet), then
   * each label's name and value as sent, length-prefixed. The refs were checked.
   */
  private v2Key(req: DecodedV2Request, start: number, end: number): number {
    let need = 1;
    for (let i = start; i < end; i++) need += 5 + req.symEnd[req.refs[i]!]! - req.symStart[req.refs[i]!]!;
    if (need > this.keyBuf.length) this.keyBuf = Buffer.allocUnsafeSlow(Math.max(need, 2 * this.keyBuf.length));
    const k = this.keyBuf;
    const src = req.buf;
    k[0] = 0xff;
    let p = 1;
    // checkRefs bounded [start, end) within refs and every id below the symbol count.
    for (let i = start; i < end; i++) {
      const sym = req.refs[i]!;
      const a = req.symStart[sym]!;
      const n = req.symEnd[sym]! - a;
      let len = n;
      while (len >= 0x80) {
        k[p++] = (len & 0x7f) | 0x80;
        len >>>= 7;
      }
      k[p++] = len;
      if (n < 32) for (let j = 0; j < n; j++) k[p + j] = src[a + j]!;
      else src.copy(k, p, a, a + n);
      p += n;
    }
    return p;
  }

  /** Whether the headers pass handle()'s checks for a snappy 1.0 request (the rest goes to handle(), which words refusals). */
  private isAcceptedV1(headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
    const enc = header(headers, 'content-encoding') ?? '';
    if (enc !== '' && enc !== 'snappy') return false;
    const contentType = header(headers, 'content-type') ?? '';
    const msgType = protoMessage(contentType === '' ? PROTO_CONTENT_TYPE : contentType);
    return msgType.message === WRITE_V1_MESSAGE && this.accepted.includes(WRITE_V1_MESSAGE);
  }

  /** Handles one request's headers and raw (compressed) body. */
  handle(headers: Readonly<Record<string, string | string[] | undefined>>, body: Buffer): RemoteWriteResponse {
    return this.finish(this.process(headers, body));
  }

  /** The response to an outcome: status, text and headers as Prometheus writes them; counts and logs refusals. */
  private finish(res: Outcome): RemoteWriteResponse {
    const out: Record<string, string> = {};
    if (res.stats !== undefined) {
      out[SAMPLES_WRITTEN] = String(res.stats.samples);
      out[HISTOGRAMS_WRITTEN] = String(res.stats.histograms);
      out[EXEMPLARS_WRITTEN] = String(res.stats.exemplars);
    }
    if (res.status === 204) return { status: 204, body: '', headers: out };
    this.requestsRejected.inc({ code: String(res.status) });
    // A partly refused 2.0 request has one line per refused item: log the first and how many.
    const nl = res.body.indexOf('\n');
    const err = nl < 0 ? res.body : res.body.slice(0, nl);
    this.logger.warn('Error handling remote write request', { status: res.status, err, errors: nl < 0 ? 1 : res.body.split('\n').length });
    // As Go's http.Error writes an error.
    out['Content-Type'] = 'text/plain; charset=utf-8';
    out['X-Content-Type-Options'] = 'nosniff';
    return { status: res.status, body: `${res.body}\n`, headers: out };
  }

  /**
   * Throws what the storage says about (ls, t, v) judged against committed
   * data alone, as Prometheus's appender judges a sample that an earlier one
   * of the same request already passes: a throwaway appender, rolled back.
   */
  private checkCommitted(ls: Labels, t: number, v: number): void {
    const probe: Appender = this.storage.appender();
    try {
      probe.append(0, ls, t, v);
    } finally {
      probe.rollback();
    }
  }

  /** checkCommitted for a histogram. */
  private checkCommittedHistogram(ls: Labels, t: number, h: Histogram | null, fh: FloatHistogram | null): void {
    const probe: Appender = this.storage.appender();
    try {
      probe.appendHistogram!(0, ls, t, h, fh);
    } finally {
      probe.rollback();
    }
  }

  /**
   * Appends one exemplar: true when the storage keeps it, false when it took
   * it without keeping it (exemplar storage off, a repeat of the newest), or
   * the storage's refusal, counted by reason. Other errors are thrown.
   */
  private appendExemplar(app: Appender, ref: SeriesRef, ls: Labels, e: Exemplar): boolean | StorageError {
    if (app.appendExemplar === undefined) return false;
    try {
      return app.appendExemplar(ref, ls, e) !== 0;
    } catch (err) {
      if (!(err instanceof StorageError)) throw err;
      const reason =
        err instanceof OutOfOrderExemplarError
          ? 'out_of_order'
          : err instanceof ExemplarLabelLengthError
            ? 'label_length'
            : err instanceof UnknownSeriesError
              ? 'unknown_series'
              : 'invalid_labels';
      this.exemplarsRejected.inc({ reason });
      return err;
    }
  }

  /** A 1.0 exemplar: stored or not, it never fails the request (Prometheus logs refusals at debug level). */
  private appendV1Exemplar(app: Appender, ref: SeriesRef, ls: Labels, de: DecodedExemplar, maxT: number): boolean {
    if (!de.utf8) {
      this.exemplarsRejected.inc({ reason: 'invalid_labels' });
      this.logger.debug('Error while adding exemplar in AppendExemplar', { series: ls.toString(), err: 'invalid UTF-8 in exemplar labels' });
      return false;
    }
    if (de.t > maxT) {
      this.exemplarsRejected.inc({ reason: 'too_far_in_future' });
      this.logger.debug('Error while adding exemplar in AppendExemplar', { series: ls.toString(), err: TOO_FAR_IN_FUTURE });
      return false;
    }
    const pairs = de.labels;
    const list: Label[] = [];
    // pairs holds name, value pairs (even length).
    for (let i = 0; i < pairs.length; i += 2) list.push({ name: pairs[i]!, value: pairs[i + 1]! });
    const res = this.appendExemplar(app, ref, ls, { labels: Labels.fromList(list), value: de.value, ts: de.t, hasTs: de.t !== 0 });
    if (typeof res === 'boolean') return res;
    this.logger.debug('Error while adding exemplar in AppendExemplar', { series: ls.toString(), err: res.message });
    return false;
  }

  private process(headers: Readonly<Record<string, string | string[] | undefined>>, body: Buffer): Outcome {
    const enc = header(headers, 'content-encoding') ?? '';
    if (enc !== '' && enc !== 'snappy') {
      return { status: 415, body: `${enc} encoding (compression) is not accepted by this server; only snappy is acceptable` };
    }
    let raw: Buffer;
    try {
      raw = snappyDecode(body, this.maxDecodedBytes);
    } catch (e) {
      if (e instanceof SnappyError) return { status: 400, body: e.message };
      throw e;
    }
    const contentType = header(headers, 'content-type') ?? '';
    const msgType = protoMessage(contentType === '' ? PROTO_CONTENT_TYPE : contentType);
    if (msgType.error !== undefined) return { status: 415, body: msgType.error };
    if (!this.accepted.includes(msgType.message)) {
      return { status: 415, body: `${msgType.message} protobuf message is not accepted by this server; only accepts ${this.accepted.join(', ')}` };
    }
    if (msgType.message === WRITE_V2_MESSAGE) return this.writeV2(raw);
    const c = this.byRef ? decodeCompactV1(raw) : null;
    return c !== null ? this.writeV1Compact(c) : this.writeV1(raw);
  }

  /**
   * writeV1 for a compactly decoded request (float samples only): a series
   * the cache knows is appended by ref without building its labels; an
   * unknown one is decoded, checked and appended as writeV1 does, and its ref
   * cached. Statuses, texts and metrics are writeV1's.
   */
  private writeV1Compact(c: CompactV1): Outcome {
    const buf = asBuffer(c.buf);
    const app = this.storage.appender();
    if (app.appendByRef === undefined) {
      // A store that needs labels for every sample: the cache cannot help.
      this.byRef = false;
      app.rollback();
      return this.writeV1(buf);
    }
    const maxT = this.now() + MAX_AHEAD_MS;
    const errs = new ErrorLines();
    const cache = this.cache;
    let appended = 0;
    let invalid = 0;
    /** Newest timestamp appended per series ref in this request (see writeV1's `newest`). */
    const newest = this.newestByRef;
    newest.clear();
    const { ts, vs, sampleStart, lblStart, lblEnd, hash } = c;
    try {
      // Every per-series array has at least c.series entries (sampleStart one more), and sample ranges lie within ts and vs.
      for (let i = 0; i < c.series; i++) {
        const ls0 = lblStart[i]!;
        const ls1 = lblEnd[i]!;
        const h = hash[i]!;
        let ref = cache.get(buf, ls0, ls1, h);
        let ls: Labels | null = null;
        let pairs: string[] | null = null;
        if (ref === 0) {
          const d = decodeLabelFields(buf, ls0, ls1);
          const problem = v1Problem(d.labels, d.utf8);
          if (problem !== null) {
            invalid++;
            errs.add(problem);
            continue;
          }
          pairs = d.labels;
          ls = v1Labels(pairs);
        }
        let last = ref !== 0 ? newest.get(ref) : undefined;
        const s1 = sampleStart[i + 1]!;
        for (let j = sampleStart[i]!; j < s1; j++) {
          const t = ts[j]!;
          const v = vs[j]!;
          if (t > maxT) throw new TooFarInFutureError();
          if (last !== undefined && t <= last) {
            ls ??= v1Labels(decodeLabelFields(buf, ls0, ls1).labels);
            this.checkCommitted(ls, t, v);
            continue;
          }
          if (ls === null) {
            const r = app.appendByRef(ref, t, v);
            if (r !== 0) {
              last = t;
              appended++;
              continue;
            }
            // The cached series is gone (collected by head truncation): append by labels from here on.
            pairs = decodeLabelFields(buf, ls0, ls1).labels;
            ls = v1Labels(pairs);
            ref = 0;
          }
          try {
            ref = app.append(ref, ls, t, v);
          } catch (e) {
            if (isSeriesRefusal(e)) {
              // Its first sample was refused, so none of it was appended.
              errs.add(`${e.message} for series ${v1Text(pairs ?? decodeLabelFields(buf, ls0, ls1).labels)}`);
              ref = 0;
              break;
            }
            // A rejection the committed data does not make comes from an earlier sample of this series
            // in this request (sent under other label bytes): dropped, as writeV1 drops it.
            if (!isRejection(e)) throw e;
            this.checkCommitted(ls, t, v);
            continue;
          }
          last = t;
          appended++;
        }
        if (ref !== 0) {
          if (last !== undefined) newest.set(ref, last);
          if (pairs !== null) cache.set(buf, ls0, ls1, h, ref);
        }
      }
    } catch (e) {
      app.rollback();
      if (isRejection(e)) return { status: 400, body: sampleErrorText(e) };
      this.logger.error('Error while remote writing the v1 request', { err: String(e) });
      return { status: 500, body: e instanceof Error ? e.message : String(e) };
    }
    try {
      app.commit();
    } catch (e) {
      this.logger.error('Error committing remote write request', { err: String(e) });
      return { status: 500, body: e instanceof Error ? e.message : String(e) };
    }
    if (invalid > 0) this.invalidLabels.inc(invalid);
    this.samplesIn.inc(appended);
    if (!errs.empty) return { status: 400, body: errs.text() };
    return { status: 204, body: '' };
  }

  private writeV1(raw: Buffer): Outcome {
    let decoded;
    try {
      decoded = decodeWriteRequest(raw);
    } catch (e) {
      if (e instanceof ProtobufError) return { status: 400, body: e.message };
      throw e;
    }

    const maxT = this.now() + MAX_AHEAD_MS;
    const app = this.storage.appender();
    const errs = new ErrorLines();
    let appended = 0;
    let exemplars = 0;
    let invalid = 0;
    let histograms = 0;
    let appendedHist = 0;
    /**
     * Newest timestamp appended per series in this request. Prometheus checks
     * each sample against committed data only and silently drops, at commit,
     * the ones that fall behind an earlier sample of the same request; our
     * storage refuses those at once, so they are checked and dropped here.
     */
    const newest = new Map<string, number>();
    try {
      for (const s of decoded.series) {
        const problem = v1Problem(s.labels, s.utf8);
        if (problem !== null) {
          // Prometheus's 1.0 handler counts one per invalid series, whatever its sample count.
          invalid++;
          errs.add(problem);
          continue;
        }
        const ls = v1Labels(s.labels);
        const nHist = s.hEnd - s.hStart;
        if (nHist > 0 && app.appendHistogram === undefined) {
          histograms += nHist;
          errs.add(histogramsRefused(nHist, v1Text(s.labels)));
        }
        const key = ls.key();
        let last = newest.get(key);
        let ref = 0;
        // [s.start, s.end) lies within the decoded sample arrays.
        for (let i = s.start; i < s.end; i++) {
          const t = decoded.timestamps[i]!;
          const v = decoded.values[i]!;
          if (t > maxT) throw new TooFarInFutureError();
          if (last !== undefined && t <= last) {
            this.checkCommitted(ls, t, v);
            continue;
          }
          try {
            ref = app.append(ref, ls, t, v);
          } catch (e) {
            if (!isSeriesRefusal(e)) throw e;
            // Its first sample was refused, so none of it was appended.
            errs.add(`${e.message} for series ${v1Text(s.labels)}`);
            break;
          }
          last = t;
          appended++;
        }
        if (nHist > 0 && app.appendHistogram !== undefined) {
          // [hStart, hEnd) lies within the decoded histograms.
          for (let i = s.hStart; i < s.hEnd; i++) {
            const d = decoded.histograms[i]!;
            if (d.t > maxT) throw new TooFarInFutureError();
            const { h, fh } = prepareHistogram(d);
            if (last !== undefined && d.t <= last) {
              this.checkCommittedHistogram(ls, d.t, h, fh);
              continue;
            }
            try {
              ref = app.appendHistogram(ref, ls, d.t, h, fh);
            } catch (e) {
              if (!isSeriesRefusal(e)) throw e;
              errs.add(`${e.message} for series ${v1Text(s.labels)}`);
              break;
            }
            last = d.t;
            appendedHist++;
          }
        }
        if (last !== undefined) newest.set(key, last);
        for (let i = s.exStart; i < s.exEnd; i++) {
          // [exStart, exEnd) lies within the decoded exemplars.
          if (this.appendV1Exemplar(app, ref, ls, decoded.exemplars[i]!, maxT)) exemplars++;
        }
      }
    } catch (e) {
      app.rollback();
      // 1.0 answers with the storage's own text, without the series (Prometheus logs that).
      if (isRejection(e)) return { status: 400, body: sampleErrorText(e) };
      if (e instanceof HistogramError) {
        this.histogramsInvalid.inc();
        return { status: 400, body: e.message };
      }
      this.logger.error('Error while remote writing the v1 request', { err: String(e) });
      return { status: 500, body: e instanceof Error ? e.message : String(e) };
    }
    try {
      app.commit();
    } catch (e) {
      this.logger.error('Error committing remote write request', { err: String(e) });
      return { status: 500, body: e instanceof Error ? e.message : String(e) };
    }
    if (invalid > 0) this.invalidLabels.inc(invalid);
    this.samplesIn.inc(appended);
    if (appendedHist > 0) this.histogramsIn.inc(appendedHist);
    if (exemplars > 0) this.exemplarsIn.inc(exemplars);
    if (histograms > 0) this.histogramsDropped.inc(histograms);
    // The rest is committed; the 400 tells the sender not to retry and names what was left out.
    if (!errs.empty) return { status: 400, body: errs.text() };
    return { status: 204, body: '' };
  }

  private writeV2(raw: Buffer): Outcome {
    const stats: WriteStats = { samples: 0, histograms: 0, exemplars: 0 };
    let req: DecodedV2Request;
    try {
      req = decodeWriteV2Request(raw);
    } catch (e) {
      if (e instanceof ProtobufError) return { status: 400, body: e.message, stats: NO_STATS };
      throw e;
    }
    const maxT = this.now() + MAX_AHEAD_MS;
    const syms = new SymbolTable(req);
    const app = this.storage.appender();
    /** One line per refused series, sample or exemplar, joined into the 400's text. */
    const errs = new ErrorLines();
    const refuse = (line: string): void => errs.add(line);
    let invalid = 0;
    let dropped = 0;
    let futureExemplars = 0;
    let stored = 0;
    let invalidHist = 0;
    // As for 1.0: samples behind an earlier one of the same series in this request are dropped, not refused.
    const newest = new Map<string, number>();
    /** The same for series appended by ref (the series cache's hits), by ref. */
    const newestByRef = new Map<number, number>();
    const byRef = app.appendByRef !== undefined;
    for (const s of req.series) {
      const samples = s.end - s.start;
      const histograms = s.hEnd - s.hStart;
      const refsErr = checkRefs(req.refs, s.refStart, s.refEnd, req.symbolCount);
      if (refsErr !== null) {
        refuse(`parsing labels for series ${goUintSlice(req.refs, s.refStart, s.refEnd)}: ${refsErr}`);
        invalid += samples + histograms;
        continue;
      }
      // Unit first, as Prometheus checks them.
      const metaErr =
        s.unitRef >= req.symbolCount
          ? `metadata unit_ref ${s.unitRef} outside of symbols table (size ${req.symbolCount})`
          : s.helpRef >= req.symbolCount
            ? `metadata help_ref ${s.helpRef} outside of symbols table (size ${req.symbolCount})`
            : null;
      if (metaErr !== null) {
        refuse(`parsing metadata for series ${goUintSlice(req.refs, s.refStart, s.refEnd)}: ${metaErr}`);
        continue;
      }
      // A series the cache knows, with float samples only, is appended by ref; its labels are built only for an error's text.
      let from = s.start;
      let carried: number | undefined;
      let keyLen = -1;
      let keyHash = 0;
      let hitRef = 0;
      if (byRef && samples > 0 && histograms === 0 && s.exEnd === s.exStart) {
        keyLen = this.v2Key(req, s.refStart, s.refEnd);
        keyHash = hashBytes(this.keyBuf, 0, keyLen);
        hitRef = this.cache.get(this.keyBuf, 0, keyLen, keyHash);
      }
      if (hitRef !== 0) {
        let known: SeriesLabels | null = null;
        const knownLabels = (): SeriesLabels => (known ??= new SeriesLabels(syms, req.refs, s.refStart, s.refEnd));
        let last = newestByRef.get(hitRef);
        let i = s.start;
        for (; i < s.end; i++) {
          const t = req.timestamps[i]!;
          const v = req.values[i]!;
          try {
            if (t > maxT) throw new TooFarInFutureError();
            if (last !== undefined && t <= last) {
              this.checkCommitted(knownLabels().labels(), t, v);
            } else {
              // 0: the series was collected since it was cached; the labels' way below takes the rest.
              if (app.appendByRef!(hitRef, t, v) === 0) break;
              last = t;
            }
            stats.samples++;
          } catch (e) {
            if (!isRejection(e)) {
              app.rollback();
              this.logger.error('Error while remote writing the v2 request', { err: String(e) });
              return { status: 500, body: e instanceof Error ? e.message : String(e), stats: NO_STATS };
            }
            refuse(`${sampleErrorText(e)} for series ${knownLabels().text()}`);
          }
        }
        if (last !== undefined) newestByRef.set(hitRef, last);
        if (i === s.end) continue;
        from = i;
        carried = last;
      }
      const lbls = new SeriesLabels(syms, req.refs, s.refStart, s.refEnd);
      const bad = lbls.problem();
      if (bad !== null) {
        refuse(bad);
        invalid += samples + histograms;
        continue;
      }
      if (samples === 0 && histograms === 0) {
        refuse(`TimeSeries must contain at least one sample or histogram for series ${lbls.text()}`);
        continue;
      }
      const ls = lbls.labels();
      const key = ls.key();
      let last = newest.get(key);
      let ref = 0;
      if (carried !== undefined && (last === undefined || carried > last)) last = carried;
      // Here and in the two loops below, [start, end) lies within the decoded arrays.
      for (let i = from; i < s.end; i++) {
        const t = req.timestamps[i]!;
        const v = req.values[i]!;
        try {
          if (t > maxT) throw new TooFarInFutureError();
          if (last !== undefined && t <= last) {
            this.checkCommitted(ls, t, v);
          } else {
            ref = app.append(ref, ls, t, v);
            last = t;
          }
          stats.samples++;
        } catch (e) {
          if (isSeriesRefusal(e)) {
            // The series does not exist and will not be made: one line for all its samples.
            refuse(`${e.message} for series ${lbls.text()}`);
            break;
          }
          if (!isRejection(e)) {
            // Retryable: nothing of the request may stay, since the storage is not idempotent.
            app.rollback();
            this.logger.error('Error while remote writing the v2 request', { err: String(e) });
            return { status: 500, body: e instanceof Error ? e.message : String(e), stats: NO_STATS };
          }
          refuse(`${sampleErrorText(e)} for series ${lbls.text()}`);
        }
      }
      if (last !== undefined) newest.set(key, last);
      if (ref !== 0) {
        if (last !== undefined) newestByRef.set(ref, last);
        if (keyLen >= 0) this.cache.set(this.keyBuf, 0, keyLen, keyHash, ref);
      }
      let unstored = 0;
      for (let i = s.hStart; i < s.hEnd; i++) {
        const d = req.histograms[i]!;
        if (d.t > maxT) {
          refuse(`${TOO_FAR_IN_FUTURE} for series ${lbls.text()}`);
          continue;
        }
        if (app.appendHistogram === undefined) {
          unstored++;
          continue;
        }
        try {
          const { h, fh } = prepareHistogram(d);
          if (last !== undefined && d.t <= last) {
            this.checkCommittedHistogram(ls, d.t, h, fh);
          } else {
            ref = app.appendHistogram(ref, ls, d.t, h, fh);
            last = d.t;
          }
          stats.histograms++;
        } catch (e) {
          if (e instanceof HistogramError) {
            invalidHist++;
            refuse(`${e.message} for series ${lbls.text()}`);
            continue;
          }
          if (isSeriesRefusal(e)) {
            refuse(`${e.message} for series ${lbls.text()}`);
            break;
          }
          if (!isRejection(e)) {
            app.rollback();
            this.logger.error('Error while remote writing the v2 request', { err: String(e) });
            return { status: 500, body: e instanceof Error ? e.message : String(e), stats: NO_STATS };
          }
          refuse(`${sampleErrorText(e)} for series ${lbls.text()}`);
        }
      }
      if (last !== undefined) newest.set(key, last);
      if (unstored > 0) {
        dropped += unstored;
        refuse(histogramsRefused(unstored, lbls.text()));
      }
      for (let i = s.exStart; i < s.exEnd; i++) {
        const exErr = checkRefs(req.exRefs, req.exRefStart[i]!, req.exRefEnd[i]!, req.symbolCount);
        if (exErr !== null) {
          refuse(`parsing exemplar for series ${lbls.text()}: ${exErr}`);
        } else if (req.exTs[i]! > maxT) {
          // Prometheus drops these with a log line and no error for the sender.
          futureExemplars++;
          this.exemplarsRejected.inc({ reason: 'too_far_in_future' });
        } else {
          const t = req.exTs[i]!;
          const e: Exemplar = { labels: exemplarLabels(syms, req.exRefs, req.exRefStart[i]!, req.exRefEnd[i]!), value: req.exValues[i]!, ts: t, hasTs: t !== 0 };
          const res = this.appendExemplar(app, ref, ls, e);
          if (typeof res === 'boolean') {
            // Written also when not kept (storage off, a repeat), as Prometheus counts them.
            stats.exemplars++;
            if (res) stored++;
          } else if (res instanceof OutOfOrderExemplarError) {
            refuse(`${res.message} for series ${lbls.text()}`);
          } else {
            this.logger.error('failed to ingest exemplar, emitting error log, but no error for PRW caller', { err: res.message, series: lbls.text() });
          }
        }
      }
    }
    if (futureExemplars > 0) this.logger.debug('Dropped remote write exemplars too far in the future', { num_dropped: futureExemplars });
    try {
      // Partial writes: what was accepted is committed even when some of the request was refused.
      app.commit();
    } catch (e) {
      this.logger.error('Error committing remote write request', { err: String(e) });
      return { status: 500, body: e instanceof Error ? e.message : String(e), stats: NO_STATS };
    }
    if (invalid > 0) this.invalidLabels.inc(invalid);
    this.samplesIn.inc(stats.samples);
    if (stats.histograms > 0) this.histogramsIn.inc(stats.histograms);
    if (invalidHist > 0) this.histogramsInvalid.inc(invalidHist);
    if (stored > 0) this.exemplarsIn.inc(stored);
    if (dropped > 0) this.histogramsDropped.inc(dropped);
    if (!errs.empty) return { status: 400, body: errs.text(), stats };
    return { status: 204, body: '', stats };
  }
}

/** A Buffer over a typed array's bytes (no copy). */
function asBuffer(a: Uint8Array): Buffer {
  return Buffer.isBuffer(a) ? a : Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function header(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The protobuf message a Content-Type names, read as client_golang's
 * ParseProtoMsg reads it (no trimming inside; no `proto` parameter means 1.0).
 */
function protoMessage(header: string): { message: string; error?: undefined } | { message?: undefined; error: string } {
  const contentType = header.trim();
  const parts = contentType.split(';');
  if (parts[0] !== PROTO_CONTENT_TYPE) {
    return { error: `expected ${PROTO_CONTENT_TYPE} as the first (media) part, got ${contentType} content-type` };
  }
  for (const p of parts.slice(1)) {
    const pair = p.split('=');
    if (pair.length !== 2) {
      return { error: `as per https://www.rfc-editor.org/rfc/rfc9110#parameter expected parameters to be key-values, got ${p} in ${contentType} content-type` };
    }
    if (pair[0] === 'proto') {
      const msg = pair[1]!;
      if (msg !== WRITE_V1_MESSAGE && msg !== WRITE_V2_MESSAGE) {
        return { error: `got ${contentType} content type; unknown type for remote write protobuf message ${msg}, supported: ${KNOWN_MESSAGES}` };
      }
      return { message: msg };
    }
  }
  return { message: WRITE_V1_MESSAGE };
}

/** A 1.0 series' label pairs in name order (stable for equal names), as Prometheus sorts them before checking. */
function v1Order(pairs: readonly string[]): number[] {
  const order: number[] = [];
  for (let i = 0; i < pairs.length; i += 2) order.push(i);
  // Indices are even and below pairs.length.
  return order.sort((a, b) => compareStrings(pairs[a]!, pairs[b]!) || a - b);
}

/** Prometheus's labels.String() of a 1.0 series as sent (empty values and duplicates included), for error texts. */
function v1Text(pairs: readonly string[]): string {
  const order = v1Order(pairs);
  const shown = Math.min(order.length, MAX_TEXT_LABELS);
  const parts: string[] = [];
  // order holds even indices below pairs.length.
  for (let k = 0; k < shown; k++) {
    const i = order[k]!;
    const name = pairs[i]!;
    parts.push(`${isValidLegacyLabelName(name) ? name : goQuote(name)}=${goQuote(pairs[i + 1]!)}`);
  }
  if (order.length > shown) parts.push(`... (${order.length - shown} more labels)`);
  return `{${parts.join(', ')}}`;
}

/**
 * Why Prometheus's checks refuse a 1.0 series (no metric name, an empty or
 * invalid name, invalid UTF-8, duplicate names), in its 2.0 handler's words;
 * null when the series is fine.
 */
function v1Problem(pairs: readonly string[], utf8: boolean): string | null {
  let hasName = false;
  let valid = utf8;
  // pairs holds name, value pairs (even length): i + 1 is in range.
  for (let i = 0; i < pairs.length; i += 2) {
    const name = pairs[i]!;
    if (!isValidLabelName(name)) valid = false;
    if (name === METRIC_NAME) {
      hasName = true;
      if (pairs[i + 1] === '') valid = false;
    }
  }
  if (!hasName || !valid) return `invalid metric name or labels, got ${v1Text(pairs)}`;
  if (v1Ascending(pairs)) return null;
  const order = v1Order(pairs);
  for (let k = 1; k < order.length; k++) {
    const name = pairs[order[k]!]!;
    if (name === pairs[order[k - 1]!]!) return `invalid labels for series, labels ${v1Text(pairs)}, duplicated label ${name}`;
  }
  return null;
}

/** Whether the label names are strictly ascending, as senders write them: then no name repeats and the order is Labels' own. */
function v1Ascending(pairs: readonly string[]): boolean {
  // i - 2 >= 0 and i < pairs.length.
  for (let i = 2; i < pairs.length; i += 2) if (compareStrings(pairs[i - 2]!, pairs[i]!) >= 0) return false;
  return true;
}

/** The label set to store of a series v1Problem passed (empty values dropped, as the storage drops them). */
function v1Labels(pairs: readonly string[]): Labels {
  if (v1Ascending(pairs)) {
    let empty = false;
    // pairs has an even length: i + 1 is in range.
    for (let i = 1; i < pairs.length; i += 2) if (pairs[i] === '') empty = true;
    // What fromList would build from a sorted list without repeats or empty values.
    if (!empty) return Labels.fromSortedPairs(pairs);
  }
  const list: Label[] = [];
  for (let i = 0; i < pairs.length; i += 2) list.push({ name: pairs[i]!, value: pairs[i + 1]! });
  return Labels.fromList(list);
}

/** An exemplar's labels from its (checked) references; empty values dropped, a later duplicate name wins. */
function exemplarLabels(syms: SymbolTable, refs: Uint32Array, start: number, end: number): Labels {
  const list: Label[] = [];
  // checkRefs bounded [start, end) within refs with even length, and every id below the symbol count.
  for (let i = start; i < end; i += 2) list.push({ name: syms.string(refs[i]!), value: syms.string(refs[i + 1]!) });
  return Labels.fromList(list);
}

/** References shown in one error line; beyond it, as MAX_TEXT_LABELS, only hostile bodies go. */
const MAX_TEXT_REFS = 2 * MAX_TEXT_LABELS;

/** Go's %v of a []uint32: `[1 2 3]`. */
function goUintSlice(a: Uint32Array, start: number, end: number): string {
  const shown = Math.min(end - start, MAX_TEXT_REFS);
  const more = end - start - shown;
  return `[${Array.from(a.subarray(start, start + shown)).join(' ')}${more > 0 ? ` ... (${more} more)` : ''}]`;
}

/** Why label references do not resolve (writev2's desymbolizeLabels), or null. */
function checkRefs(refs: Uint32Array, start: number, end: number, symbols: number): string | null {
  if ((end - start) % 2 !== 0) return `invalid labelRefs length ${end - start}`;
  // [start, end) lies within refs and has even length: i + 1 < end.
  for (let i = start; i < end; i += 2) {
    const n = refs[i]!;
    const v = refs[i + 1]!;
    if (n >= symbols || v >= symbols) return `labelRefs ${n} (name) = ${v} (value) outside of symbols table (size ${symbols})`;
  }
  return null;
}

/**
 * A 2.0 request's symbols, decoded to strings once each and only when a series
 * uses them. Callers pass only ids below symbolCount (checkRefs and the metadata
 * check run first), so the symStart/symEnd reads are in range.
 */
class SymbolTable {
  private readonly strings: Array<string | undefined>;
  private readonly utf8: Array<boolean | undefined>;
  constructor(readonly req: DecodedV2Request) {
    this.strings = new Array<string | undefined>(req.symbolCount);
    this.utf8 = new Array<boolean | undefined>(req.symbolCount);
  }
  bytes(i: number): Buffer {
    return this.req.buf.subarray(this.req.symStart[i]!, this.req.symEnd[i]!);
  }
  string(i: number): string {
    let s = this.strings[i];
    if (s === undefined) {
      s = this.bytes(i).toString('utf8');
      this.strings[i] = s;
    }
    return s;
  }
  validUtf8(i: number): boolean {
    let ok = this.utf8[i];
    if (ok === undefined) {
      ok = isUtf8(this.bytes(i));
      this.utf8[i] = ok;
    }
    return ok;
  }
  length(i: number): number {
    return this.req.symEnd[i]! - this.req.symStart[i]!;
  }
  /**
   * Go's strings.Compare of two symbols (UTF-8 byte order, which is code
   * point order). Symbols that are not valid UTF-8 compare as decoded; their
   * series are refused before the order matters beyond an error's text.
   */
  compare(a: number, b: number): number {
    return a === b ? 0 : compareStrings(this.string(a), this.string(b));
  }
  /** Go's %q of a symbol, from its bytes (invalid UTF-8 shows as \xNN, as Go shows it). */
  quote(i: number): string {
    return goQuoteBytes(this.req.buf, this.req.symStart[i]!, this.req.symEnd[i]!);
  }
}

/** One 2.0 series' labels as symbol references, sorted by name as Prometheus sorts them before checking. */
class SeriesLabels {
  /** Name and value symbol ids in name order (stable for equal names); both have the same length. */
  private readonly names: Uint32Array;
  private readonly values: Uint32Array;
  private cachedText: string | undefined;

  constructor(
    private readonly syms: SymbolTable,
    refs: Uint32Array,
    start: number,
    end: number,
  ) {
    const n = (end - start) >> 1;
    // order holds 0..n-1 and checkRefs bounded [start, end) within refs: every index below is in range.
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => syms.compare(refs[start + 2 * a]!, refs[start + 2 * b]!) || a - b);
    this.names = new Uint32Array(n);
    this.values = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      this.names[i] = refs[start + 2 * order[i]!]!;
      this.values[i] = refs[start + 2 * order[i]! + 1]!;
    }
  }

  /** Prometheus's labels.String() of the series as sent (empty values included), for error texts. */
  text(): string {
    if (this.cachedText === undefined) {
      const parts: string[] = [];
      const shown = Math.min(this.names.length, MAX_TEXT_LABELS);
      for (let i = 0; i < shown; i++) {
        const n = this.names[i]!;
        const name = this.syms.string(n);
        const shownName = this.syms.validUtf8(n) && isValidLegacyLabelName(name) ? name : this.syms.quote(n);
        parts.push(`${shownName}=${this.syms.quote(this.values[i]!)}`);
      }
      if (this.names.length > shown) parts.push(`... (${this.names.length - shown} more labels)`);
      this.cachedText = `{${parts.join(', ')}}`;
    }
    return this.cachedText;
  }

  /** Prometheus's text for labels it refuses (no metric name, invalid names or values, duplicate names), or null. */
  problem(): string | null {
    const syms = this.syms;
    const names = this.names;
    let hasName = false;
    let valid = true;
    for (let i = 0; i < names.length; i++) {
      const n = names[i]!;
      const v = this.values[i]!;
      const isName = syms.string(n) === METRIC_NAME && syms.validUtf8(n);
      if (isName) hasName = true;
      // UTF-8 validation: names and the metric name non-empty, everything valid UTF-8.
      if (syms.length(n) === 0 || !syms.validUtf8(n) || !syms.validUtf8(v) || (isName && syms.length(v) === 0)) valid = false;
    }
    if (!hasName || !valid) return `invalid metric name or labels, got ${this.text()}`;
    for (let i = 1; i < names.length; i++) {
      if (syms.compare(names[i]!, names[i - 1]!) === 0) {
        return `invalid labels for series, labels ${this.text()}, duplicated label ${syms.string(names[i]!)}`;
      }
    }
    return null;
  }

  /** The label set to store (empty values dropped, as the storage drops them). */
  labels(): Labels {
    const list: Label[] = [];
    for (let i = 0; i < this.names.length; i++) list.push({ name: this.syms.string(this.names[i]!), value: this.syms.string(this.values[i]!) });
    return Labels.fromList(list);
  }
}
