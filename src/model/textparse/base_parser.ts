// The state and helpers both text formats share: offsets of the current
// series in the body, label decoding and sorting, values, errors.
import { isUtf8 } from 'node:buffer';
import { formatOpenMetricsFloat } from '../../gofmt/float.js';
import { compareStrings } from '../../gofmt/order.js';
import { Labels, METRIC_NAME, type Label } from '../labels.js';
import { Tok, TOKEN_NAMES, St, Ch, Flag, INITIAL_LABEL_SLOTS, floatError, parseFloatBytes, latin1, utf8, quoteCtx, unescape, bytesHash, bytesAre } from './scan.js';
import { Entry, TextParseError, SymbolTable, type MetricType, type Exemplar, type TextParserOptions, type TextParser } from './interface.js';

/** State and helpers shared by both formats. */
export abstract class BaseParser implements TextParser {
  protected readonly b: Buffer;
  protected readonly n: number;
  protected i = 0;
  protected start = 0;
  protected state = St.INIT;
  /** Flags of the last quoted string lexed. */
  protected qFlags = 0;

  /** Start of the current entry. */
  protected pstart = 0;
  /**
   * [nameStart, nameEnd, (labelNameStart, labelNameEnd, valueStart, valueEnd)*]. It only
   * grows, so offs[0], offs[1] (and flags[0]) always exist: the `!` on them below is safe.
   */
  protected offs = new Int32Array(2 + 4 * INITIAL_LABEL_SLOTS);
  protected nOffs = 0;
  /** Flag bits per offsets pair (index = pair number). */
  protected flags = new Uint8Array(1 + 2 * INITIAL_LABEL_SLOTS);
  protected seriesEnd = 0;
  protected val = 0;
  protected ts = 0;
  protected hasTs = false;
  protected mtype: MetricType = 'unknown';
  protected textStart = 0;
  protected textEnd = 0;
  protected unit = '';
  protected readonly symbols: SymbolTable;

  constructor(body: Buffer, opts: TextParserOptions) {
    this.b = body;
    this.n = body.length;
    this.symbols = opts.symbols ?? new SymbolTable();
  }

  abstract next(): Entry;

  seriesKey(): string {
    return latin1(this.b, this.pstart, this.seriesEnd);
  }

  seriesHash(): number {
    return bytesHash(this.b, this.pstart, this.seriesEnd);
  }

  seriesIs(key: string): boolean {
    return bytesAre(this.b, this.pstart, this.seriesEnd, key);
  }

  /**
   * Positions the parser at the start of an entry another parser over the same bytes
   * already read (its seriesStart()), with the metric type in force there, so that
   * next() reads that entry again. Labels of series parsed on a worker thread are built
   * on the main thread this way, only for series the scrape cache does not know.
   */
  seekEntry(pos: number, mtype: MetricType): void {
    this.i = pos;
    this.state = St.INIT;
    this.mtype = mtype;
  }

  /** Where the current series' bytes start and end in the body (seriesKey() is b[start:end]). */
  seriesStart(): number {
    return this.pstart;
  }

  seriesStop(): number {
    return this.seriesEnd;
  }

  metricName(): string {
    return this.symbols.intern(this.decode(this.offs[0]!, this.offs[1]!, this.flags[0]!));
  }

  labels(): Labels {
    const nLabels = (this.nOffs - 2) >> 2;
    // Name/value pairs in line order with __name__ first; exporters usually sort their
    // labels, so this is often already the sorted form and needs no list or sort.
    const pairs: string[] = [METRIC_NAME, this.metricName()];
    let prev = METRIC_NAME;
    let sorted = true;
    let empty = false;
    // k < nLabels: parseLabels filled offs[o..o+3] and both flags of every such label.
    for (let k = 0; k < nLabels; k++) {
      const o = 2 + 4 * k;
      const ln = this.symbols.intern(this.decode(this.offs[o]!, this.offs[o + 1]!, this.flags[1 + 2 * k]!));
      let lv = this.decode(this.offs[o + 2]!, this.offs[o + 3]!, this.flags[2 + 2 * k]!);
      if ((ln === 'le' && this.mtype === 'histogram') || (ln === 'quantile' && this.mtype === 'summary')) {
        lv = normalizeFloatLabel(lv);
      }
      if (compareStrings(ln, prev) <= 0) sorted = false;
      prev = ln;
      if (lv === '') empty = true;
      pairs.push(ln, this.symbols.intern(lv));
    }
    if (sorted && !empty) return Labels.fromSortedPairs(pairs);
    const list: Label[] = [];
    // pairs holds whole name/value pairs: i + 1 < pairs.length.
    for (let i = 0; i < pairs.length; i += 2) list.push({ name: pairs[i]!, value: pairs[i + 1]! });
    const ls = sortLabels(list);
    // Prometheus's TSDB rejects such a sample, which fails the scrape.
    if (typeof ls === 'string') this.fail(`label name ${JSON.stringify(ls)} is not unique: invalid sample`);
    return ls;
  }

  value(): number {
    return this.val;
  }

  timestamp(): number | null {
    return this.hasTs ? this.ts : null;
  }

  exemplar(): Exemplar | null {
    return null;
  }

  startTimestamp(): number {
    return 0;
  }

  currentType(): MetricType {
    return this.mtype;
  }

  metaName(): string {
    return this.decode(this.offs[0]!, this.offs[1]!, this.flags[0]!);
  }

  metricType(): MetricType {
    return this.mtype;
  }

  unitText(): string {
    return this.unit;
  }

  abstract helpText(): string;

  commentText(): string {
    return utf8(this.b, this.textStart, this.textEnd);
  }

  /** Decodes b[s:e] (already without quotes) into a string, undoing escapes. */
  protected decode(s: number, e: number, f: number): string {
    if ((f & (Flag.ESCAPE | Flag.HIGH)) === 0) return latin1(this.b, s, e);
    const str = (f & Flag.HIGH) !== 0 ? utf8(this.b, s, e) : latin1(this.b, s, e);
    return (f & Flag.ESCAPE) !== 0 ? unescape(str, true) : str;
  }

  protected setFlag(pair: number, f: number): void {
    if (pair >= this.flags.length) {
      const g = new Uint8Array(this.flags.length * 2);
      g.set(this.flags);
      this.flags = g;
    }
    this.flags[pair] = f;
  }

  protected pushOff(a: number, b: number): void {
    if (this.nOffs + 2 > this.offs.length) {
      const g = new Int32Array(this.offs.length * 2);
      g.set(this.offs);
      this.offs = g;
    }
    this.offs[this.nOffs++] = a;
    this.offs[this.nOffs++] = b;
  }

  /** Advances one byte; 0 at end of input. Null bytes are skipped inside label values, help text and comments. */
  protected adv(): number {
    const b = this.b;
    let i = ++this.i;
    if (i >= this.n) {
      this.i = this.n;
      return 0;
    }
    // i < this.n = b.length here and in the loop below.
    let c = b[i]!;
    if (c === 0 && (this.state === St.LVALUE || this.state === St.META2 || this.state === St.COMMENT)) {
      while (c === 0) {
        i = ++this.i;
        if (i >= this.n) {
          this.i = this.n;
          return 0;
        }
        c = b[i]!;
      }
    }
    return c;
  }

  /**
   * Lexes a double-quoted string whose opening quote is at this.i. allowNL: raw newlines
   * may appear inside. Returns true when the closing quote was found (this.i just past it).
   */
  protected quoted(allowNL: boolean): boolean {
    let f = Flag.QUOTED;
    for (;;) {
      const c = this.adv();
      if (c === Ch.QUOTE) {
        this.adv();
        this.qFlags = f;
        return true;
      }
      if (c === Ch.BACKSLASH) {
        const d = this.adv();
        if (d === 0 || d === Ch.NL) return false;
        f |= Flag.ESCAPE;
        if (d >= 0x80) f |= Flag.HIGH;
        continue;
      }
      if (c === 0 || (c === Ch.NL && !allowNL)) return false;
      if (c >= 0x80) f |= Flag.HIGH;
    }
  }

  protected lineOf(pos: number): number {
    let line = 1;
    const b = this.b;
    let i = b.indexOf(Ch.NL, 0);
    while (i >= 0 && i < pos) {
      line++;
      i = b.indexOf(Ch.NL, i + 1);
    }
    return line;
  }

  protected fail(reason: string): never {
    throw new TextParseError(reason, this.lineOf(this.pstart));
  }

  /** Prometheus's "<expected>, got <token text> (<token>) while parsing: <entry so far>". */
  protected parseError(exp: string, got: number): never {
    const e = Math.min(this.n, this.i + 1);
    this.fail(`${exp}, got ${quoteCtx(this.b, this.start, e)} (${JSON.stringify(TOKEN_NAMES[got])}) while parsing: ${quoteCtx(this.b, this.pstart, e)}`);
  }

  protected entryText(): string {
    return quoteCtx(this.b, this.pstart, this.i);
  }

  /** Checks a label value token for valid UTF-8 (the token includes its quotes). */
  protected checkValueUtf8(): void {
    if ((this.qFlags & Flag.HIGH) !== 0 && !isUtf8(this.b.subarray(this.start, this.i))) {
      this.fail(`invalid UTF-8 label value: ${quoteCtx(this.b, this.start, this.i)}`);
    }
  }

  /** Quoted names are not checked by Prometheus's lexer; invalid UTF-8 in one fails as its label validation does. */
  protected checkNameUtf8(s: number, e: number, f: number): void {
    if ((f & Flag.HIGH) !== 0 && !isUtf8(this.b.subarray(s, e))) {
      this.fail(`invalid metric name or label names: ${quoteCtx(this.b, s, e)}`);
    }
  }

  /** The next token inside a label set: the text format skips blanks between tokens, OpenMetrics has none. */
  protected abstract labelToken(): number;

  /** OpenMetrics needs `,` or `}` after a label value; the text format, as Prometheus's parser, goes on without one. */
  protected abstract readonly strictLabelSeparators: boolean;

  /** Parses `name="value",...}` after the opening brace into offs and flags. */
  protected parseLabels(): void {
    let t = this.labelToken();
    for (;;) {
      const ts = this.start;
      const te = this.i;
      const f = t === Tok.QSTRING ? this.qFlags : 0;
      if (t === Tok.BRACE_CLOSE) return;
      if (t !== Tok.LNAME && t !== Tok.QSTRING) this.parseError('expected label name', t);
      t = this.labelToken();
      if (f !== 0 && (t === Tok.COMMA || t === Tok.BRACE_CLOSE)) {
        // A lone quoted string is the metric name.
        if (this.offs[0] !== -1 || this.offs[1] !== -1) this.fail(`metric name already set while parsing: ${this.entryText()}`);
        this.checkNameUtf8(ts + 1, te - 1, f);
        this.offs[0] = ts + 1;
        this.offs[1] = te - 1;
        this.flags[0] = f;
        if (t === Tok.BRACE_CLOSE) return;
        t = this.labelToken();
        continue;
      }
      const pair = this.nOffs >> 1;
      if (f !== 0) {
        this.checkNameUtf8(ts + 1, te - 1, f);
        this.pushOff(ts + 1, te - 1);
      } else this.pushOff(ts, te);
      this.setFlag(pair, f);
      if (t !== Tok.EQUAL) this.parseError('expected equal', t);
      const t2 = this.labelToken();
      if (t2 !== Tok.LVALUE) this.parseError('expected label value', t2);
      this.checkValueUtf8();
      this.setFlag(pair + 1, this.qFlags);
      this.pushOff(this.start + 1, this.i - 1);
      t = this.labelToken();
      if (t === Tok.COMMA) t = this.labelToken();
      else if (this.strictLabelSeparators && t !== Tok.BRACE_CLOSE) this.parseError('expected comma or brace close', t);
    }
  }

  /** Stores the value token's number (b[s:e]) or fails with Prometheus's message. */
  protected setValue(s: number, e: number): number {
    const v = parseFloatBytes(this.b, s, e);
    if (floatError !== null) this.fail(`${floatError} while parsing: ${this.entryText()}`);
    return v;
  }
}


function normalizeFloatLabel(v: string): string {
  // Go's ParseFloat syntax is what matters here; reuse the byte parser on the string.
  const bytes = Buffer.from(v, 'latin1');
  const f = parseFloatBytes(bytes, 0, bytes.length);
  if (floatError !== null) return v;
  return formatOpenMetricsFloat(f);
}

/**
 * Sorts by name (insertion sort: lines are usually sorted already) and drops empty
 * values. Returns the first duplicated name instead when there is one.
 */
function sortLabels(list: Label[]): Labels | string {
  // 0 <= j < i < list.length: every index below is in range.
  for (let i = 1; i < list.length; i++) {
    const x = list[i]!;
    let j = i - 1;
    while (j >= 0 && compareStrings(list[j]!.name, x.name) > 0) {
      list[j + 1] = list[j]!;
      j--;
    }
    list[j + 1] = x;
  }
  const pairs: string[] = [];
  let prev: Label | undefined;
  for (const l of list) {
    if (prev !== undefined && prev.name === l.name) return l.name;
    prev = l;
    if (l.value !== '') pairs.push(l.name, l.value);
  }
  return Labels.fromSortedPairs(pairs);
}
