// The OpenMetrics 1.0 text parser: exemplars, `# EOF`, units, `_created`
// series as start timestamps.
import { isUtf8 } from 'node:buffer';
import { goQuote } from '../../gofmt/quote.js';
import { Labels, type Label } from '../labels.js';
import { Tok, TOKEN_NAMES, St, Ch, M_START, M_CONT, L_START, L_CONT, latin1, utf8, quoteCtx, unescape } from './scan.js';
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
    if (this.i >= this.n) return Tok.EOF;
    let c = this.b[this.i]!; // i < n = b.length
    this.start = this.i;
    for (;;) {
      switch (this.state) {
        case St.INIT:
          if (c === Ch.HASH) {
            if (this.adv() !== Ch.SP) return Tok.INVALID;
            c = this.adv();
            this.state = St.COMMENT;
            continue;
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
          if (c === 0x45) {
            if (this.adv() !== 0x4f || this.adv() !== 0x46) return Tok.INVALID;
            if (this.adv() === Ch.NL) this.adv();
            this.state = St.INIT;
            return Tok.EOFWORD;
          }
          if (c === 0x48) return this.word('HELP', Tok.HELP);
          if (c === 0x54) return this.word('TYPE', Tok.TYPE);
          if (c === 0x55) return this.word('UNIT', Tok.UNIT);
          return Tok.INVALID;
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
          return Tok.INVALID;
        case St.META2:
          if (c !== Ch.SP) return Tok.INVALID;
          do c = this.adv();
          while (c !== 0 && c !== Ch.NL);
          if (c !== Ch.NL) return Tok.INVALID;
          this.adv();
          this.state = St.INIT;
          return Tok.TEXT;
        case St.LABELS:
        case St.EXEMPLAR: {
          const inEx = this.state === St.EXEMPLAR;
          if (c === Ch.QUOTE) return this.quoted(!inEx) ? Tok.QSTRING : Tok.INVALID;
          if (c === Ch.COMMA) {
            this.adv();
            return Tok.COMMA;
          }
          if (c === Ch.EQUAL) {
            this.adv();
            this.state = inEx ? St.EVALUE : St.LVALUE;
            return Tok.EQUAL;
          }
          if (c === Ch.RBRACE) {
            this.adv();
            this.state = inEx ? St.EVALUE : St.VALUE;
            return Tok.BRACE_CLOSE;
          }
          if (L_START[c]) {
            do c = this.adv();
            while (L_CONT[c]);
            return Tok.LNAME;
          }
          return Tok.INVALID;
        }
        case St.LVALUE:
          if (c !== Ch.QUOTE || !this.quoted(false)) return Tok.INVALID;
          this.state = St.LABELS;
          return Tok.LVALUE;
        case St.VALUE:
          if (c === Ch.LBRACE) {
            this.adv();
            this.state = St.LABELS;
            return Tok.BRACE_OPEN;
          }
          if (c !== Ch.SP) return Tok.INVALID;
          if (!this.spaceWord()) return Tok.INVALID;
          this.state = St.TIMESTAMP;
          return Tok.VALUE;
        case St.TIMESTAMP:
          if (c === Ch.NL) {
            this.adv();
            this.state = St.INIT;
            return Tok.LINEBREAK;
          }
          if (c !== Ch.SP) return Tok.INVALID;
          c = this.adv();
          if (c === Ch.HASH) {
            c = this.adv();
            if (c === Ch.SP) {
              if (this.adv() !== Ch.LBRACE) return Tok.INVALID;
              this.adv();
              this.state = St.EXEMPLAR;
              return Tok.COMMENT;
            }
            while (c !== 0 && c !== Ch.SP && c !== Ch.NL) c = this.adv();
            return Tok.TIMESTAMP;
          }
          if (c === 0 || c === Ch.SP || c === Ch.NL) return Tok.INVALID;
          do c = this.adv();
          while (c !== 0 && c !== Ch.SP && c !== Ch.NL);
          return Tok.TIMESTAMP;
        case St.EVALUE:
          if (c === Ch.QUOTE) {
            if (!this.quoted(false)) return Tok.INVALID;
            this.state = St.EXEMPLAR;
            return Tok.LVALUE;
          }
          if (c !== Ch.SP || !this.spaceWord()) return Tok.INVALID;
          this.state = St.ETIMESTAMP;
          return Tok.VALUE;
        case St.ETIMESTAMP:
          if (c === Ch.NL) {
            this.adv();
            this.state = St.INIT;
            return Tok.LINEBREAK;
          }
          if (c !== Ch.SP || !this.spaceWord()) return Tok.INVALID;
          return Tok.TIMESTAMP;
        default:
          throw new Error(`BUG: OpenMetrics lexer in state ${this.state}`);
      }
    }
  }

  /** At a space: consumes it and a following run of [^ \n\0]+; false when that run is empty. */
  private spaceWord(): boolean {
    let c = this.adv();
    if (c === 0 || c === Ch.SP || c === Ch.NL) return false;
    do c = this.adv();
    while (c !== 0 && c !== Ch.SP && c !== Ch.NL);
    return true;
  }

  private word(w: string, tok: number): number {
    for (let k = 1; k < w.length; k++) if (this.adv() !== w.charCodeAt(k)) return Tok.INVALID;
    if (this.adv() !== Ch.SP) return Tok.INVALID;
    this.adv();
    this.state = St.META1;
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
        case Tok.EOFWORD:
          if (this.lex() !== Tok.EOF) this.fail('unexpected data after # EOF');
          return Entry.EOF;
        case Tok.EOF:
          return this.fail('data does not end with # EOF');
        case Tok.HELP:
        case Tok.TYPE:
        case Tok.UNIT: {
          const t2 = this.lex();
          if (t2 !== Tok.MNAME) this.parseError(`expected metric name after ${TOKEN_NAMES[t]}`, t2);
          let s = this.start;
          let e = this.i;
          let f = 0;
          if (this.b[s] === Ch.QUOTE && this.b[e - 1] === Ch.QUOTE) {
            s++;
            e--;
            f = this.qFlags;
            this.checkNameUtf8(s, e, f);
          }
          this.mfNameLen = e - s;
          this.pushOff(s, e);
          this.setFlag(0, f);
          if (this.lex() !== Tok.TEXT) this.fail(`expected text in ${TOKEN_NAMES[t]}`);
          this.textStart = this.i - this.start > 1 ? this.start + 1 : this.start;
          this.textEnd = this.i - this.start > 1 ? this.i - 1 : this.start;
          if (t === Tok.TYPE) {
            const word = latin1(this.b, this.textStart, this.textEnd);
            const mt = Object.hasOwn(TYPE_WORDS_OM, word) ? TYPE_WORDS_OM[word] : undefined;
            if (mt === undefined) this.fail(`invalid metric type ${quoteCtx(this.b, this.textStart, this.textEnd)}`);
            this.mtype = mt;
            return Entry.Type;
          }
          if (t === Tok.HELP) {
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
        case Tok.BRACE_OPEN:
          this.pushOff(-1, -1);
          this.setFlag(0, 0);
          this.parseLabels();
          this.seriesEnd = this.i;
          this.parseEndOfLine(this.lex());
          if (this.skipCreated && this.isCreatedSeries()) continue;
          return Entry.Series;
        case Tok.MNAME: {
          this.pushOff(this.pstart, this.i);
          this.setFlag(0, 0);
          this.seriesEnd = this.i;
          let t2 = this.lex();
          if (t2 === Tok.BRACE_OPEN) {
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
      const f = t === Tok.QSTRING ? this.qFlags : 0;
      if (t === Tok.BRACE_CLOSE) return;
      if (t !== Tok.LNAME && t !== Tok.QSTRING) this.parseError('expected label name', t);
      t = this.lex();
      if (f !== 0 && (t === Tok.COMMA || t === Tok.BRACE_CLOSE)) this.parseError('expected label name', t);
      const k = this.nEOffs >> 1;
      if (f !== 0) {
        this.checkNameUtf8(ts + 1, te - 1, f);
        this.pushEOff(ts + 1, te - 1, k, f);
      } else this.pushEOff(ts, te, k, 0);
      if (t !== Tok.EQUAL) this.parseError('expected equal', t);
      const t2 = this.lex();
      if (t2 !== Tok.LVALUE) this.parseError('expected label value', t2);
      this.checkValueUtf8();
      this.pushEOff(this.start + 1, this.i - 1, k + 1, this.qFlags);
      t = this.lex();
      if (t === Tok.COMMA) t = this.lex();
      else if (t !== Tok.BRACE_CLOSE) this.parseError('expected comma or brace close', t);
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
      case Tok.EOF:
        return this.fail('data does not end with # EOF');
      case Tok.LINEBREAK:
        return;
      case Tok.COMMENT:
        this.parseComment();
        return;
      case Tok.TIMESTAMP: {
        this.ts = this.secondsToken('invalid timestamp');
        this.hasTs = true;
        const t3 = this.lex();
        if (t3 === Tok.LINEBREAK) return;
        if (t3 === Tok.COMMENT) {
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
      for (let t = this.lex(); t !== Tok.LINEBREAK; t = this.lex()) {
        if (t === Tok.EOF) this.fail('data does not end with # EOF');
      }
      return;
    }
    this.parseExemplarLabels();
    this.hasExemplar = true;
    this.exVal = this.floatToken(this.lex(), 'exemplar labels');
    this.exHasTs = false;
    const t2 = this.lex();
    switch (t2) {
      case Tok.EOF:
        return this.fail('data does not end with # EOF');
      case Tok.LINEBREAK:
        return;
      case Tok.TIMESTAMP: {
        this.exTs = this.secondsToken('invalid exemplar timestamp');
        this.exHasTs = true;
        const t3 = this.lex();
        if (t3 !== Tok.LINEBREAK) this.parseError('expected next entry after exemplar timestamp', t3);
        return;
      }
      default:
        this.parseError('expected timestamp or comment', t2);
    }
  }

  private floatToken(t: number, after: string): number {
    if (t !== Tok.VALUE) this.parseError(`expected value after ${after}`, t);
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
    // k < nEOffs: the exemplar lexer filled eOffs[k..k+3] and eFlags[p], eFlags[p + 1].
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
    // k < nOffs: offs[k..k+3] hold one whole label.
    for (let k = 2; k < this.nOffs; k += 4) {
      const name = latin1(this.b, this.offs[k]!, this.offs[k + 1]!);
      if (this.mtype === 'summary' && name === 'quantile') continue;
      if (this.mtype === 'histogram' && name === 'le') continue;
      id += '\xff' + name + '\xff' + latin1(this.b, this.offs[k + 2]!, this.offs[k + 3]!);
    }
    return id;
  }
}
