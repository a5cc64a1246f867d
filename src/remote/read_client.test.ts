// The remote read client's requests (headers, auth) and its handling of
// answers, against servers in this process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { compressSync, uncompressSync } from 'snappy';
import { Registry } from 'prom-client';
import { loadConfig } from '../config/load.js';
import { Labels } from '../model/labels.js';
import { MatchType, Matcher } from '../model/matcher.js';
import { ReadClient, ReadClientMetrics } from './read_client.js';
import { ReadResponseWriter, decodeReadRequest, type ReadQuery } from './read_request.js';

interface Seen {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  url: string;
}

/** A server answering every request with `answer`; it records what it got. */
async function serve(answer: (req: Seen, res: http.ServerResponse) => void): Promise<{ base: string; seen: Seen[]; close(): void }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const s = { headers: req.headers, body: Buffer.concat(parts), url: req.url ?? '' };
      seen.push(s);
      answer(s, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => server.close() };
}

function samplesAnswer(res: http.ServerResponse): void {
  const w = new ReadResponseWriter();
  w.beginResult();
  w.series(Labels.fromPairs('__name__', 'up'), Float64Array.from([1000]), Float64Array.from([1]), 1);
  w.endResult();
  res.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' });
  res.end(compressSync(w.finish()));
}

const q: ReadQuery = { startMs: 0, endMs: 5000, matchers: [Matcher.create(MatchType.Equal, '__name__', 'up')], hints: null };

function client(yaml: string, registry?: Registry): ReadClient {
  return new ReadClient(loadConfig(yaml).remoteRead[0]!, new ReadClientMetrics(registry), 0);
}

test('read client: protocol headers, configured headers and basic auth; streamed chunks asked first', async () => {
  const srv = await serve((_s, res) => samplesAnswer(res));
  const c = client(`remote_read:\n  - url: ${srv.base}/api/v1/read\n    headers:\n      X-Scope-OrgID: team-a\n    basic_auth:\n      username: u\n      password: p\n`);
  try {
    const got = await c.read(q);
    assert.deepEqual(
      got.map((s) => [s.labels.toString(), [...s.timestamps]]),
      [['{__name__="up"}', [1000]]],
    );
    const h = srv.seen[0]!.headers;
    assert.equal(h['content-encoding'], 'snappy');
    assert.equal(h['content-type'], 'application/x-protobuf');
    assert.equal(h['x-prometheus-remote-read-version'], '0.1.0');
    assert.match(String(h['user-agent']), /^tsprom\//);
    assert.equal(h['x-scope-orgid'], 'team-a');
    assert.equal(h['authorization'], `Basic ${Buffer.from('u:p').toString('base64')}`);
    const req = decodeReadRequest(uncompressSync(srv.seen[0]!.body) as Buffer);
    assert.deepEqual(req.acceptedResponseTypes, [1, 0]);
    assert.equal(req.queries.length, 1);
  } finally {
    c.close();
    srv.close();
  }
});

test('read client: oauth2 client credentials become a bearer token', async () => {
  const token = await serve((s, res) => {
    const form = new URLSearchParams(s.body.toString());
    assert.equal(form.get('grant_type'), 'client_credentials');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ access_token: 'tok', token_type: 'Bearer', expires_in: 3600 }));
  });
  const srv = await serve((_s, res) => samplesAnswer(res));
  const c = client(`remote_read:\n  - url: ${srv.base}/api/v1/read\n    oauth2:\n      client_id: id\n      client_secret: s\n      token_url: ${token.base}/token\n`);
  try {
    await c.read(q);
    await c.read(q);
    assert.equal(srv.seen[0]!.headers['authorization'], 'Bearer tok');
    // The token is reused while valid.
    assert.equal(token.seen.length, 1);
  } finally {
    c.close();
    srv.close();
    token.close();
  }
});

test('read client: error answers, unknown content types and corrupt bodies are errors naming what happened', async () => {
  let mode = 0;
  const registry = new Registry();
  const srv = await serve((_s, res) => {
    if (mode === 0) {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end('boom\n');
    } else if (mode === 1) {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html>');
    } else {
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
      res.end(Buffer.from([0xff, 0xff, 0xff]));
    }
  });
  const c = client(`remote_read:\n  - url: ${srv.base}/api/v1/read\n    name: r\n`, registry);
  try {
    await assert.rejects(c.read(q), new RegExp(`^RemoteReadError: remote server ${srv.base}/api/v1/read returned http status 500 Internal Server Error: boom$`));
    mode = 1;
    await assert.rejects(c.read(q), /unsupported content type: text\/html/);
    mode = 2;
    await assert.rejects(c.read(q), /error reading response: /);
    const m = await registry.getSingleMetricAsString('prometheus_remote_read_client_queries_total');
    assert.match(m, /response_type="unsupported",code="200"\} 1/);
    assert.match(m, /response_type="sampled",code="200"\} 1/);
  } finally {
    c.close();
    srv.close();
  }
});
