// Error mapping in one place: typed errors from the parser, engine and storage
// become Prometheus's API error types, and each type its HTTP status.
import { ApiError, type ApiErrorType } from './types.js';
import { ParseError } from '../../promql/parser/errors.js';
import { EvalError, QueryCanceledError, QueryQueueFullError, QueryTimeoutError } from '../../promql/engine/errors.js';
import { StorageError } from '../../storage/interface.js';

/** Prometheus's HTTP status for each API error type (web/api/v1 getDefaultErrorCode). */
export function statusForErrorType(t: ApiErrorType): number {
  switch (t) {
    case 'bad_data':
      return 400;
    case 'execution':
      return 422;
    case 'canceled':
      // nginx's "client closed request", as Prometheus answers a canceled query.
      return 499;
    case 'timeout':
      return 503;
    case 'not_found':
      return 404;
    case 'not_acceptable':
      return 406;
    default:
      return 500;
  }
}

/** The HTTP status of an API error: its own override, else its type's. */
export function statusForError(err: ApiError): number {
  return err.status ?? statusForErrorType(err.errorType);
}

/** Maps any error thrown by an API handler to Prometheus's errorType; unknown errors are internal. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof ParseError) return new ApiError('bad_data', e.message);
  if (e instanceof QueryTimeoutError) return new ApiError('timeout', e.message);
  if (e instanceof QueryCanceledError) return new ApiError('canceled', e.message);
  if (e instanceof QueryQueueFullError) return new ApiError('unavailable', e.message, 503);
  if (e instanceof EvalError) return new ApiError('execution', e.message);
  if (e instanceof StorageError) return new ApiError('internal', e.message);
  return new ApiError('internal', e instanceof Error ? e.message : String(e));
}

/**
 * Maps an error from running a query or reading series (api.go returnAPIError):
 * unlike toApiError, any other error is an execution error.
 */
export function queryExecError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof QueryCanceledError) return new ApiError('canceled', e.message);
  if (e instanceof QueryTimeoutError) return new ApiError('timeout', e.message);
  if (e instanceof StorageError) return new ApiError('internal', e.message);
  if (e instanceof EvalError || e instanceof Error) return new ApiError('execution', e.message);
  return new ApiError('execution', String(e));
}

/** An endpoint's failure of a known kind, worded `<context>: <cause>` when context is given. */
export function apiErrorOf(type: ApiErrorType, e: unknown, context?: string): ApiError {
  const msg = (e as Error).message;
  return new ApiError(type, context === undefined ? msg : `${context}: ${msg}`);
}
