// web/: the HTTP side. This file is the server: routing under the route
// prefix, request bodies with size limits, the API envelope, gzip, CORS, basic
// auth, metrics, readiness gating and graceful shutdown. Endpoints live in
// web/api (API v1), lifecycle.ts, ui.ts and federate.ts; web/api/errors.ts maps
// errors to statuses. May import web/api and the folders below it (logging,
// metrics, model, storage, promql/*); only cli/ imports web/.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { EventEmitter } from 'node:events';
import { createDeflate, createGzip, deflate, deflateSync, gzip, gzipSync, type Deflate, type Gzip, type ZlibOptions } from 'node:zlib';
import { nopLogger, type Logger } from '../logging/types.js';
import type { ApiContext, ApiError, ApiResult, ApiRoute } from './api/types.js';
import { statusForError, toApiError } from './api/errors.js';
import { encodeApiError, encodeApiSuccess, isBodyStream, type BodyStream } from './api/response.js';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { HttpMetrics } from '../metrics/server.js';
import { BasicAuth, type AuthOutcome, type WebConfig } from './web_config.js';

function compressSync(kind: 'gzip' | 'deflate', body: Buffer): Buffer {
  const opts: ZlibOptions = { level: COMPRESSION_LEVEL };
  return kind === 'gzip' ? gzipSync(body, opts) : deflateSync(body, opts);
}

function compress(kind: 'gzip' | 'deflate', body: Buffer): Promise<Buffer> {
  const opts: ZlibOptions = { level: COMPRESSION_LEVEL };
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Buffer): void => (err !== null ? reject(err) : resolve(out));
    if (kind === 'gzip') gzip(body, opts, done);
    else deflate(body, opts, done);
  });
}

/** Resolves on the first of two events, removing both listeners (waits repeat per chunk and must not pile up). */
function firstOf(a: EventEmitter, aEvent: string, b: EventEmitter, bEvent: string): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      a.off(aEvent, done);
      b.off(bEvent, done);
      resolve();
    };
    a.on(aEvent, done);
    b.on(bEvent, done);
  });
}

/** Go's net/http caps url-encoded form bodies at 10 MiB; we cap every body that is not remote write the same. */
const DEFAULT_MAX_FORM_BYTES = 10 * 1024 * 1024;
/** Remote-write bodies are snappy-compressed; 32 MiB compressed is far beyond any sane batch. */
export const DEFAULT_MAX_REMOTE_WRITE_BYTES = 32 * 1024 * 1024;
const MAX_HEADER_BYTES = 1024 * 1024;
/**
 * At the connection cap, a newcomer may take the place of a connection that
 * has had no request in progress for at least this long (idle keep-alive, or
 * still sending its first headers): long enough for a real client to send its
 * request after connecting, short enough that idle or stalled connections
 * cannot lock new clients out.
 */
const EVICT_MIN_IDLE_MS = 1000;
/** Node checks header and request deadlines on a timer; this bounds how late past --web.read-timeout a stalled connection is closed. */
const MAX_TIMEOUT_CHECK_MS = 30_000;
const MIN_TIMEOUT_CHECK_MS = 250;
/**
 * zlib level for compressed responses. Query results (digits and repeated
 * label text) shrink nearly as well at level 1 as at Go's default 6, for a
 * third of the CPU: a 26 MB matrix became 8.8 MB in 166 ms at level 1 and
 * 8.1 MB in 593 ms at level 6.
 */
const COMPRESSION_LEVEL = 1;
/**
 * Bodies up to this size are compressed on the event loop: a few tens of
 * microseconds, less than the round trip to zlib's thread pool.
 */
const SYNC_COMPRESS_BYTES = 8 * 1024;
/**
 * Bodies up to this size go out in the same write as the head (as one
 * string: copying it is cheaper than the second buffer of a writev).
 */
const ONE_WRITE_BYTES = 64 * 1024;

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  /** A stream is sent chunked, as it is produced. */
  body: string | Buffer | BodyStream;
  /** May be gzip/deflate-compressed when the client accepts it (default true). */
  compressible?: boolean;
}

export interface RequestInfo {
  method: string;
  url: URL;
  /** Path without the route prefix. */
  path: string;
  pathParams: Record<string, string>;
  /** Url-encoded form parameters from a POST, PUT or PATCH body, then query-string parameters (as Go orders r.Form). */
  params: URLSearchParams;
  body: Buffer;
  headers: IncomingMessage['headers'];
  clientIP: string;
  signal: AbortSignal;
}

export type RawHandler = (req: RequestInfo) => Promise<HttpResponse> | HttpResponse;

export interface RouteOptions {
  /** Answer 503 until the server is ready (storage open). Default false. */
  needsReady?: boolean;
  /** Largest accepted request body; default DEFAULT_MAX_FORM_BYTES. */
  maxBodyBytes?: number;
  /** Parse an application/x-www-form-urlencoded body into params. Default true. */
  parseForm?: boolean;
}

interface Route {
  method: string;
  segments: string[];
  /** The path's segments joined by '/' when it has no `:` or `*` segment (matched by one string compare); null otherwise. */
  staticPath: string | null;
  pattern: string;
  handler: RawHandler;
  opts: Required<RouteOptions>;
  /** API v1 route: answers carry CORS headers, as Prometheus's API wrapper sets them. */
  cors: boolean;
}

/** What a method and path resolve to: the route and its path parameters, and whether any route has that path. */
interface RouteMatch {
  readonly route: Route | null;
  readonly pathParams: Readonly<Record<string, string>>;
  readonly pathMatched: boolean;
}

/** Method and path pairs whose route lookup is remembered (each a short string and a small object). */
const MAX_REMEMBERED_MATCHES = 1024;
const MAX_REMEMBERED_KEY_CHARS = 256;

export interface WebServerOptions {
  listenAddress: string;
  /** '/' or a path like '/prometheus' (no trailing slash). */
  routePrefix?: string;
  webConfig?: WebConfig | null;
  /** Access-Control-Allow-Origin is set for origins matching this (anchored). Default /^(?:.*)$/. */
  corsOrigin?: RegExp;
  logger?: Logger;
  metrics?: HttpMetrics;
  /**
   * Limit on concurrent connections; 0 = none (Prometheus's --web.max-connections
   * default is 512). At the limit the connection idle longest (no request in
   * progress for EVICT_MIN_IDLE_MS) is closed to let a newcomer in; without one
   * the newcomer is closed.
   */
  maxConnections?: number;
  /**
   * --web.read-timeout, as Go's http.Server.ReadTimeout (which Prometheus sets)
   * with its IdleTimeout left at zero: the time allowed to receive a request's
   * headers (headersTimeout) and the whole request with its body
   * (requestTimeout), and how long a keep-alive connection may sit idle
   * between requests (keepAliveTimeout). A connection past either deadline
   * gets a 408 and is closed. 0 = Node's defaults.
   */
  readTimeoutMs?: number;
  /** Where the connection guard's metrics go; none when absent. */
  registry?: Registry;
}

/** One accepted connection, for the connection cap. */
interface Conn {
  /** The TCP socket (under TLS, the one beneath the TLS socket). */
  readonly socket: Socket;
  /** Requests received and not yet answered. */
  busy: number;
  /** When it was accepted or last finished answering a request (ms). */
  idleSince: number;
}

/** The connection guard's metrics; Prometheus's conntrack names where it has them. */
class ConnMetrics {
  readonly accepted: Counter<'listener_name'>;
  readonly closed: Counter<'listener_name'>;
  readonly guardClosed: Counter<'reason'>;

  constructor(registry: Registry, open: () => number) {
    const registers = [registry];
    this.accepted = new Counter({ name: 'net_conntrack_listener_conn_accepted_total', help: 'Total number of connections opened to the listener of a given name.', labelNames: ['listener_name'], registers });
    this.closed = new Counter({ name: 'net_conntrack_listener_conn_closed_total', help: 'Total number of connections closed that were made to the listener of a given name.', labelNames: ['listener_name'], registers });
    this.guardClosed = new Counter({
      name: 'tsprom_http_connections_closed_by_guard_total',
      help: 'Connections the HTTP server closed to protect itself: read_timeout (request not received within --web.read-timeout), idle_evicted (idle connection closed at --web.max-connections to let a new one in), over_limit (new connection refused at --web.max-connections).',
      labelNames: ['reason'],
      registers,
    });
    for (const r of ['read_timeout', 'idle_evicted', 'over_limit']) this.guardClosed.inc({ reason: r }, 0);
    new Gauge({
      name: 'tsprom_http_open_connections',
      help: 'HTTP connections open now (limited by --web.max-connections).',
      registers,
      collect() {
        this.set(open());
      },
    });
  }
}

/** Key of a connection: the same for the TCP socket and the TLS socket over it. */
function connKey(s: Socket): string {
  return `${s.remoteAddress ?? ''}|${s.remotePort ?? 0}`;
}

/** A plain-text answer, as Go's handlers write one. */
export function text(status: number, body: string, headers?: Record<string, string>): HttpResponse {
  return { status, body, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers } };
}

export class WebServer {
  private readonly routes: Route[] = [];
  private readonly matches = new Map<string, RouteMatch>();
  private readonly prefix: string;
  private readonly logger: Logger;
  private readonly corsOrigin: RegExp;
  private server: Server | null = null;
  private readonly conns = new Map<string, Conn>();
  private readonly connMetrics: ConnMetrics | null;
  /** Basic auth when the web config has users; checks run on worker threads. */
  private readonly auth: BasicAuth | null;
  private readonly inFlight = new Set<Promise<void>>();
  private closing = false;
  /** False until storage is open and WAL replay is done. */
  ready = false;

  constructor(private readonly opts: WebServerOptions) {
    const p = (opts.routePrefix ?? '/').replace(/\/+$/, '');
    this.prefix = p === '' ? '' : p.startsWith('/') ? p : `/${p}`;
    this.logger = opts.logger ?? nopLogger;
    this.corsOrigin = opts.corsOrigin ?? /^(?:.*)$/;
    this.connMetrics = opts.registry !== undefined ? new ConnMetrics(opts.registry, () => this.conns.size) : null;
    const users = opts.webConfig?.basicAuthUsers;
    this.auth = users !== undefined && users.size > 0 ? new BasicAuth(users, { registry: opts.registry }) : null;
  }

  /** Registers a handler; `path` may hold `:name` segments and a final `*name` catch-all. */
  route(method: string, path: string, handler: RawHandler, opts: RouteOptions = {}): void {
    this.addRoute(method, path, handler, opts, false);
  }

  private addRoute(method: string, path: string, handler: RawHandler, opts: RouteOptions, cors: boolean): void {
    const full: Required<RouteOptions> = {
      needsReady: opts.needsReady ?? false,
      maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_FORM_BYTES,
      parseForm: opts.parseForm ?? true,
    };
    const segments = path.split('/').filter((s) => s !== '');
    const staticPath = segments.some((s) => s.startsWith(':') || s.startsWith('*')) ? null : segments.join('/');
    // A later registration of the same method and path replaces the earlier one.
    const i = this.routes.findIndex((r) => r.method === method && r.pattern === path);
    const route: Route = { method, segments, staticPath, pattern: path, handler, opts: full, cors };
    if (i >= 0) this.routes[i] = route;
    else this.routes.push(route);
    this.matches.clear();
  }

  /** Mounts API routes under /api/v1, wrapped in Prometheus's JSON envelope and (by default) the readiness gate. */
  api(routes: readonly ApiRoute[], opts: { needsReady?: boolean } = {}): void {
    for (const r of routes) {
      this.addRoute(r.method, `/api/v1${r.path}`, (req) => this.serveApi(r, req), { needsReady: opts.needsReady ?? true }, true);
    }
  }

  private async serveApi(route: ApiRoute, req: RequestInfo): Promise<HttpResponse> {
    // RequestInfo is an ApiContext; passed as is, its lazy URL and signal stay unmade unless the endpoint asks.
    const ctx: ApiContext = req;
    let result: ApiResult;
    try {
      result = await route.handler(ctx);
    } catch (e) {
      const err = toApiError(e);
      if (err.errorType === 'internal') this.logger.error('API handler failed', { path: req.path, err: err.message });
      return apiErrorResponse(err);
    }
    if (result.data === undefined) return { status: 204, body: '' };
    return { status: 200, body: encodeApiSuccess(result), headers: { 'Content-Type': 'application/json' } };
  }

  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  async listen(): Promise<AddressInfo> {
    const { host, port } = parseListenAddress(this.opts.listenAddress);
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      const conn = this.conns.get(connKey(req.socket));
      if (conn !== undefined) {
        conn.busy++;
        res.once('close', () => {
          conn.busy--;
          conn.idleSince = performance.now();
        });
      }
      const p = this.handle(req, res).catch((e: unknown) => {
        this.logger.error('HTTP handler crashed', { err: String(e) });
        if (!res.headersSent) {
          res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
          res.end('internal server error\n');
        } else {
          res.destroy();
        }
      });
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    };
    const tls = this.opts.webConfig?.tls;
    const readTimeout = this.opts.readTimeoutMs ?? 0;
    const serverOpts = {
      // Go's net/http accepts 1 MiB of request headers (long GET queries); Node defaults to 16 KiB.
      maxHeaderSize: MAX_HEADER_BYTES,
      ...(readTimeout > 0
        ? {
            headersTimeout: readTimeout,
            requestTimeout: readTimeout,
            keepAliveTimeout: readTimeout,
            connectionsCheckingInterval: Math.min(MAX_TIMEOUT_CHECK_MS, Math.max(MIN_TIMEOUT_CHECK_MS, Math.floor(readTimeout / 4))),
          }
        : {}),
    };
    const server = tls ? createHttpsServer({ ...tls, ...serverOpts }, handler) : createHttpServer(serverOpts, handler);
    server.on('connection', (s: Socket) => this.accept(s));
    server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
      const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
      if (timedOut) this.connMetrics?.guardClosed.inc({ reason: 'read_timeout' });
      // Answer only when no request of this connection is being answered.
      const conn = this.conns.get(connKey(socket));
      if (socket.writable && (conn === undefined || conn.busy === 0)) {
        socket.write(timedOut ? 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n' : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      }
      socket.destroy();
      this.logger.debug('HTTP client error', { err: err.message });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server.address() as AddressInfo;
  }

  /** Stops accepting, lets in-flight requests finish (up to graceMs), then drops what is left. */
  async close(graceMs = 10_000): Promise<void> {
    const server = this.server;
    if (server === null || this.closing) return;
    this.closing = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.allSettled([...this.inFlight]), deadline]);
    clearTimeout(timer);
    for (const c of this.conns.values()) c.socket.destroy();
    await closed;
    await this.auth?.close();
  }

  /** Takes a new connection in, making room at the cap by closing the connection idle longest, or refusing it. */
  private accept(s: Socket): void {
    const m = this.connMetrics;
    m?.accepted.inc({ listener_name: 'http' });
    const max = this.opts.maxConnections ?? 0;
    if (max > 0 && this.conns.size >= max) {
      const victim = this.idlest(performance.now() - EVICT_MIN_IDLE_MS);
      if (victim === null) {
        m?.guardClosed.inc({ reason: 'over_limit' });
        m?.closed.inc({ listener_name: 'http' });
        this.logger.debug('Connection refused: connection limit reached', { limit: max });
        s.destroy();
        return;
      }
      m?.guardClosed.inc({ reason: 'idle_evicted' });
      this.conns.delete(connKey(victim.socket));
      victim.socket.destroy();
    }
    const key = connKey(s);
    this.conns.set(key, { socket: s, busy: 0, idleSince: performance.now() });
    s.once('close', () => {
      m?.closed.inc({ listener_name: 'http' });
      if (this.conns.get(key)?.socket === s) this.conns.delete(key);
    });
  }

  /** The connection with no request in progress that has been idle longest, if idle since before `before`. */
  private idlest(before: number): Conn | null {
    let best: Conn | null = null;
    for (const c of this.conns.values()) {
      if (c.busy === 0 && c.idleSince < before && (best === null || c.idleSince < best.idleSince)) best = c;
    }
    return best;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const start = process.hrtime.bigint();
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    // A plain path (most API calls: POSTed forms) is its own pathname; anything else goes through URL's normalising parser.
    let url: URL | null = null;
    let pathname = target;
    if (!PLAIN_PATH_RE.test(target)) {
      try {
        url = new URL(target, 'http://localhost');
      } catch {
        return this.send(req, res, text(400, 'bad request\n'), 'other', start);
      }
      pathname = url.pathname;
    }
    if (this.closing) res.setHeader('Connection', 'close');

    if (this.auth !== null) {
      const a = await this.auth.check(req.headers.authorization, req.socket.remoteAddress ?? '');
      if (!a.ok) return this.send(req, res, authRefusal(a), 'other', start);
    }

    let path = pathname;
    if (this.prefix !== '') {
      if (path === '/' || path === '') {
        return this.send(req, res, { status: 302, body: '', headers: { Location: this.prefix } }, 'other', start);
      }
      if (path !== this.prefix && !path.startsWith(`${this.prefix}/`)) return this.send(req, res, text(404, '404 page not found\n'), 'other', start);
      path = path.slice(this.prefix.length) || '/';
    }

    const effMethod = method === 'HEAD' ? 'GET' : method;
    const { route: found, pathParams, pathMatched } = this.lookup(effMethod, path);
    if (found === null) {
      if (method === 'OPTIONS' && path.startsWith('/api/v1/')) {
        return this.send(req, res, { status: 204, body: '' }, '/api/v1/*path', start, true);
      }
      const resp = pathMatched ? text(405, 'Method Not Allowed\n') : text(404, '404 page not found\n');
      return this.send(req, res, resp, 'other', start);
    }

    if (found.opts.needsReady && !this.ready) {
      return this.send(req, res, text(503, 'Service Unavailable'), found.pattern, start);
    }

    let body: Buffer;
    try {
      body = await readBody(req, found.opts.maxBodyBytes);
    } catch (e) {
      if (e instanceof BodyTooLargeError) {
        // Worded as Prometheus's remote-write receiver words it.
        return this.send(req, res, text(413, `request body exceeds the ${found.opts.maxBodyBytes} bytes limit\n`), found.pattern, start);
      }
      res.destroy();
      return;
    }

    // As Go's Request.ParseForm: POST, PUT and PATCH bodies are read as forms,
    // and their values come before (take precedence over) the query string's.
    let params: URLSearchParams;
    const [mediaType = ''] = String(req.headers['content-type'] ?? '').split(';');
    const ctype = mediaType.trim().toLowerCase();
    const form = found.opts.parseForm && FORM_METHODS.has(method) && body.length > 0 && ctype === 'application/x-www-form-urlencoded';
    if (url === null) {
      params = new URLSearchParams(form ? body.toString('utf8') : '');
    } else {
      params = new URLSearchParams();
      if (form) for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v);
      for (const [k, v] of url.searchParams) params.append(k, v);
    }

    const info = new ServedRequest(method, url, target, path, pathParams, params, body, req);
    res.on('close', () => {
      if (!res.writableFinished) info.abort();
    });
    const resp = await found.handler(info);
    return this.send(req, res, resp, found.pattern, start, found.cors);
  }

  /** The first route (in registration order) for a method and path; remembered per method and path, since few are asked for. */
  private lookup(method: string, path: string): RouteMatch {
    const key = `${method} ${path}`;
    const hit = this.matches.get(key);
    if (hit !== undefined) return hit;
    const segs = path.split('/').filter((s) => s !== '');
    const joined = segs.join('/');
    let m: RouteMatch = { route: null, pathParams: NO_PARAMS, pathMatched: false };
    for (const r of this.routes) {
      const params = r.staticPath !== null ? (r.staticPath === joined ? NO_PARAMS : null) : matchSegments(r.segments, segs);
      if (params === null) continue;
      m = { route: null, pathParams: NO_PARAMS, pathMatched: true };
      if (r.method === method) {
        m = { route: r, pathParams: Object.freeze(params), pathMatched: true };
        break;
      }
    }
    // Paths are the client's choice: only short ones are remembered, and when the memory is full it starts over.
    if (key.length <= MAX_REMEMBERED_KEY_CHARS) {
      if (this.matches.size >= MAX_REMEMBERED_MATCHES) this.matches.clear();
      this.matches.set(key, m);
    }
    return m;
  }

  /** Prometheus's httputil.SetCORS: CORS headers only when the request names an Origin; `*` for the default pattern. */
  private addCorsHeaders(req: IncomingMessage, h: Record<string, string>): void {
    h['Vary'] = 'Origin';
    const origin = req.headers.origin;
    if (origin === undefined || origin === '') return;
    h['Access-Control-Allow-Headers'] = 'Accept, Authorization, Content-Type, Origin';
    h['Access-Control-Allow-Methods'] = 'GET, POST, OPTIONS';
    h['Access-Control-Expose-Headers'] = 'Date';
    if (this.corsOrigin.source === DEFAULT_CORS_SOURCE) h['Access-Control-Allow-Origin'] = '*';
    else if (this.corsOrigin.test(origin)) h['Access-Control-Allow-Origin'] = origin;
  }

  /** Sends an answer; API routes (cors) carry the CORS headers, which win over the handler's and the web config's. */
  private async send(req: IncomingMessage, res: ServerResponse, resp: HttpResponse, handlerName: string, start: bigint, cors = false): Promise<void> {
    const headers: Record<string, string> = {};
    const configured = this.opts.webConfig?.headers;
    if (configured !== undefined) Object.assign(headers, configured);
    if (resp.headers !== undefined) Object.assign(headers, resp.headers);
    if (cors) this.addCorsHeaders(req, headers);
    const hasBody = resp.status !== 204 && resp.status !== 304;
    let enc: 'gzip' | 'deflate' | null = null;
    if (resp.compressible !== false) {
      // As Prometheus's compression handler: Vary always, compression whenever the client takes it.
      headers['Vary'] = headers['Vary'] === undefined ? 'Accept-Encoding' : `Accept-Encoding, ${headers['Vary']}`;
      if (hasBody) enc = pickEncoding(req.headers['accept-encoding']);
      if (enc !== null) headers['Content-Encoding'] = enc;
    }
    let bytes = 0;
    if (isBodyStream(resp.body)) {
      bytes = await this.sendStream(req, res, resp.status, headers, resp.body, enc);
    } else {
      let body: Buffer = typeof resp.body === 'string' ? Buffer.from(resp.body, 'utf8') : resp.body;
      if (enc !== null) body = body.length <= SYNC_COMPRESS_BYTES ? compressSync(enc, body) : await compress(enc, body);
      if (hasBody) headers['Content-Length'] = String(body.length);
      if (!res.destroyed) {
        res.writeHead(resp.status, headers);
        if (req.method === 'HEAD' || !hasBody) res.end();
        // Node writes the head and a latin1 string body with one write; a Buffer body costs a second (writev) buffer.
        else if (body.length <= ONE_WRITE_BYTES) res.end(body.toString('latin1'), 'latin1');
        else res.end(body);
      }
      bytes = body.length;
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    this.opts.metrics?.observe(handlerName, resp.status, seconds, bytes);
  }

  /** Sends a body as it is produced (chunked), through gzip or deflate when chosen; returns the bytes sent. */
  private async sendStream(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    headers: Record<string, string>,
    body: BodyStream,
    enc: 'gzip' | 'deflate' | null,
  ): Promise<number> {
    const it = body[Symbol.asyncIterator]();
    if (res.destroyed || req.method === 'HEAD') {
      if (!res.destroyed) {
        res.writeHead(status, headers);
        res.end();
      }
      await it.return?.();
      return 0;
    }
    res.writeHead(status, headers);
    let bytes = 0;
    let z: Gzip | Deflate | null = null;
    if (enc !== null) {
      z = enc === 'gzip' ? createGzip({ level: COMPRESSION_LEVEL }) : createDeflate({ level: COMPRESSION_LEVEL });
      z.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      z.on('error', () => res.destroy());
      z.pipe(res);
    }
    const sink = z ?? res;
    try {
      for (;;) {
        if (res.destroyed) return bytes;
        const { value, done } = await it.next();
        if (done === true) break;
        if (z === null) bytes += value.length;
        // Backpressure: wait for the socket (or compressor) before producing more.
        if (!sink.write(value)) await firstOf(sink, 'drain', res, 'close');
      }
      sink.end();
      if (!res.writableFinished && !res.destroyed) await firstOf(res, 'finish', res, 'close');
    } finally {
      await it.return?.();
      // A client gone mid-answer leaves the compressor unfinished: free it now.
      if (z !== null && !z.writableEnded) z.destroy();
    }
    return bytes;
  }
}

/** The answer to a request basic auth did not let in. */
function authRefusal(a: Exclude<AuthOutcome, { ok: true }>): HttpResponse {
  switch (a.reason) {
    case 'denied':
      return text(401, 'Unauthorized\n', { 'WWW-Authenticate': 'Basic' });
    case 'rate_limited':
      return text(429, 'Too many failed login attempts; try again later\n', { 'Retry-After': String(a.retryAfterS) });
    case 'busy':
      return text(503, 'Too many login attempts in progress; try again later\n', { 'Retry-After': '1' });
  }
}

/** A request target that URL would leave as it is: a path without query, escapes, dot segments or characters it encodes. */
const PLAIN_PATH_RE = /^\/(?!\/)[A-Za-z0-9\-_~/!$&'()*+,;=:@]*$/;

/**
 * AbortControllers made ahead, between requests, each handed out once. Making
 * one costs about 4 us (Node builds an EventTarget and then changes its
 * prototype), more than the rest of a small query's request handling here.
 * Node makes a controller's signal when it is first asked for (the costly
 * part: ~19 us per query measured), so the stock asks for it at once.
 */
const controllerStock: AbortController[] = [];
const CONTROLLER_STOCK = 4;
let restockQueued = false;

function restock(): void {
  restockQueued = false;
  while (controllerStock.length < CONTROLLER_STOCK) {
    const ac = new AbortController();
    void ac.signal;
    controllerStock.push(ac);
  }
}

function freshController(): AbortController {
  if (!restockQueued) {
    restockQueued = true;
    setImmediate(restock);
  }
  return controllerStock.pop() ?? new AbortController();
}

/** RequestInfo whose URL and abort signal are made only when a handler asks for them. */
class ServedRequest implements RequestInfo {
  private ac: AbortController | null = null;
  private aborted = false;
  readonly headers: IncomingMessage['headers'];
  readonly clientIP: string;

  constructor(
    readonly method: string,
    private parsedUrl: URL | null,
    private readonly target: string,
    readonly path: string,
    readonly pathParams: Record<string, string>,
    readonly params: URLSearchParams,
    readonly body: Buffer,
    req: IncomingMessage,
  ) {
    this.headers = req.headers;
    this.clientIP = req.socket.remoteAddress ?? '';
  }

  get url(): URL {
    return (this.parsedUrl ??= new URL(this.target, 'http://localhost'));
  }

  get signal(): AbortSignal {
    if (this.ac === null) {
      this.ac = freshController();
      if (this.aborted) this.ac.abort();
    }
    return this.ac.signal;
  }

  /** The client went away before the answer was sent. */
  abort(): void {
    this.aborted = true;
    this.ac?.abort();
  }
}

/** Methods whose url-encoded bodies Go's ParseForm reads. */
const FORM_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** --web.cors.origin's default, ".*", anchored as the server anchors it. */
const DEFAULT_CORS_SOURCE = '^(?:.*)$';

/** Error envelope: {"status":"error","errorType":...,"error":...}. */
function apiErrorResponse(err: ApiError): HttpResponse {
  return {
    status: statusForError(err),
    body: encodeApiError(err),
    headers: { 'Content-Type': 'application/json' },
  };
}

/** Path parameters of a route without any (shared: handlers only read them). */
const NO_PARAMS: Record<string, string> = Object.freeze({});

function matchSegments(pattern: string[], segs: string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    // i < pattern.length.
    const p = pattern[i]!;
    if (p.startsWith('*')) {
      params[p.slice(1)] = segs.slice(i).map(decodeSegment).join('/');
      return params;
    }
    const s = segs[i];
    if (s === undefined) return null;
    if (p.startsWith(':')) params[p.slice(1)] = decodeSegment(s);
    else if (p !== s) return null;
  }
  return pattern.length === segs.length ? params : null;
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * The first comma-separated token of Accept-Encoding that is exactly "gzip" or
 * "deflate", as Prometheus's httputil picks it (so "gzip;q=0.5" does not count).
 */
function pickEncoding(header: string | undefined): 'gzip' | 'deflate' | null {
  if (header === undefined) return null;
  for (const part of header.split(',')) {
    const name = part.trim();
    if (name === 'gzip' || name === 'deflate') return name;
  }
  return null;
}

class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
}

/**
 * Past the limit the rest of a body is read and thrown away, so the client can
 * finish sending and read the 413 (closing on it mid-upload makes most clients
 * report a broken connection instead). Past this much more, the connection is cut.
 */
const MAX_DISCARD_BYTES = 64 * 1024 * 1024;

function discard(req: IncomingMessage): void {
  let dropped = 0;
  req.removeAllListeners('data');
  req.on('data', (c: Buffer) => {
    dropped += c.length;
    if (dropped > MAX_DISCARD_BYTES) req.destroy();
  });
  req.resume();
}

const NO_BODY = Buffer.alloc(0);

/**
 * The request's body, refused past `limit` bytes. A request without
 * Content-Length or Transfer-Encoding has none (RFC 9112, 6.3). A small body
 * usually shares the headers' packet: by the next microtask the parser has
 * buffered it, and it is taken from there at once instead of through the
 * stream's events (two more turns of the loop, ~20 us of a small query).
 */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const length = req.headers['content-length'];
  const declared = Number(length ?? NaN);
  if (declared > limit) {
    discard(req);
    throw new BodyTooLargeError();
  }
  if (declared === 0 || (length === undefined && req.headers['transfer-encoding'] === undefined)) return NO_BODY;
  await null;
  if (req.readableLength === declared) {
    const whole = req.read() as Buffer;
    // Lets the stream end (and emit its events) as if read through.
    req.resume();
    return whole;
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        discard(req);
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      const [only] = chunks;
      resolve(chunks.length === 1 && only !== undefined ? only : Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

/** Splits Prometheus-style listen addresses: "0.0.0.0:9090", ":9090", "[::1]:9090", "localhost:0". */
function parseListenAddress(addr: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(addr);
  if (m === null) throw new Error(`invalid listen address ${JSON.stringify(addr)}: want host:port`);
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`invalid listen address ${JSON.stringify(addr)}: port out of range`);
  return { host: host === '' ? undefined : host, port };
}
