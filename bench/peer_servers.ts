// The servers the ingest and queries benches measure, as real processes on loopback with
// fresh data directories: tsprom (dist/src/cli/main.js, started as users start it, so the
// launcher runs the server as its child with the default heap and allocator) and Debian's
// Prometheus 2.42, both with the remote-write receiver on and no scrape jobs. Also the
// figures read from outside: a process's VmRSS and a data directory's disk usage.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTsprom } from '../test/api_process.js';
import { startPrometheus } from '../test/prometheus_process.js';

export type ServerName = 'tsprom' | 'prometheus';

export interface Server {
  readonly name: ServerName;
  readonly base: string;
  /** The process that serves (for tsprom, the launcher's child). */
  readonly pid: number;
  readonly dataDir: string;
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Servers started and not stopped yet: an interrupted bench (Ctrl-C, SIGTERM) stops them first. */
const running = new Set<Server>();

function onSignal(sig: NodeJS.Signals): void {
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  console.error(`${sig}: stopping ${running.size} server(s)`);
  void Promise.allSettled([...running].map((s) => s.stop())).then(() => process.exit(130));
}

function track(s: Server): Server {
  if (running.size === 0) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  running.add(s);
  return {
    ...s,
    stop: async () => {
      running.delete(s);
      if (running.size === 0) {
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
      }
      await s.stop();
    },
  };
}

/** The one child of `pid` (tsprom's launcher starts the server as its only child). */
async function childOf(pid: number): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    if (kids !== '') return Number(kids.split(' ')[0]);
    await sleep(50);
  }
  // Started with its own heap size, tsprom runs in the launcher's process.
  return pid;
}

export async function startServer(name: ServerName): Promise<Server> {
  if (name === 'tsprom') {
    const t = await startTsprom({ args: ['--web.enable-remote-write-receiver'] });
    const pid = await childOf(t.proc.pid!);
    return track({
      name,
      base: t.base,
      pid,
      dataDir: join(t.dir, 'data'),
      stop: async () => {
        const code = await t.stop();
        // The figures are taken by then: say so, but keep them.
        if (code !== 0) console.error(`warning: tsprom exited with ${code}:\n${t.logs().slice(-3000)}`);
      },
    });
  }
  const p = await startPrometheus('global:\n  scrape_interval: 15s\nscrape_configs: []\n', ['--web.enable-remote-write-receiver']);
  return track({ name, base: p.base, pid: p.pid, dataDir: p.dataDir, stop: () => p.stop() });
}

/** VmRSS of a process, in MiB. */
export function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) / 1024;
}

/** Bytes a directory tree occupies on disk (as du counts them: allocated blocks). */
export function diskBytes(dir: string): number {
  let sum = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e);
    try {
      const st = lstatSync(p);
      sum += st.isDirectory() ? diskBytes(p) : st.blocks * 512;
    } catch {
      // Removed while walking (a temporary file): it holds nothing any more.
    }
  }
  return sum;
}
