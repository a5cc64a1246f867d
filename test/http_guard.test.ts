// The HTTP server guards itself against stalled and surplus connections: with real
// sockets against a tsprom process, connections that trickle headers or never send
// their announced body are closed after --web.read-timeout, and at
// --web.max-connections idle connections make room for new clients.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { startTsprom, type Tsprom } from './api_process.js';
import { WebServer, text } from '../src/web/server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Watched {
  socket: Socket;
  /** Everything the server sent. */
  data: string;
  closed: Promise<void>;
}

/** Opens a socket and records what the server sends until it closes. */
function open(port: number): Promise<Watched> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const w: Watched = { socket, data: '', closed: new Promise((r) => socket.once('close', () => r())) };
    socket.on('data', (c: Buffer) => (w.data += c.toString('latin1')));
    // A refused connection is reset: that is one of the outcomes under test.
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve(w));
    socket.once('close', () => resolve(w));
  });
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function metric(base: string, name: string, labels: string): Promise<number> {
  const t = await (await fetch(`${base}/metrics`)).text();
  const line = t.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? NaN : Number(line.split(' ').pop());
}

describe('slow clients against a tsprom process (--web.read-timeout=2s, --web.max-connections=512)', () => {
  let ts: Tsprom;
  before(async () => {
    ts = await startTsprom({ args: ['--web.read-timeout=2s', '--web.max-connections=512'] });
  });
  after(async () => {
    await ts.stop();
  });

  test('600 sockets trickling headers cannot lock a normal client out, and are all closed after the read timeout', { timeout: 120_000 }, async () => {
    const slow: Watched[] = [];
    for (let i = 0; i < 600; i++) slow.push(await open(ts.port));
    // Every socket starts a request and trickles a header line now and then, never finishing.
    for (const w of slow) if (!w.socket.destroyed) w.socket.write('GET /-/healthy HTTP/1.1\r\nHost: x\r\n');
    let trickling = true;
    const trickle = (async () => {
      while (trickling) {
        await sleep(300);
        for (const w of slow) if (!w.socket.destroyed) w.socket.write('X-Slow: 1\r\n');
      }
    })();
    // Past the age at which a stalled connection may give its place to a newcomer.
    await sleep(1200);
    const started = performance.now();
    const r = await get(ts.port, '/-/healthy');
    const took = performance.now() - started;
    console.log(`normal client answered ${r.status} in ${took.toFixed(1)} ms while 600 slow sockets were open`);
    assert.equal(r.status, 200);
    assert.match(r.body, /Healthy/);

    // Every slow socket is closed by the server: the read timeout, the cap or an eviction.
    const closedBy = Promise.all(slow.map((w) => w.closed));
    const guard = sleep(30_000).then(() => 'still open');
    assert.notEqual(await Promise.race([closedBy.then(() => 'closed'), guard]), 'still open');
    trickling = false;
    await trickle;
    const timedOut = slow.filter((w) => w.data.startsWith('HTTP/1.1 408 Request Timeout')).length;
    console.log(`slow sockets: ${timedOut} answered 408 after the read timeout, ${600 - timedOut} refused or evicted at the cap`);
    assert.ok(timedOut > 0);
    const readTimeouts = await metric(ts.base, 'tsprom_http_connections_closed_by_guard_total', 'reason="read_timeout"');
    assert.ok(readTimeouts >= timedOut, `read_timeout ${readTimeouts}, 408s seen ${timedOut}`);
    // Past the cap, each newcomer either displaced a slow socket (once it had stalled for a second) or was refused.
    const overLimit = await metric(ts.base, 'tsprom_http_connections_closed_by_guard_total', 'reason="over_limit"');
    const evicted = await metric(ts.base, 'tsprom_http_connections_closed_by_guard_total', 'reason="idle_evicted"');
    assert.ok(overLimit + evicted >= 600 - 512, `over_limit ${overLimit}, idle_evicted ${evicted}`);
    const accepted = await metric(ts.base, 'net_conntrack_listener_conn_accepted_total', 'listener_name="http"');
    assert.ok(accepted >= 601, `accepted ${accepted}`);
  });

  test('a request whose announced body never comes is closed after the read timeout', { timeout: 60_000 }, async () => {
    const w = await open(ts.port);
    w.socket.write('POST /api/v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nquery=');
    const res = await Promise.race([w.closed.then(() => 'closed'), sleep(30_000).then(() => 'still open')]);
    assert.equal(res, 'closed');
  });

  test('an idle keep-alive connection is closed after the read timeout', { timeout: 60_000 }, async () => {
    const w = await open(ts.port);
    w.socket.write('GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n');
    const res = await Promise.race([w.closed.then(() => 'closed'), sleep(30_000).then(() => 'still open')]);
    assert.equal(res, 'closed');
    assert.match(w.data, /^HTTP\/1\.1 200 OK/);
  });
});

test('at the connection cap the longest-idle keep-alive connection makes room for a new client', { timeout: 30_000 }, async () => {
  const web = new WebServer({ listenAddress: '127.0.0.1:0', maxConnections: 2, readTimeoutMs: 60_000 });
  web.route('GET', '/ping', () => text(200, 'pong\n'));
  const { port } = await web.listen();
  try {
    const a = await open(port);
    a.socket.write('GET /ping HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(100);
    const b = await open(port);
    b.socket.write('GET /ping HTTP/1.1\r\nHost: x\r\n\r\n');
    // Both are idle keep-alive connections now; wait past the eviction threshold.
    await sleep(1200);
    const r = await get(port, '/ping');
    assert.deepEqual(r, { status: 200, body: 'pong\n' });
    // The older of the two was closed to let it in; the other stays open.
    await a.closed;
    assert.equal(b.socket.destroyed, false);
    b.socket.destroy();
  } finally {
    await web.close(1000);
  }
});
