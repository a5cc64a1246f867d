import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { federateHandler, negotiateFormat, escapeName } from './federate.js';
import type { RequestInfo } from './server.js';
import { MemoryStorage } from '../storage/memory.js';
import { FloatHistogram } from '../model/histogram.js';
import { ProtobufParser } from '../model/textparse/protobuf_parser.js';
import { Entry } from '../model/textparse/interface.js';
import { Labels } from '../model/labels.js';
import { STALE_NAN } from '../model/value.js';
import { parseExpr, parseMetricSelector } from '../promql/parser/parser.js';
import { prettify } from '../promql/parser/printer.js';

const NOW = 1_700_000_000_000;

function req(query: string, headers: Record<string, string> = {}): RequestInfo {
  const url = new URL(`http://x/federate?${query}`);
  return {
    method: 'GET',
    url,
    path: '/federate',
    pathParams: {},
    params: url.searchParams,
    body: Buffer.alloc(0),
    headers,
    clientIP: '127.0.0.1',
    signal: new AbortController().signal,
  };
}

function setup(ext: Labels = Labels.fromPairs('region', 'eu')) {
  const db = new MemoryStorage();
  const app = db.appender();
  app.append(0, Labels.fromPairs('__name__', 'b_metric', 'job', 'j'), NOW - 60_000, 1);
  app.append(0, Labels.fromPairs('__name__', 'b_metric', 'job', 'j'), NOW - 1000, -0);
  app.append(0, Labels.fromPairs('__name__', 'a_metric', 'zone', 'z', 'Alpha', 'A'), NOW - 2000, 1234567);
  app.append(0, Labels.fromPairs('__name__', 'a_metric', 'zone', 'y'), NOW - 2000, 0.5);
  app.append(0, Labels.fromPairs('__name__', 'stale', 'job', 'j'), NOW - 2000, STALE_NAN);
  app.append(0, Labels.fromPairs('__name__', 'old', 'job', 'j'), NOW - 600_000, 1);
  app.append(0, Labels.fromPairs('__name__', 'dotted.name', 'the.label', 'v"\n\\'), NOW - 2000, 3);
  app.append(0, Labels.fromPairs('__name__', 'b_metric', 'job', 'j', 'instance', 'i:1'), NOW - 1000, NaN);
  app.commit();
  return federateHandler({
    storage: db,
    parser: { parseExpr: (q) => parseExpr(q), parseMetricSelector, prettify: (e) => prettify(e) },
    externalLabels: () => ext,
    lookbackDeltaMs: 300_000,
    now: () => NOW,
  });
}

describe('federation', () => {
  test('text format: latest sample per series, grouped by name, external labels appended, names escaped with underscores', () => {
    const h = setup();
    const r = h(req(`match[]=${encodeURIComponent('{__name__=~".+"}')}&match[]=a_metric`));
    assert.equal(r.status, 200);
    assert.equal(r.headers!['Content-Type'], 'text/plain; version=0.0.4; charset=utf-8; escaping=underscores');
    assert.equal(
      r.body,
      [
        '# TYPE a_metric untyped',
        `a_metric{Alpha="A",zone="z",instance="",region="eu"} 1.234567e+06 ${NOW - 2000}`,
        `a_metric{zone="y",instance="",region="eu"} 0.5 ${NOW - 2000}`,
        '# TYPE b_metric untyped',
        `b_metric{instance="i:1",job="j",region="eu"} NaN ${NOW - 1000}`,
        `b_metric{job="j",instance="",region="eu"} 0 ${NOW - 1000}`,
        '# TYPE dotted_name untyped',
        `dotted_name{the_label="v\\"\\n\\\\",instance="",region="eu"} 3 ${NOW - 2000}`,
        '',
      ].join('\n'),
    );
  });

  test('UTF-8 names are quoted when the client allows them', () => {
    const h = setup(Labels.EMPTY);
    const r = h(req('match[]={__name__="dotted.name"}', { accept: 'text/plain;version=0.0.4;escaping=allow-utf-8' }));
    assert.equal(r.headers!['Content-Type'], 'text/plain; version=0.0.4; charset=utf-8; escaping=allow-utf-8');
    assert.equal(r.body, `# TYPE "dotted.name" untyped\n{"dotted.name","the.label"="v\\"\\n\\\\",instance=""} 3 ${NOW - 2000}\n`);
  });

  test('no match[] gives an empty answer; a bad one a 400', () => {
    const h = setup();
    assert.equal(h(req('')).body, '');
    const bad = h(req('match[]=a{'));
    assert.equal(bad.status, 400);
    assert.match(String(bad.body), /parse error/);
  });

  test('protobuf, length-delimited, when the client asks for it', () => {
    const h = setup(Labels.EMPTY);
    const r = h(
      req('match[]=a_metric{zone="y"}', {
        accept: 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3',
      }),
    );
    assert.equal(r.headers!['Content-Type'], 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=underscores');
    const b = r.body as Buffer;
    // One MetricFamily: name "a_metric", type UNTYPED, one metric with labels zone=y and instance="", untyped 0.5, timestamp.
    const value = Buffer.alloc(8);
    value.writeDoubleLE(0.5);
    const ts: number[] = [];
    for (let v = BigInt(NOW - 2000); ; v >>= 7n) {
      if (v < 0x80n) {
        ts.push(Number(v));
        break;
      }
      ts.push(Number(v & 0x7fn) | 0x80);
    }
    const lp = (n: string, v: string) => [0x0a, 2 + n.length + 2 + v.length, 0x0a, n.length, ...Buffer.from(n), 0x12, v.length, ...Buffer.from(v)];
    const metric = [...lp('zone', 'y'), ...lp('instance', ''), 0x2a, 9, 0x09, ...value, 0x30, ...ts];
    const family = [0x0a, 8, ...Buffer.from('a_metric'), 0x18, 3, 0x22, metric.length, ...metric];
    assert.deepEqual([...b], [family.length, ...family]);
  });
});

describe('format negotiation and name escaping', () => {
  test('as expfmt.Negotiate: text unless delimited protobuf is asked for; the escaping of any clause', () => {
    assert.equal(negotiateFormat(undefined).contentType, 'text/plain; version=0.0.4; charset=utf-8; escaping=underscores');
    assert.equal(negotiateFormat('application/openmetrics-text;version=1.0.0').kind, 'text');
    assert.equal(negotiateFormat('*/*;escaping=values').escaping, 'values');
    assert.equal(negotiateFormat('text/plain;version=1.0.0;escaping=dots').escaping, 'dots');
    assert.equal(negotiateFormat('text/plain;escaping=bogus').escaping, 'underscores');
  });

  test('as model.EscapeName', () => {
    assert.equal(escapeName('a.b-c', 'underscores'), 'a_b_c');
    assert.equal(escapeName('1a', 'underscores'), '_a');
    assert.equal(escapeName('a.b_c', 'dots'), 'a_dot_b__c');
    assert.equal(escapeName('a.b_c', 'values'), 'U__a_2e_b__c');
    assert.equal(escapeName('ok_name', 'values'), 'ok_name');
    assert.equal(escapeName('a.b', 'allow-utf-8'), 'a.b');
  });
});

describe('federation of native histograms', () => {
  const exp = new FloatHistogram({ schema: 1, count: 5, sum: 7.5, zeroThreshold: 0.001, zeroCount: 1, positiveSpans: [{ offset: -1, length: 2 }], positiveBuckets: [1, 2], negativeSpans: [{ offset: 0, length: 1 }], negativeBuckets: [1] });
  const custom = new FloatHistogram({ schema: -53, count: 4, sum: 3, customValues: [1, 5], positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [1, 2, 1] });
  function histogramSetup() {
    const db = new MemoryStorage();
    const app = db.appender();
    app.appendHistogram!(0, Labels.fromPairs('__name__', 'h_exp', 'job', 'j'), NOW - 1000, null, exp);
    app.appendHistogram!(0, Labels.fromPairs('__name__', 'h_custom', 'job', 'j'), NOW - 1000, null, custom);
    app.append(0, Labels.fromPairs('__name__', 'h_custom', 'job', 'k'), NOW - 1000, 2);
    app.commit();
    return federateHandler({
      storage: db,
      parser: { parseExpr: (q) => parseExpr(q), parseMetricSelector, prettify: (e) => prettify(e) },
      externalLabels: () => Labels.EMPTY,
      lookbackDeltaMs: 300_000,
      now: () => NOW,
    });
  }

  test('text: exponential histograms are left out, custom-bucket ones go out as classic histograms', () => {
    const r = histogramSetup()(req('match[]={__name__=~"h_.*"}'));
    assert.equal(
      (r.body as string).toString(),
      [
        '# TYPE h_custom histogram',
        `h_custom_bucket{job="j",instance="",le="1"} 1 ${NOW - 1000}`,
        `h_custom_bucket{job="j",instance="",le="5"} 3 ${NOW - 1000}`,
        `h_custom_bucket{job="j",instance="",le="+Inf"} 4 ${NOW - 1000}`,
        `h_custom_sum{job="j",instance=""} 3 ${NOW - 1000}`,
        `h_custom_count{job="j",instance=""} 4 ${NOW - 1000}`,
        '# TYPE h_custom untyped',
        `h_custom{job="k",instance=""} 2 ${NOW - 1000}`,
        '',
      ].join('\n'),
    );
  });

  test('protobuf: native histograms with their buckets, read back by our protobuf parser', () => {
    const r = histogramSetup()(req('match[]={__name__=~"h_.*"}', { accept: 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited' }));
    const p = new ProtobufParser(new Uint8Array(r.body as Buffer));
    const got: string[] = [];
    for (let e = p.next(); e !== Entry.EOF; e = p.next()) {
      if (e === Entry.Histogram) {
        const h = p.histogram();
        got.push(`${p.labels().toString()} ${h.toString()}`);
      } else if (e === Entry.Series) {
        got.push(`${p.labels().toString()} ${p.value()}`);
      }
    }
    // The parser leaves out empty labels (instance="") and writes bounds as OpenMetrics does.
    assert.deepEqual(got, [
      '{__name__="h_custom_count", job="j"} 4',
      '{__name__="h_custom_sum", job="j"} 3',
      '{__name__="h_custom_bucket", job="j", le="1.0"} 1',
      '{__name__="h_custom_bucket", job="j", le="5.0"} 3',
      '{__name__="h_custom_bucket", job="j", le="+Inf"} 4',
      '{__name__="h_custom", job="k"} 2',
      `{__name__="h_exp", job="j"} ${exp.toString()}`,
    ]);
  });
});
