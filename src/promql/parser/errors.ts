// Parse errors carry Prometheus's wording and a `line:col` position.
import type { PosRange } from './ast.js';

/**
 * 1-based line and column of a UTF-16 offset in the query text. The column
 * counts UTF-8 bytes from the line start, as Prometheus's positions do.
 */
export function lineCol(query: string, pos: number): { line: number; col: number } {
  let line = 1;
  let col = 1;
  const end = Math.min(pos, query.length);
  for (let i = 0; i < end; i++) {
    const c = query.charCodeAt(i);
    if (c === 10) {
      line++;
      col = 1;
    } else if (c < 0x80) col += 1;
    else if (c < 0x800) col += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < end && (query.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      col += 4;
      i++;
    } else col += 3;
  }
  return { line, col: col + Math.max(0, pos - end) };
}

/** Prometheus's `line:col` prefix; an empty query has no position. */
function positionString(query: string, pos: number): string {
  if (query === '') return 'unknown position';
  const { line, col } = lineCol(query, pos);
  return `${line}:${col}`;
}

export class ParseError extends Error {
  override readonly name = 'ParseError';
  /** The error text without the position prefix, e.g. `unexpected end of input`. */
  readonly detail: string;
  readonly posRange: PosRange;
  readonly query: string;

  constructor(detail: string, posRange: PosRange, query: string) {
    super(`${positionString(query, posRange.start)}: parse error: ${detail}`);
    this.detail = detail;
    this.posRange = posRange;
    this.query = query;
  }
}
