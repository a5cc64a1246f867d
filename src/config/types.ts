// The typed model of Prometheus's prometheus.yml, as load.ts returns it.
//
// Keys are camelCase versions of the YAML keys. Every default Prometheus
// applies is already filled in, so consumers never guess: durations are
// integer milliseconds, sizes are bytes, relative file paths are resolved
// against the config file's directory. A loaded Config is deeply frozen.
import type { Labels } from '../model/labels.js';
import type { ScrapeProtocol } from '../model/textparse/media_type.js';

/** Relabel actions, spelled as in the YAML. */
export type RelabelAction =
  | 'replace'
  | 'keep'
  | 'drop'
  | 'keepequal'
  | 'dropequal'
  | 'hashmod'
  | 'labelmap'
  | 'labeldrop'
  | 'labelkeep'
  | 'lowercase'
  | 'uppercase';

export interface RelabelConfig {
  /** Default []. */
  readonly sourceLabels: readonly string[];
  /** Default ";". */
  readonly separator: string;
  /**
   * The regex as written (default "(.*)"), not yet anchored: consumers compile
   * `^(?:<regex>)$` with RE2, as Prometheus does. load.ts has checked it compiles.
   */
  readonly regex: string;
  /** Default 0; non-zero is required for hashmod. */
  readonly modulus: number;
  /** Default "". */
  readonly targetLabel: string;
  /** Default "$1". */
  readonly replacement: string;
  /** Default "replace". */
  readonly action: RelabelAction;
}

export interface BasicAuth {
  readonly username: string;
  readonly usernameFile: string;
  readonly password: string;
  readonly passwordFile: string;
}

export interface Authorization {
  /** Default "Bearer". */
  readonly type: string;
  readonly credentials: string;
  readonly credentialsFile: string;
}

export type TLSVersion = 'TLS10' | 'TLS11' | 'TLS12' | 'TLS13';

export interface TLSConfig {
  /** PEM text given inline (ca) or a file (caFile); at most one of each pair is set. */
  readonly ca: string;
  readonly caFile: string;
  readonly cert: string;
  readonly certFile: string;
  readonly key: string;
  readonly keyFile: string;
  readonly serverName: string;
  readonly insecureSkipVerify: boolean;
  /** '' when not set (Node's default). */
  readonly minVersion: TLSVersion | '';
  readonly maxVersion: TLSVersion | '';
}

/** Prometheus's common HTTP client settings, shared by scraping, SD, alerting and remote write/read. */
export interface HTTPClientConfig {
  readonly basicAuth: BasicAuth | null;
  readonly authorization: Authorization | null;
  readonly tlsConfig: TLSConfig;
  readonly proxyUrl: string;
  readonly noProxy: string;
  readonly proxyFromEnvironment: boolean;
  readonly proxyConnectHeader: Readonly<Record<string, readonly string[]>>;
  /** Default true. */
  readonly followRedirects: boolean;
  /** Default true. */
  readonly enableHttp2: boolean;
  /** Extra headers sent with every request (http_headers, values only; files and secrets resolved later). */
  readonly httpHeaders: Readonly<Record<string, readonly string[]>>;
}

/** One static target group: addresses plus labels for all of them. */
export interface StaticConfig {
  readonly targets: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

export interface FileSDConfig {
  /** Absolute paths or globs (only the last path element may hold a glob), *.json, *.yml or *.yaml. */
  readonly files: readonly string[];
  /** Default 5m. */
  readonly refreshIntervalMs: number;
}

export interface HTTPSDConfig {
  readonly url: string;
  /** Default 1m. */
  readonly refreshIntervalMs: number;
  readonly httpClient: HTTPClientConfig;
}

export type DNSRecordType = 'SRV' | 'A' | 'AAAA' | 'MX' | 'NS';

export interface DNSSDConfig {
  readonly names: readonly string[];
  /** Default 30s. */
  readonly refreshIntervalMs: number;
  /** Default "SRV". */
  readonly type: DNSRecordType;
  /** Required for every type except SRV; 0 for SRV. */
  readonly port: number;
}

/** Service discovery settings shared by scrape configs and alertmanager configs. */
export interface ServiceDiscoveryConfigs {
  readonly staticConfigs: readonly StaticConfig[];
  readonly fileSdConfigs: readonly FileSDConfig[];
  readonly httpSdConfigs: readonly HTTPSDConfig[];
  readonly dnsSdConfigs: readonly DNSSDConfig[];
}

/** Prometheus's default order of preference when native histograms are not scraped. */
export const DEFAULT_SCRAPE_PROTOCOLS: readonly ScrapeProtocol[] = Object.freeze([
  'OpenMetricsText1.0.0',
  'OpenMetricsText0.0.1',
  'PrometheusText1.0.0',
  'PrometheusText0.0.4',
]);

/** The default with scrape_native_histograms on (protobuf is the only format carrying native histograms). */
export const DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS: readonly ScrapeProtocol[] = Object.freeze(['PrometheusProto', ...DEFAULT_SCRAPE_PROTOCOLS]);

/** Native histogram scraping settings; a scrape config's default to the global ones. */
export interface NativeHistogramScrapeSettings {
  /** scrape_native_histograms, default false. */
  readonly scrapeNativeHistograms: boolean;
  /** convert_classic_histograms_to_nhcb, default false. */
  readonly convertClassicHistogramsToNhcb: boolean;
  /** always_scrape_classic_histograms, default false. */
  readonly alwaysScrapeClassicHistograms: boolean;
}

/**
 * Limits on what a scrape may bring in; 0 = no limit. The global ones are
 * inherited by scrape configs that do not set their own.
 */
export interface ScrapeLimits {
  /** Uncompressed bytes of a scrape's body. */
  readonly bodySizeLimit: number;
  readonly sampleLimit: number;
  readonly labelLimit: number;
  readonly labelNameLengthLimit: number;
  readonly labelValueLengthLimit: number;
  readonly targetLimit: number;
  /** Dropped targets kept for the API (all of them at 0). */
  readonly keepDroppedTargets: number;
}

export interface GlobalConfig extends ScrapeLimits, NativeHistogramScrapeSettings {
  /** Default 1m. */
  readonly scrapeIntervalMs: number;
  /** Default 10s, capped at the scrape interval. */
  readonly scrapeTimeoutMs: number;
  /** Default 1m. */
  readonly evaluationIntervalMs: number;
  /** Default 0. */
  readonly ruleQueryOffsetMs: number;
  readonly externalLabels: Labels;
  /** Absolute path, '' when off. */
  readonly queryLogFile: string;
  /** Absolute path, '' when off. */
  readonly scrapeFailureLogFile: string;
  /** tsprom extension: rotate the query log at this size in bytes; 0 = never (default). */
  readonly queryLogMaxSize: number;
  /** tsprom extension: rotated files kept besides the live one; 0 = keep none beyond what max size allows (default). */
  readonly queryLogMaxFiles: number;
  /** tsprom extension: only log queries at least this slow (ms); failed queries are always logged. Default 0. */
  readonly queryLogMinDurationMs: number;
  /** null when not set: each scrape config then picks its default from its scrape_native_histograms. */
  readonly scrapeProtocols: readonly ScrapeProtocol[] | null;
}

/** A scrape config's limits default to the global ones (see ScrapeLimits). */
export interface ScrapeConfig extends ServiceDiscoveryConfigs, ScrapeLimits, NativeHistogramScrapeSettings {
  readonly jobName: string;
  /** Default false. */
  readonly honorLabels: boolean;
  /** Default true. */
  readonly honorTimestamps: boolean;
  /** Default false. */
  readonly trackTimestampsStaleness: boolean;
  /** URL query parameters, each possibly repeated. */
  readonly params: Readonly<Record<string, readonly string[]>>;
  /** Default: global scrape interval. */
  readonly scrapeIntervalMs: number;
  /** Default: global scrape timeout, capped at this config's scrape interval. */
  readonly scrapeTimeoutMs: number;
  /** Default: global scrape_protocols. */
  readonly scrapeProtocols: readonly ScrapeProtocol[];
  /** Protocol assumed when a target sends no or an unknown Content-Type; '' = fail such scrapes (Prometheus 3 default). */
  readonly fallbackScrapeProtocol: ScrapeProtocol | '';
  /** native_histogram_bucket_limit: more buckets lower the schema (0 = no limit). */
  readonly nativeHistogramBucketLimit: number;
  /** native_histogram_min_bucket_factor: the schema is lowered until buckets grow at least this much (<= 1 = no limit). */
  readonly nativeHistogramMinBucketFactor: number;
  /** Absolute path, '' when off. Defaults to the global scrape_failure_log_file. */
  readonly scrapeFailureLogFile: string;
  /** Default "/metrics". */
  readonly metricsPath: string;
  /** Default "http". */
  readonly scheme: 'http' | 'https';
  /** Default true: ask for gzip. */
  readonly enableCompression: boolean;
  readonly httpClient: HTTPClientConfig;
  readonly relabelConfigs: readonly RelabelConfig[];
  readonly metricRelabelConfigs: readonly RelabelConfig[];
}

export interface AlertmanagerConfig extends ServiceDiscoveryConfigs {
  /** Default "http". */
  readonly scheme: 'http' | 'https';
  /** Default "/". */
  readonly pathPrefix: string;
  /** Default 10s. */
  readonly timeoutMs: number;
  /** Default "v2" (the only one Prometheus 3 accepts). */
  readonly apiVersion: 'v2';
  readonly httpClient: HTTPClientConfig;
  readonly relabelConfigs: readonly RelabelConfig[];
  readonly alertRelabelConfigs: readonly RelabelConfig[];
}

export interface AlertingConfig {
  readonly alertRelabelConfigs: readonly RelabelConfig[];
  readonly alertmanagers: readonly AlertmanagerConfig[];
}

export interface QueueConfig {
  /** Defaults as Prometheus's DefaultQueueConfig. */
  readonly capacity: number;
  readonly maxShards: number;
  readonly minShards: number;
  readonly maxSamplesPerSend: number;
  readonly batchSendDeadlineMs: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly retryOnHttp429: boolean;
  readonly sampleAgeLimitMs: number;
}

export interface MetadataConfig {
  /** Default true. */
  readonly send: boolean;
  /** Default 1m. */
  readonly sendIntervalMs: number;
  /** Default 2000. */
  readonly maxSamplesPerSend: number;
}

/** OAuth 2.0 client credentials (remote_write's oauth2 block). */
export interface OAuth2Config {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly clientSecretFile: string;
  readonly scopes: readonly string[];
  readonly tokenUrl: string;
  readonly endpointParams: Readonly<Record<string, string>>;
  /** For the token requests: TLS and proxy settings of the token endpoint. */
  readonly tlsConfig: TLSConfig;
  readonly proxyUrl: string;
}

export interface RemoteWriteConfig {
  readonly url: string;
  /** null when not configured; at most one of it, basic_auth and authorization is set. */
  readonly oauth2: OAuth2Config | null;
  /** Default 30s. */
  readonly remoteTimeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly writeRelabelConfigs: readonly RelabelConfig[];
  /** Default: a hash of the config, as Prometheus names queues. */
  readonly name: string;
  readonly sendExemplars: boolean;
  readonly sendNativeHistograms: boolean;
  /** Default "prometheus.WriteRequest" (remote write 1.0). */
  readonly protobufMessage: 'prometheus.WriteRequest' | 'io.prometheus.write.v2.Request';
  readonly httpClient: HTTPClientConfig;
  readonly queueConfig: QueueConfig;
  readonly metadataConfig: MetadataConfig;
}

export interface RemoteReadConfig {
  readonly url: string;
  /** null when not configured; at most one of it, basic_auth and authorization is set. */
  readonly oauth2: OAuth2Config | null;
  /** Default 1m. */
  readonly remoteTimeoutMs: number;
  /** Largest message (bytes) of a streamed answer; default 5e7. */
  readonly chunkedReadLimit: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly name: string;
  /** Default false. */
  readonly readRecent: boolean;
  readonly requiredMatchers: Readonly<Record<string, string>>;
  /** Default true. */
  readonly filterExternalLabels: boolean;
  readonly httpClient: HTTPClientConfig;
}

export interface StorageConfig {
  readonly tsdb: {
    /** Default 0 (out-of-order samples rejected). */
    readonly outOfOrderTimeWindowMs: number;
  };
  readonly exemplars: {
    /** Default 100000 (used only with the exemplar-storage feature). */
    readonly maxExemplars: number;
  };
}

/** How OTLP metric and label names become Prometheus names (otlp.translation_strategy). */
export const OTLP_TRANSLATION_STRATEGIES = [
  'UnderscoreEscapingWithSuffixes',
  'UnderscoreEscapingWithoutSuffixes',
  'NoUTF8EscapingWithSuffixes',
  'NoTranslation',
] as const;
export type OTLPTranslationStrategy = (typeof OTLP_TRANSLATION_STRATEGIES)[number];

/** The `otlp:` section: how the OTLP receiver translates what it gets. */
export interface OTLPConfig {
  /** Default false; then ignoreResourceAttributes lists the exceptions. */
  readonly promoteAllResourceAttributes: boolean;
  /** Resource attributes copied onto every series of their resource. */
  readonly promoteResourceAttributes: readonly string[];
  readonly ignoreResourceAttributes: readonly string[];
  /** Default UnderscoreEscapingWithSuffixes. */
  readonly translationStrategy: OTLPTranslationStrategy;
  /** Default false: service.name, service.namespace and service.instance.id are left off target_info. */
  readonly keepIdentifyingResourceAttributes: boolean;
  /** Default false. */
  readonly convertHistogramsToNHCB: boolean;
  /** Default false: otel_scope_name/version/schema_url and otel_scope_<attr> labels. */
  readonly promoteScopeMetadata: boolean;
  /** Default false: a label name starting with one '_' gets a "key" prefix. */
  readonly labelNameUnderscoreSanitization: boolean;
  /** Default false: runs of '_' in escaped label names collapse to one. */
  readonly labelNamePreserveMultipleUnderscores: boolean;
}

export const DEFAULT_OTLP_CONFIG: OTLPConfig = Object.freeze({
  promoteAllResourceAttributes: false,
  promoteResourceAttributes: Object.freeze([]),
  ignoreResourceAttributes: Object.freeze([]),
  translationStrategy: 'UnderscoreEscapingWithSuffixes',
  keepIdentifyingResourceAttributes: false,
  convertHistogramsToNHCB: false,
  promoteScopeMetadata: false,
  labelNameUnderscoreSanitization: false,
  labelNamePreserveMultipleUnderscores: false,
});

export interface Config {
  readonly global: GlobalConfig;
  /** Absolute paths or globs of rule files. */
  readonly ruleFiles: readonly string[];
  /** Absolute paths or globs of files holding more scrape_configs (merged into scrapeConfigs by load.ts). */
  readonly scrapeConfigFiles: readonly string[];
  readonly scrapeConfigs: readonly ScrapeConfig[];
  readonly alerting: AlertingConfig;
  readonly remoteWrite: readonly RemoteWriteConfig[];
  readonly remoteRead: readonly RemoteReadConfig[];
  readonly storage: StorageConfig;
  readonly otlp: OTLPConfig;
  /** Absolute path of the file it came from; '' when loaded from a string. */
  readonly sourceFile: string;
}
