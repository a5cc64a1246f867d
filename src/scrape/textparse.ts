// Parsers for the Prometheus text exposition format 0.0.4 and OpenMetrics 1.0 text.
//
// Exported API
//   enum Entry            EOF | Series | Help | Type | Unit | Comment: what next() found.
//   type MetricType       'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary'
//                         | 'info' | 'stateset' | 'unknown'.
//   class TextParseError  Malformed input: `.reason` is Prometheus's wording (e.g.
//                         `expected equal, got "}0" ("BCLOSE") while parsing: "{A}0"`),
//                         `.line` the 1-based line; `.message` is `line N: <reason>`.
//   class SymbolTable     Bounded interning of label names and values, shared across parses
//                         (one per scrape pool) so repeated strings are held once.
//   interface TextParser  The iterator; one per body. Read it like this:
//                           for (let e = p.next(); e !== Entry.EOF; e = p.next()) {
//                             if (e === Entry.Series) use(p.seriesKey(), p.value(), p.timestamp());
//                           }
//                         next() throws TextParseError on malformed input. Accessors describe
//                         the current entry only:
//                           Series:  seriesKey() (raw bytes of name and labels as a latin1
//                                    string, a cache key), seriesHash() (a 30-bit hash of
//                                    those bytes, no allocation) and seriesIs(key) (compares
//                                    them with a key), metricName(), labels() (built on
//                                    demand, interned), value(), timestamp() (ms or null),
//                                    exemplar() (OpenMetrics), startTimestamp() (OpenMetrics
//                                    `_created`, ms, 0 when unknown), currentType().
//                           Help/Type/Unit: metaName(), helpText(), metricType(), unitText().
//                           Comment: commentText().
//   class PromParser, class OpenMetricsParser   The two implementations.
//   newTextParser(body, contentType, opts)      Picks the parser from a Content-Type (with
//                         Prometheus's fallback rules); see negotiateMediaType().
//   formatOpenMetricsFloat(v)                   Go-compatible float formatting used for `le`
//                         and `quantile` label values.
//
// Both parsers are byte-level state machines over a Buffer, mirroring Prometheus's
// lexers token for token so error messages match. Nothing is allocated per sample on the
// hot path: positions live in a reused Int32Array, values are decoded straight from bytes.
import { isUtf8 } from 'node:buffer';
import { Labels, METRIC_NAME, type Label } from '../model/labels.js';

export enum Entry {
  EOF = 0,
  Series = 1,
  Help = 2,
  Type = 3,
  Unit = 4,
  Comment = 5,
}

export type MetricType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'gaugehistogram'
  | 'summary'
  | 'info'
  | 'stateset'
  | 'unknown';

export interface Exemplar {
  readonly labels: Labels;
  readonly value: number;
  /** Milliseconds, or null when the exemplar carries no timestamp. */
  readonly timestamp: number | null;
}

export class TextParseError extends Error {
  override name = 'TextParseError';
  constructor(
    readonly reason: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

/**
 * Interns strings so that label sets built from many scrapes share one copy of each
 * name and value. Bounded: when full it starts over (held strings stay valid; only
 * sharing is lost), so it never grows with churn.
 */
export class SymbolTable {
  private readonly map = new Map<string, string>();
  /** 64Ki strings hold the names and common values of a few thousand targets' series. */
  constructor(readonly maxSize = 65536) {}

  intern(s: string): string {
    const got = this.map.get(s);
    if (got !== undefined) return got;
    if (this.map.size >= this.maxSize) this.map.clear();
    this.map.set(s, s);
    return s;
  }

  get size(): number {
    return this.map.size;
  }
}

export interface TextParserOptions {
  symbols?: SymbolTable;
  /** OpenMetrics: skip `_created` series (used only for startTimestamp()), as Prometheus does with created-timestamp ingestion on. */
  skipCreatedSeries?: boolean;
  /** Prometheus text: parse every line with the general lexer (tests compare it with the fast path). */
  noFastPath?: boolean;
}

export interface TextParser {
  next(): Entry;
  seriesKey(): string;
  seriesHash(): number;
  seriesIs(key: string): boolean;
  metricName(): string;
  labels(): Labels;
  value(): number;
  timestamp(): number | null;
  exemplar(): Exemplar | null;
  startTimestamp(): number;
  currentType(): MetricType;
  metaName(): string;
  helpText(): string;
  metricType(): MetricType;
  unitText(): string;
  commentText(): string;
}

// Tokens, named in errors exactly as Prometheus names them.
const T_INVALID = -1;
const T_EOF = 0;
const T_LINEBREAK = 1;
const T_WHITESPACE = 2;
const T_HELP = 3;
const T_TYPE = 4;
const T_UNIT = 5;
const T_EOFWORD = 6;
const T_TEXT = 7;
const T_COMMENT = 8;
const T_MNAME = 9;
const T_QSTRING = 10;
const T_BRACE_OPEN = 11;
const T_BRACE_CLOSE = 12;
const T_LNAME = 13;
const T_LVALUE = 14;
const T_COMMA = 15;
const T_EQUAL = 16;
const T_TIMESTAMP = 17;
const T_VALUE = 18;

const TOKEN_NAMES: Record<number, string> = {
  [T_INVALID]: 'INVALID',
  [T_EOF]: 'EOF',
  [T_LINEBREAK]: 'LINEBREAK',
  [T_WHITESPACE]: 'WHITESPACE',
  [T_HELP]: 'HELP',
  [T_TYPE]: 'TYPE',
  [T_UNIT]: 'UNIT',
  [T_EOFWORD]: 'EOFWORD',
  [T_TEXT]: 'TEXT',
  [T_COMMENT]: 'COMMENT',
  [T_MNAME]: 'MNAME',
  [T_QSTRING]: 'QSTRING',
  [T_BRACE_OPEN]: 'BOPEN',
  [T_BRACE_CLOSE]: 'BCLOSE',
  [T_LNAME]: 'LNAME',
  [T_LVALUE]: 'LVALUE',
  [T_COMMA]: 'COMMA',
  [T_EQUAL]: 'EQUAL',
  [T_TIMESTAMP]: 'TIMESTAMP',
  [T_VALUE]: 'VALUE',
};

// Lexer states.
const S_INIT = 0;
const S_COMMENT = 1;
const S_META1 = 2;
const S_META2 = 3;
const S_LABELS = 4;
const S_LVALUE = 5;
const S_VALUE = 6;
const S_TIMESTAMP = 7;
const S_EXEMPLAR = 8;
const S_EVALUE = 9;
const S_ETIMESTAMP = 10;

const NL = 0x0a;
const SP = 0x20;
const TAB = 0x09;
const HASH = 0x23;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const COMMA = 0x2c;
const EQUAL = 0x3d;

// Character classes as lookup tables (index 0 is never a member: 0 also stands for end of input).
const M_START = new Uint8Array(256); // [a-zA-Z_:]
const M_CONT = new Uint8Array(256); // [a-zA-Z0-9_:]
const L_START = new Uint8Array(256); // [a-zA-Z_]
const L_CONT = new Uint8Array(256); // [a-zA-Z0-9_]
const DIGIT = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const alpha = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
  const digit = c >= 0x30 && c <= 0x39;
  M_START[c] = alpha || c === 0x3a ? 1 : 0;
  M_CONT[c] = alpha || digit || c === 0x3a ? 1 : 0;
  L_START[c] = alpha ? 1 : 0;
  L_CONT[c] = alpha || digit ? 1 : 0;
  DIGIT[c] = digit ? 1 : 0;
}

// Per-string flags recorded while lexing quoted strings, so decoding knows what work is needed.
const F_QUOTED = 1;
const F_ESCAPE = 2;
const F_HIGH = 4;

/** Growth step of the offsets array; a line with more labels than this grows it (bounded by the body). */
const INITIAL_LABEL_SLOTS = 32;

/** Message of the last failed float parse (null on success); avoids allocating result objects. */
let floatError: string | null = null;

/** Exact powers of ten representable as doubles, for the fast decimal path. */
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/**
 * Parses b[s:e] as Go's strconv.ParseFloat would after Prometheus's extra rule (no `p`,
 * `P` or `_`). On failure returns NaN and sets floatError to Go's message.
 */
function parseFloatBytes(b: Uint8Array, s: number, e: number): number {
  floatError = null;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c === 0x70 || c === 0x50 || c === 0x5f) {
      floatError = 'unsupported character in float';
      return NaN;
    }
  }
  let i = s;
  let neg = false;
  if (i < e && (b[i] === 0x2b || b[i] === 0x2d)) {
    neg = b[i] === 0x2d;
    i++;
  }
  if (i < e && (b[i]! | 0x20) === 0x69) {
    // inf or infinity, any case, optionally signed.
    const rest = e - i;
    if ((rest === 3 || rest === 8) && matchesFold(b, i, e, 'infinity')) return neg ? -Infinity : Infinity;
    return syntaxError(b, s, e);
  }
  if (i === s && i < e && (b[i]! | 0x20) === 0x6e) {
    if (e - i === 3 && matchesFold(b, i, e, 'nan')) return NaN;
    return syntaxError(b, s, e);
  }
  let mant = 0;
  let digits = 0;
  let sigDigits = 0;
  let exp10 = 0;
  let sawDot = false;
  let exact = true;
  for (; i < e; i++) {
    const c = b[i]!;
    if (c >= 0x30 && c <= 0x39) {
      digits++;
      if (mant === 0 && c === 0x30) {
        if (sawDot) exp10--;
        continue;
      }
      sigDigits++;
      if (sigDigits <= 15) {
        mant = mant * 10 + (c - 0x30);
        if (sawDot) exp10--;
      } else {
        exact = false;
        if (!sawDot) exp10++;
      }
    } else if (c === 0x2e && !sawDot) {
      sawDot = true;
    } else break;
  }
  if (digits === 0) return syntaxError(b, s, e);
  if (i < e) {
    const c = b[i]!;
    if (c !== 0x65 && c !== 0x45) return syntaxError(b, s, e);
    i++;
    let eneg = false;
    if (i < e && (b[i] === 0x2b || b[i] === 0x2d)) {
      eneg = b[i] === 0x2d;
      i++;
    }
    if (i >= e) return syntaxError(b, s, e);
    let ev = 0;
    for (; i < e; i++) {
      const d = b[i]!;
      if (d < 0x30 || d > 0x39) return syntaxError(b, s, e);
      if (ev < 100000) ev = ev * 10 + (d - 0x30);
    }
    exp10 += eneg ? -ev : ev;
  }
  let v: number;
  if (exact && mant === 0) v = 0;
  else if (exact && exp10 >= -22 && exp10 <= 22) {
    // Both operands are exact doubles, so one multiplication or division rounds correctly.
    v = exp10 >= 0 ? mant * POW10[exp10]! : mant / POW10[-exp10]!;
  } else {
    v = Number(latin1(b, neg ? s + 1 : s, e));
    if (!Number.isFinite(v)) {
      floatError = `strconv.ParseFloat: parsing ${quoteCtx(b, s, e)}: value out of range`;
      return NaN;
    }
  }
  return neg ? -v : v;
}

function syntaxError(b: Uint8Array, s: number, e: number): number {
  floatError = `strconv.ParseFloat: parsing ${quoteCtx(b, s, e)}: invalid syntax`;
  return NaN;
}

function matchesFold(b: Uint8Array, s: number, e: number, word: string): boolean {
  for (let i = s; i < e; i++) if ((b[i]! | 0x20) !== word.charCodeAt(i - s)) return false;
  return true;
}

function latin1(b: Uint8Array, s: number, e: number): string {
  return Buffer.prototype.latin1Slice.call(b, s, e);
}

function utf8(b: Uint8Array, s: number, e: number): string {
  return Buffer.prototype.utf8Slice.call(b, s, e);
}

/** Go's %q of a byte string: invalid UTF-8 bytes as \xNN, control and non-printable runes escaped. */
export function goQuote(b: Uint8Array, s: number, e: number): string {
  let out = '"';
  let i = s;
  while (i < e) {
    const c = b[i]!;
    if (c < 0x80) {
      out += quoteRune(c);
      i++;
      continue;
    }
    const n = utf8SeqLen(b, i, e);
    if (n === 0) {
      out += '\\x' + c.toString(16).padStart(2, '0');
      i++;
      continue;
    }
    const ch = utf8(b, i, i + n);
    const cp = ch.codePointAt(0)!;
    out += PRINTABLE.test(ch) ? ch : cp < 0x10000 ? '\\u' + cp.toString(16).padStart(4, '0') : '\\U' + cp.toString(16).padStart(8, '0');
    i += n;
  }
  return out + '"';
}

/**
 * Bytes of input quoted into an error message. Prometheus quotes the whole entry; a
 * hostile line can be megabytes long, so only its last MAX_ERROR_CONTEXT bytes (where
 * parsing stopped) are kept, after a "...".
 */
const MAX_ERROR_CONTEXT = 512;

function quoteCtx(b: Uint8Array, s: number, e: number): string {
  if (e - s <= MAX_ERROR_CONTEXT) return goQuote(b, s, e);
  let from = e - MAX_ERROR_CONTEXT;
  // Start on a character boundary so the excerpt does not begin with a broken sequence.
  while (from < e && (b[from]! & 0xc0) === 0x80) from++;
  return '...' + goQuote(b, from, e);
}

/** Go's %q of a JS string. */
export function goQuoteString(s: string): string {
  const b = Buffer.from(s, 'utf8');
  return goQuote(b, 0, b.length);
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

function quoteRune(c: number): string {
  switch (c) {
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x0b:
      return '\\v';
    case 0x22:
      return '\\"';
    case 0x5c:
      return '\\\\';
  }
  if (c < 0x20 || c === 0x7f) return '\\x' + c.toString(16).padStart(2, '0');
  return String.fromCharCode(c);
}

/** Length of the valid UTF-8 sequence at b[i], or 0 when it is not valid. */
function utf8SeqLen(b: Uint8Array, i: number, e: number): number {
  const c = b[i]!;
  let n: number;
  let min: number;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    min = 0x10000;
  } else return 0;
  if (i + n > e) return 0;
  let cp = c & (0xff >> (n + 1));
  for (let k = 1; k < n; k++) {
    const d = b[i + k]!;
    if ((d & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (d & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

/** Undoes the escapes Prometheus's label-value replacer knows: \\ \" \n (others stay as written). */
function unescape(s: string, withQuote: boolean): string {
  if (s.indexOf('\\') < 0) return s;
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length - 1; i++) {
    if (s.charCodeAt(i) !== BACKSLASH) continue;
    const n = s.charCodeAt(i + 1);
    let rep: string | null = null;
    if (n === BACKSLASH) rep = '\\';
    else if (n === 0x6e) rep = '\n';
    else if (n === QUOTE && withQuote) rep = '"';
    if (rep === null) continue;
    out += s.slice(last, i) + rep;
    i++;
    last = i + 1;
  }
  return out + s.slice(last);
}

/** Go's strconv.FormatFloat(v, 'g', -1, 64), plus ".0" when neither '.' nor 'e' appears. */
export function formatOpenMetricsFloat(v: number): string {
  if (v === 1) return '1.0';
  if (v === 0) return '0.0';
  if (v === -1) return '-1.0';
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = formatGoFloat(v);
  return s.includes('.') || s.includes('e') ? s : s + '.0';
}

/** strconv.FormatFloat(v, 'g', -1, 64): shortest digits; exponent form when exp < -4 or exp >= 6 (strconv, unlike fmt %v, uses 6 for shortest). */
export function formatGoFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const ex = v.toExponential();
  const ePos = ex.indexOf('e');
  const exp = Number(ex.slice(ePos + 1));
  if (exp < -4 || exp >= 6) {
    const mant = ex.slice(0, ePos);
    const sign = exp < 0 ? '-' : '+';
    const abs = Math.abs(exp);
    return `${mant}e${sign}${abs < 10 ? '0' + abs : abs}`;
  }
  return String(v);
}

const TYPE_WORDS_PROM: Record<string, MetricType> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  summary: 'summary',
  untyped: 'unknown',
};

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

/** State and helpers shared by both formats. */
abstract class BaseParser implements TextParser {
  protected readonly b: Buffer;
  protected readonly n: number;
  protected i = 0;
  protected start = 0;
  protected state = S_INIT;
  /** Flags of the last quoted string lexed. */
  protected qFlags = 0;

  /** Start of the current entry. */
  protected pstart = 0;
  /** [nameStart, nameEnd, (labelNameStart, labelNameEnd, valueStart, valueEnd)*] */
  protected offs = new Int32Array(2 + 4 * INITIAL_LABEL_SLOTS);
  protected nOffs = 0;
  /** F_* flags per offsets pair (index = pair number). */
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

  /** FNV-1a over the series bytes, folded to 30 bits so it stays a small integer (a cheap Map key). */
  seriesHash(): number {
    const b = this.b;
    let h = 0x811c9dc5;
    for (let i = this.pstart, e = this.seriesEnd; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    return (h ^ (h >>> 30)) & 0x3fffffff;
  }

  /** True when the current series' bytes equal key (a string from seriesKey()). */
  seriesIs(key: string): boolean {
    const b = this.b;
    const s = this.pstart;
    const n = this.seriesEnd - s;
    if (key.length !== n) return false;
    for (let i = 0; i < n; i++) if (key.charCodeAt(i) !== b[s + i]) return false;
    return true;
  }

  metricName(): string {
    return this.symbols.intern(this.decode(this.offs[0]!, this.offs[1]!, this.flags[0]!));
  }

  labels(): Labels {
    const nLabels = (this.nOffs - 2) >> 2;
    // Name/value pairs in line order with __name__ first; exporters usually sort their
    // labels, so this is often already the sorted form and needs no list or sort.
    const pairs: string[] = [METRIC_NAME, this.metricName()];
    let sorted = true;
    let empty = false;
    for (let k = 0; k < nLabels; k++) {
      const o = 2 + 4 * k;
      const ln = this.symbols.intern(this.decode(this.offs[o]!, this.offs[o + 1]!, this.flags[1 + 2 * k]!));
      let lv = this.decode(this.offs[o + 2]!, this.offs[o + 3]!, this.flags[2 + 2 * k]!);
      if ((ln === 'le' && this.mtype === 'histogram') || (ln === 'quantile' && this.mtype === 'summary')) {
        lv = normalizeFloatLabel(lv);
      }
      if (ln <= pairs[pairs.length - 2]!) sorted = false;
      if (lv === '') empty = true;
      pairs.push(ln, this.symbols.intern(lv));
    }
    if (sorted && !empty) return Labels.fromSortedPairs(pairs);
    const list: Label[] = [];
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
    if ((f & (F_ESCAPE | F_HIGH)) === 0) return latin1(this.b, s, e);
    const str = (f & F_HIGH) !== 0 ? utf8(this.b, s, e) : latin1(this.b, s, e);
    return (f & F_ESCAPE) !== 0 ? unescape(str, true) : str;
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
    let c = b[i]!;
    if (c === 0 && (this.state === S_LVALUE || this.state === S_META2 || this.state === S_COMMENT)) {
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
    let f = F_QUOTED;
    for (;;) {
      const c = this.adv();
      if (c === QUOTE) {
        this.adv();
        this.qFlags = f;
        return true;
      }
      if (c === BACKSLASH) {
        const d = this.adv();
        if (d === 0 || d === NL) return false;
        f |= F_ESCAPE;
        if (d >= 0x80) f |= F_HIGH;
        continue;
      }
      if (c === 0 || (c === NL && !allowNL)) return false;
      if (c >= 0x80) f |= F_HIGH;
    }
  }

  protected lineOf(pos: number): number {
    let line = 1;
    const b = this.b;
    let i = b.indexOf(NL, 0);
    while (i >= 0 && i < pos) {
      line++;
      i = b.indexOf(NL, i + 1);
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
    if ((this.qFlags & F_HIGH) !== 0 && !isUtf8(this.b.subarray(this.start, this.i))) {
      this.fail(`invalid UTF-8 label value: ${quoteCtx(this.b, this.start, this.i)}`);
    }
  }

  /** Quoted names are not checked by Prometheus's lexer; invalid UTF-8 in one fails as its label validation does. */
  protected checkNameUtf8(s: number, e: number, f: number): void {
    if ((f & F_HIGH) !== 0 && !isUtf8(this.b.subarray(s, e))) {
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
      const f = t === T_QSTRING ? this.qFlags : 0;
      if (t === T_BRACE_CLOSE) return;
      if (t !== T_LNAME && t !== T_QSTRING) this.parseError('expected label name', t);
      t = this.labelToken();
      if (f !== 0 && (t === T_COMMA || t === T_BRACE_CLOSE)) {
        // A lone quoted string is the metric name.
        if (this.offs[0] !== -1 || this.offs[1] !== -1) this.fail(`metric name already set while parsing: ${this.entryText()}`);
        this.checkNameUtf8(ts + 1, te - 1, f);
        this.offs[0] = ts + 1;
        this.offs[1] = te - 1;
        this.flags[0] = f;
        if (t === T_BRACE_CLOSE) return;
        t = this.labelToken();
        continue;
      }
      const pair = this.nOffs >> 1;
      if (f !== 0) {
        this.checkNameUtf8(ts + 1, te - 1, f);
        this.pushOff(ts + 1, te - 1);
      } else this.pushOff(ts, te);
      this.setFlag(pair, f);
      if (t !== T_EQUAL) this.parseError('expected equal', t);
      const t2 = this.labelToken();
      if (t2 !== T_LVALUE) this.parseError('expected label value', t2);
      this.checkValueUtf8();
      this.setFlag(pair + 1, this.qFlags);
      this.pushOff(this.start + 1, this.i - 1);
      t = this.labelToken();
      if (t === T_COMMA) t = this.labelToken();
      else if (this.strictLabelSeparators && t !== T_BRACE_CLOSE) this.parseError('expected comma or brace close', t);
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
  for (let i = 1; i < list.length; i++) {
    const x = list[i]!;
    let j = i - 1;
    while (j >= 0 && list[j]!.name > x.name) {
      list[j + 1] = list[j]!;
      j--;
    }
    list[j + 1] = x;
  }
  const pairs: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const l = list[i]!;
    if (i > 0 && list[i - 1]!.name === l.name) return l.name;
    if (l.value !== '') pairs.push(l.name, l.value);
  }
  return Labels.fromSortedPairs(pairs);
}

/** Parser for the Prometheus text format 0.0.4. */
export class PromParser extends BaseParser {
  private readonly fast: boolean;
  protected readonly strictLabelSeparators = false;

  constructor(body: Buffer, opts: TextParserOptions = {}) {
    // The grammar needs a final newline; Prometheus appends one unconditionally, a
    // body that already ends in one is equivalent (a trailing blank line is allowed).
    // The final newline also guarantees every scanning loop below stops inside the buffer.
    super(body.length > 0 && body[body.length - 1] === NL ? body : Buffer.concat([body, Buffer.from('\n')]), opts);
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
    let c = b[i]!;
    if (!M_START[c]) return false;
    do c = b[++i]!;
    while (M_CONT[c]);
    this.nOffs = 0;
    this.pushOff(start, i);
    this.setFlag(0, 0);
    if (c === LBRACE) {
      c = b[++i]!;
      for (;;) {
        if (c === RBRACE) break;
        if (!L_START[c]) return false;
        const ls = i;
        do c = b[++i]!;
        while (L_CONT[c]);
        const le = i;
        if (c !== EQUAL || b[i + 1] !== QUOTE) return false;
        i += 2;
        const vs = i;
        let f = F_QUOTED;
        for (;;) {
          if (i >= n) return false;
          c = b[i]!;
          if (c === QUOTE) break;
          if (c === BACKSLASH) {
            const d = b[i + 1]!;
            if (d === NL || d === 0) return false;
            f |= d >= 0x80 ? F_ESCAPE | F_HIGH : F_ESCAPE;
            i += 2;
            continue;
          }
          if (c === 0) return false;
          if (c >= 0x80) f |= F_HIGH;
          i++;
        }
        const ve = i;
        if ((f & F_HIGH) !== 0 && !isUtf8(b.subarray(vs - 1, ve + 1))) return false;
        const pair = this.nOffs >> 1;
        this.pushOff(ls, le);
        this.setFlag(pair, 0);
        this.pushOff(vs, ve);
        this.setFlag(pair + 1, f);
        c = b[++i]!;
        if (c === COMMA) c = b[++i]!;
        else if (c !== RBRACE) return false;
      }
      c = b[++i]!;
    }
    const seriesEnd = i;
    if (c !== SP && c !== TAB) return false;
    do c = b[++i]!;
    while (c === SP || c === TAB);
    const vs = i;
    while (c !== SP && c !== TAB && c !== NL && c !== 0 && c !== LBRACE) c = b[++i]!;
    if (i === vs || c === 0 || c === LBRACE) return false;
    const v = parseFloatBytes(b, vs, i);
    if (floatError !== null) return false;
    while (c === SP || c === TAB) c = b[++i]!;
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
      while (c === SP || c === TAB) c = b[++i]!;
    }
    if (c !== NL) return false;
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
    while (c === SP || c === TAB);
    return T_WHITESPACE;
  }

  private consumeComment(): number {
    for (let c = this.i < this.n ? this.b[this.i]! : 0; ; c = this.adv()) {
      if (c === 0) return T_EOF;
      if (c === NL) {
        this.state = S_INIT;
        return T_COMMENT;
      }
    }
  }

  private expectWord(word: string, tok: number): number {
    // Matches the rest of "HELP"/"TYPE" then [\t ]+; any mismatch makes it a plain comment.
    for (let k = 1; k < word.length; k++) {
      if (this.adv() !== word.charCodeAt(k)) return this.consumeComment();
    }
    let c = this.adv();
    if (c !== SP && c !== TAB) return this.consumeComment();
    do c = this.adv();
    while (c === SP || c === TAB);
    this.state = S_META1;
    return tok;
  }

  private lex(): number {
    if (this.i >= this.n) return T_EOF;
    const b = this.b;
    let c = b[this.i]!;
    this.start = this.i;
    for (;;) {
      switch (this.state) {
        case S_INIT:
          if (c === 0) {
            this.adv();
            return T_EOF;
          }
          if (c === NL) {
            this.adv();
            return T_LINEBREAK;
          }
          if (c === SP || c === TAB) return this.ws();
          if (c === HASH) {
            c = this.adv();
            if (c === SP || c === TAB) {
              do c = this.adv();
              while (c === SP || c === TAB);
              this.state = S_COMMENT;
              continue;
            }
            return this.consumeComment();
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
          if (c === 0x48) return this.expectWord('HELP', T_HELP);
          if (c === 0x54) return this.expectWord('TYPE', T_TYPE);
          if (c === SP || c === TAB) return this.ws();
          return this.consumeComment();
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
          if (c === SP || c === TAB) return this.ws();
          return T_INVALID;
        case S_META2:
          if (c === SP || c === TAB) {
            do c = this.adv();
            while (c === SP || c === TAB);
            if (c === 0 || c === NL) return T_WHITESPACE;
          }
          while (c !== 0 && c !== NL) c = this.adv();
          this.state = S_INIT;
          return T_TEXT;
        case S_LABELS:
          if (c === QUOTE) return this.quoted(true) ? T_QSTRING : T_INVALID;
          if (c === COMMA) {
            this.adv();
            return T_COMMA;
          }
          if (c === EQUAL) {
            this.adv();
            this.state = S_LVALUE;
            return T_EQUAL;
          }
          if (c === RBRACE) {
            this.adv();
            this.state = S_VALUE;
            return T_BRACE_CLOSE;
          }
          if (L_START[c]) {
            do c = this.adv();
            while (L_CONT[c]);
            return T_LNAME;
          }
          if (c === SP || c === TAB) return this.ws();
          return T_INVALID;
        case S_LVALUE:
          if (c === QUOTE) {
            if (!this.quoted(true)) return T_INVALID;
            this.state = S_LABELS;
            return T_LVALUE;
          }
          if (c === SP || c === TAB) return this.ws();
          return T_INVALID;
        case S_VALUE:
          if (c === SP || c === TAB) return this.ws();
          if (c === LBRACE) {
            this.adv();
            this.state = S_LABELS;
            return T_BRACE_OPEN;
          }
          if (c !== 0 && c !== NL) {
            do c = this.adv();
            while (c !== 0 && c !== NL && c !== SP && c !== TAB && c !== LBRACE);
            this.state = S_TIMESTAMP;
            return T_VALUE;
          }
          return T_INVALID;
        case S_TIMESTAMP:
          if (c === NL) {
            this.adv();
            this.state = S_INIT;
            return T_LINEBREAK;
          }
          if (c === SP || c === TAB) return this.ws();
          if (DIGIT[c]) {
            do c = this.adv();
            while (DIGIT[c]);
            return T_TIMESTAMP;
          }
          return T_INVALID;
        default:
          throw new Error(`BUG: prom lexer in state ${this.state}`);
      }
    }
  }

  private tok(): number {
    for (;;) {
      const t = this.lex();
      if (t !== T_WHITESPACE) return t;
    }
  }

  protected labelToken(): number {
    return this.tok();
  }

  next(): Entry {
    for (;;) {
      if (this.fast && this.state === S_INIT && this.i < this.n && this.fastSeries()) return Entry.Series;
      this.pstart = this.i;
      this.nOffs = 0;
      const t = this.tok();
      switch (t) {
        case T_EOF:
          return Entry.EOF;
        case T_LINEBREAK:
          continue;
        case T_HELP:
        case T_TYPE: {
          const t2 = this.tok();
          if (t2 !== T_MNAME) this.parseError(`expected metric name after ${TOKEN_NAMES[t]}`, t2);
          this.pushMetaName();
          const t3 = this.tok();
          if (t3 !== T_TEXT) this.fail(`expected text in ${TOKEN_NAMES[t]}, got ${TOKEN_NAMES[t3]}`);
          this.textStart = this.i - this.start > 1 ? this.start + 1 : this.start;
          this.textEnd = this.i - this.start > 1 ? this.i : this.start;
          if (t === T_TYPE) {
            const word = latin1(this.b, this.textStart, this.textEnd);
            const mt = Object.hasOwn(TYPE_WORDS_PROM, word) ? TYPE_WORDS_PROM[word] : undefined;
            if (mt === undefined) this.fail(`invalid metric type ${quoteCtx(this.b, this.textStart, this.textEnd)}`);
            this.mtype = mt;
          } else if (!isUtf8(this.b.subarray(this.textStart, this.textEnd))) {
            this.fail(`help text ${quoteCtx(this.b, this.textStart, this.textEnd)} is not a valid utf8 string`);
          }
          const t4 = this.tok();
          if (t4 !== T_LINEBREAK) this.parseError('linebreak expected after metadata', t4);
          return t === T_HELP ? Entry.Help : Entry.Type;
        }
        case T_COMMENT: {
          this.textStart = this.start;
          this.textEnd = this.i;
          const t2 = this.tok();
          if (t2 !== T_LINEBREAK) this.parseError('linebreak expected after comment', t2);
          return Entry.Comment;
        }
        case T_BRACE_OPEN:
          this.pushOff(-1, -1);
          this.setFlag(0, 0);
          this.parseLabels();
          this.seriesEnd = this.i;
          this.parseSuffix(this.tok());
          return Entry.Series;
        case T_MNAME: {
          this.pushOff(this.pstart, this.i);
          this.setFlag(0, 0);
          this.seriesEnd = this.i;
          let t2 = this.tok();
          if (t2 === T_BRACE_OPEN) {
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
    if (this.b[s] === QUOTE && this.b[e - 1] === QUOTE) {
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
    if (t !== T_VALUE) this.parseError('expected value after metric', t);
    this.val = this.setValue(this.start, this.i);
    this.hasTs = false;
    const t2 = this.tok();
    if (t2 === T_LINEBREAK) return;
    if (t2 !== T_TIMESTAMP) this.parseError('expected timestamp or new record', t2);
    this.ts = this.parseTimestamp(this.start, this.i);
    this.hasTs = true;
    const t3 = this.tok();
    if (t3 !== T_LINEBREAK) this.parseError('expected next entry after timestamp', t3);
  }

  /** Digits only (the lexer guarantees it); Go's ParseInt range check on int64. */
  private parseTimestamp(s: number, e: number): number {
    let v = 0;
    for (let i = s; i < e; i++) v = v * 10 + (this.b[i]! - 0x30);
    if (e - s > 19 || (e - s === 19 && latin1(this.b, s, e) > '9223372036854775807')) {
      this.fail(`strconv.ParseInt: parsing ${quoteCtx(this.b, s, e)}: value out of range while parsing: ${this.entryText()}`);
    }
    return v;
  }
}

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
              this.fail(`unit ${goQuoteString(this.unit)} not a suffix of metric ${goQuoteString(name)}`);
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

export const MEDIA_TYPE_OPENMETRICS = 'application/openmetrics-text';
export const MEDIA_TYPE_PROMTEXT = 'text/plain';
export const MEDIA_TYPE_PROTOBUF = 'application/vnd.google.protobuf';

/** Why the Content-Type could not be used as sent (the scrape may still go on with a fallback). */
export class ContentTypeError extends Error {
  override name = 'ContentTypeError';
}

/**
 * Picks the media type to parse a body with, as Prometheus does: the Content-Type if it
 * is a supported exposition format, else the configured fallback (with a warning), else
 * an error. Returns the media type and an optional warning; throws ContentTypeError when
 * there is no usable type.
 */
export function negotiateMediaType(contentType: string, fallback: string): { mediaType: string; warning: string | null } {
  if (contentType === '') {
    if (fallback === '') throw new ContentTypeError('non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target');
    return { mediaType: fallback, warning: `non-compliant scrape target sending blank Content-Type, using fallback_scrape_protocol ${goQuoteString(fallback)}` };
  }
  const mediaType = parseMediaType(contentType);
  if (mediaType === null) {
    if (fallback === '') throw new ContentTypeError(`cannot parse Content-Type ${goQuoteString(contentType)} and no fallback_scrape_protocol for target`);
    return { mediaType: fallback, warning: `could not parse received Content-Type ${goQuoteString(contentType)}, using fallback_scrape_protocol ${goQuoteString(fallback)}` };
  }
  if (mediaType === MEDIA_TYPE_OPENMETRICS || mediaType === MEDIA_TYPE_PROMTEXT) return { mediaType, warning: null };
  if (fallback === '') throw new ContentTypeError(`received unsupported Content-Type ${goQuoteString(contentType)} and no fallback_scrape_protocol specified for target`);
  return { mediaType: fallback, warning: `received unsupported Content-Type ${goQuoteString(contentType)}, using fallback_scrape_protocol ${goQuoteString(fallback)}` };
}

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The lower-cased `type/subtype` of a Content-Type, or null when it does not parse (RFC 7231 token rules). */
function parseMediaType(ct: string): string | null {
  const semi = ct.indexOf(';');
  const mt = (semi < 0 ? ct : ct.slice(0, semi)).trim().toLowerCase();
  const slash = mt.indexOf('/');
  if (slash <= 0 || slash === mt.length - 1) return null;
  if (!TOKEN_RE.test(mt.slice(0, slash)) || !TOKEN_RE.test(mt.slice(slash + 1))) return null;
  if (semi >= 0) {
    for (const part of ct.slice(semi + 1).split(';')) {
      const p = part.trim();
      if (p === '') continue;
      const eq = p.indexOf('=');
      if (eq <= 0 || !TOKEN_RE.test(p.slice(0, eq).trim())) return null;
    }
  }
  return mt;
}

/**
 * A parser for a body of the given Content-Type. `fallback` is the scrape config's
 * fallback_scrape_protocol as a media type ('' for none). Protobuf is not supported and
 * is rejected with a ContentTypeError.
 */
export function newTextParser(body: Buffer, contentType: string, fallback: string, opts: TextParserOptions = {}): { parser: TextParser; warning: string | null } {
  const { mediaType, warning } = negotiateMediaType(contentType, fallback);
  if (mediaType === MEDIA_TYPE_OPENMETRICS) return { parser: new OpenMetricsParser(body, opts), warning };
  if (mediaType === MEDIA_TYPE_PROMTEXT) return { parser: new PromParser(body, opts), warning };
  throw new ContentTypeError(`unsupported media type ${goQuoteString(mediaType)}: only the Prometheus text and OpenMetrics text formats are supported`);
}
