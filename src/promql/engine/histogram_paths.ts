// Which selectors of a query may yield native histogram samples: those whose
// every consumer up to the result handles them. Elsewhere a histogram sample
// fails the query (HistogramsUnsupportedError) instead of being read as a
// float or dropped, until that operator learns them.
import type { Expr, VectorSelector } from '../parser/ast.js';
import { DATE_FUNCTIONS } from './dates.js';
import { MATH_FUNCTIONS } from './go_math.js';
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
  ['histogram_quantiles', 0],
]);

/** Functions that take histograms and give histograms back (argument index). */
const HISTOGRAM_TO_HISTOGRAM: ReadonlyMap<string, number> = new Map([
  ['rate', 0],
  ['increase', 0],
  ['delta', 0],
  ['irate', 0],
  ['idelta', 0],
  ['sum_over_time', 0],
  ['avg_over_time', 0],
  ['last_over_time', 0],
  ['first_over_time', 0],
  ['label_replace', 0],
  ['label_join', 0],
  ['sort_by_label', 0],
  ['sort_by_label_desc', 0],
]);

/** Functions over ranges whose result is floats whatever the samples: they count histograms or ignore them (argument index). */
const ANY_SAMPLE_TO_FLOAT: ReadonlyMap<string, number> = new Map([
  ['count_over_time', 0],
  ['present_over_time', 0],
  ['absent_over_time', 0],
  ['ts_of_first_over_time', 0],
  ['ts_of_last_over_time', 0],
  ['min_over_time', 0],
  ['max_over_time', 0],
  ['ts_of_min_over_time', 0],
  ['ts_of_max_over_time', 0],
  ['stddev_over_time', 0],
  ['stdvar_over_time', 0],
  ['mad_over_time', 0],
  ['quantile_over_time', 1],
  ['changes', 0],
  ['resets', 0],
  ['deriv', 0],
  ['predict_linear', 0],
  ['double_exponential_smoothing', 0],
  ['timestamp', 0],
  ['start_timestamp', 0],
  ['absent', 0],
  ['scalar', 0],
  ['sort', 0],
  ['sort_desc', 0],
  ['clamp', 0],
  ['clamp_min', 0],
  ['clamp_max', 0],
  ['round', 0],
  ...Object.keys(MATH_FUNCTIONS).map((n): [string, number] => [n, 0]),
  ...Object.keys(DATE_FUNCTIONS).map((n): [string, number] => [n, 0]),
]);

/** Aggregations whose result may hold histograms (sums, means, or the samples passed on). */
const HISTOGRAM_AGGREGATIONS: ReadonlySet<string> = new Set(['sum', 'avg', 'limitk', 'limit_ratio']);
/** Aggregations whose result is floats whatever the samples: they count histograms or ignore them. */
const COUNTING_AGGREGATIONS: ReadonlySet<string> = new Set(['count', 'group', 'count_values', 'min', 'max', 'stddev', 'stdvar', 'quantile', 'topk', 'bottomk']);

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
        const anySample = ANY_SAMPLE_TO_FLOAT.get(name);
        e.args.forEach((a, i) => visit(a, i === toFloat || i === anySample || (ok && i === toHist)));
        return;
      }
      case 'AggregateExpr':
        if (e.param !== null) visit(e.param, false);
        visit(e.expr, COUNTING_AGGREGATIONS.has(e.op) || (ok && HISTOGRAM_AGGREGATIONS.has(e.op)));
        return;
      case 'BinaryExpr':
        // Arithmetic may give histograms, comparisons and set operators pass them on; `bool` gives floats.
        visit(e.lhs, ok || e.returnBool);
        visit(e.rhs, ok || e.returnBool);
        return;
      case 'UnaryExpr':
        visit(e.expr, ok);
        return;
      default:
        for (const c of children(e)) visit(c, false);
    }
  };
  visit(root, true);
  return out;
}

/**
 * Selectors whose histograms only feed histogram_count, histogram_sum or
 * histogram_avg (with no subquery, bucket-reading function or trim on the
 * way): Prometheus reads just their count and sum, and gives them counter
 * reset hints worked out on the fly (its HistogramStatsIterator), which its
 * annotations about conflicting hints then see.
 */
export function histogramStatsSelectors(root: Expr): Set<VectorSelector> {
  const out = new Set<VectorSelector>();
  const path: Expr[] = [];
  const visit = (e: Expr): void => {
    if (e.type === 'VectorSelector') {
      let stats = false;
      for (let i = path.length - 1; i >= 0; i--) {
        const p = path[i]!;
        if (p.type === 'SubqueryExpr') {
          stats = false;
          break;
        }
        if (p.type === 'Call') {
          const n = p.func.name;
          if (n === 'histogram_count' || n === 'histogram_sum' || n === 'histogram_avg') stats = true;
          else if (n === 'histogram_quantile' || n === 'histogram_quantiles' || n === 'histogram_fraction') {
            stats = false;
            break;
          }
        }
        if (p.type === 'BinaryExpr' && (p.op === '</' || p.op === '>/')) {
          stats = false;
          break;
        }
      }
      if (stats) out.add(e);
    }
    path.push(e);
    for (const c of children(e)) visit(c);
    path.pop();
  };
  visit(root);
  return out;
}
