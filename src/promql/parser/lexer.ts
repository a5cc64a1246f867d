// The PromQL lexer: a state machine over the query string that yields one token
// at a time, with the same token boundaries, modes (inside braces, inside a
// range's duration) and error messages as Prometheus's lexer.
import { goQuote, goQuoteRune, goQuoteTruncated, goUnicodeVerbose } from '../../gofmt/quote.js';

/** Token types. Ranges group operators, aggregators, keywords and preprocessors. */
export const T = {
  EOF: 0,
  ERROR: 1,
  COMMENT: 2,
  IDENTIFIER: 3,
  METRIC_IDENTIFIER: 4,
  NUMBER: 5,
  DURATION: 6,
  STRING: 7,

  LEFT_PAREN: 10,
  RIGHT_PAREN: 11,
  LEFT_BRACE: 12,
  RIGHT_BRACE: 13,
  LEFT_BRACKET: 14,
  RIGHT_BRACKET: 15,
  COMMA: 16,
  EQL: 17,
  COLON: 18,

  // Operators.
  ADD: 20,
  SUB: 21,
  MUL: 22,
  DIV: 23,
  MOD: 24,
  POW: 25,
  EQLC: 26,
  NEQ: 27,
  LTE: 28,
  LSS: 29,
  GTE: 30,
  GTR: 31,
  TRIM_UPPER: 32,
  TRIM_LOWER: 33,
  EQL_REGEX: 34,
  NEQ_REGEX: 35,
  AT: 36,
  LAND: 37,
  LOR: 38,
  LUNLESS: 39,
  ATAN2: 40,

  // Aggregators.
  AVG: 50,
  BOTTOMK: 51,
  COUNT: 52,
  COUNT_VALUES: 53,
  GROUP: 54,
  MAX: 55,
  MIN: 56,
  QUANTILE: 57,
  STDDEV: 58,
  STDVAR: 59,
  SUM: 60,
  TOPK: 61,
  LIMITK: 62,
  LIMIT_RATIO: 63,

  // Keywords.
  BOOL: 70,
  BY: 71,
  GROUP_LEFT: 72,
  GROUP_RIGHT: 73,
  FILL: 74,
  FILL_LEFT: 75,
  FILL_RIGHT: 76,
  IGNORING: 77,
  OFFSET: 78,
  SMOOTHED: 79,
  ANCHORED: 80,
  ON: 81,
  WITHOUT: 82,

  // Preprocessors.
  START: 90,
  END: 91,
  STEP: 92,
  RANGE: 93,
  MAX_OF: 94,
  MIN_OF: 95,
} as const;

export type TokenType = (typeof T)[keyof typeof T];

const isOperator = (t: number): boolean => t >= T.ADD && t <= T.ATAN2;
export const isAggregator = (t: number): boolean => t >= T.AVG && t <= T.LIMIT_RATIO;
const isKeyword = (t: number): boolean => t >= T.BOOL && t <= T.WITHOUT;

export interface Token {
  type: TokenType;
  /** UTF-16 offsets of the token text. */
  pos: number;
  end: number;
  /** The message of an ERROR token. */
  msg?: string;
}

/** Words the lexer turns into keyword tokens, matched case-insensitively. */
const KEYWORDS: ReadonlyMap<string, TokenType> = new Map<string, TokenType>([
  ['and', T.LAND],
  ['or', T.LOR],
  ['unless', T.LUNLESS],
  ['atan2', T.ATAN2],
  ['sum', T.SUM],
  ['avg', T.AVG],
  ['count', T.COUNT],
  ['min', T.MIN],
  ['max', T.MAX],
  ['group', T.GROUP],
  ['stddev', T.STDDEV],
  ['stdvar', T.STDVAR],
  ['topk', T.TOPK],
  ['bottomk', T.BOTTOMK],
  ['count_values', T.COUNT_VALUES],
  ['quantile', T.QUANTILE],
  ['limitk', T.LIMITK],
  ['limit_ratio', T.LIMIT_RATIO],
  ['offset', T.OFFSET],
  ['smoothed', T.SMOOTHED],
  ['anchored', T.ANCHORED],
  ['by', T.BY],
  ['without', T.WITHOUT],
  ['on', T.ON],
  ['ignoring', T.IGNORING],
  ['group_left', T.GROUP_LEFT],
  ['group_right', T.GROUP_RIGHT],
  ['fill', T.FILL],
  ['fill_left', T.FILL_LEFT],
  ['fill_right', T.FILL_RIGHT],
  ['bool', T.BOOL],
  ['start', T.START],
  ['end', T.END],
  ['step', T.STEP],
  ['range', T.RANGE],
  ['max_of', T.MAX_OF],
  ['min_of', T.MIN_OF],
  ['inf', T.NUMBER],
  ['nan', T.NUMBER],
]);

/** The canonical spelling of every token type that has one (Prometheus's ItemTypeStr). */
const TYPE_STR = new Map<number, string>([
  [T.LEFT_PAREN, '('],
  [T.RIGHT_PAREN, ')'],
  [T.LEFT_BRACE, '{'],
  [T.RIGHT_BRACE, '}'],
  [T.LEFT_BRACKET, '['],
  [T.RIGHT_BRACKET, ']'],
  [T.COMMA, ','],
  [T.EQL, '='],
  [T.COLON, ':'],
  [T.SUB, '-'],
  [T.ADD, '+'],
  [T.MUL, '*'],
  [T.MOD, '%'],
  [T.DIV, '/'],
  [T.EQLC, '=='],
  [T.NEQ, '!='],
  [T.LTE, '<='],
  [T.LSS, '<'],
  [T.GTE, '>='],
  [T.GTR, '>'],
  [T.TRIM_UPPER, '</'],
  [T.TRIM_LOWER, '>/'],
  [T.EQL_REGEX, '=~'],
  [T.NEQ_REGEX, '!~'],
  [T.POW, '^'],
  [T.AT, '@'],
]);
for (const [word, type] of KEYWORDS) if (type !== T.NUMBER) TYPE_STR.set(type, word);

/** Canonical lower-case text of an operator, aggregator or keyword token type. */
export function tokenTypeString(type: number): string {
  return TYPE_STR.get(type) ?? `<Item ${type}>`;
}

/** How tokens without a fixed spelling are named in messages. */
const TOKEN_KINDS = new Map<number, string>([
  [T.ERROR, 'error'],
  [T.COMMENT, 'comment'],
  [T.IDENTIFIER, 'identifier'],
  [T.METRIC_IDENTIFIER, 'metric identifier'],
  [T.STRING, 'string'],
  [T.NUMBER, 'number'],
  [T.DURATION, 'duration'],
]);

/** Describes a token as Prometheus does in "unexpected ..." messages. */
export function describeToken(tok: Token, input: string): string {
  if (tok.type === T.EOF) return 'end of input';
  const val = input.slice(tok.pos, tok.end);
  if (TYPE_STR.has(tok.type)) return tokenString(tok, val);
  const kind = TOKEN_KINDS.get(tok.type) ?? 'token';
  return `${kind} ${tokenString(tok, val)}`;
}

function tokenString(tok: Token, val: string): string {
  const t = tok.type;
  if (t === T.ERROR) return tok.msg ?? '';
  if (t === T.IDENTIFIER || t === T.METRIC_IDENTIFIER) return goQuote(val);
  if (isKeyword(t)) return `<${val}>`;
  if (isOperator(t)) return `<op:${val}>`;
  if (isAggregator(t)) return `<aggr:${val}>`;
  // Long values are cut to ten characters, as Go's %.10q does.
  return val.length > 10 && Array.from(val).length > 10 ? `${goQuoteTruncated(val, 10)}...` : goQuote(val);
}

const EOF_RUNE = -1;

const enum Mode {
  Statements,
  InsideBraces,
  DurationExpr,
  Done,
}

function isSpace(r: number): boolean {
  return r === 0x20 || r === 0x09 || r === 0x0a || r === 0x0d;
}

function isDigit(r: number): boolean {
  return r >= 0x30 && r <= 0x39;
}

function isAlpha(r: number): boolean {
  return r === 0x5f || (r >= 0x61 && r <= 0x7a) || (r >= 0x41 && r <= 0x5a);
}

function isAlphaNumeric(r: number): boolean {
  return isAlpha(r) || isDigit(r);
}

/** First letters of the keywords allowed inside a range's brackets (step, range, max_of, min_of). */
function isDurationKeywordStart(r: number): boolean {
  const l = r | 0x20;
  return r < 0x80 && (l === 0x73 || l === 0x72 || l === 0x6d);
}

const DURATION_KEYWORDS: ReadonlyMap<string, TokenType> = new Map<string, TokenType>([
  ['step', T.STEP],
  ['range', T.RANGE],
  ['max_of', T.MAX_OF],
  ['min_of', T.MIN_OF],
]);

const DIGITS = '0123456789';
const HEX_DIGITS = '0123456789abcdefABCDEF';

/** Streams the tokens of one query. Comments are returned as COMMENT tokens. */
export class Lexer {
  readonly input: string;
  private pos = 0;
  private start = 0;
  /** Width in UTF-16 units of the last character read, for backup(). */
  private width = 0;
  private mode: Mode = Mode.Statements;
  private parenDepth = 0;
  private braceOpen = false;
  private bracketOpen = false;
  private gotColon = false;
  private gotDuration = false;
  private stringOpen = 0;

  constructor(input: string) {
    this.input = input;
  }

  /** The next token; after EOF or an ERROR token, EOF forever. */
  next(): Token {
    for (;;) {
      let tok: Token | null;
      switch (this.mode) {
        case Mode.Statements:
          tok = this.lexStatements();
          break;
        case Mode.InsideBraces:
          tok = this.lexInsideBraces();
          break;
        case Mode.DurationExpr:
          tok = this.lexDurationExpr();
          break;
        case Mode.Done:
          return { type: T.EOF, pos: this.pos, end: this.pos };
      }
      if (tok !== null) return tok;
    }
  }

  private nextRune(): number {
    if (this.pos >= this.input.length) {
      this.width = 0;
      return EOF_RUNE;
    }
    const c = this.input.codePointAt(this.pos)!;
    this.width = c > 0xffff ? 2 : 1;
    this.pos += this.width;
    return c;
  }

  private peek(): number {
    const r = this.nextRune();
    this.backup();
    return r;
  }

  private backup(): void {
    this.pos -= this.width;
  }

  private accept(valid: string): boolean {
    const r = this.nextRune();
    if (r >= 0 && r < 0x80 && valid.includes(String.fromCharCode(r))) return true;
    this.backup();
    return false;
  }

  private is(valid: string): boolean {
    const r = this.peek();
    return r >= 0 && r < 0x80 && valid.includes(String.fromCharCode(r));
  }

  private acceptRun(valid: string): void {
    while (this.accept(valid)) {
      // Consume.
    }
  }

  private emit(type: TokenType): Token {
    const tok: Token = { type, pos: this.start, end: this.pos };
    this.start = this.pos;
    return tok;
  }

  private ignore(): void {
    this.start = this.pos;
  }

  private error(msg: string): Token {
    this.mode = Mode.Done;
    return { type: T.ERROR, pos: this.start, end: this.input.length, msg };
  }

  private skipSpaces(): void {
    while (isSpace(this.peek())) this.nextRune();
    this.ignore();
  }

  private lexStatements(): Token | null {
    if (this.braceOpen) {
      this.mode = Mode.InsideBraces;
      return null;
    }
    if (this.input.charCodeAt(this.pos) === 0x23) return this.lexLineComment();

    const r = this.nextRune();
    switch (r) {
      case EOF_RUNE:
        if (this.parenDepth !== 0) return this.error('unclosed left parenthesis');
        if (this.bracketOpen) return this.error('unclosed left bracket');
        this.mode = Mode.Done;
        return this.emit(T.EOF);
      case 0x2c:
        return this.emit(T.COMMA);
      case 0x2a:
        return this.emit(T.MUL);
      case 0x2f:
        return this.emit(T.DIV);
      case 0x25:
        return this.emit(T.MOD);
      case 0x2b:
        return this.emit(T.ADD);
      case 0x2d:
        return this.emit(T.SUB);
      case 0x5e:
        return this.emit(T.POW);
      case 0x3d: {
        // =
        const t = this.peek();
        if (t === 0x3d) {
          this.nextRune();
          return this.emit(T.EQLC);
        }
        if (t === 0x7e) return this.error(`unexpected character after '=': ${goQuoteRune(t)}`);
        return this.emit(T.EQL);
      }
      case 0x21: {
        // !
        const t = this.nextRune();
        if (t !== 0x3d) return this.error(`unexpected character after '!': ${goQuoteRune(t)}`);
        return this.emit(T.NEQ);
      }
      case 0x3c: {
        // <
        const t = this.peek();
        if (t === 0x3d) {
          this.nextRune();
          return this.emit(T.LTE);
        }
        if (t === 0x2f) {
          this.nextRune();
          return this.emit(T.TRIM_UPPER);
        }
        return this.emit(T.LSS);
      }
      case 0x3e: {
        // >
        const t = this.peek();
        if (t === 0x3d) {
          this.nextRune();
          return this.emit(T.GTE);
        }
        if (t === 0x2f) {
          this.nextRune();
          return this.emit(T.TRIM_LOWER);
        }
        return this.emit(T.GTR);
      }
      case 0x22:
      case 0x27:
        this.stringOpen = r;
        return this.lexString();
      case 0x60:
        this.stringOpen = r;
        return this.lexRawString();
      case 0x28:
        this.parenDepth++;
        return this.emit(T.LEFT_PAREN);
      case 0x29: {
        const tok = this.emit(T.RIGHT_PAREN);
        this.parenDepth--;
        if (this.parenDepth < 0) return this.error(`unexpected right parenthesis ${goQuoteRune(r)}`);
        return tok;
      }
      case 0x7b: {
        const tok = this.emit(T.LEFT_BRACE);
        this.braceOpen = true;
        this.mode = Mode.InsideBraces;
        return tok;
      }
      case 0x5b: {
        if (this.bracketOpen) return this.error(`unexpected left bracket ${goQuoteRune(r)}`);
        this.gotColon = false;
        const tok = this.emit(T.LEFT_BRACKET);
        if (isSpace(this.peek())) this.skipSpaces();
        this.bracketOpen = true;
        this.mode = Mode.DurationExpr;
        return tok;
      }
      case 0x5d:
        if (!this.bracketOpen) return this.error(`unexpected right bracket ${goQuoteRune(r)}`);
        this.bracketOpen = false;
        return this.emit(T.RIGHT_BRACKET);
      case 0x40:
        return this.emit(T.AT);
    }
    if (isSpace(r)) {
      this.skipSpaces();
      return null;
    }
    if (isDigit(r) || (r === 0x2e && isDigit(this.peek()))) {
      this.backup();
      return this.lexNumberOrDuration();
    }
    if (isAlpha(r) || r === 0x3a) {
      if (!this.bracketOpen) {
        this.backup();
        return this.lexKeywordOrIdentifier();
      }
      if (r === 0x3a) {
        if (this.gotColon) return this.error(`unexpected colon ${goQuoteRune(r)}`);
        this.gotColon = true;
        return this.emit(T.COLON);
      }
      if (isDurationKeywordStart(r)) {
        const tok = this.scanDurationKeyword();
        if (tok !== null) return tok;
      }
      return this.error(`unexpected character: ${goQuoteRune(r)}, expected ':'`);
    }
    return this.error(`unexpected character: ${goQuoteRune(r)}`);
  }

  private lexInsideBraces(): Token | null {
    if (this.input.charCodeAt(this.pos) === 0x23) return this.lexLineComment();
    const r = this.nextRune();
    if (r === EOF_RUNE) return this.error('unexpected end of input inside braces');
    if (isSpace(r)) {
      this.skipSpaces();
      return null;
    }
    if (isAlpha(r)) {
      while (isAlphaNumeric(this.nextRune())) {
        // Absorb.
      }
      this.backup();
      return this.emit(T.IDENTIFIER);
    }
    switch (r) {
      case 0x2c:
        return this.emit(T.COMMA);
      case 0x22:
      case 0x27:
        this.stringOpen = r;
        return this.lexString();
      case 0x60:
        this.stringOpen = r;
        return this.lexRawString();
      case 0x3d:
        if (this.nextRune() === 0x7e) return this.emit(T.EQL_REGEX);
        this.backup();
        return this.emit(T.EQL);
      case 0x21: {
        const nr = this.nextRune();
        if (nr === 0x7e) return this.emit(T.NEQ_REGEX);
        if (nr === 0x3d) return this.emit(T.NEQ);
        return this.error(`unexpected character after '!' inside braces: ${goQuoteRune(nr)}`);
      }
      case 0x7b:
        return this.error(`unexpected left brace ${goQuoteRune(r)}`);
      case 0x7d:
        this.braceOpen = false;
        this.mode = Mode.Statements;
        return this.emit(T.RIGHT_BRACE);
    }
    return this.error(`unexpected character inside braces: ${goQuoteRune(r)}`);
  }

  /** The state right after `[` and after operators inside a range; numbers switch back to Statements. */
  private lexDurationExpr(): Token | null {
    const r = this.nextRune();
    switch (r) {
      case EOF_RUNE:
        return this.error('unexpected end of input in duration expression');
      case 0x5d:
        this.bracketOpen = false;
        this.gotColon = false;
        this.mode = Mode.Statements;
        return this.emit(T.RIGHT_BRACKET);
      case 0x3a: {
        const tok = this.emit(T.COLON);
        if (!this.gotDuration) return this.error('unexpected colon before duration in duration expression');
        if (this.gotColon) return this.error('unexpected repeated colon in duration expression');
        this.gotColon = true;
        return tok;
      }
      case 0x28:
        this.parenDepth++;
        return this.emit(T.LEFT_PAREN);
      case 0x29: {
        const tok = this.emit(T.RIGHT_PAREN);
        this.parenDepth--;
        if (this.parenDepth < 0) return this.error(`unexpected right parenthesis ${goQuoteRune(r)}`);
        return tok;
      }
      case 0x2b:
        return this.emit(T.ADD);
      case 0x2d:
        return this.emit(T.SUB);
      case 0x2a:
        return this.emit(T.MUL);
      case 0x2f:
        return this.emit(T.DIV);
      case 0x25:
        return this.emit(T.MOD);
      case 0x5e:
        return this.emit(T.POW);
      case 0x2c:
        return this.emit(T.COMMA);
    }
    if (isSpace(r)) {
      this.skipSpaces();
      return null;
    }
    if (isDurationKeywordStart(r)) {
      const tok = this.scanDurationKeyword();
      if (tok !== null) return tok;
      return this.error(`unexpected character in duration expression: ${goQuoteRune(r)}`);
    }
    if (isDigit(r) || (r === 0x2e && isDigit(this.peek()))) {
      this.backup();
      this.gotDuration = true;
      this.mode = Mode.Statements;
      return this.lexNumberOrDuration();
    }
    return this.error(`unexpected character in duration expression: ${goQuoteRune(r)}`);
  }

  private scanDurationKeyword(): Token | null {
    while (isAlpha(this.nextRune())) {
      // Absorb.
    }
    this.backup();
    const type = DURATION_KEYWORDS.get(this.input.slice(this.start, this.pos).toLowerCase());
    return type === undefined ? null : this.emit(type);
  }

  private lexLineComment(): Token {
    this.pos++;
    let r = this.nextRune();
    while (r !== 0x0a && r !== 0x0d && r !== EOF_RUNE) r = this.nextRune();
    this.backup();
    return this.emit(T.COMMENT);
  }

  private lexString(): Token {
    for (;;) {
      const r = this.nextRune();
      if (r === 0x5c) {
        const err = this.lexEscape();
        if (err !== null) return err;
        continue;
      }
      if (r === 0xfffd || (r >= 0xd800 && r <= 0xdfff)) return this.error('invalid UTF-8 rune');
      if (r === EOF_RUNE || r === 0x0a) return this.error('unterminated quoted string');
      if (r === this.stringOpen) break;
    }
    return this.emit(T.STRING);
  }

  private lexRawString(): Token {
    for (;;) {
      const r = this.nextRune();
      if (r === 0xfffd || (r >= 0xd800 && r <= 0xdfff)) return this.error('invalid UTF-8 rune');
      if (r === EOF_RUNE) return this.error('unterminated raw string');
      if (r === this.stringOpen) break;
    }
    return this.emit(T.STRING);
  }

  /** Checks one escape sequence after a backslash; returns an ERROR token when it is malformed. */
  private lexEscape(): Token | null {
    let ch = this.nextRune();
    let n: number;
    let base: number;
    let max: number;
    switch (ch) {
      case 0x61:
      case 0x62:
      case 0x66:
      case 0x6e:
      case 0x72:
      case 0x74:
      case 0x76:
      case 0x5c:
        return null;
      case 0x78: // x
        ch = this.nextRune();
        n = 2;
        base = 16;
        max = 255;
        break;
      case 0x75: // u
        ch = this.nextRune();
        n = 4;
        base = 16;
        max = 0x10ffff;
        break;
      case 0x55: // U
        ch = this.nextRune();
        n = 8;
        base = 16;
        max = 0x10ffff;
        break;
      case EOF_RUNE:
        return this.error('escape sequence not terminated');
      default:
        if (ch === this.stringOpen) return null;
        if (ch >= 0x30 && ch <= 0x37) {
          n = 3;
          base = 8;
          max = 255;
          break;
        }
        return this.error(`unknown escape sequence ${goUnicodeVerbose(ch)}`);
    }
    let x = 0;
    while (n > 0) {
      const d = digitVal(ch);
      if (d >= base) {
        if (ch === EOF_RUNE) return this.error('escape sequence not terminated');
        return this.error(`illegal character ${goUnicodeVerbose(ch)} in escape sequence`);
      }
      x = x * base + d;
      n--;
      if (n > 0) ch = this.nextRune();
    }
    if (x > max || (x >= 0xd800 && x < 0xe000)) return this.error('escape sequence is an invalid Unicode code point');
    return null;
  }

  private lexNumberOrDuration(): Token {
    if (this.scanNumber()) return this.emit(T.NUMBER);
    if (this.acceptRemainingDuration()) {
      this.backup();
      return this.emit(T.DURATION);
    }
    return this.error(`bad number or duration syntax: ${goQuote(this.input.slice(this.start, this.pos))}`);
  }

  /** After a number: a unit, then optionally more number-unit pairs, then a non-alphanumeric. */
  private acceptRemainingDuration(): boolean {
    if (!this.accept('smhdwy')) return false;
    // `ms`; impossible units such as `hs` are reported when the duration is parsed.
    this.accept('s');
    while (this.accept(DIGITS)) {
      while (this.accept(DIGITS)) {
        // Consume.
      }
      // Years can only come first.
      if (!this.accept('smhdw')) return false;
      this.accept('s');
    }
    return !isAlphaNumeric(this.nextRune());
  }

  /** Scans decimal, hexadecimal and float forms; the text is validated again when it is converted. */
  private scanNumber(): boolean {
    const initial = this.pos;
    let digits = DIGITS;
    if (this.accept('0') && this.accept('xX')) {
      this.accept('_');
      digits = HEX_DIGITS;
    }
    this.accept('.');
    this.accept(digits);
    let dotSeen = false;
    let expSeen = false;
    const all = digits + '._eE';
    while (this.is(all)) {
      if (this.is('.') && dotSeen) {
        this.accept('.');
        return false;
      }
      if (this.is('eE') && expSeen) {
        this.accept('eE');
        return false;
      }
      if (this.accept('.')) {
        dotSeen = true;
        if (this.accept('_.')) return false;
        // Hexadecimal numbers have no fractional part.
        if (digits === HEX_DIGITS) return false;
        continue;
      }
      if (this.accept('eE')) {
        expSeen = true;
        this.accept('+-');
        if (this.accept('._eE') || this.peek() === EOF_RUNE) return false;
        continue;
      }
      if (this.accept('_')) {
        if (this.accept('._eE') || this.peek() === EOF_RUNE) return false;
        continue;
      }
      this.acceptRun(digits);
    }
    if (this.pos === initial) return false;
    return !isAlphaNumeric(this.peek());
  }

  private lexKeywordOrIdentifier(): Token {
    let hasColon = false;
    for (;;) {
      const r = this.nextRune();
      if (isAlphaNumeric(r)) continue;
      if (r === 0x3a) {
        hasColon = true;
        continue;
      }
      break;
    }
    this.backup();
    const word = this.input.slice(this.start, this.pos);
    const kw = KEYWORDS.get(word.toLowerCase());
    if (kw !== undefined) {
      // fill, fill_left and fill_right are keywords only before `(`, so they stay usable as metric names.
      if ((kw === T.FILL || kw === T.FILL_LEFT || kw === T.FILL_RIGHT) && !this.followedByLeftParen()) {
        return this.emit(T.IDENTIFIER);
      }
      return this.emit(kw);
    }
    return this.emit(hasColon ? T.METRIC_IDENTIFIER : T.IDENTIFIER);
  }

  private followedByLeftParen(): boolean {
    for (let p = this.pos; p < this.input.length; p++) {
      const c = this.input.charCodeAt(p);
      if (!isSpace(c)) return c === 0x28;
    }
    return false;
  }
}

function digitVal(ch: number): number {
  if (ch >= 0x30 && ch <= 0x39) return ch - 0x30;
  if (ch >= 0x61 && ch <= 0x66) return ch - 0x61 + 10;
  if (ch >= 0x41 && ch <= 0x46) return ch - 0x41 + 10;
  return 16;
}

