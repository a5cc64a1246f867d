// The remote read client: one configured `remote_read` endpoint. It sends one
// query per request and accepts a streamed answer (Prometheus XOR and native
// histogram chunks) or SAMPLES, streamed first, as Prometheus 3.x's client does. The answer is
// bounded (body size, frame size, sample count) so a remote cannot make
// tsprom hold more than a query may.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { compressSync } from 'snappy';
import type { RemoteReadConfig } from '../config/types.js';
import { HttpClient } from '../httpclient/httpclient.js';
import { Labels } from '../model/labels.js';
import { buildInfo } from '../metrics/build.js';
import { OAuth2TokenSource } from './oauth2.js';
import { snappyDecode } from './snappy.js';
import {
  RESPONSE_SAMPLES,
  RESPONSE_STREAMED_XOR_CHUNKS,
  decodeChunkedReadResponse,
  decodeReadResponse,
  encodeReadRequest,
  readFrames,
  type ReadQuery,
  type ReadHistogram,
  type ReadSeries,
} from './read_request.js';
import { ChunkEncodingError, decodeReadChunk } from './read_chunks.js';

/**
 * The largest answer body (and decoded SAMPLES answer): 512 MiB holds about
 * 40 million samples (13 bytes each with their framing), near
 * --query.max-samples' default.
 */
export const MAX_READ_RESPONSE_BYTES = 512 * 1024 * 1024;
/** A remote's error text is cut to this many bytes. */
const MAX_ERROR_BYTES = 1024;
const SAMPLES_CONTENT_TYPE = 'application/x-protobuf';
const STREAMED_CONTENT_TYPE = 'application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse';

export class RemoteReadError extends Error {
  override name = 'RemoteReadError';
}

type ResponseType = 'sampled' | 'chunked' | 'unsupported';

/** The read-side metrics of every remote (Prometheus 3.x's names), labelled by remote_name and url. */
export class ReadClientMetrics {
  readonly queriesTotal: Counter<'remote_name' | 'url' | 'response_type' | 'code'>;
  readonly inFlight: Gauge<'remote_name' | 'url'>;
  readonly duration: Histogram<'remote_name' | 'url' | 'response_type'>;

  constructor(registry?: Registry) {
    const registers = registry !== undefined ? [registry] : [];
    this.queriesTotal = new Counter({
      name: 'prometheus_remote_read_client_queries_total',
      help: 'The total number of remote read queries.',
      labelNames: ['remote_name', 'url', 'response_type', 'code'],
      registers,
    });
    this.inFlight = new Gauge({
      name: 'prometheus_remote_read_client_queries',
      help: 'The number of in-flight remote read queries.',
      labelNames: ['remote_name', 'url'],
      registers,
    });
    this.duration = new Histogram({
      name: 'prometheus_remote_read_client_request_duration_seconds',
      help: 'Histogram of the latency for remote read requests, until the whole answer is read.',
      labelNames: ['remote_name', 'url', 'response_type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60],
      registers,
    });
  }
}

export class ReadClient {
  private readonly http: HttpClient;
  private readonly oauth: OAuth2TokenSource | null;
  private readonly labels: { remote_name: string; url: string };
  private readonly userAgent = `tsprom/${buildInfo().version}`;

  constructor(
    readonly cfg: RemoteReadConfig,
    private readonly metrics: ReadClientMetrics,
    /** Samples one answer may hold (--query.max-samples); more fail the read. */
    private readonly maxSamples: number,
  ) {
    this.http = new HttpClient(cfg.httpClient);
    this.oauth = cfg.oauth2 !== null ? new OAuth2TokenSource(cfg.oauth2, this.userAgent) : null;
    this.labels = { remote_name: cfg.name, url: cfg.url };
  }

  /** The series of one query, sorted by labels. Rejects with RemoteReadError (or the HTTP client's error). */
  async read(q: ReadQuery): Promise<ReadSeries[]> {
    const body = compressSync(encodeReadRequest({ queries: [q], acceptedResponseTypes: [RESPONSE_STREAMED_XOR_CHUNKS, RESPONSE_SAMPLES] }));
    const m = this.metrics;
    m.inFlight.inc(this.labels);
    const start = performance.now();
    const deadline = AbortSignal.timeout(this.cfg.remoteTimeoutMs);
    try {
      const headers: Record<string, string> = {
        ...this.cfg.headers,
        'content-encoding': 'snappy',
        'content-type': SAMPLES_CONTENT_TYPE,
        'user-agent': this.userAgent,
        'x-prometheus-remote-read-version': '0.1.0',
      };
      if (this.oauth !== null) headers['authorization'] = await this.oauth.header(deadline);
      const res = await this.http.post(this.cfg.url, body, {
        headers,
        timeoutMs: this.cfg.remoteTimeoutMs,
        bodySizeLimit: MAX_READ_RESPONSE_BYTES,
        signal: deadline,
      });
      if (Math.floor(res.status / 100) !== 2) {
        const text = res.body.subarray(0, MAX_ERROR_BYTES).toString('utf8').replace(/^\n+|\n+$/g, '');
        throw new RemoteReadError(`remote server ${this.cfg.url} returned http status ${res.statusLine}: ${text}`);
      }
      const ct = String(res.headers['content-type'] ?? '');
      const type: ResponseType = ct.startsWith(SAMPLES_CONTENT_TYPE) ? 'sampled' : ct.startsWith(STREAMED_CONTENT_TYPE) ? 'chunked' : 'unsupported';
      m.queriesTotal.inc({ ...this.labels, response_type: type, code: String(res.status) });
      try {
        if (type === 'unsupported') throw new RemoteReadError(`unsupported content type: ${ct}`);
        const series = type === 'sampled' ? this.samples(res.body) : this.chunks(res.body, q);
        return series.sort((a, b) => Labels.compare(a.labels, b.labels));
      } finally {
        m.duration.observe({ ...this.labels, response_type: type }, (performance.now() - start) / 1000);
      }
    } finally {
      m.inFlight.dec(this.labels);
    }
  }

  private checkLimit(n: number): void {
    if (this.maxSamples > 0 && n > this.maxSamples) {
      throw new RemoteReadError(`remote answer holds more than the ${this.maxSamples} samples a query may load`);
    }
  }

  private samples(body: Buffer): ReadSeries[] {
    let results: ReadSeries[][];
    try {
      results = decodeReadResponse(snappyDecode(body, MAX_READ_RESPONSE_BYTES));
    } catch (e) {
      throw new RemoteReadError(`error reading response: ${(e as Error).message}`);
    }
    if (results.length !== 1) throw new RemoteReadError(`responses: want 1, got ${results.length}`);
    const series = results[0]!;
    let n = 0;
    for (const s of series) n += s.timestamps.length + s.histograms.length;
    this.checkLimit(n);
    return series;
  }

  /**
   * A streamed answer: frames of one series each, a series possibly spread
   * over consecutive frames; chunks hold whole chunks, so samples outside the
   * query's range are dropped.
   */
  private chunks(body: Buffer, q: ReadQuery): ReadSeries[] {
    const out: ReadSeries[] = [];
    let cur: { labels: Labels; ts: number[]; vs: number[]; hs: ReadHistogram[] } | null = null;
    let n = 0;
    const flush = (): void => {
      if (cur !== null) out.push({ labels: cur.labels, timestamps: Float64Array.from(cur.ts), values: Float64Array.from(cur.vs), histograms: cur.hs });
      cur = null;
    };
    try {
      for (const msg of readFrames(body, this.cfg.chunkedReadLimit)) {
        const r = decodeChunkedReadResponse(msg);
        if (r.queryIndex !== 0) throw new RemoteReadError(`streamed answer for query ${r.queryIndex}; only query 0 was asked`);
        for (const s of r.series) {
          if (cur === null || !cur.labels.equals(s.labels)) {
            flush();
            cur = { labels: s.labels, ts: [], vs: [], hs: [] };
          }
          const into = cur;
          const inRange = (t: number): boolean => t >= q.startMs && t <= q.endMs;
          for (const c of s.chunks) {
            decodeReadChunk(
              c,
              (t, v) => {
                if (!inRange(t)) return;
                into.ts.push(t);
                into.vs.push(v);
                n++;
              },
              (x) => {
                if (!inRange(x.t)) return;
                into.hs.push(x);
                n++;
              },
            );
            this.checkLimit(n);
          }
        }
      }
    } catch (e) {
      if (e instanceof RemoteReadError) throw e;
      if (e instanceof ChunkEncodingError) throw new RemoteReadError(e.message);
      throw new RemoteReadError(`error reading streamed response: ${(e as Error).message}`);
    }
    flush();
    return out;
  }

  close(): void {
    this.http.close();
    this.oauth?.close();
  }
}
