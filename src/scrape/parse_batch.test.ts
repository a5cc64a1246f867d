import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Entry, TextParseError, type TextParser } from '../model/textparse/interface.js';
import { PromParser } from '../model/textparse/prom_parser.js';
import { OpenMetricsParser } from '../model/textparse/openmetrics_parser.js';
import { BatchParser, bodySize, parseBatch, PROM_TEXT, SharedBodies, type PreviousBody, type TextFormat } from './parse_batch.js';

function exemplarOf(p: TextParser): unknown {
  const e = p.exemplar();
  return e === null ? null : { labels: e.labels.toString(), value: e.value, ts: e.timestamp };
}

/** Everything the scrape loop can ask of each entry, in order; a parse error ends the list. */
function transcript(p: TextParser, withSt = true): unknown[] {
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
        out.push({ e, key: p.seriesKey(), hash: p.seriesHash(), is: p.seriesIs(p.seriesKey()), isOther: p.seriesIs('x'), name: p.metricName(), labels, v: p.value(), ts: p.timestamp(), type: p.currentType(), ex: exemplarOf(p), st: withSt ? p.startTimestamp() : 0 });
      } else if (e === Entry.Help) out.push({ e, name: p.metaName(), text: p.helpText() });
      else if (e === Entry.Type) out.push({ e, name: p.metaName(), type: p.metricType() });
      else if (e === Entry.Unit) out.push({ e, name: p.metaName(), unit: p.unitText() });
      else out.push({ e, text: p.commentText() });
    }
    out.push('EOF');
  } catch (err) {
    assert.ok(err instanceof TextParseError);
    out.push({ err: err.message, reason: err.reason, line: err.line });
  }
  return out;
}

function shared(text: string): { sab: SharedArrayBuffer; length: number; buf: Buffer } {
  const b = Buffer.from(text);
  const sab = new SharedArrayBuffer(b.length + 7);
  new Uint8Array(sab).set(b);
  return { sab, length: b.length, buf: Buffer.from(sab, 0, b.length) };
}

function replay(text: string, prev: PreviousBody | null = null, format: TextFormat = PROM_TEXT): BatchParser {
  const s = shared(text);
  const batch = parseBatch(s.buf, prev, format);
  return new BatchParser(Buffer.from(text), batch, undefined, { body: s.sab, length: s.length, ranges: batch.ranges, count: batch.count }, prev);
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

  const OM: Record<string, string> = {
    'exemplars, units, created series': [
      '# TYPE foo counter',
      '# HELP foo A counter.',
      '# UNIT foo_seconds seconds',
      'foo_total{a="1"} 17.0 1520879607.789 # {id="counter-test"} 5',
      'foo_created{a="1"} 1520872607.123',
      'foo_total{a="2"} 3 # {id="x",z="y"} 1 1520879607.5',
      '# TYPE h histogram',
      'h_bucket{le="0.5"} 1',
      'h_bucket{le="+Inf"} 2 # {t="u"} 0.7',
      'h_count 2',
      'h_sum 1.2',
      'h_created 1520872607.5',
      '# TYPE g gauge',
      'g 1',
      '# EOF',
      '',
    ].join('\n'),
    'no # EOF': '# TYPE g gauge\ng 1\n',
    'a bad line after a good one': 'g 1\ng{ 2\n# EOF\n',
  };
  for (const [name, text] of Object.entries(OM)) {
    for (const createdTimestamps of [false, true]) {
      test(`replays what OpenMetricsParser reads: ${name}${createdTimestamps ? ', created timestamps' : ''}`, () => {
        const inline = new OpenMetricsParser(Buffer.from(text), { skipCreatedSeries: createdTimestamps });
        // Start timestamps are carried only when asked for (the loop reads them only then).
        assert.deepEqual(transcript(replay(text, null, { openMetrics: true, createdTimestamps }), createdTimestamps), transcript(inline, createdTimestamps));
      });
    }
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

  test('each series is compared with the series at the same position of the previous body', () => {
    const first = replay('# TYPE a counter\na{x="1"} 1\nb 2\nc{y="2"} 3\n');
    const prev = first.body;
    assert.equal(prev.count, 3);
    const r = replay('a{x="1"} 5 1000\nb{z="1"} 6\n# comment\nc{y="2"} 7\nd 8\n', prev);
    const same: boolean[] = [];
    for (let e = r.next(); e !== Entry.EOF; e = r.next()) if (e === Entry.Series) same.push(r.sameAsPrevious());
    // a: same bytes; b{z="1"}: other bytes; c: same position and bytes; d: no series 3 before.
    assert.deepEqual(same, [true, false, true, false]);
    assert.equal(r.comparedWith, prev);
    const none = replay('a{x="1"} 1\n');
    none.next();
    assert.equal(none.sameAsPrevious(), false, 'without a previous body nothing is the same');
  });
});

describe('SharedBodies', () => {
  test('sizes waste at most an eighth', () => {
    assert.equal(bodySize(1), 1 << 14);
    assert.equal(bodySize(1 << 16), 1 << 16);
    assert.equal(bodySize((1 << 16) + 1), 9 * 8192);
    for (const n of [20_000, 65_537, 1_000_000, 3_700_000]) assert.ok(bodySize(n) >= n && bodySize(n) <= n * 1.125, String(n));
  });

  test('reuses fitting buffers and keeps at most its count and bytes', () => {
    const b = new SharedBodies(2, 300_000);
    const x = b.take(60_000);
    assert.equal(x.byteLength, 61_440);
    b.give(x);
    assert.equal(b.take(55_000), x, 'a fitting idle buffer is reused');
    b.give(x);
    assert.notEqual(b.take(30_000), x, 'a buffer more than 25% too large is not handed out');
    const big = b.take(200_000);
    assert.equal(big.byteLength, 212_992);
    b.give(big);
    assert.equal(b.bytes, 61_440 + 212_992);
    b.give(b.take(10_000));
    assert.equal(b.bytes, 61_440 + 212_992, 'the count bound refused a third buffer');
    const c = new SharedBodies(4, 100_000);
    c.give(big);
    assert.equal(c.bytes, 0, 'the byte bound refused a buffer too large');
  });
});
