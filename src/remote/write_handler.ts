// The remote write 1.0 receiver: snappy-compressed prometheus.WriteRequest in,
// samples appended in one transaction, Prometheus's status codes out.
//
// All or nothing, as Prometheus does it: a body that does not decode is a 400
// before anything is appended, and a sample the storage rejects (out of order,
// duplicate, too far in the future) rolls the whole request back with a 400
// so the sender does not retry it. Series with invalid labels are skipped and
// counted, also as Prometheus does.
//
// Checks run in the order of Prometheus's handler chain (client_golang's
// remote API): Content-Encoding, snappy, Content-Type, protobuf, samples.
import { Counter, Registry } from 'prom-client';
import { Labels, METRIC_NAME, isValidLabelName } from '../model/labels.js';
import {
  DuplicateSampleError,
  OutOfBoundsError,
  OutOfOrderSampleError,
  type Appendable,
  type Appender,
} from '../storage/interface.js';
import { nopLogger, type Logger } from '../logging/types.js';
import { snappyDecode, SnappyError } from './snappy.js';
import { decodeWriteRequest, ProtobufError, type DecodedSeries } from './write_request.js';

/** Prometheus rejects samples more than this far ahead of its clock (storage/remote maxAheadTime). */
const MAX_AHEAD_MS = 10 * 60_000;

/**
 * Bound on a decompressed body: Prometheus's receiver refuses more than 32 MiB
 * (senders batch 2,000 samples per request by default, well under 1 MiB).
 */
export const DEFAULT_MAX_DECODED_BYTES = 32 * 1024 * 1024;

const PROTO_CONTENT_TYPE = 'application/x-protobuf';
const V1_MESSAGE = 'prometheus.WriteRequest';
const V2_MESSAGE = 'io.prometheus.write.v2.Request';
/** The message types a Content-Type may name, as Prometheus lists them in errors. */
const KNOWN_MESSAGES = `${V1_MESSAGE}, ${V2_MESSAGE}`;

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

  /**
   * Throws what the storage says about (ls, t, v) judged against committed
   * data alone, as Prometheus's appender judges a sample that an earlier one
   * of the same request already passes: a throwaway appender, rolled back.
   */
  private checkCommitted(ls: Labels, t: number, v: number): void {
    const probe: Appender = this.storage.appender();
    try {
      probe.append(0, ls, t, v);
    } finally {
      probe.rollback();
    }
  }

  private process(headers: Readonly<Record<string, string | string[] | undefined>>, body: Buffer): RemoteWriteResponse {
    const enc = header(headers, 'content-encoding') ?? '';
    if (enc !== '' && enc !== 'snappy') {
      return { status: 415, body: `${enc} encoding (compression) is not accepted by this server; only snappy is acceptable` };
    }
    let raw: Buffer;
    try {
      raw = snappyDecode(body, this.maxDecodedBytes);
    } catch (e) {
      if (e instanceof SnappyError) return { status: 400, body: e.message };
      throw e;
    }
    const contentType = header(headers, 'content-type') ?? '';
    const msgType = protoMessage(contentType === '' ? PROTO_CONTENT_TYPE : contentType);
    if (msgType.error !== undefined) return { status: 415, body: msgType.error };
    if (msgType.message !== V1_MESSAGE) {
      return { status: 415, body: `${msgType.message} protobuf message is not accepted by this server; only accepts ${V1_MESSAGE}` };
    }
    let decoded;
    try {
      decoded = decodeWriteRequest(raw);
    } catch (e) {
      if (e instanceof ProtobufError) return { status: 400, body: e.message };
      throw e;
    }

    const maxT = this.now() + MAX_AHEAD_MS;
    const app = this.storage.appender();
    let appended = 0;
    let invalid = 0;
    let histograms = 0;
    /**
     * Newest timestamp appended per series in this request. Prometheus checks
     * each sample against committed data only and silently drops, at commit,
     * the ones that fall behind an earlier sample of the same request; our
     * storage refuses those at once, so they are checked and dropped here.
     */
    const newest = new Map<string, number>();
    try {
      for (const s of decoded.series) {
        const ls = validLabels(s);
        if (ls === null) {
          // Prometheus's 1.0 handler counts one per invalid series, whatever its sample count.
          invalid++;
          continue;
        }
        histograms += s.histograms;
        const key = ls.key();
        let last = newest.get(key);
        let ref = 0;
        for (let i = s.start; i < s.end; i++) {
          const t = decoded.timestamps[i]!;
          const v = decoded.values[i]!;
          if (t > maxT) throw new TooFarInFutureError();
          if (last !== undefined && t <= last) {
            this.checkCommitted(ls, t, v);
            continue;
          }
          ref = app.append(ref, ls, t, v);
          last = t;
          appended++;
        }
        if (last !== undefined) newest.set(key, last);
      }
    } catch (e) {
      app.rollback();
      // What Prometheus answers 400 (do not retry); anything else is a 500 and may be retried.
      if (e instanceof OutOfOrderSampleError || e instanceof OutOfBoundsError || e instanceof DuplicateSampleError) {
        return { status: 400, body: e.message };
      }
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

/**
 * The protobuf message a Content-Type names, read as client_golang's
 * ParseProtoMsg reads it (no trimming inside; no `proto` parameter means 1.0).
 */
function protoMessage(header: string): { message: string; error?: undefined } | { message?: undefined; error: string } {
  const contentType = header.trim();
  const parts = contentType.split(';');
  if (parts[0] !== PROTO_CONTENT_TYPE) {
    return { error: `expected ${PROTO_CONTENT_TYPE} as the first (media) part, got ${contentType} content-type` };
  }
  for (const p of parts.slice(1)) {
    const pair = p.split('=');
    if (pair.length !== 2) {
      return { error: `as per https://www.rfc-editor.org/rfc/rfc9110#parameter expected parameters to be key-values, got ${p} in ${contentType} content-type` };
    }
    if (pair[0] === 'proto') {
      const msg = pair[1]!;
      if (msg !== V1_MESSAGE && msg !== V2_MESSAGE) {
        return { error: `got ${contentType} content type; unknown type for remote write protobuf message ${msg}, supported: ${KNOWN_MESSAGES}` };
      }
      return { message: msg };
    }
  }
  return { message: V1_MESSAGE };
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
