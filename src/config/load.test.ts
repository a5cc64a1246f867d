import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, loadConfigFile, ConfigError, globToRegExp } from './load.js';
import { formatDuration, parseDuration } from '../gofmt/duration.js';
import { parseSize, formatSize } from './units.js';
import { configToYAML } from './marshal.js';

function err(text: string): ConfigError {
  try {
    loadConfig(text, { file: '/etc/x.yml' });
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e;
  }
  assert.fail('expected a ConfigError');
}

describe('units', () => {
  test('durations parse and print as Prometheus does', () => {
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('15s'), 15_000);
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('1y'), 365 * 86_400_000);
    assert.equal(parseDuration('100ms'), 100);
    assert.throws(() => parseDuration('1m1h'), /not a valid duration string: "1m1h"/);
    assert.throws(() => parseDuration('1.5s'), /unknown unit "\." in duration "1\.5s"/);
    assert.throws(() => parseDuration(''), /empty duration string/);
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(15 * 86_400_000), '15d');
    assert.equal(formatDuration(14 * 86_400_000), '2w');
    assert.equal(formatDuration(1500), '1s500ms');
  });
  test('sizes parse base-2 units and print as Go prints them', () => {
    assert.equal(parseSize('512MB'), 512 * 2 ** 20);
    assert.equal(parseSize('1GiB'), 2 ** 30);
    assert.equal(parseSize('1GB512MB'), 2 ** 30 + 2 ** 29);
    assert.equal(parseSize('0'), 0);
    assert.throws(() => parseSize('12'), /invalid size "12"/);
    assert.throws(() => parseSize('1XB'), /invalid size/);
    assert.throws(() => parseSize('1constructor'), /invalid size/);
    assert.equal(formatSize(0), '0B');
    assert.equal(formatSize(512 * 2 ** 20), '512MiB');
  });
});

describe('loadConfig', () => {
  test('empty config gets Prometheus defaults', () => {
    const c = loadConfig('');
    assert.equal(c.global.scrapeIntervalMs, 60_000);
    assert.equal(c.global.scrapeTimeoutMs, 10_000);
    assert.equal(c.global.evaluationIntervalMs, 60_000);
    assert.equal(c.scrapeConfigs.length, 0);
    assert.equal(c.storage.exemplars.maxExemplars, 100_000);
    assert.ok(Object.isFrozen(c.global));
  });

  test('scrape config inherits and defaults', () => {
    const c = loadConfig(
      `global:
  scrape_interval: 5s
  external_labels: {region: eu}
  sample_limit: 100
scrape_configs:
  - job_name: a
    static_configs: [{targets: ['localhost:9090'], labels: {env: prod}}]
  - job_name: b
    scrape_interval: 1m
    scrape_timeout: 30s
    metrics_path: /m
    scheme: https
    honor_labels: true
    params: {module: [x, y]}
    basic_auth: {username: u, password_file: pw}
    relabel_configs:
      - source_labels: [__address__]
        target_label: instance
      - action: LabelDrop
        regex: foo.*
    file_sd_configs: [{files: ['sd/*.json']}]
`,
      { file: '/etc/prom/p.yml' },
    );
    const [a, b] = c.scrapeConfigs;
    assert.equal(a!.scrapeIntervalMs, 5000);
    assert.equal(a!.scrapeTimeoutMs, 5000);
    assert.equal(a!.metricsPath, '/metrics');
    assert.equal(a!.honorTimestamps, true);
    assert.equal(a!.sampleLimit, 100);
    assert.deepEqual(a!.staticConfigs[0], { targets: ['localhost:9090'], labels: { env: 'prod' } });
    assert.equal(b!.scrapeTimeoutMs, 30_000);
    assert.equal(b!.scheme, 'https');
    assert.deepEqual(b!.params, { module: ['x', 'y'] });
    assert.equal(b!.httpClient.basicAuth?.passwordFile, '/etc/prom/pw');
    assert.deepEqual(b!.relabelConfigs[0], {
      sourceLabels: ['__address__'],
      separator: ';',
      regex: '(.*)',
      modulus: 0,
      targetLabel: 'instance',
      replacement: '$1',
      action: 'replace',
    });
    assert.equal(b!.relabelConfigs[1]!.action, 'labeldrop');
    assert.deepEqual(b!.fileSdConfigs[0], { files: ['/etc/prom/sd/*.json'], refreshIntervalMs: 300_000 });
    assert.equal(c.global.externalLabels.get('region'), 'eu');
  });

  test('unknown keys name the key and line', () => {
    const e = err('global:\n  scrape_interval: 1m\n  scrape_intervall: 2m\n');
    assert.equal(e.line, 3);
    assert.equal(e.key, 'global.scrape_intervall');
    assert.match(e.message, /^\/etc\/x\.yml:3: global\.scrape_intervall: field scrape_intervall not found/);
    const e2 = err('scrape_configs:\n  - job_name: x\n    kubernetes_sd_configs: []\n');
    assert.match(e2.message, /kubernetes_sd_configs is not supported by tsprom/);
    assert.equal(e2.line, 3);
  });

  test('bad values are errors with their line', () => {
    const cases: Array<[string, RegExp, number]> = [
      ['global:\n  scrape_interval: 5x\n', /global\.scrape_interval: unknown unit "x" in duration "5x"/, 2],
      ['global:\n  scrape_interval: 5s\n  scrape_timeout: 10s\n', /global scrape timeout greater than scrape interval/, 3],
      ['scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 6s\n', /scrape timeout greater than scrape interval for scrape config with job name "a"/, 4],
      ['scrape_configs:\n  - job_name: a\n  - job_name: a\n', /found multiple scrape configs with job name "a"/, 3],
      ['scrape_configs:\n  - honor_labels: true\n', /job_name is empty/, 2],
      ['scrape_configs:\n  - job_name: a\n    honor_labels: yes\n', /cannot unmarshal "yes" into a boolean/, 3],
      ['scrape_configs:\n  - job_name: a\n    sample_limit: -1\n', /non-negative integer/, 3],
      ['scrape_configs:\n  - job_name: a\n    scheme: ftp\n', /invalid scheme "ftp"/, 3],
      ['scrape_configs:\n  - job_name: a\n    static_configs: [{targets: ["http://x:1/"]}]\n', /"http:\/\/x:1\/" is not a valid hostname/, 3],
      ['scrape_configs:\n  - job_name: a\n    relabel_configs: [{action: hashmod, target_label: x}]\n', /hashmod requires non-zero modulus/, 3],
      ['scrape_configs:\n  - job_name: a\n    relabel_configs: [{action: replace}]\n', /replace action requires 'target_label' value/, 3],
      ['scrape_configs:\n  - job_name: a\n    relabel_configs: [{action: frob}]\n', /unknown relabel action "frob"/, 3],
      ['scrape_configs:\n  - job_name: a\n    relabel_configs: [{regex: "a(b", target_label: x}]\n', /error parsing regexp/, 3],
      ['scrape_configs:\n  - job_name: a\n    relabel_configs: [{action: labeldrop, regex: x, target_label: y}]\n', /labeldrop action requires only 'regex'/, 3],
      ['scrape_configs:\n  - job_name: a\n    basic_auth: {username: u}\n    authorization: {credentials: c}\n', /at most one of basic_auth, oauth2 & authorization/, 3],
      ['scrape_configs:\n  - job_name: a\n    authorization: {type: Basic}\n', /authorization type cannot be set to "basic"/, 3],
      ['scrape_configs:\n  - job_name: a\n    scrape_protocols: [Foo]\n', /unknown scrape protocol Foo/, 3],
      ['scrape_configs:\n  - job_name: a\n    body_size_limit: 12\n', /invalid size/, 3],
      ['global:\n  external_labels:\n    "": x\n', /"" is not a valid label name/, 3],
      ['remote_write:\n  - remote_timeout: 1s\n', /url for remote_write is empty/, 2],
      ['remote_write:\n  - url: http://a/\n    headers: {Content-Type: x}\n', /Content-Type is a reserved header/, 3],
      ['remote_write:\n  - url: http://a/\n    name: q\n  - url: http://b/\n    name: q\n', /found multiple remote write configs with job name "q"/, 4],
      ['remote_write:\n  - url: http://a/\n    queue_config: {min_shards: 5, max_shards: 2}\n', /min_shards must not be greater than max_shards/, 3],
      ['alerting:\n  alertmanagers:\n    - api_version: v1\n', /expected Alertmanager api version to be one of \[v2\] but got v1/, 3],
      ['global: [1]\n', /expected a mapping for global/, 1],
      ['scrape_configs:\n  - job_name: a\n  job_name: b\n', /./, 3],
      ['rule_files: ["a/[b.yml"]\n', /invalid rule file path/, 0],
      ['global:\n  a: 1\n  a: 2\n', /unique/, 3],
    ];
    for (const [text, re, line] of cases) {
      const e = err(text);
      assert.match(e.message, re, text);
      if (line > 0) assert.equal(e.line, line, `${text} -> ${e.message}`);
    }
  });

  test('tsprom query log extensions', () => {
    const c = loadConfig(
      'global:\n  query_log_file: q.log\n  query_log_max_size: 100MB\n  query_log_max_files: 3\n  query_log_min_duration: 250ms\n',
      { file: '/srv/p.yml' },
    );
    assert.equal(c.global.queryLogFile, '/srv/q.log');
    assert.equal(c.global.queryLogMaxSize, 100 * 2 ** 20);
    assert.equal(c.global.queryLogMaxFiles, 3);
    assert.equal(c.global.queryLogMinDurationMs, 250);
    assert.equal(loadConfig('global:\n  query_log_max_size: 1000\n').global.queryLogMaxSize, 1000);
  });

  test('remote write and read defaults', () => {
    const c = loadConfig('remote_write:\n  - url: http://a/w\nremote_read:\n  - url: http://a/r\n');
    const w = c.remoteWrite[0]!;
    assert.equal(w.remoteTimeoutMs, 30_000);
    assert.equal(w.queueConfig.maxSamplesPerSend, 2000);
    assert.equal(w.queueConfig.capacity, 10_000);
    assert.match(w.name, /^[0-9a-f]{6}$/);
    assert.equal(c.remoteRead[0]!.remoteTimeoutMs, 60_000);
    assert.equal(c.remoteRead[0]!.filterExternalLabels, true);
  });

  test('scrape_config_files are merged and duplicate jobs rejected', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsprom-cfg-'));
    try {
      writeFileSync(join(dir, 'a.yml'), 'scrape_configs:\n  - job_name: extra\n');
      writeFileSync(join(dir, 'p.yml'), 'scrape_config_files: ["*.yml"]\nscrape_configs:\n  - job_name: main\n');
      // p.yml itself matches *.yml but holds other keys: it is rejected like any bad scrape config file.
      assert.throws(() => loadConfigFile(join(dir, 'p.yml')), /field scrape_config_files not found/);
      writeFileSync(join(dir, 'p.yml'), 'scrape_config_files: ["a.yml"]\nscrape_configs:\n  - job_name: main\n');
      const c = loadConfigFile(join(dir, 'p.yml'));
      assert.deepEqual(c.scrapeConfigs.map((s) => s.jobName), ['main', 'extra']);
      writeFileSync(join(dir, 'a.yml'), 'scrape_configs:\n  - job_name: main\n');
      assert.throws(() => loadConfigFile(join(dir, 'p.yml')), /found multiple scrape configs with job name "main", first found in/);
      assert.throws(() => loadConfigFile(join(dir, 'missing.yml')), /cannot read config file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('configToYAML', () => {
  test('writes every default, hides secrets, and reads back to the same config', async () => {
    const { configToYAML } = await import('./marshal.js');
    const c = loadConfig(
      `global:
  scrape_interval: 15s
  external_labels: {dc: x}
scrape_configs:
  - job_name: j
    basic_auth: {username: u, password: hunter2}
    static_configs: [{targets: ['a:1']}]
    relabel_configs: [{source_labels: [a], target_label: b}]
remote_write:
  - url: http://w/
    headers: {X-Scope: tenant}
`,
    );
    const y = configToYAML(c);
    assert.match(y, /^global:\n {2}scrape_interval: 15s\n {2}scrape_timeout: 10s\n/);
    assert.ok(!y.includes('hunter2'));
    assert.ok(!y.includes('tenant'));
    assert.match(y, /password: <secret>/);
    assert.match(y, /honor_timestamps: true/);
    const back = loadConfig(y);
    assert.deepEqual(back.scrapeConfigs[0]!.relabelConfigs, c.scrapeConfigs[0]!.relabelConfigs);
    assert.equal(back.scrapeConfigs[0]!.scrapeTimeoutMs, c.scrapeConfigs[0]!.scrapeTimeoutMs);
    assert.deepEqual(back.global.externalLabels.toObject(), { dc: 'x' });
    assert.equal(back.remoteWrite[0]!.queueConfig.capacity, 10_000);
  });
});

describe('globToRegExp', () => {
  const matches = (glob: string, name: string): boolean => globToRegExp(glob)!.test(name);

  test("follows Go's filepath.Match", () => {
    assert.ok(matches('*.json', 'a.json'));
    assert.ok(!matches('*.json', 'a.yml'));
    assert.ok(matches('t?.yml', 't1.yml'));
    assert.ok(matches('?', '😀'), '? matches one code point');
    assert.ok(matches('[a-c]x', 'bx'));
    assert.ok(!matches('[a-c]x', 'dx'));
    assert.ok(matches('[^a]x', 'bx'), '^ negates a class');
    assert.ok(!matches('[^a]x', 'ax'));
    assert.ok(matches('[!a]x', '!x'), '! is an ordinary character');
    assert.ok(!matches('[!a]x', 'bx'));
    assert.ok(matches('\\*.json', '*.json'));
    assert.ok(!matches('\\*.json', 'a.json'));
    assert.ok(matches('[\\]]', ']'));
    assert.ok(matches('a.b+(c)', 'a.b+(c)'));
    assert.ok(!matches('a.b', 'axb'));
    assert.ok(!matches('[z-a]', 'm'), 'a reversed range never matches');
  });

  test('malformed patterns give null', () => {
    for (const bad of ['[', '[a', '[]', '[^]', '[-a]', '[a-]', 'a\\']) assert.equal(globToRegExp(bad), null, bad);
  });
});

describe('otlp', () => {
  test('defaults, every key, and the section written back', async () => {
    const { configToYAML } = await import('./marshal.js');
    const d = loadConfig('');
    assert.equal(d.otlp.translationStrategy, 'UnderscoreEscapingWithSuffixes');
    assert.deepEqual(d.otlp.promoteResourceAttributes, []);
    assert.match(configToYAML(d), /\notlp:\n {2}translation_strategy: UnderscoreEscapingWithSuffixes\n$/);
    const c = loadConfig(`otlp:
  promote_resource_attributes: [' k8s.pod.name ', service.version]
  translation_strategy: NoUTF8EscapingWithSuffixes
  keep_identifying_resource_attributes: true
  convert_histograms_to_nhcb: true
  promote_scope_metadata: true
  label_name_underscore_sanitization: true
  label_name_preserve_multiple_underscores: true
`);
    assert.deepEqual(c.otlp.promoteResourceAttributes, ['k8s.pod.name', 'service.version']);
    assert.equal(c.otlp.translationStrategy, 'NoUTF8EscapingWithSuffixes');
    assert.ok(c.otlp.keepIdentifyingResourceAttributes && c.otlp.convertHistogramsToNHCB && c.otlp.promoteScopeMetadata);
    assert.ok(c.otlp.labelNameUnderscoreSanitization && c.otlp.labelNamePreserveMultipleUnderscores);
    assert.deepEqual(loadConfig(configToYAML(c)).otlp, c.otlp);
    const all = loadConfig('otlp: {promote_all_resource_attributes: true, ignore_resource_attributes: [a]}');
    assert.ok(all.otlp.promoteAllResourceAttributes);
    assert.deepEqual(all.otlp.ignoreResourceAttributes, ['a']);
  });

  test("Prometheus's errors for bad settings", () => {
    assert.match(err('otlp: {translation_strategy: Foo}').message, /otlp\.translation_strategy: unsupported OTLP translation strategy "Foo"/);
    assert.match(
      err('otlp: {promote_all_resource_attributes: true, promote_resource_attributes: [a]}').message,
      /'promote_all_resource_attributes' and 'promote_resource_attributes' cannot be configured simultaneously/,
    );
    assert.match(err('otlp: {ignore_resource_attributes: [a]}').message, /'ignore_resource_attributes' cannot be configured unless 'promote_all_resource_attributes' is true/);
    assert.match(
      err("otlp: {promote_resource_attributes: [a, ' a', '']}").message,
      /invalid 'promote_resource_attributes': duplicated promoted OTel resource attribute "a"\nempty promoted OTel resource attribute/,
    );
    assert.match(err('otlp: {promote_all_resource_attributes: true, ignore_resource_attributes: [""]}').message, /empty ignored OTel resource attribute/);
    assert.match(err('otlp: {unknown_key: 1}').message, /field unknown_key not found in otlp/);
  });
});

describe('native histogram scrape settings', () => {
  test('scrape_protocols default follows scrape_native_histograms, as in Prometheus 3', () => {
    const c = loadConfig(`
global:
  scrape_native_histograms: true
  always_scrape_classic_histograms: true
scrape_configs:
  - job_name: a
  - job_name: b
    scrape_native_histograms: false
    convert_classic_histograms_to_nhcb: true
    native_histogram_bucket_limit: 160
    native_histogram_min_bucket_factor: 1.1
`);
    assert.equal(c.global.scrapeProtocols, null);
    const [a, b] = c.scrapeConfigs;
    assert.deepEqual(a!.scrapeProtocols, ['PrometheusProto', 'OpenMetricsText1.0.0', 'OpenMetricsText0.0.1', 'PrometheusText1.0.0', 'PrometheusText0.0.4']);
    assert.ok(a!.scrapeNativeHistograms && a!.alwaysScrapeClassicHistograms && !a!.convertClassicHistogramsToNhcb);
    assert.deepEqual(b!.scrapeProtocols, ['OpenMetricsText1.0.0', 'OpenMetricsText0.0.1', 'PrometheusText1.0.0', 'PrometheusText0.0.4']);
    assert.ok(!b!.scrapeNativeHistograms && b!.convertClassicHistogramsToNhcb && b!.alwaysScrapeClassicHistograms);
    assert.equal(b!.nativeHistogramBucketLimit, 160);
    assert.equal(b!.nativeHistogramMinBucketFactor, 1.1);
    const again = loadConfig(configToYAML(c));
    assert.deepEqual(again.scrapeConfigs, c.scrapeConfigs);
  });

  test('a global scrape_protocols wins over the native-histogram default', () => {
    const c = loadConfig('global: {scrape_protocols: [PrometheusText0.0.4]}\nscrape_configs: [{job_name: a, scrape_native_histograms: true}]\n');
    assert.deepEqual(c.scrapeConfigs[0]!.scrapeProtocols, ['PrometheusText0.0.4']);
  });

  test('created-timestamp-zero-ingestion makes protobuf the first protocol of every job', () => {
    const c = loadConfig('scrape_configs: [{job_name: a}]', { protoFirstScrapeProtocols: true });
    assert.equal(c.global.scrapeProtocols![0], 'PrometheusProto');
    assert.equal(c.scrapeConfigs[0]!.scrapeProtocols[0], 'PrometheusProto');
  });

  test('bad values are refused', () => {
    assert.match(err('scrape_configs: [{job_name: a, native_histogram_min_bucket_factor: x}]').message, /cannot unmarshal "x" into float64/);
    assert.match(err('scrape_configs: [{job_name: a, native_histogram_bucket_limit: -1}]').message, /native_histogram_bucket_limit/);
    assert.match(err('global: {native_histogram_bucket_limit: 1}').message, /native_histogram_bucket_limit not found/);
  });
});
