// The scrape failure log: one JSON line per failed scrape, as Prometheus 3.x writes to
// scrape_failure_log_file ({"time","level":"ERROR","msg":<error>,"target":<url>}), plus the scrape pool.
import { Registry } from 'prom-client';
import { JsonLogFiles, JsonLogMetrics, type JsonLogFileOptions } from '../logging/json_log.js';
import { formatJSONTime } from '../logging/time_fmt.js';

export interface ScrapeFailure {
  /** The effective scrape_failure_log_file of the target's scrape config. */
  file: string;
  /** The target's URL. */
  target: string;
  scrapePool: string;
  error: string;
}

export function formatScrapeFailureLine(f: Omit<ScrapeFailure, 'file'>, nowMs: number): string {
  return (
    '{"time":"' + formatJSONTime(nowMs) + '","level":"ERROR","msg":' + JSON.stringify(f.error) +
    ',"target":' + JSON.stringify(f.target) + ',"scrape_pool":' + JSON.stringify(f.scrapePool) + '}\n'
  );
}

export class ScrapeFailureLog {
  private readonly files: JsonLogFiles;
  private readonly now: () => number;

  constructor(opts: JsonLogFileOptions = {}) {
    const metrics = new JsonLogMetrics(
      {
        what: 'scrape failure log',
        failures: 'tsprom_scrape_failure_log_failures_total',
        bytesWritten: 'tsprom_scrape_failure_log_bytes_written_total',
        dropped: 'tsprom_scrape_failure_log_dropped_total',
        buffered: 'tsprom_scrape_failure_log_buffered_bytes',
      },
      { ...opts, registry: opts.registry ?? new Registry() },
    );
    this.files = new JsonLogFiles(metrics, opts);
    metrics.bufferedBytes = () => this.files.bufferedBytes();
    this.now = opts.now ?? Date.now;
  }

  /**
   * Opens every distinct non-empty path (the global setting and each scrape config's own), reopens
   * those already open (config reload) and closes the rest. Throws LogFileOpenError, changing nothing,
   * when one cannot be opened.
   */
  configure(cfg: { files: Iterable<string> }): void {
    const wanted = new Map<string, { maxSizeBytes: number; maxFiles: number }>();
    for (const f of cfg.files) if (f !== '') wanted.set(f, { maxSizeBytes: 0, maxFiles: 0 });
    this.files.configure(wanted);
  }

  /** The paths open now. */
  paths(): string[] {
    return this.files.paths();
  }

  /** Records one failed scrape; ignored when its file is not configured. Never throws, never waits. */
  readonly log = (f: ScrapeFailure): void => {
    const sink = this.files.get(f.file);
    if (sink === undefined) return;
    sink.push(formatScrapeFailureLine(f, this.now()));
  };

  /** Reopens every file by name (SIGHUP). */
  reopen(): void {
    this.files.reopen();
  }

  idle(): Promise<void> {
    return this.files.idle();
  }

  async close(): Promise<void> {
    await this.files.close();
  }
}
