import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { loadConfig } from '../config/load.js';
import type { DnsResolver } from '../discovery/discoverers.js';
import type { LogFields, Logger } from '../logging/types.js';
import { buildInfo } from '../metrics/build.js';
import { Labels } from '../model/labels.js';
import { NotifierManager, type NotifierAlert, type NotifierManagerOptions } from './manager.js';

interface Received {
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly alerts: { labels: Record<string, string>; annotations?: Record<string, string>; startsAt: string; endsAt: string; generatorURL?: string }[];
}

/** A fake Alertmanager on 127.0.0.1 that records every post and answers with `status`. */
async function fakeAlertmanager(status = 200): Promise<{ addr: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, alerts: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Received['alerts'] });
      res.statusCode = status;
      res.end(status === 200 ? '' : 'bad alerts');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${(srv.address() as net.AddressInfo).port}`;
  return { addr, received, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

/** Accepts connections and never answers. */
async function silentServer(): Promise<{ addr: string; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${(srv.address() as net.AddressInfo).port}`;
  return {
    addr,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

/** An address nothing listens on. */
async function refusedAddress(): Promise<string> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return `127.0.0.1:${port}`;
}

class CapturingLogger implements Logger {
  constructor(readonly lines: { level: string; msg: string; fields: LogFields }[] = [], private readonly bound: LogFields = {}) {}
  debug(msg: string, f?: LogFields): void {
    this.lines.push({ level: 'debug', msg, fields: { ...this.bound, ...f } });
  }
  info(msg: string, f?: LogFields): void {
    this.lines.push({ level: 'info', msg, fields: { ...this.bound, ...f } });
  }
  warn(msg: string, f?: LogFields): void {
    this.lines.push({ level: 'warn', msg, fields: { ...this.bound, ...f } });
  }
  error(msg: string, f?: LogFields): void {
    this.lines.push({ level: 'error', msg, fields: { ...this.bound, ...f } });
  }
  with(f: LogFields): Logger {
    return new CapturingLogger(this.lines, { ...this.bound, ...f });
  }
}

function alert(name: string, extra: Record<string, string> = {}, over: Partial<NotifierAlert> = {}): NotifierAlert {
  return { labels: Labels.fromObject({ alertname: name, ...extra }), annotations: Labels.EMPTY, startsAt: 0, endsAt: 0, generatorURL: '', ...over };
}

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for: ${what}`);
}

async function metric(reg: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const m = reg.getSingleMetric(name);
  if (m === undefined) return undefined;
  const values = (await m.get()).values as { labels: Record<string, string | number>; value: number; metricName?: string }[];
  const want = Object.entries(labels);
  return values.find((v) => (v.metricName === undefined || v.metricName === name) && Object.keys(v.labels).length === want.length && want.every(([k, x]) => v.labels[k] === x))?.value;
}

function manager(reg: Registry, opts: NotifierManagerOptions = {}): NotifierManager {
  return new NotifierManager({ registry: reg, discoveryUpdateIntervalMs: 10, ...opts });
}

function amConfig(targets: string[], extra = '', top = ''): string {
  return `${top}
alerting:
  alertmanagers:
    - static_configs: [{targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]}]
${extra
  .split('\n')
  .map((l) => (l === '' ? l : `      ${l}`))
  .join('\n')}
`;
}

test('alerts reach a discovered Alertmanager as one JSON post with Prometheus headers and metrics', { timeout: 30_000 }, async () => {
  const am = await fakeAlertmanager();
  const reg = new Registry();
  const n = manager(reg);
  try {
    n.applyConfig(loadConfig(amConfig([am.addr])));
    const url = `http://${am.addr}/api/v2/alerts`;
    await until(() => n.activeAlertmanagers().length === 1, 'alertmanager discovered');
    assert.deepEqual(n.activeAlertmanagers(), [url]);
    assert.deepEqual(n.droppedAlertmanagers(), []);
    assert.equal(await metric(reg, 'prometheus_notifications_alertmanagers_discovered'), 1);
    assert.equal(await metric(reg, 'prometheus_notifications_sent_total', { alertmanager: url }), 0, 'counters start at 0');
    n.send([
      alert('A', { job: 'x' }, { annotations: Labels.fromObject({ summary: 's' }), startsAt: Date.UTC(2024, 0, 1), generatorURL: 'http://p/graph' }),
      alert('B', {}, { startsAt: Date.UTC(2024, 0, 1), endsAt: Date.UTC(2024, 0, 1, 0, 5) }),
    ]);
    await until(() => am.received.length === 1, 'one post');
    const got = am.received[0]!;
    assert.equal(got.path, '/api/v2/alerts');
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(got.headers['user-agent'], `tsprom/${buildInfo().version}`);
    assert.deepEqual(got.alerts, [
      { annotations: { summary: 's' }, endsAt: '0001-01-01T00:00:00.000Z', startsAt: '2024-01-01T00:00:00.000Z', generatorURL: 'http://p/graph', labels: { alertname: 'A', job: 'x' } },
      { endsAt: '2024-01-01T00:05:00.000Z', startsAt: '2024-01-01T00:00:00.000Z', labels: { alertname: 'B' } },
    ]);
    await until(async () => (await metric(reg, 'prometheus_notifications_sent_total', { alertmanager: url })) === 2, 'sent counted');
    assert.equal(await metric(reg, 'prometheus_notifications_errors_total', { alertmanager: url }), 0);
    assert.equal(await metric(reg, 'prometheus_notifications_dropped_total'), 0);
    assert.equal(await metric(reg, 'prometheus_notifications_queue_length'), 0);
    assert.equal(await metric(reg, 'prometheus_notifications_queue_capacity'), 10000);
    const text = await reg.metrics();
    assert.match(text, /# TYPE prometheus_notifications_latency_seconds summary/);
    assert.match(text, /prometheus_notifications_latency_seconds\{quantile="0.99",alertmanager="http:\/\/127\.0\.0\.1:\d+\/api\/v2\/alerts"\}/);
    assert.match(text, /# TYPE prometheus_notifications_latency_histogram_seconds histogram/);
    assert.match(text, /prometheus_sd_discovered_targets\{config="config-0",name="notify"\} 1/);
  } finally {
    await n.stop();
    await am.close();
  }
});

test('external labels and global, then per-set alert relabeling', { timeout: 30_000 }, async () => {
  const a1 = await fakeAlertmanager();
  const a2 = await fakeAlertmanager();
  const reg = new Registry();
  const n = manager(reg);
  try {
    n.applyConfig(
      loadConfig(`
global:
  external_labels: {region: eu, team: infra}
alerting:
  alert_relabel_configs:
    - {source_labels: [severity], regex: debug, action: drop}
  alertmanagers:
    - static_configs: [{targets: ['${a1.addr}']}]
    - static_configs: [{targets: ['${a2.addr}']}]
      alert_relabel_configs:
        - {source_labels: [severity], regex: page, action: keep}
        - {target_label: via, replacement: pager}
`),
    );
    await until(() => n.activeAlertmanagers().length === 2, 'both discovered');
    n.send([alert('Own', { team: 'web', severity: 'page' }), alert('Debug', { severity: 'debug' }), alert('Ticket', { severity: 'ticket' })]);
    await until(() => a1.received.length === 1 && a2.received.length === 1, 'both posted');
    assert.deepEqual(
      a1.received[0]!.alerts.map((a) => a.labels),
      [
        { alertname: 'Own', region: 'eu', severity: 'page', team: 'web' },
        { alertname: 'Ticket', region: 'eu', severity: 'ticket', team: 'infra' },
      ],
    );
    assert.deepEqual(
      a2.received[0]!.alerts.map((a) => a.labels),
      [{ alertname: 'Own', region: 'eu', severity: 'page', team: 'web', via: 'pager' }],
    );
    const url2 = `http://${a2.addr}/api/v2/alerts`;
    await until(async () => (await metric(reg, 'prometheus_notifications_sent_total', { alertmanager: url2 })) === 1, 'set 2 counts its one alert');
    assert.equal(await metric(reg, 'prometheus_notifications_dropped_total'), 0);
  } finally {
    await n.stop();
    await a1.close();
    await a2.close();
  }
});

test('a full queue drops the oldest alerts and counts them', { timeout: 30_000 }, async () => {
  const am = await fakeAlertmanager();
  const reg = new Registry();
  const logger = new CapturingLogger();
  const n = manager(reg, { queueCapacity: 5, logger });
  try {
    n.applyConfig(loadConfig(amConfig([am.addr])));
    await until(() => n.activeAlertmanagers().length === 1, 'discovered');
    // One tick: the send loop starts only after these calls.
    n.send([alert('a0'), alert('a1'), alert('a2')]);
    n.send([alert('a3'), alert('a4'), alert('a5'), alert('a6')]);
    assert.equal(await metric(reg, 'prometheus_notifications_queue_length'), 5);
    assert.equal(await metric(reg, 'prometheus_notifications_dropped_total'), 2);
    // A single call larger than the queue keeps its newest alerts.
    n.send(Array.from({ length: 8 }, (_, i) => alert(`b${i}`)));
    assert.equal(await metric(reg, 'prometheus_notifications_dropped_total'), 2 + 3 + 5);
    await until(() => am.received.flatMap((r) => r.alerts).length === 5, 'queue sent');
    assert.deepEqual(
      am.received.flatMap((r) => r.alerts.map((a) => a.labels.alertname)),
      ['b3', 'b4', 'b5', 'b6', 'b7'],
    );
    assert.ok(logger.lines.some((l) => l.level === 'warn' && l.msg === 'Alert notification queue full, dropping alerts' && l.fields.num_dropped === 2));
    assert.ok(logger.lines.some((l) => l.msg === 'Alert batch larger than queue capacity, dropping alerts' && l.fields.num_dropped === 3));
  } finally {
    await n.stop();
    await am.close();
  }
});

test('batches hold at most 256 alerts (or --alertmanager.notification-batch-size) and keep their order', { timeout: 30_000 }, async () => {
  const am = await fakeAlertmanager();
  const reg = new Registry();
  const n = manager(reg);
  const small = manager(new Registry(), { maxBatchSize: 2 });
  try {
    n.applyConfig(loadConfig(amConfig([am.addr])));
    await until(() => n.activeAlertmanagers().length === 1, 'discovered');
    n.send(Array.from({ length: 600 }, (_, i) => alert(`a${i}`)));
    await until(() => am.received.length === 3, 'three posts');
    assert.deepEqual(am.received.map((r) => r.alerts.length), [256, 256, 88]);
    assert.deepEqual(
      am.received.flatMap((r) => r.alerts.map((a) => a.labels.alertname)),
      Array.from({ length: 600 }, (_, i) => `a${i}`),
    );
    am.received.length = 0;
    small.applyConfig(loadConfig(amConfig([am.addr])));
    await until(() => small.activeAlertmanagers().length === 1, 'discovered');
    small.send([alert('x'), alert('y'), alert('z')]);
    await until(() => am.received.length === 2, 'two posts');
    assert.deepEqual(am.received.map((r) => r.alerts.length), [2, 1]);
  } finally {
    await n.stop();
    await small.stop();
    await am.close();
  }
});

test('an Alertmanager that never answers times out; send() never waits for it', { timeout: 30_000 }, async () => {
  const silent = await silentServer();
  const reg = new Registry();
  const logger = new CapturingLogger();
  const n = manager(reg, { logger, queueCapacity: 10 });
  const url = `http://${silent.addr}/api/v2/alerts`;
  try {
    n.applyConfig(loadConfig(amConfig([silent.addr], 'timeout: 200ms')));
    await until(() => n.activeAlertmanagers().length === 1, 'discovered');
    n.send([alert('a'), alert('b'), alert('c')]);
    await until(async () => (await metric(reg, 'prometheus_notifications_queue_length')) === 0, 'batch in flight');
    // While the first batch hangs, send() keeps queueing, bounded by the capacity.
    for (let i = 0; i < 4; i++) n.send([alert(`x${i}a`), alert(`x${i}b`), alert(`x${i}c`)]);
    assert.equal(await metric(reg, 'prometheus_notifications_queue_length'), 10);
    assert.equal(await metric(reg, 'prometheus_notifications_dropped_total'), 2);
    await until(async () => (await metric(reg, 'prometheus_notifications_errors_total', { alertmanager: url })) === 13, 'every batch failed');
    assert.equal(await metric(reg, 'prometheus_notifications_dropped_total'), 2 + 13);
    assert.equal(await metric(reg, 'prometheus_notifications_sent_total', { alertmanager: url }), 13, 'Prometheus counts attempts as sent');
    const err = logger.lines.find((l) => l.msg === 'Error sending alerts');
    assert.equal(err?.level, 'error');
    assert.equal(err?.fields.alertmanager, url);
    assert.equal(err?.fields.err, `Post "${url}": context deadline exceeded`);
  } finally {
    await n.stop();
    await silent.close();
  }
});

test('a refused connection and a non-2xx answer are errors; one live Alertmanager in the set is enough', { timeout: 30_000 }, async () => {
  const live = await fakeAlertmanager();
  const failing = await fakeAlertmanager(500);
  const refused = await refusedAddress();
  const reg = new Registry();
  const logger = new CapturingLogger();
  const n = manager(reg, { logger });
  try {
    n.applyConfig(loadConfig(amConfig([live.addr, refused, failing.addr])));
    await until(() => n.activeAlertmanagers().length === 3, 'discovered');
    n.send([alert('a'), alert('b')]);
    await until(async () => (await metric(reg, 'prometheus_notifications_errors_total', { alertmanager: `http://${failing.addr}/api/v2/alerts` })) === 2, 'failing counted');
    await until(async () => (await metric(reg, 'prometheus_notifications_errors_total', { alertmanager: `http://${refused}/api/v2/alerts` })) === 2, 'refused counted');
    assert.equal(await metric(reg, 'prometheus_notifications_errors_total', { alertmanager: `http://${live.addr}/api/v2/alerts` }), 0);
    assert.equal(await metric(reg, 'prometheus_notifications_dropped_total'), 0, 'the live one took the batch');
    const errs = logger.lines.filter((l) => l.msg === 'Error sending alerts').map((l) => l.fields.err);
    assert.ok(errs.includes('bad response status 500 Internal Server Error'), String(errs));
    assert.ok(errs.includes(`Post "http://${refused}/api/v2/alerts": dial tcp ${refused}: connect: connection refused`), String(errs));
  } finally {
    await n.stop();
    await live.close();
    await failing.close();
  }
});

test('a batch no Alertmanager of a set took is dropped, even when another set took it', { timeout: 30_000 }, async () => {
  const live = await fakeAlertmanager();
  const refused = await refusedAddress();
  const reg = new Registry();
  const n = manager(reg);
  try {
    n.applyConfig(
      loadConfig(`
alerting:
  alertmanagers:
    - static_configs: [{targets: ['${live.addr}']}]
    - static_configs: [{targets: ['${refused}']}]
`),
    );
    await until(() => n.activeAlertmanagers().length === 2, 'discovered');
    n.send([alert('a')]);
    await until(async () => (await metric(reg, 'prometheus_notifications_dropped_total')) === 1, 'dropped');
    assert.equal(live.received.length, 1);
  } finally {
    await n.stop();
    await live.close();
  }
});

test('path_prefix, scheme, basic auth, authorization, headers and relabel_configs shape the Alertmanager URLs', { timeout: 30_000 }, async () => {
  const am = await fakeAlertmanager();
  const dir = mkdtempSync(join(tmpdir(), 'notifier-'));
  const reg = new Registry();
  const n = manager(reg);
  try {
    writeFileSync(join(dir, 'pw'), 'secret\n');
    writeFileSync(join(dir, 'ams.json'), JSON.stringify([{ targets: [am.addr, 'drop-me:9093'], labels: { env: 'prod' } }]));
    n.applyConfig(
      loadConfig(`
alerting:
  alertmanagers:
    - path_prefix: /am/
      basic_auth: {username: prom, password_file: ${join(dir, 'pw')}}
      file_sd_configs: [{files: ['${join(dir, 'ams.json')}']}]
      relabel_configs:
        - {source_labels: [__address__], regex: 'drop-me:.*', action: drop}
        - {source_labels: [env], target_label: __alerts_path__, replacement: '/\${1}/api/v2/alerts'}
`),
    );
    await until(() => n.activeAlertmanagers().length === 1, 'discovered');
    assert.deepEqual(n.activeAlertmanagers(), [`http://${am.addr}/prod/api/v2/alerts`]);
    assert.deepEqual(n.droppedAlertmanagers(), ['http://drop-me:9093/am/api/v2/alerts']);
    n.send([alert('a')]);
    await until(() => am.received.length === 1, 'posted');
    assert.equal(am.received[0]!.path, '/prod/api/v2/alerts');
    assert.equal(am.received[0]!.headers.authorization, `Basic ${Buffer.from('prom:secret').toString('base64')}`);

    // Without relabeling, path_prefix decides the path.
    n.applyConfig(
      loadConfig(amConfig([am.addr], 'path_prefix: /sub/path/\nscheme: http\nauthorization: {credentials: tok}\nhttp_headers: {X-Tenant: {values: [t1]}}')),
    );
    await until(() => n.activeAlertmanagers()[0] === `http://${am.addr}/sub/path/api/v2/alerts`, 'prefixed path');
    n.send([alert('b')]);
    await until(() => am.received.length === 2, 'posted again');
    assert.equal(am.received[1]!.path, '/sub/path/api/v2/alerts');
    assert.equal(am.received[1]!.headers.authorization, 'Bearer tok');
    assert.equal(am.received[1]!.headers['x-tenant'], 't1');
  } finally {
    await n.stop();
    await am.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reloading keeps unchanged Alertmanager sets and what changed sets already discovered', { timeout: 30_000 }, async () => {
  const am = await fakeAlertmanager();
  const reg = new Registry();
  // Discovery batches updates for an hour after the first: reloads must not wait for it.
  const n = manager(reg, { discoveryUpdateIntervalMs: 3_600_000 });
  try {
    n.applyConfig(loadConfig(amConfig([am.addr])));
    await until(() => n.activeAlertmanagers().length === 1, 'discovered');
    n.applyConfig(loadConfig(amConfig([am.addr])));
    assert.deepEqual(n.activeAlertmanagers(), [`http://${am.addr}/api/v2/alerts`], 'unchanged set kept');
    n.applyConfig(loadConfig(amConfig([am.addr], 'timeout: 3s')));
    assert.deepEqual(n.activeAlertmanagers(), [`http://${am.addr}/api/v2/alerts`], 'same discovery, new settings');
    n.send([alert('a')]);
    await until(() => am.received.length === 1, 'posted after reload');
    n.applyConfig(loadConfig('alerting: {}'));
    assert.deepEqual(n.activeAlertmanagers(), []);
  } finally {
    await n.stop();
    await am.close();
  }
});

test('stop() sends what is queued', { timeout: 30_000 }, async () => {
  const am = await fakeAlertmanager();
  const reg = new Registry();
  const n = manager(reg);
  try {
    n.applyConfig(loadConfig(amConfig([am.addr])));
    await until(() => n.activeAlertmanagers().length === 1, 'discovered');
    n.send(Array.from({ length: 300 }, (_, i) => alert(`a${i}`)));
    await n.stop();
    assert.equal(am.received.flatMap((r) => r.alerts).length, 300);
    assert.equal(await metric(reg, 'prometheus_notifications_dropped_total'), 0);
    n.send([alert('late')]);
    assert.equal(await metric(reg, 'prometheus_notifications_queue_length'), 0, 'a stopped manager takes no alerts');
  } finally {
    await am.close();
  }
});

test('stop() gives up on a dead Alertmanager after the drain bound and counts the rest as dropped', { timeout: 30_000 }, async () => {
  const silent = await silentServer();
  const reg = new Registry();
  const n = manager(reg, { drainTimeoutMs: 100 });
  try {
    n.applyConfig(loadConfig(amConfig([silent.addr], 'timeout: 1h')));
    await until(() => n.activeAlertmanagers().length === 1, 'discovered');
    n.send(Array.from({ length: 300 }, (_, i) => alert(`a${i}`)));
    await n.stop();
    assert.equal(await metric(reg, 'prometheus_notifications_dropped_total'), 300);
    assert.equal(await metric(reg, 'prometheus_notifications_queue_length'), 0);
  } finally {
    await silent.close();
  }
});

test('with draining off, stop() drops what is queued', { timeout: 30_000 }, async () => {
  const am = await fakeAlertmanager();
  const reg = new Registry();
  const n = manager(reg, { drainOnShutdown: false });
  try {
    n.applyConfig(loadConfig(amConfig([am.addr])));
    await until(() => n.activeAlertmanagers().length === 1, 'discovered');
    n.send([alert('a'), alert('b')]);
    await n.stop();
    assert.equal(am.received.length, 0);
    assert.equal(await metric(reg, 'prometheus_notifications_dropped_total'), 2);
  } finally {
    await am.close();
  }
});

test('dns_sd_configs find Alertmanagers, and relabeling sees their __meta_dns_* labels', { timeout: 30_000 }, async () => {
  const am = await fakeAlertmanager();
  const port = Number(am.addr.split(':')[1]);
  const reg = new Registry();
  // SRV is the only lookup dns_sd_configs makes by default.
  const resolver = {
    resolveSrv: () => Promise.resolve([{ name: '127.0.0.1', port, priority: 0, weight: 0 }]),
  } as unknown as DnsResolver;
  const n = manager(reg, { dnsResolver: resolver });
  try {
    n.applyConfig(
      loadConfig(`
alerting:
  alertmanagers:
    - dns_sd_configs: [{names: [_am._tcp.example.org]}]
      relabel_configs:
        - {source_labels: [__meta_dns_name], target_label: __alerts_path__, replacement: '/via-dns/api/v2/alerts'}
`),
    );
    await until(() => n.activeAlertmanagers().length === 1, 'discovered by DNS');
    assert.deepEqual(n.activeAlertmanagers(), [`http://${am.addr}/via-dns/api/v2/alerts`]);
    n.send([alert('a')]);
    await until(() => am.received.length === 1, 'posted');
    assert.equal(am.received[0]!.path, '/via-dns/api/v2/alerts');
  } finally {
    await n.stop();
    await am.close();
  }
});
