import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram } from '../model/histogram.js';
import { NhcbConversionError } from '../model/histogram_nhcb.js';
import { Entry, type TextParser } from '../model/textparse/interface.js';
import { OpenMetricsParser } from '../model/textparse/openmetrics_parser.js';
import { PromParser } from '../model/textparse/prom_parser.js';
import { ProtobufParser } from '../model/textparse/protobuf_parser.js';
import { encodeFamilies, MetricType, NativeHistogram } from '../../test/native_histogram_exporter.js';
import { NhcbParser } from './nhcb_parser.js';

const NAMES: Record<number, string> = { [Entry.Series]: 'series', [Entry.Histogram]: 'histogram', [Entry.Type]: 'type', [Entry.Help]: 'help' };

/** What the parser yields: entry kind and series text (a histogram's count). */
function entries(p: NhcbParser): string[] {
  const out: string[] = [];
  for (let e = p.next(); e !== Entry.EOF; e = p.next()) {
    const kind = NAMES[e] ?? String(e);
    if (e === Entry.Series) out.push(`${kind} ${p.labels().toString()} ${p.value()}`);
    else if (e === Entry.Histogram) {
      let what: string;
      try {
        const h = p.histogram();
        what = `count=${h.count} sum=${h.sum} schema=${h.schema}`;
      } catch (err) {
        assert.ok(err instanceof NhcbConversionError);
        what = `error: ${err.message}`;
      }
      out.push(`${kind} ${p.labels().toString()} ${what}`);
    } else out.push(`${kind} ${p.metaName()}`);
  }
  return out;
}

const TEXT =
  '# HELP req_seconds Latency.\n# TYPE req_seconds histogram\n' +
  'req_seconds_bucket{path="/a",le="0.1"} 1\nreq_seconds_bucket{path="/a",le="+Inf"} 3\nreq_seconds_sum{path="/a"} 2\nreq_seconds_count{path="/a"} 3\n' +
  'req_seconds_bucket{path="/b",le="0.1"} 0\nreq_seconds_bucket{path="/b",le="+Inf"} 1\nreq_seconds_sum{path="/b"} 5\nreq_seconds_count{path="/b"} 2\n' +
  '# TYPE other gauge\nother 1\n';

function text(s: string): TextParser {
  return new PromParser(Buffer.from(s));
}

test('classic histograms become one custom-bucket histogram each, yielded when the next metric starts', () => {
  assert.deepEqual(entries(new NhcbParser(text(TEXT), false)), [
    'help req_seconds',
    'type req_seconds',
    'histogram {__name__="req_seconds", path="/a"} count=3 sum=2 schema=-53',
    // /b's count disagrees with its +Inf bucket: yielded, and histogram() says why.
    'histogram {__name__="req_seconds", path="/b"} error: count mismatch: count=2 != le=+Inf count=1',
    'type other',
    'series {__name__="other"} 1',
  ]);
});

test('with always_scrape_classic_histograms the classic series come too, before their histogram', () => {
  const got = entries(new NhcbParser(text(TEXT), true));
  assert.equal(got.filter((e) => e.startsWith('series {__name__="req_seconds_')).length, 8);
  assert.ok(got.indexOf('series {__name__="req_seconds_count", path="/a"} 3') < got.findIndex((e) => e.startsWith('histogram {__name__="req_seconds", path="/a"}')));
  assert.equal(got.at(-1), 'series {__name__="other"} 1');
});

test('gauge histograms, summaries and lone _bucket series without le stay as they are', () => {
  const s = '# TYPE g gaugehistogram\ng_bucket{le="1"} 1\ng_gcount 1\n# TYPE q summary\nq_sum 1\nq_count 1\n# TYPE h histogram\nh_bucket 4\n# EOF\n';
  assert.deepEqual(
    entries(new NhcbParser(new OpenMetricsParser(Buffer.from(s)), false)).filter((e) => !e.startsWith('type')),
    ['series {__name__="g_bucket", le="1"} 1', 'series {__name__="g_gcount"} 1', 'series {__name__="q_sum"} 1', 'series {__name__="q_count"} 1', 'series {__name__="h_bucket"} 4'],
  );
});

test('a native histogram inhibits the conversion of its own classic buckets (protobuf)', () => {
  const native = new NativeHistogram(1);
  native.observe(0.5);
  native.observe(3);
  const body = encodeFamilies([
    {
      name: 'lat',
      type: MetricType.HISTOGRAM,
      metric: [{ histogram: { ...native.message(), bucket: [{ upperBound: 1, cumulativeCount: 1n }] } }],
    },
    { name: 'classic_only', type: MetricType.HISTOGRAM, metric: [{ histogram: { sampleCount: 2n, sampleSum: 1, bucket: [{ upperBound: 1, cumulativeCount: 2n }] } }] },
  ]);
  const p = new NhcbParser(new ProtobufParser(body, { parseClassicHistograms: true }), false);
  const got = entries(p).filter((e) => !e.startsWith('type') && !e.startsWith('help'));
  assert.deepEqual(got, [
    'histogram {__name__="lat"} count=2 sum=3.5 schema=1',
    'series {__name__="lat_count"} 2',
    'series {__name__="lat_sum"} 3.5',
    'series {__name__="lat_bucket", le="1.0"} 1',
    'series {__name__="lat_bucket", le="+Inf"} 2',
    'histogram {__name__="classic_only"} count=2 sum=1 schema=-53',
  ]);
});

test('the converted histogram is an integer histogram with its own cache key', () => {
  const p = new NhcbParser(text('# TYPE r histogram\nr_bucket{le="1"} 1\nr_bucket{le="+Inf"} 1\nr_count 1\nr_sum 0.5\n'), false);
  assert.equal(p.next(), Entry.Type);
  assert.equal(p.next(), Entry.Histogram);
  assert.ok(p.histogram() instanceof Histogram);
  const key = p.seriesKey();
  assert.ok(p.seriesIs(key) && !key.startsWith('r'));
  assert.equal(p.timestamp(), null);
  assert.equal(p.next(), Entry.EOF);
});
