// Contract between the HTTP server (web/) and the API endpoints (web/api): the
// request an endpoint sees, the answer it gives, and its typed error.

/** Prometheus's API error types; errors.ts maps each to its HTTP status in one place. */
export type ApiErrorType =
  | 'bad_data'
  | 'execution'
  | 'timeout'
  | 'canceled'
  | 'internal'
  | 'unavailable'
  | 'not_found'
  | 'not_acceptable';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly errorType: ApiErrorType,
    message: string,
    /** Overrides the status derived from errorType. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface ApiContext {
  method: string;
  url: URL;
  /** Url-encoded form parameters from a POST, PUT or PATCH body, then query-string parameters: body values win, as in Go's r.FormValue. */
  params: URLSearchParams;
  /** Path parameters, e.g. `name` in /api/v1/label/:name/values. */
  pathParams: Record<string, string>;
  clientIP: string;
  /** Path as requested (without the route prefix), for logs. */
  path: string;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** Raw request body for endpoints that read one (remote write); empty otherwise. */
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

/** A successful API answer: serialised as {"status":"success","data":...,"warnings":[...],"infos":[...]}. */
export interface ApiResult {
  data: unknown;
  warnings?: string[];
  infos?: string[];
}

export type ApiHandler = (ctx: ApiContext) => Promise<ApiResult> | ApiResult;

export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path under /api/v1, with `:param` segments, e.g. `/status/query_log`. */
  path: string;
  handler: ApiHandler;
}
