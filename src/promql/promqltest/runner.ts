// promql/promqltest: reads and runs Prometheus's .test files (`npm run promqltest`).
// May import gofmt/, model/, storage/ (its in-memory store) and promql/*.
//
// Runs parsed .test scripts against an in-memory storage and a query engine,
// following Prometheus's runner: every instant case is also evaluated with
// `@ <t>` pinned on its selectors at other evaluation times, and as a range
// query around t whose middle step must give the same answer.
import { Histogram, type FloatHistogram } from '../../model/histogram.js';
import { ClassicHistogramBuilder, classicHistogramSeries } from '../../model/histogram_nhcb.js';
import { Labels, METRIC_NAME } from '../../model/labels.js';
import { MemoryStorage } from '../../storage/memory.js';
import type { Expr } from '../parser/ast.js';
import { ParseError } from '../parser/errors.js';
import { AT_MODIFIER_UNSAFE, children, cloneExpr } from '../engine/preprocess.js';
import type { QueryEngine, QueryResult, QueryValue } from '../engine/types.js';
import { checkAnnotations, checkExpectedFailure, compareResult, instantFromRange } from './compare.js';
import { parseGoNumber, parseScript, type EvalCmd, type LoadCmd } from './script.js';

/** What the runner needs from the parser and the engine; the CLI and tests pass the real ones. */
export interface RunnerDeps {
  newEngine(features: ReadonlySet<string>): QueryEngine;
  parseExpr(query: string, features: ReadonlySet<string>): Expr;
  exprToString(e: Expr): string;
}

export type CaseStatus = 'passed' | 'failed' | 'skipped';

export interface CaseResult {
  /** `<file>:<line>`, the id used by the known-failures list. */
  id: string;
  file: string;
  line: number;
  query: string;
  status: CaseStatus;
  /** Why it failed (expected vs got) or why it was skipped. */
  message?: string;
}

export interface FileResult {
  file: string;
  cases: CaseResult[];
}

export type RunMode = 'eval' | 'parse';

export interface RunOptions {
  mode: RunMode;
  features: ReadonlySet<string>;
}

/** Settings of Prometheus's test engine that the runner reproduces. */
export const TEST_ENGINE = {
  /** Prometheus's DefaultMaxSamplesPerQuery for the built-in tests. */
  maxSamples: 10000,
  timeoutMs: 100_000,
  noStepSubqueryIntervalMs: 60_000,
} as const;

/** Queries using these resolve differently in a range query, so the range-mode check skips them. */
const QUERY_CONTEXT_FUNCS = /(start|end|range|step)\(\)/;

/** The range-mode check runs a range query from t-1m to t+1m with a 1m step and reads its middle step. */
const RANGE_MODE_HALF_WIDTH_MS = 60_000;

/**
 * The query with `@ t` on every selector and subquery not already pinned
 * (selectors inside a pinned subquery keep their own time), or null when the
 * query calls a function that depends on the evaluation time.
 */
export function pinAtModifier(expr: Expr, t: number): Expr | null {
  const root = cloneExpr(expr);
  let unsafe = false;
  const visit = (e: Expr, underPinnedSubquery: boolean): void => {
    if (!underPinnedSubquery) {
      if (e.type === 'VectorSelector' || e.type === 'SubqueryExpr') {
        if (e.timestamp === null) {
          e.timestamp = t;
          e.startOrEnd = null;
        }
      } else if (e.type === 'MatrixSelector') {
        const vs = e.vectorSelector;
        if (vs.timestamp === null) {
          vs.timestamp = t;
          vs.startOrEnd = null;
        }
      }
    }
    if (e.type === 'Call' && AT_MODIFIER_UNSAFE.has(e.func.name)) unsafe = true;
    const pinned = underPinnedSubquery || (e.type === 'SubqueryExpr' && e.timestamp !== null);
    for (const c of children(e)) visit(c, pinned);
  };
  visit(root, false);
  return unsafe ? null : root;
}

/** Evaluation times of the `@`-pinned variants of an instant case at t (ms), as Prometheus picks them. */
export function atModifierTimes(t: number): number[] {
  return t === 0 ? [-1000, 0, 1000] : [-10 * t, 0, Math.trunc(t / 5), t, 10 * t];
}

function errorOf(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** JavaScript's own errors mean a bug in the engine, never an expected query failure. */
function isCrash(e: Error): boolean {
  return e instanceof TypeError || e instanceof ReferenceError || e instanceof RangeError;
}

function crashMessage(e: Error): string {
  const frame = e.stack?.split('\n')[1]?.trim() ?? '';
  return `engine crashed: ${e.name}: ${e.message}${frame !== '' ? ` (${frame})` : ''}`;
}

class ScriptRun {
  private readonly storage = new MemoryStorage();
  private loadError: string | null = null;
  private engine: QueryEngine | null = null;

  constructor(
    private readonly deps: RunnerDeps,
    private readonly features: ReadonlySet<string>,
  ) {}

  clear(): void {
    this.storage.clear();
    this.loadError = null;
  }

  load(cmd: LoadCmd): void {
    const app = this.storage.appender();
    try {
      for (const s of cmd.series) {
        const sts = s.startTimestamps;
        for (const [i, v] of s.values.entries()) {
          const st = sts?.[i];
          if (st !== undefined && st !== null) app.setStartTimestamp!(i * cmd.intervalMs + st);
          if (v.histogram !== undefined) app.appendHistogram!(0, s.labels, i * cmd.intervalMs, null, v.histogram);
          else if (!v.omitted) app.append(0, s.labels, i * cmd.intervalMs, v.value);
        }
      }
      if (cmd.withNhcb) appendNhcb(app, cmd);
      app.commit();
    } catch (e) {
      app.rollback();
      this.loadError = `data could not be loaded (load at line ${cmd.line}): ${errorOf(e).message}`;
    }
  }

  async eval(file: string, cmd: EvalCmd): Promise<CaseResult> {
    const base = { id: `${file}:${cmd.line}`, file, line: cmd.line, query: cmd.query };
    if (this.loadError !== null) return { ...base, status: 'failed', message: this.loadError };
    const err = cmd.isRange ? await this.runRange(cmd) : await this.runInstant(cmd);
    return err === null ? { ...base, status: 'passed' } : { ...base, status: 'failed', message: err };
  }

  private getEngine(): QueryEngine {
    if (this.engine === null) this.engine = this.deps.newEngine(this.features);
    return this.engine;
  }

  /** Runs a query; returns its result, or the error it threw (crashes are reported as messages). */
  private async exec(make: () => ReturnType<QueryEngine['newInstantQuery']>): Promise<QueryResult | Error | string> {
    let q;
    try {
      q = make();
    } catch (e) {
      const err = errorOf(e);
      return isCrash(err) ? crashMessage(err) : err;
    }
    try {
      return await q.exec();
    } catch (e) {
      const err = errorOf(e);
      return isCrash(err) ? crashMessage(err) : err;
    }
  }

  /** Checks one executed query against the case; `where` names the variant in messages. */
  private check(cmd: EvalCmd, res: QueryResult | Error | string, where: string): string | null {
    if (typeof res === 'string') return `${where}${res}`;
    if (res instanceof Error) {
      if (!cmd.fail) return `${where}unexpected error: ${res.message}`;
      const m = checkExpectedFailure(cmd, res);
      return m === null ? null : `${where}${m}`;
    }
    if (cmd.fail) return `${where}expected an error but the query succeeded`;
    const a = checkAnnotations(cmd, res.warnings, res.infos, res.warningsWithPosition, res.infosWithPosition);
    if (a !== null) return `${where}${a}`;
    const c = compareResult(cmd, res.value);
    return c === null ? null : `${where}${c}`;
  }

  private async runRange(cmd: EvalCmd): Promise<string | null> {
    const res = await this.exec(() => this.getEngine().newRangeQuery(this.storage, cmd.query, cmd.start, cmd.end, cmd.step));
    return this.check(cmd, res, '');
  }

  private async runInstant(cmd: EvalCmd): Promise<string | null> {
    const variants: Array<{ query: string; t: number; label: string }> = [{ query: cmd.query, t: cmd.evalTime, label: '' }];
    let parsed: Expr | null = null;
    try {
      parsed = this.deps.parseExpr(cmd.query, this.features);
    } catch {
      // Unparsable: only the query as written runs, and its error is checked.
    }
    const pinned = parsed !== null ? pinAtModifier(parsed, cmd.evalTime) : null;
    if (pinned !== null) {
      const text = this.deps.exprToString(pinned);
      for (const t of atModifierTimes(cmd.evalTime)) variants.push({ query: text, t, label: `[@-pinned variant ${text} at t=${t}ms] ` });
    }
    for (const v of variants) {
      const err = await this.runInstantVariant(cmd, v.query, v.t, v.label);
      if (err !== null) return err;
    }
    return null;
  }

  private async runInstantVariant(cmd: EvalCmd, query: string, t: number, label: string): Promise<string | null> {
    const res = await this.exec(() => this.getEngine().newInstantQuery(this.storage, query, t));
    const err = this.check(cmd, res, label);
    if (err !== null || typeof res === 'string' || res instanceof Error) return err;
    if (cmd.excludeFromRangeQuery || QUERY_CONTEXT_FUNCS.test(query)) return null;

    const where = `${label}[range mode, ${t - RANGE_MODE_HALF_WIDTH_MS}..${t + RANGE_MODE_HALF_WIDTH_MS} step 1m] `;
    const rr = await this.exec(() =>
      this.getEngine().newRangeQuery(this.storage, query, t - RANGE_MODE_HALF_WIDTH_MS, t + RANGE_MODE_HALF_WIDTH_MS, RANGE_MODE_HALF_WIDTH_MS),
    );
    if (typeof rr === 'string') return `${where}${rr}`;
    if (rr instanceof Error) return `${where}unexpected error: ${rr.message}`;
    // Range results are sorted by labels, so an order expectation cannot be checked on them.
    if (cmd.ordered) return null;
    const inst: QueryValue | string = instantFromRange(rr.value, t, res.value.type === 'scalar');
    if (typeof inst === 'string') return `${where}${inst}`;
    const c = compareResult(cmd, inst);
    return c === null ? null : `${where}${c}`;
  }
}

/**
 * load_with_nhcb: every classic histogram (its _bucket, _sum and _count
 * series) is also loaded as native histograms with custom buckets, one per
 * timestamp, named without the suffix, as Prometheus's runner converts them.
 */
function appendNhcb(app: ReturnType<MemoryStorage['appender']>, cmd: LoadCmd): void {
  const byBase = new Map<string, { labels: Labels; byT: Map<number, ClassicHistogramBuilder> }>();
  for (const s of cmd.series) {
    const { suffix, base } = classicHistogramSeries(s.labels.get(METRIC_NAME));
    if (suffix === null) continue;
    let le = NaN;
    if (suffix === 'bucket') {
      // Buckets whose bound does not parse as a float (Go syntax, so `+Inf` counts) are left out.
      const parsed = parseGoNumber(s.labels.get('le'));
      if (parsed === null || Number.isNaN(parsed)) continue;
      le = parsed;
    }
    const labels = s.labels.builder().set(METRIC_NAME, base).del('le').labels();
    let entry = byBase.get(labels.key());
    if (entry === undefined) {
      entry = { labels, byT: new Map() };
      byBase.set(labels.key(), entry);
    }
    for (const [i, v] of s.values.entries()) {
      if (v.omitted || v.histogram !== undefined) continue;
      const t = i * cmd.intervalMs;
      let b = entry.byT.get(t);
      if (b === undefined) {
        b = new ClassicHistogramBuilder();
        entry.byT.set(t, b);
      }
      // As in Prometheus's runner, a value the builder refuses leaves its histogram failing at conversion.
      try {
        if (suffix === 'bucket') b.setBucketCount(le, v.value);
        else if (suffix === 'count') b.setCount(v.value);
        else b.setSum(v.value);
      } catch {
        // The builder keeps the error; convert() throws it.
      }
    }
  }
  for (const { labels, byT } of byBase.values()) {
    for (const t of [...byT.keys()].sort((a, b) => a - b)) {
      const h = byT.get(t)!.convert();
      h.validate();
      const fh: FloatHistogram = h instanceof Histogram ? h.toFloat() : h;
      fh.validate();
      app.appendHistogram!(0, labels, t, null, fh);
    }
  }
}

function scriptErrorCases(file: string, errors: ReadonlyArray<{ line: number; message: string }>): CaseResult[] {
  return errors.map((e) => ({ id: `${file}:${e.line}`, file, line: e.line, query: '', status: 'failed', message: `script error: ${e.message}` }));
}

/** Parses and runs one test file. `file` is the name used in case ids (e.g. `functions.test`). */
export async function runTestFile(file: string, text: string, deps: RunnerDeps, opts: RunOptions): Promise<FileResult> {
  const script = parseScript(text);
  const cases = scriptErrorCases(file, script.errors);
  if (opts.mode === 'parse') {
    for (const c of script.commands) if (c.kind === 'eval') cases.push(parseCase(file, c, deps, opts.features));
  } else {
    const run = new ScriptRun(deps, opts.features);
    for (const c of script.commands) {
      if (c.kind === 'clear') run.clear();
      else if (c.kind === 'load') run.load(c);
      else cases.push(await run.eval(file, c));
    }
  }
  cases.sort((a, b) => a.line - b.line);
  return { file, cases };
}

/** Parse-only check: the query parses, or fails to parse as the case expects. */
function parseCase(file: string, cmd: EvalCmd, deps: RunnerDeps, features: ReadonlySet<string>): CaseResult {
  const base = { id: `${file}:${cmd.line}`, file, line: cmd.line, query: cmd.query };
  try {
    deps.parseExpr(cmd.query, features);
    return { ...base, status: 'passed' };
  } catch (e) {
    const err = errorOf(e);
    if (!(err instanceof ParseError)) return { ...base, status: 'failed', message: `parser threw ${err.name}: ${err.message}` };
    if (!cmd.fail) return { ...base, status: 'failed', message: `unexpected parse error: ${err.message}` };
    const m = checkExpectedFailure(cmd, err);
    return m === null ? { ...base, status: 'passed' } : { ...base, status: 'failed', message: m };
  }
}
