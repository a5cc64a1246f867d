// The Prometheus text format 0.0.4 parser, with a fast path for the common
// line shape and Prometheus's lexer for the rest (and for its error messages).
import { isUtf8 } from 'node:buffer';
import { Tok, TOKEN_NAMES, St, Ch, M_START, M_CONT, L_START, L_CONT, DIGIT, Flag, floatError, parseFloatBytes, latin1, utf8, quoteCtx, unescape } from './scan.js';
import { Entry, type MetricType, type TextParserOptions } from './interface.js';
import { BaseParser } from './base_parser.js';

const TYPE_WORDS_PROM: Record<string, MetricType> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  summary: 'summary',
  untyped: 'unknown',
};

/** Parser for the Prometheus text format 0.0.4. */
export class PromParser extends BaseParser {
  private readonly fast: boolean;
  protected readonly strictLabelSeparators = false;

  constructor(body: Buffer, opts: TextParserOptions = {}) {
    // The grammar needs a final newline; Prometheus appends one unconditionally, a
    // body that already ends in one is equivalent (a trailing blank line is allowed).
    // The final newline also guarantees every scanning loop below stops inside the buffer.
    super(body.length > 0 && body[body.length - 1] === Ch.NL ? body : Buffer.concat([body, Buffer.from('\n')]), opts);
    this.fast = opts.noFastPath !== true;
  }

  /**
   * Parses the common series line `name{label="value",...} value [timestamp]\n` in one
   * pass without the token machinery. Returns false (having changed nothing the general
   * path depends on) at the first unusual byte: quoted names, null bytes, odd spacing,
   * bad numbers, invalid UTF-8. The general lexer then parses the line, or fails with
   * Prometheus's exact error.
   */
  private fastSeries(): boolean {
    const b = this.b;
    const n = this.n;
    const start = this.i;
    let i = start;
    // The body ends in '\n' (see the constructor) and every scan below stops at a newline
    // (or checks i < n): each b[...] read is in range.
    let c = b[i]!;
    if (!M_START[c]) return false;
    do c = b[++i]!;
    while (M_CONT[c]);
    this.nOffs = 0;
    this.pushOff(start, i);
    this.setFlag(0, 0);
    if (c === Ch.LBRACE) {
      c = b[++i]!;
      for (;;) {
        if (c === Ch.RBRACE) break;
        if (!L_START[c]) return false;
        const ls = i;
        do c = b[++i]!;
        while (L_CONT[c]);
        const le = i;
        if (c !== Ch.EQUAL || b[i + 1] !== Ch.QUOTE) return false;
        i += 2;
        const vs = i;
        let f = Flag.QUOTED;
        for (;;) {
          if (i >= n) return false;
          c = b[i]!;
          if (c === Ch.QUOTE) break;
          if (c === Ch.BACKSLASH) {
            const d = b[i + 1]!;
            if (d === Ch.NL || d === 0) return false;
            f |= d >= 0x80 ? Flag.ESCAPE | Flag.HIGH : Flag.ESCAPE;
            i += 2;
            continue;
          }
          if (c === 0) return false;
          if (c >= 0x80) f |= Flag.HIGH;
          i++;
        }
        const ve = i;
        if ((f & Flag.HIGH) !== 0 && !isUtf8(b.subarray(vs - 1, ve + 1))) return false;
        const pair = this.nOffs >> 1;
        this.pushOff(ls, le);
        this.setFlag(pair, 0);
        this.pushOff(vs, ve);
        this.setFlag(pair + 1, f);
        c = b[++i]!;
        if (c === Ch.COMMA) c = b[++i]!;
        else if (c !== Ch.RBRACE) return false;
      }
      c = b[++i]!;
    }
    const seriesEnd = i;
    if (c !== Ch.SP && c !== Ch.TAB) return false;
    do c = b[++i]!;
    while (c === Ch.SP || c === Ch.TAB);
    const vs = i;
    while (c !== Ch.SP && c !== Ch.TAB && c !== Ch.NL && c !== 0 && c !== Ch.LBRACE) c = b[++i]!;
    if (i === vs || c === 0 || c === Ch.LBRACE) return false;
    const v = parseFloatBytes(b, vs, i);
    if (floatError !== null) return false;
    while (c === Ch.SP || c === Ch.TAB) c = b[++i]!;
    let hasTs = false;
    let ts = 0;
    if (DIGIT[c]) {
      const t0 = i;
      do {
        ts = ts * 10 + (c - 0x30);
        c = b[++i]!;
      } while (DIGIT[c]);
      // Longer numbers may overflow int64; the general path reports that as Prometheus does.
      if (i - t0 > 15) return false;
      hasTs = true;
      while (c === Ch.SP || c === Ch.TAB) c = b[++i]!;
    }
    if (c !== Ch.NL) return false;
    this.pstart = start;
    this.seriesEnd = seriesEnd;
    this.val = v;
    this.hasTs = hasTs;
    this.ts = ts;
    this.i = i + 1;
    return true;
  }

  helpText(): string {
    const s = utf8(this.b, this.textStart, this.textEnd);
    return unescape(s, false);
  }

  private ws(): number {
    let c: number;
    do c = this.adv();
    while (c === Ch.SP || c === Ch.TAB);
    return Tok.WHITESPACE;
  }

  private consumeComment(): number {
    for (let c = this.i < this.n ? this.b[this.i]! : 0; ; c = this.adv()) { // i < n = b.length
      if (c === 0) return Tok.EOF;
      if (c === Ch.NL) {
        this.state = St.INIT;
        return Tok.COMMENT;
      }
    }
  }

  private expectWord(word: string, tok: number): number {
    // Matches the rest of "HELP"/"TYPE" then [\t ]+; any mismatch makes it a plain comment.
    for (let k = 1; k < word.length; k++) {
      if (this.adv() !== word.charCodeAt(k)) return this.consumeComment();
    }
    let c = this.adv();
    if (c !== Ch.SP && c !== Ch.TAB) return this.consumeComment();
    do c = this.adv();
    while (c === Ch.SP || c === Ch.TAB);
    this.state = St.META1;
    return tok;
  }

  private lex(): number {
    if (this.i >= this.n) return Tok.EOF;
    const b = this.b;
    let c = b[this.i]!; // i < n = b.length
    this.start = this.i;
    for (;;) {
      switch (this.state) {
        case St.INIT:
          if (c === 0) {
            this.adv();
            return Tok.EOF;
          }
          if (c === Ch.NL) {
            this.adv();
            return Tok.LINEBREAK;
          }
          if (c === Ch.SP || c === Ch.TAB) return this.ws();
          if (c === Ch.HASH) {
            c = this.adv();
            if (c === Ch.SP || c === Ch.TAB) {
              do c = this.adv();
              while (c === Ch.SP || c === Ch.TAB);
              this.state = St.COMMENT;
              continue;
            }
            return this.consumeComment();
          }
          if (M_START[c]) {
            do c = this.adv();
            while (M_CONT[c]);
            this.state = St.VALUE;
            return Tok.MNAME;
          }
          if (c === Ch.LBRACE) {
            this.adv();
            this.state = St.LABELS;
            return Tok.BRACE_OPEN;
          }
          return Tok.INVALID;
        case St.COMMENT:
          if (c === 0x48) return this.expectWord('HELP', Tok.HELP);
          if (c === 0x54) return this.expectWord('TYPE', Tok.TYPE);
          if (c === Ch.SP || c === Ch.TAB) return this.ws();
          return this.consumeComment();
        case St.META1:
          if (c === Ch.QUOTE) {
            if (!this.quoted(true)) return Tok.INVALID;
            this.state = St.META2;
            return Tok.MNAME;
          }
          if (M_START[c]) {
            do c = this.adv();
            while (M_CONT[c]);
            this.state = St.META2;
            return Tok.MNAME;
          }
          if (c === Ch.SP || c === Ch.TAB) return this.ws();
          return Tok.INVALID;
        case St.META2:
          if (c === Ch.SP || c === Ch.TAB) {
            do c = this.adv();
            while (c === Ch.SP || c === Ch.TAB);
            if (c === 0 || c === Ch.NL) return Tok.WHITESPACE;
          }
          while (c !== 0 && c !== Ch.NL) c = this.adv();
          this.state = St.INIT;
          return Tok.TEXT;
        case St.LABELS:
          if (c === Ch.QUOTE) return this.quoted(true) ? Tok.QSTRING : Tok.INVALID;
          if (c === Ch.COMMA) {
            this.adv();
            return Tok.COMMA;
          }
          if (c === Ch.EQUAL) {
            this.adv();
            this.state = St.LVALUE;
            return Tok.EQUAL;
          }
          if (c === Ch.RBRACE) {
            this.adv();
            this.state = St.VALUE;
            return Tok.BRACE_CLOSE;
          }
          if (L_START[c]) {
            do c = this.adv();
            while (L_CONT[c]);
            return Tok.LNAME;
          }
          if (c === Ch.SP || c === Ch.TAB) return this.ws();
          return Tok.INVALID;
        case St.LVALUE:
          if (c === Ch.QUOTE) {
            if (!this.quoted(true)) return Tok.INVALID;
            this.state = St.LABELS;
            return Tok.LVALUE;
          }
          if (c === Ch.SP || c === Ch.TAB) return this.ws();
          return Tok.INVALID;
        case St.VALUE:
          if (c === Ch.SP || c === Ch.TAB) return this.ws();
          if (c === Ch.LBRACE) {
            this.adv();
            this.state = St.LABELS;
            return Tok.BRACE_OPEN;
          }
          if (c !== 0 && c !== Ch.NL) {
            do c = this.adv();
            while (c !== 0 && c !== Ch.NL && c !== Ch.SP && c !== Ch.TAB && c !== Ch.LBRACE);
            this.state = St.TIMESTAMP;
            return Tok.VALUE;
          }
          return Tok.INVALID;
        case St.TIMESTAMP:
          if (c === Ch.NL) {
            this.adv();
            this.state = St.INIT;
            return Tok.LINEBREAK;
          }
          if (c === Ch.SP || c === Ch.TAB) return this.ws();
          if (DIGIT[c]) {
            do c = this.adv();
            while (DIGIT[c]);
            return Tok.TIMESTAMP;
          }
          return Tok.INVALID;
        default:
          throw new Error(`BUG: prom lexer in state ${this.state}`);
      }
    }
  }

  private tok(): number {
    for (;;) {
      const t = this.lex();
      if (t !== Tok.WHITESPACE) return t;
    }
  }

  protected labelToken(): number {
    return this.tok();
  }

  next(): Entry {
    for (;;) {
      if (this.fast && this.state === St.INIT && this.i < this.n && this.fastSeries()) return Entry.Series;
      this.pstart = this.i;
      this.nOffs = 0;
      const t = this.tok();
      switch (t) {
        case Tok.EOF:
          return Entry.EOF;
        case Tok.LINEBREAK:
          continue;
        case Tok.HELP:
        case Tok.TYPE: {
          const t2 = this.tok();
          if (t2 !== Tok.MNAME) this.parseError(`expected metric name after ${TOKEN_NAMES[t]}`, t2);
          this.pushMetaName();
          const t3 = this.tok();
          if (t3 !== Tok.TEXT) this.fail(`expected text in ${TOKEN_NAMES[t]}, got ${TOKEN_NAMES[t3]}`);
          this.textStart = this.i - this.start > 1 ? this.start + 1 : this.start;
          this.textEnd = this.i - this.start > 1 ? this.i : this.start;
          if (t === Tok.TYPE) {
            const word = latin1(this.b, this.textStart, this.textEnd);
            const mt = Object.hasOwn(TYPE_WORDS_PROM, word) ? TYPE_WORDS_PROM[word] : undefined;
            if (mt === undefined) this.fail(`invalid metric type ${quoteCtx(this.b, this.textStart, this.textEnd)}`);
            this.mtype = mt;
          } else if (!isUtf8(this.b.subarray(this.textStart, this.textEnd))) {
            this.fail(`help text ${quoteCtx(this.b, this.textStart, this.textEnd)} is not a valid utf8 string`);
          }
          const t4 = this.tok();
          if (t4 !== Tok.LINEBREAK) this.parseError('linebreak expected after metadata', t4);
          return t === Tok.HELP ? Entry.Help : Entry.Type;
        }
        case Tok.COMMENT: {
          this.textStart = this.start;
          this.textEnd = this.i;
          const t2 = this.tok();
          if (t2 !== Tok.LINEBREAK) this.parseError('linebreak expected after comment', t2);
          return Entry.Comment;
        }
        case Tok.BRACE_OPEN:
          this.pushOff(-1, -1);
          this.setFlag(0, 0);
          this.parseLabels();
          this.seriesEnd = this.i;
          this.parseSuffix(this.tok());
          return Entry.Series;
        case Tok.MNAME: {
          this.pushOff(this.pstart, this.i);
          this.setFlag(0, 0);
          this.seriesEnd = this.i;
          let t2 = this.tok();
          if (t2 === Tok.BRACE_OPEN) {
            this.parseLabels();
            this.seriesEnd = this.i;
            t2 = this.tok();
          }
          this.parseSuffix(t2);
          return Entry.Series;
        }
        default:
          this.parseError('expected a valid start token', t);
      }
    }
  }

  private pushMetaName(): void {
    let s = this.start;
    let e = this.i;
    let f = 0;
    if (this.b[s] === Ch.QUOTE && this.b[e - 1] === Ch.QUOTE) {
      s++;
      e--;
      f = this.qFlags;
      this.checkNameUtf8(s, e, f);
    }
    this.pushOff(s, e);
    this.setFlag(0, f);
  }

  private parseSuffix(t: number): void {
    if (this.offs[0] === -1) this.fail(`metric name not set while parsing: ${this.entryText()}`);
    if (t !== Tok.VALUE) this.parseError('expected value after metric', t);
    this.val = this.setValue(this.start, this.i);
    this.hasTs = false;
    const t2 = this.tok();
    if (t2 === Tok.LINEBREAK) return;
    if (t2 !== Tok.TIMESTAMP) this.parseError('expected timestamp or new record', t2);
    this.ts = this.parseTimestamp(this.start, this.i);
    this.hasTs = true;
    const t3 = this.tok();
    if (t3 !== Tok.LINEBREAK) this.parseError('expected next entry after timestamp', t3);
  }

  /** Digits only (the lexer guarantees it); Go's ParseInt range check on int64. */
  private parseTimestamp(s: number, e: number): number {
    let v = 0;
    for (let i = s; i < e; i++) v = v * 10 + (this.b[i]! - 0x30); // a token: s <= i < e <= b.length
    if (e - s > 19 || (e - s === 19 && latin1(this.b, s, e) > '9223372036854775807')) {
      this.fail(`strconv.ParseInt: parsing ${quoteCtx(this.b, s, e)}: value out of range while parsing: ${this.entryText()}`);
    }
    return v;
  }
}
