// A logger that writes a given message at most once per interval (for errors that repeat on every
// write or scrape, such as a full disk), counting what it held back.
import type { LogFields, Logger, LogLevel } from './types.js';

export interface ThrottleOptions {
  /** At most one line per distinct (level, msg) in this many ms. */
  intervalMs: number;
  /** Clock in ms; tests pin it. */
  now?: () => number;
  /**
   * Distinct messages remembered. Messages are meant to be fixed strings, so this is rarely reached;
   * past it the oldest is forgotten, which at worst lets that message through early.
   */
  maxKeys?: number;
}

/** 1,000 distinct fixed messages is far more than any module logs, and costs under 100 KB. */
const DEFAULT_MAX_KEYS = 1000;

interface Entry {
  last: number;
  suppressed: number;
}

/** Throttle state, shared by a throttled logger and the loggers derived from it with with(). */
class ThrottleState {
  private readonly seen = new Map<string, Entry>();

  constructor(
    readonly intervalMs: number,
    readonly now: () => number,
    private readonly maxKeys: number,
  ) {}

  /** -1 to hold the line back, else how many lines were held back since the last one written. */
  admit(key: string): number {
    const t = this.now();
    const e = this.seen.get(key);
    if (e !== undefined && t - e.last < this.intervalMs) {
      e.suppressed++;
      return -1;
    }
    const suppressed = e?.suppressed ?? 0;
    if (e !== undefined) {
      e.last = t;
      e.suppressed = 0;
    } else {
      if (this.seen.size >= this.maxKeys) {
        const oldest = this.seen.keys().next().value;
        if (oldest !== undefined) this.seen.delete(oldest);
      }
      this.seen.set(key, { last: t, suppressed: 0 });
    }
    return suppressed;
  }
}

class ThrottledLogger implements Logger {
  constructor(
    private readonly inner: Logger,
    private readonly state: ThrottleState,
  ) {
    Object.freeze(this);
  }

  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }

  with(fields: LogFields): Logger {
    return new ThrottledLogger(this.inner.with(fields), this.state);
  }

  private log(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    const suppressed = this.state.admit(level + '\u0000' + msg);
    if (suppressed < 0) return;
    this.inner[level](msg, suppressed > 0 ? { ...fields, suppressed } : fields);
  }
}

/**
 * Wraps `logger` so each distinct message (per level) is written at most once per interval; the next
 * line written after a quiet spell carries `suppressed=N`. Derived loggers share the budget.
 */
export function throttledLogger(logger: Logger, opts: ThrottleOptions): Logger {
  return new ThrottledLogger(logger, new ThrottleState(opts.intervalMs, opts.now ?? Date.now, opts.maxKeys ?? DEFAULT_MAX_KEYS));
}
