// The outgoing HTTP client behind proxies, end to end with real tsprom processes:
// scrapes (http targets by absolute-form requests, https targets through CONNECT),
// no_proxy, proxy_from_environment, remote write with an oauth2 token fetched through
// its own proxy, and remote read, all through small recording proxies on 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { api, startTsprom, type Tsprom } from './api_process.js';
import { until } from './alertmanager_process.js';
import { startProxy, type TestProxy } from './fixtures/proxy/proxy_server.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/scrape');

async function listen(srv: http.Server): Promise<number> {
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return (srv.address() as AddressInfo).port;
}

/** Starts tsprom with these proxy variables in its environment (and only its). */
async function startWithEnv(env: Record<string, string>, opts: Parameters<typeof startTsprom>[0]): Promise<Tsprom> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await startTsprom(opts);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function instantValue(base: string, q: string): Promise<string | null> {
  const r = await api(`${base}/api/v1/query?query=${encodeURIComponent(q)}`);
  const data = r.body.data as { result: { value: [number, string] }[] } | undefined;
  return data?.result[0]?.value[1] ?? null;
}

test('scrapes, remote write, oauth2 tokens and remote read go through the configured proxies', { timeout: 120_000 }, async () => {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(path === '/b-only' ? 'only_in_b 7\n' : `proxied_metric{path="${path}"} 1\n`);
  };
  const exporter = http.createServer(handler);
  const tlsExporter = https.createServer({ cert: readFileSync(join(FIXTURES, 'server.pem')), key: readFileSync(join(FIXTURES, 'server_key.pem')) }, handler);
  let tokens = 0;
  const tokenServer = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      tokens++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ access_token: 'tok', token_type: 'bearer', expires_in: 3600 }));
    });
  });
  const exp = await listen(exporter);
  const tlsExp = await listen(tlsExporter);
  const tokenPort = await listen(tokenServer);
  const auth = 'Basic ' + Buffer.from('user:pass').toString('base64');
  const p1: TestProxy = await startProxy({ requiredAuth: auth });
  const p2: TestProxy = await startProxy();
  const p1Url = `http://user:pass@127.0.0.1:${p1.port}`;
  let b: Tsprom | null = null;
  let a: Tsprom | null = null;
  try {
    // B receives A's remote write, and holds a series A only sees by remote read.
    b = await startTsprom({
      args: ['--web.enable-remote-write-receiver'],
      config: `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: b\n    metrics_path: /b-only\n    static_configs: [{ targets: ['127.0.0.1:${exp}'] }]\n`,
    });
    const bAddr = `127.0.0.1:${b.port}`;
    a = await startWithEnv(
      { HTTP_PROXY: p2.url, NO_PROXY: '', http_proxy: '', HTTPS_PROXY: '', https_proxy: '', no_proxy: '' },
      {
        config: `global:
  scrape_interval: 1s
  external_labels: { from: a }
scrape_configs:
  - job_name: via-proxy-http
    metrics_path: /http
    static_configs: [{ targets: ['127.0.0.1:${exp}'] }]
    proxy_url: ${p1Url}
  - job_name: via-proxy-https
    scheme: https
    metrics_path: /https
    tls_config: { ca_file: ${join(FIXTURES, 'ca.pem')} }
    static_configs: [{ targets: ['127.0.0.1:${tlsExp}'] }]
    proxy_url: ${p1Url}
    proxy_connect_header: { X-Job: [tls] }
  - job_name: no-proxy
    metrics_path: /bypass
    static_configs: [{ targets: ['127.0.0.1:${exp}'] }]
    proxy_url: ${p2.url}
    no_proxy: internal.example
  - job_name: from-env
    metrics_path: /env
    static_configs: [{ targets: ['env-target.test:${exp}', '127.0.0.1:${exp}'] }]
    proxy_from_environment: true
remote_write:
  - url: http://${bAddr}/api/v1/write
    proxy_url: ${p1Url}
    oauth2:
      client_id: id
      client_secret: secret
      token_url: http://token.test:${tokenPort}/token
      proxy_url: ${p2.url}
    queue_config: { batch_send_deadline: 100ms }
remote_read:
  - url: http://${bAddr}/api/v1/read
    proxy_url: ${p1Url}
    read_recent: true
    # A's external label would otherwise be a matcher B's series lack.
    filter_external_labels: false
`,
      },
    );
    const aBase = a.base;
    await until(async () => {
      const r = await api(`${aBase}/api/v1/targets`);
      const active = (r.body.data as { activeTargets: { health: string }[] }).activeTargets;
      return active.length === 5 && active.every((t) => t.health === 'up') ? true : null;
    }, 'every target of A up');

    const seen1 = p1.seen.map((s) => `${s.method} ${s.target}`);
    assert.ok(seen1.includes(`GET http://127.0.0.1:${exp}/http`), seen1.join('\n'));
    assert.ok(seen1.includes(`CONNECT 127.0.0.1:${tlsExp}`), seen1.join('\n'));
    const connect = p1.seen.find((s) => s.method === 'CONNECT')!;
    assert.equal(connect.headers['x-job'], 'tls');
    assert.ok(p1.seen.every((s) => s.headers['proxy-authorization'] === auth));
    const seen2 = p2.seen.map((s) => `${s.method} ${s.target}`);
    // proxy_from_environment: a named target through HTTP_PROXY, the loopback one direct; no_proxy's loopback target direct.
    assert.ok(seen2.includes(`GET http://env-target.test:${exp}/env`), seen2.join('\n'));
    assert.ok(!seen2.some((s) => s.includes('127.0.0.1')), seen2.join('\n'));

    // Remote write through P1, with the token fetched through P2.
    await until(async () => ((await instantValue(b!.base, 'count(proxied_metric{from="a"})')) === '5' ? true : null), 'A\'s samples in B');
    assert.ok(p1.seen.some((s) => s.method === 'POST' && s.target === `http://${bAddr}/api/v1/write`));
    assert.ok(p2.seen.some((s) => s.method === 'POST' && s.target === `http://token.test:${tokenPort}/token`));
    assert.ok(tokens >= 1);

    // Remote read through P1: A answers with B's series.
    assert.equal(await until(() => instantValue(aBase, 'only_in_b'), 'B\'s series read by A'), '7');
    assert.ok(p1.seen.some((s) => s.method === 'POST' && s.target === `http://${bAddr}/api/v1/read`));
    assert.ok(!a.logs().includes('requests go direct'), 'no warning that proxies are ignored');
  } finally {
    await a?.stop();
    await b?.stop();
    await p1.close();
    await p2.close();
    exporter.closeAllConnections();
    tlsExporter.closeAllConnections();
    exporter.close();
    tlsExporter.close();
    tokenServer.close();
  }
});
