// The PromQL abstract syntax tree.
//
// Nodes are plain objects discriminated by `type`. Durations and timestamps are
// integer milliseconds. Positions are UTF-16 offsets into the query text.
import type { Matcher } from '../../model/matcher.js';

export type ValueKind = 'none' | 'scalar' | 'vector' | 'matrix' | 'string';

export interface PosRange {
  start: number;
  end: number;
}

export type AggregationOp =
  | 'sum'
  | 'avg'
  | 'count'
  | 'min'
  | 'max'
  | 'group'
  | 'stddev'
  | 'stdvar'
  | 'topk'
  | 'bottomk'
  | 'count_values'
  | 'quantile'
  | 'limitk'
  | 'limit_ratio';

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^' | 'atan2';
export type ComparisonOp = '==' | '!=' | '>' | '<' | '>=' | '<=';
export type SetOp = 'and' | 'or' | 'unless';
/** Native histogram trim operators: `</` drops observations above the threshold, `>/` below it. */
export type TrimOp = '</' | '>/';
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp | TrimOp;

export type VectorMatchCardinality = 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';

/** Values used for missing series on either side (`fill`, `fill_left`, `fill_right`; experimental). */
export interface FillValues {
  lhs: number | null;
  rhs: number | null;
}

export interface VectorMatching {
  card: VectorMatchCardinality;
  /** Labels listed in on(...) or ignoring(...). */
  matchingLabels: string[];
  /** True for on(...), false for ignoring(...) or no clause. */
  on: boolean;
  /** Labels listed in group_left(...)/group_right(...). */
  include: string[];
  fillValues?: FillValues;
}

/** How a function's argument or result is typed, as in Prometheus's function table. */
export interface FunctionDef {
  name: string;
  argTypes: ValueKind[];
  /** 0: exactly argTypes; -1: the last argument may repeat without limit; n > 0: up to n optional trailing args. */
  variadic: number;
  returnType: ValueKind;
  /** Needs --enable-feature=promql-experimental-functions. */
  experimental: boolean;
}

/**
 * Experimental duration arithmetic (feature promql-duration-expr), kept so the
 * printer can reproduce it and the engine can resolve `step()`/`range()` forms.
 */
export type DurationExpr = Expr;

interface NodeBase {
  posRange: PosRange;
}

export interface AggregateExpr extends NodeBase {
  type: 'AggregateExpr';
  op: AggregationOp;
  expr: Expr;
  /** The parameter of topk, bottomk, quantile, count_values, limitk, limit_ratio. */
  param: Expr | null;
  grouping: string[];
  without: boolean;
}

export interface BinaryExpr extends NodeBase {
  type: 'BinaryExpr';
  op: BinaryOp;
  lhs: Expr;
  rhs: Expr;
  /** Null when at least one side is a scalar. */
  matching: VectorMatching | null;
  returnBool: boolean;
}

export interface Call extends NodeBase {
  type: 'Call';
  func: FunctionDef;
  args: Expr[];
}

export interface VectorSelector extends NodeBase {
  type: 'VectorSelector';
  /** Metric name as written (may be empty when only matchers are given). */
  name: string;
  /** All matchers, including the __name__ matcher implied by `name`. */
  matchers: Matcher[];
  /** Offset as written (ms); printed back. */
  originalOffset: number;
  /** Offset used for evaluation (ms); the engine may fold @ into it. */
  offset: number;
  /** Value of `@ <ts>` in ms, or null. */
  timestamp: number | null;
  /** `@ start()` / `@ end()`. */
  startOrEnd: 'start' | 'end' | null;
  /** Experimental duration expression for the offset, when the offset was not a plain duration. */
  offsetExpr?: DurationExpr;
  /** Experimental `anchored` / `smoothed` modifiers (feature promql-extended-range-selectors). */
  anchored?: boolean;
  smoothed?: boolean;
}

export interface MatrixSelector extends NodeBase {
  type: 'MatrixSelector';
  vectorSelector: VectorSelector;
  /** Range in ms. */
  range: number;
  rangeExpr?: DurationExpr;
}

export interface SubqueryExpr extends NodeBase {
  type: 'SubqueryExpr';
  expr: Expr;
  range: number;
  /** Step in ms; 0 means the default evaluation interval. */
  step: number;
  originalOffset: number;
  offset: number;
  timestamp: number | null;
  startOrEnd: 'start' | 'end' | null;
  rangeExpr?: DurationExpr;
  stepExpr?: DurationExpr;
  offsetExpr?: DurationExpr;
}

export interface NumberLiteral extends NodeBase {
  type: 'NumberLiteral';
  val: number;
  /** Written as a duration (e.g. `5m`): the value is in seconds and prints back as a duration. */
  duration?: boolean;
}

export interface StringLiteral extends NodeBase {
  type: 'StringLiteral';
  val: string;
}

export interface ParenExpr extends NodeBase {
  type: 'ParenExpr';
  expr: Expr;
}

export interface UnaryExpr extends NodeBase {
  type: 'UnaryExpr';
  op: '-' | '+';
  expr: Expr;
}

/** Wraps a subtree whose value does not change between steps; created by the engine's preprocessing. */
export interface StepInvariantExpr extends NodeBase {
  type: 'StepInvariantExpr';
  expr: Expr;
}

export type Expr =
  | AggregateExpr
  | BinaryExpr
  | Call
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | NumberLiteral
  | StringLiteral
  | ParenExpr
  | UnaryExpr
  | StepInvariantExpr;
