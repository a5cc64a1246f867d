// The server's command-line flags: Prometheus's names, defaults and notations,
// in both `--flag=value` and `--flag value` forms.
import { availableParallelism } from 'node:os';
import { formatDuration, InvalidDurationError, parseDuration } from '../gofmt/duration.js';
import { parseSize, UnitParseError } from '../config/units.js';
import { DEFAULT_DISK_FREE_MIN, parseDiskFreeMin, type DiskFreeMin } from '../guard/disk_guard.js';

export class FlagError extends Error {
  override name = 'FlagError';
}

/** A flag of the other mode (server-only with --agent, agent-only without): Prometheus prints the list bare and exits 3. */
export class FlagModeError extends FlagError {
  override name = 'FlagModeError';
  readonly exitCode = 3;
}

type Kind = 'string' | 'bool' | 'duration' | 'size' | 'int' | 'list';

interface FlagDef {
  readonly name: string;
  readonly kind: Kind;
  readonly def: string;
  readonly help: string;
  /** Allowed values, for enumerations. */
  readonly values?: readonly string[];
  /** Only for the server (refused with --agent) or only for agent mode, as Prometheus marks its flags. */
  readonly mode?: 'server' | 'agent';
}

const FLAGS: readonly FlagDef[] = [
  { name: 'config.file', kind: 'string', def: 'tsprom.yml', help: 'Configuration file path.' },
  { name: 'web.listen-address', kind: 'string', def: '0.0.0.0:9090', help: 'Address to listen on for UI, API, and telemetry.' },
  { name: 'web.config.file', kind: 'string', def: '', help: 'Path to configuration file that can enable TLS or authentication.' },
  { name: 'web.read-timeout', kind: 'duration', def: '5m', help: 'Maximum duration before timing out read of the request, and closing idle connections.' },
  { name: 'web.max-connections', kind: 'int', def: '512', help: 'Maximum number of simultaneous connections across all listeners.' },
  {
    name: 'web.external-url',
    kind: 'string',
    def: '',
    help: 'The URL under which tsprom is externally reachable (for example, if served via a reverse proxy). Used for generating relative and absolute links back to tsprom itself. If the URL has a path portion, it will be used to prefix all HTTP endpoints served by tsprom. If omitted, relevant URL components will be derived automatically.',
  },
  { name: 'web.route-prefix', kind: 'string', def: '', help: 'Prefix for the internal routes of web endpoints. Defaults to path of --web.external-url.' },
  { name: 'web.enable-lifecycle', kind: 'bool', def: 'false', help: 'Enable shutdown and reload via HTTP request.' },
  { name: 'web.enable-admin-api', kind: 'bool', def: 'false', help: 'Enable API endpoints for admin control actions.' },
  { name: 'web.enable-remote-write-receiver', kind: 'bool', def: 'false', help: 'Enable API endpoint accepting remote write requests.' },
  {
    name: 'web.remote-write-receiver.decode-workers', mode: 'server',
    kind: 'int',
    // The main thread appends and commits what the workers decode: it keeps a core of its own.
    def: String(Math.max(1, availableParallelism() - 1)),
    help: 'Worker threads that decompress and decode remote write requests (default: one per core but one). 0 decodes them on the main thread.',
  },
  { name: 'web.enable-otlp-receiver', kind: 'bool', def: 'false', help: 'Enable API endpoint accepting OTLP write requests.' },
  { name: 'web.cors.origin', kind: 'string', def: '.*', help: 'Regex for CORS origin. It is fully anchored. Example: \'https?://(domain1|domain2)\\.com\'' },
  { name: 'storage.tsdb.path', mode: 'server', kind: 'string', def: 'data/', help: 'Base path for metrics storage.' },
  {
    name: 'storage.tsdb.retention.time', mode: 'server',
    kind: 'duration',
    def: '0s',
    help: 'How long to retain samples in storage. If neither this flag nor "storage.tsdb.retention.size" is set, the retention time defaults to 15d. Units Supported: y, w, d, h, m, s, ms.',
  },
  {
    name: 'storage.tsdb.retention.size', mode: 'server',
    kind: 'size',
    def: '0B',
    help: 'Maximum number of bytes that can be stored for blocks. A unit is required, supported units: B, KB, MB, GB, TB, PB, EB. Ex: "512MB". Based on powers-of-2, so 1KB is 1024B.',
  },
  {
    name: 'storage.tsdb.max-head-series', mode: 'server',
    kind: 'int',
    def: '0',
    help: 'Maximum number of series in the head block. Samples of new series beyond it are rejected; existing series keep ingesting. 0 means no limit.',
  },
  {
    name: 'storage.tsdb.wal-compression',
    mode: 'server',
    kind: 'bool',
    def: 'true',
    help: 'Compress the records of the tsdb WAL. When false, --storage.tsdb.wal-compression-type has no effect.',
  },
  {
    name: 'storage.tsdb.wal-compression-type',
    mode: 'server',
    kind: 'string',
    def: 'snappy',
    values: ['snappy', 'zstd'],
    help: 'Algorithm compressing the tsdb WAL when --storage.tsdb.wal-compression is on. tsprom supports snappy only.',
  },
  {
    name: 'storage.disk-free-min',
    kind: 'string',
    def: DEFAULT_DISK_FREE_MIN,
    help: 'Free space (a size like "512MB", or a share like "1%") of the data and query log file systems under which the query log pauses and size retention runs.',
  },
  {
    name: 'memory.limit',
    kind: 'size',
    def: '0B',
    help: 'Memory the server keeps under; it sizes the JS heap and sheds load near it. 0B: the cgroup limit, else physical memory.',
  },
  {
    name: 'storage.remote.read-sample-limit',
    mode: 'server',
    kind: 'int',
    def: '50000000',
    help: 'Maximum overall number of samples to return via the remote read interface, in a single query. 0 means no limit. This limit is ignored for streamed response types.',
  },
  {
    name: 'storage.remote.flush-deadline',
    kind: 'duration',
    def: '1m',
    help: 'How long to wait flushing sample on shutdown or config reload.',
  },
  {
    name: 'storage.remote.max-wal-retention-size',
    kind: 'size',
    def: '2GB',
    help: 'Most WAL kept for remote-write queues that lag behind (receiver outages); past it the oldest unsent samples are dropped and counted. 0 means no limit.',
  },
  { name: 'storage.remote.read-concurrent-limit', mode: 'server', kind: 'int', def: '10', help: 'Maximum number of concurrent remote read calls. 0 means no limit.' },
  {
    name: 'storage.remote.read-max-bytes-in-frame',
    mode: 'server',
    kind: 'int',
    def: '1048576',
    help: 'Maximum number of bytes in a single frame for streaming remote read response types before marshalling. Note that client might have limit on frame size as well. 1MB as recommended by protobuf by default.',
  },
  { name: 'agent', kind: 'bool', def: 'false', help: 'Run tsprom in agent mode: scrape and remote-write only, with a WAL-only store.' },
  { name: 'storage.agent.path', mode: 'agent', kind: 'string', def: 'data-agent/', help: 'Base path for metrics storage.' },
  {
    name: 'storage.agent.wal-compression',
    mode: 'agent',
    kind: 'bool',
    def: 'true',
    help: 'Compress the records of the agent WAL. When false, --storage.agent.wal-compression-type has no effect.',
  },
  {
    name: 'storage.agent.wal-compression-type',
    mode: 'agent',
    kind: 'string',
    def: 'snappy',
    values: ['snappy', 'zstd'],
    help: 'Algorithm compressing the agent WAL when --storage.agent.wal-compression is on. tsprom supports snappy only.',
  },
  {
    name: 'storage.agent.wal-segment-size',
    mode: 'agent',
    kind: 'size',
    def: '0B',
    help: 'Size at which to split WAL segment files, between 10MB and 256MB. 0B means the default (128MB). Example: 100MB',
  },
  {
    name: 'storage.agent.retention.min-time',
    mode: 'agent',
    kind: 'duration',
    def: '5m',
    help: 'Minimum age samples may be before being considered for deletion when the WAL is truncated',
  },
  {
    name: 'storage.agent.retention.max-time',
    mode: 'agent',
    kind: 'duration',
    def: '4h',
    help: 'Maximum age samples may be before being forcibly deleted when the WAL is truncated',
  },
  {
    name: 'storage.agent.wal-truncate-frequency',
    mode: 'agent',
    kind: 'duration',
    def: '2h',
    help: 'The frequency at which to truncate the WAL and remove old data.',
  },
  { name: 'storage.agent.no-lockfile', mode: 'agent', kind: 'bool', def: 'false', help: 'Do not create lockfile in data directory.' },
  { name: 'query.lookback-delta', mode: 'server', kind: 'duration', def: '5m', help: 'The maximum lookback duration for retrieving metrics during expression evaluations and federation.' },
  { name: 'query.timeout', mode: 'server', kind: 'duration', def: '2m', help: 'Maximum time a query may take before being aborted.' },
  { name: 'query.max-concurrency', mode: 'server', kind: 'int', def: '20', help: 'Maximum number of queries executed concurrently.' },
  {
    name: 'query.max-samples', mode: 'server',
    kind: 'int',
    def: '50000000',
    help: 'Maximum number of samples a single query can load into memory. Note that queries will fail if they try to load more samples than this into memory, so this also limits the number of samples a query can return.',
  },
  {
    name: 'query.max-memory', mode: 'server',
    kind: 'size',
    def: '',
    help: 'Maximum memory a single query may hold (samples, series and their labels, its result), e.g. "512MB". A query that would hold more fails. 0 means no limit. Defaults to a quarter of the JS heap limit.',
  },
  {
    name: 'query.max-total-memory', mode: 'server',
    kind: 'size',
    def: '',
    help: 'Memory all running queries may hold together. While they hold more, new queries wait in the query queue. 0 means no limit. Defaults to twice --query.max-memory.',
  },
  {
    name: 'rules.alert.for-outage-tolerance', mode: 'server',
    kind: 'duration',
    def: '1h',
    help: 'Max time to tolerate tsprom outage for restoring "for" state of alert.',
  },
  {
    name: 'rules.alert.for-grace-period', mode: 'server',
    kind: 'duration',
    def: '10m',
    help: 'Minimum duration between alert and restored "for" state. This is maintained only for alerts with configured "for" time greater than grace period.',
  },
  { name: 'rules.alert.resend-delay', mode: 'server', kind: 'duration', def: '1m', help: 'Minimum amount of time to wait before resending an alert to Alertmanager.' },
  {
    name: 'rules.self-monitoring', mode: 'server',
    kind: 'bool',
    def: 'true',
    help: 'Evaluate the built-in rule group "tsprom-self": alerts on tsprom\'s own memory, disk, WAL, query log, rule evaluation, notifications and scrape targets.',
  },
  {
    name: 'alertmanager.notification-queue-capacity', mode: 'server',
    kind: 'int',
    def: '10000',
    help: 'The capacity of the queue for pending Alertmanager notifications. When full, the oldest notifications are dropped.',
  },
  {
    name: 'alertmanager.drain-notification-queue-on-shutdown', mode: 'server',
    kind: 'bool',
    def: 'true',
    help: 'Send any outstanding Alertmanager notifications when shutting down. If false, any outstanding Alertmanager notifications will be dropped when shutting down.',
  },
  {
    name: 'enable-feature',
    kind: 'list',
    def: '',
    help: 'Comma separated feature names to enable, e.g. exemplar-storage, promql-experimental-functions, promql-per-step-stats, use-start-timestamps. May be repeated.',
  },
  { name: 'log.level', kind: 'string', def: 'info', help: 'Only log messages with the given severity or above. One of: [debug, info, warn, error]', values: ['debug', 'info', 'warn', 'error'] },
  { name: 'log.format', kind: 'string', def: 'logfmt', help: 'Output format of log messages. One of: [logfmt, json]', values: ['logfmt', 'json'] },
];

export interface ServerFlags {
  readonly configFile: string;
  readonly listenAddress: string;
  readonly webConfigFile: string;
  readonly readTimeoutMs: number;
  readonly maxConnections: number;
  readonly externalUrl: string;
  readonly routePrefix: string;
  readonly enableLifecycle: boolean;
  readonly enableAdminApi: boolean;
  readonly enableRemoteWriteReceiver: boolean;
  readonly enableOtlpReceiver: boolean;
  /** --web.remote-write-receiver.decode-workers. */
  readonly remoteWriteDecodeWorkers: number;
  readonly corsOrigin: string;
  readonly storagePath: string;
  /** 0 = not set. */
  readonly retentionTimeMs: number;
  /** 0 = no limit. */
  readonly maxHeadSeries: number;
  /** 0 = not set. */
  readonly retentionSizeBytes: number;
  readonly diskFreeMin: DiskFreeMin;
  /** 0 = detect (cgroup, else physical memory). */
  readonly memoryLimitBytes: number;
  readonly lookbackDeltaMs: number;
  readonly queryTimeoutMs: number;
  readonly queryMaxConcurrency: number;
  readonly queryMaxSamples: number;
  /** --query.max-memory in bytes; null when not given (the server picks its default). */
  readonly queryMaxMemoryBytes: number | null;
  /** --query.max-total-memory in bytes; null when not given. */
  readonly queryMaxTotalMemoryBytes: number | null;
  readonly outageToleranceMs: number;
  readonly forGracePeriodMs: number;
  readonly resendDelayMs: number;
  readonly notificationQueueCapacity: number;
  readonly drainNotificationQueue: boolean;
  readonly remoteReadSampleLimit: number;
  readonly remoteReadConcurrentLimit: number;
  readonly remoteReadMaxBytesInFrame: number;
  /** --storage.remote.flush-deadline (ms). */
  readonly remoteFlushDeadlineMs: number;
  /** --storage.remote.max-wal-retention-size (bytes); 0 = no cap. */
  readonly remoteMaxWalRetentionBytes: number;
  /** --storage.tsdb.wal-compression[-type]. */
  readonly walCompression: 'none' | 'snappy';
  /** --agent: scrape and remote-write only, into a WAL-only store. */
  readonly agent: boolean;
  readonly agentStoragePath: string;
  /** --storage.agent.wal-compression[-type]. */
  readonly agentWalCompression: 'none' | 'snappy';
  /** 0 = the WAL's default. */
  readonly agentWalSegmentSize: number;
  readonly agentRetentionMinTimeMs: number;
  readonly agentRetentionMaxTimeMs: number;
  readonly agentTruncateFrequencyMs: number;
  readonly agentNoLockfile: boolean;
  /** --rules.self-monitoring: the built-in `tsprom-self` rule group. */
  readonly selfMonitoringRules: boolean;
  readonly features: ReadonlySet<string>;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly logFormat: 'logfmt' | 'json';
  /** Every flag's value as given or defaulted, by name, for /api/v1/status/flags. */
  readonly values: Readonly<Record<string, string>>;
}

export type ParsedArgs = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; flags: ServerFlags };

/** Prometheus's retention when neither retention flag is given. */
export const DEFAULT_RETENTION_MS = 15 * 86_400_000;

function byName(name: string): FlagDef | undefined {
  return FLAGS.find((f) => f.name === name);
}

function checkValue(def: FlagDef, value: string): void {
  try {
    if (def.kind === 'duration') parseDuration(value);
    else if (def.name === 'storage.disk-free-min') parseDiskFreeMin(value);
    else if (def.kind === 'size') parseSize(value);
  } catch (e) {
    if (e instanceof UnitParseError || e instanceof InvalidDurationError) throw new FlagError(`invalid value ${JSON.stringify(value)} for flag --${def.name}: ${e.message}`);
    throw e;
  }
  if (def.kind === 'int' && !/^\d+$/.test(value)) {
    throw new FlagError(`invalid value ${JSON.stringify(value)} for flag --${def.name}: expected a non-negative integer`);
  }
  if (def.values !== undefined && !def.values.includes(value)) {
    throw new FlagError(`invalid value ${JSON.stringify(value)} for flag --${def.name}: must be one of ${def.values.join(', ')}`);
  }
}

/** Parses server flags; throws FlagError with a message for the user. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const values = new Map<string, string>();
  const lists = new Map<string, string[]>();
  /** Flags given on the command line, in order, for the mode checks. */
  const given: FlagDef[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help' || arg === '--help-long') return { kind: 'help' };
    if (arg === '--version') return { kind: 'version' };
    if (!arg.startsWith('--')) {
      throw new FlagError(arg.startsWith('-') ? `unknown short flag '${arg}'` : `unexpected argument ${JSON.stringify(arg)}`);
    }
    const eq = arg.indexOf('=');
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    let def = byName(name);
    if (def === undefined && name.startsWith('no-') && value === undefined) {
      const positive = byName(name.slice(3));
      if (positive?.kind === 'bool') {
        def = positive;
        name = positive.name;
        value = 'false';
      }
    }
    if (def === undefined) throw new FlagError(`unknown long flag '--${name}'`);
    if (!given.includes(def)) given.push(def);
    if (def.kind === 'bool') {
      const v = value ?? 'true';
      if (v !== 'true' && v !== 'false') throw new FlagError(`invalid value ${JSON.stringify(v)} for flag --${name}: expected true or false`);
      values.set(name, v);
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new FlagError(`expected argument for flag '--${name}'`);
      value = argv[++i]!;
    }
    checkValue(def, value);
    if (def.kind === 'list') {
      const l = lists.get(name) ?? [];
      l.push(...value.split(',').map((s) => s.trim()).filter((s) => s !== ''));
      lists.set(name, l);
    } else {
      values.set(name, value);
    }
  }

  const get = (name: string): string => values.get(name) ?? byName(name)!.def;
  const agent = get('agent') === 'true';
  const wrongMode = given.filter((f) => f.mode === (agent ? 'server' : 'agent')).map((f) => JSON.stringify(`--${f.name}`));
  if (wrongMode.length > 0) {
    throw new FlagModeError(`The following flag(s) ${agent ? 'can not be used in agent mode' : 'can only be used in agent mode'}: [${wrongMode.join(' ')}]`);
  }
  const agentSegmentSize = parseSize(get('storage.agent.wal-segment-size'));
  if (agentSegmentSize !== 0 && (agentSegmentSize < 10 * 1024 * 1024 || agentSegmentSize > 256 * 1024 * 1024)) {
    throw new FlagError("flag 'storage.agent.wal-segment-size' must be set between 10MB and 256MB");
  }
  // Node has no zstd: refused rather than silently written as snappy.
  const compression = (flag: string): 'none' | 'snappy' => {
    if (get(flag) !== 'true') return 'none';
    if (get(`${flag}-type`) === 'zstd') throw new FlagError(`--${flag}-type=zstd is not supported: tsprom compresses the WAL with snappy only`);
    return 'snappy';
  };
  // Flags of the other mode were refused above, so each pair holds its default or what was given.
  const walCompression = compression('storage.tsdb.wal-compression');
  const agentWalCompression = compression('storage.agent.wal-compression');
  const features = new Set(lists.get('enable-feature') ?? []);
  const shown: Record<string, string> = {};
  for (const f of FLAGS) shown[f.name] = f.kind === 'list' ? (lists.get(f.name) ?? []).join(',') : get(f.name);
  const retentionTimeMs = parseDuration(get('storage.tsdb.retention.time'));
  const retentionSizeBytes = parseSize(get('storage.tsdb.retention.size'));
  // As Prometheus: with neither limit given, keep 15 days.
  if (retentionTimeMs === 0 && retentionSizeBytes === 0) shown['storage.tsdb.retention.time'] = formatDuration(DEFAULT_RETENTION_MS);
  return {
    kind: 'run',
    flags: {
      configFile: get('config.file'),
      listenAddress: get('web.listen-address'),
      webConfigFile: get('web.config.file'),
      readTimeoutMs: parseDuration(get('web.read-timeout')),
      maxConnections: Number(get('web.max-connections')),
      externalUrl: get('web.external-url'),
      routePrefix: get('web.route-prefix'),
      enableLifecycle: get('web.enable-lifecycle') === 'true',
      enableAdminApi: get('web.enable-admin-api') === 'true',
      enableRemoteWriteReceiver: get('web.enable-remote-write-receiver') === 'true',
      enableOtlpReceiver: get('web.enable-otlp-receiver') === 'true',
      remoteWriteDecodeWorkers: Number(get('web.remote-write-receiver.decode-workers')),
      corsOrigin: get('web.cors.origin'),
      storagePath: get('storage.tsdb.path'),
      retentionTimeMs: retentionTimeMs === 0 && retentionSizeBytes === 0 ? DEFAULT_RETENTION_MS : retentionTimeMs,
      retentionSizeBytes,
      maxHeadSeries: Number(get('storage.tsdb.max-head-series')),
      diskFreeMin: parseDiskFreeMin(get('storage.disk-free-min')),
      memoryLimitBytes: parseSize(get('memory.limit')),
      lookbackDeltaMs: parseDuration(get('query.lookback-delta')),
      queryTimeoutMs: parseDuration(get('query.timeout')),
      queryMaxConcurrency: Number(get('query.max-concurrency')),
      queryMaxSamples: Number(get('query.max-samples')),
      queryMaxMemoryBytes: get('query.max-memory') === '' ? null : parseSize(get('query.max-memory')),
      queryMaxTotalMemoryBytes: get('query.max-total-memory') === '' ? null : parseSize(get('query.max-total-memory')),
      outageToleranceMs: parseDuration(get('rules.alert.for-outage-tolerance')),
      forGracePeriodMs: parseDuration(get('rules.alert.for-grace-period')),
      resendDelayMs: parseDuration(get('rules.alert.resend-delay')),
      notificationQueueCapacity: Number(get('alertmanager.notification-queue-capacity')),
      drainNotificationQueue: get('alertmanager.drain-notification-queue-on-shutdown') === 'true',
      selfMonitoringRules: get('rules.self-monitoring') === 'true',
      remoteReadSampleLimit: Number(get('storage.remote.read-sample-limit')),
      remoteReadConcurrentLimit: Number(get('storage.remote.read-concurrent-limit')),
      remoteReadMaxBytesInFrame: Number(get('storage.remote.read-max-bytes-in-frame')),
      remoteFlushDeadlineMs: parseDuration(get('storage.remote.flush-deadline')),
      remoteMaxWalRetentionBytes: parseSize(get('storage.remote.max-wal-retention-size')),
      walCompression,
      agent,
      agentStoragePath: get('storage.agent.path'),
      agentWalCompression,
      agentWalSegmentSize: agentSegmentSize,
      agentRetentionMinTimeMs: parseDuration(get('storage.agent.retention.min-time')),
      agentRetentionMaxTimeMs: parseDuration(get('storage.agent.retention.max-time')),
      agentTruncateFrequencyMs: parseDuration(get('storage.agent.wal-truncate-frequency')),
      agentNoLockfile: get('storage.agent.no-lockfile') === 'true',
      features,
      logLevel: get('log.level') as ServerFlags['logLevel'],
      logFormat: get('log.format') as ServerFlags['logFormat'],
      values: shown,
    },
  };
}

function wrap(text: string, indent: number, width: number): string {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line !== '' && indent + line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else {
      line = line === '' ? w : `${line} ${w}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines.map((l) => ' '.repeat(indent) + l).join('\n');
}

/** `tsprom --help`, laid out as Prometheus's (kingpin) help. */
export function helpText(program: string): string {
  const out = [
    `usage: ${program} [<flags>] [<command> [<args> ...]]`,
    '',
    'The tsprom server: a Prometheus-compatible monitoring system in TypeScript.',
    '',
    'Commands (run "<command> --help" for their flags):',
    '  tsdb ...      Inspect and import TSDB data.',
    '  querylog ...  Summarise a query log file.',
    '  check ...     Check config and rule files (as promtool check).',
    '  test rules    Unit-test rule files (as promtool test rules).',
    '',
    'Flags:',
    '  -h, --help     Show context-sensitive help.',
    '      --version  Show application version.',
  ];
  for (const f of FLAGS) {
    let head = `      --${f.kind === 'bool' ? '[no-]' : ''}${f.name}`;
    if (f.kind !== 'bool') head += f.kind === 'list' ? '=<name> ...' : `=${JSON.stringify(f.def)}`;
    const help = f.mode === undefined ? f.help : `${f.help} Use with ${f.mode} mode only.`;
    out.push(head, wrap(help, 12, 100));
  }
  return `${out.join('\n')}\n`;
}
