// The ratchet: a committed list of evaluation cases known to fail. A case that
// fails and is not listed is a regression; a listed case that passes must be
// taken off the list, so the list only ever shrinks.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './testdata.js';
import type { CaseResult, FileResult } from './runner.js';

export function knownFailuresPath(): string {
  return join(repoRoot(), 'src', 'promql', 'promqltest', 'known_failures.txt');
}

/** Case ids (`file:line`) from the list; `#` starts a comment anywhere on a line. */
export function parseKnownFailures(text: string): Set<string> {
  const ids = new Set<string>();
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const id = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (id !== '') ids.add(id);
  }
  return ids;
}

export function readKnownFailures(path = knownFailuresPath()): Set<string> {
  return existsSync(path) ? parseKnownFailures(readFileSync(path, 'utf8')) : new Set();
}

export interface RatchetReport {
  /** Failing cases that are not on the list. */
  newFailures: CaseResult[];
  /** Listed cases that now pass. */
  fixed: CaseResult[];
  /** Listed ids of the files that ran that name no case any more. */
  stale: string[];
}

/** Compares results with the list; only entries of files that ran are considered. */
export function checkRatchet(results: readonly FileResult[], known: ReadonlySet<string>): RatchetReport {
  const ran = new Set(results.map((r) => r.file));
  const seen = new Set<string>();
  const newFailures: CaseResult[] = [];
  const fixed: CaseResult[] = [];
  for (const r of results) {
    for (const c of r.cases) {
      seen.add(c.id);
      if (c.status === 'failed' && !known.has(c.id)) newFailures.push(c);
      if (c.status === 'passed' && known.has(c.id)) fixed.push(c);
    }
  }
  const stale = [...known].filter((id) => ran.has(fileOfId(id)) && !seen.has(id));
  return { newFailures, fixed, stale };
}

function fileOfId(id: string): string {
  const i = id.lastIndexOf(':');
  return i >= 0 ? id.slice(0, i) : id;
}

/** A coarse class of failure, used to group the list. */
export function failureKind(message: string | undefined): string {
  const m = message ?? '';
  if (m.startsWith('script error')) return 'test lines the runner cannot read';
  if (m.startsWith('data could not be loaded')) return 'load failures';
  if (m.includes('engine crashed')) return 'engine crashes (JavaScript exceptions)';
  if (m.includes('parse error')) return 'parse errors';
  if (m.startsWith('[@-pinned')) return 'wrong results only when selectors are pinned with @';
  if (m.startsWith('[range mode')) return 'instant and range evaluation disagree';
  if (m.includes('unexpected error')) return 'errors where a result was expected';
  if (m.includes('expected an error') || m.includes('expected error matching')) return 'wrong or missing errors';
  if (/annotation|expected warnings/.test(m)) return 'annotation (warn/info) mismatches';
  return 'wrong result values or series';
}

/** Reasons are cut to this length so each entry of the list stays one readable line. */
const REASON_MAX_CHARS = 100;

/** Renders the list: grouped by file and failure kind, each id with a short reason. */
function formatKnownFailures(failed: readonly CaseResult[]): string {
  const out = [
    '# PromQL conformance cases known to fail in evaluation mode (ids are <file>:<line of the eval>).',
    '# npm test fails when a case not listed here fails, or a listed case passes.',
    '# Regenerate with: npm run promqltest -- --update-known-failures',
  ];
  const groups = new Map<string, CaseResult[]>();
  for (const c of [...failed].sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1))) {
    const key = `${c.file}: ${failureKind(c.message)}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = []));
    g.push(c);
  }
  for (const [key, cases] of groups) {
    out.push('', `# ${key}`);
    for (const c of cases) {
      let reason = (c.message ?? '').replace(/\s+/g, ' ');
      if (reason.length > REASON_MAX_CHARS) reason = `${reason.slice(0, REASON_MAX_CHARS - 3)}...`;
      out.push(`${c.id}  # ${reason}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/**
 * Rewrites the list from a run: entries of files that ran are replaced by the
 * current failures; entries of other files are kept.
 */
export function updateKnownFailures(results: readonly FileResult[], path = knownFailuresPath()): number {
  const ran = new Set(results.map((r) => r.file));
  const kept = [...readKnownFailures(path)].filter((id) => !ran.has(fileOfId(id)));
  const failed: CaseResult[] = results.flatMap((r) => r.cases.filter((c) => c.status === 'failed'));
  const keptCases: CaseResult[] = kept.map((id) => {
    const file = fileOfId(id);
    return { id, file, line: Number(id.slice(file.length + 1)), query: '', status: 'failed', message: 'kept from an earlier run' };
  });
  const all = [...failed, ...keptCases];
  writeFileSync(path, formatKnownFailures(all));
  return all.length;
}
