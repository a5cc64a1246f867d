// The runner wired to tsprom's own parser, printer and engine.
import { Engine } from '../engine/engine.js';
import { parseExpr } from '../parser/parser.js';
import { exprToString } from '../parser/printer.js';
import { TEST_ENGINE, type RunnerDeps } from './runner.js';

export const tspromDeps: RunnerDeps = {
  newEngine: (features) =>
    new Engine({
      features,
      maxSamples: TEST_ENGINE.maxSamples,
      timeoutMs: TEST_ENGINE.timeoutMs,
      noStepSubqueryIntervalMs: TEST_ENGINE.noStepSubqueryIntervalMs,
    }),
  parseExpr: (query, features) => parseExpr(query, { features }),
  exprToString,
};
