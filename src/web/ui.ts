// The web UI's HTTP side: index.html for every UI route (so each loads by
// direct URL), the hashed assets scripts/build_ui.mjs wrote to dist/ui/
// (immutable, precompressed gzip/brotli picked by Accept-Encoding), and the
// redirects from / and the old /graph. Without a built UI, UI routes answer a
// small form page over the API that says how to build it.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpResponse, RequestInfo, WebServer } from './server.js';

/** Paths of the single-page app, as Prometheus 3.x names them (plus /query-log). */
export const UI_ROUTES: readonly string[] = [
  '/query',
  '/alerts',
  '/rules',
  '/targets',
  '/service-discovery',
  '/status',
  '/tsdb-status',
  '/flags',
  '/config',
  '/query-log',
  '/agent',
];

/** Where scripts/build_ui.mjs writes: dist/ui/, beside dist/src/. */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));

/** Must equal PREFIX_PLACEHOLDER in scripts/build_ui.mjs. */
const PREFIX_PLACEHOLDER = '%%PREFIX%%';

/** Hashed names never change content: a year, as browsers cap max-age anyway. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.png': 'image/png',
};

interface Asset {
  body: Buffer;
  gzip: Buffer | null;
  br: Buffer | null;
  type: string;
}

/** A built UI: index.html with the prefix placeholder, and the assets by name. */
export interface UiBuild {
  indexTemplate: string;
  assets: ReadonlyMap<string, Asset>;
}

/** Reads dist/ui/ once; null when the UI was not built. The set of files is fixed by the build, so holding them is bounded. */
export function loadUiBuild(dir: string = DEFAULT_UI_DIR): UiBuild | null {
  const indexFile = join(dir, 'index.html');
  const assetsDir = join(dir, 'assets');
  if (!existsSync(indexFile) || !existsSync(assetsDir)) return null;
  const assets = new Map<string, Asset>();
  const names = new Set(readdirSync(assetsDir));
  for (const name of names) {
    if (name.endsWith('.gz') || name.endsWith('.br')) continue;
    const read = (n: string): Buffer | null => (names.has(n) ? readFileSync(join(assetsDir, n)) : null);
    assets.set(name, {
      body: readFileSync(join(assetsDir, name)),
      gzip: read(`${name}.gz`),
      br: read(`${name}.br`),
      type: CONTENT_TYPES[extname(name)] ?? 'application/octet-stream',
    });
  }
  return { indexTemplate: readFileSync(indexFile, 'utf8'), assets };
}

function escapeHtml(s: string): string {
  // The pattern matches only the five keys of this table.
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The external URL's path without a trailing slash: '' or '/prefix'. */
function basePath(external: URL): string {
  return external.pathname.replace(/\/+$/, '');
}

/** The fallback page when dist/ui/ is missing: a query box over the API and links to the server's own pages. */
export function fallbackPage(external: URL): string {
  const base = escapeHtml(basePath(external));
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>tsprom</title></head>
<body>
<h1>tsprom</h1>
<p>The web UI is not built: run <code>npm run build</code> (or <code>npm start</code>, which builds it).</p>
<form action="${base}/api/v1/query" method="get">
<input name="query" size="80" placeholder="PromQL expression, e.g. up"> <button type="submit">Query</button>
</form>
<ul>
<li><a href="${base}/api/v1/targets">Targets</a></li>
<li><a href="${base}/api/v1/status/config">Configuration</a></li>
<li><a href="${base}/api/v1/status/flags">Flags</a></li>
<li><a href="${base}/api/v1/status/tsdb">TSDB status</a></li>
<li><a href="${base}/metrics">Own metrics</a></li>
</ul>
</body></html>
`;
}

/** index.html with asset links and the app's base path under the external URL's path. */
export function renderIndex(template: string, external: URL): string {
  return template.split(PREFIX_PLACEHOLDER).join(escapeHtml(basePath(external)));
}

/**
 * The encoding to send: brotli, then gzip, when Accept-Encoding lists them
 * without q=0. Precompressed bodies cost nothing to send, so unlike the API's
 * on-the-fly compression this honours q-values and prefers the smaller br.
 */
export function pickAssetEncoding(header: string | undefined): 'br' | 'gzip' | null {
  if (header === undefined) return null;
  const ok = new Set<string>();
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) continue;
    ok.add(name);
  }
  if (ok.has('br')) return 'br';
  if (ok.has('gzip') || ok.has('*')) return 'gzip';
  return null;
}

function serveAsset(build: UiBuild, req: RequestInfo): HttpResponse {
  const asset = build.assets.get(req.pathParams['path'] ?? '');
  if (asset === undefined) return { status: 404, body: '404 page not found\n', headers: { 'Content-Type': 'text/plain; charset=utf-8' } };
  const headers: Record<string, string> = { 'Content-Type': asset.type, 'Cache-Control': IMMUTABLE, Vary: 'Accept-Encoding' };
  const enc = pickAssetEncoding(req.headers['accept-encoding']);
  let body = asset.body;
  if (enc === 'br' && asset.br !== null) body = asset.br;
  else if (enc !== null && asset.gzip !== null) body = asset.gzip;
  if (body !== asset.body) headers['Content-Encoding'] = body === asset.br ? 'br' : 'gzip';
  return { status: 200, body, headers, compressible: false };
}

/**
 * Mounts the UI: / redirects to `home` (/query; /agent for an agent), /graph to /query with its parameters
 * (old Prometheus links), each UI route answers index.html (no-cache, with an
 * ETag so reloads revalidate cheaply), and /assets/* the build's files.
 */
export function mountIndexPage(web: WebServer, external: URL, build: UiBuild | null = loadUiBuild(), home = '/query'): void {
  const base = basePath(external);
  const page = build !== null ? renderIndex(build.indexTemplate, external) : fallbackPage(external);
  const etag = `"${createHash('sha256').update(page).digest('base64url').slice(0, 22)}"`;
  const html = (req: RequestInfo): HttpResponse => {
    const headers = { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache', ETag: etag };
    if (req.headers['if-none-match'] === etag) return { status: 304, body: '', headers };
    return { status: 200, body: page, headers };
  };
  web.route('GET', '/', () => ({ status: 302, body: '', headers: { Location: `${base}${home}` } }));
  web.route('GET', '/graph', (req) => ({ status: 302, body: '', headers: { Location: `${base}/query${req.url.search}` } }));
  for (const r of UI_ROUTES) web.route('GET', r, html);
  if (build !== null) web.route('GET', '/assets/*path', (req) => serveAsset(build, req));
}
