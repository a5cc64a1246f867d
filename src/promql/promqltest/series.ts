// Series descriptions of the .test format: `metric{a="b"} 1+2x3 _ stale`.
//
// The metric part uses PromQL selector syntax restricted to equality; the
// value part is the expansion language of Prometheus's series-description
// lexer (no hex numbers, greedy exponents, `x` as the repeat token).
import { unquote, UnquoteError } from '../../gofmt/quote.js';
import { CounterResetHint, FloatHistogram, HistogramError, type Span } from '../../model/histogram.js';
import { Labels, METRIC_NAME } from '../../model/labels.js';
import { STALE_NAN } from '../../model/value.js';

/** One position of a value sequence. */
export interface SequenceValue {
  /** `_`: no sample at this position. */
  omitted: boolean;
  value: number;
  /** A native histogram (`{{...}}`); value is then NaN. */
  histogram?: FloatHistogram;
  /** The histogram's description named a counter_reset_hint (for +/- expansions: the step's description did). */
  counterResetHintSet?: boolean;
}

export interface SeriesDesc {
  labels: Labels;
  values: SequenceValue[];
}

/** A malformed line in a test file; `col` is 0-based within the line. */
export class SeriesSyntaxError extends Error {
  override readonly name = 'SeriesSyntaxError';
  constructor(
    message: string,
    readonly col: number,
  ) {
    super(message);
  }
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t';
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined): boolean =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_');
const isAlnum = (c: string | undefined): boolean => isAlpha(c) || isDigit(c);

/** Parses `<metric> <values...>`. */
export function parseSeriesDesc(line: string): SeriesDesc {
  const { labels, end } = parseMetric(line, 0);
  if (end < line.length && !isSpace(line[end])) {
    throw new SeriesSyntaxError(`unexpected character ${JSON.stringify(line[end])} after metric`, end);
  }
  return { labels, values: parseValues(line, end) };
}

/** Parses a metric (`name`, `name{...}` or `{...}`) starting at `pos`. */
export function parseMetric(line: string, pos: number): { labels: Labels; end: number } {
  const pairs: string[] = [];
  let i = pos;
  if (isAlpha(line[i]) || line[i] === ':') {
    const start = i;
    while (i < line.length && (isAlnum(line[i]) || line[i] === ':')) i++;
    pairs.push(METRIC_NAME, line.slice(start, i));
  }
  if (line[i] === '{' && line[i + 1] !== '{') {
    i = parseLabelSet(line, i + 1, pairs);
  } else if (pairs.length === 0) {
    throw new SeriesSyntaxError('expected a metric name or label set', i);
  }
  return { labels: Labels.fromPairs(...pairs), end: i };
}

/** Parses the inside of `{...}` after the brace; returns the index after `}`. */
function parseLabelSet(line: string, pos: number, out: string[]): number {
  let i = skipSpaces(line, pos);
  const seen = new Set<string>();
  while (line[i] !== '}') {
    if (i >= line.length) throw new SeriesSyntaxError('unterminated label set', i);
    let name: string;
    let quotedName = false;
    if (line[i] === '"' || line[i] === "'" || line[i] === '`') {
      const s = readString(line, i);
      name = s.value;
      i = s.end;
      quotedName = true;
    } else if (isAlpha(line[i])) {
      const start = i;
      while (isAlnum(line[i])) i++;
      name = line.slice(start, i);
    } else {
      throw new SeriesSyntaxError(`unexpected character ${JSON.stringify(line[i])} in label set`, i);
    }
    i = skipSpaces(line, i);
    if (quotedName && (line[i] === ',' || line[i] === '}')) {
      // A bare quoted string is the metric name: {"my.metric", a="b"}.
      addLabel(out, seen, METRIC_NAME, name, i);
    } else {
      if (line[i] !== '=' || line[i + 1] === '=' || line[i + 1] === '~') {
        throw new SeriesSyntaxError(`expected "=" after label name ${JSON.stringify(name)}`, i);
      }
      i = skipSpaces(line, i + 1);
      if (line[i] !== '"' && line[i] !== "'" && line[i] !== '`') {
        throw new SeriesSyntaxError(`expected a quoted label value for ${JSON.stringify(name)}`, i);
      }
      const v = readString(line, i);
      addLabel(out, seen, name, v.value, i);
      i = skipSpaces(line, v.end);
    }
    if (line[i] === ',') i = skipSpaces(line, i + 1);
    else if (line[i] !== '}') throw new SeriesSyntaxError('expected "," or "}" in label set', i);
  }
  return i + 1;
}

function addLabel(out: string[], seen: Set<string>, name: string, value: string, col: number): void {
  if (seen.has(name)) throw new SeriesSyntaxError(`label ${JSON.stringify(name)} given twice`, col);
  seen.add(name);
  out.push(name, value);
}

function skipSpaces(line: string, i: number): number {
  while (i < line.length && isSpace(line[i])) i++;
  return i;
}

/** Reads a PromQL string literal (all three quote styles) starting at its opening quote. */
function readString(line: string, pos: number): { value: string; end: number } {
  const q = line.charCodeAt(pos);
  let i = pos + 1;
  // Find the closing quote; backslashes escape the next character except in raw strings.
  while (i < line.length && line.charCodeAt(i) !== q) i += q !== 0x60 && line.charCodeAt(i) === 0x5c ? 2 : 1;
  if (i >= line.length) throw new SeriesSyntaxError('unterminated quoted string', pos);
  try {
    return { value: unquote(line.slice(pos, i + 1)), end: i + 1 };
  } catch (e) {
    if (e instanceof UnquoteError) throw new SeriesSyntaxError(`invalid quoted string ${line.slice(pos, i + 1)}`, pos);
    throw e;
  }
}

/** Parses the value sequence that follows a metric, starting at `pos`. */
function parseValues(line: string, pos: number): SequenceValue[] {
  const out: SequenceValue[] = [];
  let i = pos;
  for (;;) {
    i = skipSpaces(line, i);
    if (i >= line.length) return out;
    i = parseItem(line, i, out);
    if (i < line.length && !isSpace(line[i])) {
      throw new SeriesSyntaxError(`unexpected character in series values: ${JSON.stringify(line[i])}`, i);
    }
  }
}

function parseItem(line: string, pos: number, out: SequenceValue[]): number {
  if (line[pos] === '_') {
    if (line[pos + 1] !== 'x') {
      out.push({ omitted: true, value: 0 });
      return pos + 1;
    }
    const n = readUint(line, pos + 2);
    for (let k = 0; k < n.value; k++) out.push({ omitted: true, value: 0 });
    return n.end;
  }
  if (line.startsWith('{{', pos)) return parseHistogramItem(line, pos, out);
  const first = readValue(line, pos);
  let i = first.end;
  if (line[i] === 'x') {
    const n = readUint(line, i + 1);
    // `vxN` is N+1 copies: the first one is the value at the item's own position.
    for (let k = 0; k <= n.value; k++) out.push({ omitted: false, value: first.value });
    return n.end;
  }
  if ((line[i] === '+' || line[i] === '-') && i + 1 < line.length && !isSpace(line[i + 1])) {
    const sign = line[i] === '-' ? -1 : 1;
    const delta = readNumber(line, i + 1);
    i = delta.end;
    if (line[i] !== 'x') throw new SeriesSyntaxError('expected "x<count>" after the step of a series item', i);
    const n = readUint(line, i + 1);
    let v = first.value;
    for (let k = 0; k <= n.value; k++) {
      out.push({ omitted: false, value: v });
      v += sign * delta.value;
    }
    return n.end;
  }
  out.push({ omitted: false, value: first.value });
  return i;
}

/** A number (optionally signed) or `stale`. */
function readValue(line: string, pos: number): { value: number; end: number } {
  if (line.startsWith('stale', pos) && !isAlnum(line[pos + 5])) return { value: STALE_NAN, end: pos + 5 };
  let sign = 1;
  let i = pos;
  if (line[i] === '+' || line[i] === '-') {
    sign = line[i] === '-' ? -1 : 1;
    i++;
  }
  const n = readNumber(line, i);
  return { value: sign * n.value, end: n.end };
}

/** An unsigned decimal number, `Inf` or `NaN`, scanned greedily as Prometheus's lexer does. */
function readNumber(line: string, pos: number): { value: number; end: number } {
  if (isAlpha(line[pos])) {
    let i = pos;
    while (isAlnum(line[i]) || line[i] === ':') i++;
    const word = line.slice(pos, i).toLowerCase();
    if (word === 'inf') return { value: Infinity, end: i };
    if (word === 'nan') return { value: NaN, end: i };
    throw new SeriesSyntaxError(`unexpected ${JSON.stringify(line.slice(pos, i))} in series values, expected number or "stale"`, pos);
  }
  let i = pos;
  let dot = false;
  let exp = false;
  if (line[i] === '.') {
    dot = true;
    i++;
  }
  while (i < line.length) {
    const c = line[i]!;
    if (isDigit(c)) i++;
    else if (c === '.' && !dot && !exp) {
      dot = true;
      i++;
    } else if ((c === 'e' || c === 'E') && !exp) {
      exp = true;
      i++;
      if (line[i] === '+' || line[i] === '-') i++;
      if (!isDigit(line[i])) throw new SeriesSyntaxError('bad number syntax', pos);
    } else if (c === '_' && isDigit(line[i - 1]) && isDigit(line[i + 1])) i++;
    else break;
  }
  const text = line.slice(pos, i).replaceAll('_', '');
  if (text === '' || text === '.') throw new SeriesSyntaxError('expected a number in series values', pos);
  const next = line[i];
  if (next !== undefined && next !== 'x' && (isAlnum(next) || next === '.')) {
    throw new SeriesSyntaxError(`bad number syntax: ${JSON.stringify(line.slice(pos, i + 1))}`, pos);
  }
  return { value: Number(text), end: i };
}

function readUint(line: string, pos: number): { value: number; end: number } {
  let i = pos;
  while (isDigit(line[i])) i++;
  if (i === pos) throw new SeriesSyntaxError('expected a repetition count', pos);
  return { value: Number(line.slice(pos, i)), end: i };
}

/** `{{...}}`, `{{...}}xN` (N+1 copies), `{{a}}+{{b}}xN` and `{{a}}-{{b}}xN` (a, a±b, a±2b, ... N+1 values). */
function parseHistogramItem(line: string, pos: number, out: SequenceValue[]): number {
  const first = readHistogram(line, pos);
  let i = first.end;
  if (line[i] === 'x') {
    const n = readUint(line, i + 1);
    for (let k = 0; k <= n.value; k++) out.push({ omitted: false, value: NaN, histogram: first.h, counterResetHintSet: first.hintSet });
    return n.end;
  }
  if ((line[i] === '+' || line[i] === '-') && line.startsWith('{{', i + 1)) {
    const sign = line[i] === '-' ? -1 : 1;
    const step = readHistogram(line, i + 1);
    if (line[step.end] !== 'x') throw new SeriesSyntaxError('expected "x<count>" after a histogram step', step.end);
    const n = readUint(line, step.end + 1);
    let cur = first.h;
    out.push({ omitted: false, value: NaN, histogram: cur, counterResetHintSet: step.hintSet });
    for (let k = 1; k <= n.value; k++) {
      if (cur.schema > step.h.schema) {
        throw new SeriesSyntaxError(`error combining histograms: cannot merge from schema ${step.h.schema} to ${cur.schema}`, pos);
      }
      try {
        cur = (sign > 0 ? cur.add(step.h) : cur.sub(step.h)).histogram;
      } catch (e) {
        if (e instanceof HistogramError) throw new SeriesSyntaxError(e.message, pos);
        throw e;
      }
      out.push({ omitted: false, value: NaN, histogram: cur, counterResetHintSet: step.hintSet });
    }
    return n.end;
  }
  out.push({ omitted: false, value: NaN, histogram: first.h, counterResetHintSet: first.hintSet });
  return i;
}

const HINTS: Record<string, CounterResetHint> = {
  unknown: CounterResetHint.Unknown,
  reset: CounterResetHint.CounterReset,
  not_reset: CounterResetHint.NotCounterReset,
  gauge: CounterResetHint.Gauge,
};

/**
 * One `{{key:value ...}}` description as Prometheus's series lexer reads it:
 * keys (case-insensitive) schema, sum, count, z_bucket, z_bucket_w,
 * custom_values:[...], buckets:[...], offset, n_buckets:[...], n_offset,
 * counter_reset_hint:(unknown|reset|not_reset|gauge), separated by spaces, each
 * at most once. Each side gets one span of its listed buckets at its offset.
 */
function readHistogram(line: string, pos: number): { h: FloatHistogram; hintSet: boolean; end: number } {
  let i = pos + 2;
  const seen = new Set<string>();
  let schema = 0;
  let sum = 0;
  let count = 0;
  let zeroCount = 0;
  let zeroThreshold = 0;
  let customValues: number[] = [];
  let buckets: number[] = [];
  let nBuckets: number[] = [];
  let offset = 0;
  let nOffset = 0;
  let hint = CounterResetHint.Unknown;
  let hintSet = false;
  for (;;) {
    i = skipSpaces(line, i);
    if (line.startsWith('}}', i)) break;
    if (i >= line.length) throw new SeriesSyntaxError('unterminated histogram description', pos);
    const keyStart = i;
    while (isAlpha(line[i])) i++;
    const key = line.slice(keyStart, i).toLowerCase();
    if (key === '') throw new SeriesSyntaxError(`histogram description incomplete unexpected: ${JSON.stringify(line[i] ?? '')}`, i);
    if (line[i] !== ':') {
      throw new SeriesSyntaxError(KEYS.has(key) ? 'missing `:` for histogram descriptor' : `bad histogram descriptor found: ${JSON.stringify(line.slice(keyStart, i))}`, keyStart);
    }
    if (!KEYS.has(key)) throw new SeriesSyntaxError(`bad histogram descriptor found: ${JSON.stringify(line.slice(keyStart, i))}`, keyStart);
    if (seen.has(key)) throw new SeriesSyntaxError(`duplicate key "${key}" in histogram`, keyStart);
    seen.add(key);
    i++;
    switch (key) {
      case 'schema':
      case 'offset':
      case 'n_offset': {
        const v = readInt(line, i);
        i = v.end;
        if (key === 'schema') schema = v.value;
        else if (key === 'offset') offset = v.value;
        else nOffset = v.value;
        break;
      }
      case 'sum':
      case 'count':
      case 'z_bucket':
      case 'z_bucket_w': {
        const v = key === 'z_bucket_w' ? readNumber(line, i) : readSigned(line, i);
        i = v.end;
        if (key === 'sum') sum = v.value;
        else if (key === 'count') count = v.value;
        else if (key === 'z_bucket') zeroCount = v.value;
        else zeroThreshold = v.value;
        break;
      }
      case 'buckets':
      case 'n_buckets':
      case 'custom_values': {
        const v = readBucketSet(line, i);
        i = v.end;
        if (key === 'buckets') buckets = v.values;
        else if (key === 'n_buckets') nBuckets = v.values;
        else customValues = v.values;
        break;
      }
      default: {
        const start = i;
        while (isAlpha(line[i])) i++;
        const word = line.slice(start, i).toLowerCase();
        const h = HINTS[word];
        if (h === undefined) throw new SeriesSyntaxError(`unexpected ${JSON.stringify(line.slice(start, i))} in counter_reset_hint`, start);
        hint = h;
        hintSet = true;
      }
    }
    if (i >= line.length) throw new SeriesSyntaxError('unterminated histogram description', pos);
    if (!isSpace(line[i]) && !line.startsWith('}}', i)) {
      throw new SeriesSyntaxError(`unexpected character in histogram description: ${JSON.stringify(line[i] ?? '')}`, i);
    }
  }
  const side = (b: number[], off: number): Span[] => (b.length > 0 ? [{ offset: off, length: b.length }] : []);
  const h = new FloatHistogram({
    counterResetHint: hint,
    schema,
    sum,
    count,
    zeroCount,
    zeroThreshold,
    customValues,
    positiveSpans: side(buckets, offset),
    positiveBuckets: buckets,
    negativeSpans: side(nBuckets, nOffset),
    negativeBuckets: nBuckets,
  });
  return { h, hintSet, end: i + 2 };
}

const KEYS = new Set(['schema', 'sum', 'count', 'z_bucket', 'z_bucket_w', 'custom_values', 'buckets', 'offset', 'n_buckets', 'n_offset', 'counter_reset_hint']);

/** A number with an optional sign (not `stale`: histogram fields take numbers only). */
function readSigned(line: string, pos: number): { value: number; end: number } {
  if (line.startsWith('stale', pos)) throw new SeriesSyntaxError('unexpected "stale" in histogram description, expected a number', pos);
  return readValue(line, pos);
}

/** An optionally negative integer. */
function readInt(line: string, pos: number): { value: number; end: number } {
  const neg = line[pos] === '-';
  const n = readUint(line, neg ? pos + 1 : pos);
  return { value: neg ? -n.value : n.value, end: n.end };
}

/** `[n n ...]`: signed numbers separated by spaces (a trailing space allowed). */
function readBucketSet(line: string, pos: number): { values: number[]; end: number } {
  if (line[pos] !== '[') throw new SeriesSyntaxError('expected "[" to start a bucket list', pos);
  let i = pos + 1;
  const values: number[] = [];
  for (;;) {
    if (line[i] === ']' && values.length > 0) return { values, end: i + 1 };
    if (i >= line.length) throw new SeriesSyntaxError('unterminated bucket list', pos);
    const v = readSigned(line, i);
    values.push(v.value);
    i = v.end;
    if (isSpace(line[i])) i = skipSpaces(line, i);
    else if (line[i] !== ']') throw new SeriesSyntaxError(`invalid character in buckets description: ${JSON.stringify(line[i] ?? '')}`, i);
  }
}
