// POST /api/v1/read, the remote read server. Like remote write it answers in
// its own protocol (snappy protobuf, a framed stream, or Go's plain-text
// errors), not the API's JSON envelope, so the server mounts it as a raw
// route with the remote-read body limit and without response compression.
import type { ReadHandlerResponse, RemoteReadHandler } from '../../remote/read_handler.js';

export { MAX_READ_REQUEST_BYTES } from '../../remote/read_handler.js';

export class RemoteReadApi {
  constructor(private readonly handler: RemoteReadHandler) {}

  read(body: Buffer): Promise<ReadHandlerResponse & { compressible: false }> {
    return this.handler.handle(body).then((r) => ({ ...r, compressible: false }));
  }
}
