// Native histograms through one scrape loop (fake HTTP client, in-memory
// storage): protobuf negotiation, histograms appended, classic series when
// native ones are off or always wanted, NHCB conversion, bucket and schema
// limits, the sample limit, bad input rejected and counted without harming
// the rest, exemplars and created timestamps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { ScrapeConfig } from '../src/config/types.js';
import type { HttpClient } from '../src/httpclient/httpclient.js';
import { FloatHistogram, Histogram } from '../src/model/histogram.js';
import { Labels } from '../src/model/labels.js';
import { Matcher, MatchType } from '../src/model/matcher.js';
import { isStaleNaN } from '../src/model/value.js';
import { SymbolTable } from '../src/model/textparse/interface.js';
import { nopLogger } from '../src/logging/types.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScrapeLoop } from '../src/scrape/loop.js';
import { openDB } from '../src/tsdb/db.js';
import { ScrapeMetrics } from '../src/scrape/metrics.js';
import { targetsFromGroup } from '../src/scrape/target.js';
import { MemoryStorage } from '../src/storage/memory.js';
import { ValueType, type Appendable, type Queryable, type Appender, type Exemplar, type SeriesRef } from '../src/storage/interface.js';
import { scrapeConfig } from './fixtures/scrape/helpers.js';
import { encodeFamilies, MetricType, NativeHistogram, PROTOBUF_CONTENT_TYPE, type FamilyInit } from './native_histogram_exporter.js';

interface Fixture {
  loop: ScrapeLoop;
  accepts: string[];
  registry: Registry;
}

/** A loop scraping `bodies` in turn (the last one repeats). */
function fixture(
  cfg: Partial<ScrapeConfig>,
  appendable: Appendable,
  bodies: (Buffer | string)[],
  contentType = PROTOBUF_CONTENT_TYPE,
  ctZero = false,
  targetLabels: Record<string, string> = {},
): Fixture {
  const sc = scrapeConfig({ jobName: 'j', ...cfg });
  const target = targetsFromGroup({ source: '0', targets: [{ __address__: 'h:1', ...targetLabels }], labels: {} }, sc, 'j').targets[0]!;
  const accepts: string[] = [];
  let n = 0;
  const client = {
    get: async (_url: string, opts: { headers: Record<string, string> }) => {
      accepts.push(opts.headers.accept ?? '');
      const b = bodies[Math.min(n++, bodies.length - 1)]!;
      return { status: 200, statusLine: '200 OK', headers: { 'content-type': contentType }, body: Buffer.from(b) };
    },
  } as unknown as HttpClient;
  const registry = new Registry();
  const loop = new ScrapeLoop(target, sc, client, {
    appendable,
    metrics: new ScrapeMetrics(registry),
    symbols: new SymbolTable(),
    logger: nopLogger,
    offsetSeed: 0,
    userAgent: 'test',
    createdTimestampZeroIngestion: ctZero,
  });
  return { loop, accepts, registry };
}

function latency(values: number[], schema = 3): NativeHistogram {
  const h = new NativeHistogram(schema);
  for (const v of values) h.observe(v);
  return h;
}

function family(name: string, hist: FamilyInit['metric'], type = MetricType.HISTOGRAM): FamilyInit {
  return { name, help: 'h', type, metric: hist };
}

interface Read {
  t: number;
  h: Histogram | FloatHistogram | null;
  v: number;
}

function read(db: Queryable, name: string): Map<string, Read[]> {
  const q = db.querier(-Infinity, Infinity);
  const ss = q.select(true, null, Matcher.create(MatchType.Equal, '__name__', name));
  const out = new Map<string, Read[]>();
  while (ss.next()) {
    const s = ss.at();
    const it = s.iterator();
    const rs: Read[] = [];
    for (let vt = it.next(); vt !== ValueType.None; vt = it.next()) {
      if (vt === ValueType.Histogram) rs.push({ t: it.t(), h: it.atHistogram!(), v: 0 });
      else if (vt === ValueType.FloatHistogram) rs.push({ t: it.t(), h: it.atFloatHistogram!(), v: 0 });
      else rs.push({ t: it.t(), h: null, v: it.v() });
    }
    out.set(s.labels.toString(), rs);
  }
  q.close();
  return out;
}

function upValue(db: MemoryStorage): number[] {
  return [...read(db, 'up').values()][0]!.map((r) => r.v);
}

async function counter(reg: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = reg.getSingleMetric(name);
  if (m === undefined) return 0;
  const vals = (await m.get()).values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
  return vals.reduce((a, v) => a + v.value, 0);
}

const SERIES = '{__name__="lat_seconds", instance="h:1", job="j"}';

test('native histograms are negotiated, scraped, stored and marked stale', async () => {
  const db = new MemoryStorage();
  const h1 = latency([0.1, 0.2, 0.2, 3, -1, 0]);
  const b1 = encodeFamilies([family('lat_seconds', [{ histogram: h1.message() }]), family('g', [{ gauge: { value: 7 } }], MetricType.GAUGE)]);
  const b2 = encodeFamilies([family('g', [{ gauge: { value: 8 } }], MetricType.GAUGE)]);
  const f = fixture({ scrapeNativeHistograms: true, scrapeProtocols: ['PrometheusProto', 'PrometheusText0.0.4'] }, db, [b1, b2]);
  await f.loop.scrapeAndReport(1000);
  await f.loop.scrapeAndReport(2000);
  assert.match(f.accepts[0]!, /^application\/vnd\.google\.protobuf;proto=io\.prometheus\.client\.MetricFamily;encoding=delimited;q=0\.6,text\/plain;version=0\.0\.4;q=0\.5,\*\/\*;q=0\.4$/);
  const got = read(db, 'lat_seconds').get(SERIES)!;
  assert.equal(got.length, 2);
  const h = got[0]!.h;
  assert.ok(h instanceof Histogram);
  assert.equal(h.count, 6);
  assert.equal(h.sum, 0.1 + 0.2 + 0.2 + 3 - 1 + 0);
  assert.equal(h.schema, 3);
  assert.equal(h.zeroCount, 1);
  assert.equal(got[1]!.t, 2000);
  assert.ok(got[1]!.h === null && isStaleNaN(got[1]!.v), 'the vanished histogram series got a staleness marker');
  assert.deepEqual(upValue(db), [1, 1]);
  // scrape_samples_scraped counts a histogram as one sample.
  assert.deepEqual([...read(db, 'scrape_samples_scraped').values()][0]!.map((r) => r.v), [2, 1]);
});

test('without scrape_native_histograms the classic series are scraped; always_scrape_classic_histograms keeps both', async () => {
  const msg = { ...latency([0.5, 2]).message(), bucket: [{ upperBound: 1, cumulativeCount: 1n }, { upperBound: 5, cumulativeCount: 2n }] };
  const body = encodeFamilies([family('lat_seconds', [{ histogram: msg }])]);
  const off = new MemoryStorage();
  await fixture({}, off, [body]).loop.scrapeAndReport(1000);
  assert.equal(read(off, 'lat_seconds').size, 0);
  // Sorted by labels: le="+Inf", le="1", le="5".
  assert.deepEqual([...read(off, 'lat_seconds_bucket').values()].map((r) => r[0]!.v), [2, 1, 2]);
  // A target label overrides the job's setting, as in Prometheus.
  const byLabel = new MemoryStorage();
  await fixture({}, byLabel, [body], PROTOBUF_CONTENT_TYPE, false, { __scrape_native_histograms__: 'true' }).loop.scrapeAndReport(1000);
  assert.ok(read(byLabel, 'lat_seconds').get(SERIES)![0]!.h instanceof Histogram);
  assert.equal(read(byLabel, 'lat_seconds_bucket').size, 0);
  const both = new MemoryStorage();
  await fixture({ scrapeNativeHistograms: true, alwaysScrapeClassicHistograms: true }, both, [body]).loop.scrapeAndReport(1000);
  assert.ok(read(both, 'lat_seconds').get(SERIES)![0]!.h instanceof Histogram);
  assert.equal(read(both, 'lat_seconds_count').get('{__name__="lat_seconds_count", instance="h:1", job="j"}')![0]!.v, 2);
});

test('convert_classic_histograms_to_nhcb turns text classic histograms into custom-bucket histograms', async () => {
  const text =
    '# TYPE req_seconds histogram\n' +
    'req_seconds_bucket{path="/a",le="0.1"} 1\nreq_seconds_bucket{path="/a",le="1"} 3\nreq_seconds_bucket{path="/a",le="+Inf"} 4\n' +
    'req_seconds_sum{path="/a"} 2.5\nreq_seconds_count{path="/a"} 4\n' +
    'req_seconds_bucket{path="/b",le="0.1"} 0\nreq_seconds_bucket{path="/b",le="1"} 0\nreq_seconds_bucket{path="/b",le="+Inf"} 1\n' +
    'req_seconds_sum{path="/b"} 9\nreq_seconds_count{path="/b"} 1\n' +
    '# TYPE other gauge\nother 1\n';
  const db = new MemoryStorage();
  await fixture({ convertClassicHistogramsToNhcb: true }, db, [text], 'text/plain; version=0.0.4').loop.scrapeAndReport(1000);
  const got = read(db, 'req_seconds');
  assert.deepEqual([...got.keys()], ['{__name__="req_seconds", instance="h:1", job="j", path="/a"}', '{__name__="req_seconds", instance="h:1", job="j", path="/b"}']);
  const a = got.get('{__name__="req_seconds", instance="h:1", job="j", path="/a"}')![0]!.h!;
  assert.equal(a.schema, -53);
  assert.deepEqual([...a.customValues], [0.1, 1]);
  assert.equal(a.count, 4);
  assert.equal(a.sum, 2.5);
  assert.equal(read(db, 'req_seconds_bucket').size, 0, 'classic series are not kept by default');
  assert.equal(read(db, 'other').size, 1);

  const keep = new MemoryStorage();
  await fixture({ convertClassicHistogramsToNhcb: true, alwaysScrapeClassicHistograms: true }, keep, [text], 'text/plain; version=0.0.4').loop.scrapeAndReport(1000);
  assert.equal(read(keep, 'req_seconds').size, 2);
  assert.equal(read(keep, 'req_seconds_bucket').size, 6);
});

test('bad histograms: spans not matching the buckets fail the scrape; invalid counts reject only that sample', async () => {
  const good = { gauge: { value: 1 } };
  const spansBad = encodeFamilies([family('lat_seconds', [{ histogram: { ...latency([1, 2]).message(), positiveSpan: [{ offset: 0, length: 5 }] } }]), family('g', [good], MetricType.GAUGE)]);
  const db = new MemoryStorage();
  const f = fixture({ scrapeNativeHistograms: true }, db, [spansBad]);
  await f.loop.scrapeAndReport(1000);
  assert.deepEqual(upValue(db), [0]);
  assert.match(f.loop.target.lastError(), /protobuf parsing failed at byte 0: histogram "lat_seconds": positive side: spans require 5 buckets, have/);
  assert.equal(read(db, 'g').size, 0);

  const negative = { ...latency([1, 2]).message(), positiveDelta: [1n, -3n] };
  const wrongCount = { ...latency([1, 2]).message(), sampleCount: 1n };
  const badSchema = { ...latency([1, 2]).message(), schema: 60 };
  const body = encodeFamilies([
    family('lat_seconds', [{ label: [{ name: 'k', value: 'neg' }], histogram: negative }, { label: [{ name: 'k', value: 'cnt' }], histogram: wrongCount }, { label: [{ name: 'k', value: 'schema' }], histogram: badSchema }, { label: [{ name: 'k', value: 'ok' }], histogram: latency([1]).message() }]),
    family('g', [good], MetricType.GAUGE),
  ]);
  const db2 = new MemoryStorage();
  const f2 = fixture({ scrapeNativeHistograms: true }, db2, [body]);
  await f2.loop.scrapeAndReport(1000);
  assert.deepEqual(upValue(db2), [1]);
  assert.deepEqual([...read(db2, 'lat_seconds').keys()], ['{__name__="lat_seconds", instance="h:1", job="j", k="ok"}']);
  assert.equal(read(db2, 'g').size, 1);
  assert.equal(await counter(f2.registry, 'tsprom_target_scrapes_histogram_rejected_total', { reason: 'invalid' }), 3);

  // A span claiming 2^32-1 buckets is refused without allocating them.
  const huge = encodeFamilies([family('lat_seconds', [{ histogram: { ...latency([1]).message(), positiveSpan: [{ offset: 0, length: 2 ** 32 - 1 }] } }])]);
  const dbHuge = new MemoryStorage();
  const fHuge = fixture({ scrapeNativeHistograms: true }, dbHuge, [huge]);
  await fHuge.loop.scrapeAndReport(1000);
  assert.match(fHuge.loop.target.lastError(), /spans require 4294967295 buckets, have 1/);

  const malformed = Buffer.from([0x05, 0x0a, 0x02, 0xff]);
  const db3 = new MemoryStorage();
  const f3 = fixture({ scrapeNativeHistograms: true }, db3, [malformed]);
  await f3.loop.scrapeAndReport(1000);
  assert.deepEqual(upValue(db3), [0]);
  assert.match(f3.loop.target.lastError(), /protobuf parsing failed at byte 0/);
});

test('native_histogram_bucket_limit lowers the schema, then fails the scrape; min_bucket_factor caps the schema', async () => {
  const wide = latency([1, 1.1, 1.2, 1.3, 1.5, 1.7, 2, 2.5, 3, 4], 3);
  const body = encodeFamilies([family('lat_seconds', [{ histogram: wide.message() }])]);
  const db = new MemoryStorage();
  await fixture({ scrapeNativeHistograms: true, nativeHistogramBucketLimit: 4 }, db, [body]).loop.scrapeAndReport(1000);
  const h = read(db, 'lat_seconds').get(SERIES)![0]!.h!;
  assert.ok(h.positiveBuckets.length <= 4 && h.schema < 3 && h.count === 10);

  const db2 = new MemoryStorage();
  await fixture({ scrapeNativeHistograms: true, nativeHistogramMinBucketFactor: 1.1 }, db2, [body]).loop.scrapeAndReport(1000);
  assert.equal(read(db2, 'lat_seconds').get(SERIES)![0]!.h!.schema, 2);

  const nhcb = '# TYPE r histogram\nr_bucket{le="1"} 1\nr_bucket{le="2"} 2\nr_bucket{le="3"} 3\nr_bucket{le="+Inf"} 3\nr_sum 5\nr_count 3\n';
  const db3 = new MemoryStorage();
  const f3 = fixture({ convertClassicHistogramsToNhcb: true, nativeHistogramBucketLimit: 2 }, db3, [nhcb], 'text/plain');
  await f3.loop.scrapeAndReport(1000);
  assert.deepEqual(upValue(db3), [0]);
  assert.equal(f3.loop.target.lastError(), 'histogram bucket limit exceeded');
  assert.equal(await counter(f3.registry, 'prometheus_target_scrapes_exceeded_native_histogram_bucket_limit_total'), 1);
});

test('sample_limit counts a native histogram as one sample', async () => {
  const body = encodeFamilies([family('lat_seconds', [{ label: [{ name: 'k', value: '1' }], histogram: latency([1]).message() }, { label: [{ name: 'k', value: '2' }], histogram: latency([2]).message() }]), family('g', [{ gauge: { value: 1 } }], MetricType.GAUGE)]);
  const db = new MemoryStorage();
  const f = fixture({ scrapeNativeHistograms: true, sampleLimit: 2 }, db, [body]);
  await f.loop.scrapeAndReport(1000);
  assert.equal(f.loop.target.lastError(), 'sample limit exceeded');
  const db2 = new MemoryStorage();
  const f2 = fixture({ scrapeNativeHistograms: true, sampleLimit: 3 }, db2, [body]);
  await f2.loop.scrapeAndReport(1000);
  assert.equal(f2.loop.target.lastError(), '');
  assert.equal(read(db2, 'lat_seconds').size, 2);
});

/** Records what a scrape appends; histograms only when `histograms` is set. */
function recorder(histograms: boolean): { appendable: Appendable; samples: [string, number, number | string][]; exemplars: [string, number][] } {
  const samples: [string, number, number | string][] = [];
  const exemplars: [string, number][] = [];
  const app: Appender = {
    append: (_r: SeriesRef, l: Labels, t: number, v: number) => (samples.push([l.toString(), t, v]), 1),
    appendExemplar: (_r: SeriesRef, l: Labels, e: Exemplar) => (exemplars.push([l.toString() + e.labels.toString(), e.ts]), 1),
    commit: () => {},
    rollback: () => {},
  };
  if (histograms) app.appendHistogram = (_r, l, t, h, fh) => (samples.push([l.toString(), t, `h${(h ?? fh)!.count}`]), 1);
  return { appendable: { appender: () => app }, samples, exemplars };
}

test('a storage without histogram support rejects and counts them; the rest of the scrape goes in', async () => {
  const body = encodeFamilies([family('lat_seconds', [{ histogram: latency([1]).message() }]), family('g', [{ gauge: { value: 1 } }], MetricType.GAUGE)]);
  const r = recorder(false);
  const f = fixture({ scrapeNativeHistograms: true }, r.appendable, [body]);
  await f.loop.scrapeAndReport(1000);
  assert.ok(r.samples.some(([l, , v]) => l.startsWith('{__name__="g"') && v === 1));
  assert.ok(r.samples.some(([l, , v]) => l.startsWith('{__name__="up"') && v === 1));
  assert.equal(await counter(f.registry, 'tsprom_target_scrapes_histogram_rejected_total', { reason: 'unsupported' }), 1);
});

test('histogram exemplars (with timestamps only) and created timestamps', async () => {
  const ex = (id: string, tsS: number | null) => ({ label: [{ name: 'trace_id', value: id }], value: 1, ...(tsS === null ? {} : { timestamp: { seconds: BigInt(tsS), nanos: 0 } }) });
  const msg = { ...latency([1, 2]).message(), exemplars: [ex('b', 900), ex('a', 800), ex('none', null)], createdTimestamp: { seconds: 500n, nanos: 0 } };
  const body = encodeFamilies([family('lat_seconds', [{ histogram: msg }]), family('c', [{ counter: { value: 3, createdTimestamp: { seconds: 400n, nanos: 0 } } }], MetricType.COUNTER)]);
  const r = recorder(true);
  await fixture({ scrapeNativeHistograms: true }, r.appendable, [body], PROTOBUF_CONTENT_TYPE, true).loop.scrapeAndReport(1_000_000);
  assert.deepEqual(r.exemplars, [
    [SERIES + '{trace_id="a"}', 800_000],
    [SERIES + '{trace_id="b"}', 900_000],
  ]);
  assert.deepEqual(
    r.samples.filter(([l]) => !l.includes('scrape_') && !l.startsWith('{__name__="up"')),
    [
      [SERIES, 500_000, 'h0'],
      [SERIES, 1_000_000, 'h2'],
      ['{__name__="c", instance="h:1", job="j"}', 400_000, 0],
      ['{__name__="c", instance="h:1", job="j"}', 1_000_000, 3],
    ],
  );
});

test('in the TSDB, a histogram series that vanishes gets a histogram staleness marker', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'scrape-nh-'));
  const db = await openDB(dir, { maintenanceIntervalMs: 0 });
  try {
    const b1 = encodeFamilies([family('lat_seconds', [{ histogram: latency([1, 2]).message() }])]);
    const b2 = encodeFamilies([family('g', [{ gauge: { value: 1 } }], MetricType.GAUGE)]);
    const now = Date.now();
    const f = fixture({ scrapeNativeHistograms: true }, db, [b1, b2]);
    await f.loop.scrapeAndReport(now);
    await f.loop.scrapeAndReport(now + 1000);
    const got = read(db, 'lat_seconds').get(SERIES)!;
    assert.equal(got.length, 2);
    assert.equal(got[0]!.h!.count, 2);
    assert.ok(got[1]!.h !== null && isStaleNaN(got[1]!.h.sum), 'a stale histogram');
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
