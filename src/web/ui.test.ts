import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { WebServer } from './server.js';
import { fallbackPage, loadUiBuild, mountIndexPage, pickAssetEncoding, renderIndex, UI_ROUTES, type UiBuild } from './ui.js';

const JS = 'console.log("tsprom ui");\n'.repeat(20);
const TEMPLATE = '<meta name="tsprom-prefix" content="%%PREFIX%%"><script src="%%PREFIX%%/assets/main-AB12.js"></script>';

function fakeBuild(): { dir: string; build: UiBuild } {
  const dir = mkdtempSync(join(tmpdir(), 'tsprom-ui-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), TEMPLATE);
  writeFileSync(join(dir, 'assets', 'main-AB12.js'), JS);
  writeFileSync(join(dir, 'assets', 'main-AB12.js.gz'), gzipSync(JS));
  writeFileSync(join(dir, 'assets', 'main-AB12.js.br'), brotliCompressSync(JS));
  writeFileSync(join(dir, 'assets', 'main-CD34.css'), 'body{}');
  const build = loadUiBuild(dir);
  assert.ok(build !== null);
  return { dir, build };
}

async function serve(prefix: string, external: string, build: UiBuild | null): Promise<{ base: string; close: () => Promise<void> }> {
  const web = new WebServer({ listenAddress: '127.0.0.1:0', routePrefix: prefix });
  mountIndexPage(web, new URL(external), build);
  const addr = await web.listen();
  return { base: `http://127.0.0.1:${addr.port}`, close: () => web.close(0) };
}

test('loadUiBuild is null without a build', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsprom-ui-'));
  try {
    assert.equal(loadUiBuild(dir), null);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('index.html carries the external path, escaped, in every placeholder', () => {
  assert.equal(renderIndex(TEMPLATE, new URL('http://h/')), '<meta name="tsprom-prefix" content=""><script src="/assets/main-AB12.js"></script>');
  const page = renderIndex(TEMPLATE, new URL("http://h/a&b/'x'/"));
  assert.match(page, /content="\/a&amp;b\/&#39;x&#39;"/);
  assert.match(page, /src="\/a&amp;b\/&#39;x&#39;\/assets\/main-AB12.js"/);
  assert.match(fallbackPage(new URL('http://example.com/prom"<x>/')), /<form action="\/prom%22%3Cx%3E\/api\/v1\/query"/);
});

test('asset encoding: brotli first, then gzip; q=0 refuses', () => {
  assert.equal(pickAssetEncoding(undefined), null);
  assert.equal(pickAssetEncoding('gzip, deflate, br'), 'br');
  assert.equal(pickAssetEncoding('gzip'), 'gzip');
  assert.equal(pickAssetEncoding('br;q=0, gzip;q=0.5'), 'gzip');
  assert.equal(pickAssetEncoding('identity'), null);
  assert.equal(pickAssetEncoding('*'), 'gzip');
  assert.equal(pickAssetEncoding('gzip;q=0'), null);
});

test('UI routes answer index.html (no-cache, ETag), / and /graph redirect, assets are immutable and precompressed', async () => {
  const { dir, build } = fakeBuild();
  const s = await serve('/', 'http://localhost:9090/', build);
  try {
    for (const r of UI_ROUTES) {
      const res = await fetch(`${s.base}${r}`);
      assert.equal(res.status, 200, r);
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await res.text(), /src="\/assets\/main-AB12.js"/);
    }
    const first = await fetch(`${s.base}/alerts`);
    const etag = first.headers.get('etag');
    assert.ok(etag !== null);
    assert.equal((await fetch(`${s.base}/targets`, { headers: { 'If-None-Match': etag } })).status, 304);

    const root = await fetch(`${s.base}/`, { redirect: 'manual' });
    assert.deepEqual([root.status, root.headers.get('location')], [302, '/query']);
    const graph = await fetch(`${s.base}/graph?g0.expr=up&g0.tab=1`, { redirect: 'manual' });
    assert.deepEqual([graph.status, graph.headers.get('location')], [302, '/query?g0.expr=up&g0.tab=1']);

    // fetch() decodes bodies itself; node:http's raw bytes are checked through the declared encoding.
    for (const [accept, enc, decode] of [
      ['br, gzip', 'br', brotliDecompressSync],
      ['gzip', 'gzip', gunzipSync],
      ['identity', null, (b: Buffer) => b],
    ] as const) {
      const raw = await rawGet(`${s.base}/assets/main-AB12.js`, accept);
      assert.equal(raw.status, 200);
      assert.equal(raw.headers['content-encoding'], enc ?? undefined);
      assert.equal(raw.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.equal(raw.headers['vary'], 'Accept-Encoding');
      assert.equal(raw.headers['content-type'], 'text/javascript; charset=utf-8');
      assert.equal(decode(raw.body).toString(), JS);
    }
    // No precompressed copy: sent as is.
    const css = await rawGet(`${s.base}/assets/main-CD34.css`, 'gzip, br');
    assert.deepEqual([css.status, css.headers['content-encoding'], css.body.toString()], [200, undefined, 'body{}']);
    assert.equal((await fetch(`${s.base}/assets/nope.js`)).status, 404);
    assert.equal((await fetch(`${s.base}/assets/../index.html`)).status, 404);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true });
  }
});

test('under a route prefix the UI answers below it and links under the external path', async () => {
  const { dir, build } = fakeBuild();
  const s = await serve('/prom', 'http://proxy.example/prom/', build);
  try {
    const root = await fetch(`${s.base}/prom`, { redirect: 'manual' });
    assert.deepEqual([root.status, root.headers.get('location')], [302, '/prom/query']);
    const page = await fetch(`${s.base}/prom/query?g0.expr=up`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /content="\/prom"/);
    assert.equal((await fetch(`${s.base}/prom/assets/main-AB12.js`)).status, 200);
    assert.equal((await fetch(`${s.base}/query`)).status, 404);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true });
  }
});

test('without a build, UI routes answer the fallback page saying how to build', async () => {
  const s = await serve('/', 'http://localhost:9090/', null);
  try {
    const res = await fetch(`${s.base}/targets`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /npm run build/);
    assert.equal((await fetch(`${s.base}/assets/main.js`)).status, 404);
  } finally {
    await s.close();
  }
});

function rawGet(url: string, acceptEncoding: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers: { 'Accept-Encoding': acceptEncoding } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}
