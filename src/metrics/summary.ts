// A summary with Prometheus's client_golang semantics and cost: targeted
// quantiles by the CKMS algorithm (Cormode, Korn, Muthukrishnan, Srivastava,
// "Effective computation of biased quantiles over data streams", 2005) over a
// sliding window of age buckets. prom-client's Summary feeds every value into
// a t-digest tree per age bucket (tens of microseconds a value); here a value
// is appended to a buffer, and each stream sorts and merges its buffer in
// batches. Scraped as prom-client's summaries are (same names, types, labels).
import { Summary, type LabelValues, type SummaryConfiguration } from 'prom-client';

/** Values each stream buffers before merging them into its samples. */
const STREAM_BUFFER = 500;

/** Prometheus's default error bounds of a summary's quantiles (rank error, as a fraction of the count). */
const DEFAULT_OBJECTIVES: ReadonlyMap<number, number> = new Map([
  [0.5, 0.05],
  [0.9, 0.01],
  [0.99, 0.001],
]);

interface Target {
  readonly q: number;
  readonly eps: number;
}

/** One CKMS stream: samples (value, width g, rank uncertainty delta) sorted by value, plus unmerged values. */
export class QuantileStream {
  private v = new Float64Array(64);
  private g = new Float64Array(64);
  private d = new Float64Array(64);
  private len = 0;
  /** Values merged so far (sum of widths). */
  private n = 0;
  private readonly buf = new Float64Array(STREAM_BUFFER);
  private bufLen = 0;

  constructor(private readonly targets: readonly Target[]) {}

  insert(x: number): void {
    this.buf[this.bufLen++] = x;
    if (this.bufLen === STREAM_BUFFER) this.flush();
  }

  reset(): void {
    this.len = 0;
    this.n = 0;
    this.bufLen = 0;
  }

  /** The q-quantile within the targets' error; NaN when empty. */
  query(q: number): number {
    if (this.n === 0) {
      // Nothing merged yet: the buffer holds every value, so answer exactly.
      const l = this.bufLen;
      if (l === 0) return NaN;
      const sorted = this.buf.subarray(0, l).sort();
      return sorted[Math.max(0, Math.ceil(l * q) - 1)]!;
    }
    this.flush();
    let t = Math.ceil(q * this.n);
    t += Math.ceil(this.allowed(t) / 2);
    const { v, g, d } = this;
    let r = 0;
    for (let i = 1; i < this.len; i++) {
      r += g[i - 1]!;
      if (r + g[i]! + d[i]! > t) return v[i - 1]!;
    }
    return v[this.len - 1]!;
  }

  /** Largest width plus delta a sample at rank r may have: the tightest of the targets' bounds. */
  private allowed(r: number): number {
    let m = Infinity;
    for (const { q, eps } of this.targets) {
      const f = q * this.n <= r ? (2 * eps * r) / q : (2 * eps * (this.n - r)) / (1 - q);
      if (f < m) m = f;
    }
    return m;
  }

  /** Merges the buffered values (sorted) into the samples, then compresses them. */
  private flush(): void {
    const k = this.bufLen;
    if (k === 0) return;
    const xs = this.buf.subarray(0, k).sort();
    this.bufLen = 0;
    const need = this.len + k;
    const v = new Float64Array(Math.max(64, need));
    const g = new Float64Array(v.length);
    const d = new Float64Array(v.length);
    const { v: ov, g: og, d: od } = this;
    let i = 0;
    let o = 0;
    let r = 0;
    for (let j = 0; j < k; j++) {
      const x = xs[j]!;
      // Existing samples up to x stay ahead of it (equal values too).
      while (i < this.len && ov[i]! <= x) {
        v[o] = ov[i]!;
        g[o] = og[i]!;
        d[o] = od[i]!;
        r += og[i]!;
        o++;
        i++;
      }
      v[o] = x;
      g[o] = 1;
      // Past the largest sample the rank is known exactly; inside, it is as uncertain as the bound there allows.
      d[o] = i < this.len ? Math.max(0, Math.floor(this.allowed(r)) - 1) : 0;
      o++;
      this.n++;
      r++;
    }
    while (i < this.len) {
      v[o] = ov[i]!;
      g[o] = og[i]!;
      d[o] = od[i]!;
      o++;
      i++;
    }
    this.v = v;
    this.g = g;
    this.d = d;
    this.len = o;
    this.compress();
  }

  /** From the top down, folds a sample into its upper neighbour while their widths stay within the bound. */
  private compress(): void {
    if (this.len < 2) return;
    const { v, g, d } = this;
    let w = this.len - 1;
    let r = this.n - 1 - g[w]!;
    for (let i = this.len - 2; i >= 0; i--) {
      const gi = g[i]!;
      if (gi + g[w]! + d[w]! <= this.allowed(r)) {
        g[w]! += gi;
      } else {
        w--;
        v[w] = v[i]!;
        g[w] = gi;
        d[w] = d[i]!;
      }
      r -= gi;
    }
    if (w > 0) {
      v.copyWithin(0, w, this.len);
      g.copyWithin(0, w, this.len);
      d.copyWithin(0, w, this.len);
    }
    this.len -= w;
  }
}

/** One label set's window: a stream per age bucket, the newest-expiring one answering queries. */
export class SummaryChild {
  private readonly streams: QuantileStream[];
  private head = 0;
  private headExpiresMs: number;
  count = 0;
  sum = 0;

  constructor(
    targets: readonly Target[],
    ageBuckets: number,
    private readonly bucketMs: number,
    nowMs: number,
    readonly labels: LabelValues<string>,
  ) {
    this.streams = Array.from({ length: ageBuckets }, () => new QuantileStream(targets));
    this.headExpiresMs = nowMs + bucketMs;
  }

  observe(x: number, nowMs: number): void {
    this.rotate(nowMs);
    for (const s of this.streams) s.insert(x);
    this.count++;
    this.sum += x;
  }

  quantile(q: number, nowMs: number): number {
    this.rotate(nowMs);
    return this.streams[this.head]!.query(q);
  }

  reset(): void {
    for (const s of this.streams) s.reset();
    this.count = 0;
    this.sum = 0;
  }

  /** The head stream has seen the whole window; when its bucket time is up it starts afresh and the next one leads. */
  private rotate(nowMs: number): void {
    if (nowMs - this.headExpiresMs >= this.bucketMs * this.streams.length) {
      // The whole window has passed (a long quiet spell, a clock jump): start it afresh in one step.
      for (const s of this.streams) s.reset();
      this.headExpiresMs = nowMs + this.bucketMs;
      return;
    }
    while (nowMs >= this.headExpiresMs) {
      this.streams[this.head]!.reset();
      this.head = (this.head + 1) % this.streams.length;
      this.headExpiresMs += this.bucketMs;
    }
  }
}

export interface WindowedSummaryConfig<T extends string> extends SummaryConfiguration<T> {
  /** Quantile -> allowed rank error; default Prometheus's {0.5: 0.05, 0.9: 0.01, 0.99: 0.001}. */
  objectives?: ReadonlyMap<number, number>;
  /** Clock (ms); default Date.now. */
  now?: () => number;
}

/**
 * A prom-client Summary (registered and scraped as one) whose values are kept
 * by SummaryChild. Use observe or child(labels).observe; prom-client's labels(),
 * startTimer() and remove() are not backed by it.
 */
export class WindowedSummary<T extends string = string> extends Summary<T> {
  private readonly windows = new Map<string, SummaryChild>();
  private readonly objectiveList: Target[];
  private readonly ranks: number[];
  private readonly bucketCount: number;
  private readonly bucketMs: number;
  private readonly clock: () => number;
  private readonly baseName: string;
  private readonly keyNames: readonly string[];
  private readonly collectHook: (() => unknown) | undefined;

  constructor(cfg: WindowedSummaryConfig<T>) {
    const objectives = cfg.objectives ?? DEFAULT_OBJECTIVES;
    const { collect, ...rest } = cfg;
    super({ ...rest, percentiles: [...objectives.keys()] });
    this.objectiveList = [...objectives].map(([q, eps]) => ({ q, eps }));
    this.ranks = [...objectives.keys()].sort((a, b) => a - b);
    this.bucketCount = cfg.ageBuckets ?? 5;
    this.bucketMs = ((cfg.maxAgeSeconds ?? 600) * 1000) / this.bucketCount;
    this.clock = cfg.now ?? Date.now;
    this.baseName = cfg.name;
    this.keyNames = [...(cfg.labelNames ?? [])].sort();
    this.collectHook = collect === undefined ? undefined : () => collect.call(this);
  }

  /** The window of one label set, to observe into without hashing labels each time. */
  child(labels: LabelValues<T>): SummaryChild {
    const key = this.keyNames.map((n) => String((labels as Record<string, string | number | undefined>)[n] ?? '')).join('\u0000');
    let c = this.windows.get(key);
    if (c === undefined) {
      c = new SummaryChild(this.objectiveList, this.bucketCount, this.bucketMs, this.clock(), { ...labels });
      this.windows.set(key, c);
    }
    return c;
  }

  override observe(value: number): void;
  override observe(labels: LabelValues<T>, value: number): void;
  override observe(a: number | LabelValues<T>, b?: number): void {
    const labels = typeof a === 'number' ? ({} as LabelValues<T>) : a;
    const x = typeof a === 'number' ? a : b;
    if (x === undefined || !Number.isFinite(x)) throw new TypeError(`Value is not a valid number: ${String(x)}`);
    this.child(labels).observe(x, this.clock());
  }

  override async get(): ReturnType<Summary<T>['get']> {
    await this.collectHook?.();
    const now = this.clock();
    const values: Awaited<ReturnType<Summary<T>['get']>>['values'] = [];
    for (const c of this.windows.values()) {
      for (const q of this.ranks) values.push({ labels: { quantile: q, ...c.labels } as LabelValues<T>, value: c.quantile(q, now) });
      values.push({ metricName: `${this.baseName}_sum`, labels: c.labels as LabelValues<T>, value: c.sum });
      values.push({ metricName: `${this.baseName}_count`, labels: c.labels as LabelValues<T>, value: c.count });
    }
    const base = await super.get();
    return { ...base, values };
  }

  override reset(): void {
    // prom-client's constructor calls reset() before this class's fields exist.
    const windows = this.windows as Map<string, SummaryChild> | undefined;
    if (windows === undefined) return;
    for (const c of windows.values()) c.reset();
  }
}
