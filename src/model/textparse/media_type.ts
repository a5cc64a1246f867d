// Media types of the exposition formats: the Accept header a scrape sends for
// its configured protocols, and the choice of parser from the Content-Type a
// target answers with (with Prometheus's fallback rules).
import { goQuote } from '../../gofmt/quote.js';
import type { TextParser, TextParserOptions } from './interface.js';
import { OpenMetricsParser } from './openmetrics_parser.js';
import { PromParser } from './prom_parser.js';
import { ProtobufParser, type ProtobufParserOptions } from './protobuf_parser.js';

export const MEDIA_TYPE_OPENMETRICS = 'application/openmetrics-text';
export const MEDIA_TYPE_PROMTEXT = 'text/plain';
const MEDIA_TYPE_PROTOBUF = 'application/vnd.google.protobuf';

/** The exposition protocols a scrape config may name (scrape_protocols, fallback_scrape_protocol). */
export type ScrapeProtocol =
  | 'PrometheusProto'
  | 'OpenMetricsText0.0.1'
  | 'OpenMetricsText1.0.0'
  | 'PrometheusText0.0.4'
  | 'PrometheusText1.0.0';

/** Accept header values per protocol (Prometheus's ScrapeProtocolsHeaders). */
const PROTOCOL_HEADERS: Record<ScrapeProtocol, string> = {
  PrometheusProto: 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited',
  'PrometheusText0.0.4': 'text/plain;version=0.0.4',
  'PrometheusText1.0.0': 'text/plain;version=1.0.0',
  'OpenMetricsText0.0.1': 'application/openmetrics-text;version=0.0.1',
  'OpenMetricsText1.0.0': 'application/openmetrics-text;version=1.0.0',
};

const PROTOCOL_MEDIA_TYPES: Record<ScrapeProtocol, string> = {
  PrometheusProto: MEDIA_TYPE_PROTOBUF,
  'PrometheusText0.0.4': MEDIA_TYPE_PROMTEXT,
  'PrometheusText1.0.0': MEDIA_TYPE_PROMTEXT,
  'OpenMetricsText0.0.1': MEDIA_TYPE_OPENMETRICS,
  'OpenMetricsText1.0.0': MEDIA_TYPE_OPENMETRICS,
};

/** The media type of a protocol, as the fallback for a Content-Type that cannot be used ('' for none). */
export function protocolMediaType(p: ScrapeProtocol | ''): string {
  return p === '' ? '' : PROTOCOL_MEDIA_TYPES[p];
}

/** Prometheus's Accept header: each protocol with a falling q weight, then any type. */
export function acceptHeader(protocols: readonly ScrapeProtocol[]): string {
  const vals: string[] = [];
  let weight = Object.keys(PROTOCOL_HEADERS).length + 1;
  for (const p of protocols) {
    let v = PROTOCOL_HEADERS[p];
    if (p === 'PrometheusText1.0.0' || p === 'OpenMetricsText1.0.0') v += ';escaping=allow-utf-8';
    vals.push(`${v};q=0.${weight}`);
    weight--;
  }
  vals.push(`*/*;q=0.${weight}`);
  return vals.join(',');
}

/** Why the Content-Type could not be used as sent (the scrape may still go on with a fallback). */
export class ContentTypeError extends Error {
  override name = 'ContentTypeError';
}

/**
 * Picks the media type to parse a body with, as Prometheus does: the Content-Type if it
 * is a supported exposition format, else the configured fallback (with a warning), else
 * an error. Returns the media type and an optional warning; throws ContentTypeError when
 * there is no usable type.
 */
export function negotiateMediaType(contentType: string, fallback: string): { mediaType: string; warning: string | null } {
  if (contentType === '') {
    if (fallback === '') throw new ContentTypeError('non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target');
    return { mediaType: fallback, warning: `non-compliant scrape target sending blank Content-Type, using fallback_scrape_protocol ${goQuote(fallback)}` };
  }
  const mediaType = parseMediaType(contentType);
  if (mediaType === null) {
    if (fallback === '') throw new ContentTypeError(`cannot parse Content-Type ${goQuote(contentType)} and no fallback_scrape_protocol for target`);
    return { mediaType: fallback, warning: `could not parse received Content-Type ${goQuote(contentType)}, using fallback_scrape_protocol ${goQuote(fallback)}` };
  }
  if (mediaType === MEDIA_TYPE_OPENMETRICS || mediaType === MEDIA_TYPE_PROMTEXT || mediaType === MEDIA_TYPE_PROTOBUF) return { mediaType, warning: null };
  if (fallback === '') throw new ContentTypeError(`received unsupported Content-Type ${goQuote(contentType)} and no fallback_scrape_protocol specified for target`);
  return { mediaType: fallback, warning: `received unsupported Content-Type ${goQuote(contentType)}, using fallback_scrape_protocol ${goQuote(fallback)}` };
}

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The lower-cased `type/subtype` of a Content-Type, or null when it does not parse (RFC 7231 token rules). */
function parseMediaType(ct: string): string | null {
  const semi = ct.indexOf(';');
  const mt = (semi < 0 ? ct : ct.slice(0, semi)).trim().toLowerCase();
  const slash = mt.indexOf('/');
  if (slash <= 0 || slash === mt.length - 1) return null;
  if (!TOKEN_RE.test(mt.slice(0, slash)) || !TOKEN_RE.test(mt.slice(slash + 1))) return null;
  if (semi >= 0) {
    for (const part of ct.slice(semi + 1).split(';')) {
      const p = part.trim();
      if (p === '') continue;
      const eq = p.indexOf('=');
      if (eq <= 0 || !TOKEN_RE.test(p.slice(0, eq).trim())) return null;
    }
  }
  return mt;
}

/**
 * A parser for a body of the given Content-Type. `fallback` is the scrape config's
 * fallback_scrape_protocol as a media type ('' for none). `proto` holds the protobuf
 * parser's histogram options (its symbols are opts.symbols).
 */
export function newTextParser(
  body: Buffer,
  contentType: string,
  fallback: string,
  opts: TextParserOptions = {},
  proto: Omit<ProtobufParserOptions, 'symbols'> = {},
): { parser: TextParser; warning: string | null } {
  const { mediaType, warning } = negotiateMediaType(contentType, fallback);
  return { parser: parserForMediaType(mediaType, body, opts, proto), warning };
}

/** The parser for a media type negotiateMediaType() chose. */
export function parserForMediaType(mediaType: string, body: Buffer, opts: TextParserOptions = {}, proto: Omit<ProtobufParserOptions, 'symbols'> = {}): TextParser {
  if (mediaType === MEDIA_TYPE_OPENMETRICS) return new OpenMetricsParser(body, opts);
  if (mediaType === MEDIA_TYPE_PROMTEXT) return new PromParser(body, opts);
  if (mediaType === MEDIA_TYPE_PROTOBUF) return new ProtobufParser(body, { ...proto, symbols: opts.symbols });
  throw new ContentTypeError(`unsupported media type ${goQuote(mediaType)}`);
}
