import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scrapeConfig, relabelConfig } from '../../test/fixtures/scrape/helpers.js';
import { targetsFromGroup, Target } from './target.js';
import { formatGoDurationNs } from '../gofmt/duration.js';

test('targets get Prometheus defaults, relabeling, instance and no __meta_ labels', () => {
  const cfg = scrapeConfig({
    jobName: 'node',
    scrapeIntervalMs: 15_000,
    scrapeTimeoutMs: 10_000,
    params: { module: ['a', 'b'] },
    relabelConfigs: [
      relabelConfig({ sourceLabels: ['__meta_role'], regex: 'skip', action: 'drop' }),
      relabelConfig({ sourceLabels: ['__meta_role'], targetLabel: 'role' }),
    ],
  });
  const r = targetsFromGroup(
    { source: '0', targets: [{ __address__: 'h1:9100', __meta_role: 'db' }, { __address__: 'h2:9100', __meta_role: 'skip' }, { __meta_role: 'db' }], labels: { env: 'prod' } },
    cfg,
    'node',
  );
  assert.equal(r.targets.length, 1);
  const t = r.targets[0]!;
  assert.deepEqual(t.labelsPublic().toObject(), { env: 'prod', instance: 'h1:9100', job: 'node', role: 'db' });
  assert.equal(t.labels.get('__scrape_interval__'), '15s');
  assert.equal(t.labels.get('__scrape_timeout__'), '10s');
  assert.equal(t.labels.get('__meta_role'), '');
  assert.equal(t.discoveredLabels().get('__meta_role'), 'db');
  assert.equal(t.discoveredLabels().get('__param_module'), 'a');
  assert.equal(t.url, 'http://h1:9100/metrics?module=a&module=b');
  assert.equal(t.intervalMs, 15_000);
  assert.equal(r.dropped.length, 1);
  assert.equal(r.dropped[0]!.discoveredLabels.get('__address__'), 'h2:9100');
  assert.deepEqual(r.failures, ['instance 2 in group 0: no address']);
});

test('relabeled scheme, path, params and interval shape the target', () => {
  const cfg = scrapeConfig({
    jobName: 'x',
    scrapeIntervalMs: 60_000,
    scrapeTimeoutMs: 10_000,
    relabelConfigs: [
      relabelConfig({ targetLabel: '__scheme__', replacement: 'https' }),
      relabelConfig({ targetLabel: '__metrics_path__', replacement: '/probe' }),
      relabelConfig({ sourceLabels: ['__address__'], targetLabel: '__param_target' }),
      relabelConfig({ targetLabel: '__address__', replacement: 'exporter:9115' }),
      relabelConfig({ targetLabel: '__scrape_interval__', replacement: '30s' }),
    ],
  });
  const t = targetsFromGroup({ source: '0', targets: [{ __address__: 'example.com' }], labels: {} }, cfg, 'x').targets[0]!;
  assert.equal(t.url, 'https://exporter:9115/probe?target=example.com');
  assert.equal(t.labelsPublic().get('instance'), 'exporter:9115');
  assert.equal(t.intervalMs, 30_000);
});

test('invalid targets fail with Prometheus messages', () => {
  const bad = (over: Record<string, string>) =>
    targetsFromGroup({ source: 's', targets: [{ __address__: 'h:1', ...over }], labels: {} }, scrapeConfig({ jobName: 'j', scrapeIntervalMs: 10_000, scrapeTimeoutMs: 5000 }), 'j').failures[0];
  assert.equal(bad({ __address__: 'h:1/path' }), 'instance 0 in group s: "h:1/path" is not a valid hostname');
  assert.equal(bad({ __scrape_timeout__: '20s' }), 'instance 0 in group s: scrape timeout cannot be greater than scrape interval ("20s" > "10s")');
  assert.equal(bad({ __scrape_interval__: '0' }), 'instance 0 in group s: scrape interval cannot be 0');
  assert.match(bad({ __scrape_interval__: 'soon' })!, /^instance 0 in group s: error parsing scrape interval: /);
});

test('offsets spread targets over the interval and are pinned to absolute time', () => {
  const cfg = scrapeConfig({ jobName: 'j' });
  const offs = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const t = targetsFromGroup({ source: '0', targets: [{ __address__: `h${i}:1` }], labels: {} }, cfg, 'j').targets[0] as Target;
    const o = t.offset(15_000, 0, 1_000_000);
    assert.ok(o >= 0 && o <= 15_000);
    // The slot is the same whatever the current time: now + offset is congruent across calls.
    assert.equal((1_000_000 + o) % 15_000, (1_003_000 + t.offset(15_000, 0, 1_003_000)) % 15_000);
    offs.add(Math.floor(o / 1000));
  }
  assert.ok(offs.size > 5, 'offsets are spread');
});

test('scrape intervals print as Go prints durations', () => {
  const goDuration = (ms: number): string => formatGoDurationNs(ms * 1e6);
  assert.equal(goDuration(15_000), '15s');
  assert.equal(goDuration(60_000), '1m0s');
  assert.equal(goDuration(90_000), '1m30s');
  assert.equal(goDuration(3_600_000), '1h0m0s');
  assert.equal(goDuration(1500), '1.5s');
  assert.equal(goDuration(200), '200ms');
});
