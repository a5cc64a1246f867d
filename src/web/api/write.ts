// POST /api/v1/write, the remote-write receiver (--web.enable-remote-write-receiver).
// It answers in remote write's own plain-text form, not the API's JSON envelope,
// so the server mounts it as a raw route with the remote-write body limit.
import type { RemoteWriteHandler, RemoteWriteResponse } from '../../remote/write_handler.js';

export class RemoteWriteApi {
  constructor(
    private readonly receiver: RemoteWriteHandler,
    private readonly enabled: boolean,
  ) {}

  write(headers: Readonly<Record<string, string | string[] | undefined>>, body: Buffer): RemoteWriteResponse {
    if (!this.enabled) {
      return {
        status: 404,
        body: 'remote write receiver needs to be enabled with --web.enable-remote-write-receiver\n',
        headers: { 'Content-Type': 'text/plain; charset=utf-8' },
      };
    }
    const r = this.receiver.handle(headers, body);
    return { status: r.status, body: r.body, headers: r.headers };
  }
}
