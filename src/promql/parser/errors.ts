// Parse errors carry Prometheus's wording and a `line:col` position.
import type { PosRange } from './ast.js';

/** 1-based line and column of a UTF-16 offset in the query text. */
export function lineCol(query: string, pos: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(pos, query.length);
  for (let i = 0; i < end; i++) {
    if (query.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: pos - lineStart + 1 };
}

export class ParseError extends Error {
  override readonly name = 'ParseError';
  /** The error text without the position prefix, e.g. `unexpected end of input`. */
  readonly detail: string;
  readonly posRange: PosRange;
  readonly query: string;

  constructor(detail: string, posRange: PosRange, query: string) {
    const { line, col } = lineCol(query, posRange.start);
    super(`${line}:${col}: parse error: ${detail}`);
    this.detail = detail;
    this.posRange = posRange;
    this.query = query;
  }
}
