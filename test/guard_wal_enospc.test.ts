// The WAL on a file system that runs out of space: a write that fails with ENOSPC leaves no partial
// frame behind, the records written before stay readable, and writing resumes once there is room.
// Uses a tiny tmpfs, so it needs root (tests and CI run as root).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { TSDBMetrics, type TSDBGaugeState } from '../src/tsdb/metrics.js';
import { FRAME_HEADER, SegmentReader, WAL, listSegments, segmentName } from '../src/tsdb/wal/wal.js';

const isRoot = process.getuid?.() === 0;
const noState = new Proxy({}, { get: () => () => 0 }) as unknown as TSDBGaugeState;

function payload(i: number, size: number): Buffer {
  const b = Buffer.alloc(size, i % 251);
  b.writeUInt32LE(i, 0);
  return b;
}

/** The record numbers readable from every segment, in order; fails on any corruption. */
function readBack(dir: string): number[] {
  const out: number[] = [];
  for (const s of listSegments(dir)) {
    const file = join(dir, segmentName(s));
    const r = new SegmentReader(readFileSync(file), file);
    while (r.next()) {
      out.push(r.buf.readUInt32LE(r.start));
      r.accept();
    }
    assert.equal(r.error, null, `segment ${s} reads cleanly`);
    assert.equal(r.validEnd, statSync(file).size, `segment ${s} has no torn tail`);
  }
  return out;
}

describe('WAL on a full disk', () => {
  it('fails a write with ENOSPC without a torn frame and resumes when space returns', { skip: isRoot ? false : 'needs root to mount a tmpfs' }, () => {
    const base = mkdtempSync(join(tmpdir(), 'guard-wal-'));
    const mnt = join(base, 'fs');
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
    let wal: WAL | null = null;
    try {
      const metrics = new TSDBMetrics(new Registry(), { ...noState, walReplayStatus: () => ({ min: 0, max: 0, current: 0 }) });
      const dir = join(mnt, 'wal');
      // Raw records: the test counts stored bytes against the file system's size.
      wal = new WAL(dir, { segmentSize: 256 * 1024, metrics, compression: 'none' });
      wal.startWriting();
      const ok: number[] = [];
      let failure: NodeJS.ErrnoException | null = null;
      // 40 KiB records: the last one that fits is followed by one that only partly does.
      for (let i = 0; i < 100 && failure === null; i++) {
        try {
          wal.log(payload(i, 40 * 1024 - FRAME_HEADER));
          ok.push(i);
        } catch (e) {
          failure = e as NodeJS.ErrnoException;
        }
      }
      assert.equal(failure?.code, 'ENOSPC');
      assert.ok(ok.length >= 10);
      assert.deepEqual(readBack(dir), ok);
      // Still full: the next write fails the same way, and nothing is corrupted.
      assert.throws(() => wal!.log(payload(999, 40 * 1024 - FRAME_HEADER)), { code: 'ENOSPC' });
      assert.deepEqual(readBack(dir), ok);

      execFileSync('mount', ['-o', 'remount,size=4m', mnt]);
      for (let i = 100; i < 120; i++) {
        wal.log(payload(i, 40 * 1024 - FRAME_HEADER));
        ok.push(i);
      }
      wal.close();
      wal = null;
      assert.deepEqual(readBack(dir), ok);
    } finally {
      // The open segment would keep the mount busy.
      wal?.close();
      execFileSync('umount', [mnt]);
      rmSync(base, { recursive: true, force: true });
    }
  });
});
