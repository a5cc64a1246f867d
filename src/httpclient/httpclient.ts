// httpclient: the outgoing HTTP client, its own room so that scraping, service
// discovery (and later remote write and the notifier) share it. Imports only
// config (its settings' types) and node built-ins.
//
// The HTTP client behind scraping and HTTP service discovery, configured by
// Prometheus's common HTTP client settings (basic_auth, authorization, tls_config,
// follow_redirects, http_headers).
//
//   const c = new HttpClient(httpClientConfig);
//   const res = await c.get(url, { headers, timeoutMs, bodySizeLimit, acceptGzip });
//   const res2 = await c.post(url, body, { headers, timeoutMs });   // the notifier's alerts
//   c.close();
//
// Errors are HttpRequestError with Go-like wording, since they end up in a target's
// lastError: `Get "http://h:1/metrics": context deadline exceeded`,
// `server returned HTTP status 404 Not Found` (status checks are the caller's), and
// `body size limit exceeded`.
import { constants } from 'node:buffer';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';
import type { HTTPClientConfig, TLSVersion } from '../config/types.js';

export class HttpRequestError extends Error {
  override name = 'HttpRequestError';
}

/** The response body was larger than body_size_limit (Prometheus's wording). */
export class BodySizeLimitError extends HttpRequestError {
  override name = 'BodySizeLimitError';
  constructor() {
    super('body size limit exceeded');
  }
}

export interface GetOptions {
  headers?: Record<string, string>;
  /** Whole request, connect to last byte. */
  timeoutMs: number;
  /** Uncompressed bytes; 0 = no limit. A body of this size or more fails. */
  bodySizeLimit?: number;
  /** Ask for gzip (Accept-Encoding) and decode it. */
  acceptGzip?: boolean;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  /** Go's resp.Status, e.g. "404 Not Found". */
  statusLine: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** The largest Buffer Node can make; an unlimited gzip body is still bounded by it. */
const MAX_BUFFER = constants.MAX_LENGTH;

/** Go's http.Client gives up after 10 redirects. */
const MAX_REDIRECTS = 10;

/**
 * Idle keep-alive sockets kept per host: targets are scraped again every interval and
 * reconnecting costs more CPU than an idle socket. 1000 is what Prometheus's HTTP client
 * allows per host (many targets often share one host:port behind different paths).
 */
const MAX_FREE_SOCKETS = 1000;

/** A request on a reused keep-alive socket that the server had just closed; safe to send again (GET, nothing received). */
class StaleSocketError extends Error {}

const TLS_VERSIONS: Record<TLSVersion, 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};

export class HttpClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent | null;
  /** Set when the TLS files could not be read: every https request then fails with it. */
  private readonly tlsError: string | null;

  constructor(private readonly cfg: HTTPClientConfig) {
    this.httpAgent = new http.Agent({ keepAlive: true, maxFreeSockets: MAX_FREE_SOCKETS });
    let agent: https.Agent | null = null;
    let tlsError: string | null = null;
    try {
      const t = cfg.tlsConfig;
      agent = new https.Agent({
        keepAlive: true,
        maxFreeSockets: MAX_FREE_SOCKETS,
        ca: t.ca !== '' ? t.ca : t.caFile !== '' ? readFileSync(t.caFile) : undefined,
        cert: t.cert !== '' ? t.cert : t.certFile !== '' ? readFileSync(t.certFile) : undefined,
        key: t.key !== '' ? t.key : t.keyFile !== '' ? readFileSync(t.keyFile) : undefined,
        servername: t.serverName !== '' ? t.serverName : undefined,
        rejectUnauthorized: !t.insecureSkipVerify,
        minVersion: t.minVersion !== '' ? TLS_VERSIONS[t.minVersion] : undefined,
        maxVersion: t.maxVersion !== '' ? TLS_VERSIONS[t.maxVersion] : undefined,
      });
    } catch (e) {
      tlsError = `unable to load TLS configuration: ${e instanceof Error ? e.message : String(e)}`;
    }
    this.httpsAgent = agent;
    this.tlsError = tlsError;
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent?.destroy();
  }

  /** GETs url, following redirects when configured; rejects with HttpRequestError. */
  get(url: string, opts: GetOptions): Promise<HttpResponse> {
    return this.request('GET', url, null, opts);
  }

  /**
   * POSTs body to url. Redirects are followed as Go's client does: 307/308 send the body
   * again, 301/302/303 continue with a GET. A reused socket the server had closed is
   * retried once, as for GET: the callers (Alertmanager alerts) are idempotent.
   */
  post(url: string, body: Buffer, opts: GetOptions): Promise<HttpResponse> {
    return this.request('POST', url, body, opts);
  }

  private async request(firstMethod: 'GET' | 'POST', url: string, firstBody: Buffer | null, opts: GetOptions): Promise<HttpResponse> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), opts.timeoutMs);
    const onOuterAbort = () => deadline.abort();
    opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      let current = new URL(url);
      const origin = current.host;
      let method = firstMethod;
      let body = firstBody;
      for (let hops = 0; ; hops++) {
        const headers = this.headersFor(current, opts, current.host === origin);
        let res: HttpResponse;
        try {
          res = await this.once(current, method, body, headers, opts, deadline.signal, url);
        } catch (e) {
          // As Go's transport does: one retry on a fresh connection.
          if (!(e instanceof StaleSocketError)) throw e;
          try {
            res = await this.once(current, method, body, headers, opts, deadline.signal, url);
          } catch (e2) {
            if (e2 instanceof StaleSocketError) throw new HttpRequestError(`${goOp(firstMethod)} ${JSON.stringify(url)}: read: connection reset by peer`);
            throw e2;
          }
        }
        const loc = res.headers.location;
        if (this.cfg.followRedirects && isRedirect(res.status) && loc !== undefined) {
          if (hops >= MAX_REDIRECTS) throw new HttpRequestError(`${goOp(firstMethod)} ${JSON.stringify(current.href)}: stopped after ${MAX_REDIRECTS} redirects`);
          current = new URL(loc, current);
          if (res.status !== 307 && res.status !== 308) {
            method = 'GET';
            body = null;
          }
          continue;
        }
        return res;
      }
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onOuterAbort);
    }
  }

  private headersFor(u: URL, opts: GetOptions, sameHost: boolean): Record<string, string> {
    const h: Record<string, string> = {};
    for (const [k, vs] of Object.entries(this.cfg.httpHeaders)) if (vs.length > 0) h[k] = vs.join(', ');
    Object.assign(h, opts.headers);
    h['accept-encoding'] = opts.acceptGzip ? 'gzip' : 'identity';
    // Like Go's client, credentials are not forwarded to another host on redirect.
    if (!sameHost) return h;
    if (u.username !== '' || u.password !== '') {
      h.authorization = 'Basic ' + Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
    }
    const ba = this.cfg.basicAuth;
    if (ba !== null) {
      const user = ba.usernameFile !== '' ? readSecret(ba.usernameFile) : ba.username;
      const pass = ba.passwordFile !== '' ? readSecret(ba.passwordFile) : ba.password;
      h.authorization = 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
    }
    const az = this.cfg.authorization;
    if (az !== null) {
      const cred = az.credentialsFile !== '' ? readSecret(az.credentialsFile) : az.credentials;
      h.authorization = `${az.type} ${cred}`;
    }
    return h;
  }

  private once(
    u: URL,
    method: 'GET' | 'POST',
    body: Buffer | null,
    headers: Record<string, string>,
    opts: GetOptions,
    signal: AbortSignal,
    origUrl: string,
  ): Promise<HttpResponse> {
    const op = goOp(method);
    const isHttps = u.protocol === 'https:';
    if (isHttps && this.httpsAgent === null) return Promise.reject(new HttpRequestError(`${op} ${JSON.stringify(origUrl)}: ${this.tlsError}`));
    if (!isHttps && u.protocol !== 'http:') {
      return Promise.reject(new HttpRequestError(`${op} ${JSON.stringify(origUrl)}: unsupported protocol scheme ${JSON.stringify(u.protocol.slice(0, -1))}`));
    }
    const limit = opts.bodySizeLimit !== undefined && opts.bodySizeLimit > 0 ? opts.bodySizeLimit : Infinity;
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      const onAbort = () => fail(wrap('context deadline exceeded'));
      const fail = (e: Error) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        req.destroy();
        reject(e);
      };
      const wrap = (msg: string) => new HttpRequestError(`${op} ${JSON.stringify(origUrl)}: ${msg}`);
      if (signal.aborted) {
        reject(wrap('context deadline exceeded'));
        return;
      }
      const mod = isHttps ? https : http;
      const reqHeaders = body === null ? headers : { ...headers, 'content-length': String(body.length) };
      const req = mod.request(u, { method, headers: reqHeaders, agent: isHttps ? this.httpsAgent! : this.httpAgent }, (res) => {
        const status = res.statusCode ?? 0;
        const statusLine = `${status} ${res.statusMessage ?? ''}`.trimEnd();
        const gz = res.headers['content-encoding'] === 'gzip';
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (settled) return;
          size += c.length;
          // Compressed bytes count too: a compressed body is never larger than its content in practice.
          if (size >= limit) {
            fail(new BodySizeLimitError());
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          if (settled) return;
          if (!res.complete) {
            fail(wrap('unexpected EOF'));
            return;
          }
          const only = chunks.length === 1 ? chunks[0] : undefined;
          let body = only ?? Buffer.concat(chunks, size);
          if (gz) {
            // Bodies are small and arrive whole: one synchronous inflate is cheaper than a
            // stream through the thread pool, and maxOutputLength bounds a zip bomb.
            try {
              body = zlib.gunzipSync(body, { maxOutputLength: Math.min(limit === Infinity ? MAX_BUFFER : limit - 1, MAX_BUFFER) });
            } catch (e) {
              const err = e as NodeJS.ErrnoException;
              fail(err.code === 'ERR_BUFFER_TOO_LARGE' ? new BodySizeLimitError() : new HttpRequestError(`gzip: ${err.message}`));
              return;
            }
          }
          settled = true;
          signal.removeEventListener('abort', onAbort);
          resolve({ status, statusLine, headers: res.headers, body });
        });
        res.on('aborted', () => fail(wrap('unexpected EOF')));
        res.on('error', (e: NodeJS.ErrnoException) => fail(wrap(e.code === 'ECONNRESET' || e.message === 'aborted' ? 'unexpected EOF' : describe(e))));
      });
      let gotResponse = false;
      req.on('response', () => (gotResponse = true));
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (!gotResponse && req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) fail(new StaleSocketError(e.message));
        else fail(wrap(describe(e, u)));
      });
      signal.addEventListener('abort', onAbort, { once: true });
      if (body === null) req.end();
      else req.end(body);
    });
  }
}

/** The operation in Go's url.Error text: "Get", "Post". */
function goOp(method: string): string {
  return method[0] + method.slice(1).toLowerCase();
}

function isRedirect(s: number): boolean {
  return s === 301 || s === 302 || s === 303 || s === 307 || s === 308;
}

function readSecret(path: string): string {
  return readFileSync(path, 'utf8').trim();
}

/** Node socket errors in the words Go's net package uses, which operators know from Prometheus. */
function describe(e: NodeJS.ErrnoException, u?: URL): string {
  const addr = u !== undefined ? `${u.hostname}:${u.port !== '' ? u.port : u.protocol === 'https:' ? '443' : '80'}` : '';
  switch (e.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${addr}: connect: connection refused`;
    case 'ENOTFOUND':
      return `dial tcp: lookup ${u?.hostname ?? ''}: no such host`;
    case 'ETIMEDOUT':
      return `dial tcp ${addr}: i/o timeout`;
    case 'ECONNRESET':
      return 'read: connection reset by peer';
    case 'EHOSTUNREACH':
      return `dial tcp ${addr}: connect: no route to host`;
    default:
      return e.message;
  }
}
