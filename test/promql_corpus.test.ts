// Every query of the shared PromQL test files parses with its file's features
// (or fails to parse as the file expects), and printing round-trips: the
// printed form parses to the same tree and prints to itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Matcher } from '../src/model/matcher.js';
import type { Expr } from '../src/promql/parser/ast.js';
import { ParseError } from '../src/promql/parser/errors.js';
import { parseExpr } from '../src/promql/parser/parser.js';
import { exprToString } from '../src/promql/parser/printer.js';
import { checkExpectedFailure } from '../src/promql/promqltest/compare.js';
import { parseScript, type EvalCmd } from '../src/promql/promqltest/script.js';
import { featuresFor, listTestFiles, testdataDir, testdataExists } from '../src/promql/promqltest/testdata.js';

/**
 * The tree without positions; matchers and functions reduced to what they
 * mean. Matchers compare as a set: the canonical form sorts them, as
 * Prometheus's printer does.
 */
function shape(v: unknown): unknown {
  if (v instanceof Matcher) return `${v.name}${v.type}${JSON.stringify(v.value)}`;
  if (Array.isArray(v)) return v.map(shape);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === 'posRange') continue;
    if (k === 'func') out[k] = (x as { name: string }).name;
    else if (k === 'matchers') out[k] = (shape(x) as string[]).sort();
    else out[k] = shape(x);
  }
  return out;
}

const dir = testdataDir();

if (!testdataExists(dir)) {
  test('PromQL corpus', (t) => {
    t.skip(`test files not found at ${dir} (set PROMQL_TESTDATA); corpus checks skipped`);
  });
} else {
  for (const path of listTestFiles(dir)) {
    const file = basename(path);
    const features = featuresFor(file);
    const script = parseScript(readFileSync(path, 'utf8'));
    const evals = script.commands.filter((c): c is EvalCmd => c.kind === 'eval');

    test(`corpus ${file}: the runner reads every line`, () => {
      assert.deepEqual(script.errors.map((e) => e.message), []);
    });

    test(`corpus ${file}: every query parses or fails as expected, and round-trips`, () => {
      const problems: string[] = [];
      for (const cmd of evals) {
        const where = `${file}:${cmd.line}: ${cmd.query}`;
        let ast: Expr;
        try {
          ast = parseExpr(cmd.query, { features });
        } catch (e) {
          if (!(e instanceof ParseError)) problems.push(`${where}\n    parser threw ${String(e)}`);
          else if (!cmd.fail) problems.push(`${where}\n    ${e.message}`);
          else {
            const m = checkExpectedFailure(cmd, e);
            if (m !== null) problems.push(`${where}\n    ${m}`);
          }
          continue;
        }
        let printed = '';
        try {
          printed = exprToString(ast);
          const again = parseExpr(printed, { features });
          assert.deepEqual(shape(again), shape(ast));
          assert.equal(exprToString(again), printed);
        } catch (e) {
          problems.push(`${where}\n    printed as ${printed}\n    ${e instanceof Error ? e.message.split('\n').slice(0, 12).join('\n    ') : String(e)}`);
        }
      }
      assert.equal(problems.length, 0, `\n${problems.join('\n')}`);
    });
  }
}
