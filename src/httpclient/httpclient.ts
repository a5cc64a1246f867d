// httpclient: the outgoing HTTP client, its own room so that scraping, service
// discovery, the notifier and remote write/read share it. Imports only config
// (its settings' types) and node built-ins. proxy.ts decides which proxy a request
// takes; this file sends it there.
//
// The HTTP client behind scraping and HTTP service discovery, configured by
// Prometheus's common HTTP client settings (basic_auth, authorization, tls_config,
// proxy_url, no_proxy, proxy_from_environment, proxy_connect_header,
// follow_redirects, http_headers). Requests are HTTP/1.1 (enable_http2 changes nothing).
//
//   const c = new HttpClient(httpClientConfig);          // or (cfg, { env }) for proxy_from_environment
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
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import zlib from 'node:zlib';
import type { HTTPClientConfig, TLSVersion } from '../config/types.js';
import { proxyFunc, type ProxyEnv, type ProxyFunc } from './proxy.js';

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
  /**
   * Return a gzip body still compressed (HttpResponse.gzipped), for a caller that
   * inflates it elsewhere (the scrape loop, on a worker thread); bodySizeLimit then
   * bounds the compressed bytes here, and the caller bounds the inflated ones.
   */
  keepGzip?: boolean;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  /** Go's resp.Status, e.g. "404 Not Found". */
  statusLine: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The body is gzip-compressed (only with GetOptions.keepGzip). */
  gzipped?: boolean;
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

/** Setting up the way through a proxy failed; the message is Go's text, without the request. */
class ProxyConnectError extends Error {}

/** A request on a reused keep-alive socket that the server had just closed; safe to send again (GET, nothing received). */
class StaleSocketError extends Error {}

const TLS_VERSIONS: Record<TLSVersion, 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};

/** The most bytes a gzip body may inflate to under a body size limit (0 or absent: none); maxOutputLength bounds a zip bomb. */
export function inflatedLimit(bodySizeLimit: number | undefined): number {
  return bodySizeLimit !== undefined && bodySizeLimit > 0 ? Math.min(bodySizeLimit - 1, MAX_BUFFER) : MAX_BUFFER;
}

/** The error of a failed inflate, from zlib's error code and message: over the limit, or gzip's own complaint. */
export function gunzipError(code: string | undefined, message: string): HttpRequestError {
  return code === 'ERR_BUFFER_TOO_LARGE' ? new BodySizeLimitError() : new HttpRequestError(`gzip: ${message}`);
}

/** Inflates a gzip body within the body size limit; throws BodySizeLimitError or HttpRequestError. */
export function gunzipBody(body: Buffer, bodySizeLimit: number | undefined): Buffer {
  try {
    return zlib.gunzipSync(body, { maxOutputLength: inflatedLimit(bodySizeLimit) });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw gunzipError(err.code, err.message);
  }
}

export interface HttpClientOptions {
  /** Where proxy_from_environment reads HTTP_PROXY, HTTPS_PROXY and NO_PROXY; default process.env. */
  env?: ProxyEnv;
}

/** The keep-alive pools for one proxy: absolute-form requests (http targets) and CONNECT tunnels (https targets). */
interface ProxyAgents {
  forward: http.Agent;
  tunnel: TunnelAgent;
}

export class HttpClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent | null;
  /** The TLS settings of targets, also used towards https:// proxies (as Go's transport does). */
  private readonly tlsOptions: tls.ConnectionOptions | null;
  /** Set when the TLS files could not be read: every https request then fails with it. */
  private readonly tlsError: string | null;
  private readonly proxyFor: ProxyFunc | null;
  /**
   * Per proxy URL. Bounded: the proxy function only ever returns the configured proxy_url or
   * the two environment proxies (HTTP_PROXY, HTTPS_PROXY).
   */
  private readonly proxyAgents = new Map<string, ProxyAgents>();

  constructor(
    private readonly cfg: HTTPClientConfig,
    opts: HttpClientOptions = {},
  ) {
    this.httpAgent = new http.Agent({ keepAlive: true, maxFreeSockets: MAX_FREE_SOCKETS });
    let tlsOptions: tls.ConnectionOptions | null = null;
    let tlsError: string | null = null;
    try {
      const t = cfg.tlsConfig;
      tlsOptions = {
        ca: t.ca !== '' ? t.ca : t.caFile !== '' ? readFileSync(t.caFile) : undefined,
        cert: t.cert !== '' ? t.cert : t.certFile !== '' ? readFileSync(t.certFile) : undefined,
        key: t.key !== '' ? t.key : t.keyFile !== '' ? readFileSync(t.keyFile) : undefined,
        servername: t.serverName !== '' ? t.serverName : undefined,
        rejectUnauthorized: !t.insecureSkipVerify,
        minVersion: t.minVersion !== '' ? TLS_VERSIONS[t.minVersion] : undefined,
        maxVersion: t.maxVersion !== '' ? TLS_VERSIONS[t.maxVersion] : undefined,
      };
    } catch (e) {
      tlsError = `unable to load TLS configuration: ${e instanceof Error ? e.message : String(e)}`;
    }
    this.tlsOptions = tlsOptions;
    this.httpsAgent = tlsOptions === null ? null : new https.Agent({ keepAlive: true, maxFreeSockets: MAX_FREE_SOCKETS, ...tlsOptions });
    this.tlsError = tlsError;
    this.proxyFor = proxyFunc(cfg, opts.env ?? process.env);
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent?.destroy();
    for (const a of this.proxyAgents.values()) {
      a.forward.destroy();
      a.tunnel.destroy();
    }
    this.proxyAgents.clear();
  }

  /** The pools for a proxy; null when it needs TLS settings that could not be loaded. */
  private agentsFor(proxy: URL): ProxyAgents | null {
    let a = this.proxyAgents.get(proxy.href);
    if (a !== undefined) return a;
    const proxyTls = proxy.protocol === 'https:' ? this.tlsOptions : {};
    if (proxyTls === null || this.tlsOptions === null) return null;
    const pooled = { keepAlive: true, maxFreeSockets: MAX_FREE_SOCKETS };
    a = {
      forward: proxy.protocol === 'https:' ? new https.Agent({ ...pooled, ...proxyTls }) : new http.Agent(pooled),
      tunnel: new TunnelAgent({ ...pooled, ...this.tlsOptions }, this.tlsOptions, proxy, proxyTls, connectHeaders(this.cfg.proxyConnectHeader, proxy)),
    };
    this.proxyAgents.set(proxy.href, a);
    return a;
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
    const proxy = this.proxyFor?.(u) ?? null;
    let route: { mod: typeof http | typeof https; target: URL | http.RequestOptions; agent: http.Agent };
    if (proxy === null) {
      route = { mod: isHttps ? https : http, target: u, agent: isHttps ? this.httpsAgent! : this.httpAgent };
    } else {
      if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') {
        return Promise.reject(new HttpRequestError(`${op} ${JSON.stringify(origUrl)}: proxyconnect tcp: proxy scheme ${JSON.stringify(proxy.protocol.slice(0, -1))} is not supported (http and https are)`));
      }
      const agents = this.agentsFor(proxy);
      if (agents === null) return Promise.reject(new HttpRequestError(`${op} ${JSON.stringify(origUrl)}: ${this.tlsError}`));
      if (isHttps) {
        // Through a CONNECT tunnel: the request itself is an ordinary one to the target.
        route = { mod: https, target: u, agent: agents.tunnel };
      } else {
        // Absolute-form request line to the proxy, as RFC 9112 asks for proxies.
        const auth = proxyAuthorization(proxy);
        headers = { ...headers, host: u.host, ...(auth !== null ? { 'proxy-authorization': auth } : {}) };
        route = {
          mod: proxy.protocol === 'https:' ? https : http,
          target: { hostname: unbracket(proxy.hostname), port: proxy.port !== '' ? Number(proxy.port) : undefined, path: `${u.protocol}//${u.host}${u.pathname}${u.search}` },
          agent: agents.forward,
        };
      }
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
      const reqHeaders = body === null ? headers : { ...headers, 'content-length': String(body.length) };
      const reqOpts: TunnelRequestOptions = { method, headers: reqHeaders, agent: route.agent, tunnelSignal: signal };
      const onRes = (res: http.IncomingMessage) => {
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
          if (gz && opts.keepGzip === true) {
            settled = true;
            signal.removeEventListener('abort', onAbort);
            resolve({ status, statusLine, headers: res.headers, body, gzipped: true });
            return;
          }
          if (gz) {
            // Bodies are small and arrive whole: one synchronous inflate is cheaper than a
            // stream through the thread pool.
            try {
              body = gunzipBody(body, opts.bodySizeLimit);
            } catch (e) {
              fail(e as HttpRequestError);
              return;
            }
          }
          settled = true;
          signal.removeEventListener('abort', onAbort);
          resolve({ status, statusLine, headers: res.headers, body });
        });
        res.on('aborted', () => fail(wrap('unexpected EOF')));
        res.on('error', (e: NodeJS.ErrnoException) => fail(wrap(e.code === 'ECONNRESET' || e.message === 'aborted' ? 'unexpected EOF' : describe(e))));
      };
      const req = route.target instanceof URL ? route.mod.request(route.target, reqOpts, onRes) : route.mod.request({ ...route.target, ...reqOpts }, onRes);
      let gotResponse = false;
      req.on('response', () => (gotResponse = true));
      // For absolute-form requests, whether the proxy itself was reached (a new socket's TCP, or TLS to an https:// proxy).
      let reachedProxy = false;
      if (proxy !== null && !isHttps) {
        req.on('socket', (s) => {
          if (req.reusedSocket) reachedProxy = true;
          else s.once(proxy.protocol === 'https:' ? 'secureConnect' : 'connect', () => (reachedProxy = true));
        });
      }
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (!gotResponse && req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) fail(new StaleSocketError(e.message));
        else if (e instanceof ProxyConnectError) fail(wrap(e.message));
        else if (proxy !== null && !isHttps && !reachedProxy) fail(wrap(`proxyconnect tcp: ${describe(e, proxy)}`));
        else fail(wrap(describe(e, u)));
      });
      signal.addEventListener('abort', onAbort, { once: true });
      if (body === null) req.end();
      else req.end(body);
    });
  }
}

/** Request options with the deadline, which a tunnel being set up for the request honours too. */
interface TunnelRequestOptions extends https.RequestOptions {
  tunnelSignal?: AbortSignal;
}

/**
 * An https.Agent whose sockets are TLS sessions inside CONNECT tunnels through one proxy.
 * Node's Agent pools them per target (host:port and TLS settings), so they are kept alive
 * and reused like direct ones.
 */
class TunnelAgent extends https.Agent {
  constructor(
    opts: https.AgentOptions,
    private readonly targetTls: tls.ConnectionOptions,
    private readonly proxy: URL,
    /** TLS towards the proxy itself, when it is an https:// one. */
    private readonly proxyTls: tls.ConnectionOptions,
    private readonly connectHeaders: Record<string, string | string[]>,
  ) {
    super(opts);
  }

  override createConnection(options: TunnelRequestOptions, cb?: (err: Error | null, stream: Duplex) => void): undefined {
    const done = cb as (err: Error | null, stream?: Duplex) => void;
    const host = options.host ?? options.hostname ?? 'localhost';
    const authority = `${host.includes(':') ? `[${host}]` : host}:${options.port ?? 443}`;
    const p = this.proxy;
    const isHttpsProxy = p.protocol === 'https:';
    const connect = (isHttpsProxy ? https : http).request({
      ...(isHttpsProxy ? this.proxyTls : {}),
      hostname: unbracket(p.hostname),
      port: p.port !== '' ? Number(p.port) : undefined,
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...this.connectHeaders },
      agent: false,
    });
    const signal = options.tunnelSignal;
    const onAbort = () => connect.destroy();
    signal?.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    const settle = (err: Error | null, sock?: Duplex) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      done(err, sock);
    };
    // Node hands every answer to CONNECT, whatever its status, to this event.
    connect.on('connect', (res, socket, head) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        // Go's transport reports only the reason phrase of the proxy's answer.
        settle(new ProxyConnectError(res.statusMessage !== undefined && res.statusMessage !== '' ? res.statusMessage : 'unknown status code'));
        return;
      }
      if (head.length > 0) socket.unshift(head);
      // The host is what the certificate is checked against; servername is Node's SNI choice (none for IPs).
      settle(null, tls.connect({ ...this.targetTls, host, servername: options.servername !== '' ? options.servername : undefined, socket }));
    });
    // Failing to reach the proxy (TCP, or TLS to an https:// one) is a "proxyconnect" error in Go.
    let reached = false;
    connect.on('socket', (s) => s.once(isHttpsProxy ? 'secureConnect' : 'connect', () => (reached = true)));
    connect.on('error', (e: NodeJS.ErrnoException) => {
      if (signal?.aborted) settle(new ProxyConnectError('context deadline exceeded'));
      else settle(new ProxyConnectError(reached ? describe(e) : `proxyconnect tcp: ${describe(e, p)}`));
    });
    connect.end();
    return undefined;
  }
}

/** proxy_connect_header plus the proxy URL's credentials, sent with CONNECT only (as Go does). */
function connectHeaders(cfg: Readonly<Record<string, readonly string[]>>, proxy: URL): Record<string, string | string[]> {
  const h: Record<string, string | string[]> = {};
  for (const [k, vs] of Object.entries(cfg)) if (vs.length > 0) h[k] = [...vs];
  const auth = proxyAuthorization(proxy);
  if (auth !== null) h['proxy-authorization'] = auth;
  return h;
}

/** Basic credentials from the proxy URL's userinfo, or null without any. */
function proxyAuthorization(proxy: URL): string | null {
  if (proxy.username === '' && proxy.password === '') return null;
  return 'Basic ' + Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64');
}

function unbracket(h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
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
