// The landing page at /: a query box over the API and links to the server's own pages.
import type { HttpResponse, WebServer } from './server.js';

function escapeHtml(s: string): string {
  // The pattern matches only the four keys of this table.
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** The page, with links under the external URL's path. */
export function indexPage(external: URL): string {
  const base = escapeHtml(external.pathname.replace(/\/$/, ''));
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>tsprom</title></head>
<body>
<h1>tsprom</h1>
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

export function mountIndexPage(web: WebServer, external: URL): void {
  web.route('GET', '/', (): HttpResponse => ({ status: 200, body: indexPage(external), headers: { 'Content-Type': 'text/html; charset=utf-8' } }));
}
