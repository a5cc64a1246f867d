// Build information: version from package.json, revision and branch from the
// git checkout when there is one (read from .git directly, no subprocess), else
// from dist/build_info.json, which `npm pack` writes (scripts/build_info.mjs).
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

type Stamp = Partial<Record<'revision' | 'branch' | 'buildUser' | 'buildDate', string>>;

/** dist/build_info.json of a packed build: its fields when present and well-formed. */
function packedBuildInfo(root: string): Stamp {
  try {
    const j = JSON.parse(readFileSync(join(root, 'dist', 'build_info.json'), 'utf8')) as Record<string, unknown>;
    const out: Stamp = {};
    for (const k of ['revision', 'branch', 'buildUser', 'buildDate'] as const) {
      const v = j[k];
      if (typeof v === 'string') out[k] = v;
    }
    return out;
  } catch {
    return {};
  }
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
  const git = gitRevision(root);
  // A checkout says what is running now; an installed package has only what was stamped when packed.
  const packed = git.revision === 'unknown' ? packedBuildInfo(root) : {};
  cached = Object.freeze({
    version,
    revision: packed.revision ?? git.revision,
    branch: packed.branch ?? git.branch,
    buildUser: packed.buildUser ?? '',
    buildDate: packed.buildDate ?? '',
    goVersion: `node${process.versions.node}`,
  });
  return cached;
}

/**
 * `tsprom --version`: the lines and column of Prometheus's (prometheus/common's version.Print),
 * the runtime line naming Node; no build tags, which Go prints as "unknown".
 */
export function versionText(program: string): string {
  const b = buildInfo();
  return [
    `${program}, version ${b.version} (branch: ${b.branch}, revision: ${b.revision})`,
    `  build user:       ${b.buildUser}`,
    `  build date:       ${b.buildDate}`,
    `  node version:     ${process.version}`,
    `  platform:         ${process.platform}/${process.arch}`,
    '  tags:             unknown',
    '',
  ].join('\n');
}
