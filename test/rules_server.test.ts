// Rules end to end through the server process: a rule file loaded from prometheus.yml, recorded
// series, an alert that fires and reaches a real Alertmanager (Debian's 0.25) and resolves, the
// rules/alerts/alertmanagers API, a reload with a bad rule file, and kill -9 with alert state restored.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, startTsprom, type Tsprom } from './api_process.js';
import { startAlertmanager, until, type Alertmanager } from './alertmanager_process.js';
import { writeRequestBody } from './remote_write_proto.js';

const RULES = `
groups:
  - name: e2e
    interval: 1s
    rules:
      - record: job:e2e_value:sum
        expr: sum by (job) (e2e_value)
      - alert: E2EHigh
        expr: e2e_value > 10
        for: 2s
        labels:
          severity: page
        annotations:
          summary: '{{ $labels.instance }} is at {{ $value }}'
`;

async function push(base: string, value: number, t = Date.now()): Promise<void> {
  const body = writeRequestBody([{ labels: { __name__: 'e2e_value', job: 'j', instance: 'a:1' }, samples: [[t, value]] }]);
  const r = await fetch(`${base}/api/v1/write`, { method: 'POST', body, headers: { 'Content-Encoding': 'snappy' } });
  assert.equal(r.status, 204, await r.text());
}

interface ApiAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
  activeAt: string;
  value: string;
}

async function apiAlerts(base: string): Promise<ApiAlert[]> {
  const r = await api(`${base}/api/v1/alerts`);
  assert.equal(r.status, 200);
  return (r.body.data as { alerts: ApiAlert[] }).alerts;
}

async function instant(base: string, q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const r = await api(`${base}/api/v1/query?query=${encodeURIComponent(q)}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return (r.body.data as { result: Array<{ metric: Record<string, string>; value: [number, string] }> }).result;
}

describe('rules and alerting through the server', () => {
  let am: Alertmanager;
  let s: Tsprom;
  let dir: string;

  before(async () => {
    am = await startAlertmanager();
    dir = mkdtempSync(join(tmpdir(), 'tsprom-rules-'));
    writeFileSync(join(dir, 'e2e.rules.yml'), RULES);
    s = await startTsprom({
      config: `
global:
  evaluation_interval: 1s
  external_labels: {cluster: e2e}
  query_log_file: ${join(dir, 'query.log')}
rule_files: ['${join(dir, 'e2e.rules.yml')}']
alerting:
  alertmanagers:
    - static_configs: [{targets: ['127.0.0.1:${am.port}']}]
`,
      // Only this file's group: the built-in tsprom-self group is off.
      args: ['--web.enable-remote-write-receiver', '--web.enable-lifecycle', '--web.external-url=http://tsprom.example:9090', '--rules.alert.resend-delay=1s', '--no-rules.self-monitoring'],
    });
  });

  after(async () => {
    await s?.stop();
    await am?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('records, fires, notifies Alertmanager and resolves', { timeout: 120_000 }, async () => {
    await push(s.base, 42);
    const pending = await until(async () => {
      const as = await apiAlerts(s.base);
      return as.length === 1 ? as[0]! : null;
    }, 'alert listed');
    assert.deepEqual(pending.labels, { alertname: 'E2EHigh', instance: 'a:1', job: 'j', severity: 'page' });
    assert.deepEqual(pending.annotations, { summary: 'a:1 is at 42' });
    assert.equal(pending.value, '4.2e+01');

    const firing = await until(async () => {
      const as = await apiAlerts(s.base);
      return as[0]?.state === 'firing' ? as[0] : null;
    }, 'alert firing');
    assert.equal(firing.activeAt, pending.activeAt, 'activeAt stays when the alert starts firing');

    const [inAm] = await until(async () => {
      const as = await am.alerts('E2EHigh');
      return as.length === 1 ? as : null;
    }, 'alert in Alertmanager');
    assert.deepEqual(inAm!.labels, { alertname: 'E2EHigh', cluster: 'e2e', instance: 'a:1', job: 'j', severity: 'page' });
    assert.deepEqual(inAm!.annotations, { summary: 'a:1 is at 42' });
    assert.equal(inAm!.generatorURL, 'http://tsprom.example:9090/graph?g0.expr=e2e_value+%3E+10&g0.tab=1');
    assert.ok(Date.parse(inAm!.startsAt) >= Date.parse(firing.activeAt), `startsAt ${inAm!.startsAt} is when it fired`);

    const recorded = await instant(s.base, 'job:e2e_value:sum');
    assert.deepEqual(recorded.map((r) => [r.metric, r.value[1]]), [[{ __name__: 'job:e2e_value:sum', job: 'j' }, '42']]);
    const alertSeries = await instant(s.base, 'ALERTS');
    assert.ok(alertSeries.some((r) => r.metric.alertstate === 'firing' && r.metric.alertname === 'E2EHigh'));
    const forState = await instant(s.base, 'ALERTS_FOR_STATE');
    // Whole seconds, as Prometheus writes it.
    assert.equal(Number(forState[0]!.value[1]), Math.floor(Date.parse(firing.activeAt) / 1000));

    const rules = await api(`${s.base}/api/v1/rules`);
    const groups = (rules.body.data as { groups: Array<Record<string, unknown>> }).groups;
    assert.equal(groups.length, 1);
    assert.equal(groups[0]!.name, 'e2e');
    assert.equal(groups[0]!.interval, 1);
    const rs = groups[0]!.rules as Array<Record<string, unknown>>;
    assert.deepEqual(
      rs.map((r) => [r.type, r.name, r.health, r.query]),
      [
        ['recording', 'job:e2e_value:sum', 'ok', 'sum by (job) (e2e_value)'],
        ['alerting', 'E2EHigh', 'ok', 'e2e_value > 10'],
      ],
    );
    assert.equal(rs[1]!.duration, 2);
    assert.equal(rs[1]!.state, 'firing');
    const onlyRecording = await api(`${s.base}/api/v1/rules?type=record`);
    assert.equal(((onlyRecording.body.data as { groups: Array<{ rules: unknown[] }> }).groups[0]!.rules).length, 1);
    const bad = await api(`${s.base}/api/v1/rules?type=nope`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errorType, 'bad_data');

    // Rule queries are logged with their group as origin.
    const logged = await until(async () => {
      const lines = readFileSync(join(dir, 'query.log'), 'utf8').split('\n').filter((l) => l.includes('"ruleGroup"'));
      return lines.length > 0 ? (JSON.parse(lines[0]!) as { params: { query: string }; ruleGroup: { file: string; name: string } }) : null;
    }, 'a rule query in the query log');
    assert.deepEqual(logged.ruleGroup, { file: join(dir, 'e2e.rules.yml'), name: 'e2e' });

    const ams = await api(`${s.base}/api/v1/alertmanagers`);
    assert.deepEqual(ams.body.data, { activeAlertmanagers: [{ url: `${am.base}/api/v2/alerts` }], droppedAlertmanagers: [] });

    // The condition ends: the alert resolves here and in Alertmanager.
    await push(s.base, 1);
    await until(async () => ((await apiAlerts(s.base)).length === 0 ? true : null), 'alert gone from /api/v1/alerts');
    await until(async () => ((await am.alerts('E2EHigh')).length === 0 ? true : null), 'alert resolved in Alertmanager');
  });

  test('a reload with a bad rule file fails and keeps the running rules', { timeout: 60_000 }, async () => {
    writeFileSync(join(dir, 'e2e.rules.yml'), 'groups:\n  - name: e2e\n    rules:\n      - record: broken\n        expr: sum(up\n');
    const r = await fetch(`${s.base}/-/reload`, { method: 'POST' });
    assert.equal(r.status, 500);
    assert.match(await r.text(), /error loading rules, previous rule set restored/);
    assert.match(s.logs(), /broken/, 'the log names the bad rule');
    const rules = await api(`${s.base}/api/v1/rules`);
    const groups = (rules.body.data as { groups: Array<{ rules: Array<{ name: string }> }> }).groups;
    assert.deepEqual(groups[0]!.rules.map((x) => x.name), ['job:e2e_value:sum', 'E2EHigh']);
    writeFileSync(join(dir, 'e2e.rules.yml'), RULES);
    assert.equal((await fetch(`${s.base}/-/reload`, { method: 'POST' })).status, 200);
  });
});

test('kill -9 during evaluation: recorded samples survive and firing alerts keep their activeAt', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsprom-rules-crash-'));
  const rules = `
groups:
  - name: crash
    interval: 500ms
    rules:
      - record: crash:value
        expr: crash_value * 2
      - alert: CrashHigh
        expr: crash_value > 0
        for: 2s
`;
  writeFileSync(join(dir, 'crash.rules.yml'), rules);
  const config = `
global:
  evaluation_interval: 500ms
rule_files: ['${join(dir, 'crash.rules.yml')}']
`;
  const args = ['--web.enable-remote-write-receiver', '--rules.alert.for-grace-period=1s'];
  // One process (no launcher), so kill -9 hits the server itself.
  let s = await startTsprom({ dir, config, args, heapMiB: 1024 });
  try {
    const body = writeRequestBody([{ labels: { __name__: 'crash_value', job: 'c' }, samples: [[Date.now(), 7]] }]);
    const r = await fetch(`${s.base}/api/v1/write`, { method: 'POST', body, headers: { 'Content-Encoding': 'snappy' } });
    assert.equal(r.status, 204);
    const firing = await until(async () => {
      const as = await apiAlerts(s.base);
      return as[0]?.state === 'firing' ? as[0] : null;
    }, 'alert firing');
    const before = await instant(s.base, 'count_over_time(crash:value[1m])');
    const recordedBefore = Number(before[0]!.value[1]);
    assert.ok(recordedBefore >= 3);

    s.proc.kill('SIGKILL');
    await s.exited;
    s = await startTsprom({ dir, config, args, heapMiB: 1024 });

    const after = await instant(s.base, 'count_over_time(crash:value[1m])');
    assert.ok(Number(after[0]!.value[1]) >= recordedBefore, `recorded samples before the kill survive: ${after[0]!.value[1]} >= ${recordedBefore}`);
    const restored = await until(async () => {
      const as = await apiAlerts(s.base);
      return as[0]?.state === 'firing' ? as[0] : null;
    }, 'alert firing again after restart');
    // ALERTS_FOR_STATE holds whole seconds, so the restored time is the original one without its fraction.
    assert.equal(Date.parse(restored.activeAt), Math.floor(Date.parse(firing.activeAt) / 1000) * 1000, 'activeAt restored from ALERTS_FOR_STATE');
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an Alertmanager that never answers does not hold up evaluation; the queue stays bounded', { timeout: 60_000 }, async () => {
  // Accepts connections and never answers.
  const sockets: net.Socket[] = [];
  const silent = net.createServer((c) => sockets.push(c));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as net.AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'tsprom-rules-silent-'));
  writeFileSync(
    join(dir, 'many.rules.yml'),
    'groups:\n  - name: many\n    interval: 200ms\n    rules:\n' +
      ['A', 'B', 'C', 'D', 'E'].map((n) => `      - alert: Always${n}\n        expr: vector(1)\n`).join(''),
  );
  const s = await startTsprom({
    config: `
global:
  evaluation_interval: 200ms
rule_files: ['${join(dir, 'many.rules.yml')}']
alerting:
  alertmanagers:
    - static_configs: [{targets: ['127.0.0.1:${port}']}]
      timeout: 30s
`,
    args: ['--alertmanager.notification-queue-capacity=3', '--rules.alert.resend-delay=200ms', '--no-rules.self-monitoring'],
  });
  try {
    // Evaluation goes on: the group's iteration count grows while every send hangs.
    const iterations = async () => {
      const text = await (await fetch(`${s.base}/metrics`)).text();
      const m = /prometheus_rule_group_iterations_total\{[^}]*\} (\d+)/.exec(text);
      return m === null ? 0 : Number(m[1]);
    };
    const first = await until(async () => ((await iterations()) > 0 ? iterations() : null), 'first iteration');
    await until(async () => ((await iterations()) >= first + 10 ? true : null), 'ten more iterations');
    const metrics = await (await fetch(`${s.base}/metrics`)).text();
    const queueLength = Number(/prometheus_notifications_queue_length (\d+)/.exec(metrics)?.[1]);
    assert.ok(queueLength <= 3, `queue length ${queueLength} within its capacity`);
    assert.ok(Number(/prometheus_notifications_dropped_total (\d+)/.exec(metrics)?.[1]) > 0, 'alerts beyond the capacity are dropped and counted');
    assert.ok((await apiAlerts(s.base)).length >= 1);
  } finally {
    await s.stop();
    for (const c of sockets) c.destroy();
    silent.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
