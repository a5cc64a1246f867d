// WAL replay into the head: applies decoded records (series, samples,
// tombstones, exemplars, histograms) straight to the series and chunk tables, bypassing appenders.
// The caller (the DB) reads the checkpoint and segments and feeds them here.
import type { FloatHistogram, Histogram } from '../../model/histogram.js';
import type { Labels } from '../../model/labels.js';
import { StorageError } from '../../storage/interface.js';
import type { RecordHandler } from '../record/record.js';
import { addInterval } from '../tombstones/tombstones.js';
import type { ChunkTable } from './chunk_table.js';
import type { Head } from './head.js';
import type { SeriesTable } from './series.js';

export class HeadReplayer implements RecordHandler {
  /** Samples applied. */
  samples = 0;
  /** Samples dropped because their series ref is unknown. */
  unknown = 0;
  /** Exemplars applied, and those dropped because their series ref is unknown. */
  exemplars = 0;
  unknownExemplars = 0;

  // The tables are fixed for the head's life: held here, each sample skips a lookup through the head.
  private readonly table: SeriesTable;
  private readonly chunks: ChunkTable;

  constructor(private readonly head: Head) {
    this.table = head.series;
    this.chunks = head.chunkTable;
  }

  /** Maps ref to the series, creating it when new; a known label set under a new ref becomes an alias. */
  series(ref: number, ls: Labels): void {
    const head = this.head;
    const series = head.series;
    if (series.slotByRef(ref) >= 0) return;
    const slot = series.slotByLabels(ls);
    if (slot >= 0) {
      series.addAlias(ref, slot);
      return;
    }
    const s = head.newSeries(ls, ref);
    // It came from the WAL, so it is there already.
    head.appends.logged[s] = 1;
  }

  sample(ref: number, t: number, hi: number, lo: number): void {
    const slot = this.table.slotByRef(ref);
    if (slot < 0) {
      this.unknown++;
      return;
    }
    const ct = this.chunks;
    // slot is live, so within the chunk table's per-slot arrays.
    if (t < this.head.minValidTime || t <= ct.lastT[slot]!) return;
    ct.appendSample(slot, t, hi, lo);
    this.samples++;
  }

  histogram(ref: number, t: number, h: Histogram): void {
    this.applyHistogram(ref, t, h, null);
  }

  floatHistogram(ref: number, t: number, fh: FloatHistogram): void {
    this.applyHistogram(ref, t, null, fh);
  }

  private applyHistogram(ref: number, t: number, h: Histogram | null, fh: FloatHistogram | null): void {
    const slot = this.table.slotByRef(ref);
    if (slot < 0) {
      this.unknown++;
      return;
    }
    const ct = this.chunks;
    // slot is live, so within the chunk table's per-slot arrays.
    if (t < this.head.minValidTime || t <= ct.lastT[slot]!) return;
    ct.appendHistogram(slot, t, h, fh);
    this.samples++;
  }

  exemplar(ref: number, t: number, v: number, labels: Labels): void {
    const store = this.head.exemplars;
    if (store === null) return;
    const slot = this.table.slotByRef(ref);
    if (slot < 0) {
      this.unknownExemplars++;
      return;
    }
    try {
      // The WAL does not keep whether the exposition gave a timestamp, as Prometheus's does not.
      store.add(this.table.labelsOf(slot), { labels, value: v, ts: t, hasTs: false });
      this.exemplars++;
    } catch (e) {
      // Only a record written by another version could carry what validation refuses now.
      if (!(e instanceof StorageError)) throw e;
    }
  }

  tombstone(ref: number, mint: number, maxt: number): void {
    const head = this.head;
    const slot = head.series.slotByRef(ref);
    if (slot < 0) return;
    head.tombstones.set(slot, addInterval(head.tombstones.get(slot), mint, maxt));
  }
}
