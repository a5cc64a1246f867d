// The experimental info() function: enriches series with the data labels of
// matching info metrics (target_info by default), joined on instance and job.
import { Labels, LabelsBuilder } from '../../model/labels.js';
import { MatchType, Matcher } from '../../model/matcher.js';
import type { Call, Expr } from '../parser/ast.js';
import type { EvalContext } from './context.js';
import { listCursor } from './cursors.js';
import { EvalError } from './errors.js';
import { inspect } from './preprocess.js';
import type { Matrix } from './value.js';

const TARGET_INFO = 'target_info';
const IDENTIFYING_LABELS = ['instance', 'job'];

/** Name matchers that select info metrics: the given ones when they pin a name, else any `*_info` (or target_info by default). */
function effectiveNameMatchers(ms: Matcher[]): Matcher[] {
  for (const m of ms) if (m.type === MatchType.Equal || m.type === MatchType.Regexp) return ms;
  if (ms.length > 0) return [Matcher.create(MatchType.Regexp, '__name__', '.+_info'), ...ms];
  return [Matcher.create(MatchType.Equal, '__name__', TARGET_INFO)];
}

/** Go's regexp.QuoteMeta. */
function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

function signatureFor(name: string, ls: Labels): string {
  const kept = ls.keep(...IDENTIFYING_LABELS);
  return Labels.fromList([{ name: '__name__', value: name }, ...kept]).key();
}

/**
 * The time the info series are read at, from the first vector selector of info()'s first argument:
 * its @ time, or the @ time of the innermost enclosing subquery that has one (null: the evaluation
 * time), and the offsets of the selector and of the subqueries up to that one. Prometheus reads the
 * info series at that time, so info(v @ T) is enriched as of T at every step.
 */
function infoTimeOf(arg: Expr): { at: number | null; offset: number } {
  let found: { at: number | null; offset: number } | null = null;
  inspect(arg, (n, path) => {
    if (found !== null || n.type !== 'VectorSelector') return;
    let at = n.timestamp;
    let offset = n.originalOffset;
    // 0 <= i < path.length.
    for (let i = path.length - 1; at === null && i >= 0; i--) {
      const p = path[i]!;
      if (p.type === 'SubqueryExpr') {
        offset += p.originalOffset;
        at = p.timestamp;
      }
    }
    found = { at, offset };
  });
  return found ?? { at: null, offset: 0 };
}

export async function evalInfo(ev: EvalContext, e: Call): Promise<Matrix> {
  const arg = e.args[0];
  if (arg === undefined) throw new EvalError('BUG: info() without arguments');
  const time = infoTimeOf(arg);
  const mat = await ev.evalMatrix(arg);
  const dataMatchers = new Map<string, Matcher[]>();
  let infoNameMatchers: Matcher[] = [];
  const selector = e.args[1];
  if (selector !== undefined) {
    if (selector.type !== 'VectorSelector') throw new EvalError('BUG: info() expects a label selector');
    for (const m of selector.matchers) {
      const list = dataMatchers.get(m.name) ?? [];
      list.push(m);
      dataMatchers.set(m.name, list);
      if (m.name === '__name__') infoNameMatchers.push(m);
    }
  } else {
    infoNameMatchers = [Matcher.create(MatchType.Equal, '__name__', TARGET_INFO)];
  }
  const effective = effectiveNameMatchers(infoNameMatchers);
  const ignored = new Set<string>();
  for (const s of mat) {
    const name = s.metric.get('__name__');
    if (effective.every((m) => m.matches(name))) ignored.add(s.metric.key());
  }
  const infoMat = await fetchInfoSeries(ev, time, mat, ignored, dataMatchers);
  return combine(ev, mat, infoMat, ignored, dataMatchers);
}

function removeNameMatchers(dataMatchers: Map<string, Matcher[]>): void {
  for (const [name, ms] of [...dataMatchers]) {
    const rest = ms.filter((m) => m.name !== '__name__');
    if (rest.length > 0) dataMatchers.set(name, rest);
    else dataMatchers.delete(name);
  }
}

async function fetchInfoSeries(
  ev: EvalContext,
  time: { at: number | null; offset: number },
  mat: Matrix,
  ignored: Set<string>,
  dataMatchers: Map<string, Matcher[]>,
): Promise<Matrix> {
  const idValues = new Map<string, Set<string>>();
  for (const s of mat) {
    if (ignored.has(s.metric.key())) continue;
    for (const l of IDENTIFYING_LABELS) {
      const v = s.metric.get(l);
      if (v === '') continue;
      let set = idValues.get(l);
      if (set === undefined) {
        set = new Set();
        idValues.set(l, set);
      }
      set.add(v);
    }
  }
  if (idValues.size === 0) {
    removeNameMatchers(dataMatchers);
    return [];
  }
  const matchers: Matcher[] = [];
  for (const [name, vals] of idValues) matchers.push(Matcher.create(MatchType.Regexp, name, [...vals].map(quoteMeta).join('|')));
  const nameMatchers: Matcher[] = [];
  for (const ms of dataMatchers.values()) {
    for (const m of ms) {
      if (m.name === '__name__') nameMatchers.push(m);
      else matchers.push(m);
    }
  }
  removeNameMatchers(dataMatchers);
  matchers.push(...effectiveNameMatchers(nameMatchers));

  const { at, offset } = time;
  let start = ev.start;
  let end = ev.end;
  if (at !== null) {
    start = at;
    end = at;
  }
  start -= ev.q.lookbackDelta - 1 + offset;
  end -= offset;
  const set = ev.q.querier.select(false, { start, end, step: ev.interval, func: 'info' }, ...matchers);
  // A remote-read querier fetches during the select.
  await ev.q.querier.ready?.();
  const list = [];
  while (set.next()) list.push(set.at());
  const err = set.err();
  if (err !== null) throw err;
  return ev.evalSeries(listCursor(list), offset, true, at);
}

async function combine(
  ev: EvalContext,
  mat: Matrix,
  infoMat: Matrix,
  ignored: Set<string>,
  dataMatchers: Map<string, Matcher[]>,
): Promise<Matrix> {
  const infoNames = new Set<string>();
  for (const s of infoMat) infoNames.add(s.metric.get('__name__'));
  const baseSigs = mat.map((s) => [...infoNames].map((n) => [n, signatureFor(n, s.metric)] as const));
  const infoSigs = infoMat.map((s) => signatureFor(s.metric.get('__name__'), s.metric));
  const before = ev.currentSamples;
  const allMatchEmpty = [...dataMatchers.values()].every((ms) => ms.every((m) => m.matches('')));
  // vecs holds the two arguments' StepVectors; for j < n their idx[j] index mat/infoMat, and baseSigs/infoSigs
  // have an entry per series of those.
  return ev.rangeEval(before, [mat, infoMat], (_k, t, vecs, out) => {
    const base = vecs[0]!;
    const info = vecs[1]!;
    if (base.n === 0) return;
    const bySig = new Map<string, { i: number; origT: number }>();
    for (let j = 0; j < info.n; j++) {
      const si = info.idx[j]!;
      const origT = Math.trunc(info.v[j]!);
      const sig = infoSigs[si]!;
      const prev = bySig.get(sig);
      if (prev === undefined || prev.origT < origT) {
        bySig.set(sig, { i: si, origT });
      } else if (prev.origT === origT) {
        throw new EvalError(
          `found duplicate series for info metric: existing ${infoMat[prev.i]!.metric.toString()} @ ${prev.origT}, new ${infoMat[si]!.metric.toString()} @ ${origT}`,
        );
      }
    }
    for (let j = 0; j < base.n; j++) {
      const si = base.idx[j]!;
      const metric = mat[si]!.metric;
      // A name already marked for removal stays marked (delayed name removal).
      const dropName = mat[si]!.dropName;
      const v = base.v[j]!;
      if (ignored.has(metric.key())) {
        out.emit(metric, dropName, t, v);
        continue;
      }
      const lb = new LabelsBuilder();
      const seen = new Set<string>();
      for (const [infoName, sig] of baseSigs[si]!) {
        const hit = bySig.get(sig);
        if (hit === undefined || seen.has(infoName)) continue;
        infoMat[hit.i]!.metric.forEach((name, value) => {
          if (name === '__name__') return;
          if (dataMatchers.size > 0 && !dataMatchers.has(name)) return;
          const cur = lb.get(name);
          if (cur !== '' && cur !== value) throw new EvalError(`conflicting label: ${name}`);
          if (metric.has(name)) return;
          lb.set(name, value);
        });
        seen.add(infoName);
      }
      if (seen.size === 0 && !allMatchEmpty) continue;
      const add = lb.labels();
      const b = metric.builder();
      add.forEach((n, val) => b.set(n, val));
      out.emit(b.labels(), dropName, t, v);
    }
  });
}
