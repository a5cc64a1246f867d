// The tsprom server process: wires config, storage, engine, query log,
// scraping, remote write and the HTTP server together, and owns reload and
// graceful shutdown.
import { hostname, availableParallelism } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { dirname, join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Registry, type Gauge } from 'prom-client';
import type { Config } from '../config/types.js';
import { loadConfigFile } from '../config/load.js';
import { configToYAML } from '../config/marshal.js';
import { formatDuration } from '../gofmt/duration.js';
import { formatSize } from '../config/units.js';
import type { Logger } from '../logging/types.js';
import { createLogger } from '../logging/logger.js';
import { QueryLog } from '../querylog/querylog.js';
import { ScrapeFailureLog } from '../querylog/scrape_failure_log.js';
import type { Matcher } from '../model/matcher.js';
import { QueryMemoryTracker, defaultQueryMemoryLimits } from '../promql/engine/memory.js';
import type { EngineOptions, QueryEngine } from '../promql/engine/types.js';
import type { Appendable, ExemplarQuerier, Queryable, Storage } from '../storage/interface.js';
import { EngineMetrics, HttpMetrics, ReloadMetrics, readyGauge, registerProcessMetrics, registerQueryMemoryMetrics } from '../metrics/server.js';
import { buildInfo } from '../metrics/build.js';
import { RemoteWriteHandler } from '../remote/write_handler.js';
import { RemoteReadHandler } from '../remote/read_handler.js';
import { RemoteReadStorage } from '../remote/read_storage.js';
import { RemoteWriteStorage } from '../remote/write_storage.js';
import type { MetadataEntry } from '../remote/write_encode.js';
import type { WalRetention } from '../tsdb/wal/retention.js';
import { NotifierManager, type NotifierAlert } from '../notifier/manager.js';
import { RuleManager } from '../rules/manager.js';
import { SelfRules } from '../rules/self_rules.js';
import type { Alert } from '../rules/alert.js';
import { queryEscape } from '../template/funcs.js';
import { WebServer, DEFAULT_MAX_REMOTE_WRITE_BYTES } from '../web/server.js';
import { createApiRoutes, walReplayRoute, type MetricMetadata, type PromQLParser, type TSDBStatus, type WALReplayStatus } from '../web/api/v1.js';
import { queryLogRoutes } from '../web/api/querylog.js';
import { RemoteWriteApi } from '../web/api/write.js';
import { OtlpApi } from '../web/api/otlp.js';
import { OtlpReceiver } from '../remote/otlp/handler.js';
import { MAX_READ_REQUEST_BYTES, RemoteReadApi } from '../web/api/read.js';
import { alertmanagersRoute, rulesRoutes } from '../web/api/rules.js';
import { federateHandler } from '../web/federate.js';
import { LifecycleApi } from '../web/lifecycle.js';
import { mountIndexPage } from '../web/ui.js';
import { loadWebConfig } from '../web/web_config.js';
import type { ApiRoute } from '../web/api/types.js';
import { detectMemoryLimit } from '../guard/memory_limit.js';
import { MemoryGuard, type MemoryState } from '../guard/memory_guard.js';
import { DiskGuard } from '../guard/disk_guard.js';
import { launcherRss } from '../guard/reexec.js';
import type { ServerFlags } from './flags.js';
import { agentRoutes, checkAgentConfig } from './agent.js';
import { DEFAULT_TRUNCATE_FREQUENCY_MS, openAgentDB } from '../tsdb/agent/db.js';

/** Created timestamps become zero samples; scrape_protocols default to protobuf first (as Prometheus 3). */
const CT_ZERO_INGESTION = 'created-timestamp-zero-ingestion';

/** The storage the server runs on: the TSDB, or any Storage for tests (admin endpoints then answer unavailable). */
export interface ServerStorage extends Storage {
  deleteSeries?(mint: number, maxt: number, matchers: Matcher[]): void | Promise<void>;
  cleanTombstones?(): void | Promise<void>;
  snapshot?(dir: string, withHead: boolean): void | Promise<void>;
  /** Cardinality statistics for /api/v1/status/tsdb. */
  headStats?(limit: number): TSDBStatus;
  /** Time and size retention now (the disk guard runs it when space is low). */
  applyRetention?(): Promise<void>;
  /** Exemplars for query_exemplars (empty when exemplar storage is off). */
  exemplarQuerier?(): ExemplarQuerier;
  /** storage.exemplars.max_exemplars on reload (no-op when exemplar storage is off). */
  resizeExemplars?(maxExemplars: number): void;
}

export interface StorageOpenOptions {
  retentionTimeMs: number;
  retentionSizeBytes: number;
  /** 0 = no limit. */
  maxHeadSeries: number;
  /** --storage.tsdb.wal-compression[-type]. */
  walCompression: 'none' | 'snappy';
  /** Exemplar storage size with --enable-feature=exemplar-storage; undefined = off. */
  maxExemplars?: number;
  /** Remote-write queues: WAL truncation keeps what they have not sent. */
  walRetention?: WalRetention;
  registry: Registry;
  logger: Logger;
  onReplayProgress(status: WALReplayStatus): void;
}

/** The scrape manager as the server drives it. */
export interface ScrapeService {
  applyConfig(cfg: Config): void | Promise<void>;
  stop(): void | Promise<void>;
  /** API routes it serves (targets, targets/metadata, metadata ...). */
  routes(): ApiRoute[];
  /** Metadata for /api/v1/metadata when the routes above do not serve it. */
  metadata?(metric: string): Map<string, MetricMetadata[]>;
  /** Every active target's metric metadata, for remote write's metadata_config. */
  metadataList?(): readonly MetadataEntry[];
}

export interface ScrapeServiceOptions {
  storage: Appendable;
  registry: Registry;
  logger: Logger;
  scrapeFailureLog: ScrapeFailureLog;
  features: ReadonlySet<string>;
}

/** The parts the server is built from; main.ts passes the real ones, tests may pass others. */
export interface Components {
  openStorage(dir: string, opts: StorageOpenOptions): Promise<ServerStorage>;
  createEngine(opts: EngineOptions): QueryEngine;
  /** The parser as the API uses it, accepting what the enabled features allow. */
  createParser(features: ReadonlySet<string>): PromQLParser;
  createScrapeService?(opts: ScrapeServiceOptions): ScrapeService;
}

export interface ServerOptions {
  logger?: Logger;
  registry?: Registry;
}

/** Under memory pressure (soft), rule groups whose last evaluation took this long (ms) or more skip. */
const HEAVY_RULE_GROUP_MS = 100;

/** Shutdown waits this long for in-flight requests (queries) before dropping connections. */
const SHUTDOWN_GRACE_MS = 30_000;

/** Event-loop use (0..1) under which the server counts as idle for the memory guard's collection. */
const IDLE_LOOP_MAX_USE = 0.1;

export class TsPromServer {
  readonly logger: Logger;
  readonly registry: Registry;
  private readonly web: WebServer;
  private readonly queryLog: QueryLog;
  private readonly memoryGuard: MemoryGuard;
  private readonly diskGuard: DiskGuard;
  /** API queries running now: the memory guard collects garbage only when there are none. */
  private queriesInFlight = 0;
  /** The event loop's use at the memory guard's last check. */
  private lastLoopUse = performance.eventLoopUtilization();
  private readonly scrapeFailureLog: ScrapeFailureLog;
  private readonly reloadMetrics: ReloadMetrics;
  private readonly engineMetrics: EngineMetrics;
  /** Shared by every engine this server makes, so the budget spans reloads. */
  private readonly queryMemory: QueryMemoryTracker;
  private readonly readyMetric: Gauge;
  private config: Config;
  private storage: ServerStorage | null = null;
  private engine: QueryEngine | null = null;
  private scrape: ScrapeService | null = null;
  private rules: RuleManager | null = null;
  /** The built-in tsprom-self group; null with --no-rules.self-monitoring. */
  private readonly selfRules: SelfRules | null;
  private readonly notifier: NotifierManager;
  /** remote_read endpoints, merged into queries with the local data. */
  private readonly remoteRead: RemoteReadStorage;
  private readonly remoteWrite: RemoteWriteStorage;
  /** The remote write receiver (its decode workers stop with the server). */
  private rwReceiver: RemoteWriteHandler | null = null;
  private replay: WALReplayStatus = { min: 0, max: 0, current: 0 };
  private readonly startTime = Date.now();
  private lastConfigTime = Date.now();
  private lastReloadOk = true;
  private reloading: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | null = null;
  private resolveDone!: () => void;
  /** Resolves once the server has shut down. */
  readonly done = new Promise<void>((r) => (this.resolveDone = r));
  private readonly externalUrl: URL;
  /** --enable-feature=exemplar-storage. */
  private readonly exemplarStorage: boolean;

  /** Loads the config and builds the HTTP side; throws ConfigError / WebConfigError for bad files. */
  constructor(
    private readonly flags: ServerFlags,
    private readonly components: Components,
    opts: ServerOptions = {},
  ) {
    this.logger = opts.logger ?? createLogger({ level: flags.logLevel, format: flags.logFormat });
    this.registry = opts.registry ?? new Registry();
    registerProcessMetrics(this.registry);
    this.readyMetric = readyGauge(this.registry);
    this.reloadMetrics = new ReloadMetrics(this.registry);
    this.engineMetrics = new EngineMetrics(this.registry, flags.queryMaxConcurrency);
    // Query memory defaults are shares of the JS heap limit (see defaultQueryMemoryLimits).
    this.queryMemory = new QueryMemoryTracker(defaultQueryMemoryLimits(getHeapStatistics().heap_size_limit, flags.queryMaxMemoryBytes, flags.queryMaxTotalMemoryBytes));
    registerQueryMemoryMetrics(this.registry, this.queryMemory);
    // An agent evaluates no rules: the self-monitoring group would query a store that answers none.
    this.selfRules = flags.selfMonitoringRules && !flags.agent ? new SelfRules({ registry: this.registry, logger: this.logger.with({ component: 'rule manager' }) }) : null;
    this.config = loadConfigFile(flags.configFile, { protoFirstScrapeProtocols: flags.features.has(CT_ZERO_INGESTION) });
    if (flags.agent) checkAgentConfig(this.config);
    this.exemplarStorage = flags.features.has('exemplar-storage');
    if (this.exemplarStorage) this.logger.info('Experimental in-memory exemplar storage enabled');
    // As Prometheus 3: native histograms are a per-job setting now, the old flag does nothing.
    if (flags.features.has('native-histograms')) {
      this.logger.warn('This option for --enable-feature is a no-op. To scrape native histograms, set the scrape_native_histograms scrape config setting to true.', { option: 'native-histograms' });
    }
    // PromQL reads start timestamps, but nothing stores them yet: say so rather than let the flag look effective.
    if (flags.features.has('use-start-timestamps')) {
      this.logger.warn('start timestamps are used by PromQL, but the TSDB does not store them yet: queries over stored data are unchanged', { option: 'use-start-timestamps' });
    }
    this.reloadMetrics.succeeded(Date.now());

    this.queryLog = new QueryLog({ registry: this.registry, logger: this.logger });
    this.scrapeFailureLog = new ScrapeFailureLog({ registry: this.registry, logger: this.logger });
    this.memoryGuard = new MemoryGuard({
      limit: detectMemoryLimit(flags.memoryLimitBytes),
      registry: this.registry,
      logger: this.logger.with({ component: 'memory guard' }),
      extraRss: launcherRss(),
      busy: () => this.queriesInFlight > 0 || this.loopBusy(),
      onStateChange: (s) => this.shedRules(s),
    });
    const dataDir = this.dataDir();
    this.diskGuard = new DiskGuard({
      paths: () => (this.queryLogDir() === null ? [dataDir] : [dataDir, this.queryLogDir()!]),
      min: flags.diskFreeMin,
      registry: this.registry,
      logger: this.logger.with({ component: 'disk guard' }),
      onChange: (path, low) => {
        // The query log gives way first; the TSDB frees what its retention allows.
        if (path === this.queryLogDir()) this.queryLog.setPaused(low);
        if (path === dataDir && low) this.storage?.applyRetention?.().catch((e: unknown) => this.logger.error('Retention on low disk space failed', { err: String(e) }));
      },
    });

    this.externalUrl = computeExternalUrl(flags);
    this.notifier = new NotifierManager({
      queueCapacity: flags.notificationQueueCapacity,
      drainOnShutdown: flags.drainNotificationQueue,
      registry: this.registry,
      logger: this.logger.with({ component: 'notifier' }),
    });
    this.remoteWrite = new RemoteWriteStorage({
      walDir: join(this.dataDir(), 'wal'),
      stateDir: join(this.dataDir(), 'remote'),
      registry: this.registry,
      logger: this.logger,
      maxWalRetentionBytes: flags.remoteMaxWalRetentionBytes,
      flushDeadlineMs: flags.remoteFlushDeadlineMs,
      userAgent: `tsprom/${buildInfo().version}`,
      metadata: () => this.scrape?.metadataList?.() ?? [],
    });
    this.remoteRead = new RemoteReadStorage({ registry: this.registry, logger: this.logger.with({ component: 'remote' }), maxSamples: flags.queryMaxSamples });
    const routePrefix = flags.routePrefix || this.externalUrl.pathname || '/';
    const webConfig = flags.webConfigFile ? loadWebConfig(flags.webConfigFile) : null;
    this.web = new WebServer({
      listenAddress: flags.listenAddress,
      routePrefix,
      webConfig,
      corsOrigin: new RegExp(`^(?:${flags.corsOrigin})$`),
      logger: this.logger.with({ component: 'web' }),
      metrics: new HttpMetrics(this.registry),
      maxConnections: flags.maxConnections,
      readTimeoutMs: flags.readTimeoutMs,
      registry: this.registry,
    });
  }

  /** Listens at once (so /-/ready answers 503 during WAL replay), then opens storage and starts serving. */
  async start(): Promise<AddressInfo> {
    this.logger.info('Starting tsprom', { version: buildInfo().version });
    this.applyLogs(this.config);
    if (this.components.createScrapeService !== undefined) {
      // Built before storage opens so its API routes exist from the start; it appends only after applyConfig below.
      this.scrape = this.components.createScrapeService({
        storage: { appender: () => this.mustStorage().appender() },
        registry: this.registry,
        logger: this.logger,
        scrapeFailureLog: this.scrapeFailureLog,
        features: this.flags.features,
      });
    }
    this.mountRoutes();
    const addr = await this.web.listen();
    this.logger.info('Listening on', { address: `${addr.address}:${addr.port}` });

    this.storage = this.flags.agent ? await this.openAgentStorage() : await this.components.openStorage(this.dataDir(), {
      retentionTimeMs: this.flags.retentionTimeMs,
      retentionSizeBytes: this.flags.retentionSizeBytes,
      maxHeadSeries: this.flags.maxHeadSeries,
      walCompression: this.flags.walCompression,
      maxExemplars: this.exemplarStorage ? this.config.storage.exemplars.maxExemplars : undefined,
      walRetention: this.remoteWrite,
      registry: this.registry,
      logger: this.logger,
      onReplayProgress: (s) => {
        this.replay = { ...s };
      },
    });
    this.remoteRead.applyConfig(this.config);
    await this.remoteWrite.applyConfig(this.config);
    this.engine = this.createEngine(this.config);
    this.rules = this.createRuleManager();
    this.shedRules(this.memoryGuard.state);
    this.memoryGuard.start();
    this.diskGuard.start();
    await this.rules.update(this.ruleConfig(this.config));
    this.notifier.applyConfig(this.config);
    await this.scrape?.applyConfig(this.config);
    this.web.ready = true;
    this.readyMetric.set(1);
    this.logger.info('Server is ready to receive web requests.');
    return addr;
  }

  private createEngine(cfg: Config): QueryEngine {
    return this.components.createEngine({
      timeoutMs: this.flags.queryTimeoutMs,
      maxSamples: this.flags.queryMaxSamples,
      lookbackDeltaMs: this.flags.lookbackDeltaMs,
      maxConcurrency: this.flags.queryMaxConcurrency,
      memory: this.queryMemory,
      features: this.flags.features,
      noStepSubqueryIntervalMs: cfg.global.evaluationIntervalMs,
      logger: this.logger.with({ component: 'query engine' }),
      onQueryDone: (rec) => {
        this.engineMetrics.observe(rec);
        this.queryLog.log(rec);
      },
    });
  }

  private createRuleManager(): RuleManager {
    // The engine may be replaced on reload: rules always use the current one.
    const engine = {
      newInstantQuery: (...args: Parameters<QueryEngine['newInstantQuery']>) => this.mustEngine().newInstantQuery(...args),
      features: this.flags.features,
    };
    return new RuleManager({
      appendable: { appender: () => this.mustStorage().appender() },
      queryable: { querier: (mint, maxt) => this.queryable().querier(mint, maxt) },
      engine,
      notify: (expr, alerts) => this.sendAlerts(expr, alerts),
      logger: this.logger.with({ component: 'rule manager' }),
      registry: this.registry,
      externalUrl: this.externalUrlText(),
      outageToleranceMs: this.flags.outageToleranceMs,
      forGracePeriodMs: this.flags.forGracePeriodMs,
      resendDelayMs: this.flags.resendDelayMs,
    });
  }

  private ruleConfig(cfg: Config) {
    return {
      intervalMs: cfg.global.evaluationIntervalMs,
      files: cfg.ruleFiles,
      externalLabels: cfg.global.externalLabels,
      queryOffsetMs: cfg.global.ruleQueryOffsetMs,
      builtin: this.selfRules === null ? [] : [this.selfRules],
    };
  }

  /** --web.external-url without a trailing slash, as Prometheus prefixes links with it. */
  private externalUrlText(): string {
    return this.externalUrl.href.replace(/\/+$/, '');
  }

  /** Prometheus's sendAlerts: a resolved alert ends when it resolved, a firing one when its validity runs out. */
  private sendAlerts(expr: string, alerts: readonly Alert[]): void {
    if (alerts.length === 0) return;
    const generatorURL = `${this.externalUrlText()}/graph?g0.expr=${queryEscape(expr)}&g0.tab=1`;
    const out: NotifierAlert[] = alerts.map((a) => ({
      labels: a.labels,
      annotations: a.annotations,
      startsAt: a.firedAt,
      endsAt: a.resolvedAt !== 0 ? a.resolvedAt : a.validUntil,
      generatorURL,
    }));
    this.notifier.send(out);
  }

  /** The memory guard's order: under pressure heavy rule groups skip, at the limit all of them. */

  /**
   * Whether the event loop was busy for more than IDLE_LOOP_MAX_USE of the time since the last call
   * (the memory guard asks every second). A forced full collection blocks the loop for tens of
   * milliseconds at 100k series (twice: 27 + 125 ms measured), so it waits for a quiet moment rather
   * than landing between remote writes or between the queries of a dashboard.
   */
  private loopBusy(): boolean {
    const now = performance.eventLoopUtilization();
    const use = performance.eventLoopUtilization(now, this.lastLoopUse).utilization;
    this.lastLoopUse = now;
    return use > IDLE_LOOP_MAX_USE;
  }
  private shedRules(state: MemoryState): void {
    this.rules?.setPaused(state === 'ok' ? null : (ms) => this.memoryGuard.skipRuleGroup(ms, HEAVY_RULE_GROUP_MS));
  }

  /** The directory of the query log file, when one is configured. */
  private queryLogDir(): string | null {
    const f = this.queryLog.file;
    return f === null ? null : dirname(resolve(f));
  }

  private applyLogs(cfg: Config): void {
    const g = cfg.global;
    this.queryLog.configure({
      file: g.queryLogFile,
      maxSizeBytes: g.queryLogMaxSize,
      maxFiles: g.queryLogMaxFiles,
      minDurationMs: g.queryLogMinDurationMs,
    });
    const dir = this.queryLogDir();
    this.queryLog.setPaused(dir !== null && this.diskGuard.isLow(dir));
    this.scrapeFailureLog.configure({ files: [g.scrapeFailureLogFile, ...cfg.scrapeConfigs.map((s) => s.scrapeFailureLogFile)] });
  }

  /**
   * Reloads the config file. A bad file (or one a component refuses) leaves the
   * running config in place and rejects with the reason. Reloads run one at a time.
   */
  reload(): Promise<void> {
    const run = this.reloading.then(() => this.doReload());
    this.reloading = run.catch(() => undefined);
    return run;
  }

  private async doReload(): Promise<void> {
    const file = this.flags.configFile;
    this.logger.info('Loading configuration file', { filename: file });
    const old = this.config;
    try {
      const cfg = loadConfigFile(file, { protoFirstScrapeProtocols: this.flags.features.has(CT_ZERO_INGESTION) });
      if (this.flags.agent) checkAgentConfig(cfg);
      // Rule files first: a bad one fails the reload before anything else changed (the old rules keep running).
      await this.rules?.update(this.ruleConfig(cfg));
      try {
        this.applyLogs(cfg);
        this.notifier.applyConfig(cfg);
        await this.scrape?.applyConfig(cfg);
        this.remoteRead.applyConfig(cfg);
        await this.remoteWrite.applyConfig(cfg);
        if (this.exemplarStorage) this.storage?.resizeExemplars?.(cfg.storage.exemplars.maxExemplars);
      } catch (e) {
        // Put back what may already have switched; the old files opened before, so they open again.
        try {
          this.applyLogs(old);
        } catch (restoreErr) {
          this.logger.error('Error restoring log files after a failed reload', { err: (restoreErr as Error).message });
        }
        throw e;
      }
      if (cfg.global.evaluationIntervalMs !== old.global.evaluationIntervalMs && this.engine !== null) this.engine = this.createEngine(cfg);
      this.config = cfg;
      this.lastReloadOk = true;
      this.lastConfigTime = Date.now();
      this.reloadMetrics.succeeded(this.lastConfigTime);
      this.logger.info('Completed loading of configuration file', { filename: file });
    } catch (e) {
      this.lastReloadOk = false;
      this.reloadMetrics.failed();
      this.logger.error('Error reloading config', { filename: file, err: (e as Error).message });
      throw e;
    }
  }

  /** Reopens log files by name (SIGHUP after logrotate moved them). */
  reopenLogs(): void {
    this.queryLog.reopen();
    this.scrapeFailureLog.reopen();
  }

  /** Graceful shutdown: stop scraping, stop accepting, finish in-flight requests, flush logs, close storage. */
  shutdown(): Promise<void> {
    if (this.stopping !== null) return this.stopping;
    this.stopping = (async () => {
      this.memoryGuard.stop();
      this.diskGuard.stop();
      this.logger.info('Stopping scrape manager...');
      try {
        await this.scrape?.stop();
      } catch (e) {
        this.logger.error('Error stopping scrape manager', { err: String(e) });
      }
      this.logger.info('Stopping rule manager...');
      try {
        await this.rules?.stop();
      } catch (e) {
        this.logger.error('Error stopping rule manager', { err: String(e) });
      }
      this.logger.info('Stopping notification manager...');
      await this.notifier.stop();
      this.logger.info('Stopping remote storage...');
      try {
        await this.remoteWrite.stop();
      } catch (e) {
        this.logger.error('Error stopping remote storage', { err: String(e) });
      }
      this.web.ready = false;
      this.readyMetric.set(0);
      await this.web.close(SHUTDOWN_GRACE_MS);
      await this.queryLog.close();
      await this.scrapeFailureLog.close();
      this.remoteRead.close();
      await this.rwReceiver?.close();
      if (this.storage !== null) {
        try {
          await this.storage.close();
        } catch (e) {
          this.logger.error('Error stopping storage', { err: String(e) });
        }
      }
      this.logger.info('See you next time!');
      this.resolveDone();
    })();
    return this.stopping;
  }

  private mountRoutes(): void {
    // Getters below hand out storage and engine as they are when a request arrives.
    const self = this;
    const web = this.web;
    const flags = this.flags;

    new LifecycleApi({
      enabled: flags.enableLifecycle,
      reload: () => this.reload(),
      stopping: () => this.stopping !== null,
      shutdown: () => void this.shutdown(),
    }).mount(web);
    web.route('GET', '/metrics', async () => ({
      status: 200,
      body: await this.registry.metrics(),
      headers: { 'Content-Type': this.registry.contentType },
    }));
    web.route('GET', '/version', () => ({ status: 200, body: `${JSON.stringify(this.buildInfoJSON())}\n`, headers: { 'Content-Type': 'application/json' } }));
    mountIndexPage(web, this.externalUrl, undefined, flags.agent ? '/agent' : '/query');

    const parser = this.components.createParser(flags.features);
    const fed = federateHandler({
      get storage() {
        return self.mustStorage();
      },
      parser,
      externalLabels: () => this.config.global.externalLabels,
      lookbackDeltaMs: flags.lookbackDeltaMs,
      registry: this.registry,
    });
    web.route('GET', '/federate', fed, { needsReady: true });

    this.rwReceiver = new RemoteWriteHandler({
      storage: { appender: () => this.mustStorage().appender() },
      registry: this.registry,
      logger: this.logger.with({ component: 'remote' }),
      decodeWorkers: flags.enableRemoteWriteReceiver ? flags.remoteWriteDecodeWorkers : 0,
    });
    const rw = new RemoteWriteApi(this.rwReceiver, flags.enableRemoteWriteReceiver);
    web.route('POST', '/api/v1/write', (req) => rw.write(req.headers, req.body), {
      needsReady: true,
      maxBodyBytes: DEFAULT_MAX_REMOTE_WRITE_BYTES,
      parseForm: false,
    });
    const otlp = new OtlpApi(
      new OtlpReceiver({
        storage: { appender: () => this.mustStorage().appender() },
        config: () => this.config.otlp,
        lookbackDeltaMs: flags.lookbackDeltaMs,
        registry: this.registry,
        logger: this.logger.with({ component: 'otlp' }),
      }),
      flags.enableOtlpReceiver,
    );
    web.route('POST', '/api/v1/otlp/v1/metrics', (req) => otlp.write(req.headers, req.body), {
      needsReady: true,
      maxBodyBytes: DEFAULT_MAX_REMOTE_WRITE_BYTES,
      parseForm: false,
    });

    const rr = new RemoteReadApi(
      new RemoteReadHandler({
        queryable: { querier: (mint, maxt) => this.queryable().querier(mint, maxt) },
        externalLabels: () => this.config.global.externalLabels,
        sampleLimit: flags.remoteReadSampleLimit,
        concurrencyLimit: flags.remoteReadConcurrentLimit,
        maxBytesInFrame: flags.remoteReadMaxBytesInFrame,
        registry: this.registry,
        logger: this.logger.with({ component: 'remote' }),
      }),
    );
    web.route('POST', '/api/v1/read', (req) => rr.read(req.body), { needsReady: true, maxBodyBytes: MAX_READ_REQUEST_BYTES, parseForm: false });

    // An agent answers Prometheus's agent error on the query, rules and TSDB endpoints.
    const mode = (routes: ApiRoute[]): ApiRoute[] => (flags.agent ? agentRoutes(routes) : routes);
    web.api(
      mode(createApiRoutes({
        get engine() {
          return self.mustEngine();
        },
        get storage() {
          return self.queryable();
        },
        parser,
        features: flags.features,
        exemplars: () => this.storage?.exemplarQuerier?.() ?? null,
        configYAML: () => configToYAML(this.config),
        flags: () => ({ ...flags.values }),
        runtimeInfo: () => this.runtimeInfo(),
        buildInfo: () => this.buildInfoJSON(),
        tsdb: () => this.tsdbAdmin(),
        walReplayStatus: () => this.replay,
        adminEnabled: flags.enableAdminApi,
        dataDir: this.dataDir(),
        metadata: (metric) => this.scrape?.metadata?.(metric) ?? new Map(),
        admitQuery: () => this.memoryGuard.admitQuery(),
        onQueryStart: () => {
          this.queriesInFlight++;
          this.engineMetrics.queryStarted();
        },
        onQueryEnd: () => {
          this.queriesInFlight--;
          this.engineMetrics.queryFinished();
        },
      })),
    );
    web.api([walReplayRoute({ walReplayStatus: () => this.replay })], { needsReady: false });
    web.api(queryLogRoutes(this.queryLog));
    if (this.scrape !== null) web.api(this.scrape.routes());
    web.api(mode([...rulesRoutes(() => this.rules, parser), alertmanagersRoute(() => this.notifier)]));
  }

  /** --storage.tsdb.path, or --storage.agent.path in agent mode. */
  private dataDir(): string {
    return resolve(this.flags.agent ? this.flags.agentStoragePath : this.flags.storagePath);
  }

  /** Agent mode's WAL-only store under --storage.agent.path. */
  private openAgentStorage(): Promise<ServerStorage> {
    const f = this.flags;
    return openAgentDB({
      dir: this.dataDir(),
      segmentSize: f.agentWalSegmentSize,
      walCompression: f.agentWalCompression,
      minWalTimeMs: f.agentRetentionMinTimeMs,
      maxWalTimeMs: f.agentRetentionMaxTimeMs,
      // 0 means the default, as in Prometheus.
      truncateFrequencyMs: f.agentTruncateFrequencyMs || DEFAULT_TRUNCATE_FREQUENCY_MS,
      noLockfile: f.agentNoLockfile,
      walRetention: this.remoteWrite,
      registry: this.registry,
      logger: this.logger.with({ component: 'agent' }),
    });
  }

  private mustStorage(): ServerStorage {
    if (this.storage === null) throw new Error('BUG: storage used before it was opened');
    return this.storage;
  }

  /** Local data merged with the remote_read endpoints' (the local storage alone when there are none). */
  private queryable(): Queryable {
    return this.remoteRead.queryable(this.mustStorage());
  }

  private mustEngine(): QueryEngine {
    if (this.engine === null) throw new Error('BUG: engine used before it was created');
    return this.engine;
  }

  private tsdbAdmin() {
    const s = this.storage;
    if (s === null || !s.deleteSeries || !s.cleanTombstones || !s.snapshot || !s.headStats) return null;
    return {
      deleteSeries: s.deleteSeries.bind(s),
      cleanTombstones: s.cleanTombstones.bind(s),
      snapshot: s.snapshot.bind(s),
      status: s.headStats.bind(s),
    };
  }

  private buildInfoJSON(): Record<string, string> {
    const b = buildInfo();
    return { version: b.version, revision: b.revision, branch: b.branch, buildUser: b.buildUser, buildDate: b.buildDate, goVersion: b.goVersion };
  }

  private runtimeInfo(): Record<string, unknown> {
    const f = this.flags;
    const retention = [f.retentionTimeMs ? formatDuration(f.retentionTimeMs) : '', f.retentionSizeBytes ? formatSize(f.retentionSizeBytes) : '']
      .filter((s) => s !== '')
      .join(' or ');
    return {
      startTime: new Date(this.startTime).toISOString(),
      CWD: process.cwd(),
      hostname: hostname(),
      serverTime: new Date().toISOString(),
      reloadConfigSuccess: this.lastReloadOk,
      lastConfigTime: new Date(this.lastConfigTime).toISOString(),
      corruptionCount: 0,
      goroutineCount: process.getActiveResourcesInfo().length,
      GOMAXPROCS: availableParallelism(),
      GOMEMLIMIT: getHeapStatistics().heap_size_limit,
      GOGC: '',
      GODEBUG: '',
      storageRetention: retention,
    };
  }
}

/** --web.external-url, or http://<hostname>:<port>/ from the listen address, as Prometheus derives it. */
function computeExternalUrl(flags: ServerFlags): URL {
  if (flags.externalUrl !== '') {
    try {
      const u = new URL(flags.externalUrl);
      u.pathname = u.pathname.replace(/\/+$/, '');
      return u;
    } catch {
      throw new Error(`invalid --web.external-url ${JSON.stringify(flags.externalUrl)}`);
    }
  }
  const port = /:(\d+)$/.exec(flags.listenAddress)?.[1] ?? '9090';
  return new URL(`http://${hostname()}:${port}/`);
}

/**
 * Runs the server until it is told to stop: SIGHUP reloads the config and
 * reopens log files, SIGTERM/SIGINT (or /-/quit) shut down gracefully.
 * Resolves with the process exit code.
 */
export async function runServer(flags: ServerFlags, components: Components): Promise<number> {
  const logger = createLogger({ level: flags.logLevel, format: flags.logFormat });
  let server: TsPromServer;
  try {
    server = new TsPromServer(flags, components, { logger });
  } catch (e) {
    logger.error('Error loading config', { file: flags.configFile, err: (e as Error).message });
    return 1;
  }
  const onHup = (): void => {
    server.reopenLogs();
    server.reload().catch(() => undefined);
  };
  const onTerm = (sig: string) => (): void => {
    logger.warn('Received an OS signal, exiting gracefully...', { signal: sig });
    void server.shutdown();
  };
  const term = onTerm('SIGTERM');
  const int = onTerm('SIGINT');
  process.on('SIGHUP', onHup);
  process.on('SIGTERM', term);
  process.on('SIGINT', int);
  try {
    await server.start();
  } catch (e) {
    logger.error('Error starting tsprom', { err: (e as Error).message });
    await server.shutdown();
    return 1;
  }
  await server.done;
  process.off('SIGHUP', onHup);
  process.off('SIGTERM', term);
  process.off('SIGINT', int);
  return 0;
}
