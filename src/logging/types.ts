// The logger contract every module accepts. Implementations live in logger.ts.

export type LogFields = Readonly<Record<string, unknown>>;

/** Levels as Prometheus's --log.level accepts them. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Line formats as Prometheus's --log.format accepts them. */
export type LogFormat = 'logfmt' | 'json';

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A new logger that adds these fields to every line; the receiver is never changed. */
  with(fields: LogFields): Logger;
}

/** Discards everything; the default where no logger is given. */
export const nopLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
  with() {
    return nopLogger;
  },
});
