// Parser for Prometheus's PromQL .test script files.
//
// A file is a sequence of commands separated by blank lines: `load`, `clear`
// and `eval`. Comment lines count as blank lines, as in Prometheus's runner,
// so a comment ends the block above it. A malformed block becomes a
// ScriptError and parsing resumes after it, so one bad block costs one case.
import RE2 from 're2';
import type { Labels } from '../../model/labels.js';
import { parseDuration } from '../../gofmt/duration.js';
import { NumError, parseGoFloat, parseGoInt } from '../../gofmt/float.js';
import { goUnquote } from '../../gofmt/quote.js';
import { parseMetric, parseSeriesDesc, SeriesSyntaxError, type SequenceValue } from './series.js';

export interface SeriesDef {
  labels: Labels;
  values: SequenceValue[];
  /**
   * Start-timestamp offsets (ms, relative to each sample's time) by position
   * from a `metric@st ...` line (null = no ST for that sample), or null without one.
   */
  startTimestamps: Array<number | null> | null;
  /** 1-based line of the definition. */
  line: number;
}

export interface LoadCmd {
  kind: 'load';
  line: number;
  /** Interval between points, ms. */
  intervalMs: number;
  /** `load_with_nhcb`: classic histograms are also loaded as native histograms with custom buckets. */
  withNhcb: boolean;
  series: SeriesDef[];
}

export interface ClearCmd {
  kind: 'clear';
  line: number;
}

/** How a message expectation matches: exactly, by regex, or anything. */
export type MessageMatch = { kind: 'any' } | { kind: 'exact'; text: string } | { kind: 'regex'; re: RE2; source: string };

export interface ExpectedSeries {
  labels: Labels;
  values: SequenceValue[];
  /** Position among the result lines (1-based), used by `ordered`. */
  pos: number;
}

export interface EvalCmd {
  kind: 'eval';
  /** 1-based line of the `eval` line; with the file name it identifies the case. */
  line: number;
  query: string;
  isRange: boolean;
  /** ms since epoch. For instant queries start = end = evaluation time unless `expect range vector`. */
  start: number;
  end: number;
  step: number;
  /** Evaluation time of an instant query, ms. */
  evalTime: number;
  /** Result must fail; `failMatch` is what the error must match. */
  fail: boolean;
  failMatch: MessageMatch[];
  /** Old-style `eval_warn` / `eval_info`: at least one annotation of that kind. */
  warnRequired: boolean;
  infoRequired: boolean;
  warn: MessageMatch[];
  info: MessageMatch[];
  noWarn: boolean;
  noInfo: boolean;
  ordered: boolean;
  /** The instant query returns a matrix (`expect range vector ...`). */
  rangeVector: boolean;
  /** Not re-run as a range query (matrix or string results). */
  excludeFromRangeQuery: boolean;
  /** A bare number line: the result is a scalar. */
  expectScalar: number | null;
  expectString: string | null;
  expected: ExpectedSeries[];
  /** Some expected value is a native histogram. */
  expectsHistograms: boolean;
}

export type Command = LoadCmd | ClearCmd | EvalCmd;

/** A line of a test file that could not be understood. */
export class ScriptError extends Error {
  override readonly name = 'ScriptError';
  constructor(
    message: string,
    /** 1-based line. */
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

export interface TestScript {
  commands: Command[];
  errors: ScriptError[];
}

const PAT_SPACE = /[\t ]+/;
// A group not marked optional always takes part in a match: the m[k]! reads of such groups below are defined.
const PAT_LOAD = /^load(?:_(with_nhcb))?\s+(.+?)$/;
const PAT_EVAL_INSTANT = /^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$/;
const PAT_EVAL_RANGE = /^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$/;
const PAT_EXPECT = /^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$/;
const PAT_EXPECT_RANGE = /^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$/;

/** Lines trimmed, comment lines blanked (they end a block, as in Prometheus). */
function scriptLines(input: string): string[] {
  return input.split('\n').map((l) => {
    const t = l.trim();
    return t.startsWith('#') ? '' : t;
  });
}

export function parseScript(input: string): TestScript {
  const lines = scriptLines(input);
  const commands: Command[] = [];
  const errors: ScriptError[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l === '') continue;
    const word = l.split(PAT_SPACE, 1)[0]!.toLowerCase(); // l is not empty: split yields one element
    try {
      if (word === 'clear') commands.push({ kind: 'clear', line: i + 1 });
      else if (word.startsWith('load')) {
        const r = parseLoad(lines, i);
        commands.push(r.cmd);
        i = r.last;
      } else if (word.startsWith('eval')) {
        const r = parseEval(lines, i);
        commands.push(r.cmd);
        i = r.last;
      } else throw new ScriptError(`invalid command ${JSON.stringify(l)}`, i + 1);
    } catch (e) {
      errors.push(e instanceof ScriptError ? e : new ScriptError(e instanceof Error ? e.message : String(e), i + 1));
      while (i + 1 < lines.length && lines[i + 1] !== '') i++;
    }
  }
  return { commands, errors };
}

function seriesError(e: unknown, line: number): ScriptError {
  if (e instanceof SeriesSyntaxError) return new ScriptError(`${e.message} (column ${e.col + 1})`, line);
  return e instanceof ScriptError ? e : new ScriptError(e instanceof Error ? e.message : String(e), line);
}

/** Parses the block starting at lines[i] (i < lines.length, as for parseEval). */
function parseLoad(lines: string[], i: number): { cmd: LoadCmd; last: number } {
  const m = PAT_LOAD.exec(lines[i]!);
  if (m === null) throw new ScriptError('invalid load command. (load[_with_nhcb] <step:duration>)', i + 1);
  let intervalMs: number;
  try {
    intervalMs = parseDuration(m[2]!);
  } catch (e) {
    throw new ScriptError(`invalid step definition ${JSON.stringify(m[2])}: ${(e as Error).message}`, i + 1);
  }
  const cmd: LoadCmd = { kind: 'load', line: i + 1, intervalMs, withNhcb: m[1] === 'with_nhcb', series: [] };
  // Series defined twice in one block: the later definition replaces the earlier one.
  const byKey = new Map<string, SeriesDef>();
  let pendingSt: { labels: Labels; offsets: Array<number | null>; line: number } | null = null;
  while (i + 1 < lines.length && lines[i + 1] !== '') {
    i++;
    const def = lines[i]!;
    try {
      const st = startTimestampLine(def);
      if (st !== null) {
        if (pendingSt !== null) throw new ScriptError('@st line has no following sample line', pendingSt.line);
        pendingSt = { ...st, line: i + 1 };
        continue;
      }
      const s = parseSeriesDesc(def);
      if (pendingSt !== null) {
        if (!pendingSt.labels.equals(s.labels)) {
          throw new ScriptError('@st metric does not match the following sample line metric', pendingSt.line);
        }
        if (pendingSt.offsets.length !== s.values.length) {
          throw new ScriptError(`@st line has ${pendingSt.offsets.length} values but sample line has ${s.values.length}`, pendingSt.line);
        }
      }
      byKey.set(s.labels.key(), { labels: s.labels, values: s.values, startTimestamps: pendingSt?.offsets ?? null, line: i + 1 });
      pendingSt = null;
    } catch (e) {
      throw seriesError(e, i + 1);
    }
  }
  if (pendingSt !== null) throw new ScriptError('@st line has no following sample line', pendingSt.line);
  cmd.series = [...byKey.values()];
  return { cmd, last: i };
}

/** `metric{...}@st <offsets>`: returns the metric and the offsets by position, or null for other lines. */
function startTimestampLine(def: string): { labels: Labels; offsets: Array<number | null> } | null {
  const sp = def.search(/[ \t]/);
  if (sp < 0 || !def.slice(0, sp).endsWith('@st')) return null;
  const metricText = def.slice(0, sp - 3);
  const { labels, end } = parseMetric(metricText, 0);
  if (end !== metricText.length) throw new ScriptError(`invalid @st line metric ${JSON.stringify(metricText)}`, 0);
  const offsets: Array<number | null> = [];
  for (const item of def.slice(sp).trim().split(PAT_SPACE)) offsets.push(...stItem(item));
  return { labels, offsets };
}

/** One start-timestamp item's offsets (ms): `_`, `_xN`, `<dur>`, `<dur>xN`, `<dur>±<dur>xN` (N + 1 positions). */
function stItem(item: string): Array<number | null> {
  if (item === '_') return [null];
  const blank = /^_x(\d+)$/.exec(item);
  if (blank !== null && Number(blank[1]) > 0) return new Array<null>(Number(blank[1])).fill(null);
  const m = /^([+-]?)(\d+[a-wyzA-Z]*)(?:([+-])(\d+[a-wyzA-Z]*))?(?:x(\d+))?$/.exec(item);
  if (m === null) throw new Error(`invalid ST item ${JSON.stringify(item)}`);
  if (m[3] !== undefined && m[5] === undefined) {
    throw new Error(`invalid ST item ${JSON.stringify(item)}: expected 'x<count>' after step duration`);
  }
  const base = signed(m[1]!, m[2]!, item);
  const delta = m[3] === undefined ? 0 : signed(m[3], m[4]!, item);
  const count = m[5] === undefined ? 1 : Number(m[5]) + 1;
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(base + i * delta);
  return out;
}

/** A signed Prometheus duration in ms; `-0ms` is 0. */
function signed(sign: string, dur: string, item: string): number {
  let ms: number;
  try {
    ms = parseDuration(dur);
  } catch {
    throw new Error(`invalid ST item ${JSON.stringify(item)}: invalid duration ${JSON.stringify(dur)}`);
  }
  return sign === '-' ? -ms || 0 : ms;
}

function parseMessageMatch(kind: string | undefined, text: string | undefined, what: string): MessageMatch {
  if (kind === undefined) return { kind: 'any' };
  const t = text!.trim();
  if (kind === 'msg') return { kind: 'exact', text: t };
  try {
    // Go's regexp.MatchString is unanchored, as is RE2's test.
    return { kind: 'regex', re: new RE2(t, 'u'), source: t };
  } catch {
    throw new Error(`invalid regex ${t} for ${what}`);
  }
}

/** Parses a number as Go's strconv.ParseInt(s, 0, 64) and then ParseFloat would; null when it is none. */
export function parseGoNumber(s: string): number | null {
  const int = parseGoInt(s);
  if (int !== null) return int;
  try {
    return parseGoFloat(s);
  } catch (e) {
    if (e instanceof NumError) return null;
    throw e;
  }
}

function parseEval(lines: string[], i: number): { cmd: EvalCmd; last: number } {
  const head = lines[i]!;
  const inst = PAT_EVAL_INSTANT.exec(head);
  const range = inst === null ? PAT_EVAL_RANGE.exec(head) : null;
  if (inst === null && range === null) {
    throw new ScriptError(
      "invalid evaluation command. Must be either 'eval[_fail|_warn|_ordered|_info] instant [at <offset:duration>] <query>' or 'eval[_fail|_warn|_info] range from <from> to <to> step <step> <query>'",
      i + 1,
    );
  }
  const line = i + 1;
  const query = inst !== null ? inst[3]! : range![5]!;
  const fail = (msg: string): ScriptError => new ScriptError(`error in eval ${query}: ${msg}`, line);
  const dur = (s: string, what: string): number => {
    try {
      return parseDuration(s);
    } catch (e) {
      throw fail(`invalid ${what} definition ${JSON.stringify(s)}: ${(e as Error).message}`);
    }
  };
  const cmd: EvalCmd = {
    kind: 'eval',
    line,
    query,
    isRange: range !== null,
    start: 0,
    end: 0,
    step: 0,
    evalTime: 0,
    fail: false,
    failMatch: [],
    warnRequired: false,
    infoRequired: false,
    warn: [],
    info: [],
    noWarn: false,
    noInfo: false,
    ordered: false,
    rangeVector: false,
    excludeFromRangeQuery: false,
    expectScalar: null,
    expectString: null,
    expected: [],
    expectsHistograms: false,
  };
  if (inst !== null) {
    const t = dur(inst[2] ?? '', 'timestamp');
    cmd.start = cmd.end = cmd.evalTime = t;
  } else {
    cmd.start = dur(range![2]!, 'start timestamp');
    cmd.end = dur(range![3]!, 'end timestamp');
    if (cmd.end < cmd.start) {
      throw fail(`invalid test definition, end timestamp (${range![3]}) is before start timestamp (${range![2]})`);
    }
    cmd.step = dur(range![4]!, 'step');
  }
  const mod = inst !== null ? inst[1] : range![1];
  if (mod === 'ordered') cmd.ordered = true;
  else if (mod === 'fail') cmd.fail = true;
  else if (mod === 'warn') cmd.warnRequired = true;
  else if (mod === 'info') cmd.infoRequired = true;

  // Result positions count result lines, `expect range vector` and `expect string` lines (not other expects).
  let pos = 0;
  while (i + 1 < lines.length && lines[i + 1] !== '') {
    i++;
    pos++;
    const def = lines[i]!;
    if (cmd.fail && def.startsWith('expected_fail_message')) {
      const text = def.slice('expected_fail_message'.length).trim();
      // An empty message checks nothing, as in Prometheus.
      cmd.failMatch.push(text === '' ? { kind: 'any' } : { kind: 'exact', text });
      break;
    }
    if (cmd.fail && def.startsWith('expected_fail_regexp')) {
      const src = def.slice('expected_fail_regexp'.length).trim();
      try {
        cmd.failMatch.push({ kind: 'regex', re: new RE2(src, 'u'), source: src });
      } catch {
        throw fail(`invalid regexp '${src}' for expected_fail_regexp`);
      }
      break;
    }
    if (def.startsWith('expect range vector')) {
      const m = PAT_EXPECT_RANGE.exec(def);
      if (m === null) throw fail(`invalid range vector definition ${JSON.stringify(def)}`);
      cmd.start = dur(m[1]!, 'start timestamp');
      cmd.end = dur(m[2]!, 'end timestamp');
      if (cmd.end < cmd.start) throw fail(`invalid test definition, end timestamp (${m[2]}) is before start timestamp (${m[1]})`);
      cmd.step = dur(m[3]!, 'step');
      cmd.evalTime = cmd.end;
      cmd.rangeVector = true;
      cmd.excludeFromRangeQuery = true;
      continue;
    }
    if (def.startsWith('expect string')) {
      const rest = def === 'expect string' ? '' : def.startsWith('expect string ') ? def.slice('expect string '.length) : '';
      if (rest === '') throw fail('expected string literal not valid - a quoted string literal is required');
      try {
        cmd.expectString = goUnquote(rest);
      } catch {
        throw fail('expected string literal not valid - check that the string is correctly quoted');
      }
      cmd.excludeFromRangeQuery = true;
      continue;
    }
    if (def.split(' ')[0] === 'expect') {
      const m = PAT_EXPECT.exec(def.trim());
      if (m === null) throw fail('invalid expect statement, must match `expect <type> <match_type>: <string>` format');
      const match = parseMessageMatch(m[2], m[3], m[1]!);
      switch (m[1]) {
        case 'ordered':
          cmd.ordered = true;
          break;
        case 'fail':
          if (cmd.failMatch.length > 0) throw fail('invalid expect lines, multiple expect fail lines are not allowed');
          cmd.fail = true;
          cmd.failMatch.push(match);
          break;
        case 'warn':
          cmd.warn.push(match);
          break;
        case 'info':
          cmd.info.push(match);
          break;
        case 'no_warn':
          cmd.noWarn = true;
          break;
        case 'no_info':
          cmd.noInfo = true;
          break;
      }
      if (cmd.info.length > 0 && cmd.noInfo) throw fail('invalid expect lines, info and no_info cannot be used together');
      if (cmd.warn.length > 0 && cmd.noWarn) throw fail('invalid expect lines, warn and no_warn cannot be used together');
      pos--;
      continue;
    }
    const num = parseGoNumber(def);
    if (num !== null) {
      cmd.expectScalar = num;
      break;
    }
    let s;
    try {
      s = parseSeriesDesc(def);
    } catch (e) {
      throw seriesError(e, i + 1);
    }
    if (s.values.length > 1 && !cmd.isRange && !cmd.rangeVector) {
      throw fail(
        "expecting multiple values in instant evaluation not allowed. consider using 'expect range vector' directive to enable a range vector result for an instant query",
      );
    }
    if (s.values.some((v) => v.histogram !== undefined)) cmd.expectsHistograms = true;
    // A later line for the same series replaces the earlier one, as in Prometheus.
    const prev = cmd.expected.findIndex((e) => e.labels.equals(s.labels));
    if (prev >= 0) cmd.expected.splice(prev, 1);
    cmd.expected.push({ labels: s.labels, values: s.values, pos });
  }
  return { cmd, last: i };
}
