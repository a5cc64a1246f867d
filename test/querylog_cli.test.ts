import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runQuerylogCommand } from '../src/cli/querylog.js';
import { formatQueryLogLine, record } from './querylog_helpers.js';

function capture(): { io: { stdout: Writable; stderr: Writable }; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const w = (f: (s: string) => void) => new Writable({ write: (c, _e, cb) => (f(String(c)), cb()) });
  return { io: { stdout: w((s) => (out += s)), stderr: w((s) => (err += s)) }, out: () => out, err: () => err };
}

function line(query: string, sec: number, samples: number, extra: Partial<Parameters<typeof record>[1]> = {}): string {
  const r = record(0, extra);
  return formatQueryLogLine(
    { ...r, params: { ...r.params, query }, stats: { timings: { ...r.stats.timings, execTotalTime: sec }, samples: { totalQueryableSamples: samples, peakSamples: 1 } } },
    Date.UTC(2024, 0, 1),
  );
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsprom-querylog-cli-'));
});
after(() => rmSync(dir, { recursive: true }));

describe('tsprom querylog top', () => {
  function sample(): string {
    const file = join(dir, 'q.log');
    const lines: string[] = [];
    for (let i = 0; i < 50; i++) lines.push(line('up', 0.001, 10));
    for (let i = 0; i < 30; i++) lines.push(line('rate(x[5m])', 0.01, 500, { origin: { ruleGroup: { file: 'r.yml', name: 'g1' } } }));
    for (let i = 0; i < 20; i++) lines.push(line('sum(y)', 0.002, 50, { error: 'boom' }));
    lines.push(line('histogram_quantile(0.9, rate(h[1h]))', 4.5, 90_000));
    lines.push('not json\n', '\n', '{"msg":"other"}\n');
    writeFileSync(file, lines.join(''));
    return file;
  }

  test('--by duration lists the slowest executions first, and origins', async () => {
    const c = capture();
    assert.equal(await runQuerylogCommand(['top', sample(), '--limit', '2'], c.io), 0);
    const out = c.out();
    assert.match(out, /: 101 queries, 20 failed/);
    assert.match(out, /skipped lines: 2 not query-log JSON, 0 longer/);
    const rows = out.split('Slowest executions')[1]!.split('By origin')[0]!.trim().split('\n').slice(2);
    assert.equal(rows.length, 2);
    assert.match(rows[0]!, /^4\.500s\s+90,000 .* histogram_quantile/);
    assert.match(rows[1]!, /^10\.000ms .*rate\(x\[5m\]\)$/);
    assert.match(out, /By origin:[\s\S]*\n71 +20 .* http GET \/api\/v1\/query_range\n30 +0 .*rule group g1 \(r\.yml\)/);
  });

  test('--by count and --by samples', async () => {
    const file = sample();
    let c = capture();
    assert.equal(await runQuerylogCommand(['top', file, '--by=count'], c.io), 0);
    const rows = c.out().split('Most frequent queries')[1]!.split('\n').slice(2, 6);
    assert.match(rows[0]!, /^50 +0 .* up$/);
    assert.match(rows[1]!, /^30 +0 .* rate\(x\[5m\]\)$/);
    assert.match(rows[2]!, /^20 +20 .* sum\(y\)$/);
    c = capture();
    assert.equal(await runQuerylogCommand(['top', file, '--by', 'samples', '--limit', '1'], c.io), 0);
    assert.match(c.out(), /most samples[^\n]*\n[^\n]*\n4\.500s +90,000/);
  });

  test('bounded distinct-query map keeps frequent queries and reports its error bound', async () => {
    const file = join(dir, 'many.log');
    const ws = createWriteStream(file);
    for (let i = 0; i < 25_000; i++) {
      let chunk = line(`distinct_${i}`, 0.001, 1);
      if (i % 10 === 0) chunk += line('hot', 0.001, 1);
      if (!ws.write(chunk)) await once(ws, 'drain');
    }
    ws.end();
    await once(ws, 'finish');
    const c = capture();
    assert.equal(await runQuerylogCommand(['top', file, '--by', 'count', '--limit', '1'], c.io), 0);
    assert.match(c.out(), /\n2,500 +0 .* hot\n/);
    assert.match(c.out(), /rarely seen ones were forgotten; counts may be low by up to 1\)/);
  });

  test('over-long lines are skipped, a last line without newline is read', async () => {
    const file = join(dir, 'long.log');
    writeFileSync(file, line('a', 1, 1) + '{"x":"' + 'y'.repeat(3 << 20) + '"}\n' + line('b', 2, 1).trimEnd());
    const c = capture();
    assert.equal(await runQuerylogCommand(['top', file], c.io), 0);
    assert.match(c.out(), /: 2 queries/);
    assert.match(c.out(), /0 not query-log JSON, 1 longer than/);
  });

  test('usage errors exit 2, unreadable files exit 1', async () => {
    for (const argv of [[], ['bottom', 'f'], ['top'], ['top', 'f', '--by', 'speed'], ['top', 'f', '--limit', '0'], ['top', 'f', '--bogus']]) {
      const c = capture();
      assert.equal(await runQuerylogCommand(argv, c.io), 2, argv.join(' '));
      assert.match(c.err(), /usage: tsprom querylog top/);
    }
    const c = capture();
    assert.equal(await runQuerylogCommand(['top', join(dir, 'nope.log')], c.io), 1);
    assert.match(c.err(), /cannot read .*nope\.log/);
    const h = capture();
    assert.equal(await runQuerylogCommand(['--help'], h.io), 0);
    assert.match(h.out(), /--by count/);
  });
});
