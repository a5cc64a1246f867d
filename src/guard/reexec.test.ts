import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { heapFlags, INITIAL_OLD_SPACE_MIB } from './reexec.js';

describe('heapFlags', () => {
  it('gives the heap limit and the initial old-generation size', () => {
    assert.deepEqual(heapFlags(4096, [], undefined), ['--max-old-space-size=4096', `--initial-old-space-size=${INITIAL_OLD_SPACE_MIB}`]);
  });

  it('keeps the initial size within a quarter of a small heap limit', () => {
    assert.deepEqual(heapFlags(128, [], undefined), ['--max-old-space-size=128', '--initial-old-space-size=32']);
    assert.deepEqual(heapFlags(3, [], undefined), ['--max-old-space-size=3']);
  });

  it("leaves the user's own initial size alone", () => {
    assert.deepEqual(heapFlags(4096, ['--initial-old-space-size=16'], undefined), ['--max-old-space-size=4096']);
    assert.deepEqual(heapFlags(4096, [], '--trace-gc --initial_old_space_size=8'), ['--max-old-space-size=4096']);
  });
});
