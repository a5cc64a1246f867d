// Runs a set of .test files, each with its own feature flags, and tallies the results.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { featuresFor } from './testdata.js';
import { runTestFile, type CaseResult, type FileResult, type RunMode, type RunnerDeps } from './runner.js';

export interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

export function tally(cases: readonly CaseResult[]): Tally {
  const t = { passed: 0, failed: 0, skipped: 0 };
  for (const c of cases) t[c.status]++;
  return t;
}

export function formatTally(t: Tally): string {
  return `${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`;
}

/** Runs the files in order; `onFile` sees each result as soon as it is ready. */
export async function runFiles(
  paths: readonly string[],
  mode: RunMode,
  deps: RunnerDeps,
  onFile?: (r: FileResult) => void,
): Promise<FileResult[]> {
  const results: FileResult[] = [];
  for (const p of paths) {
    const file = basename(p);
    const r = await runTestFile(file, readFileSync(p, 'utf8'), deps, { mode, features: featuresFor(file) });
    results.push(r);
    onFile?.(r);
  }
  return results;
}
