// The remote-write sender: one QueueManager per remote_write entry, all
// tailing the same WAL directory. It is the WAL's retention hook: segments a
// queue has not sent stay, up to maxWalRetentionBytes of WAL; past that the
// oldest unsent segments go and their samples are counted as dropped
// (reason wal_retention_exceeded).
//
// Each queue's position is saved in <stateDir>/<name>.json (written to a temp
// file and renamed) every 100 ms while it moves and on stop, so a restart
// resumes there: an outage across a restart loses nothing.
// Reloading keeps queues whose config (and external labels) did not change.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Registry } from 'prom-client';
import type { Config, RemoteWriteConfig } from '../config/types.js';
import type { Labels } from '../model/labels.js';
import type { Logger } from '../logging/types.js';
import { nopLogger } from '../logging/types.js';
import type { WalRetention } from '../tsdb/wal/retention.js';
import { listSegments, segmentName } from '../tsdb/wal/wal.js';
import { HttpClient } from '../httpclient/httpclient.js';
import { OAuth2TokenSource } from './oauth2.js';
import { QueueManager, type SendFn } from './queue_manager.js';
import { RemoteWriteMetrics } from './write_metrics.js';
import type { SampleRecord, WalPosition } from './wal_watcher.js';
import type { MetadataEntry } from './write_encode.js';

export interface RemoteWriteStorageOptions {
  /** The WAL directory the queues tail. */
  walDir: string;
  /** Where queue positions are kept (<data>/remote). */
  stateDir: string;
  registry: Registry;
  logger?: Logger;
  /** Most WAL bytes kept for queues that lag (--storage.remote.max-wal-retention-size); 0 = no cap. */
  maxWalRetentionBytes: number;
  /** How long stop() lets queues send what they hold (--storage.remote.flush-deadline). */
  flushDeadlineMs: number;
  userAgent: string;
  /** The scraped targets' metric metadata (metadata_config.send); none when absent. */
  metadata?: () => readonly MetadataEntry[];
  /** Builds a queue's sender; tests pass fakes. Default: HTTP POST with the queue's client settings. */
  sendFactory?: (cfg: RemoteWriteConfig) => { send: SendFn; close(): void };
  pollIntervalMs?: number;
  shardUpdateIntervalMs?: number;
  /** How often moved positions are saved (ms; default 100): what a crash may send twice. */
  saveIntervalMs?: number;
  /** How often the retention cap is checked (ms; default 10 s). */
  capCheckIntervalMs?: number;
  now?: () => number;
}

interface Running {
  qm: QueueManager;
  key: string;
  close(): void;
}

const DEFAULT_SAVE_MS = 100;
const DEFAULT_CAP_CHECK_MS = 10_000;

export class RemoteWriteStorage implements WalRetention {
  private readonly opts: RemoteWriteStorageOptions;
  private readonly logger: Logger;
  private readonly metrics: RemoteWriteMetrics;
  private readonly queues = new Map<string, Running>();
  /** Positions from the state files, for remotes not (yet) running. */
  private readonly saved = new Map<string, WalPosition>();
  /** Positions changed since they were last written. */
  private readonly dirty = new Map<string, WalPosition>();
  private timer: NodeJS.Timeout | null = null;
  private capTimer: NodeJS.Timeout | null = null;
  /** The furthest record any queue has read: samples_in counts each record once. */
  private inHigh: WalPosition = { segment: -1, offset: -1 };
  private highestIn = 0;
  private applying: Promise<void> = Promise.resolve();

  constructor(opts: RemoteWriteStorageOptions) {
    this.opts = opts;
    this.logger = (opts.logger ?? nopLogger).with({ component: 'remote' });
    this.metrics = new RemoteWriteMetrics(opts.registry);
    this.loadState();
    this.timer = setInterval(() => this.save(), opts.saveIntervalMs ?? DEFAULT_SAVE_MS);
    this.timer.unref();
    this.capTimer = setInterval(() => this.checkCap(), opts.capCheckIntervalMs ?? DEFAULT_CAP_CHECK_MS);
    this.capTimer.unref();
  }

  private stateFile(name: string): string {
    return path.join(this.opts.stateDir, `${encodeURIComponent(name)}.json`);
  }

  private loadState(): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.opts.stateDir);
    } catch {
      return;
    }
    for (const f of names) {
      if (!f.endsWith('.json')) continue;
      try {
        const j = JSON.parse(fs.readFileSync(path.join(this.opts.stateDir, f), 'utf8')) as { segment?: unknown; offset?: unknown };
        if (typeof j.segment === 'number' && typeof j.offset === 'number') this.saved.set(decodeURIComponent(f.slice(0, -5)), { segment: j.segment, offset: j.offset });
      } catch (e) {
        this.logger.warn('Ignoring an unreadable remote-write position file', { file: f, err: String(e) });
      }
    }
  }

  private writeState(name: string, pos: WalPosition): void {
    const file = this.stateFile(name);
    const tmp = file + '.tmp';
    try {
      fs.mkdirSync(this.opts.stateDir, { recursive: true });
      fs.writeFileSync(tmp, JSON.stringify({ segment: pos.segment, offset: pos.offset }) + '\n');
      fs.renameSync(tmp, file);
      this.saved.set(name, pos);
    } catch (e) {
      this.logger.error('Cannot save the remote-write position', { remote_name: name, err: String(e) });
    }
  }

  private save(): void {
    for (const [name, pos] of this.dirty) this.writeState(name, pos);
    this.dirty.clear();
  }

  /** Starts, keeps or stops queues to match cfg.remoteWrite; resolves once removed queues stopped. */
  applyConfig(cfg: Config): Promise<void> {
    const run = this.applying.then(() => this.doApply(cfg));
    this.applying = run.catch(() => undefined);
    return run;
  }

  private async doApply(cfg: Config): Promise<void> {
    const ext = cfg.global.externalLabels;
    const want = new Map<string, { rw: RemoteWriteConfig; key: string }>();
    for (const rw of cfg.remoteWrite) want.set(rw.name, { rw, key: JSON.stringify([rw, ext.key()]) });
    const stops: Promise<void>[] = [];
    for (const [name, q] of this.queues) {
      if (want.get(name)?.key === q.key) continue;
      // While it flushes, its position keeps binding the WAL.
      if (!this.saved.has(name)) this.saved.set(name, q.qm.position());
      this.queues.delete(name);
      stops.push(this.stopQueue(name, q));
    }
    await Promise.all(stops);
    for (const [name, { rw, key }] of want) {
      if (this.queues.has(name)) continue;
      this.queues.set(name, this.startQueue(rw, key, ext));
    }
    // State of remotes no longer configured goes: re-adding one later starts afresh, as in Prometheus.
    for (const name of [...this.saved.keys()]) {
      if (want.has(name)) continue;
      this.saved.delete(name);
      fs.rmSync(this.stateFile(name), { force: true });
    }
  }

  private startQueue(rw: RemoteWriteConfig, key: string, ext: Labels): Running {
    this.warnUnsupported(rw);
    const sender = (this.opts.sendFactory ?? ((c: RemoteWriteConfig) => httpSender(c, this.opts.userAgent)))(rw);
    const start = this.saved.get(rw.name) ?? null;
    const qm = new QueueManager({
      cfg: rw,
      externalLabels: ext,
      walDir: this.opts.walDir,
      start,
      send: sender.send,
      metrics: this.metrics,
      logger: this.opts.logger,
      userAgent: this.opts.userAgent,
      now: this.opts.now,
      pollIntervalMs: this.opts.pollIntervalMs,
      shardUpdateIntervalMs: this.opts.shardUpdateIntervalMs,
      metadata: this.opts.metadata,
      onProgress: (pos) => this.dirty.set(rw.name, pos),
      onRead: (pos, rec) => this.countIn(pos, rec),
    });
    this.logger.info('Starting remote-write queue', { remote_name: rw.name, url: rw.url, resumeFrom: start });
    qm.start();
    // A new queue's starting point is saved at once, so the WAL it needs is kept from now on.
    if (start === null) this.dirty.set(rw.name, qm.position());
    return { qm, key, close: sender.close };
  }

  private async stopQueue(name: string, q: Running): Promise<void> {
    await q.qm.stop(this.opts.flushDeadlineMs);
    q.close();
    this.writeState(name, q.qm.position());
    this.dirty.delete(name);
  }

  /** Keys tsprom accepts but cannot act on are named in the log, never ignored silently. */
  private warnUnsupported(rw: RemoteWriteConfig): void {
    const ignored: string[] = [];
    if (rw.metadataConfig.send && (rw.protobufMessage !== 'prometheus.WriteRequest' || this.opts.metadata === undefined)) {
      ignored.push('metadata_config.send (metadata goes with remote write 1.0 from scraped targets only)');
    }
    const h = rw.httpClient;
    if (h.enableHttp2) ignored.push('enable_http2 (requests use HTTP/1.1)');
    if (ignored.length > 0) this.logger.warn('remote_write settings accepted but not acted on', { remote_name: rw.name, settings: ignored.join('; ') });
  }

  private countIn(pos: WalPosition, rec: SampleRecord): void {
    const h = this.inHigh;
    if (pos.segment < h.segment || (pos.segment === h.segment && pos.offset <= h.offset)) return;
    this.inHigh = pos;
    if (rec.exN > 0) this.metrics.exemplarsIn.inc(rec.exN);
    if (rec.hN > 0) this.metrics.histogramsIn.inc(rec.hN);
    this.metrics.samplesIn.inc(rec.n);
    let maxT = -Infinity;
    for (let i = 0; i < rec.n; i++) if (rec.ts[i]! > maxT) maxT = rec.ts[i]!;
    for (let i = 0; i < rec.hN; i++) if (rec.hTs[i]! > maxT) maxT = rec.hTs[i]!;
    if (maxT > this.highestIn) {
      this.highestIn = maxT;
      this.metrics.highestTimestampIn.set(maxT / 1000);
    }
  }

  /** The queues (for tests and the status of the sender). */
  queue(name: string): QueueManager | undefined {
    return this.queues.get(name)?.qm;
  }

  // ---------------------------------------------------------------------
  // WAL retention
  // ---------------------------------------------------------------------

  /** The lowest segment whose data a queue still needs, raised past what the cap allows. */
  lowestNeededSegment(): number | null {
    let lowest: number | null = null;
    // Saved positions lag the queues' own, so they never free too much; they also cover queues being
    // stopped or replaced (a reload, the shutdown flush) and, before the config is applied, queues not started yet.
    const positions = [...this.saved.values()];
    for (const [n, q] of this.queues) if (!this.saved.has(n)) positions.push(q.qm.position());
    for (const p of positions) if (lowest === null || p.segment < lowest) lowest = p.segment;
    if (lowest === null) return null;
    return Math.max(lowest, this.capSegment());
  }

  /** The lowest segment the retention cap keeps: the newest segments adding up to at most the cap (at least the newest). */
  private capSegment(): number {
    const cap = this.opts.maxWalRetentionBytes;
    if (cap <= 0) return -1;
    const segs = listSegments(this.opts.walDir);
    let total = 0;
    for (let i = segs.length - 1; i >= 0; i--) {
      const s = segs[i]!;
      total += fileSize(path.join(this.opts.walDir, segmentName(s)));
      if (total > cap && i < segs.length - 1) return segs[i + 1]!;
    }
    return -1;
  }

  /** Queues behind the cap drop (and count) what they read below it. */
  private checkCap(): void {
    if (this.queues.size === 0) return;
    const capSeg = this.capSegment();
    for (const [name, q] of this.queues) {
      if (capSeg <= q.qm.dropBelowSegment) continue;
      if (q.qm.position().segment < capSeg) {
        this.logger.warn('Remote-write queue is behind the WAL retention cap; dropping its oldest unsent samples', { remote_name: name, belowSegment: capSeg });
        q.qm.dropBelowSegment = capSeg;
      }
    }
  }

  /** Stops every queue (each may send what it holds for the flush deadline) and saves positions. */
  async stop(): Promise<void> {
    await this.applying;
    if (this.timer !== null) clearInterval(this.timer);
    if (this.capTimer !== null) clearInterval(this.capTimer);
    this.timer = null;
    this.capTimer = null;
    const all = [...this.queues];
    // The positions bind the WAL until the process ends, also while the queues flush.
    for (const [name, q] of all) if (!this.saved.has(name)) this.saved.set(name, q.qm.position());
    this.queues.clear();
    await Promise.all(all.map(([name, q]) => this.stopQueue(name, q)));
  }
}

function fileSize(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}

/** POSTs with the remote's client settings (auth, TLS, headers, timeout), OAuth 2.0 tokens when configured. */
function httpSender(cfg: RemoteWriteConfig, userAgent: string): { send: SendFn; close(): void } {
  const client = new HttpClient(cfg.httpClient);
  const oauth = cfg.oauth2 !== null ? new OAuth2TokenSource(cfg.oauth2, userAgent) : null;
  const send: SendFn = async (body, headers, signal) => {
    const h = oauth !== null ? { ...headers, authorization: await oauth.header(signal) } : headers;
    const res = await client.post(cfg.url, body, { headers: h, timeoutMs: cfg.remoteTimeoutMs, signal });
    const ra = res.headers['retry-after'];
    return { status: res.status, retryAfter: Array.isArray(ra) ? ra[0] : ra, body: res.body.subarray(0, 1024).toString('utf8') };
  };
  return {
    send,
    close: () => {
      client.close();
      oauth?.close();
    },
  };
}
