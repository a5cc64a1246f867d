// Starts Debian's Prometheus 2.42 (/usr/bin/prometheus) on a free loopback port with a temp
// data directory, for tests that compare tsprom with it; stopped by PID.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './alertmanager_process.js';
import { freePort } from './free_port.js';

export const PROMETHEUS = '/usr/bin/prometheus';

export interface Prometheus {
  readonly base: string;
  /** The server's process id (for /proc figures in benches). */
  readonly pid: number;
  /** The TSDB directory (removed by stop()). */
  readonly dataDir: string;
  logs(): string;
  stop(): Promise<void>;
}

const STOP_TIMEOUT_MS = 10_000;

export async function startPrometheus(config: string, args: readonly string[] = []): Promise<Prometheus> {
  assert.ok(existsSync(PROMETHEUS), `${PROMETHEUS} is missing: install the Debian package "prometheus" (.ci/run installs it)`);
  const dir = mkdtempSync(join(tmpdir(), 'tsprom-prom-'));
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const p = spawn(
    PROMETHEUS,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, ...args],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  p.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-20_000)));
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  // Should the test process die without stopping it, take Prometheus with it.
  const killOnExit = (): void => void p.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async (): Promise<void> => {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(t);
    }
    process.removeListener('exit', killOnExit);
    rmSync(dir, { recursive: true, force: true });
  };
  const base = `http://127.0.0.1:${port}`;
  try {
    await until(async () => {
      assert.ok(p.exitCode === null, `prometheus exited early:\n${log}`);
      return (await fetch(`${base}/-/ready`)).ok ? true : null;
    }, 'prometheus ready');
  } catch (e) {
    await stop();
    throw e;
  }
  return { base, pid: p.pid!, dataDir: join(dir, 'data'), logs: () => log, stop };
}
