// `npm start -- [flags]`: build if dist is missing or older than src, then run the server.
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
// Run the server as a child and pass signals on, so SIGHUP reloads and SIGTERM shuts down gracefully.
const child = spawn(process.execPath, [entry, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
