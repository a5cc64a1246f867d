// Starting the server with its heap limit: Node fixes the old-space limit
// when the isolate starts, so `tsprom` (main.ts) runs the server as one
// child process with --max-old-space-size and an allocator tuned to hand
// memory back, passing signals on and exiting as the child did. The child
// dies with its launcher, so killing the launcher (even with SIGKILL) stops
// the server.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';

/** Set in the child's environment: the launcher's private memory at spawn time, which the child adds to its own RSS. */
export const SUPERVISOR_ENV = 'TSPROM_SUPERVISOR_RSS';

/**
 * glibc malloc settings for the child. Buffers and typed arrays come from malloc: with one arena per
 * thread and a sliding mmap threshold, freed blocks stay in the process; two arenas, a fixed 128 KiB
 * mmap threshold (large blocks are unmapped on free) and a low trim threshold return them. The user's
 * own settings win.
 */
const MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_TRIM_THRESHOLD_: '131072',
};

/**
 * jemalloc, when installed (Debian's libjemalloc2), as the child's allocator: glibc returns freed
 * memory only from the top of its heap, so the tens of thousands of small typed arrays a large query
 * frees stay resident behind a few live blocks (measured: 188 MB at rest, still 234 MB 30 s after
 * large queries); jemalloc purges freed pages within a second (193 MB at rest, 190 MB 30 s after). Not used when the user
 * preloads a library of their own or sets TSPROM_ALLOCATOR=glibc.
 */
const JEMALLOC_PATHS = [
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2',
  '/usr/lib/libjemalloc.so.2',
];
const JEMALLOC_CONF = 'background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0';

function allocatorEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  if (env.LD_PRELOAD !== undefined || env.TSPROM_ALLOCATOR === 'glibc') return {};
  const lib = JEMALLOC_PATHS.find((p) => existsSync(p));
  return lib === undefined ? {} : { LD_PRELOAD: lib, MALLOC_CONF: JEMALLOC_CONF };
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Old-generation size V8 starts from, in MiB. The server's JS heap is small (samples live in typed
 * arrays outside it): 17 MB live with 10k series. V8 sizes the old generation's limit from the live
 * size, and once the slack under that limit is below the young generation's capacity it starts a full
 * mark-compact from a task; with queries filling the young generation that meant a mark-compact every
 * ~150 ms (5-10 ms pauses, measured) with nothing promoted. Starting from 64 MiB keeps the slack above
 * it: 3 mark-compacts instead of 22-34 over 1,000 range queries, same RSS. A quarter of the heap limit
 * at most, so small memory limits keep their headroom.
 */
export const INITIAL_OLD_SPACE_MIB = 64;

/**
 * Young-generation semi-space size in MiB (V8's default on 64-bit hosts is 16). A scavenge copies
 * what is still alive, and a long query keeps its intermediate series alive while it runs: with 16
 * MiB a scavenge during a 7,200-series range query paused 3-7 ms at the median and over 14 ms at
 * p90, and remote writes landing in those pauses made the tail of their latency. With 4 MiB the
 * pauses are 1-1.5 ms (p90 under 3 ms) for about the same total scavenge time, and the smaller young
 * generation also leaves more slack under the old generation's limit (fewer mark-compacts started
 * from a task, see INITIAL_OLD_SPACE_MIB); remote-write ingest throughput is unchanged.
 */
export const SEMI_SPACE_MIB = 4;

/** Whether a V8 flag (given as a regex of its name) is among the node options or NODE_OPTIONS. */
function flagGiven(re: RegExp, execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return execArgv.some((a) => re.test(a)) || (nodeOptions ?? '').split(/\s+/).some((a) => re.test(a));
}

/** The child's V8 flags: the heap limit, and the initial old-generation and semi-space sizes unless the user set them. */
export function heapFlags(heapMiB: number, execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const flags = [`--max-old-space-size=${heapMiB}`];
  const initial = Math.min(INITIAL_OLD_SPACE_MIB, Math.floor(heapMiB / 4));
  if (!flagGiven(/^--initial[-_]old[-_]space[-_]size(=|$)/, execArgv, nodeOptions) && initial > 0) flags.push(`--initial-old-space-size=${initial}`);
  if (!flagGiven(/^--(max|min)[-_]semi[-_]space[-_]size(=|$)/, execArgv, nodeOptions)) flags.push(`--max-semi-space-size=${SEMI_SPACE_MIB}`);
  return flags;
}

/** Runs `script argv` in a child with the given heap limit; resolves with its exit code (re-raises a fatal signal). */
export function runWithHeapLimit(script: string, argv: readonly string[], heapMiB: number): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...MALLOC_ENV, ...allocatorEnv(process.env), ...process.env, [SUPERVISOR_ENV]: String(privateBytes()) };
  const child = spawn(process.execPath, [...process.execArgv, ...heapFlags(heapMiB, process.execArgv, process.env['NODE_OPTIONS']), script, ...argv], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env,
  });
  const forward = (sig: NodeJS.Signals) => (): void => {
    child.kill(sig);
  };
  const handlers = FORWARDED.map((sig) => [sig, forward(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      for (const [sig, h] of handlers) process.off(sig, h);
      if (signal !== null) {
        // Die the same way, so a supervisor of ours sees what happened to the server.
        process.kill(process.pid, signal);
        resolve(128 + (constants.signals[signal] ?? 0));
        return;
      }
      resolve(code ?? 1);
    });
  });
}

/**
 * The launcher's anonymous resident memory (Linux's RssAnon): the Node binary's pages are shared
 * with the child and already in its RSS, so only this is extra. Elsewhere, the whole RSS.
 */
function privateBytes(): number {
  try {
    const m = /^RssAnon:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m !== null) return Number(m[1]) * 1024;
  } catch {
    // Not Linux.
  }
  return process.memoryUsage.rss();
}

/** In the child: true when started by runWithHeapLimit. Then it exits at once if its launcher goes away. */
export function watchLauncher(): boolean {
  if (process.env[SUPERVISOR_ENV] === undefined || process.channel === undefined) return false;
  process.channel.unref();
  process.once('disconnect', () => {
    // The launcher was killed: a crashed launcher must not leave a server holding the port and the data dir.
    process.kill(process.pid, 'SIGKILL');
  });
  return true;
}

/** The launcher's private memory, which counts against the same memory limit (0 without a launcher). */
export function launcherRss(): number {
  const v = Number(process.env[SUPERVISOR_ENV]);
  return Number.isFinite(v) && v > 0 ? v : 0;
}
