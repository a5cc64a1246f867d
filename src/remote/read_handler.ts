// The remote read server (POST /api/v1/read): a snappy-compressed
// ReadRequest in, either one snappy-compressed ReadResponse (SAMPLES) or a
// stream of framed ChunkedReadResponse messages holding Prometheus XOR chunks
// (STREAMED_XOR_CHUNKS; native histograms in HISTOGRAM / FLOAT_HISTOGRAM
// chunks, in the SAMPLES answer as TimeSeries.histograms). Behaviour follows Prometheus's read handler:
// external labels are added to every returned series (the series' own labels
// win) and an equality matcher on an external label's value selects series
// without that label; the SAMPLES answer is capped by the sample limit.
import { Gauge, type Registry } from 'prom-client';
import { compressSync } from 'snappy';
import { Labels, LabelsBuilder } from '../model/labels.js';
import { InvalidRegexError, MatchType, Matcher } from '../model/matcher.js';
import type { Logger } from '../logging/types.js';
import { ValueType, type Queryable, type SelectHints, type SeriesSet } from '../storage/interface.js';
import { snappyDecode } from './snappy.js';
import {
  InvalidMatcherError,
  RESPONSE_SAMPLES,
  RESPONSE_STREAMED_XOR_CHUNKS,
  ReadResponseWriter,
  chunkSize,
  decodeReadRequest,
  encodeChunkedReadResponse,
  frame,
  labelSize,
  type ReadChunk,
  type ReadHistogram,
  type ReadQuery,
  type ReadRequest,
} from './read_request.js';
import { SeriesChunker } from './read_chunks.js';

/** Prometheus's decodeReadLimit: the largest request body, compressed or not. */
export const MAX_READ_REQUEST_BYTES = 32 * 1024 * 1024;

export const STREAMED_CONTENT_TYPE = 'application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse';

export interface ReadHandlerOptions {
  /** What remote read answers from (Prometheus serves its fanout storage: local plus remote_read). */
  queryable: Queryable;
  externalLabels(): Labels;
  /** --storage.remote.read-sample-limit; 0 = none. Applies to SAMPLES answers only. */
  sampleLimit: number;
  /** --storage.remote.read-concurrent-limit; 0 = none. */
  concurrencyLimit: number;
  /** --storage.remote.read-max-bytes-in-frame. */
  maxBytesInFrame: number;
  registry?: Registry;
  logger: Logger;
}

export interface ReadHandlerResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer | AsyncIterable<Buffer>;
}

/** An error with the HTTP status Prometheus answers it with. */
export class ReadHTTPError extends Error {
  override name = 'ReadHTTPError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const RESPONSE_TYPE_NAMES = ['SAMPLES', 'STREAMED_XOR_CHUNKS'];

/** As Go's http.Error writes it. */
function httpError(status: number, msg: string): ReadHandlerResponse {
  return {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' },
    body: Buffer.from(`${msg}\n`),
  };
}

/** The first accepted type this server supports; SAMPLES when the client named none. */
export function negotiateResponseType(accepted: readonly number[]): number {
  const list = accepted.length === 0 ? [RESPONSE_SAMPLES] : accepted;
  for (const t of list) if (t === RESPONSE_SAMPLES || t === RESPONSE_STREAMED_XOR_CHUNKS) return t;
  const names = list.map((t) => RESPONSE_TYPE_NAMES[t] ?? String(t));
  throw new ReadHTTPError(
    `server does not support any of the requested response types: [${names.join(' ')}]; supported: map[SAMPLES:{} STREAMED_XOR_CHUNKS:{}]`,
    400,
  );
}

/** Equality matchers on an external label's own value look for series without it (storage never holds external labels). */
export function filterExternalLabelMatchers(ms: readonly Matcher[], ext: Labels): Matcher[] {
  return ms.map((m) => (m.type === MatchType.Equal && ext.has(m.name) && ext.get(m.name) === m.value ? Matcher.create(MatchType.Equal, m.name, '') : m));
}

/** The series' labels plus the external labels it does not have. */
export function withExternalLabels(l: Labels, ext: Labels): Labels {
  if (ext.isEmpty()) return l;
  const b = new LabelsBuilder(l);
  let changed = false;
  ext.forEach((n, v) => {
    if (!l.has(n)) {
      b.set(n, v);
      changed = true;
    }
  });
  return changed ? b.labels() : l;
}

function selectHints(q: ReadQuery): SelectHints | null {
  const h = q.hints;
  if (h === null) return null;
  return { start: h.startMs, end: h.endMs, step: h.stepMs, func: h.func, grouping: h.grouping, by: h.by, range: h.rangeMs };
}

/**
 * A counting gate: at most `limit` holders, the others wait in arrival order.
 * Waiters are requests, so --web.max-connections bounds their number.
 */
class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async start(): Promise<void> {
    if (this.limit <= 0 || this.active < this.limit) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  done(): void {
    const next = this.waiting.shift();
    // The slot passes to the next waiter as is.
    if (next !== undefined) next();
    else this.active--;
  }
}

/** Grows by doubling; reused across series of one request. */
class SampleScratch {
  ts = new Float64Array(1024);
  vs = new Float64Array(1024);
  push(i: number, t: number, v: number): void {
    if (i === this.ts.length) {
      const ts = new Float64Array(i * 2);
      ts.set(this.ts);
      const vs = new Float64Array(i * 2);
      vs.set(this.vs);
      this.ts = ts;
      this.vs = vs;
    }
    this.ts[i] = t;
    this.vs[i] = v;
  }
}

export class RemoteReadHandler {
  private readonly gate: Gate;
  private readonly queries: Gauge;

  constructor(private readonly opts: ReadHandlerOptions) {
    this.gate = new Gate(opts.concurrencyLimit);
    this.queries = new Gauge({
      name: 'prometheus_remote_read_handler_queries',
      help: 'The current number of remote read queries that are either in execution or queued on the handler.',
      registers: opts.registry !== undefined ? [opts.registry] : [],
    });
  }

  /** Answers one request; never throws (errors become Prometheus's plain-text error answers). */
  async handle(body: Buffer): Promise<ReadHandlerResponse> {
    await this.gate.start();
    this.queries.inc();
    let release = true;
    const done = (): void => {
      this.gate.done();
      this.queries.dec();
    };
    try {
      let req: ReadRequest;
      let type: number;
      try {
        req = decodeReadRequest(snappyDecode(body, MAX_READ_REQUEST_BYTES));
        type = negotiateResponseType(req.acceptedResponseTypes);
      } catch (e) {
        // As Prometheus: an undecodable body is the client's fault (400), an unusable matcher fails the query (500).
        const status = e instanceof InvalidMatcherError || e instanceof InvalidRegexError ? 500 : 400;
        return httpError(status, e instanceof Error ? e.message : String(e));
      }
      const ext = this.opts.externalLabels();
      if (type === RESPONSE_STREAMED_XOR_CHUNKS) {
        // The first frame is made before answering, so a query that fails at once gets an error status.
        const gen = this.streamChunks(req, ext);
        const first = await gen.next();
        // The slot is held until the stream ends.
        release = false;
        return {
          status: 200,
          headers: { 'Content-Type': STREAMED_CONTENT_TYPE },
          body: new OnceReleasing(first, gen, done, this.opts.logger),
        };
      }
      return await this.samples(req, ext);
    } catch (e) {
      if (e instanceof ReadHTTPError) return httpError(e.status, e.message);
      return httpError(500, e instanceof Error ? e.message : String(e));
    } finally {
      if (release) done();
    }
  }

  private async select(q: ReadQuery, ext: Labels, use: (set: SeriesSet) => void): Promise<void> {
    const matchers = filterExternalLabelMatchers(q.matchers, ext);
    const querier = this.opts.queryable.querier(q.startMs, q.endMs);
    try {
      const set = querier.select(false, selectHints(q), ...matchers);
      await querier.ready?.();
      use(set);
      for (const w of set.warnings()) this.opts.logger.warn('Warnings on remote read query', { err: w });
    } finally {
      querier.close();
    }
  }

  private async samples(req: ReadRequest, ext: Labels): Promise<ReadHandlerResponse> {
    const limit = this.opts.sampleLimit;
    const w = new ReadResponseWriter();
    const scratch = new SampleScratch();
    for (const q of req.queries) {
      w.beginResult();
      let total = 0;
      await this.select(q, ext, (set) => {
        while (set.next()) {
          const s = set.at();
          const it = s.iterator();
          let n = 0;
          const hs: ReadHistogram[] = [];
          for (let vt = it.next(); vt !== ValueType.None; vt = it.next()) {
            total++;
            if (limit > 0 && total > limit) throw new ReadHTTPError(`exceeded sample limit (${limit})`, 400);
            if (vt === ValueType.Float) scratch.push(n++, it.t(), it.v());
            else if (vt === ValueType.Histogram) hs.push({ t: it.t(), h: it.atHistogram!(), fh: null });
            else hs.push({ t: it.t(), h: null, fh: it.atFloatHistogram!() });
          }
          const err = it.err();
          if (err !== null) throw err;
          w.series(withExternalLabels(s.labels, ext), scratch.ts, scratch.vs, n, hs);
        }
        const err = set.err();
        if (err !== null) throw err;
      });
      w.endResult();
    }
    return {
      status: 200,
      headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' },
      body: compressSync(w.finish()),
    };
  }

  /**
   * Frames of one series at a time; a series whose chunks pass
   * maxBytesInFrame continues in the next frame. Each query's querier stays
   * open while its frames are sent, so only one frame is held at a time.
   */
  private async *streamChunks(req: ReadRequest, ext: Labels): AsyncGenerator<Buffer> {
    const chunker = new SeriesChunker();
    for (let qi = 0; qi < req.queries.length; qi++) {
      const q = req.queries[qi]!;
      const querier = this.opts.queryable.querier(q.startMs, q.endMs);
      try {
        const set = querier.select(true, selectHints(q), ...filterExternalLabelMatchers(q.matchers, ext));
        await querier.ready?.();
        while (set.next()) {
          const s = set.at();
          const labels = withExternalLabels(s.labels, ext);
          let maxData = this.opts.maxBytesInFrame;
          labels.forEach((n, v) => (maxData -= labelSize(n, v)));
          let left = maxData;
          let chunks: ReadChunk[] = [];
          const it = s.iterator();
          chunker.reset();
          let vt = it.next();
          while (vt !== ValueType.None) {
            const c = chunker.add(it, vt);
            vt = it.next();
            const last = vt === ValueType.None ? chunker.flush() : null;
            if (c === null && last === null) continue;
            for (const done of [c, last]) {
              if (done === null) continue;
              chunks.push(done);
              left -= chunkSize(done);
            }
            // A frame may pass the limit by up to one chunk, as Prometheus's do.
            if (left > 0 && vt !== ValueType.None) continue;
            yield frame(encodeChunkedReadResponse(labels, chunks, qi));
            chunks = [];
            left = maxData;
          }
          const err = it.err();
          if (err !== null) throw err;
        }
        const err = set.err();
        if (err !== null) throw err;
        for (const w of set.warnings()) this.opts.logger.warn('Warnings on chunked remote read query', { warnings: w });
      } finally {
        querier.close();
      }
    }
  }
}

/**
 * The stream of frames: the first one already made, then the rest. It runs
 * `release` once when iteration ends for any reason, even when the server
 * never starts it (the client left). An error after the first frame can no
 * longer change the status: it is logged and the stream ends.
 */
class OnceReleasing implements AsyncIterable<Buffer>, AsyncIterator<Buffer> {
  private released = false;
  private pendingFirst: IteratorResult<Buffer> | null;
  constructor(
    first: IteratorResult<Buffer>,
    private readonly inner: AsyncGenerator<Buffer>,
    private readonly release: () => void,
    private readonly logger: Logger,
  ) {
    this.pendingFirst = first;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this;
  }

  private end(): void {
    if (this.released) return;
    this.released = true;
    this.release();
  }

  async next(): Promise<IteratorResult<Buffer>> {
    let r: IteratorResult<Buffer>;
    if (this.pendingFirst !== null) {
      r = this.pendingFirst;
      this.pendingFirst = null;
    } else {
      try {
        r = await this.inner.next();
      } catch (e) {
        this.logger.error('Error streaming remote read response', { err: e instanceof Error ? e.message : String(e) });
        r = { done: true, value: undefined };
      }
    }
    if (r.done === true) this.end();
    return r;
  }

  async return(): Promise<IteratorResult<Buffer>> {
    this.end();
    await this.inner.return(undefined);
    return { done: true, value: undefined };
  }
}
