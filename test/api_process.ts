// Starts the compiled tsprom server (dist/src/cli/main.js) as a child process
// on a free loopback port with a temporary data directory, for end-to-end tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MAIN_JS = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');

export interface Tsprom {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly base: string;
  readonly dir: string;
  readonly configFile: string;
  /** Everything the server logged so far. */
  logs(): string;
  /** Resolves when the process has exited, with its exit code. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, wait for exit (SIGKILL after a while), remove the temp dir. */
  stop(): Promise<number | null>;
}

export interface StartOptions {
  args?: string[];
  /** prometheus.yml text; default: an empty config. */
  config?: string;
  /** Wait for readiness (default) or only for the listening port. */
  waitReady?: boolean;
  /** Run in this directory (kept on stop, so a restart finds its data); default: a new temp dir, removed on stop. */
  dir?: string;
  /**
   * Give Node this heap size, so tsprom runs as one process instead of a launcher with the
   * server as its child: tests that kill -9 the server itself need that.
   */
  heapMiB?: number;
}

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;

export async function startTsprom(opts: StartOptions = {}): Promise<Tsprom> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tsprom-api-'));
  const removeDir = opts.dir === undefined;
  const configFile = join(dir, 'tsprom.yml');
  writeFileSync(configFile, opts.config ?? 'global:\n  scrape_interval: 15s\n');
  const proc = spawn(
    process.execPath,
    [...(opts.heapMiB !== undefined ? [`--max-old-space-size=${opts.heapMiB}`] : []), MAIN_JS, `--config.file=${configFile}`, storageFlag(dir, opts.args ?? []), '--web.listen-address=127.0.0.1:0', ...(opts.args ?? [])],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));

  const port = await waitForPort().catch(async (e: unknown) => {
    // Never leave a half-started server or its directory behind.
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
    if (removeDir) rmSync(dir, { recursive: true, force: true });
    throw e;
  });

  function waitForPort(): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`tsprom did not start:\n${out}`)), START_TIMEOUT_MS);
      const check = (): void => {
        const m = /msg="Listening on" address=[^\s]*:(\d+)/.exec(out);
        const ready = opts.waitReady === false || out.includes('Server is ready to receive web requests.');
        if (m !== null && ready) {
          clearTimeout(deadline);
          resolve(Number(m[1]));
        }
      };
      proc.stderr!.on('data', check);
      void exited.then((code) => {
        clearTimeout(deadline);
        reject(new Error(`tsprom exited with ${code} before it was ready:\n${out}`));
      });
    });
  }

  const stop = async (): Promise<number | null> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    if (removeDir) rmSync(dir, { recursive: true, force: true });
    return proc.exitCode;
  };
  return { proc, port, base: `http://127.0.0.1:${port}`, dir, configFile, logs: () => out, exited, stop };
}

/** Agent mode refuses --storage.tsdb.path (as Prometheus does): it stores under --storage.agent.path. */
function storageFlag(dir: string, args: readonly string[]): string {
  return args.includes('--agent') ? `--storage.agent.path=${join(dir, 'data-agent')}` : `--storage.tsdb.path=${join(dir, 'data')}`;
}

/** GET or POST, parsed as JSON, with the status. */
export async function api(url: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(url, init);
  const text = await r.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: r.status, body };
}

export function postForm(params: Record<string, string | string[]>): RequestInit {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
  return { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } };
}
