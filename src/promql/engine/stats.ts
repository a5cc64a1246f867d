// Sample statistics as Prometheus counts them (util/stats): the total number
// of samples the query touched (per step when asked) and the peak number held
// in memory at once.
import type { QuerySamples } from './types.js';

export class SampleStats {
  totalSamples = 0;
  peakSamples = 0;
  /** Per-step totals, or null when per-step stats are off. */
  readonly perStep: Float64Array | null;

  constructor(
    readonly startMs: number,
    readonly intervalMs: number,
    numSteps: number,
    perStep: boolean,
  ) {
    this.perStep = perStep ? new Float64Array(numSteps) : null;
  }

  /** Statistics of a nested evaluation (subquery or step-invariant part); never per step. */
  child(startMs: number, intervalMs: number): SampleStats {
    return new SampleStats(startMs, intervalMs, 0, false);
  }

  incAtStep(step: number, n: number): void {
    this.totalSamples += n;
    if (this.perStep !== null) this.perStep[step] = this.perStep[step]! + n;
  }

  incAtTimestamp(t: number, n: number): void {
    this.totalSamples += n;
    if (this.perStep !== null) {
      const i = Math.trunc((t - this.startMs) / this.intervalMs);
      if (i >= 0 && i < this.perStep.length) this.perStep[i] = this.perStep[i]! + n;
    }
  }

  updatePeak(n: number): void {
    if (n > this.peakSamples) this.peakSamples = n;
  }

  updatePeakFrom(o: SampleStats): void {
    if (o.peakSamples > this.peakSamples) this.peakSamples = o.peakSamples;
  }

  toJSON(): QuerySamples {
    const out: QuerySamples = { totalQueryableSamples: this.totalSamples, peakSamples: this.peakSamples };
    if (this.perStep !== null) {
      const steps: Array<[number, number]> = [];
      for (let i = 0; i < this.perStep.length; i++) steps.push([(this.startMs + i * this.intervalMs) / 1000, this.perStep[i]!]);
      out.totalQueryableSamplesPerStep = steps;
    }
    return out;
  }
}
