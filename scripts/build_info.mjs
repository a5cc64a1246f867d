// `npm pack` (prepack): writes dist/build_info.json, the build facts an installed package cannot
// read from a git checkout: revision, branch, who built it and when (as Prometheus's promu stamps
// its binaries). src/metrics/build.ts reads it when there is no .git beside dist/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';

function git(...args) {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

const pad = (n) => String(n).padStart(2, '0');
const d = new Date();
// promu's date format: 20060102-15:04:05, in UTC.
const buildDate = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
const info = {
  revision: git('rev-parse', 'HEAD') || 'unknown',
  branch: git('rev-parse', '--abbrev-ref', 'HEAD') || 'unknown',
  buildUser: `${userInfo().username}@${hostname()}`,
  buildDate,
};
mkdirSync('dist', { recursive: true });
writeFileSync('dist/build_info.json', `${JSON.stringify(info, null, 2)}\n`);
