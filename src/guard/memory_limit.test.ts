import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectMemoryLimit, heapLimitMiB, heapSizeGiven, type MemoryLimitProbe } from './memory_limit.js';

const GiB = 2 ** 30;

function probe(files: Record<string, string>, total = 16 * GiB): MemoryLimitProbe {
  return { readFile: (p) => files[p] ?? null, totalmem: () => total };
}

describe('detectMemoryLimit', () => {
  it('takes the flag first, even over a cgroup limit', () => {
    assert.deepEqual(detectMemoryLimit(3 * GiB, probe({ '/sys/fs/cgroup/memory.max': String(GiB) })), { bytes: 3 * GiB, source: 'flag' });
  });

  it('reads cgroup v2 memory.max; "max" means no limit', () => {
    assert.deepEqual(detectMemoryLimit(0, probe({ '/sys/fs/cgroup/memory.max': '1073741824\n' })), { bytes: GiB, source: 'cgroup' });
    assert.deepEqual(detectMemoryLimit(0, probe({ '/sys/fs/cgroup/memory.max': 'max\n' })), { bytes: 16 * GiB, source: 'physical' });
  });

  it('falls back to cgroup v1, whose huge value means no limit', () => {
    const v1 = '/sys/fs/cgroup/memory/memory.limit_in_bytes';
    assert.deepEqual(detectMemoryLimit(0, probe({ [v1]: '536870912\n' })), { bytes: GiB / 2, source: 'cgroup' });
    assert.deepEqual(detectMemoryLimit(0, probe({ [v1]: '9223372036854771712\n' })), { bytes: 16 * GiB, source: 'physical' });
  });

  it('reads a systemd service\'s own cgroup (MemoryMax=) and its slice, taking the tightest', () => {
    const cg = { '/proc/self/cgroup': '0::/system.slice/tsprom.service\n' };
    const unit = '/sys/fs/cgroup/system.slice/tsprom.service/memory.max';
    const slice = '/sys/fs/cgroup/system.slice/memory.max';
    assert.deepEqual(detectMemoryLimit(0, probe({ ...cg, [unit]: String(4 * GiB), [slice]: 'max\n' })), { bytes: 4 * GiB, source: 'cgroup' });
    assert.deepEqual(detectMemoryLimit(0, probe({ ...cg, [unit]: String(4 * GiB), [slice]: String(2 * GiB) })), { bytes: 2 * GiB, source: 'cgroup' });
    assert.deepEqual(detectMemoryLimit(0, probe({ ...cg, [unit]: 'max', [slice]: 'max' })), { bytes: 16 * GiB, source: 'physical' });
  });

  it('ignores a cgroup limit above physical memory', () => {
    assert.deepEqual(detectMemoryLimit(0, probe({ '/sys/fs/cgroup/memory.max': String(64 * GiB) })), { bytes: 16 * GiB, source: 'physical' });
  });
});

describe('heap limit', () => {
  it('is half the memory limit in MiB, at least 64', () => {
    assert.equal(heapLimitMiB(2 * GiB), 1024);
    assert.equal(heapLimitMiB(32 * 2 ** 20), 64);
  });

  it('is left alone when the user chose one', () => {
    assert.equal(heapSizeGiven(['--max-old-space-size=300'], undefined), true);
    assert.equal(heapSizeGiven([], '--trace-warnings --max_old_space_size=300'), true);
    assert.equal(heapSizeGiven(['--max-semi-space-size=16'], '--expose-gc'), false);
  });
});
