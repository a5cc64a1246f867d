// Prometheus's own promtool (Debian package `prometheus`) querying tsprom over HTTP.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { startTsprom, type Tsprom } from './api_process.js';
import { writeRequestBody } from './remote_write_proto.js';

const PROMTOOL = '/usr/bin/promtool';
const run = promisify(execFile);

async function promtool(...args: string[]): Promise<string> {
  const { stdout } = await run(PROMTOOL, args, { timeout: 20_000 });
  return stdout;
}

const T = Math.floor(Date.now() / 60_000) * 60_000 - 300_000;

describe('promtool against tsprom', () => {
  let s: Tsprom;
  before(async () => {
    assert.ok(existsSync(PROMTOOL), 'promtool is missing: install the Debian package prometheus');
    s = await startTsprom({ args: ['--web.enable-remote-write-receiver'] });
    const body = writeRequestBody([
      { labels: { __name__: 'pt_metric', job: 'a', instance: 'h:1' }, samples: [0, 1, 2, 3].map((i) => [T - 45_000 + i * 15_000, i * 2.5]) },
      { labels: { __name__: 'pt_metric', job: 'b', instance: 'h:2' }, samples: [[T, 42]] },
    ]);
    const r = await fetch(`${s.base}/api/v1/write`, { method: 'POST', body, headers: { 'Content-Encoding': 'snappy' } });
    assert.equal(r.status, 204);
  });
  after(async () => {
    await s.stop();
  });

  test('query instant', async () => {
    const out = await promtool('query', 'instant', `--time=${T / 1000}`, s.base, 'pt_metric');
    assert.equal(out, `pt_metric{instance="h:1", job="a"} => 7.5 @[${T / 1000}]\npt_metric{instance="h:2", job="b"} => 42 @[${T / 1000}]\n`);
    const json = JSON.parse(await promtool('query', 'instant', '-o', 'json', `--time=${T / 1000}`, s.base, 'sum(pt_metric)')) as unknown;
    assert.deepEqual(json, [{ metric: {}, value: [T / 1000, '49.5'] }]);
  });

  test('query range', async () => {
    const out = await promtool('query', 'range', `--start=${(T - 45_000) / 1000}`, `--end=${T / 1000}`, '--step=15s', s.base, 'pt_metric{job="a"}');
    const ts = [0, 1, 2, 3].map((i) => (T - 45_000 + i * 15_000) / 1000);
    assert.equal(out, `pt_metric{instance="h:1", job="a"} =>\n${ts.map((t, i) => `${i * 2.5} @[${t}]`).join('\n')}\n`);
  });

  test('query series and labels', async () => {
    const series = await promtool('query', 'series', '--match=pt_metric', s.base);
    assert.equal(series, '{__name__="pt_metric", instance="h:1", job="a"}\n{__name__="pt_metric", instance="h:2", job="b"}\n');
    const labels = await promtool('query', 'labels', s.base, 'job');
    assert.equal(labels, 'a\nb\n');
  });

  test('errors surface as promtool errors', async () => {
    await assert.rejects(promtool('query', 'instant', s.base, 'pt_metric{'), (e: { code?: number; stderr?: string }) => {
      assert.equal(e.code, 1);
      assert.match(String(e.stderr), /bad_data: invalid parameter "query": 1:11: parse error: unexpected end of input inside braces/);
      return true;
    });
  });
});
