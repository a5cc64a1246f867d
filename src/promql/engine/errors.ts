// Typed engine errors; web/ maps each class to Prometheus's errorType and status code.

/** Evaluation failed (API errorType "execution", HTTP 422). */
export class EvalError extends Error {
  override name = 'EvalError';
}

/** API errorType "timeout", HTTP 503. */
export class QueryTimeoutError extends Error {
  override name = 'QueryTimeoutError';
  constructor(where: string) {
    super(`query timed out in ${where}`);
  }
}

/** API errorType "canceled", HTTP 422. */
export class QueryCanceledError extends Error {
  override name = 'QueryCanceledError';
  constructor(where: string) {
    super(`query was canceled in ${where}`);
  }
}

/** --query.max-samples exceeded (API errorType "execution", HTTP 422). */
export class TooManySamplesError extends EvalError {
  override name = 'TooManySamplesError';
  constructor() {
    super('query processing would load too many samples into memory in query execution');
  }
}

/** The concurrency queue is full. */
export class QueryQueueFullError extends Error {
  override name = 'QueryQueueFullError';
  constructor() {
    super('too many queries waiting to run');
  }
}

/**
 * A native histogram sample reached an operation that does not handle them
 * yet: the query fails rather than reading it as a float or dropping it.
 */
export class HistogramsUnsupportedError extends EvalError {
  override name = 'HistogramsUnsupportedError';
  constructor() {
    super('native histogram samples are not supported in this part of the query yet');
  }
}
