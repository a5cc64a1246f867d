// A recording rule: evaluates its expression and writes the result under a new
// metric name with the rule's labels (Prometheus's rules.RecordingRule).
import { LabelsBuilder, METRIC_NAME, type Labels } from '../model/labels.js';
import type { InstantSample } from '../promql/engine/types.js';
import { LabelsMap } from './labels_map.js';
import { BaseRule, applyRuleLabels, type Rule, type RuleEvalContext } from './rule.js';

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

  constructor(
    private readonly recordName: string,
    /** The expression as printed. */
    private readonly expr: string,
    readonly labels: Labels,
    private readonly removedLabels: readonly string[] = [],
  ) {
    super();
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
    const seen = new LabelsMap<true>();
    const out: InstantSample[] = new Array<InstantSample>(vector.length);
    for (let i = 0; i < vector.length; i++) {
      const s = vector[i]!; // i < vector.length
      const b = new LabelsBuilder(s.metric).set(METRIC_NAME, this.recordName);
      applyRuleLabels(b, this.labels, this.removedLabels);
      const metric = b.labels();
      if (!seen.add(metric, true)) throw new DuplicateLabelSetError('vector contains metrics with the same labelset after applying rule labels');
      out[i] = { metric, t: s.t, f: s.f };
    }
    if (ctx.limit > 0 && out.length > ctx.limit) throw new RuleLimitError(`exceeded limit of ${ctx.limit} with ${out.length} series`);
    return out;
  }
}
