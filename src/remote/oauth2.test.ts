import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from '../config/load.js';
import { OAuth2TokenSource } from './oauth2.js';

test('remote_write oauth2: client credentials, validated as Prometheus validates them', () => {
  const cfg = loadConfig(`remote_write:
  - url: http://h/w
    oauth2: { client_id: id, client_secret: s, token_url: http://h/token, scopes: [a, b], endpoint_params: { audience: x } }
`);
  const o = cfg.remoteWrite[0]!.oauth2!;
  assert.deepEqual([o.clientId, o.clientSecret, o.tokenUrl, o.scopes, o.endpointParams], ['id', 's', 'http://h/token', ['a', 'b'], { audience: 'x' }]);
  // Remote write speaks HTTP/1.1 unless told otherwise, as Prometheus's remote-write client.
  assert.equal(cfg.remoteWrite[0]!.httpClient.enableHttp2, false);
  const bad = (yaml: string, msg: RegExp) => assert.throws(() => loadConfig(`remote_write:\n  - url: http://h/w\n${yaml}`), (e: Error) => e instanceof ConfigError && msg.test(e.message));
  bad('    oauth2: { token_url: http://h/t }\n', /oauth2 client_id must be configured/);
  bad('    oauth2: { client_id: a }\n', /oauth2 token_url must be configured/);
  bad('    oauth2: { client_id: a, token_url: http://h/t, client_secret: x, client_secret_file: /f }\n', /at most one of oauth2 client_secret/);
  bad('    oauth2: { client_id: a, token_url: http://h/t }\n    basic_auth: { username: u }\n', /at most one of basic_auth, oauth2 & authorization/);
});

test('tokens are fetched with the client credentials and kept until shortly before they expire', async () => {
  let fetched = 0;
  const seen: { auth: string | undefined; body: string }[] = [];
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      fetched++;
      seen.push({ auth: req.headers.authorization, body });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ access_token: `tok${fetched}`, token_type: 'bearer', expires_in: 60 }));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  let now = 0;
  const cfg = loadConfig(`remote_write:
  - url: http://h/w
    oauth2: { client_id: id, client_secret: sec, token_url: 'http://127.0.0.1:${port}/token', scopes: [read, write] }
`).remoteWrite[0]!.oauth2!;
  const src = new OAuth2TokenSource(cfg, 'test', () => now);
  try {
    const signal = new AbortController().signal;
    assert.equal(await src.header(signal), 'Bearer tok1');
    now = 45_000;
    assert.equal(await src.header(signal), 'Bearer tok1');
    // 60 s tokens are renewed 10 s early.
    now = 51_000;
    assert.equal(await src.header(signal), 'Bearer tok2');
    assert.equal(seen[0]!.auth, 'Basic ' + Buffer.from('id:sec').toString('base64'));
    assert.equal(seen[0]!.body, 'grant_type=client_credentials&scope=read+write');
  } finally {
    src.close();
    srv.close();
  }
});
