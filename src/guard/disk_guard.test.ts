import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Registry } from 'prom-client';
import { DiskGuard, freeMinBytes, parseDiskFreeMin, type DiskSpace } from './disk_guard.js';

const MiB = 2 ** 20;

describe('--storage.disk-free-min', () => {
  it('is a size or a share of the file system', () => {
    assert.deepEqual(parseDiskFreeMin('512MB'), { kind: 'bytes', bytes: 512 * MiB });
    assert.deepEqual(parseDiskFreeMin('2.5%'), { kind: 'percent', percent: 2.5 });
    assert.equal(freeMinBytes(parseDiskFreeMin('1%'), 1000 * MiB), 10 * MiB);
    assert.equal(freeMinBytes(parseDiskFreeMin('4MB'), 1000 * MiB), 4 * MiB);
    assert.throws(() => parseDiskFreeMin('100%'), /under 100%/);
    assert.throws(() => parseDiskFreeMin('lots'), /invalid size/);
  });
});

async function values(reg: Registry, name: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await reg.getSingleMetric(name)!.get()).values) out[String(v.labels.path)] = v.value;
  return out;
}

describe('DiskGuard', () => {
  it('exports free space per path and reports crossings of the mark', async () => {
    const space: Record<string, DiskSpace> = { '/data': { free: 100 * MiB, size: 1000 * MiB }, '/logs': { free: 500 * MiB, size: 1000 * MiB } };
    let paths = ['/data', '/logs'];
    const events: Array<[string, boolean]> = [];
    const registry = new Registry();
    const g = new DiskGuard({
      paths: () => paths,
      min: parseDiskFreeMin('5%'),
      registry,
      statfs: (p) => space[p] ?? null,
      onChange: (p, low) => events.push([p, low]),
    });
    g.check();
    assert.deepEqual(await values(registry, 'tsprom_disk_free_bytes'), { '/data': 100 * MiB, '/logs': 500 * MiB });
    assert.deepEqual(await values(registry, 'tsprom_disk_size_bytes'), { '/data': 1000 * MiB, '/logs': 1000 * MiB });
    assert.deepEqual(await values(registry, 'tsprom_disk_free_min_bytes'), { '/data': 50 * MiB, '/logs': 50 * MiB });
    assert.deepEqual(events, []);
    space['/data']!.free = 40 * MiB;
    g.check();
    g.check();
    assert.equal(g.isLow('/data'), true);
    assert.deepEqual(events, [['/data', true]]);
    space['/data']!.free = 60 * MiB;
    g.check();
    assert.deepEqual(events, [['/data', true], ['/data', false]]);
    // A path no longer watched (the query log moved) loses its series and its low state.
    space['/logs']!.free = 1;
    g.check();
    paths = ['/data'];
    g.check();
    assert.deepEqual(events.at(-1), ['/logs', false]);
    assert.deepEqual(await values(registry, 'tsprom_disk_free_bytes'), { '/data': 60 * MiB });
  });

  it('reads a real directory with statfs', async () => {
    const dir = mkdtempSync(`${tmpdir()}/guard-`);
    const registry = new Registry();
    const g = new DiskGuard({ paths: () => [dir, `${dir}/missing`], min: parseDiskFreeMin('1B'), registry });
    g.check();
    const free = await values(registry, 'tsprom_disk_free_bytes');
    assert.deepEqual(Object.keys(free), [dir], 'a path that cannot be read is left out');
    assert.ok(free[dir]! > 0);
  });
});
