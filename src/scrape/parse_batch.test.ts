import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Entry, TextParseError, type TextParser } from '../model/textparse/interface.js';
import { PromParser } from '../model/textparse/prom_parser.js';
import { BatchParser, parseBatch } from './parse_batch.js';

/** Everything the scrape loop can ask of each entry, in order; a parse error ends the list. */
function transcript(p: TextParser): unknown[] {
  const out: unknown[] = [];
  try {
    for (let e = p.next(); e !== Entry.EOF; e = p.next()) {
      if (e === Entry.Series) {
        let labels: string;
        try {
          labels = p.labels().toString();
        } catch (err) {
          labels = `labels error: ${(err as Error).message}`;
        }
        out.push({ e, key: p.seriesKey(), hash: p.seriesHash(), is: p.seriesIs(p.seriesKey()), isOther: p.seriesIs('x'), name: p.metricName(), labels, v: p.value(), ts: p.timestamp(), type: p.currentType(), ex: p.exemplar(), st: p.startTimestamp() });
      } else if (e === Entry.Help) out.push({ e, name: p.metaName(), text: p.helpText() });
      else if (e === Entry.Type) out.push({ e, name: p.metaName(), type: p.metricType() });
      else out.push({ e, text: p.commentText() });
    }
    out.push('EOF');
  } catch (err) {
    assert.ok(err instanceof TextParseError);
    out.push({ err: err.message, reason: err.reason, line: err.line });
  }
  return out;
}

function replay(text: string): BatchParser {
  const body = Buffer.from(text);
  return new BatchParser(body, parseBatch(Buffer.from(body)), undefined);
}

const BODIES: Record<string, string> = {
  typical: [
    '# HELP http_requests_total The total number of requests.\\nSecond line.',
    '# TYPE http_requests_total counter',
    'http_requests_total{method="post",code="200"} 1027 1395066363000',
    'http_requests_total{method="post",code="400"}    3 1395066363000',
    '',
    '# A free comment',
    'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
    'metric_without_timestamp_and_labels 12.47',
    'something_weird{problem="division by zero"} +Inf 3982045',
    'not_a_number NaN',
    'trailing_comma{a="b",} 1',
    'tabs\t{a="b"}\t2',
    '',
  ].join('\n'),
  'histogram and summary labels are normalised by type': [
    '# TYPE h histogram',
    'h_bucket{le="1"} 1',
    'h_bucket{le="+Inf"} 2',
    '# TYPE s summary',
    's{quantile="0.50"} 3',
    '# TYPE g gauge',
    'g{le="1.0"} 4',
  ].join('\n'),
  'utf-8 names, no final newline': '# HELP "my.metric" Dotted.\n{"my.metric", "a.b"="c", d="é"} 2 1000',
  'parse error after some entries': 'a 1\nb{x="1"} 2\nc 3 -5\nd 4\n',
  'error in the first line': '{ 1\n',
  'duplicate label names fail in labels()': 'a{x="1",x="2"} 1\nb 2\n',
  'empty label values are dropped': 'a{x="",y="1"} 1\n',
  'unsorted labels': 'a{z="1",b="2",m="3"} 1\n',
};

describe('BatchParser', () => {
  for (const [name, text] of Object.entries(BODIES)) {
    test(`replays what PromParser reads: ${name}`, () => {
      assert.deepEqual(transcript(replay(text)), transcript(new PromParser(Buffer.from(text))));
    });
  }

  test('a large generated body replays entry for entry', () => {
    const lines = ['# HELP big A large family.', '# TYPE big counter'];
    for (let i = 0; i < 5000; i++) lines.push(`big{instance="host-${i % 50}:9100",shard="${i}"} ${i * 1.5}${i % 3 === 0 ? ` ${1700000000000 + i}` : ''}`);
    const text = lines.join('\n') + '\n';
    assert.deepEqual(transcript(replay(text)), transcript(new PromParser(Buffer.from(text))));
  });

  test('next() after EOF keeps answering EOF; a parse error is thrown again', () => {
    const ok = replay('a 1\n');
    assert.equal(ok.next(), Entry.Series);
    assert.equal(ok.next(), Entry.EOF);
    assert.equal(ok.next(), Entry.EOF);
    const bad = replay('a 1\nb c\n');
    assert.equal(bad.next(), Entry.Series);
    assert.throws(() => bad.next(), TextParseError);
    assert.throws(() => bad.next(), TextParseError);
  });
});
