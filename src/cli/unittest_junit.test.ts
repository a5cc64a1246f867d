import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JUnitSuite, junitTimestamp, junitXml } from './unittest_junit.js';

test('suites, cases, failures and errors in promtool JUnit shape with Go escaping', () => {
  const a = new JUnitSuite('a.yml');
  a.timestamp = '2026-01-02T03:04:05';
  a.addCase('ok');
  a.addCase('bad <one>');
  a.fail('    expr: "x",\n\texp');
  const b = new JUnitSuite('b&c.yml');
  b.abort("yaml: 'x'");
  assert.equal(
    junitXml([a, b]),
    '<testsuites>' +
      '<testsuite name="a.yml" tests="2" failures="1" errors="0" skipped="0" timestamp="2026-01-02T03:04:05">' +
      '<testcase name="ok"></testcase>' +
      '<testcase name="bad &lt;one&gt;"><failure>    expr: &#34;x&#34;,&#xA;&#x9;exp</failure></testcase>' +
      '</testsuite>' +
      '<testsuite name="b&amp;c.yml" tests="1" failures="0" errors="1" skipped="0" timestamp="">' +
      '<testcase name="unknown"><error>yaml: &#39;x&#39;</error></testcase>' +
      '</testsuite></testsuites>',
  );
});

test('timestamps in Go layout 2006-01-02T15:04:05 (local time)', () => {
  assert.equal(junitTimestamp(new Date(2026, 0, 2, 3, 4, 5)), '2026-01-02T03:04:05');
});
