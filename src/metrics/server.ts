// metrics: the server's own /metrics (process, engine, HTTP, reload). It sits above
// promql/engine because it counts the engine's query records; may import model/ and
// promql/engine; web/ and cli/ import it.
//
// The server's own metrics, under Prometheus's names, for /metrics.
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { WindowedSummary, type SummaryChild } from './summary.js';
import { regexCacheStats } from '../model/matcher.js';
import type { QueryMemoryTracker } from '../promql/engine/memory.js';
import type { QueryLogRecord } from '../promql/engine/types.js';
import { buildInfo } from './build.js';

/** Process, heap, GC and event-loop-lag metrics (prom-client's defaults), prometheus_build_info and process-wide caches. */
export function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'tsprom_regex_cache_entries',
    help: 'Compiled label regexes (matchers, relabeling, label_replace) held in the process-wide bounded cache.',
    registers: [registry],
    collect() {
      this.set(regexCacheStats().entries);
    },
  });
  const b = buildInfo();
  new Gauge({
    name: 'prometheus_build_info',
    help: 'A metric with a constant \'1\' value labeled by version, revision, branch, goversion from which prometheus was built, and the goos and goarch for the build.',
    labelNames: ['version', 'revision', 'branch', 'goversion', 'goos', 'goarch', 'tags'],
    registers: [registry],
  }).set({ version: b.version, revision: b.revision, branch: b.branch, goversion: b.goVersion, goos: process.platform, goarch: process.arch, tags: '' }, 1);
}

// Prometheus's buckets for its HTTP request durations (web/web.go).
const HTTP_DURATION_BUCKETS = [0.1, 0.2, 0.4, 1, 3, 8, 20, 60, 120];
// Prometheus's buckets for response sizes: 100 B to 1 GB by factors of 10.
const HTTP_SIZE_BUCKETS = [100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/**
 * Observations are queued and applied to the metrics right after the answer
 * is out (next turn of the event loop), or before a scrape reads them: the
 * label hashing and, for summaries, the t-digests of every age bucket cost
 * microseconds that a small query's answer should not wait for. The queue
 * holds at most this many; a full one is applied at once.
 */
const MAX_PENDING = 1024;

export class HttpMetrics {
  private readonly requests: Counter<'code' | 'handler'>;
  private readonly duration: Histogram<'handler'>;
  private readonly size: Histogram<'handler'>;
  private readonly handlers: string[] = [];
  private readonly codes = new Uint16Array(MAX_PENDING);
  private readonly seconds = new Float64Array(MAX_PENDING);
  private readonly bytes = new Float64Array(MAX_PENDING);
  private flushQueued = false;

  constructor(registry: Registry) {
    const registers = [registry];
    const collect = (): void => this.flush();
    this.requests = new Counter({
      name: 'prometheus_http_requests_total',
      help: 'Counter of HTTP requests.',
      labelNames: ['code', 'handler'],
      registers,
      collect,
    });
    this.duration = new Histogram({
      name: 'prometheus_http_request_duration_seconds',
      help: 'Histogram of latencies for HTTP requests.',
      labelNames: ['handler'],
      buckets: HTTP_DURATION_BUCKETS,
      registers,
      collect,
    });
    this.size = new Histogram({
      name: 'prometheus_http_response_size_bytes',
      help: 'Histogram of response size for HTTP requests.',
      labelNames: ['handler'],
      buckets: HTTP_SIZE_BUCKETS,
      registers,
      collect,
    });
  }

  /** handler is the route pattern (bounded set), never the raw path. */
  observe(handler: string, code: number, seconds: number, bytes: number): void {
    const i = this.handlers.length;
    this.handlers.push(handler);
    this.codes[i] = code;
    this.seconds[i] = seconds;
    this.bytes[i] = bytes;
    if (i + 1 === MAX_PENDING) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(this.onImmediate);
    }
  }

  private readonly onImmediate = (): void => {
    this.flushQueued = false;
    this.flush();
  };

  /** Applies the queued observations. */
  private flush(): void {
    const hs = this.handlers;
    for (let i = 0; i < hs.length; i++) {
      const handler = hs[i]!;
      this.requests.inc({ code: String(this.codes[i]), handler });
      this.duration.observe({ handler }, this.seconds[i]!);
      this.size.observe({ handler }, this.bytes[i]!);
    }
    hs.length = 0;
  }
}

export class EngineMetrics {
  private running = 0;
  private readonly samples: Counter;
  private readonly innerEval: SummaryChild;
  private readonly prepareTime: SummaryChild;
  private readonly queueTime: SummaryChild;
  private readonly resultSort: SummaryChild;
  private readonly now: () => number;

  constructor(registry: Registry, maxConcurrency: number, now: () => number = Date.now) {
    const registers = [registry];
    this.now = now;
    // Read when scraped: a plain count per query instead of a gauge update.
    const running: Gauge = new Gauge({
      name: 'prometheus_engine_queries',
      help: 'The current number of queries being executed or waiting.',
      registers,
      collect: () => running.set(this.running),
    });
    new Gauge({
      name: 'prometheus_engine_queries_concurrent_max',
      help: 'The max number of concurrent queries.',
      registers,
    }).set(maxConcurrency);
    // Prometheus's default objectives, over 10 minutes in 5 age buckets; every slice is shown from the start, as Prometheus shows them.
    const duration = new WindowedSummary({
      name: 'prometheus_engine_query_duration_seconds',
      help: 'Query timings',
      labelNames: ['slice'],
      maxAgeSeconds: 600,
      ageBuckets: 5,
      registers,
      now,
    });
    this.innerEval = duration.child({ slice: 'inner_eval' });
    this.prepareTime = duration.child({ slice: 'prepare_time' });
    this.queueTime = duration.child({ slice: 'queue_time' });
    this.resultSort = duration.child({ slice: 'result_sort' });
    this.samples = new Counter({
      name: 'prometheus_engine_query_samples_total',
      help: 'The total number of samples loaded by all queries.',
      registers,
    });
  }

  queryStarted(): void {
    this.running++;
  }

  queryFinished(): void {
    this.running--;
  }

  /** The engine's per-query hook: timings into the summary, as Prometheus slices them. */
  observe(rec: QueryLogRecord): void {
    const t = rec.stats.timings;
    const now = this.now();
    this.innerEval.observe(t.innerEvalTime, now);
    this.prepareTime.observe(t.queryPreparationTime, now);
    this.queueTime.observe(t.execQueueTime, now);
    this.resultSort.observe(t.resultSortTime, now);
    this.samples.inc(rec.stats.samples.totalQueryableSamples);
  }
}

/** The engine's query memory accounting (--query.max-memory, --query.max-total-memory), read when scraped. */
export function registerQueryMemoryMetrics(registry: Registry, tracker: QueryMemoryTracker): void {
  const registers = [registry];
  new Gauge({
    name: 'tsprom_query_memory_bytes',
    help: 'Bytes of memory accounted to the queries running now.',
    registers,
    collect() {
      this.set(tracker.heldBytes);
    },
  });
  new Gauge({
    name: 'tsprom_query_memory_peak_bytes',
    help: 'The most bytes of memory a single query held since start.',
    registers,
    collect() {
      this.set(tracker.peakQueryBytes);
    },
  });
  new Gauge({ name: 'tsprom_query_memory_limit_bytes', help: 'The most memory a single query may hold (--query.max-memory); 0 means no limit.', registers }).set(tracker.perQueryBytes);
  new Gauge({
    name: 'tsprom_query_memory_budget_bytes',
    help: 'The memory all running queries may hold before new queries wait (--query.max-total-memory); 0 means no limit.',
    registers,
  }).set(tracker.totalBytes);
  let counted = 0;
  const exceeded: Counter = new Counter({
    name: 'tsprom_query_memory_limit_exceeded_total',
    help: 'Queries stopped because they would have held more memory than --query.max-memory.',
    registers,
    collect: () => {
      exceeded.inc(tracker.limitExceeded - counted);
      counted = tracker.limitExceeded;
    },
  });
}

export class ReloadMetrics {
  private readonly successful: Gauge;
  private readonly timestamp: Gauge;

  constructor(registry: Registry) {
    this.successful = new Gauge({
      name: 'prometheus_config_last_reload_successful',
      help: 'Whether the last configuration reload attempt was successful.',
      registers: [registry],
    });
    this.timestamp = new Gauge({
      name: 'prometheus_config_last_reload_success_timestamp_seconds',
      help: 'Timestamp of the last successful configuration reload.',
      registers: [registry],
    });
  }

  succeeded(nowMs: number): void {
    this.successful.set(1);
    this.timestamp.set(nowMs / 1000);
  }

  failed(): void {
    this.successful.set(0);
  }
}

/** `prometheus_ready`: 1 once storage is open and the server serves queries. */
export function readyGauge(registry: Registry): Gauge {
  return new Gauge({ name: 'prometheus_ready', help: 'Whether Prometheus startup was fully completed and the server is ready for normal operation.', registers: [registry] });
}
