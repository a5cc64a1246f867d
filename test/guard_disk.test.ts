// The disk guard with a real file system running out: tsprom's data dir and query log on a small
// tmpfs, filled by remote write until writes fail with a retryable 503; queries keep working, the
// query log pauses, the free space shows in /metrics; then the tmpfs grows, writes resume, and
// everything acknowledged is there after a restart. Mounting needs root (tests and CI run as root).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { api, startTsprom, type Tsprom } from './api_process.js';
import { writeRequestBody } from './remote_write_proto.js';

const isRoot = process.getuid?.() === 0;
const SERIES_PER_REQUEST = 500;
/** Long label values fill the WAL fast (each new series is written with its labels). */
const PAD = 'x'.repeat(1000);

function write(base: string, k: number, t: number): Promise<Response> {
  const series = [];
  for (let i = 0; i < SERIES_PER_REQUEST; i++) series.push({ labels: { __name__: `fill_${k}`, i: String(i), pad: PAD }, samples: [[t, k] as [number, number]] });
  return fetch(`${base}/api/v1/write`, { method: 'POST', body: writeRequestBody(series), headers: { 'Content-Encoding': 'snappy' } });
}

async function metric(base: string, name: string, labels: Record<string, string> = {}): Promise<number | null> {
  const text = await (await fetch(`${base}/metrics`)).text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return null;
}

async function seriesCount(base: string): Promise<number> {
  const r = await api(`${base}/api/v1/query?query=${encodeURIComponent('count({__name__=~"fill_.+"})')}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const result = (r.body.data as { result: Array<{ value: [number, string] }> }).result;
  return result.length === 0 ? 0 : Number(result[0]!.value[1]);
}

async function until<T>(f: () => Promise<T | null>, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('disk guard on a real tmpfs', () => {
  it('fills, refuses writes with 503, keeps answering queries, resumes when space returns', { skip: isRoot ? false : 'needs root to mount a tmpfs', timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'guard-disk-'));
    const fs = join(dir, 'fs');
    mkdirSync(fs);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=40m', 'tmpfs', fs]);
    const data = join(fs, 'data');
    const queryLog = join(fs, 'query.log');
    const opts = {
      dir,
      config: `global:\n  scrape_interval: 15s\n  query_log_file: ${queryLog}\n`,
      // Raw WAL records: the padded labels are what fills the disk, and snappy would squeeze them away.
      args: [`--storage.tsdb.path=${data}`, '--web.enable-remote-write-receiver', '--storage.disk-free-min=8MB', '--no-storage.tsdb.wal-compression'],
    };
    let s: Tsprom | null = null;
    try {
      s = await startTsprom(opts);
      const t0 = Date.now();
      let acked = 0;
      let refused: Response | null = null;
      for (let k = 0; k < 400 && refused === null; k++) {
        const r = await write(s.base, k, t0);
        if (r.status === 204) acked++;
        else refused = r;
        await r.arrayBuffer().catch(() => undefined);
      }
      assert.ok(refused !== null, 'the tmpfs filled up');
      assert.equal(refused.status, 503);
      const again = await write(s.base, 1000, t0);
      assert.equal(again.status, 503);
      assert.match(await again.text(), /^remote write not stored: the disk holding the data directory is full.*ENOSPC/);
      assert.ok(acked > 10, `acknowledged ${acked} requests before the disk filled`);

      // Queries keep working and see everything acknowledged.
      assert.equal(await seriesCount(s.base), acked * SERIES_PER_REQUEST);
      // The guard sees the low space; the query log pauses and counts what it drops.
      const free = await until(async () => {
        const f = await metric(s!.base, 'tsprom_disk_free_bytes', { path: data });
        return f !== null && f < 8 * 2 ** 20 ? f : null;
      }, 'free space under the mark in /metrics');
      assert.ok(free >= 0);
      assert.equal(await metric(s.base, 'tsprom_disk_size_bytes', { path: data }), 40 * 2 ** 20);
      assert.ok((await metric(s.base, 'tsprom_disk_free_bytes', { path: fs })) !== null, 'the query log directory is watched');
      await until(async () => {
        await seriesCount(s!.base);
        const dropped = await metric(s!.base, 'tsprom_query_log_dropped_total', { reason: 'disk_low' });
        return dropped !== null && dropped > 0 ? dropped : null;
      }, 'query log lines dropped with reason disk_low');

      // More space: writes are accepted again and the query log resumes.
      execFileSync('mount', ['-o', 'remount,size=200m', fs]);
      const resumed = await write(s.base, 2000, t0);
      assert.equal(resumed.status, 204, await resumed.text());
      acked++;
      await until(async () => {
        await api(`${s!.base}/api/v1/query?query=${encodeURIComponent('vector(12345)')}`);
        return existsSync(queryLog) && readFileSync(queryLog, 'utf8').includes('vector(12345)') ? true : null;
      }, 'a query logged after space returned');
      assert.equal(await seriesCount(s.base), acked * SERIES_PER_REQUEST);

      // Everything acknowledged survives a restart (the WAL replays cleanly after the failed writes).
      assert.equal(await s.stop(), 0);
      s = await startTsprom(opts);
      assert.equal(await seriesCount(s.base), acked * SERIES_PER_REQUEST);
      assert.equal(await metric(s.base, 'prometheus_tsdb_wal_corruptions_total'), 0);
    } finally {
      await s?.stop();
      execFileSync('umount', [fs]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
