// Part of template (see template.ts): Go text/template's lexer. Token
// positions are UTF-16 offsets; error messages convert them to the byte
// columns Go prints.
import { goQuote, goUnicodeVerbose } from '../gofmt/quote.js';

export enum Tok {
  Error,
  Bool,
  Char,
  CharConstant,
  Comment,
  Complex,
  Assign,
  Declare,
  EOF,
  Field,
  Identifier,
  LeftDelim,
  LeftParen,
  Number,
  Pipe,
  RawString,
  RightDelim,
  RightParen,
  Space,
  String,
  Text,
  Variable,
  // Keywords follow; `Keyword` only separates them from the rest.
  Keyword,
  Block,
  Break,
  Continue,
  Dot,
  Define,
  Else,
  End,
  If,
  Nil,
  Range,
  Template,
  With,
}

const KEYWORDS: ReadonlyMap<string, Tok> = new Map([
  ['.', Tok.Dot],
  ['block', Tok.Block],
  ['break', Tok.Break],
  ['continue', Tok.Continue],
  ['define', Tok.Define],
  ['else', Tok.Else],
  ['end', Tok.End],
  ['if', Tok.If],
  ['range', Tok.Range],
  ['nil', Tok.Nil],
  ['template', Tok.Template],
  ['with', Tok.With],
]);

export interface Token {
  readonly typ: Tok;
  /** Offset in UTF-16 units into the text. */
  readonly pos: number;
  readonly val: string;
  readonly line: number;
}

const LEFT_DELIM = '{{';
const RIGHT_DELIM = '}}';
const LEFT_COMMENT = '/*';
const RIGHT_COMMENT = '*/';

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

const ALNUM = /^[\p{L}\p{Nd}_]$/u;

function isAlphaNumeric(c: string | undefined): boolean {
  if (c === undefined) return false;
  const x = c.charCodeAt(0);
  if (x < 0x80) return c === '_' || (x >= 0x30 && x <= 0x39) || ((x | 0x20) >= 0x61 && (x | 0x20) <= 0x7a);
  return ALNUM.test(c);
}

function isAsciiPrint(c: string): boolean {
  const x = c.charCodeAt(0);
  return c.length === 1 && x >= 0x20 && x < 0x7f;
}

function hasLeftTrimMarker(s: string, at: number): boolean {
  return s[at] === '-' && isSpace(s[at + 1]);
}

function hasRightTrimMarker(s: string, at: number): boolean {
  return isSpace(s[at]) && s[at + 1] === '-';
}

/**
 * A pull lexer over one template text, as Go's: the parser asks for one token
 * at a time; an error token ends the stream.
 */
export class Lexer {
  private pos = 0;
  private start = 0;
  private line = 1;
  private startLine = 1;
  private insideAction = false;
  private parenDepth = 0;
  private item: Token | null = null;
  private done = false;

  constructor(
    private input: string,
    readonly breakOK: boolean,
    readonly continueOK: boolean,
  ) {}

  nextItem(): Token {
    if (this.done) return { typ: Tok.EOF, pos: this.pos, val: 'EOF', line: this.startLine };
    this.item = null;
    if (this.insideAction) this.lexInsideAction();
    else this.lexText();
    const it = this.item ?? { typ: Tok.EOF, pos: this.pos, val: 'EOF', line: this.startLine };
    if (it.typ === Tok.Error || it.typ === Tok.EOF) this.done = true;
    return it;
  }

  private next(): string | undefined {
    if (this.pos >= this.input.length) {
      this.pos = this.input.length + 1; // Marks EOF: backup() then stays put.
      return undefined;
    }
    const cp = this.input.codePointAt(this.pos)!;
    const c = String.fromCodePoint(cp);
    this.pos += c.length;
    if (c === '\n') this.line++;
    return c;
  }

  private backup(): void {
    if (this.pos > this.input.length) {
      this.pos = this.input.length;
      return;
    }
    if (this.pos <= 0) return;
    let w = 1;
    const lo = this.input.charCodeAt(this.pos - 1);
    if (lo >= 0xdc00 && lo <= 0xdfff && this.pos >= 2) {
      const hi = this.input.charCodeAt(this.pos - 2);
      if (hi >= 0xd800 && hi <= 0xdbff) w = 2;
    }
    this.pos -= w;
    if (this.input[this.pos] === '\n') this.line--;
  }

  private peek(): string | undefined {
    const c = this.next();
    this.backup();
    return c;
  }

  private thisItem(typ: Tok): Token {
    const t = { typ, pos: this.start, val: this.input.slice(this.start, this.pos), line: this.startLine };
    this.start = this.pos;
    this.startLine = this.line;
    return t;
  }

  private emit(typ: Tok): void {
    this.item = this.thisItem(typ);
  }

  private ignore(): void {
    this.line += countNewlines(this.input, this.start, this.pos);
    this.start = this.pos;
    this.startLine = this.line;
  }

  private accept(valid: string): boolean {
    const c = this.next();
    if (c !== undefined && valid.includes(c)) return true;
    this.backup();
    return false;
  }

  private acceptRun(valid: string): void {
    for (;;) {
      const c = this.next();
      if (c === undefined || !valid.includes(c)) break;
    }
    this.backup();
  }

  private errorf(msg: string): void {
    this.item = { typ: Tok.Error, pos: this.start, val: msg, line: this.startLine };
    this.input = '';
    this.pos = 0;
    this.start = 0;
  }

  private lexText(): void {
    const x = this.input.indexOf(LEFT_DELIM, this.pos);
    if (x >= 0) {
      if (x > this.pos) {
        this.pos = x;
        let trim = 0;
        if (hasLeftTrimMarker(this.input, x + LEFT_DELIM.length)) trim = rightTrimLength(this.input, this.start, x);
        this.pos -= trim;
        this.line += countNewlines(this.input, this.start, this.pos);
        const it = this.thisItem(Tok.Text);
        this.pos += trim;
        this.ignore();
        if (it.val.length > 0) {
          this.item = it;
          return;
        }
      }
      this.lexLeftDelim();
      return;
    }
    this.pos = this.input.length;
    if (this.pos > this.start) {
      this.line += countNewlines(this.input, this.start, this.pos);
      this.emit(Tok.Text);
      return;
    }
    this.emit(Tok.EOF);
  }

  private atRightDelim(): { delim: boolean; trim: boolean } {
    if (hasRightTrimMarker(this.input, this.pos) && this.input.startsWith(RIGHT_DELIM, this.pos + 2)) return { delim: true, trim: true };
    if (this.input.startsWith(RIGHT_DELIM, this.pos)) return { delim: true, trim: false };
    return { delim: false, trim: false };
  }

  private lexLeftDelim(): void {
    this.pos += LEFT_DELIM.length;
    const trim = hasLeftTrimMarker(this.input, this.pos);
    const after = trim ? 2 : 0;
    if (this.input.startsWith(LEFT_COMMENT, this.pos + after)) {
      this.pos += after;
      this.ignore();
      this.lexComment();
      return;
    }
    const it = this.thisItem(Tok.LeftDelim);
    this.insideAction = true;
    this.pos += after;
    this.ignore();
    this.parenDepth = 0;
    this.item = it;
  }

  private lexComment(): void {
    this.pos += LEFT_COMMENT.length;
    const x = this.input.indexOf(RIGHT_COMMENT, this.pos);
    if (x < 0) return this.errorf('unclosed comment');
    this.pos = x + RIGHT_COMMENT.length;
    const { delim, trim } = this.atRightDelim();
    if (!delim) return this.errorf('comment ends before closing delimiter');
    this.line += countNewlines(this.input, this.start, this.pos);
    this.thisItem(Tok.Comment);
    if (trim) this.pos += 2;
    this.pos += RIGHT_DELIM.length;
    if (trim) this.pos += leftTrimLength(this.input, this.pos);
    this.ignore();
    this.lexText();
  }

  private lexRightDelim(): void {
    const { trim } = this.atRightDelim();
    if (trim) {
      this.pos += 2;
      this.ignore();
    }
    this.pos += RIGHT_DELIM.length;
    const it = this.thisItem(Tok.RightDelim);
    if (trim) {
      this.pos += leftTrimLength(this.input, this.pos);
      this.ignore();
    }
    this.insideAction = false;
    this.item = it;
  }

  private lexInsideAction(): void {
    if (this.atRightDelim().delim) {
      if (this.parenDepth === 0) return this.lexRightDelim();
      return this.errorf('unclosed left paren');
    }
    const r = this.next();
    if (r === undefined) return this.errorf('unclosed action');
    if (isSpace(r)) {
      this.backup();
      return this.lexSpace();
    }
    switch (r) {
      case '=':
        return this.emit(Tok.Assign);
      case ':':
        if (this.next() !== '=') return this.errorf('expected :=');
        return this.emit(Tok.Declare);
      case '|':
        return this.emit(Tok.Pipe);
      case '"':
        return this.lexQuote();
      case '`':
        return this.lexRawQuote();
      case '$':
        return this.lexVariable();
      case "'":
        return this.lexChar();
      case '(':
        this.parenDepth++;
        return this.emit(Tok.LeftParen);
      case ')':
        this.parenDepth--;
        if (this.parenDepth < 0) return this.errorf('unexpected right paren');
        return this.emit(Tok.RightParen);
    }
    if (r === '.') {
      const c = this.input.charCodeAt(this.pos);
      if (this.pos < this.input.length && (c < 0x30 || c > 0x39)) return this.lexFieldOrVariable(Tok.Field);
    }
    if (r === '.' || r === '+' || r === '-' || (r >= '0' && r <= '9')) {
      this.backup();
      return this.lexNumber();
    }
    if (isAlphaNumeric(r)) {
      this.backup();
      return this.lexIdentifier();
    }
    if (isAsciiPrint(r)) return this.emit(Tok.Char);
    return this.errorf(`unrecognized character in action: ${goUnicodeVerbose(r.codePointAt(0)!)}`);
  }

  private lexSpace(): void {
    let n = 0;
    while (isSpace(this.peek())) {
      this.next();
      n++;
    }
    // A trim-marked right delimiter starts with a space: leave that space to it.
    if (hasRightTrimMarker(this.input, this.pos - 1) && this.input.startsWith(RIGHT_DELIM, this.pos + 1)) {
      this.backup();
      if (n === 1) return this.lexRightDelim();
    }
    this.emit(Tok.Space);
  }

  private lexIdentifier(): void {
    for (;;) {
      const r = this.next();
      if (isAlphaNumeric(r)) continue;
      this.backup();
      const word = this.input.slice(this.start, this.pos);
      if (!this.atTerminator()) return this.errorf(`bad character ${goUnicodeVerbose(r === undefined ? -1 : r.codePointAt(0)!)}`);
      const key = KEYWORDS.get(word);
      if (key !== undefined && key > Tok.Keyword) {
        if ((key === Tok.Break && !this.breakOK) || (key === Tok.Continue && !this.continueOK)) return this.emit(Tok.Identifier);
        return this.emit(key);
      }
      if (word[0] === '.') return this.emit(Tok.Field);
      if (word === 'true' || word === 'false') return this.emit(Tok.Bool);
      return this.emit(Tok.Identifier);
    }
  }

  private lexVariable(): void {
    if (this.atTerminator()) return this.emit(Tok.Variable);
    this.lexFieldOrVariable(Tok.Variable);
  }

  private lexFieldOrVariable(typ: Tok): void {
    if (this.atTerminator()) return this.emit(typ === Tok.Variable ? Tok.Variable : Tok.Dot);
    let r: string | undefined;
    for (;;) {
      r = this.next();
      if (!isAlphaNumeric(r)) {
        this.backup();
        break;
      }
    }
    if (!this.atTerminator()) return this.errorf(`bad character ${goUnicodeVerbose(r === undefined ? -1 : r.codePointAt(0)!)}`);
    this.emit(typ);
  }

  private atTerminator(): boolean {
    const r = this.peek();
    if (r === undefined || isSpace(r)) return true;
    switch (r) {
      case '.':
      case ',':
      case '|':
      case ':':
      case ')':
      case '(':
        return true;
    }
    return this.input.startsWith(RIGHT_DELIM, this.pos);
  }

  private lexChar(): void {
    for (;;) {
      const c = this.next();
      if (c === '\\') {
        const r = this.next();
        if (r !== undefined && r !== '\n') continue;
        return this.errorf('unterminated character constant');
      }
      if (c === undefined || c === '\n') return this.errorf('unterminated character constant');
      if (c === "'") break;
    }
    this.emit(Tok.CharConstant);
  }

  private lexNumber(): void {
    if (!this.scanNumber()) return this.errorf(`bad number syntax: ${goQuote(this.input.slice(this.start, this.pos))}`);
    const sign = this.peek();
    if (sign === '+' || sign === '-') {
      if (!this.scanNumber() || this.input[this.pos - 1] !== 'i') {
        return this.errorf(`bad number syntax: ${goQuote(this.input.slice(this.start, this.pos))}`);
      }
      return this.emit(Tok.Complex);
    }
    this.emit(Tok.Number);
  }

  private scanNumber(): boolean {
    this.accept('+-');
    let digits = '0123456789_';
    if (this.accept('0')) {
      if (this.accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (this.accept('oO')) digits = '01234567_';
      else if (this.accept('bB')) digits = '01_';
    }
    this.acceptRun(digits);
    if (this.accept('.')) this.acceptRun(digits);
    if (digits.length === 11 && this.accept('eE')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    if (digits.length === 23 && this.accept('pP')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    this.accept('i');
    if (isAlphaNumeric(this.peek())) {
      this.next();
      return false;
    }
    return true;
  }

  private lexQuote(): void {
    for (;;) {
      const c = this.next();
      if (c === '\\') {
        const r = this.next();
        if (r !== undefined && r !== '\n') continue;
        return this.errorf('unterminated quoted string');
      }
      if (c === undefined || c === '\n') return this.errorf('unterminated quoted string');
      if (c === '"') break;
    }
    this.emit(Tok.String);
  }

  private lexRawQuote(): void {
    for (;;) {
      const c = this.next();
      if (c === undefined) return this.errorf('unterminated raw quoted string');
      if (c === '`') break;
    }
    this.emit(Tok.RawString);
  }
}

function countNewlines(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = s.indexOf('\n', from); i >= 0 && i < to; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

function rightTrimLength(s: string, from: number, to: number): number {
  let i = to;
  while (i > from && isSpace(s[i - 1])) i--;
  return to - i;
}

function leftTrimLength(s: string, from: number): number {
  let i = from;
  while (i < s.length && isSpace(s[i])) i++;
  return i - from;
}
