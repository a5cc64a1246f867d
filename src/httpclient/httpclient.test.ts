import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { HttpClient, BodySizeLimitError } from './httpclient.js';
import type { HTTPClientConfig } from '../config/types.js';
import { defaultHttpClient } from '../../test/fixtures/scrape/helpers.js';
import { startProxy } from '../../test/fixtures/proxy/proxy_server.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/scrape');

/** A raw HTTP server: answers the first request on each connection, hangs up on the second without answering. */
async function flakyKeepAlive(): Promise<{ srv: net.Server; port: number; connections: () => number; requests: () => number }> {
  let conns = 0;
  let total = 0;
  const srv = net.createServer((sock) => {
    conns++;
    let requests = 0;
    sock.on('data', () => {
      requests++;
      total++;
      if (requests === 1) sock.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\nok 1');
      else sock.destroy();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { srv, port: (srv.address() as net.AddressInfo).port, connections: () => conns, requests: () => total };
}

test('a keep-alive socket the server closed is retried once on a new connection', async () => {
  const { srv, port, connections, requests } = await flakyKeepAlive();
  const c = new HttpClient(defaultHttpClient);
  try {
    const url = `http://127.0.0.1:${port}/metrics`;
    assert.equal((await c.get(url, { timeoutMs: 2000 })).body.toString(), 'ok 1');
    assert.equal((await c.get(url, { timeoutMs: 2000 })).body.toString(), 'ok 1');
    // The second request went out on the kept-alive socket, died there, and was sent again.
    assert.equal(requests(), 3);
    assert.equal(connections(), 2);
  } finally {
    c.close();
    srv.close();
  }
});

test('gzip bodies are decoded and bounded by the body size limit', async () => {
  const body = zlib.gzipSync(Buffer.alloc(100_000, 'x'));
  const srv = net.createServer((sock) => {
    sock.once('data', () => {
      sock.write(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
      sock.end(body);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}/`;
  const c = new HttpClient(defaultHttpClient);
  try {
    assert.equal((await c.get(url, { timeoutMs: 2000, acceptGzip: true })).body.length, 100_000);
    await assert.rejects(c.get(url, { timeoutMs: 2000, acceptGzip: true, bodySizeLimit: 100_000 }), BodySizeLimitError);
    assert.equal((await c.get(url, { timeoutMs: 2000, acceptGzip: true, bodySizeLimit: 100_001 })).body.length, 100_000);
  } finally {
    c.close();
    srv.close();
  }
});

/** An http and an https server on 127.0.0.1 that answer with what they received. */
async function echoServers(): Promise<{ http: number; https: number; close: () => void }> {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res.end(`${req.method} ${req.url} host=${req.headers.host} body=${Buffer.concat(chunks).toString()} pa=${req.headers['proxy-authorization'] ?? ''}`));
  };
  const plain = http.createServer(handler);
  const tls = https.createServer({ cert: readFileSync(join(FIXTURES, 'server.pem')), key: readFileSync(join(FIXTURES, 'server_key.pem')) }, handler);
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
  return {
    http: (plain.address() as net.AddressInfo).port,
    https: (tls.address() as net.AddressInfo).port,
    close: () => {
      plain.closeAllConnections();
      tls.closeAllConnections();
      plain.close();
      tls.close();
    },
  };
}

const withCA = (over: Partial<HTTPClientConfig>): HTTPClientConfig => ({
  ...defaultHttpClient,
  tlsConfig: { ...defaultHttpClient.tlsConfig, caFile: join(FIXTURES, 'ca.pem') },
  ...over,
});

test('proxy_url: http targets by absolute-form requests, https targets through CONNECT, both kept alive', async () => {
  const auth = 'Basic ' + Buffer.from('u@x:p w').toString('base64');
  const proxy = await startProxy({ requiredAuth: auth });
  const srv = await echoServers();
  const proxyUrl = `http://u%40x:p%20w@127.0.0.1:${proxy.port}`;
  const c = new HttpClient(withCA({ proxyUrl, proxyConnectHeader: { 'X-Tenant': ['a', 'b'] } }));
  try {
    const plainUrl = `http://target.test:${srv.http}/metrics?x=1`;
    const r1 = await c.get(plainUrl, { timeoutMs: 5000 });
    assert.equal(r1.status, 200);
    assert.equal(r1.body.toString(), `GET /metrics?x=1 host=target.test:${srv.http} body= pa=`);
    await c.post(plainUrl, Buffer.from('payload'), { timeoutMs: 5000 });
    const [get, post] = proxy.seen;
    assert.equal(get!.method, 'GET');
    assert.equal(get!.target, plainUrl);
    assert.equal(get!.headers['proxy-authorization'], auth);
    // proxy_connect_header goes with CONNECT only, as in Go.
    assert.equal(get!.headers['x-tenant'], undefined);
    assert.equal(post!.method, 'POST');

    const tlsUrl = `https://127.0.0.1:${srv.https}/secure`;
    const r2 = await c.post(tlsUrl, Buffer.from('hello'), { timeoutMs: 5000 });
    assert.equal(r2.body.toString(), `POST /secure host=127.0.0.1:${srv.https} body=hello pa=`);
    await c.get(tlsUrl, { timeoutMs: 5000 });
    const connects = proxy.seen.filter((s) => s.method === 'CONNECT');
    assert.equal(connects.length, 1, 'the tunnel is reused');
    assert.equal(connects[0]!.target, `127.0.0.1:${srv.https}`);
    assert.equal(connects[0]!.headers['proxy-authorization'], auth);
    assert.equal(connects[0]!.headers['x-tenant'], 'a, b');
    // One pooled connection for the forwarded requests, one for the tunnel.
    assert.equal(proxy.clientConnections(), 2);
  } finally {
    c.close();
    srv.close();
    await proxy.close();
  }
});

test('an https:// proxy is reached over TLS with the client\'s TLS settings, for both kinds of targets', async () => {
  const proxy = await startProxy({ tls: { cert: readFileSync(join(FIXTURES, 'server.pem')), key: readFileSync(join(FIXTURES, 'server_key.pem')) } });
  const srv = await echoServers();
  const c = new HttpClient(withCA({ proxyUrl: proxy.url }));
  const noCA = new HttpClient({ ...defaultHttpClient, proxyUrl: proxy.url });
  try {
    assert.equal((await c.get(`http://127.0.0.1:${srv.http}/a`, { timeoutMs: 5000 })).body.toString(), `GET /a host=127.0.0.1:${srv.http} body= pa=`);
    assert.equal((await c.get(`https://127.0.0.1:${srv.https}/b`, { timeoutMs: 5000 })).body.toString(), `GET /b host=127.0.0.1:${srv.https} body= pa=`);
    assert.deepEqual(
      proxy.seen.map((s) => `${s.method} ${s.target}`),
      [`GET http://127.0.0.1:${srv.http}/a`, `CONNECT 127.0.0.1:${srv.https}`],
    );
    // Without the CA the proxy's own certificate is refused.
    for (const u of [`http://127.0.0.1:${srv.http}/a`, `https://127.0.0.1:${srv.https}/b`]) {
      await assert.rejects(noCA.get(u, { timeoutMs: 5000 }), { message: new RegExp(`^Get "${u.replaceAll('.', '\\.')}": proxyconnect tcp: .*certificate`) });
    }
  } finally {
    c.close();
    noCA.close();
    srv.close();
    await proxy.close();
  }
});

test('proxy failures are reported in Go words', async () => {
  const proxy = await startProxy({ requiredAuth: 'Basic never' });
  const srv = await echoServers();
  const dead = net.createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  const deadPort = (dead.address() as net.AddressInfo).port;
  await new Promise<void>((r) => dead.close(() => r()));
  const c = new HttpClient(withCA({ proxyUrl: proxy.url }));
  const gone = new HttpClient(withCA({ proxyUrl: `http://127.0.0.1:${deadPort}` }));
  const socks = new HttpClient(withCA({ proxyUrl: 'socks5://127.0.0.1:1080' }));
  try {
    const tlsUrl = `https://127.0.0.1:${srv.https}/`;
    await assert.rejects(c.get(tlsUrl, { timeoutMs: 5000 }), { message: `Get "${tlsUrl}": Proxy Authentication Required` });
    // Through an absolute-form request the proxy's answer is the response.
    assert.equal((await c.get(`http://127.0.0.1:${srv.http}/`, { timeoutMs: 5000 })).status, 407);
    for (const u of [tlsUrl, `http://127.0.0.1:${srv.http}/`]) {
      await assert.rejects(gone.get(u, { timeoutMs: 5000 }), { message: `Get "${u}": proxyconnect tcp: dial tcp 127.0.0.1:${deadPort}: connect: connection refused` });
    }
    await assert.rejects(socks.get(tlsUrl, { timeoutMs: 5000 }), /proxy scheme "socks5" is not supported/);
  } finally {
    c.close();
    gone.close();
    socks.close();
    srv.close();
    await proxy.close();
  }
});

test('a CONNECT that never gets an answer ends at the request deadline', async () => {
  const silent = net.createServer(() => undefined);
  const socks = new Set<net.Socket>();
  silent.on('connection', (s) => socks.add(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const c = new HttpClient(withCA({ proxyUrl: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}` }));
  try {
    await assert.rejects(c.get('https://127.0.0.1:1/', { timeoutMs: 200 }), { message: 'Get "https://127.0.0.1:1/": context deadline exceeded' });
  } finally {
    c.close();
    for (const s of socks) s.destroy();
    silent.close();
  }
});

test('no_proxy and proxy_from_environment send matching and loopback targets direct', async () => {
  const proxy = await startProxy();
  const srv = await echoServers();
  const withNoProxy = new HttpClient(withCA({ proxyUrl: proxy.url, noProxy: 'skip.invalid' }));
  const fromEnv = new HttpClient(withCA({ proxyFromEnvironment: true }), { env: { http_proxy: proxy.url, NO_PROXY: '10.0.0.0/8' } });
  try {
    for (const c of [withNoProxy, fromEnv]) {
      proxy.seen.length = 0;
      // Loopback targets are never proxied once NO_PROXY rules apply.
      assert.equal((await c.get(`http://127.0.0.1:${srv.http}/direct`, { timeoutMs: 5000 })).status, 200);
      assert.equal((await c.get(`http://localhost:${srv.http}/direct`, { timeoutMs: 5000 })).status, 200);
      assert.equal((await c.get(`http://target.test:${srv.http}/proxied`, { timeoutMs: 5000 })).status, 200);
      assert.deepEqual(
        proxy.seen.map((s) => s.target),
        [`http://target.test:${srv.http}/proxied`],
      );
    }
    // HTTPS_PROXY is unset: https goes direct.
    assert.equal((await fromEnv.get(`https://127.0.0.1:${srv.https}/`, { timeoutMs: 5000 })).status, 200);
    await assert.rejects(withNoProxy.get(`http://a.skip.invalid:${srv.http}/`, { timeoutMs: 5000 }), {
      message: /^Get "http:\/\/a\.skip\.invalid:\d+\/": (dial tcp: lookup a\.skip\.invalid: no such host|getaddrinfo EAI_AGAIN)/,
    });
  } finally {
    withNoProxy.close();
    fromEnv.close();
    srv.close();
    await proxy.close();
  }
});
