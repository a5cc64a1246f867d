// The labels absent() and absent_over_time() give their one output series.
import { Labels, LabelsBuilder, METRIC_NAME } from '../../model/labels.js';
import { MatchType } from '../../model/matcher.js';
import type { Expr } from '../parser/ast.js';

/** Labels that absent() reports: those fixed by equality matchers, except names matched more than once. */
export function absentLabels(arg: Expr): Labels {
  let matchers;
  if (arg.type === 'VectorSelector') matchers = arg.matchers;
  else if (arg.type === 'MatrixSelector') matchers = arg.vectorSelector.matchers;
  else return Labels.EMPTY;
  const b = new LabelsBuilder();
  const has = new Set<string>();
  for (const m of matchers) {
    if (m.name === METRIC_NAME) continue;
    if (m.type === MatchType.Equal && !has.has(m.name)) {
      b.set(m.name, m.value);
      has.add(m.name);
    } else {
      b.del(m.name);
    }
  }
  return b.labels();
}
