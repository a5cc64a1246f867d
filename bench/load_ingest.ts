// The ingest phase the ingest and queries benches share: a workload's request bodies for 4
// clients, each owning a disjoint quarter of the series (built before timing), and the light
// sender's bodies for the rounds after.
import { batches, type BodyEncoder } from './load_proto.js';

export const CLIENTS = 4;
/** Samples per request, as Prometheus's queue sends them. */
export const BATCH = 2000;

/** Per client, its disjoint share of the series: a quarter each. */
export function shares(size: number): number[][] {
  const quarter = Math.ceil(size / CLIENTS);
  return Array.from({ length: CLIENTS }, (_, c) => Array.from({ length: Math.max(0, Math.min(size, (c + 1) * quarter) - c * quarter) }, (_, k) => c * quarter + k));
}

export interface Bodies {
  perClient: Buffer[][];
  samples: number;
  /** The light sender's: the rounds after ingest, all series in order. */
  light: Buffer[];
  bytes: number;
}

export function buildBodies(enc: BodyEncoder, size: number, rounds: number, lightRounds: number): Bodies {
  let samples = 0;
  let bytes = 0;
  const perClient = shares(size).map((share) =>
    batches(share, 0, rounds, BATCH).map((b) => {
      const body = enc.body(b);
      samples += b.series.length;
      bytes += body.length;
      return body;
    }),
  );
  const all = Array.from({ length: size }, (_, i) => i);
  const light = lightRounds === 0 ? [] : batches(all, rounds, lightRounds, BATCH).map((b) => enc.body(b));
  return { perClient, samples, light, bytes };
}
