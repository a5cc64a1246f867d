// Where the shared .test files live and which feature flags each one runs with.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Features Prometheus's own test engine turns on for every file: its parser
 * enables experimental functions (functions.test uses them) and its engine
 * removes `__name__` with the delayed rules of 3.x.
 */
const BASE_FEATURES: readonly string[] = ['promql-experimental-functions', 'promql-delayed-name-removal'];

/** Extra `--enable-feature` names, as Prometheus spells them, for the experimental files. */
const FILE_FEATURES: Readonly<Record<string, readonly string[]>> = {
  'duration_expression.test': ['promql-duration-expr'],
  'extended_vectors.test': ['promql-extended-range-selectors'],
  'fill-modifier.test': ['promql-binop-fill-modifiers'],
  'info.test': ['promql-experimental-functions'],
  'start_timestamps.test': ['use-start-timestamps'],
  'type_and_unit.test': ['type-and-unit-labels'],
};

/** The core (float) files the engine must pass first. */
export const CORE_FILES: readonly string[] = [
  'aggregators.test',
  'collision.test',
  'functions.test',
  'histograms.test',
  'literals.test',
  'name_label_dropping.test',
  'operators.test',
  'range_queries.test',
  'selectors.test',
  'staleness.test',
  'trig_functions.test',
  'limit.test',
];

export function featuresFor(file: string): ReadonlySet<string> {
  return new Set([...BASE_FEATURES, ...(FILE_FEATURES[file] ?? [])]);
}

/** The repository root: the nearest directory above this module holding tsprom's package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'tsprom') return dir;
      } catch {
        // Not ours; keep looking upwards.
      }
    }
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** `$PROMQL_TESTDATA`, else `../shared/promql-testdata` next to the repository. */
export function testdataDir(): string {
  const env = process.env.PROMQL_TESTDATA;
  if (env !== undefined && env !== '') return resolve(env);
  return resolve(repoRoot(), '..', 'shared', 'promql-testdata');
}

export function testdataExists(dir: string): boolean {
  return existsSync(dir) && statSync(dir).isDirectory();
}

/** All *.test files in a directory, sorted, as absolute paths. */
export function listTestFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test'))
    .sort()
    .map((f) => join(dir, f));
}
