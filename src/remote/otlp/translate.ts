// OTLP metrics to Prometheus samples, as Prometheus 3.x's OTLP translator
// turns them: labels from data point attributes plus job/instance from the
// resource, promoted resource attributes and (optionally) scope metadata;
// gauges, sums, classic histograms (_bucket/_sum/_count), exponential
// histograms as native histograms, explicit-bucket histograms as native
// histograms with custom buckets (convert_histograms_to_nhcb) and summaries;
// target_info per resource; stale markers for points without a recorded value.
//
// What cannot be stored is refused per metric or point and counted, so the
// answer can report it as an OTLP partial success: delta temporality (as
// Prometheus without its delta feature flags), exponential scales below -4,
// and native histograms when the storage takes none (its appender has no
// appendHistogram).
import { Labels, METRIC_NAME } from '../../model/labels.js';
import { STALE_NAN } from '../../model/value.js';
import type { Exemplar } from '../../storage/interface.js';
import { HistogramError, type Histogram } from '../../model/histogram.js';
import type { OTLPConfig } from '../../config/types.js';
import { compareStrings } from '../../gofmt/order.js';
import { formatF } from '../../gofmt/float.js';
import { goQuote } from '../../gofmt/quote.js';
import type { AnyValue, KeyValue } from './gen/common_pb.js';
import {
  AggregationTemporality,
  type Exemplar as OtlpExemplar,
  type ExponentialHistogramDataPoint,
  type HistogramDataPoint,
  type Metric,
  type NumberDataPoint,
  type SummaryDataPoint,
} from './gen/metrics_pb.js';
import type { ExportMetricsServiceRequest } from './gen/metrics_service_pb.js';
import { LabelNameCache, MetricKind, NameError, metricName, type NamingOptions } from './names.js';
import { messageResources, type ResourceSource } from './decode.js';
import { HistogramConversionError, explicitToCustomBuckets, exponentialToNative, type Converted } from './native_histograms.js';

/** OTLP's flag for a point without a recorded value: stored as a stale marker. */
const FLAG_NO_RECORDED_VALUE = 1;
const NS_PER_MS = 1_000_000n;
const SERVICE_NAME = 'service.name';
const SERVICE_NAMESPACE = 'service.namespace';
const SERVICE_INSTANCE_ID = 'service.instance.id';
const IDENTIFYING = [SERVICE_NAMESPACE, SERVICE_NAME, SERVICE_INSTANCE_ID];
const TARGET_INFO = 'target_info';
/** Prometheus's bound on an exemplar's label text (trace and span ids plus attributes), in characters. */
const MAX_EXEMPLAR_RUNES = 128;
/**
 * target_info samples per resource and request. Prometheus writes one every
 * half lookback delta from the earliest to the latest point of the resource;
 * a point stamped 0 (unset) would make that millions. 10,000 covers 17 days
 * at the default 5m lookback.
 */
const MAX_TARGET_INFO_SAMPLES = 10_000;
/** Bound on the refusal lines kept for one answer; past it they are counted. */
const MAX_PROBLEM_BYTES = 64 * 1024;
/** Warning texts logged per request; each category is counted in full. */
const MAX_WARNING_TEXTS = 100;

/** Prometheus's translation warning categories (prometheus_api_otlp_translation_warnings_total). */
export type WarningCategory = 'empty_data_points' | 'label_name_collision' | 'histogram_zero_count_non_zero_sum';

/** Where translated samples go. */
export interface SampleSink {
  /** Exemplars are built only when the sink stores them. */
  readonly wantsExemplars: boolean;
  /**
   * Appends one sample; false when the storage refused its series as a whole
   * (the data point is then counted as rejected). Throws to abort the request.
   */
  sample(ls: Labels, t: number, v: number, exemplars: readonly Exemplar[] | null): boolean;
  /** Appends one native histogram sample, as sample(); absent when the storage takes no native histograms. */
  histogram?(ls: Labels, t: number, h: Histogram, exemplars: readonly Exemplar[] | null): boolean;
}

export interface TranslateOptions {
  readonly config: OTLPConfig;
  /** The query lookback delta (ms): target_info gets a sample every half of it. */
  readonly lookbackDeltaMs: number;
}

/** What a request's translation refused and warned about. */
export class TranslationReport {
  /** Data points not stored (OTLP's partial success rejected_data_points). */
  rejectedPoints = 0;
  /** Of those, histogram points refused because the storage takes no native histograms. */
  histogramPoints = 0;
  readonly problems: string[] = [];
  private problemBytes = 0;
  private omitted = 0;
  readonly warnings = new Map<WarningCategory, number>();
  readonly warningTexts: string[] = [];

  /** Counts points the storage refused; the sink words why. */
  rejected(points: number): void {
    this.rejectedPoints += points;
  }

  refuse(points: number, text: string): void {
    this.rejectedPoints += points;
    this.problemBytes += text.length + 1;
    if (this.problemBytes <= MAX_PROBLEM_BYTES) this.problems.push(text);
    else this.omitted++;
  }

  warn(category: WarningCategory, text: string): void {
    this.warnings.set(category, (this.warnings.get(category) ?? 0) + 1);
    if (this.warningTexts.length < MAX_WARNING_TEXTS) this.warningTexts.push(text);
  }

  /** The refusals as one message, one per line. */
  message(): string {
    const s = this.problems.join('\n');
    return this.omitted > 0 ? `${s}\n${this.omitted} more errors omitted` : s;
  }
}

/** Go's rendering of an OTLP attribute value as a string (pcommon.Value.AsString). */
export function anyValueString(v: AnyValue | undefined): string {
  const val = v?.value;
  switch (val?.case) {
    case 'stringValue':
      return val.value;
    case 'boolValue':
      return val.value ? 'true' : 'false';
    case 'intValue':
      return val.value.toString();
    case 'doubleValue':
      // JS's number to string is the ES6 form Go's encoder writes (1e-7, 1e+21).
      return Number.isFinite(val.value) ? String(val.value) : `json: unsupported value: ${formatGoSpecial(val.value)}`;
    case 'bytesValue':
      return Buffer.from(val.value).toString('base64');
    case 'arrayValue':
    case 'kvlistValue': {
      try {
        return rawJSON(v);
      } catch (e) {
        // Go's json.Marshal refuses NaN and infinities; the attribute then reads as empty.
        if (e instanceof RangeError) return '';
        throw e;
      }
    }
    default:
      return '';
  }
}

function formatGoSpecial(x: number): string {
  return Number.isNaN(x) ? 'NaN' : x > 0 ? '+Inf' : '-Inf';
}

/** Go's json.Marshal of a value's raw form: maps with sorted keys, bytes as base64, HTML characters escaped. */
function rawJSON(v: AnyValue | undefined): string {
  return JSON.stringify(raw(v)).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function raw(v: AnyValue | undefined): unknown {
  const val = v?.value;
  switch (val?.case) {
    case 'stringValue':
    case 'boolValue':
      return val.value;
    case 'intValue': {
      // Beyond 2^53 the digits go in as a string (Go writes a bare number); senders do not put such ints in attribute lists.
      const x = Number(val.value);
      return Number.isSafeInteger(x) ? x : val.value.toString();
    }
    case 'doubleValue':
      if (!Number.isFinite(val.value)) throw new RangeError('json: unsupported value');
      return val.value;
    case 'bytesValue':
      return Buffer.from(val.value).toString('base64');
    case 'arrayValue':
      return val.value.values.map(raw);
    case 'kvlistValue': {
      const keys = val.value.values.map((kv) => kv.key);
      const o: Record<string, unknown> = {};
      for (const k of [...new Set(keys)].sort(compareStrings)) o[k] = null;
      for (const kv of val.value.values) o[kv.key] = raw(kv.value);
      return o;
    }
    default:
      return null;
  }
}

/** ns since the epoch (fixed64) to ms, truncated as Go's int64 division. */
function toMs(ns: bigint): number {
  return Number(BigInt.asIntN(64, ns) / NS_PER_MS);
}

/** A label set under construction: names kept sorted (Go's order), an empty value deletes. */
class LabelBuilder {
  names: string[] = [];
  values: string[] = [];

  reset(): void {
    this.names.length = 0;
    this.values.length = 0;
  }

  copyFrom(o: LabelBuilder): void {
    this.names = o.names.slice();
    this.values = o.values.slice();
  }

  get(name: string): string {
    const i = this.names.indexOf(name);
    return i < 0 ? '' : this.values[i]!;
  }

  set(name: string, value: string): void {
    const names = this.names;
    let i = 0;
    while (i < names.length) {
      const c = compareStrings(names[i]!, name);
      if (c === 0) {
        if (value === '') {
          names.splice(i, 1);
          this.values.splice(i, 1);
        } else this.values[i] = value;
        return;
      }
      if (c > 0) break;
      i++;
    }
    if (value === '') return;
    names.splice(i, 0, name);
    this.values.splice(i, 0, value);
  }

  labels(): Labels {
    const pairs = new Array<string>(this.names.length * 2);
    for (let i = 0; i < this.names.length; i++) {
      pairs[2 * i] = this.names[i]!;
      pairs[2 * i + 1] = this.values[i]!;
    }
    return Labels.fromSortedPairs(pairs);
  }
}

/** Labels shared by every series of one resource. */
interface ResourceContext {
  job: string;
  instance: string;
  /** Promoted resource attributes, already named as labels. */
  promoted: LabelBuilder;
}

/** Scope metadata labels (promote_scope_metadata), or null. */
interface ScopeContext {
  name: string;
  version: string;
  schemaUrl: string;
  attrs: LabelBuilder;
}

function kindOf(m: Metric): MetricKind {
  switch (m.data.case) {
    case 'gauge':
      return MetricKind.Gauge;
    case 'sum':
      return m.data.value.isMonotonic ? MetricKind.MonotonicCounter : MetricKind.NonMonotonicCounter;
    case 'histogram':
      return MetricKind.Histogram;
    case 'exponentialHistogram':
      return MetricKind.ExponentialHistogram;
    case 'summary':
      return MetricKind.Summary;
    default:
      return MetricKind.Unknown;
  }
}

function pointCount(m: Metric): number {
  return m.data.case === undefined ? 0 : m.data.value.dataPoints.length;
}

/** Earliest and latest point time (ns) of a metric, folded into [min, max]. */
function timeRange(m: Metric, range: [bigint, bigint]): void {
  if (m.data.case === undefined) return;
  for (const p of m.data.value.dataPoints) {
    const t = p.timeUnixNano;
    if (t < range[0]) range[0] = t;
    if (t > range[1]) range[1] = t;
  }
}

const U64_MAX = (1n << 64n) - 1n;

/** Translates OTLP requests; one per request (it keeps that request's label-name cache and dedup state). */
export class Translator {
  private readonly naming: NamingOptions;
  private readonly names: LabelNameCache;
  private readonly cfg: OTLPConfig;
  private readonly lookbackNs: bigint;
  private readonly report = new TranslationReport();
  private readonly b = new LabelBuilder();
  private readonly base = new LabelBuilder();
  private resource: ResourceContext | null = null;
  private scope: ScopeContext | null = null;
  /** Collision warnings are given once per label name per request, as Prometheus does. */
  private readonly collisions = new Set<string>();
  /** target_info samples already written in this request (label set and time). */
  private readonly targetInfoSeen = new Set<string>();
  /** Sorted attribute scratch: [key, value] pairs of one data point. */
  private attrKeys: string[] = [];
  private attrValues: string[] = [];
  private collisionSource: 'data point' | 'resource' = 'data point';

  constructor(
    private readonly sink: SampleSink,
    opts: TranslateOptions,
  ) {
    this.cfg = opts.config;
    const strategy = opts.config.translationStrategy;
    const escape = strategy === 'UnderscoreEscapingWithSuffixes' || strategy === 'UnderscoreEscapingWithoutSuffixes';
    this.naming = { escape, suffixes: strategy === 'UnderscoreEscapingWithSuffixes' || strategy === 'NoUTF8EscapingWithSuffixes' };
    this.names = new LabelNameCache({
      escape,
      underscoreSanitization: opts.config.labelNameUnderscoreSanitization,
      preserveMultipleUnderscores: opts.config.labelNamePreserveMultipleUnderscores,
    });
    // Half the lookback delta (Prometheus's default 5m when unset), so every instant in range finds a target_info sample.
    this.lookbackNs = (BigInt(Math.max(opts.lookbackDeltaMs > 0 ? opts.lookbackDeltaMs : 5 * 60_000, 2)) * NS_PER_MS) / 2n;
  }

  /** Translates a decoded request into the sink; the report says what was refused. */
  translate(req: ExportMetricsServiceRequest): TranslationReport {
    return this.translateResources(messageResources(req));
  }

  /** Translates resources (decoded as they are read) into the sink. */
  translateResources(resources: Iterable<ResourceSource>): TranslationReport {
    for (const rs of resources) {
      const attrs = rs.attributes;
      try {
        this.resource = this.resourceContext(attrs);
      } catch (e) {
        if (!(e instanceof NameError)) throw e;
        let n = 0;
        for (const sc of rs.scopes()) for (const m of sc.metrics()) n += pointCount(m);
        this.report.refuse(n, e.message);
        continue;
      }
      const range: [bigint, bigint] = [U64_MAX, 0n];
      for (const sc of rs.scopes()) {
        try {
          this.scope = this.scopeContext(sc.name, sc.version, sc.schemaUrl, sc.attributes);
        } catch (e) {
          if (!(e instanceof NameError)) throw e;
          let n = 0;
          for (const m of sc.metrics()) n += pointCount(m);
          this.report.refuse(n, e.message);
          continue;
        }
        for (const m of sc.metrics()) {
          timeRange(m, range);
          this.metric(m);
        }
      }
      this.scope = null;
      if (range[0] !== U64_MAX) this.targetInfo(attrs, range[0], range[1]);
    }
    return this.report;
  }

  private resourceContext(attrs: readonly KeyValue[]): ResourceContext {
    let job = '';
    let namespace: string | null = null;
    let instance = '';
    let hasName = false;
    for (const kv of attrs) {
      if (kv.key === SERVICE_NAME) {
        job = anyValueString(kv.value);
        hasName = true;
      } else if (kv.key === SERVICE_NAMESPACE) namespace = anyValueString(kv.value);
      else if (kv.key === SERVICE_INSTANCE_ID) instance = anyValueString(kv.value);
    }
    if (hasName && namespace !== null) job = `${namespace}/${job}`;
    const promoted = new LabelBuilder();
    const all = this.cfg.promoteAllResourceAttributes;
    const list = all ? this.cfg.ignoreResourceAttributes : this.cfg.promoteResourceAttributes;
    if (all || list.length > 0) {
      for (const kv of attrs) {
        if (list.includes(kv.key) !== all) promoted.set(this.names.get(kv.key), anyValueString(kv.value));
      }
    }
    return { job, instance, promoted };
  }

  private scopeContext(name: string, version: string, schemaUrl: string, attrs: readonly KeyValue[]): ScopeContext | null {
    if (!this.cfg.promoteScopeMetadata || name === '') return null;
    const b = new LabelBuilder();
    for (const kv of attrs) b.set(this.names.get(`otel_scope_${kv.key}`), anyValueString(kv.value));
    return { name, version, schemaUrl, attrs: b };
  }

  /**
   * Fills this.b with a data point's labels as Prometheus's createAttributes
   * builds them: attributes (escaped; colliding names join their values with
   * ';'), promoted resource attributes, job and instance, scope labels.
   * Throws NameError for an attribute name that cannot be escaped.
   */
  private attributes(attrs: readonly KeyValue[], ignore: readonly string[], withScope: boolean): void {
    const b = this.b;
    b.reset();
    const keys = this.attrKeys;
    const values = this.attrValues;
    keys.length = 0;
    values.length = 0;
    for (const kv of attrs) {
      if (ignore.includes(kv.key)) continue;
      // Insertion by key: points carry a handful of attributes.
      let i = keys.length;
      while (i > 0 && compareStrings(keys[i - 1]!, kv.key) > 0) i--;
      keys.splice(i, 0, kv.key);
      values.splice(i, 0, anyValueString(kv.value));
    }
    if (!this.naming.escape) {
      for (let i = 0; i < keys.length; i++) b.set(keys[i]!, values[i]!);
    } else {
      for (let i = 0; i < keys.length; i++) {
        const name = this.names.get(keys[i]!);
        const existing = b.get(name);
        if (existing !== '') {
          this.collision(name);
          b.set(name, `${existing};${values[i]!}`);
        } else b.set(name, values[i]!);
      }
    }
    const res = this.resource!;
    if (withScope) {
      const p = res.promoted;
      for (let i = 0; i < p.names.length; i++) if (b.get(p.names[i]!) === '') b.set(p.names[i]!, p.values[i]!);
    }
    if (res.job !== '') b.set('job', res.job);
    if (res.instance !== '') b.set('instance', res.instance);
    const sc = withScope ? this.scope : null;
    if (sc !== null) {
      for (let i = 0; i < sc.attrs.names.length; i++) b.set(sc.attrs.names[i]!, sc.attrs.values[i]!);
      b.set('otel_scope_name', sc.name);
      b.set('otel_scope_version', sc.version);
      b.set('otel_scope_schema_url', sc.schemaUrl);
    }
  }

  private collision(name: string): void {
    if (this.collisions.has(name)) return;
    this.collisions.add(name);
    const keys = this.attrKeys.filter((k) => {
      try {
        return this.names.get(k) === name;
      } catch {
        return false;
      }
    });
    this.report.warn(
      'label_name_collision',
      `OTLP ${this.collisionSource} attributes ${keys.map(goQuote).join(', ')} collide as label ${goQuote(name)} after name sanitization, values are concatenated with ';'`,
    );
  }

  private metric(m: Metric): void {
    const data = m.data;
    if (data.case === undefined) {
      this.report.refuse(0, `could not get aggregation temporality for ${m.name} as it has unsupported metric type Empty`);
      return;
    }
    const points = data.value.dataPoints.length;
    if (data.case === 'sum' || data.case === 'histogram' || data.case === 'exponentialHistogram') {
      if (data.value.aggregationTemporality !== AggregationTemporality.CUMULATIVE) {
        this.report.refuse(points, `invalid temporality and type combination for metric ${goQuote(m.name)}`);
        return;
      }
    }
    let name: string;
    try {
      name = metricName(m.name, m.unit, kindOf(m), this.naming);
    } catch (e) {
      if (!(e instanceof NameError)) throw e;
      this.report.refuse(points, e.message);
      return;
    }
    if (points === 0) {
      this.report.warn('empty_data_points', `empty data points. ${m.name} is dropped`);
      return;
    }
    switch (data.case) {
      case 'gauge':
        for (const p of data.value.dataPoints) this.number(name, p, false);
        return;
      case 'sum':
        for (const p of data.value.dataPoints) this.number(name, p, true);
        return;
      case 'histogram':
        if (this.cfg.convertHistogramsToNHCB) {
          if (this.sink.histogram === undefined) {
            this.nativeHistogramsRefused(points, m.name, 'histograms converted to native histograms with custom buckets (otlp.convert_histograms_to_nhcb)');
            return;
          }
          for (const p of data.value.dataPoints) this.native(name, p, explicitToCustomBuckets);
          return;
        }
        for (const p of data.value.dataPoints) this.histogram(name, p);
        return;
      case 'exponentialHistogram':
        if (this.sink.histogram === undefined) {
          this.nativeHistogramsRefused(points, m.name, 'exponential histograms');
          return;
        }
        for (const p of data.value.dataPoints) this.native(name, p, exponentialToNative);
        return;
      case 'summary':
        for (const p of data.value.dataPoints) this.summary(name, p);
        return;
    }
  }

  private nativeHistogramsRefused(points: number, metric: string, what: string): void {
    this.report.histogramPoints += points;
    this.report.refuse(points, `native histograms are not supported by this storage: ${points} data points of ${what} refused for metric ${goQuote(metric)}`);
  }

  /** A histogram point as one native histogram sample, with all its exemplars (Prometheus attaches them to the series). */
  private native<P extends HistogramDataPoint | ExponentialHistogramDataPoint>(name: string, p: P, convert: (p: P) => Converted): void {
    let c: Converted;
    try {
      c = convert(p);
      // Checked here so a malformed point (more observations in buckets than counted) is refused alone.
      c.h.validate();
    } catch (e) {
      if (!(e instanceof HistogramConversionError || e instanceof HistogramError)) throw e;
      this.report.refuse(1, e.message);
      return;
    }
    if (c.warning !== null) this.report.warn('histogram_zero_count_non_zero_sum', c.warning);
    if (!this.baseLabels(p.attributes)) return;
    const ex = this.sink.wantsExemplars ? this.exemplars(p.exemplars) : null;
    if (!this.sink.histogram!(this.series(name, '', ''), toMs(p.timeUnixNano), c.h, ex)) this.report.rejected(1);
  }

  /** Builds a point's base labels into this.base; false (and the point counted) when a name cannot be made valid. */
  private baseLabels(attrs: readonly KeyValue[]): boolean {
    try {
      this.attributes(attrs, RESERVED, true);
    } catch (e) {
      if (!(e instanceof NameError)) throw e;
      this.report.refuse(1, e.message);
      return false;
    }
    this.base.copyFrom(this.b);
    return true;
  }

  /**
   * A series of the current point: the base labels with the metric name and
   * at most one more label (le, quantile) merged in, replacing equal names,
   * in one pass (the hot path: a histogram point makes a dozen series).
   */
  private series(name: string, extraName: string, extraValue: string): Labels {
    const names = this.base.names;
    const values = this.base.values;
    // The one or two labels to merge, in order.
    let n1 = METRIC_NAME;
    let v1 = name;
    let n2 = extraName;
    let v2 = extraValue;
    if (extraName !== '' && compareStrings(extraName, METRIC_NAME) < 0) {
      n1 = extraName;
      v1 = extraValue;
      n2 = METRIC_NAME;
      v2 = name;
    }
    const pairs: string[] = [];
    let k = 0;
    // Base names are sorted and unique; every index below is in range.
    for (let i = 0; i < names.length; i++) {
      const n = names[i]!;
      if (k === 0) {
        const c = compareStrings(n, n1);
        if (c >= 0) {
          if (v1 !== '') pairs.push(n1, v1);
          k = 1;
          if (c === 0) continue;
        }
      }
      if (k === 1 && n2 !== '') {
        const c = compareStrings(n, n2);
        if (c >= 0) {
          if (v2 !== '') pairs.push(n2, v2);
          k = 2;
          if (c === 0) continue;
        }
      }
      pairs.push(n, values[i]!);
    }
    // An empty value deletes, as in the builder: a metric name may be empty with NoTranslation.
    if (k === 0 && v1 !== '') pairs.push(n1, v1);
    if (k <= 1 && n2 !== '' && v2 !== '') pairs.push(n2, v2);
    return Labels.fromSortedPairs(pairs);
  }

  private number(name: string, p: NumberDataPoint, withExemplars: boolean): void {
    if (!this.baseLabels(p.attributes)) return;
    const v = p.flags & FLAG_NO_RECORDED_VALUE ? STALE_NAN : p.value.case === 'asDouble' ? p.value.value : p.value.case === 'asInt' ? Number(p.value.value) : 0;
    const ex = withExemplars && this.sink.wantsExemplars ? this.exemplars(p.exemplars) : null;
    if (!this.sink.sample(this.series(name, '', ''), toMs(p.timeUnixNano), v, ex)) this.report.rejected(1);
  }

  private histogram(name: string, p: HistogramDataPoint): void {
    if (!this.baseLabels(p.attributes)) return;
    const t = toMs(p.timeUnixNano);
    const stale = (p.flags & FLAG_NO_RECORDED_VALUE) !== 0;
    let ok = true;
    if (p.sum !== undefined) ok = this.sink.sample(this.series(`${name}_sum`, '', ''), t, stale ? STALE_NAN : p.sum, null) && ok;
    const count = stale ? STALE_NAN : Number(p.count);
    ok = this.sink.sample(this.series(`${name}_count`, '', ''), t, count, null) && ok;
    const exemplars = this.sink.wantsExemplars ? this.exemplars(p.exemplars) : null;
    let nextEx = 0;
    const bucket = `${name}_bucket`;
    const n = Math.min(p.explicitBounds.length, p.bucketCounts.length);
    let cumulative = 0n;
    for (let i = 0; i < n; i++) {
      const bound = p.explicitBounds[i]!;
      cumulative = BigInt.asUintN(64, cumulative + p.bucketCounts[i]!);
      // Exemplars and buckets are both in ascending order: each exemplar goes with the first bucket that holds it.
      let ex: Exemplar[] | null = null;
      if (exemplars !== null) {
        const from = nextEx;
        while (nextEx < exemplars.length && exemplars[nextEx]!.value <= bound) nextEx++;
        if (nextEx > from) ex = exemplars.slice(from, nextEx);
      }
      ok = this.sink.sample(this.series(bucket, 'le', formatF(bound)), t, stale ? STALE_NAN : Number(cumulative), ex) && ok;
    }
    const rest = exemplars !== null && nextEx < exemplars.length ? exemplars.slice(nextEx) : null;
    ok = this.sink.sample(this.series(bucket, 'le', '+Inf'), t, count, rest) && ok;
    if (!ok) this.report.rejected(1);
  }

  private summary(name: string, p: SummaryDataPoint): void {
    if (!this.baseLabels(p.attributes)) return;
    const t = toMs(p.timeUnixNano);
    const stale = (p.flags & FLAG_NO_RECORDED_VALUE) !== 0;
    let ok = this.sink.sample(this.series(`${name}_sum`, '', ''), t, stale ? STALE_NAN : p.sum, null);
    ok = this.sink.sample(this.series(`${name}_count`, '', ''), t, stale ? STALE_NAN : Number(p.count), null) && ok;
    for (const q of p.quantileValues) {
      ok = this.sink.sample(this.series(name, 'quantile', formatF(q.quantile)), t, stale ? STALE_NAN : q.value, null) && ok;
    }
    if (!ok) this.report.rejected(1);
  }

  /** A point's exemplars: trace and span ids in hex, then the filtered attributes when all fit in 128 characters. */
  private exemplars(list: readonly OtlpExemplar[]): Exemplar[] | null {
    if (list.length === 0) return null;
    const out: Exemplar[] = [];
    for (const e of list) {
      let value: number;
      if (e.value.case === 'asDouble') value = e.value.value;
      else if (e.value.case === 'asInt') value = Number(e.value.value);
      else continue;
      const names: string[] = [];
      const values: string[] = [];
      let runes = 0;
      if (e.traceId.some((x) => x !== 0)) {
        const id = Buffer.from(e.traceId).toString('hex');
        names.push('trace_id');
        values.push(id);
        runes += 8 + id.length;
      }
      if (e.spanId.some((x) => x !== 0)) {
        const id = Buffer.from(e.spanId).toString('hex');
        names.push('span_id');
        values.push(id);
        runes += 7 + id.length;
      }
      const attrValues = e.filteredAttributes.map((kv) => anyValueString(kv.value));
      e.filteredAttributes.forEach((kv, i) => (runes += [...kv.key].length + [...attrValues[i]!].length));
      if (runes <= MAX_EXEMPLAR_RUNES) {
        e.filteredAttributes.forEach((kv, i) => {
          names.push(kv.key);
          values.push(attrValues[i]!);
        });
      }
      const ts = toMs(e.timeUnixNano);
      const pairs: string[] = [];
      names.forEach((n, i) => pairs.push(n, values[i]!));
      out.push({ labels: Labels.fromPairs(...pairs), value, ts, hasTs: ts !== 0 });
    }
    return out.length > 0 ? out : null;
  }

  /**
   * target_info for a resource with attributes beyond the identifying ones: a
   * sample every half lookback delta from its earliest to its latest point,
   * and one at the latest, each written once per request.
   */
  private targetInfo(attrs: readonly KeyValue[], earliest: bigint, latest: bigint): void {
    let nonIdentifying = attrs.length;
    for (const a of IDENTIFYING) if (attrs.some((kv) => kv.key === a)) nonIdentifying--;
    if (nonIdentifying === 0) return;
    this.collisionSource = 'resource';
    try {
      this.attributes(attrs, this.cfg.keepIdentifyingResourceAttributes ? [] : IDENTIFYING, false);
    } catch (e) {
      if (!(e instanceof NameError)) throw e;
      this.report.refuse(0, e.message);
      return;
    } finally {
      this.collisionSource = 'data point';
    }
    const b = this.b;
    if (b.get('job') === '' && b.get('instance') === '') return;
    b.set(METRIC_NAME, TARGET_INFO);
    const ls = b.labels();
    const key = ls.key();
    const emit = (ns: bigint): void => {
      const t = toMs(ns);
      const seen = `${key}\xff${t}`;
      if (this.targetInfoSeen.has(seen)) return;
      this.targetInfoSeen.add(seen);
      this.sink.sample(ls, t, 1, null);
    };
    let n = 0;
    for (let ns = earliest; ns < latest && n < MAX_TARGET_INFO_SAMPLES; ns += this.lookbackNs, n++) emit(ns);
    emit(latest);
  }
}

/** Attributes never used as labels: the metric name comes from the metric. */
const RESERVED = [METRIC_NAME];
