// Build information: version from package.json, revision and branch from the
// git checkout when there is one (read from .git directly, no subprocess).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
  readonly branch: string;
  readonly buildUser: string;
  readonly buildDate: string;
  /** The runtime, in the field Prometheus fills with its Go version. */
  readonly goVersion: string;
}

/** The package root: dist/src/metrics/ or src/metrics/ sit two or three levels below it. */
function packageRoot(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const up of ['../..', '../../..']) {
    const dir = join(here, up);
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'tsprom') return dir;
    } catch {
      // Not this level; try the next.
    }
  }
  return process.cwd();
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

function gitRevision(root: string): { revision: string; branch: string } {
  const head = readText(join(root, '.git', 'HEAD'));
  if (head === '') return { revision: 'unknown', branch: 'unknown' };
  if (!head.startsWith('ref: ')) return { revision: head, branch: 'HEAD' };
  const ref = head.slice(5);
  let revision = readText(join(root, '.git', ref));
  if (revision === '') {
    const packed = readText(join(root, '.git', 'packed-refs'));
    const line = packed.split('\n').find((l) => l.endsWith(` ${ref}`));
    revision = line?.split(' ')[0] ?? 'unknown';
  }
  return { revision, branch: ref.replace(/^refs\/heads\//, '') };
}

let cached: BuildInfo | undefined;

export function buildInfo(): BuildInfo {
  if (cached !== undefined) return cached;
  const root = packageRoot();
  let version = 'unknown';
  try {
    version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // A copied dist/ without package.json still runs; it reports an unknown version.
  }
  const { revision, branch } = gitRevision(root);
  cached = Object.freeze({ version, revision, branch, buildUser: '', buildDate: '', goVersion: `node${process.versions.node}` });
  return cached;
}

/** `tsprom --version` text, shaped like Prometheus's. */
export function versionText(program: string): string {
  const b = buildInfo();
  return [
    `${program}, version ${b.version} (branch: ${b.branch}, revision: ${b.revision})`,
    `  node version:     ${process.version}`,
    `  platform:         ${process.platform}/${process.arch}`,
    '',
  ].join('\n');
}
