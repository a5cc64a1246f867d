// What every rule is (name, query, labels, health, last error,
// timings) and the query function rules evaluate through.
import { compareStrings } from '../gofmt/order.js';
import { Labels, METRIC_NAME } from '../model/labels.js';
import type { InstantSample } from '../promql/engine/types.js';

export type RuleHealth = 'ok' | 'err' | 'unknown';

/** Runs an instant query at tsMs; resolves with a vector (a scalar becomes one sample without labels). */
export type QueryFunc = (expr: string, tsMs: number) => Promise<InstantSample[]>;

/** What one evaluation of a rule gets from its group. */
export interface RuleEvalContext {
  /** The group's evaluation time (ms). */
  readonly ts: number;
  /** The query runs at ts - queryOffsetMs, and the outputs carry that time. */
  readonly queryOffsetMs: number;
  readonly query: QueryFunc;
  /** --web.external-url, for templates. */
  readonly externalUrl: string;
  /** The group's limit on output series or alerts; 0 = none. */
  readonly limit: number;
}

export interface Rule {
  readonly kind: 'recording' | 'alerting';
  /** Labels added to every output (group labels overridden by rule labels). */
  readonly labels: Labels;
  name(): string;
  /** The expression as Prometheus prints it. */
  query(): string;
  health(): RuleHealth;
  /** '' when the last evaluation succeeded. */
  lastError(): string;
  /** Wall-clock start (ms) of the last evaluation; 0 before the first. */
  evaluationTimestamp(): number;
  evaluationDurationMs(): number;
  /** Evaluates the rule; resolves with the samples to write, rejects on failure. */
  eval(ctx: RuleEvalContext): Promise<InstantSample[]>;
  /** A text equal for two rules exactly when they are configured alike (Prometheus compares rule.String()). */
  definitionKey(): string;
  setHealth(h: RuleHealth, err: string): void;
  setEvaluation(startMs: number, durationMs: number): void;
}

/** The bookkeeping every rule shares. */
export abstract class BaseRule {
  private healthState: RuleHealth = 'unknown';
  private lastErr = '';
  private evalTs = 0;
  private evalDurationMs = 0;
  private evaluated = false;

  health(): RuleHealth {
    return this.healthState;
  }

  lastError(): string {
    return this.lastErr;
  }

  evaluationTimestamp(): number {
    return this.evalTs;
  }

  evaluationDurationMs(): number {
    return this.evalDurationMs;
  }

  setHealth(h: RuleHealth, err: string): void {
    this.healthState = h;
    this.lastErr = err;
  }

  /** Whether the rule was evaluated (a clock may stand at 0 in tests, so the timestamp cannot tell). */
  wasEvaluated(): boolean {
    return this.evaluated;
  }

  setEvaluation(startMs: number, durationMs: number): void {
    this.evaluated = true;
    this.evalTs = startMs;
    this.evalDurationMs = durationMs;
  }
}

/**
 * `base` with the sorted name/value pairs `set` set and the names in `drop`
 * removed, in one merge pass: rules relabel every output sample, and a map
 * and a sort per sample (LabelsBuilder) cost more than the query.
 */
export function overrideLabels(base: Labels, set: readonly string[], drop: ReadonlySet<string>): Labels {
  const b = base.toPairs();
  const out: string[] = [];
  let i = 0;
  let j = 0;
  // b and set have even lengths; indexes below stay in range.
  while (i < b.length || j < set.length) {
    const c = i >= b.length ? 1 : j >= set.length ? -1 : compareStrings(b[i]!, set[j]!);
    if (c < 0) {
      if (!drop.has(b[i]!)) out.push(b[i]!, b[i + 1]!);
      i += 2;
    } else {
      out.push(set[j]!, set[j + 1]!);
      j += 2;
      if (c === 0) i += 2;
    }
  }
  return Labels.fromSortedPairs(out);
}

/** Sorted name/value pairs of `labels` with `extra` (name, value) set; a later duplicate wins. */
export function sortedPairs(labels: Labels, ...extra: string[]): string[] {
  const b = labels.builder();
  for (let k = 0; k + 1 < extra.length; k += 2) b.set(extra[k]!, extra[k + 1]!);
  return [...b.labels().toPairs()];
}

/**
 * Whether relabelling these samples (whose label sets are distinct, as the
 * engine's vectors are) could make two equal: only when their metric names
 * differ or one carries a label the rule sets or removes. Lets the common case
 * skip a duplicate check over every output.
 */
export function mayCollide(vector: readonly InstantSample[], touched: readonly string[]): boolean {
  if (vector.length < 2) return false;
  const name0 = vector[0]!.metric.get(METRIC_NAME); // length >= 2
  for (const s of vector) {
    if (s.metric.get(METRIC_NAME) !== name0) return true;
    for (const n of touched) if (s.metric.has(n)) return true;
  }
  return false;
}
