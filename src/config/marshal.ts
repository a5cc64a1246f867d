// The loaded config written back as YAML, as /api/v1/status/config shows it:
// Prometheus's key names and order, every default spelled out, secrets hidden.
import { stringify } from 'yaml';
import type {
  AlertmanagerConfig,
  Config,
  HTTPClientConfig,
  OAuth2Config,
  RelabelConfig,
  RemoteReadConfig,
  RemoteWriteConfig,
  ScrapeConfig,
  ScrapeLimits,
  ServiceDiscoveryConfigs,
} from './types.js';
import { formatDuration } from '../gofmt/duration.js';
import { formatSize } from './units.js';

const SECRET = '<secret>';

type Obj = Record<string, unknown>;

/** Drops undefined, empty strings, empty lists and empty maps, as Go's omitempty does. */
function compact(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === '') continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out;
}

function relabel(r: RelabelConfig): Obj {
  return compact({
    source_labels: r.sourceLabels.length ? [...r.sourceLabels] : undefined,
    separator: r.separator,
    regex: r.regex,
    modulus: r.modulus || undefined,
    target_label: r.targetLabel,
    replacement: r.replacement,
    action: r.action,
  });
}

/** The limits as Prometheus writes them; unset (0) ones are left out. */
function scrapeLimits(l: ScrapeLimits): Obj {
  return {
    body_size_limit: l.bodySizeLimit ? formatSize(l.bodySizeLimit) : undefined,
    sample_limit: l.sampleLimit || undefined,
    target_limit: l.targetLimit || undefined,
    label_limit: l.labelLimit || undefined,
    label_name_length_limit: l.labelNameLengthLimit || undefined,
    label_value_length_limit: l.labelValueLengthLimit || undefined,
    keep_dropped_targets: l.keepDroppedTargets || undefined,
  };
}

function httpClient(h: HTTPClientConfig): Obj {
  const tls = h.tlsConfig;
  return compact({
    basic_auth: h.basicAuth
      ? compact({
          username: h.basicAuth.username,
          username_file: h.basicAuth.usernameFile,
          password: h.basicAuth.password ? SECRET : '',
          password_file: h.basicAuth.passwordFile,
        })
      : undefined,
    authorization: h.authorization
      ? compact({ type: h.authorization.type, credentials: h.authorization.credentials ? SECRET : '', credentials_file: h.authorization.credentialsFile })
      : undefined,
    tls_config: {
      ...compact({
        ca: tls.ca,
        ca_file: tls.caFile,
        cert: tls.cert,
        cert_file: tls.certFile,
        key: tls.key ? SECRET : '',
        key_file: tls.keyFile,
        server_name: tls.serverName,
        min_version: tls.minVersion,
        max_version: tls.maxVersion,
      }),
      insecure_skip_verify: tls.insecureSkipVerify,
    },
    proxy_url: h.proxyUrl,
    no_proxy: h.noProxy,
    proxy_from_environment: h.proxyFromEnvironment || undefined,
    follow_redirects: h.followRedirects,
    enable_http2: h.enableHttp2,
    http_headers: Object.keys(h.httpHeaders).length
      ? Object.fromEntries(Object.entries(h.httpHeaders).map(([k, v]) => [k, { secrets: v.map(() => SECRET) }]))
      : undefined,
  });
}

function sd(c: ServiceDiscoveryConfigs): Obj {
  return compact({
    static_configs: c.staticConfigs.map((s) => compact({ targets: [...s.targets], labels: { ...s.labels } })),
    file_sd_configs: c.fileSdConfigs.map((f) => ({ files: [...f.files], refresh_interval: formatDuration(f.refreshIntervalMs) })),
    http_sd_configs: c.httpSdConfigs.map((h) => ({ ...httpClient(h.httpClient), url: h.url, refresh_interval: formatDuration(h.refreshIntervalMs) })),
    dns_sd_configs: c.dnsSdConfigs.map((d) =>
      compact({ names: [...d.names], refresh_interval: formatDuration(d.refreshIntervalMs), type: d.type, port: d.port || undefined }),
    ),
  });
}

function scrape(s: ScrapeConfig): Obj {
  return compact({
    job_name: s.jobName,
    honor_labels: s.honorLabels || undefined,
    honor_timestamps: s.honorTimestamps,
    track_timestamps_staleness: s.trackTimestampsStaleness,
    params: Object.keys(s.params).length ? Object.fromEntries(Object.entries(s.params).map(([k, v]) => [k, [...v]])) : undefined,
    scrape_interval: formatDuration(s.scrapeIntervalMs),
    scrape_timeout: formatDuration(s.scrapeTimeoutMs),
    scrape_protocols: [...s.scrapeProtocols],
    fallback_scrape_protocol: s.fallbackScrapeProtocol,
    scrape_native_histograms: s.scrapeNativeHistograms,
    convert_classic_histograms_to_nhcb: s.convertClassicHistogramsToNhcb,
    always_scrape_classic_histograms: s.alwaysScrapeClassicHistograms,
    native_histogram_bucket_limit: s.nativeHistogramBucketLimit || undefined,
    native_histogram_min_bucket_factor: s.nativeHistogramMinBucketFactor || undefined,
    scrape_failure_log_file: s.scrapeFailureLogFile,
    metrics_path: s.metricsPath,
    scheme: s.scheme,
    enable_compression: s.enableCompression,
    ...scrapeLimits(s),
    ...httpClient(s.httpClient),
    ...sd(s),
    relabel_configs: s.relabelConfigs.map(relabel),
    metric_relabel_configs: s.metricRelabelConfigs.map(relabel),
  });
}

function alertmanager(a: AlertmanagerConfig): Obj {
  return compact({
    ...httpClient(a.httpClient),
    scheme: a.scheme,
    path_prefix: a.pathPrefix,
    timeout: formatDuration(a.timeoutMs),
    api_version: a.apiVersion,
    relabel_configs: a.relabelConfigs.map(relabel),
    alert_relabel_configs: a.alertRelabelConfigs.map(relabel),
    ...sd(a),
  });
}

function remoteWrite(r: RemoteWriteConfig): Obj {
  const q = r.queueConfig;
  return compact({
    url: r.url,
    remote_timeout: formatDuration(r.remoteTimeoutMs),
    headers: Object.keys(r.headers).length ? Object.fromEntries(Object.keys(r.headers).map((k) => [k, SECRET])) : undefined,
    write_relabel_configs: r.writeRelabelConfigs.map(relabel),
    name: r.name,
    send_exemplars: r.sendExemplars || undefined,
    send_native_histograms: r.sendNativeHistograms || undefined,
    protobuf_message: r.protobufMessage,
    ...httpClient(r.httpClient),
    oauth2: oauth2(r.oauth2),
    queue_config: {
      capacity: q.capacity,
      max_shards: q.maxShards,
      min_shards: q.minShards,
      max_samples_per_send: q.maxSamplesPerSend,
      batch_send_deadline: formatDuration(q.batchSendDeadlineMs),
      min_backoff: formatDuration(q.minBackoffMs),
      max_backoff: formatDuration(q.maxBackoffMs),
      ...(q.retryOnHttp429 ? { retry_on_http_429: true } : {}),
      ...(q.sampleAgeLimitMs ? { sample_age_limit: formatDuration(q.sampleAgeLimitMs) } : {}),
    },
    metadata_config: {
      send: r.metadataConfig.send,
      send_interval: formatDuration(r.metadataConfig.sendIntervalMs),
      max_samples_per_send: r.metadataConfig.maxSamplesPerSend,
    },
  });
}

/** remote_write's and remote_read's oauth2 block, the secret hidden. */
function oauth2(o: OAuth2Config | null): Obj | undefined {
  if (o === null) return undefined;
  return compact({
    client_id: o.clientId,
    client_secret: o.clientSecret ? SECRET : '',
    client_secret_file: o.clientSecretFile,
    scopes: o.scopes.length ? [...o.scopes] : undefined,
    token_url: o.tokenUrl,
    endpoint_params: Object.keys(o.endpointParams).length ? { ...o.endpointParams } : undefined,
    proxy_url: o.proxyUrl,
  });
}

function remoteRead(r: RemoteReadConfig): Obj {
  return compact({
    url: r.url,
    remote_timeout: formatDuration(r.remoteTimeoutMs),
    chunked_read_limit: r.chunkedReadLimit,
    headers: Object.keys(r.headers).length ? Object.fromEntries(Object.keys(r.headers).map((k) => [k, SECRET])) : undefined,
    read_recent: r.readRecent || undefined,
    name: r.name,
    required_matchers: { ...r.requiredMatchers },
    filter_external_labels: r.filterExternalLabels,
    ...httpClient(r.httpClient),
    oauth2: oauth2(r.oauth2),
  });
}

/** YAML text of a loaded config, for /api/v1/status/config. */
export function configToYAML(c: Config): string {
  const g = c.global;
  const doc = compact({
    global: compact({
      scrape_interval: formatDuration(g.scrapeIntervalMs),
      scrape_timeout: formatDuration(g.scrapeTimeoutMs),
      scrape_protocols: g.scrapeProtocols === null ? undefined : [...g.scrapeProtocols],
      evaluation_interval: formatDuration(g.evaluationIntervalMs),
      rule_query_offset: g.ruleQueryOffsetMs ? formatDuration(g.ruleQueryOffsetMs) : undefined,
      external_labels: g.externalLabels.toObject(),
      query_log_file: g.queryLogFile,
      query_log_max_size: g.queryLogMaxSize ? formatSize(g.queryLogMaxSize) : undefined,
      query_log_max_files: g.queryLogMaxFiles || undefined,
      query_log_min_duration: g.queryLogMinDurationMs ? formatDuration(g.queryLogMinDurationMs) : undefined,
      scrape_failure_log_file: g.scrapeFailureLogFile,
      ...scrapeLimits(g),
      scrape_native_histograms: g.scrapeNativeHistograms,
      convert_classic_histograms_to_nhcb: g.convertClassicHistogramsToNhcb || undefined,
      always_scrape_classic_histograms: g.alwaysScrapeClassicHistograms || undefined,
    }),
    alerting: compact({
      alert_relabel_configs: c.alerting.alertRelabelConfigs.map(relabel),
      alertmanagers: c.alerting.alertmanagers.map(alertmanager),
    }),
    rule_files: [...c.ruleFiles],
    scrape_config_files: [...c.scrapeConfigFiles],
    scrape_configs: c.scrapeConfigs.map(scrape),
    remote_write: c.remoteWrite.map(remoteWrite),
    remote_read: c.remoteRead.map(remoteRead),
    storage: compact({
      tsdb: c.storage.tsdb.outOfOrderTimeWindowMs ? { out_of_order_time_window: formatDuration(c.storage.tsdb.outOfOrderTimeWindowMs) } : undefined,
      exemplars: { max_exemplars: c.storage.exemplars.maxExemplars },
    }),
    otlp: compact({
      promote_all_resource_attributes: c.otlp.promoteAllResourceAttributes || undefined,
      promote_resource_attributes: [...c.otlp.promoteResourceAttributes],
      ignore_resource_attributes: [...c.otlp.ignoreResourceAttributes],
      translation_strategy: c.otlp.translationStrategy,
      keep_identifying_resource_attributes: c.otlp.keepIdentifyingResourceAttributes || undefined,
      convert_histograms_to_nhcb: c.otlp.convertHistogramsToNHCB || undefined,
      promote_scope_metadata: c.otlp.promoteScopeMetadata || undefined,
      label_name_underscore_sanitization: c.otlp.labelNameUnderscoreSanitization || undefined,
      label_name_preserve_multiple_underscores: c.otlp.labelNamePreserveMultipleUnderscores || undefined,
    }),
  });
  return stringify(doc, { lineWidth: 0 });
}
