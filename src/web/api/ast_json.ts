// /api/v1/parse_query's tree: the AST in the JSON shape Prometheus's UI tree view reads.
// Objects are built with keys in sorted order, as Go's map encoding emits them.
import type { Expr, VectorSelector } from '../../promql/parser/ast.js';
import type { Matcher } from '../../model/matcher.js';
import { formatF } from '../../gofmt/float.js';

function matchers(ms: readonly Matcher[]): unknown[] {
  return ms.map((m) => ({ name: m.name, type: m.type, value: m.value }));
}

function durationExpr(e: Expr | undefined): unknown {
  if (e === undefined) return null;
  if (e.type === 'NumberLiteral') return { duration: e.duration ?? false, type: 'numberLiteral', val: formatF(e.val) };
  return astJSON(e);
}

function selectorFields(vs: VectorSelector): Record<string, unknown> {
  return {
    anchored: vs.anchored ?? false,
    matchers: matchers(vs.matchers),
    name: vs.name,
    offset: vs.originalOffset,
    offsetExpr: durationExpr(vs.offsetExpr),
    smoothed: vs.smoothed ?? false,
    startOrEnd: vs.startOrEnd,
    timestamp: vs.timestamp,
  };
}

export function astJSON(e: Expr): unknown {
  switch (e.type) {
    case 'AggregateExpr':
      return {
        expr: astJSON(e.expr),
        grouping: e.grouping,
        op: e.op,
        param: e.param === null ? null : astJSON(e.param),
        type: 'aggregation',
        without: e.without,
      };
    case 'BinaryExpr':
      return {
        bool: e.returnBool,
        lhs: astJSON(e.lhs),
        matching:
          e.matching === null
            ? null
            : {
                card: e.matching.card,
                fillValues: { lhs: e.matching.fillValues?.lhs ?? null, rhs: e.matching.fillValues?.rhs ?? null },
                include: e.matching.include,
                labels: e.matching.matchingLabels,
                on: e.matching.on,
              },
        op: e.op,
        rhs: astJSON(e.rhs),
        type: 'binaryExpr',
      };
    case 'Call':
      return {
        args: e.args.map(astJSON),
        func: { argTypes: e.func.argTypes, name: e.func.name, returnType: e.func.returnType, variadic: e.func.variadic },
        type: 'call',
      };
    case 'MatrixSelector': {
      const { anchored, matchers: ms, name, offset, offsetExpr, smoothed, startOrEnd, timestamp } = selectorFields(e.vectorSelector);
      return {
        anchored,
        matchers: ms,
        name,
        offset,
        offsetExpr,
        range: e.range,
        rangeExpr: durationExpr(e.rangeExpr),
        smoothed,
        startOrEnd,
        timestamp,
        type: 'matrixSelector',
      };
    }
    case 'SubqueryExpr':
      return {
        expr: astJSON(e.expr),
        offset: e.originalOffset,
        offsetExpr: durationExpr(e.offsetExpr),
        range: e.range,
        rangeExpr: durationExpr(e.rangeExpr),
        startOrEnd: e.startOrEnd,
        step: e.step,
        stepExpr: durationExpr(e.stepExpr),
        timestamp: e.timestamp,
        type: 'subquery',
      };
    case 'NumberLiteral':
      return { type: 'numberLiteral', val: formatF(e.val) };
    case 'StringLiteral':
      return { type: 'stringLiteral', val: e.val };
    case 'ParenExpr':
      return { expr: astJSON(e.expr), type: 'parenExpr' };
    case 'UnaryExpr':
      return { expr: astJSON(e.expr), op: e.op, type: 'unaryExpr' };
    case 'VectorSelector':
      return { ...selectorFields(e), type: 'vectorSelector' };
    case 'StepInvariantExpr':
      return astJSON(e.expr);
  }
}

/** The matchers of every vector selector in the expression (Prometheus's parser.ExtractSelectors). */
export function extractSelectors(e: Expr): Matcher[][] {
  const out: Matcher[][] = [];
  const walk = (n: Expr): void => {
    switch (n.type) {
      case 'VectorSelector':
        out.push(n.matchers);
        return;
      case 'MatrixSelector':
        out.push(n.vectorSelector.matchers);
        return;
      case 'AggregateExpr':
        walk(n.expr);
        if (n.param !== null) walk(n.param);
        return;
      case 'BinaryExpr':
        walk(n.lhs);
        walk(n.rhs);
        return;
      case 'Call':
        n.args.forEach(walk);
        return;
      case 'SubqueryExpr':
      case 'ParenExpr':
      case 'UnaryExpr':
      case 'StepInvariantExpr':
        walk(n.expr);
        return;
      default:
        return;
    }
  };
  walk(e);
  return out;
}
