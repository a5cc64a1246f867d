// POST /api/v1/otlp/v1/metrics, the OTLP receiver (--web.enable-otlp-receiver).
// It answers in OTLP/HTTP's own form (a protobuf or JSON
// ExportMetricsServiceResponse, plain-text errors as Prometheus writes them),
// so the server mounts it as a raw route with its own body limit.
import type { OtlpReceiver, OtlpResponse } from '../../remote/otlp/handler.js';

/** Node's message for a write the file system refused for lack of space starts with its errno name. */
const DISK_FULL_RE = /\bENOSPC\b/;
const DISK_FULL_TEXT = 'OTLP write not stored: the disk holding the data directory is full; nothing of this request was kept, retry once space is freed';

export class OtlpApi {
  constructor(
    private readonly receiver: OtlpReceiver,
    private readonly enabled: boolean,
  ) {}

  write(headers: Readonly<Record<string, string | string[] | undefined>>, body: Buffer): OtlpResponse {
    if (!this.enabled) {
      return {
        status: 404,
        body: 'otlp write receiver needs to be enabled with --web.enable-otlp-receiver\n',
        headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' },
      };
    }
    const r = this.receiver.handle(headers, body);
    // A full disk is passing: say so, with a status OTLP senders retry (503).
    if (r.status === 500 && DISK_FULL_RE.test(String(r.body))) {
      return { status: 503, body: `${DISK_FULL_TEXT} (${String(r.body).trim()})\n`, headers: r.headers };
    }
    return r;
  }
}
