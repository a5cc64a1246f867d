import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { Registry } from 'prom-client';
import { WebServer, text } from './server.js';
import { HttpMetrics } from '../metrics/server.js';

/** Sends raw HTTP/1.1 and returns everything the server wrote until it closed or `until` matched. */
async function raw(port: number, request: string, until: RegExp): Promise<string> {
  const s = connect(port, '127.0.0.1');
  s.write(request);
  let got = '';
  s.on('data', (c: Buffer) => {
    got += c.toString('latin1');
    if (until.test(got)) s.end();
  });
  await once(s, 'close');
  return got;
}

async function withServer(setup: (w: WebServer) => void, run: (port: number, w: WebServer) => Promise<void>): Promise<void> {
  const w = new WebServer({ listenAddress: '127.0.0.1:0' });
  setup(w);
  w.ready = true;
  const addr = await w.listen();
  try {
    await run(addr.port, w);
  } finally {
    await w.close(100);
  }
}

test('a small answer goes out with a Content-Length, not chunked, byte for byte', async () => {
  const body = '{"a":"ü ok"}';
  await withServer(
    (w) => w.route('POST', '/x', () => ({ status: 200, body, headers: { 'Content-Type': 'application/json' } })),
    async (port) => {
      const got = await raw(port, 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n', /\r\n\r\n[\s\S]+/);
      const [head, rest] = got.split('\r\n\r\n') as [string, string];
      assert.match(head, /^HTTP\/1\.1 200 OK/);
      assert.match(head, new RegExp(`Content-Length: ${Buffer.byteLength(body)}\\r?$`, 'm'));
      assert.doesNotMatch(head, /Transfer-Encoding/i);
      assert.equal(Buffer.from(rest, 'latin1').toString('utf8'), body);
    },
  );
});

test('API answers carry CORS headers over the handler\'s, only with an Origin', async () => {
  await withServer(
    (w) => w.api([{ method: 'GET', path: '/x', handler: () => ({ data: 1 }) }]),
    async (port) => {
      const plain = await raw(port, 'GET /api/v1/x HTTP/1.1\r\nHost: a\r\n\r\n', /\r\n\r\n.+\}$/);
      assert.match(plain, /^Vary: Accept-Encoding, Origin\r$/m);
      assert.doesNotMatch(plain, /Access-Control/);
      const cors = await raw(port, 'GET /api/v1/x HTTP/1.1\r\nHost: a\r\nOrigin: http://o\r\n\r\n', /\r\n\r\n.+\}$/);
      assert.match(cors, /^Access-Control-Allow-Origin: \*\r$/m);
      assert.match(cors, /\r\n\r\n\{"status":"success","data":1\}$/);
    },
  );
});

test('query-string and form parameters: form values first, then the query string; the URL is there when asked for', async () => {
  let seen: string[] = [];
  let search = '';
  await withServer(
    (w) =>
      w.route('POST', '/p/:name', (req) => {
        seen = [...req.params.getAll('a'), req.pathParams['name'] ?? ''];
        search = req.url.search;
        return text(200, 'ok');
      }),
    async (port) => {
      const form = 'a=1&a=2';
      await raw(port, `POST /p/n%20m?a=3 HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\n\r\n${form}`, /ok$/);
      assert.deepEqual(seen, ['1', '2', '3', 'n m']);
      assert.equal(search, '?a=3');
      await raw(port, `POST /p/x HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\n\r\n${form}`, /ok$/);
      assert.deepEqual(seen, ['1', '2', 'x']);
      assert.equal(search, '');
    },
  );
});

test('request bodies: in the headers\' packet, in later packets, chunked, and one after another on a kept-alive connection', async () => {
  const bodies: string[] = [];
  await withServer(
    (w) =>
      w.route('POST', '/b', (req) => {
        bodies.push(req.body.toString('utf8'));
        return text(200, `got ${req.body.length};`);
      }),
    async (port) => {
      const s = connect(port, '127.0.0.1');
      let got = '';
      s.on('data', (c: Buffer) => (got += c.toString('latin1')));
      const answered = async (n: number): Promise<void> => {
        while ((got.match(/got \d+;/g) ?? []).length < n) await once(s, 'data');
      };
      const post = (body: string): string => `POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      s.write(post('query=up'));
      await answered(1);
      // The headers alone first, the body later in two parts.
      s.write('POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n');
      await new Promise((r) => setTimeout(r, 20));
      s.write('abcde');
      await new Promise((r) => setTimeout(r, 20));
      s.write('fghij');
      await answered(2);
      s.write('POST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n2\r\n12\r\n0\r\n\r\n');
      await answered(3);
      // Two requests in one packet: each gets its own body.
      s.write(post('first') + post('ü'));
      await answered(5);
      s.write('POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n');
      await answered(6);
      s.destroy();
      assert.deepEqual(bodies, ['query=up', 'abcdefghij', 'xyz12', 'first', 'ü', '']);
    },
  );
});

test('a client that goes away aborts its request\'s signal, also when the handler reads it only afterwards', async () => {
  let arrived!: () => void;
  const handlerStarted = new Promise<void>((r) => (arrived = r));
  let release!: () => void;
  const gone = new Promise<void>((r) => (release = r));
  const aborted: boolean[] = [];
  await withServer(
    (w) =>
      w.route('GET', '/slow', async (req) => {
        arrived();
        await gone;
        aborted.push(req.signal.aborted);
        return text(200, 'late');
      }),
    async (port) => {
      const s = connect(port, '127.0.0.1');
      s.write('GET /slow HTTP/1.1\r\nHost: a\r\n\r\n');
      await handlerStarted;
      s.destroy();
      // Give the server the close event before the handler goes on.
      await new Promise((r) => setTimeout(r, 50));
      release();
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(aborted, [true]);
    },
  );
});

test('request metrics are counted by the time they are scraped', async () => {
  const registry = new Registry();
  const w = new WebServer({ listenAddress: '127.0.0.1:0', metrics: new HttpMetrics(registry) });
  w.route('GET', '/m', () => text(200, 'ok'));
  const addr = await w.listen();
  try {
    await raw(addr.port, 'GET /m HTTP/1.1\r\nHost: a\r\n\r\n', /ok$/);
    await raw(addr.port, 'GET /m HTTP/1.1\r\nHost: a\r\n\r\n', /ok$/);
    const exposition = await registry.metrics();
    assert.match(exposition, /^prometheus_http_requests_total\{code="200",handler="\/m"\} 2$/m);
    assert.match(exposition, /^prometheus_http_request_duration_seconds_count\{handler="\/m"\} 2$/m);
    assert.match(exposition, /^prometheus_http_response_size_bytes_sum\{handler="\/m"\} 4$/m);
  } finally {
    await w.close(100);
  }
});

test('route lookups: 405 for a known path, 404 otherwise, HEAD as GET, and routes added later are found', async () => {
  await withServer(
    (w) => w.route('GET', '/a/:x', (req) => text(200, `got ${req.pathParams['x'] ?? ''}`)),
    async (port, w) => {
      const status = async (m: string, p: string): Promise<string> =>
        (await raw(port, `${m} ${p} HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`, /$^/)).split('\r\n')[0]!;
      assert.equal(await status('GET', '/a/b%2Fc'), 'HTTP/1.1 200 OK');
      assert.equal(await status('HEAD', '/a/b'), 'HTTP/1.1 200 OK');
      assert.equal(await status('POST', '/a/b'), 'HTTP/1.1 405 Method Not Allowed');
      assert.equal(await status('GET', '/nope'), 'HTTP/1.1 404 Not Found');
      w.route('POST', '/a/:x', () => text(200, 'posted'));
      assert.equal(await status('POST', '/a/b'), 'HTTP/1.1 200 OK');
      const body = await raw(port, 'GET /a/b%2Fc HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', /$^/);
      assert.match(body, /got b\/c$/);
    },
  );
});
