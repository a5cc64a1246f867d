import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Annotations, annotations, formatWithPosition } from './annotations.js';

test('messages use Prometheus wording', () => {
  const pos = { start: 0, end: 1 };
  assert.equal(annotations.invalidQuantile(2, pos).message, 'PromQL warning: quantile value should be between 0 and 1, got 2');
  assert.equal(annotations.invalidQuantile(NaN, pos).message, 'PromQL warning: quantile value should be between 0 and 1, got NaN');
  assert.equal(
    annotations.invalidRatio(1.1, 1, pos).message,
    'PromQL warning: ratio value should be between -1 and 1, got 1.1, capping to 1',
  );
  assert.equal(
    annotations.possibleNonCounter('foo', pos).message,
    'PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "foo"',
  );
  assert.equal(
    annotations.badBucketLabel('series', 'x', pos).message,
    'PromQL warning: bucket label "le" is missing or has a malformed value of "x" for metric name "series"',
  );
  assert.equal(annotations.badBucketLabel('', 'x', pos).message, 'PromQL warning: bucket label "le" is missing or has a malformed value of "x"');
  assert.equal(annotations.sortInRangeQuery(pos).severity, 'warning');
  assert.equal(annotations.possibleNonCounter('foo', pos).severity, 'info');
});

test('equal messages are kept once and split by severity', () => {
  const a = new Annotations();
  a.add(annotations.invalidQuantile(2, { start: 0, end: 1 }));
  a.add(annotations.invalidQuantile(2, { start: 5, end: 6 }));
  a.add(annotations.possibleNonCounter('x', { start: 0, end: 1 }));
  assert.equal(a.size, 2);
  const s = a.strings();
  assert.equal(s.warnings.length, 1);
  assert.equal(s.infos.length, 1);
});

test('API form appends line:col of the expression', () => {
  const a = annotations.possibleNonCounter('foo', { start: 5, end: 8 });
  assert.equal(formatWithPosition(a, 'rate(foo[5m])'), `${a.message} (1:6)`);
  assert.equal(formatWithPosition(a, 'sum(\n  rate(foo[5m]))'), `${a.message} (2:1)`);
  const storageWarning = { severity: 'warning' as const, message: 'storage is slow', pos: null };
  assert.equal(formatWithPosition(storageWarning, 'up'), 'storage is slow');
});

test('forced monotonicity infos merge into one with the spanned details', () => {
  const pos = { start: 19, end: 20 };
  const a = new Annotations();
  a.add(annotations.histogramQuantileForcedMonotonicity('', pos, 60_000, 5, 10, 3));
  a.add(annotations.histogramQuantileForcedMonotonicity('', pos, 120_000, 1, 20, 0.5));
  assert.equal(a.size, 1);
  const [text] = a.stringsWithPosition('histogram_quantile(0.9, x)').infos;
  assert.equal(
    text,
    'PromQL info: input to histogram_quantile needed to be fixed for monotonicity ' +
      '(see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile), ' +
      'from buckets 1 to 20, with a max diff of 3, over 2 samples from 1970-01-01T00:01:00Z to 1970-01-01T00:02:00Z (1:20)',
  );
});
