// The memory guard in a real process: the memory limit from --memory.limit sizes the JS heap the
// server runs with (the launcher starts it with --max-old-space-size), and a limit below what the
// server needs at rest is real pressure: new queries get 503, rule groups skip their iterations,
// and writes are still accepted and kept.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { api, startTsprom } from './api_process.js';
import { writeRequestBody } from './remote_write_proto.js';

const MiB = 2 ** 20;

async function metrics(base: string): Promise<string> {
  return (await fetch(`${base}/metrics`)).text();
}

function value(text: string, series: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}

async function until<T>(f: () => Promise<T | null>, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('memory guard in a real process', () => {
  it('sizes the heap from --memory.limit', { timeout: 60_000 }, async () => {
    const s = await startTsprom({ args: ['--memory.limit=1GB'] });
    try {
      const m = await metrics(s.base);
      assert.equal(value(m, 'tsprom_memory_limit_bytes'), 1024 * MiB);
      // Half the limit as old space (512 MiB), plus the young generation V8 adds.
      const heap = value(m, 'tsprom_heap_limit_bytes')!;
      assert.ok(heap >= 512 * MiB && heap < 640 * MiB, `heap limit ${heap}`);
      assert.equal(value(m, 'tsprom_memory_guard_state'), 0);
      assert.equal((await api(`${s.base}/api/v1/query?query=1`)).status, 200);
    } finally {
      await s.stop();
    }
  });

  it('the server runs with jemalloc when it is installed, which hands freed memory back', { timeout: 60_000 }, async (t) => {
    const lib = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';
    if (!existsSync(lib)) {
      t.skip(`${lib} is missing: install Debian's libjemalloc2 (.ci/run does)`);
      return;
    }
    const s = await startTsprom();
    try {
      const child = Number(execFileSync('pgrep', ['-P', String(s.proc.pid)]).toString().trim().split('\n')[0]);
      assert.ok(child > 0, 'the launcher has the server as its child');
      assert.match(readFileSync(`/proc/${child}/maps`, 'utf8'), /libjemalloc\.so\.2/);
      assert.equal((await api(`${s.base}/api/v1/query?query=1`)).status, 200);
    } finally {
      await s.stop();
    }
  });

  it('under a limit below its resting size it refuses queries and skips rules, but keeps writing', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'guard-mem-'));
    writeFileSync(join(dir, 'rules.yml'), 'groups:\n- name: g\n  interval: 1s\n  rules:\n  - record: r\n    expr: vector(1)\n');
    const s = await startTsprom({
      dir,
      config: `global:\n  scrape_interval: 15s\nrule_files: [${join(dir, 'rules.yml')}]\n`,
      args: ['--memory.limit=64MB', '--web.enable-remote-write-receiver'],
    });
    try {
      let m = await metrics(s.base);
      assert.equal(value(m, 'tsprom_memory_limit_bytes'), 64 * MiB);
      const heap = value(m, 'tsprom_heap_limit_bytes')!;
      assert.ok(heap >= 64 * MiB && heap < 160 * MiB, `heap limit ${heap} from --max-old-space-size=64`);
      await until(async () => (value(await metrics(s.base), 'tsprom_memory_guard_state')! >= 1 ? true : null), 'the guard shedding');

      const q = await api(`${s.base}/api/v1/query?query=${encodeURIComponent('vector(1)')}`);
      assert.equal(q.status, 503);
      assert.equal(q.body.errorType, 'unavailable');
      assert.match(String(q.body.error), /^query refused: memory use is at \d+% of the limit/);

      // Writes are never refused for memory, and what was acknowledged is kept.
      const t = Date.now();
      const w = await fetch(`${s.base}/api/v1/write`, {
        method: 'POST',
        body: writeRequestBody([{ labels: { __name__: 'kept_under_pressure', job: 'm' }, samples: [[t, 7]] }]),
        headers: { 'Content-Encoding': 'snappy' },
      });
      assert.equal(w.status, 204);
      const fed = await (await fetch(`${s.base}/federate?match[]=kept_under_pressure`)).text();
      assert.match(fed, new RegExp(`^kept_under_pressure\\{job="m",instance=""\\} 7 ${t}$`, 'm'));

      m = await until(async () => {
        const text = await metrics(s.base);
        return (value(text, 'tsprom_memory_shed_total{what="rule_group"}') ?? 0) > 0 ? text : null;
      }, 'a rule group iteration shed');
      assert.ok(value(m, 'tsprom_memory_shed_total{what="query"}')! >= 1);
      assert.ok(value(m, `prometheus_rule_group_iterations_missed_total{rule_group="${join(dir, 'rules.yml')};g"}`)! >= 1);
      assert.equal(value(m, `prometheus_rule_group_last_evaluation_timestamp_seconds{rule_group="${join(dir, 'rules.yml')};g"}`), 0, 'the group never evaluated');
    } finally {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
