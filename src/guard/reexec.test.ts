import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { heapFlags, INITIAL_OLD_SPACE_MIB, SEMI_SPACE_MIB } from './reexec.js';

describe('heapFlags', () => {
  const semi = `--max-semi-space-size=${SEMI_SPACE_MIB}`;

  it('gives the heap limit, the initial old-generation size and the semi-space size', () => {
    assert.deepEqual(heapFlags(4096, [], undefined), ['--max-old-space-size=4096', `--initial-old-space-size=${INITIAL_OLD_SPACE_MIB}`, semi]);
  });

  it('keeps the initial size within a quarter of a small heap limit', () => {
    assert.deepEqual(heapFlags(128, [], undefined), ['--max-old-space-size=128', '--initial-old-space-size=32', semi]);
    assert.deepEqual(heapFlags(3, [], undefined), ['--max-old-space-size=3', semi]);
  });

  it("leaves the user's own initial size alone", () => {
    assert.deepEqual(heapFlags(4096, ['--initial-old-space-size=16'], undefined), ['--max-old-space-size=4096', semi]);
    assert.deepEqual(heapFlags(4096, [], '--trace-gc --initial_old_space_size=8'), ['--max-old-space-size=4096', semi]);
  });

  it("leaves the user's own semi-space size alone", () => {
    assert.deepEqual(heapFlags(4096, ['--max-semi-space-size=32'], undefined), ['--max-old-space-size=4096', `--initial-old-space-size=${INITIAL_OLD_SPACE_MIB}`]);
    assert.deepEqual(heapFlags(4096, [], '--max_semi_space_size=2'), ['--max-old-space-size=4096', `--initial-old-space-size=${INITIAL_OLD_SPACE_MIB}`]);
  });
});
