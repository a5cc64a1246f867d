// Shared helpers for the engine's unit tests. Named *.test.ts so it is built
// and shipped with the tests only; it defines no tests itself.
import assert from 'node:assert/strict';
import { Labels } from '../../model/labels.js';
import { MatchType } from '../../model/matcher.js';
import { STALE_NAN } from '../../model/value.js';
import { MemoryStorage } from '../../storage/memory.js';
import { parseMetricSelector } from '../parser/parser.js';
import { Engine } from './engine.js';
import type { EngineOptions, QueryResult, QueryValue } from './types.js';

/** Marks a missing point in a fixture series. */
export const _ = null;
/** A staleness marker in a fixture series. */
export const STALE = 'stale';

export type Point = number | null | typeof STALE;

/** Labels from selector syntax, e.g. `up{job="a"}`. */
export function labels(sel: string): Labels {
  const list = parseMetricSelector(sel).map((m) => {
    if (m.type !== MatchType.Equal) throw new Error(`fixture labels need = matchers: ${sel}`);
    return { name: m.name, value: m.value };
  });
  return Labels.fromList(list);
}

/** A storage with each series' points at 0, step, 2*step, ... (ms). */
export function store(series: Record<string, readonly Point[]>, stepMs = 60_000): MemoryStorage {
  const db = new MemoryStorage();
  for (const [sel, points] of Object.entries(series)) {
    const app = db.appender();
    const ls = labels(sel);
    points.forEach((p, i) => {
      if (p === null) return;
      app.append(0, ls, i * stepMs, p === STALE ? STALE_NAN : p);
    });
    app.commit();
  }
  return db;
}

/** An engine with delayed name removal off (Prometheus's default) unless features say otherwise. */
export function engine(opts: EngineOptions = {}): Engine {
  return new Engine({ noStepSubqueryIntervalMs: 60_000, ...opts });
}

/** `{labels} value` lines of an instant vector or scalar, in result order. */
export function vectorLines(v: QueryValue): string[] {
  if (v.type === 'scalar') return [`scalar ${v.v}`];
  if (v.type !== 'vector') throw new Error(`expected a vector, got ${v.type}`);
  return v.samples.map((s) => `${s.metric.toString()} ${s.f}`);
}

/** `{labels} v@t ...` lines of a matrix (t in seconds). */
export function matrixLines(v: QueryValue): string[] {
  if (v.type !== 'matrix') throw new Error(`expected a matrix, got ${v.type}`);
  return v.series.map((s) => {
    const pts: string[] = [];
    for (let i = 0; i < s.ts.length; i++) pts.push(`${s.fs[i]}@${s.ts[i]! / 1000}`);
    return `${s.metric.toString()} ${pts.join(' ')}`;
  });
}

export async function instant(db: MemoryStorage, q: string, tMs: number, opts: EngineOptions = {}): Promise<QueryResult> {
  return engine(opts).newInstantQuery(db, q, tMs).exec();
}

export async function range(db: MemoryStorage, q: string, startMs: number, endMs: number, stepMs: number, opts: EngineOptions = {}): Promise<QueryResult> {
  return engine(opts).newRangeQuery(db, q, startMs, endMs, stepMs).exec();
}

/** Asserts a number equal to `expected` up to a relative 1e-12 (NaN and infinities exactly). */
export function close(actual: number | null, expected: number, msg?: string): void {
  assert.ok(actual !== null, msg ?? 'expected a value, got null');
  if (Number.isNaN(expected)) {
    assert.ok(Number.isNaN(actual), `${msg ?? ''} expected NaN, got ${actual}`);
    return;
  }
  if (!Number.isFinite(expected)) {
    assert.equal(actual, expected, msg);
    return;
  }
  const tol = Math.max(1e-12, Math.abs(expected) * 1e-12);
  assert.ok(Math.abs(actual - expected) <= tol, `${msg ?? ''} expected ${expected}, got ${actual}`);
}
