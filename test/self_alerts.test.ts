// The built-in tsprom-self alerts through real processes, with configs that do not scrape tsprom
// itself: a scrape target that is down, a query log on a full device (/dev/full) and a tiny
// --memory.limit make their alerts appear in /api/v1/alerts (pending while their `for` runs, or
// firing and delivered to a real Alertmanager); the group is listed in /api/v1/rules, survives a
// reload with its alert state, and --no-rules.self-monitoring removes it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { api, MAIN_JS, startTsprom, type Tsprom } from './api_process.js';
import { startAlertmanager, until, type Alertmanager } from './alertmanager_process.js';
import { freePort } from './free_port.js';

interface ApiAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
  activeAt: string;
}

interface ApiGroup {
  name: string;
  file: string;
  interval: number;
  rules: Array<{ name: string; health: string; type: string }>;
}

async function alerts(base: string): Promise<ApiAlert[]> {
  const r = await api(`${base}/api/v1/alerts`);
  assert.equal(r.status, 200);
  return (r.body.data as { alerts: ApiAlert[] }).alerts;
}

async function groups(base: string): Promise<ApiGroup[]> {
  const r = await api(`${base}/api/v1/rules`);
  assert.equal(r.status, 200);
  return (r.body.data as { groups: ApiGroup[] }).groups;
}

function alertNamed(name: string, state?: string): (base: string) => Promise<ApiAlert | null> {
  return async (base) => (await alerts(base)).find((a) => a.labels.alertname === name && (state === undefined || a.state === state)) ?? null;
}

/** A config without a self-scrape: one target that refuses connections. */
function config(downPort: number, extra = ''): string {
  return `
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: gone
    static_configs: [{targets: ['127.0.0.1:${downPort}']}]
${extra}`;
}

describe('built-in self-monitoring alerts (needs `npm run build`)', () => {
  let am: Alertmanager;
  let s: Tsprom;
  let downPort: number;

  before(async () => {
    am = await startAlertmanager();
    downPort = await freePort();
    s = await startTsprom({
      config: config(
        downPort,
        `alerting:
  alertmanagers:
    - static_configs: [{targets: ['127.0.0.1:${am.port}']}]
`,
      ).replace('evaluation_interval: 1s', 'evaluation_interval: 1s\n  query_log_file: /dev/full'),
      args: ['--web.enable-lifecycle', '--rules.alert.resend-delay=1s'],
    });
  });

  after(async () => {
    await s?.stop();
    await am?.stop();
  });

  test('the tsprom-self group is listed under its built-in file and evaluated', async () => {
    const g = await until(async () => {
      const list = await groups(s.base);
      return list.length === 1 && list[0]!.rules.every((r) => r.health === 'ok') ? list[0]! : null;
    }, 'tsprom-self evaluated');
    assert.equal(g.name, 'tsprom-self');
    assert.equal(g.file, '<builtin>/tsprom-self.rules.yml');
    assert.equal(g.interval, 1);
    assert.ok(g.rules.length >= 10);
    assert.ok(g.rules.every((r) => r.type === 'alerting' && r.name.startsWith('Tsprom')));
    // `check config` checks the files the config names; the built-in group is none of them.
    const checked = execFileSync(process.execPath, [MAIN_JS, 'check', 'config', s.configFile], { encoding: 'utf8' });
    assert.match(checked, /SUCCESS/);
    assert.doesNotMatch(checked, /rule file|builtin|tsprom-self/);
  });

  test('a target that is down: TspromTargetDown pending for its 5m `for`, kept over a reload', async () => {
    const a = await until(() => alertNamed('TspromTargetDown')(s.base), 'TspromTargetDown in /api/v1/alerts');
    assert.equal(a.state, 'pending');
    assert.deepEqual(
      { job: a.labels.job, instance: a.labels.instance, source: a.labels.source, severity: a.labels.severity },
      { job: 'gone', instance: `127.0.0.1:${downPort}`, source: 'tsprom-self', severity: 'warning' },
    );
    assert.match(a.annotations.description!, new RegExp(`Target 127\\.0\\.0\\.1:${downPort} of job gone`));
    assert.equal((await api(`${s.base}/-/reload`, { method: 'POST' })).status, 200);
    const list = await groups(s.base);
    assert.deepEqual(
      list.map((g) => g.name),
      ['tsprom-self'],
    );
    const again = await alertNamed('TspromTargetDown')(s.base);
    assert.equal(again?.activeAt, a.activeAt);
  });

  test('a query log that cannot be written: TspromQueryLogDropping fires and reaches Alertmanager', async () => {
    const a = await until(() => alertNamed('TspromQueryLogDropping', 'firing')(s.base), 'TspromQueryLogDropping firing');
    assert.equal(a.labels.source, 'tsprom-self');
    const inAm = await until(async () => {
      const l = await am.alerts('TspromQueryLogDropping');
      return l.length > 0 ? l[0]! : null;
    }, 'TspromQueryLogDropping in Alertmanager');
    assert.equal(inAm.labels.source, 'tsprom-self');
    assert.equal(inAm.labels.severity, 'warning');
    assert.equal(inAm.annotations.summary, 'tsprom query log drops lines');
    // /dev/full refuses every write (or the disk guard pauses the log first, should /dev look full).
    assert.match(inAm.labels.reason!, /^(write_error|disk_low)$/);
    assert.match(inAm.annotations.description!, /query log lines were dropped in the last 5 minutes \(reason (write_error|disk_low):/);
    // The alert read the process's own counter: the TSDB holds none of its metrics.
    const r = await api(`${s.base}/api/v1/query?query=${encodeURIComponent('tsprom_query_log_dropped_total')}`);
    assert.equal(r.status, 200);
    assert.deepEqual((r.body.data as { result: unknown[] }).result, []);
  });
});

test('a memory limit below the resident memory: TspromMemoryNearLimit pending', async () => {
  const s = await startTsprom({ config: 'global:\n  evaluation_interval: 1s\n', args: ['--memory.limit=64MB'] });
  try {
    const a = await until(() => alertNamed('TspromMemoryNearLimit')(s.base), 'TspromMemoryNearLimit in /api/v1/alerts');
    assert.equal(a.state, 'pending');
    assert.match(a.annotations.description!, /^Resident memory is \d+(\.\d+)?% of the memory limit/);
  } finally {
    await s.stop();
  }
});

test('--no-rules.self-monitoring: no tsprom-self group and no self alert for a target that is down', async () => {
  const downPort = await freePort();
  const s = await startTsprom({ config: config(downPort), args: ['--no-rules.self-monitoring'] });
  try {
    await until(async () => {
      const r = await api(`${s.base}/api/v1/query?query=${encodeURIComponent('up == 0')}`);
      return (r.body.data as { result: unknown[] } | undefined)?.result.length === 1 ? true : null;
    }, 'the down target scraped');
    assert.deepEqual(await groups(s.base), []);
    assert.deepEqual(await alerts(s.base), []);
    const metrics = await (await fetch(`${s.base}/metrics`)).text();
    assert.doesNotMatch(metrics, /tsprom_self_monitoring_series/);
  } finally {
    await s.stop();
  }
});
