import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ProtobufParser } from './protobuf_parser.js';
import { acceptHeader, ContentTypeError, negotiateMediaType, newTextParser, protocolMediaType } from './media_type.js';
import { OpenMetricsParser } from './openmetrics_parser.js';
import { PromParser } from './prom_parser.js';

describe('content types', () => {
  test('negotiation follows Prometheus', () => {
    assert.deepEqual(negotiateMediaType('text/plain; version=0.0.4; charset=utf-8', ''), { mediaType: 'text/plain', warning: null });
    assert.deepEqual(negotiateMediaType('application/openmetrics-text; version=1.0.0', ''), { mediaType: 'application/openmetrics-text', warning: null });
    assert.throws(() => negotiateMediaType('', ''), (e: unknown) => e instanceof ContentTypeError && /blank Content-Type/.test(e.message));
    assert.throws(() => negotiateMediaType('application/json', ''), /received unsupported Content-Type "application\/json" and no fallback_scrape_protocol/);
    const fb = negotiateMediaType('application/json', 'text/plain');
    assert.equal(fb.mediaType, 'text/plain');
    assert.match(fb.warning!, /using fallback_scrape_protocol "text\/plain"/);
    assert.throws(() => negotiateMediaType('text/', ''), /cannot parse Content-Type/);
  });

  test('newTextParser picks the parser', () => {
    const { parser } = newTextParser(Buffer.from('a 1\n# EOF\n'), 'application/openmetrics-text', '');
    assert.ok(parser instanceof OpenMetricsParser);
    assert.ok(newTextParser(Buffer.from('a 1\n'), 'text/plain', '').parser instanceof PromParser);
    const ct = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';
    assert.ok(newTextParser(Buffer.alloc(0), ct, '').parser instanceof ProtobufParser);
    assert.ok(newTextParser(Buffer.alloc(0), '', 'application/vnd.google.protobuf').parser instanceof ProtobufParser);
  });
});

test('Accept header follows scrape_protocols', () => {
  assert.equal(
    acceptHeader(['OpenMetricsText1.0.0', 'OpenMetricsText0.0.1', 'PrometheusText1.0.0', 'PrometheusText0.0.4']),
    'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
  );
  assert.equal(acceptHeader(['PrometheusText0.0.4']), 'text/plain;version=0.0.4;q=0.6,*/*;q=0.5');
  assert.equal(
    acceptHeader(['PrometheusProto', 'OpenMetricsText1.0.0', 'OpenMetricsText0.0.1', 'PrometheusText1.0.0', 'PrometheusText0.0.4']),
    'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,' +
      'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,' +
      'text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1',
  );
});

test('a fallback protocol names its media type', () => {
  assert.equal(protocolMediaType(''), '');
  assert.equal(protocolMediaType('OpenMetricsText1.0.0'), 'application/openmetrics-text');
  assert.equal(protocolMediaType('PrometheusText0.0.4'), 'text/plain');
});
