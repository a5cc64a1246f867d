import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../config/load.js';
import { Labels } from '../model/labels.js';
import { encodeAlerts, relabelAlerts, type NotifierAlert } from './alert.js';

function alert(labels: Record<string, string>, over: Partial<NotifierAlert> = {}): NotifierAlert {
  return { labels: Labels.fromObject(labels), annotations: Labels.EMPTY, startsAt: 0, endsAt: 0, generatorURL: '', ...over };
}

test('the body is Alertmanager v2 PostableAlerts as Prometheus encodes them', () => {
  const body = encodeAlerts([
    alert(
      { alertname: 'High', '10': 'x', job: 'a<b>&c' },
      {
        annotations: Labels.fromObject({ summary: 'line\u2028"q"' }),
        startsAt: Date.UTC(2024, 0, 2, 3, 4, 5, 67),
        endsAt: Date.UTC(2024, 0, 2, 3, 9, 5, 0),
        generatorURL: 'http://p:9090/graph?g0.expr=up&g0.tab=1',
      },
    ),
    alert({ alertname: 'Bare' }),
  ]).toString('utf8');
  assert.equal(
    body,
    '[{"annotations":{"summary":"line\\u2028\\"q\\""},"endsAt":"2024-01-02T03:09:05.000Z","startsAt":"2024-01-02T03:04:05.067Z",' +
      '"generatorURL":"http://p:9090/graph?g0.expr=up\\u0026g0.tab=1","labels":{"10":"x","alertname":"High","job":"a\\u003cb\\u003e\\u0026c"}},' +
      '{"endsAt":"0001-01-01T00:00:00.000Z","startsAt":"0001-01-01T00:00:00.000Z","labels":{"alertname":"Bare"}}]',
  );
  const parsed = JSON.parse(body) as { labels: Record<string, string> }[];
  assert.equal(parsed[0]?.labels.job, 'a<b>&c');
});

test('external labels are added where the alert has none; relabel rules drop and rewrite', () => {
  const cfg = loadConfig(`
global:
  external_labels: {region: eu, team: infra}
alerting:
  alert_relabel_configs:
    - source_labels: [severity]
      regex: debug
      action: drop
    - source_labels: [region]
      target_label: dc
      replacement: dc-$1
`);
  const keep = alert({ alertname: 'A', team: 'web' }, { startsAt: 1000, generatorURL: 'g' });
  const dropped = alert({ alertname: 'B', severity: 'debug' });
  const out = relabelAlerts(cfg.alerting.alertRelabelConfigs, cfg.global.externalLabels, [keep, dropped]);
  assert.equal(out.length, 1);
  assert.deepEqual(out[0]!.labels.toObject(), { alertname: 'A', dc: 'dc-eu', region: 'eu', team: 'web' });
  assert.equal(out[0]!.startsAt, 1000);
  assert.equal(out[0]!.generatorURL, 'g');
  assert.deepEqual(keep.labels.toObject(), { alertname: 'A', team: 'web' }, 'the input alert is unchanged');
});

test('an alert relabeling leaves as it was is passed on as the same value', () => {
  const a = alert({ alertname: 'A' });
  const [out] = relabelAlerts(loadConfig('alerting:\n  alert_relabel_configs:\n    - {action: labeldrop, regex: tmp}\n').alerting.alertRelabelConfigs, Labels.EMPTY, [a]);
  assert.equal(out, a);
});
