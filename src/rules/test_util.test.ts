// Shared helpers for the rules' unit tests (a fake clock, fixtures, readers of
// the written samples). Named *.test.ts so it ships with the tests only; it
// defines no tests itself.
import { Labels } from '../model/labels.js';
import { isStaleNaN } from '../model/value.js';
import { Engine } from '../promql/engine/engine.js';
import { parseMetricSelector } from '../promql/parser/parser.js';
import { parseSeriesDesc } from '../promql/promqltest/series.js';
import { ValueType } from '../storage/interface.js';
import { MemoryStorage } from '../storage/memory.js';
import type { Alert } from './alert.js';
import { nopLogger, type Logger } from '../logging/types.js';
import { Group, type Timers } from './group.js';
import type { Rule } from './rule.js';
import { RuleMetrics } from './rule_metrics.js';
import { RuleManager, type RuleManagerOptions } from './manager.js';

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/** A clock and timers that move only when the test advances them. */
export class FakeClock implements Timers {
  private timers = new Set<FakeTimer>();
  private seq = 0;
  constructor(public t = 0) {}

  readonly now = (): number => this.t;

  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.add(timer);
    return timer;
  }

  clearTimeout(h: unknown): void {
    this.timers.delete(h as FakeTimer);
  }

  pending(): number {
    return this.timers.size;
  }

  /**
   * Moves time forward to `to`, firing due timers in order. After each, it
   * lets the woken work run until it sleeps again (schedules a new timer) or
   * settles.
   */
  async advanceTo(to: number): Promise<void> {
    for (;;) {
      let next: FakeTimer | null = null;
      for (const x of this.timers) if (x.at <= to && (next === null || x.at < next.at || (x.at === next.at && x.seq < next.seq))) next = x;
      if (next === null) break;
      this.timers.delete(next);
      this.t = Math.max(this.t, next.at);
      const before = this.seq;
      next.fn();
      for (let i = 0; i < 10_000 && this.seq === before; i++) await new Promise((r) => setImmediate(r));
    }
    this.t = Math.max(this.t, to);
  }

  advance(ms: number): Promise<void> {
    return this.advanceTo(this.t + ms);
  }
}

/** A storage holding series in the .test notation, one sample per stepMs from 0: `{ 'up{job="a"}': '1 1 0 0' }`. */
export function storage(series: Record<string, string>, stepMs = 60_000): MemoryStorage {
  const db = new MemoryStorage();
  for (const [metric, values] of Object.entries(series)) {
    const desc = parseSeriesDesc(`${metric} ${values}`);
    const app = db.appender();
    desc.values.forEach((v, i) => {
      if (!v.omitted) app.append(0, desc.labels, i * stepMs, v.value);
    });
    app.commit();
  }
  return db;
}

/** Every sample of the series matching a selector: [labels, [t, v | 'stale'][]] sorted by labels. */
export function samples(db: MemoryStorage, selector: string): Array<[string, Array<[number, number | 'stale']>]> {
  const q = db.querier(-Infinity, Infinity);
  const set = q.select(true, null, ...parseMetricSelector(selector));
  const out: Array<[string, Array<[number, number | 'stale']>]> = [];
  while (set.next()) {
    const s = set.at();
    const it = s.iterator();
    const pts: Array<[number, number | 'stale']> = [];
    while (it.next() !== ValueType.None) pts.push([it.t(), isStaleNaN(it.v()) ? 'stale' : it.v()]);
    out.push([s.labels.toString(), pts]);
  }
  return out;
}

export function ls(sel: string): Labels {
  return Labels.fromList(parseMetricSelector(sel).map((m) => ({ name: m.name, value: m.value })));
}

export interface Sent {
  expr: string;
  alerts: readonly Alert[];
}

/** A manager on a MemoryStorage with the real engine, a fake clock and a recording notify. */
export function manager(db: MemoryStorage, clock: FakeClock, o: Partial<RuleManagerOptions> = {}): { m: RuleManager; sent: Sent[]; engine: Engine } {
  const sent: Sent[] = [];
  const engine = new Engine();
  const m = new RuleManager({
    appendable: db,
    queryable: db,
    engine,
    notify: (expr, alerts) => sent.push({ expr, alerts }),
    externalUrl: 'http://prom.example:9090',
    now: clock.now,
    timers: clock,
    ...o,
  });
  return { m, sent, engine };
}

/** A group of the given rules on db, not scheduled: tests call eval(ts). */
export function group(
  db: MemoryStorage,
  rules: Rule[],
  o: {
    intervalMs?: number;
    limit?: number;
    queryOffsetMs?: number | null;
    resendDelayMs?: number;
    forGracePeriodMs?: number;
    outageToleranceMs?: number;
    clock?: FakeClock;
    logger?: Logger;
  } = {},
): { g: Group; sent: Sent[] } {
  const sent: Sent[] = [];
  const clock = o.clock ?? new FakeClock();
  const g = new Group(
    { name: 'g', file: 'f.yml', intervalMs: o.intervalMs ?? 60_000, limit: o.limit ?? 0, queryOffsetMs: o.queryOffsetMs ?? null, rules, shouldRestore: false },
    {
      appendable: db,
      queryable: db,
      engine: new Engine(),
      notify: (expr, alerts) => sent.push({ expr, alerts }),
      logger: o.logger ?? nopLogger,
      metrics: new RuleMetrics(null),
      externalUrl: 'http://prom.example:9090',
      outageToleranceMs: o.outageToleranceMs ?? 3_600_000,
      forGracePeriodMs: o.forGracePeriodMs ?? 600_000,
      resendDelayMs: o.resendDelayMs ?? 60_000,
      defaultQueryOffsetMs: () => 0,
      now: clock.now,
      timers: clock,
    },
  );
  return { g, sent };
}

/** Collects warnings logged through it. */
export function recordingLogger(lines: Array<{ msg: string; fields: Record<string, unknown> }>): Logger {
  const l: Logger = {
    debug() {},
    info() {},
    warn(msg, fields) {
      lines.push({ msg, fields: { ...fields } });
    },
    error(msg, fields) {
      lines.push({ msg, fields: { ...fields } });
    },
    with() {
      return l;
    },
  };
  return l;
}
