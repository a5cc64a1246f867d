// Test helper shared by the record and WAL tests: a RecordHandler that collects what it is given.
import type { RecordHandler } from './record.js';

export interface Collected {
  series: [number, string][];
  samples: [number, number, number, number][];
  tombstones: [number, number, number][];
}

export function collector(): { h: RecordHandler; c: Collected } {
  const c: Collected = { series: [], samples: [], tombstones: [] };
  return {
    c,
    h: {
      series: (ref, ls) => c.series.push([ref, ls.toString()]),
      sample: (ref, t, hi, lo) => c.samples.push([ref, t, hi, lo]),
      tombstone: (ref, a, b) => c.tombstones.push([ref, a, b]),
    },
  };
}
