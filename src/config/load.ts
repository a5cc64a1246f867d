// config: prometheus.yml: types, loading with validation, marshalling
// back to YAML, byte sizes. May import gofmt/, model/ and model/textparse (scrape protocols).
//
// Loads and validates prometheus.yml into the typed, defaulted, frozen model of types.ts.
//
// The YAML is parsed with the failsafe schema (every scalar is a string) so
// that this file decides every conversion itself and every error can name the
// key and the line it came from, the way a user needs to find it.
import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, isAbsolute, join, resolve, basename } from 'node:path';
import { LineCounter, parseDocument, isAlias, isMap, isScalar, isSeq, type Document, type Node, type YAMLMap, type Scalar } from 'yaml';
import { Labels, isValidLabelName, isWellFormedUTF16 } from '../model/labels.js';
import RE2 from 're2';
import { InvalidDurationError, parseDuration } from '../gofmt/duration.js';
import { goQuote } from '../gofmt/quote.js';
import type { ScrapeProtocol } from '../model/textparse/media_type.js';
import { parseSize, UnitParseError } from './units.js';
import {
  DEFAULT_OTLP_CONFIG,
  DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS,
  DEFAULT_SCRAPE_PROTOCOLS,
  OTLP_TRANSLATION_STRATEGIES,
  type AlertingConfig,
  type AlertmanagerConfig,
  type Authorization,
  type BasicAuth,
  type Config,
  type DNSRecordType,
  type DNSSDConfig,
  type FileSDConfig,
  type GlobalConfig,
  type HTTPClientConfig,
  type HTTPSDConfig,
  type MetadataConfig,
  type NativeHistogramScrapeSettings,
  type OTLPConfig,
  type OTLPTranslationStrategy,
  type QueueConfig,
  type RelabelAction,
  type RelabelConfig,
  type RemoteReadConfig,
  type RemoteWriteConfig,
  type OAuth2Config,
  type ScrapeConfig,
  type ScrapeLimits,
  type ServiceDiscoveryConfigs,
  type StaticConfig,
  type StorageConfig,
  type TLSConfig,
  type TLSVersion,
} from './types.js';

/** A config that cannot be used; names the file, line and key at fault. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    /** The problem alone, e.g. `unknown unit "x" in duration "5x"`. */
    readonly detail: string,
    readonly file: string,
    /** 1-based; 0 when the problem is not tied to a line. */
    readonly line: number,
    /** Dotted path of the key, e.g. `scrape_configs[0].scrape_interval`; '' for the whole file. */
    readonly key: string,
  ) {
    const where = [file || '<config>', line > 0 ? String(line) : ''].filter((s) => s !== '').join(':');
    super(`${where}: ${key ? `${key}: ` : ''}${detail}`);
  }
}

export interface LoadOptions {
  /** File name used in errors and as the base for relative paths. */
  file?: string;
  /** Base directory of relative paths; defaults to the file's directory, else the working directory. */
  dir?: string;
  /**
   * Default scrape_protocols with protobuf first for every job, as Prometheus
   * sets it with --enable-feature=created-timestamp-zero-ingestion.
   */
  protoFirstScrapeProtocols?: boolean;
}

/** Reads and validates a config file. Throws ConfigError. */
export function loadConfigFile(path: string, opts: Pick<LoadOptions, 'protoFirstScrapeProtocols'> = {}): Config {
  const abs = resolve(path);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file: ${(e as Error).message}`, path, 0, '');
  }
  return loadConfig(text, { ...opts, file: abs });
}

/** Parses and validates config text. Throws ConfigError. */
export function loadConfig(text: string, opts: LoadOptions = {}): Config {
  const file = opts.file ?? '';
  const dir = opts.dir ?? (file ? dirname(resolve(file)) : process.cwd());
  const ctx = parseYaml(text, file, dir);
  const root = new MapReader(ctx, ctx.doc.contents as Node | null, '', 'config', ROOT_KEYS, UNSUPPORTED_ROOT);

  const global = readGlobal(root.map('global', GLOBAL_KEYS), opts.protoFirstScrapeProtocols === true);
  const ruleFiles = root.strList('rule_files').map((f, i) => {
    checkGlob(f, root, `rule_files[${i}]`, 'invalid rule file path');
    return joinDir(dir, f);
  });
  const scrapeConfigFiles = root.strList('scrape_config_files').map((f, i) => {
    checkGlob(f, root, `scrape_config_files[${i}]`, 'invalid scrape config file path');
    return joinDir(dir, f);
  });

  const scrapeConfigs: ScrapeConfig[] = root.list('scrape_configs', (r) => readScrapeConfig(r, global));
  const jobs = new Map<string, string>();
  // root.list read the same items in order, one config each: i is in range.
  root.forEachItem('scrape_configs', (item, path, i) => {
    const name = scrapeConfigs[i]!.jobName;
    if (jobs.has(name)) throw root.errorAt(item, path, `found multiple scrape configs with job name ${JSON.stringify(name)}`);
    jobs.set(name, file);
  });
  for (const pattern of scrapeConfigFiles) {
    for (const f of expandGlob(pattern)) {
      for (const sc of loadScrapeConfigFile(f, global)) {
        const first = jobs.get(sc.jobName);
        if (first !== undefined) {
          throw new ConfigError(
            `found multiple scrape configs with job name ${JSON.stringify(sc.jobName)}, first found in ${first || '<config>'}`,
            f,
            0,
            'scrape_configs',
          );
        }
        jobs.set(sc.jobName, f);
        scrapeConfigs.push(sc);
      }
    }
  }

  const alerting = readAlerting(root.map('alerting', ['alert_relabel_configs', 'alertmanagers']));
  const remoteWrite = root.list('remote_write', readRemoteWrite);
  checkUniqueNames(root, 'remote_write', remoteWrite, 'remote write');
  const remoteRead = root.list('remote_read', readRemoteRead);
  checkUniqueNames(root, 'remote_read', remoteRead, 'remote read');
  const storage = readStorage(root.map('storage', ['tsdb', 'exemplars']));
  const otlp = readOTLP(root.map('otlp', OTLP_KEYS));

  return deepFreeze({
    global,
    ruleFiles,
    scrapeConfigFiles,
    scrapeConfigs,
    alerting,
    remoteWrite,
    remoteRead,
    storage,
    otlp,
    sourceFile: file ? resolve(file) : '',
  });
}

const ROOT_KEYS = [
  'global',
  'rule_files',
  'scrape_config_files',
  'scrape_configs',
  'alerting',
  'remote_write',
  'remote_read',
  'storage',
  'otlp',
];
const UNSUPPORTED_ROOT = ['runtime', 'tracing'];

const NATIVE_HISTOGRAM_KEYS = ['scrape_native_histograms', 'convert_classic_histograms_to_nhcb', 'always_scrape_classic_histograms'];

const GLOBAL_KEYS = [
  'scrape_interval',
  'scrape_timeout',
  'evaluation_interval',
  'rule_query_offset',
  'external_labels',
  'query_log_file',
  'scrape_failure_log_file',
  'query_log_max_size',
  'query_log_max_files',
  'query_log_min_duration',
  'body_size_limit',
  'sample_limit',
  'label_limit',
  'label_name_length_limit',
  'label_value_length_limit',
  'target_limit',
  'keep_dropped_targets',
  'scrape_protocols',
  ...NATIVE_HISTOGRAM_KEYS,
];

// Prometheus defaults (config.DefaultGlobalConfig and friends).
const DEFAULT_SCRAPE_INTERVAL_MS = 60_000;
const DEFAULT_SCRAPE_TIMEOUT_MS = 10_000;
const DEFAULT_EVALUATION_INTERVAL_MS = 60_000;

function readGlobal(r: MapReader, protoFirst: boolean): GlobalConfig {
  const externalLabels = r.strMap('external_labels');
  for (const [name, value] of Object.entries(externalLabels)) {
    if (!isValidLabelName(name)) throw r.error('external_labels', `${JSON.stringify(name)} is not a valid label name`);
    if (!isWellFormedUTF16(value)) throw r.error('external_labels', `${JSON.stringify(value)} is not a valid label value`);
  }
  const scrapeIntervalMs = r.duration('scrape_interval', 0) || DEFAULT_SCRAPE_INTERVAL_MS;
  let scrapeTimeoutMs = r.duration('scrape_timeout', 0);
  if (scrapeTimeoutMs > scrapeIntervalMs) throw r.error('scrape_timeout', 'global scrape timeout greater than scrape interval');
  if (scrapeTimeoutMs === 0) scrapeTimeoutMs = Math.min(DEFAULT_SCRAPE_TIMEOUT_MS, scrapeIntervalMs);
  return {
    scrapeIntervalMs,
    scrapeTimeoutMs,
    evaluationIntervalMs: r.duration('evaluation_interval', 0) || DEFAULT_EVALUATION_INTERVAL_MS,
    ruleQueryOffsetMs: r.duration('rule_query_offset', 0),
    externalLabels: Labels.fromObject(externalLabels),
    queryLogFile: r.path('query_log_file'),
    scrapeFailureLogFile: r.path('scrape_failure_log_file'),
    queryLogMaxSize: r.size('query_log_max_size', 0, true),
    queryLogMaxFiles: r.uint('query_log_max_files', 0),
    queryLogMinDurationMs: r.duration('query_log_min_duration', 0),
    ...readScrapeLimits(r, null),
    scrapeProtocols: r.has('scrape_protocols') ? readScrapeProtocols(r, 'scrape_protocols', 'for global config') : protoFirst ? DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS : null,
    ...readNativeHistogramSettings(r, null),
  };
}

/** scrape_native_histograms and friends of a global or scrape config; a scrape config's unset ones are the `inherited` ones. */
function readNativeHistogramSettings(r: MapReader, inherited: NativeHistogramScrapeSettings | null): NativeHistogramScrapeSettings {
  return {
    scrapeNativeHistograms: r.bool('scrape_native_histograms', inherited?.scrapeNativeHistograms ?? false),
    convertClassicHistogramsToNhcb: r.bool('convert_classic_histograms_to_nhcb', inherited?.convertClassicHistogramsToNhcb ?? false),
    alwaysScrapeClassicHistograms: r.bool('always_scrape_classic_histograms', inherited?.alwaysScrapeClassicHistograms ?? false),
  };
}

/** The limits of a global or scrape config; a scrape config's unset (0) limits are the `inherited` ones. */
function readScrapeLimits(r: MapReader, inherited: ScrapeLimits | null): ScrapeLimits {
  return {
    bodySizeLimit: r.size('body_size_limit', 0) || (inherited?.bodySizeLimit ?? 0),
    sampleLimit: r.uint('sample_limit', 0) || (inherited?.sampleLimit ?? 0),
    labelLimit: r.uint('label_limit', 0) || (inherited?.labelLimit ?? 0),
    labelNameLengthLimit: r.uint('label_name_length_limit', 0) || (inherited?.labelNameLengthLimit ?? 0),
    labelValueLengthLimit: r.uint('label_value_length_limit', 0) || (inherited?.labelValueLengthLimit ?? 0),
    targetLimit: r.uint('target_limit', 0) || (inherited?.targetLimit ?? 0),
    keepDroppedTargets: r.uint('keep_dropped_targets', 0) || (inherited?.keepDroppedTargets ?? 0),
  };
}

const SCRAPE_PROTOCOLS: readonly ScrapeProtocol[] = [
  'OpenMetricsText0.0.1',
  'OpenMetricsText1.0.0',
  'PrometheusProto',
  'PrometheusText0.0.4',
  'PrometheusText1.0.0',
];

function readScrapeProtocols(r: MapReader, key: string, suffix: string): ScrapeProtocol[] {
  const list = r.strList(key);
  if (list.length === 0) throw r.error(key, `scrape_protocols cannot be empty ${suffix}`);
  const seen = new Set<string>();
  for (const p of list) {
    if (seen.has(p.toLowerCase())) throw r.error(key, `duplicated protocol in scrape_protocols, got [${list.join(' ')}] ${suffix}`);
    seen.add(p.toLowerCase());
    if (!(SCRAPE_PROTOCOLS as readonly string[]).includes(p)) {
      throw r.error(key, `scrape_protocols: unknown scrape protocol ${p}, supported: [${SCRAPE_PROTOCOLS.join(' ')}] ${suffix}`);
    }
  }
  return list as ScrapeProtocol[];
}

const HTTP_CLIENT_KEYS = [
  'basic_auth',
  'authorization',
  'bearer_token',
  'bearer_token_file',
  'tls_config',
  'proxy_url',
  'no_proxy',
  'proxy_from_environment',
  'proxy_connect_header',
  'follow_redirects',
  'enable_http2',
  'http_headers',
];
const UNSUPPORTED_HTTP_CLIENT = ['oauth2', 'sigv4', 'azuread', 'google_iam'];

const SD_KEYS = ['static_configs', 'file_sd_configs', 'http_sd_configs', 'dns_sd_configs'];
// Service discoveries Prometheus has and tsprom does not: named in errors so users know why.
const UNSUPPORTED_SD = [
  'azure_sd_configs',
  'consul_sd_configs',
  'digitalocean_sd_configs',
  'docker_sd_configs',
  'dockerswarm_sd_configs',
  'ec2_sd_configs',
  'eureka_sd_configs',
  'gce_sd_configs',
  'hetzner_sd_configs',
  'ionos_sd_configs',
  'kubernetes_sd_configs',
  'kuma_sd_configs',
  'lightsail_sd_configs',
  'linode_sd_configs',
  'marathon_sd_configs',
  'nerve_sd_configs',
  'nomad_sd_configs',
  'openstack_sd_configs',
  'ovhcloud_sd_configs',
  'puppetdb_sd_configs',
  'scaleway_sd_configs',
  'serverset_sd_configs',
  'triton_sd_configs',
  'uyuni_sd_configs',
  'vultr_sd_configs',
];

const SCRAPE_KEYS = [
  'job_name',
  'honor_labels',
  'honor_timestamps',
  'track_timestamps_staleness',
  'params',
  'scrape_interval',
  'scrape_timeout',
  'scrape_protocols',
  'fallback_scrape_protocol',
  'scrape_failure_log_file',
  'metrics_path',
  'scheme',
  'enable_compression',
  'body_size_limit',
  'sample_limit',
  'target_limit',
  'label_limit',
  'label_name_length_limit',
  'label_value_length_limit',
  'keep_dropped_targets',
  ...NATIVE_HISTOGRAM_KEYS,
  'native_histogram_bucket_limit',
  'native_histogram_min_bucket_factor',
  'relabel_configs',
  'metric_relabel_configs',
  ...HTTP_CLIENT_KEYS,
  ...SD_KEYS,
];

function readScrapeConfig(r0: MapReader, global: GlobalConfig): ScrapeConfig {
  const r = r0.restrict(SCRAPE_KEYS, [...UNSUPPORTED_HTTP_CLIENT, ...UNSUPPORTED_SD]);
  const jobName = r.str('job_name', '');
  if (jobName === '') throw r.error('job_name', 'job_name is empty');
  const httpClient = readHTTPClient(r);
  const sd = readSD(r);
  const relabelConfigs = r.list('relabel_configs', readRelabel, 'empty or null target relabeling rule in scrape config');
  const metricRelabelConfigs = r.list('metric_relabel_configs', readRelabel, 'empty or null metric relabeling rule in scrape config');
  if (relabelConfigs.length === 0) checkStaticTargets(r, sd);

  const scrapeIntervalMs = r.duration('scrape_interval', 0) || global.scrapeIntervalMs;
  let scrapeTimeoutMs = r.duration('scrape_timeout', 0);
  if (scrapeTimeoutMs > scrapeIntervalMs) {
    throw r.error('scrape_timeout', `scrape timeout greater than scrape interval for scrape config with job name ${JSON.stringify(jobName)}`);
  }
  if (scrapeTimeoutMs === 0) scrapeTimeoutMs = Math.min(global.scrapeTimeoutMs, scrapeIntervalMs);
  const suffix = `for scrape config with job name ${JSON.stringify(jobName)}`;
  const scheme = r.str('scheme', 'http');
  if (scheme !== 'http' && scheme !== 'https') {
    throw r.error('scheme', `invalid scheme ${JSON.stringify(scheme)}, must be "http" or "https" ${suffix}`);
  }
  let fallbackScrapeProtocol: ScrapeProtocol | '' = '';
  if (r.has('fallback_scrape_protocol')) {
    const p = r.str('fallback_scrape_protocol', '');
    if (!(SCRAPE_PROTOCOLS as readonly string[]).includes(p)) {
      throw r.error(
        'fallback_scrape_protocol',
        `invalid fallback_scrape_protocol ${suffix}: unknown scrape protocol ${p}, supported: [${SCRAPE_PROTOCOLS.join(' ')}]`,
      );
    }
    fallbackScrapeProtocol = p as ScrapeProtocol;
  }
  const metricsPath = r.str('metrics_path', '/metrics');
  const nh = readNativeHistogramSettings(r, global);
  const minFactorText = r.str('native_histogram_min_bucket_factor', '0');
  const nativeHistogramMinBucketFactor = Number(minFactorText);
  if (minFactorText.trim() === '' || Number.isNaN(nativeHistogramMinBucketFactor)) {
    throw r.error('native_histogram_min_bucket_factor', `cannot unmarshal ${JSON.stringify(minFactorText)} into float64`);
  }
  return {
    jobName,
    honorLabels: r.bool('honor_labels', false),
    honorTimestamps: r.bool('honor_timestamps', true),
    trackTimestampsStaleness: r.bool('track_timestamps_staleness', false),
    params: r.strListMap('params'),
    scrapeIntervalMs,
    scrapeTimeoutMs,
    // Unset in both places: protobuf first when this job scrapes native histograms (only protobuf carries them).
    scrapeProtocols: r.has('scrape_protocols')
      ? readScrapeProtocols(r, 'scrape_protocols', suffix)
      : (global.scrapeProtocols ?? (nh.scrapeNativeHistograms ? DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS : DEFAULT_SCRAPE_PROTOCOLS)),
    fallbackScrapeProtocol,
    nativeHistogramBucketLimit: r.uint('native_histogram_bucket_limit', 0),
    nativeHistogramMinBucketFactor,
    ...nh,
    scrapeFailureLogFile: r.path('scrape_failure_log_file') || global.scrapeFailureLogFile,
    metricsPath,
    scheme,
    enableCompression: r.bool('enable_compression', true),
    ...readScrapeLimits(r, global),
    httpClient,
    relabelConfigs,
    metricRelabelConfigs,
    ...sd,
  };
}

function loadScrapeConfigFile(path: string, global: GlobalConfig): ScrapeConfig[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read scrape config file: ${(e as Error).message}`, path, 0, '');
  }
  const ctx = parseYaml(text, path, dirname(path));
  const root = new MapReader(ctx, ctx.doc.contents as Node | null, '', 'scrape config file', ['scrape_configs'], []);
  return root.list('scrape_configs', (r) => readScrapeConfig(r, global));
}

function checkStaticTargets(r: MapReader, sd: ServiceDiscoveryConfigs): void {
  for (const sc of sd.staticConfigs) {
    for (const t of sc.targets) {
      if (t.includes('/')) throw r.error('static_configs', `${JSON.stringify(t)} is not a valid hostname`);
    }
  }
}

function readSD(r: MapReader): ServiceDiscoveryConfigs {
  return {
    staticConfigs: r.list('static_configs', readStaticConfig),
    fileSdConfigs: r.list('file_sd_configs', readFileSD),
    httpSdConfigs: r.list('http_sd_configs', readHTTPSD),
    dnsSdConfigs: r.list('dns_sd_configs', readDNSSD),
  };
}

function readStaticConfig(r0: MapReader): StaticConfig {
  const r = r0.restrict(['targets', 'labels'], []);
  const labels = r.strMap('labels');
  for (const name of Object.keys(labels)) {
    if (!isValidLabelName(name)) throw r.error('labels', `${JSON.stringify(name)} is not a valid label name`);
  }
  return { targets: r.strList('targets'), labels };
}

const FILE_SD_EXTENSIONS = /\.(json|ya?ml)$/;

function readFileSD(r0: MapReader): FileSDConfig {
  const r = r0.restrict(['files', 'refresh_interval'], []);
  const files = r.strList('files');
  if (files.length === 0) throw r.error('files', 'file service discovery config must contain at least one path name');
  for (const f of files) {
    if (!FILE_SD_EXTENSIONS.test(basename(f))) {
      throw r.error('files', `path name ${JSON.stringify(f)} is not valid for file discovery`);
    }
    if (/[*?[]/.test(dirname(f))) throw r.error('files', `path name ${JSON.stringify(f)} may hold a glob only in its last element`);
  }
  return { files: files.map((f) => r.joinDir(f)), refreshIntervalMs: r.duration('refresh_interval', 5 * 60_000) };
}

function readHTTPSD(r0: MapReader): HTTPSDConfig {
  const r = r0.restrict(['url', 'refresh_interval', ...HTTP_CLIENT_KEYS], UNSUPPORTED_HTTP_CLIENT);
  const url = r.str('url', '');
  if (url === '') throw r.error('url', 'URL is missing');
  const parsed = parseURL(r, 'url', url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw r.error('url', 'URL scheme must be \'http\' or \'https\'');
  if (parsed.hostname === '') throw r.error('url', 'host is missing in URL');
  return { url, refreshIntervalMs: r.duration('refresh_interval', 60_000), httpClient: readHTTPClient(r) };
}

const DNS_TYPES: readonly DNSRecordType[] = ['SRV', 'A', 'AAAA', 'MX', 'NS'];

function readDNSSD(r0: MapReader): DNSSDConfig {
  const r = r0.restrict(['names', 'refresh_interval', 'type', 'port'], []);
  const names = r.strList('names');
  if (names.length === 0) throw r.error('names', 'DNS-SD config must contain at least one SRV record name');
  const type = r.str('type', 'SRV').toUpperCase() as DNSRecordType;
  if (!DNS_TYPES.includes(type)) throw r.error('type', `invalid DNS-SD records type ${r.str('type', '')}`);
  const port = r.uint('port', 0);
  if (type !== 'SRV' && port === 0) throw r.error('port', 'a port is required in DNS-SD configs for all record types except SRV');
  if (port > 65535) throw r.error('port', `invalid port ${port}`);
  return { names, refreshIntervalMs: r.duration('refresh_interval', 30_000), type, port: type === 'SRV' ? 0 : port };
}

const RELABEL_ACTIONS: readonly RelabelAction[] = [
  'replace',
  'keep',
  'drop',
  'keepequal',
  'dropequal',
  'hashmod',
  'labelmap',
  'labeldrop',
  'labelkeep',
  'lowercase',
  'uppercase',
];
const DEFAULT_REGEX = '(.*)';
const DEFAULT_SEPARATOR = ';';
const DEFAULT_REPLACEMENT = '$1';
// Prometheus's check of target labels that hold $-references, for its legacy name scheme.
const RELABEL_TARGET_WITH_VARS = /^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$/;

function readRelabel(r0: MapReader): RelabelConfig {
  const r = r0.restrict(['source_labels', 'separator', 'regex', 'modulus', 'target_label', 'replacement', 'action'], []);
  const actionText = r.str('action', 'replace').toLowerCase();
  if (actionText === '') throw r.error('action', 'relabel action cannot be empty');
  if (!(RELABEL_ACTIONS as readonly string[]).includes(actionText)) {
    throw r.error('action', `unknown relabel action ${JSON.stringify(actionText)}`);
  }
  const action = actionText as RelabelAction;
  const regex = r.has('regex') ? r.str('regex', '') : DEFAULT_REGEX;
  try {
    new RE2(`^(?:${regex})$`, 'u');
  } catch (e) {
    throw r.error('regex', `error parsing regexp: ${(e as Error).message}`);
  }
  const sourceLabels = r.strList('source_labels');
  for (const l of sourceLabels) {
    if (!isValidLabelName(l)) throw r.error('source_labels', `${JSON.stringify(l)} is not a valid label name`);
  }
  const cfg: RelabelConfig = {
    sourceLabels,
    separator: r.has('separator') ? r.str('separator', '') : DEFAULT_SEPARATOR,
    regex,
    modulus: r.uint('modulus', 0),
    targetLabel: r.str('target_label', ''),
    replacement: r.has('replacement') ? r.str('replacement', '') : DEFAULT_REPLACEMENT,
    action,
  };
  const fail = (msg: string): never => {
    throw r.error('', msg);
  };
  if (cfg.modulus === 0 && action === 'hashmod') fail('relabel configuration for hashmod requires non-zero modulus');
  const needsTarget = ['replace', 'hashmod', 'lowercase', 'uppercase', 'keepequal', 'dropequal'];
  if (needsTarget.includes(action) && cfg.targetLabel === '') {
    fail(`relabel configuration for ${action} action requires 'target_label' value`);
  }
  const hasVar = /\$(?:\{\w+\}|\w+)/.test(cfg.targetLabel);
  if (action === 'replace' && !hasVar && !isValidLabelName(cfg.targetLabel)) {
    fail(`${JSON.stringify(cfg.targetLabel)} is invalid 'target_label' for ${action} action`);
  }
  if (action === 'replace' && hasVar && !isValidLabelName(cfg.targetLabel) && !RELABEL_TARGET_WITH_VARS.test(cfg.targetLabel)) {
    fail(`${JSON.stringify(cfg.targetLabel)} is invalid 'target_label' for ${action} action`);
  }
  const simple = ['lowercase', 'uppercase', 'keepequal', 'dropequal'];
  if ((simple.includes(action) || action === 'hashmod') && !isValidLabelName(cfg.targetLabel)) {
    fail(`${JSON.stringify(cfg.targetLabel)} is invalid 'target_label' for ${action} action`);
  }
  if (simple.includes(action) && cfg.replacement !== DEFAULT_REPLACEMENT) {
    fail(`'replacement' can not be set for ${action} action`);
  }
  if (action === 'labelmap' && !isValidLabelName(cfg.replacement)) {
    fail(`${JSON.stringify(cfg.replacement)} is invalid 'replacement' for ${action} action`);
  }
  if (
    (action === 'keepequal' || action === 'dropequal') &&
    (regex !== DEFAULT_REGEX || cfg.modulus !== 0 || cfg.separator !== DEFAULT_SEPARATOR || cfg.replacement !== DEFAULT_REPLACEMENT)
  ) {
    fail(`${action} action requires only 'source_labels' and \`target_label\`, and no other fields`);
  }
  if (
    (action === 'labeldrop' || action === 'labelkeep') &&
    (r.has('source_labels') ||
      cfg.targetLabel !== '' ||
      cfg.modulus !== 0 ||
      cfg.separator !== DEFAULT_SEPARATOR ||
      cfg.replacement !== DEFAULT_REPLACEMENT)
  ) {
    fail(`${action} action requires only 'regex', and no other fields`);
  }
  return cfg;
}

const TLS_VERSIONS: readonly TLSVersion[] = ['TLS10', 'TLS11', 'TLS12', 'TLS13'];

function readTLS(r0: MapReader | null): TLSConfig {
  const empty: TLSConfig = {
    ca: '',
    caFile: '',
    cert: '',
    certFile: '',
    key: '',
    keyFile: '',
    serverName: '',
    insecureSkipVerify: false,
    minVersion: '',
    maxVersion: '',
  };
  if (r0 === null) return empty;
  const r = r0.restrict(
    ['ca', 'ca_file', 'cert', 'cert_file', 'key', 'key_file', 'server_name', 'insecure_skip_verify', 'min_version', 'max_version'],
    [],
  );
  const cfg: TLSConfig = {
    ca: r.str('ca', ''),
    caFile: r.path('ca_file'),
    cert: r.str('cert', ''),
    certFile: r.path('cert_file'),
    key: r.str('key', ''),
    keyFile: r.path('key_file'),
    serverName: r.str('server_name', ''),
    insecureSkipVerify: r.bool('insecure_skip_verify', false),
    minVersion: readTLSVersion(r, 'min_version'),
    maxVersion: readTLSVersion(r, 'max_version'),
  };
  if (cfg.ca && cfg.caFile) throw r.error('ca', 'at most one of ca and ca_file must be configured');
  if (cfg.cert && cfg.certFile) throw r.error('cert', 'at most one of cert and cert_file must be configured');
  if (cfg.key && cfg.keyFile) throw r.error('key', 'at most one of key and key_file must be configured');
  const hasCert = cfg.cert !== '' || cfg.certFile !== '';
  const hasKey = cfg.key !== '' || cfg.keyFile !== '';
  if (hasCert && !hasKey) throw r.error('cert', 'exactly one of key or key_file must be configured when a client certificate is configured');
  if (hasKey && !hasCert) throw r.error('key', 'exactly one of cert or cert_file must be configured when a client key is configured');
  return cfg;
}

function readTLSVersion(r: MapReader, key: string): TLSVersion | '' {
  if (!r.has(key)) return '';
  const v = r.str(key, '');
  if (!(TLS_VERSIONS as readonly string[]).includes(v)) throw r.error(key, `unknown TLS version: ${v}`);
  return v as TLSVersion;
}

function readHTTPClient(r: MapReader): HTTPClientConfig {
  let basicAuth: BasicAuth | null = null;
  if (r.has('basic_auth')) {
    const b = r.map('basic_auth', ['username', 'username_file', 'password', 'password_file']);
    basicAuth = { username: b.str('username', ''), usernameFile: b.path('username_file'), password: b.str('password', ''), passwordFile: b.path('password_file') };
    if (basicAuth.username && basicAuth.usernameFile) throw b.error('username', 'at most one of basic_auth username & username_file must be configured');
    if (basicAuth.password && basicAuth.passwordFile) throw b.error('password', 'at most one of basic_auth password & password_file must be configured');
  }
  let authorization: Authorization | null = null;
  if (r.has('authorization')) {
    const a = r.map('authorization', ['type', 'credentials', 'credentials_file']);
    authorization = { type: a.str('type', '') || 'Bearer', credentials: a.str('credentials', ''), credentialsFile: a.path('credentials_file') };
    if (authorization.credentials && authorization.credentialsFile) {
      throw a.error('credentials', 'at most one of authorization credentials & credentials_file must be configured');
    }
    if (authorization.type.toLowerCase() === 'basic') {
      throw a.error('type', 'authorization type cannot be set to "basic", use "basic_auth" instead');
    }
  }
  const bearer = r.str('bearer_token', '');
  const bearerFile = r.path('bearer_token_file');
  if (bearer && bearerFile) throw r.error('bearer_token', 'at most one of bearer_token & bearer_token_file must be configured');
  if (bearer || bearerFile) {
    if (authorization !== null) throw r.error('bearer_token', 'at most one of basic_auth, oauth2, bearer_token & bearer_token_file, authorization must be configured');
    authorization = { type: 'Bearer', credentials: bearer, credentialsFile: bearerFile };
  }
  if (basicAuth !== null && authorization !== null) {
    throw r.error('basic_auth', 'at most one of basic_auth, oauth2 & authorization must be configured');
  }
  const proxyUrl = r.str('proxy_url', '');
  if (proxyUrl) parseURL(r, 'proxy_url', proxyUrl);
  const proxyFromEnvironment = r.bool('proxy_from_environment', false);
  const noProxy = r.str('no_proxy', '');
  const proxyConnectHeader = r.strListMap('proxy_connect_header');
  if (Object.keys(proxyConnectHeader).length > 0 && !proxyFromEnvironment && !proxyUrl) {
    throw r.error('proxy_connect_header', 'if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured');
  }
  if (proxyFromEnvironment && proxyUrl) throw r.error('proxy_from_environment', 'if proxy_from_environment is configured, proxy_url must not be configured');
  if (proxyFromEnvironment && noProxy) throw r.error('proxy_from_environment', 'if proxy_from_environment is configured, no_proxy must not be configured');
  if (noProxy && !proxyUrl) throw r.error('no_proxy', 'if no_proxy is configured, proxy_url must also be configured');
  return {
    basicAuth,
    authorization,
    tlsConfig: readTLS(r.has('tls_config') ? r.map('tls_config', null) : null),
    proxyUrl,
    noProxy,
    proxyFromEnvironment,
    proxyConnectHeader,
    followRedirects: r.bool('follow_redirects', true),
    enableHttp2: r.bool('enable_http2', true),
    httpHeaders: readHTTPHeaders(r),
  };
}

function readHTTPHeaders(r: MapReader): Record<string, readonly string[]> {
  const out: Record<string, readonly string[]> = {};
  if (!r.has('http_headers')) return out;
  const h = r.map('http_headers', null);
  for (const name of h.keys()) {
    const one = h.map(name, ['values', 'secrets']);
    out[name] = [...one.strList('values'), ...one.strList('secrets')];
  }
  return out;
}

function readAlerting(r: MapReader): AlertingConfig {
  return {
    alertRelabelConfigs: r.list('alert_relabel_configs', readRelabel, 'empty or null alert relabeling rule'),
    alertmanagers: r.list('alertmanagers', readAlertmanager),
  };
}

function readAlertmanager(r0: MapReader): AlertmanagerConfig {
  const r = r0.restrict(
    ['scheme', 'path_prefix', 'timeout', 'api_version', 'relabel_configs', 'alert_relabel_configs', ...HTTP_CLIENT_KEYS, ...SD_KEYS],
    [...UNSUPPORTED_HTTP_CLIENT, ...UNSUPPORTED_SD],
  );
  const apiVersion = r.str('api_version', 'v2');
  if (apiVersion !== 'v2') throw r.error('api_version', `expected Alertmanager api version to be one of [v2] but got ${apiVersion}`);
  const scheme = r.str('scheme', 'http');
  if (scheme !== 'http' && scheme !== 'https') throw r.error('scheme', `invalid scheme ${JSON.stringify(scheme)}, must be "http" or "https"`);
  const relabelConfigs = r.list('relabel_configs', readRelabel, 'empty or null Alertmanager target relabeling rule');
  const sd = readSD(r);
  if (relabelConfigs.length === 0) checkStaticTargets(r, sd);
  return {
    scheme,
    pathPrefix: r.str('path_prefix', '/'),
    timeoutMs: r.duration('timeout', 10_000),
    apiVersion,
    httpClient: readHTTPClient(r),
    relabelConfigs,
    alertRelabelConfigs: r.list('alert_relabel_configs', readRelabel, 'empty or null Alertmanager alert relabeling rule'),
    ...sd,
  };
}

// Headers a remote-write sender must own itself (Prometheus's reserved list).
const RESERVED_HEADERS = new Set([
  'content-encoding',
  'content-length',
  'content-type',
  'user-agent',
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'www-authenticate',
  'retry-after',
  'x-prometheus-remote-write-version',
  'x-prometheus-remote-read-version',
]);

function readHeaders(r: MapReader, key: string): Record<string, string> {
  const headers = r.strMap(key);
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.has(lower)) throw r.error(key, `${name} is a reserved header. It must not be changed`);
    if (lower === 'authorization') {
      throw r.error(key, 'authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter');
    }
  }
  return headers;
}

function readRemoteWrite(r0: MapReader): RemoteWriteConfig {
  const r = r0.restrict(
    [
      'url',
      'remote_timeout',
      'headers',
      'write_relabel_configs',
      'name',
      'send_exemplars',
      'send_native_histograms',
      'protobuf_message',
      'queue_config',
      'metadata_config',
      'oauth2',
      ...HTTP_CLIENT_KEYS,
    ],
    UNSUPPORTED_HTTP_CLIENT.filter((k) => k !== 'oauth2'),
  );
  const url = r.str('url', '');
  if (url === '') throw r.error('url', 'url for remote_write is empty');
  parseURL(r, 'url', url);
  const protobufMessage = r.str('protobuf_message', 'prometheus.WriteRequest');
  if (protobufMessage !== 'prometheus.WriteRequest' && protobufMessage !== 'io.prometheus.write.v2.Request') {
    throw r.error(
      'protobuf_message',
      `invalid protobuf_message value: unknown remote write protobuf message ${protobufMessage}, supported: prometheus.WriteRequest, io.prometheus.write.v2.Request`,
    );
  }
  const cfg = {
    url,
    remoteTimeoutMs: r.duration('remote_timeout', 30_000),
    headers: readHeaders(r, 'headers'),
    writeRelabelConfigs: r.list('write_relabel_configs', readRelabel, 'empty or null relabeling rule in remote write config'),
    sendExemplars: r.bool('send_exemplars', false),
    sendNativeHistograms: r.bool('send_native_histograms', false),
    protobufMessage,
    // Prometheus's remote-write client defaults to HTTP/1.1.
    httpClient: { ...readHTTPClient(r), enableHttp2: r.bool('enable_http2', false) },
    oauth2: readOAuth2(r),
    queueConfig: readQueueConfig(r.map('queue_config', null)),
    metadataConfig: readMetadataConfig(r.map('metadata_config', ['send', 'send_interval', 'max_samples_per_send'])),
  } as const;
  return { ...cfg, name: r.str('name', '') || configHash(cfg) };
}

function readOAuth2(r: MapReader): OAuth2Config | null {
  if (!r.has('oauth2')) return null;
  const o = r.map('oauth2', ['client_id', 'client_secret', 'client_secret_file', 'scopes', 'token_url', 'endpoint_params', 'tls_config', 'proxy_url']);
  const c: OAuth2Config = {
    clientId: o.str('client_id', ''),
    clientSecret: o.str('client_secret', ''),
    clientSecretFile: o.path('client_secret_file'),
    scopes: o.strList('scopes'),
    tokenUrl: o.str('token_url', ''),
    endpointParams: o.strMap('endpoint_params'),
    tlsConfig: readTLS(o.has('tls_config') ? o.map('tls_config', null) : null),
    proxyUrl: o.str('proxy_url', ''),
  };
  if (c.clientId === '') throw o.error('client_id', 'oauth2 client_id must be configured');
  if (c.tokenUrl === '') throw o.error('token_url', 'oauth2 token_url must be configured');
  parseURL(o, 'token_url', c.tokenUrl);
  if (c.proxyUrl !== '') parseURL(o, 'proxy_url', c.proxyUrl);
  if (c.clientSecret !== '' && c.clientSecretFile !== '') {
    throw o.error('client_secret', 'at most one of oauth2 client_secret, client_secret_file & client_secret_ref must be configured');
  }
  if (r.has('basic_auth') || r.has('authorization') || r.has('bearer_token') || r.has('bearer_token_file')) {
    throw r.error('oauth2', 'at most one of basic_auth, oauth2 & authorization must be configured');
  }
  return c;
}

function readQueueConfig(r0: MapReader): QueueConfig {
  const r = r0.restrict(
    ['capacity', 'max_shards', 'min_shards', 'max_samples_per_send', 'batch_send_deadline', 'min_backoff', 'max_backoff', 'retry_on_http_429', 'sample_age_limit'],
    [],
  );
  // Prometheus's DefaultQueueConfig.
  const q: QueueConfig = {
    capacity: r.uint('capacity', 10_000),
    maxShards: r.uint('max_shards', 50),
    minShards: r.uint('min_shards', 1),
    maxSamplesPerSend: r.uint('max_samples_per_send', 2000),
    batchSendDeadlineMs: r.duration('batch_send_deadline', 5000),
    minBackoffMs: r.duration('min_backoff', 30),
    maxBackoffMs: r.duration('max_backoff', 5000),
    retryOnHttp429: r.bool('retry_on_http_429', false),
    sampleAgeLimitMs: r.duration('sample_age_limit', 0),
  };
  if (q.maxShards <= 0) throw r.error('max_shards', 'remote write queue max_shards must be positive');
  if (q.minShards <= 0) throw r.error('min_shards', 'remote write queue min_shards must be positive');
  if (q.minShards > q.maxShards) throw r.error('min_shards', 'remote write queue min_shards must not be greater than max_shards');
  if (q.maxSamplesPerSend <= 0) throw r.error('max_samples_per_send', 'remote write queue max_samples_per_send must be positive');
  if (q.capacity <= 0) throw r.error('capacity', 'remote write queue capacity must be positive');
  if (q.maxBackoffMs < q.minBackoffMs) throw r.error('max_backoff', 'remote write queue max_backoff must not be less than min_backoff');
  return q;
}

function readMetadataConfig(r: MapReader): MetadataConfig {
  return {
    send: r.bool('send', true),
    sendIntervalMs: r.duration('send_interval', 60_000),
    maxSamplesPerSend: r.uint('max_samples_per_send', 2000),
  };
}

function readRemoteRead(r0: MapReader): RemoteReadConfig {
  const r = r0.restrict(
    ['url', 'remote_timeout', 'chunked_read_limit', 'headers', 'read_recent', 'name', 'required_matchers', 'filter_external_labels', 'oauth2', ...HTTP_CLIENT_KEYS],
    UNSUPPORTED_HTTP_CLIENT.filter((k) => k !== 'oauth2'),
  );
  const url = r.str('url', '');
  if (url === '') throw r.error('url', 'url for remote_read is empty');
  parseURL(r, 'url', url);
  const cfg = {
    url,
    remoteTimeoutMs: r.duration('remote_timeout', 60_000),
    // Prometheus's DefaultChunkedReadLimit.
    chunkedReadLimit: r.uint('chunked_read_limit', 50_000_000),
    headers: readHeaders(r, 'headers'),
    readRecent: r.bool('read_recent', false),
    requiredMatchers: r.strMap('required_matchers'),
    filterExternalLabels: r.bool('filter_external_labels', true),
    httpClient: readHTTPClient(r),
    oauth2: readOAuth2(r),
  };
  return { ...cfg, name: r.str('name', '') || configHash(cfg) };
}

function checkUniqueNames(root: MapReader, key: string, list: readonly { name: string }[], what: string): void {
  const seen = new Set<string>();
  // list was read from the same items in order, one entry each: i is in range.
  root.forEachItem(key, (item, path, i) => {
    const name = list[i]!.name;
    if (seen.has(name)) throw root.errorAt(item, path, `found multiple ${what} configs with job name ${JSON.stringify(name)}`);
    seen.add(name);
  });
}

function readStorage(r: MapReader): StorageConfig {
  const tsdb = r.map('tsdb', ['out_of_order_time_window']);
  const ex = r.map('exemplars', ['max_exemplars']);
  return {
    tsdb: { outOfOrderTimeWindowMs: tsdb.duration('out_of_order_time_window', 0) },
    exemplars: { maxExemplars: ex.uint('max_exemplars', 100_000) },
  };
}

const OTLP_KEYS = [
  'promote_all_resource_attributes',
  'promote_resource_attributes',
  'ignore_resource_attributes',
  'translation_strategy',
  'keep_identifying_resource_attributes',
  'convert_histograms_to_nhcb',
  'promote_scope_metadata',
  'label_name_underscore_sanitization',
  'label_name_preserve_multiple_underscores',
];

/** The otlp section, checked as Prometheus checks it (OTLPConfig.UnmarshalYAML and the strategy check in config.Load). */
function readOTLP(r: MapReader): OTLPConfig {
  const promoteAll = r.bool('promote_all_resource_attributes', false);
  const promote = r.strList('promote_resource_attributes');
  const ignore = r.strList('ignore_resource_attributes');
  // Trimmed and checked for empty and duplicate names; every problem is listed, one per line, as Go's errors.Join does.
  const attrs = (key: string, list: string[], adjective: string): string[] => {
    const seen = new Set<string>();
    const problems: string[] = [];
    const out = list.map((a) => {
      const t = a.trim();
      if (t === '') problems.push(`empty ${adjective} OTel resource attribute`);
      else if (seen.has(t)) problems.push(`duplicated ${adjective} OTel resource attribute ${goQuote(t)}`);
      else seen.add(t);
      return t;
    });
    if (problems.length > 0) throw r.error(key, `invalid '${key}': ${problems.join('\n')}`);
    return out;
  };
  let promoted: string[] = [];
  let ignored: string[] = [];
  if (promoteAll) {
    if (promote.length > 0) {
      throw r.error('promote_resource_attributes', "'promote_all_resource_attributes' and 'promote_resource_attributes' cannot be configured simultaneously");
    }
    ignored = attrs('ignore_resource_attributes', ignore, 'ignored');
  } else {
    if (ignore.length > 0) throw r.error('ignore_resource_attributes', "'ignore_resource_attributes' cannot be configured unless 'promote_all_resource_attributes' is true");
    promoted = attrs('promote_resource_attributes', promote, 'promoted');
  }
  const strategy = r.str('translation_strategy', DEFAULT_OTLP_CONFIG.translationStrategy);
  if (!(OTLP_TRANSLATION_STRATEGIES as readonly string[]).includes(strategy)) {
    throw r.error('translation_strategy', `unsupported OTLP translation strategy ${goQuote(strategy)}`);
  }
  return {
    promoteAllResourceAttributes: promoteAll,
    promoteResourceAttributes: promoted,
    ignoreResourceAttributes: ignored,
    translationStrategy: strategy as OTLPTranslationStrategy,
    keepIdentifyingResourceAttributes: r.bool('keep_identifying_resource_attributes', false),
    convertHistogramsToNHCB: r.bool('convert_histograms_to_nhcb', false),
    promoteScopeMetadata: r.bool('promote_scope_metadata', false),
    labelNameUnderscoreSanitization: r.bool('label_name_underscore_sanitization', false),
    labelNamePreserveMultipleUnderscores: r.bool('label_name_preserve_multiple_underscores', false),
  };
}

/** Short stable hash naming an unnamed remote queue, as Prometheus names them. */
function configHash(cfg: unknown): string {
  return createHash('md5').update(JSON.stringify(cfg)).digest('hex').slice(0, 6);
}

function parseURL(r: MapReader, key: string, s: string): URL {
  try {
    return new URL(s);
  } catch {
    throw r.error(key, `parse ${JSON.stringify(s)}: invalid URL`);
  }
}

function joinDir(dir: string, p: string): string {
  return p === '' || isAbsolute(p) ? p : join(dir, p);
}

/** Go's filepath.Match rejects patterns with unbalanced brackets or a trailing backslash; so do we. */
function checkGlob(pattern: string, r: MapReader, key: string, msg: string): void {
  if (globToRegExp(basename(pattern)) === null || /[*?[]/.test(dirname(pattern))) {
    throw r.errorAt(null, key, `${msg} ${JSON.stringify(pattern)}`);
  }
}

/**
 * Translates one path element's glob into a RegExp with Go's filepath.Match
 * rules: `*` and `?` never match `/`, `[...]` is a class of characters and
 * `lo-hi` ranges (negated by a leading `^`), `\\` escapes the next character.
 * Null when Go would report ErrBadPattern (an unclosed or empty class, a bare
 * `-` or `]` in a class, a trailing backslash).
 */
export function globToRegExp(glob: string): RegExp | null {
  const cps = [...glob];
  let i = 0;
  // One class member: a character other than `-` and `]`, or an escaped one.
  const member = (): string | null => {
    const c = cps[i];
    if (c === undefined || c === '-' || c === ']') return null;
    i++;
    if (c !== '\\') return c;
    const e = cps[i++];
    return e === undefined ? null : e;
  };
  let re = '^';
  while (i < cps.length) {
    const c = cps[i++]!; // i < cps.length
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      const e = cps[i++];
      if (e === undefined) return null;
      re += escapeRegExpChar(e);
    } else if (c === '[') {
      let cls = '';
      if (cps[i] === '^') {
        cls = '^';
        i++;
      }
      let members = 0;
      for (;;) {
        if (cps[i] === ']' && members > 0) {
          i++;
          break;
        }
        const lo = member();
        if (lo === null) return null;
        let hi = lo;
        if (cps[i] === '-') {
          i++;
          const h = member();
          if (h === null) return null;
          hi = h;
        }
        // Go accepts a reversed range and never matches it; a RegExp would reject it.
        if (lo.codePointAt(0)! <= hi.codePointAt(0)!) cls += `${escapeClassChar(lo)}-${escapeClassChar(hi)}`;
        members++;
      }
      re += cls === '' ? '(?!)' : cls === '^' ? '[^/]' : `[${cls}]`;
    } else re += escapeRegExpChar(c);
  }
  return new RegExp(`${re}$`, 'u');
}

function escapeRegExpChar(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

function escapeClassChar(c: string): string {
  return /[\\\]\[^-]/.test(c) ? `\\${c}` : c;
}

/** Files matching a pattern whose glob characters sit only in the last element, sorted. */
export function expandGlob(pattern: string): string[] {
  const dir = dirname(pattern);
  const re = globToRegExp(basename(pattern));
  if (re === null) return [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => re.test(n)).sort().map((n) => join(dir, n));
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v) && !(v instanceof Labels)) {
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
    Object.freeze(v);
  }
  return v;
}

// ---------------------------------------------------------------------------
// YAML access with positions.

interface Ctx {
  doc: Document;
  lc: LineCounter;
  file: string;
  dir: string;
}

function parseYaml(text: string, file: string, dir: string): Ctx {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, schema: 'failsafe', uniqueKeys: true, prettyErrors: false });
  const err = doc.errors[0];
  if (err !== undefined) {
    const line = lc.linePos(err.pos[0]).line;
    // split always yields at least one element.
    throw new ConfigError(err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''), file, line, '');
  }
  return { doc, lc, file, dir };
}

function isNull(node: Node | null | undefined): boolean {
  if (node === null || node === undefined) return true;
  if (!isScalar(node)) return false;
  const s = node as Scalar;
  return s.type === 'PLAIN' && (s.value === '' || s.value === '~' || s.value === 'null' || s.value === 'Null' || s.value === 'NULL');
}

/** Reads one YAML mapping, refusing keys it does not know. */
class MapReader {
  private readonly entries = new Map<string, { key: Node; value: Node | null }>();
  private readonly node: Node | null;

  constructor(
    private readonly ctx: Ctx,
    node: Node | null,
    /** Dotted path of this mapping, '' at the root. */
    readonly at: string,
    private readonly what: string,
    allowed: readonly string[] | null,
    unsupported: readonly string[],
  ) {
    this.node = this.resolve(node);
    if (isNull(this.node)) return;
    if (!isMap(this.node)) throw this.errorAt(this.node, at, `expected a mapping for ${what}, got ${kindOf(this.node)}`);
    for (const pair of (this.node as YAMLMap<Node, Node | null>).items) {
      const keyNode = pair.key as Node;
      if (!isScalar(keyNode)) throw this.errorAt(keyNode, at, 'mapping keys must be strings');
      const key = String((keyNode as Scalar).value);
      const keyPath = this.child(key);
      if (allowed !== null && !allowed.includes(key)) {
        if (unsupported.includes(key)) throw this.errorAt(keyNode, keyPath, `${key} is not supported by tsprom`);
        throw this.errorAt(keyNode, keyPath, `field ${key} not found in ${what}`);
      }
      this.entries.set(key, { key: keyNode, value: this.resolve(pair.value as Node | null) });
    }
  }

  /** The same mapping checked against a narrower set of keys (list items are read before their type is known). */
  restrict(allowed: readonly string[], unsupported: readonly string[]): MapReader {
    return new MapReader(this.ctx, this.node, this.at, this.what, allowed, unsupported);
  }

  private resolve(node: Node | null | undefined): Node | null {
    if (node === undefined || node === null) return null;
    if (isAlias(node)) return (node.resolve(this.ctx.doc) as Node | undefined) ?? null;
    return node;
  }

  private child(key: string): string {
    return this.at ? `${this.at}.${key}` : key;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  has(key: string): boolean {
    const e = this.entries.get(key);
    return e !== undefined && !isNull(e.value);
  }

  errorAt(node: Node | null, path: string, detail: string): ConfigError {
    const range = node?.range ?? this.node?.range;
    const line = range ? this.ctx.lc.linePos(range[0]).line : 0;
    return new ConfigError(detail, this.ctx.file, line, path);
  }

  /** An error about `key` (or the mapping itself for ''), placed at the key's line. */
  error(key: string, detail: string): ConfigError {
    const e = this.entries.get(key);
    return this.errorAt(e?.value ?? e?.key ?? null, key ? this.child(key) : this.at, detail);
  }

  private scalar(key: string): string | undefined {
    const e = this.entries.get(key);
    if (e === undefined || isNull(e.value)) return undefined;
    if (!isScalar(e.value)) throw this.error(key, `expected a single value, got ${kindOf(e.value)}`);
    return String((e.value as Scalar).value);
  }

  str(key: string, def: string): string {
    return this.scalar(key) ?? def;
  }

  /** A file path, resolved against the config file's directory. */
  path(key: string): string {
    return joinDir(this.ctx.dir, this.str(key, ''));
  }

  joinDir(p: string): string {
    return joinDir(this.ctx.dir, p);
  }

  bool(key: string, def: boolean): boolean {
    const s = this.scalar(key);
    if (s === undefined) return def;
    if (s === 'true' || s === 'True' || s === 'TRUE') return true;
    if (s === 'false' || s === 'False' || s === 'FALSE') return false;
    throw this.error(key, `cannot unmarshal ${JSON.stringify(s)} into a boolean`);
  }

  uint(key: string, def: number): number {
    const s = this.scalar(key);
    if (s === undefined) return def;
    if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s))) throw this.error(key, `cannot unmarshal ${JSON.stringify(s)} into a non-negative integer`);
    return Number(s);
  }

  duration(key: string, def: number): number {
    const s = this.scalar(key);
    if (s === undefined) return def;
    try {
      return parseDuration(s);
    } catch (e) {
      if (e instanceof InvalidDurationError) throw this.error(key, e.message);
      throw e;
    }
  }

  /** A base-2 size with a unit ("512MB"); a bare integer of bytes too when allowed (tsprom's own settings). */
  size(key: string, def: number, bareBytes = false): number {
    const s = this.scalar(key);
    if (s === undefined) return def;
    if (bareBytes && /^\d+$/.test(s)) return Number(s);
    try {
      return parseSize(s);
    } catch (e) {
      if (e instanceof UnitParseError) throw this.error(key, e.message);
      throw e;
    }
  }

  private seqItems(key: string): Node[] {
    const e = this.entries.get(key);
    if (e === undefined || isNull(e.value)) return [];
    if (!isSeq(e.value)) throw this.error(key, `expected a list, got ${kindOf(e.value)}`);
    return (e.value.items as Node[]).map((n) => this.resolve(n) as Node);
  }

  strList(key: string): string[] {
    return this.seqItems(key).map((n, i) => {
      if (!isScalar(n)) throw this.errorAt(n, `${this.child(key)}[${i}]`, `expected a string, got ${kindOf(n)}`);
      return String((n as Scalar).value);
    });
  }

  /** A mapping of names to strings (labels, headers). */
  strMap(key: string): Record<string, string> {
    if (!this.has(key)) return {};
    const m = this.map(key, null);
    const out: Record<string, string> = {};
    for (const k of m.keys()) out[k] = m.str(k, '');
    return out;
  }

  /** A mapping of names to lists of strings (URL params, header lists). */
  strListMap(key: string): Record<string, readonly string[]> {
    if (!this.has(key)) return {};
    const m = this.map(key, null);
    const out: Record<string, readonly string[]> = {};
    for (const k of m.keys()) out[k] = m.strList(k);
    return out;
  }

  /** A nested mapping (empty reader when absent). allowed=null accepts any key. */
  map(key: string, allowed: readonly string[] | null): MapReader {
    const e = this.entries.get(key);
    return new MapReader(this.ctx, e?.value ?? null, this.child(key), key, allowed, []);
  }

  forEachItem(key: string, fn: (node: Node, path: string, i: number) => void): void {
    this.seqItems(key).forEach((n, i) => fn(n, `${this.child(key)}[${i}]`, i));
  }

  /** A list of mappings, each read by fn; null items are an error (with nullMsg when Prometheus words it). */
  list<T>(key: string, fn: (r: MapReader) => T, nullMsg?: string): T[] {
    const out: T[] = [];
    this.forEachItem(key, (n, path) => {
      if (isNull(n)) throw this.errorAt(n, path, nullMsg ?? `empty or null ${key} section`);
      out.push(fn(new MapReader(this.ctx, n, path, key, null, [])));
    });
    return out;
  }
}

function kindOf(node: Node | null): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) return `${JSON.stringify(String((node as Scalar).value))}`;
  return 'nothing';
}
