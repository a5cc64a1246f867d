// The query log's worker thread: encodes the batches of records the main thread sends and writes
// them to the file, so neither the encoding nor the file writes take time from query evaluation.
// What happens to the lines (bytes written, lines dropped, failed file operations) is relayed back to
// the main thread, which owns the metrics and the logger.
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { DROP_REASONS } from '../logging/json_log.js';
import { QueryRecords } from './lines.js';
import type { FailureReport, FromWorker, ToWorker, WorkerSettings } from './thread.js';
import { QueryLogWriter } from './writer.js';
import type { DropReason, SinkEvents, SinkOp } from '../logging/sink.js';

/** Often enough that the metrics lag by at most this; rarely enough to cost nothing under load. */
const STATS_INTERVAL_MS = 250;
/** Failed operations sent with their error per message; the rest are only counted. */
const MAX_FAILURES_SENT = 10;

const port = parentPort;
if (port === null) throw new Error('querylog/worker.js runs as a worker thread');

function post(m: FromWorker): void {
  port!.postMessage(m);
}

/** Adds up what the sink reports and sends it in one message per interval. */
class Relay implements SinkEvents {
  private bytes = 0;
  private readonly drops: Record<DropReason, number> = { buffer_full: 0, write_error: 0, closed: 0, disk_low: 0 };
  /** Failed operations: all are counted, the first few are sent with their errors. */
  private failureCount = 0;
  private failures: FailureReport[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** The buffered bytes last sent, so a change alone is worth a message. */
  private lastBuffered = 0;
  writer: QueryLogWriter | null = null;

  written(bytes: number): void {
    this.bytes += bytes;
    this.arm();
  }

  dropped(lines: number, reason: DropReason): void {
    this.drops[reason] += lines;
    this.arm();
  }

  failed(op: SinkOp, err: Error): void {
    // A failing disk fails every attempt; the main thread logs once a minute, so a few errors are enough.
    this.failureCount++;
    if (this.failures.length < MAX_FAILURES_SENT) this.failures.push({ op, message: err.message, code: (err as NodeJS.ErrnoException).code });
    this.arm();
  }

  private arm(): void {
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.send();
    }, STATS_INTERVAL_MS);
  }

  /** Sends what has accumulated (and the bytes still buffered), if anything changed. */
  send(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const buffered = this.writer?.bufferedBytes() ?? 0;
    const changed = this.bytes > 0 || DROP_REASONS.some((r) => this.drops[r] > 0) || this.failureCount > 0 || buffered !== this.lastBuffered;
    if (!changed) return;
    post({ op: 'stats', bytes: this.bytes, drops: DROP_REASONS.map((r) => this.drops[r]), failureCount: this.failureCount, failures: this.failures, buffered });
    this.bytes = 0;
    for (const r of DROP_REASONS) this.drops[r] = 0;
    this.failureCount = 0;
    this.failures = [];
    this.lastBuffered = buffered;
    // While lines wait for the disk, keep the gauge current.
    if (buffered > 0) this.arm();
  }
}

const settings = workerData as WorkerSettings;
/** Records and bytes taken in, for the main thread's bound on batches in flight. */
const taken = new Int32Array(settings.progress);
const relay = new Relay();
const writer = new QueryLogWriter(relay, settings);
relay.writer = writer;

async function handle(m: ToWorker): Promise<void> {
  switch (m.op) {
    case 'configure':
      try {
        writer.configure(m.path, { maxSizeBytes: m.maxSizeBytes, maxFiles: m.maxFiles });
      } catch (e) {
        // The main thread opened the file just before; failing here is a race (a directory removed).
        relay.failed('open', e instanceof Error ? e : new Error(String(e)));
      }
      return;
    case 'batch':
      writer.write(QueryRecords.fromBatch(m.batch));
      Atomics.add(taken, 0, m.batch.count);
      Atomics.add(taken, 1, m.batch.bytes);
      if (m.flush) writer.flush();
      return;
    case 'reopen':
      writer.reopen();
      return;
    case 'recent':
      post({ op: 'reply', id: m.id, lines: writer.recent(m.limit) });
      return;
    case 'idle':
      await writer.idle();
      relay.send();
      post({ op: 'reply', id: m.id });
      return;
    case 'stats':
      relay.send();
      post({ op: 'reply', id: m.id });
      return;
    case 'heap':
      // Collected first when the process runs with --expose-gc (the worker inherits it), as benchmarks do.
      (globalThis as { gc?: () => void }).gc?.();
      post({ op: 'reply', id: m.id, heapBytes: getHeapStatistics().used_heap_size });
      return;
    case 'close':
      await writer.close();
      relay.send();
      post({ op: 'reply', id: m.id });
      return;
  }
}

port.on('message', (m: ToWorker) => {
  handle(m).catch((e: unknown) => {
    relay.failed('write', e instanceof Error ? e : new Error(String(e)));
    if ('id' in m) post({ op: 'reply', id: m.id });
  });
});
