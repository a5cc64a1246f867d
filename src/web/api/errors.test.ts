import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queryExecError, statusForError, statusForErrorType, toApiError } from './errors.js';
import { ApiError } from './types.js';
import { ParseError } from '../../promql/parser/errors.js';
import { EvalError, QueryCanceledError, QueryQueueFullError, QueryTimeoutError } from '../../promql/engine/errors.js';
import { StorageError } from '../../storage/interface.js';

test('each error type has Prometheus status code', () => {
  const want = { bad_data: 400, execution: 422, canceled: 499, timeout: 503, not_found: 404, not_acceptable: 406, internal: 500, unavailable: 500 } as const;
  for (const [t, code] of Object.entries(want)) assert.equal(statusForErrorType(t as keyof typeof want), code, t);
  assert.equal(statusForError(new ApiError('unavailable', 'x', 503)), 503);
  assert.equal(statusForError(new ApiError('bad_data', 'x')), 400);
});

test('handler errors map to error types; unknown ones are internal', () => {
  const kinds: Array<[unknown, string]> = [
    [new ApiError('not_found', 'gone'), 'not_found'],
    [new ParseError('bad', { start: 0, end: 1 }, 'x'), 'bad_data'],
    [new QueryTimeoutError('query execution'), 'timeout'],
    [new QueryCanceledError('query execution'), 'canceled'],
    [new QueryQueueFullError(), 'unavailable'],
    [new EvalError('boom'), 'execution'],
    [new StorageError('disk'), 'internal'],
    [new Error('other'), 'internal'],
    ['a string', 'internal'],
  ];
  for (const [e, t] of kinds) assert.equal(toApiError(e).errorType, t, String(e));
  assert.equal(toApiError(new QueryQueueFullError()).status, 503);
  assert.equal(toApiError('a string').message, 'a string');
});

test('query errors: anything unknown is an execution error', () => {
  assert.equal(queryExecError(new Error('other')).errorType, 'execution');
  assert.equal(queryExecError('x').errorType, 'execution');
  assert.equal(queryExecError(new StorageError('disk')).errorType, 'internal');
  assert.equal(queryExecError(new QueryCanceledError('query execution')).errorType, 'canceled');
});
