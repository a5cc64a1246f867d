// The remote write 1.0 receiver: snappy-compressed prometheus.WriteRequest in,
// samples appended in one transaction, Prometheus's status codes out.
//
// All or nothing, as Prometheus does it: a body that does not decode is a 400
// before anything is appended, and a sample the storage rejects (out of order,
// duplicate, too far in the future) rolls the whole request back with a 400
// so the sender does not retry it. Series with invalid labels are skipped and
// counted, also as Prometheus does.
import { Counter, Registry } from 'prom-client';
import { Labels, METRIC_NAME, isValidLabelName } from '../model/labels.js';
import { StorageError, OutOfBoundsError, type Appendable } from '../storage/interface.js';
import { nopLogger, type Logger } from '../logging/types.js';
import { snappyDecode, SnappyError } from './snappy.js';
import { decodeWriteRequest, ProtobufError, type DecodedSeries } from './write_request.js';

/** Prometheus rejects samples more than this far ahead of its clock (storage/remote maxAheadTime). */
const MAX_AHEAD_MS = 10 * 60_000;

/**
 * Bound on a decompressed body. Prometheus senders batch 2,000 samples per
 * request by default (well under 1 MiB); 64 MiB leaves room for very large
 * custom batches while keeping a hostile body from costing more than that.
 */
export const DEFAULT_MAX_DECODED_BYTES = 64 * 1024 * 1024;

const PROTO_CONTENT_TYPE = 'application/x-protobuf';
const V1_MESSAGE = 'prometheus.WriteRequest';

/** Prometheus's wording for a sample past MAX_AHEAD_MS. */
class TooFarInFutureError extends OutOfBoundsError {
  constructor() {
    super();
    this.message = 'out of bounds: timestamp is too far in the future';
  }
}

export interface RemoteWriteOptions {
  storage: Appendable;
  logger?: Logger;
  registry?: Registry;
  maxDecodedBytes?: number;
  /** Clock in ms; tests pin it. */
  now?: () => number;
}

export interface RemoteWriteResponse {
  status: number;
  /** Plain-text body ('' for 204). */
  body: string;
}

export class RemoteWriteHandler {
  private readonly storage: Appendable;
  private readonly logger: Logger;
  private readonly maxDecodedBytes: number;
  private readonly now: () => number;
  private readonly invalidLabels: Counter;
  private readonly samplesIn: Counter;
  private readonly requestsRejected: Counter<'code'>;
  private readonly histogramsDropped: Counter;

  constructor(opts: RemoteWriteOptions) {
    this.storage = opts.storage;
    this.logger = opts.logger ?? nopLogger;
    this.maxDecodedBytes = opts.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES;
    this.now = opts.now ?? Date.now;
    const registers = [opts.registry ?? new Registry()];
    this.invalidLabels = new Counter({
      name: 'prometheus_api_remote_write_invalid_labels_samples_total',
      help: 'The total number of received remote write samples and histogram samples which were rejected due to invalid labels.',
      registers,
    });
    this.samplesIn = new Counter({
      name: 'tsprom_remote_write_received_samples_total',
      help: 'Samples appended to local storage from remote write requests.',
      registers,
    });
    this.histogramsDropped = new Counter({
      name: 'tsprom_remote_write_histograms_dropped_total',
      help: 'Native histogram samples received by remote write and dropped: they are not stored yet.',
      registers,
    });
    this.requestsRejected = new Counter({
      name: 'tsprom_remote_write_requests_rejected_total',
      help: 'Remote write requests answered with an error, by HTTP status code.',
      labelNames: ['code'],
      registers,
    });
  }

  /** Handles one request's headers and raw (compressed) body. */
  handle(headers: Readonly<Record<string, string | string[] | undefined>>, body: Buffer): RemoteWriteResponse {
    const res = this.process(headers, body);
    if (res.status >= 400) {
      this.requestsRejected.inc({ code: String(res.status) });
      this.logger.warn('Error handling remote write request', { status: res.status, err: res.body });
    }
    return res.status === 204 ? res : { status: res.status, body: `${res.body}\n` };
  }

  private process(headers: Readonly<Record<string, string | string[] | undefined>>, body: Buffer): RemoteWriteResponse {
    const contentType = (header(headers, 'content-type') ?? '').trim() || PROTO_CONTENT_TYPE;
    const typeErr = checkContentType(contentType);
    if (typeErr !== null) return { status: 415, body: typeErr };
    const enc = header(headers, 'content-encoding');
    if (enc !== undefined && enc !== '' && enc.toLowerCase() !== 'snappy') {
      return { status: 415, body: `${enc} encoding (compression) is not accepted by this server; only snappy is acceptable` };
    }

    let decoded;
    try {
      decoded = decodeWriteRequest(snappyDecode(body, this.maxDecodedBytes));
    } catch (e) {
      if (e instanceof SnappyError || e instanceof ProtobufError) return { status: 400, body: e.message };
      throw e;
    }

    const maxT = this.now() + MAX_AHEAD_MS;
    const app = this.storage.appender();
    let appended = 0;
    let invalid = 0;
    let histograms = 0;
    try {
      for (const s of decoded.series) {
        const ls = validLabels(s);
        if (ls === null) {
          invalid += s.end - s.start + s.histograms;
          continue;
        }
        histograms += s.histograms;
        let ref = 0;
        for (let i = s.start; i < s.end; i++) {
          const t = decoded.timestamps[i]!;
          if (t > maxT) throw new TooFarInFutureError();
          ref = app.append(ref, ls, t, decoded.values[i]!);
        }
        appended += s.end - s.start;
      }
    } catch (e) {
      app.rollback();
      if (e instanceof StorageError) return { status: 400, body: e.message };
      this.logger.error('Error while remote writing the v1 request', { err: String(e) });
      return { status: 500, body: e instanceof Error ? e.message : String(e) };
    }
    try {
      app.commit();
    } catch (e) {
      this.logger.error('Error committing remote write request', { err: String(e) });
      return { status: 500, body: e instanceof Error ? e.message : String(e) };
    }
    if (invalid > 0) {
      this.invalidLabels.inc(invalid);
      this.logger.warn('Invalid metric names or labels in remote write request', { num_dropped: invalid });
    }
    this.samplesIn.inc(appended);
    if (histograms > 0) this.histogramsDropped.inc(histograms);
    return { status: 204, body: '' };
  }
}

function header(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** null when the content type names remote write 1.0 (or no message at all); else the error text. */
function checkContentType(contentType: string): string | null {
  const parts = contentType.split(';');
  if (parts[0]!.trim() !== PROTO_CONTENT_TYPE) {
    return `expected ${PROTO_CONTENT_TYPE} as the first (media) part, got ${contentType} content-type`;
  }
  for (const p of parts.slice(1)) {
    const pair = p.split('=');
    if (pair.length !== 2) {
      return `as per https://www.rfc-editor.org/rfc/rfc9110#parameter expected parameters to be key-values, got ${p} in ${contentType} content-type`;
    }
    if (pair[0]!.trim() === 'proto') {
      const msg = pair[1]!.trim();
      if (msg === V1_MESSAGE) return null;
      return `${msg} protobuf message is not accepted by this server; accepted [${V1_MESSAGE}]`;
    }
  }
  return null;
}

/** The series' labels, sorted; null when Prometheus would reject them (no name, bad UTF-8, duplicate names). */
function validLabels(s: DecodedSeries): Labels | null {
  if (!s.utf8) return null;
  const pairs = s.labels;
  const seen = new Set<string>();
  let hasName = false;
  for (let i = 0; i < pairs.length; i += 2) {
    const name = pairs[i]!;
    if (!isValidLabelName(name) || seen.has(name)) return null;
    seen.add(name);
    if (name === METRIC_NAME && pairs[i + 1] !== '') hasName = true;
  }
  if (!hasName) return null;
  return Labels.fromPairs(...pairs);
}
