// The OpenMetrics 1.0 text parser: exemplars, `# EOF`, units, `_created`
// series as start timestamps.
import { isUtf8 } from 'node:buffer';
import { goQuote } from '../../gofmt/quote.js';
import { Labels, type Label } from '../labels.js';
import { T_INVALID, T_EOF, T_LINEBREAK, T_HELP, T_TYPE, T_UNIT, T_EOFWORD, T_TEXT, T_COMMENT, T_MNAME, T_QSTRING, T_BRACE_OPEN, T_BRACE_CLOSE, T_LNAME, T_LVALUE, T_COMMA, T_EQUAL, T_TIMESTAMP, T_VALUE, TOKEN_NAMES, S_INIT, S_COMMENT, S_META1, S_META2, S_LABELS, S_LVALUE, S_VALUE, S_TIMESTAMP, S_EXEMPLAR, S_EVALUE, S_ETIMESTAMP, NL, SP, HASH, QUOTE, LBRACE, RBRACE, COMMA, EQUAL, M_START, M_CONT, L_START, L_CONT, latin1, utf8, quoteCtx, unescape } from './scan.js';
import { Entry, TextParseError, type MetricType, type Exemplar, type TextParserOptions } from './interface.js';
import { BaseParser } from './base_parser.js';

const TYPE_WORDS_OM: Record<string, MetricType> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  gaugehistogram: 'gaugehistogram',
  summary: 'summary',
  info: 'info',
  stateset: 'stateset',
  unknown: 'unknown',
};

/** Parser for OpenMetrics 1.0 text. */
export class OpenMetricsParser extends BaseParser {
  protected readonly strictLabelSeparators = true;
  private skipCreated: boolean;
  private mfNameLen = 0;
  // Exemplar of the current sample: offsets in eOffs, like offs but without the name slot.
  private eOffs = new Int32Array(4 * 8);
  private nEOffs = 0;
  private eFlags = new Uint8Array(2 * 8);
  private hasExemplar = false;
  private exVal = 0;
  private exTs = 0;
  private exHasTs = false;
  /** Set while startTimestamp() peeks ahead, so the current sample's exemplar survives. */
  private peeking = false;

  constructor(body: Buffer, opts: TextParserOptions = {}) {
    super(body, opts);
    this.skipCreated = opts.skipCreatedSeries ?? false;
  }

  helpText(): string {
    return unescape(utf8(this.b, this.textStart, this.textEnd), true);
  }

  protected labelToken(): number {
    return this.lex();
  }

  private lex(): number {
    if (this.i >= this.n) return T_EOF;
    let c = this.b[this.i]!;
    this.start = this.i;
    for (;;) {
      switch (this.state) {
        case S_INIT:
          if (c === HASH) {
            if (this.adv() !== SP) return T_INVALID;
            c = this.adv();
            this.state = S_COMMENT;
            continue;
          }
          if (M_START[c]) {
            do c = this.adv();
            while (M_CONT[c]);
            this.state = S_VALUE;
            return T_MNAME;
          }
          if (c === LBRACE) {
            this.adv();
            this.state = S_LABELS;
            return T_BRACE_OPEN;
          }
          return T_INVALID;
        case S_COMMENT:
          if (c === 0x45) {
            if (this.adv() !== 0x4f || this.adv() !== 0x46) return T_INVALID;
            if (this.adv() === NL) this.adv();
            this.state = S_INIT;
            return T_EOFWORD;
          }
          if (c === 0x48) return this.word('HELP', T_HELP);
          if (c === 0x54) return this.word('TYPE', T_TYPE);
          if (c === 0x55) return this.word('UNIT', T_UNIT);
          return T_INVALID;
        case S_META1:
          if (c === QUOTE) {
            if (!this.quoted(true)) return T_INVALID;
            this.state = S_META2;
            return T_MNAME;
          }
          if (M_START[c]) {
            do c = this.adv();
            while (M_CONT[c]);
            this.state = S_META2;
            return T_MNAME;
          }
          return T_INVALID;
        case S_META2:
          if (c !== SP) return T_INVALID;
          do c = this.adv();
          while (c !== 0 && c !== NL);
          if (c !== NL) return T_INVALID;
          this.adv();
          this.state = S_INIT;
          return T_TEXT;
        case S_LABELS:
        case S_EXEMPLAR: {
          const inEx = this.state === S_EXEMPLAR;
          if (c === QUOTE) return this.quoted(!inEx) ? T_QSTRING : T_INVALID;
          if (c === COMMA) {
            this.adv();
            return T_COMMA;
          }
          if (c === EQUAL) {
            this.adv();
            this.state = inEx ? S_EVALUE : S_LVALUE;
            return T_EQUAL;
          }
          if (c === RBRACE) {
            this.adv();
            this.state = inEx ? S_EVALUE : S_VALUE;
            return T_BRACE_CLOSE;
          }
          if (L_START[c]) {
            do c = this.adv();
            while (L_CONT[c]);
            return T_LNAME;
          }
          return T_INVALID;
        }
        case S_LVALUE:
          if (c !== QUOTE || !this.quoted(false)) return T_INVALID;
          this.state = S_LABELS;
          return T_LVALUE;
        case S_VALUE:
          if (c === LBRACE) {
            this.adv();
            this.state = S_LABELS;
            return T_BRACE_OPEN;
          }
          if (c !== SP) return T_INVALID;
          if (!this.spaceWord()) return T_INVALID;
          this.state = S_TIMESTAMP;
          return T_VALUE;
        case S_TIMESTAMP:
          if (c === NL) {
            this.adv();
            this.state = S_INIT;
            return T_LINEBREAK;
          }
          if (c !== SP) return T_INVALID;
          c = this.adv();
          if (c === HASH) {
            c = this.adv();
            if (c === SP) {
              if (this.adv() !== LBRACE) return T_INVALID;
              this.adv();
              this.state = S_EXEMPLAR;
              return T_COMMENT;
            }
            while (c !== 0 && c !== SP && c !== NL) c = this.adv();
            return T_TIMESTAMP;
          }
          if (c === 0 || c === SP || c === NL) return T_INVALID;
          do c = this.adv();
          while (c !== 0 && c !== SP && c !== NL);
          return T_TIMESTAMP;
        case S_EVALUE:
          if (c === QUOTE) {
            if (!this.quoted(false)) return T_INVALID;
            this.state = S_EXEMPLAR;
            return T_LVALUE;
          }
          if (c !== SP || !this.spaceWord()) return T_INVALID;
          this.state = S_ETIMESTAMP;
          return T_VALUE;
        case S_ETIMESTAMP:
          if (c === NL) {
            this.adv();
            this.state = S_INIT;
            return T_LINEBREAK;
          }
          if (c !== SP || !this.spaceWord()) return T_INVALID;
          return T_TIMESTAMP;
        default:
          throw new Error(`BUG: OpenMetrics lexer in state ${this.state}`);
      }
    }
  }

  /** At a space: consumes it and a following run of [^ \n\0]+; false when that run is empty. */
  private spaceWord(): boolean {
    let c = this.adv();
    if (c === 0 || c === SP || c === NL) return false;
    do c = this.adv();
    while (c !== 0 && c !== SP && c !== NL);
    return true;
  }

  private word(w: string, tok: number): number {
    for (let k = 1; k < w.length; k++) if (this.adv() !== w.charCodeAt(k)) return T_INVALID;
    if (this.adv() !== SP) return T_INVALID;
    this.adv();
    this.state = S_META1;
    return tok;
  }

  next(): Entry {
    for (;;) {
      this.pstart = this.i;
      this.nOffs = 0;
      if (!this.peeking) {
        this.nEOffs = 0;
        this.hasExemplar = false;
        this.exVal = 0;
        this.exHasTs = false;
      }
      const t = this.lex();
      switch (t) {
        case T_EOFWORD:
          if (this.lex() !== T_EOF) this.fail('unexpected data after # EOF');
          return Entry.EOF;
        case T_EOF:
          return this.fail('data does not end with # EOF');
        case T_HELP:
        case T_TYPE:
        case T_UNIT: {
          const t2 = this.lex();
          if (t2 !== T_MNAME) this.parseError(`expected metric name after ${TOKEN_NAMES[t]}`, t2);
          let s = this.start;
          let e = this.i;
          let f = 0;
          if (this.b[s] === QUOTE && this.b[e - 1] === QUOTE) {
            s++;
            e--;
            f = this.qFlags;
            this.checkNameUtf8(s, e, f);
          }
          this.mfNameLen = e - s;
          this.pushOff(s, e);
          this.setFlag(0, f);
          if (this.lex() !== T_TEXT) this.fail(`expected text in ${TOKEN_NAMES[t]}`);
          this.textStart = this.i - this.start > 1 ? this.start + 1 : this.start;
          this.textEnd = this.i - this.start > 1 ? this.i - 1 : this.start;
          if (t === T_TYPE) {
            const word = latin1(this.b, this.textStart, this.textEnd);
            const mt = Object.hasOwn(TYPE_WORDS_OM, word) ? TYPE_WORDS_OM[word] : undefined;
            if (mt === undefined) this.fail(`invalid metric type ${quoteCtx(this.b, this.textStart, this.textEnd)}`);
            this.mtype = mt;
            return Entry.Type;
          }
          if (t === T_HELP) {
            if (!isUtf8(this.b.subarray(this.textStart, this.textEnd))) {
              this.fail(`help text ${quoteCtx(this.b, this.textStart, this.textEnd)} is not a valid utf8 string`);
            }
            return Entry.Help;
          }
          this.unit = utf8(this.b, this.textStart, this.textEnd);
          if (this.unit !== '') {
            const name = utf8(this.b, s, e);
            if (!name.endsWith(this.unit) || name.length < this.unit.length + 1 || name[name.length - this.unit.length - 1] !== '_') {
              this.fail(`unit ${goQuote(this.unit)} not a suffix of metric ${goQuote(name)}`);
            }
          }
          return Entry.Unit;
        }
        case T_BRACE_OPEN:
          this.pushOff(-1, -1);
          this.setFlag(0, 0);
          this.parseLabels();
          this.seriesEnd = this.i;
          this.parseEndOfLine(this.lex());
          if (this.skipCreated && this.isCreatedSeries()) continue;
          return Entry.Series;
        case T_MNAME: {
          this.pushOff(this.pstart, this.i);
          this.setFlag(0, 0);
          this.seriesEnd = this.i;
          let t2 = this.lex();
          if (t2 === T_BRACE_OPEN) {
            this.parseLabels();
            this.seriesEnd = this.i;
            t2 = this.lex();
          }
          this.parseEndOfLine(t2);
          if (this.skipCreated && this.isCreatedSeries()) continue;
          return Entry.Series;
        }
        default:
          this.parseError('expected a valid start token', t);
      }
    }
  }

  private parseExemplarLabels(): void {
    let t = this.lex();
    for (;;) {
      const ts = this.start;
      const te = this.i;
      const f = t === T_QSTRING ? this.qFlags : 0;
      if (t === T_BRACE_CLOSE) return;
      if (t !== T_LNAME && t !== T_QSTRING) this.parseError('expected label name', t);
      t = this.lex();
      if (f !== 0 && (t === T_COMMA || t === T_BRACE_CLOSE)) this.parseError('expected label name', t);
      const k = this.nEOffs >> 1;
      if (f !== 0) {
        this.checkNameUtf8(ts + 1, te - 1, f);
        this.pushEOff(ts + 1, te - 1, k, f);
      } else this.pushEOff(ts, te, k, 0);
      if (t !== T_EQUAL) this.parseError('expected equal', t);
      const t2 = this.lex();
      if (t2 !== T_LVALUE) this.parseError('expected label value', t2);
      this.checkValueUtf8();
      this.pushEOff(this.start + 1, this.i - 1, k + 1, this.qFlags);
      t = this.lex();
      if (t === T_COMMA) t = this.lex();
      else if (t !== T_BRACE_CLOSE) this.parseError('expected comma or brace close', t);
    }
  }

  private pushEOff(a: number, b: number, pair: number, f: number): void {
    if (this.nEOffs + 2 > this.eOffs.length) {
      const g = new Int32Array(this.eOffs.length * 2);
      g.set(this.eOffs);
      this.eOffs = g;
      const h = new Uint8Array(this.eFlags.length * 2);
      h.set(this.eFlags);
      this.eFlags = h;
    }
    this.eOffs[this.nEOffs++] = a;
    this.eOffs[this.nEOffs++] = b;
    this.eFlags[pair] = f;
  }

  private parseEndOfLine(t: number): void {
    if (this.offs[0] === -1) this.fail(`metric name not set while parsing: ${this.entryText()}`);
    this.val = this.floatToken(t, 'metric');
    this.hasTs = false;
    const t2 = this.lex();
    switch (t2) {
      case T_EOF:
        return this.fail('data does not end with # EOF');
      case T_LINEBREAK:
        return;
      case T_COMMENT:
        this.parseComment();
        return;
      case T_TIMESTAMP: {
        this.ts = this.secondsToken('invalid timestamp');
        this.hasTs = true;
        const t3 = this.lex();
        if (t3 === T_LINEBREAK) return;
        if (t3 === T_COMMENT) {
          this.parseComment();
          return;
        }
        return this.parseError('expected next entry after timestamp', t3);
      }
      default:
        // Prometheus ends the line here without complaint; the next entry then fails on
        // whatever follows.
        return;
    }
  }

  private parseComment(): void {
    if (this.peeking) {
      for (let t = this.lex(); t !== T_LINEBREAK; t = this.lex()) {
        if (t === T_EOF) this.fail('data does not end with # EOF');
      }
      return;
    }
    this.parseExemplarLabels();
    this.hasExemplar = true;
    this.exVal = this.floatToken(this.lex(), 'exemplar labels');
    this.exHasTs = false;
    const t2 = this.lex();
    switch (t2) {
      case T_EOF:
        return this.fail('data does not end with # EOF');
      case T_LINEBREAK:
        return;
      case T_TIMESTAMP: {
        this.exTs = this.secondsToken('invalid exemplar timestamp');
        this.exHasTs = true;
        const t3 = this.lex();
        if (t3 !== T_LINEBREAK) this.parseError('expected next entry after exemplar timestamp', t3);
        return;
      }
      default:
        this.parseError('expected timestamp or comment', t2);
    }
  }

  private floatToken(t: number, after: string): number {
    if (t !== T_VALUE) this.parseError(`expected value after ${after}`, t);
    return this.setValue(this.start + 1, this.i);
  }

  /** A timestamp token in float seconds, converted to integer ms (truncated, as Go's int64 conversion). */
  private secondsToken(invalidMsg: string): number {
    const v = this.setValue(this.start + 1, this.i);
    if (!Number.isFinite(v)) this.fail(`${invalidMsg} ${Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf'}`);
    return Math.trunc(v * 1000);
  }

  private isCreatedSeries(): boolean {
    if (this.mtype !== 'counter' && this.mtype !== 'summary' && this.mtype !== 'histogram') return false;
    const s = this.offs[0]!;
    const e = this.offs[1]!;
    return e - s >= 8 && latin1(this.b, e - 8, e) === '_created';
  }

  override exemplar(): Exemplar | null {
    if (!this.hasExemplar) return null;
    const list: Label[] = [];
    for (let k = 0; k < this.nEOffs; k += 4) {
      const p = k >> 1;
      list.push({
        name: this.symbols.intern(this.decode(this.eOffs[k]!, this.eOffs[k + 1]!, this.eFlags[p]!)),
        value: this.decode(this.eOffs[k + 2]!, this.eOffs[k + 3]!, this.eFlags[p + 1]!),
      });
    }
    return { labels: Labels.fromList(list), value: this.exVal, timestamp: this.exHasTs ? this.exTs : null };
  }

  /**
   * The `_created` value (ms) of the current counter/summary/histogram sample, found by
   * peeking ahead within its family as Prometheus does; 0 when there is none.
   */
  override startTimestamp(): number {
    if (this.mtype !== 'counter' && this.mtype !== 'summary' && this.mtype !== 'histogram') return 0;
    const famEnd = this.offs[0]! + Math.min(this.mfNameLen, this.offs[1]! - this.offs[0]!);
    const want = this.identity(latin1(this.b, this.offs[0]!, famEnd));
    // Save everything next() overwrites, peek, then restore.
    const saved = {
      i: this.i, start: this.start, state: this.state, pstart: this.pstart, mtype: this.mtype,
      offs: this.offs.slice(0, this.nOffs), nOffs: this.nOffs, flags: this.flags.slice(),
      seriesEnd: this.seriesEnd, val: this.val, ts: this.ts, hasTs: this.hasTs, qFlags: this.qFlags,
    };
    this.peeking = true;
    const skip = this.skipCreated;
    this.skipCreated = false;
    let result = 0;
    try {
      for (;;) {
        if (this.next() !== Entry.Series) break;
        const s = this.offs[0]!;
        const e = this.offs[1]!;
        if (e - s < 8 || latin1(this.b, e - 8, e) !== '_created') continue;
        if (this.identity(latin1(this.b, s, e - 8)) !== want) break;
        result = Math.trunc(this.val * 1000);
        break;
      }
    } catch (err) {
      // A malformed line ahead fails the scrape when next() reaches it; here it only means "unknown".
      if (!(err instanceof TextParseError)) throw err;
    } finally {
      this.skipCreated = skip;
      this.peeking = false;
      this.i = saved.i;
      this.start = saved.start;
      this.state = saved.state;
      this.pstart = saved.pstart;
      this.mtype = saved.mtype;
      this.offs.set(saved.offs);
      this.nOffs = saved.nOffs;
      this.flags.set(saved.flags.subarray(0, this.flags.length));
      this.seriesEnd = saved.seriesEnd;
      this.val = saved.val;
      this.ts = saved.ts;
      this.hasTs = saved.hasTs;
      this.qFlags = saved.qFlags;
    }
    return result;
  }

  /** Family name plus label pairs, ignoring `le` of histograms and `quantile` of summaries. */
  private identity(family: string): string {
    let id = family;
    for (let k = 2; k < this.nOffs; k += 4) {
      const name = latin1(this.b, this.offs[k]!, this.offs[k + 1]!);
      if (this.mtype === 'summary' && name === 'quantile') continue;
      if (this.mtype === 'histogram' && name === 'le') continue;
      id += '\xff' + name + '\xff' + latin1(this.b, this.offs[k + 2]!, this.offs[k + 3]!);
    }
    return id;
  }
}
