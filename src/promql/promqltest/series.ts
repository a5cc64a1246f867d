// Series descriptions of the .test format: `metric{a="b"} 1+2x3 _ stale`.
//
// The metric part uses PromQL selector syntax restricted to equality; the
// value part is the expansion language of Prometheus's series-description
// lexer (no hex numbers, greedy exponents, `x` as the repeat token).
import { unquote, UnquoteError } from '../../gofmt/quote.js';
import { Labels, METRIC_NAME } from '../../model/labels.js';
import { STALE_NAN } from '../../model/value.js';

/** One position of a value sequence. */
export interface SequenceValue {
  /** `_`: no sample at this position. */
  omitted: boolean;
  value: number;
  /** Native histogram description (`{{...}}`) as written; native histograms are not evaluated yet. */
  histogram?: string;
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

/** `{{...}}`, `{{...}}xN`, `{{...}}+{{...}}xN`, `{{...}}-{{...}}xN`: kept as text. */
function parseHistogramItem(line: string, pos: number, out: SequenceValue[]): number {
  const first = readHistogram(line, pos);
  let i = first.end;
  let count = 1;
  let text = first.text;
  if (line[i] === 'x') {
    const n = readUint(line, i + 1);
    count = n.value + 1;
    i = n.end;
  } else if ((line[i] === '+' || line[i] === '-') && line.startsWith('{{', i + 1)) {
    const step = readHistogram(line, i + 1);
    text = line.slice(pos, step.end);
    if (line[step.end] !== 'x') throw new SeriesSyntaxError('expected "x<count>" after a histogram step', step.end);
    const n = readUint(line, step.end + 1);
    count = n.value + 1;
    i = n.end;
  }
  for (let k = 0; k < count; k++) out.push({ omitted: false, value: NaN, histogram: text });
  return i;
}

function readHistogram(line: string, pos: number): { text: string; end: number } {
  const close = line.indexOf('}}', pos + 2);
  if (close < 0) throw new SeriesSyntaxError('unterminated histogram description', pos);
  return { text: line.slice(pos, close + 2), end: close + 2 };
}
