// `npm run bench -- <name> [args]` runs the compiled bench/<name>.js.
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const [name, ...args] = process.argv.slice(2);
const available = existsSync('dist/bench') ? readdirSync('dist/bench').filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)) : [];
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>; available: ${available.join(', ') || '(none)'}`);
  process.exit(2);
}
const r = spawnSync(process.execPath, ['--expose-gc', `dist/bench/${name}.js`, ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
