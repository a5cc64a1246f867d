// POST /api/v1/write, the remote-write receiver (--web.enable-remote-write-receiver).
// It answers in remote write's own plain-text form, not the API's JSON envelope,
// so the server mounts it as a raw route with the remote-write body limit.
import type { RemoteWriteHandler, RemoteWriteResponse } from '../../remote/write_handler.js';

/** Node's message for a write the file system refused for lack of space starts with its errno name. */
const DISK_FULL_RE = /\bENOSPC\b/;
const DISK_FULL_TEXT = 'remote write not stored: the disk holding the data directory is full; nothing of this request was kept, retry once space is freed';

export class RemoteWriteApi {
  constructor(
    private readonly receiver: RemoteWriteHandler,
    private readonly enabled: boolean,
  ) {}

  async write(headers: Readonly<Record<string, string | string[] | undefined>>, body: Buffer): Promise<RemoteWriteResponse> {
    if (!this.enabled) {
      return {
        status: 404,
        body: 'remote write receiver needs to be enabled with --web.enable-remote-write-receiver\n',
        headers: { 'Content-Type': 'text/plain; charset=utf-8' },
      };
    }
    const r = await this.receiver.handleAsync(headers, body);
    // A full disk is passing (space returns, retention frees some): say so, with a status senders retry.
    if (r.status === 500 && DISK_FULL_RE.test(r.body)) {
      return { status: 503, body: `${DISK_FULL_TEXT} (${r.body.trim()})\n`, headers: r.headers };
    }
    return { status: r.status, body: r.body, headers: r.headers };
  }
}
