// Query preparation: the steps Prometheus runs on a parsed expression before
// evaluating it. The engine works on its own copy of the AST because these
// steps rewrite nodes (offsets for @, resolved durations, wrappers).
import type {
  Call,
  Expr,
  MatrixSelector,
  NumberLiteral,
  StepInvariantExpr,
  VectorSelector,
} from '../parser/ast.js';
import { EvalError } from './errors.js';
import { goPow } from './go_math.js';

/** Functions whose value changes with the evaluation time even when their arguments do not. */
export const AT_MODIFIER_UNSAFE: ReadonlySet<string> = new Set([
  'days_in_month',
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'end',
  'hour',
  'minute',
  'month',
  'year',
  'predict_linear',
  'range',
  'start',
  'step',
  'time',
  'timestamp',
]);

/** Deep copy of an expression tree; matchers and function definitions are immutable and shared. */
export function cloneExpr(e: Expr): Expr {
  switch (e.type) {
    case 'AggregateExpr':
      return { ...e, expr: cloneExpr(e.expr), param: e.param === null ? null : cloneExpr(e.param), grouping: [...e.grouping] };
    case 'BinaryExpr':
      return {
        ...e,
        lhs: cloneExpr(e.lhs),
        rhs: cloneExpr(e.rhs),
        matching: e.matching === null ? null : { ...e.matching, matchingLabels: [...e.matching.matchingLabels], include: [...e.matching.include] },
      };
    case 'Call':
      return { ...e, args: e.args.map(cloneExpr) };
    case 'VectorSelector':
      return { ...e, matchers: [...e.matchers] };
    case 'MatrixSelector':
      return { ...e, vectorSelector: cloneExpr(e.vectorSelector) as VectorSelector };
    case 'SubqueryExpr':
      return { ...e, expr: cloneExpr(e.expr) };
    case 'NumberLiteral':
    case 'StringLiteral':
      return { ...e };
    case 'ParenExpr':
    case 'UnaryExpr':
    case 'StepInvariantExpr':
      return { ...e, expr: cloneExpr(e.expr) };
  }
}

/** Direct children in Prometheus's traversal order (parser.Children: an aggregation's expression before its parameter). */
export function children(e: Expr): Expr[] {
  switch (e.type) {
    case 'AggregateExpr':
      return e.param === null ? [e.expr] : [e.expr, e.param];
    case 'BinaryExpr':
      return [e.lhs, e.rhs];
    case 'Call':
      return e.args;
    case 'MatrixSelector':
      return [e.vectorSelector];
    case 'SubqueryExpr':
    case 'ParenExpr':
    case 'UnaryExpr':
    case 'StepInvariantExpr':
      return [e.expr];
    default:
      return [];
  }
}

/** Depth-first walk; `path` holds the ancestors of `node`, outermost first. */
export function inspect(e: Expr, fn: (node: Expr, path: readonly Expr[]) => void, path: Expr[] = []): void {
  fn(e, path);
  const kids = children(e);
  if (kids.length === 0) return;
  path.push(e);
  for (const k of kids) inspect(k, fn, path);
  path.pop();
}

function unwrapParens(e: Expr): Expr {
  while (e.type === 'ParenExpr') e = e.expr;
  return e;
}

function stepInvariant(e: Expr): StepInvariantExpr {
  return { type: 'StepInvariantExpr', expr: e, posRange: e.posRange };
}

// ---------------------------------------------------------------------------
// start(), end(), range(), step() and duration expressions

function numberAt(call: Call, val: number): NumberLiteral {
  return { type: 'NumberLiteral', val, posRange: call.posRange };
}

/** Replaces calls to start(), end(), range() and step() with their values, so the parents can be seen as step-invariant. */
function foldQueryContext(e: Expr, startMs: number, endMs: number, stepMs: number): Expr {
  if (e.type === 'Call') {
    switch (e.func.name) {
      case 'start':
        return numberAt(e, startMs / 1000);
      case 'end':
        return numberAt(e, endMs / 1000);
      case 'range':
        return numberAt(e, (endMs - startMs) / 1000);
      case 'step':
        return numberAt(e, startMs !== endMs ? stepMs / 1000 : 0);
    }
  }
  switch (e.type) {
    case 'BinaryExpr':
      e.lhs = foldQueryContext(e.lhs, startMs, endMs, stepMs);
      e.rhs = foldQueryContext(e.rhs, startMs, endMs, stepMs);
      break;
    case 'Call':
      for (const [i, a] of e.args.entries()) e.args[i] = foldQueryContext(a, startMs, endMs, stepMs);
      break;
    case 'AggregateExpr':
      e.expr = foldQueryContext(e.expr, startMs, endMs, stepMs);
      if (e.param !== null) e.param = foldQueryContext(e.param, startMs, endMs, stepMs);
      break;
    case 'UnaryExpr':
    case 'ParenExpr':
    case 'SubqueryExpr':
      e.expr = foldQueryContext(e.expr, startMs, endMs, stepMs);
      break;
    default:
      break;
  }
  return e;
}

function durationError(e: Expr, msg: string): EvalError {
  return new EvalError(`${e.posRange.start}:${e.posRange.end}: ${msg}`);
}

/** Value in seconds of a duration expression (feature promql-duration-expr). */
function evalDurationExpr(e: Expr, stepMs: number, rangeMs: number): number {
  switch (e.type) {
    case 'NumberLiteral':
      return e.val;
    case 'ParenExpr':
    case 'StepInvariantExpr':
      return evalDurationExpr(e.expr, stepMs, rangeMs);
    case 'UnaryExpr': {
      const v = evalDurationExpr(e.expr, stepMs, rangeMs);
      return e.op === '-' ? -v : v;
    }
    case 'Call': {
      const args = e.args.map((a) => evalDurationExpr(a, stepMs, rangeMs));
      switch (e.func.name) {
        case 'step':
          return stepMs / 1000;
        case 'range':
          return rangeMs / 1000;
        // The parser checked that min, max, min_of and max_of have two arguments.
        case 'min':
        case 'min_of':
          return Math.min(args[0]!, args[1]!);
        case 'max':
        case 'max_of':
          return Math.max(args[0]!, args[1]!);
      }
      throw new EvalError(`unexpected duration expression function ${JSON.stringify(e.func.name)}`);
    }
    case 'BinaryExpr': {
      const l = evalDurationExpr(e.lhs, stepMs, rangeMs);
      const r = evalDurationExpr(e.rhs, stepMs, rangeMs);
      switch (e.op) {
        case '+':
          return l + r;
        case '-':
          return l - r;
        case '*':
          return l * r;
        case '/':
          if (r === 0) throw durationError(e, 'division by zero');
          return l / r;
        case '%':
          if (r === 0) throw durationError(e, 'modulo by zero');
          return l % r;
        case '^':
          return goPow(l, r);
      }
      throw new EvalError(`unexpected duration expression operator ${JSON.stringify(e.op)}`);
    }
    default:
      throw new EvalError(`unexpected duration expression type ${e.type}`);
  }
}

/** Largest duration (s) whose nanoseconds fit in an int64, the bound Prometheus applies. */
const MAX_DURATION_SECONDS = 2 ** 63 / 1e9;

function durationMs(e: Expr, allowNegative: boolean, stepMs: number, rangeMs: number): number {
  const d = evalDurationExpr(e, stepMs, rangeMs);
  if (Number.isNaN(d) || !Number.isFinite(d)) throw durationError(e, 'duration is NaN or infinite');
  if (d <= 0 && !allowNegative) throw durationError(e, 'duration must be greater than 0');
  if (d > MAX_DURATION_SECONDS || d < -MAX_DURATION_SECONDS) throw durationError(e, 'duration is out of range');
  return Math.trunc(d * 1000);
}

function resolveDurations(root: Expr, stepMs: number, rangeMs: number): void {
  inspect(root, (n) => {
    switch (n.type) {
      case 'VectorSelector':
        if (n.offsetExpr !== undefined) {
          n.originalOffset = durationMs(n.offsetExpr, true, stepMs, rangeMs);
          n.offset = n.originalOffset;
        }
        break;
      case 'MatrixSelector':
        if (n.rangeExpr !== undefined) n.range = durationMs(n.rangeExpr, false, stepMs, rangeMs);
        break;
      case 'SubqueryExpr':
        if (n.offsetExpr !== undefined) {
          n.originalOffset = durationMs(n.offsetExpr, true, stepMs, rangeMs);
          n.offset = n.originalOffset;
        }
        if (n.stepExpr !== undefined) n.step = durationMs(n.stepExpr, false, stepMs, rangeMs);
        if (n.rangeExpr !== undefined) n.range = durationMs(n.rangeExpr, false, stepMs, rangeMs);
        break;
      default:
        break;
    }
  });
}

// ---------------------------------------------------------------------------
// Step invariance

/**
 * Wraps the highest step-invariant subtrees in StepInvariantExpr and resolves
 * `@ start()` / `@ end()`. Returns [isStepInvariant, shouldWrap] for `e`.
 */
function wrapInvariant(e: Expr, startMs: number, endMs: number): [boolean, boolean] {
  switch (e.type) {
    case 'VectorSelector':
      if (e.startOrEnd === 'start') e.timestamp = startMs;
      else if (e.startOrEnd === 'end') e.timestamp = endMs;
      return [e.timestamp !== null, e.timestamp !== null];
    case 'AggregateExpr':
      e.expr = unwrapParens(e.expr);
      if (e.param !== null) e.param = unwrapParens(e.param);
      return wrapInvariant(e.expr, startMs, endMs);
    case 'BinaryExpr': {
      const [invL, wrapL] = wrapInvariant(e.lhs, startMs, endMs);
      const [invR, wrapR] = wrapInvariant(e.rhs, startMs, endMs);
      if (invL && invR) return [true, true];
      if (wrapL) e.lhs = stepInvariant(e.lhs);
      if (wrapR) e.rhs = stepInvariant(e.rhs);
      return [false, false];
    }
    case 'Call': {
      let invariant = !AT_MODIFIER_UNSAFE.has(e.func.name);
      // timestamp(metric @ t) is invariant although timestamp() in general is not.
      let timestampOfInvariantSelectors = e.func.name === 'timestamp';
      const wrap: boolean[] = [];
      for (const [i, raw] of e.args.entries()) {
        const a = unwrapParens(raw);
        e.args[i] = a;
        const [argInv, argWrap] = wrapInvariant(a, startMs, endMs);
        wrap.push(argWrap);
        invariant = invariant && argInv;
        if (!argInv || a.type !== 'VectorSelector') timestampOfInvariantSelectors = false;
      }
      if (invariant || timestampOfInvariantSelectors) return [true, true];
      for (const [i, a] of e.args.entries()) if (wrap[i] === true) e.args[i] = stepInvariant(a);
      return [false, false];
    }
    case 'MatrixSelector': {
      const [inv] = wrapInvariant(e.vectorSelector, startMs, endMs);
      return [inv, false];
    }
    case 'SubqueryExpr': {
      // The inside of a subquery is wrapped whenever it is invariant, so it is
      // evaluated once relative to the subquery's own start. Like a matrix
      // selector, the subquery itself is never wrapped: range functions read
      // it directly, and a wrapped one would reach them as no range at all.
      const [inv] = wrapInvariant(e.expr, startMs, endMs);
      if (inv) e.expr = stepInvariant(e.expr);
      if (e.startOrEnd === 'start') e.timestamp = startMs;
      else if (e.startOrEnd === 'end') e.timestamp = endMs;
      return [e.timestamp !== null, false];
    }
    case 'ParenExpr':
    case 'UnaryExpr':
      return wrapInvariant(e.expr, startMs, endMs);
    case 'StepInvariantExpr':
      return [true, false];
    case 'StringLiteral':
    case 'NumberLiteral':
      return [true, false];
  }
}

/**
 * Prometheus's PreprocessExpr on a copy of `parsed`: folds start()/end()/
 * range()/step(), resolves duration expressions, wraps step-invariant parts
 * and unwraps parentheses around function and aggregation arguments.
 */
export function preprocess(parsed: Expr, startMs: number, endMs: number, stepMs: number): Expr {
  let e = cloneExpr(parsed);
  e = foldQueryContext(e, startMs, endMs, stepMs);
  resolveDurations(e, stepMs, endMs - startMs);
  const [, wrap] = wrapInvariant(e, startMs, endMs);
  // wrapInvariant does not descend into aggregation parameters (as in
  // Prometheus), so calls there still need their parentheses removed, or
  // `quantile(scalar(sum_over_time((x[5m]))), y)` would see no range argument.
  unwrapArgumentParens(e);
  return wrap ? stepInvariant(e) : e;
}

function unwrapArgumentParens(root: Expr): void {
  inspect(root, (n) => {
    if (n.type === 'Call') {
      for (const [i, a] of n.args.entries()) n.args[i] = unwrapParens(a);
    } else if (n.type === 'AggregateExpr' && n.param !== null) {
      n.param = unwrapParens(n.param);
    }
  });
}

// ---------------------------------------------------------------------------
// Time ranges and @

interface SubqueryTimes {
  offset: number;
  range: number;
  /** Timestamp of the innermost subquery with @, or null. */
  ts: number | null;
}

/** Sum of offsets and ranges of the subqueries on the path, restarted at a subquery with @. */
export function subqueryTimes(path: readonly Expr[]): SubqueryTimes {
  let offset = 0;
  let range = 0;
  let ts: number | null = null;
  for (const n of path) {
    if (n.type !== 'SubqueryExpr') continue;
    offset += n.originalOffset;
    range += n.range;
    if (n.timestamp !== null) {
      offset = n.originalOffset;
      range = n.range;
      ts = n.timestamp;
    }
  }
  return { offset, range, ts };
}

/** Rewrites the offsets of selectors and subqueries under `e` so that @ is expressed relative to evalTime. */
export function setOffsetForAtModifier(evalTime: number, e: Expr): void {
  const offsetFor = (ts: number | null, originalOffset: number, path: readonly Expr[]): number => {
    if (ts === null) return originalOffset;
    const st = subqueryTimes(path);
    let subqOffset = st.offset;
    if (st.ts !== null) subqOffset += evalTime - st.ts;
    return originalOffset + (evalTime - ts - subqOffset);
  };
  inspect(e, (n, path) => {
    switch (n.type) {
      case 'VectorSelector':
        n.offset = offsetFor(n.timestamp, n.originalOffset, path);
        break;
      case 'MatrixSelector': {
        const vs = n.vectorSelector;
        vs.offset = offsetFor(vs.timestamp, vs.originalOffset, path);
        break;
      }
      case 'SubqueryExpr':
        n.offset = offsetFor(n.timestamp, n.originalOffset, path);
        break;
      default:
        break;
    }
  });
}

export interface SelectorRange {
  start: number;
  end: number;
}

/** Earliest and latest sample time (ms, inclusive) a selector can need, as Prometheus's getTimeRangesForSelector. */
export function selectorTimeRange(
  startMs: number,
  endMs: number,
  lookbackMs: number,
  vs: VectorSelector,
  path: readonly Expr[],
  rangeMs: number,
): SelectorRange {
  let start = startMs;
  let end = endMs;
  const st = subqueryTimes(path);
  if (st.ts !== null) {
    start = st.ts;
    end = st.ts;
  }
  if (vs.timestamp !== null) {
    start = vs.timestamp;
    end = vs.timestamp;
  } else {
    start = start - st.offset - st.range;
    end -= st.offset;
  }
  if (rangeMs === 0) {
    // One ms less than the lookback: a sample exactly lookback before is excluded.
    start -= lookbackMs - 1;
    if (vs.smoothed === true) end += lookbackMs;
  } else if (vs.anchored === true) {
    start -= lookbackMs + rangeMs - 1;
  } else if (vs.smoothed === true) {
    start -= lookbackMs + rangeMs - 1;
    end += lookbackMs;
  } else {
    start -= rangeMs - 1;
  }
  start -= vs.originalOffset;
  end -= vs.originalOffset;
  return { start, end };
}

export interface SelectorVisit {
  vs: VectorSelector;
  /** Range of the enclosing matrix selector, 0 for an instant selector. */
  rangeMs: number;
  path: readonly Expr[];
}

/** Every vector selector with its enclosing range and path. */
export function selectors(e: Expr): SelectorVisit[] {
  const out: SelectorVisit[] = [];
  inspect(e, (n, path) => {
    if (n.type === 'VectorSelector') {
      const parent = path[path.length - 1];
      const rangeMs = parent !== undefined && parent.type === 'MatrixSelector' ? (parent as MatrixSelector).range : 0;
      out.push({ vs: n, rangeMs, path: [...path] });
    }
  });
  return out;
}

/** The function or aggregation applied to a selector, as Prometheus's extractFuncFromPath. */
export function funcFromPath(path: readonly Expr[]): string {
  // 0 <= i < path.length.
  for (let i = path.length - 1; i >= 0; i--) {
    const n = path[i]!;
    if (n.type === 'AggregateExpr') return n.op;
    if (n.type === 'Call') return n.func.name;
    if (n.type === 'BinaryExpr') return '';
  }
  return '';
}

/** Grouping of the aggregation directly above a selector, if any. */
export function groupingFromPath(path: readonly Expr[]): { by: boolean; grouping: readonly string[] } | null {
  const n = path[path.length - 1];
  if (n !== undefined && n.type === 'AggregateExpr') return { by: !n.without, grouping: n.grouping };
  return null;
}

/** Step of the innermost subquery on the path (its default when written without one), or 0. */
export function lastSubqueryStep(path: readonly Expr[], noStepIntervalMs: number): number {
  let step = 0;
  for (const n of path) {
    if (n.type === 'SubqueryExpr') step = n.step !== 0 ? n.step : noStepIntervalMs;
  }
  return step;
}

