// Sends alerts to a real Alertmanager (Debian's prometheus-alertmanager) through the
// NotifierManager and reads them back from Alertmanager's own API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { loadConfig } from '../src/config/load.js';
import { Labels } from '../src/model/labels.js';
import { NotifierManager, type NotifierAlert } from '../src/notifier/manager.js';

const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function until<T>(f: () => Promise<T | null>, what: string): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = await f().catch(() => null);
    if (v !== null) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for: ${what}`);
}

interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  status: { state: string };
}

async function alertsOf(base: string, name: string): Promise<GettableAlert[]> {
  const res = await fetch(`${base}/api/v2/alerts?filter=${encodeURIComponent(`alertname="${name}"`)}`);
  assert.equal(res.status, 200);
  return (await res.json()) as GettableAlert[];
}

test('an alert reaches Alertmanager 0.25 with its labels, annotations, startsAt and generatorURL, and resolves', { timeout: 120_000 }, async () => {
  assert.ok(existsSync(ALERTMANAGER), `${ALERTMANAGER} is missing: install Debian's prometheus-alertmanager package to run this test`);
  const dir = mkdtempSync(join(tmpdir(), 'tsprom-am-'));
  writeFileSync(join(dir, 'alertmanager.yml'), "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n");
  const port = await freePort();
  const child = spawn(
    ALERTMANAGER,
    [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-4000)));
  let exited = false;
  const exit = new Promise<void>((r) => child.on('exit', () => ((exited = true), r())));
  const base = `http://127.0.0.1:${port}`;
  const reg = new Registry();
  const n = new NotifierManager({ registry: reg, discoveryUpdateIntervalMs: 50 });
  try {
    await until(async () => {
      assert.ok(!exited, `alertmanager exited early: ${stderr}`);
      return (await fetch(`${base}/-/ready`)).status === 200 ? true : null;
    }, 'alertmanager ready');

    n.applyConfig(
      loadConfig(`
global:
  external_labels: {cluster: test}
alerting:
  alertmanagers:
    - static_configs: [{targets: ['127.0.0.1:${port}']}]
`),
    );
    await until(async () => (n.activeAlertmanagers().length === 1 ? true : null), 'alertmanager discovered');
    assert.deepEqual(n.activeAlertmanagers(), [`${base}/api/v2/alerts`]);

    const startsAt = Date.now() - 60_000;
    const firing: NotifierAlert = {
      labels: Labels.fromObject({ alertname: 'TsPromTest', severity: 'page', instance: 'a:1' }),
      annotations: Labels.fromObject({ summary: 'Instance a:1 is <down> & out', value: '1' }),
      startsAt,
      // As the rule engine does for a firing alert: valid for a few resend intervals.
      endsAt: Date.now() + 3_600_000,
      generatorURL: 'http://tsprom:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1',
    };
    n.send([firing]);
    const [got] = await until(async () => {
      const as = await alertsOf(base, 'TsPromTest');
      return as.length === 1 ? as : null;
    }, 'alert in Alertmanager');
    assert.deepEqual(got!.labels, { alertname: 'TsPromTest', cluster: 'test', instance: 'a:1', severity: 'page' });
    assert.deepEqual(got!.annotations, { summary: 'Instance a:1 is <down> & out', value: '1' });
    assert.equal(Date.parse(got!.startsAt), startsAt);
    assert.equal(got!.generatorURL, firing.generatorURL);
    assert.equal(got!.status.state, 'active');
    assert.equal(await metricValue(reg, 'prometheus_notifications_errors_total'), 0);

    // Resolved: endsAt in the past. Alertmanager stops listing it as active.
    n.send([{ ...firing, endsAt: Date.now() - 1000 }]);
    await until(async () => {
      const as = await alertsOf(base, 'TsPromTest');
      return as.length === 0 ? true : null;
    }, 'alert resolved');
    const resolved = await fetch(`${base}/api/v2/alerts/groups`).then((r) => r.json() as Promise<{ alerts: GettableAlert[] }[]>);
    assert.equal(resolved.flatMap((g) => g.alerts).filter((a) => a.labels.alertname === 'TsPromTest').length, 0);
    assert.equal(await metricValue(reg, 'prometheus_notifications_dropped_total'), 0);
  } finally {
    await n.stop();
    if (!exited && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    await exit;
    rmSync(dir, { recursive: true, force: true });
  }
});

async function metricValue(reg: Registry, name: string): Promise<number> {
  const values = (await reg.getSingleMetric(name)!.get()).values;
  return values.reduce((s, v) => s + v.value, 0);
}
