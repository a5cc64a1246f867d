// `npm run promqltest -- [--parse-only] [--verbose] [--update-known-failures] [files...]`
//
// Runs Prometheus's PromQL .test files (default: every *.test in
// $PROMQL_TESTDATA or ../shared/promql-testdata) and prints one line per file,
// then `promqltest: N passed, M failed, K skipped` alone on the last line.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { tspromDeps } from './deps.js';
import { checkRatchet, knownFailuresPath, readKnownFailures, updateKnownFailures } from './known_failures.js';
import type { FileResult } from './runner.js';
import { formatTally, runFiles, tally } from './suite.js';
import { CORE_FILES, listTestFiles, testdataDir, testdataExists } from './testdata.js';

const USAGE = 'usage: npm run promqltest -- [--parse-only] [--verbose] [--update-known-failures] [files...]';

function resolveFile(arg: string, dir: string): string | null {
  for (const p of [resolve(arg), join(dir, arg), join(dir, `${arg}.test`)]) if (existsSync(p)) return p;
  return null;
}

function printFile(r: FileResult, verbose: boolean, known: ReadonlySet<string> | null): void {
  const t = tally(r.cases);
  let line = `${r.file}: ${formatTally(t)}`;
  if (known !== null && t.failed > 0) {
    const listed = r.cases.filter((c) => c.status === 'failed' && known.has(c.id)).length;
    line += ` (${listed} of the failures known)`;
  }
  console.log(line);
  if (!verbose) return;
  for (const c of r.cases) {
    if (c.status !== 'failed') continue;
    console.log(`  FAIL ${c.id}: ${c.query}`);
    console.log(`    ${c.message ?? ''}`);
  }
  const reasons = new Map<string, number>();
  for (const c of r.cases) if (c.status === 'skipped') reasons.set(c.message ?? '', (reasons.get(c.message ?? '') ?? 0) + 1);
  for (const [reason, n] of reasons) console.log(`  skipped ${n}: ${reason}`);
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      allowPositionals: true,
      options: {
        'parse-only': { type: 'boolean', default: false },
        verbose: { type: 'boolean', short: 'v', default: false },
        'update-known-failures': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    console.error(`promqltest: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = args;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const parseOnly = values['parse-only'];
  const update = values['update-known-failures'];
  if (parseOnly && update) {
    console.error('promqltest: --update-known-failures needs evaluation mode, not --parse-only');
    return 2;
  }

  const dir = testdataDir();
  let paths: string[];
  if (positionals.length > 0) {
    paths = [];
    for (const a of positionals) {
      const p = resolveFile(a, dir);
      if (p === null) {
        console.error(`promqltest: test file ${JSON.stringify(a)} not found (looked in the current directory and ${dir})`);
        return 2;
      }
      paths.push(p);
    }
  } else if (!testdataExists(dir)) {
    console.log(`promqltest: test files not found: ${dir} does not exist (set PROMQL_TESTDATA to the folder of the .test files); all cases skipped`);
    console.log(`promqltest: ${formatTally({ passed: 0, failed: 0, skipped: 0 })}`);
    return 0;
  } else {
    paths = listTestFiles(dir);
  }

  const known = parseOnly ? null : readKnownFailures();
  const results = await runFiles(paths, parseOnly ? 'parse' : 'eval', tspromDeps, (r) => printFile(r, values.verbose, known));
  const total = tally(results.flatMap((r) => r.cases));

  let code = 0;
  if (parseOnly) {
    code = total.failed > 0 ? 1 : 0;
  } else if (update) {
    const n = updateKnownFailures(results);
    console.log(`promqltest: wrote ${n} known failures to ${knownFailuresPath()}`);
  } else {
    const core = results.filter((r) => CORE_FILES.includes(r.file));
    if (core.length > 0) {
      const t = tally(core.flatMap((r) => r.cases));
      const evaluated = t.passed + t.failed;
      const rate = evaluated === 0 ? 100 : (100 * t.passed) / evaluated;
      console.log(`promqltest: core files: ${formatTally(t)}; ${rate.toFixed(2)}% of the evaluated cases pass`);
    }
    const rep = checkRatchet(results, known!);
    if (rep.newFailures.length > 0) {
      console.log(`promqltest: ${rep.newFailures.length} failing cases are not in known_failures.txt: ${rep.newFailures.map((c) => c.id).join(' ')}`);
      code = 1;
    }
    if (rep.fixed.length > 0) {
      console.log(
        `promqltest: ${rep.fixed.length} cases in known_failures.txt now pass (run with --update-known-failures): ${rep.fixed.map((c) => c.id).join(' ')}`,
      );
      code = 1;
    }
    if (rep.stale.length > 0) {
      console.log(`promqltest: ${rep.stale.length} entries of known_failures.txt name no case: ${rep.stale.join(' ')}`);
      code = 1;
    }
  }
  console.log(`promqltest: ${formatTally(total)}`);
  return code;
}

process.exitCode = await main();
