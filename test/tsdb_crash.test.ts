// Crash test: a child process appends and commits batches and reports each
// one; it is killed with SIGKILL at random moments. After every kill the
// directory is reopened and every committed batch must be there exactly
// once, rolled-back batches never, and the one batch in flight all or
// nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Matcher, MatchType } from '../src/model/matcher.js';
import { ValueType } from '../src/storage/interface.js';
import { openDB } from '../src/tsdb/db.js';
import { DBLockedError } from '../src/tsdb/fileutil/lock.js';
import { CRASH_STEP_MS, crashValue } from './fixtures/tsdb_crash_shared.js';

const ROUNDS = 24;
const SERIES = 20;

/** Runs the child with plain node when compiled, through tsx when run from source. */
function childCommand(): { cmd: string; args: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ts = here.endsWith('.ts');
  const child = path.join(path.dirname(here), 'fixtures', ts ? 'tsdb_crash_child.ts' : 'tsdb_crash_child.js');
  return { cmd: process.execPath, args: ts ? ['--import', 'tsx', child] : [child] };
}

interface Round {
  committed: number[];
  rolledBack: number[];
  /** Begun but neither committed nor rolled back when the process died. */
  inFlight: number | null;
  lastBegun: number;
}

function startChild(dir: string, first: number, mode: string): { proc: ChildProcess; lines: string[]; waitFor: (pred: (l: string[]) => boolean) => Promise<void> } {
  const { cmd, args } = childCommand();
  const proc = spawn(cmd, [...args, dir, String(first), String(SERIES), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const waitFor = (pred: (l: string[]) => boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (pred(lines)) resolve();
        else if (proc.exitCode !== null || proc.signalCode !== null) reject(new Error(`child exited early: ${stderr}`));
        else waiters.push(check);
      };
      proc.on('exit', () => {
        for (const w of waiters.splice(0)) w();
      });
      check();
    });
  return { proc, lines, waitFor };
}

function parse(lines: string[]): Round {
  const r: Round = { committed: [], rolledBack: [], inFlight: null, lastBegun: -1 };
  for (const l of lines) {
    const [kind, ts] = l.split(' ');
    const t = Number(ts);
    if (kind === 'B') {
      r.inFlight = t;
      r.lastBegun = t;
    } else if (kind === 'C') {
      r.committed.push(t);
      r.inFlight = null;
    } else if (kind === 'R') {
      r.rolledBack.push(t);
      r.inFlight = null;
    }
  }
  return r;
}

const killed = (p: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) resolve();
    else p.once('exit', () => resolve());
  });

/** Reads every sample of the test series: per series, the list of (t, v). */
async function readAll(dir: string): Promise<Map<number, [number, number][]>> {
  const db = await openDB(dir, { minBlockDurationMs: 60 * CRASH_STEP_MS, maintenanceIntervalMs: 0, compactOnCommit: false });
  try {
    const q = db.querier(-Infinity, Infinity);
    const out = new Map<number, [number, number][]>();
    const ss = q.select(false, null, Matcher.create(MatchType.Equal, '__name__', 'crash_test'));
    while (ss.next()) {
      const it = ss.at().iterator();
      const samples: [number, number][] = [];
      while (it.next() !== ValueType.None) samples.push([it.t(), it.v()]);
      assert.equal(it.err(), null);
      out.set(Number(ss.at().labels.get('series')), samples);
    }
    q.close();
    return out;
  } finally {
    await db.close();
  }
}

test('committed samples survive SIGKILL exactly once; uncommitted ones never appear', { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdb-crash-'));
  try {
    const committed = new Set<number>();
    const rolledBack = new Set<number>();
    const inFlight = new Set<number>();
    let next = 1_000_000;
    let seed = 12345;
    const rand = (): number => {
      // xorshift: reproducible kill timings.
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    for (let round = 0; round < ROUNDS; round++) {
      const c = startChild(dir, next, 'run');
      const target = 1 + Math.floor(rand() * 150);
      await c.waitFor((l) => l.filter((x) => x.startsWith('C ')).length >= target);
      // Let it run a little further, then kill at an arbitrary point.
      await new Promise((r) => setTimeout(r, rand() * 30));
      c.proc.kill('SIGKILL');
      await killed(c.proc);
      const r = parse(c.lines);
      for (const t of r.committed) committed.add(t);
      for (const t of r.rolledBack) rolledBack.add(t);
      if (r.inFlight !== null) inFlight.add(r.inFlight);
      next = r.lastBegun + CRASH_STEP_MS;

      const data = await readAll(dir);
      // Every series holds the same timestamps: a batch is all or nothing.
      const seen = new Map<number, number>();
      for (let i = 0; i < SERIES; i++) {
        const samples = data.get(i) ?? [];
        for (let k = 0; k < samples.length; k++) {
          const [t, v] = samples[k]!;
          if (k > 0) assert.ok(t > samples[k - 1]![0], `series ${i}: timestamps not strictly increasing at ${t}`);
          assert.equal(v, crashValue(i, t), `series ${i} at ${t}`);
          seen.set(t, (seen.get(t) ?? 0) + 1);
        }
      }
      for (const t of committed) assert.equal(seen.get(t), SERIES, `round ${round}: committed batch ${t} has ${seen.get(t) ?? 0}/${SERIES} samples`);
      for (const [t, n] of seen) {
        assert.ok(!rolledBack.has(t), `rolled-back batch ${t} is visible`);
        assert.ok(committed.has(t) || inFlight.has(t), `batch ${t} was never committed`);
        assert.equal(n, SERIES, `batch ${t} is partial (${n}/${SERIES})`);
      }
    }
    assert.ok(committed.size > ROUNDS, 'the children committed batches');
    assert.ok(
      fs.readdirSync(dir).some((n) => /^[0-9A-Z]{26}$/.test(n)),
      'head compaction produced blocks during the run',
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a second process cannot open a directory that a live process holds', { timeout: 60_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdb-lock-'));
  const c = startChild(dir, 0, 'hold');
  try {
    await c.waitFor((l) => l.includes('READY'));
    await assert.rejects(openDB(dir), (e: Error) => e instanceof DBLockedError && e.message.includes(`in use by process ${c.proc.pid}`));
  } finally {
    c.proc.kill('SIGKILL');
    await killed(c.proc);
  }
  // Once it is dead the lock is stale and can be taken over.
  const db = await openDB(dir, { maintenanceIntervalMs: 0 });
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
