import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import zlib from 'node:zlib';
import { HttpClient, BodySizeLimitError } from './httpclient.js';
import { defaultHttpClient } from '../../test/fixtures/scrape/helpers.js';

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
