// /federate: the latest sample of every series matching match[], in the text
// exposition format, with external labels attached, as Prometheus serves it.
import { Counter, type Registry } from 'prom-client';
import { Labels, METRIC_NAME } from '../model/labels.js';
import type { Matcher } from '../model/matcher.js';
import { ValueType, type Queryable } from '../storage/interface.js';
import { isStaleNaN } from '../model/value.js';
import type { HttpResponse, RequestInfo } from './server.js';
import type { PromQLParser } from './api/v1.js';
// The text format writes values as Go's strconv.FormatFloat(f, 'g', -1, 64).
import { formatG } from '../promql/engine/format.js';

export interface FederateDeps {
  storage: Queryable;
  parser: PromQLParser;
  externalLabels(): Labels;
  lookbackDeltaMs: number;
  now?(): number;
  registry?: Registry;
}

function escapeLabelValue(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

const LEGACY_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function formatName(n: string): string {
  return LEGACY_NAME.test(n) ? n : `"${escapeLabelValue(n)}"`;
}

export function federateHandler(deps: FederateDeps): (req: RequestInfo) => HttpResponse {
  const now = deps.now ?? Date.now;
  const errors = new Counter({
    name: 'prometheus_web_federation_errors_total',
    help: 'Total number of errors that occurred while sending federation responses.',
    registers: deps.registry ? [deps.registry] : [],
  });
  return (req) => {
    const sets: Matcher[][] = [];
    for (const m of req.params.getAll('match[]')) {
      try {
        sets.push(deps.parser.parseMetricSelector(m));
      } catch (e) {
        return { status: 400, body: `${(e as Error).message}\n`, headers: { 'Content-Type': 'text/plain; charset=utf-8' } };
      }
    }
    const maxt = now();
    const mint = maxt - deps.lookbackDeltaMs;
    const latest = new Map<string, { ls: Labels; t: number; v: number }>();
    const q = deps.storage.querier(mint, maxt);
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
          if (t !== t || isStaleNaN(v)) continue;
          latest.set(s.labels.key(), { ls: s.labels, t, v });
        }
        const err = set.err();
        if (err !== null) throw err;
      }
    } catch (e) {
      errors.inc();
      return { status: 500, body: `${(e as Error).message}\n`, headers: { 'Content-Type': 'text/plain; charset=utf-8' } };
    } finally {
      q.close();
    }

    const samples = [...latest.values()];
    // Grouped by metric name (stable within a name), as Prometheus sorts before writing families.
    samples.sort((a, b) => {
      const na = a.ls.get(METRIC_NAME);
      const nb = b.ls.get(METRIC_NAME);
      return na < nb ? -1 : na > nb ? 1 : 0;
    });
    const ext = deps.externalLabels().toObject();
    if (!('instance' in ext)) ext['instance'] = '';
    const extNames = Object.keys(ext).sort();

    let out = '';
    let lastName: string | null = null;
    for (const s of samples) {
      const name = s.ls.get(METRIC_NAME);
      if (name === '') continue;
      if (name !== lastName) {
        out += `# TYPE ${formatName(name)} untyped\n`;
        lastName = name;
      }
      const parts: string[] = [];
      s.ls.forEach((n, v) => {
        if (n !== METRIC_NAME && v !== '') parts.push(`${formatName(n)}="${escapeLabelValue(v)}"`);
      });
      for (const n of extNames) {
        if (!s.ls.has(n)) parts.push(`${formatName(n)}="${escapeLabelValue(ext[n]!)}"`);
      }
      out += `${formatName(name)}{${parts.join(',')}} ${formatG(s.v)} ${s.t}\n`;
    }
    return { status: 200, body: out, headers: { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' } };
  };
}
