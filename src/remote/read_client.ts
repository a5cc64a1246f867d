// The remote read client: one configured `remote_read` endpoint. It sends one
// query per request and asks for SAMPLES, as Prometheus's client does; the
// answer is bounded (compressed body, decoded size, sample count) so a remote
// cannot make tsprom hold more than a query may.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { compressSync } from 'snappy';
import type { RemoteReadConfig } from '../config/types.js';
import { HttpClient } from '../httpclient/httpclient.js';
import { Labels } from '../model/labels.js';
import { buildInfo } from '../metrics/build.js';
import { OAuth2TokenSource } from './oauth2.js';
import { snappyDecode } from './snappy.js';
import { RESPONSE_SAMPLES, decodeReadResponse, encodeReadRequest, type ReadQuery, type ReadSeries } from './read_request.js';

/**
 * The largest decoded answer: 512 MiB holds about 40 million samples (13
 * bytes each with their framing), near --query.max-samples' default.
 */
export const MAX_READ_RESPONSE_BYTES = 512 * 1024 * 1024;
/** Prometheus truncates a remote's error text to this many bytes. */
const MAX_ERROR_BYTES = 1024;

export class RemoteReadError extends Error {
  override name = 'RemoteReadError';
}

/** The read-side metrics of every remote, shared (labelled by remote_name and url). */
export class ReadClientMetrics {
  readonly queriesTotal: Counter<'remote_name' | 'url' | 'code'>;
  readonly inFlight: Gauge<'remote_name' | 'url'>;
  readonly duration: Histogram<'remote_name' | 'url'>;

  constructor(registry?: Registry) {
    const registers = registry !== undefined ? [registry] : [];
    this.queriesTotal = new Counter({
      name: 'prometheus_remote_storage_read_queries_total',
      help: 'The total number of remote read queries.',
      labelNames: ['remote_name', 'url', 'code'],
      registers,
    });
    this.inFlight = new Gauge({
      name: 'prometheus_remote_storage_remote_read_queries',
      help: 'The number of in-flight remote read queries.',
      labelNames: ['remote_name', 'url'],
      registers,
    });
    this.duration = new Histogram({
      name: 'prometheus_remote_storage_read_request_duration_seconds',
      help: 'Histogram of the latency for remote read requests.',
      labelNames: ['remote_name', 'url'],
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
    const body = compressSync(encodeReadRequest({ queries: [q], acceptedResponseTypes: [RESPONSE_SAMPLES] }));
    const m = this.metrics;
    m.inFlight.inc(this.labels);
    const end = m.duration.startTimer(this.labels);
    const deadline = AbortSignal.timeout(this.cfg.remoteTimeoutMs);
    try {
      const headers: Record<string, string> = {
        ...this.cfg.headers,
        'content-encoding': 'snappy',
        'content-type': 'application/x-protobuf',
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
      end();
      m.queriesTotal.inc({ ...this.labels, code: String(res.status) });
      if (Math.floor(res.status / 100) !== 2) {
        const text = res.body.subarray(0, MAX_ERROR_BYTES).toString('utf8').trim();
        throw new RemoteReadError(`remote server ${this.cfg.url} returned HTTP status ${res.statusLine}: ${text}`);
      }
      let results: ReadSeries[][];
      try {
        results = decodeReadResponse(snappyDecode(res.body, MAX_READ_RESPONSE_BYTES));
      } catch (e) {
        throw new RemoteReadError(`error reading response: ${(e as Error).message}`);
      }
      if (results.length !== 1) throw new RemoteReadError(`responses: want 1, got ${results.length}`);
      const series = results[0]!;
      let n = 0;
      for (const s of series) n += s.timestamps.length;
      if (this.maxSamples > 0 && n > this.maxSamples) {
        throw new RemoteReadError(`remote answer holds ${n} samples, more than the ${this.maxSamples} a query may load`);
      }
      return series.slice().sort((a, b) => Labels.compare(a.labels, b.labels));
    } finally {
      m.inFlight.dec(this.labels);
    }
  }

  close(): void {
    this.http.close();
    this.oauth?.close();
  }
}
