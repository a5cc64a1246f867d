// The API's success envelope, {"status":"success","data":...,"warnings":[...],"infos":[...]},
// encoded as bytes. Small answers come back as one Buffer; big query results
// and series lists become a stream of chunks encoded a slice at a time, so a million-point
// matrix neither sits in memory as one string nor blocks the event loop.
import { performance } from 'node:perf_hooks';
import { DEFAULT_YIELD_INTERVAL_MS, IngestCourtesy } from '../../promql/engine/limits.js';
import type { QueryValue } from '../../promql/engine/types.js';
import { workerRepliesWaiting } from '../../workers/pool.js';
import type { ApiError, ApiResult } from './types.js';
import type { Labels } from '../../model/labels.js';
import { JsonWriter, RawJSON, encodeJSON, jsonString, writeLabelSets, writeQueryResult } from './json.js';

// Prometheus shows at most this many warnings and infos per response.
const MAX_ANNOTATIONS = 10;

/** Distinct texts (Prometheus keeps annotations in a map keyed by text), capped as annotations.AsStrings caps them. */
export function capAnnotations(list: readonly string[], kind: 'warning' | 'info'): string[] {
  const distinct = [...new Set(list)];
  if (distinct.length <= MAX_ANNOTATIONS) return distinct;
  return [...distinct.slice(0, MAX_ANNOTATIONS), `${distinct.length - MAX_ANNOTATIONS} more ${kind} annotations omitted`];
}

/** The error envelope: {"status":"error","errorType":...,"error":...}. */
export function encodeApiError(err: ApiError): string {
  return `{"status":"error","errorType":${jsonString(err.errorType)},"error":${jsonString(err.message)}}`;
}

/** The `data` of a query answer: encoded straight from the engine's value, never as an intermediate object tree. */
export class QueryData {
  constructor(
    readonly value: QueryValue,
    /** The `stats` member (stats=...), already encoded. */
    readonly stats?: RawJSON,
  ) {}
}

/** A list of label sets (the /series answer), written straight from the sets and streamed when big. */
export class LabelSetsData {
  constructor(readonly sets: readonly Labels[]) {}
}

/** A response body that is produced while it is sent. */
export type BodyStream = AsyncIterable<Buffer>;

/**
 * Answers up to this size are encoded in one go (under 2 ms) and sent with a
 * Content-Length; past it, or once encoding has taken YIELD_AFTER_MS (code the
 * JIT has not compiled yet, as in a server's first big answer, encodes 20-40x
 * slower), the rest is streamed.
 */
const STREAM_AFTER_BYTES = 256 * 1024;

/**
 * While streaming, the event loop gets a turn once this long has passed
 * since the last (checked per chunk of CHUNK_BYTES, ~0.3 ms of encoding), or
 * at once when a decode worker's answer waits: as an evaluation's slices, so
 * remote-write requests and scrapes on the same loop wait no longer behind a
 * big answer than behind the query that made it.
 */
const YIELD_AFTER_MS = DEFAULT_YIELD_INTERVAL_MS;

function* envelope(w: JsonWriter, result: ApiResult): Generator<void, void, undefined> {
  w.ascii('{"status":"success","data":');
  const d = result.data;
  if (d instanceof QueryData) {
    w.ascii(`{"resultType":"${d.value.type}","result":`);
    yield* writeQueryResult(w, d.value);
    if (d.stats !== undefined) {
      w.ascii(',"stats":');
      w.raw(d.stats.json);
    }
    w.byte(0x7d);
  } else if (d instanceof LabelSetsData) {
    yield* writeLabelSets(w, d.sets);
  } else {
    w.raw(encodeJSON(d));
  }
  // omitempty: no member at all when there is nothing to say.
  if (result.warnings !== undefined && result.warnings.length > 0) {
    w.ascii(',"warnings":');
    w.raw(encodeJSON(result.warnings));
  }
  if (result.infos !== undefined && result.infos.length > 0) {
    w.ascii(',"infos":');
    w.raw(encodeJSON(result.infos));
  }
  w.byte(0x7d);
}

/** Encodes a successful answer: a Buffer when small, a stream of chunks when big. */
export function encodeApiSuccess(result: ApiResult): Buffer | BodyStream {
  const w = new JsonWriter();
  const gen = envelope(w, result);
  const head: Buffer[] = [];
  let headBytes = 0;
  const t0 = performance.now();
  for (;;) {
    let step: IteratorResult<void, void>;
    try {
      step = gen.next();
    } catch (e) {
      // Frees the writer's scratch buffer for the next answer.
      w.finish();
      throw e;
    }
    for (const c of w.takeChunks()) {
      head.push(c);
      headBytes += c.length;
    }
    if (step.done === true) {
      head.push(...w.finish());
      const [only] = head;
      return head.length === 1 && only !== undefined ? only : Buffer.concat(head);
    }
    if (headBytes >= STREAM_AFTER_BYTES || (headBytes > 0 && performance.now() - t0 >= YIELD_AFTER_MS)) return streamRest(w, gen, head, t0);
  }
}

/** The rest of an answer whose encoding began at `startedAt` (performance.now()). */
async function* streamRest(w: JsonWriter, gen: Generator<void, void, undefined>, head: Buffer[], startedAt: number): BodyStream {
  try {
    yield* head;
    let lastYield = startedAt;
    const courtesy = new IngestCourtesy();
    for (;;) {
      const step = gen.next();
      for (const c of step.done === true ? w.finish() : w.takeChunks()) yield c;
      if (step.done === true) return;
      if (performance.now() - lastYield >= YIELD_AFTER_MS || workerRepliesWaiting()) {
        await courtesy.yieldTurn();
        lastYield = performance.now();
      }
    }
  } finally {
    // The consumer may stop early (client gone): end the encoder too.
    gen.return();
  }
}

/** True for a streamed body. */
export function isBodyStream(b: unknown): b is BodyStream {
  return typeof b === 'object' && b !== null && Symbol.asyncIterator in b;
}
