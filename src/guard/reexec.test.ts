import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INITIAL_OLD_SPACE_MIB, INTERRUPT_BUDGET_BYTES, SEMI_SPACE_MIB, v8Flags } from './reexec.js';

describe('v8Flags', () => {
  const semi = `--max-semi-space-size=${SEMI_SPACE_MIB}`;
  const budget = `--interrupt-budget=${INTERRUPT_BUDGET_BYTES}`;

  it('gives the heap limit, the initial old-generation size, the semi-space size and the interrupt budget', () => {
    assert.deepEqual(v8Flags(4096, [], undefined), ['--max-old-space-size=4096', `--initial-old-space-size=${INITIAL_OLD_SPACE_MIB}`, semi, budget]);
  });

  it('keeps the initial size within a quarter of a small heap limit', () => {
    assert.deepEqual(v8Flags(128, [], undefined), ['--max-old-space-size=128', '--initial-old-space-size=32', semi, budget]);
    assert.deepEqual(v8Flags(3, [], undefined), ['--max-old-space-size=3', semi, budget]);
  });

  it("leaves the user's own initial size alone", () => {
    assert.deepEqual(v8Flags(4096, ['--initial-old-space-size=16'], undefined), ['--max-old-space-size=4096', semi, budget]);
    assert.deepEqual(v8Flags(4096, [], '--trace-gc --initial_old_space_size=8'), ['--max-old-space-size=4096', semi, budget]);
  });

  it("leaves the user's own semi-space size alone", () => {
    assert.deepEqual(v8Flags(4096, ['--max-semi-space-size=32'], undefined), ['--max-old-space-size=4096', `--initial-old-space-size=${INITIAL_OLD_SPACE_MIB}`, budget]);
    assert.deepEqual(v8Flags(4096, [], '--max_semi_space_size=2'), ['--max-old-space-size=4096', `--initial-old-space-size=${INITIAL_OLD_SPACE_MIB}`, budget]);
  });

  it("leaves the user's own interrupt budget alone", () => {
    assert.deepEqual(v8Flags(4096, ['--interrupt-budget=1000'], undefined), ['--max-old-space-size=4096', `--initial-old-space-size=${INITIAL_OLD_SPACE_MIB}`, semi]);
    assert.deepEqual(v8Flags(4096, [], '--interrupt_budget=1000'), ['--max-old-space-size=4096', `--initial-old-space-size=${INITIAL_OLD_SPACE_MIB}`, semi]);
  });
});
