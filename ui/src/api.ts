// Talking to the server: the base path from index.html, and the API v1 envelope.

/** The external URL's path ('' or '/prefix'), written into index.html by the server. */
export const PREFIX: string = document.querySelector<HTMLMetaElement>('meta[name="tsprom-prefix"]')?.content ?? '';

/** An API answer that was an error envelope, or not JSON at all. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly errorType: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiResponse<T> {
  data: T;
  warnings: string[];
  infos: string[];
}

/**
 * GET /api/v1/<path>?params; resolves with data, warnings and infos, rejects
 * with ApiError. `arrivedMark` names a performance mark set when the whole
 * body has arrived, before parsing (the UI benchmark splits time there).
 */
export async function apiGet<T>(path: string, params: Record<string, string> = {}, signal?: AbortSignal, arrivedMark?: string): Promise<ApiResponse<T>> {
  const qs = new URLSearchParams(params).toString();
  const url = `${PREFIX}/api/v1/${path}${qs === '' ? '' : `?${qs}`}`;
  const res = await fetch(url, { signal, headers: { Accept: 'application/json' } });
  const text = await res.text();
  if (arrivedMark !== undefined) performance.mark(arrivedMark);
  let body: { status?: string; data?: T; error?: string; errorType?: string; warnings?: string[]; infos?: string[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new ApiError(`HTTP ${res.status}: ${text.slice(0, 200)}`, 'http', res.status);
  }
  if (body.status !== 'success') throw new ApiError(body.error ?? `HTTP ${res.status}`, body.errorType ?? 'unknown', res.status);
  return { data: body.data as T, warnings: body.warnings ?? [], infos: body.infos ?? [] };
}
