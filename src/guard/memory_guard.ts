// guard/: the server's watch over its own memory and disk. It measures (heap,
// RSS, free space) and decides; it does not know the engine, the rules, the
// query log or the TSDB: cli/server.ts connects its decisions to them through
// callbacks. May import logging/ and config/ (sizes) and the floors below.
//
// This file: the memory guard. Once a second it compares the heap used with
// the heap limit and the RSS with the memory limit, and sheds load in a fixed
// order when the larger share passes a threshold:
//   ok   -> soft (85%): new queries are refused (503), heavy rule groups skip;
//   soft -> hard (95%): every rule group skips.
// Writes (scrapes, remote write) are never refused for memory. It steps back
// by itself: hard -> soft under the soft mark, soft -> ok under the recovery
// mark (80%), so it does not flap around one threshold. It also
// hands memory back: when the heap or the RSS has grown well past its size
// after the last full collection and no query is running, it runs one.
import { getHeapStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { Counter, Gauge, type Registry } from 'prom-client';
import { nopLogger, type Logger } from '../logging/types.js';
import type { MemoryLimit } from './memory_limit.js';

export type MemoryState = 'ok' | 'soft' | 'hard';

const STATE_VALUE: Readonly<Record<MemoryState, number>> = { ok: 0, soft: 1, hard: 2 };

export interface MemorySample {
  heapUsed: number;
  /** Bytes the heap holds from the OS (used + free space V8 keeps). */
  heapTotal: number;
  heapLimit: number;
  rss: number;
}

export interface MemoryGuardOptions {
  limit: MemoryLimit;
  registry: Registry;
  logger?: Logger;
  /** Shares of the limits (0..1). Defaults: soft 0.85, hard 0.95, recover 0.80. */
  softRatio?: number;
  hardRatio?: number;
  recoverRatio?: number;
  /** Bytes added to our RSS: the launcher process, which lives under the same limit. */
  extraRss?: number;
  /** Reads memory; the real one by default. */
  sample?: () => MemorySample;
  /** A full garbage collection; null when none is available. Default: V8's, exposed at runtime. */
  gc?: (() => void) | null;
  /**
   * True while the server is not idle (a query runs, or requests keep the event loop busy): the
   * collection that hands memory back waits for idle. Asked at every check while under the soft limit.
   */
  busy?: () => boolean;
  now?: () => number;
  /** Called on every state change. */
  onStateChange?: (state: MemoryState, prev: MemoryState) => void;
}

/** Sampling period of start(). */
export const MEMORY_CHECK_INTERVAL_MS = 1000;
/** A forced collection runs at most this often. */
const GC_MIN_GAP_MS = 10_000;
/** The heap or the RSS must have grown this much past its size after the last collection before we collect. */
const GC_GROWTH_BYTES = 64 * 2 ** 20;

function realSample(): MemorySample {
  const h = getHeapStatistics();
  return { heapUsed: h.used_heap_size, heapTotal: h.total_heap_size, heapLimit: h.heap_size_limit, rss: process.memoryUsage.rss() };
}

/** V8's full collection without --expose-gc: the flag may be set at runtime and the function taken from a fresh context. */
export function exposeGc(): (() => void) | null {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  try {
    setFlagsFromString('--expose-gc');
    const fn: unknown = runInNewContext('gc');
    return typeof fn === 'function' ? (fn as () => void) : null;
  } catch {
    return null;
  }
}

export class MemoryGuard {
  private stateNow: MemoryState = 'ok';
  private readonly soft: number;
  private readonly hard: number;
  private readonly recover: number;
  private readonly sample: () => MemorySample;
  private readonly gc: (() => void) | null;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly shed: Counter<'what'>;
  private readonly stateGauge: Gauge;
  private lastGcAt = -Infinity;
  /** Heap total and RSS right after our last collection (or at start). */
  private heapAfterGc: number;
  private rssAfterGc: number;
  private timer: NodeJS.Timeout | null = null;
  /** Last sample's share of the tighter limit. */
  private lastShare = 0;

  constructor(private readonly o: MemoryGuardOptions) {
    this.soft = o.softRatio ?? 0.85;
    this.hard = o.hardRatio ?? 0.95;
    this.recover = o.recoverRatio ?? 0.8;
    if (!(this.recover < this.soft && this.soft <= this.hard)) throw new Error('memory guard: want recover < soft <= hard');
    this.sample = o.sample ?? realSample;
    this.gc = o.gc === undefined ? exposeGc() : o.gc;
    this.now = o.now ?? Date.now;
    this.logger = o.logger ?? nopLogger;
    const first = this.sample();
    this.heapAfterGc = first.heapTotal;
    this.rssAfterGc = first.rss;
    const registers = [o.registry];
    new Gauge({ name: 'tsprom_memory_limit_bytes', help: 'The memory limit the server keeps under (--memory.limit, else the cgroup limit, else physical memory).', registers }).set(
      o.limit.bytes,
    );
    new Gauge({ name: 'tsprom_heap_limit_bytes', help: 'The JS heap limit the process runs with.', registers, collect: gaugeOf(() => this.sample().heapLimit) });
    this.stateGauge = new Gauge({ name: 'tsprom_memory_guard_state', help: 'Memory guard: 0 ok, 1 shedding queries and heavy rule groups, 2 shedding all rule evaluation.', registers });
    this.stateGauge.set(0);
    this.shed = new Counter({ name: 'tsprom_memory_shed_total', help: 'Work refused or skipped by the memory guard, by kind.', labelNames: ['what'], registers });
    for (const w of ['query', 'rule_group']) this.shed.labels(w).inc(0);
  }

  get state(): MemoryState {
    return this.stateNow;
  }

  /** Samples memory once and moves between states; start() calls it every second. */
  check(): MemoryState {
    let s = this.sample();
    let share = shareOf(s, this.o.limit.bytes, this.o.extraRss ?? 0);
    if (share >= this.soft && this.stateNow === 'ok' && this.collect('pressure')) {
      // Garbage counts as used until collected: look again before refusing work.
      s = this.sample();
      share = shareOf(s, this.o.limit.bytes, this.o.extraRss ?? 0);
    } else if (share < this.soft && !(this.o.busy?.() ?? false) && this.grown(s)) {
      this.collect('idle');
    }
    this.lastShare = share;
    const prev = this.stateNow;
    let next: MemoryState = prev;
    if (share >= this.hard) next = 'hard';
    else if (share >= this.soft) next = prev === 'hard' ? 'hard' : 'soft';
    else if (share < this.recover) next = 'ok';
    else if (prev === 'hard') next = 'soft';
    if (next !== prev) {
      this.stateNow = next;
      this.stateGauge.set(STATE_VALUE[next]);
      const fields = { share: Math.round(share * 1000) / 1000, heapUsed: s.heapUsed, heapLimit: s.heapLimit, rss: s.rss, limit: this.o.limit.bytes };
      if (next === 'ok') this.logger.info('Memory back under the limit; queries and rule evaluation resume', fields);
      else this.logger.warn(next === 'soft' ? 'Memory near the limit; refusing new queries and pausing heavy rule groups' : 'Memory at the limit; pausing all rule evaluation', fields);
      this.o.onStateChange?.(next, prev);
    }
    return next;
  }

  /** A full collection, at most once per GC_MIN_GAP_MS; false when none ran. */
  private collect(why: string): boolean {
    if (this.gc === null || this.now() - this.lastGcAt < GC_MIN_GAP_MS) return false;
    this.lastGcAt = this.now();
    // Twice: V8 updates its count of memory outside the heap (freed Buffers and typed arrays)
    // only at the collection after the one that freed them.
    this.gc();
    this.gc();
    const s = this.sample();
    this.heapAfterGc = s.heapTotal;
    this.rssAfterGc = s.rss;
    this.logger.debug('Full garbage collection', { reason: why, heapTotal: s.heapTotal, rss: s.rss });
    return true;
  }

  /**
   * The heap, or the memory outside it (Buffers and typed arrays, freed only when their JS owners are
   * collected), grew well past where the last collection left them.
   */
  private grown(s: MemorySample): boolean {
    return s.heapTotal > this.heapAfterGc + GC_GROWTH_BYTES || s.rss > this.rssAfterGc + GC_GROWTH_BYTES;
  }

  /** null when a new query may run; otherwise the refusal's message (and the refusal is counted). */
  admitQuery(): string | null {
    if (this.stateNow === 'ok') return null;
    this.shed.labels('query').inc();
    return `query refused: memory use is at ${Math.round(this.lastShare * 100)}% of the limit (the server sheds load above ${Math.round(this.soft * 100)}%); retry later`;
  }

  /** Whether a rule group whose last evaluation took `lastDurationMs` skips this iteration (counted when it does). */
  skipRuleGroup(lastDurationMs: number, heavyMs: number): boolean {
    const skip = this.stateNow === 'hard' || (this.stateNow === 'soft' && lastDurationMs >= heavyMs);
    if (skip) this.shed.labels('rule_group').inc();
    return skip;
  }

  /** Checks now (so work that starts next already sees the state), then every intervalMs. */
  start(intervalMs = MEMORY_CHECK_INTERVAL_MS): void {
    if (this.timer !== null) return;
    const tick = (): void => {
      try {
        this.check();
      } catch (e) {
        this.logger.error('Memory check failed', { err: String(e) });
      }
    };
    tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

/** The larger of heap used / heap limit and RSS / memory limit. */
function shareOf(s: MemorySample, limit: number, extraRss: number): number {
  return Math.max(s.heapUsed / s.heapLimit, (s.rss + extraRss) / limit);
}

function gaugeOf(read: () => number) {
  return function (this: Gauge) {
    this.set(read());
  };
}
