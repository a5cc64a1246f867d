// What every rule is (name, query, labels, health, last error,
// timings) and the query function rules evaluate through.
import type { Labels } from '../model/labels.js';
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

/** Rule labels applied to an output label set: set the non-empty ones, remove those given an empty value. */
export function applyRuleLabels(b: { set(n: string, v: string): unknown; del(...n: string[]): unknown }, labels: Labels, removed: readonly string[]): void {
  labels.forEach((n, v) => b.set(n, v));
  if (removed.length > 0) b.del(...removed);
}
