// CPU time of another process (a peer server the bench runs beside tsprom), from Linux's /proc.
import { readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc/<pid>/stat reports CPU time in these ticks. */
const CLOCK_TICKS_PER_S = 100;

/** User plus system CPU seconds the process has used so far. */
export function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')';
  // utime and stime are fields 14 and 15 of the full line, 0-based 11 and 12 here.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS_PER_S;
}
