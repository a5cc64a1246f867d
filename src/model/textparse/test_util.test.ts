// Shared helpers for the parsers' unit tests. Named *.test.ts so it is built
// and shipped with the tests only; it defines no tests itself.
import assert from 'node:assert/strict';
import { Entry, TextParseError, type TextParser } from './interface.js';

export interface Row {
  kind: string;
  name?: string;
  labels?: string;
  value?: number;
  ts?: number | null;
  text?: string;
}

export function collect(p: TextParser): Row[] {
  const out: Row[] = [];
  for (let e = p.next(); e !== Entry.EOF; e = p.next()) {
    switch (e) {
      case Entry.Series:
        out.push({ kind: 'series', labels: p.labels().toString(), value: p.value(), ts: p.timestamp() });
        break;
      case Entry.Help:
        out.push({ kind: 'help', name: p.metaName(), text: p.helpText() });
        break;
      case Entry.Type:
        out.push({ kind: 'type', name: p.metaName(), text: p.metricType() });
        break;
      case Entry.Unit:
        out.push({ kind: 'unit', name: p.metaName(), text: p.unitText() });
        break;
      case Entry.Comment:
        out.push({ kind: 'comment', text: p.commentText() });
        break;
    }
  }
  return out;
}

export function errorOf(p: TextParser): TextParseError {
  try {
    while (p.next() !== Entry.EOF);
  } catch (e) {
    assert.ok(e instanceof TextParseError, `expected TextParseError, got ${e}`);
    return e;
  }
  assert.fail('expected a parse error');
}
