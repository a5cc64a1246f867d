// The rules bench's data and rule files, generated the same way for tsprom and Prometheus.
//
// Data: 10,000 series of four families on 200 targets (10 jobs x 20 instances), one
// sample every 15s:
//   http_requests_total{job,instance,method,handler,code}   6,000 counters (5 handlers x 2 methods x 3 codes)
//   http_request_duration_seconds_{bucket,sum,count}        2,400 (a classic histogram, 10 buckets)
//   8 process/node gauges {job,instance}                    1,600
// Values are functions of the step number only, and both servers get identical samples.
// Counters are integers growing by a fixed amount per step (as real request counters, so
// their XOR chunks are as compact as real ones), so a rate does not depend on where an
// evaluation falls between samples: thresholds never flip between evaluations.
//
// Rules: 50 groups (5 per job) of 20 recording and 10 alerting rules each. Recording rules
// mix sum/avg/max/count by, rate/irate, histogram_quantile and ratios; alerting rules are
// per-series and per-instance thresholds (for 0s, 1m, 5m) on counters' rates, ratios, gauges
// and quantiles, with labels and annotation templates; see AlertLevel for how many fire.
import type { TestSeries } from '../test/remote_write_proto.js';

export const STEP_MS = 15_000;
export const JOBS = 10;
export const INSTANCES = 20;
const HANDLERS = ['/api/v1/query', '/api/v1/write', '/login', '/static', '/healthz'];
const METHODS = ['GET', 'POST'];
const CODES = ['200', '404', '500'];
const LE = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '+Inf'];
/** Share of requests under each bucket boundary (the last is +Inf). */
const LE_SHARE = [0.02, 0.05, 0.15, 0.35, 0.6, 0.8, 0.9, 0.96, 0.99, 1];
const GAUGES = [
  'process_resident_memory_bytes',
  'process_open_fds',
  'node_load1',
  'node_filesystem_avail_bytes',
  'node_memory_MemAvailable_bytes',
  'go_goroutines',
  'process_cpu_usage_ratio',
  'queue_length',
];
export const GROUPS = 50;
const RECORDING_PER_GROUP = 20;
const ALERTING_PER_GROUP = 10;
export const RECORDING_RULES = GROUPS * RECORDING_PER_GROUP;
export const ALERTING_RULES = GROUPS * ALERTING_PER_GROUP;

/** Deterministic pseudo-random numbers so every run and both servers get the same data. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** One series: its labels (name first, as remote write sends them) and its value at step k. */
export interface BenchSeries {
  labels: Array<[string, string]>;
  value(k: number): number;
}

const job = (j: number): string => `job-${j}`;
const instance = (j: number, i: number): string => `10.${j}.0.${i}:8080`;

export function benchSeries(): BenchSeries[] {
  const rand = rng(7);
  const out: BenchSeries[] = [];
  for (let j = 0; j < JOBS; j++) {
    for (let i = 0; i < INSTANCES; i++) {
      const base: Array<[string, string]> = [
        ['job', job(j)],
        ['instance', instance(j, i)],
      ];
      for (const handler of HANDLERS) {
        for (const method of METHODS) {
          for (const code of CODES) {
            // Requests per 15s step. 500s: a quarter of the series never see one, most a few.
            let inc: number;
            if (code === '200') inc = 15 + Math.floor(rand() * 750);
            else if (code === '404') inc = Math.floor(rand() * 10);
            else {
              const r = rand();
              inc = r < 0.25 ? 0 : r < 0.9 ? 1 : r < 0.97 ? 2 : 4;
            }
            const labels: Array<[string, string]> = [['__name__', 'http_requests_total'], ...base, ['method', method], ['handler', handler], ['code', code]];
            out.push({ labels, value: (k) => inc * k });
          }
        }
      }
      // A slower instance has its latencies shifted toward the upper buckets.
      const reqPerStep = 75 + Math.floor(rand() * 1500);
      const slow = rand();
      for (let b = 0; b < LE.length; b++) {
        const share = b === LE.length - 1 ? 1 : LE_SHARE[b]! * (1 - 0.5 * slow);
        const inc = Math.round(reqPerStep * share);
        out.push({ labels: [['__name__', 'http_request_duration_seconds_bucket'], ...base, ['le', LE[b]!]], value: (k) => inc * k });
      }
      const meanS = 0.05 + slow * 0.4;
      out.push({ labels: [['__name__', 'http_request_duration_seconds_sum'], ...base], value: (k) => reqPerStep * k * meanS });
      out.push({ labels: [['__name__', 'http_request_duration_seconds_count'], ...base], value: (k) => reqPerStep * k });
      for (let g = 0; g < GAUGES.length; g++) {
        // Levels sit in the middle of tenths of the scale and move by at most 2%, so a threshold at
        // a tenth never flips during a run: both servers must agree on which alerts are active.
        const level = Math.floor(rand() * 10) / 10 + 0.05;
        const scale = [4e9, 2000, 8, 5e11, 16e9, 5000, 1, 1000][g]!;
        out.push({ labels: [['__name__', GAUGES[g]!], ...base], value: (k) => scale * level * (1 + 0.02 * Math.sin(k / 7 + g)) });
      }
    }
  }
  return out;
}

/** Remote-write batches of the series' samples at steps [k0, k1), timestamps from baseMs. */
export function toWriteBatches(series: readonly BenchSeries[], baseMs: number, k0: number, k1: number, perBatch: number): TestSeries[][] {
  const out: TestSeries[][] = [];
  for (let s = 0; s < series.length; s += perBatch) {
    out.push(
      series.slice(s, s + perBatch).map((x) => {
        const samples: Array<[number, number]> = [];
        for (let k = k0; k < k1; k++) samples.push([baseMs + k * STEP_MS, x.value(k)]);
        return { labels: x.labels, samples };
      }),
    );
  }
  return out;
}

interface RuleText {
  lines: string[];
}

function quoteYaml(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function recording(n: number, j: number, r: number): RuleText {
  const J = `job="${job(j)}"`;
  const q = [0.5, 0.9, 0.99][r % 3]!;
  const h = HANDLERS[r % HANDLERS.length]!;
  const m = METHODS[r % 2]!;
  const win = ['1m', '5m', '10m'][r % 3]!;
  const exprs = [
    [`job_code:http_requests:rate${win}`, `sum by (job, code) (rate(http_requests_total{${J}}[${win}]))`],
    [`job_handler:http_requests:rate5m`, `sum by (job, handler) (rate(http_requests_total{${J},method="${m}"}[5m]))`],
    [`job:http_request_duration_seconds:p${q * 100}`, `histogram_quantile(${q}, sum by (le, job) (rate(http_request_duration_seconds_bucket{${J}}[5m])))`],
    [`instance:http_request_duration_seconds:p${q * 100}`, `histogram_quantile(${q}, sum by (le, instance) (rate(http_request_duration_seconds_bucket{${J}}[5m])))`],
    [`job:process_resident_memory_bytes:avg`, `avg by (job) (process_resident_memory_bytes{${J}})`],
    [`instance:process_open_fds:max`, `max by (instance) (process_open_fds{${J}})`],
    [
      `job:http_requests_errors:ratio${win}`,
      `sum by (job) (rate(http_requests_total{${J},code="500"}[${win}])) / sum by (job) (rate(http_requests_total{${J}}[${win}]))`,
    ],
    [
      `instance:http_request_duration_seconds:mean5m`,
      `sum by (instance) (rate(http_request_duration_seconds_sum{${J}}[5m])) / sum by (instance) (rate(http_request_duration_seconds_count{${J}}[5m]))`,
    ],
    [`instance:http_requests:irate1m`, `sum by (job, instance) (irate(http_requests_total{${J},handler="${h}"}[1m]))`],
    [`job_code:http_requests_active:count`, `count by (job, code) (http_requests_total{${J}} > 0)`],
  ][r % 10]!;
  // Every rule records its own name so no two rules write the same series.
  return { lines: [`  - record: r${n}:${exprs[0]}`, `    expr: ${quoteYaml(exprs[1]!)}`] };
}

/**
 * How far the alerting rules' thresholds reach: 'normal' fires about 3,000 alerts (a
 * busy but healthy server), 'storm' about 34,000 (for the heap per alert), 'silent'
 * none (the same rules, the heap measurement's baseline).
 */
export type AlertLevel = 'normal' | 'storm' | 'silent';

/** The a-th alerting rule on job j. */
function alerting(n: number, j: number, a: number, level: AlertLevel): RuleText {
  const J = `job="${job(j)}"`;
  const th = (normal: string, storm: string): string => (level === 'normal' ? normal : level === 'storm' ? storm : '1e18');
  const kinds: Array<{ name: string; expr: string; for: string; severity: string; summary: string; description: string }> = [
    {
      name: 'HTTPServerErrors',
      expr: `rate(http_requests_total{${J},code="500"}[5m]) > ${th('0.2', '0')}`,
      for: '0s',
      severity: 'warning',
      summary: '{{ $labels.instance }} has {{ $value | humanize }} errors/s',
      description: '{{ $labels.method }} {{ $labels.handler }} on {{ $labels.instance }} ({{ $labels.job }}) answers 500 at {{ printf "%.3f" $value }}/s.',
    },
    {
      name: 'HTTPNotFound',
      expr: `rate(http_requests_total{${J},code="404"}[5m]) > ${th('0.55', '0.1')}`,
      for: '1m',
      severity: 'info',
      summary: '{{ $labels.instance }} has {{ $value | humanize }} not-found answers/s',
      description: '{{ $labels.handler }} on {{ $labels.instance }}: {{ if gt $value 0.3 }}many{{ else }}some{{ end }} 404s.',
    },
    {
      name: 'InstanceErrorRatio',
      expr: `sum by (job, instance) (rate(http_requests_total{${J},code="500"}[5m])) / sum by (job, instance) (rate(http_requests_total{${J}}[5m])) > ${th('0.0035', '0.0005')}`,
      for: '1m',
      severity: 'critical',
      summary: '{{ $labels.instance }} fails {{ $value | humanizePercentage }} of requests',
      description: 'Job {{ $labels.job }}, instance {{ $labels.instance }}.',
    },
    {
      name: 'HighMemory',
      expr: `process_resident_memory_bytes{${J}} > ${th('3.6e9', '2e9')}`,
      // Longer than a run: these alerts stay pending.
      for: '10m',
      severity: 'warning',
      summary: '{{ $labels.instance }} uses {{ $value | humanize1024 }}B',
      description: 'Resident memory of {{ $labels.job }} on {{ $labels.instance }} is {{ $value | humanize1024 }}B.',
    },
    {
      name: 'HighLatency',
      expr: `histogram_quantile(0.99, sum by (le, job, instance) (rate(http_request_duration_seconds_bucket{${J}}[5m]))) > ${th('100', '100')}`,
      for: '5m',
      severity: 'critical',
      summary: '{{ $labels.instance }} p99 latency {{ $value | humanizeDuration }}',
      description: 'Never fires: the slowest bucket is 2.5s.',
    },
  ];
  const k = kinds[a % kinds.length]!;
  return {
    lines: [
      `  - alert: ${k.name}${n}`,
      `    expr: ${quoteYaml(k.expr)}`,
      `    for: ${k.for}`,
      `    labels:`,
      `      severity: ${k.severity}`,
      `      team: team-${j % 5}`,
      `    annotations:`,
      `      summary: ${quoteYaml(k.summary)}`,
      `      description: ${quoteYaml(k.description)}`,
    ],
  };
}

/** The rule file: all groups, or only their alerting rules. */
export function rulesYaml(opts: { recording: boolean; alerts: AlertLevel }): string {
  const out: string[] = ['groups:'];
  let rec = 0;
  let alert = 0;
  for (let g = 0; g < GROUPS; g++) {
    const j = g % JOBS;
    out.push(`- name: bench-${g}`, '  interval: 15s', '  rules:');
    for (let r = 0; r < RECORDING_PER_GROUP; r++) {
      const t = recording(rec, j, rec);
      rec++;
      if (opts.recording) out.push(...t.lines.map((l) => '  ' + l));
    }
    for (let a = 0; a < ALERTING_PER_GROUP; a++) {
      out.push(...alerting(alert, j, alert, opts.alerts).lines.map((l) => '  ' + l));
      alert++;
    }
  }
  return out.join('\n') + '\n';
}
