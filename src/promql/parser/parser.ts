// promql/parser: lexer, parser, AST, printer and type checks of PromQL. May import
// gofmt/ and model/ only; the engine, the API and promqltest build on it.
//
// The PromQL parser: recursive descent with precedence climbing over the
// lexer's tokens, producing the AST of ast.ts, followed by Prometheus's static
// type checks. Errors carry Prometheus's wording and positions; the first error
// Prometheus would report is the one thrown.
//
// Prometheus parses with a yacc grammar; where its error recovery decides the
// message ("unexpected X in grouping opts, expected label"), the same context
// is tracked here explicitly.
import type {
  AggregateExpr,
  AggregationOp,
  BinaryExpr,
  BinaryOp,
  Call,
  Expr,
  FunctionDef,
  MatrixSelector,
  NumberLiteral,
  ParenExpr,
  PosRange,
  StringLiteral,
  SubqueryExpr,
  UnaryExpr,
  ValueKind,
  VectorMatchCardinality,
  VectorMatching,
  VectorSelector,
} from './ast.js';
import { ParseError } from './errors.js';
import { FUNCTIONS } from './functions.js';
import { describeToken, isAggregator, Lexer, T, tokenTypeString, type Token, type TokenType } from './lexer.js';
import { InvalidDurationError, parseDuration } from '../../gofmt/duration.js';
import { formatF, goRound, NumError, parseGoFloat, parseGoInt } from '../../gofmt/float.js';
import { goQuote, unquote } from '../../gofmt/quote.js';
import { InvalidRegexError, Matcher, MatchType } from '../../model/matcher.js';
import { isValidLabelName, METRIC_NAME } from '../../model/labels.js';

/** --enable-feature names that change what the parser accepts. */
export const FEATURE_EXPERIMENTAL_FUNCTIONS = 'promql-experimental-functions';
export const FEATURE_DURATION_EXPR = 'promql-duration-expr';
export const FEATURE_EXTENDED_RANGE_SELECTORS = 'promql-extended-range-selectors';
export const FEATURE_BINOP_FILL_MODIFIERS = 'promql-binop-fill-modifiers';

export interface ParseOptions {
  /** Enabled --enable-feature names, e.g. 'promql-experimental-functions'. */
  features?: ReadonlySet<string>;
}

/**
 * Deepest accepted nesting of the syntax tree. The parser, type checker,
 * printer and engine all recurse over the tree; this bound keeps them far from
 * the JavaScript stack limit (about 10k frames) while admitting any query a
 * person or dashboard writes. Prometheus itself has no limit.
 */
export const MAX_EXPR_DEPTH = 1000;

const NO_FEATURES: ReadonlySet<string> = new Set();

/** Parses a PromQL expression; throws ParseError. */
export function parseExpr(input: string, opts: ParseOptions = {}): Expr {
  const p = new Parser(input, opts.features ?? NO_FEATURES);
  if (p.peek().type === T.EOF) p.fail('no expression found in input', 0, 0);
  const e = p.parseBinary(0);
  const t = p.peek();
  if (t.type !== T.EOF) p.unexpected(t);
  checkDepth(e, input);
  new Checker(input).check(e);
  return e;
}

/** Parses a series selector such as `up{job="x"}` (as in match[] parameters) to its matchers; throws ParseError. */
export function parseMetricSelector(input: string): Matcher[] {
  const p = new Parser(input, NO_FEATURES);
  const t = p.peek();
  const vs =
    t.type === T.LEFT_BRACE
      ? p.parseVectorSelector(null)
      : isMetricIdentifier(t.type)
        ? p.parseVectorSelector(p.consume())
        : p.unexpected(t);
  const end = p.peek();
  if (end.type !== T.EOF) p.unexpected(end);
  return vs.matchers;
}

/** The value type of an expression, as Prometheus's Expr.Type(). */
export function exprType(e: Expr): ValueKind {
  switch (e.type) {
    case 'AggregateExpr':
    case 'VectorSelector':
      return 'vector';
    case 'Call':
      return e.func.returnType;
    case 'MatrixSelector':
    case 'SubqueryExpr':
      return 'matrix';
    case 'NumberLiteral':
      return 'scalar';
    case 'StringLiteral':
      return 'string';
    case 'ParenExpr':
    case 'UnaryExpr':
    case 'StepInvariantExpr':
      return exprType(e.expr);
    case 'BinaryExpr':
      return exprType(e.lhs) === 'scalar' && exprType(e.rhs) === 'scalar' ? 'scalar' : 'vector';
  }
}

/** Prometheus's DocumentedType: how value types are named in messages. */
export function documentedType(t: ValueKind): string {
  return t === 'vector' ? 'instant vector' : t === 'matrix' ? 'range vector' : t;
}

// Binary operator precedence, lowest first; `^` is the only right-associative one.
const PREC_OR = 1;
const PREC_AND = 2;
const PREC_CMP = 3;
const PREC_ADD = 4;
const PREC_MUL = 5;
const PREC_POW = 6;

function binaryPrecedence(t: number): number {
  switch (t) {
    case T.LOR:
      return PREC_OR;
    case T.LAND:
    case T.LUNLESS:
      return PREC_AND;
    case T.EQLC:
    case T.NEQ:
    case T.LTE:
    case T.LSS:
    case T.GTE:
    case T.GTR:
    case T.TRIM_UPPER:
    case T.TRIM_LOWER:
      return PREC_CMP;
    case T.ADD:
    case T.SUB:
      return PREC_ADD;
    case T.MUL:
    case T.DIV:
    case T.MOD:
    case T.ATAN2:
      return PREC_MUL;
    case T.POW:
      return PREC_POW;
    default:
      return -1;
  }
}

/** Operators allowed inside duration expressions (ranges, offsets, steps). */
function durationPrecedence(t: number): number {
  switch (t) {
    case T.ADD:
    case T.SUB:
      return PREC_ADD;
    case T.MUL:
    case T.DIV:
    case T.MOD:
      return PREC_MUL;
    case T.POW:
      return PREC_POW;
    default:
      return -1;
  }
}

const isComparison = (op: BinaryOp): boolean =>
  op === '==' || op === '!=' || op === '>' || op === '<' || op === '>=' || op === '<=';
const isSetOp = (op: BinaryOp): boolean => op === 'and' || op === 'or' || op === 'unless';

/** Tokens that may name a metric (Prometheus's metric_identifier): identifiers and most keywords. */
function isMetricIdentifier(t: number): boolean {
  switch (t) {
    case T.IDENTIFIER:
    case T.METRIC_IDENTIFIER:
    case T.BY:
    case T.FILL:
    case T.FILL_LEFT:
    case T.FILL_RIGHT:
    case T.LAND:
    case T.LOR:
    case T.LUNLESS:
    case T.OFFSET:
    case T.WITHOUT:
    case T.START:
    case T.END:
    case T.STEP:
    case T.RANGE:
    case T.ANCHORED:
    case T.SMOOTHED:
    case T.MAX_OF:
    case T.MIN_OF:
      return true;
    default:
      return isAggregator(t);
  }
}

/** Tokens that may be a label name in by/without/on/ignoring/group_x lists (Prometheus's maybe_label). */
function isMaybeLabel(t: number): boolean {
  switch (t) {
    case T.IDENTIFIER:
    case T.METRIC_IDENTIFIER:
    case T.BOOL:
    case T.BY:
    case T.GROUP_LEFT:
    case T.GROUP_RIGHT:
    case T.FILL:
    case T.FILL_LEFT:
    case T.FILL_RIGHT:
    case T.IGNORING:
    case T.LAND:
    case T.LOR:
    case T.LUNLESS:
    case T.OFFSET:
    case T.ON:
    case T.START:
    case T.END:
    case T.ATAN2:
    case T.STEP:
    case T.RANGE:
    case T.ANCHORED:
    case T.SMOOTHED:
    case T.MAX_OF:
    case T.MIN_OF:
      return true;
    default:
      return isAggregator(t);
  }
}

/** Tokens that can begin an expression. */
function canStartExpr(t: number): boolean {
  switch (t) {
    case T.NUMBER:
    case T.DURATION:
    case T.STRING:
    case T.LEFT_PAREN:
    case T.LEFT_BRACE:
    case T.ADD:
    case T.SUB:
      return true;
    default:
      return isMetricIdentifier(t);
  }
}

const MATCH_TYPES: ReadonlyMap<number, MatchType> = new Map([
  [T.EQL, MatchType.Equal],
  [T.NEQ, MatchType.NotEqual],
  [T.EQL_REGEX, MatchType.Regexp],
  [T.NEQ_REGEX, MatchType.NotRegexp],
]);

const PARAM_AGGREGATIONS: ReadonlySet<AggregationOp> = new Set<AggregationOp>([
  'topk',
  'bottomk',
  'count_values',
  'quantile',
  'limitk',
  'limit_ratio',
]);

/** Largest |seconds| a duration literal may have: time.Duration is int64 nanoseconds. */
const MAX_DURATION_SECONDS = 2 ** 63 / 1e9;
/** float64(math.MaxInt64), the bound Prometheus applies to @ timestamps. */
const INT64_BOUND = 2 ** 63;

/** Milliseconds of a duration given in seconds, rounded to nanoseconds first as Prometheus does. */
function secondsToMs(sec: number): number {
  const ns = goRound(sec * 1e9);
  return Number(BigInt(ns) / 1_000_000n);
}

const OFFSET_CONTEXT = 'offset';
const OFFSET_EXPECTED = 'number, duration, step(), or range()';
const RANGE_CONTEXT = 'subquery or range selector';
const RANGE_EXPECTED = 'number, duration, step(), or range()';
const STEP_CONTEXT = 'subquery selector';
const STEP_EXPECTED = 'number, duration, step(), range(), or "]"';

/** Where a syntax error in a duration expression is reported, as Prometheus's error rules decide. */
interface ErrorContext {
  context: string;
  expected: string;
}

class Parser {
  private readonly lexer: Lexer;
  readonly input: string;
  private lookahead: Token | null = null;
  /** End offset of the last consumed token. */
  private lastEnd = 0;
  private readonly experimentalFunctions: boolean;
  private readonly durationExpr: boolean;
  private readonly extendedRanges: boolean;
  private readonly fillModifiers: boolean;
  /** Enclosing aggregations whose argument list is open: syntax errors there say "in aggregation". */
  private aggregationDepth = 0;
  private depth = 0;

  constructor(input: string, features: ReadonlySet<string>) {
    this.input = input;
    this.lexer = new Lexer(input);
    this.experimentalFunctions = features.has(FEATURE_EXPERIMENTAL_FUNCTIONS);
    this.durationExpr = features.has(FEATURE_DURATION_EXPR);
    this.extendedRanges = features.has(FEATURE_EXTENDED_RANGE_SELECTORS);
    this.fillModifiers = features.has(FEATURE_BINOP_FILL_MODIFIERS);
  }

  // ---- Tokens and errors -------------------------------------------------

  peek(): Token {
    if (this.lookahead === null) {
      let t = this.lexer.next();
      while (t.type === T.COMMENT) t = this.lexer.next();
      if (t.type === T.ERROR) this.fail(t.msg ?? 'lexer error', t.pos, t.end);
      this.lookahead = t;
    }
    return this.lookahead;
  }

  consume(): Token {
    const t = this.peek();
    this.lookahead = null;
    this.lastEnd = t.end;
    return t;
  }

  private text(t: Token): string {
    return this.input.slice(t.pos, t.end);
  }

  fail(msg: string, start: number, end: number): never {
    throw new ParseError(msg, { start, end }, this.input);
  }

  /** A syntax error at token t, worded as Prometheus's error recovery words it. */
  unexpected(t: Token, context?: string, expected?: string): never {
    let msg = `unexpected ${describeToken(t, this.input)}`;
    const ctx = context ?? (this.aggregationDepth > 0 ? 'aggregation' : '');
    if (ctx !== '') msg += ` in ${ctx}`;
    if (expected !== undefined && expected !== '') msg += `, expected ${expected}`;
    this.fail(msg, t.pos, t.end);
  }

  private enter(): void {
    if (++this.depth > MAX_EXPR_DEPTH) {
      const t = this.peek();
      this.fail(`expression nesting exceeds the maximum depth of ${MAX_EXPR_DEPTH}`, t.pos, t.end);
    }
  }

  private expect(type: TokenType, ctx?: ErrorContext): Token {
    const t = this.peek();
    if (t.type !== type) this.unexpected(t, ctx?.context, ctx?.expected);
    return this.consume();
  }

  // ---- Expressions -------------------------------------------------------

  parseBinary(minPrec: number): Expr {
    this.enter();
    let lhs = this.parseUnary();
    for (;;) {
      const t = this.peek();
      const prec = binaryPrecedence(t.type);
      if (prec < 0 || prec < minPrec) break;
      this.consume();
      const { returnBool, matching } = this.parseBinaryModifiers();
      const rhs = this.parseBinary(t.type === T.POW ? prec : prec + 1);
      const bin: BinaryExpr = {
        type: 'BinaryExpr',
        op: tokenTypeString(t.type) as BinaryOp,
        lhs,
        rhs,
        matching,
        returnBool,
        posRange: { start: lhs.posRange.start, end: rhs.posRange.end },
      };
      if (!this.fillModifiers && matching.fillValues !== undefined) {
        this.fail('binop fill modifiers are experimental and not enabled', bin.posRange.start, bin.posRange.end);
      }
      lhs = bin;
    }
    this.depth--;
    return lhs;
  }

  /** bool, on/ignoring, group_left/group_right and fill modifiers after a binary operator. */
  private parseBinaryModifiers(): { returnBool: boolean; matching: VectorMatching } {
    let returnBool = false;
    let on = false;
    let matchingLabels: string[] = [];
    let card: VectorMatchCardinality = 'one-to-one';
    let include: string[] = [];
    let t = this.peek();
    if (t.type === T.BOOL) {
      this.consume();
      returnBool = true;
      t = this.peek();
    }
    if (t.type === T.ON || t.type === T.IGNORING) {
      this.consume();
      on = t.type === T.ON;
      matchingLabels = this.parseGroupingLabels();
      t = this.peek();
      if (t.type === T.GROUP_LEFT || t.type === T.GROUP_RIGHT) {
        this.consume();
        card = t.type === T.GROUP_LEFT ? 'many-to-one' : 'one-to-many';
        if (this.peek().type === T.LEFT_PAREN) include = this.parseGroupingLabels();
        t = this.peek();
      }
    }
    let lhsFill: number | null = null;
    let rhsFill: number | null = null;
    let hasFill = false;
    if (t.type === T.FILL) {
      this.consume();
      lhsFill = rhsFill = this.parseFillValue();
      hasFill = true;
    } else if (t.type === T.FILL_LEFT || t.type === T.FILL_RIGHT) {
      this.consume();
      const left = t.type === T.FILL_LEFT;
      const v = this.parseFillValue();
      if (left) lhsFill = v;
      else rhsFill = v;
      const other = left ? T.FILL_RIGHT : T.FILL_LEFT;
      if (this.peek().type === other) {
        this.consume();
        const w = this.parseFillValue();
        if (left) rhsFill = w;
        else lhsFill = w;
      }
      hasFill = true;
    }
    const matching: VectorMatching = { card, matchingLabels, on, include };
    if (hasFill) matching.fillValues = { lhs: lhsFill, rhs: rhsFill };
    return { returnBool, matching };
  }

  /** `(number)` or `(-number)` after fill, fill_left or fill_right. */
  private parseFillValue(): number {
    this.expect(T.LEFT_PAREN);
    let t = this.peek();
    let sign = 1;
    if (t.type === T.ADD || t.type === T.SUB) {
      this.consume();
      if (t.type === T.SUB) sign = -1;
      t = this.peek();
    }
    if (t.type !== T.NUMBER && t.type !== T.DURATION) this.unexpected(t);
    const lit = this.numberLiteral(this.consume());
    this.expect(T.RIGHT_PAREN);
    return lit.val * sign;
  }

  /** `(a, b, "c")` after by/without/on/ignoring/group_left/group_right. */
  private parseGroupingLabels(): string[] {
    const t0 = this.peek();
    if (t0.type !== T.LEFT_PAREN) this.unexpected(t0, 'grouping opts', '"("');
    this.consume();
    const labels: string[] = [];
    if (this.peek().type === T.RIGHT_PAREN) {
      this.consume();
      return labels;
    }
    for (;;) {
      const t = this.peek();
      if (isMaybeLabel(t.type)) {
        this.consume();
        labels.push(this.text(t));
      } else if (t.type === T.STRING) {
        this.consume();
        const name = this.unquote(t);
        if (!isValidLabelName(name)) this.fail(`invalid label name for grouping: ${goQuote(name)}`, t.pos, t.end);
        labels.push(name);
      } else {
        this.unexpected(t, 'grouping opts', 'label');
      }
      const sep = this.peek();
      if (sep.type === T.COMMA) {
        this.consume();
        if (this.peek().type === T.RIGHT_PAREN) {
          this.consume();
          return labels;
        }
        continue;
      }
      if (sep.type === T.RIGHT_PAREN) {
        this.consume();
        return labels;
      }
      this.unexpected(sep, 'grouping opts', '"," or ")"');
    }
  }

  /** Unary + and - bind tighter than * but looser than ^; on a number literal they fold into it. */
  private parseUnary(): Expr {
    const t = this.peek();
    if (t.type !== T.ADD && t.type !== T.SUB) return this.parsePostfix(this.parsePrimary());
    this.consume();
    const operand = this.parseBinary(PREC_POW);
    if (operand.type === 'NumberLiteral') {
      if (t.type === T.SUB) operand.val *= -1;
      operand.posRange.start = t.pos;
      return operand;
    }
    const u: UnaryExpr = {
      type: 'UnaryExpr',
      op: t.type === T.SUB ? '-' : '+',
      expr: operand,
      posRange: { start: t.pos, end: operand.posRange.end },
    };
    return u;
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    switch (t.type) {
      case T.NUMBER:
      case T.DURATION:
        return this.numberLiteral(this.consume());
      case T.STRING: {
        this.consume();
        const s: StringLiteral = { type: 'StringLiteral', val: this.unquote(t), posRange: { start: t.pos, end: t.end } };
        return s;
      }
      case T.LEFT_PAREN: {
        this.consume();
        const inner = this.parseBinary(0);
        const close = this.peek();
        if (close.type !== T.RIGHT_PAREN) this.unexpected(close);
        this.consume();
        const p: ParenExpr = { type: 'ParenExpr', expr: inner, posRange: { start: t.pos, end: close.end } };
        return p;
      }
      case T.LEFT_BRACE:
        return this.parseVectorSelector(null);
      case T.IDENTIFIER:
      case T.START:
      case T.END:
      case T.STEP:
      case T.RANGE:
      case T.MAX_OF:
      case T.MIN_OF:
        this.consume();
        return this.peek().type === T.LEFT_PAREN ? this.parseCall(t) : this.parseVectorSelector(t);
    }
    if (isAggregator(t.type)) {
      this.consume();
      const n = this.peek().type;
      if (n === T.LEFT_PAREN || n === T.BY || n === T.WITHOUT) return this.parseAggregate(t);
      return this.parseVectorSelector(t);
    }
    if (isMetricIdentifier(t.type)) return this.parseVectorSelector(this.consume());
    this.unexpected(t);
  }

  private numberLiteral(t: Token): NumberLiteral {
    const text = this.text(t);
    const posRange = { start: t.pos, end: t.end };
    if (t.type === T.DURATION) {
      let ms: number;
      try {
        ms = parseDuration(text);
      } catch (e) {
        if (e instanceof InvalidDurationError) this.fail(e.message, t.pos, t.end);
        throw e;
      }
      // time.Duration.Seconds(): whole seconds plus the fraction (durations are whole milliseconds).
      const val = Math.floor(ms / 1000) + (ms % 1000) / 1000;
      return { type: 'NumberLiteral', val, posRange, duration: true };
    }
    let val = parseGoInt(text);
    if (val === null) {
      try {
        val = parseGoFloat(text);
      } catch (e) {
        if (e instanceof NumError) this.fail(`error parsing number: ${e.message}`, t.pos, t.end);
        throw e;
      }
    }
    return { type: 'NumberLiteral', val, posRange };
  }

  private unquote(t: Token): string {
    const raw = this.text(t);
    try {
      return unquote(raw);
    } catch {
      this.fail(`error unquoting string ${goQuote(raw)}: invalid syntax`, t.pos, t.end);
    }
  }

  /** `name`, `name{...}` or `{...}`; nameTok is the already consumed metric name. */
  parseVectorSelector(nameTok: Token | null): VectorSelector {
    const matchers: Matcher[] = [];
    const start = nameTok !== null ? nameTok.pos : this.peek().pos;
    let end = nameTok !== null ? nameTok.end : start;
    if (this.peek().type === T.LEFT_BRACE) end = this.parseLabelMatchers(matchers);
    const name = nameTok !== null ? this.text(nameTok) : '';
    if (name !== '') matchers.push(Matcher.create(MatchType.Equal, METRIC_NAME, name));
    return {
      type: 'VectorSelector',
      name,
      matchers,
      originalOffset: 0,
      offset: 0,
      timestamp: null,
      startOrEnd: null,
      posRange: { start, end },
    };
  }

  /** `{a="b", "c"!~"d", "metric.name"}`; returns the end offset of the closing brace. */
  private parseLabelMatchers(out: Matcher[]): number {
    this.consume();
    if (this.peek().type === T.RIGHT_BRACE) return this.consume().end;
    for (;;) {
      const t = this.peek();
      if (t.type === T.IDENTIFIER || t.type === T.STRING) {
        this.consume();
        const name = t.type === T.IDENTIFIER ? this.text(t) : this.unquote(t);
        const op = this.peek();
        const type = MATCH_TYPES.get(op.type);
        if (type === undefined) {
          if (t.type === T.IDENTIFIER) this.unexpected(op, 'label matching', 'label matching operator');
          // A bare quoted name selects the metric: {"my.metric"}.
          out.push(Matcher.create(MatchType.Equal, METRIC_NAME, name));
        } else {
          this.consume();
          const v = this.peek();
          if (v.type !== T.STRING) this.unexpected(v, 'label matching', 'string');
          this.consume();
          out.push(this.newMatcher(type, name, this.unquote(v), t.pos, v.end));
        }
      } else {
        this.unexpected(t, 'label matching', 'identifier or "}"');
      }
      const sep = this.peek();
      if (sep.type === T.COMMA) {
        this.consume();
        if (this.peek().type === T.RIGHT_BRACE) return this.consume().end;
        continue;
      }
      if (sep.type === T.RIGHT_BRACE) return this.consume().end;
      this.unexpected(sep, 'label matching', '"," or "}"');
    }
  }

  private newMatcher(type: MatchType, name: string, value: string, start: number, end: number): Matcher {
    try {
      return Matcher.create(type, name, value);
    } catch (e) {
      if (e instanceof InvalidRegexError) this.fail(e.message, start, end);
      throw e;
    }
  }

  /** `(arg, ...)` of a function call or aggregation. */
  private parseCallArgs(): Expr[] {
    this.consume();
    const args: Expr[] = [];
    if (this.peek().type === T.RIGHT_PAREN) {
      this.consume();
      return args;
    }
    for (;;) {
      args.push(this.parseBinary(0));
      const t = this.peek();
      if (t.type === T.COMMA) {
        this.consume();
        if (!canStartExpr(this.peek().type)) this.fail('trailing commas not allowed in function call args', t.pos, t.end);
        continue;
      }
      if (t.type === T.RIGHT_PAREN) {
        this.consume();
        return args;
      }
      this.unexpected(t);
    }
  }

  private parseCall(nameTok: Token): Call {
    const args = this.parseCallArgs();
    const name = this.text(nameTok);
    const func = FUNCTIONS.get(name);
    if (func === undefined) this.fail(`unknown function with name ${goQuote(name)}`, nameTok.pos, nameTok.end);
    if (func.experimental && !this.experimentalFunctions) {
      this.fail(`function ${goQuote(name)} is not enabled`, nameTok.pos, nameTok.end);
    }
    return { type: 'Call', func, args, posRange: { start: nameTok.pos, end: this.lastEnd } };
  }

  private parseAggregate(opTok: Token): AggregateExpr {
    const op = tokenTypeString(opTok.type) as AggregationOp;
    let grouping: string[] = [];
    let without = false;
    let modifierFirst = false;
    this.aggregationDepth++;
    let t = this.peek();
    if (t.type === T.BY || t.type === T.WITHOUT) {
      this.consume();
      without = t.type === T.WITHOUT;
      grouping = this.parseGroupingLabels();
      modifierFirst = true;
      t = this.peek();
      if (t.type !== T.LEFT_PAREN) this.unexpected(t);
    }
    const args = this.parseCallArgs();
    this.aggregationDepth--;
    if (!modifierFirst) {
      t = this.peek();
      if (t.type === T.BY || t.type === T.WITHOUT) {
        this.consume();
        without = t.type === T.WITHOUT;
        grouping = this.parseGroupingLabels();
      }
    }
    const posRange = { start: opTok.pos, end: this.lastEnd };
    if (args.length === 0) this.fail('no arguments for aggregate expression provided', posRange.start, posRange.end);
    let wanted = 1;
    let param: Expr | null = null;
    if (PARAM_AGGREGATIONS.has(op)) {
      if ((op === 'limitk' || op === 'limit_ratio') && !this.experimentalFunctions) {
        this.fail(
          `${op}() is experimental and must be enabled with --enable-feature=promql-experimental-functions`,
          posRange.start,
          posRange.end,
        );
      }
      wanted = 2;
      param = args[0]!; // args is not empty (checked above)
    }
    if (args.length !== wanted) {
      this.fail(
        `wrong number of arguments for aggregate expression provided, expected ${wanted}, got ${args.length}`,
        posRange.start,
        posRange.end,
      );
    }
    // args.length === wanted (checked above).
    return { type: 'AggregateExpr', op, expr: args[wanted - 1]!, param, grouping, without, posRange };
  }

  // ---- Modifiers: ranges, subqueries, offset, @, anchored, smoothed ------

  private parsePostfix(e: Expr): Expr {
    for (;;) {
      switch (this.peek().type) {
        case T.LEFT_BRACKET:
          e = this.parseRangeOrSubquery(e);
          break;
        case T.OFFSET:
          this.parseOffset(e);
          break;
        case T.AT:
          this.parseAt(e);
          break;
        case T.ANCHORED:
          this.consume();
          this.setAnchoredOrSmoothed(e, 'anchored');
          break;
        case T.SMOOTHED:
          this.consume();
          this.setAnchoredOrSmoothed(e, 'smoothed');
          break;
        default:
          return e;
      }
    }
  }

  private parseRangeOrSubquery(e: Expr): Expr {
    const open = this.consume();
    const range = this.parsePositiveDuration({ context: RANGE_CONTEXT, expected: RANGE_EXPECTED });
    const t = this.peek();
    if (t.type === T.RIGHT_BRACKET) {
      const close = this.consume();
      let msg = '';
      if (e.type !== 'VectorSelector') msg = 'ranges only allowed for vector selectors';
      else if (e.originalOffset !== 0 || e.offsetExpr !== undefined) msg = 'no offset modifiers allowed before range';
      else if (e.timestamp !== null || e.startOrEnd !== null) msg = 'no @ modifiers allowed before range';
      if (msg !== '') this.fail(msg, open.pos, close.end);
      const m: MatrixSelector = {
        type: 'MatrixSelector',
        vectorSelector: e as VectorSelector,
        range: range.type === 'NumberLiteral' ? secondsToMs(range.val) : 0,
        posRange: { start: e.posRange.start, end: close.end },
      };
      if (range.type !== 'NumberLiteral') m.rangeExpr = range;
      return m;
    }
    if (t.type !== T.COLON) this.unexpected(t, 'subquery or range', '":" or "]"');
    this.consume();
    let step: Expr | null = null;
    if (this.peek().type !== T.RIGHT_BRACKET) {
      step = this.parsePositiveDuration({ context: STEP_CONTEXT, expected: STEP_EXPECTED });
      const c = this.peek();
      if (c.type !== T.RIGHT_BRACKET) this.unexpected(c, 'subquery selector', '"]"');
    }
    const close = this.consume();
    const sq: SubqueryExpr = {
      type: 'SubqueryExpr',
      expr: e,
      range: range.type === 'NumberLiteral' ? secondsToMs(range.val) : 0,
      step: step !== null && step.type === 'NumberLiteral' ? secondsToMs(step.val) : 0,
      originalOffset: 0,
      offset: 0,
      timestamp: null,
      startOrEnd: null,
      posRange: { start: e.posRange.start, end: close.end },
    };
    if (range.type !== 'NumberLiteral') sq.rangeExpr = range;
    if (step !== null && step.type !== 'NumberLiteral') sq.stepExpr = step;
    return sq;
  }

  /** A range or step: a duration expression that, when it is a literal, must be positive. */
  private parsePositiveDuration(ctx: ErrorContext): Expr {
    const d = this.parseDuration(0, ctx);
    if (d.type === 'NumberLiteral' && !(d.val > 0)) {
      this.fail('duration must be greater than 0', d.posRange.start, d.posRange.end);
    }
    return d;
  }

  private parseOffset(e: Expr): void {
    this.consume();
    const ctx: ErrorContext = { context: OFFSET_CONTEXT, expected: OFFSET_EXPECTED };
    const d = this.parseOffsetDuration(ctx);
    if (d.type === 'NumberLiteral') this.setOffset(e, secondsToMs(d.val), undefined);
    else this.setOffset(e, 0, d);
  }

  /**
   * The duration after `offset`. A literal (with optional sign), step(),
   * range(), min_of()/max_of() and a signed parenthesis stand alone, so
   * `foo offset 5m + 1m` adds to the offset selector; an unsigned parenthesis
   * starts a duration expression that extends over following operators.
   */
  private parseOffsetDuration(ctx: ErrorContext): Expr {
    const t = this.peek();
    switch (t.type) {
      case T.NUMBER:
      case T.DURATION:
        return this.durationLiteral(this.consume());
      case T.STEP:
      case T.RANGE:
      case T.MAX_OF:
      case T.MIN_OF:
        return this.parseDurationCall(ctx);
      case T.LEFT_PAREN:
        return this.parseDurationRest(this.parseDurationParen(ctx), 0, ctx);
      case T.ADD:
      case T.SUB: {
        this.consume();
        const n = this.peek();
        switch (n.type) {
          case T.NUMBER:
          case T.DURATION: {
            const lit = this.numberLiteral(this.consume());
            if (t.type === T.SUB) lit.val *= -1;
            if (durationOutOfRange(lit.val)) this.fail('duration out of range', t.pos, t.end);
            lit.posRange.start = t.pos;
            return lit;
          }
          case T.STEP:
          case T.RANGE:
          case T.MAX_OF:
          case T.MIN_OF: {
            const call = this.parseDurationCall(ctx, false);
            const signed = t.type === T.SUB ? this.negate(call, t.pos) : call;
            this.experimentalDuration(t.pos, call.posRange.end);
            return signed;
          }
          case T.LEFT_PAREN: {
            this.consume();
            const inner = this.parseDuration(0, ctx);
            const close = this.expect(T.RIGHT_PAREN, ctx);
            return this.applyDurationSign(t, wrapParen(inner, n.pos, close.end));
          }
          case T.ADD:
          case T.SUB: {
            const operand = this.parseDuration(PREC_POW, ctx);
            return this.parseDurationRest(this.applyDurationSign(t, operand), 0, ctx);
          }
          default:
            this.unexpected(n, ctx.context, ctx.expected);
        }
      }
    }
    this.unexpected(t, ctx.context, ctx.expected);
  }

  /** A duration expression: numbers, durations, + - * / % ^, parentheses, step(), range(), min_of(), max_of(). */
  private parseDuration(minPrec: number, ctx: ErrorContext): Expr {
    this.enter();
    const lhs = this.parseDurationUnary(ctx);
    const e = this.parseDurationRest(lhs, minPrec, ctx);
    this.depth--;
    return e;
  }

  private parseDurationRest(lhs: Expr, minPrec: number, ctx: ErrorContext): Expr {
    for (;;) {
      const t = this.peek();
      const prec = durationPrecedence(t.type);
      if (prec < 0 || prec < minPrec) return lhs;
      this.consume();
      const rhs = this.parseDuration(t.type === T.POW ? prec : prec + 1, ctx);
      this.experimentalDuration(lhs.posRange.start, lhs.posRange.end);
      if ((t.type === T.DIV || t.type === T.MOD) && rhs.type === 'NumberLiteral' && rhs.val === 0) {
        this.fail(t.type === T.DIV ? 'division by zero' : 'modulo by zero', t.pos, t.end);
      }
      const b: BinaryExpr = {
        type: 'BinaryExpr',
        op: tokenTypeString(t.type) as BinaryOp,
        lhs,
        rhs,
        matching: null,
        returnBool: false,
        posRange: { start: lhs.posRange.start, end: rhs.posRange.end },
      };
      lhs = b;
    }
  }

  private parseDurationUnary(ctx: ErrorContext): Expr {
    const t = this.peek();
    if (t.type === T.ADD || t.type === T.SUB) {
      this.consume();
      return this.applyDurationSign(t, this.parseDuration(PREC_POW, ctx));
    }
    switch (t.type) {
      case T.NUMBER:
      case T.DURATION:
        return this.durationLiteral(this.consume());
      case T.STEP:
      case T.RANGE:
      case T.MAX_OF:
      case T.MIN_OF:
        return this.parseDurationCall(ctx);
      case T.LEFT_PAREN:
        return this.parseDurationParen(ctx);
    }
    this.unexpected(t, ctx.context, ctx.expected);
  }

  private durationLiteral(t: Token): NumberLiteral {
    const lit = this.numberLiteral(t);
    if (durationOutOfRange(lit.val)) this.fail('duration out of range', lit.posRange.start, lit.posRange.end);
    return lit;
  }

  /** `( duration )`: experimental; prints back with its parentheses. */
  private parseDurationParen(ctx: ErrorContext): Expr {
    const open = this.consume();
    const inner = this.parseDuration(0, ctx);
    const close = this.expect(T.RIGHT_PAREN, ctx);
    this.experimentalDuration(inner.posRange.start, inner.posRange.end);
    return wrapParen(inner, open.pos, close.end);
  }

  /** step(), range(), min_of(a, b), max_of(a, b) inside a duration; experimental. */
  private parseDurationCall(ctx: ErrorContext, check = true): Call {
    const t = this.consume();
    const name = tokenTypeString(t.type);
    this.expect(T.LEFT_PAREN, ctx);
    const args: Expr[] = [];
    if (t.type === T.MAX_OF || t.type === T.MIN_OF) {
      args.push(this.parseDuration(0, ctx));
      this.expect(T.COMMA, ctx);
      args.push(this.parseDuration(0, ctx));
    }
    const close = this.expect(T.RIGHT_PAREN, ctx);
    if (check) this.experimentalDuration(t.pos, close.end);
    return { type: 'Call', func: FUNCTIONS.get(name)!, args, posRange: { start: t.pos, end: close.end } };
  }

  /** A sign before a duration: folds into a literal, otherwise `-` negates and `+` vanishes. */
  private applyDurationSign(sign: Token, e: Expr): Expr {
    if (e.type === 'NumberLiteral') {
      if (sign.type === T.SUB) e.val *= -1;
      if (durationOutOfRange(e.val)) this.fail('duration out of range', sign.pos, sign.end);
      e.posRange.start = sign.pos;
      return e;
    }
    return sign.type === T.SUB ? this.negate(e, sign.pos) : e;
  }

  private negate(e: Expr, start: number): UnaryExpr {
    return { type: 'UnaryExpr', op: '-', expr: e, posRange: { start, end: e.posRange.end } };
  }

  private experimentalDuration(start: number, end: number): void {
    if (!this.durationExpr) this.fail('experimental duration expression is not enabled', start, end);
  }

  private setOffset(e: Expr, ms: number, expr: Expr | undefined): void {
    const target = this.modifierTarget(e, 'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery');
    if (target.originalOffset !== 0 || target.offsetExpr !== undefined) {
      this.fail('offset may not be set multiple times', e.posRange.start, e.posRange.end);
    }
    if (expr !== undefined) target.offsetExpr = expr;
    else {
      target.originalOffset = ms;
      target.offset = ms;
    }
    e.posRange.end = this.lastEnd;
  }

  private modifierTarget(e: Expr, msg: string): VectorSelector | SubqueryExpr {
    switch (e.type) {
      case 'VectorSelector':
      case 'SubqueryExpr':
        return e;
      case 'MatrixSelector':
        return e.vectorSelector;
      default:
        this.fail(msg, e.posRange.start, e.posRange.end);
    }
  }

  private parseAt(e: Expr): void {
    this.consume();
    let t = this.peek();
    if (t.type === T.START || t.type === T.END) {
      this.consume();
      this.expect(T.LEFT_PAREN, { context: '@', expected: 'timestamp' });
      this.expect(T.RIGHT_PAREN, { context: '@', expected: 'timestamp' });
      const target = this.atTarget(e);
      target.startOrEnd = t.type === T.START ? 'start' : 'end';
      e.posRange.end = this.lastEnd;
      return;
    }
    let sign = 1;
    if (t.type === T.ADD || t.type === T.SUB) {
      this.consume();
      if (t.type === T.SUB) sign = -1;
      t = this.peek();
    }
    if (t.type !== T.NUMBER && t.type !== T.DURATION) this.unexpected(t, '@', 'timestamp');
    const ts = this.numberLiteral(this.consume()).val * sign;
    if (!Number.isFinite(ts) || ts >= INT64_BOUND || ts <= -INT64_BOUND) {
      this.fail(`timestamp out of bounds for @ modifier: ${formatF(ts, 6)}`, e.posRange.start, e.posRange.end);
    }
    const target = this.atTarget(e);
    target.timestamp = goRound(ts * 1000);
    e.posRange.end = this.lastEnd;
  }

  private atTarget(e: Expr): VectorSelector | SubqueryExpr {
    const target = this.modifierTarget(e, '@ modifier must be preceded by an instant vector selector or range vector selector or a subquery');
    if (target.timestamp !== null || target.startOrEnd !== null) {
      this.fail('@ <timestamp> may not be set multiple times', e.posRange.start, e.posRange.end);
    }
    return target;
  }

  private setAnchoredOrSmoothed(e: Expr, which: 'anchored' | 'smoothed'): void {
    const { start, end } = e.posRange;
    if (!this.extendedRanges) this.fail(`${which} modifier is experimental and not enabled`, start, end);
    if (e.type === 'SubqueryExpr') this.fail(`${which} modifier is not supported for subqueries`, start, end);
    if (e.type !== 'VectorSelector' && e.type !== 'MatrixSelector') this.fail(`${which} modifier not implemented`, start, end);
    const vs = e.type === 'VectorSelector' ? e : e.vectorSelector;
    if (which === 'anchored') vs.anchored = true;
    else vs.smoothed = true;
    if (vs.anchored === true && vs.smoothed === true) {
      this.fail('anchored and smoothed modifiers cannot be used together', start, end);
    }
  }
}

/** Parentheses around a duration; nested ones collapse into one, as Prometheus prints them. */
function wrapParen(inner: Expr, start: number, end: number): Expr {
  if (inner.type === 'ParenExpr') return inner;
  const p: ParenExpr = { type: 'ParenExpr', expr: inner, posRange: { start, end } };
  return p;
}

/** NaN is out of range too: Prometheus would turn it into an arbitrary int64 duration. */
function durationOutOfRange(sec: number): boolean {
  return !(sec <= MAX_DURATION_SECONDS && sec >= -MAX_DURATION_SECONDS);
}

/** Rejects trees deeper than MAX_EXPR_DEPTH without recursing, so later recursive walks are safe. */
function checkDepth(root: Expr, input: string): void {
  const nodes: Expr[] = [root];
  const depths: number[] = [1];
  while (nodes.length > 0) {
    const e = nodes.pop()!;
    const d = depths.pop()!;
    if (d > MAX_EXPR_DEPTH) {
      throw new ParseError(`expression nesting exceeds the maximum depth of ${MAX_EXPR_DEPTH}`, e.posRange, input);
    }
    for (const c of children(e)) {
      nodes.push(c);
      depths.push(d + 1);
    }
  }
}

/** The sub-expressions of a node, including duration expressions of its modifiers. */
function children(e: Expr): Expr[] {
  switch (e.type) {
    case 'AggregateExpr':
      return e.param !== null ? [e.expr, e.param] : [e.expr];
    case 'BinaryExpr':
      return [e.lhs, e.rhs];
    case 'Call':
      return e.args;
    case 'MatrixSelector': {
      const out: Expr[] = [e.vectorSelector];
      if (e.rangeExpr !== undefined) out.push(e.rangeExpr);
      return out;
    }
    case 'SubqueryExpr': {
      const out: Expr[] = [e.expr];
      if (e.rangeExpr !== undefined) out.push(e.rangeExpr);
      if (e.stepExpr !== undefined) out.push(e.stepExpr);
      if (e.offsetExpr !== undefined) out.push(e.offsetExpr);
      return out;
    }
    case 'VectorSelector':
      return e.offsetExpr !== undefined ? [e.offsetExpr] : [];
    case 'ParenExpr':
    case 'UnaryExpr':
    case 'StepInvariantExpr':
      return [e.expr];
    case 'NumberLiteral':
    case 'StringLiteral':
      return [];
  }
}

/** Prometheus's checkAST: static type checks after a successful parse. */
class Checker {
  /** Selectors inside info()'s second argument, which may match every series. */
  private readonly bypassEmptyCheck = new Set<VectorSelector>();

  constructor(private readonly input: string) {}

  private fail(msg: string, r: PosRange): never {
    throw new ParseError(msg, { start: r.start, end: r.end }, this.input);
  }

  private expectType(e: Expr, want: ValueKind, context: string): void {
    const t = this.check(e);
    if (t !== want) this.fail(`expected type ${documentedType(want)} in ${context}, got ${documentedType(t)}`, e.posRange);
  }

  /** Checks e and its children; returns e's type (computed bottom-up, as Expr.Type() would give it). */
  check(e: Expr): ValueKind {
    switch (e.type) {
      case 'AggregateExpr':
        this.expectType(e.expr, 'vector', 'aggregation expression');
        if (e.param !== null) {
          this.expectType(e.param, e.op === 'count_values' ? 'string' : 'scalar', 'aggregation parameter');
        }
        return 'vector';
      case 'BinaryExpr':
        return this.checkBinary(e);
      case 'Call':
        this.checkCall(e);
        return e.func.returnType;
      case 'ParenExpr':
      case 'StepInvariantExpr':
        return this.check(e.expr);
      case 'UnaryExpr': {
        const t = this.check(e.expr);
        if (t !== 'scalar' && t !== 'vector') {
          this.fail(
            `unary expression only allowed on expressions of type scalar or instant vector, got ${goQuote(documentedType(t))}`,
            e.posRange,
          );
        }
        return t;
      }
      case 'SubqueryExpr': {
        const t = this.check(e.expr);
        if (t !== 'vector') this.fail(`subquery is only allowed on instant vector, got ${t} instead`, e.posRange);
        return 'matrix';
      }
      case 'MatrixSelector':
        this.check(e.vectorSelector);
        return 'matrix';
      case 'VectorSelector':
        this.checkVectorSelector(e);
        return 'vector';
      case 'NumberLiteral':
        return 'scalar';
      case 'StringLiteral':
        return 'string';
    }
  }

  private checkVectorSelector(e: VectorSelector): void {
    if (e.name !== '') {
      // The last matcher is the one implied by the name outside the braces.
      for (let i = 0; i < e.matchers.length - 1; i++) {
        const m = e.matchers[i]!;
        if (m.name === METRIC_NAME) {
          this.fail(`metric name must not be set twice: ${goQuote(e.name)} or ${goQuote(m.value)}`, e.posRange);
        }
      }
      return;
    }
    if (this.bypassEmptyCheck.has(e)) return;
    // A selector must not match every series by accident (e.g. a typo).
    if (!e.matchers.some((m) => !m.matchesEmpty())) {
      this.fail('vector selector must contain at least one non-empty matcher', e.posRange);
    }
  }

  private checkCall(e: Call): void {
    const f: FunctionDef = e.func;
    const nargs = f.argTypes.length;
    const got = e.args.length;
    if (f.variadic === 0) {
      if (nargs !== got) this.fail(`expected ${nargs} argument(s) in call to ${goQuote(f.name)}, got ${got}`, e.posRange);
    } else {
      const min = nargs - 1;
      if (min > got) {
        this.fail(`expected at least ${min} argument(s) in call to ${goQuote(f.name)}, got ${got}`, e.posRange);
      } else if (f.variadic > 0 && min + f.variadic < got) {
        this.fail(`expected at most ${min + f.variadic} argument(s) in call to ${goQuote(f.name)}, got ${got}`, e.posRange);
      }
    }
    if (f.name === 'info' && got > 1) {
      const arg = e.args[1]!;
      const t = exprType(arg);
      if (t !== 'vector') {
        this.fail(`expected type instant vector in call to function "info", got ${documentedType(t)}`, e.posRange);
      }
      if (arg.type !== 'VectorSelector') this.fail('expected label selectors only', arg.posRange);
      if (arg.name !== '') this.fail('expected label selectors only, got vector selector instead', arg.posRange);
      this.bypassEmptyCheck.add(arg);
    }
    // i < got = e.args.length, and ti < nargs (a variadic function declares at least one argument type).
    for (let i = 0; i < got; i++) {
      let ti = i;
      if (i >= nargs) {
        // Extra arguments of a fixed-arity function were reported above.
        if (f.variadic === 0) break;
        ti = nargs - 1;
      }
      const arg = e.args[i]!;
      const t = this.check(arg);
      if (t !== f.argTypes[ti]) {
        this.fail(
          `expected type ${documentedType(f.argTypes[ti]!)} in call to function ${goQuote(f.name)}, got ${documentedType(t)}`,
          arg.posRange,
        );
      }
    }
  }

  /** The span of a binary expression's operator and modifiers, for errors about them. */
  private opRange(e: BinaryExpr): PosRange {
    let start = e.lhs.posRange.end;
    while (isSpaceCode(this.input.charCodeAt(start))) start++;
    let end = e.rhs.posRange.start - 1;
    while (isSpaceCode(this.input.charCodeAt(end))) end--;
    return { start, end };
  }

  private checkBinary(e: BinaryExpr): ValueKind {
    const lt = this.check(e.lhs);
    const rt = this.check(e.rhs);
    const typ: ValueKind = lt === 'scalar' && rt === 'scalar' ? 'scalar' : 'vector';
    const op = e.op;
    const vm = e.matching;
    if (e.returnBool && !isComparison(op)) this.fail('bool modifier can only be used on comparison operators', this.opRange(e));
    if (isComparison(op) && !e.returnBool && lt === 'scalar' && rt === 'scalar') {
      this.fail('comparisons between scalars must use BOOL modifier', this.opRange(e));
    }
    if (vm === null) return typ;
    if (isSetOp(op) && vm.card === 'one-to-one') vm.card = 'many-to-many';
    if (vm.on) {
      for (const l of vm.matchingLabels) {
        if (vm.include.includes(l)) this.fail(`label ${goQuote(l)} must not occur in ON and GROUP clause at once`, this.opRange(e));
      }
    }
    if (lt !== 'scalar' && lt !== 'vector') this.fail('binary expression must contain only scalar and instant vector types', e.lhs.posRange);
    if (rt !== 'scalar' && rt !== 'vector') this.fail('binary expression must contain only scalar and instant vector types', e.rhs.posRange);
    if (lt !== 'vector' || rt !== 'vector') {
      if (vm.matchingLabels.length > 0) this.fail('vector matching only allowed between instant vectors', e.posRange);
      if (vm.fillValues !== undefined) this.fail('filling in missing series only allowed between instant vectors', e.posRange);
      e.matching = null;
    } else if (isSetOp(op)) {
      // One-to-one was turned into many-to-many above, so grouping is the only other case.
      if (vm.card !== 'many-to-many') this.fail(`no grouping allowed for ${goQuote(op)} operation`, e.posRange);
      if (vm.fillValues !== undefined) this.fail('filling in missing series not allowed for set operators', e.posRange);
    }
    if ((lt === 'scalar' || rt === 'scalar') && isSetOp(op)) {
      this.fail(`set operator ${goQuote(op)} not allowed in binary scalar expression`, e.posRange);
    }
    return typ;
  }
}

function isSpaceCode(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

export { ParseError };
