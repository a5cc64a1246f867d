// Request bodies to what the translator reads. JSON is parsed and decoded
// whole (fromJson). Protobuf is decoded one Metric at a time: the outer
// messages (request, ResourceMetrics, ScopeMetrics) are only split into their
// fields with @bufbuild/protobuf's wire reader, and each Resource, scope and
// Metric is decoded with fromBinary when the translator reaches it. A decoded
// request takes about 17 times its protobuf size in the heap; this way a
// request holds one metric's objects at a time instead of all of them. A
// malformed part is found when reached: the caller then rolls back what was
// appended, so the request still stores nothing.
import { fromBinary, fromJson, type JsonValue } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { InstrumentationScopeSchema, type KeyValue } from './gen/common_pb.js';
import { MetricSchema, type Metric } from './gen/metrics_pb.js';
import { ResourceSchema } from './gen/resource_pb.js';
import { ExportMetricsServiceRequestSchema, type ExportMetricsServiceRequest } from './gen/metrics_service_pb.js';

/** A body that does not decode; the request is refused with a 400. */
export class DecodeError extends Error {
  override name = 'DecodeError';
}

/** One ScopeMetrics: its scope, and its metrics decoded as they are read (each call reads them again). */
export interface ScopeSource {
  readonly name: string;
  readonly version: string;
  readonly schemaUrl: string;
  readonly attributes: readonly KeyValue[];
  metrics(): Iterable<Metric>;
}

/** One ResourceMetrics: the resource's attributes and its scopes. */
export interface ResourceSource {
  readonly attributes: readonly KeyValue[];
  scopes(): Iterable<ScopeSource>;
}

/** A decoded message's resources (JSON bodies, tests). */
export function messageResources(req: ExportMetricsServiceRequest): ResourceSource[] {
  return req.resourceMetrics.map((rm) => ({
    attributes: rm.resource?.attributes ?? [],
    scopes: () =>
      rm.scopeMetrics.map((sm) => ({
        name: sm.scope?.name ?? '',
        version: sm.scope?.version ?? '',
        schemaUrl: sm.schemaUrl,
        attributes: sm.scope?.attributes ?? [],
        metrics: () => sm.metrics,
      })),
  }));
}

const PROTO_PREFIX = 'proto: cannot parse OTLP metrics request';

function protoError(e: unknown): DecodeError {
  return new DecodeError(`${PROTO_PREFIX}: ${e instanceof Error ? e.message : String(e)}`);
}

/**
 * The length-delimited fields of a message, by field number; other fields
 * are skipped. A known field number with another wire type is an error, as
 * fromBinary reports it.
 */
function fields(buf: Uint8Array, wanted: readonly number[], what: string): Array<[number, Uint8Array]> {
  const out: Array<[number, Uint8Array]> = [];
  try {
    const r = new BinaryReader(buf);
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      if (wanted.includes(no)) {
        if (wt !== WireType.LengthDelimited) throw new Error(`cannot read ${what} field ${no}: wire type ${wt}`);
        out.push([no, r.bytes()]);
      } else r.skip(wt, no);
    }
  } catch (e) {
    throw protoError(e);
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

function scopeSource(buf: Uint8Array): ScopeSource {
  let name = '';
  let version = '';
  let attributes: readonly KeyValue[] = [];
  let schemaUrl = '';
  const metrics: Uint8Array[] = [];
  for (const [no, b] of fields(buf, [1, 2, 3], 'ScopeMetrics')) {
    if (no === 1) {
      try {
        const s = fromBinary(InstrumentationScopeSchema, b);
        ({ name, version, attributes } = s);
      } catch (e) {
        throw protoError(e);
      }
    } else if (no === 2) metrics.push(b);
    else schemaUrl = utf8.decode(b);
  }
  return {
    name,
    version,
    schemaUrl,
    attributes,
    // Decoded when read and not kept: the translator holds one metric at a time.
    *metrics() {
      for (const b of metrics) {
        let m: Metric;
        try {
          m = fromBinary(MetricSchema, b);
        } catch (e) {
          throw protoError(e);
        }
        yield m;
      }
    },
  };
}

/**
 * A protobuf ExportMetricsServiceRequest's resources, split without decoding
 * the metrics. Throws DecodeError for a malformed frame; a malformed metric
 * throws it when read.
 */
export function binaryResources(buf: Uint8Array): ResourceSource[] {
  return fields(buf, [1], 'ExportMetricsServiceRequest').map(([, rm]) => {
    let attributes: readonly KeyValue[] = [];
    const scopes: Uint8Array[] = [];
    for (const [no, b] of fields(rm, [1, 2], 'ResourceMetrics')) {
      if (no === 1) {
        try {
          attributes = fromBinary(ResourceSchema, b).attributes;
        } catch (e) {
          throw protoError(e);
        }
      } else scopes.push(b);
    }
    // Split up front (cheap: no metric is decoded), so a malformed frame fails before anything is appended.
    const sources = scopes.map(scopeSource);
    return { attributes, scopes: () => sources };
  });
}

/** A JSON body's request, decoded whole. */
export function jsonRequest(raw: Buffer): ExportMetricsServiceRequest {
  let json: JsonValue;
  try {
    json = JSON.parse(raw.toString('utf8')) as JsonValue;
  } catch (e) {
    throw new DecodeError(`cannot parse OTLP metrics request as JSON: ${(e as Error).message}`);
  }
  try {
    hexIdsToBase64(json);
    return fromJson(ExportMetricsServiceRequestSchema, json, { ignoreUnknownFields: true });
  } catch (e) {
    throw new DecodeError(`cannot parse OTLP metrics request as JSON: ${(e as Error).message}`);
  }
}

const HEX_ID = /^(?:[0-9a-fA-F]{2})*$/;

/**
 * OTLP/JSON writes trace and span ids in hex where the protobuf JSON mapping
 * (which fromJson reads) has base64: rewrite them in place before decoding.
 */
function hexIdsToBase64(json: JsonValue): void {
  const list = (o: unknown, ...keys: string[]): unknown[] => {
    if (o === null || typeof o !== 'object') return [];
    for (const k of keys) {
      const v = (o as Record<string, unknown>)[k];
      if (Array.isArray(v)) return v;
    }
    return [];
  };
  for (const rm of list(json, 'resourceMetrics', 'resource_metrics')) {
    for (const sm of list(rm, 'scopeMetrics', 'scope_metrics')) {
      for (const m of list(sm, 'metrics')) {
        if (m === null || typeof m !== 'object') continue;
        for (const kind of ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'exponential_histogram', 'summary']) {
          for (const p of list((m as Record<string, unknown>)[kind], 'dataPoints', 'data_points')) {
            for (const ex of list(p, 'exemplars')) {
              if (ex === null || typeof ex !== 'object') continue;
              const e = ex as Record<string, unknown>;
              for (const k of ['traceId', 'trace_id', 'spanId', 'span_id']) {
                const v = e[k];
                if (typeof v === 'string' && HEX_ID.test(v)) e[k] = Buffer.from(v, 'hex').toString('base64');
              }
            }
          }
        }
      }
    }
  }
}
