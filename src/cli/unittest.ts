// `tsprom test rules [--run=<regex>]... <test-files...>`: promtool's unit tests
// for rules. Each test group loads its input series into an in-memory store,
// evaluates the rule groups at every evaluation step from its start to its
// last eval_time (samples are appended lazily up to each step, as promtool's
// loader does), checks the firing alerts at each alert test's eval_time, then
// runs the expression tests as instant queries. --junit writes the results
// as JUnit XML too.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import RE2 from 're2';
import { expandGlob } from '../config/load.js';
import { formatDuration, formatGoDurationNs } from '../gofmt/duration.js';
import { formatF } from '../gofmt/float.js';
import { goQuote } from '../gofmt/quote.js';
import { Labels } from '../model/labels.js';
import { nopLogger } from '../logging/types.js';
import { Engine } from '../promql/engine/engine.js';
import { ParseError } from '../promql/parser/errors.js';
import { parseExpr } from '../promql/parser/parser.js';
import { parseMetric, parseSeriesDesc, SeriesSyntaxError } from '../promql/promqltest/series.js';
import { MemoryStorage } from '../storage/memory.js';
import { RuleManager } from '../rules/manager.js';
import type { Group } from '../rules/group.js';
import { enabledFeatures, EXIT_FAILURE, EXIT_SUCCESS, parseCommandFlags, processIO, requireExistingFiles, UsageError, type CommandIO } from './check.js';
import { parseUnitTestFile, UnitTestFileError, type TestGroup } from './unittest_file.js';
import { JUnitSuite, junitTimestamp, junitXml } from './unittest_junit.js';
import {
  alertMismatch,
  compareAlerts,
  exprError,
  exprMismatch,
  type LabelsAndAnnotations,
  type TestSample,
} from './unittest_format.js';

const PROGRAM = 'tsprom';
const DEFAULT_EVAL_INTERVAL_MS = 60_000;

/** promtool's test engine: its sample limit and timeout (promqltest's lazy loader). */
const TEST_MAX_SAMPLES = 10_000;
const TEST_TIMEOUT_MS = 100_000;

const USAGE = `usage: ${PROGRAM} test [--junit=<file>] rules [<flags>] <test-rule-file>...

Run promtool-format unit tests of rule files.

Flags:
  --junit=<file>  Also write the results to <file> as JUnit XML.
  --run=<regex>   Run only the test groups whose name matches (RE2); repeatable, any match counts.
  --enable-feature=<name>  PromQL features rules and tests may use (e.g. promql-experimental-functions).
  --debug         Print each test group's duration and all its series (input and recorded) to stderr.
`;

/** Entry point of `tsprom test ...`. */
export async function runTestCommand(argv: readonly string[], io: CommandIO = processIO): Promise<number> {
  try {
    // --junit belongs to `test`, --run to `test rules`; both may come anywhere after `test`.
    const p = parseCommandFlags(argv, new Set(['run', 'junit', 'enable-feature']), new Set(['help', 'debug']));
    const [cmd, ...files] = p.args;
    if (p.flags.has('help') || cmd === 'help') {
      io.stdout(USAGE);
      return EXIT_SUCCESS;
    }
    if (cmd === undefined) throw new UsageError('expected command but got nothing');
    if (cmd !== 'rules') throw new UsageError(`expected command but got ${JSON.stringify(cmd)}`);
    if (files.length === 0) throw new UsageError("required argument 'test-rule-file' not provided");
    requireExistingFiles(files);
    const runs = p.flags.get('run');
    let run: RE2 | null = null;
    if (runs !== undefined) {
      try {
        run = new RE2(runs.join('|'), 'u');
      } catch (e) {
        throw new UsageError(`invalid --run regular expression: ${(e as Error).message}`);
      }
    }
    const junitFile = p.flags.get('junit')?.at(-1);
    const suites: JUnitSuite[] = [];
    const opts: RunOptions = { run, features: enabledFeatures(p), debug: p.flags.get('debug')?.at(-1) === 'true' };
    const code = await rulesUnitTest(files, opts, io, suites);
    if (junitFile !== undefined) {
      try {
        writeFileSync(junitFile, junitXml(suites));
      } catch (e) {
        io.stderr(`failed to write JUnit XML: ${(e as Error).message}\n`);
      }
    }
    return code;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`${PROGRAM}: error: ${e.message}, try --help\n`);
      return EXIT_FAILURE;
    }
    throw e;
  }
}

/** Runs the test files; prints promtool's report for each and adds a JUnit suite per file. 0 when all passed. */
/** What the command line says about running the tests. */
interface RunOptions {
  /** --run: only test groups whose name matches. */
  readonly run: RE2 | null;
  /** --enable-feature */
  readonly features: ReadonlySet<string>;
  /** --debug: timings and a dump of all series of each test group, on stderr. */
  readonly debug: boolean;
}

async function rulesUnitTest(files: readonly string[], opts: RunOptions, io: CommandIO, suites: JUnitSuite[]): Promise<number> {
  let failed = false;
  for (const f of files) {
    io.stdout(`Unit Testing:  ${f}\n`);
    const suite = new JUnitSuite(f);
    suites.push(suite);
    const errs = await ruleUnitTestFile(f, opts, io, suite);
    if (errs.length > 0) {
      io.stderr('  FAILED:\n');
      // promtool writes each error to stderr and a blank line to stdout.
      for (const e of errs) {
        io.stderr(`${e}\n`);
        io.stdout('\n');
      }
      failed = true;
    } else {
      io.stdout('  SUCCESS\n');
    }
    io.stdout('\n');
  }
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/** The failures of one test file (empty when all its tests pass). */
async function ruleUnitTestFile(filename: string, opts: RunOptions, io: CommandIO, suite: JUnitSuite): Promise<string[]> {
  const abort = (msg: string): string[] => {
    suite.abort(msg);
    return [msg];
  };
  let file;
  try {
    file = parseUnitTestFile(readFileSync(filename, 'utf8'));
  } catch (e) {
    return abort((e as Error).message);
  }
  const ruleFiles: string[] = [];
  for (const rf of file.ruleFiles) {
    const pattern = rf !== '' && !isAbsolute(rf) ? join(dirname(filename), rf) : rf;
    const matches = expandGlob(pattern);
    if (matches.length === 0) io.stderr(`  WARNING: no file match pattern ${pattern}\n`);
    ruleFiles.push(...matches);
  }
  const evalIntervalMs = file.evaluationIntervalMs > 0 ? file.evaluationIntervalMs : DEFAULT_EVAL_INTERVAL_MS;
  suite.timestamp = junitTimestamp(new Date());
  const order = new Map<string, number>();
  for (const [i, name] of file.groupEvalOrder.entries()) {
    if (order.has(name)) return abort(`group name repeated in evaluation order: ${name}`);
    order.set(name, i);
  }
  const errs: string[] = [];
  for (const [i, tg] of file.tests.entries()) {
    if (opts.run !== null && !opts.run.test(tg.name)) continue;
    const testName = tg.name !== '' ? tg.name : `unnamed#${i}`;
    suite.addCase(testName);
    const group = tg.intervalMs > 0 ? tg : { ...tg, intervalMs: evalIntervalMs };
    const t0 = performance.now();
    if (opts.debug) io.stderr(`DEBUG: Starting test ${testName}\n`);
    const failures = await runTestGroup(group, {
      evalIntervalMs,
      order,
      fuzzy: file.fuzzyCompare,
      ruleFiles,
      features: opts.features,
      debugOut: opts.debug ? io.stderr : null,
    });
    if (opts.debug) io.stderr(`DEBUG: Test ${testName} finished, took ${formatGoDurationNs(Math.round((performance.now() - t0) * 1e6))}\n`);
    for (const f of failures) suite.fail(f);
    errs.push(...failures);
  }
  return errs;
}

interface TestContext {
  readonly evalIntervalMs: number;
  /** Position of a group name in group_eval_order; groups not named sort as 0. */
  readonly order: ReadonlyMap<string, number>;
  readonly fuzzy: boolean;
  readonly ruleFiles: readonly string[];
  readonly features: ReadonlySet<string>;
  /** Where --debug writes the dump of all series; null without --debug. */
  readonly debugOut: ((s: string) => void) | null;
}

/** The input series as samples, appended to the store step by step. */
class LazySeries {
  // Float64Arrays keep the stale marker's NaN payload, which a plain array may canonicalize.
  private readonly series: { labels: Labels; ts: Float64Array; vs: Float64Array; n: number; next: number }[] = [];

  /** Throws the error text promtool gives for a malformed series. */
  constructor(tg: TestGroup, startMs: number) {
    for (const [k, is] of tg.inputSeries.entries()) {
      const line = `${is.series} ${is.values}`.trim();
      let desc;
      try {
        desc = parseSeriesDesc(line);
      } catch (e) {
        if (e instanceof SeriesSyntaxError) throw new UnitTestFileError(`${k + 1}:${e.col + 1}: parse error: ${e.message}`);
        throw e;
      }
      const s = { labels: desc.labels, ts: new Float64Array(desc.values.length), vs: new Float64Array(desc.values.length), n: 0, next: 0 };
      for (const [i, v] of desc.values.entries()) {
        if (v.histogram !== undefined) throw new UnitTestFileError(`${k + 1}:1: native histograms are not supported in input_series yet`);
        if (v.omitted) continue;
        s.ts[s.n] = startMs + i * tg.intervalMs;
        s.vs[s.n] = v.value;
        s.n++;
      }
      this.series.push(s);
    }
  }

  /** Appends every sample at or before `t` not appended yet. */
  appendTill(storage: MemoryStorage, t: number): void {
    const app = storage.appender();
    for (const s of this.series) {
      while (s.next < s.n && s.ts[s.next]! <= t) {
        app.append(0, s.labels, s.ts[s.next]!, s.vs[s.next]!);
        s.next++;
      }
    }
    app.commit();
  }
}

/** Runs one test group; returns its failures. */
async function runTestGroup(tg: TestGroup, ctx: TestContext): Promise<string[]> {
  const mint = tg.startTimestampMs ?? 0;
  let input: LazySeries;
  try {
    input = new LazySeries(tg, mint);
  } catch (e) {
    if (e instanceof UnitTestFileError) return [e.message];
    throw e;
  }
  const storage = new MemoryStorage();
  const engine = new Engine({
    maxSamples: TEST_MAX_SAMPLES,
    timeoutMs: TEST_TIMEOUT_MS,
    noStepSubqueryIntervalMs: ctx.evalIntervalMs,
    features: ctx.features,
  });
  const manager = new RuleManager({
    appendable: storage,
    queryable: storage,
    engine,
    notify: () => {},
    logger: nopLogger,
    externalUrl: tg.externalUrl,
    now: () => mint,
  });
  const loaded = manager.loadGroups(tg.intervalMs, tg.externalLabels, [...ctx.ruleFiles]);
  if (loaded.errors.length > 0) return loaded.errors.map((e) => e.message);
  const rank = (g: Group): number => ctx.order.get(g.name) ?? 0;
  // A stable sort: groups keep their file order among equals.
  const groups = [...loaded.groups].sort((a, b) => rank(a) - rank(b));
  // There is no restart to restore `for` state from: ALERTS series are written from the first evaluation.
  for (const g of groups) for (const ar of g.alertingRules()) ar.setRestored(true);

  const maxEvalMs = Math.max(0, ...tg.alertRuleTests.map((a) => a.evalTimeMs), ...tg.promqlExprTests.map((p) => p.evalTimeMs));
  const maxt = mint + maxEvalMs;

  for (const a of tg.alertRuleTests) {
    if (a.alertname === '') {
      const inGroup = tg.name !== '' ? ` (in TestGroup ${tg.name})` : '';
      return [`an item under alert_rule_test misses required attribute alertname at eval_time ${formatDuration(a.evalTimeMs)}${inGroup}`];
    }
  }
  const alertTimes = [...new Set(tg.alertRuleTests.map((a) => a.evalTimeMs))].sort((a, b) => a - b);
  let curr = 0;

  const errs: string[] = [];
  for (let ts = mint; ts <= maxt; ts += ctx.evalIntervalMs) {
    input.appendTill(storage, ts);
    const evalErrs: string[] = [];
    for (const g of groups) {
      await g.eval(ts);
      for (const r of g.rules) {
        const err = r.lastError();
        if (err !== '') evalErrs.push(`    rule: ${r.name()}, time: ${formatGoDurationNs(ts * 1e6)}, err: ${err}`);
      }
    }
    if (evalErrs.length > 0) return [...errs, ...evalErrs];

    // Alert tests whose eval_time falls in [ts, ts + interval) are checked against this evaluation.
    while (curr < alertTimes.length && ts - mint <= alertTimes[curr]! && alertTimes[curr]! < ts + ctx.evalIntervalMs - mint) {
      const t = alertTimes[curr]!;
      const cases = tg.alertRuleTests.filter((a) => a.evalTimeMs === t);
      const names = new Set(cases.map((c) => c.alertname));
      const got = new Map<string, LabelsAndAnnotations[]>();
      for (const g of groups) {
        for (const ar of g.alertingRules()) {
          if (!names.has(ar.name())) continue;
          const list = got.get(ar.name()) ?? [];
          for (const a of ar.activeAlerts()) if (a.state === 'firing') list.push({ labels: a.labels, annotations: a.annotations });
          got.set(ar.name(), list);
        }
      }
      for (const c of cases) {
        const gotAlerts = [...(got.get(c.alertname) ?? [])].sort(compareAlerts);
        const expAlerts = c.expAlerts
          .map((a) => {
            const lbls = Object.fromEntries(a.expLabels);
            lbls.alertname = c.alertname;
            return { labels: Labels.fromObject(lbls), annotations: Labels.fromObject(Object.fromEntries(a.expAnnotations)) };
          })
          .sort(compareAlerts);
        if (!sameAlerts(expAlerts, gotAlerts)) errs.push(alertMismatch(tg.name, c.alertname, c.evalTimeMs, expAlerts, gotAlerts));
      }
      curr++;
    }
  }

  for (const tc of tg.promqlExprTests) {
    let got: TestSample[];
    try {
      got = await instantQuery(engine, storage, tc.expr, mint + tc.evalTimeMs);
    } catch (e) {
      errs.push(exprError(tc.expr, tc.evalTimeMs, (e as Error).message));
      continue;
    }
    const exp: TestSample[] = [];
    let bad: string | null = null;
    for (const s of tc.expSamples) {
      try {
        if (s.histogram !== '') throw new Error('native histograms are not supported in exp_samples yet');
        exp.push({ labels: parseTestMetric(s.labels), value: s.value });
      } catch (e) {
        bad = `labels ${JSON.stringify(s.labels)}: ${(e as Error).message}`;
        break;
      }
    }
    if (bad !== null) {
      errs.push(exprError(tc.expr, tc.evalTimeMs, bad));
      continue;
    }
    exp.sort((a, b) => Labels.compare(a.labels, b.labels));
    got.sort((a, b) => Labels.compare(a.labels, b.labels));
    if (!sameSamples(exp, got, ctx.fuzzy)) errs.push(exprMismatch(tc.expr, tc.evalTimeMs, exp, got));
  }
  if (ctx.debugOut !== null) await dumpAllSeries(engine, storage, mint, maxEvalMs, ctx.debugOut);
  return errs;
}

/** --debug: every series (input and recorded) up to the last eval_time, as promtool prints a matrix. */
async function dumpAllSeries(engine: Engine, storage: MemoryStorage, mint: number, maxEvalMs: number, out: (s: string) => void): Promise<void> {
  // A whole number of seconds past the last eval_time, which a range selector can name.
  const rangeMs = Math.floor((maxEvalMs + 1000) / 1000) * 1000;
  const range = formatGoDurationNs(rangeMs * 1e6);
  const expr = `{__name__=~".+"}[${range}]`;
  let res;
  try {
    res = await engine.newInstantQuery(storage, expr, mint + rangeMs).exec();
  } catch (e) {
    out(`DEBUG: Failed query exec, expr: ${goQuote(expr)}, err: ${(e as Error).message}\n`);
    return;
  }
  if (res.value.type !== 'matrix') return;
  const series = res.value.series.map((s) => {
    const points = Array.from(s.ts, (t, i) => `${formatF(s.fs[i]!)} @[${t}]`);
    return `${s.metric.toString()} =>\n${points.join('\n')}`;
  });
  out(`DEBUG: Dump of all data (input_series and rules) at ${range}:\n${series.join('\n')}\n`);
}

function sameAlerts(a: readonly LabelsAndAnnotations[], b: readonly LabelsAndAnnotations[]): boolean {
  return a.length === b.length && a.every((x, i) => x.labels.equals(b[i]!.labels) && x.annotations.equals(b[i]!.annotations));
}

function sameSamples(a: readonly TestSample[], b: readonly TestSample[], fuzzy: boolean): boolean {
  return a.length === b.length && a.every((x, i) => x.labels.equals(b[i]!.labels) && sameFloat(x.value, b[i]!.value, fuzzy));
}

/** Equal, or under fuzzy_compare one ulp apart (promtool's Nextafter comparison). */
export function sameFloat(x: number, y: number, fuzzy: boolean): boolean {
  if (x === y) return true;
  return fuzzy && (nextAfter(x, -Infinity) === y || nextAfter(x, Infinity) === y);
}

/** Go's math.Nextafter. */
export function nextAfter(x: number, y: number): number {
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  if (x === y) return x;
  if (x === 0) return y > 0 ? Number.MIN_VALUE : -Number.MIN_VALUE;
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  buf.setBigUint64(0, (y > x) === (x > 0) ? bits + 1n : bits - 1n);
  return buf.getFloat64(0);
}

/**
 * A metric as exp_samples write it (`up{job="a"}`, `{}`); the whole text must
 * be one metric. Malformed ones report the PromQL parser's error, as promtool.
 */
export function parseTestMetric(text: string): Labels {
  try {
    const { labels, end } = parseMetric(text, 0);
    if (text.slice(end).trim() !== '') throw new SeriesSyntaxError(`unexpected ${JSON.stringify(text.slice(end).trim())} after metric`, end);
    return labels;
  } catch (e) {
    if (!(e instanceof SeriesSyntaxError)) throw e;
    try {
      parseExpr(text);
    } catch (pe) {
      if (pe instanceof ParseError) throw pe;
      throw e;
    }
    throw e;
  }
}

/** An instant query whose result is a vector or a scalar (as a sample without labels). */
async function instantQuery(engine: Engine, storage: MemoryStorage, expr: string, t: number): Promise<TestSample[]> {
  const res = await engine.newInstantQuery(storage, expr, t).exec();
  const v = res.value;
  if (v.type === 'vector') return v.samples.map((s) => ({ labels: s.metric, value: s.f }));
  if (v.type === 'scalar') return [{ labels: Labels.EMPTY, value: v.v }];
  throw new Error('rule result is not a vector or scalar');
}
