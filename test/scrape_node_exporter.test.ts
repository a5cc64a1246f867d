// Scrapes a real node_exporter (Debian's prometheus-node-exporter) and queries the
// result back through the PromQL engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { MemoryStorage } from '../src/storage/memory.js';
import { ScrapeManager } from '../src/scrape/manager.js';
import { Engine } from '../src/promql/engine/engine.js';
import { config, readSeries, scrapeConfig, waitFor } from './fixtures/scrape/helpers.js';
import { freePort } from './free_port.js';

const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';


async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.on('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
}

test('scrapes node_exporter and rate(node_cpu_seconds_total[1m]) evaluates', { timeout: 90_000 }, async () => {
  const port = await freePort();
  const child = spawn(NODE_EXPORTER, [`--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  let exited = false;
  child.on('exit', () => (exited = true));
  const db = new MemoryStorage();
  const m = new ScrapeManager({ appendable: db, discoveryUpdateIntervalMs: 50 });
  try {
    for (let i = 0; i < 200 && !(await listening(port)); i++) {
      assert.ok(!exited, 'node_exporter exited early');
      await new Promise((r) => setTimeout(r, 50));
    }
    m.applyConfig(config([scrapeConfig({ jobName: 'node', scrapeIntervalMs: 1000, scrapeTimeoutMs: 1000, staticConfigs: [{ targets: [`127.0.0.1:${port}`], labels: {} }] })]));
    const ups = await waitFor(() => {
      const up = readSeries(db, { job: 'node', __name__: 'up' })[0];
      return up !== undefined && up.vs.filter((v) => v === 1).length >= 3 ? up : null;
    }, 'three successful scrapes', 60_000);

    const cpu = readSeries(db, { __name__: 'node_cpu_seconds_total' });
    assert.ok(cpu.length > 0, 'node_cpu_seconds_total arrived');
    for (const s of cpu) {
      assert.equal(s.labels.get('job'), 'node');
      assert.equal(s.labels.get('instance'), `127.0.0.1:${port}`);
      assert.notEqual(s.labels.get('cpu'), '');
      assert.notEqual(s.labels.get('mode'), '');
    }
    const target = m.activeTargets().get('node')![0]!;
    assert.equal(target.health(), 'up');
    assert.equal(target.getMetadata('node_cpu_seconds_total')?.type, 'counter');

    const engine = new Engine();
    const t = ups.ts[ups.ts.length - 1]!;
    const res = await engine.newInstantQuery(db, 'rate(node_cpu_seconds_total[1m])', t).exec();
    assert.equal(res.value.type, 'vector');
    if (res.value.type !== 'vector') return;
    const successful = cpu.filter((s) => s.ts.length >= 2).length;
    assert.equal(res.value.samples.length, successful);
    for (const s of res.value.samples) {
      assert.ok(s.f >= 0 && Number.isFinite(s.f), `rate is a non-negative number: ${s.f}`);
      assert.equal(s.metric.get('__name__'), '');
    }
  } finally {
    await m.stop();
    if (!exited) child.kill('SIGTERM');
  }
});
