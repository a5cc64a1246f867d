// OAuth 2.0 client credentials for remote write: a token from token_url,
// kept until shortly before it expires (Go's oauth2 package renews 10 s
// early), sent as "Authorization: Bearer <token>".
import { readFileSync } from 'node:fs';
import type { HTTPClientConfig, OAuth2Config } from '../config/types.js';
import { HttpClient } from '../httpclient/httpclient.js';

const EXPIRY_DELTA_MS = 10_000;
const TOKEN_TIMEOUT_MS = 30_000;

export class OAuth2Error extends Error {
  override name = 'OAuth2Error';
}

export class OAuth2TokenSource {
  private readonly client: HttpClient;
  private token: { value: string; expiresAt: number } | null = null;
  private inflight: Promise<string> | null = null;

  constructor(
    private readonly cfg: OAuth2Config,
    private readonly userAgent: string,
    private readonly now: () => number = Date.now,
  ) {
    const http: HTTPClientConfig = {
      basicAuth: null,
      authorization: null,
      tlsConfig: cfg.tlsConfig,
      proxyUrl: cfg.proxyUrl,
      noProxy: '',
      proxyFromEnvironment: false,
      proxyConnectHeader: {},
      followRedirects: true,
      enableHttp2: false,
      httpHeaders: {},
    };
    this.client = new HttpClient(http);
  }

  close(): void {
    this.client.close();
  }

  /** The Authorization header value, fetching a token when none is valid. */
  async header(signal: AbortSignal): Promise<string> {
    const t = this.token;
    if (t !== null && this.now() < t.expiresAt) return `Bearer ${t.value}`;
    this.inflight ??= this.fetch(signal).finally(() => (this.inflight = null));
    return `Bearer ${await this.inflight}`;
  }

  private async fetch(signal: AbortSignal): Promise<string> {
    const c = this.cfg;
    const secret = c.clientSecretFile !== '' ? readFileSync(c.clientSecretFile, 'utf8').trim() : c.clientSecret;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (c.scopes.length > 0) form.set('scope', c.scopes.join(' '));
    for (const [k, v] of Object.entries(c.endpointParams)) form.set(k, v);
    const res = await this.client.post(c.tokenUrl, Buffer.from(form.toString()), {
      timeoutMs: TOKEN_TIMEOUT_MS,
      signal,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': this.userAgent,
        authorization: 'Basic ' + Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(secret)}`).toString('base64'),
      },
    });
    if (res.status < 200 || res.status > 299) {
      throw new OAuth2Error(`oauth2: cannot fetch token: ${res.statusLine}\nResponse: ${res.body.toString('utf8').slice(0, 1024)}`);
    }
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(res.body.toString('utf8')) as typeof body;
    } catch (e) {
      throw new OAuth2Error(`oauth2: cannot parse token response: ${(e as Error).message}`);
    }
    if (typeof body.access_token !== 'string' || body.access_token === '') throw new OAuth2Error('oauth2: server response missing access_token');
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in ?? 0);
    const expiresAt = expiresIn > 0 ? this.now() + expiresIn * 1000 - EXPIRY_DELTA_MS : Infinity;
    this.token = { value: body.access_token, expiresAt };
    return body.access_token;
  }
}
