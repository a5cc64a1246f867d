// Shared by the query-log tests: fake file systems, records, metric reads.
import type { Registry } from 'prom-client';
import { ByteWriter } from '../src/logging/byte_writer.js';
import type { LogFileHandle, LogFileSystem } from '../src/logging/log_fs.js';
import type { QueryLogRecord } from '../src/promql/engine/types.js';
import { encodeQueryLogLine } from '../src/querylog/lines.js';

/** The log line for one query as text (with its newline). */
export function formatQueryLogLine(rec: QueryLogRecord, nowMs: number): string {
  const w = new ByteWriter(Buffer.allocUnsafe(1024));
  encodeQueryLogLine(rec, nowMs, w);
  return w.buf.toString('utf8', 0, w.pos);
}

export type DiskMode = 'ok' | 'full' | 'hang';

/** An in-memory disk that can be made full (every write fails with ENOSPC) or stalled (writes never finish). */
export class FakeDisk implements LogFileSystem {
  mode: DiskMode = 'ok';
  readonly files = new Map<string, string>();
  opens = 0;
  writeCalls = 0;
  /** Resolvers of writes stalled in 'hang' mode. */
  private readonly stalled: Array<() => void> = [];

  open(path: string): { handle: LogFileHandle; size: number } {
    if (path.includes('/missing-dir/')) {
      throw Object.assign(new Error(`open ${path}: no such file or directory`), { code: 'ENOENT' });
    }
    this.opens++;
    if (!this.files.has(path)) this.files.set(path, '');
    const handle: LogFileHandle = {
      write: (data) => {
        this.writeCalls++;
        if (this.mode === 'full') {
          return Promise.reject(Object.assign(new Error('write: no space left on device'), { code: 'ENOSPC' }));
        }
        const apply = (): void => {
          this.files.set(path, (this.files.get(path) ?? '') + Buffer.from(data).toString());
        };
        if (this.mode === 'hang') return new Promise<void>((resolve) => this.stalled.push(() => (apply(), resolve())));
        apply();
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    };
    return { handle, size: Buffer.byteLength(this.files.get(path)!) };
  }

  rename(from: string, to: string): Promise<void> {
    const v = this.files.get(from);
    if (v === undefined) return Promise.reject(Object.assign(new Error('ENOENT'), { code: 'ENOENT' }));
    this.files.set(to, v);
    this.files.delete(from);
    return Promise.resolve();
  }

  remove(path: string): Promise<void> {
    this.files.delete(path);
    return Promise.resolve();
  }

  /** Lets every stalled write finish. */
  release(): void {
    for (const r of this.stalled.splice(0)) r();
  }

  lines(path: string): string[] {
    return (this.files.get(path) ?? '').split('\n').filter((l) => l !== '');
  }
}

export function record(i: number, over: Partial<QueryLogRecord> = {}): QueryLogRecord {
  return {
    params: { query: `rate(http_requests_total{job="api",instance="h${i % 10}"}[5m])`, start: 1_700_000_000_000, end: 1_700_000_060_000, step: 15_000 },
    stats: {
      timings: {
        evalTotalTime: 0.000123,
        resultSortTime: 0,
        queryPreparationTime: 0.00001,
        innerEvalTime: 0.0001,
        execQueueTime: 0.000002,
        execTotalTime: 0.000125,
      },
      samples: { totalQueryableSamples: 120, peakSamples: 40 },
    },
    origin: { httpRequest: { clientIP: '127.0.0.1', method: 'GET', path: '/api/v1/query_range' } },
    ...over,
  };
}

/** Value of a counter or gauge sample, 0 when absent. */
export async function metric(reg: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = reg.getSingleMetric(name);
  if (!m) throw new Error(`no metric ${name}`);
  const got = await m.get();
  const v = got.values.find((s) => Object.entries(labels).every(([k, want]) => String(s.labels[k]) === want));
  return v?.value ?? 0;
}

/** Sorted key paths of a JSON value, e.g. ["params.query", "stats.timings.evalTotalTime", ...]. */
export function keyPaths(v: unknown, prefix = ''): string[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return [prefix];
  const out: string[] = [];
  for (const k of Object.keys(v)) out.push(...keyPaths((v as Record<string, unknown>)[k], prefix === '' ? k : `${prefix}.${k}`));
  return out;
}
