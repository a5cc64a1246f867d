// The query half of `npm run bench -- histograms`: histogram_quantile(0.9,
// rate(...[5m])) as a range query over 1k native histogram series, next to
// the same query over classic buckets holding the same information (one
// `_bucket` series per bucket bound the native histograms use, cumulative
// counts). Both live in the in-memory store, so the engine alone is measured.
// The data: per series a 20-bucket-ish exponential histogram (schema 3,
// latencies around 100 ms) scraped every 15 s for an hour.
import { FloatHistogram, exponentialBound, type Span } from '../src/model/histogram.js';
import { Labels } from '../src/model/labels.js';
import { formatG } from '../src/gofmt/float.js';
import { Engine } from '../src/promql/engine/engine.js';
import { MemoryStorage } from '../src/storage/memory.js';

const STEP = 15_000;
const SCHEMA = 3;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface QueryBenchResult {
  series: number;
  /** Histogram samples the windows of the query read (each once per step it falls in). */
  nativeSamplesPerSec: number;
  /** Classic histograms (a sample of every bucket series) per second, for the same query. */
  classicHistogramsPerSec: number;
  /** native / classic throughput, in histograms per second. */
  ratio: number;
  bucketsPerHistogram: number;
}

export async function histogramQueryBench(series: number, hours: number): Promise<QueryBenchResult> {
  const native = new MemoryStorage();
  const classic = new MemoryStorage();
  const points = (hours * 3600_000) / STEP;
  let bucketSlots = 0;
  for (let s = 0; s < series; s++) {
    const r = rng(s + 1);
    const counts = new Map<number, number>();
    let count = 0;
    let sum = 0;
    const na = native.appender();
    const ca = classic.appender();
    const inst = `host-${s}:9100`;
    // The bucket bounds this series uses over the hour (fixed up front so classic series exist from the start).
    const lo = Math.ceil(Math.log2(0.05) * 2 ** SCHEMA);
    const hi = Math.ceil(Math.log2(0.2) * 2 ** SCHEMA);
    for (let k = 0; k < points; k++) {
      const n = 50 + Math.floor(r() * 100);
      for (let j = 0; j < n; j++) {
        const u = Math.max(r(), 1e-12);
        const g = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
        const v = 0.1 * Math.exp(0.2 * g);
        sum += v;
        const idx = Math.min(hi, Math.max(lo, Math.ceil(Math.log2(v) * 2 ** SCHEMA)));
        counts.set(idx, (counts.get(idx) ?? 0) + 1);
      }
      count += n;
      const t = k * STEP;
      const spans: Span[] = [{ offset: lo, length: hi - lo + 1 }];
      const buckets = new Float64Array(hi - lo + 1);
      for (let i = lo; i <= hi; i++) buckets[i - lo] = counts.get(i) ?? 0;
      bucketSlots += buckets.length;
      na.appendHistogram!(0, Labels.fromPairs('__name__', 'http_request_duration_seconds', 'instance', inst), t, null, new FloatHistogram({ schema: SCHEMA, count, sum, positiveSpans: spans, positiveBuckets: buckets }));
      let cum = 0;
      for (let i = lo; i <= hi; i++) {
        cum += counts.get(i) ?? 0;
        ca.append(0, Labels.fromPairs('__name__', 'http_request_duration_seconds_bucket', 'instance', inst, 'le', formatG(exponentialBound(i, SCHEMA))), t, cum);
      }
      ca.append(0, Labels.fromPairs('__name__', 'http_request_duration_seconds_bucket', 'instance', inst, 'le', '+Inf'), t, count);
    }
    na.commit();
    ca.commit();
  }
  const engine = new Engine({ maxSamples: 1e9, timeoutMs: 600_000 });
  const start = 10 * 60_000;
  const end = hours * 3600_000 - STEP;
  const step = 60_000;
  const steps = Math.floor((end - start) / step) + 1;
  // Every step's 5m window holds 20 samples per series.
  const windowSamples = steps * series * (300_000 / STEP);
  const time = async (db: MemoryStorage, q: string): Promise<number> => {
    await engine.newRangeQuery(db, q, start, end, step).exec(); // warm-up
    const t0 = performance.now();
    const res = await engine.newRangeQuery(db, q, start, end, step).exec();
    const ms = performance.now() - t0;
    if (res.value.type !== 'matrix' || res.value.series.length !== series) throw new Error(`${q}: unexpected result`);
    return ms;
  };
  const nativeMs = await time(native, 'histogram_quantile(0.9, rate(http_request_duration_seconds[5m]))');
  const classicMs = await time(classic, 'histogram_quantile(0.9, rate(http_request_duration_seconds_bucket[5m]))');
  const nativeRate = (windowSamples / nativeMs) * 1000;
  const classicRate = (windowSamples / classicMs) * 1000;
  return {
    series,
    nativeSamplesPerSec: Math.round(nativeRate),
    classicHistogramsPerSec: Math.round(classicRate),
    ratio: Number((nativeRate / classicRate).toFixed(2)),
    bucketsPerHistogram: Number((bucketSlots / (series * points)).toFixed(1)),
  };
}
