// /federate: the latest sample of every series matching match[], with external
// labels attached, in the exposition format the client negotiates, as
// Prometheus serves it (web/federate.go and prometheus/common's expfmt).
import { Counter, type Registry } from 'prom-client';
import { CounterResetHint, type FloatHistogram } from '../model/histogram.js';
import { Labels, METRIC_NAME, isValidLegacyMetricName } from '../model/labels.js';
import type { Matcher } from '../model/matcher.js';
import { ValueType, type Querier, type Queryable } from '../storage/interface.js';
import { isStaleNaN } from '../model/value.js';
import type { HttpResponse, RequestInfo } from './server.js';
import { compareStrings } from '../gofmt/order.js';
import type { PromQLParser } from './api/deps.js';
// The text format writes values as Go's strconv.FormatFloat(f, 'g', -1, 64).
import { formatG } from '../gofmt/float.js';

export interface FederateDeps {
  storage: Queryable;
  parser: PromQLParser;
  externalLabels(): Labels;
  lookbackDeltaMs: number;
  now?(): number;
  registry?: Registry;
}

/** How metric and label names that are not legacy-valid are written (model.EscapingScheme). */
export type Escaping = 'allow-utf-8' | 'underscores' | 'dots' | 'values';

export interface ExpositionFormat {
  kind: 'text' | 'protobuf';
  escaping: Escaping;
  contentType: string;
}

const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const PROTO_DELIMITED_CONTENT_TYPE = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';
/** model.NameEscapingScheme's default. */
const DEFAULT_ESCAPING: Escaping = 'underscores';
const ESCAPINGS = new Set<string>(['allow-utf-8', 'underscores', 'dots', 'values']);

interface AcceptClause {
  type: string;
  subType: string;
  q: number;
  params: Map<string, string>;
}

/** goautoneg.ParseAccept: clauses by falling q, concrete types before wildcards. */
function parseAccept(header: string): AcceptClause[] {
  const out: AcceptClause[] = [];
  for (const raw of header.split(',')) {
    // split always yields at least one part.
    const [range = '', ...params] = raw.trim().split(';');
    const [first = '', second, ...more] = range.split('/');
    const type = first.trim();
    let subType: string;
    if (second === undefined && type === '*') subType = '*';
    else if (second !== undefined && more.length === 0) subType = second.trim();
    else continue;
    const c: AcceptClause = { type, subType, q: 1, params: new Map() };
    for (const p of params) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const key = p.slice(0, eq).trim();
      if (key === 'q') {
        const q = Number(p.slice(eq + 1));
        c.q = Number.isFinite(q) ? q : 0;
      } else {
        c.params.set(key, p.slice(eq + 1).trim());
      }
    }
    out.push(c);
  }
  return out.sort((a, b) => b.q - a.q || Number(a.type === '*') - Number(b.type === '*') || Number(a.subType === '*') - Number(b.subType === '*'));
}

/**
 * expfmt.Negotiate: protobuf (delimited) or text 0.0.4, with the escaping
 * scheme the client asks for in any clause. The protobuf text encodings are
 * answered in the text format: Go prints them with deliberately unstable
 * spacing, so no client can depend on their exact form.
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  let escaping: Escaping = DEFAULT_ESCAPING;
  for (const c of parseAccept(accept ?? '')) {
    const e = c.params.get('escaping');
    if (e !== undefined && ESCAPINGS.has(e)) escaping = e as Escaping;
    const ver = c.params.get('version') ?? '';
    if (
      `${c.type}/${c.subType}` === 'application/vnd.google.protobuf' &&
      c.params.get('proto') === 'io.prometheus.client.MetricFamily' &&
      c.params.get('encoding') === 'delimited'
    ) {
      return { kind: 'protobuf', escaping, contentType: `${PROTO_DELIMITED_CONTENT_TYPE}; escaping=${escaping}` };
    }
    if (c.type === 'text' && c.subType === 'plain' && (ver === '0.0.4' || ver === '')) break;
  }
  return { kind: 'text', escaping, contentType: `${TEXT_CONTENT_TYPE}; escaping=${escaping}` };
}

function isLegacyRune(c: number, first: boolean): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a || (c >= 0x30 && c <= 0x39 && !first);
}

/** model.EscapeName for a name that is not legacy-valid. */
export function escapeName(name: string, scheme: Escaping): string {
  if (name === '' || scheme === 'allow-utf-8') return name;
  if (scheme !== 'dots' && isValidLegacyMetricName(name)) return name;
  let out = scheme === 'values' ? 'U__' : '';
  let first = true;
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    if (scheme === 'underscores') out += isLegacyRune(c, first) ? ch : '_';
    else if (c === 0x5f) out += '__';
    else if (scheme === 'dots' && c === 0x2e) out += '_dot_';
    else if (isLegacyRune(c, first)) out += ch;
    else if (scheme === 'dots') out += '__';
    else if (c >= 0xd800 && c <= 0xdfff) out += '_FFFD_';
    else out += `_${c.toString(16)}_`;
    first = false;
  }
  return out;
}

/** Applies the escaping scheme to names that need it (model.EscapeMetricFamily). */
function escaped(name: string, scheme: Escaping): string {
  return scheme === 'allow-utf-8' || isValidLegacyMetricName(name) ? name : escapeName(name, scheme);
}

function escapeLabelValue(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** A name in the text format: bare when legacy-valid, else quoted. */
function textName(n: string): string {
  return isValidLegacyMetricName(n) ? n : `"${escapeLabelValue(n)}"`;
}

/** expfmt's writeFloat: 1, 0 (also for -0) and -1 have fixed spellings; the rest is strconv 'g'. */
function textFloat(f: number): string {
  if (f === 0) return '0';
  return formatG(f);
}

interface FedSample {
  ls: Labels;
  t: number;
  v: number;
  /** Set when the latest sample is a native histogram. */
  h?: FloatHistogram;
}

type FamilyType = 'untyped' | 'histogram' | 'gaugehistogram';

/** One metric family as Prometheus builds it: name, then metrics with label pairs, value (or histogram) and timestamp. */
interface Family {
  name: string;
  type: FamilyType;
  metrics: Array<{ labels: Array<[string, string]>; v: number; t: number; h?: FloatHistogram }>;
}

function familyType(h: FloatHistogram | undefined): FamilyType {
  if (h === undefined) return 'untyped';
  return h.counterResetHint === CounterResetHint.Gauge ? 'gaugehistogram' : 'histogram';
}

/**
 * Families in sample order: a new one starts when the name changes, or the
 * sample kind (float, counter histogram, gauge histogram) does. The text
 * formats cannot carry exponential histograms: as in Prometheus, those are
 * left out there; custom-bucket ones go out as classic histograms.
 */
function buildFamilies(samples: FedSample[], externalLabels: Labels, scheme: Escaping, text: boolean): Family[] {
  const ext = externalLabels.toObject();
  if (!('instance' in ext)) ext['instance'] = '';
  const extNames = Object.keys(ext).sort(compareStrings);
  const families: Family[] = [];
  let current: Family | null = null;
  for (const s of samples) {
    if (text && s.h !== undefined && !s.h.usesCustomBuckets()) continue;
    const name = s.ls.get(METRIC_NAME);
    // Nameless series are ignored, as Prometheus ignores them.
    if (name === '') continue;
    const type = familyType(s.h);
    if (current === null || current.name !== name || current.type !== type) {
      current = { name, type, metrics: [] };
      families.push(current);
    }
    const labels: Array<[string, string]> = [];
    for (let i = 0; i < s.ls.length; i++) {
      const n = s.ls.nameAt(i);
      if (n !== METRIC_NAME) labels.push([escaped(n, scheme), s.ls.valueAt(i)]);
    }
    // extNames are ext's own keys.
    for (const n of extNames) if (!s.ls.has(n)) labels.push([escaped(n, scheme), ext[n]!]);
    current.metrics.push(s.h === undefined ? { labels, v: s.v, t: s.t } : { labels, v: 0, t: s.t, h: s.h });
  }
  for (const f of families) f.name = escaped(f.name, scheme);
  return families;
}

/** Cumulative counts at each custom bound of a custom-bucket histogram (Prometheus's makeClassicHistogram). */
function classicBuckets(h: FloatHistogram): Array<[number, number]> {
  const counts = new Map<number, number>();
  for (const b of h.positiveBucketIterator()) counts.set(b.index, b.count);
  let cum = 0;
  return Array.from(h.customValues, (le, i) => {
    cum += counts.get(i) ?? 0;
    return [le, cum];
  });
}

function textFamilies(families: Family[]): string {
  let out = '';
  for (const f of families) {
    const name = textName(f.name);
    out += `# TYPE ${name} ${f.type}\n`;
    // A name that is not legacy-valid goes inside the braces.
    const inside = !isValidLegacyMetricName(f.name);
    const line = (suffix: string, parts: string[], v: number, t: number): string => {
      const n = suffix === '' ? name : textName(f.name + suffix);
      const lbl = inside ? `{${[n, ...parts].join(',')}}` : parts.length > 0 ? `{${parts.join(',')}}` : '';
      return `${inside ? '' : n}${lbl} ${textFloat(v)} ${t}\n`;
    };
    for (const m of f.metrics) {
      const parts = m.labels.map(([n, v]) => `${textName(n)}="${escapeLabelValue(v)}"`);
      if (m.h === undefined) {
        out += line('', parts, m.v, m.t);
        continue;
      }
      // Custom bounds are finite: the +Inf bucket is the count, as expfmt adds it.
      for (const [le, cum] of classicBuckets(m.h)) out += line('_bucket', [...parts, `le="${textFloat(le)}"`], cum, m.t);
      out += line('_bucket', [...parts, 'le="+Inf"'], m.h.count, m.t);
      out += line('_sum', parts, m.h.sum, m.t);
      out += line('_count', parts, m.h.count, m.t);
    }
  }
  return out;
}

// ---- protobuf (io.prometheus.client.MetricFamily, length-delimited)

class ProtoWriter {
  bytes: number[] = [];
  varint(n: number): void {
    let v = BigInt.asUintN(64, BigInt(n));
    while (v >= 0x80n) {
      this.bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.bytes.push(Number(v));
  }
  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }
  lenDelimited(field: number, payload: number[] | Buffer): void {
    this.tag(field, 2);
    this.varint(payload.length);
    for (const b of payload) this.bytes.push(b);
  }
  string(field: number, s: string): void {
    this.lenDelimited(field, Buffer.from(s, 'utf8'));
  }
  double(field: number, v: number): void {
    this.tag(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    for (const x of b) this.bytes.push(x);
  }
}

const METRIC_TYPE: Record<FamilyType, number> = { untyped: 3, histogram: 4, gaugehistogram: 5 };

/** io.prometheus.client.Histogram of a native histogram (float counts), or of a custom-bucket one as classic buckets. */
function protoHistogram(h: FloatHistogram): number[] {
  // Fields in number order, as Go's marshalling writes them.
  const w = new ProtoWriter();
  w.double(2, h.sum);
  if (h.usesCustomBuckets()) {
    for (const [le, cum] of classicBuckets(h)) {
      const b = new ProtoWriter();
      b.double(2, le);
      b.double(4, cum);
      w.lenDelimited(3, b.bytes);
    }
    w.double(4, h.count);
    return w.bytes;
  }
  w.double(4, h.count);
  w.tag(5, 0);
  w.varint(zigzag(h.schema));
  w.double(6, h.zeroThreshold);
  w.double(8, h.zeroCount);
  const spans = (field: number, list: ReadonlyArray<{ offset: number; length: number }>): void => {
    for (const sp of list) {
      const b = new ProtoWriter();
      b.tag(1, 0);
      b.varint(zigzag(sp.offset));
      b.tag(2, 0);
      b.varint(sp.length);
      w.lenDelimited(field, b.bytes);
    }
  };
  spans(9, h.negativeSpans);
  for (const c of h.negativeBuckets) w.double(11, c);
  spans(12, h.positiveSpans);
  for (const c of h.positiveBuckets) w.double(14, c);
  return w.bytes;
}

function zigzag(n: number): number {
  return n >= 0 ? 2 * n : -2 * n - 1;
}

function protoFamilies(families: Family[]): Buffer {
  const out: Buffer[] = [];
  for (const f of families) {
    const fam = new ProtoWriter();
    fam.string(1, f.name);
    fam.tag(3, 0);
    fam.varint(METRIC_TYPE[f.type]);
    for (const m of f.metrics) {
      const mw = new ProtoWriter();
      for (const [n, v] of m.labels) {
        const lp = new ProtoWriter();
        lp.string(1, n);
        lp.string(2, v);
        mw.lenDelimited(1, lp.bytes);
      }
      if (m.h !== undefined) {
        mw.lenDelimited(7, protoHistogram(m.h));
      } else {
        const untyped = new ProtoWriter();
        untyped.double(1, m.v);
        mw.lenDelimited(5, untyped.bytes);
      }
      mw.tag(6, 0);
      mw.varint(m.t);
      fam.lenDelimited(4, mw.bytes);
    }
    const size = new ProtoWriter();
    size.varint(fam.bytes.length);
    out.push(Buffer.from(size.bytes), Buffer.from(fam.bytes));
  }
  return Buffer.concat(out);
}

export function federateHandler(deps: FederateDeps): (req: RequestInfo) => HttpResponse {
  const now = deps.now ?? Date.now;
  const errors = new Counter({
    name: 'prometheus_web_federation_errors_total',
    help: 'Total number of errors that occurred while sending federation responses.',
    registers: deps.registry ? [deps.registry] : [],
  });
  const plain = (status: number, msg: string): HttpResponse => ({ status, body: `${msg}\n`, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
  return (req) => {
    const sets: Matcher[][] = [];
    for (const m of req.params.getAll('match[]')) {
      try {
        sets.push(deps.parser.parseMetricSelector(m));
      } catch (e) {
        return plain(400, (e as Error).message);
      }
    }
    const format = negotiateFormat(headerValue(req.headers['accept']));
    const maxt = now();
    const mint = maxt - deps.lookbackDeltaMs;
    const found: FedSample[] = [];
    let q: Querier;
    try {
      q = deps.storage.querier(mint, maxt);
    } catch (e) {
      // E.g. an agent's WAL-only store, which answers no queries.
      errors.inc();
      return plain(500, (e as Error).message);
    }
    try {
      for (const ms of sets) {
        const set = q.select(true, { start: mint, end: maxt }, ...ms);
        while (set.next()) {
          const s = set.at();
          const it = s.iterator();
          let t = NaN;
          let v = NaN;
          let h: FloatHistogram | undefined;
          for (let vt = it.next(); vt !== ValueType.None; vt = it.next()) {
            if (it.t() > maxt) break;
            t = it.t();
            if (vt === ValueType.Float) {
              v = it.v();
              h = undefined;
            } else {
              // Stores that yield histograms can read them back as float histograms.
              h = it.atFloatHistogram!();
              v = h.sum;
            }
          }
          // The exposition formats cannot carry staleness markers: such series are left out.
          if (t !== t || isStaleNaN(v)) continue;
          found.push(h === undefined ? { ls: s.labels, t, v } : { ls: s.labels, t, v, h });
        }
        const err = set.err();
        if (err !== null) throw err;
      }
    } catch (e) {
      errors.inc();
      return plain(500, (e as Error).message);
    } finally {
      q.close();
    }

    // The selections merged: sorted by labels, each series once.
    found.sort((a, b) => Labels.compare(a.ls, b.ls));
    // found[i - 1] exists for every i > 0.
    const samples = found.filter((s, i) => i === 0 || !s.ls.equals(found[i - 1]!.ls));
    // Then grouped by metric name (order kept within a name), as Prometheus sorts before writing families.
    samples.sort((a, b) => compareStrings(a.ls.get(METRIC_NAME), b.ls.get(METRIC_NAME)));
    const families = buildFamilies(samples, deps.externalLabels(), format.escaping, format.kind === 'text');
    const body = format.kind === 'protobuf' ? protoFamilies(families) : textFamilies(families);
    return { status: 200, body, headers: { 'Content-Type': format.contentType } };
  };
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}
