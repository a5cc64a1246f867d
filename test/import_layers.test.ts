// The layering of src/ (docs/architecture.md) is checked on every test run:
// no cycle between files or folders, no import up the layer order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const checker = join(repo, 'scripts', 'check_imports.mjs');

function check(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [checker, ...args], { cwd: repo, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('src/ has no import cycle and no upward import', () => {
  const r = check(join(repo, 'src'));
  assert.equal(r.status, 0, r.out);
});

test('the checker finds file cycles, folder cycles and upward imports', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsprom-imports-'));
  try {
    const write = (path: string, text: string): void => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    write('low/a.ts', "import { b } from './b.js';\nexport const a = b;\n");
    write('low/b.ts', "import type { a } from './a.js';\nexport const b = 1;\n");
    write('low/c.ts', "import { h } from '../high/h.js';\nexport const c = h;\n");
    write('high/h.ts', "import { c } from '../low/c.js';\nexport const h = 2;\n");
    write('layers.json', JSON.stringify([['low'], ['high']]));
    const r = check(dir, join(dir, 'layers.json'));
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /file cycle: .*low\/a\.ts.*low\/b\.ts/);
    assert.match(r.out, /folder cycle: high, low/);
    assert.match(r.out, /upward import: low -> high/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
