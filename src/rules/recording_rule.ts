// A recording rule: evaluates its expression and writes the result under a new
// metric name with the rule's labels (Prometheus's rules.RecordingRule).
import { METRIC_NAME, type Labels } from '../model/labels.js';
import type { InstantSample } from '../promql/engine/types.js';
import { LabelsSet } from './labels_map.js';
import { BaseRule, mayCollide, overrideLabels, sortedPairs, type Rule, type RuleEvalContext } from './rule.js';

/** Two outputs with one label set after the rule labels were applied. */
export class DuplicateLabelSetError extends Error {
  override name = 'DuplicateLabelSetError';
}

/** More output series or alerts than the group's limit. */
export class RuleLimitError extends Error {
  override name = 'RuleLimitError';
}

export class RecordingRule extends BaseRule implements Rule {
  readonly kind = 'recording';

  /** __name__ and the rule labels, sorted, and the labels to remove: set on every output. */
  private readonly setPairs: readonly string[];
  private readonly dropNames: ReadonlySet<string>;
  /** Label names other than __name__ the rule sets or removes. */
  private readonly touched: readonly string[];

  constructor(
    private readonly recordName: string,
    /** The expression as printed. */
    private readonly expr: string,
    readonly labels: Labels,
    private readonly removedLabels: readonly string[] = [],
  ) {
    super();
    this.setPairs = sortedPairs(labels.without(...removedLabels), METRIC_NAME, recordName);
    this.dropNames = new Set(removedLabels);
    this.touched = [...labels.toPairs().filter((_, i) => i % 2 === 0), ...removedLabels].filter((n) => n !== METRIC_NAME);
  }

  name(): string {
    return this.recordName;
  }

  query(): string {
    return this.expr;
  }

  definitionKey(): string {
    return JSON.stringify(['record', this.recordName, this.expr, this.labels.toPairs(), this.removedLabels]);
  }

  async eval(ctx: RuleEvalContext): Promise<InstantSample[]> {
    const vector = await ctx.query(this.expr, ctx.ts - ctx.queryOffsetMs);
    const seen = mayCollide(vector, this.touched) ? new LabelsSet() : null;
    const out: InstantSample[] = new Array<InstantSample>(vector.length);
    for (let i = 0; i < vector.length; i++) {
      const s = vector[i]!; // i < vector.length
      const metric = overrideLabels(s.metric, this.setPairs, this.dropNames);
      if (seen !== null && !seen.add(metric)) throw new DuplicateLabelSetError('vector contains metrics with the same labelset after applying rule labels');
      out[i] = s.h === undefined ? { metric, t: s.t, f: s.f } : { metric, t: s.t, f: s.f, h: s.h };
    }
    if (ctx.limit > 0 && out.length > ctx.limit) throw new RuleLimitError(`exceeded limit of ${ctx.limit} with ${out.length} series`);
    return out;
  }
}
