// Native histograms against Debian's Prometheus 2.42 (--enable-feature=native-histograms):
// 1. Side by side: Prometheus and tsprom (scrape manager, TSDB, engine) scrape our
//    protobuf exporter (two integer counter histograms, one float gauge histogram);
//    the stored samples and histogram_count, histogram_sum and
//    histogram_quantile(0.9, rate(x[1m])) agree.
// 2. Prometheus remote-writes the histograms it scraped (send_native_histograms) into
//    tsprom's receiver; what arrives equals what Prometheus stored.
// 3. The same through a tsprom server process (which also scrapes the exporter):
//    its query API's `histograms` equal Prometheus's, for both paths.
//
// The exporter serves a step function of time with explicit timestamps (one step
// per second, scraped four times a step), starting once both servers have scraped
// it, so both store exactly the same samples whatever their scrape phases.
//
// 2.42 is older than the Prometheus 3.x tsprom follows, in two ways that show here:
// - histogram_quantile interpolates linearly inside an exponential bucket in 2.42 and
//   exponentially (uniform in log space) in 3.x. Both land in the same bucket, so
//   the quantiles are compared by bucket.
// - rate() of a series starting inside the window: 3.x stops the start extrapolation
//   at the histogram's zero point (where its count would reach 0), as it always did
//   for floats; 2.42 does that for floats only. With an empty first histogram the
//   rates differ (2.42 gave 4.5 where 3.x gives 4.4), so the exporter's first sample
//   already holds a step of observations: the zero point then lies beyond the half
//   interval both extrapolate by, and the rates agree exactly.
// - Range selectors: 2.42's include a sample exactly at the window's start, 3.x's
//   (left-open) do not. Queries are evaluated half a step off the sample grid, so
//   no sample sits on a window's edge.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { type FloatHistogram, Histogram } from '../src/model/histogram.js';
import { Matcher, MatchType } from '../src/model/matcher.js';
import { Engine } from '../src/promql/engine/engine.js';
import { RemoteWriteHandler } from '../src/remote/write_handler.js';
import { ScrapeManager } from '../src/scrape/manager.js';
import { ValueType, type Queryable } from '../src/storage/interface.js';
import { openDB, type DB } from '../src/tsdb/db.js';
import { until } from './alertmanager_process.js';
import { config, scrapeConfig } from './fixtures/scrape/helpers.js';
import { freePort } from './free_port.js';
import { encodeFamilies, MetricType, NativeHistogram, NativeHistogramExporter, type HistogramMessage } from './native_histogram_exporter.js';
import { startPrometheus, type Prometheus } from './prometheus_process.js';
import { startTsprom, type Tsprom } from './api_process.js';

const STEP_MS = 1000;
const SCHEMAS: Record<string, number> = { '/a': 3, '/b': 0 };
/** Every histogram series served: the counters by path, and a float gauge histogram. */
const SERIES: readonly { name: string; path: string }[] = [
  { name: 'req_seconds', path: '/a' },
  { name: 'req_seconds', path: '/b' },
  { name: 'queue_size', path: '' },
];
const selector = (s: { name: string; path: string }): string => (s.path === '' ? s.name : `${s.name}{path="${s.path}"}`);

/** Step j's observations: spread over several octaves, a few negative and zero ones. */
function observations(j: number, path: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < 12; i++) {
    const x = ((j * 37 + i * 101 + (path === '/a' ? 0 : 53)) % 997) / 997;
    out.push(i === 11 ? 0 : i === 10 ? -x * 3 : 0.001 * 2 ** (x * 14));
  }
  return out;
}

/** A float gauge histogram that rises and falls with the step. */
function gaugeHistogram(step: number): HistogramMessage {
  const counts = [0.5 + (step % 5), 2.25, 1 + ((step * 3) % 7) / 4];
  const zero = (step % 3) / 2;
  return {
    sampleCountFloat: counts.reduce((a, b) => a + b, zero),
    sampleSum: 10 + (step % 11),
    schema: 0,
    zeroThreshold: 1e-3,
    zeroCountFloat: zero,
    positiveSpan: [{ offset: 1, length: 3 }],
    positiveCount: counts,
  };
}

/** Cumulative histograms per path, advanced one step at a time. */
class Source {
  private readonly hists = new Map<string, NativeHistogram>();
  private readonly agents = new Set<string>();
  private step = -1;
  private first = -1;

  /** Steps served so far. */
  steps(): number {
    return this.first < 0 ? 0 : this.step - this.first;
  }

  body(userAgent: string): Buffer {
    const k = Math.floor(Date.now() / STEP_MS);
    if (this.step < 0) {
      // Nothing until both scrapers are scraping; then from a step both will see.
      this.agents.add(userAgent.startsWith('Prometheus/') ? 'prometheus' : userAgent);
      if (this.agents.size < 2) return Buffer.alloc(0);
      this.step = k + 2;
      this.first = this.step;
      for (const p of Object.keys(SCHEMAS)) {
        const h = new NativeHistogram(SCHEMAS[p]);
        // The first sample is not empty (see the header: 2.42's start extrapolation).
        for (const v of observations(this.step, p)) h.observe(v);
        this.hists.set(p, h);
      }
    }
    if (k < this.step) return Buffer.alloc(0);
    while (this.step < k) {
      this.step++;
      for (const [p, h] of this.hists) for (const v of observations(this.step, p)) h.observe(v);
    }
    const ts = BigInt(this.step * STEP_MS);
    return encodeFamilies([
      {
        name: 'req_seconds',
        help: 'Request latency.',
        type: MetricType.HISTOGRAM,
        metric: [...this.hists].map(([path, h]) => ({ label: [{ name: 'path', value: path }], histogram: h.message(), timestampMs: ts })),
      },
      { name: 'queue_size', help: 'A float gauge histogram.', type: MetricType.GAUGE_HISTOGRAM, metric: [{ histogram: gaugeHistogram(this.step), timestampMs: ts }] },
    ]);
  }
}

interface PromHistogram {
  count: string;
  sum: string;
  buckets?: [number, string, string, string][];
}

async function promQuery(prom: Prometheus, q: string, t: number): Promise<{ metric: Record<string, string>; value?: [number, string]; histogram?: [number, PromHistogram]; histograms?: [number, PromHistogram][] }[]> {
  const res = await fetch(`${prom.base}/api/v1/query?query=${encodeURIComponent(q)}&time=${t / 1000}`);
  const body = (await res.json()) as { status: string; data: { result: never[] }; error?: string };
  assert.equal(body.status, 'success', `${q}: ${body.error}`);
  return body.data.result;
}

/** Non-empty buckets as [lower, upper, count], for comparing with the API's text. */
function bucketsOf(h: Histogram | FloatHistogram): [number, number, number][] {
  const f = h instanceof Histogram ? h.toFloat() : h;
  return [...f.allBucketIterator()].filter((b) => b.count !== 0).map((b) => [b.lower, b.upper, b.count]);
}

function promBuckets(h: PromHistogram): [number, number, number][] {
  return (h.buckets ?? []).map(([, lo, hi, c]) => [Number(lo), Number(hi), Number(c)] as [number, number, number]).filter((b) => b[2] !== 0);
}

/** Every histogram sample of a series in (from, to], from tsprom's storage. */
function storedHistograms(db: Queryable, series: { name: string; path: string }, from: number, to: number): { t: number; h: Histogram | FloatHistogram }[] {
  const q = db.querier(from + 1, to);
  const ss = q.select(true, null, Matcher.create(MatchType.Equal, '__name__', series.name), Matcher.create(MatchType.Equal, 'path', series.path));
  const out: { t: number; h: Histogram | FloatHistogram }[] = [];
  while (ss.next()) {
    const it = ss.at().iterator();
    for (let vt = it.next(); vt !== ValueType.None; vt = it.next()) {
      if (vt === ValueType.Histogram) out.push({ t: it.t(), h: it.atHistogram!() });
      else if (vt === ValueType.FloatHistogram) out.push({ t: it.t(), h: it.atFloatHistogram!() });
    }
  }
  q.close();
  return out;
}

/** The exponential bucket index holding v at a schema (upper bound 2^(i/2^schema)). */
function bucketIndex(v: number, schema: number): number {
  return Math.ceil(Math.log2(Math.abs(v)) * 2 ** schema - 1e-9);
}

describe('native histograms with Prometheus 2.42', { timeout: 180_000 }, () => {
  let exporter: NativeHistogramExporter;
  let prom: Prometheus;
  let db: DB;
  let dir: string;
  let manager: ScrapeManager;
  let receiver: http.Server;
  let receiverDb: DB;
  let receiverDir: string;
  let received = 0;
  let server: Tsprom;
  let source: Source;

  before(async () => {
    source = new Source();
    exporter = new NativeHistogramExporter((_n, ua) => source.body(ua));
    const addr = await exporter.start();

    receiverDir = mkdtempSync(join(tmpdir(), 'nh-rw-'));
    receiverDb = await openDB(receiverDir, { maintenanceIntervalMs: 0 });
    const handler = new RemoteWriteHandler({ storage: receiverDb, registry: new Registry() });
    server = await startTsprom({
      args: ['--web.enable-remote-write-receiver'],
      config:
        `scrape_configs:\n  - job_name: nh\n    scrape_interval: 250ms\n    scrape_timeout: 200ms\n    scrape_native_histograms: true\n` +
        `    static_configs:\n      - targets: ['${addr}']\n        labels: {via: tsprom}\n`,
    });
    const rwPort = await freePort();
    receiver = http.createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const r = handler.handle(req.headers, Buffer.concat(parts));
        if (r.status === 204) received++;
        res.writeHead(r.status, r.headers);
        res.end(r.body);
      });
    });
    await new Promise<void>((r) => receiver.listen(rwPort, '127.0.0.1', r));

    prom = await startPrometheus(
      `global:\n  scrape_interval: 250ms\n  scrape_timeout: 200ms\n` +
        `scrape_configs:\n  - job_name: nh\n    static_configs:\n      - targets: ['${addr}']\n` +
        `remote_write:\n  - url: http://127.0.0.1:${rwPort}/api/v1/write\n    send_native_histograms: true\n    queue_config:\n      batch_send_deadline: 1s\n` +
        `  - url: ${server.base}/api/v1/write\n    send_native_histograms: true\n    queue_config:\n      batch_send_deadline: 1s\n`,
      ['--enable-feature=native-histograms'],
    );

    dir = mkdtempSync(join(tmpdir(), 'nh-side-'));
    db = await openDB(dir, { maintenanceIntervalMs: 0 });
    manager = new ScrapeManager({ appendable: db, registry: new Registry(), discoveryUpdateIntervalMs: 20 });
    manager.applyConfig(
      config([scrapeConfig({ jobName: 'nh', scrapeIntervalMs: 250, scrapeTimeoutMs: 200, scrapeNativeHistograms: true, scrapeProtocols: ['PrometheusProto', 'PrometheusText0.0.4'], staticConfigs: [{ targets: [addr], labels: {} }] })]),
    );
    // 25 steps: the windows at the compared times hold 15 or more samples.
    await until(async () => (source.steps() >= 25 ? true : null), '25 steps scraped by both', 90_000);
  });

  after(async () => {
    await manager?.stop();
    await prom?.stop();
    await server?.stop();
    await exporter?.stop();
    await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
    await db?.close();
    await receiverDb?.close();
    for (const d of [dir, receiverDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  test('both scrapers negotiate protobuf', () => {
    assert.ok(exporter.accepts.some((a) => a.startsWith('application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,text/plain;version=0.0.4;q=0.5')), 'tsprom asked for protobuf first');
    assert.ok(exporter.accepts.some((a) => a.startsWith('application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.')), "Prometheus's own Accept");
  });

  test('stored samples and histogram_count, histogram_sum, histogram_quantile(0.9, rate(x[1m])) agree', async () => {
    const engine = new Engine({});
    const last = Math.floor(Date.now() / STEP_MS) * STEP_MS - 3 * STEP_MS - STEP_MS / 2;
    for (const t of [last, last - 2 * STEP_MS, last - 7 * STEP_MS]) {
      for (const sr of SERIES) {
        const path = selector(sr);
        const theirs = await promQuery(prom, `${path}[30s]`, t);
        const ours = storedHistograms(db, sr, t - 30_000, t);
        const theirSamples = theirs[0]!.histograms!;
        assert.ok(theirSamples.length >= 15, `Prometheus holds ${theirSamples.length} samples`);
        assert.deepEqual(ours.map((s) => s.t), theirSamples.map(([ts]) => Math.round(ts * 1000)), `${path}: same sample timestamps`);
        for (const [i, s] of ours.entries()) {
          const p = theirSamples[i]![1];
          assert.equal(s.h.count, Number(p.count));
          assert.equal(s.h.sum, Number(p.sum));
          assert.deepEqual(bucketsOf(s.h), promBuckets(p), `${path} at ${s.t}: same buckets`);
        }
      }
      const queries = [
        'histogram_count(req_seconds)',
        'histogram_sum(req_seconds)',
        'histogram_count(rate(req_seconds[1m]))',
        'histogram_quantile(0.9, rate(req_seconds[1m]))',
        'histogram_count(queue_size)',
        'histogram_sum(queue_size)',
      ];
      for (const q of queries) {
        const theirs = await promQuery(prom, q, t);
        const res = await engine.newInstantQuery(db, q, t).exec();
        assert.equal(res.value.type, 'vector', q);
        const ours = new Map(res.value.samples.map((s) => [s.metric.get('path'), s.f]));
        assert.equal(theirs.length, q.includes('queue_size') ? 1 : 2, `${q}: every series`);
        assert.equal(ours.size, theirs.length, `${q}: as many series`);
        for (const r of theirs) {
          const want = Number(r.value![1]);
          const got = ours.get(r.metric.path ?? '')!;
          if (q.startsWith('histogram_quantile')) {
            // Linear (2.42) vs exponential (3.x) interpolation inside the same bucket.
            const schema = SCHEMAS[r.metric.path!]!;
            assert.equal(bucketIndex(got, schema), bucketIndex(want, schema), `${q} ${r.metric.path}: ${got} and ${want} in the same bucket`);
          } else {
            assert.ok(Math.abs(got - want) <= 1e-12 * Math.abs(want), `${q} ${r.metric.path}: ${got} vs ${want}`);
          }
        }
      }
    }
  });

  test('Prometheus remote-writes its native histograms into tsprom and they round-trip', async () => {
    await until(async () => (received >= 3 ? true : null), 'three remote-write requests stored', 60_000);
    const to = Math.floor(Date.now() / STEP_MS) * STEP_MS;
    for (const sr of SERIES) {
      const path = selector(sr);
      const got = storedHistograms(receiverDb, sr, 0, to);
      assert.ok(got.length >= 5, `${path}: ${got.length} histograms received`);
      const theirs = await promQuery(prom, `${path}[5m]`, to);
      const byT = new Map(theirs[0]!.histograms!.map(([ts, h]) => [Math.round(ts * 1000), h]));
      for (const s of got) {
        const p = byT.get(s.t);
        assert.ok(p !== undefined, `${path}: Prometheus has the sample at ${s.t}`);
        assert.equal(s.h.count, Number(p.count));
        assert.equal(s.h.sum, Number(p.sum));
        assert.deepEqual(bucketsOf(s.h), promBuckets(p));
      }
    }
  });

  test("a tsprom server's query API gives the histograms Prometheus gives, scraped or remote-written", async () => {
    const t = Math.floor(Date.now() / STEP_MS) * STEP_MS - 3 * STEP_MS - STEP_MS / 2;
    const get = async (base: string, q: string): Promise<Record<string, unknown>[]> => {
      const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(q)}&time=${t / 1000}`);
      const body = (await res.json()) as { status: string; data: { result: Record<string, unknown>[] } };
      assert.equal(body.status, 'success', q);
      return body.data.result;
    };
    for (const sr of SERIES) {
      const m = `${sr.name}{path="${sr.path}"`;
      const theirs = (await get(prom.base, `${m}}[20s]`))[0]!;
      for (const sel of [`via="tsprom"`, `via=""`]) {
        const q = `${m},${sel}}[20s]`;
        const ours = await until(async () => {
          const r = await get(server.base, q);
          return r.length === 1 && JSON.stringify(r[0]!.histograms) === JSON.stringify(theirs.histograms) ? r : null;
        }, `${q}: tsprom's answer equals Prometheus's`, 20_000).catch(async () => get(server.base, q));
        assert.equal(ours.length, 1, q);
        assert.deepEqual(ours[0]!.histograms, theirs.histograms, q);
      }
      const inst = await get(server.base, `${m},via="tsprom"}`);
      const theirInst = await get(prom.base, `${m}}`);
      assert.deepEqual(inst[0]!.histogram, theirInst[0]!.histogram);
    }
  });
});
