// Sample statistics as Prometheus counts them (util/stats): the total number
// of samples the query touched, the samples it read from storage (each
// sample once, as far as Prometheus can tell), per step when asked, and the
// peak number held in memory at once.
import type { QuerySamples } from './types.js';

/** A copy of a SampleStats' counts (see snapshot()). */
export interface StatsSnapshot {
  readonly totalSamples: number;
  readonly samplesRead: number;
  readonly peakSamples: number;
  readonly perStep: Float64Array | null;
  readonly readPerStep: Float64Array | null;
}

export class SampleStats {
  totalSamples = 0;
  samplesRead = 0;
  peakSamples = 0;
  /** Per-step totals, or null when per-step stats are off. */
  readonly perStep: Float64Array | null;
  /** Per-step samples read: with per-step stats, and always inside subqueries (to attribute them to outer steps). */
  readonly readPerStep: Float64Array | null;

  constructor(
    readonly startMs: number,
    readonly intervalMs: number,
    numSteps: number,
    perStep: boolean,
    trackReadSteps = perStep,
  ) {
    this.perStep = perStep ? new Float64Array(numSteps) : null;
    this.readPerStep = trackReadSteps ? new Float64Array(numSteps) : null;
  }

  /** Statistics of a step-invariant part, evaluated once. */
  child(startMs: number, intervalMs: number): SampleStats {
    return new SampleStats(startMs, intervalMs, 0, false);
  }

  /**
   * Statistics of a subquery: samples read are kept per step of the subquery
   * when the parent has several steps to attribute them to; an instant
   * parent takes only the total, so a long subquery grid costs no array.
   */
  subqueryChild(startMs: number, endMs: number, intervalMs: number, parentSteps: number): SampleStats {
    const numSteps = endMs < startMs ? 0 : Math.floor((endMs - startMs) / intervalMs) + 1;
    return new SampleStats(startMs, intervalMs, numSteps, false, parentSteps > 1);
  }

  private stepIndex(t: number, len: number): number {
    const i = Math.trunc((t - this.startMs) / this.intervalMs);
    return i >= 0 && i < len ? i : -1;
  }

  /** `step` is a step of this evaluation: below numSteps, the length of the per-step arrays. */
  incAtStep(step: number, n: number): void {
    this.totalSamples += n;
    if (this.perStep !== null) this.perStep[step] = this.perStep[step]! + n;
  }

  incAtTimestamp(t: number, n: number): void {
    this.totalSamples += n;
    if (this.perStep !== null) {
      const i = this.stepIndex(t, this.perStep.length);
      if (i >= 0) this.perStep[i] = this.perStep[i]! + n;
    }
  }

  incReadAtStep(step: number, n: number): void {
    this.samplesRead += n;
    if (this.readPerStep !== null && step < this.readPerStep.length) this.readPerStep[step] = this.readPerStep[step]! + n;
  }

  incReadAtTimestamp(t: number, n: number): void {
    this.samplesRead += n;
    if (this.readPerStep !== null) {
      const i = this.stepIndex(t, this.readPerStep.length);
      if (i >= 0) this.readPerStep[i] = this.readPerStep[i]! + n;
    }
  }

  /**
   * Adds what a subquery read, attributing each of its steps to the first
   * outer step at or after it (shifted by the outer offset) and skipping steps
   * that fall between the windows of the outer steps, as Prometheus's
   * MergeSamplesReadFromSubquery does. An instant parent takes the total.
   */
  mergeReadFrom(child: SampleStats, parentStart: number, parentInterval: number, parentSteps: number, outerOffset: number, outerRange: number): void {
    if (parentSteps <= 1 || child.readPerStep === null) {
      this.incReadAtStep(0, child.samplesRead);
      return;
    }
    const rs = child.readPerStep;
    // k < rs.length.
    for (let k = 0; k < rs.length; k++) {
      const n = rs[k]!;
      if (n === 0) continue;
      const tk = child.startMs + k * child.intervalMs + outerOffset;
      let step = 0;
      if (tk > parentStart) step = Math.trunc((tk - parentStart + parentInterval - 1) / parentInterval);
      if (step >= parentSteps) step = parentSteps - 1;
      if (outerRange > 0 && tk <= parentStart + step * parentInterval - outerRange) continue;
      this.incReadAtStep(step, n);
    }
  }

  /** The counts as they are now, for restore(). */
  snapshot(): StatsSnapshot {
    return {
      totalSamples: this.totalSamples,
      samplesRead: this.samplesRead,
      peakSamples: this.peakSamples,
      perStep: this.perStep === null ? null : this.perStep.slice(),
      readPerStep: this.readPerStep === null ? null : this.readPerStep.slice(),
    };
  }

  /** Goes back to a snapshot of these statistics: a pass that is abandoned and run again must not count twice. */
  restore(s: StatsSnapshot): void {
    this.totalSamples = s.totalSamples;
    this.samplesRead = s.samplesRead;
    this.peakSamples = s.peakSamples;
    if (this.perStep !== null && s.perStep !== null) this.perStep.set(s.perStep);
    if (this.readPerStep !== null && s.readPerStep !== null) this.readPerStep.set(s.readPerStep);
  }

  updatePeak(n: number): void {
    if (n > this.peakSamples) this.peakSamples = n;
  }

  updatePeakFrom(o: SampleStats): void {
    if (o.peakSamples > this.peakSamples) this.peakSamples = o.peakSamples;
  }

  private points(arr: Float64Array): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (const [i, v] of arr.entries()) out.push([(this.startMs + i * this.intervalMs) / 1000, v]);
    return out;
  }

  /** Keys in the order Prometheus's JSON has them. */
  toJSON(): QuerySamples {
    const perStep = this.perStep !== null;
    return {
      ...(perStep ? { totalQueryableSamplesPerStep: this.points(this.perStep) } : {}),
      totalQueryableSamples: this.totalSamples,
      ...(perStep && this.readPerStep !== null ? { samplesReadPerStep: this.points(this.readPerStep) } : {}),
      samplesRead: this.samplesRead,
      peakSamples: this.peakSamples,
    };
  }
}
