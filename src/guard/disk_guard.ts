// The disk guard: every few seconds it reads the free space of the
// directories the server writes (the data dir, the query log's dir) with
// statfs, exports it, and tells the server which of them are under the
// --storage.disk-free-min mark, so that the query log pauses and size
// retention runs before the TSDB's writes start failing.
import { statfsSync } from 'node:fs';
import { Gauge, type Registry } from 'prom-client';
import { parseSize, UnitParseError } from '../config/units.js';
import { nopLogger, type Logger } from '../logging/types.js';

/** --storage.disk-free-min: a size, or a share of the file system. */
export type DiskFreeMin = { readonly kind: 'bytes'; readonly bytes: number } | { readonly kind: 'percent'; readonly percent: number };

export const DEFAULT_DISK_FREE_MIN = '1%';

/** Parses "512MB" or "2.5%"; throws UnitParseError. */
export function parseDiskFreeMin(s: string): DiskFreeMin {
  const m = /^(\d+(?:\.\d+)?)%$/.exec(s);
  if (m !== null) {
    const percent = Number(m[1]);
    if (percent >= 100) throw new UnitParseError(`invalid share ${JSON.stringify(s)}: want under 100%`);
    return { kind: 'percent', percent };
  }
  return { kind: 'bytes', bytes: parseSize(s) };
}

/** The free bytes under which a file system of `size` bytes counts as low. */
export function freeMinBytes(min: DiskFreeMin, size: number): number {
  return min.kind === 'bytes' ? min.bytes : Math.floor((size * min.percent) / 100);
}

export interface DiskSpace {
  /** Bytes an unprivileged writer may still use. */
  free: number;
  size: number;
}

export interface DiskGuardOptions {
  /** The directories to watch, read at every check (the query log's may change on reload). */
  paths: () => readonly string[];
  min: DiskFreeMin;
  registry: Registry;
  logger?: Logger;
  /** Reads a file system's space; null when it cannot. Default statfs. */
  statfs?: (path: string) => DiskSpace | null;
  /** Called when a path goes under the mark (low) or back over it. */
  onChange?: (path: string, low: boolean) => void;
}

export const DISK_CHECK_INTERVAL_MS = 2000;

function realStatfs(p: string): DiskSpace | null {
  try {
    const s = statfsSync(p);
    return { free: s.bavail * s.bsize, size: s.blocks * s.bsize };
  } catch {
    return null;
  }
}

export class DiskGuard {
  private readonly statfs: (path: string) => DiskSpace | null;
  private readonly logger: Logger;
  private readonly free: Gauge<'path'>;
  private readonly size: Gauge<'path'>;
  private readonly minGauge: Gauge<'path'>;
  private readonly lowPaths = new Set<string>();
  private watched = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: DiskGuardOptions) {
    this.statfs = o.statfs ?? realStatfs;
    this.logger = o.logger ?? nopLogger;
    const registers = [o.registry];
    this.free = new Gauge({ name: 'tsprom_disk_free_bytes', help: 'Free bytes of the file system holding the path (for unprivileged writers).', labelNames: ['path'], registers });
    this.size = new Gauge({ name: 'tsprom_disk_size_bytes', help: 'Size in bytes of the file system holding the path.', labelNames: ['path'], registers });
    this.minGauge = new Gauge({
      name: 'tsprom_disk_free_min_bytes',
      help: 'Free bytes under which the path counts as low (--storage.disk-free-min): the query log pauses and size retention runs.',
      labelNames: ['path'],
      registers,
    });
  }

  /** Whether the path was under the mark at the last check. */
  isLow(path: string): boolean {
    return this.lowPaths.has(path);
  }

  /** Reads every path once, updates the gauges and reports changes. */
  check(): void {
    const paths = new Set(this.o.paths());
    for (const p of this.watched) {
      if (paths.has(p)) continue;
      this.free.remove(p);
      this.size.remove(p);
      this.minGauge.remove(p);
      if (this.lowPaths.delete(p)) this.o.onChange?.(p, false);
    }
    this.watched = paths;
    for (const p of paths) {
      const s = this.statfs(p);
      if (s === null) continue;
      const min = freeMinBytes(this.o.min, s.size);
      this.free.set({ path: p }, s.free);
      this.size.set({ path: p }, s.size);
      this.minGauge.set({ path: p }, min);
      const low = s.free < min;
      if (low === this.lowPaths.has(p)) continue;
      if (low) {
        this.lowPaths.add(p);
        this.logger.warn('Disk space low: pausing the query log on it and applying size retention', { path: p, freeBytes: s.free, minBytes: min });
      } else {
        this.lowPaths.delete(p);
        this.logger.info('Disk space back over the minimum', { path: p, freeBytes: s.free, minBytes: min });
      }
      this.o.onChange?.(p, low);
    }
  }

  start(intervalMs = DISK_CHECK_INTERVAL_MS): void {
    if (this.timer !== null) return;
    this.check();
    this.timer = setInterval(() => {
      try {
        this.check();
      } catch (e) {
        this.logger.error('Disk check failed', { err: String(e) });
      }
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
