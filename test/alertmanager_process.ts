// Starts Debian's Alertmanager (prometheus-alertmanager) on a free loopback port with a
// null receiver and no clustering, for tests that send it alerts; stopped by PID.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free_port.js';

export const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';

export interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  status: { state: string };
}

export interface Alertmanager {
  readonly port: number;
  readonly base: string;
  /** Alerts Alertmanager lists (active ones) with this alertname. */
  alerts(alertname: string): Promise<GettableAlert[]>;
  stop(): Promise<void>;
}


/** Polls f every `pollMs` until it returns non-null (errors count as null), for at most `ms`. */
export async function until<T>(f: () => Promise<T | null>, what: string, ms = 30_000, pollMs = 50): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export async function startAlertmanager(): Promise<Alertmanager> {
  assert.ok(existsSync(ALERTMANAGER), `${ALERTMANAGER} is missing: install Debian's prometheus-alertmanager package to run this test`);
  const dir = mkdtempSync(join(tmpdir(), 'tsprom-am-'));
  writeFileSync(join(dir, 'alertmanager.yml'), "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n");
  const port = await freePort();
  const child = spawn(
    ALERTMANAGER,
    [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-4000)));
  let exited = false;
  const exit = new Promise<void>((r) => child.on('exit', () => ((exited = true), r())));
  const base = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (!exited && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    await exit;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until(async () => {
      assert.ok(!exited, `alertmanager exited early: ${stderr}`);
      return (await fetch(`${base}/-/ready`)).status === 200 ? true : null;
    }, 'alertmanager ready');
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    port,
    base,
    async alerts(alertname) {
      const res = await fetch(`${base}/api/v2/alerts?filter=${encodeURIComponent(`alertname="${alertname}"`)}`);
      assert.equal(res.status, 200);
      return (await res.json()) as GettableAlert[];
    },
    stop,
  };
}
