// Service discovery with real parts: files on disk (watched), an HTTP SD endpoint, and a
// DNS server answering SRV and A queries, each feeding a DiscoveryManager or ScrapeManager.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync, unlinkSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { DiscoveryManager } from '../src/discovery/manager.js';
import type { TargetGroup } from '../src/discovery/target_group.js';
import type { ServiceDiscoveryConfigs } from '../src/config/types.js';
import { MemoryStorage } from '../src/storage/memory.js';
import { ScrapeManager } from '../src/scrape/manager.js';
import { config, defaultHttpClient, readSeries, scrapeConfig, waitFor } from './fixtures/scrape/helpers.js';

const noSD: ServiceDiscoveryConfigs = { staticConfigs: [], fileSdConfigs: [], httpSdConfigs: [], dnsSdConfigs: [] };

/** Collects the latest groups per pool from a manager. */
function collector(): { latest: Map<string, readonly TargetGroup[]>; addresses: (pool: string) => string[]; cb: (u: ReadonlyMap<string, readonly TargetGroup[]>) => void } {
  const latest = new Map<string, readonly TargetGroup[]>();
  return {
    latest,
    cb: (u) => {
      for (const [k, v] of u) latest.set(k, v);
    },
    addresses: (pool) =>
      (latest.get(pool) ?? [])
        .flatMap((g) => g.targets.map((t) => t.__address__!))
        .sort(),
  };
}

test('file_sd: JSON and YAML, watched; a bad file keeps its last targets; a deleted file removes them', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'scrape-filesd-'));
  const c = collector();
  // A long refresh interval: changes must arrive through the watcher.
  const dm = new DiscoveryManager(c.cb, { updateIntervalMs: 20 });
  try {
    writeFileSync(join(dir, 'a.json'), JSON.stringify([{ targets: ['a1:9100', 'a2:9100'], labels: { env: 'prod' } }]));
    writeFileSync(join(dir, 'b.yml'), '- targets: ["b1:9100"]\n  labels:\n    team: db\n');
    writeFileSync(join(dir, 'ignored.txt'), 'not a target file');
    dm.applyConfig(new Map([['files', { ...noSD, fileSdConfigs: [{ files: [join(dir, '*.json'), join(dir, '*.yml')], refreshIntervalMs: 3_600_000 }] }]]));
    await waitFor(() => c.addresses('files').length === 3, 'initial targets');
    const groups = c.latest.get('files')!;
    const a = groups.find((g) => g.source === `${join(dir, 'a.json')}:0`)!;
    assert.deepEqual(a.labels, { env: 'prod', __meta_filepath: join(dir, 'a.json') });
    assert.equal(groups.find((g) => g.source.endsWith('b.yml:0'))!.labels.team, 'db');

    // An edit is picked up by the watcher (written atomically, as config management does).
    writeFileSync(join(dir, 'a.json.tmp'), JSON.stringify([{ targets: ['a3:9100'] }]));
    renameSync(join(dir, 'a.json.tmp'), join(dir, 'a.json'));
    await waitFor(() => c.addresses('files').join() === 'a3:9100,b1:9100', 'edited targets');

    // A broken file keeps the last good targets.
    writeFileSync(join(dir, 'b.yml'), '- targets: [b2:9100\n  labels: {');
    writeFileSync(join(dir, 'c.json'), JSON.stringify([{ targets: ['c1:9100'], bogus: 1 }]));
    writeFileSync(join(dir, 'd.json'), JSON.stringify([{ targets: ['d1:9100'] }]));
    await waitFor(() => c.addresses('files').includes('d1:9100'), 'new file read');
    assert.deepEqual(c.addresses('files'), ['a3:9100', 'b1:9100', 'd1:9100']);

    // A deleted file's targets go away.
    unlinkSync(join(dir, 'a.json'));
    await waitFor(() => !c.addresses('files').includes('a3:9100'), 'deleted file');
    assert.deepEqual(c.addresses('files'), ['b1:9100', 'd1:9100']);
  } finally {
    dm.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('http_sd: polls the endpoint, adds __meta_url, empties groups that went away, keeps targets on errors', { timeout: 60_000 }, async () => {
  let status = 200;
  let body = JSON.stringify([{ targets: ['h1:80'], labels: { a: 'b' } }, { targets: ['h2:80'] }]);
  let seenRefreshHeader = '';
  const srv = http.createServer((req, res) => {
    seenRefreshHeader = String(req.headers['x-prometheus-refresh-interval-seconds']);
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(body);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/sd`;
  const c = collector();
  const dm = new DiscoveryManager(c.cb, { updateIntervalMs: 20 });
  try {
    dm.applyConfig(new Map([['web', { ...noSD, httpSdConfigs: [{ url, refreshIntervalMs: 200, httpClient: defaultHttpClient }] }]]));
    await waitFor(() => c.addresses('web').length === 2, 'http targets');
    const g0 = c.latest.get('web')!.find((g) => g.source === `${url}:0`)!;
    assert.deepEqual(g0.labels, { a: 'b', __meta_url: url });
    assert.equal(seenRefreshHeader, '0.2');
    body = JSON.stringify([{ targets: ['h3:80'] }]);
    await waitFor(() => c.addresses('web').join() === 'h3:80', 'shrunk list');
    status = 500;
    await new Promise((r) => setTimeout(r, 600));
    assert.deepEqual(c.addresses('web'), ['h3:80']);
  } finally {
    dm.stop();
    srv.close();
  }
});

/** A minimal authoritative DNS server: SRV and A answers from a table, NXDOMAIN otherwise. */
function dnsServer(records: { srv: Record<string, { target: string; port: number }[]>; a: Record<string, string[]> }): dgram.Socket {
  const sock = dgram.createSocket('udp4');
  const encodeName = (name: string): Buffer => Buffer.concat([...name.replace(/\.$/, '').split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  sock.on('message', (msg, rinfo) => {
    let i = 12;
    const labels: string[] = [];
    while (msg[i] !== 0) {
      labels.push(msg.subarray(i + 1, i + 1 + msg[i]!).toString());
      i += msg[i]! + 1;
    }
    const qEnd = i + 5;
    const qtype = msg.readUInt16BE(i + 1);
    const name = labels.join('.').toLowerCase();
    const answers: Buffer[] = [];
    const rr = (type: number, rdata: Buffer) => {
      const h = Buffer.alloc(12);
      h.writeUInt16BE(0xc00c, 0);
      h.writeUInt16BE(type, 2);
      h.writeUInt16BE(1, 4);
      h.writeUInt32BE(5, 6);
      h.writeUInt16BE(rdata.length, 10);
      answers.push(h, rdata);
    };
    let found = false;
    if (qtype === 33 && records.srv[name]) {
      found = true;
      for (const r of records.srv[name]!) {
        const fixed = Buffer.alloc(6);
        fixed.writeUInt16BE(10, 0);
        fixed.writeUInt16BE(5, 2);
        fixed.writeUInt16BE(r.port, 4);
        rr(33, Buffer.concat([fixed, encodeName(r.target)]));
      }
    } else if (qtype === 1 && records.a[name]) {
      found = true;
      for (const ip of records.a[name]!) rr(1, Buffer.from(ip.split('.').map(Number)));
    }
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2);
    header.writeUInt16BE(found ? 0x8580 : 0x8583, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(found ? answers.length / 2 : 0, 6);
    sock.send(Buffer.concat([header, msg.subarray(12, qEnd), ...answers]), rinfo.port, rinfo.address);
  });
  return sock;
}

test('dns_sd: SRV and A records with __meta_dns_* labels', { timeout: 60_000 }, async () => {
  const records = {
    srv: { '_metrics._tcp.example.test': [{ target: 'node1.example.test', port: 9100 }, { target: 'node2.example.test', port: 9101 }] },
    a: { 'web.example.test': ['10.0.0.1', '10.0.0.2'] },
  };
  const sock = dnsServer(records);
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const resolver = new dnsPromises.Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([`127.0.0.1:${sock.address().port}`]);
  const c = collector();
  const dm = new DiscoveryManager(c.cb, { updateIntervalMs: 20, dnsResolver: resolver });
  try {
    dm.applyConfig(
      new Map([
        ['srv', { ...noSD, dnsSdConfigs: [{ names: ['_metrics._tcp.example.test'], type: 'SRV', port: 0, refreshIntervalMs: 200 }] }],
        ['a', { ...noSD, dnsSdConfigs: [{ names: ['web.example.test'], type: 'A', port: 8080, refreshIntervalMs: 200 }] }],
      ]),
    );
    await waitFor(() => c.addresses('srv').length === 2 && c.addresses('a').length === 2, 'dns targets');
    assert.deepEqual(c.addresses('srv'), ['node1.example.test:9100', 'node2.example.test:9101']);
    assert.deepEqual(c.addresses('a'), ['10.0.0.1:8080', '10.0.0.2:8080']);
    const t = c.latest.get('srv')![0]!.targets.find((x) => x.__address__ === 'node1.example.test:9100')!;
    assert.deepEqual(t, {
      __address__: 'node1.example.test:9100',
      __meta_dns_name: '_metrics._tcp.example.test',
      __meta_dns_srv_record_target: 'node1.example.test.',
      __meta_dns_srv_record_port: '9100',
    });
    assert.equal(c.latest.get('a')![0]!.source, 'web.example.test');
    // Records that go away take their targets with them.
    records.a['web.example.test'] = ['10.0.0.3'];
    await waitFor(() => c.addresses('a').join() === '10.0.0.3:8080', 'changed A records');
  } finally {
    dm.stop();
    sock.close();
  }
});

test('file_sd drives a ScrapeManager: relabeling on __meta_filepath, dropped targets listed', { timeout: 60_000 }, async () => {
  const srv = http.createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end('hello 1\n');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'scrape-filesd-'));
  const file = join(dir, 'targets.json');
  writeFileSync(file, JSON.stringify([{ targets: [addr], labels: { keep: 'yes' } }, { targets: ['127.0.0.1:1'], labels: { keep: 'no' } }]));
  const db = new MemoryStorage();
  const m = new ScrapeManager({ appendable: db, discoveryUpdateIntervalMs: 20 });
  try {
    m.applyConfig(
      config([
        scrapeConfig({
          jobName: 'fsd',
          scrapeIntervalMs: 300,
          scrapeTimeoutMs: 200,
          fileSdConfigs: [{ files: [file], refreshIntervalMs: 3_600_000 }],
          relabelConfigs: [
            { sourceLabels: ['keep'], separator: ';', regex: 'yes', modulus: 0, targetLabel: '', replacement: '$1', action: 'keep' },
            { sourceLabels: ['__meta_filepath'], separator: ';', regex: '.*/(.*)', modulus: 0, targetLabel: 'from', replacement: '$1', action: 'replace' },
          ],
        }),
      ]),
    );
    await waitFor(() => readSeries(db, { __name__: 'hello' }).length === 1, 'scraped via file_sd');
    assert.equal(readSeries(db, { __name__: 'hello' })[0]!.labels.get('from'), 'targets.json');
    const dropped = m.droppedTargets().get('fsd')!;
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0]!.discoveredLabels.get('__address__'), '127.0.0.1:1');
    assert.equal(dropped[0]!.discoveredLabels.get('__meta_filepath'), file);
  } finally {
    await m.stop();
    srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
