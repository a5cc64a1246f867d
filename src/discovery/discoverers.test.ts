import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry } from 'prom-client';
import type { HTTPClientConfig } from '../config/types.js';
import { nopLogger } from '../logging/types.js';
import { HttpDiscoverer, type DiscoveryMetrics } from './discoverers.js';
import type { TargetGroup } from './target_group.js';

const httpClient: HTTPClientConfig = {
  basicAuth: null,
  authorization: null,
  tlsConfig: { ca: '', caFile: '', cert: '', certFile: '', key: '', keyFile: '', serverName: '', insecureSkipVerify: false, minVersion: '', maxVersion: '' },
  proxyUrl: '',
  noProxy: '',
  proxyFromEnvironment: false,
  proxyConnectHeader: {},
  followRedirects: true,
  enableHttp2: true,
  httpHeaders: {},
};

function metrics(): DiscoveryMetrics {
  const registers = [new Registry()];
  return {
    fileReadErrors: new Counter({ name: 'file_read_errors', help: 'h', registers }),
    fileScanDuration: new Histogram({ name: 'file_scan_duration', help: 'h', registers }),
    httpFailures: new Counter({ name: 'http_failures', help: 'h', registers }),
    dnsLookups: new Counter({ name: 'dns_lookups', help: 'h', registers }),
    dnsLookupFailures: new Counter({ name: 'dns_lookup_failures', help: 'h', registers }),
    refreshFailures: new Counter({ name: 'refresh_failures', help: 'h', labelNames: ['mechanism', 'config'] as const, registers }),
  };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), what);
}

test('http_sd: an answer over the body bound fails the refresh, is counted, and keeps the last targets', { timeout: 30_000 }, async () => {
  const small = JSON.stringify([{ targets: ['a:80'] }]);
  const big = JSON.stringify([{ targets: Array.from({ length: 200 }, (_, i) => `host-${i}:80`) }]);
  let body = small;
  const srv = http.createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(body);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/sd`;
  const m = metrics();
  const updates: TargetGroup[][] = [];
  const d = new HttpDiscoverer({ url, refreshIntervalMs: 50, httpClient }, nopLogger, m, 'test', 1024);
  try {
    d.start((g) => updates.push([...g]));
    await until(() => updates.length > 0, 'first refresh');
    assert.deepEqual(updates[0]!.flatMap((g) => g.targets.map((t) => t.__address__)), ['a:80']);
    assert.ok(big.length > 1024);
    body = big;
    await until(() => d.lastError !== null, 'oversized answer rejected');
    assert.equal(d.lastError, 'body size limit exceeded');
    assert.ok(((await m.httpFailures.get()).values[0]?.value ?? 0) >= 1);
    const seen = updates.length;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(updates.length, seen, 'no update replaces the last good targets');
  } finally {
    d.stop();
    srv.close();
  }
});
