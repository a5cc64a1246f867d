// The memory guard's hook in the rule manager: paused groups skip their iterations, counted as missed.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { Labels } from '../src/model/labels.js';
import { MemoryStorage } from '../src/storage/memory.js';
import { FakeClock, manager, samples } from '../src/rules/test_util.test.js';

const M = 60_000;
const T0 = 1_700_000_000_000;

async function counter(reg: Registry, name: string): Promise<number> {
  const vals = (await reg.getSingleMetric(name)!.get()).values;
  return vals.reduce((a, v) => a + v.value, 0);
}

describe('RuleManager.setPaused', () => {
  it('skips the groups it is told to and resumes them', async () => {
    const db = new MemoryStorage();
    const app = db.appender();
    for (let t = T0 - 10 * M; t <= T0 + 20 * M; t += 15_000) app.append(0, Labels.fromPairs('__name__', 'up', 'job', 'a'), t, 1);
    app.commit();
    const dir = mkdtempSync(join(tmpdir(), 'guard-rules-'));
    const f = join(dir, 'r.yml');
    writeFileSync(f, 'groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n');
    const clock = new FakeClock(T0);
    const registry = new Registry();
    const { m } = manager(db, clock, { registry });
    await m.update({ intervalMs: M, files: [f], externalLabels: Labels.EMPTY, queryOffsetMs: 0 });
    await clock.advance(2 * M);
    assert.equal(samples(db, 'r')[0]![1].length, 2);
    const asked: number[] = [];
    m.setPaused((lastMs) => {
      asked.push(lastMs);
      return true;
    });
    await clock.advance(3 * M);
    assert.equal(samples(db, 'r')[0]![1].length, 2, 'no evaluation while paused');
    assert.equal(asked.length, 3);
    assert.equal(await counter(registry, 'prometheus_rule_group_iterations_missed_total'), 3);
    assert.equal(await counter(registry, 'prometheus_rule_group_iterations_total'), 5);
    m.setPaused(() => false);
    await clock.advance(M);
    m.setPaused(null);
    await clock.advance(M);
    assert.equal(samples(db, 'r')[0]![1].length, 4);
    await m.stop();
  });
});
