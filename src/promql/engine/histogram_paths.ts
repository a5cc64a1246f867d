// Which selectors of a query may yield native histogram samples: those whose
// every consumer up to the result handles them. Elsewhere a histogram sample
// fails the query (HistogramsUnsupportedError) instead of being read as a
// float or dropped, until that operator learns them.
import type { Expr, VectorSelector } from '../parser/ast.js';
import { children } from './preprocess.js';

/** Functions whose result is floats computed from the histograms of an argument (index given). */
const HISTOGRAM_TO_FLOAT: ReadonlyMap<string, number> = new Map([
  ['histogram_count', 0],
  ['histogram_sum', 0],
  ['histogram_avg', 0],
  ['histogram_stddev', 0],
  ['histogram_stdvar', 0],
  ['histogram_quantile', 1],
  ['histogram_fraction', 2],
]);

/** Functions that take histograms and give histograms back (argument index). */
const HISTOGRAM_TO_HISTOGRAM: ReadonlyMap<string, number> = new Map([]);

/** Functions over ranges that count samples whatever their kind. */
const ANY_SAMPLE_TO_FLOAT: ReadonlySet<string> = new Set([]);

/** Aggregations that sum histograms (their result may hold histograms). */
const HISTOGRAM_AGGREGATIONS: ReadonlySet<string> = new Set([]);
/** Aggregations whose result is floats whatever the samples (count, group). */
const COUNTING_AGGREGATIONS: ReadonlySet<string> = new Set([]);

export function histogramSelectors(root: Expr): Set<VectorSelector> {
  const out = new Set<VectorSelector>();
  const visit = (e: Expr, ok: boolean): void => {
    switch (e.type) {
      case 'VectorSelector':
        if (ok) out.add(e);
        return;
      case 'MatrixSelector':
        if (ok) out.add(e.vectorSelector);
        return;
      case 'ParenExpr':
      case 'StepInvariantExpr':
      case 'SubqueryExpr':
        visit(e.expr, ok);
        return;
      case 'Call': {
        const name = e.func.name;
        const toFloat = HISTOGRAM_TO_FLOAT.get(name);
        const toHist = HISTOGRAM_TO_HISTOGRAM.get(name);
        e.args.forEach((a, i) => {
          visit(a, i === toFloat || (ok && i === toHist) || (i === 0 && ANY_SAMPLE_TO_FLOAT.has(name)));
        });
        return;
      }
      case 'AggregateExpr':
        if (e.param !== null) visit(e.param, false);
        visit(e.expr, COUNTING_AGGREGATIONS.has(e.op) || (ok && HISTOGRAM_AGGREGATIONS.has(e.op)));
        return;
      default:
        for (const c of children(e)) visit(c, false);
    }
  };
  visit(root, true);
  return out;
}
