// logging/: the structured logger every folder takes (types.ts, with immutable children) and the
// JSON-lines file machinery the query log and the scrape failure log build on: file sink with
// rotation (sink.ts, log_fs.ts), per-kind files and metrics (json_log.ts), ring of recent lines,
// byte writer, time formats, throttled errors. It knows nothing of queries or scrapes and may import
// only gofmt/ (querylog/, above promql/, holds the logs themselves).
//
// Structured logger writing Prometheus 3.x style lines (logfmt or JSON).
//
// `with()` builds a new logger holding its bindings already serialised, so the
// receiver is never touched (the Prometheus 3.0.0 query-log leak came from a
// `With()` that changed a shared logger) and each line costs one concatenation.
import type { Writable } from 'node:stream';
import { basename } from 'node:path';
import type { LogFields, LogFormat, Logger, LogLevel } from './types.js';
import { jsonFields, logfmtFields, logfmtString } from './encode.js';
import { formatJSONTime, formatLogfmtTime } from './time_fmt.js';

export interface LoggerOptions {
  /** Lines below this level are discarded. Default 'info'. */
  level?: LogLevel;
  /** Default 'logfmt', as Prometheus's --log.format. */
  format?: LogFormat;
  /** Default process.stderr. */
  stream?: Writable;
  /** Add `source=file:line` of the caller. Costs a stack capture per line, so off by default. */
  addSource?: boolean;
  /** Clock in ms; tests pin it. */
  now?: () => number;
}

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = Object.freeze({ debug: 0, info: 1, warn: 2, error: 3 });
/** slog's level names, which Prometheus 3.x prints. */
const LEVEL_NAME: Readonly<Record<LogLevel, string>> = Object.freeze({ debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' });

/** Shared, frozen per-root settings; loggers derived with with() point at the same core. */
interface Core {
  readonly minRank: number;
  readonly json: boolean;
  readonly stream: Writable;
  readonly addSource: boolean;
  readonly now: () => number;
}

/** `file:line` of the first stack frame above `above`, or '' when it cannot be told. */
function callerSource(above: (...args: never[]) => unknown): string {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 1;
  Error.captureStackTrace(holder, above);
  Error.stackTraceLimit = limit;
  const frame = holder.stack?.split('\n')[1] ?? '';
  const m = /([^\s(]+):(\d+):\d+\)?\s*$/.exec(frame);
  // Both groups are required by the pattern, so a match has them.
  return m ? basename(m[1]!) + ':' + m[2] : '';
}

class LineLogger implements Logger {
  constructor(
    private readonly core: Core,
    /** Serialised bindings: `,"k":v...` (JSON) or ` k=v...` (logfmt). */
    private readonly bound: string,
  ) {
    Object.freeze(this);
  }

  debug(msg: string, fields?: LogFields): void {
    if (this.core.minRank <= 0) this.emit('debug', msg, fields, LineLogger.prototype.debug);
  }

  info(msg: string, fields?: LogFields): void {
    if (this.core.minRank <= 1) this.emit('info', msg, fields, LineLogger.prototype.info);
  }

  warn(msg: string, fields?: LogFields): void {
    if (this.core.minRank <= 2) this.emit('warn', msg, fields, LineLogger.prototype.warn);
  }

  error(msg: string, fields?: LogFields): void {
    if (this.core.minRank <= 3) this.emit('error', msg, fields, LineLogger.prototype.error);
  }

  with(fields: LogFields): Logger {
    const more = this.core.json ? jsonFields(fields) : logfmtFields(fields);
    return more === '' ? this : new LineLogger(this.core, this.bound + more);
  }

  private emit(level: LogLevel, msg: string, fields: LogFields | undefined, method: (...args: never[]) => unknown): void {
    const c = this.core;
    let line: string;
    try {
      const t = c.now();
      const src = c.addSource ? callerSource(method) : '';
      if (c.json) {
        line =
          '{"time":' + JSON.stringify(formatJSONTime(t)) + ',"level":"' + LEVEL_NAME[level] + '"' +
          (src !== '' ? ',"source":' + JSON.stringify(src) : '') +
          ',"msg":' + JSON.stringify(String(msg)) + this.bound + jsonFields(fields) + '}\n';
      } else {
        line =
          'time=' + formatLogfmtTime(t) + ' level=' + LEVEL_NAME[level] +
          (src !== '' ? ' source=' + logfmtString(src) : '') +
          ' msg=' + logfmtString(String(msg)) + this.bound + logfmtFields(fields) + '\n';
      }
      c.stream.write(line);
    } catch {
      // Logging must never break the caller; a broken stream has nowhere better to report to.
    }
  }
}

/** A logger writing one line per call to `stream` (default stderr). */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const core: Core = Object.freeze({
    minRank: LEVEL_RANK[opts.level ?? 'info'],
    json: (opts.format ?? 'logfmt') === 'json',
    stream: opts.stream ?? process.stderr,
    addSource: opts.addSource ?? false,
    now: opts.now ?? Date.now,
  });
  return new LineLogger(core, '');
}
