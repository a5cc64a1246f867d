// --web.config.file: TLS and basic auth for the HTTP server, in the format of
// Prometheus's exporter-toolkit web configuration.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import { parse } from 'yaml';
import { BcryptBusyError, BcryptPool, bcryptCost, isBcryptHash, type PasswordChecker } from './bcrypt.js';

export interface WebConfig {
  /** Options for node:https; null serves plain HTTP. */
  readonly tls: HttpsServerOptions | null;
  /** user -> bcrypt hash; empty = no authentication. */
  readonly basicAuthUsers: ReadonlyMap<string, string>;
  /** Extra response headers (http_server_config.headers). */
  readonly headers: Readonly<Record<string, string>>;
}

export class WebConfigError extends Error {
  override name = 'WebConfigError';
}

const TLS_VERSIONS: Record<string, 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};
const CLIENT_AUTH_TYPES = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'];
// exporter-toolkit allows only these security headers to be set.
const ALLOWED_HEADERS = ['Strict-Transport-Security', 'X-Content-Type-Options', 'X-Frame-Options', 'X-XSS-Protection', 'Content-Security-Policy'];

function checkKeys(obj: Record<string, unknown>, allowed: string[], where: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw new WebConfigError(`field ${k} not found in ${where}`);
  }
}

function asMap(v: unknown, where: string): Record<string, unknown> {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new WebConfigError(`${where} must be a mapping`);
  return v as Record<string, unknown>;
}

/** Reads and checks a web config file; throws WebConfigError naming the problem. */
export function loadWebConfig(path: string): WebConfig {
  const file = resolve(path);
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new WebConfigError(`cannot read web config ${path}: ${(e as Error).message}`);
  }
  const root = asMap(doc, 'web config');
  checkKeys(root, ['tls_server_config', 'http_server_config', 'basic_auth_users'], 'web config');
  const dir = dirname(file);
  const rel = (p: string): string => (isAbsolute(p) ? p : join(dir, p));
  const readPem = (p: string, what: string): Buffer => {
    try {
      return readFileSync(rel(p));
    } catch (e) {
      throw new WebConfigError(`cannot read ${what} ${p}: ${(e as Error).message}`);
    }
  };

  let tls: HttpsServerOptions | null = null;
  if (root['tls_server_config'] !== undefined) {
    const t = asMap(root['tls_server_config'], 'tls_server_config');
    checkKeys(t, ['cert_file', 'key_file', 'client_auth_type', 'client_ca_file', 'min_version', 'max_version'], 'tls_server_config');
    const certFile = String(t['cert_file'] ?? '');
    const keyFile = String(t['key_file'] ?? '');
    if (certFile === '') throw new WebConfigError('missing cert_file');
    if (keyFile === '') throw new WebConfigError('missing key_file');
    const clientAuth = String(t['client_auth_type'] ?? 'NoClientCert');
    if (!CLIENT_AUTH_TYPES.includes(clientAuth)) throw new WebConfigError(`invalid ClientAuth ${JSON.stringify(clientAuth)}`);
    const caFile = String(t['client_ca_file'] ?? '');
    if (caFile === '' && (clientAuth === 'VerifyClientCertIfGiven' || clientAuth === 'RequireAndVerifyClientCert')) {
      throw new WebConfigError('client CA file must be configured for client certificate verification');
    }
    const version = (key: string): 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' | undefined => {
      const v = t[key];
      if (v === undefined || v === null) return undefined;
      const mapped = TLS_VERSIONS[String(v)];
      if (mapped === undefined) throw new WebConfigError(`unknown TLS version: ${String(v)}`);
      return mapped;
    };
    tls = {
      cert: readPem(certFile, 'cert_file'),
      key: readPem(keyFile, 'key_file'),
      ca: caFile ? readPem(caFile, 'client_ca_file') : undefined,
      requestCert: clientAuth !== 'NoClientCert',
      rejectUnauthorized: clientAuth === 'RequireAndVerifyClientCert' || clientAuth === 'RequireAnyClientCert',
      // exporter-toolkit defaults to TLS 1.2 as the minimum.
      minVersion: version('min_version') ?? 'TLSv1.2',
      maxVersion: version('max_version'),
    };
  }

  const headers: Record<string, string> = {};
  if (root['http_server_config'] !== undefined) {
    const h = asMap(root['http_server_config'], 'http_server_config');
    checkKeys(h, ['http2', 'headers'], 'http_server_config');
    for (const [name, value] of Object.entries(asMap(h['headers'], 'headers'))) {
      if (!ALLOWED_HEADERS.some((a) => a.toLowerCase() === name.toLowerCase())) {
        throw new WebConfigError(`HTTP header ${JSON.stringify(name)} can not be configured`);
      }
      headers[name] = String(value);
    }
  }

  const users = new Map<string, string>();
  for (const [user, hash] of Object.entries(asMap(root['basic_auth_users'], 'basic_auth_users'))) {
    const h = String(hash ?? '');
    if (!isBcryptHash(h)) throw new WebConfigError(`basic_auth_users: the password of ${JSON.stringify(user)} is not a bcrypt hash`);
    users.set(user, h);
  }
  return { tls, basicAuthUsers: users, headers };
}

/** Why a request was not let in, and how to answer it. */
export type AuthOutcome =
  | { readonly ok: true }
  /** 401: no or malformed credentials, unknown user or wrong password. */
  | { readonly ok: false; readonly reason: 'denied' }
  /** 429: too many failed attempts for this user from this client; retry after the given seconds. */
  | { readonly ok: false; readonly reason: 'rate_limited'; readonly retryAfterS: number }
  /** 503: too many password checks waiting; retry shortly. */
  | { readonly ok: false; readonly reason: 'busy' };

export interface BasicAuthOptions {
  /** Where password checks run; default a BcryptPool of one worker thread. */
  pool?: PasswordChecker;
  /** Clock in ms; tests move it. */
  now?: () => number;
  registry?: Registry;
}

/** Successful checks remembered, by a digest of user, hash and password (as exporter-toolkit caches them). */
const SUCCESS_CACHE_MAX = 256;
/** Failed checks remembered, so a client repeating a wrong password does not cost a check each time. */
const FAILURE_CACHE_MAX = 1024;
/**
 * Failed checks allowed per client address and user name in a minute; past
 * them the client is answered 429 without checking until the minute is over.
 * Ten lets a person mistype a few times and stops a guessing client after
 * about a second of CPU.
 */
const MAX_FAILURES_PER_MINUTE = 10;
const FAILURE_WINDOW_MS = 60_000;
/** Client/user pairs tracked by the rate limit; past it the oldest is forgotten. */
const MAX_TRACKED_CLIENTS = 10_000;
/** A salt for hashes of users that do not exist: any well-formed salt does. */
const DUMMY_SALT = 'abcdefghijklmnopqrstuv';

/** Adds to a bounded map, forgetting the oldest entry when full (Maps keep insertion order). */
function remember<V>(m: Map<string, V>, key: string, v: V, max: number): void {
  m.delete(key);
  if (m.size >= max) {
    const oldest = m.keys().next();
    if (oldest.done !== true) m.delete(oldest.value);
  }
  m.set(key, v);
}

/**
 * HTTP basic auth against basic_auth_users. Passwords are checked on worker
 * threads; an unknown user is checked against a dummy hash of the cost most
 * users have, so it costs as much as a known user's wrong password and the
 * answer time does not tell which user names exist.
 */
export class BasicAuth {
  private readonly pool: PasswordChecker;
  private readonly ownPool: boolean;
  private readonly now: () => number;
  private readonly dummyHash: string;
  private readonly successes = new Map<string, true>();
  private readonly failures = new Map<string, true>();
  /** client NUL user -> failed (and running) checks in the window that started at `start`. */
  private readonly attempts = new Map<string, { start: number; n: number }>();
  private readonly refused: Counter<'reason'> | null;

  constructor(
    private readonly users: ReadonlyMap<string, string>,
    opts: BasicAuthOptions = {},
  ) {
    this.ownPool = opts.pool === undefined;
    this.pool = opts.pool ?? new BcryptPool();
    this.now = opts.now ?? Date.now;
    // The most common cost among the users' hashes (the higher on a tie).
    const byCost = new Map<number, number>();
    for (const h of users.values()) byCost.set(bcryptCost(h), (byCost.get(bcryptCost(h)) ?? 0) + 1);
    let cost = 10;
    let most = 0;
    for (const [c, n] of byCost) {
      if (n > most || (n === most && c > cost)) {
        cost = c;
        most = n;
      }
    }
    this.dummyHash = `$2y$${String(cost).padStart(2, '0')}$${DUMMY_SALT}${'.'.repeat(31)}`;
    if (opts.registry !== undefined) {
      const registers = [opts.registry];
      this.refused = new Counter({
        name: 'tsprom_http_basic_auth_refused_total',
        help: 'Requests refused by basic auth: denied (401: no, unknown or wrong credentials), rate_limited (429: too many failures for the user from the client), busy (503: too many password checks waiting).',
        labelNames: ['reason'],
        registers,
      });
      for (const r of ['denied', 'rate_limited', 'busy']) this.refused.inc({ reason: r }, 0);
      const pool = this.pool;
      new Gauge({
        name: 'tsprom_http_basic_auth_checks_queued',
        help: 'Password checks waiting for a bcrypt worker thread.',
        registers,
        collect() {
          this.set(pool.queued);
        },
      });
    } else {
      this.refused = null;
    }
  }

  /** Checks an Authorization header from a client address. */
  async check(header: string | undefined, client: string): Promise<AuthOutcome> {
    const out = await this.verify(header, client);
    if (!out.ok) this.refused?.inc({ reason: out.reason });
    return out;
  }

  private async verify(header: string | undefined, client: string): Promise<AuthOutcome> {
    const denied: AuthOutcome = { ok: false, reason: 'denied' };
    if (header === undefined || !header.startsWith('Basic ')) return denied;
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return denied;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const known = this.users.get(user);
    const hash = known ?? this.dummyHash;
    const digest = createHash('sha256').update(`${user}\0${hash}\0${password}`).digest('hex');
    if (known !== undefined && this.successes.has(digest)) return { ok: true };
    if (this.failures.has(digest)) return denied;

    const key = `${client}\0${user}`;
    const now = this.now();
    let rec = this.attempts.get(key);
    if (rec === undefined || now - rec.start >= FAILURE_WINDOW_MS) {
      rec = { start: now, n: 0 };
      remember(this.attempts, key, rec, MAX_TRACKED_CLIENTS);
    }
    if (rec.n >= MAX_FAILURES_PER_MINUTE) {
      return { ok: false, reason: 'rate_limited', retryAfterS: Math.max(1, Math.ceil((rec.start + FAILURE_WINDOW_MS - now) / 1000)) };
    }
    // Counted as a failure while it runs, so concurrent guesses cannot all slip in before the first fails.
    rec.n++;
    let match: boolean;
    try {
      match = await this.pool.compare(password, hash);
    } catch (e) {
      rec.n--;
      if (e instanceof BcryptBusyError) return { ok: false, reason: 'busy' };
      throw e;
    }
    if (known !== undefined && match) {
      rec.n--;
      remember(this.successes, digest, true, SUCCESS_CACHE_MAX);
      return { ok: true };
    }
    remember(this.failures, digest, true, FAILURE_CACHE_MAX);
    return denied;
  }

  /** Stops the worker threads this instance started. */
  async close(): Promise<void> {
    if (this.ownPool) await this.pool.close();
  }
}
