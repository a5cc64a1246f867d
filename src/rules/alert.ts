// One alert of an alerting rule: its state, labels, annotations and the
// times the state machine and the sending logic keep (Prometheus's rules.Alert).
import type { Labels } from '../model/labels.js';

export type AlertState = 'inactive' | 'pending' | 'firing';

/** An alerting rule's state: the highest of its alerts, 'unknown' before its first evaluation. */
export type RuleState = AlertState | 'unknown';

/** Times are ms since the epoch; 0 = not set. */
export interface Alert {
  readonly state: AlertState;
  readonly labels: Labels;
  readonly annotations: Labels;
  /** The expression's value at the last evaluation. */
  readonly value: number;
  readonly activeAt: number;
  readonly firedAt: number;
  readonly resolvedAt: number;
  readonly lastSentAt: number;
  readonly validUntil: number;
  readonly keepFiringSince: number;
}

/** Internal "not set" for the times below: unlike 0, it orders before every real time (tests evaluate at t=0). */
export const UNSET = -Infinity;

/** 0 for unset, as the Alert interface says. */
function exported(t: number): number {
  return t === UNSET ? 0 : t;
}

/**
 * The rule's own, mutable alert. Kept lean (thousands may be active): the
 * labels are shared with the output series where possible, and the ALERTS /
 * ALERTS_FOR_STATE label sets are cached until the state changes.
 */
export class ActiveAlert {
  state: AlertState = 'pending';
  firedAt = UNSET;
  resolvedAt = UNSET;
  lastSentAt = UNSET;
  validUntil = UNSET;
  keepFiringSince = UNSET;
  /** ALERTS labels for `cachedState`, ALERTS_FOR_STATE labels; null until first written. */
  seriesLabels: Labels | null = null;
  cachedState: AlertState | null = null;
  forStateLabels: Labels | null = null;
  /** The rule's evaluation number that last returned this alert. */
  seen = -1;

  constructor(
    readonly labels: Labels,
    public annotations: Labels,
    public value: number,
    public activeAt: number,
  ) {}

  /** Prometheus's needsSending: never pending ones; resolved since the last send, or not sent for resendDelay. */
  needsSending(ts: number, resendDelayMs: number): boolean {
    if (this.state === 'pending') return false;
    if (this.resolvedAt > this.lastSentAt) return true;
    return this.lastSentAt + resendDelayMs < ts;
  }

  /** A plain copy for the notifier and the API, which must not see later changes. */
  snapshot(): Alert {
    return {
      state: this.state,
      labels: this.labels,
      annotations: this.annotations,
      value: this.value,
      activeAt: this.activeAt,
      firedAt: exported(this.firedAt),
      resolvedAt: exported(this.resolvedAt),
      lastSentAt: exported(this.lastSentAt),
      validUntil: exported(this.validUntil),
      keepFiringSince: exported(this.keepFiringSince),
    };
  }
}
