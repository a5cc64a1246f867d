// `npm start -- [flags]`: build the server if dist is missing or older than src, and the UI
// if dist/ui is missing or older than ui/, then run the server.
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}
const entry = 'dist/src/cli/main.js';
const stamp = 'dist/.tsbuildinfo';
if (!existsSync(entry) || !existsSync(stamp) || newest('src') > statSync(stamp).mtimeMs) {
  const b = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
const uiManifest = 'dist/ui/manifest.json';
if (!existsSync(uiManifest) || newest('ui') > statSync(uiManifest).mtimeMs) {
  const b = spawnSync(process.execPath, ['scripts/build_ui.mjs'], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
// Run the server as a child and pass signals on, so SIGHUP reloads and SIGTERM shuts down gracefully.
const child = spawn(process.execPath, [entry, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
