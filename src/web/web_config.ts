// --web.config.file: TLS and basic auth for the HTTP server, in the format of
// Prometheus's exporter-toolkit web configuration.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import { parse } from 'yaml';
import { bcryptVerify, isBcryptHash } from './bcrypt.js';

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

/**
 * bcrypt is slow by design (tens of ms per check); successful checks are cached
 * by a digest of user and password so each request does not pay it again.
 * Bounded: clients are few, and the cache is simply cleared when full.
 */
const AUTH_CACHE_MAX = 256;
const authCache = new Map<string, true>();

/** Checks an Authorization header against the configured users. */
export function verifyBasicAuth(users: ReadonlyMap<string, string>, header: string | undefined): boolean {
  if (header === undefined || !header.startsWith('Basic ')) return false;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  const hash = users.get(user);
  if (hash === undefined) return false;
  const key = createHash('sha256').update(`${hash}\0${user}\0${password}`).digest('hex');
  if (authCache.has(key)) return true;
  if (!bcryptVerify(password, hash)) return false;
  if (authCache.size >= AUTH_CACHE_MAX) authCache.clear();
  authCache.set(key, true);
  return true;
}
