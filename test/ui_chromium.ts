// Shared by the UI's browser test and bench/ui.ts: where Debian's chromium is, how to start it
// headless in a container, and building dist/ui/ when it is missing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';
/** Flags for a quiet headless chromium in a container (no sandbox, no GPU, no network chatter). */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Builds dist/ui/ when it is missing (npm test builds it; a lone run_tests.mjs may not have). */
export function ensureUiBuilt(): void {
  if (existsSync(join(process.cwd(), 'dist', 'ui', 'manifest.json'))) return;
  const b = spawnSync(process.execPath, ['scripts/build_ui.mjs'], { stdio: 'inherit' });
  assert.equal(b.status, 0, 'UI build failed');
}
