// Scrape config options end to end: honor_labels, honor_timestamps, auth, params, TLS,
// metric relabeling, label limits, target_limit, protocols and fallbacks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { MemoryStorage } from '../src/storage/memory.js';
import { ScrapeManager } from '../src/scrape/manager.js';
import type { Target } from '../src/scrape/target.js';
import { config, defaultHttpClient, readSeries, relabelConfig, scrapeConfig, waitFor } from './fixtures/scrape/helpers.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/scrape');

interface Seen {
  url: string;
  headers: http.IncomingHttpHeaders;
}

test('scrape options behave as in Prometheus', { timeout: 90_000 }, async () => {
  const seen = new Map<string, Seen>();
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = new URL(req.url!, 'http://x').pathname;
    seen.set(path, { url: req.url!, headers: req.headers });
    const text = (body: string, ct = 'text/plain; version=0.0.4') => {
      res.setHeader('content-type', ct);
      res.end(body);
    };
    switch (path) {
      case '/labels':
        return text('m{job="exposed",instance="i2",other="x"} 1\n');
      case '/timestamps':
        return text('t 1 1000\n');
      case '/auth':
        if (req.headers.authorization !== 'Basic ' + Buffer.from('user:secret').toString('base64')) {
          res.statusCode = 401;
          return res.end();
        }
        return text('authed 1\n');
      case '/bearer':
        if (req.headers.authorization !== 'Bearer tok') {
          res.statusCode = 403;
          return res.end();
        }
        return text('bearer_ok 1\n');
      case '/relabel':
        return text('keep_me 1\ndrop_me 2\n');
      case '/limits':
        return text('m{a="1",verylonglabelname="2"} 1\n');
      case '/json-but-text':
        return text('fallback_ok 1\n', 'application/json');
      default:
        return text('ok 1\n');
    }
  };
  const srv = http.createServer(handler);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const tls = https.createServer({ cert: readFileSync(join(FIXTURES, 'server.pem')), key: readFileSync(join(FIXTURES, 'server_key.pem')) }, handler);
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
  const tlsAddr = `127.0.0.1:${(tls.address() as AddressInfo).port}`;

  const db = new MemoryStorage();
  const m = new ScrapeManager({ appendable: db, discoveryUpdateIntervalMs: 20 });
  const job = (name: string, path: string, over: object = {}) =>
    scrapeConfig({ jobName: name, metricsPath: path, scrapeIntervalMs: 500, scrapeTimeoutMs: 400, staticConfigs: [{ targets: [addr], labels: {} }], ...over });
  const tlsClient = (t: Partial<typeof defaultHttpClient.tlsConfig>) => ({ ...defaultHttpClient, tlsConfig: { ...defaultHttpClient.tlsConfig, ...t } });
  const jobs = [
    job('honor', '/labels', { honorLabels: true }),
    job('nohonor', '/labels'),
    job('ts-honored', '/timestamps'),
    job('ts-ignored', '/timestamps', { honorTimestamps: false }),
    job('basic', '/auth', { httpClient: { ...defaultHttpClient, basicAuth: { username: 'user', usernameFile: '', password: 'secret', passwordFile: '' } } }),
    job('basic-wrong', '/auth', { httpClient: { ...defaultHttpClient, basicAuth: { username: 'user', usernameFile: '', password: 'nope', passwordFile: '' } } }),
    job('bearer', '/bearer', { httpClient: { ...defaultHttpClient, authorization: { type: 'Bearer', credentials: 'tok', credentialsFile: '' } } }),
    job('params', '/params', { params: { module: ['http_2xx', 'second'], target: ['example.com'] }, scrapeProtocols: ['PrometheusText0.0.4'] }),
    job('relabel', '/relabel', { metricRelabelConfigs: [relabelConfig({ sourceLabels: ['__name__'], regex: 'drop_me', action: 'drop' })] }),
    job('label-limit', '/limits', { labelLimit: 4 }),
    job('name-length', '/limits', { labelNameLengthLimit: 10 }),
    job('value-length', '/labels', { labelValueLengthLimit: 5 }),
    job('target-limit', '/ok', { targetLimit: 1, staticConfigs: [{ targets: [addr, `localhost:${addr.split(':')[1]}`], labels: {} }] }),
    job('fallback', '/json-but-text', { fallbackScrapeProtocol: 'PrometheusText0.0.4' }),
    job('tls-ca', '/ok', { scheme: 'https', staticConfigs: [{ targets: [tlsAddr], labels: {} }], httpClient: tlsClient({ caFile: join(FIXTURES, 'ca.pem') }) }),
    job('tls-insecure', '/ok', { scheme: 'https', staticConfigs: [{ targets: [tlsAddr], labels: {} }], httpClient: tlsClient({ insecureSkipVerify: true }) }),
    job('tls-unknown-ca', '/ok', { scheme: 'https', staticConfigs: [{ targets: [tlsAddr], labels: {} }] }),
  ];
  try {
    m.applyConfig(config(jobs));
    const all = (): Target[] => [...m.activeTargets().values()].flat();
    await waitFor(() => all().length === jobs.length + 1 && all().every((t) => t.health() !== 'unknown'), 'all targets scraped');
    const t = (j: string) => m.activeTargets().get(j)![0]!;
    const one = (match: Record<string, string>) => {
      const s = readSeries(db, match);
      assert.equal(s.length, 1, JSON.stringify(match));
      return s[0]!;
    };

    assert.deepEqual(one({ job: 'exposed', __name__: 'm' }).labels.toObject(), { __name__: 'm', instance: 'i2', job: 'exposed', other: 'x' });
    assert.deepEqual(one({ job: 'nohonor', __name__: 'm' }).labels.toObject(), {
      __name__: 'm',
      exported_instance: 'i2',
      exported_job: 'exposed',
      instance: addr,
      job: 'nohonor',
      other: 'x',
    });

    assert.equal(one({ job: 'ts-honored', __name__: 't' }).ts[0], 1000);
    const ignored = one({ job: 'ts-ignored', __name__: 't' });
    const up = one({ job: 'ts-ignored', __name__: 'up' });
    assert.equal(ignored.ts[0], up.ts[0]);

    assert.equal(t('basic').health(), 'up');
    assert.equal(t('basic-wrong').lastError(), 'server returned HTTP status 401 Unauthorized');
    assert.equal(t('bearer').health(), 'up');

    const params = seen.get('/params')!;
    assert.equal(params.url, '/params?module=http_2xx&module=second&target=example.com');
    assert.equal(params.headers.accept, 'text/plain;version=0.0.4;q=0.6,*/*;q=0.5');
    assert.equal(params.headers['x-prometheus-scrape-timeout-seconds'], '0.4');
    assert.equal(params.headers['accept-encoding'], 'gzip');

    assert.equal(readSeries(db, { job: 'relabel', __name__: 'drop_me' }).length, 0);
    assert.equal(readSeries(db, { job: 'relabel', __name__: 'keep_me' }).length, 1);
    assert.equal(one({ job: 'relabel', __name__: 'scrape_samples_scraped' }).vs[0], 2);
    assert.equal(one({ job: 'relabel', __name__: 'scrape_samples_post_metric_relabeling' }).vs[0], 1);

    assert.equal(t('label-limit').lastError(), 'label_limit exceeded (metric: m, number of labels: 5, limit: 4)');
    assert.equal(t('name-length').lastError(), 'label_name_length_limit exceeded (metric: m, label name: verylonglabelname, length: 17, limit: 10)');
    assert.equal(t('value-length').lastError(), 'label_value_length_limit exceeded (metric: m, label name: exported_job, value: "exposed", length: 7, limit: 5)');

    const limited = m.activeTargets().get('target-limit')!;
    assert.equal(limited.length, 2);
    for (const x of limited) assert.equal(x.lastError(), 'target_limit exceeded (number of targets: 2, limit: 1)');
    assert.equal(readSeries(db, { job: 'target-limit', __name__: 'ok' }).length, 0);

    assert.equal(t('fallback').health(), 'up');
    assert.equal(readSeries(db, { __name__: 'fallback_ok' }).length, 1);

    assert.equal(t('tls-ca').health(), 'up', t('tls-ca').lastError());
    assert.equal(t('tls-insecure').health(), 'up', t('tls-insecure').lastError());
    assert.equal(t('tls-unknown-ca').health(), 'down');
    assert.match(t('tls-unknown-ca').lastError(), /^Get "https:\/\/127\.0\.0\.1:\d+\/ok": .*certificate/);
  } finally {
    await m.stop();
    srv.close();
    tls.close();
  }
});
