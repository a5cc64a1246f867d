// /federate: the latest sample of every series matching match[], with external
// labels attached, in the exposition format the client negotiates, as
// Prometheus serves it (web/federate.go and prometheus/common's expfmt).
import { Counter, type Registry } from 'prom-client';
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
}

/** One metric family as Prometheus builds it: name, then metrics with label pairs, value and timestamp. */
interface Family {
  name: string;
  metrics: Array<{ labels: Array<[string, string]>; v: number; t: number }>;
}

function buildFamilies(samples: FedSample[], externalLabels: Labels, scheme: Escaping): Family[] {
  const ext = externalLabels.toObject();
  if (!('instance' in ext)) ext['instance'] = '';
  const extNames = Object.keys(ext).sort(compareStrings);
  const families: Family[] = [];
  let current: Family | null = null;
  for (const s of samples) {
    const name = s.ls.get(METRIC_NAME);
    // Nameless series are ignored, as Prometheus ignores them.
    if (name === '') continue;
    if (current === null || current.name !== name) {
      current = { name, metrics: [] };
      families.push(current);
    }
    const labels: Array<[string, string]> = [];
    for (let i = 0; i < s.ls.length; i++) {
      const n = s.ls.nameAt(i);
      if (n !== METRIC_NAME) labels.push([escaped(n, scheme), s.ls.valueAt(i)]);
    }
    // extNames are ext's own keys.
    for (const n of extNames) if (!s.ls.has(n)) labels.push([escaped(n, scheme), ext[n]!]);
    current.metrics.push({ labels, v: s.v, t: s.t });
  }
  for (const f of families) f.name = escaped(f.name, scheme);
  return families;
}

function textFamilies(families: Family[]): string {
  let out = '';
  for (const f of families) {
    const name = textName(f.name);
    out += `# TYPE ${name} untyped\n`;
    // A name that is not legacy-valid goes inside the braces.
    const inside = !isValidLegacyMetricName(f.name);
    for (const m of f.metrics) {
      const parts = m.labels.map(([n, v]) => `${textName(n)}="${escapeLabelValue(v)}"`);
      const lbl = inside ? `{${[name, ...parts].join(',')}}` : parts.length > 0 ? `{${parts.join(',')}}` : '';
      out += `${inside ? '' : name}${lbl} ${textFloat(m.v)} ${m.t}\n`;
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

const METRIC_TYPE_UNTYPED = 3;

function protoFamilies(families: Family[]): Buffer {
  const out: Buffer[] = [];
  for (const f of families) {
    const fam = new ProtoWriter();
    fam.string(1, f.name);
    fam.tag(3, 0);
    fam.varint(METRIC_TYPE_UNTYPED);
    for (const m of f.metrics) {
      const mw = new ProtoWriter();
      for (const [n, v] of m.labels) {
        const lp = new ProtoWriter();
        lp.string(1, n);
        lp.string(2, v);
        mw.lenDelimited(1, lp.bytes);
      }
      const untyped = new ProtoWriter();
      untyped.double(1, m.v);
      mw.lenDelimited(5, untyped.bytes);
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
          while (it.next() !== ValueType.None) {
            if (it.t() > maxt) break;
            t = it.t();
            v = it.v();
          }
          // The exposition formats cannot carry staleness markers: such series are left out.
          if (t !== t || isStaleNaN(v)) continue;
          found.push({ ls: s.labels, t, v });
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
    const families = buildFamilies(samples, deps.externalLabels(), format.escaping);
    const body = format.kind === 'protobuf' ? protoFamilies(families) : textFamilies(families);
    return { status: 200, body, headers: { 'Content-Type': format.contentType } };
  };
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}
