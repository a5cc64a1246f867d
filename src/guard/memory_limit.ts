// The process's memory limit and the JS heap limit derived from it.
//
// The limit is, first match wins: --memory.limit, the cgroup's limit (v2
// memory.max of the process's cgroup and its parents, v1
// memory.limit_in_bytes), the machine's physical memory.
// Node sizes its old space once, when the isolate starts, so the heap limit
// is applied by starting the server with --max-old-space-size (reexec.ts).
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

export type MemoryLimitSource = 'flag' | 'cgroup' | 'physical';

export interface MemoryLimit {
  readonly bytes: number;
  readonly source: MemoryLimitSource;
}

/** How the limit is found; tests pass fakes. */
export interface MemoryLimitProbe {
  /** File contents, or null when the file cannot be read. */
  readFile(path: string): string | null;
  totalmem(): number;
}

const realProbe: MemoryLimitProbe = {
  readFile(p) {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return null;
    }
  },
  totalmem,
};

const CGROUP_V2_MAX = '/sys/fs/cgroup/memory.max';
/** The process's cgroups; the cgroup v2 line is "0::<path>". */
const PROC_SELF_CGROUP = '/proc/self/cgroup';
const CGROUP_V1_LIMIT = '/sys/fs/cgroup/memory/memory.limit_in_bytes';
/** cgroup v1 writes "no limit" as a huge page-rounded number: anything from 2^60 up is unlimited. */
const V1_UNLIMITED = 2 ** 60;

/** The share of the memory limit given to the JS heap: Buffers, typed arrays (the head's chunks) and worker threads live outside it. */
export const HEAP_SHARE = 0.5;
/** Smallest heap we ask for, so a tiny limit still lets the server start. */
const MIN_HEAP_MIB = 64;

/**
 * cgroup v2: the tightest memory.max from the process's own cgroup up to the root. In a container
 * (its own cgroup namespace) the own cgroup is the root file; a systemd service on the host sits
 * in /system.slice/<unit>.service, where MemoryMax= writes its limit, and a slice may set one too.
 * Undefined when no memory.max is readable at all (no cgroup v2).
 */
function cgroupV2Limit(probe: MemoryLimitProbe): number | null | undefined {
  const own = /^0::(\/[^\n]*)$/m.exec(probe.readFile(PROC_SELF_CGROUP) ?? '')?.[1] ?? '/';
  let seen = false;
  let limit: number | null = null;
  for (let dir = own.replace(/\/+$/, ''); ; dir = dir.slice(0, dir.lastIndexOf('/'))) {
    const text = probe.readFile(dir === '' ? CGROUP_V2_MAX : `/sys/fs/cgroup${dir}/memory.max`)?.trim();
    if (text !== undefined) {
      seen = true;
      if (/^\d+$/.test(text)) limit = Math.min(limit ?? Infinity, Number(text));
    }
    if (dir === '') break;
  }
  return seen ? limit : undefined;
}

function cgroupLimit(probe: MemoryLimitProbe): number | null {
  const v2 = cgroupV2Limit(probe);
  if (v2 !== undefined) return v2;
  const v1 = probe.readFile(CGROUP_V1_LIMIT)?.trim();
  if (v1 === undefined || !/^\d+$/.test(v1)) return null;
  const n = Number(v1);
  return n >= V1_UNLIMITED ? null : n;
}

/** The memory limit: the flag's value when non-zero, else the cgroup's, else physical memory. */
export function detectMemoryLimit(flagBytes: number, probe: MemoryLimitProbe = realProbe): MemoryLimit {
  if (flagBytes > 0) return { bytes: flagBytes, source: 'flag' };
  const cg = cgroupLimit(probe);
  // A cgroup limit above physical memory is no limit in practice.
  const phys = probe.totalmem();
  if (cg !== null && cg > 0 && cg < phys) return { bytes: cg, source: 'cgroup' };
  return { bytes: phys, source: 'physical' };
}

/** --max-old-space-size (MiB) for a memory limit. */
export function heapLimitMiB(limitBytes: number): number {
  return Math.max(MIN_HEAP_MIB, Math.floor((limitBytes * HEAP_SHARE) / 2 ** 20));
}

/** True when the user already chose the heap size (node flags or NODE_OPTIONS): then we leave it alone. */
export function heapSizeGiven(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const re = /^--max[-_]old[-_]space[-_]size(=|$)/;
  return execArgv.some((a) => re.test(a)) || (nodeOptions ?? '').split(/\s+/).some((a) => re.test(a));
}
