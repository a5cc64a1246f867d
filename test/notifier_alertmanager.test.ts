// Sends alerts to a real Alertmanager (Debian's prometheus-alertmanager) through the
// NotifierManager and reads them back from Alertmanager's own API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { loadConfig } from '../src/config/load.js';
import { Labels } from '../src/model/labels.js';
import { NotifierManager, type NotifierAlert } from '../src/notifier/manager.js';
import { startAlertmanager, until, type GettableAlert } from './alertmanager_process.js';

test('an alert reaches Alertmanager 0.25 with its labels, annotations, startsAt and generatorURL, and resolves', { timeout: 120_000 }, async () => {
  const am = await startAlertmanager();
  const base = am.base;
  const reg = new Registry();
  const n = new NotifierManager({ registry: reg, discoveryUpdateIntervalMs: 50 });
  try {
    n.applyConfig(
      loadConfig(`
global:
  external_labels: {cluster: test}
alerting:
  alertmanagers:
    - static_configs: [{targets: ['127.0.0.1:${am.port}']}]
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
      const as = await am.alerts('TsPromTest');
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
      const as = await am.alerts('TsPromTest');
      return as.length === 0 ? true : null;
    }, 'alert resolved');
    const resolved = await fetch(`${base}/api/v2/alerts/groups`).then((r) => r.json() as Promise<{ alerts: GettableAlert[] }[]>);
    assert.equal(resolved.flatMap((g) => g.alerts).filter((a) => a.labels.alertname === 'TsPromTest').length, 0);
    assert.equal(await metricValue(reg, 'prometheus_notifications_dropped_total'), 0);
  } finally {
    await n.stop();
    await am.stop();
  }
});

async function metricValue(reg: Registry, name: string): Promise<number> {
  const values = (await reg.getSingleMetric(name)!.get()).values;
  return values.reduce((s, v) => s + v.value, 0);
}
