// Prints an AST back to PromQL: exprToString gives Prometheus's canonical
// one-line form (Expr.String()), prettify the indented multi-line form of
// `promtool promql format` and /api/v1/format_query.
import type { AggregateExpr, BinaryExpr, Expr, MatrixSelector, SubqueryExpr, VectorMatching, VectorSelector } from './ast.js';
import { formatDuration } from '../../gofmt/duration.js';
import { formatF, formatG } from '../../gofmt/float.js';
import { compareStrings } from '../../gofmt/order.js';
import { goQuote, utf8Length } from '../../gofmt/quote.js';
import { isValidLegacyLabelName, METRIC_NAME } from '../../model/labels.js';

/** Prometheus's canonical single-line form of an expression. */
export function exprToString(e: Expr): string {
  switch (e.type) {
    case 'AggregateExpr': {
      let s = aggregateHead(e) + '(';
      if (e.param !== null) s += exprToString(e.param) + ', ';
      return s + exprToString(e.expr) + ')';
    }
    case 'BinaryExpr':
      return `${powOperandString(e)} ${binaryOperator(e)} ${exprToString(e.rhs)}`;
    case 'Call':
      return `${e.func.name}(${e.args.map(exprToString).join(', ')})`;
    case 'MatrixSelector':
      return matrixToString(e);
    case 'SubqueryExpr':
      return exprToString(e.expr) + subquerySuffix(e);
    case 'NumberLiteral':
      if (e.duration === true) return e.val < 0 ? '-' + formatDuration(secondsToMsTrunc(-e.val)) : formatDuration(secondsToMsTrunc(e.val));
      return formatF(e.val);
    case 'StringLiteral':
      return goQuote(e.val);
    case 'ParenExpr':
      return `(${exprToString(e.expr)})`;
    case 'UnaryExpr':
      return e.op + exprToString(e.expr);
    case 'VectorSelector':
      return vectorSelectorToString(e, true);
    case 'StepInvariantExpr':
      return exprToString(e.expr);
  }
}

/**
 * The left operand of a binary expression. Prometheus prints +Inf as `+Inf`,
 * but `+Inf ^ 2` would parse back as +(Inf ^ 2); before `^` it is printed as
 * `Inf` so that printing stays a fixed point.
 */
function powOperandString(e: BinaryExpr): string {
  const l = e.lhs;
  if (e.op === '^' && l.type === 'NumberLiteral' && l.val === Infinity && l.duration !== true) return 'Inf';
  return exprToString(l);
}

/** model.Duration(seconds * 1e9): the float is truncated to nanoseconds, then to milliseconds. */
function secondsToMsTrunc(sec: number): number {
  return Math.trunc(Math.trunc(sec * 1e9) / 1e6);
}

/** `sum by (a) `, `topk without (b) `, or just the operator; what precedes the argument list. */
function aggregateHead(e: AggregateExpr): string {
  if (e.without) return `${e.op} without (${labelList(e.grouping)}) `;
  if (e.grouping.length > 0) return `${e.op} by (${labelList(e.grouping)}) `;
  return e.op;
}

function labelList(names: readonly string[]): string {
  return names.map((n) => (isValidLegacyLabelName(n) ? n : goQuote(n))).join(', ');
}

/** The operator with bool, on/ignoring, group_x and fill modifiers. */
function binaryOperator(e: BinaryExpr): string {
  let s = e.op;
  if (e.returnBool) s += ' bool';
  const vm = e.matching;
  if (vm !== null) s += matchingString(vm);
  return s;
}

function matchingString(vm: VectorMatching): string {
  let s = '';
  const grouped = vm.card === 'many-to-one' || vm.card === 'one-to-many';
  if (vm.matchingLabels.length > 0 || vm.on || grouped) {
    s += ` ${vm.on ? 'on' : 'ignoring'} (${labelList(vm.matchingLabels)})`;
  }
  if (grouped) s += ` group_${vm.card === 'many-to-one' ? 'left' : 'right'} (${labelList(vm.include)})`;
  const fill = vm.fillValues;
  if (fill !== undefined && (fill.lhs !== null || fill.rhs !== null)) {
    if (fill.lhs !== null && fill.rhs !== null && fill.lhs === fill.rhs) s += ` fill (${formatG(fill.lhs)})`;
    else {
      if (fill.lhs !== null) s += ` fill_left (${formatG(fill.lhs)})`;
      if (fill.rhs !== null) s += ` fill_right (${formatG(fill.rhs)})`;
    }
  }
  return s;
}

function atString(timestamp: number | null, startOrEnd: 'start' | 'end' | null): string {
  if (timestamp !== null) return ` @ ${(timestamp / 1000).toFixed(3)}`;
  if (startOrEnd !== null) return ` @ ${startOrEnd}()`;
  return '';
}

function offsetString(original: number, expr: Expr | undefined): string {
  if (expr !== undefined) return ` offset ${exprToString(expr)}`;
  if (original > 0) return ` offset ${formatDuration(original)}`;
  if (original < 0) return ` offset -${formatDuration(-original)}`;
  return '';
}

function vectorSelectorToString(e: VectorSelector, withModifiers: boolean): string {
  const parts: string[] = [];
  for (const m of e.matchers) {
    // The name outside the braces stands for its own matcher.
    if (m.name === METRIC_NAME && m.type === '=' && m.value === e.name && m.value !== '') continue;
    parts.push(m.toString());
  }
  let s = e.name;
  if (parts.length > 0) s += `{${parts.sort(compareStrings).join(',')}}`;
  if (!withModifiers) return s;
  s += atString(e.timestamp, e.startOrEnd);
  if (e.anchored === true) s += ' anchored';
  else if (e.smoothed === true) s += ' smoothed';
  return s + offsetString(e.originalOffset, e.offsetExpr);
}

function matrixToString(e: MatrixSelector): string {
  const vs = e.vectorSelector;
  const range = e.rangeExpr !== undefined ? exprToString(e.rangeExpr) : formatDuration(e.range);
  const ext = vs.anchored === true ? ' anchored' : vs.smoothed === true ? ' smoothed' : '';
  return `${vectorSelectorToString(vs, false)}[${range}]${ext}${atString(vs.timestamp, vs.startOrEnd)}${offsetString(vs.originalOffset, vs.offsetExpr)}`;
}

function subquerySuffix(e: SubqueryExpr): string {
  const range = e.rangeExpr !== undefined ? exprToString(e.rangeExpr) : formatDuration(e.range);
  const step = e.step !== 0 ? formatDuration(e.step) : e.stepExpr !== undefined ? exprToString(e.stepExpr) : '';
  return `[${range}:${step}]${atString(e.timestamp, e.startOrEnd)}${offsetString(e.originalOffset, e.offsetExpr)}`;
}

/** Line width above which prettify splits an expression, as Prometheus's formatter. */
const PRETTY_MAX_WIDTH = 100;

const INDENT = '  ';

/** Prometheus's Pretty(0): long expressions split over lines with two-space indentation. */
export function prettify(e: Expr, maxWidth: number = PRETTY_MAX_WIDTH): string {
  return pretty(e, 0, maxWidth);
}

function pretty(e: Expr, level: number, max: number): string {
  const ind = INDENT.repeat(level);
  const flat = (): string => ind + exprToString(e);
  const needsSplit = (n: Expr): boolean => utf8Length(exprToString(n)) > max;
  switch (e.type) {
    case 'AggregateExpr': {
      if (!needsSplit(e)) return flat();
      let s = `${ind}${aggregateHead(e)}(\n`;
      if (e.param !== null) s += `${pretty(e.param, level + 1, max)},\n`;
      return `${s}${pretty(e.expr, level + 1, max)}\n${ind})`;
    }
    case 'BinaryExpr': {
      if (!needsSplit(e)) return flat();
      // A literal left operand prints as in exprToString (see powOperandString).
      const lhs = e.lhs.type === 'NumberLiteral' ? INDENT.repeat(level + 1) + powOperandString(e) : pretty(e.lhs, level + 1, max);
      return `${lhs}\n${ind}${binaryOperator(e)}\n${pretty(e.rhs, level + 1, max)}`;
    }
    case 'Call':
      if (!needsSplit(e)) return flat();
      return `${ind}${e.func.name}(\n${e.args.map((a) => pretty(a, level + 1, max)).join(',\n')}\n${ind})`;
    case 'ParenExpr':
      if (!needsSplit(e)) return flat();
      return `${ind}(\n${pretty(e.expr, level + 1, max)}\n${ind})`;
    case 'StepInvariantExpr':
      return pretty(e.expr, level, max);
    case 'SubqueryExpr':
      // Prometheus indents neither form of a subquery itself; its inner expression carries the indent.
      if (!needsSplit(e)) return exprToString(e);
      return pretty(e.expr, level, max) + subquerySuffix(e);
    case 'UnaryExpr':
      return ind + e.op + pretty(e.expr, level, max).trim();
    case 'MatrixSelector':
    case 'VectorSelector':
    case 'NumberLiteral':
    case 'StringLiteral':
      return flat();
  }
}
